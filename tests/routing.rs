//! Routing through `App::handle` (and `App::finish`), in process (no sockets): each kind of route `router.rs`
//! decides answers its methods, refuses the others with a 405 whose `Allow` lists them, and
//! carries CORS and a JSON `detail` on every refusal. File names as hostile as users make them
//! (quotes, `&`, `<`, spaces, emoji, a leading dash) are reached as files, widget endpoints and
//! generated widgets.

use openbb_files::app::App;
use openbb_files::http::{Method, Request, Response, percent_encode};
use serde_json::Value;

use crate::support::{Fixture, answer, test_config};

const ORIGIN: &str = "https://pro.openbb.co";
const READ: &str = "GET, HEAD, OPTIONS";
const POST: &str = "POST, OPTIONS";

/// Names a user may well give files.
const HOSTILE: [&str; 4] = [
    "it's & <ok> #1 📈.csv",
    "-dash.md",
    "a \"quoted\" report.pdf",
    "r&d notes.html",
];

fn hostile_files(fixture: &Fixture) {
    fixture
        .write(&format!("data/{}", HOSTILE[0]), "ticker,close\nAAPL,1\n")
        .write(&format!("data/{}", HOSTILE[1]), "# Dash\n")
        .write(&format!("data/{}", HOSTILE[2]), "%PDF-1.4\n%%EOF\n")
        .write(&format!("data/{}", HOSTILE[3]), "<p>R&amp;D</p>\n");
}

/// A folder with a widget of each routing kind.
fn desk() -> Fixture {
    let fixture = Fixture::new();
    hostile_files(&fixture);
    fixture
        .write("data/prices.csv", "ticker,close,date\nAAPL,1,2024-01-02\n")
        .write(
            "data/ohlc.csv",
            "date,symbol,open,high,low,close\n2024-01-02,AAPL,1,2,0.5,1.5\n",
        )
        .write("data/filings/a.pdf", "%PDF-1.4\n%%EOF\n")
        .write("data/big.csv", "id\n1\n")
        .write("data/quotes.csv", "symbol,px\nAAPL,1\n")
        .write(
            "widgets.json",
            r#"{
  "prices": {"name": "P", "description": "d", "endpoint": "prices",
             "params": [{"paramName": "ticker", "type": "endpoint", "optionsEndpoint": "options/tickers"}],
             "backend": {"options": {"ticker": {"file": "prices.csv", "column": "ticker"}}}},
  "odd": {"name": "O", "description": "d", "endpoint": "it's & <ok> #1 📈",
          "backend": {"file": "it's & <ok> #1 📈.csv"}},
  "dash": {"name": "D", "description": "d", "endpoint": "-dash", "type": "markdown"},
  "filings": {"name": "F", "description": "d", "type": "multi_file_viewer", "endpoint": "filings",
              "params": [{"paramName": "names", "type": "endpoint", "roles": ["fileSelector"]}]},
  "search": {"name": "S", "description": "d", "type": "omni", "endpoint": "search"},
  "big": {"name": "B", "description": "d", "type": "ssrm_table", "endpoint": "big"},
  "chart": {"name": "C", "description": "d", "type": "advanced_charting", "endpoint": "udf",
            "backend": {"file": "ohlc.csv"}},
  "quotes": {"name": "Q", "description": "d", "type": "live_grid", "endpoint": "quotes",
             "wsEndpoint": "ws/quotes", "data": {"wsRowIdColumn": "symbol"}}
}"#,
        );
    fixture
}

fn request(app: &App, method: Method, path: &str, body: &str) -> Response {
    let headers = vec![
        ("origin".to_string(), ORIGIN.to_string()),
        ("content-type".to_string(), "application/json".to_string()),
    ];
    let mut request = Request::new(method, path, headers);
    request.body = body.as_bytes().to_vec();
    answer(app, &request)
}

fn detail(response: &Response) -> String {
    let body: Value = serde_json::from_slice(response.body.as_ref()).unwrap();
    body["detail"].as_str().unwrap_or_default().to_string()
}

/// A path from its segments, each percent-encoded.
fn path(segments: &str) -> String {
    let encoded: Vec<String> = segments.split('/').map(percent_encode).collect();
    format!("/{}", encoded.join("/"))
}

