//! The application: routes a [`Request`] to a handler and returns a [`Response`].
//!
//! Order for every request: the `Host` check (a name the server does not answer to → 421; see
//! `hosts.rs`); `OPTIONS` is a CORS preflight (no token needed); `/health` (no token needed,
//! see `health.rs`); then the token check; then the
//! route (unknown path → 404, known path with a method it does not take → 405 with `Allow`, a
//! POST whose `Content-Type` is not JSON → 415, so no page can make the server work without a
//! CORS preflight): the manifests (`widgets.json`, `apps.json`/`templates.json`,
//! `agents.json`), `/files/<path>` (raw files under `data/`), each widget's
//! endpoint (and, for an advanced chart, the UDF routes below it such as `<endpoint>/history`;
//! handled in `widgets::*` by the widget's type; POST only for multi_file_viewer, omni and
//! ssrm_table, GET/HEAD for the rest) and each options endpoint. CORS headers are added to
//! every answer, errors included, so the browser can show them; a 200 whose `ETag` the client
//! already has becomes a 304. `/` lists the problems known, the data ones checked again only
//! when the manifest or a file they concern changed. A WebSocket handshake comes to
//! [`App::upgrade`] instead: the `Host`, origin and token checks, then a live_grid's
//! `wsEndpoint` (`live.rs` takes the connection); a plain GET on a `wsEndpoint` is a 426.
//! Invariant: every error body is `{"detail": "..."}`, and only files that `paths::DataDir`
//! resolves are ever read besides the two manifests.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::auth::Auth;
use crate::cache::{FileVersion, Watched};
use crate::config::Config;
use crate::cors::Cors;
use crate::files::Files;
use crate::generate::Generated;
use crate::health;
use crate::hosts::Hosts;
use crate::http::{JSON, Method, Payload, Request, Response};
use crate::live::{Hub, Limits};
use crate::manifest::{self, FILES_PREFIX, Manifest};
use crate::paths::{DataDir, clean_request_path};
use crate::validate::Problem;
use crate::websocket::{self, Upgrade};
use crate::widgets::{self, Call, omni, options, pdf};

