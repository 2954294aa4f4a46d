//! The model of a served widget: its [`Type`] (what `type` says), its settings as one
//! [`Kind`] variant per type (so a handler never meets a setting parsing refused), the common
//! fields of a [`Widget`], and the options endpoints it declares. Built by `backend.rs` from a
//! `widgets.json` entry that passed every check.

use std::time::Duration;

use serde::Deserialize;

use super::append::Append;
use crate::filter::Rule;
use crate::remote::is_remote;
use crate::template::placeholders;
use crate::validate;

/// A widget's `type`, as far as the server cares: which `backend` keys apply, which files it
/// reads by default, which method its endpoint takes. [`Kind`] holds its settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// `table`: the file's rows or document.
    Table,
    Markdown,
    Html,
    Metric,
    Newsfeed,
    /// `chart` (Plotly), `chart-highcharts`, `chart-vegalite`: a figure file, themed.
    Chart(ChartLibrary),
    /// `youtube`: a video's URL kept in a file, and its transcript beside it.
    Youtube,
    Pdf,
    MultiFileViewer,
    Omni,
    /// `ssrm_table` (written `table_ssrm` too): AG Grid's server-side row model over a table
    /// file.
    Ssrm,
    /// `advanced_charting` (written `advanced-chart` too): a TradingView UDF feed from an
    /// OHLCV table file, answered at the endpoint (its configuration) and on routes below it
    /// (`<endpoint>/history`, ...).
    AdvancedChart,
    /// `live_grid`: a table's rows, and a WebSocket on `wsEndpoint` pushing changed rows.
    LiveGrid,
    /// `iframe`, `note`/`rich_note`: Workspace needs nothing from the backend. The widget is
    /// served as written; an endpoint on this server answers `{}` (Workspace's "Validate
    /// widgets" calls it), one on another site is not ours.
    PassThrough,
}

impl Type {
    /// The handler for a widget type the front end accepts, or why openbb-files serves no
    /// widget of that type (and what to use instead).
    pub(super) fn of(type_name: &str) -> Result<Type, String> {
        Ok(match type_name {
            "markdown" => Type::Markdown,
            "html" => Type::Html,
            "metric" => Type::Metric,
            "newsfeed" => Type::Newsfeed,
            "chart" => Type::Chart(ChartLibrary::Plotly),
            "chart-highcharts" => Type::Chart(ChartLibrary::Highcharts),
            "chart-vegalite" => Type::Chart(ChartLibrary::VegaLite),
            "youtube" => Type::Youtube,
            "pdf" => Type::Pdf,
            "multi_file_viewer" => Type::MultiFileViewer,
            "omni" => Type::Omni,
            "ssrm_table" => Type::Ssrm,
            "advanced_charting" => Type::AdvancedChart,
            "live_grid" => Type::LiveGrid,
            "iframe" | "note" | "rich_note" => Type::PassThrough,
            "table" => Type::Table,
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
            Type::Table | Type::LiveGrid => &["file", "filters", "options", "append"],
            Type::Ssrm => &["file", "filters", "options"],
            Type::Markdown | Type::AdvancedChart | Type::Youtube => &["file", "options"],
            Type::Html | Type::Chart(_) => &["file", "filters", "records", "options"],
            Type::Metric => &["file", "filters", "column", "label", "options"],
            Type::Newsfeed => &["file", "folder", "filters", "options", "append"],
            Type::Pdf => &["file", "mode", "options"],
            Type::MultiFileViewer | Type::Omni => &["folder", "options"],
            Type::PassThrough => &[],
        }
    }

    /// Whether `key` may appear in this type's `backend`: its own keys, `ttl` wherever `file`
    /// may be (for a remote file), and how a table file is read wherever one is.
    pub(super) fn allows(self, key: &str) -> bool {
        match key {
            "ttl" => self.keys().contains(&"file"),
            "sheet" | "delimiter" | "decimal" => self.reads_data() && self.keys().contains(&"file"),
            key => self.keys().contains(&key),
        }
    }

    /// The extensions of the file read when `backend.file` is not given, in the order tried.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Type::Table | Type::Newsfeed => &["csv", "json"],
            Type::Metric => &["json", "csv"],
            Type::Markdown => &["md"],
            Type::Html => &["html"],
            Type::Chart(_) => &["json"],
            Type::Youtube => &["url", "txt", "json"],
            Type::Pdf => &["pdf"],
            Type::Ssrm | Type::AdvancedChart => &["csv"],
            Type::LiveGrid => &["csv", "ndjson"],
            Type::MultiFileViewer | Type::Omni | Type::PassThrough => &[],
        }
    }

    /// Whether the widget's file is read as data (a table or a JSON document), not as text or
    /// bytes.
    pub fn reads_data(self) -> bool {
        !matches!(
            self,
            Type::Markdown
                | Type::Html
                | Type::Youtube
                | Type::Pdf
                | Type::MultiFileViewer
                | Type::Omni
                | Type::PassThrough
        )
    }

    /// Whether the widget answers the paths one level below its endpoint too (an advanced
    /// chart's UDF routes, `<endpoint>/history`, ...): no options endpoint or `wsEndpoint` may
    /// be there (a widget's endpoint there is that widget's).
    pub fn has_routes_below(self) -> bool {
        self == Type::AdvancedChart
    }

    /// Whether the endpoint takes POST (with a JSON body) instead of GET.
    pub fn takes_post(self) -> bool {
        matches!(self, Type::MultiFileViewer | Type::Omni | Type::Ssrm)
    }
}

