//! Workspace's own front end against our server (workspace-contract.md §0): the connect
//! sequence and every "Validate widgets" call, replayed over HTTP, for the bundled example, a
//! zero-configuration folder and a `widgets.json` written with every alias and every type.
//! Every served widget must pass the front end's schema, every app its app schema, and every
//! call must answer 2xx; then the particular answers "Validate widgets" relies on.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use openbb_files::{validate, workspace};

use crate::support::{Fixture, Reply, TestServer, check_folder, test_config};

const PDF: &[u8] = b"%PDF-1.4\n%%EOF\n";

/// Connects as Workspace does and makes every widget's validation call; gives the served
/// widgets. Panics on anything the front end would refuse, or on a call that is not a 2xx.
fn connect_and_validate(server: &TestServer) -> Map<String, Value> {
    let widgets = server.get("/widgets.json");
    assert_eq!(widgets.status, 200);
    let widgets = widgets.json().as_object().cloned().expect("an object");
    for (id, widget) in &widgets {
        let issues = validate::widget(widget.as_object().expect("an object"));
        assert!(!validate::has_error(&issues), "{id}: {issues:?}");
    }
    let mut apps = server.get("/apps.json").json();
    let ids = widgets.keys().map(String::as_str).collect();
    let issues = validate::apps(&mut apps, &ids);
    assert!(!validate::has_error(&issues), "apps: {issues:?}");
    let agents = server.get("/agents.json");
    assert_eq!(agents.status, 200);
    assert!(agents.json().is_array());
    for (id, widget) in &widgets {
        let call = workspace::validation_call(widget.as_object().unwrap(), workspace::today());
        if call.is_absolute() {
            continue;
        }
        let reply = send(server, &call);
        assert!(
            (200..300).contains(&reply.status),
            "{id}: {} /{}: {reply:?}",
            call.method,
            call.target
        );
        assert_eq!(
            workspace::accepts(reply.status, reply.body.as_bytes()),
            Ok(())
        );
    }
    widgets
}

fn send(server: &TestServer, call: &workspace::ValidationCall) -> Reply {
    match &call.body {
        Some(body) => server.post(&format!("/{}", call.target), &body.to_string()),
        None => server.get(&format!("/{}", call.target)),
    }
}

fn problems(server: &TestServer) -> String {
    server.get("/").json()["problems"].to_string()
}

#[test]
fn the_bundled_example_passes_validate_widgets() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let server = TestServer::start_with(Fixture::new(), test_config(root));
    let widgets = connect_and_validate(&server);
    let raw: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("widgets.json")).unwrap()).unwrap();
    assert_eq!(
        widgets.len(),
        raw.as_object().unwrap().len(),
        "every bundled widget is served"
    );
    for (id, widget) in raw.as_object().unwrap() {
        let written = widget["type"].as_str().unwrap_or("table");
        assert!(
            validate::WIDGET_TYPES.contains(&written),
            "{id}: the example writes {written}, a spelling the front end refuses"
        );
    }
    assert_eq!(server.get("/").json()["problems"], json!([]));
}

