//! `widgets.json` and `apps.json`: what Workspace is served, and how each endpoint is answered.
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
//! | `folder` | newsfeed, multi_file_viewer, omni | folder under `data/`: Markdown notes, the files to pick from, the files searched (omni default: all of `data/`) |
//! | `filters` | table, ssrm_table, chart, html, metric, newsfeed | parameter → column rules (see `filter.rs`) |
//! | `column`, `label` | metric | computed metric from a CSV: latest value of `column` and its change, named `label` |
//! | `records` | chart, html | table file answered for `raw=true` |
//! | `mode` | pdf | `"base64"` (default) or `"url"` (a link to the `/files/...` route) |
//! | `ttl` | those taking `file` | seconds a remote `file` (`http(s)://...`, see `remote.rs`) is kept before it is fetched again |
//! | `filters` on live_grid | live_grid | the same rules, also applied to the rows pushed over its WebSocket |
//! | `options` | all | `{paramName: {file, column?, label?}}`: answers that param's `optionsEndpoint` with the distinct values of `column` (or the options array in a JSON `file`) |
//!
//! A multi_file_viewer's `fileSelector` param gets its options endpoint answered with the folder's
//! files without any `options` entry. Invariants: the served manifest holds only entries that
//! passed these checks, with `backend` removed and key order kept; each entry left out has a
//! problem line `widget: field: message`; no two served widgets share an endpoint (or an options
//! endpoint) with different backends; no widget or options endpoint takes a reserved path or the
//! `/files/` prefix.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::filter::Rule;
use crate::http::Payload;
use crate::paths::{clean_request_path, is_safe_segment};
use crate::remote::is_remote;
use crate::validate::{self, Problem};
use crate::workspace;

/// How a widget's endpoint is answered, from its `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `table` and every type without a handler of its own: the file's rows or document.
    Table,
    Markdown,
    Html,
    Metric,
    Newsfeed,
    Chart,
    Pdf,
    MultiFileViewer,
    Omni,
    /// `ssrm_table` (written `table_ssrm` too): AG Grid's server-side row model over a CSV.
    Ssrm,
    /// `advanced_charting` (written `advanced-chart` too): a TradingView UDF feed from an
    /// OHLCV CSV, answered at the endpoint (its configuration) and on routes below it
    /// (`<endpoint>/history`, ...).
    AdvancedChart,
    /// `live_grid`: a table's rows, and a WebSocket on `wsEndpoint` pushing changed rows.
    LiveGrid,
    /// `iframe`, `note`/`rich_note`: Workspace needs nothing from the backend. The widget is
    /// served as written; an endpoint on this server answers `{}` (Workspace's "Validate
    /// widgets" calls it), one on another site is not ours.
    PassThrough,
}

impl Kind {
    /// The handler for a widget type the front end accepts, or why openbb-files serves no
    /// widget of that type (and what to use instead).
    fn of(type_name: &str) -> Result<Kind, String> {
        Ok(match type_name {
            "markdown" => Kind::Markdown,
            "html" => Kind::Html,
            "metric" => Kind::Metric,
            "newsfeed" => Kind::Newsfeed,
            "chart" => Kind::Chart,
            "pdf" => Kind::Pdf,
            "multi_file_viewer" => Kind::MultiFileViewer,
            "omni" => Kind::Omni,
            "ssrm_table" => Kind::Ssrm,
            "advanced_charting" => Kind::AdvancedChart,
            "live_grid" => Kind::LiveGrid,
            "iframe" | "note" | "rich_note" => Kind::PassThrough,
            "table" | "chart-highcharts" | "chart-vegalite" | "youtube" => Kind::Table,
            "ssrm_advanced" => {
                return Err(
                    "openbb-files does not serve ssrm_advanced (SQL queries) yet: use ssrm_table"
                        .into(),
                );
            }
            "file_viewer" => {
                return Err(
                    "openbb-files does not serve file_viewer: use pdf (one file) or \
                     multi_file_viewer (a folder)"
                        .into(),
                );
            }
            other => {
                return Err(format!(
                    "\"{other}\" is not a widget type Workspace knows ({})",
                    validate::WIDGET_TYPES.join(", ")
                ));
            }
        })
    }

    /// The `backend` keys that mean something for this type.
    fn keys(self) -> &'static [&'static str] {
        match self {
            Kind::Table | Kind::Ssrm | Kind::LiveGrid => &["file", "filters", "options"],
            Kind::Markdown | Kind::AdvancedChart => &["file", "options"],
            Kind::Html | Kind::Chart => &["file", "filters", "records", "options"],
            Kind::Metric => &["file", "filters", "column", "label", "options"],
            Kind::Newsfeed => &["file", "folder", "filters", "options"],
            Kind::Pdf => &["file", "mode", "options"],
            Kind::MultiFileViewer | Kind::Omni => &["folder", "options"],
            Kind::PassThrough => &[],
        }
    }

    /// Whether `key` may appear in this type's `backend`: its own keys, `ttl` wherever `file`
    /// may be (for a remote file), and how a table file is read wherever one is.
    fn allows(self, key: &str) -> bool {
        match key {
            "ttl" => self.keys().contains(&"file"),
            "sheet" | "delimiter" | "decimal" => self.reads_data() && self.keys().contains(&"file"),
            key => self.keys().contains(&key),
        }
    }

    /// The extensions of the file read when `backend.file` is not given, in the order tried.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Kind::Table | Kind::Newsfeed => &["csv", "json"],
            Kind::Metric => &["json", "csv"],
            Kind::Markdown => &["md"],
            Kind::Html => &["html"],
            Kind::Chart => &["json"],
            Kind::Pdf => &["pdf"],
            Kind::Ssrm | Kind::AdvancedChart => &["csv"],
            Kind::LiveGrid => &["csv", "ndjson"],
            Kind::MultiFileViewer | Kind::Omni | Kind::PassThrough => &[],
        }
    }

    /// Whether the widget's file is read as data (a table or a JSON document), not as text or
    /// bytes.
    pub fn reads_data(self) -> bool {
        !matches!(
            self,
            Kind::Markdown
                | Kind::Html
                | Kind::Pdf
                | Kind::MultiFileViewer
                | Kind::Omni
                | Kind::PassThrough
        )
    }

    /// Whether the endpoint takes POST (with a JSON body) instead of GET.
    pub fn takes_post(self) -> bool {
        matches!(self, Kind::MultiFileViewer | Kind::Omni | Kind::Ssrm)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PdfMode {
    #[default]
    Base64,
    Url,
}

/// The server-side settings of one widget.
#[derive(Debug, Clone, PartialEq)]
pub struct Widget {
    pub id: String,
    /// Cleaned endpoint path, e.g. `prices` or `reports/daily`.
    pub endpoint: String,
    pub kind: Kind,
    /// Data file relative to `data/`, when the widget names one; may hold `{param}` placeholders.
    pub file: Option<String>,
    /// Folder relative to `data/` (newsfeed notes, multi_file_viewer, omni).
    pub folder: Option<String>,
    /// Explicit filter rules; `None` means "never filter on this parameter".
    pub filters: Vec<(String, Option<Rule>)>,
    /// Metric: the column whose latest value is shown, and the tile's label.
    pub column: Option<String>,
    pub label: Option<String>,
    /// Chart/html: the table file served for `raw=true`.
    pub records: Option<String>,
    pub pdf_mode: PdfMode,
    /// multi_file_viewer: the `paramName` of the `fileSelector` param (the POST body key).
    pub file_param: Option<String>,
    /// How long a remote `file` (an `http(s)` URL) is kept before it is fetched again.
    pub ttl: Option<std::time::Duration>,
    /// live_grid: the cleaned `wsEndpoint` path and the `data.wsRowIdColumn` keying its rows.
    pub live: Option<LiveSocket>,
    /// How its table file is read: `backend.sheet`, `backend.delimiter`, `backend.decimal`.
    pub reading: crate::formats::Reading,
}

/// Where a live_grid's WebSocket is and which column names its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveSocket {
    pub endpoint: String,
    pub row_key: String,
}

