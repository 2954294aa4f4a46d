//! Routes: the manifests, the info route, HEAD, 404 and 405, and panics in a handler.

use std::time::Duration;

use openbb_files::Handler;
use openbb_files::http::{Request, Response};

use crate::support::{Fixture, TestServer, prices_fixture, raw_status};

#[test]
fn info_route_names_the_server_and_counts_widgets() {
    let server = TestServer::start(prices_fixture());
    let reply = server.get("/");
    assert_eq!(reply.status, 200);
    let info = reply.json();
    assert_eq!(info["name"], "openbb-files");
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(info["widgets"], 2);
    assert_eq!(info["problems"], serde_json::json!([]));
}

#[test]
fn widgets_json_is_served_as_written() {
    let server = TestServer::start(prices_fixture());
    let reply = server.get("/widgets.json");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let widgets = reply.json();
    assert_eq!(widgets["prices"]["endpoint"], "prices");
    let keys: Vec<&String> = widgets.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["prices", "fundamentals"], "key order is kept");
}

#[test]
fn apps_json_defaults_to_an_empty_array_and_templates_is_an_alias() {
    let server = TestServer::start(prices_fixture());
    for path in ["/apps.json", "/templates.json"] {
        let reply = server.get(path);
        assert_eq!((reply.status, reply.body.as_str()), (200, "[]"), "{path}");
    }
    server
        .fixture
        .write("apps.json", r#"[{"name": "Desk", "tabs": {}}]"#);
    for path in ["/apps.json", "/templates.json"] {
        assert_eq!(server.get(path).json()[0]["name"], "Desk", "{path}");
    }
}

#[test]
fn head_has_the_get_length_and_no_body() {
    let server = TestServer::start(prices_fixture());
    let big_rows: String = (0..3000)
        .map(|i| format!("2024-01-02,T{i},1.5,{i}\n"))
        .collect();
    server.fixture.write(
        "data/prices.csv",
        format!("date,ticker,close,volume\n{big_rows}"),
    );
    for path in [
        "/",
        "/widgets.json",
        "/apps.json",
        "/prices",
        "/fundamentals",
        "/nope",
    ] {
        let get = server.get(path);
        let head = server.raw(
            format!("HEAD {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        );
        let (head_headers, head_body) = head.split_once("\r\n\r\n").unwrap();
        assert_eq!(raw_status(&head), get.status, "{path}");
        assert!(head_body.is_empty(), "{path}: HEAD sent a body");
        let length = head_headers
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length: ")
                    .map(String::from)
            })
            .unwrap_or_else(|| panic!("{path}: no Content-Length in {head_headers}"));
        assert_eq!(length.parse::<usize>().unwrap(), get.body.len(), "{path}");
        assert!(
            !head_headers.to_ascii_lowercase().contains("chunked"),
            "{path}"
        );
    }
    assert!(
        server.get("/prices").body.len() > 32 * 1024,
        "large enough to test chunking"
    );
}

#[test]
fn unknown_paths_are_json_404s() {
    let server = TestServer::start(prices_fixture());
    for path in ["/nope", "/prices/extra", "/data/prices.csv", "/widgets"] {
        let reply = server.get(path);
        assert_eq!(reply.status, 404, "{path}");
        assert!(reply.detail().contains("not found"), "{path}: {reply:?}");
    }
}

#[test]
fn other_methods_get_405_with_allow() {
    let server = TestServer::start(prices_fixture());
    for (method, path) in [
        ("POST", "/prices"),
        ("PUT", "/widgets.json"),
        ("DELETE", "/"),
        ("PATCH", "/apps.json"),
    ] {
        let reply = server.request(method, path, &[]);
        assert_eq!(reply.status, 405, "{method} {path}");
        assert_eq!(reply.header("allow"), Some("GET, HEAD, OPTIONS"));
        assert!(reply.detail().contains(method));
    }
    let reply = server.request("POST", "/nope", &[]);
    assert_eq!(reply.status, 404, "{reply:?}");
}

struct Panicking;

impl Handler for Panicking {
    fn handle(&self, request: &Request) -> Response {
        if request.path == "/boom" {
            panic!("deliberate test panic");
        }
        Response::json(200, &"fine")
    }
}

#[test]
fn a_panicking_handler_gives_a_json_500_and_the_worker_carries_on() {
    let server = TestServer::start_handler(Panicking);
    // More panics than workers: each worker must survive its panic.
    for _ in 0..10 {
        let reply = server.get("/boom");
        assert_eq!(reply.status, 500);
        assert!(reply.detail().contains("internal error"));
    }
    assert_eq!(server.get("/ok").body, "\"fine\"");
}

struct Slow;

impl Handler for Slow {
    fn handle(&self, _: &Request) -> Response {
        std::thread::sleep(Duration::from_millis(400));
        Response::json(200, &"done")
    }
}

#[test]
fn stopping_finishes_requests_in_flight() {
    let server = TestServer::start_handler(Slow);
    let url = server.url("/slow");
    let in_flight = std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(crate::support::TIMEOUT))
            .build()
            .into();
        agent
            .get(&url)
            .call()
            .map(|mut r| r.body_mut().read_to_string().unwrap())
    });
    std::thread::sleep(Duration::from_millis(150));
    let addr = server.addr;
    assert_eq!(server.stop(), Ok(()));
    assert_eq!(in_flight.join().unwrap().unwrap(), "\"done\"");
    assert!(
        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
        "the listener is closed after a stop"
    );
}

