//! Seeing what the server does (issue 17): `/metrics` in Prometheus' format behind the key
//! (Bearer included), the status page a browser gets at `/` (escaped, under a strict CSP), the
//! background check that finds data problems and reloads before any request, request ids on
//! every answer, and access lines with time, client (a trusted proxy's client) and request id,
//! every line in `--log-format`.

use std::io::{BufRead, BufReader};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openbb_files::app::App;
use openbb_files::http::{Method, Request, Response};
use openbb_files::status_page::CONTENT_SECURITY_POLICY;

use crate::process::Running;
use crate::support::{Fixture, TestServer, prices_fixture, raw_status, test_config};

const CHROMIUM_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,\
                               image/avif,image/webp,image/apng,*/*;q=0.8";

fn get(app: &App, target: &str, headers: &[(&str, &str)]) -> Response {
    let headers = headers
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    app.handle(&Request::new(Method::Get, target, headers))
}

fn text(response: &Response) -> String {
    String::from_utf8(response.body.as_ref().to_vec()).unwrap()
}

/// The value of the sample `name{labels}` in a metrics page (`name` alone when unlabelled).
fn sample(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.parse().unwrap())
}

#[test]
fn metrics_count_requests_by_route_and_status_and_the_caches() {
    let fixture = prices_fixture();
    let app = App::new(&test_config(&fixture.root));
    assert_eq!(get(&app, "/prices?ticker=MSFT", &[]).status, 200);
    assert_eq!(get(&app, "/prices?ticker=MSFT", &[]).status, 200);
    assert_eq!(get(&app, "/nope", &[]).status, 404);
    assert_eq!(get(&app, "/widgets.json", &[]).status, 200);
    let metrics = get(&app, "/metrics", &[]);
    assert_eq!(metrics.status, 200);
    assert_eq!(
        metrics.header("Content-Type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let page = text(&metrics);
    let value = |series: &str| sample(&page, series).unwrap_or_else(|| panic!("{series}\n{page}"));
    assert_eq!(
        value("openbb_files_requests_total{route=\"widget\",status=\"200\"}"),
        2.0
    );
    assert_eq!(
        value("openbb_files_requests_total{route=\"other\",status=\"404\"}"),
        1.0
    );
    assert_eq!(
        value("openbb_files_requests_total{route=\"manifest\",status=\"200\"}"),
        1.0
    );
    assert_eq!(value("openbb_files_request_duration_seconds_count"), 4.0);
    assert_eq!(
        value("openbb_files_request_duration_seconds_bucket{le=\"+Inf\"}"),
        4.0
    );
    assert!(value("openbb_files_response_bytes_total") > 100.0, "{page}");
    // The second identical request was answered from the cache of rendered answers.
    assert_eq!(
        value("openbb_files_cache_hits_total{cache=\"responses\"}"),
        1.0
    );
    assert_eq!(
        value("openbb_files_cache_misses_total{cache=\"responses\"}"),
        1.0
    );
    assert!(value("openbb_files_cache_bytes{cache=\"responses\"}") > 0.0);
    assert!(
        value("openbb_files_cache_bytes{cache=\"tables\"}") > 0.0,
        "the parsed table is counted too"
    );
    assert_eq!(value("openbb_files_live_subscribers"), 0.0);
    assert_eq!(value("openbb_files_remote_fetch_failures_total"), 0.0);
    assert_eq!(value("openbb_files_problems{severity=\"error\"}"), 0.0);
    // Every sample belongs to a family announced with its type.
    for line in page.lines().filter(|l| !l.starts_with('#')) {
        let name = line.split(['{', ' ']).next().unwrap();
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .filter(|base| page.contains(&format!("# TYPE {base} histogram")))
            .unwrap_or(name);
        assert!(
            page.contains(&format!("# TYPE {family} ")),
            "{line} has no TYPE"
        );
    }
}

#[test]
fn metrics_show_the_problems_and_failed_remote_fetches() {
    let fixture = Fixture::new();
    fixture.write(
        "widgets.json",
        r#"{"gone": {"name": "Gone", "description": "d", "endpoint": "gone"},
            "far": {"name": "Far", "description": "d", "endpoint": "far",
                    "backend": {"file": "http://127.0.0.1:9/nothing.csv"}}}"#,
    );
    let app = App::new(&test_config(&fixture.root));
    assert_eq!(get(&app, "/far", &[]).status, 502);
    let page = text(&get(&app, "/metrics", &[]));
    assert_eq!(
        sample(&page, "openbb_files_remote_fetch_failures_total"),
        Some(1.0)
    );
    // The remote source failed (an error); gone.csv does not exist yet (a warning).
    assert_eq!(
        sample(&page, "openbb_files_problems{severity=\"error\"}"),
        Some(1.0),
        "{page}"
    );
    assert_eq!(
        sample(&page, "openbb_files_problems{severity=\"warning\"}"),
        Some(1.0),
        "{page}"
    );
}

#[test]
fn metrics_are_behind_the_key_and_a_scraper_may_send_it_as_bearer() {
    let fixture = prices_fixture();
    let config = openbb_files::Config {
        api_key: Some("scrape-key".into()),
        ..test_config(&fixture.root)
    };
    let app = App::new(&config);
    assert_eq!(get(&app, "/metrics", &[]).status, 401);
    let wrong = get(&app, "/metrics", &[("Authorization", "Bearer nope")]);
    assert_eq!(wrong.status, 401);
    assert!(!text(&wrong).contains("scrape-key"));
    for headers in [
        &[("Authorization", "Bearer scrape-key")][..],
        &[("authorization", "bearer scrape-key")],
        &[("X-API-KEY", "scrape-key")],
    ] {
        assert_eq!(get(&app, "/metrics", headers).status, 200, "{headers:?}");
    }
    assert_eq!(get(&app, "/metrics?api_key=scrape-key", &[]).status, 200);
}

#[test]
fn bearer_works_over_the_wire_for_metrics_and_widgets() {
    let fixture = prices_fixture();
    let config = openbb_files::Config {
        api_key: Some("wire-key".into()),
        ..test_config(&fixture.root)
    };
    let server = TestServer::start_with(fixture, config);
    assert_eq!(server.get("/metrics").status, 401);
    let bearer = [("Authorization", "Bearer wire-key")];
    let metrics = server.request("GET", "/metrics", &bearer);
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .body
            .contains("# TYPE openbb_files_requests_total counter")
    );
    assert_eq!(server.request("GET", "/prices", &bearer).status, 200);
}

#[test]
fn a_browser_gets_the_status_page_and_everything_else_json() {
    let fixture = prices_fixture();
    let app = App::new(&test_config(&fixture.root));
    let page = get(
        &app,
        "/",
        &[("Accept", CHROMIUM_ACCEPT), ("Host", "localhost:7779")],
    );
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        page.header("Content-Security-Policy"),
        Some(CONTENT_SECURITY_POLICY)
    );
    assert_eq!(page.header("Cache-Control"), Some("no-store"));
    let html = text(&page);
    let version = env!("CARGO_PKG_VERSION");
    for shown in [
        format!("<h1 id=\"name\">openbb-files {version}</h1>"),
        "<code>http://localhost:7779</code>".to_string(),
        "<dd id=\"key\">not required</dd>".to_string(),
        "https://pro.openbb.co".to_string(),
        "<td>Prices</td><td>table</td><td><code>prices</code></td><td>not requested yet</td>"
            .to_string(),
        "<p id=\"problems\">None.</p>".to_string(),
    ] {
        assert!(html.contains(&shown), "no {shown} in\n{html}");
    }
    assert!(!html.contains("<script"), "{html}");
    for accept in [
        None,
        Some("*/*"),
        Some("application/json"),
        Some("application/json, text/html"),
    ] {
        let headers: Vec<(&str, &str)> = accept.iter().map(|a| ("Accept", *a)).collect();
        let answer = get(&app, "/", &headers);
        assert_eq!(
            answer.header("Content-Type"),
            Some("application/json"),
            "{accept:?}"
        );
        assert_eq!(answer.header("Cache-Control"), Some("no-store"));
        let status: serde_json::Value = serde_json::from_slice(answer.body.as_ref()).unwrap();
        assert_eq!(status["name"], "openbb-files");
    }
}

