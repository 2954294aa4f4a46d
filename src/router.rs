//! The router: what a request path names on this server, and the methods it takes. One pure
//! function, [`route`], from a raw path and the manifest served to a [`Route`]; `app.rs`
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
//! | a widget's endpoint | [`Route::Widget`] | POST for multi_file_viewer, omni, ssrm_table; GET, HEAD for the rest |
//! | an options endpoint | [`Route::Options`] | GET, HEAD |
//! | a live_grid's `wsEndpoint` | [`Route::WebSocket`] | GET (an upgrade; a plain request is a 426), HEAD |
//! | `<advanced chart endpoint>/<config, symbols, search, history, time>` | [`Route::Udf`] | GET, HEAD |
//!
//! Anything else is [`NotFound`]. OPTIONS is in every set: a CORS preflight is answered on any
//! path before routing. Invariants: a path that `paths::clean_request_path` refuses is not
//! found; no reserved path or `files/...` is ever an endpoint, and no two endpoints of the
//! manifest share a path (`manifest/clashes.rs`); a path one level below an advanced chart's
//! endpoint is one of its UDF routes only when no endpoint was declared there.

use crate::health;
use crate::http::Method;
use crate::manifest::{FILES_PREFIX, Kind, LiveGrid, Manifest, OptionsRoute, Source, Widget};
use crate::metrics;
use crate::paths::clean_request_path;

/// What a request path names.
#[derive(Debug, Clone, PartialEq)]
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
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NotFound<'m> {
    /// The advanced chart whose endpoint is the path's parent (the last segment is not one of
    /// its routes), so the answer can name them.
    pub below_chart: Option<&'m Widget>,
}

/// The routes of a TradingView UDF feed below an advanced chart's endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UdfRoute {
    Config,
    Symbols,
    Search,
    History,
    Time,
}

impl UdfRoute {
    pub const ALL: [UdfRoute; 5] = [
        UdfRoute::Config,
        UdfRoute::Symbols,
        UdfRoute::Search,
        UdfRoute::History,
        UdfRoute::Time,
    ];

    /// The last segment of its path.
    pub fn name(self) -> &'static str {
        match self {
            UdfRoute::Config => "config",
            UdfRoute::Symbols => "symbols",
            UdfRoute::Search => "search",
            UdfRoute::History => "history",
            UdfRoute::Time => "time",
        }
    }

    fn parse(name: &str) -> Option<UdfRoute> {
        UdfRoute::ALL.into_iter().find(|route| route.name() == name)
    }
}

/// A set of request methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Methods(u8);

impl Methods {
    const GET: u8 = 1;
    const HEAD: u8 = 2;
    const POST: u8 = 4;
    const OPTIONS: u8 = 8;

    /// GET and HEAD (and OPTIONS, the preflight).
    pub const READ: Methods = Methods(Methods::GET | Methods::HEAD | Methods::OPTIONS);
    /// POST with a JSON body (and OPTIONS, the preflight).
    pub const POST_JSON: Methods = Methods(Methods::POST | Methods::OPTIONS);

    /// In the order the `Allow` header lists them.
    const NAMED: [(u8, Method); 4] = [
        (Methods::GET, Method::Get),
        (Methods::HEAD, Method::Head),
        (Methods::POST, Method::Post),
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
    const NOTHING: NotFound = NotFound { below_chart: None };
    if raw_path == health::PATH {
        return Ok(Route::Health);
    }
    let path = clean_request_path(raw_path).ok_or(NOTHING)?;
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
    let parent = path.rsplit_once('/').and_then(|(parent, name)| {
        let chart = manifest.widget_at(parent)?;
        Some((chart, name))
    });
    match parent {
        Some((chart, name)) => match (&chart.kind, UdfRoute::parse(name)) {
            (Kind::AdvancedChart(source), Some(route)) => Ok(Route::Udf {
                chart,
                source,
                route,
            }),
            (Kind::AdvancedChart(_), None) => Err(NotFound {
                below_chart: Some(chart),
            }),
            _ => Err(NotFound { below_chart: None }),
        },
        None => Err(NotFound { below_chart: None }),
    }
}

impl Route<'_> {
    /// The methods the route takes.
    pub fn methods(&self) -> Methods {
        match self {
            Route::Widget(widget) if widget.kind.widget_type().takes_post() => Methods::POST_JSON,
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
