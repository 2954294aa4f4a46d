//! Every widget type over real files: the shapes of workspace-contract.md §3, the `{param}` file
//! templates, options endpoints, the raw-file route, POST bodies, and the errors. Asked in
//! process (`InProcess`, through `App::handle`), but for the raw-file route, whose URLs and
//! `HEAD` answers are the server's, over sockets.

use serde_json::{Value, json};

use crate::support::{Fixture, InProcess, TestServer, test_config};

/// A PDF small enough to read as text (it is all ASCII), with a space in its name.
const PDF: &str = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

fn desk() -> Fixture {
    let fixture = Fixture::new();
    fixture
        .write("data/reports/AAPL.md", "# Apple\n\n![margins](img/margin.png \"Gross margin\")\n![remote](https://x/y.png) ![gone](img/none.png)\n")
        .write("data/reports/img/margin.png", PNG)
        .write("data/secret.md", "# not for parameters")
        .write("data/brief.md", "# Morning brief")
        .write("data/board.html", "<!doctype html><h1>Board</h1>")
        .write(
            "data/prices.csv",
            "date,ticker,close\n2024-06-03,AAPL,194.0\n2024-06-03,MSFT,413.5\n2024-06-04,AAPL,194.25\n2024-06-04,MSFT,416.0\n2024-06-05,AAPL,\n",
        )
        .write("data/kpis.json", r#"[{"label": "AUM", "value": "$1.2bn", "delta": "+2%"}]"#)
        .write("data/charts/perf.json", r#"{"data": [{"x": [1, 2], "y": [3, 4]}], "layout": {"title": {"text": "Perf"}}}"#)
        .write("data/charts/perf.dark.json", r#"{"data": [], "layout": {"template": "plotly_dark"}}"#)
        .write("data/notes/2024-05-01-energy.md", "---\ntitle: Energy view\ndate: 2024-05-01\nauthor: Ana\n---\n\n## Summary\n\nOil supply is tight.\nWe stay overweight.\n\nMore detail.\n")
        .write("data/notes/2024-06-10-chips.md", "---\ntitle: Chips\ndate: 2024-06-10\nauthor: Bo\n---\nDemand for margin-rich accelerators.\n")
        .write("data/notes/broken.md", "---\ntitle: Missing the end\ndate: 2024-01-01\n")
        .write("data/news.csv", "title,date,author,excerpt,body\nOld,2024-01-01,A,e,b\nNew,2024-03-01,B,e,b\n")
        .write("data/filings/Q3 report.pdf", PDF)
        .write("data/filings/notes.md", "# Filing notes")
        .write("data/holdings.csv", "ticker,name,sector\nXOM,Exxon,Energy\nAAPL,Apple,Tech\nCVX,Chevron,Energy\nAAPL,Apple,Tech\nMSFT,Microsoft,Tech\n")
        .write("data/sectors.json", r#"[{"label": "Energy", "value": "Energy"}, {"label": "Tech", "value": "Tech"}]"#)
        .write(
            "widgets.json",
            r#"{
  "report": {"name": "Report", "description": "d", "type": "markdown", "endpoint": "report",
             "params": [{"paramName": "ticker", "type": "text", "value": "AAPL"}],
             "backend": {"file": "reports/{ticker}.md"}},
  "brief": {"name": "Brief", "description": "d", "type": "markdown", "endpoint": "brief"},
  "board": {"name": "Board", "description": "d", "type": "html", "endpoint": "board", "raw": true,
            "backend": {"records": "holdings.csv"}},
  "plain_html": {"name": "H", "description": "d", "type": "html", "endpoint": "plain", "backend": {"file": "board.html"}},
  "close": {"name": "Close", "description": "d", "type": "metric", "endpoint": "close",
            "params": [{"paramName": "ticker", "type": "text", "value": "AAPL"}],
            "backend": {"file": "prices.csv", "column": "close", "label": "Last close"}},
  "kpis": {"name": "KPIs", "description": "d", "type": "metric", "endpoint": "kpis"},
  "bad_metric": {"name": "B", "description": "d", "type": "metric", "endpoint": "bad_metric",
                 "backend": {"file": "prices.csv", "column": "open"}},
  "notes": {"name": "Notes", "description": "d", "type": "newsfeed", "endpoint": "notes", "backend": {"folder": "notes"}},
  "news": {"name": "News", "description": "d", "type": "newsfeed", "endpoint": "news"},
  "perf": {"name": "Perf", "description": "d", "type": "chart", "endpoint": "perf", "raw": true,
           "backend": {"file": "charts/perf.json", "records": "prices.csv"}},
  "filing": {"name": "Filing", "description": "d", "type": "pdf", "endpoint": "filing",
             "backend": {"file": "filings/Q3 report.pdf"}},
  "filing_url": {"name": "Filing", "description": "d", "type": "pdf", "endpoint": "filing_url",
                 "backend": {"file": "filings/Q3 report.pdf", "mode": "url"}},
  "filings": {"name": "Filings", "description": "d", "type": "multi_file_viewer", "endpoint": "filings",
              "params": [{"paramName": "filenames", "type": "endpoint", "roles": ["fileSelector"],
                          "optionsEndpoint": "filings/list", "multiSelect": true, "show": false}]},
  "search": {"name": "Search", "description": "d", "type": "omni", "endpoint": "search",
             "params": [{"paramName": "prompt", "type": "text", "value": "", "show": false}]},
  "holdings": {"name": "Holdings", "description": "d", "endpoint": "holdings",
               "params": [{"paramName": "sector", "type": "endpoint", "optionsEndpoint": "options/sectors"},
                          {"paramName": "ticker", "type": "endpoint", "optionsEndpoint": "options/tickers",
                           "optionsParams": {"sector": "$sector"}}],
               "backend": {"options": {"ticker": {"file": "holdings.csv", "column": "ticker", "label": "name"},
                                       "sector": {"file": "sectors.json"}}}}
}"#,
        );
    fixture
}

fn server() -> InProcess {
    InProcess::new(desk())
}

#[test]
fn the_desk_manifest_has_no_problems_but_the_deliberately_bad_metric_and_note() {
    let server = server();
    // The broken note is found by the background check or by the feed's first request,
    // whichever comes first: ask for the feed so that it is found either way.
    assert_eq!(server.get("/notes").status, 200);
    let info = server.get("/").json();
    assert_eq!(
        info["problems"],
        json!([
            "bad_metric: backend.column: warning: column 'open' is not in data/prices.csv (date, ticker, close)",
            "data/notes/broken.md: front matter: no closing '---' line"
        ]),
        "{info}"
    );
}

#[test]
fn markdown_is_a_json_string_picked_by_parameter() {
    let server = server();
    let reply = server.get("/report?ticker=AAPL");
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let text = reply.json();
    let text = text.as_str().expect("a JSON string");
    assert!(text.starts_with("# Apple"));
    let inlined = format!(
        "![margins](data:image/png;base64,{} \"Gross margin\")",
        openbb_files::base64::encode(PNG)
    );
    assert!(text.contains(&inlined), "{text}");
    assert!(
        text.contains("![remote](https://x/y.png)"),
        "absolute links stay"
    );
    assert!(
        text.contains("![gone](img/none.png)"),
        "missing images stay"
    );
    assert_eq!(server.get("/brief").json(), "# Morning brief");
}

#[test]
fn markdown_parameters_never_leave_their_folder() {
    let server = server();
    let missing = server.get("/report?ticker=ZZZZ");
    assert_eq!(missing.status, 404);
    assert!(
        missing.detail().contains("data/reports/ZZZZ.md"),
        "{}",
        missing.detail()
    );
    for bad in ["..%2Fsecret", "../secret", "%2e%2e", ".hidden", "a%5Cb"] {
        let reply = server.get(&format!("/report?ticker={bad}"));
        assert_eq!(reply.status, 400, "{bad}: {reply:?}");
        assert!(reply.detail().contains("not a file name"), "{bad}");
    }
    let reply = server.get("/report");
    assert_eq!(
        reply.status, 422,
        "Workspace's convention for a missing parameter"
    );
    assert_eq!(
        reply.detail(),
        "missing parameter 'ticker': the file name is built from it"
    );
}

#[test]
fn html_is_served_as_html_and_raw_as_records() {
    let server = server();
    let reply = server.get("/board");
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(reply.body, "<!doctype html><h1>Board</h1>");
    let raw = server.get("/board?raw=true&sector=Energy").json();
    assert_eq!(raw.as_array().unwrap().len(), 2, "{raw}");
    assert_eq!(raw[0]["ticker"], "XOM");
    let reply = server.get("/plain?raw=true");
    assert_eq!(reply.status, 404);
    assert!(reply.detail().contains("backend.records"));
    assert_eq!(server.get("/plain").body, "<!doctype html><h1>Board</h1>");
}

#[test]
fn metrics_come_from_json_or_are_computed_from_csv() {
    let server = server();
    assert_eq!(
        server.get("/kpis").json(),
        json!([{"label": "AUM", "value": "$1.2bn", "delta": "+2%"}])
    );
    // The AAPL row of 2024-06-05 has no close: the latest value is the one before it.
    assert_eq!(
        server.get("/close?ticker=AAPL").json(),
        json!([{"label": "Last close", "value": 194.25, "delta": 0.25}])
    );
    assert_eq!(
        server.get("/close?ticker=MSFT").json(),
        json!([{"label": "Last close", "value": 416.0, "delta": 2.5}])
    );
    let none = server.get("/close?ticker=NOPE");
    assert_eq!(
        (none.status, none.json()),
        (200, json!([])),
        "no matching row: no tile, not an error"
    );
    let bad = server.get("/bad_metric");
    assert_eq!(bad.status, 500);
    assert!(
        bad.detail().contains("no column 'open'"),
        "{}",
        bad.detail()
    );
}

#[test]
fn newsfeed_notes_are_newest_first_and_a_broken_note_is_reported() {
    let server = server();
    let reply = server.get("/notes");
    assert_eq!(reply.status, 200, "{reply:?}");
    let articles = reply.json();
    assert_eq!(
        articles,
        json!([
            {"title": "Chips", "date": "2024-06-10", "author": "Bo",
             "excerpt": "Demand for margin-rich accelerators.",
             "body": "Demand for margin-rich accelerators."},
            {"title": "Energy view", "date": "2024-05-01", "author": "Ana",
             "excerpt": "Oil supply is tight. We stay overweight.",
             "body": "## Summary\n\nOil supply is tight.\nWe stay overweight.\n\nMore detail."}
        ])
    );
    let problems = server.get("/").json()["problems"].to_string();
    assert!(
        problems.contains("data/notes/broken.md: front matter: no closing '---' line"),
        "{problems}"
    );
    server.fixture.write(
        "data/notes/broken.md",
        "---\ntitle: Fixed\ndate: 2024-01-01\n---\nNow whole.\n",
    );
    let articles = server.get("/notes").json();
    assert_eq!(articles[2]["title"], "Fixed", "a fixed note joins the feed");
    let problems = server.get("/").json()["problems"].to_string();
    assert!(!problems.contains("broken.md"), "{problems}");
    let filtered = server.get("/notes?author=ana").json();
    assert_eq!(filtered.as_array().unwrap().len(), 1);
    let news = server.get("/news").json();
    assert_eq!(news[0]["title"], "New");
    assert_eq!(news[1]["title"], "Old");
}

#[test]
fn charts_follow_the_theme() {
    let server = server();
    let plain = server.get("/perf").json();
    assert_eq!(plain["layout"], json!({"title": {"text": "Perf"}}));
    let dark = server.get("/perf?theme=dark").json();
    assert_eq!(
        dark,
        json!({"data": [], "layout": {"template": "plotly_dark"}}),
        "the dark file wins"
    );
    let light = server.get("/perf?theme=light").json();
    assert_eq!(light["layout"]["paper_bgcolor"], "#FFFFFF");
    assert_eq!(light["layout"]["plot_bgcolor"], "#FFFFFF");
    assert_eq!(light["data"], plain["data"]);
    std::fs::remove_file(server.fixture.path("data/charts/perf.dark.json")).unwrap();
    let dark = server.get("/perf?theme=dark").json();
    assert_eq!(dark["layout"]["paper_bgcolor"], "#151518");
    assert_eq!(dark["layout"]["title"]["text"], "Perf");
    let raw = server.get("/perf?raw=true&theme=dark&ticker=MSFT").json();
    assert_eq!(raw.as_array().unwrap().len(), 2, "{raw}");
    assert_eq!(
        raw[1],
        json!({"date": "2024-06-04", "ticker": "MSFT", "close": 416.0})
    );
}

#[test]
fn pdf_as_base64_and_as_a_url_to_the_raw_file() {
    let server = TestServer::start(desk());
    let reply = server.get("/filing").json();
    assert_eq!(
        reply,
        json!({"data_format": {"data_type": "pdf", "filename": "Q3 report.pdf"},
               "content": openbb_files::base64::encode(PDF.as_bytes())})
    );
    let reply = server.get("/filing_url").json();
    let url = reply["url"].as_str().unwrap();
    assert_eq!(
        url,
        format!("http://{}/files/filings/Q3%20report.pdf", server.addr)
    );
    assert_eq!(reply["data_format"]["filename"], "Q3 report.pdf");
    let file = server.get("/files/filings/Q3%20report.pdf");
    assert_eq!(file.status, 200);
    assert_eq!(file.header("content-type"), Some("application/pdf"));
    assert_eq!(
        file.header("content-disposition"),
        Some("inline; filename*=UTF-8''Q3%20report.pdf")
    );
    assert_eq!(file.body, PDF);
    let head = server.request("HEAD", "/files/filings/Q3%20report.pdf", &[]);
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-length"),
        Some(PDF.len().to_string().as_str())
    );
    assert_eq!(head.body, "");
    for bad in [
        "/files/../widgets.json",
        "/files/%2e%2e/widgets.json",
        "/files/nope.pdf",
        "/files/filings",
    ] {
        let reply = server.get(bad);
        assert_eq!(reply.status, 404, "{bad}");
        reply.detail();
    }
    assert_eq!(
        crate::support::raw_status(&server.raw_get("/files/../widgets.json")),
        404
    );
}

#[test]
fn pdf_urls_carry_the_key_when_one_is_required() {
    let fixture = desk();
    let mut config = test_config(&fixture.root);
    config.api_key = Some("s3cret key".into());
    let server = TestServer::start_with(fixture, config);
    let reply = server.request("GET", "/filing_url", &[("X-API-KEY", "s3cret key")]);
    let url = reply.json()["url"].as_str().unwrap().to_string();
    assert!(url.ends_with("?api_key=s3cret%20key"), "{url}");
    let path = url.split_once(&server.addr.to_string()).unwrap().1;
    assert_eq!(server.get(path).status, 200);
    assert_eq!(server.get("/files/filings/Q3%20report.pdf").status, 401);
}

#[test]
fn multi_file_viewer_lists_and_answers_in_order() {
    let server = server();
    assert_eq!(
        server.get("/filings/list").json(),
        json!([{"label": "Q3 report.pdf", "value": "Q3 report.pdf"},
               {"label": "notes.md", "value": "notes.md"}])
    );
    let reply = server.post(
        "/filings",
        r#"{"filenames": ["notes.md", "missing.pdf", "Q3 report.pdf", "../secret.md"], "theme": "dark"}"#,
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    let entries = reply.json();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 4);
    assert_eq!(
        entries[0],
        json!({"content": openbb_files::base64::encode(b"# Filing notes"),
               "data_format": {"data_type": "md", "filename": "notes.md"}})
    );
    assert_eq!(entries[1]["error_type"], "not_found");
    assert!(
        entries[1]["content"]
            .as_str()
            .unwrap()
            .contains("missing.pdf")
    );
    assert_eq!(
        entries[2]["data_format"],
        json!({"data_type": "pdf", "filename": "Q3 report.pdf"})
    );
    assert_eq!(entries[3]["error_type"], "not_found");
    let joined = server
        .post("/filings", r#"{"filenames": "Q3 report.pdf, notes.md"}"#)
        .json();
    assert_eq!(joined[1]["data_format"]["filename"], "notes.md");
}

#[test]
fn post_bodies_are_checked() {
    let server = server();
    for (path, body, why) in [
        ("/filings", "{not json", "is not JSON"),
        ("/filings", "[1, 2]", "must be a JSON object"),
        ("/filings", r#"{"filenames": {}}"#, "must be an array"),
        ("/filings", r#"{"filenames": [1]}"#, "must hold file names"),
        ("/search", "", "is not JSON"),
        ("/search", r#"{"prompt": ["x"]}"#, "'prompt' must be text"),
        (
            "/search",
            r#"{"prompt": "x", "type": "chart"}"#,
            "'type' must be",
        ),
    ] {
        let reply = server.post(path, body);
        assert_eq!(reply.status, 400, "{path} {body}: {reply:?}");
        assert!(
            reply.detail().contains(why),
            "{path} {body}: {}",
            reply.detail()
        );
    }
}

#[test]
fn post_is_only_taken_where_workspace_posts() {
    let server = server();
    for path in ["/filings", "/search"] {
        let reply = server.get(path);
        assert_eq!(reply.status, 405, "{path}");
        assert_eq!(reply.header("allow"), Some("POST, OPTIONS"));
        reply.detail();
    }
    for path in [
        "/report?ticker=AAPL",
        "/holdings",
        "/options/tickers",
        "/files/brief.md",
    ] {
        let reply = server.post(path, "{}");
        assert_eq!(reply.status, 405, "{path}");
        assert_eq!(reply.header("allow"), Some("GET, HEAD, OPTIONS"));
    }
}

#[test]
fn omni_searches_the_text_files() {
    let server = server();
    let reply = server.post("/search", r#"{"prompt": "MARGIN rich", "type": "table"}"#);
    assert_eq!(reply.status, 200, "{reply:?}");
    let hit = json!({"file": "notes/2024-06-10-chips.md", "line": 6,
                     "snippet": "Demand for margin-rich accelerators."});
    assert_eq!(
        reply.json(),
        json!({"content": [hit],
               "data_format": {"data_type": "object", "parse_as": "table"},
               "citable": true,
               "extra_citations": [{
                   "source_info": {"type": "widget", "widget_id": "search",
                                   "name": "notes/2024-06-10-chips.md",
                                   "description": "data/notes/2024-06-10-chips.md, line 6: matching \"MARGIN rich\"",
                                   "metadata": {"file": "notes/2024-06-10-chips.md", "lines": [6],
                                                "prompt": "MARGIN rich"}},
                   "details": [hit]}]})
    );
    let text = server
        .post(
            "/search",
            r#""{\"prompt\": \"energy\", \"type\": \"text\"}""#,
        )
        .json();
    assert_eq!(text["data_format"]["parse_as"], "text");
    let markdown = text["content"].as_str().unwrap();
    assert!(markdown.contains("`holdings.csv:2`"), "{markdown}");
    assert!(
        markdown.contains("`notes/2024-05-01-energy.md:2`"),
        "{markdown}"
    );
    // Every line of the text answer is cited, under its file.
    let cited: Vec<(String, Value)> = text["extra_citations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|citation| {
            let file = citation["source_info"]["name"]
                .as_str()
                .unwrap()
                .to_string();
            let lines = citation["details"].as_array().unwrap().clone();
            lines.into_iter().map(move |hit| {
                assert_eq!(hit["file"], file.as_str());
                (file.clone(), hit["line"].clone())
            })
        })
        .collect();
    assert!(
        cited.contains(&("holdings.csv".into(), json!(2))),
        "{cited:?}"
    );
    assert!(
        cited.contains(&("notes/2024-05-01-energy.md".into(), json!(2))),
        "{cited:?}"
    );
    assert_eq!(
        markdown.lines().filter(|l| l.starts_with("- ")).count(),
        cited.len()
    );
    let none = server.post("/search", r#"{"prompt": "zebra"}"#).json();
    assert_eq!(none["content"], json!([]));
    assert_eq!(
        (&none["citable"], &none["extra_citations"]),
        (&json!(true), &json!([]))
    );
}

/// An answer holds at most 100 lines from at most 20 files, each file cited once with its lines:
/// the search stops at either bound, so no line answered goes uncited.
#[test]
fn omni_citations_are_bounded_and_cover_every_line() {
    let fixture = Fixture::new();
    fixture.write(
        "widgets.json",
        r#"{"search": {"name": "S", "description": "d", "type": "omni", "endpoint": "search"}}"#,
    );
    for file in 0..30 {
        fixture.write(
            &format!("data/many/{file:02}.txt"),
            "a needle\nno\nanother needle\n",
        );
    }
    let server = InProcess::new(fixture);
    let answer = server
        .post("/search", r#"{"prompt": "needle", "type": "text"}"#)
        .json();
    let citations = answer["extra_citations"].as_array().unwrap();
    assert_eq!(citations.len(), 20, "at most 20 files");
    let lines: usize = citations
        .iter()
        .map(|c| c["details"].as_array().unwrap().len())
        .sum();
    assert_eq!(lines, 40, "two lines of each of 20 files");
    assert_eq!(
        citations[0]["source_info"]["metadata"]["lines"],
        json!([1, 3])
    );
    assert!(
        answer["content"]
            .as_str()
            .unwrap()
            .contains("**40 lines** match **needle** (first ones)")
    );
    let server = InProcess::new({
        let fixture = Fixture::new();
        fixture
            .write(
                "widgets.json",
                r#"{"search": {"name": "S", "description": "d", "type": "omni", "endpoint": "search"}}"#,
            )
            .write("data/big.md", "needle\n".repeat(500));
        fixture
    });
    let answer = server.post("/search", r#"{"prompt": "needle"}"#).json();
    assert_eq!(answer["content"].as_array().unwrap().len(), 100);
    let citations = answer["extra_citations"].as_array().unwrap();
    assert_eq!(citations.len(), 1);
    assert_eq!(citations[0]["details"], answer["content"]);
}

#[test]
fn options_come_from_the_data() {
    let server = server();
    assert_eq!(
        server.get("/options/tickers").json(),
        json!([{"label": "Apple", "value": "AAPL"}, {"label": "Chevron", "value": "CVX"},
               {"label": "Microsoft", "value": "MSFT"}, {"label": "Exxon", "value": "XOM"}])
    );
    assert_eq!(
        server.get("/options/tickers?sector=Energy").json(),
        json!([{"label": "Chevron", "value": "CVX"}, {"label": "Exxon", "value": "XOM"}])
    );
    assert_eq!(server.get("/options/tickers?sector=None").json(), json!([]));
    assert_eq!(
        server.get("/options/sectors").json(),
        serde_json::from_str::<Value>(
            r#"[{"label": "Energy", "value": "Energy"}, {"label": "Tech", "value": "Tech"}]"#
        )
        .unwrap()
    );
    std::fs::write(server.fixture.path("data/holdings.csv"), "symbol\nX\n").unwrap();
    let reply = server.get("/options/tickers");
    assert_eq!(reply.status, 500);
    assert!(
        reply.detail().contains("no column 'ticker'"),
        "{}",
        reply.detail()
    );
}