pub struct App {
    files: Arc<Files>,
    live: Arc<Hub>,
    /// `widgets.json`; `None` inside when the root has none and the manifest is generated.
    widgets: Watched<Option<Arc<Manifest>>>,
    /// The manifest served until `widgets.json` first parses (`/health` is 503 meanwhile).
    unloaded: Arc<Manifest>,
    generated: Generated,
    apps: Watched<Payload>,
    /// `agents.json`: `[]` when the root has none.
    agents: Watched<Payload>,
    cors: Cors,
    auth: Auth,
    hosts: Hosts,
    max_viewer_bytes: u64,
    searches: omni::Searches,
    started: Instant,
    data_check: Mutex<Option<DataCheck>>,
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
        for problem in app.data_and_apps_problems(&manifest) {
            crate::log::line(&format!("openbb-files: {}", problem.line));
        }
        app
    }

    /// The app without logging, for `check`, which prints [`App::problems`] itself.
    pub fn quiet(config: &Config) -> App {
        App::build(config, load, Limits::default())
    }

    fn build(config: &Config, load: Loader, limits: Limits) -> App {
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
            apps: Watched::new(
                config.root.join("apps.json"),
                Payload::new(&b"[]"[..]),
                manifest::parse_apps,
            ),
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
            started: Instant::now(),
            data_check: Mutex::new(None),
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
    pub fn problems(&self) -> Vec<Problem> {
        let (manifest, widgets_problem) = self.manifest();
        let (_, apps_problem) = self.apps.get();
        let (_, agents_problem) = self.agents.get();
        let files = self.files.problems().into_iter().map(|line| {
            // The one warning files record: a remote copy served while its upstream fails.
            match line.contains(": warning: ") {
                true => Problem::warning(line),
                false => Problem::error(line),
            }
        });
        widgets_problem
            .iter()
            .chain(apps_problem.iter())
            .chain(agents_problem.iter())
            .map(|p| Problem::error(p.to_string()))
            .chain(manifest.problems.iter().cloned())
            .chain(manifest.warnings.iter().cloned())
            .chain(self.data_and_apps_problems(&manifest))
            .chain(files)
            .collect()
    }

    /// Reads every data file a served widget reads (every file a templated name can stand for,
    /// every note of a newsfeed), so that one that does not parse is among the
    /// [`App::problems`] with its file and line. `check` does this; the server finds such a
    /// file when it is first requested.
    pub fn read_data_files(&self) {
        let (manifest, _) = self.manifest();
        let listing = self.files.dir.list("", true).unwrap_or_default();
        for file in manifest.data_files(&|f| self.files.exists(f), &listing) {
            let _ = self.files.data(file.as_str());
        }
        for folder in manifest.note_folders() {
            let _ = widgets::newsfeed::read_notes(&self.files, folder);
        }
    }

    /// The served widgets checked against `data/`, and `apps.json` against the served widgets.
    fn data_and_apps_problems(&self, manifest: &Arc<Manifest>) -> Vec<Problem> {
        let mut problems = self.data_problems(manifest);
        problems.extend(manifest.apps(&self.apps.get().0).1);
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
        let problems = manifest.data_problems(&exists, &|f| self.files.header(f));
        *last = Some(DataCheck {
            manifest: Arc::clone(manifest),
            looked_at: looked_at.into_inner(),
            problems: problems.clone(),
        });
        problems
    }

    pub fn handle(&self, request: &Request) -> Response {
        let mut response = match self.hosts.check(request) {
            Err(detail) => Response::error(421, &detail),
            Ok(()) if request.method == Method::Options => return self.cors.preflight(request),
            Ok(()) if request.path == health::PATH => health::answer(request, self.loaded()),
            Ok(()) => match self.auth.check(request) {
                Ok(()) => self.route(request).not_modified_for(request),
                Err(detail) => Response::error(401, &detail),
            },
        };
        response
            .headers
            .extend(self.cors.headers(request.header("origin")));
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

    /// An answer made outside [`App::handle`] (a refusal of the HTTP layer, a panic's 500)
    /// with the CORS headers every answer carries.
    pub fn finish(&self, request: &Request, mut response: Response) -> Response {
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
            "agents.json" => Target::Agents,
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
        if request.method == Method::Post && !is_json(request.header("content-type")) {
            return Response::error(
                415,
                &format!(
                    "a POST body must be sent as Content-Type: application/json, not {}",
                    request.header("content-type").unwrap_or("without a type")
                ),
            );
        }
        let params = self.params(request);
        match target {
            Target::Info => self.info(&manifest),
            Target::Widgets => Response::payload(JSON, &manifest.served),
            Target::Apps => Response::payload(JSON, &manifest.apps(&self.apps.get().0).0),
            Target::Agents => Response::payload(JSON, &self.agents.get().0),
            Target::File(relative) => pdf::raw_file(&self.files, relative),
            Target::Options(route) => options::serve(&self.files, route, &params),
            Target::Widget(widget) => widgets::serve(&Call {
                files: &self.files,
                widget,
                request,
                params: &params,
                auth: &self.auth,
                max_viewer_bytes: self.max_viewer_bytes,
                searches: &self.searches,
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
            max_viewer_bytes: self.max_viewer_bytes,
            searches: &self.searches,
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
                "problems": self.problems().into_iter().map(|p| p.line).collect::<Vec<_>>(),
            }),
        )
    }
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

/// [`load`], logging each widget left out, on every load.
fn load_and_log(bytes: Option<&[u8]>) -> Result<Option<Arc<Manifest>>, String> {
    let manifest = load(bytes)?;
    for manifest in manifest.iter() {
        for problem in &manifest.problems {
            crate::log::line(&format!("openbb-files: widget left out: {}", problem.line));
        }
        for warning in &manifest.warnings {
            crate::log::line(&format!("openbb-files: {}", warning.line));
        }
    }
    Ok(manifest)
}

/// The last check of the served widgets against `data/`.
struct DataCheck {
    manifest: Arc<Manifest>,
    /// Each file the check looked for, with its version then (`None`: not there).
    looked_at: Vec<(String, Option<FileVersion>)>,
    problems: Vec<Problem>,
}

/// What a request path names.
enum Target<'m> {
    Info,
    Widgets,
    Apps,
    Agents,
    /// The raw-file route: a path under `data/`.
    File(&'m str),
    Widget(&'m manifest::Widget),
    Options(&'m manifest::OptionsRoute),
}