/// A desk with every file kind, a CSV that does not parse, and no widgets.json.
fn zero_config_desk() -> Fixture {
    let fixture = Fixture::new();
    fixture
        .write(
            "data/prices.csv",
            "date,ticker,close\n2024-01-02,AAPL,185.6\n2024-01-02,MSFT,370.1\n2024-02-01,AAPL,186.9\n",
        )
        .write("data/broken.csv", "a,b\n1,2\n3,4,5\n")
        .write("data/holdings.json", r#"[{"ticker": "XOM", "sector": "Energy"}, {"ticker": "CVX", "sector": "Energy"}, {"ticker": "AAPL", "sector": "Tech"}]"#)
        .write("data/charts/perf.json", r#"{"data": [{"x": [1], "y": [2]}], "layout": {}}"#)
        .write("data/brief.md", "# Brief\n")
        .write("data/board.html", "<h1>Board</h1>")
        .write("data/factsheet.pdf", PDF)
        .write("data/filings/a.pdf", PDF)
        .write("data/filings/b.pdf", PDF)
        .write(
            "data/notes/one.md",
            "---\ntitle: One\ndate: 2024-05-01\nauthor: Ana\n---\nText.\n",
        )
        .write("data/latin1.md", b"caf\xe9\n")
        .write("data/http-log.csv", "at,status\n2024-01-02,200\n");
    fixture
}

#[test]
fn a_zero_configuration_folder_passes_and_never_offers_a_file_it_cannot_serve() {
    let server = TestServer::start(zero_config_desk());
    let widgets = connect_and_validate(&server);
    assert!(widgets.contains_key("prices_csv"));
    assert!(
        !widgets.contains_key("broken_csv"),
        "a CSV that does not parse gets no widget"
    );
    assert!(
        !widgets.contains_key("latin1_md"),
        "a Markdown file that is not UTF-8 gets no widget"
    );
    assert!(
        widgets.contains_key("file_http_log_csv"),
        "no endpoint begins with http, which Workspace would read as a URL"
    );
    let listed = problems(&server);
    assert!(
        listed.contains("data/broken.csv") && listed.contains("line"),
        "the file that does not parse is listed at / with its line: {listed}"
    );
    assert!(
        listed.contains("data/latin1.md: not UTF-8 text"),
        "{listed}"
    );
    server.fixture.write("data/broken.csv", "a,b\n1,2\n3,4\n");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let served = server.get("/widgets.json").json();
        if served.get("broken_csv").is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "the fixed file's widget appears");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        server.get("/broken_csv").json(),
        json!([{"a": 1, "b": 2}, {"a": 3, "b": 4}])
    );
    connect_and_validate(&server);
}

/// Every type of the front end, written with the aliases of OpenBB's docs where they exist.
const EVERY_TYPE: &str = r#"{
  "big": {"name": "Big", "description": "d", "type": "table_ssrm", "endpoint": "big",
          "params": [{"paramName": "ticker", "type": "ticker", "value": "MSFT"}],
          "backend": {"file": "prices.csv", "filters": {"ticker": "ticker"}}},
  "tv": {"name": "TV", "description": "d", "type": "advanced-chart", "endpoint": "tv",
         "backend": {"file": "prices.csv"}},
  "by_default_viz": {"name": "D", "description": "d", "defaultViz": "table_ssrm", "endpoint": "dv",
                     "backend": {"file": "prices.csv"}},
  "rows": {"name": "Rows", "description": "d", "endpoint": "rows",
           "params": [{"paramName": "ticker", "type": "endpoint", "value": "AAPL", "optionsEndpoint": "rows/tickers"},
                      {"paramName": "from", "type": "date", "value": "$currentDate-1y"},
                      {"paramName": "big", "type": "boolean", "value": false}],
           "backend": {"file": "prices.csv", "filters": {"from": {"column": "date", "op": "gte"}, "big": null},
                       "options": {"ticker": {"file": "prices.csv", "column": "ticker"}}}},
  "tile": {"name": "Tile", "description": "d", "type": "metric", "endpoint": "tile",
           "params": [{"paramName": "ticker", "type": "ticker"}],
           "backend": {"file": "prices.csv", "column": "close"}},
  "news": {"name": "News", "description": "d", "type": "newsfeed", "endpoint": "news",
           "params": [{"paramName": "author", "type": "text", "value": "Nobody"}],
           "backend": {"file": "news.json", "filters": {"author": "author"}}},
  "report": {"name": "Report", "description": "d", "type": "markdown", "endpoint": "report",
             "params": [{"paramName": "ticker", "type": "ticker"}],
             "backend": {"file": "reports/{ticker}.md"}},
  "page": {"name": "Page", "description": "d", "type": "html", "endpoint": "page"},
  "fig": {"name": "Fig", "description": "d", "type": "chart", "endpoint": "fig"},
  "hc": {"name": "HC", "description": "d", "type": "chart-highcharts", "endpoint": "hc"},
  "vl": {"name": "VL", "description": "d", "type": "chart-vegalite", "endpoint": "vl"},
  "clip": {"name": "Clip", "description": "d", "type": "youtube", "endpoint": "clip"},
  "doc": {"name": "Doc", "description": "d", "type": "pdf", "endpoint": "doc"},
  "docs": {"name": "Docs", "description": "d", "type": "multi_file_viewer", "endpoint": "docs",
           "params": [{"paramName": "files", "type": "endpoint", "optionsEndpoint": "docs/files",
                       "roles": ["fileSelector"], "multiSelect": true, "value": []}],
           "backend": {"folder": "filings"}},
  "no_choices": {"name": "Docs", "description": "d", "type": "multi_file_viewer", "endpoint": "no_choices",
                 "params": [{"paramName": "files", "type": "endpoint", "roles": ["fileSelector"], "value": []}],
                 "backend": {"folder": "filings"}},
  "ask": {"name": "Ask", "description": "d", "type": "omni", "endpoint": "ask",
          "params": [{"paramName": "prompt", "type": "text", "value": ""}]},
  "live": {"name": "Live", "description": "d", "type": "live_grid", "endpoint": "live", "wsEndpoint": "live/ws",
           "data": {"wsRowIdColumn": "ticker"}, "backend": {"file": "prices.csv"}},
  "site": {"name": "Site", "description": "d", "type": "iframe", "endpoint": "https://example.com/page"},
  "own_note": {"name": "Note", "description": "d", "type": "note", "endpoint": "own_note"},
  "rich": {"name": "Rich", "description": "d", "type": "rich_note", "endpoint": "rich"},
  "feed": {"name": "Feed", "description": "d", "type": "live_feed", "endpoint": "feed"},
  "sql": {"name": "SQL", "description": "d", "type": "ssrm_advanced", "endpoint": "sql"},
  "viewer": {"name": "Viewer", "description": "d", "type": "file_viewer", "endpoint": "viewer"}
}"#;

