//! What the server knows to be wrong, and the background check that finds it:
//! [`App::problems`] (listed at `/`, counted at `/metrics`, printed by `check`),
//! [`App::read_data_files`], and [`App::watch`], which the server runs on a thread of its own to
//! reload the manifests, read the served widgets' data files and log what it finds. Invariants:
//! each reload and each data or app problem is logged once, when found (a widget left out on
//! every load of `widgets.json`); the data problems are checked again only when the manifest or
//! a file they concern changed, so `/` reads no data.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cache::FileVersion;
use crate::http::Payload;
use crate::log::Level;
use crate::manifest::Manifest;
use crate::validate::{Problem, Severity};
use crate::widgets;

use super::App;

/// The shortest pause of [`App::watch`] between two checks.
pub const WATCH_PAUSE: Duration = Duration::from_secs(2);
/// A check pauses at least this many times as long as it took, so that the background check
/// takes at most about a twentieth of one core however large `data/` is.
const WATCH_PAUSE_FACTOR: u32 = 20;

impl App {
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
    pub(super) fn log_reloads(&self) {
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
    pub(super) fn log_new_problems(&self, manifest: &Arc<Manifest>) {
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
}

/// Loads `widgets.json` (`None` when there is none).
pub(super) type Loader = fn(Option<&[u8]>) -> Result<Option<Arc<Manifest>>, String>;

pub(super) fn load(bytes: Option<&[u8]>) -> Result<Option<Arc<Manifest>>, String> {
    bytes
        .map(|bytes| Manifest::parse(Some(bytes)).map(Arc::new))
        .transpose()
}

/// [`load`], logging each widget left out and each warning, on every load.
pub(super) fn load_and_log(bytes: Option<&[u8]>) -> Result<Option<Arc<Manifest>>, String> {
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
pub(super) struct Loaded {
    widgets: Arc<Option<Arc<Manifest>>>,
    apps: Arc<Option<Payload>>,
}

/// The last check of the served widgets against `data/`.
pub(super) struct DataCheck {
    manifest: Arc<Manifest>,
    /// Each file the check looked for, with its version then (`None`: not there).
    looked_at: Vec<(String, Option<FileVersion>)>,
    problems: Vec<Problem>,
}