#[test]
fn the_status_page_escapes_what_files_say_and_shows_each_widgets_last_answer() {
    let fixture = Fixture::new();
    fixture.write("data/ok.csv", "a,b\n1,2\n").write(
        "widgets.json",
        r#"{"ok": {"name": "<script>alert(1)</script>", "description": "d", "endpoint": "ok"},
                "gone": {"name": "Gone <b>", "description": "d", "endpoint": "gone",
                         "backend": {"file": "<img src=x onerror=alert(1)>.csv"}}}"#,
    );
    let config = openbb_files::Config {
        api_key: Some("k".into()),
        ..test_config(&fixture.root)
    };
    let app = App::new(&config);
    let key = [("X-API-KEY", "k")];
    assert_eq!(get(&app, "/ok", &key).status, 200);
    assert_eq!(get(&app, "/gone", &key).status, 404);
    let html = text(&get(&app, "/?api_key=k", &[("Accept", "text/html")]));
    assert!(!html.contains("<script") && !html.contains("<img") && !html.contains("<b>"));
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(html.contains("<dd id=\"key\">required</dd>"), "{html}");
    let row = |name: &str| {
        html.lines()
            .find(|line| line.starts_with(&format!("<tr><td>{name}")))
            .unwrap_or_else(|| panic!("no row {name} in\n{html}"))
            .to_string()
    };
    assert!(row("&lt;script&gt;").contains("<td>200 at 20"), "{html}");
    assert!(row("Gone &lt;b&gt;").contains("<td>404 at 20"), "{html}");
    assert!(
        html.contains("<li>warning: gone: ") && html.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{html}"
    );
}

