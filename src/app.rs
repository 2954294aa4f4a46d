//! The application: routes a [`Request`] to a handler and returns a [`Response`].
//!
//! Order for every request: `OPTIONS` is a CORS preflight (no token needed); then the token
//! check; then the route (unknown path → 404, known path with a method it does not take → 405
//! with `Allow`): the manifests, `/files/<path>` (raw files under `data/`), each widget's
//! endpoint (and, for an advanced chart, the UDF routes below it such as `<endpoint>/history`;
//! handled in `widgets::*` by the widget's type; POST only for multi_file_viewer, omni and
//! table_ssrm, GET/HEAD for the rest) and each options endpoint. CORS headers are added to
//! every answer, errors included, so the browser can show them; a 200 whose `ETag` the client
//! already has becomes a 304. A WebSocket handshake comes to [`App::upgrade`] instead: the
//! origin and token checks, then a live_grid's `wsEndpoint` (`live.rs` takes the connection);
//! a plain GET on a `wsEndpoint` is a 426. Invariant: every error body is `{"detail": "..."}`, and only files
//! that `paths::DataDir` resolves are ever read besides the two manifests.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use crate::auth::Auth;
use crate::cache::Watched;
use crate::config::Config;
use crate::cors::Cors;
use crate::files::Files;
use crate::generate::Generated;
use crate::http::{JSON, Method, Payload, Request, Response};
use crate::live::{Hub, Limits};
use crate::manifest::{self, FILES_PREFIX, Manifest};
use crate::paths::{DataDir, clean_request_path};
use crate::websocket::{self, Upgrade};
use crate::widgets::{self, Call, options, pdf};

pub struct App {
    files: Arc<Files>,
    live: Arc<Hub>,
    /// `widgets.json`; `None` inside when the root has none and the manifest is generated.
    widgets: Watched<Option<Arc<Manifest>>>,
    generated: Generated,
    apps: Watched<Payload>,
    cors: Cors,
    auth: Auth,
    started: Instant,
}

const READ_ONLY: &str = "GET, HEAD, OPTIONS";
const POST_ONLY: &str = "POST, OPTIONS";

impl App {
    /// The app for a server: widgets left out are logged on every load of `widgets.json`, the
    /// other problems once at the start.
    pub fn new(config: &Config) -> App {
        App::with_live_limits(config, config.live.clone())
    }

    /// [`App::new`] whose live_grid sockets use `limits` (tests shorten the timeouts).
    pub fn with_live_limits(config: &Config, limits: Limits) -> App {
        let app = App::build(config, load_and_log, limits);
        let (manifest, _) = app.manifest();
        for warning in app.data_and_apps_problems(&manifest) {
            eprintln!("openbb-files: {warning}");
        }
        app
    }

    /// The app without logging, for `check`, which prints [`App::problems`] itself.
    pub fn quiet(config: &Config) -> App {
        App::build(config, load, Limits::default())
    }