/// Where an options endpoint's answer comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionsSource {
    /// Distinct values of `column` of a table file, labelled by `label` (default: the value).
    Column {
        file: String,
        column: String,
        label: Option<String>,
    },
    /// A JSON file holding the options array as Workspace takes it.
    Static { file: String },
    /// The files of a folder (a multi_file_viewer's `fileSelector`).
    Folder { folder: String },
}

/// An options endpoint declared by a param's `optionsEndpoint`.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionsRoute {
    pub endpoint: String,
    pub source: OptionsSource,
    /// The widget that declared it (for messages).
    pub widget: String,
}

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
const RESERVED_ENDPOINTS: [&str; 7] = [
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BackendSpec {
    file: Option<String>,
    folder: Option<String>,
    #[serde(default)]
    filters: Map<String, Value>,
    column: Option<String>,
    label: Option<String>,
    records: Option<String>,
    #[serde(default)]
    mode: PdfMode,
    #[serde(default)]
    options: Map<String, Value>,
    ttl: Option<u64>,
    // How a table file is read (see `formats::Reading`).
    sheet: Option<Value>,
    delimiter: Option<String>,
    decimal: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionsSpec {
    file: String,
    column: Option<String>,
    label: Option<String>,
}

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
            match manifest.check_widget(&id, entry) {
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

    /// `apps.json` as served beside this manifest: apps that break the front end's rules and
    /// layout items naming a widget that is not served are taken out (see [`validate::apps`]);
    /// with the problem lines for `apps.json`.
    pub fn apps(&self, apps: &Payload) -> (Payload, Vec<Problem>) {
        let Ok(mut document) = serde_json::from_slice::<Value>(&apps.bytes) else {
            return (apps.clone(), Vec::new());
        };
        let written = document.clone();
        let issues = validate::apps(&mut document, &self.ids().collect());
        let lines = issues.iter().map(|i| i.problem("apps.json")).collect();
        if document == written {
            return (apps.clone(), lines);
        }
        let bytes = serde_json::to_vec(&document).unwrap_or_else(|_| apps.bytes.to_vec());
        (Payload::new(bytes), lines)
    }

    pub fn widget_count(&self) -> usize {
        self.widgets.len()
    }

    /// The widget answering `path`: the one whose endpoint it is, else an advanced chart whose
    /// endpoint is its parent (`udf/history` belongs to the chart on `udf`).
    pub fn widget_for(&self, path: &str) -> Option<&Widget> {
        self.widgets
            .iter()
            .find(|w| w.endpoint == path)
            .or_else(|| {
                let (parent, _) = path.rsplit_once('/')?;
                self.widgets
                    .iter()
                    .find(|w| w.endpoint == parent && w.kind == Kind::AdvancedChart)
            })
    }

    /// The served widgets checked against `data/` (warnings, as `widget: field: warning: ...`
    /// lines): the file a widget reads exists, and holds the columns the widget names. `exists`
    /// and `header` look at a file relative to `data/`; `header` gives a table's column names
    /// (`None` for a document that is not a table).
    pub fn data_problems(
        &self,
        exists: &dyn Fn(&str) -> bool,
        header: &dyn Fn(&str) -> Header,
    ) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut check =
            |id: &str, candidates: Vec<String>, kind: Kind, named: &[(String, String)]| {
                let Some(file) = candidates.iter().find(|c| exists(c)) else {
                    let shown: Vec<String> =
                        candidates.iter().map(|c| format!("data/{c}")).collect();
                    let message = format!("{} does not exist (yet)", shown.join(" or "));
                    problems.push(validate::Issue::warning("backend.file", message).problem(id));
                    return;
                };
                if !kind.reads_data() {
                    return;
                }
                let shown = format!("data/{file}");
                let issues = match header(file) {
                    Ok(Some(columns)) => validate::data_columns(&shown, &columns, named),
                    Ok(None) => Vec::new(),
                    Err(message) => vec![validate::Issue::error("backend.file", message)],
                };
                problems.extend(issues.iter().map(|issue| issue.problem(id)));
            };
        for (widget, named) in self.widgets.iter().zip(&self.named) {
            if let Some(candidates) = widget.known_files() {
                check(&widget.id, candidates, widget.kind, named);
            }
        }
        for route in &self.options {
            if let OptionsSource::Column {
                file,
                column,
                label,
            } = &route.source
            {
                let named: Vec<(String, String)> = [Some(column), label.as_ref()]
                    .into_iter()
                    .flatten()
                    .map(|c| ("backend.options".to_string(), c.clone()))
                    .collect();
                check(&route.widget, vec![file.clone()], Kind::Table, &named);
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
    ) -> Vec<(String, crate::formats::Reading)> {
        let readers = self.widgets.iter().filter(|w| w.kind.reads_data());
        let widget_files = readers.clone().filter_map(|w| match w.known_files() {
            Some(candidates) => candidates
                .into_iter()
                .find(|f| exists(f))
                .map(|f| (f, w.reading.clone())),
            None => None,
        });
        let templated = readers
            .filter(|w| w.file.as_deref().is_some_and(|f| !is_remote(f)))
            .flat_map(|w| {
                let template = w.file.as_deref().unwrap_or_default();
                listing
                    .iter()
                    .filter(move |name| fills(template, name))
                    .map(|name| (name.clone(), w.reading.clone()))
            });
        let records = self.widgets.iter().filter_map(|w| w.records.clone());
        let options = self.options.iter().filter_map(|route| match &route.source {
            OptionsSource::Column { file, .. } | OptionsSource::Static { file } => {
                Some(file.clone())
            }
            OptionsSource::Folder { .. } => None,
        });
        let mut files: Vec<(String, crate::formats::Reading)> = widget_files
            .chain(templated)
            .chain(
                records
                    .chain(options)
                    .map(|file| (file, Default::default())),
            )
            .filter(|(file, _)| !is_remote(file))
            .collect();
        files.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| a.1.to_string().cmp(&b.1.to_string()))
        });
        files.dedup();
        files
    }

    /// The folders of the served newsfeeds of notes.
    pub fn note_folders(&self) -> impl Iterator<Item = &str> {
        self.widgets
            .iter()
            .filter(|w| w.kind == Kind::Newsfeed && w.file.is_none())
            .filter_map(|w| w.folder.as_deref())
    }

    /// The live_grid whose `wsEndpoint` is `path`.
    pub fn live_for(&self, path: &str) -> Option<&Widget> {
        self.widgets
            .iter()
            .find(|w| w.live.as_ref().is_some_and(|live| live.endpoint == path))
    }

    pub fn options_for(&self, endpoint: &str) -> Option<&OptionsRoute> {
        self.options.iter().find(|r| r.endpoint == endpoint)
    }

    /// Validates one entry and splits it into the widget's server side, its options endpoints
    /// and what Workspace sees.
    fn check_widget(
        &self,
        id: &str,
        entry: Value,
    ) -> Result<(Widget, Vec<OptionsRoute>, Value), Refusal> {
        let Value::Object(mut entry) = entry else {
            return Err(("widget", "expected an object".into()));
        };
        let kind = Kind::of(validate::type_of(&entry)).map_err(|message| ("type", message))?;
        let spec = entry
            .remove(validate::BACKEND_KEY)
            .unwrap_or(Value::Object(Map::new()));
        let spec_keys: Vec<String> = spec
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        let spec: BackendSpec =
            serde_json::from_value(spec).map_err(|err| ("backend", err.to_string()))?;
        if let Some(key) = spec_keys.iter().find(|k| !kind.allows(k)) {
            return Err((
                "backend",
                format!(
                    "'{key}' does not apply to a {} widget (its keys: {})",
                    entry.get("type").and_then(Value::as_str).unwrap_or("table"),
                    kind.keys().join(", ")
                ),
            ));
        }
        let endpoint = match entry.get("endpoint").and_then(Value::as_str) {
            Some(url) if kind == Kind::PassThrough && is_remote(url) => url.to_string(),
            endpoint => endpoint_path(endpoint, "endpoint")?,
        };
        let params = params_of(&entry);
        if let Some(template) = &spec.file {
            declared_placeholders(template, &params)?;
        }
        match spec.file.as_deref() {
            Some(url) if is_remote(url) => {
                crate::remote::check_template(url).map_err(|message| ("backend.file", message))?
            }
            file => check_path("backend.file", file, true)?,
        }
        if spec.ttl.is_some() && !spec.file.as_deref().is_some_and(is_remote) {
            return Err((
                "backend.ttl",
                "applies to a remote backend.file (an http:// or https:// URL)".into(),
            ));
        }
        let reading = crate::formats::Reading::from_backend(
            spec.sheet.as_ref(),
            spec.delimiter.as_deref(),
            spec.decimal.as_deref(),
        )?;
        check_path("backend.folder", spec.folder.as_deref(), false)?;
        check_path("backend.records", spec.records.as_deref(), false)?;
        let mut filters = Vec::new();
        for (param, rule) in spec.filters {
            let rule = match rule {
                Value::Null => None,
                rule => Some(serde_json::from_value::<Rule>(rule).map_err(|_| {
                    (
                        "backend.filters",
                        format!(
                            "'{param}': expected a column name, {{\"column\": ..., \"op\": \"eq\"|\"gte\"|\"lte\"}}, or null"
                        ),
                    )
                })?),
            };
            filters.push((param, rule));
        }
        if kind == Kind::Metric && spec.column.is_none() && spec.label.is_some() {
            return Err(("backend.label", "needs backend.column".into()));
        }
        let live = match kind {
            Kind::LiveGrid => Some(live_socket(&entry, spec.file.as_deref())?),
            _ => None,
        };
        let selector = params
            .iter()
            .find(|p| validate::has_role(p, "fileSelector"));
        let file_param = match kind {
            Kind::MultiFileViewer => Some(
                selector
                    .and_then(|p| p.get("paramName").and_then(Value::as_str))
                    .ok_or((
                        "params",
                        "a multi_file_viewer needs a param with \"roles\": [\"fileSelector\"]"
                            .to_string(),
                    ))?
                    .to_string(),
            ),
            _ => None,
        };
        let folder = spec.folder.or_else(|| match kind {
            Kind::MultiFileViewer => Some(endpoint.clone()),
            _ => None,
        });
        let mut routes = Vec::new();
        for (param, source) in spec.options {
            let source: OptionsSpec = serde_json::from_value(source)
                .map_err(|err| ("backend.options", format!("'{param}': {err}")))?;
            check_path("backend.options", Some(&source.file), false)?;
            let source = match source.column {
                Some(column) => OptionsSource::Column {
                    file: source.file,
                    column,
                    label: source.label,
                },
                None => OptionsSource::Static { file: source.file },
            };
            routes.push((param, source));
        }
        // The folder's files answer the selector's options endpoint, when it names one (without
        // one, Workspace offers no choices; the validator warns of that).
        if let (Some(param), Some(folder)) = (&file_param, &folder)
            && selector.is_some_and(|p| p.contains_key("optionsEndpoint"))
            && !routes.iter().any(|(name, _)| name == param)
        {
            let source = OptionsSource::Folder {
                folder: folder.clone(),
            };
            routes.push((param.clone(), source));
        }
        let mut options = Vec::new();
        for (param, source) in routes {
            let declared = params
                .iter()
                .find(|p| p.get("paramName").and_then(Value::as_str) == Some(param.as_str()))
                .ok_or((
                    "backend.options",
                    format!("'{param}' is not a param of this widget"),
                ))?;
            let endpoint = endpoint_path(
                declared.get("optionsEndpoint").and_then(Value::as_str),
                "optionsEndpoint",
            )
            .map_err(|(field, message)| {
                ("backend.options", format!("'{param}': {field}: {message}"))
            })?;
            options.push(OptionsRoute {
                endpoint,
                source,
                widget: id.to_string(),
            });
        }
        let widget = Widget {
            id: id.to_string(),
            endpoint,
            kind,
            file: spec.file,
            folder,
            filters,
            column: spec.column,
            label: spec.label,
            records: spec.records,
            pdf_mode: spec.mode,
            file_param,
            ttl: spec.ttl.map(std::time::Duration::from_secs),
            reading,
            live,
        };
        self.check_clashes(&widget, &options)?;
        Ok((widget, options, Value::Object(entry)))
    }

    /// Two widgets (or options endpoints) may share a path only when they answer it alike.
    fn check_clashes(&self, widget: &Widget, options: &[OptionsRoute]) -> Result<(), Refusal> {
        if let Some(other) = self.widgets.iter().find(|w| w.endpoint == widget.endpoint)
            && (Widget {
                id: other.id.clone(),
                ..widget.clone()
            }) != *other
        {
            return Err((
                "endpoint",
                format!(
                    "'{}' is already served by widget '{}' with other backend settings",
                    widget.endpoint, other.id
                ),
            ));
        }
        if let Some(other) = self.live_for(&widget.endpoint) {
            return Err((
                "endpoint",
                format!(
                    "'{}' is already the wsEndpoint of widget '{}'",
                    widget.endpoint, other.id
                ),
            ));
        }
        if let Some(live) = &widget.live {
            let taken = self
                .widget_for(&live.endpoint)
                .map(|w| &w.id)
                .or_else(|| self.options_for(&live.endpoint).map(|r| &r.widget))
                .or_else(|| {
                    self.live_for(&live.endpoint)
                        .filter(|w| w.endpoint != widget.endpoint)
                        .map(|w| &w.id)
                });
            if live.endpoint == widget.endpoint || taken.is_some() {
                return Err((
                    "wsEndpoint",
                    format!(
                        "'{}' is already answered otherwise (by widget '{}')",
                        live.endpoint,
                        taken.unwrap_or(&widget.id)
                    ),
                ));
            }
        }
        if let Some(route) = self.options_for(&widget.endpoint) {
            return Err((
                "endpoint",
                format!(
                    "'{}' is already an options endpoint of widget '{}'",
                    widget.endpoint, route.widget
                ),
            ));
        }
        for route in options {
            let taken = self.widget_for(&route.endpoint).map(|w| &w.id).or_else(|| {
                self.options_for(&route.endpoint)
                    .filter(|other| other.source != route.source)
                    .map(|other| &other.widget)
            });
            if route.endpoint == widget.endpoint || taken.is_some() {
                return Err((
                    "backend.options",
                    format!(
                        "options endpoint '{}' is already answered otherwise (by widget '{}')",
                        route.endpoint,
                        taken.unwrap_or(&widget.id)
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Why an entry cannot be served: the field, and the message.
type Refusal = (&'static str, String);

/// A table file's column names (`None`: a document that is not a table), or why it does not read.
pub type Header = Result<Option<Vec<String>>, String>;

impl Widget {
    /// The names the widget's file may have, when they do not depend on the request: its
    /// `backend.file`, or `<endpoint>.<extension>` by type. `None` for a templated name, a
    /// newsfeed of a folder, and the types that read no one file.
    fn known_files(&self) -> Option<Vec<String>> {
        let templated = |file: &str| placeholders(file).is_ok_and(|p| !p.is_empty());
        let candidates = match &self.file {
            Some(file) if templated(file) => return None,
            Some(file) => vec![file.clone()],
            None if self.kind == Kind::Newsfeed && self.folder.is_some() => return None,
            None => self.default_files(),
        };
        (!candidates.is_empty()).then_some(candidates)
    }

    /// `<endpoint>.<extension>` for each extension the widget's type reads, in the order tried.
    pub fn default_files(&self) -> Vec<String> {
        self.kind
            .extensions()
            .iter()
            .map(|extension| [self.endpoint.as_str(), ".", extension].concat())
            .collect()
    }
}

/// The file a widget's "Validate widgets" call reads, when the name is a template that the
/// default params Workspace sends fill (a missing one is a 422 Workspace accepts).
fn validation_file(widget: &Widget, entry: &Value) -> Option<String> {
    let template = widget.file.as_deref().filter(|f| !is_remote(f))?;
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
    if !matches!(widget.kind, Kind::Table | Kind::Ssrm | Kind::Metric) {
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
    if let Some(column) = &widget.column {
        named.push(("backend.column".to_string(), column.clone()));
    }
    named
}

/// A live_grid's `wsEndpoint` and `data.wsRowIdColumn`, both required. Its file may not hold
/// `{param}` placeholders: one file is watched for all of the widget's subscribers.
fn live_socket(entry: &Map<String, Value>, file: Option<&str>) -> Result<LiveSocket, Refusal> {
    let endpoint = endpoint_path(
        entry.get("wsEndpoint").and_then(Value::as_str),
        "wsEndpoint",
    )?;
    let key = entry.get("data").and_then(|data| data.get("wsRowIdColumn"));
    let row_key = match key {
        Some(Value::String(key)) if !key.is_empty() => key,
        Some(Value::Array(_)) => {
            return Err((
                "data.wsRowIdColumn",
                "openbb-files does not serve a composite row key (an array) yet: name one column"
                    .to_string(),
            ));
        }
        _ => {
            return Err((
                "data.wsRowIdColumn",
                "a live_grid needs the column that identifies its rows".to_string(),
            ));
        }
    };
    if file.is_some_and(|file| file.contains('{')) {
        return Err((
            "backend.file",
            "a live_grid watches one file: no {param} placeholders".to_string(),
        ));
    }
    Ok(LiveSocket {
        endpoint,
        row_key: row_key.to_string(),
    })
}

/// A cleaned endpoint path from a manifest value; refuses reserved paths and the files prefix.
fn endpoint_path(value: Option<&str>, field: &'static str) -> Result<String, Refusal> {
    let raw = value.ok_or((field, "required, as a string".to_string()))?;
    if raw.starts_with("http") {
        return Err((
            field,
            format!(
                "'{raw}': Workspace reads an endpoint beginning with \"http\" as another \
                 site's address, so it would never reach this server: rename it"
            ),
        ));
    }
    if raw.contains(['{', '}']) {
        return Err((
            field,
            format!(
                "'{raw}': openbb-files does not serve {{param}} placeholders in an endpoint: \
                 send the param in the query (backend.file may use it as {{param}})"
            ),
        ));
    }
    let path = raw.split('?').next().unwrap_or_default();
    let path = clean_request_path(path).ok_or((field, format!("'{raw}' is not a safe path")))?;
    if RESERVED_ENDPOINTS.contains(&path.as_str()) || path.split('/').next() == Some(FILES_PREFIX) {
        return Err((
            field,
            format!("'{raw}' is a path the server answers itself"),
        ));
    }
    Ok(path)
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

/// Every `{name}` placeholder of a file template names one of the widget's params (otherwise
/// every request would fail).
fn declared_placeholders(template: &str, params: &[&Map<String, Value>]) -> Result<(), Refusal> {
    let names = placeholders(template).map_err(|message| ("backend.file", message))?;
    let declared: Vec<&str> = params
        .iter()
        .filter_map(|p| p.get("paramName").and_then(Value::as_str))
        .collect();
    match names.iter().find(|name| !declared.contains(name)) {
        Some(name) => Err((
            "backend.file",
            format!(
                "'{{{name}}}' names no param of this widget (its params: {})",
                if declared.is_empty() {
                    "none".to_string()
                } else {
                    declared.join(", ")
                }
            ),
        )),
        None => Ok(()),
    }
}

/// A widget's params, whether written as one list or as rows of lists.
fn params_of(entry: &Map<String, Value>) -> Vec<&Map<String, Value>> {
    validate::params_of(entry)
        .into_iter()
        .filter_map(|(_, p)| p.as_object())
        .collect()
}

/// The `{name}` placeholders of a file template, in order. Names are letters, digits, `_`, `-`.
pub fn placeholders(template: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(format!("'{template}': '}}' without '{{'"));
        }
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("'{template}': '{{' without '}}'"))?;
        let name = &after[..close];
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!("'{template}': bad placeholder '{{{name}}}'"));
        }
        names.push(name);
        rest = &after[close + 1..];
    }
    Ok(names)
}

/// Whether `name` is what `template` gives for some values of its placeholders (each one or
/// more characters of one path segment).
fn fills(template: &str, name: &str) -> bool {
    let Some(open) = template.find('{') else {
        return template == name;
    };
    let Some(close) = template[open..].find('}').map(|at| open + at) else {
        return false;
    };
    let (literal, rest) = (&template[..open], &template[close + 1..]);
    let Some(value_and_rest) = name.strip_prefix(literal) else {
        return false;
    };
    value_and_rest
        .char_indices()
        .skip(1)
        .map(|(at, _)| at)
        .chain([value_and_rest.len()])
        .take_while(|&at| !value_and_rest[..at].contains('/'))
        .any(|at| fills(rest, &value_and_rest[at..]))
}

/// A path under `data/`: safe segments only; with `templated`, `{param}` placeholders allowed.
fn check_path(field: &'static str, path: Option<&str>, templated: bool) -> Result<(), Refusal> {
    let Some(path) = path else { return Ok(()) };
    let mut filled = path.to_string();
    if templated {
        for name in placeholders(path).map_err(|message| (field, message))? {
            filled = filled.replace(&format!("{{{name}}}"), "x");
        }
    }
    if filled.split('/').all(is_safe_segment) && !filled.contains(['{', '}']) {
        Ok(())
    } else {
        Err((
            field,
            format!("'{path}' must be a relative path inside data/ without '..' or dotfiles"),
        ))
    }
}

/// Parses `apps.json` into the bytes served at `/apps.json`: an array (a lone app object is
/// wrapped in one), `[]` when there is no file.
pub fn parse_apps(bytes: Option<&[u8]>) -> Result<Payload, String> {
    let Some(bytes) = bytes else {
        return Ok(Payload::new(&b"[]"[..]));
    };
    let (document, bytes) = read_json("apps.json", bytes)?;
    match document {
        Value::Array(_) => Ok(Payload::new(bytes)),
        Value::Object(_) => Ok(Payload::new([b"[", bytes, b"]"].concat())),
        _ => Err("apps.json: expected an array of apps".to_string()),
    }
}

/// Parses `agents.json` into the bytes served at `/agents.json` (Workspace asks for it on every
/// connect): an array, `[]` when there is no file.
pub fn parse_agents(bytes: Option<&[u8]>) -> Result<Payload, String> {
    let Some(bytes) = bytes else {
        return Ok(Payload::new(&b"[]"[..]));
    };
    match read_json("agents.json", bytes)? {
        (Value::Array(_), bytes) => Ok(Payload::new(bytes)),
        _ => Err("agents.json: expected an array of agents".to_string()),
    }
}

/// A manifest file's JSON document and its bytes without a byte-order mark, or an error naming
/// the file, line and column.
fn read_json<'b>(name: &str, bytes: &'b [u8]) -> Result<(Value, &'b [u8]), String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let document = serde_json::from_slice(bytes).map_err(|err| {
        format!(
            "{name}: line {}: column {}: {err}",
            err.line(),
            err.column()
        )
    })?;
    Ok((document, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses a manifest, giving entries the `name` and `description` Workspace requires when
    /// they lack them, so that each test shows only the rule it is about.
    fn parse(text: &[u8]) -> Manifest {
        let mut document: Value = serde_json::from_slice(text).unwrap();
        for entry in document.as_object_mut().unwrap().values_mut() {
            if let Some(entry) = entry.as_object_mut() {
                for key in ["name", "description"] {
                    entry.entry(key).or_insert_with(|| Value::from(key));
                }
            }
        }
        Manifest::parse(Some(&serde_json::to_vec(&document).unwrap())).unwrap()
    }

    fn lines(problems: &[Problem]) -> Vec<String> {
        problems.iter().map(|p| p.line.clone()).collect()
    }

    fn served(manifest: &Manifest) -> Value {
        serde_json::from_slice(&manifest.served.bytes).unwrap()
    }

    #[test]
    fn backend_keys_are_removed_and_order_kept() {
        let manifest = parse(
            br#"{"z": {"name": "Z", "endpoint": "/z", "backend": {"file": "a/z.csv"}},
                 "a": {"name": "A", "endpoint": "a?x=1", "type": "table"}}"#,
        );
        assert!(manifest.problems.is_empty(), "{:?}", manifest.problems);
        let text = std::str::from_utf8(&manifest.served.bytes).unwrap();
        assert!(!text.contains("backend"));
        assert!(text.find("\"z\"").unwrap() < text.find("\"a\"").unwrap());
        assert_eq!(
            manifest.widget_for("z").unwrap().file.as_deref(),
            Some("a/z.csv")
        );
        assert_eq!(manifest.widget_for("a").unwrap().id, "a");
        assert_eq!(manifest.widget_count(), 2);
    }

    #[test]
    fn bad_entries_are_left_out_and_reported() {
        let manifest = parse(
            br#"{"ok": {"name": "Ok", "endpoint": "ok"},
                 "no_endpoint": {"name": "X"},
                 "escape": {"endpoint": "../etc/passwd"},
                 "bad_file": {"endpoint": "f", "backend": {"file": "../secret.csv"}},
                 "typo": {"endpoint": "t", "backend": {"fiel": "t.csv"}},
                 "bad_rule": {"endpoint": "r", "backend": {"filters": {"p": 5}}},
                 "reserved": {"endpoint": "/widgets.json"},
                 "probe": {"endpoint": "health"},
                 "twin": {"endpoint": "ok", "backend": {"file": "other.csv"}},
                 "scalar": 3}"#,
        );
        assert_eq!(
            served(&manifest),
            serde_json::json!({"ok": {"name": "Ok", "endpoint": "ok", "description": "description"}})
        );
        let problems = lines(&manifest.problems).join("\n");
        for expected in [
            "no_endpoint: endpoint:",
            "escape: endpoint:",
            "bad_file: backend.file:",
            "typo: backend: unknown field `fiel`",
            "bad_rule: backend.filters:",
            "reserved: endpoint:",
            "probe: endpoint: 'health' is a path the server answers itself",
            "twin: endpoint: 'ok' is already served by widget 'ok'",
            "scalar: widget:",
        ] {
            assert!(
                problems.contains(expected),
                "missing {expected:?} in\n{problems}"
            );
        }
    }

    #[test]
    fn templates_stand_for_names_one_segment_a_placeholder() {
        assert!(fills("prices/{t}.csv", "prices/AAPL.csv"));
        assert!(
            fills("{a}/{b}-{a}.pdf", "x/y-z.pdf"),
            "values are not compared"
        );
        assert!(fills("r/{t}.md", "r/a.b.md"));
        assert!(!fills("prices/{t}.csv", "prices/a/b.csv"), "one segment");
        assert!(
            !fills("prices/{t}.csv", "prices/.csv"),
            "at least one character"
        );
        assert!(!fills("prices/{t}.csv", "other/AAPL.csv"));
        assert!(fills("plain.csv", "plain.csv") && !fills("plain.csv", "plain.cs"));
    }

    #[test]
    fn a_widget_lists_at_most_twenty_problems() {
        let columns: Vec<Value> = (0..30).map(|i| serde_json::json!({"field": i})).collect();
        let entry = serde_json::json!({"wide": {"name": "W", "description": "d", "endpoint": "w",
            "data": {"table": {"columnsDefs": columns}}}});
        let manifest = Manifest::parse(Some(entry.to_string().as_bytes())).unwrap();
        assert_eq!(manifest.problems.len(), 21);
        assert_eq!(
            manifest.problems[20].line,
            "wide: and 40 more problems like these"
        );
    }

    #[test]
    fn widgets_breaking_workspace_rules_are_left_out_with_every_reason() {
        let manifest = Manifest::parse(Some(
            br#"{"good": {"name": "G", "description": "d", "endpoint": "g",
                          "data": {"table": {"columnsDefs": [{"field": "a", "headerName": "A", "cellDataType": "number"}]}}},
                 "broken": {"name": "B", "endpoint": "b", "type": "tabel", "gridData": {"w": 50, "h": 8},
                            "data": {"table": {"columnsDefs": [{"field": "a", "formatterFn": "money"}]}}}}"#,
        ))
        .unwrap();
        assert_eq!(manifest.widget_count(), 1);
        assert!(manifest.widget_for("g").is_some());
        assert_eq!(
            lines(&manifest.problems),
            [
                "broken: description: required, as a string",
                "broken: type: \"tabel\" is not a widget type Workspace knows (advanced_charting, chart, chart-highcharts, chart-vegalite, file_viewer, html, iframe, live_grid, markdown, metric, multi_file_viewer, newsfeed, note, rich_note, omni, pdf, table, ssrm_table, ssrm_advanced, youtube)",
                "broken: gridData.w: warning: 50 is outside 1 to 40",
                "broken: data.table.columnsDefs[0].headerName: required, as a string",
                "broken: data.table.columnsDefs[0].formatterFn: \"money\" is not one of int, none, percent, normalized, normalizedPercent, dateToYear"
            ]
        );
    }

    #[test]
    fn a_file_that_is_not_an_object_fails_whole() {
        assert!(
            Manifest::parse(Some(b"[]"))
                .unwrap_err()
                .contains("expected an object")
        );
        assert!(
            Manifest::parse(Some(b"{\n\"a\": "))
                .unwrap_err()
                .starts_with("widgets.json: line 2")
        );
        assert!(Manifest::parse(None).is_err());
    }

    #[test]
    fn filters_parse_into_rules() {
        let manifest = parse(
            br#"{"p": {"endpoint": "p", "backend": {"filters": {
                "symbol": "ticker", "since": {"column": "date", "op": "gte"}, "theme": null}}}}"#,
        );
        let widget = manifest.widget_for("p").unwrap();
        assert_eq!(widget.filters.len(), 3);
        assert_eq!(
            widget.filters[0],
            ("symbol".into(), Some(Rule::Column("ticker".into())))
        );
        assert_eq!(widget.filters[2], ("theme".into(), None));
    }

    #[test]
    fn types_take_their_own_backend_keys() {
        let manifest = parse(
            br#"{"md": {"endpoint": "md", "type": "markdown", "backend": {"file": "r/{ticker}.md"},
                        "params": [{"paramName": "ticker", "value": "AAPL"}]},
                 "m": {"endpoint": "m", "type": "metric", "backend": {"file": "p.csv", "column": "close", "label": "Close"}},
                 "pdf": {"endpoint": "pdf", "type": "pdf", "backend": {"mode": "url"}},
                 "mfv": {"endpoint": "mfv", "type": "multi_file_viewer",
                         "params": [[{"paramName": "names", "type": "endpoint", "roles": ["fileSelector"], "optionsEndpoint": "mfv/files"}]]},
                 "folder_on_table": {"endpoint": "t", "backend": {"folder": "x"}},
                 "column_on_chart": {"endpoint": "c", "type": "chart", "backend": {"column": "x"}},
                 "bad_mode": {"endpoint": "p2", "type": "pdf", "backend": {"mode": "fax"}},
                 "bad_placeholder": {"endpoint": "b", "type": "markdown", "backend": {"file": "r/{ti cker}.md"}},
                 "open_brace": {"endpoint": "b2", "type": "markdown", "backend": {"file": "r/{ticker.md"}},
                 "escaping_folder": {"endpoint": "n", "type": "newsfeed", "backend": {"folder": "../notes"}},
                 "no_selector": {"endpoint": "x", "type": "multi_file_viewer"},
                 "files_prefix": {"endpoint": "files/a.pdf", "type": "pdf"},
                 "path_param": {"endpoint": "r/{t}", "params": [{"paramName": "t"}]},
                 "http_like": {"endpoint": "http_log"}}"#,
        );
        let problems = lines(&manifest.problems).join("\n");
        for expected in [
            "folder_on_table: backend: 'folder' does not apply to a table widget",
            "column_on_chart: backend: 'column' does not apply to a chart widget",
            "bad_mode: backend: unknown variant `fax`",
            "bad_placeholder: backend.file: 'r/{ti cker}.md': bad placeholder",
            "open_brace: backend.file:",
            "escaping_folder: backend.folder:",
            "no_selector: params: a multi_file_viewer needs an endpoint param",
            "files_prefix: endpoint: 'files/a.pdf' is a path the server answers itself",
            "path_param: endpoint: 'r/{t}': openbb-files does not serve {param} placeholders",
            "http_like: endpoint: 'http_log': Workspace reads an endpoint beginning with \"http\"",
        ] {
            assert!(
                problems.contains(expected),
                "missing {expected:?} in\n{problems}"
            );
        }
        assert_eq!(manifest.widget_count(), 4, "{problems}");
        assert_eq!(manifest.widget_for("md").unwrap().kind, Kind::Markdown);
        let metric = manifest.widget_for("m").unwrap();
        assert_eq!(
            (metric.column.as_deref(), metric.label.as_deref()),
            (Some("close"), Some("Close"))
        );
        assert_eq!(manifest.widget_for("pdf").unwrap().pdf_mode, PdfMode::Url);
        let viewer = manifest.widget_for("mfv").unwrap();
        assert_eq!(viewer.file_param.as_deref(), Some("names"));
        assert_eq!(
            viewer.folder.as_deref(),
            Some("mfv"),
            "the folder defaults to the endpoint"
        );
        assert_eq!(
            manifest.options_for("mfv/files").unwrap().source,
            OptionsSource::Folder {
                folder: "mfv".into()
            }
        );
    }

    #[test]
    fn options_endpoints_come_from_params() {
        let manifest = parse(
            br#"{"a": {"endpoint": "a", "params": [
                    {"paramName": "ticker", "type": "endpoint", "optionsEndpoint": "/options/tickers?x=1"},
                    {"paramName": "sector", "type": "endpoint", "optionsEndpoint": "options/sectors"}],
                  "backend": {"options": {"ticker": {"file": "h.csv", "column": "ticker", "label": "name"},
                                          "sector": {"file": "sectors.json"}}}},
                 "b": {"endpoint": "b", "params": [{"paramName": "t", "type": "endpoint", "optionsEndpoint": "options/tickers"}],
                       "backend": {"options": {"t": {"file": "h.csv", "column": "ticker", "label": "name"}}}},
                 "clash": {"endpoint": "c", "params": [{"paramName": "t", "type": "endpoint", "optionsEndpoint": "options/tickers"}],
                           "backend": {"options": {"t": {"file": "other.csv", "column": "ticker"}}}},
                 "on_widget": {"endpoint": "d", "params": [{"paramName": "t", "type": "endpoint", "optionsEndpoint": "a"}],
                               "backend": {"options": {"t": {"file": "h.csv", "column": "x"}}}},
                 "takes_options": {"endpoint": "options/sectors"},
                 "no_param": {"endpoint": "e", "backend": {"options": {"nope": {"file": "h.csv"}}}},
                 "no_endpoint": {"endpoint": "f", "params": [{"paramName": "t", "type": "text"}],
                                 "backend": {"options": {"t": {"file": "h.csv"}}}}}"#,
        );
        assert_eq!(
            manifest.options_for("options/tickers").unwrap().source,
            OptionsSource::Column {
                file: "h.csv".into(),
                column: "ticker".into(),
                label: Some("name".into())
            }
        );
        assert_eq!(
            manifest.options_for("options/sectors").unwrap().source,
            OptionsSource::Static {
                file: "sectors.json".into()
            }
        );
        assert!(
            manifest.widget_for("b").is_some(),
            "same options, same endpoint: fine"
        );
        let problems = lines(&manifest.problems).join("\n");
        for expected in [
            "clash: backend.options: options endpoint 'options/tickers' is already answered otherwise (by widget 'a')",
            "on_widget: backend.options: options endpoint 'a'",
            "takes_options: endpoint: 'options/sectors' is already an options endpoint of widget 'a'",
            "no_param: backend.options: 'nope' is not a param of this widget",
            "no_endpoint: backend.options: 't': optionsEndpoint: required",
        ] {
            assert!(
                problems.contains(expected),
                "missing {expected:?} in\n{problems}"
            );
        }
    }

    #[test]
    fn large_and_chart_types_take_both_spellings() {
        let manifest = parse(
            br#"{"s1": {"endpoint": "s1", "type": "table_ssrm", "backend": {"filters": {"p": "c"}}},
                 "s2": {"endpoint": "s2", "type": "ssrm_table"},
                 "a1": {"endpoint": "udf", "type": "advanced_charting", "backend": {"file": "p.csv"}},
                 "a2": {"endpoint": "feeds/x", "type": "advanced-chart"},
                 "no_filters": {"endpoint": "a3", "type": "advanced_charting", "backend": {"filters": {}}}}"#,
        );
        assert!(
            lines(&manifest.problems)
                .join("\n")
                .contains("no_filters: backend: 'filters' does not apply")
        );
        for (path, id, kind) in [
            ("s1", "s1", Kind::Ssrm),
            ("s2", "s2", Kind::Ssrm),
            ("udf", "a1", Kind::AdvancedChart),
            ("udf/history", "a1", Kind::AdvancedChart),
            ("feeds/x/config", "a2", Kind::AdvancedChart),
        ] {
            let widget = manifest.widget_for(path).unwrap();
            assert_eq!((widget.id.as_str(), widget.kind), (id, kind), "{path}");
        }
        assert!(Kind::Ssrm.takes_post() && !Kind::AdvancedChart.takes_post());
        assert!(
            manifest.widget_for("s1/history").is_none(),
            "only charts have routes below"
        );
        assert!(manifest.widget_for("udf/history/x").is_none());
    }

    #[test]
    fn a_file_may_be_a_remote_url_with_a_ttl() {
        let manifest = parse(
            br#"{"r": {"endpoint": "r", "backend": {"file": "http://example.com/p.csv?t={ticker}", "ttl": 30},
                       "params": [{"paramName": "ticker"}]},
                 "ttl_local": {"endpoint": "l", "backend": {"file": "p.csv", "ttl": 30}},
                 "ttl_on_omni": {"endpoint": "o", "type": "omni", "backend": {"ttl": 30}},
                 "bad_url": {"endpoint": "b", "backend": {"file": "http://x/{a b}"}}}"#,
        );
        let widget = manifest.widget_for("r").unwrap();
        assert_eq!(widget.ttl, Some(std::time::Duration::from_secs(30)));
        let problems = lines(&manifest.problems).join("\n");
        for expected in [
            "ttl_local: backend.ttl: applies to a remote backend.file",
            "ttl_on_omni: backend: 'ttl' does not apply to a omni widget",
            "bad_url: backend.file: 'http://x/{a b}': bad placeholder",
        ] {
            assert!(
                problems.contains(expected),
                "missing {expected:?} in\n{problems}"
            );
        }
    }

    #[test]
    fn live_grids_need_a_socket_and_a_row_key() {
        let manifest = Manifest::parse(Some(
            br#"{"live": {"name": "Quotes", "description": "d", "endpoint": "quotes", "type": "live_grid", "wsEndpoint": "/ws/quotes",
                          "data": {"wsRowIdColumn": "symbol"}, "backend": {"filters": {"s": "symbol"}}},
                 "no_socket": {"name": "N", "description": "d", "endpoint": "a", "type": "live_grid", "data": {"wsRowIdColumn": "id"}},
                 "no_key": {"name": "N", "description": "d", "endpoint": "b", "type": "live_grid", "wsEndpoint": "ws/b"},
                 "templated": {"name": "N", "description": "d", "endpoint": "c", "type": "live_grid", "wsEndpoint": "ws/c",
                               "data": {"wsRowIdColumn": "id"}, "backend": {"file": "{t}.csv"},
                               "params": [{"paramName": "t"}]},
                 "same_socket": {"name": "N", "description": "d", "endpoint": "d", "type": "live_grid", "wsEndpoint": "ws/quotes",
                                 "data": {"wsRowIdColumn": "id"}},
                 "socket_on_endpoint": {"name": "N", "description": "d", "endpoint": "e", "type": "live_grid", "wsEndpoint": "quotes",
                                        "data": {"wsRowIdColumn": "id"}},
                 "endpoint_on_socket": {"name": "N", "description": "d", "endpoint": "ws/quotes"},
                 "composite": {"name": "N", "description": "d", "endpoint": "f", "type": "live_grid", "wsEndpoint": "ws/f",
                               "data": {"wsRowIdColumn": ["a", "b"]}}}"#,
        ))
        .unwrap();
        let live = manifest.live_for("ws/quotes").unwrap();
        assert_eq!((live.id.as_str(), live.kind), ("live", Kind::LiveGrid));
        assert_eq!(live.live.as_ref().unwrap().row_key, "symbol");
        assert_eq!(manifest.widget_for("quotes").unwrap().id, "live");
        assert!(!Kind::LiveGrid.takes_post());
        assert_eq!(manifest.widget_count(), 1);
        let problems = lines(&manifest.problems).join("\n");
        for expected in [
            "no_socket: wsEndpoint: required",
            "no_key: data.wsRowIdColumn:",
            "templated: backend.file: a live_grid watches one file",
            "same_socket: wsEndpoint: 'ws/quotes' is already answered otherwise (by widget 'live')",
            "socket_on_endpoint: wsEndpoint: 'quotes' is already answered otherwise",
            "endpoint_on_socket: endpoint: 'ws/quotes' is already the wsEndpoint of widget 'live'",
            "composite: data.wsRowIdColumn: openbb-files does not serve a composite row key",
        ] {
            assert!(problems.contains(expected), "{expected} in {problems}");
        }
    }

    #[test]
    fn placeholders_are_parsed() {
        assert_eq!(placeholders("r/{a}-{b_2}.md").unwrap(), ["a", "b_2"]);
        assert!(placeholders("plain.md").unwrap().is_empty());
        for bad in ["{}", "{a", "a}", "{a/b}", "{{a}}"] {
            assert!(placeholders(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn apps_are_served_as_an_array() {
        assert_eq!(&*parse_apps(None).unwrap().bytes, b"[]");
        assert_eq!(
            &*parse_apps(Some(br#"[{"name": "a"}]"#)).unwrap().bytes,
            br#"[{"name": "a"}]"#
        );
        assert_eq!(
            &*parse_apps(Some(br#"{"name": "a"}"#)).unwrap().bytes,
            br#"[{"name": "a"}]"#
        );
        assert!(parse_apps(Some(b"3")).is_err());
        assert!(
            parse_apps(Some(b"["))
                .unwrap_err()
                .starts_with("apps.json: line 1")
        );
    }
}