#[test]
fn the_background_check_finds_a_broken_data_file_before_anyone_requests_it() {
    let fixture = prices_fixture();
    let app = App::new(&test_config(&fixture.root));
    let problems = |app: &App| {
        let status = text(&get(app, "/", &[]));
        let status: serde_json::Value = serde_json::from_str(&status).unwrap();
        status["problems"].to_string()
    };
    app.watch();
    assert_eq!(problems(&app), "[]");
    // A row too long on line 3: the header is fine, so only reading the file finds it.
    fixture.write(
        "data/prices.csv",
        "date,ticker,close,volume\n2024-01-02,AAPL,185.5,100\n2024-01-03,MSFT,1,2,3\n",
    );
    assert_eq!(problems(&app), "[]", "found without the check");
    let pause = app.watch();
    assert!(pause >= openbb_files::app::WATCH_PAUSE);
    let found = problems(&app);
    assert!(
        found.contains("prices.csv") && found.contains("line 3"),
        "{found}"
    );
    // Mended: the next check clears it, still without a request.
    fixture.write(
        "data/prices.csv",
        "date,ticker,close,volume\n2024-01-02,AAPL,185.5,100\n",
    );
    app.watch();
    assert_eq!(problems(&app), "[]");
}

#[test]
fn every_answer_carries_a_request_id_the_clients_when_plain() {
    let server = TestServer::start(prices_fixture());
    let plain = server.request("GET", "/prices", &[("X-Request-Id", "edge-7f3a:01")]);
    assert_eq!(plain.header("x-request-id"), Some("edge-7f3a:01"));
    let first = server.get("/nope");
    let second = server.get("/nope");
    let (first, second) = (first.header("x-request-id"), second.header("x-request-id"));
    assert!(first.is_some() && first != second, "{first:?} {second:?}");
    let long = "x".repeat(65);
    for refused in ["has space", "<b>", long.as_str()] {
        let reply = server.request("GET", "/prices", &[("X-Request-Id", refused)]);
        let id = reply.header("x-request-id").unwrap();
        assert_ne!(id, refused);
        assert!(
            id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
            "{id}"
        );
    }
    // A request the HTTP layer refuses (headers too large) gets one too.
    let huge = format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    let refused = server.raw(huge.as_bytes());
    assert_eq!(raw_status(&refused), 431);
    assert!(refused.contains("\r\nX-Request-Id: "), "{refused}");
}

