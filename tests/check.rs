//! `openbb-files check`: offline over a folder (exit status by severity), and `--url` against
//! our own server and against a backend that breaks Workspace's contract in several ways.

use std::process::Command;

use openbb_files::Handler;
use openbb_files::http::{Method, Request, Response};

use crate::support::{Fixture, TestServer, check_folder, check_options, run_check, test_config};

const BIN: &str = env!("CARGO_BIN_EXE_openbb-files");

#[test]
fn offline_errors_fail_and_warnings_alone_pass() {
    let fixture = Fixture::new();
    fixture.write(
        "widgets.json",
        r#"{"later": {"name": "L", "description": "d", "type": "markdown", "endpoint": "later"}}"#,
    );
    let (status, out) = check_folder(&fixture);
    assert_eq!(status, Some(0), "{out}");
    assert!(
        out.contains("later: backend.file: warning: data/later.md does not exist (yet)\n"),
        "{out}"
    );
    assert!(out.ends_with(": 0 error(s), 1 warning(s)\n"), "{out}");
    fixture.write(
        "widgets.json",
        r#"{"later": {"name": "L", "description": "d", "type": "markdown", "endpoint": "later"},
            "bad": {"name": "B", "endpoint": "bad", "type": "tabel"}}"#,
    );
    let (status, out) = check_folder(&fixture);
    assert_eq!(status, Some(1), "{out}");
    assert!(
        out.contains("bad: description: required, as a string\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "bad: type: \"tabel\" is not a widget type Workspace knows (advanced_charting, "
        ),
        "{out}"
    );
    assert!(out.ends_with(": 2 error(s), 1 warning(s)\n"), "{out}");
    let usage = Command::new(BIN)
        .args(["check", "--bogus"])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn url_check_passes_against_our_own_example() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let server = TestServer::start_with(Fixture::new(), test_config(root));
    let (passed, out) = run_check(&check_options(".", Some(server.url(""))));
    assert!(passed, "{out}");
    for line in [
        "OPTIONS /widgets.json (preflight from https://pro.openbb.co): 204 allows x-api-key",
        "widget price_history: accepted",
        "GET /apps.json: 1 apps from apps.json",
        "GET /agents.json: 0 agents",
        "POST /price_history (price_history, ssrm_table): 10 of 1000 rows",
        "GET /udf (price_chart, advanced_charting): a UDF configuration",
        "POST /library (library, multi_file_viewer): 2 file(s)",
        "GET /performance (performance, chart): Plotly figure, 2 traces",
        "GET /sector_weights (sector_weights, chart-highcharts): Highcharts options",
        "GET /cumulative_return (cumulative_return, chart-vegalite): a Vega-Lite spec",
        "GET /workspace_demo (workspace_demo, youtube): a YouTube video, https://www.youtube.com/watch?v=uYyhswnZkSw",
        "GET /options/sectors (options of position_detail): 7 options",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    assert!(!out.contains("FAIL"), "{out}");
}

#[test]
fn url_check_with_a_key_and_origin_the_server_requires() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut config = test_config(root);
    config.api_key = Some("s3cret".into());
    config.cors_origins = vec!["http://localhost:3000".into()];
    let server = TestServer::start_with(Fixture::new(), config);
    let mut with_key = check_options(".", Some(server.url("")));
    with_key.api_key = Some("s3cret".into());
    with_key.origin = "http://localhost:3000".into();
    let (passed, out) = run_check(&with_key);
    assert!(passed, "{out}");
    let (passed, out) = run_check(&check_options(".", Some(server.url(""))));
    assert!(!passed);
    assert!(out.contains("FAIL"), "{out}");
    assert!(out.contains("GET /widgets.json: status 401"), "{out}");
}

/// A backend that breaks the contract: no CORS at all, a preflight answered 405, a manifest
/// with a widget Workspace rejects, apps.json as an object naming a missing widget, a table
/// that is not an array, a chart that fails, markdown that is a number, a metric without a
/// label and an options endpoint answering an object.
struct Broken;

