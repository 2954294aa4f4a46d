//! CORS over real sockets: allowed and foreign origins, preflights on every path, the wildcard.

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
