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

/// What the upstream was asked for: the raw path and the decoded query.
type Asked = (String, Vec<(String, String)>);

/// The upstream that records what the server asked it for.
#[derive(Clone, Default)]
struct Recorder {
    asked: Arc<Mutex<Vec<Asked>>>,
}

impl Handler for Recorder {
    fn handle(&self, request: &Request) -> Response {
        let asked = (request.path.clone(), request.query.clone());
        self.asked.lock().unwrap().push(asked);
        Response::new(
            200,
            "text/csv",
            openbb_files::http::Body::Owned(b"ticker,close\nX,1\n".to_vec()),
        )
    }
}

/// A value meant to add upstream parameters (`&admin=1`) and cut off the rest of the URL (`#`,
/// which would drop the key) reaches the upstream as one value, in the query and in a path
/// segment alike; `..` cannot climb the upstream's path.
#[test]
fn placeholder_values_reach_the_upstream_as_one_encoded_value() {
    let recorder = Recorder::default();
    let source = TestServer::start_handler(recorder.clone());
    let fixture = Fixture::new();
    fixture.write(
        "widgets.json",
        format!(
            r#"{{"by_query": {{"name": "Q", "description": "d", "endpoint": "by_query",
                 "params": [{{"paramName": "ticker"}}],
                 "backend": {{"file": "{0}?symbol={{ticker}}&key=SECRET"}}}},
               "by_path": {{"name": "P", "description": "d", "endpoint": "by_path",
                 "params": [{{"paramName": "ticker"}}],
                 "backend": {{"file": "{0}/{{ticker}}.csv?key=SECRET"}}}}}}"#,
            source.url("/quotes")
        ),
    );
    let server = TestServer::start(fixture);
    let attack = "AAPL%26admin%3D1%23";
    assert_eq!(
        server.get(&format!("/by_query?ticker={attack}")).status,
        200
    );
    assert_eq!(server.get(&format!("/by_path?ticker={attack}")).status, 200);
    let asked = recorder.asked.lock().unwrap().clone();
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(
        asked,
        [
            (
                "/quotes".to_string(),
                pairs(&[("symbol", "AAPL&admin=1#"), ("key", "SECRET")])
            ),
            (
                "/quotes/AAPL%26admin%3D1%23.csv".to_string(),
                pairs(&[("key", "SECRET")])
            ),
        ]
    );
    let climb = server.get("/by_path?ticker=..");
    assert_eq!(climb.status, 400, "{climb:?}");
    assert!(climb.detail().contains("not a path segment"), "{climb:?}");
    assert_eq!(recorder.asked.lock().unwrap().len(), 2, "never fetched");
}

/// A placeholder in the scheme's part (host, port, user info) or the fragment would let a
/// request choose the upstream: the widget is left out at load and listed at `/`.
#[test]
fn placeholders_outside_the_path_and_query_leave_the_widget_out() {
    let fixture = Fixture::new();
    fixture.write(
        "widgets.json",
        r#"{"host": {"name": "H", "description": "d", "endpoint": "host",
                     "params": [{"paramName": "host"}], "backend": {"file": "http://{host}/q.csv"}},
            "port": {"name": "P", "description": "d", "endpoint": "port",
                     "params": [{"paramName": "port"}], "backend": {"file": "http://127.0.0.1:{port}/q.csv"}},
            "user": {"name": "U", "description": "d", "endpoint": "user",
                     "params": [{"paramName": "user"}], "backend": {"file": "https://{user}@example.com/q.csv"}},
            "fragment": {"name": "F", "description": "d", "endpoint": "fragment",
                     "params": [{"paramName": "part"}], "backend": {"file": "https://example.com/q.csv#{part}"}},
            "fine": {"name": "OK", "description": "d", "endpoint": "fine",
                     "params": [{"paramName": "t"}], "backend": {"file": "http://example.com/{t}/q.csv?s={t}"}}}"#,
    );
    let server = TestServer::start(fixture);
    let manifest = server.get("/widgets.json").json();
    let served: Vec<&String> = manifest.as_object().unwrap().keys().collect();
    assert_eq!(served, ["fine"]);
    let problems = server.get("/").json()["problems"].to_string();
    for id in ["host", "port", "user", "fragment"] {
        assert!(
            problems.contains(&format!("{id}: backend.file")),
            "{id}: {problems}"
        );
    }
    assert!(
        problems.contains("not in the user info, host or port"),
        "{problems}"
    );
    assert!(problems.contains("not in the fragment"), "{problems}");
    assert_eq!(server.get("/host?host=evil.example").status, 404);
}
