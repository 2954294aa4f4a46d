//! `widgets.json`, `apps.json` and `agents.json`: what Workspace is served, and the server side
//! of each served widget. By job: `model.rs` (a [`Widget`]: its id, endpoint, filters and its
//! [`Kind`], one variant per type holding that type's settings), `backend.rs` (one entry into a
//! widget and its options endpoints), `clashes.rs` (no two widgets answer one path
//! differently), `apps.rs` (`apps.json`, `agents.json`); here, [`Manifest::parse`], the lookups
//! by exact path that `router.rs` decides routes with, and the checks against `data/`.
//!
//! A widget entry may carry one server-side key, `backend`, that Workspace never sees:
//!
//! ```json
//! "backend": {"file": "reports/{ticker}.md", "filters": {"symbol": "ticker"},
//!             "options": {"ticker": {"file": "holdings.csv", "column": "ticker"}}}
//! ```
//!
//! Keys, and the widget types (`type`, default `table`) they apply to:
//!
//! | key | types | meaning |
//! |---|---|---|
//! | `file` | all but multi_file_viewer, omni | file under `data/`, or an `http(s)://` URL; `{param}` placeholders take that parameter's value (one safe path segment). Default `<endpoint>.<ext>` per type |
//! | `folder` | newsfeed, multi_file_viewer, omni | folder under `data/`: Markdown notes (a newsfeed takes `file` or `folder`, not both), the files to pick from (default: the endpoint), the files searched (omni default: all of `data/`) |
//! | `filters` | table, ssrm_table, the charts, html, metric, newsfeed | parameter → column rules (see `filter.rs`) |
//! | `column`, `label` | metric | computed metric from a CSV: latest value of `column` and its change, named `label` |
//! | `records` | chart, chart-highcharts, chart-vegalite, html | table file answered for `raw=true` |
//! | `mode` | pdf | `"base64"` (default) or `"url"` (a link to the `/files/...` route) |
//! | `sheet`, `delimiter`, `decimal` | those taking `file` that read a table | how its table file is read (see `formats/mod.rs`): a workbook's sheet (name or 0-based index), the separator of delimited text (one ASCII character or `\t`; default detected), the decimal mark (`,` reads decimal commas as numbers; default: only with `;` separators) |
//! | `ttl` | those taking `file` | seconds a remote `file` (`http(s)://...`, see `remote.rs`) is kept before it is fetched again |
//! | `filters` on live_grid | live_grid | the same rules, also applied to the rows pushed over its WebSocket |
//! | `append` | table, live_grid, newsfeed | `{file, columns: [{name, type?, options?}], key?, created_at?, submitted_by?}`: the `.csv`/`.jsonl` file the widget's form adds rows to (POST; PUT replaces the row of `key`); on a newsfeed `{folder, columns?, submitted_by?}`: the folder its form adds a Markdown note to; see `append.rs` and `writes/` |
//! | `options` | all | `{paramName: {file, column?, label?}}`: answers that param's `optionsEndpoint` with the distinct values of `column` (or the options array in a JSON `file`; the widget's own `file` is read as the widget reads it: `sheet`, `delimiter`, `decimal`); `{paramName: {folder, extension?, stems?}}`: with the files of `folder` (not its subfolders), those ending `.extension` if given, by name or, with `"stems": true`, by name without the extension |
//!
//! A multi_file_viewer's `fileSelector` param gets its options endpoint answered with the folder's
//! files without any `options` entry. Invariants: the served manifest holds only entries that
//! passed these checks, with `backend` removed and key order kept; each entry left out has a
//! problem line `widget: field: message`; no two served widgets share an endpoint (or an options
//! endpoint) with different backends; no widget or options endpoint takes a reserved path or the
//! `/files/` prefix.

mod append;
mod apps;
mod backend;
mod clashes;
mod model;
#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

pub use append::{Append, Column, ColumnType, FORM_BUTTON, Format, NOTE_BODY, NOTE_TITLE};
pub use apps::{parse_agents, parse_apps};
pub use model::{
    Articles, ChartLibrary, Kind, LiveGrid, LiveSocket, OptionsRoute, OptionsSource, PdfMode,
    Source, Tile, Type, Widget,
};

use crate::error::FileError;
use crate::filter::Rule;
use crate::formats::Reading;
use crate::http::Payload;
use crate::remote::is_remote;
use crate::template::{fills, placeholders};
use crate::validate::{self, Problem};
use crate::workspace;
use apps::read_json;

