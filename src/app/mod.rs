//! The application: answers a [`Request`] with a [`Response`], calling the handler of the route
//! `router.rs` decides.
//!
//! Order for every request: the `Host` check (a name the server does not answer to → 421; see
//! `hosts.rs`); `OPTIONS` is a CORS preflight (no token needed); the route
//! ([`router::route`]); the token check, except for `/health` (see `health.rs`; the key it
//! matched goes on to the handler beside the request: a write records its id, a PDF link
//! carries it); then a path that names nothing → 404, a method the route does not take → 405
//! with `Allow` (from [`router::Methods`]), a POST whose `Content-Type` is not JSON → 415,
//! so no page can make the server work without a CORS preflight (a PUT likewise); then the
//! route's handler: the manifests (with no `widgets.json` the generated one, `generate/`, and
//! with no `apps.json` either its dashboard, `dashboard.rs`), the raw files, `writes` for a POST or PUT on a widget
//! with `backend.append` (its form), `widgets::serve` for a widget's endpoint, `widgets::udf::serve` for an advanced
//! chart's routes below it, `widgets::options::serve`. Every answer, errors included, is
//! finished by [`App::finish`] (`finish.rs`: the CORS headers, so the browser can show errors
//! too, and the rest every answer carries), which the server calls once per answer, refusals
//! of the HTTP layer and a panic's 500 included; a 200 whose `ETag` the client
//! already has becomes a 304. `/` lists the problems known, the data ones checked again only
//! when the manifest or a file they concern changed (as JSON, or as the status page of
//! `status_page.rs` for a browser); `/metrics` reports the requests counted here (every answer
//! [`App::handle`] makes, by route kind), the caches and the problems. [`App::watch`], the
//! server's background check, finds reloads and data problems without waiting for a request
//! and logs them. A WebSocket handshake comes to
//! [`App::upgrade`] instead: the `Host`, origin and token checks, then the route, which must be
//! a live_grid's `wsEndpoint` (`live/` takes the connection); a plain GET there is a 426.
//! Invariant: every error body is `{"detail": "..."}`, and only files that `paths::DataDir`
//! resolves are ever read besides the root's `widgets.json`, `apps.json` and `agents.json`.
//!
//! By job: here, the `App`, its checks and routes; `problems.rs` the problems known and the
//! background check ([`App::watch`]); `status.rs` the answers about the server (`/`, `/metrics`).

mod problems;
mod status;

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use crate::auth::{ApiKey, Auth};
use crate::cache::Watched;
use crate::config::Config;
use crate::cors::Cors;
use crate::dashboard::{self, Dashboard};
use crate::files::Files;
use crate::finish::{self, Answer, Exchange};
use crate::generate::Generated;
use crate::health;
use crate::hosts::Hosts;
use crate::http::{JSON, Method, Payload, Request, Response};
use crate::live::{Grid, Hub, Limits};
use crate::log::Level;
use crate::manifest::{self, Manifest};
use crate::metrics::{LastStatuses, Metrics, Route as Counted};
use crate::paths::DataDir;
use crate::router::{self, NotFound, Route};
use crate::status_page;
use crate::websocket::{self, Upgrade};
use crate::widgets::udf::{self, UdfRoute};
use crate::widgets::{self, Call, omni, options, pdf};
use crate::writes::Writes;

pub use problems::WATCH_PAUSE;
use problems::{DataCheck, Loaded, Loader, load, load_and_log};

pub struct App {
    files: Arc<Files>,
    live: Arc<Hub>,
    /// `widgets.json`; `None` inside when the root has none and the manifest is generated.
    widgets: Watched<Option<Arc<Manifest>>>,
    /// The manifest served until `widgets.json` first parses (`/health` is 503 meanwhile).
    unloaded: Arc<Manifest>,
    generated: Generated,
    /// `apps.json`; `None` inside when the root has none.
    apps: Watched<Option<Payload>>,
    /// The dashboard served when the root has neither `widgets.json` nor `apps.json`.
    dashboard: Dashboard,
    /// `agents.json`: `[]` when the root has none.
    agents: Watched<Payload>,
    cors: Cors,
    auth: Auth,
    hosts: Hosts,
    max_viewer_bytes: u64,
    searches: omni::Searches,
    /// The form writes (`backend.append`).
    writes: Writes,
    started: Instant,
    data_check: Mutex<Option<DataCheck>>,
    /// Whether reloads and problems are logged (not for `check`, which prints its own).
    logging: bool,
    /// The data and app problems logged by the last [`App::watch`], so each is logged once
    /// when found.
    reported: Mutex<Vec<String>>,
    /// The `widgets.json` and `apps.json` values the last [`App::watch`] saw, so that each
    /// reload is logged once.
    loaded: Mutex<Option<Loaded>>,
    metrics: Metrics,
    /// The last status of each widget's endpoint, by widget id (for the status page).
    last_statuses: LastStatuses,
    /// For the status page: `http` or `https`, and the origins allowed.
    scheme: &'static str,
    cors_origins: Vec<String>,
}

