//! The router: what a request path names on this server, and the methods it takes. One pure
//! function, [`route`], from a raw path and the manifest served to a [`Route`]; `app/`
//! checks the method against [`Route::methods`] and calls the handler the variant names.
//!
//! Paths, in the order they are decided:
//!
//! | path | route | methods |
//! |---|---|---|
//! | `/health` (exactly) | [`Route::Health`] | GET, HEAD |
//! | `/` | [`Route::Info`] | GET, HEAD |
//! | `/metrics` | [`Route::Metrics`] | GET, HEAD |
//! | `/widgets.json`, `/apps.json` (`/templates.json`), `/agents.json` | the manifests | GET, HEAD |
//! | `/files/<path under data/>` | [`Route::File`] | GET, HEAD |
//! | a widget's endpoint | [`Route::Widget`] | POST for multi_file_viewer, omni, ssrm_table; GET, HEAD for the rest, and POST (and PUT with a `key`: its form's writes) for a widget with `backend.append` |
//! | an options endpoint | [`Route::Options`] | GET, HEAD |
//! | a live_grid's `wsEndpoint` | [`Route::WebSocket`] | GET (an upgrade; a plain request is a 426), HEAD |
//! | `<advanced chart endpoint>/<config, symbols, search, history, time>` | [`Route::Udf`] | GET, HEAD |
//!
//! Anything else is [`NotFound`]. OPTIONS is in every set: a CORS preflight is answered on any
//! path before routing. Invariants: a path that `paths::clean_request_path` refuses is not
//! found; no reserved path or `files/...` is ever an endpoint, and no two endpoints of the
//! manifest share a path (`manifest/clashes.rs`); a path one level below an advanced chart's
//! endpoint is one of its UDF routes only when no endpoint was declared there.

use crate::http::Method;
use crate::manifest::{FILES_PREFIX, Kind, LiveGrid, Manifest, OptionsRoute, Source, Widget};
use crate::metrics;
use crate::paths::clean_request_path;
use crate::widgets::udf::UdfRoute;

/// The path of [`Route::Health`], answered for any key or none (exactly this: `/health/` is
/// not found).
pub const HEALTH_PATH: &str = "/health";

/// What a request path names.
#[derive(Debug, Clone)]
pub enum Route<'m> {
    /// `/health`, for probes: answered without a token.
    Health,
    /// `/`: the status, as JSON or as the HTML page for a browser.
    Info,
    /// `/metrics`, in Prometheus' text format.
    Metrics,
    /// `/widgets.json`.
    Widgets,
    /// `/apps.json` (Workspace's older name: `/templates.json`).
    Apps,
    /// `/agents.json`.
    Agents,
    /// `/files/<path>`: a raw file under `data/` (the link of a pdf in `mode: "url"`).
    File(String),
    /// A widget's endpoint (an advanced chart's answers as its `config` route does).
    Widget(&'m Widget),
    /// A UDF route below an advanced chart's endpoint.
    Udf {
        chart: &'m Widget,
        source: &'m Source,
        route: UdfRoute,
    },
    /// An options endpoint (a param's `optionsEndpoint`).
    Options(&'m OptionsRoute),
    /// A live_grid's `wsEndpoint`: the WebSocket handshake (`App::upgrade`).
    WebSocket(LiveGrid<'m>),
}

/// A path that names nothing: 404.
#[derive(Debug, Clone, Copy)]
pub struct NotFound<'m> {
    /// The advanced chart whose endpoint is the path's parent (the last segment is not one of
    /// its routes), so the answer can name them.
    pub below_chart: Option<&'m Widget>,
}

/// A set of request methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Methods(u8);

impl Methods {
    const GET: u8 = 1;
    const HEAD: u8 = 2;
    const POST: u8 = 4;
    const OPTIONS: u8 = 8;
    const PUT: u8 = 16;

    /// GET and HEAD (and OPTIONS, the preflight).
    pub const READ: Methods = Methods(Methods::GET | Methods::HEAD | Methods::OPTIONS);
    /// POST with a JSON body (and OPTIONS, the preflight).
    pub const POST_JSON: Methods = Methods(Methods::POST | Methods::OPTIONS);
    /// A widget with a write target: read, and its form's POST (add a row).
    pub const READ_ADD: Methods = Methods(Methods::READ.0 | Methods::POST);
    /// A widget with a keyed write target: read, add, and PUT (replace the row of a key).
    pub const READ_WRITE: Methods = Methods(Methods::READ_ADD.0 | Methods::PUT);

    /// In the order the `Allow` header lists them.
    const NAMED: [(u8, Method); 5] = [
        (Methods::GET, Method::Get),
        (Methods::HEAD, Method::Head),
        (Methods::POST, Method::Post),
        (Methods::PUT, Method::Put),
        (Methods::OPTIONS, Method::Options),
    ];

    pub fn allows(self, method: &Method) -> bool {
        Methods::NAMED
            .iter()
            .any(|(bit, named)| self.0 & bit != 0 && named == method)
    }

    /// The value of an `Allow` header: `GET, HEAD, OPTIONS`.
    pub fn allow_header(self) -> String {
        let names: Vec<&str> = Methods::NAMED
            .iter()
            .filter(|(bit, _)| self.0 & bit != 0)
            .map(|(_, method)| method.as_str())
            .collect();
        names.join(", ")
    }
}

/// What `raw_path` (percent-encoded, without the query) names on a server serving `manifest`.
pub fn route<'m>(raw_path: &str, manifest: &'m Manifest) -> Result<Route<'m>, NotFound<'m>> {
    if raw_path == HEALTH_PATH {
        return Ok(Route::Health);
    }
    let path = clean_request_path(raw_path).ok_or(NotFound { below_chart: None })?;
    let fixed = match path.as_str() {
        "" => Some(Route::Info),
        "metrics" => Some(Route::Metrics),
        "widgets.json" => Some(Route::Widgets),
        "apps.json" | "templates.json" => Some(Route::Apps),
        "agents.json" => Some(Route::Agents),
        _ => None,
    };
    if let Some(route) = fixed {
        return Ok(route);
    }
    if let Some((FILES_PREFIX, relative)) = path.split_once('/') {
        return Ok(Route::File(relative.to_string()));
    }
    if let Some(widget) = manifest.widget_at(&path) {
        return Ok(Route::Widget(widget));
    }
    if let Some(options) = manifest.options_at(&path) {
        return Ok(Route::Options(options));
    }
    if let Some(grid) = manifest.live_grid_at(&path) {
        return Ok(Route::WebSocket(grid));
    }
    below_chart(&path, manifest)
}