impl Handler for Broken {
    fn handle(&self, request: &Request) -> Response {
        let json = |body: &str| {
            Response::json(
                200,
                &serde_json::from_str::<serde_json::Value>(body).unwrap(),
            )
        };
        if request.method == Method::Options {
            return Response::error(405, "method not allowed");
        }
        match request.path.as_str() {
            "/widgets.json" => json(
                r#"{"rows": {"name": "Rows", "description": "d", "endpoint": "rows"},
                    "fig": {"name": "Fig", "description": "d", "type": "chart", "endpoint": "fig"},
                    "note": {"name": "Note", "description": "d", "type": "markdown", "endpoint": "note",
                             "params": [{"paramName": "x", "type": "endpoint", "optionsEndpoint": "opts"}]},
                    "kpi": {"name": "Kpi", "description": "d", "type": "metric", "endpoint": "kpi"},
                    "odd": {"name": "Odd", "endpoint": "odd", "type": "tabel"},
                    "web": {"name": "Web", "description": "d", "endpoint": "http_web"}}"#,
            ),
            "/apps.json" => json(r#"{"name": "A", "tabs": {}}"#),
            "/rows" => json(r#"{"rows": [{"a": 1}]}"#),
            "/fig" => Response::error(500, "figure broke"),
            "/note" => json("3"),
            "/kpi" => json(r#"[{"value": 1}]"#),
            "/opts" => json(r#"{"a": 1}"#),
            "/odd" => json("[]"),
            _ => Response::error(404, "nope"),
        }
    }
}

#[test]
fn url_check_reports_every_broken_part_of_a_backend() {
    let server = TestServer::start_handler(Broken);
    let (passed, out) = run_check(&check_options(".", Some(server.url(""))));
    assert!(!passed, "{out}");
    for expected in [
        "OPTIONS /widgets.json (preflight from https://pro.openbb.co): status 405",
        "GET /widgets.json: no Access-Control-Allow-Origin for https://pro.openbb.co",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in\n{out}");
    }
    let failures = out.lines().filter(|l| l.starts_with("FAIL")).count();
    assert_eq!(
        failures, 2,
        "the manifest itself is unreadable without CORS:\n{out}"
    );
}

/// The same broken backend, with CORS fixed, so every widget gets called.
struct BrokenButReadable;

impl Handler for BrokenButReadable {
    fn handle(&self, request: &Request) -> Response {
        let mut response = Broken.handle(request);
        response
            .headers
            .push(("Access-Control-Allow-Origin", "*".into()));
        response
    }
}

#[test]
fn url_check_calls_every_widget_of_a_broken_backend() {
    let server = TestServer::start_handler(BrokenButReadable);
    let (passed, out) = run_check(&check_options(".", Some(server.url(""))));
    assert!(!passed, "{out}");
    for expected in [
        "FAIL",
        "widget odd: odd: description: required, as a string; odd: type: \"tabel\" is not a widget type Workspace knows",
        "Workspace keeps no widget of a backend when one widget fails",
        "GET /apps.json: 1 apps from apps.json",
        "GET /agents.json: status 404: no agents",
        "GET /rows (rows, table): expected an array of rows",
        "GET /fig (fig, chart): Validate widgets fails: status 500: \"figure broke\"",
        "GET /note (note, markdown): expected a JSON string of Markdown",
        "GET /kpi (kpi, metric): expected {\"label\", \"value\"} tiles",
        "GET /opts (options of note): expected an array of options",
        "widget web: endpoint 'http_web' begins with \"http\": Workspace calls it as a URL",
        "GET /odd (odd, tabel): JSON",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in\n{out}");
    }
    let failures = out.lines().filter(|l| l.starts_with("FAIL")).count();
    assert_eq!(failures, 8, "{out}");
    assert!(out.ends_with(": 8 check(s) failed\n"), "{out}");
}