impl App {
    /// The app for a server: widgets left out are logged on every load of `widgets.json`,
    /// reloads and the other problems when [`App::watch`] finds them, and the problems found
    /// without reading data files at the start.
    pub fn new(config: &Config) -> App {
        App::with_live_limits(config, config.live.clone())
    }

    /// [`App::new`] whose live_grid sockets use `limits` (tests shorten the timeouts).
    pub fn with_live_limits(config: &Config, limits: Limits) -> App {
        let app = App::build(config, true, limits);
        let (manifest, _) = app.manifest();
        app.log_reloads();
        app.log_new_problems(&manifest);
        if let Some(note) = app.writes_read_only() {
            crate::log::write(Level::Warning, &format!("openbb-files: {note}"));
        }
        app
    }

    /// Which widgets with a write target are served read-only, and why (no `--api-key`).
    pub fn writes_read_only(&self) -> Option<String> {
        self.writes.read_only(&self.manifest().0)
    }

    /// The app without logging, for `check`, which prints [`App::problems`] itself.
    pub fn quiet(config: &Config) -> App {
        App::build(config, false, Limits::default())
    }

    fn build(config: &Config, logging: bool, limits: Limits) -> App {
        let load: Loader = match logging {
            true => load_and_log,
            false => load,
        };
        let files = Arc::new(Files::with_limits(
            DataDir::new(config.root.join("data")),
            config.into(),
        ));
        let unloaded = Arc::new(Manifest::empty());
        App {
            live: Arc::new(Hub::new(Arc::clone(&files), limits)),
            files,
            widgets: Watched::new(
                config.root.join("widgets.json"),
                Some(Arc::clone(&unloaded)),
                load,
            ),
            unloaded,
            generated: Generated::default(),
            apps: Watched::new(config.root.join("apps.json"), None, manifest::parse_apps),
            dashboard: Dashboard::new(&config.root),
            agents: Watched::new(
                config.root.join("agents.json"),
                Payload::new(&b"[]"[..]),
                manifest::parse_agents,
            ),
            cors: Cors::new(&config.cors_origins),
            auth: Auth::new(config.keys(), &config.auth_header, &config.auth_query),
            hosts: Hosts::new(&config.host, &config.allowed_hosts),
            max_viewer_bytes: config.max_viewer_bytes,
            // Half the workers at most, so searches never hold every worker.
            searches: omni::Searches::new(config.threads / 2),
            writes: Writes::new(
                DataDir::new(config.root.join("data")),
                config.writes.clone(),
                !config.keys().is_empty(),
            ),
            started: Instant::now(),
            data_check: Mutex::new(None),
            logging,
            reported: Mutex::new(Vec::new()),
            loaded: Mutex::new(None),
            metrics: Metrics::default(),
            last_statuses: LastStatuses::default(),
            scheme: config.scheme(),
            cors_origins: config.cors_origins.clone(),
        }
    }

    /// The manifest served: `widgets.json`, or the one generated from `data/` when the root
    /// has none; with the reason the file on disk is not being used, if it is not.
    fn manifest(&self) -> (Arc<Manifest>, Option<Arc<str>>) {
        let (loaded, problem) = self.widgets.get();
        match &*loaded {
            Some(manifest) => (Arc::clone(manifest), problem),
            None => (self.generated.get(&self.files), problem),
        }
    }

    /// The apps served beside `manifest`, checked against its widgets ([`Manifest::apps`]),
    /// with the problems found: `apps.json`; without one, the dashboard of the generated
    /// widgets when there is no `widgets.json` either (`dashboard.rs`, checked once per
    /// manifest), else `[]`.
    fn apps(&self, manifest: &Arc<Manifest>) -> dashboard::Checked {
        match (&*self.apps.get().0, &*self.widgets.get().0) {
            (Some(written), _) => manifest.apps(written),
            (None, None) => self.dashboard.get(manifest),
            (None, Some(_)) => (Payload::new(&b"[]"[..]), Vec::new()),
        }
    }

    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    pub fn handle(&self, request: &Request) -> Response {
        let started = Instant::now();
        let (counted, response) = match self.hosts.check(request) {
            Err(detail) => (Counted::Other, Response::error(421, &detail)),
            Ok(()) if request.method == Method::Options => {
                (Counted::Preflight, self.cors.preflight(request))
            }
            Ok(()) => self.route(request),
        };
        self.count(request, counted, &response, started);
        response
    }