/// A UDF route: `path` is `<endpoint>/<route>` of an advanced chart.
fn below_chart<'m>(path: &str, manifest: &'m Manifest) -> Result<Route<'m>, NotFound<'m>> {
    let nothing = NotFound { below_chart: None };
    let (parent, name) = path.rsplit_once('/').ok_or(nothing)?;
    let chart = manifest.widget_at(parent).ok_or(nothing)?;
    let Kind::AdvancedChart(source) = &chart.kind else {
        return Err(nothing);
    };
    let route = UdfRoute::parse(name).ok_or(NotFound {
        below_chart: Some(chart),
    })?;
    Ok(Route::Udf {
        chart,
        source,
        route,
    })
}

impl Route<'_> {
    /// The methods the route takes.
    pub fn methods(&self) -> Methods {
        match self {
            Route::Widget(widget) if widget.kind.widget_type().takes_post() => Methods::POST_JSON,
            Route::Widget(widget) => match &widget.append {
                Some(append) if append.key.is_some() => Methods::READ_WRITE,
                Some(_) => Methods::READ_ADD,
                None => Methods::READ,
            },
            _ => Methods::READ,
        }
    }

    /// The kind of route, for the metrics.
    pub fn counted_as(&self) -> metrics::Route {
        match self {
            Route::Health => metrics::Route::Health,
            Route::Info => metrics::Route::Status,
            Route::Metrics => metrics::Route::Metrics,
            Route::Widgets | Route::Apps | Route::Agents => metrics::Route::Manifest,
            Route::File(_) => metrics::Route::File,
            Route::Widget(_) | Route::Udf { .. } => metrics::Route::Widget,
            Route::Options(_) => metrics::Route::Options,
            Route::WebSocket(_) => metrics::Route::WebSocket,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A manifest with a widget of each routing kind; names carry spaces, `&`, quotes and an
    /// emoji, as file names turned into endpoints do.
    fn manifest() -> Manifest {
        Manifest::parse(Some(
            r#"{
  "prices": {"name": "P", "description": "d", "endpoint": "prices",
             "params": [{"paramName": "ticker", "type": "endpoint", "optionsEndpoint": "options/tickers"}],
             "backend": {"options": {"ticker": {"file": "prices.csv", "column": "ticker"}}}},
  "odd": {"name": "O", "description": "d", "endpoint": "r&d/it's a \"note\" 📈", "type": "markdown"},
  "filings": {"name": "F", "description": "d", "type": "multi_file_viewer", "endpoint": "filings",
              "params": [{"paramName": "names", "type": "endpoint", "roles": ["fileSelector"]}]},
  "search": {"name": "S", "description": "d", "type": "omni", "endpoint": "search"},
  "big": {"name": "B", "description": "d", "type": "ssrm_table", "endpoint": "big"},
  "chart": {"name": "C", "description": "d", "type": "advanced_charting", "endpoint": "udf"},
  "beside": {"name": "B", "description": "d", "endpoint": "udf/extra"},
  "quotes": {"name": "Q", "description": "d", "type": "live_grid", "endpoint": "quotes",
             "wsEndpoint": "ws/quotes", "data": {"wsRowIdColumn": "symbol"}}
}"#
            .as_bytes(),
        ))
        .unwrap()
    }

    /// The route's name and, for a widget, options endpoint or socket, its id.
    fn decided(path: &str, manifest: &Manifest) -> (String, Option<String>) {
        let (name, id) = match route(path, manifest) {
            Ok(Route::Health) => ("health", None),
            Ok(Route::Info) => ("info", None),
            Ok(Route::Metrics) => ("metrics", None),
            Ok(Route::Widgets) => ("widgets", None),
            Ok(Route::Apps) => ("apps", None),
            Ok(Route::Agents) => ("agents", None),
            Ok(Route::File(relative)) => return ("file".into(), Some(relative)),
            Ok(Route::Widget(widget)) => ("widget", Some(widget.id.clone())),
            Ok(Route::Udf { chart, route, .. }) => {
                return (format!("udf {}", route.name()), Some(chart.id.clone()));
            }
            Ok(Route::Options(options)) => ("options", Some(options.widget.clone())),
            Ok(Route::WebSocket(grid)) => ("websocket", Some(grid.widget.id.clone())),
            Err(NotFound {
                below_chart: Some(chart),
            }) => ("not found below", Some(chart.id.clone())),
            Err(NotFound { below_chart: None }) => ("not found", None),
        };
        (name.to_string(), id)
    }

    #[test]
    fn each_path_names_one_route() {
        let manifest = manifest();
        let some = |id: &str| Some(id.to_string());
        for (path, name, id) in [
            ("/health", "health", None),
            ("/", "info", None),
            ("", "info", None),
            ("/metrics", "metrics", None),
            ("/widgets.json", "widgets", None),
            ("/apps.json", "apps", None),
            ("/templates.json", "apps", None),
            ("/agents.json", "agents", None),
            ("/files/reports/a%20b.pdf", "file", some("reports/a b.pdf")),
            ("/prices", "widget", some("prices")),
            ("//prices/", "widget", some("prices")),
            (
                "/r%26d/it's%20a%20%22note%22%20%F0%9F%93%88",
                "widget",
                some("odd"),
            ),
            ("/filings", "widget", some("filings")),
            ("/search", "widget", some("search")),
            ("/big", "widget", some("big")),
            ("/udf", "widget", some("chart")),
            ("/options/tickers", "options", some("prices")),
            ("/ws/quotes", "websocket", some("quotes")),
            ("/udf/config", "udf config", some("chart")),
            ("/udf/symbols", "udf symbols", some("chart")),
            ("/udf/search", "udf search", some("chart")),
            ("/udf/history", "udf history", some("chart")),
            ("/udf/time", "udf time", some("chart")),
            ("/udf/extra", "widget", some("beside")),
            ("/udf/marks", "not found below", some("chart")),
            ("/udf/history/x", "not found", None),
            ("/big/history", "not found", None),
            ("/nope", "not found", None),
            ("/../etc/passwd", "not found", None),
            ("/%2e%2e/widgets.json", "not found", None),
            ("/health/", "not found", None),
            ("/files", "not found", None),
        ] {
            let expected = (name.to_string(), id);
            assert_eq!(decided(path, &manifest), expected, "{path}");
        }
    }

    #[test]
    fn each_route_takes_its_methods_and_names_them_in_allow() {
        let manifest = manifest();
        let read = "GET, HEAD, OPTIONS";
        let post = "POST, OPTIONS";
        for (path, allow) in [
            ("/health", read),
            ("/", read),
            ("/metrics", read),
            ("/widgets.json", read),
            ("/apps.json", read),
            ("/agents.json", read),
            ("/files/a.pdf", read),
            ("/prices", read),
            ("/filings", post),
            ("/search", post),
            ("/big", post),
            ("/udf", read),
            ("/udf/history", read),
            ("/options/tickers", read),
            ("/ws/quotes", read),
        ] {
            let methods = route(path, &manifest).unwrap().methods();
            assert_eq!(methods.allow_header(), allow, "{path}");
            let takes = |method: Method| methods.allows(&method);
            let reads = allow == read;
            assert_eq!(takes(Method::Get), reads, "{path}");
            assert_eq!(takes(Method::Head), reads, "{path}");
            assert_eq!(takes(Method::Post), !reads, "{path}");
            assert!(takes(Method::Options), "{path}");
            for other in ["PUT", "DELETE", "PATCH", "get"] {
                assert!(!takes(Method::parse(other)), "{other} {path}");
            }
        }
    }

    #[test]
    fn routes_are_counted_by_kind() {
        let manifest = manifest();
        for (path, counted) in [
            ("/health", metrics::Route::Health),
            ("/", metrics::Route::Status),
            ("/metrics", metrics::Route::Metrics),
            ("/apps.json", metrics::Route::Manifest),
            ("/files/a.pdf", metrics::Route::File),
            ("/prices", metrics::Route::Widget),
            ("/udf/time", metrics::Route::Widget),
            ("/options/tickers", metrics::Route::Options),
            ("/ws/quotes", metrics::Route::WebSocket),
        ] {
            assert_eq!(route(path, &manifest).unwrap().counted_as(), counted);
        }
    }
}