#[test]
fn a_root_without_widgets_json_serves_what_data_holds() {
    // An empty data/ gives an empty manifest; tests/zeroconf.rs covers folders with files.
    let server = TestServer::start(Fixture::new());
    assert_eq!(server.get("/widgets.json").body, "{}");
    assert_eq!(server.get("/").json()["problems"], serde_json::json!([]));
}

#[test]
fn an_unread_chunked_body_does_not_break_the_connection() {
    let server = TestServer::start(prices_fixture());
    let response = server.raw(
        b"PUT /prices HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n\
          5\r\nhello\r\n0\r\n\r\n\
          GET /widgets.json HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    // Bodies carry no newline, so a status line may follow one directly.
    let statuses: Vec<&str> = response
        .match_indices("HTTP/1.1 ")
        .map(|(at, _)| &response[at..at + 12])
        .collect();
    assert_eq!(statuses.len(), 2, "{response}");
    assert!(statuses[0].starts_with("HTTP/1.1 405"), "{response}");
    assert!(statuses[1].starts_with("HTTP/1.1 200"), "{response}");
}

#[test]
fn etags_let_clients_revalidate_cheaply() {
    let server = TestServer::start(prices_fixture());
    for path in [
        "/widgets.json",
        "/apps.json",
        "/prices?ticker=AAPL",
        "/fundamentals",
    ] {
        let first = server.get(path);
        let etag = first
            .header("etag")
            .unwrap_or_else(|| panic!("{path}: no ETag"))
            .to_string();
        assert_eq!(first.header("cache-control"), Some("no-cache"));
        let again = server.request(
            "GET",
            path,
            &[
                ("If-None-Match", &etag),
                ("Origin", "https://pro.openbb.co"),
            ],
        );
        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), Some(etag.as_str()));
        assert!(again.has_cors(), "{path}: a 304 keeps its CORS headers");
        assert_eq!(
            server
                .request("GET", path, &[("If-None-Match", "\"stale\"")])
                .status,
            200
        );
    }
    let before = server
        .get("/prices?ticker=AAPL")
        .header("etag")
        .unwrap()
        .to_string();
    server
        .fixture
        .write("data/prices.csv", "date,ticker,close\n2025-01-01,AAPL,1\n");
    let after = server.request("GET", "/prices?ticker=AAPL", &[("If-None-Match", &before)]);
    assert_eq!(after.status, 200, "an edited file is a new version");
    assert_ne!(after.header("etag"), Some(before.as_str()));
}

#[test]
fn parameter_order_does_not_change_the_answer() {
    let server = TestServer::start(prices_fixture());
    let a = server.get("/prices?ticker=AAPL&date=2024-01-02");
    let b = server.get("/prices?date=2024-01-02&ticker=AAPL");
    assert_eq!(a.body, b.body);
    assert_eq!(a.json().as_array().unwrap().len(), 1);
    assert_ne!(
        a.body,
        server.get("/prices?ticker=MSFT&date=2024-01-02").body
    );
}
