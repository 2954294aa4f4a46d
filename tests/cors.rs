//! CORS over real sockets: allowed and foreign origins, preflights on every path, the wildcard,
//! and the HTTP layer's refusals and a panic's 500, which carry the same headers.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use openbb_files::app::App;
use openbb_files::finish::{Answer, Exchange};
use openbb_files::http::{Request, Response};

use crate::support::{TestServer, prices_fixture, test_config};

const PATHS: [&str; 6] = [
    "/",
    "/widgets.json",
    "/apps.json",
    "/templates.json",
    "/prices",
    "/nope",
];

#[test]
fn allowed_origins_are_echoed_on_every_route() {
    let server = TestServer::start(prices_fixture());
    for origin in [
        "https://pro.openbb.co",
        "https://excel.openbb.co",
        "https://pro.openbb.dev",
        "http://localhost:1420",
    ] {
        for path in PATHS {
            let reply = server.request("GET", path, &[("Origin", origin)]);
            assert_eq!(
                reply.header("access-control-allow-origin"),
                Some(origin),
                "{path}"
            );
            assert_eq!(
                reply.header("access-control-allow-credentials"),
                Some("true")
            );
            assert_eq!(reply.header("vary"), Some("Origin"));
        }
    }
}

#[test]
fn foreign_origins_get_no_cors_headers() {
    let server = TestServer::start(prices_fixture());
    for origin in [
        "https://evil.example",
        "https://pro.openbb.co.evil.example",
        "http://pro.openbb.co",
    ] {
        let reply = server.request("GET", "/widgets.json", &[("Origin", origin)]);
        assert_eq!(reply.status, 200);
        assert!(!reply.has_cors(), "{origin}: {reply:?}");
    }
}