/// The charting library a chart widget's figure is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartLibrary {
    /// `chart`: a Plotly figure `{"data": [...], "layout": {...}}`.
    Plotly,
    /// `chart-highcharts`: a Highcharts options object (`chart`, `series`, ...).
    Highcharts,
    /// `chart-vegalite`: a Vega-Lite spec (`mark`, `encoding`, `data`, ...).
    VegaLite,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PdfMode {
    #[default]
    Base64,
    Url,
}

/// The server-side settings of one widget: what every type has, and its [`Kind`].
#[derive(Debug, Clone, PartialEq)]
pub struct Widget {
    pub id: String,
    /// Cleaned endpoint path, e.g. `prices` or `reports/daily`.
    pub endpoint: String,
    /// Explicit filter rules; `None` means "never filter on this parameter".
    pub filters: Vec<(String, Option<Rule>)>,
    pub kind: Kind,
    /// `backend.append`: the file its form adds rows to (`append.rs`); `None`: read-only.
    pub append: Option<Append>,
}

/// A widget's settings by type, each variant holding exactly what its handler reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Table(Source),
    Markdown(Source),
    /// `records`: the table file answered for `raw=true`.
    Html {
        source: Source,
        records: Option<String>,
    },
    Chart {
        library: ChartLibrary,
        source: Source,
        records: Option<String>,
    },
    /// The file holds the video's URL; a Markdown file of the same name beside it, the
    /// transcript.
    Youtube(Source),
    /// `tile`: computed from a table's column; without it the file holds the tiles.
    Metric {
        source: Source,
        tile: Option<Tile>,
    },
    Newsfeed(Articles),
    Pdf {
        source: Source,
        mode: PdfMode,
    },
    /// `folder`: the files to pick from (default: the endpoint); `file_param`: the
    /// `paramName` of the `fileSelector` param (the POST body key).
    MultiFileViewer {
        folder: String,
        file_param: String,
    },
    /// `folder`: the files searched (`""`: all of `data/`).
    Omni {
        folder: String,
    },
    Ssrm(Source),
    AdvancedChart(Source),
    LiveGrid {
        source: Source,
        socket: LiveSocket,
    },
    PassThrough,
}

/// The file a widget reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// `backend.file`: a name under `data/` or an `http(s)` URL, either may hold `{param}`
    /// placeholders; `None`: the first existing `<endpoint>.<extension>` of its type.
    pub file: Option<String>,
    /// `backend.ttl`: how long a copy of a remote `file` is kept (only with a remote `file`).
    pub ttl: Option<Duration>,
    /// How its table file is read: `backend.sheet`, `backend.delimiter`, `backend.decimal`.
    pub reading: crate::formats::Reading,
}

/// A metric computed from a table: the latest value of `column`, named `label` (default: the
/// column).
#[derive(Debug, Clone, PartialEq)]
pub struct Tile {
    pub column: String,
    pub label: Option<String>,
}

/// Where a newsfeed's articles come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Articles {
    /// A table or JSON file of articles.
    File(Source),
    /// A folder of Markdown notes with front matter.
    Notes { folder: String },
}

/// Where a live_grid's WebSocket is and which columns name its rows (one, or several together:
/// a composite key).
#[derive(Debug, Clone, PartialEq)]
pub struct LiveSocket {
    pub endpoint: String,
    pub row_key: Vec<String>,
}

