//! Path safety over real sockets: nothing outside data/ (besides the manifests) is readable.

use crate::support::{Fixture, TestServer, raw_status};

const SECRET: &str = "TOP-SECRET-CONTENT";

fn hostile_fixture() -> Fixture {
    let fixture = Fixture::new();
    fixture
        .write("secret.csv", format!("s\n{SECRET}\n"))
        .write("data/ok.csv", "a\n1\n")
        .write("data/.env.csv", format!("s\n{SECRET}\n"))
        .write("data/.hidden/inner.csv", format!("s\n{SECRET}\n"))
        .write(
            "widgets.json",
            r#"{"ok": {"name": "Ok", "description": "d", "endpoint": "ok"},
                "escape": {"name": "E", "description": "d", "endpoint": "escape"},
                "linked": {"name": "L", "description": "d", "endpoint": "linked", "backend": {"file": "link/secret.csv"}},
                "up": {"name": "U", "description": "d", "endpoint": "up", "backend": {"file": "../secret.csv"}},
                "abs": {"name": "A", "description": "d", "endpoint": "abs", "backend": {"file": "/etc/passwd"}},
                "dot": {"name": "D", "description": "d", "endpoint": "dot", "backend": {"file": ".env.csv"}},
                "dotdir": {"name": "DD", "description": "d", "endpoint": "dotdir", "backend": {"file": ".hidden/inner.csv"}},
                "sneaky": {"name": "S", "description": "d", "endpoint": "../secret"}}"#,
        );
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(fixture.path("secret.csv"), fixture.path("data/escape.csv"))
            .unwrap();
        std::os::unix::fs::symlink(&fixture.root, fixture.path("data/link")).unwrap();
    }
    fixture
}

#[test]
fn traversal_attempts_in_the_url_are_404s() {
    let server = TestServer::start(hostile_fixture());
    assert_eq!(raw_status(&server.raw_get("/ok")), 200);
    for target in [
        "/../secret.csv",
        "/../../../../etc/passwd",
        "/%2e%2e/secret.csv",
        "/%2E%2E%2Fsecret.csv",
        "/ok/..%2f..%2fsecret.csv",
        "/..%5csecret.csv",
        "/data/../secret.csv",
        "/data/ok.csv",
        "/%2Fetc%2Fpasswd",
        "//etc/passwd",
        "/.env",
        "/data/.env.csv",
        "/ok%00.csv",
        "http://localhost/../secret.csv",
        "/C:/Windows/win.ini",
        "/secret.csv",
    ] {
        let response = server.raw_get(target);
        assert_eq!(raw_status(&response), 404, "{target}: {response}");
        assert!(!response.contains(SECRET), "{target} leaked the secret");
        assert!(response.contains("\"detail\""), "{target}: {response}");
    }
}

#[test]
fn widgets_cannot_point_outside_data() {
    let server = TestServer::start(hostile_fixture());
    for path in ["/escape", "/linked", "/up", "/abs", "/dot", "/dotdir"] {
        let reply = server.get(path);
        assert_eq!(reply.status, 404, "{path}: {reply:?}");
        assert!(
            !reply.body.contains(SECRET) && !reply.body.contains("root:"),
            "{path}"
        );
    }
    let problems = server.get("/").json()["problems"].to_string();
    for left_out in ["up: backend.file", "abs: backend.file", "sneaky: endpoint"] {
        assert!(
            problems.contains(left_out),
            "{left_out} missing from {problems}"
        );
    }
    let widgets = server.get("/widgets.json").json();
    assert!(widgets.get("sneaky").is_none() && widgets.get("up").is_none());
}
