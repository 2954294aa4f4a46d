//! A research desk served with no configuration, read as an analyst lays it out (metric tiles,
//! a newsfeed, a document's rows, one report widget with a ticker param, small first loads, a
//! word on what fits no widget); options listed from a folder; values holding commas.

use serde_json::{Value, json};

use crate::support::{Fixture, TestServer, check_folder, check_options, run_check};

const PDF: &[u8] = b"%PDF-1.4\n%%EOF\n";

/// A desk folder as a team keeps one, with no widgets.json.
fn desk() -> Fixture {
    let mut prices = String::from("date,ticker,close\n");
    for day in 1..=28 {
        for (ticker, base) in [("MSFT", 400), ("AAPL", 180), ("NVDA", 120)] {
            prices += &format!("2024-02-{day:02},{ticker},{}.5\n", base + day);
        }
    }
    let fixture = Fixture::new();
    fixture
        .write("data/prices.csv", prices)
        .write(
            "data/holdings.csv",
            "ticker,sector,weight\nKO,\"Consumer, Staples\",0.1\nPG,\"Consumer, Staples\",0.2\n\
             AMZN,Consumer,0.3\nXOM,Energy,0.15\nCVX,Energy,0.25\n",
        )
        .write(
            "data/kpis.json",
            r#"[{"label": "NAV", "value": "$1.67m", "delta": "+0.4%"}, {"label": "Positions", "value": 12}]"#,
        )
        .write(
            "data/news.json",
            r#"[{"ticker": "AAPL", "title": "Apple sets a date", "date": "2024-12-10", "author": "IR",
                 "excerpt": "Results on January 30.", "body": "Apple will publish results."},
                {"ticker": "MSFT", "title": "Microsoft capex", "date": "2024-12-12", "excerpt": "Up."}]"#,
        )
        .write(
            "data/fundamentals.json",
            r#"{"meta": {"as_of": "2024-12-31", "provider": "desk model"},
                "results": [{"ticker": "AAPL", "pe": 37.1, "rating": "Hold"},
                            {"ticker": "MSFT", "pe": 34.8, "rating": "Buy"}]}"#,
        )
        .write(
            "data/screens/value.json",
            r#"{"data": {"rows": [{"ticker": "XOM", "yield": 3.4}], "count": 1}}"#,
        )
        .write("data/settings.json", r#"{"refresh": 5, "owner": "desk"}"#)
        .write("data/history/AAPL.csv", "date,close\n2024-01-02,185.6\n2024-01-03,184.2\n")
        .write("data/history/MSFT.csv", "date,close\n2024-01-02,370.1\n")
        .write("data/models/dcf.csv", "year,fcf\n2025,100\n")
        .write("data/models/wacc.csv", "input,value\nbeta,1.1\n")
        .write("data/reports/AAPL.md", "# Apple\n\nHold.\n")
        .write("data/reports/MSFT.md", "# Microsoft\n\nBuy.\n")
        .write("data/filings/AAPL-factsheet.pdf", PDF)
        .write("data/filings/MSFT-factsheet.pdf", PDF)
        .write(
            "data/notes/2024-05-01-energy.md",
            "---\ntitle: Energy view\ndate: 2024-05-01\n---\nOil is tight.\n",
        );
    fixture
}

fn types(manifest: &Value) -> Vec<(String, String)> {
    let widgets = manifest.as_object().unwrap().iter();
    widgets
        .map(|(id, w)| (id.clone(), w["type"].as_str().unwrap_or("table").into()))
        .collect()
}

fn param<'m>(widget: &'m Value, name: &str) -> &'m Value {
    let params = widget["params"].as_array().unwrap();
    params.iter().find(|p| p["paramName"] == name).unwrap()
}

