//! The application: routes a [`Request`] to a handler and returns a [`Response`].
//!
//! Order for every request: `OPTIONS` is a CORS preflight (no token needed); then the token
//! check; then the route (unknown path → 404, known path with a method it does not take → 405
//! with `Allow`). CORS headers are added to every answer, errors included, so the browser can
//! show them. Invariant: every error body is `{"detail": "..."}`, and only files that
//! `paths::DataDir` resolves are ever read besides the two manifests.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use crate::auth::Auth;
use crate::cache::{FileCache, FileVersion, ResponseCache, Watched};
use crate::config::Config;
use crate::cors::Cors;
use crate::data::Data;
use crate::http::{JSON, Method, Payload, Request, Response};
use crate::manifest::{self, Manifest, Widget};
use crate::paths::{DataDir, clean_request_path};

pub struct App {
    data: DataDir,
    widgets: Watched<Manifest>,
    apps: Watched<Payload>,
    files: FileCache<Result<Data, String>>,
    responses: ResponseCache<Source>,
    /// Data files whose last read failed, by shown path; cleared when they read again.
    file_problems: RwLock<BTreeMap<String, String>>,
    cors: Cors,
    auth: Auth,
    started: Instant,
}

const READ_ONLY: &str = "GET, HEAD, OPTIONS";

/// Bytes of rendered responses kept for repeated requests.
const RESPONSE_CACHE_BYTES: usize = 64 * 1024 * 1024;

/// What a widget response was rendered from: it stays valid while the manifest (the same
/// parsed value, held here so its address cannot be reused) and the data file are unchanged.
#[derive(Clone)]
struct Source {
    manifest: Arc<Manifest>,
    file: PathBuf,
    version: FileVersion,
}

impl PartialEq for Source {
    fn eq(&self, other: &Source) -> bool {
        Arc::ptr_eq(&self.manifest, &other.manifest)
            && self.file == other.file
            && self.version == other.version
    }
}

impl App {
    pub fn new(config: &Config) -> App {
        let app = App {
            data: DataDir::new(config.root.join("data")),
            widgets: Watched::new(
                config.root.join("widgets.json"),
                Manifest::empty(),
                Manifest::parse,
            ),
            apps: Watched::new(
                config.root.join("apps.json"),
                Payload::new(&b"[]"[..]),
                manifest::parse_apps,
            ),
            files: FileCache::default(),
            responses: ResponseCache::new(RESPONSE_CACHE_BYTES),
            file_problems: RwLock::new(BTreeMap::new()),
            cors: Cors::new(&config.cors_origins),
            auth: Auth::new(
                config.api_key.clone(),
                &config.auth_header,
                &config.auth_query,
            ),
            started: Instant::now(),
        };
        let (manifest, _) = app.widgets.get();
        for problem in &manifest.problems {
            eprintln!("openbb-files: widget left out: {problem}");
        }
        app.apps.get();
        app
    }

    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// Every problem the server knows of: manifest files, widgets left out, unreadable data.
    pub fn problems(&self) -> Vec<String> {
        let (manifest, widgets_problem) = self.widgets.get();
        let (_, apps_problem) = self.apps.get();
        let files = self.file_problems.read().unwrap_or_else(|p| p.into_inner());
        widgets_problem
            .iter()
            .chain(apps_problem.iter())
            .map(|p| p.to_string())
            .chain(manifest.problems.iter().cloned())
            .chain(files.values().cloned())
            .collect()
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
        let (manifest, _) = self.widgets.get();
        let widget = manifest.widget_for(&path);
        if !matches!(
            path.as_str(),
            "" | "widgets.json" | "apps.json" | "templates.json"
        ) && widget.is_none()
        {
            return not_found();
        }
        if !matches!(request.method, Method::Get | Method::Head) {
            return Response::error(
                405,
                &format!(
                    "{} is not allowed on {}",
                    request.method.as_str(),
                    request.path
                ),
            )
            .with_header("Allow", READ_ONLY);
        }
        match (path.as_str(), widget) {
            ("", _) => self.info(&manifest),
            ("widgets.json", _) => Response::payload(JSON, &manifest.served),
            ("apps.json" | "templates.json", _) => Response::payload(JSON, &self.apps.get().0),
            (_, Some(widget)) => self.serve_widget(&manifest, widget, request),
            (_, None) => not_found(),
        }
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
                "problems": self.problems(),
            }),
        )
    }

    fn serve_widget(
        &self,
        manifest: &Arc<Manifest>,
        widget: &Widget,
        request: &Request,
    ) -> Response {
        let (relative, file, meta) = match self.locate(widget) {
            Ok(found) => found,
            Err(detail) => return Response::error(404, &detail),
        };
        let shown = self.data.display(&relative);
        let version = FileVersion::from_metadata(&meta);
        let mut params: Vec<(String, String)> = request
            .query
            .iter()
            .filter(|(name, _)| !(self.auth.required() && name == self.auth.query_name()))
            .cloned()
            .collect();
        // Parameter order never changes the rows, so it does not split the cache.
        params.sort();
        let key = params
            .iter()
            .fold(widget.endpoint.clone(), |mut key, (name, value)| {
                key.extend(['\0', '?']);
                key.push_str(name);
                key.push('\0');
                key.push_str(value);
                key
            });
        let source = Source {
            manifest: Arc::clone(manifest),
            file,
            version,
        };
        let rendered = self.responses.get_or_render(key, &source, || {
            let data = self
                .files
                .get(&source.file, |path| Data::load(&shown, path))
                .map_err(|err| Response::error(404, &format!("{shown}: {err}")))?;
            let data = match data.as_ref() {
                Ok(data) => data,
                Err(detail) => {
                    self.record_file_problem(&shown, detail);
                    return Err(Response::error(500, detail));
                }
            };
            self.clear_file_problem(&shown);
            data.render(&params, &widget.filters)
                .map(Payload::new)
                .map_err(|detail| {
                    Response::error(500, &format!("{}: filters: {detail}", widget.id))
                })
        });
        match rendered {
            Ok(payload) => Response::payload(JSON, &payload),
            Err(error) => error,
        }
    }

    /// The widget's data file: `backend.file`, else `<endpoint>.csv`, else `<endpoint>.json`.
    fn locate(&self, widget: &Widget) -> Result<(String, PathBuf, std::fs::Metadata), String> {
        let candidates = match &widget.file {
            Some(file) => vec![file.clone()],
            None => vec![
                format!("{}.csv", widget.endpoint),
                format!("{}.json", widget.endpoint),
            ],
        };
        candidates
            .iter()
            .find_map(|relative| {
                let (path, meta) = self.data.resolve(relative)?;
                Some((relative.clone(), path, meta))
            })
            .ok_or_else(|| {
                let shown: Vec<String> = candidates.iter().map(|c| self.data.display(c)).collect();
                format!(
                    "widget '{}' has no data file: looked for {}",
                    widget.id,
                    shown.join(" and ")
                )
            })
    }

    fn record_file_problem(&self, shown: &str, detail: &str) {
        let mut problems = self
            .file_problems
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if problems.get(shown).map(String::as_str) != Some(detail) {
            eprintln!("openbb-files: {detail}");
            problems.insert(shown.to_string(), detail.to_string());
        }
    }

    fn clear_file_problem(&self, shown: &str) {
        let present = self
            .file_problems
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(shown);
        if present {
            self.file_problems
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .remove(shown);
        }
    }
}