#[derive(Debug)]
pub struct Manifest {
    /// The JSON object Workspace receives.
    pub served: Payload,
    widgets: Vec<Widget>,
    /// For each widget, the columns its entry names as `(field, column)`: checked against the
    /// data by [`Manifest::data_problems`].
    named: Vec<Vec<(String, String)>>,
    /// For each widget, the file its "Validate widgets" call reads when that name is a template
    /// filled by the default params: checked to exist by [`Manifest::data_problems`].
    validation_files: Vec<Option<String>>,
    options: Vec<OptionsRoute>,
    /// Why widgets were left out, as `widget: field: message` lines.
    pub problems: Vec<Problem>,
    /// What a user should hear of the served widgets (spellings served under the front end's
    /// name, keys it does not know, ...), as `widget: field: warning: message` lines.
    pub warnings: Vec<Problem>,
}

/// Paths the server answers itself; no widget may take them.
pub(crate) const RESERVED_ENDPOINTS: [&str; 7] = [
    "",
    "widgets.json",
    "apps.json",
    "templates.json",
    "agents.json",
    "health",
    "metrics",
];

/// The raw-file route's prefix: `/files/<path under data/>`.
pub const FILES_PREFIX: &str = "files";

impl Manifest {
    pub fn empty() -> Manifest {
        Manifest {
            served: Payload::new(&b"{}"[..]),
            widgets: Vec::new(),
            named: Vec::new(),
            validation_files: Vec::new(),
            options: Vec::new(),
            problems: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Parses `widgets.json`. Only a file that is not a JSON object fails as a whole; a bad
    /// entry is left out and reported in `problems`.
    pub fn parse(bytes: Option<&[u8]>) -> Result<Manifest, String> {
        let bytes = bytes.ok_or("widgets.json: the file was not found in the root folder")?;
        let (document, _) = read_json("widgets.json", bytes)?;
        let Value::Object(entries) = document else {
            return Err(
                "widgets.json: expected an object mapping widget ids to widgets".to_string(),
            );
        };
        let mut manifest = Manifest::empty();
        let mut served = Map::new();
        for (id, mut entry) in entries {
            let Some(object) = entry.as_object_mut() else {
                let issue = validate::Issue::error("widget", "expected an object");
                manifest.problems.push(issue.problem(&id));
                continue;
            };
            let mut issues = canonical_spellings(object);
            issues.extend(validate::widget(object));
            let lines = shown_lines(&id, &issues);
            if validate::has_error(&issues) {
                manifest.problems.extend(lines);
                continue;
            }
            let warnings = lines;
            match backend::widget(&id, entry).and_then(|(widget, routes, entry)| {
                manifest.check_clashes(&widget, &routes)?;
                Ok((widget, routes, entry))
            }) {
                Ok((widget, routes, entry)) => {
                    manifest.warnings.extend(warnings);
                    manifest.named.push(named_columns(&widget, &entry));
                    manifest
                        .validation_files
                        .push(validation_file(&widget, &entry));
                    served.insert(id, entry);
                    manifest.widgets.push(widget);
                    for route in routes {
                        if !manifest
                            .options
                            .iter()
                            .any(|r| r.endpoint == route.endpoint)
                        {
                            manifest.options.push(route);
                        }
                    }
                }
                Err((field, message)) => manifest
                    .problems
                    .push(Problem::error(format!("{id}: {field}: {message}"))),
            }
        }
        let served = serde_json::to_vec(&served).map_err(|err| err.to_string())?;
        manifest.served = Payload::new(served);
        Ok(manifest)
    }

    /// The ids of the served widgets, in manifest order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.widgets.iter().map(|w| w.id.as_str())
    }

    /// The served widgets, in manifest order.
    pub fn widgets(&self) -> impl Iterator<Item = &Widget> {
        self.widgets.iter()
    }

    pub fn widget_count(&self) -> usize {
        self.widgets.len()
    }

    /// The widget whose endpoint is `endpoint`.
    pub fn widget_at(&self, endpoint: &str) -> Option<&Widget> {
        self.widgets.iter().find(|w| w.endpoint == endpoint)
    }

    /// The options endpoint at `endpoint`.
    pub fn options_at(&self, endpoint: &str) -> Option<&OptionsRoute> {
        self.options.iter().find(|r| r.endpoint == endpoint)
    }

    /// The live_grid whose `wsEndpoint` is `endpoint`.
    pub fn live_grid_at(&self, endpoint: &str) -> Option<LiveGrid<'_>> {
        self.widgets.iter().find_map(|widget| match &widget.kind {
            Kind::LiveGrid { source, socket } if socket.endpoint == endpoint => Some(LiveGrid {
                widget,
                source,
                socket,
            }),
            _ => None,
        })
    }

