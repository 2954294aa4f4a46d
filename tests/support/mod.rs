//! The test server: a unique fixture folder, the server started in-process on port 0, a ureq
//! agent bounded in time, and a raw-socket helper for exact protocol checks; and the app without
//! sockets ([`InProcess`]) for what is not about the wire.

#![allow(dead_code)] // each test module uses a different part of this

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use openbb_files::app::App;
use openbb_files::check;
use openbb_files::finish::{Answer, Exchange};
use openbb_files::http::{Request, Response};
use openbb_files::live::Limits;
use openbb_files::{Config, Handler, ServerHandle};

mod in_process;
pub use in_process::InProcess;

pub const TIMEOUT: Duration = Duration::from_secs(10);

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty folder under the system temp dir, removed by [`Fixture`]'s `Drop`.
pub struct Fixture {
    pub root: PathBuf,
}

impl Fixture {
    pub fn new() -> Fixture {
        let root = std::env::temp_dir().join(format!(
            "openbb-files-test-{}-{}",
            std::process::id(),
            NEXT_DIR.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("data")).unwrap();
        Fixture { root }
    }

    /// Writes `contents` at `relative` (under the root), creating folders.
    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> &Fixture {
        let path = self.root.join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
        self
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

pub struct TestServer {
    pub fixture: Fixture,
    handle: Option<ServerHandle>,
    pub addr: SocketAddr,
    agent: ureq::Agent,
}

/// A response read in full, with header names lower-cased.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl From<ureq::http::Response<ureq::Body>> for Reply {
    fn from(mut response: ureq::http::Response<ureq::Body>) -> Reply {
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        Reply {
            status: response.status().as_u16(),
            headers,
            body,
        }
    }
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|err| panic!("body is not JSON ({err}): {self:?}"))
    }

    /// The `detail` of a JSON error body.
    pub fn detail(&self) -> String {
        self.json()["detail"]
            .as_str()
            .unwrap_or_else(|| panic!("no detail in {self:?}"))
            .to_string()
    }

    pub fn has_cors(&self) -> bool {
        self.headers
            .iter()
            .any(|(name, _)| name.to_ascii_lowercase().starts_with("access-control-"))
    }
}

/// `request` answered in process as the server would answer it, without a socket:
/// `App::handle`, then finished by `App::finish` (CORS, `Date`, ...).
pub fn answer(app: &App, request: &Request) -> Response {
    let exchange = Exchange {
        id: "in-process",
        http_1_0: false,
    };
    app.finish(request, Answer::Handled(app.handle(request)), &exchange)
}

/// `openbb-files check --root` over `fixture`'s folder, as a user runs it: its exit status and
/// what it printed.
pub fn check_folder(fixture: &Fixture) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_openbb-files"))
        .args(["check", "--root"])
        .arg(&fixture.root)
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

/// `check`'s options for `root` (and, with `url`, the server to replay Workspace's calls to),
/// the other flags at their defaults: no key, `X-API-KEY`, Workspace's origin.
pub fn check_options(root: impl Into<PathBuf>, url: Option<String>) -> check::Options {
    check::Options {
        root: root.into(),
        url,
        api_key: None,
        auth_header: "X-API-KEY".into(),
        origin: "https://pro.openbb.co".into(),
    }
}

/// Runs `check` with `options`: whether it passed, and what it printed.
pub fn run_check(options: &check::Options) -> (bool, String) {
    let mut out = Vec::new();
    let passed = check::run(options, &mut out);
    (passed, String::from_utf8(out).unwrap())
}

pub fn test_config(root: &Path) -> Config {
    Config {
        root: root.to_path_buf(),
        port: 0,
        threads: 4,
        access_log: false,
        ..Config::default()
    }
}

impl TestServer {
    /// Serves `fixture` with the default settings.
    pub fn start(fixture: Fixture) -> TestServer {
        let config = test_config(&fixture.root);
        TestServer::start_with(fixture, config)
    }

