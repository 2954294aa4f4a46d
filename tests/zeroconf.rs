//! No widgets.json: the server builds the manifest from `data/` (every file kind), keeps ids
//! stable, sees new files without a restart; `init` writes that manifest and a dashboard and
//! never overwrites without `--force`.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Fixture, InProcess, TestServer, check_folder, check_options, run_check};

const BIN: &str = env!("CARGO_BIN_EXE_openbb-files");
const PDF: &[u8] = b"%PDF-1.4\n%%EOF\n";

/// A folder with every kind of file and no widgets.json.
fn every_kind() -> Fixture {
    let fixture = Fixture::new();
    fixture
        .write(
            "data/prices.csv",
            "date,ticker,close,active\n2024-01-02,AAPL,185.6,true\n2024-01-02,MSFT,370.1,true\n\
             2024-02-01,AAPL,186.9,false\n2024-03-01,MSFT,410.2,true\n",
        )
        .write(
            "data/holdings.json",
            r#"[{"ticker": "XOM", "sector": "Energy", "weight": 0.1},
                {"ticker": "CVX", "sector": "Energy", "weight": 0.2},
                {"ticker": "AAPL", "sector": "Tech", "weight": 0.7}]"#,
        )
        .write("data/settings.json", r#"{"not": "a table"}"#)
        .write(
            "data/charts/perf.json",
            r#"{"data": [{"x": [1, 2], "y": [3, 4]}], "layout": {"title": {"text": "Perf"}}}"#,
        )
        .write(
            "data/charts/perf.dark.json",
            r#"{"data": [], "layout": {}}"#,
        )
        .write("data/Morning Brief.md", "# Morning brief\n")
        .write("data/board.html", "<!doctype html><h1>Board</h1>")
        .write("data/factsheet.pdf", PDF)
        .write("data/filings/a.pdf", PDF)
        .write("data/filings/b.pdf", PDF)
        .write(
            "data/notes/2024-05-01-energy.md",
            "---\ntitle: Energy view\ndate: 2024-05-01\nauthor: Ana\n---\nOil is tight.\n",
        )
        .write(
            "data/notes/2024-06-10-chips.md",
            "---\ntitle: Chips\ndate: 2024-06-10\n---\nDemand.\n",
        )
        .write("data/reports/plain.md", "# No front matter\n");
    fixture
}

fn kinds(manifest: &Value) -> Vec<(String, String)> {
    manifest
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, w)| {
            (
                id.clone(),
                w["type"].as_str().unwrap_or("table").to_string(),
            )
        })
        .collect()
}