/// The binary serving `fixture`, its stderr lines collected as they come.
struct Logging {
    server: Running,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Logging {
    fn start(fixture: &Fixture, extra: &[&str]) -> Logging {
        let mut server = Running::start(fixture, extra);
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = BufReader::new(server.take_stderr());
        let collected = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                collected.lock().unwrap().push(line);
            }
        });
        Logging { server, lines }
    }

    fn get(&self, path: &str, headers: &[(&str, &str)]) -> ureq::http::Response<ureq::Body> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let mut request = agent.get(format!("http://127.0.0.1:{}{path}", self.server.port));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.call().unwrap()
    }

    /// Waits (at most 8 s) for a line holding `text`.
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(8);
        loop {
            if let Some(line) = self.lines.lock().unwrap().iter().find(|l| l.contains(text)) {
                return line.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no line with {text:?} in\n{}",
                self.lines.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

#[test]
fn access_lines_carry_time_client_and_request_id_and_believe_only_trusted_proxies() {
    let fixture = prices_fixture();
    let forwarded = [("X-Forwarded-For", "198.51.100.1, 203.0.113.9")];
    let direct = Logging::start(&fixture, &[]);
    let reply = direct.get("/prices?ticker=AAPL", &forwarded);
    let id = reply.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let line = direct.wait_for(&format!(" {id} GET /prices?ticker=AAPL 200 "));
    // TIME CLIENT REQUEST-ID METHOD PATH STATUS BYTES MICROSECONDSus
    let fields: Vec<&str> = line.split(' ').collect();
    assert_eq!(fields.len(), 8, "{line}");
    let time = fields[0].as_bytes();
    assert_eq!(time.len(), "2024-03-01T00:00:00.250Z".len(), "{line}");
    assert!(
        time[4] == b'-' && time[10] == b'T' && time[19] == b'.' && time[23] == b'Z',
        "{line}"
    );
    assert_eq!(
        fields[1], "127.0.0.1",
        "an untrusted peer's X-Forwarded-For is ignored"
    );
    let proxied = Logging::start(&fixture, &["--trust-proxy", "127.0.0.0/8"]);
    proxied.get("/prices", &forwarded);
    let line = proxied.wait_for(" GET /prices 200 ");
    assert_eq!(line.split(' ').nth(1), Some("203.0.113.9"), "{line}");
}

#[test]
fn in_json_every_line_is_json_and_reloads_and_data_problems_are_logged_as_they_happen() {
    let fixture = prices_fixture();
    let server = Logging::start(
        &fixture,
        &["--log-format", "json", "--trust-proxy", "127.0.0.1"],
    );
    server.wait_for("Workspace: Add data");
    server.get("/widgets.json", &[("X-Forwarded-For", "203.0.113.9")]);
    let access = server.wait_for("\"path\":\"/widgets.json\"");
    let access: serde_json::Value = serde_json::from_str(&access).unwrap();
    assert_eq!(access["client"], "203.0.113.9");
    assert_eq!(access["peer"], "127.0.0.1");
    assert!(
        access["request_id"].is_string() && access["time"].is_string(),
        "{access}"
    );
    // No request follows: the background check sees the edits.
    fixture.write(
        "widgets.json",
        r#"{"prices": {"name": "Prices", "description": "d", "endpoint": "prices"}}"#,
    );
    server.wait_for("reloaded widgets.json: 1 widgets served, 0 left out");
    fixture.write(
        "data/prices.csv",
        "date,ticker,close\n2024-01-02,AAPL,1,2\n",
    );
    let problem = server.wait_for("this row has 4 fields but the header has 3");
    let problem: serde_json::Value = serde_json::from_str(&problem).unwrap();
    assert_eq!(problem["level"], "error");
    fixture.write("apps.json", "[]");
    server.wait_for("reloaded apps.json");
    for line in server.lines() {
        let parsed: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|err| panic!("{err}: {line}"));
        assert!(parsed["time"].is_string(), "{line}");
    }
    let banner = server
        .lines()
        .into_iter()
        .find(|l| l.contains("Workspace: Add data"));
    assert!(banner.is_some_and(|l| l.contains("\"level\":\"info\"")));
}
