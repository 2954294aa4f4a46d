//! The application: answers a [`Request`] with a [`Response`], calling the handler of the route
//! `router.rs` decides.
//!
//! Order for every request: the `Host` check (a name the server does not answer to → 421; see
//! `hosts.rs`); `OPTIONS` is a CORS preflight (no token needed); the route
//! ([`router::route`]); the token check, except for `/health` (see `health.rs`); then a path
//! that names nothing → 404, a method the route does not take → 405 with `Allow` (from
//! [`router::Methods`]), a POST whose `Content-Type` is not JSON → 415, so no page can make
//! the server work without a CORS preflight (a PUT likewise); then the route's handler: the
//! manifests (with no `widgets.json` the generated one, `generate/`, and with no `apps.json`
//! either its dashboard, `dashboard.rs`), the raw files, `writes` for a POST or PUT on a widget
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

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::auth::Auth;
use crate::cache::{CacheStats, FileVersion, Watched};
use crate::config::Config;
use crate::cors::Cors;
use crate::dashboard::{self, Dashboard};
use crate::files::Files;
use crate::finish::{self, Answer, Exchange};
use crate::generate::Generated;
use crate::health;
use crate::hosts::Hosts;
use crate::http::{Body, JSON, Method, Payload, Request, Response};
use crate::live::{Grid, Hub, Limits};
use crate::log::Level;
use crate::manifest::{self, Manifest};
use crate::metrics::{Exposition, LastStatuses, Metrics, Route as Counted};
use crate::paths::DataDir;
use crate::router::{self, NotFound, Route};
use crate::status_page::{self, WidgetRow};
use crate::validate::{Problem, Severity};
use crate::websocket::{self, Upgrade};
use crate::widgets::udf::{self, UdfRoute};
use crate::widgets::{self, Call, omni, options, pdf};
use crate::writes::Writes;

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