#[test]
fn every_path_answers_a_preflight() {
    let server = TestServer::start(prices_fixture());
    for path in PATHS {
        let reply = server.request(
            "OPTIONS",
            path,
            &[
                ("Origin", "https://pro.openbb.co"),
                ("Access-Control-Request-Method", "GET"),
                ("Access-Control-Request-Headers", "x-api-key, content-type"),
                ("Access-Control-Request-Private-Network", "true"),
            ],
        );
        assert_eq!(reply.status, 204, "{path}");
        assert!(reply.body.is_empty());
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("https://pro.openbb.co")
        );
        assert!(
            reply
                .header("access-control-allow-methods")
                .unwrap()
                .contains("GET")
        );
        assert_eq!(
            reply.header("access-control-allow-headers"),
            Some("x-api-key, content-type")
        );
        assert!(reply.header("access-control-max-age").is_some());
        assert_eq!(
            reply.header("access-control-allow-private-network"),
            Some("true")
        );
    }
    let without_pna = server.request(
        "OPTIONS",
        "/prices",
        &[
            ("Origin", "https://pro.openbb.co"),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    assert_eq!(
        without_pna.header("access-control-allow-private-network"),
        None
    );
    let foreign = server.request(
        "OPTIONS",
        "/prices",
        &[
            ("Origin", "https://evil.example"),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    assert_eq!(foreign.status, 204);
    assert!(!foreign.has_cors());
}

#[test]
fn cors_origin_replaces_the_list_and_star_allows_any_without_credentials() {
    let fixture = prices_fixture();
    let mut config = test_config(&fixture.root);
    config.cors_origins = vec!["http://localhost:3000".into()];
    let server = TestServer::start_with(fixture, config);
    let own = server.request("GET", "/", &[("Origin", "http://localhost:3000")]);
    assert_eq!(
        own.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    assert!(
        !server
            .request("GET", "/", &[("Origin", "https://pro.openbb.co")])
            .has_cors()
    );
    drop(server);

    let fixture = prices_fixture();
    let mut config = test_config(&fixture.root);
    config.cors_origins = vec!["*".into()];
    let server = TestServer::start_with(fixture, config);
    let any = server.request("GET", "/prices", &[("Origin", "https://anything.example")]);
    assert_eq!(any.header("access-control-allow-origin"), Some("*"));
    assert_eq!(any.header("access-control-allow-credentials"), None);
}

const ORIGIN: &str = "https://pro.openbb.co";

/// Sends `parts` on a new connection, `pause` apart, and returns the answer's status and
/// lower-cased headers (read until the server closes the connection, at most 10 s).
fn refused(addr: SocketAddr, parts: &[&[u8]], pause: Duration) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(crate::support::TIMEOUT))
        .unwrap();
    for (n, part) in parts.iter().enumerate() {
        if n > 0 {
            std::thread::sleep(pause);
        }
        let _ = stream.write_all(part);
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = crate::support::raw_status(&answer);
    let head = answer
        .split("\r\n\r\n")
        .next()
        .unwrap()
        .to_ascii_lowercase();
    (status, head)
}

fn assert_finished_for(origin: &str, what: &str, head: &str) {
    for line in [
        format!("access-control-allow-origin: {origin}"),
        "access-control-allow-credentials: true".to_string(),
        "vary: origin".to_string(),
        "content-type: application/json".to_string(),
        "connection: close".to_string(),
        "date: ".to_string(),
    ] {
        assert!(head.contains(&line), "{what}: no {line:?} in\n{head}");
    }
}

#[test]
fn refusals_of_the_http_layer_carry_the_cors_headers() {
    let fixture = prices_fixture();
    let config = openbb_files::Config {
        max_header_bytes: 4096,
        max_body_bytes: 1000,
        idle_timeout: Duration::from_secs(1),
        ..test_config(&fixture.root)
    };
    let server = TestServer::start_with(fixture, config);
    let head =
        |rest: &str| format!("POST /prices HTTP/1.1\r\nHost: x\r\nOrigin: {ORIGIN}\r\n{rest}");
    let big = format!("X-Big: {}\r\n\r\n", "b".repeat(5000));
    let cases: [(&str, u16, Vec<String>); 8] = [
        ("malformed header", 400, vec![head("no colon\r\n\r\n")]),
        (
            "length and chunked",
            400,
            vec![head(
                "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            )],
        ),
        (
            "body too large",
            413,
            vec![head("Content-Length: 5000\r\n\r\n")],
        ),
        ("headers too large", 431, vec![head(&big)]),
        (
            "unknown coding",
            501,
            vec![head("Transfer-Encoding: gzip\r\n\r\n")],
        ),
        (
            "HTTP/2.0",
            505,
            vec![format!("GET / HTTP/2.0\r\nOrigin: {ORIGIN}\r\n\r\n")],
        ),
        ("slow head", 408, vec![head("X-Slow: "), "z".into()]),
        (
            "slow body",
            408,
            vec![head("Content-Length: 10\r\n\r\n{"), "}".into()],
        ),
    ];
    for (what, status, parts) in cases {
        let parts: Vec<&[u8]> = parts.iter().map(|p| p.as_bytes()).collect();
        // The slow ones send their last part after the 1 s idle timeout.
        let (got, head) = refused(server.addr, &parts, Duration::from_millis(1500));
        assert_eq!(got, status, "{what}: {head}");
        assert_finished_for(ORIGIN, what, &head);
    }
}

#[test]
fn a_request_line_over_the_bound_gets_its_414_with_the_cors_headers() {
    let fixture = prices_fixture();
    let config = openbb_files::Config {
        max_header_bytes: 4096,
        ..test_config(&fixture.root)
    };
    let server = TestServer::start_with(fixture, config);
    let request = |length: usize, origin: &str| {
        let query = "q".repeat(length);
        format!("GET /prices?{query} HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\n\r\n")
    };
    // Just over the bound, and far over it (the rest of the line is read and dropped).
    for length in [5000, 500_000] {
        let what = format!("a request line of {length} bytes");
        let allowed = request(length, ORIGIN);
        let (status, head) = refused(server.addr, &[allowed.as_bytes()], Duration::ZERO);
        assert_eq!(status, 414, "{what}: {head}");
        assert_finished_for(ORIGIN, &what, &head);
        let foreign = request(length, "https://evil.example");
        let (status, head) = refused(server.addr, &[foreign.as_bytes()], Duration::ZERO);
        assert_eq!(status, 414, "{what}: {head}");
        assert!(!head.contains("access-control-"), "{what}: {head}");
    }
}

/// The application, panicking on `/boom`.
struct Panicking(App);

impl openbb_files::Handler for Panicking {
    fn handle(&self, request: &Request) -> Response {
        assert_ne!(request.path, "/boom", "a handler bug");
        self.0.handle(request)
    }

    fn finish(&self, request: &Request, answer: Answer<'_>, exchange: &Exchange<'_>) -> Response {
        self.0.finish(request, answer, exchange)
    }
}

#[test]
fn the_500_of_a_panicking_handler_carries_the_cors_headers() {
    let fixture = prices_fixture();
    let config = test_config(&fixture.root);
    let server = openbb_files::start_with(&config, Panicking(App::new(&config))).unwrap();
    let request =
        format!("GET /boom HTTP/1.1\r\nHost: x\r\nOrigin: {ORIGIN}\r\nConnection: close\r\n\r\n");
    let (status, head) = refused(server.addr(), &[request.as_bytes()], Duration::ZERO);
    assert_eq!(status, 500, "{head}");
    for line in [
        format!("access-control-allow-origin: {ORIGIN}"),
        "vary: origin".to_string(),
    ] {
        assert!(head.contains(&line), "no {line:?} in\n{head}");
    }
    server.stop();
    server.wait().unwrap();
}