fn every_type() -> TestServer {
    let fixture = Fixture::new();
    fixture
        .write("widgets.json", EVERY_TYPE)
        .write(
            "data/prices.csv",
            "date,ticker,open,high,low,close,volume\n2024-01-02,AAPL,1,2,0.5,1.5,100\n\
             2024-01-03,MSFT,2,3,1.5,2.5,200\n",
        )
        .write(
            "data/news.json",
            r#"[{"title": "T", "date": "2024-01-02", "author": "Ana", "excerpt": "e", "body": "b"}]"#,
        )
        .write("data/reports/AAPL.md", "# AAPL\n")
        .write("data/page.html", "<p>page</p>")
        .write("data/fig.json", r#"{"data": [], "layout": {}}"#)
        .write("data/hc.json", r#"{"chart": {"type": "line"}, "series": []}"#)
        .write("data/vl.json", r#"{"mark": "bar"}"#)
        .write("data/clip.json", r#"{"url": "https://www.youtube.com/watch?v=x"}"#)
        .write("data/doc.pdf", PDF)
        .write("data/filings/a.pdf", PDF)
        .write("data/search.txt", "a line with words\n");
    TestServer::start(fixture)
}

#[test]
fn every_alias_and_type_is_served_in_the_front_ends_spelling() {
    let server = every_type();
    let widgets = connect_and_validate(&server);
    let type_of = |id: &str| widgets[id]["type"].as_str().map(String::from);
    assert_eq!(type_of("big").as_deref(), Some("ssrm_table"));
    assert_eq!(type_of("tv").as_deref(), Some("advanced_charting"));
    assert_eq!(widgets["by_default_viz"]["defaultViz"], "ssrm_table");
    for passed_through in ["site", "own_note", "rich"] {
        assert!(widgets.contains_key(passed_through), "{passed_through}");
    }
    assert_eq!(widgets["site"]["endpoint"], "https://example.com/page");
    for left_out in ["feed", "sql", "viewer"] {
        assert!(!widgets.contains_key(left_out), "{left_out}");
    }
    let listed = problems(&server);
    for expected in [
        "big: type: warning: \\\"table_ssrm\\\" is served as \\\"ssrm_table\\\"",
        "tv: type: warning: \\\"advanced-chart\\\" is served as \\\"advanced_charting\\\"",
        "by_default_viz: defaultViz: warning: \\\"table_ssrm\\\" is served as \\\"ssrm_table\\\"",
        "feed: type: \\\"live_feed\\\" is not a widget type Workspace knows: use live_grid",
        "sql: type: openbb-files does not serve ssrm_advanced (SQL queries) yet: use ssrm_table",
        "viewer: type: openbb-files does not serve file_viewer: use pdf",
    ] {
        assert!(listed.contains(expected), "missing {expected} in {listed}");
    }
    assert_eq!(server.get("/own_note").json(), json!({}));
    assert!(
        listed.contains("no_choices: params[0].optionsEndpoint: warning: an endpoint param without optionsEndpoint offers no choices"),
        "a fileSelector without optionsEndpoint is served, with a warning: {listed}"
    );
}

/// Workspace validates a `ticker` param as AAPL: a file template that has no AAPL file is
/// served (the data is the user's), and the server says why adding it with "Validate widgets"
/// will fail.
#[test]
fn a_ticker_template_without_an_aapl_file_is_warned_of() {
    let fixture = Fixture::new();
    fixture
        .write(
            "widgets.json",
            r#"{"only_msft": {"name": "Report", "description": "d", "type": "markdown", "endpoint": "only_msft",
                "params": [{"paramName": "ticker", "type": "ticker", "value": "MSFT"}],
                "backend": {"file": "msft/{ticker}.md"}}}"#,
        )
        .write("data/msft/MSFT.md", "# MSFT\n");
    let server = TestServer::start(fixture);
    assert_eq!(
        server.get("/only_msft?ticker=MSFT").json(),
        json!("# MSFT\n")
    );
    let listed = problems(&server);
    assert!(
        listed.contains("only_msft: backend.file: warning: Workspace's \\\"Validate widgets\\\" call (the default params, ticker params as AAPL) asks for data/msft/AAPL.md, which does not exist"),
        "{listed}"
    );
    server.fixture.write("data/msft/AAPL.md", "# AAPL\n");
    connect_and_validate(&server);
    assert_eq!(server.get("/").json()["problems"], json!([]));
}

#[test]
fn the_answers_validate_widgets_relies_on() {
    let server = every_type();
    // The advanced chart's base path is its configuration.
    let base = server.get("/tv");
    assert_eq!(base.status, 200);
    assert_eq!(base.json(), server.get("/tv/config").json());
    // omni without a prompt: an empty answer in omni's shape.
    for body in [
        r#"{}"#,
        r#"{"prompt": null}"#,
        r#"{"prompt": ""}"#,
        r#"{"prompt": " "}"#,
    ] {
        let reply = server.post("/ask", body);
        assert_eq!(reply.status, 200, "{body}: {reply:?}");
        assert_eq!(reply.json()["content"], json!([]), "{body}");
    }
    let text = server.post("/ask", r#"{"prompt": null, "type": "text"}"#);
    assert_eq!(text.json()["content"], "");
    // multi_file_viewer with nothing selected.
    for body in [r#"{}"#, r#"{"files": null}"#, r#"{"files": []}"#] {
        let reply = server.post("/docs", body);
        assert_eq!((reply.status, reply.json()), (200, json!([])), "{body}");
    }
    // Params that match no row: an empty answer of the type's shape, not a 404.
    assert_eq!(server.get("/rows?ticker=ZZZZ").json(), json!([]));
    let tile = server.get("/tile?ticker=ZZZZ");
    assert_eq!((tile.status, tile.json()), (200, json!([])));
    let news = server.get("/news?author=Nobody");
    assert_eq!((news.status, news.json()), (200, json!([])));
    let rows = server.post("/big", r#"{"startRow": 0, "endRow": 10, "ticker": "ZZZZ"}"#);
    assert_eq!(rows.json(), json!({"rowData": [], "rowCount": 0}));
    // A required parameter that is missing: 422 with "missing", which Workspace accepts.
    let missing = server.get("/report");
    assert_eq!(missing.status, 422);
    assert!(missing.detail().contains("missing"), "{}", missing.detail());
    assert_eq!(
        workspace::accepts(missing.status, missing.body.as_bytes()),
        Ok(())
    );
    // Really broken data still answers 500, naming the file and line.
    let fixture = Fixture::new();
    fixture
        .write(
            "widgets.json",
            r#"{"rows": {"name": "R", "description": "d", "endpoint": "rows"}}"#,
        )
        .write(
            "data/rows.csv",
            "date,ticker,close\n2024-01-02,AAPL,1\n2024-01-03,AAPL,2,3\n",
        );
    let server = TestServer::start(fixture);
    let broken = server.get("/rows?ticker=AAPL");
    assert_eq!(broken.status, 500);
    assert!(
        broken.detail().contains("data/rows.csv") && broken.detail().contains("line 3"),
        "{}",
        broken.detail()
    );
}

#[test]
fn agents_json_is_the_roots_own_or_none() {
    let server = TestServer::start(Fixture::new());
    assert_eq!(server.get("/agents.json").json(), json!([]));
    server
        .fixture
        .write("agents.json", r#"[{"id": "a", "name": "Analyst"}]"#);
    assert_eq!(
        server.get("/agents.json").json(),
        json!([{"id": "a", "name": "Analyst"}])
    );
    server.fixture.write("agents.json", r#"{"id": "a"}"#);
    assert!(problems(&server).contains("agents.json: expected an array of agents"));
}

#[test]
fn check_reports_a_csv_that_does_not_parse_and_an_undeclared_placeholder() {
    let fixture = Fixture::new();
    fixture
        .write(
            "widgets.json",
            r#"{"rows": {"name": "R", "description": "d", "endpoint": "rows", "backend": {"file": "rows.csv"}},
                "report": {"name": "P", "description": "d", "type": "markdown", "endpoint": "report",
                           "params": [{"paramName": "ticker", "type": "ticker"}],
                           "backend": {"file": "reports/{tickr}.md"}},
                "looks: warning: fine": {"name": "W", "description": "d", "endpoint": "w", "type": "tabel"},
                "by_ticker": {"name": "T", "description": "d", "endpoint": "by_ticker",
                              "params": [{"paramName": "ticker", "type": "ticker"}],
                              "backend": {"file": "prices/{ticker}.csv"}},
                "feed": {"name": "F", "description": "d", "type": "newsfeed", "endpoint": "feed",
                         "backend": {"folder": "notes"}}}"#,
        )
        .write("data/rows.csv", "a,b\n1,2\n3,4\n5,6,7\n")
        .write("data/prices/AAPL.csv", "date,close\n2024-01-02,1\n")
        .write("data/prices/ZZZ.csv", "date,close\n2024-01-02,1,9\n")
        .write("data/notes/good.md", "---\ntitle: Good\ndate: 2024-01-02\n---\nText.\n")
        .write("data/notes/bad.md", "---\ntitle: Bad\n---\nNo date.\n");
    let (status, text) = check_folder(&fixture);
    assert_eq!(status, Some(1), "{text}");
    assert!(
        text.contains("data/rows.csv: line 4"),
        "the parse failure with its file and line: {text}"
    );
    assert!(
        text.contains(
            "report: backend.file: '{tickr}' names no param of this widget (its params: ticker)"
        ),
        "{text}"
    );
    assert!(
        text.contains("data/prices/ZZZ.csv: line 2"),
        "every file a templated name stands for is parsed: {text}"
    );
    assert!(text.contains("data/notes/bad.md: front matter"), "{text}");
    assert!(
        text.contains(": 5 error(s)"),
        "errors are counted by severity, not by the text of a line: {text}"
    );
}