    /// Whether a manifest has been loaded: a `widgets.json` that parsed once since the start,
    /// or none on disk (the generated one is served).
    fn loaded(&self) -> bool {
        match &*self.widgets.get().0 {
            Some(manifest) => !Arc::ptr_eq(manifest, &self.unloaded),
            None => true,
        }
    }

    /// Finishes an answer (`finish.rs`: CORS by this app's rules, `Date`, `Server`,
    /// `Connection`, `X-Request-Id`, the body of a refusal or a panic); the answers made
    /// outside [`App::handle`] and [`App::upgrade`] (refusals of the HTTP layer, a panic's 500)
    /// are counted in the metrics here, as route `other`.
    pub fn finish(
        &self,
        request: &Request,
        answer: Answer<'_>,
        exchange: &Exchange<'_>,
    ) -> Response {
        let made_elsewhere = matches!(answer, Answer::Refused { .. } | Answer::Panicked);
        let started = Instant::now();
        let response = finish::finish(Some(&self.cors), request, answer, exchange);
        if made_elsewhere {
            self.count(request, Counted::Other, &response, started);
        }
        response
    }

    /// Counts an answer in the metrics (a HEAD's body is not sent).
    fn count(&self, request: &Request, route: Counted, response: &Response, started: Instant) {
        let bytes = match request.method {
            Method::Head => 0,
            _ => response.body.as_ref().len(),
        };
        let took = started.elapsed();
        self.metrics.record(route, response.status, bytes, took);
    }

    /// Decides the route ([`router::route`]), then: the token check (not for `/health`), 404,
    /// 405 with `Allow`, 415 for a POST that is not JSON, and the route's handler.
    fn route(&self, request: &Request) -> (Counted, Response) {
        let (manifest, _) = self.manifest();
        let route = router::route(&request.path, &manifest);
        let key = match route {
            Ok(Route::Health) => None,
            _ => match self.auth.check(request) {
                Ok(key) => key,
                Err(detail) => return (Counted::Other, Response::error(401, &detail)),
            },
        };
        let route = match route {
            Ok(route) => route,
            Err(nothing) => return (Counted::Other, not_found(request, nothing)),
        };
        let counted = route.counted_as();
        let allowed = route.methods();
        if !allowed.allows(&request.method) {
            let refusal = Response::error(
                405,
                &format!(
                    "{} is not allowed on {}",
                    request.method.as_str(),
                    request.path
                ),
            )
            .with_header("Allow", allowed.allow_header());
            return (counted, refusal);
        }
        let has_body = matches!(request.method, Method::Post | Method::Put);
        if has_body && !is_json(request.header("content-type")) {
            let refusal = Response::error(
                415,
                &format!(
                    "a {} body must be sent as Content-Type: application/json, not {}",
                    request.method.as_str(),
                    request.header("content-type").unwrap_or("without a type")
                ),
            );
            return (counted, refusal);
        }
        let response = self.answer(request, key, &manifest, route);
        (counted, response.not_modified_for(request))
    }

    /// The answer of a route's handler to a request whose method it takes, made with `key`
    /// (what [`Auth::check`] gave: `None` when no key is required).
    fn answer(
        &self,
        request: &Request,
        key: Option<&ApiKey>,
        manifest: &Arc<Manifest>,
        route: Route,
    ) -> Response {
        let params = self.params(request);
        match route {
            Route::Health => health::answer(self.loaded()),
            Route::Info if status_page::wants_html(request.header("accept")) => {
                self.status_page(request, manifest)
            }
            Route::Info => self.info(manifest),
            Route::Metrics => self.metrics(),
            Route::Widgets => Response::payload(JSON, &manifest.served),
            Route::Apps => Response::payload(JSON, &self.apps(manifest).0),
            Route::Agents => Response::payload(JSON, &self.agents.get().0),
            Route::File(relative) => pdf::raw_file(&self.files, &relative),
            Route::Options(options) => options::serve(&self.files, options, &params),
            Route::Widget(widget) => {
                let response = match &widget.append {
                    Some(append) if matches!(request.method, Method::Post | Method::Put) => self
                        .writes
                        .serve(widget, append, request, key.map(ApiKey::id)),
                    _ => widgets::serve(&self.call(widget, request, key, &params)),
                };
                self.last_statuses
                    .record(&widget.id, response.status, SystemTime::now());
                response
            }
            Route::Udf {
                chart,
                source,
                route,
            } => {
                let response = udf::serve(&self.call(chart, request, key, &params), source, route);
                self.last_statuses
                    .record(&chart.id, response.status, SystemTime::now());
                response
            }
            Route::WebSocket(grid) => Response::error(
                426,
                &format!(
                    "{} is the WebSocket of widget '{}': connect with a WebSocket client",
                    request.path, grid.widget.id
                ),
            )
            .with_header("Upgrade", "websocket"),
        }
    }

