//! Token checks over real sockets: where the key may travel, 401s, and preflights without it.

use crate::support::{TestServer, prices_fixture, test_config};

fn keyed_server() -> TestServer {
    let fixture = prices_fixture();
    let mut config = test_config(&fixture.root);
    config.api_key = Some("s3cret-key".into());
    TestServer::start_with(fixture, config)
}

#[test]
fn every_route_needs_the_key() {
    let server = keyed_server();
    for path in ["/", "/widgets.json", "/apps.json", "/prices", "/nope"] {
        let reply = server.get(path);
        assert_eq!(reply.status, 401, "{path}");
        let detail = reply.detail();
        assert!(
            detail.contains("X-API-KEY") && !detail.contains("s3cret"),
            "{detail}"
        );
    }
}

#[test]
fn the_key_is_accepted_in_header_bearer_or_query() {
    let server = keyed_server();
    assert_eq!(
        server
            .request("GET", "/prices", &[("X-API-KEY", "s3cret-key")])
            .status,
        200
    );
    assert_eq!(
        server
            .request("GET", "/prices", &[("x-api-key", "s3cret-key")])
            .status,
        200
    );
    assert_eq!(
        server
            .request("GET", "/prices", &[("Authorization", "Bearer s3cret-key")])
            .status,
        200
    );
    assert_eq!(server.get("/prices?api_key=s3cret-key").status, 200);
    assert_eq!(server.get("/widgets.json?api_key=s3cret-key").status, 200);
    assert_eq!(
        server
            .request("GET", "/prices", &[("X-API-KEY", "wrong")])
            .status,
        401
    );
    assert_eq!(server.get("/prices?api_key=s3cret-ke").status, 401);
}

#[test]
fn the_key_parameter_is_not_a_filter() {
    let fixture = prices_fixture();
    fixture.write("data/prices.csv", "api_key,v\nother,1\n");
    let mut config = test_config(&fixture.root);
    config.api_key = Some("k".into());
    let server = TestServer::start_with(fixture, config);
    assert_eq!(
        server.get("/prices?api_key=k").body,
        r#"[{"api_key":"other","v":1}]"#
    );
}

#[test]
fn a_401_still_carries_cors_headers_and_preflights_need_no_key() {
    let server = keyed_server();
    let refused = server.request("GET", "/prices", &[("Origin", "https://pro.openbb.co")]);
    assert_eq!(refused.status, 401);
    assert_eq!(
        refused.header("access-control-allow-origin"),
        Some("https://pro.openbb.co")
    );
    let preflight = server.request(
        "OPTIONS",
        "/prices",
        &[
            ("Origin", "https://pro.openbb.co"),
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "x-api-key"),
        ],
    );
    assert_eq!(preflight.status, 204);
    assert_eq!(
        preflight.header("access-control-allow-headers"),
        Some("x-api-key")
    );
}

#[test]
fn custom_header_and_query_names() {
    let fixture = prices_fixture();
    let mut config = test_config(&fixture.root);
    config.api_key = Some("k".into());
    config.auth_header = "X-Token".into();
    config.auth_query = "token".into();
    let server = TestServer::start_with(fixture, config);
    assert_eq!(server.request("GET", "/", &[("X-Token", "k")]).status, 200);
    assert_eq!(server.get("/?token=k").status, 200);
    assert_eq!(
        server.request("GET", "/", &[("X-API-KEY", "k")]).status,
        401
    );
    assert!(server.get("/").detail().contains("X-TOKEN"));
}