    /// The served widgets checked against `data/` (warnings, as `widget: field: warning: ...`
    /// lines): the file a widget reads exists, and holds the columns the widget names. `exists`
    /// and `header` look at a file relative to `data/`; `header` gives a table's column names
    /// as the widget reads the file (its sheet, separator; `None` for a document that is not a
    /// table).
    pub fn data_problems(
        &self,
        exists: &dyn Fn(&str) -> bool,
        header: &dyn Fn(&str, &Reading) -> Header,
    ) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut check =
            // `read_as`: how the file is read when it is read as data (a table or a document).
            |id: &str, candidates: Vec<String>, read_as: Option<&Reading>, named: &[(String, String)]| {
                let Some(file) = candidates.iter().find(|c| exists(c)) else {
                    let shown: Vec<String> =
                        candidates.iter().map(|c| format!("data/{c}")).collect();
                    let message = format!("{} does not exist (yet)", shown.join(" or "));
                    problems.push(validate::Issue::warning("backend.file", message).problem(id));
                    return;
                };
                let Some(reading) = read_as else {
                    return;
                };
                let shown = format!("data/{file}");
                let issues = match header(file, reading) {
                    Ok(Some(columns)) => validate::data_columns(&shown, &columns, named),
                    Ok(None) => Vec::new(),
                    Err(err) => vec![validate::Issue::error("backend.file", err.to_string())],
                };
                problems.extend(issues.iter().map(|issue| issue.problem(id)));
            };
        let as_named = Reading::default();
        for (widget, named) in self.widgets.iter().zip(&self.named) {
            if let Some(candidates) = widget.known_files() {
                let read_as = widget.kind.widget_type().reads_data().then(|| {
                    widget
                        .kind
                        .source()
                        .map_or(&as_named, |source| &source.reading)
                });
                check(&widget.id, candidates, read_as, named);
            }
        }
        for route in &self.options {
            if let OptionsSource::Column {
                file,
                column,
                label,
                reading,
            } = &route.source
            {
                let named: Vec<(String, String)> = [Some(column), label.as_ref()]
                    .into_iter()
                    .flatten()
                    .map(|c| ("backend.options".to_string(), c.clone()))
                    .collect();
                check(&route.widget, vec![file.clone()], Some(reading), &named);
            }
        }
        for (widget, file) in self.widgets.iter().zip(&self.validation_files) {
            if let Some(file) = file.as_deref().filter(|file| !exists(file)) {
                let message = format!(
                    "Workspace's \"Validate widgets\" call (the default params, ticker params as \
                     {}) asks for data/{file}, which does not exist: adding this backend with \
                     Validate widgets on fails",
                    workspace::VALIDATION_TICKER
                );
                problems
                    .push(validate::Issue::warning("backend.file", message).problem(&widget.id));
            }
        }
        problems
    }

    /// The files under `data/` that the served widgets read as data (tables and JSON
    /// documents): the first existing candidate of each such widget, every file of `listing`
    /// (all of `data/`) a templated name can stand for, its `records`, and the files of its
    /// options, each with how its widget reads it (a sheet, a separator). Remote names are left
    /// out.
    pub fn data_files(
        &self,
        exists: &dyn Fn(&str) -> bool,
        listing: &[String],
    ) -> Vec<(String, Reading)> {
        let readers = self
            .widgets
            .iter()
            .filter(|w| w.kind.widget_type().reads_data());
        let reading = |w: &Widget| {
            w.kind
                .source()
                .map(|s| s.reading.clone())
                .unwrap_or_default()
        };
        let widget_files = readers.clone().filter_map(move |w| match w.known_files() {
            Some(candidates) => candidates
                .into_iter()
                .find(|f| exists(f))
                .map(|f| (f, reading(w))),
            None => None,
        });
        let templated = readers.flat_map(move |w| {
            let template = w.local_template().unwrap_or_default();
            listing
                .iter()
                .filter(move |name| !template.is_empty() && fills(template, name))
                .map(move |name| (name.clone(), reading(w)))
        });
        let records = self
            .widgets
            .iter()
            .filter_map(|w| w.kind.records().map(str::to_string));
        let options = self.options.iter().filter_map(|route| match &route.source {
            OptionsSource::Column { file, reading, .. } => Some((file.clone(), reading.clone())),
            OptionsSource::Static { file } => Some((file.clone(), Reading::default())),
            OptionsSource::Folder { .. } => None,
        });
        let mut files: Vec<(String, Reading)> = widget_files
            .chain(templated)
            .chain(records.map(|file| (file, Reading::default())))
            .chain(options)
            .filter(|(file, _)| !is_remote(file))
            .collect();
        files.sort();
        files.dedup();
        files
    }

    /// The served widgets that have a write target (`backend.append`), with it.
    pub fn write_targets(&self) -> impl Iterator<Item = (&Widget, &Append)> {
        self.widgets
            .iter()
            .filter_map(|w| w.append.as_ref().map(|append| (w, append)))
    }

    /// The folders of the served newsfeeds of notes.
    pub fn note_folders(&self) -> impl Iterator<Item = &str> {
        self.widgets.iter().filter_map(|w| match &w.kind {
            Kind::Newsfeed(Articles::Notes { folder }) => Some(folder.as_str()),
            _ => None,
        })
    }
}

