//! Remote sources: a table widget whose file is an upstream URL on loopback, kept for the
//! widget's TTL, refetched after it, served stale (with a warning at `/`) when the upstream
//! fails, and a 502 naming the upstream when there is no copy to serve.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use openbb_files::Handler;
use openbb_files::http::{Request, Response};

use crate::support::{Fixture, TestServer};

#[derive(Clone, Default)]
struct Upstream {
    body: Arc<Mutex<String>>,
    down: Arc<AtomicBool>,
    hits: Arc<AtomicUsize>,
}

impl Handler for Upstream {
    fn handle(&self, _: &Request) -> Response {
        self.hits.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Response::error(503, "upstream down");
        }
        let body = self.body.lock().unwrap().clone();
        Response::new(
            200,
            "text/csv",
            openbb_files::http::Body::Owned(body.into_bytes()),
        )
    }
}

#[test]
fn remote_tables_are_cached_for_their_ttl_and_served_stale_when_the_upstream_fails() {
    let upstream = Upstream::default();
    *upstream.body.lock().unwrap() = "ticker,close\nAAPL,1\nMSFT,2\n".into();
    let source = TestServer::start_handler(upstream.clone());
    let fixture = Fixture::new();
    fixture.write(
        "widgets.json",
        format!(
            r#"{{"quotes": {{"name": "Quotes", "description": "d", "endpoint": "quotes",
                 "backend": {{"file": "{}", "ttl": 1}}}},
               "gone": {{"name": "Gone", "description": "d", "endpoint": "gone",
                 "backend": {{"file": "http://127.0.0.1:9/none.csv"}}}}}}"#,
            source.url("/quotes.csv")
        ),
    );
    let server = TestServer::start(fixture);
    assert_eq!(
        server.get("/quotes?ticker=MSFT").json(),
        json!([{"ticker": "MSFT", "close": 2}])
    );
    assert_eq!(server.get("/quotes").json().as_array().unwrap().len(), 2);
    assert_eq!(upstream.hits.load(Ordering::SeqCst), 1, "kept for the TTL");
    *upstream.body.lock().unwrap() = "ticker,close\nNVDA,3\n".into();
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(
        server.get("/quotes").json(),
        json!([{"ticker": "NVDA", "close": 3}])
    );
    assert_eq!(upstream.hits.load(Ordering::SeqCst), 2);
    upstream.down.store(true, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(1100));
    let stale = server.get("/quotes");
    assert_eq!(stale.status, 200, "{stale:?}");
    assert_eq!(stale.json(), json!([{"ticker": "NVDA", "close": 3}]));
    let problems = server.get("/").json()["problems"].to_string();
    assert!(
        problems.contains("/quotes.csv: warning: upstream failed")
            && problems.contains("serving the copy"),
        "{problems}"
    );
    let gone = server.get("/gone");
    assert_eq!(gone.status, 502, "{gone:?}");
    assert!(
        gone.detail()
            .contains("http://127.0.0.1:9/none.csv: upstream failed"),
        "{}",
        gone.detail()
    );
    // Back up: fresh data, and the warning goes.
    upstream.down.store(false, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(server.get("/quotes").status, 200);
    let problems = server.get("/").json()["problems"].to_string();
    assert!(!problems.contains("quotes.csv"), "{problems}");
}