    pub fn start_with(fixture: Fixture, config: Config) -> TestServer {
        let handle = openbb_files::start(&config).expect("server starts");
        TestServer::wrap(fixture, handle)
    }

    /// Serves `fixture` with `config`, its live_grid sockets bounded by `limits`.
    pub fn start_live(fixture: Fixture, config: Config, limits: Limits) -> TestServer {
        let app = App::with_live_limits(&config, limits);
        let handle = openbb_files::start_with(&config, app).expect("server starts");
        TestServer::wrap(fixture, handle)
    }

    /// Serves `handler` instead of the application (for panics and slow requests).
    pub fn start_handler(handler: impl Handler) -> TestServer {
        TestServer::start_handler_with(handler, |_| {})
    }

    /// Serves `handler` with the test settings changed by `adjust`.
    pub fn start_handler_with(
        handler: impl Handler,
        adjust: impl FnOnce(&mut Config),
    ) -> TestServer {
        let fixture = Fixture::new();
        let mut config = test_config(&fixture.root);
        adjust(&mut config);
        let handle = openbb_files::start_with(&config, handler).expect("server starts");
        TestServer::wrap(fixture, handle)
    }

    fn wrap(fixture: Fixture, handle: ServerHandle) -> TestServer {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(TIMEOUT))
            .max_redirects(0)
            .build()
            .into();
        TestServer {
            addr: handle.addr(),
            fixture,
            handle: Some(handle),
            agent,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[])
    }

    /// Any method, with extra headers, over ureq.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(self.url(path));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(()).unwrap();
        let response = self
            .agent
            .run(request)
            .unwrap_or_else(|err| panic!("{method} {path} failed: {err}"));
        Reply::from(response)
    }

    /// A POST with a JSON content type and `body` sent as it is (so it may be broken JSON).
    pub fn post(&self, path: &str, body: &str) -> Reply {
        let response = self
            .agent
            .post(self.url(path))
            .header("Content-Type", "application/json")
            .send(body)
            .unwrap_or_else(|err| panic!("POST {path} failed: {err}"));
        Reply::from(response)
    }

    /// Sends raw bytes on a new connection and returns everything the server sends back until it
    /// closes the connection (requests should carry `Connection: close`) or the timeout passes.
    pub fn raw(&self, bytes: &[u8]) -> String {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(TIMEOUT)).unwrap();
        stream.write_all(bytes).unwrap();
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// A GET with an exact request target, for paths a client library would clean up.
    pub fn raw_get(&self, target: &str) -> String {
        self.raw(
            format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
    }

    pub fn stop(mut self) -> Result<(), String> {
        let handle = self.handle.take().unwrap();
        handle.stop();
        handle.wait()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.stop();
            let _ = handle.wait();
        }
    }
}

/// The status code on the first line of a raw response.
pub fn raw_status(response: &str) -> u16 {
    response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {response:?}"))
}

/// A fixture with a small prices table, a nested JSON document and a manifest for both.
pub fn prices_fixture() -> Fixture {
    let fixture = Fixture::new();
    fixture
        .write(
            "data/prices.csv",
            "date,ticker,close,volume\n\
             2024-01-02,AAPL,185.5,100\n\
             2024-01-02,MSFT,370.25,200\n\
             2024-01-03,AAPL,184.0,110\n\
             2024-01-03,MSFT,371.0,210\n\
             2024-01-04,NVDA,48.1,300\n",
        )
        .write(
            "data/fundamentals.json",
            r#"{"as_of": "2024-12-31", "results": [{"ticker": "AAPL", "pe": 30.5}, {"ticker": "MSFT", "pe": 35}]}"#,
        )
        .write(
            "widgets.json",
            r#"{
              "prices": {"name": "Prices", "description": "d", "type": "table", "endpoint": "prices",
                         "params": [{"paramName": "ticker", "type": "text", "value": "AAPL"}]},
              "fundamentals": {"name": "F", "description": "d", "endpoint": "/fundamentals",
                               "data": {"dataKey": "results"}}
            }"#,
        );
    fixture
}