/// A table file's column names (`None`: a document that is not a table), or why it does not read.
pub type Header = Result<Option<Vec<String>>, FileError>;

/// The file a widget's "Validate widgets" call reads, when the name is a template that the
/// default params Workspace sends fill (a missing one is a 422 Workspace accepts).
fn validation_file(widget: &Widget, entry: &Value) -> Option<String> {
    let template = widget.local_template()?;
    let names = placeholders(template)
        .ok()
        .filter(|names| !names.is_empty())?;
    let defaults = workspace::default_params(entry.as_object()?, workspace::today());
    let mut filled = template.to_string();
    for name in names {
        let value = defaults
            .iter()
            .find(|(param, _)| param == name)
            .map(|(_, value)| validate::js_string(value))
            .filter(|value| !value.trim().is_empty())?;
        filled = filled.replace(&format!("{{{name}}}"), value.trim());
    }
    Some(filled)
}

/// The columns a widget names in its table file: `columnsDefs` fields, filter rule columns, a
/// metric's column; as `(field, column)`.
fn named_columns(widget: &Widget, entry: &Value) -> Vec<(String, String)> {
    if !matches!(
        widget.kind,
        Kind::Table(_) | Kind::Ssrm(_) | Kind::Metric { .. }
    ) {
        return Vec::new();
    }
    let mut named: Vec<(String, String)> = entry
        .as_object()
        .map(validate::column_fields)
        .unwrap_or_default()
        .into_iter()
        .map(|field| ("data.table.columnsDefs".to_string(), field))
        .collect();
    for (param, rule) in &widget.filters {
        if let Some(Rule::Column(column) | Rule::Bound { column, .. }) = rule {
            named.push((format!("backend.filters.{param}"), column.clone()));
        }
    }
    if let Kind::Metric {
        tile: Some(tile), ..
    } = &widget.kind
    {
        named.push(("backend.column".to_string(), tile.column.clone()));
    }
    named
}

/// The problem lines listed for one widget: at most [`LINES_PER_WIDGET`], then how many more
/// (a widget of 100,000 bad columns must not make `/` megabytes long).
fn shown_lines(id: &str, issues: &[validate::Issue]) -> Vec<Problem> {
    let mut lines: Vec<Problem> = issues
        .iter()
        .take(LINES_PER_WIDGET)
        .map(|issue| issue.problem(id))
        .collect();
    if let Some(first) = issues.get(LINES_PER_WIDGET) {
        let more = issues.len() - LINES_PER_WIDGET;
        lines.push(Problem {
            severity: first.severity,
            line: format!("{id}: and {more} more problems like these"),
        });
    }
    lines
}

const LINES_PER_WIDGET: usize = 20;

/// Rewrites a type (or `defaultViz`) written in a spelling the front end refuses to the one it
/// accepts, with a warning naming it.
fn canonical_spellings(entry: &mut Map<String, Value>) -> Vec<validate::Issue> {
    let mut issues = Vec::new();
    for key in ["type", "defaultViz"] {
        let Some(Value::String(name)) = entry.get(key) else {
            continue;
        };
        if let Some(canonical) = validate::canonical_type(name) {
            issues.push(validate::Issue::warning(
                key,
                format!("\"{name}\" is served as \"{canonical}\", the spelling Workspace accepts"),
            ));
            entry.insert(key.to_string(), Value::from(canonical));
        }
    }
    issues
}
