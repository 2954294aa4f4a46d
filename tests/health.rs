//! Issue 17, running it as a service: `/health` for probes (200 without a key, nothing else
//! revealed; 503 until a `widgets.json` has parsed once), `openbb-files health` (the probe a
//! distroless container runs), `--version` naming the features built in, and a bad
//! environment variable named as itself.

use std::net::TcpListener;
use std::process::{Command, Output};

use openbb_files::build_info;

use crate::support::{Fixture, TestServer, prices_fixture, raw_status, test_config};

const BIN: &str = env!("CARGO_BIN_EXE_openbb-files");
const OK: &str = r#"{"status":"ok"}"#;

#[test]
fn health_answers_without_a_key_and_says_nothing_else() {
    let fixture = prices_fixture();
    let config = openbb_files::Config {
        api_key: Some("s3cret-key".into()),
        ..test_config(&fixture.root)
    };
    let server = TestServer::start_with(fixture, config);
    assert_eq!(server.get("/").status, 401, "the rest still needs the key");
    let health = server.get("/health?verbose=1");
    assert_eq!((health.status, health.body.as_str()), (200, OK));
    assert_eq!(health.header("cache-control"), Some("no-store"));
    let head = server.raw(b"HEAD /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    assert_eq!(raw_status(&head), 200, "{head}");
    assert!(head.ends_with("\r\n\r\n"), "HEAD has no body: {head}");
    let post = server.request("POST", "/health", &[]);
    assert_eq!(
        (post.status, post.header("allow")),
        (405, Some("GET, HEAD, OPTIONS"))
    );
    // The Host check still comes first (DNS rebinding), and only the exact path is open.
    let rebound =
        server.raw(b"GET /health HTTP/1.1\r\nHost: rebind.example\r\nConnection: close\r\n\r\n");
    assert_eq!(raw_status(&rebound), 421, "{rebound}");
    assert_eq!(server.get("/health/").status, 401);
    assert_eq!(server.get("/health.json").status, 401);
}

#[test]
fn health_is_503_until_widgets_json_has_parsed_once() {
    let fixture = Fixture::new();
    fixture.write("widgets.json", "{ not json");
    let server = TestServer::start(fixture);
    let unavailable = server.get("/health");
    assert_eq!(unavailable.status, 503, "{unavailable:?}");
    assert_eq!(unavailable.json()["status"], "unavailable");
    assert!(
        !unavailable.body.contains("not json") && !unavailable.body.contains("line"),
        "the parse error stays in the log and at /: {}",
        unavailable.body
    );
    let widgets = r#"{"w": {"name": "W", "description": "d", "endpoint": "w"}}"#;
    server.fixture.write("widgets.json", widgets);
    assert_eq!(server.get("/health").body, OK);
    // Once loaded, a broken edit keeps the last good manifest serving: still healthy.
    server
        .fixture
        .write("widgets.json", "{ broken again, and longer }");
    assert_eq!(server.get("/health").status, 200);
    assert_eq!(server.get("/widgets.json").json()["w"]["name"], "W");
}

#[test]
fn health_is_200_for_a_generated_manifest() {
    let fixture = Fixture::new();
    fixture.write("data/prices.csv", "date,close\n2024-01-02,1\n");
    let server = TestServer::start(fixture);
    assert_eq!(server.get("/health").body, OK);
}

fn health_command(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BIN);
    command.arg("health").args(args);
    for variable in ["OPENBB_FILES_URL", "OPENBB_FILES_HOST", "OPENBB_FILES_PORT"] {
        command.env_remove(variable);
    }
    command.envs(env.iter().copied()).output().unwrap()
}

#[test]
fn the_health_command_exits_0_only_for_a_healthy_server() {
    let server = TestServer::start(prices_fixture());
    let port = server.addr.port().to_string();
    let healthy = health_command(&["--url", &server.url("")], &[]);
    assert_eq!(healthy.status.code(), Some(0), "{healthy:?}");
    assert!(String::from_utf8_lossy(&healthy.stdout).contains("/health: 200 ok"));
    // In a container the server's own variables say where it listens.
    let from_env = health_command(
        &[],
        &[
            ("OPENBB_FILES_HOST", "0.0.0.0"),
            ("OPENBB_FILES_PORT", &port),
        ],
    );
    assert_eq!(from_env.status.code(), Some(0), "{from_env:?}");

    let broken = Fixture::new();
    broken.write("widgets.json", "[");
    let unhealthy = TestServer::start(broken);
    let out = health_command(&["--url", &unhealthy.url("")], &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("503"),
        "{out:?}"
    );

    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port().to_string();
    drop(closed);
    let refused = health_command(&["--port", &closed_port], &[]);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no answer"));

    let usage = health_command(&["--port", "tcp://10.0.0.1:80"], &[]);
    assert_eq!(usage.status.code(), Some(2), "{usage:?}");
    let help = health_command(&["--help"], &[]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("Usage: openbb-files health"));
}

#[test]
fn version_names_the_features_built_in() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(out.status.success());
    let line = String::from_utf8(out.stdout).unwrap();
    assert_eq!(line, format!("{}\n", build_info::version_line()));
    let built: Vec<&str> = [
        ("tls", cfg!(feature = "tls")),
        ("https-client", cfg!(feature = "https-client")),
        ("zstd", cfg!(feature = "zstd")),
    ]
    .iter()
    .filter(|(_, on)| *on)
    .map(|(name, _)| *name)
    .collect();
    let expected = match built.is_empty() {
        true => "none".to_string(),
        false => built.join(", "),
    };
    assert_eq!(
        line.trim_end(),
        format!(
            "openbb-files {} (features: {expected})",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn a_bad_variable_is_named_as_the_variable() {
    let fixture = Fixture::new();
    let out = Command::new(BIN)
        .args(["--root", fixture.root.to_str().unwrap()])
        .env("OPENBB_FILES_PORT", "tcp://10.0.0.1:80")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("OPENBB_FILES_PORT: 'tcp://10.0.0.1:80' is not a port number")
            && !stderr.contains("--port:"),
        "{stderr}"
    );
}
