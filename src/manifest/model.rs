//! The model of a served widget: its [`Kind`] (how its endpoint is answered), its server-side
//! settings ([`Widget`]), and the options endpoints it declares. Built by `backend.rs` from a
//! `widgets.json` entry that passed every check.

use serde::Deserialize;

use crate::filter::Rule;
use crate::template::placeholders;
use crate::validate;

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
    pub(super) fn of(type_name: &str) -> Result<Kind, String> {
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
    pub(super) fn keys(self) -> &'static [&'static str] {
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

    /// Whether `key` may appear in this type's `backend`: its own keys, and `ttl` wherever
    /// `file` may be (for a remote file).
    pub(super) fn allows(self, key: &str) -> bool {
        let key = if key == "ttl" { "file" } else { key };
        self.keys().contains(&key)
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

impl Widget {
    /// The names the widget's file may have, when they do not depend on the request: its
    /// `backend.file`, or `<endpoint>.<extension>` by type. `None` for a templated name, a
    /// newsfeed of a folder, and the types that read no one file.
    pub(super) fn known_files(&self) -> Option<Vec<String>> {
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