#[test]
fn zero_configuration_reads_a_desk_as_an_analyst_would() {
    let server = TestServer::start(desk());
    let manifest = server.get("/widgets.json").json();
    assert_eq!(
        types(&manifest),
        [
            ("fundamentals_json", "table"),
            ("holdings_csv", "table"),
            ("kpis_json", "metric"),
            ("news_json", "newsfeed"),
            ("prices_csv", "table"),
            ("filings_files", "multi_file_viewer"),
            ("history_ticker_csv", "table"),
            ("models_dcf_csv", "table"),
            ("models_wacc_csv", "table"),
            ("notes_feed", "newsfeed"),
            ("reports_ticker_md", "markdown"),
            ("screens_value_json", "table"),
        ]
        .map(|(id, kind)| (id.to_string(), kind.to_string()))
    );
    // Metric tiles and articles, served as the file holds them.
    assert_eq!(server.get("/kpis_json").json()[1]["value"], 12);
    let news = server.get("/news_json").json();
    assert_eq!(news[0]["title"], "Microsoft capex", "newest first");
    // A document's one array of rows: a table reading it through data.dataKey.
    let fundamentals = &manifest["fundamentals_json"];
    assert_eq!(fundamentals["data"]["dataKey"], "results");
    let fields: Vec<&Value> = fundamentals["data"]["table"]["columnsDefs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["field"])
        .collect();
    assert_eq!(fields, ["ticker", "pe", "rating"]);
    assert_eq!(
        server.get("/fundamentals_json").json()["results"][1]["pe"],
        34.8
    );
    assert_eq!(
        manifest["screens_value_json"]["data"]["dataKey"],
        "data.rows"
    );
    // One report widget: a ticker param listing the folder's stems, starting at the first.
    let reports = &manifest["reports_ticker_md"];
    let ticker = param(reports, "ticker");
    assert_eq!(ticker["value"], "AAPL");
    assert_eq!(
        server
            .get(&format!("/{}", ticker["optionsEndpoint"].as_str().unwrap()))
            .json(),
        json!([{"label": "AAPL", "value": "AAPL"}, {"label": "MSFT", "value": "MSFT"}])
    );
    assert!(
        server
            .get("/reports_ticker_md?ticker=MSFT")
            .body
            .contains("Buy.")
    );
    // Tables alike (same columns) are one too; tables that differ stay apart (models/).
    let history = &manifest["history_ticker_csv"];
    let names: Vec<&Value> = history["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["paramName"])
        .collect();
    assert_eq!(names, ["ticker", "start_date", "end_date"]);
    assert_eq!(
        server.get("/history_ticker_csv?ticker=MSFT").json(),
        json!([{"date": "2024-01-02", "close": 370.1}])
    );
    // Dropdowns start at their first option: the first load is one ticker, not the file.
    let ticker = param(&manifest["prices_csv"], "ticker");
    assert_eq!(ticker["value"], "AAPL");
    let first_load = server.get("/prices_csv?ticker=AAPL").json();
    assert_eq!(first_load.as_array().unwrap().len(), 28);
    assert_eq!(
        param(&manifest["holdings_csv"], "sector")["value"],
        "Consumer"
    );
    // What fits no widget is said, at / and by check.
    let said = "data/settings.json: warning: no widget made: an object holding no array of flat \
                objects";
    let problems = server.get("/").json()["problems"].clone();
    assert!(
        problems
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().starts_with(said)),
        "{problems}"
    );
    let (status, out) = check_folder(&server.fixture);
    assert!(status == Some(0) && out.contains(said), "{out}");
    // Workspace's view: every widget answers in its shape.
    let (passed, out) = run_check(&check_options(".", Some(server.url(""))));
    assert!(passed, "{out}");
}

#[test]
fn a_value_holding_commas_is_matched_whole_when_the_column_holds_it() {
    let server = TestServer::start(desk());
    assert_eq!(
        server.get("/holdings_csv/options/sector").json()[1],
        json!({"label": "Consumer, Staples", "value": "Consumer, Staples"})
    );
    let tickers = |query: &str| -> Vec<String> {
        let rows = server.get(&format!("/holdings_csv?{query}")).json();
        let rows = rows.as_array().unwrap_or_else(|| panic!("{query}: {rows}"));
        rows.iter()
            .map(|r| r["ticker"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(tickers("sector=Consumer,%20Staples"), ["KO", "PG"]);
    assert_eq!(
        tickers("sector=Consumer,Energy"),
        ["AMZN", "XOM", "CVX"],
        "else split"
    );
    assert_eq!(
        tickers("sector=Consumer,%20Staples&sector=Energy"),
        ["KO", "PG", "XOM", "CVX"],
        "a multi-select sent as repeats"
    );
}

#[test]
fn options_list_a_folders_files_by_name_or_stem() {
    let fixture = desk();
    fixture.write(
        "widgets.json",
        r#"{
          "factsheet": {"name": "Factsheet", "description": "d", "type": "pdf", "endpoint": "factsheet",
            "params": [{"paramName": "ticker", "type": "endpoint", "value": "AAPL",
                        "optionsEndpoint": "factsheet/tickers"}],
            "backend": {"file": "filings/{ticker}-factsheet.pdf",
                        "options": {"ticker": {"folder": "reports", "extension": ".MD", "stems": true}}}},
          "report": {"name": "Report", "description": "d", "type": "markdown", "endpoint": "report",
            "params": [{"paramName": "name", "type": "endpoint", "value": "AAPL.md",
                        "optionsEndpoint": "report/names"}],
            "backend": {"file": "reports/{name}",
                        "options": {"name": {"folder": "reports"}}}},
          "both": {"name": "Both", "description": "d", "endpoint": "both",
            "params": [{"paramName": "x", "type": "endpoint", "optionsEndpoint": "both/x"}],
            "backend": {"file": "prices.csv", "options": {"x": {"folder": "reports", "column": "a"}}}}
        }"#,
    );
    let server = TestServer::start(fixture);
    assert_eq!(
        server.get("/factsheet/tickers").json(),
        json!([{"label": "AAPL", "value": "AAPL"}, {"label": "MSFT", "value": "MSFT"}])
    );
    assert_eq!(
        server.get("/report/names").json(),
        json!([{"label": "AAPL.md", "value": "AAPL.md"}, {"label": "MSFT.md", "value": "MSFT.md"}])
    );
    server.fixture.write("data/reports/NVDA.md", "# Nvidia\n");
    assert_eq!(
        server.get("/factsheet/tickers").json()[2]["value"],
        "NVDA",
        "read each time"
    );
    let problems = server.get("/").json()["problems"].clone();
    assert!(
        problems.to_string().contains(
            r#"both: backend.options: 'x': \"column\" and \"label\" apply to a \"file\""#
        ),
        "{problems}"
    );
}
