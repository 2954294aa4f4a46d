//! Files changing under load: every answer is one whole version of a file (never a mix or a
//! truncated read), a deleted file is a 404 until it returns, and a widgets.json edit never
//! fails a request.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::support::{TestServer, prices_fixture};

const READERS: usize = 4;
const LOAD: Duration = Duration::from_secs(2);

const VERSION_A: &str = "date,ticker,close,volume\n\
                         2024-01-02,AAPL,185.5,100\n\
                         2024-01-02,MSFT,370.25,200\n\
                         2024-01-03,AAPL,184.0,110\n";
const VERSION_B: &str = "date,ticker,close,volume\n\
                         2025-06-30,NVDA,157.75,9000\n\
                         2025-06-30,AMZN,219.39,4500\n\
                         2025-07-01,NVDA,153.3,8800\n\
                         2025-07-01,AMZN,220.46,4700\n\
                         2025-07-02,TSLA,315.65,12000\n";

/// Runs `READERS` threads asking for each of `paths` in turn until `stop` is set, and returns
/// every (path, status, body) seen.
fn hammer(
    server: &TestServer,
    paths: &[&str],
    stop: &AtomicBool,
    seen: &Mutex<Vec<(String, u16, String)>>,
) {
    std::thread::scope(|scope| {
        for _ in 0..READERS {
            scope.spawn(|| {
                let mut mine = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    for path in paths {
                        let reply = server.get(path);
                        mine.push((path.to_string(), reply.status, reply.body));
                    }
                }
                seen.lock().unwrap().extend(mine);
            });
        }
    });
}

/// The body served for `contents` as prices.csv, asked for when nothing else is changing.
fn served_for(server: &TestServer, contents: &str) -> String {
    server.fixture.write("data/prices.csv", contents);
    let reply = server.get("/prices");
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

#[test]
fn a_file_replaced_by_rename_and_rewritten_in_place_under_load_is_always_one_version() {
    let server = TestServer::start(prices_fixture());
    let body_a = served_for(&server, VERSION_A);
    let body_b = served_for(&server, VERSION_B);
    let stop = AtomicBool::new(false);
    let seen = Mutex::new(Vec::new());
    let mut writes = 0;
    std::thread::scope(|scope| {
        scope.spawn(|| hammer(&server, &["/prices"], &stop, &seen));
        let started = Instant::now();
        while started.elapsed() < LOAD {
            let contents = [VERSION_A, VERSION_B][writes % 2];
            if writes % 4 < 2 {
                server.fixture.write("data/prices.tmp", contents);
                std::fs::rename(
                    server.fixture.path("data/prices.tmp"),
                    server.fixture.path("data/prices.csv"),
                )
                .unwrap();
            } else {
                server.fixture.write("data/prices.csv", contents);
            }
            writes += 1;
            std::thread::sleep(Duration::from_millis(2));
        }
        stop.store(true, Ordering::SeqCst);
    });
    let seen = seen.into_inner().unwrap();
    let wrong: Vec<_> = seen
        .iter()
        .filter(|(_, status, body)| *status != 200 || (*body != body_a && *body != body_b))
        .collect();
    let (a, b) = (
        seen.iter().filter(|(_, _, body)| *body == body_a).count(),
        seen.iter().filter(|(_, _, body)| *body == body_b).count(),
    );
    assert!(
        wrong.is_empty(),
        "{} of {} answers were neither version (first: {:?})",
        wrong.len(),
        seen.len(),
        wrong.first()
    );
    assert!(
        a > 0 && b > 0,
        "{a} A and {b} B answers over {writes} writes"
    );
    eprintln!(
        "{} answers ({a} A, {b} B) over {writes} writes, none mixed",
        seen.len()
    );
}

#[test]
fn a_file_deleted_under_load_is_a_404_until_it_returns() {
    let server = TestServer::start(prices_fixture());
    let body_a = served_for(&server, VERSION_A);
    let stop = AtomicBool::new(false);
    let seen = Mutex::new(Vec::new());
    let phases = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        scope.spawn(|| hammer(&server, &["/prices"], &stop, &seen));
        std::thread::sleep(Duration::from_millis(300));
        std::fs::remove_file(server.fixture.path("data/prices.csv")).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        phases.lock().unwrap().push(server.get("/prices").status);
        server.fixture.write("data/prices.csv", VERSION_A);
        std::thread::sleep(Duration::from_millis(300));
        phases.lock().unwrap().push(server.get("/prices").status);
        stop.store(true, Ordering::SeqCst);
    });
    assert_eq!(
        *phases.lock().unwrap(),
        [404, 200],
        "while deleted, then back"
    );
    let seen = seen.into_inner().unwrap();
    let wrong: Vec<_> = seen
        .iter()
        .filter(|(_, status, body)| !(*status == 404 || (*status == 200 && *body == body_a)))
        .collect();
    assert!(
        wrong.is_empty(),
        "unexpected answers: {:?}",
        &wrong[..wrong.len().min(3)]
    );
    let not_found = seen.iter().filter(|(_, status, _)| *status == 404).count();
    assert!(not_found > 0);
    eprintln!(
        "{} answers, {not_found} of them 404 while deleted",
        seen.len()
    );
}

#[test]
fn widgets_json_rewritten_under_load_never_fails_a_request() {
    let server = TestServer::start(prices_fixture());
    let manifests = [
        r#"{"prices": {"name": "Prices", "description": "one", "endpoint": "prices"}}"#,
        r#"{"prices": {"name": "Prices", "description": "two", "endpoint": "prices"},
            "more": {"name": "More", "description": "d", "endpoint": "more",
                     "backend": {"file": "prices.csv"}}}"#,
    ];
    // The first manifest is in place before the load starts, so only the two alternate.
    server.fixture.write("widgets.json", manifests[0]);
    let first = server.get("/widgets.json").json();
    assert_eq!(first["prices"]["description"], "one");
    let stop = AtomicBool::new(false);
    let seen = Mutex::new(Vec::new());
    let mut writes = 1;
    std::thread::scope(|scope| {
        scope.spawn(|| hammer(&server, &["/widgets.json", "/prices"], &stop, &seen));
        let started = Instant::now();
        while started.elapsed() < LOAD {
            // In place (truncate, then write), the way most editors and scripts save.
            server.fixture.write("widgets.json", manifests[writes % 2]);
            writes += 1;
            std::thread::sleep(Duration::from_millis(2));
        }
        stop.store(true, Ordering::SeqCst);
    });
    let seen = seen.into_inner().unwrap();
    let failed: Vec<_> = seen
        .iter()
        .filter(|(_, status, _)| *status != 200)
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} requests failed (first: {:?})",
        failed.len(),
        seen.len(),
        failed.first()
    );
    let descriptions: std::collections::HashSet<String> = seen
        .iter()
        .filter(|(path, _, _)| path == "/widgets.json")
        .map(|(_, _, body)| {
            let json: serde_json::Value = serde_json::from_str(body).unwrap();
            json["prices"]["description"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        descriptions.len(),
        2,
        "both manifests served: {descriptions:?}"
    );
    eprintln!(
        "{} requests over {writes} rewrites of widgets.json, none failed",
        seen.len()
    );
}