/// A served live_grid, as its `wsEndpoint` finds it.
#[derive(Debug, Clone, Copy)]
pub struct LiveGrid<'m> {
    pub widget: &'m Widget,
    pub source: &'m Source,
    pub socket: &'m LiveSocket,
}

/// Where an options endpoint's answer comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionsSource {
    /// Distinct values of `column` of a table file, labelled by `label` (default: the value);
    /// the file read as its widget reads it when it is the widget's own `backend.file` (its
    /// sheet, separator), else as its name says.
    Column {
        file: String,
        column: String,
        label: Option<String>,
        reading: crate::formats::Reading,
    },
    /// A JSON file holding the options array as Workspace takes it.
    Static { file: String },
    /// The files of a folder (a multi_file_viewer's `fileSelector`, or `{"folder": ...}`):
    /// those ending `.<extension>` when it is given, by name, or by stem when `stems`.
    Folder {
        folder: String,
        extension: Option<String>,
        stems: bool,
    },
}

/// An options endpoint declared by a param's `optionsEndpoint`.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionsRoute {
    pub endpoint: String,
    pub source: OptionsSource,
    /// The widget that declared it (for messages).
    pub widget: String,
}

impl Kind {
    /// The type these settings are for.
    pub fn widget_type(&self) -> Type {
        match self {
            Kind::Table(_) => Type::Table,
            Kind::Markdown(_) => Type::Markdown,
            Kind::Html { .. } => Type::Html,
            Kind::Chart { library, .. } => Type::Chart(*library),
            Kind::Youtube(_) => Type::Youtube,
            Kind::Metric { .. } => Type::Metric,
            Kind::Newsfeed(_) => Type::Newsfeed,
            Kind::Pdf { .. } => Type::Pdf,
            Kind::MultiFileViewer { .. } => Type::MultiFileViewer,
            Kind::Omni { .. } => Type::Omni,
            Kind::Ssrm(_) => Type::Ssrm,
            Kind::AdvancedChart(_) => Type::AdvancedChart,
            Kind::LiveGrid { .. } => Type::LiveGrid,
            Kind::PassThrough => Type::PassThrough,
        }
    }

    /// The one file the widget reads, for the types that read one.
    pub fn source(&self) -> Option<&Source> {
        match self {
            Kind::Table(source)
            | Kind::Markdown(source)
            | Kind::Html { source, .. }
            | Kind::Chart { source, .. }
            | Kind::Youtube(source)
            | Kind::Metric { source, .. }
            | Kind::Newsfeed(Articles::File(source))
            | Kind::Pdf { source, .. }
            | Kind::Ssrm(source)
            | Kind::AdvancedChart(source)
            | Kind::LiveGrid { source, .. } => Some(source),
            Kind::Newsfeed(Articles::Notes { .. })
            | Kind::MultiFileViewer { .. }
            | Kind::Omni { .. }
            | Kind::PassThrough => None,
        }
    }

    /// The table file answered for `raw=true` (chart, html).
    pub fn records(&self) -> Option<&str> {
        match self {
            Kind::Html { records, .. } | Kind::Chart { records, .. } => records.as_deref(),
            _ => None,
        }
    }
}

impl Widget {
    /// The names the widget's file may have, when they do not depend on the request: its
    /// `backend.file`, or `<endpoint>.<extension>` by type. `None` for a templated name and
    /// for the kinds that read no one file.
    pub(super) fn known_files(&self) -> Option<Vec<String>> {
        let templated = |file: &str| placeholders(file).is_ok_and(|p| !p.is_empty());
        let candidates = match &self.kind.source()?.file {
            Some(file) if templated(file) => return None,
            Some(file) => vec![file.clone()],
            None => self.default_files(),
        };
        (!candidates.is_empty()).then_some(candidates)
    }

    /// The local file template the widget reads, when it names one.
    pub(super) fn local_template(&self) -> Option<&str> {
        let file = self.kind.source()?.file.as_deref();
        file.filter(|file| !is_remote(file))
    }

    /// `<endpoint>.<extension>` for each extension the widget's type reads, in the order tried.
    pub fn default_files(&self) -> Vec<String> {
        self.kind
            .widget_type()
            .extensions()
            .iter()
            .map(|extension| [self.endpoint.as_str(), ".", extension].concat())
            .collect()
    }
}