#[test]
fn every_file_kind_becomes_a_widget_workspace_accepts() {
    let server = TestServer::start(every_kind());
    let manifest = server.get("/widgets.json").json();
    assert_eq!(
        kinds(&manifest),
        [
            ("morning_brief_md", "markdown"),
            ("board_html", "html"),
            ("factsheet_pdf", "pdf"),
            ("holdings_json", "table"),
            ("prices_csv", "table"),
            ("charts_perf_json", "chart"),
            ("filings_files", "multi_file_viewer"),
            ("notes_feed", "newsfeed"),
            ("reports_plain_md", "markdown"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let prices = &manifest["prices_csv"];
    assert_eq!(
        prices["data"]["table"]["columnsDefs"],
        json!([
            {"field": "date", "headerName": "Date", "cellDataType": "date"},
            {"field": "ticker", "headerName": "Ticker", "cellDataType": "text"},
            {"field": "close", "headerName": "Close", "cellDataType": "number"},
            {"field": "active", "headerName": "Active", "cellDataType": "boolean"}
        ])
    );
    let params: Vec<&str> = prices["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["paramName"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["start_date", "end_date", "ticker"]);
    assert!(
        prices.get("backend").is_none(),
        "server-side keys stay on the server"
    );
    assert_eq!(
        server.get("/prices_csv/options/ticker").json(),
        json!([{"label": "AAPL", "value": "AAPL"}, {"label": "MSFT", "value": "MSFT"}])
    );
    let filtered = server
        .get("/prices_csv?ticker=AAPL&start_date=2024-02-01")
        .json();
    assert_eq!(
        filtered,
        json!([{"date": "2024-02-01", "ticker": "AAPL", "close": 186.9, "active": false}])
    );
    assert_eq!(
        server.get("/holdings_json/options/sector").json(),
        json!([{"label": "Energy", "value": "Energy"}, {"label": "Tech", "value": "Tech"}])
    );
    assert_eq!(
        server.get("/").json()["problems"],
        json!([
            "data/settings.json: warning: no widget made: an object holding no array of flat \
             objects: nothing to show as a table, metric, newsfeed or chart (write its widget in \
             widgets.json)"
        ]),
        "a JSON file that fits no widget is listed with the reason"
    );
    // Workspace's view: every widget answers in its shape.
    let (passed, out) = run_check(&check_options(".", Some(server.url(""))));
    assert!(passed, "{out}");
    assert!(
        out.contains("POST /filings_files (filings_files, multi_file_viewer): 0 file(s)"),
        "{out}"
    );
    assert!(
        out.contains("GET /notes_feed (notes_feed, newsfeed): 2 articles"),
        "{out}"
    );
}

#[test]
fn new_files_appear_without_a_restart_and_ids_stay() {
    let server = InProcess::new(every_kind());
    let before = kinds(&server.get("/widgets.json").json());
    server.fixture.write("data/added.csv", "a,b\n1,2\n");
    let deadline = Instant::now() + Duration::from_secs(5);
    let after = loop {
        let now = kinds(&server.get("/widgets.json").json());
        if now.len() > before.len() || Instant::now() > deadline {
            break now;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(after.len(), before.len() + 1, "{after:?}");
    let added = ("added_csv".to_string(), "table".to_string());
    assert!(after.contains(&added), "{after:?}");
    let others: Vec<_> = after.into_iter().filter(|w| *w != added).collect();
    assert_eq!(others, before, "the other ids are unchanged");
    assert_eq!(server.get("/added_csv").json(), json!([{"a": 1, "b": 2}]));
    // A once-generated manifest gives way to a widgets.json the user writes.
    server.fixture.write(
        "widgets.json",
        r#"{"mine": {"name": "Mine", "description": "d", "endpoint": "mine", "backend": {"file": "added.csv"}}}"#,
    );
    assert_eq!(
        kinds(&server.get("/widgets.json").json()),
        [("mine".to_string(), "table".to_string())]
    );
}

#[test]
fn init_writes_the_generated_manifest_and_a_dashboard_once() {
    let fixture = every_kind();
    let init = |extra: &[&str]| {
        Command::new(BIN)
            .args(["init", "--root"])
            .arg(&fixture.root)
            .args(extra)
            .output()
            .unwrap()
    };
    let first = init(&[]);
    assert!(first.status.success(), "{first:?}");
    let written = std::fs::read_to_string(fixture.path("widgets.json")).unwrap();
    let widgets: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(widgets.as_object().unwrap().len(), 9);
    assert_eq!(
        widgets["prices_csv"]["backend"]["file"], "prices.csv",
        "written for editing"
    );
    let apps: Value =
        serde_json::from_slice(&std::fs::read(fixture.path("apps.json")).unwrap()).unwrap();
    let tabs = apps[0]["tabs"].as_object().unwrap().values();
    let layout: Vec<&Value> = tabs
        .flat_map(|tab| tab["layout"].as_array().unwrap())
        .collect();
    assert_eq!(layout.len(), 9);
    assert!(
        layout
            .iter()
            .all(|i| i["x"].as_u64().unwrap() + i["w"].as_u64().unwrap() <= 40)
    );
    // The folder now checks clean with the written files.
    let (status, out) = check_folder(&fixture);
    assert!(
        status == Some(0) && out.ends_with(": 0 error(s), 0 warning(s)\n"),
        "{out}"
    );
    // Never overwritten without --force.
    fixture.write("widgets.json", "{}");
    let second = init(&[]);
    assert_eq!(second.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&second.stderr).contains("use --force"));
    assert_eq!(
        std::fs::read_to_string(fixture.path("widgets.json")).unwrap(),
        "{}"
    );
    let forced = init(&["--force"]);
    assert!(forced.status.success());
    assert_eq!(
        std::fs::read_to_string(fixture.path("widgets.json")).unwrap(),
        written
    );
}