#[test]
fn each_route_answers_its_methods_and_refuses_the_others_with_allow() {
    let fixture = desk();
    let app = App::new(&test_config(&fixture.root));
    let odd = path("it's & <ok> #1 📈");
    let raw_file = path(&format!("files/{}", HOSTILE[2]));
    for (path, allow, method, body, status) in [
        ("/", READ, Method::Get, "", 200),
        ("/health", READ, Method::Get, "", 200),
        ("/metrics", READ, Method::Get, "", 200),
        ("/widgets.json", READ, Method::Get, "", 200),
        ("/apps.json", READ, Method::Get, "", 200),
        ("/agents.json", READ, Method::Head, "", 200),
        (raw_file.as_str(), READ, Method::Get, "", 200),
        ("/prices", READ, Method::Get, "", 200),
        (odd.as_str(), READ, Method::Get, "", 200),
        ("/-dash", READ, Method::Get, "", 200),
        ("/options/tickers", READ, Method::Get, "", 200),
        (
            "/filings",
            POST,
            Method::Post,
            r#"{"names": ["a.pdf"]}"#,
            200,
        ),
        ("/search", POST, Method::Post, r#"{"prompt": "R&D"}"#, 200),
        ("/big", POST, Method::Post, "{}", 200),
        ("/udf", READ, Method::Get, "", 200),
        ("/udf/symbols?symbol=AAPL", READ, Method::Get, "", 200),
        ("/udf/time", READ, Method::Get, "", 200),
        ("/ws/quotes", READ, Method::Get, "", 426),
    ] {
        let (route, query) = path.split_once('?').unwrap_or((path, ""));
        let mut answered = Request::new(method.clone(), route, Vec::new());
        answered.query = query
            .split_once('=')
            .map(|(name, value)| vec![(name.to_string(), value.to_string())])
            .unwrap_or_default();
        answered
            .headers
            .push(("content-type".into(), "application/json".into()));
        answered.body = body.as_bytes().to_vec();
        let response = answer(&app, &answered);
        assert_eq!(
            response.status,
            status,
            "{method:?} {path}: {}",
            detail(&response)
        );
        let wrong = match allow {
            READ => [Method::Post, Method::parse("DELETE")],
            _ => [Method::Get, Method::parse("PUT")],
        };
        for method in wrong {
            let refusal = request(&app, method.clone(), route, body);
            assert_eq!(refusal.status, 405, "{method:?} {path}");
            assert_eq!(refusal.header("Allow"), Some(allow), "{method:?} {path}");
            assert_eq!(
                refusal.header("Access-Control-Allow-Origin"),
                Some(ORIGIN),
                "{path}"
            );
            let said = detail(&refusal);
            assert!(said.contains(method.as_str()), "{path}: {said}");
        }
    }
}

#[test]
fn a_name_below_a_chart_that_is_not_a_udf_route_names_the_routes() {
    let fixture = desk();
    let app = App::new(&test_config(&fixture.root));
    let response = request(&app, Method::Get, "/udf/marks", "");
    assert_eq!(response.status, 404);
    assert_eq!(
        detail(&response),
        "an advanced chart answers /udf/ followed by config, symbols, search, history, time"
    );
    let response = request(&app, Method::Get, "/udf/history/x", "");
    assert_eq!(
        (response.status, detail(&response)),
        (404, "not found: /udf/history/x".to_string())
    );
}

#[test]
fn health_refuses_other_methods_without_a_key_and_routes_after_the_token_check() {
    let fixture = desk();
    let mut config = test_config(&fixture.root);
    config.api_key = Some("k".into());
    let app = App::new(&config);
    let post = request(&app, Method::Post, "/health", "");
    assert_eq!((post.status, post.header("Allow")), (405, Some(READ)));
    for (method, path) in [
        (Method::Post, "/prices"),
        (Method::Get, "/nope"),
        (Method::Get, "/udf/marks"),
    ] {
        let refusal = request(&app, method, path, "");
        assert_eq!(
            refusal.status, 401,
            "{path}: no route is told without the key"
        );
    }
}

#[test]
fn generated_widgets_of_hostile_file_names_are_served() {
    let fixture = Fixture::new();
    hostile_files(&fixture);
    let app = App::new(&test_config(&fixture.root));
    let manifest = request(&app, Method::Get, "/widgets.json", "");
    let manifest: Value = serde_json::from_slice(manifest.body.as_ref()).unwrap();
    let widgets = manifest.as_object().unwrap();
    assert_eq!(widgets.len(), HOSTILE.len(), "{manifest:#}");
    for (id, widget) in widgets {
        let endpoint = widget["endpoint"].as_str().unwrap();
        let response = request(&app, Method::Get, &path(endpoint), "");
        assert_eq!(response.status, 200, "{id}: {}", detail(&response));
    }
    for name in HOSTILE {
        let response = request(&app, Method::Get, &path(&format!("files/{name}")), "");
        assert_eq!(response.status, 200, "{name}");
    }
}