    fn build(config: &Config, load: Loader, limits: Limits) -> App {
        let files = Arc::new(Files::new(DataDir::new(config.root.join("data"))));
        App {
            live: Arc::new(Hub::new(Arc::clone(&files), limits)),
            files,
            widgets: Watched::new(
                config.root.join("widgets.json"),
                Some(Arc::new(Manifest::empty())),
                load,
            ),
            generated: Generated::default(),
            apps: Watched::new(
                config.root.join("apps.json"),
                Payload::new(&b"[]"[..]),
                manifest::parse_apps,
            ),
            cors: Cors::new(&config.cors_origins),
            auth: Auth::new(
                config.api_key.clone(),
                &config.auth_header,
                &config.auth_query,
            ),
            started: Instant::now(),
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

    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// Every problem the server knows of: manifest files, widgets left out, widgets whose data
    /// is missing or lacks the columns they name, app layouts naming missing widgets,
    /// unreadable data.
    pub fn problems(&self) -> Vec<String> {
        let (manifest, widgets_problem) = self.manifest();
        let (_, apps_problem) = self.apps.get();
        widgets_problem
            .iter()
            .chain(apps_problem.iter())
            .map(|p| p.to_string())
            .chain(manifest.problems.iter().cloned())
            .chain(self.data_and_apps_problems(&manifest))
            .chain(self.files.problems())
            .collect()
    }

    /// The served widgets checked against `data/`, and `apps.json` against the served widgets.
    fn data_and_apps_problems(&self, manifest: &Manifest) -> Vec<String> {
        let mut problems =
            manifest.data_problems(&|f| self.files.exists(f), &|f| self.files.header(f));
        problems.extend(manifest.apps(&self.apps.get().0).1);
        problems
    }

    pub fn handle(&self, request: &Request) -> Response {
        if request.method == Method::Options {
            return self.cors.preflight(request);
        }
        let mut response = match self.auth.check(request) {
            Ok(()) => self.route(request).not_modified_for(request),
            Err(detail) => Response::error(401, &detail),
        };
        response
            .headers
            .extend(self.cors.headers(request.header("origin")));
        response
    }

    fn route(&self, request: &Request) -> Response {
        let not_found = || Response::error(404, &format!("not found: {}", request.path));
        let Some(path) = clean_request_path(&request.path) else {
            return not_found();
        };
        let (manifest, _) = self.manifest();
        let target = match path.as_str() {
            "" => Target::Info,
            "widgets.json" => Target::Widgets,
            "apps.json" | "templates.json" => Target::Apps,
            _ => match path.split_once('/') {
                Some((FILES_PREFIX, relative)) => Target::File(relative),
                _ => match (manifest.widget_for(&path), manifest.options_for(&path)) {
                    (Some(widget), _) => Target::Widget(widget),
                    (None, Some(route)) => Target::Options(route),
                    (None, None) => match manifest.live_for(&path) {
                        Some(widget) => {
                            return Response::error(
                                426,
                                &format!(
                                    "{} is the WebSocket of widget '{}': connect with a WebSocket client",
                                    request.path, widget.id
                                ),
                            )
                            .with_header("Upgrade", "websocket");
                        }
                        None => return not_found(),
                    },
                },
            },
        };
        let allowed = match target {
            Target::Widget(widget) if widget.kind.takes_post() => POST_ONLY,
            _ => READ_ONLY,
        };
        let method_allowed = match request.method {
            Method::Get | Method::Head => allowed == READ_ONLY,
            Method::Post => allowed == POST_ONLY,
            _ => false,
        };
        if !method_allowed {
            return Response::error(
                405,
                &format!(
                    "{} is not allowed on {}",
                    request.method.as_str(),
                    request.path
                ),
            )
            .with_header("Allow", allowed);
        }
        let params = self.params(request);
        match target {
            Target::Info => self.info(&manifest),
            Target::Widgets => Response::payload(JSON, &manifest.served),
            Target::Apps => Response::payload(JSON, &manifest.apps(&self.apps.get().0).0),
            Target::File(relative) => pdf::raw_file(&self.files, relative),
            Target::Options(route) => options::serve(&self.files, route, &params),
            Target::Widget(widget) => widgets::serve(&Call {
                files: &self.files,
                widget,
                request,
                params: &params,
                auth: &self.auth,
            }),
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
        self.open_socket(request).map_err(|mut response| {
            response
                .headers
                .extend(self.cors.headers(request.header("origin")));
            response
        })
    }

    fn open_socket(&self, request: &Request) -> Result<Upgrade, Response> {
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
        let widget = clean_request_path(&request.path)
            .and_then(|path| manifest.live_for(&path))
            .ok_or_else(|| Response::error(404, &format!("no WebSocket at {}", request.path)))?;
        let accept = websocket::handshake(request)?;
        let params = self.params(request).into_owned();
        let call = Call {
            files: &self.files,
            widget,
            request,
            params: &params,
            auth: &self.auth,
        };
        let relative = call.locate()?;
        let admission = self.live.admit(widget, &relative, request.remote)?;
        let hub = Arc::clone(&self.live);
        let widget = widget.clone();
        Ok(Upgrade {
            accept,
            start: Box::new(move |connection| {
                hub.join(widget, relative.into_name(), params, admission, connection)
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
                "problems": self.problems(),
            }),
        )
    }
}

/// Loads `widgets.json` (`None` when there is none).
type Loader = fn(Option<&[u8]>) -> Result<Option<Arc<Manifest>>, String>;

fn load(bytes: Option<&[u8]>) -> Result<Option<Arc<Manifest>>, String> {
    bytes
        .map(|bytes| Manifest::parse(Some(bytes)).map(Arc::new))
        .transpose()
}

/// [`load`], logging each widget left out, on every load.
fn load_and_log(bytes: Option<&[u8]>) -> Result<Option<Arc<Manifest>>, String> {
    let manifest = load(bytes)?;
    for problem in manifest.iter().flat_map(|m| &m.problems) {
        eprintln!("openbb-files: widget left out: {problem}");
    }
    Ok(manifest)
}

/// What a request path names.
enum Target<'m> {
    Info,
    Widgets,
    Apps,
    /// The raw-file route: a path under `data/`.
    File(&'m str),
    Widget(&'m manifest::Widget),
    Options(&'m manifest::OptionsRoute),
}
