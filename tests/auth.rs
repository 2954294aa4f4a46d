//! Token checks over real sockets: where the key may travel, 401s, and preflights without it;
//! the named keys of an `--api-keys` file (any of them reads, a PDF link carries the
//! requester's own, a bad file stops the start without showing a key).

use std::process::Command;

use crate::support::{Fixture, TestServer, prices_fixture, test_config};

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

/// A server taking `--api-key main-k3y` and the named keys `alice` and `bob` of a keys file,
/// serving `prices` and a PDF widget linked by URL.
fn named_keys_server() -> TestServer {
    let fixture = prices_fixture();
    fixture
        .write(
            "widgets.json",
            r#"{"prices": {"name": "Prices", "description": "d", "endpoint": "prices"},
                "filing": {"name": "Filing", "description": "d", "type": "pdf",
                           "endpoint": "filing", "backend": {"file": "q3.pdf", "mode": "url"}}}"#,
        )
        .write("data/q3.pdf", "%PDF-1.4 q3")
        .write("keys.txt", "alice alice-k3y\nbob bob-k3y\n");
    let mut config = test_config(&fixture.root);
    config.api_key = Some("main-k3y".into());
    config.api_keys =
        openbb_files::auth::read_keys_file(&fixture.path("keys.txt"), Some("main-k3y")).unwrap();
    TestServer::start_with(fixture, config)
}

#[test]
fn every_named_key_reads_and_a_key_not_in_the_file_is_refused() {
    let server = named_keys_server();
    for key in ["alice-k3y", "bob-k3y", "main-k3y"] {
        let reply = server.request("GET", "/prices", &[("X-API-KEY", key)]);
        assert_eq!(reply.status, 200, "{key}");
        assert_eq!(
            server.get(&format!("/widgets.json?api_key={key}")).status,
            200
        );
    }
    for wrong in ["carol-k3y", "alice-k3", "alice-k3y bob-k3y", "alice"] {
        let reply = server.request("GET", "/prices", &[("X-API-KEY", wrong)]);
        assert_eq!(reply.status, 401, "{wrong}");
        assert!(!reply.detail().contains("k3y"), "{}", reply.detail());
    }
}

#[test]
fn a_pdf_link_carries_the_key_of_whoever_asked() {
    let server = named_keys_server();
    for (key, other) in [("alice-k3y", "bob-k3y"), ("bob-k3y", "alice-k3y")] {
        let reply = server.request(
            "GET",
            "/filing",
            &[("Authorization", &format!("Bearer {key}"))],
        );
        assert_eq!(
            reply.header("cache-control"),
            Some("no-store"),
            "a link with a key"
        );
        let url = reply.json()["url"].as_str().unwrap().to_string();
        assert!(
            url.ends_with(&format!("/files/q3.pdf?api_key={key}")),
            "{url}"
        );
        assert!(!url.contains(other) && !url.contains("main-k3y"), "{url}");
        let path = url.split_once(&server.addr.to_string()).unwrap().1;
        let pdf = server.get(path);
        assert_eq!((pdf.status, pdf.body.as_str()), (200, "%PDF-1.4 q3"));
    }
}

#[test]
fn a_bad_keys_file_stops_the_start_naming_the_line_but_no_key() {
    let fixture = Fixture::new();
    fixture
        .write("data/prices.csv", "ticker,price\nA,1\n")
        .write(
            "keys.txt",
            "# desk\nalice sekrit-one\nbob sekrit-two extra\n",
        )
        .write("dup.txt", "alice sekrit-one\ncarol sekrit-one\n");
    for (file, why) in [
        (
            "keys.txt",
            "line 3: expected an id, whitespace, then the key",
        ),
        ("dup.txt", "line 2: the same key as line 1"),
        ("missing.txt", "missing.txt: No such file"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_openbb-files"))
            .args([
                "--root",
                fixture.root.to_str().unwrap(),
                "--port",
                "0",
                "--api-keys",
            ])
            .arg(fixture.path(file))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert!(
            stderr.contains("--api-keys: ") && stderr.contains(why),
            "{file}: {stderr}"
        );
        assert!(!stderr.contains("sekrit"), "{file}: {stderr}");
        assert!(out.stdout.is_empty(), "{file}: nothing listens");
    }
}
