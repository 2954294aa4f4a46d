//! Hot reload: edits to data files and manifests are seen on the next request; a broken
//! widgets.json leaves the last good one serving and the problem is reported. Asked in
//! process (`InProcess`): the manifests and files are checked on each request, not by a thread.

use serde_json::json;

use crate::support::{InProcess, prices_fixture};

#[test]
fn data_file_edits_are_seen_on_the_next_request() {
    let server = InProcess::new(prices_fixture());
    assert_eq!(server.get("/prices").json().as_array().unwrap().len(), 5);
    server
        .fixture
        .write("data/prices.csv", "date,ticker\n2025-01-01,TSLA\n");
    assert_eq!(
        server.get("/prices").json(),
        json!([{"date": "2025-01-01", "ticker": "TSLA"}])
    );
    // Replaced by rename, as editors and export scripts do.
    server
        .fixture
        .write("data/prices.tmp", "date,ticker\n2025-01-02,AMZN\n");
    std::fs::rename(
        server.fixture.path("data/prices.tmp"),
        server.fixture.path("data/prices.csv"),
    )
    .unwrap();
    assert_eq!(
        server.get("/prices").json(),
        json!([{"date": "2025-01-02", "ticker": "AMZN"}])
    );
    std::fs::remove_file(server.fixture.path("data/prices.csv")).unwrap();
    assert_eq!(server.get("/prices").status, 404);
}

#[test]
fn widgets_json_edits_are_seen_and_broken_edits_keep_the_last_good_one() {
    let server = InProcess::new(prices_fixture());
    server.fixture.write(
        "widgets.json",
        r#"{"quotes": {"name": "Q", "description": "d", "endpoint": "quotes", "backend": {"file": "prices.csv"}}}"#,
    );
    assert_eq!(server.get("/quotes").status, 200, "a new widget appears");
    assert_eq!(
        server.get("/prices").status,
        404,
        "a removed widget is gone"
    );
    let good = server.get("/widgets.json").body;

    server
        .fixture
        .write("widgets.json", "{\n  \"quotes\": {\"name\": ");
    let served = server.get("/widgets.json");
    assert_eq!(served.status, 200);
    assert_eq!(served.body, good, "the last good manifest keeps serving");
    assert_eq!(server.get("/quotes").status, 200);
    let problems = server.get("/").json()["problems"].to_string();
    assert!(problems.contains("widgets.json: line 2"), "{problems}");

    server.fixture.write(
        "widgets.json",
        r#"{"prices": {"name": "P", "description": "d", "endpoint": "prices"}}"#,
    );
    assert_eq!(server.get("/prices").status, 200);
    assert_eq!(server.get("/").json()["problems"], json!([]));
}

#[test]
fn apps_json_edits_are_seen_and_broken_edits_keep_the_last_good_one() {
    let server = InProcess::new(prices_fixture());
    server
        .fixture
        .write("apps.json", r#"[{"name": "One", "tabs": {}}]"#);
    assert_eq!(
        server.get("/apps.json").json(),
        json!([{"name": "One", "tabs": {}}])
    );
    server.fixture.write("apps.json", r#"[{"name": "#);
    assert_eq!(
        server.get("/apps.json").json(),
        json!([{"name": "One", "tabs": {}}])
    );
    assert!(
        server.get("/").json()["problems"]
            .to_string()
            .contains("apps.json")
    );
    std::fs::remove_file(server.fixture.path("apps.json")).unwrap();
    assert_eq!(server.get("/apps.json").body, "[]");
}
