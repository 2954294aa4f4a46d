//! Storage failures over the wire: each kind of `FileError` gets its status and a `{"detail"}`
//! naming the file (a file changing while read: 503 with `Retry-After`), with CORS like any
//! answer; a file that does not parse is listed at `/` until it parses again.

use crate::support::{Fixture, TestServer};

const WIDGETS: &str = r#"{
  "report": {"name": "R", "description": "d", "type": "markdown", "endpoint": "report",
             "params": [{"paramName": "ticker", "type": "text", "value": "AAPL"}],
             "backend": {"file": "reports/{ticker}.md"}},
  "quote": {"name": "Q", "description": "d", "endpoint": "quote",
            "params": [{"paramName": "ticker", "type": "text", "value": "AAPL"}],
            "backend": {"file": "http://127.0.0.1:9/{ticker}.csv"}},
  "broken": {"name": "B", "description": "d", "endpoint": "broken"},
  "badjson": {"name": "J", "description": "d", "endpoint": "badjson"},
  "latin": {"name": "L", "description": "d", "type": "markdown", "endpoint": "latin"},
  "notes": {"name": "N", "description": "d", "type": "newsfeed", "endpoint": "notes",
            "backend": {"folder": "no-such-folder"}},
  "fresh": {"name": "F", "description": "d", "endpoint": "fresh"}
}"#;

fn server() -> TestServer {
    let fixture = Fixture::new();
    fixture
        .write("widgets.json", WIDGETS)
        .write("data/reports/AAPL.md", "# Apple")
        .write("data/broken.csv", "a,b\n1,2\n1,2,3\n")
        .write("data/badjson.json", "[\n{\"a\": 1},\n{oops}\n]")
        .write("data/latin.md", b"caf\xe9");
    TestServer::start(fixture)
}

#[test]
fn every_storage_failure_has_its_status_and_detail() {
    let server = server();
    let cases = [
        (
            "/report?ticker=ZZZZ",
            404,
            "widget 'report' has no data file: looked for data/reports/ZZZZ.md",
        ),
        ("/notes", 404, "not found: folder data/no-such-folder"),
        (
            "/report?ticker=a%2Fb",
            400,
            "parameter 'ticker': 'a/b' is not a file name",
        ),
        (
            "/quote?ticker=..",
            400,
            "parameter 'ticker': '..' is not a path segment",
        ),
        (
            "/report",
            422,
            "missing parameter 'ticker': the file name is built from it",
        ),
        ("/broken", 500, "data/broken.csv: line 3: "),
        ("/badjson", 500, "data/badjson.json: line 3: column 2: "),
        ("/latin", 500, "data/latin.md: not UTF-8 text ("),
        (
            "/quote?ticker=AAPL",
            502,
            "http://127.0.0.1:9/AAPL.csv: upstream failed: ",
        ),
    ];
    for (path, status, detail) in cases {
        let reply = server.request("GET", path, &[("Origin", "https://pro.openbb.co")]);
        assert_eq!(reply.status, status, "{path}: {reply:?}");
        assert!(
            reply.detail().starts_with(detail),
            "{path}: {}",
            reply.detail()
        );
        assert!(reply.has_cors(), "{path}: {reply:?}");
        assert_eq!(reply.header("retry-after"), None, "{path}");
    }
}

/// An empty file written a moment ago may be a rewrite caught between its truncation and its
/// write: with no earlier version to serve, the answer is a 503 to retry, and the retry after
/// the write gets the rows.
#[test]
fn a_file_caught_mid_rewrite_is_a_503_to_retry() {
    let server = server();
    std::fs::write(server.fixture.path("data/fresh.csv"), "").unwrap();
    let reply = server.get("/fresh");
    assert_eq!(reply.status, 503, "{reply:?}");
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert!(
        reply.detail().starts_with("data/fresh.csv: "),
        "{}",
        reply.detail()
    );
    std::fs::write(server.fixture.path("data/fresh.csv"), "a\n1\n").unwrap();
    let reply = server.get("/fresh");
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.json(), serde_json::json!([{"a": 1}]));
}

/// Recording a problem and answering are apart: the 500 is the answer, the problem stays at
/// `/` until the file parses again.
#[test]
fn a_file_that_does_not_parse_is_listed_until_it_parses() {
    let server = server();
    assert_eq!(server.get("/broken").status, 500);
    let listed = server.get("/").json()["problems"].to_string();
    assert!(listed.contains("data/broken.csv: line 3: "), "{listed}");
    server.fixture.write("data/broken.csv", "a,b\n1,2\n3,4\n");
    assert_eq!(server.get("/broken").status, 200);
    let listed = server.get("/").json()["problems"].to_string();
    assert!(!listed.contains("data/broken.csv"), "{listed}");
}