    /// What a widget's handler gets for `request`.
    fn call<'a>(
        &'a self,
        widget: &'a manifest::Widget,
        request: &'a Request,
        key: Option<&'a ApiKey>,
        params: &'a [(String, String)],
    ) -> Call<'a> {
        Call {
            files: &self.files,
            widget,
            request,
            params,
            auth: &self.auth,
            key,
            max_viewer_bytes: self.max_viewer_bytes,
            searches: &self.searches,
        }
    }

    /// The query parameters, without the API key's (copied only when it is among them).
    fn params<'r>(&self, request: &'r Request) -> Cow<'r, [(String, String)]> {
        let is_key = |name: &str| self.auth.required() && name == self.auth.query_name();
        if !request.query.iter().any(|(name, _)| is_key(name)) {
            return Cow::Borrowed(&request.query);
        }
        let without_key = request.query.iter().filter(|(name, _)| !is_key(name));
        Cow::Owned(without_key.cloned().collect())
    }

    /// A request to open a live_grid's WebSocket: the handshake's answer and the subscription
    /// that takes the connection, or the error response. A browser page may open it only from
    /// an allowed CORS origin (WebSockets have no CORS of their own); the token is checked as
    /// on every request, and browsers can only send it as the query parameter.
    pub fn upgrade(&self, request: &Request) -> Result<Upgrade, Response> {
        let started = Instant::now();
        let upgrade = self.open_socket(request);
        let status = upgrade
            .as_ref()
            .map_or_else(|refusal| refusal.status, |_| 101);
        let took = started.elapsed();
        self.metrics.record(Counted::WebSocket, status, 0, took);
        upgrade
    }

    fn open_socket(&self, request: &Request) -> Result<Upgrade, Response> {
        self.hosts
            .check(request)
            .map_err(|detail| Response::error(421, &detail))?;
        if let Some(origin) = request.header("origin")
            && !self.cors.allows(origin)
        {
            return Err(Response::error(
                403,
                &format!("a page from {origin} may not open WebSockets here (see --cors-origin)"),
            ));
        }
        let key = self
            .auth
            .check(request)
            .map_err(|detail| Response::error(401, &detail))?;
        let (manifest, _) = self.manifest();
        let Ok(Route::WebSocket(grid)) = router::route(&request.path, &manifest) else {
            return Err(Response::error(
                404,
                &format!("no WebSocket at {}", request.path),
            ));
        };
        let accept = websocket::handshake(request)?;
        let params = self.params(request).into_owned();
        let call = self.call(grid.widget, request, key, &params);
        let relative = call.locate(grid.source)?;
        let grid = Grid::of(&grid);
        let admission = self.live.admit(&grid, &relative, request.remote)?;
        let hub = Arc::clone(&self.live);
        Ok(Upgrade {
            accept,
            start: Box::new(move |connection| {
                hub.join(grid, relative.into_name(), params, admission, connection)
            }),
        })
    }

    /// Closes every live_grid socket (the server is stopping).
    pub fn stopped(&self) {
        self.live
            .close_all(websocket::GOING_AWAY, "the server is stopping");
    }
}

/// The 404 of a path that names nothing; below an advanced chart's endpoint, it names the
/// chart's routes.
fn not_found(request: &Request, nothing: NotFound) -> Response {
    let detail = match nothing.below_chart {
        Some(chart) => {
            let names: Vec<&str> = UdfRoute::ALL.iter().map(|r| r.name()).collect();
            format!(
                "an advanced chart answers /{}/ followed by {}",
                chart.endpoint,
                names.join(", ")
            )
        }
        None => format!("not found: {}", request.path),
    };
    Response::error(404, &detail)
}

/// Whether a `Content-Type` names JSON (`application/json`, parameters such as a charset
/// allowed). Browsers send a POST without a preflight only with a text, form or multipart
/// type, so a page on another origin cannot make the server work on a POST body.
fn is_json(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|value| {
        let media_type = value.split(';').next().unwrap_or("").trim();
        media_type.eq_ignore_ascii_case("application/json")
    })
}