/// The shortest pause of [`App::watch`] between two checks.
pub const WATCH_PAUSE: Duration = Duration::from_secs(2);
/// A check pauses at least this many times as long as it took, so that the background check
/// takes at most about a twentieth of one core however large `data/` is.
const WATCH_PAUSE_FACTOR: u32 = 20;

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
            auth: Auth::new(
                config.api_key.clone(),
                &config.auth_header,
                &config.auth_query,
            ),
            hosts: Hosts::new(&config.host, &config.allowed_hosts),
            max_viewer_bytes: config.max_viewer_bytes,
            // Half the workers at most, so searches never hold every worker.
            searches: omni::Searches::new(config.threads / 2),
            writes: Writes::new(
                DataDir::new(config.root.join("data")),
                config.writes.clone(),
                config.api_key.is_some(),
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

    /// Every problem the server knows of: manifest files, widgets left out, widgets whose data
    /// is missing or lacks the columns they name, app layouts naming missing widgets,
    /// unreadable data.
    pub fn problems(&self) -> Vec<Problem> {
        let (manifest, widgets_problem) = self.manifest();
        let (_, apps_problem) = self.apps.get();
        let (_, agents_problem) = self.agents.get();
        widgets_problem
            .iter()
            .chain(apps_problem.iter())
            .chain(agents_problem.iter())
            .map(|p| Problem::error(p.to_string()))
            .chain(manifest.problems.iter().cloned())
            .chain(manifest.warnings.iter().cloned())
            .chain(self.data_and_apps_problems(&manifest))
            .chain(self.files.problems())
            .collect()
    }

    /// Reads every data file a served widget reads (every file a templated name can stand for,
    /// every note of a newsfeed), so that one that does not parse is among the
    /// [`App::problems`] with its file and line. `check` does this, and the server's
    /// [`App::watch`]; a file unchanged since it was last read costs one `stat`.
    pub fn read_data_files(&self) {
        let (manifest, _) = self.manifest();
        let listing = self.files.dir.list("", true).unwrap_or_default();
        for (file, reading) in manifest.data_files(&|f| self.files.exists(f), &listing) {
            if let Ok(found) = self.files.find(&file) {
                let _ = self.files.data(&found.read_as(reading));
            }
        }
        for folder in manifest.note_folders() {
            let _ = widgets::newsfeed::read_notes(&self.files, folder);
        }
    }

    /// The background check, which the server runs on a thread of its own, one call at a time,
    /// until it stops: reloads `widgets.json`, `apps.json` and `agents.json` when they changed
    /// (each reload is logged, [`App::log_reloads`]), reads the data files of the served widgets ([`App::read_data_files`]:
    /// only changed ones are parsed again; a file that does not parse is logged then) and logs
    /// the data and app problems not logged before. Requests never wait for it: they share only
    /// the caches, whose locks are not held while a file is read. Returns how long to pause
    /// before the next check: [`WATCH_PAUSE`], or twenty times as long as this one took.
    pub fn watch(&self) -> Duration {
        let started = Instant::now();
        let (manifest, _) = self.manifest();
        let _ = self.agents.get();
        self.log_reloads();
        self.read_data_files();
        self.log_new_problems(&manifest);
        WATCH_PAUSE.max(started.elapsed() * WATCH_PAUSE_FACTOR)
    }

    /// Logs a reload of `widgets.json` or `apps.json` since the last call (by a request or by
    /// [`App::watch`]); a load that failed is logged by `Watched`, which keeps the last good
    /// value, and each widget left out by [`load_and_log`].
    fn log_reloads(&self) {
        if !self.logging {
            return;
        }
        let now = Loaded {
            widgets: self.widgets.get().0,
            apps: self.apps.get().0,
        };
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(before) = &*loaded {
            if !Arc::ptr_eq(&before.widgets, &now.widgets) {
                crate::log::line(&match &*now.widgets {
                    Some(manifest) => format!(
                        "openbb-files: reloaded widgets.json: {} widgets served, {} left out",
                        manifest.widget_count(),
                        manifest.problems.len()
                    ),
                    None => "openbb-files: widgets.json is gone: serving the widgets made from \
                             the files in data/"
                        .to_string(),
                });
            }
            if !Arc::ptr_eq(&before.apps, &now.apps) {
                crate::log::line("openbb-files: reloaded apps.json");
            }
        }
        *loaded = Some(now);
    }

    /// Logs the data and app problems of `manifest` that the last call did not log.
    fn log_new_problems(&self, manifest: &Arc<Manifest>) {
        if !self.logging {
            return;
        }
        let problems = self.data_and_apps_problems(manifest);
        let mut reported = self.reported.lock().unwrap_or_else(|p| p.into_inner());
        for problem in &problems {
            if !reported.contains(&problem.line) {
                log_problem("", problem);
            }
        }
        *reported = problems.into_iter().map(|problem| problem.line).collect();
    }

    /// The served widgets checked against `data/`, and `apps.json` against the served widgets.
    fn data_and_apps_problems(&self, manifest: &Arc<Manifest>) -> Vec<Problem> {
        let mut problems = self.data_problems(manifest);
        problems.extend(self.writes.problems(manifest));
        problems.extend(self.apps(manifest).1);
        problems
    }

    /// [`Manifest::data_problems`], checked again only when the manifest or a file the last
    /// check looked for has changed (one `stat` a file otherwise): `/` reads no data.
    fn data_problems(&self, manifest: &Arc<Manifest>) -> Vec<Problem> {
        let version = |file: &str| {
            let (_, meta) = self.files.dir.resolve(file)?;
            Some(FileVersion::from_metadata(&meta))
        };
        let mut last = self.data_check.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(last) = &*last
            && Arc::ptr_eq(&last.manifest, manifest)
            && last
                .looked_at
                .iter()
                .all(|(file, seen)| version(file) == *seen)
        {
            return last.problems.clone();
        }
        let looked_at = RefCell::new(Vec::new());
        // The version is taken before the look, so a file changing meanwhile is checked again.
        let exists = |file: &str| {
            looked_at
                .borrow_mut()
                .push((file.to_string(), version(file)));
            self.files.exists(file)
        };
        let problems = manifest.data_problems(&exists, &|f, reading| self.files.header(f, reading));
        *last = Some(DataCheck {
            manifest: Arc::clone(manifest),
            looked_at: looked_at.into_inner(),
            problems: problems.clone(),
        });
        problems
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
        if !matches!(route, Ok(Route::Health))
            && let Err(detail) = self.auth.check(request)
        {
            return (Counted::Other, Response::error(401, &detail));
        }
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
        let response = self.answer(request, &manifest, route);
        (counted, response.not_modified_for(request))
    }

    /// The answer of a route's handler to a request whose method it takes.
    fn answer(&self, request: &Request, manifest: &Arc<Manifest>, route: Route) -> Response {
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
                    Some(append) if matches!(request.method, Method::Post | Method::Put) => {
                        self.writes.serve(widget, append, request)
                    }
                    _ => widgets::serve(&self.call(widget, request, &params)),
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
                let response = udf::serve(&self.call(chart, request, &params), source, route);
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
        params: &'a [(String, String)],
    ) -> Call<'a> {
        Call {
            files: &self.files,
            widget,
            request,
            params,
            auth: &self.auth,
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
        self.auth
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
        let call = self.call(grid.widget, request, &params);
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

    fn info(&self, manifest: &Manifest) -> Response {
        Response::json(
            200,
            &serde_json::json!({
                "name": env!("CARGO_PKG_NAME"),
                "version": env!("CARGO_PKG_VERSION"),
                "widgets": manifest.widget_count(),
                "auth_required": self.auth.required(),
                "uptime_seconds": self.started.elapsed().as_secs(),
                "live_subscribers": self.live.subscribers(),
                "live_queued_bytes": self.live.queued_bytes(),
                "problems": self.problems().into_iter().map(|p| p.line).collect::<Vec<_>>(),
            }),
        )
        // `/` answers by `Accept` (JSON or the status page) and changes every second: neither
        // answer is kept by a cache, so none can be served for the other.
        .with_header("Cache-Control", "no-store")
    }

    /// The status page (`/` in a browser): what [`App::info`] says, with each widget's last
    /// answer; the URL to paste into Workspace is the one the browser used.
    fn status_page(&self, request: &Request, manifest: &Manifest) -> Response {
        let served: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&manifest.served.bytes).unwrap_or_default();
        let text = |entry: &serde_json::Value, key: &str, default: &str| {
            entry[key].as_str().unwrap_or(default).to_string()
        };
        let widgets = served
            .iter()
            .map(|(id, entry)| WidgetRow {
                name: text(entry, "name", id),
                kind: text(entry, "type", "table"),
                endpoint: text(entry, "endpoint", ""),
                last: self.last_statuses.get(id),
            })
            .collect();
        // The Host check has passed: it is a name this server answers to.
        let host = request.header("host").unwrap_or("127.0.0.1");
        let url = format!("{}://{host}", self.scheme);
        status_page::render(&status_page::Status {
            url: &url,
            auth_required: self.auth.required(),
            origins: &self.cors_origins,
            widgets,
            problems: &self.problems(),
        })
    }

    /// `/metrics` in Prometheus' text format: the requests counted, the caches, live_grid
    /// subscribers, failed remote fetches and the current problems.
    fn metrics(&self) -> Response {
        let mut out = Exposition::default();
        self.metrics.write(&mut out);
        type Figure = fn(&CacheStats) -> u64;
        let cache_families: [(&str, &str, &str, Figure); 4] = [
            (
                "openbb_files_cache_bytes",
                "gauge",
                "Bytes a cache holds, counted against its budget.",
                |stats| stats.bytes as u64,
            ),
            (
                "openbb_files_cache_entries",
                "gauge",
                "Entries a cache holds.",
                |stats| stats.entries as u64,
            ),
            (
                "openbb_files_cache_hits_total",
                "counter",
                "Answers a cache gave from memory.",
                |stats| stats.hits,
            ),
            (
                "openbb_files_cache_misses_total",
                "counter",
                "Times a cache had to read, fetch or render.",
                |stats| stats.misses,
            ),
        ];
        let caches = self.files.cache_stats();
        for (name, kind, help, figure) in cache_families {
            out.family(name, kind, help);
            for (cache, stats) in &caches {
                out.sample(name, &[("cache", cache)], figure(stats));
            }
        }
        out.gauge(
            "openbb_files_live_subscribers",
            "live_grid WebSockets open.",
            &[(&[], self.live.subscribers() as u64)],
        );
        out.counter(
            "openbb_files_remote_fetch_failures_total",
            "Fetches of remote data sources that failed.",
            &[(&[], self.files.remote.failures())],
        );
        let problems = self.problems();
        let count = |severity| problems.iter().filter(|p| p.severity == severity).count();
        out.gauge(
            "openbb_files_problems",
            "Problems listed at / now, by severity.",
            &[
                (&[("severity", "error")], count(Severity::Error) as u64),
                (&[("severity", "warning")], count(Severity::Warning) as u64),
            ],
        );
        out.gauge(
            "openbb_files_uptime_seconds",
            "Seconds since the server started.",
            &[(&[], self.started.elapsed().as_secs())],
        );
        out.gauge(
            "openbb_files_build_info",
            "The version serving, as a label.",
            &[(&[("version", env!("CARGO_PKG_VERSION"))], 1)],
        );
        let body = Body::Owned(out.into_string().into_bytes());
        Response::new(200, crate::metrics::CONTENT_TYPE, body)
            .with_header("Cache-Control", "no-store")
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

/// Loads `widgets.json` (`None` when there is none).
type Loader = fn(Option<&[u8]>) -> Result<Option<Arc<Manifest>>, String>;

fn load(bytes: Option<&[u8]>) -> Result<Option<Arc<Manifest>>, String> {
    bytes
        .map(|bytes| Manifest::parse(Some(bytes)).map(Arc::new))
        .transpose()
}

/// [`load`], logging each widget left out and each warning, on every load.
fn load_and_log(bytes: Option<&[u8]>) -> Result<Option<Arc<Manifest>>, String> {
    let manifest = load(bytes)?;
    for manifest in manifest.iter() {
        for problem in &manifest.problems {
            log_problem("widget left out: ", problem);
        }
        for warning in &manifest.warnings {
            log_problem("", warning);
        }
    }
    Ok(manifest)
}

/// Logs `problem` at its severity, its line after `prefix`.
fn log_problem(prefix: &str, problem: &Problem) {
    let level = match problem.severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
    };
    crate::log::write(level, &format!("openbb-files: {prefix}{}", problem.line));
}

/// `widgets.json` and `apps.json` as loaded (each value is replaced on a reload).
struct Loaded {
    widgets: Arc<Option<Arc<Manifest>>>,
    apps: Arc<Option<Payload>>,
}

/// The last check of the served widgets against `data/`.
struct DataCheck {
    manifest: Arc<Manifest>,
    /// Each file the check looked for, with its version then (`None`: not there).
    looked_at: Vec<(String, Option<FileVersion>)>,
    problems: Vec<Problem>,
}
