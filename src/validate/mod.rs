//! The rules Workspace's front end applies to a manifest (workspace-contract.md §0), checked
//! before anything is served, and the checks of a widget against its data.
//!
//! Workspace parses every widget of `widgets.json` with one schema and keeps **no** widget when
//! one fails; it parses every app of `apps.json` and drops **every** app when one fails. So each
//! entry is checked here first, against exactly what the front end checks: an [`Issue`] of
//! [`Severity::Error`] is a rule of the front end's schema (the entry is left out and listed), a
//! [`Severity::Warning`] is something the front end accepts but a user should hear of (a key it
//! does not know, which it shows as an "unrecognized" toast; a layout outside the grid; a data
//! file that may appear later). Nothing the front end accepts is an error here, and nothing it
//! refuses is a warning. One function per part of the schema (`params`, `columns` for `data`
//! and `columnsDefs`, `apps`); all pure. Messages read `subject: field: message` once the caller
//! adds the widget id (warnings say `warning:` first).

mod apps;
mod columns;
mod params;

use std::collections::HashSet;

use serde_json::{Map, Value};

pub use apps::{apps, check_app};
pub use columns::column_fields;
pub use params::{has_role, is_falsy, js_string, normalized_params, params_of};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub severity: Severity,
    pub field: String,
    pub message: String,
}

impl Issue {
    pub fn error(field: impl Into<String>, message: impl Into<String>) -> Issue {
        Issue {
            severity: Severity::Error,
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn warning(field: impl Into<String>, message: impl Into<String>) -> Issue {
        Issue {
            severity: Severity::Warning,
            field: field.into(),
            message: message.into(),
        }
    }

    /// The problem line for `subject` (a widget id, or `apps.json`).
    pub fn line(&self, subject: &str) -> String {
        match self.severity {
            Severity::Error => format!("{subject}: {}: {}", self.field, self.message),
            Severity::Warning => format!("{subject}: {}: warning: {}", self.field, self.message),
        }
    }
}

/// A line listed at `/` and by `check`, with its severity: `check` counts errors by this, never
/// by reading the text back (a widget id may hold anything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    pub line: String,
}

impl Problem {
    pub fn error(line: impl Into<String>) -> Problem {
        Problem {
            severity: Severity::Error,
            line: line.into(),
        }
    }

    pub fn warning(line: impl Into<String>) -> Problem {
        Problem {
            severity: Severity::Warning,
            line: line.into(),
        }
    }
}

impl Issue {
    /// This issue of `subject` as a [`Problem`].
    pub fn problem(&self, subject: &str) -> Problem {
        Problem {
            severity: self.severity,
            line: self.line(subject),
        }
    }
}

/// Whether any of `issues` is an error.
pub fn has_error(issues: &[Issue]) -> bool {
    issues.iter().any(|i| i.severity == Severity::Error)
}

/// The widget types Workspace's front end accepts, exactly (`note` is read as `rich_note`).
pub const WIDGET_TYPES: [&str; 20] = [
    "advanced_charting",
    "chart",
    "chart-highcharts",
    "chart-vegalite",
    "file_viewer",
    "html",
    "iframe",
    "live_grid",
    "markdown",
    "metric",
    "multi_file_viewer",
    "newsfeed",
    "note",
    "rich_note",
    "omni",
    "pdf",
    "table",
    "ssrm_table",
    "ssrm_advanced",
    "youtube",
];

/// Spellings that OpenBB's docs pages print but the front end refuses, with the spelling it
/// accepts. A user's `widgets.json` may use them; they are served under the front end's name.
pub const TYPE_ALIASES: [(&str, &str); 2] = [
    ("table_ssrm", "ssrm_table"),
    ("advanced-chart", "advanced_charting"),
];

/// Types OpenBB's docs pages print that the front end refuses, with what to use instead.
const TYPE_HINTS: [(&str, &str); 1] = [("live_feed", "use live_grid")];

/// The front end's spelling of a widget type written as `name`, when `name` is an alias.
pub fn canonical_type(name: &str) -> Option<&'static str> {
    TYPE_ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map(|(_, canonical)| *canonical)
}

/// Workspace's grid is 40 columns wide; a widget is at most 100 rows high.
pub const GRID_COLUMNS: u64 = 40;
pub const GRID_ROWS: u64 = 100;

/// What a value must be, as the front end's schema says it, and how a message names that.
#[derive(Clone, Copy)]
pub(crate) struct Shape {
    accepts: fn(&Value) -> bool,
    expected: &'static str,
}

pub(crate) const TEXT: Shape = Shape {
    accepts: Value::is_string,
    expected: "a string",
};
pub(crate) const TEXT_OR_NULL: Shape = Shape {
    accepts: |v| v.is_string() || v.is_null(),
    expected: "a string or null",
};
pub(crate) const BOOL: Shape = Shape {
    accepts: Value::is_boolean,
    expected: "true or false",
};
pub(crate) const BOOL_OR_NULL: Shape = Shape {
    accepts: |v| v.is_boolean() || v.is_null(),
    expected: "true, false or null",
};
pub(crate) const NUMBER: Shape = Shape {
    accepts: Value::is_number,
    expected: "a number",
};
pub(crate) const NUMBER_OR_NULL: Shape = Shape {
    accepts: |v| v.is_number() || v.is_null(),
    expected: "a number or null",
};
pub(crate) const OBJECT: Shape = Shape {
    accepts: Value::is_object,
    expected: "an object",
};
pub(crate) const TEXT_LIST: Shape = Shape {
    accepts: is_text_list,
    expected: "an array of strings",
};
pub(crate) const TEXT_OR_TEXT_LIST: Shape = Shape {
    accepts: |v| v.is_string() || is_text_list(v),
    expected: "a string or an array of strings",
};
/// A cron expression: a string that is not blank.
const CRON: Shape = Shape {
    accepts: |v| v.as_str().is_some_and(|s| !s.trim().is_empty()),
    expected: "a non-empty cron string",
};
const STALE_TIME: Shape = Shape {
    accepts: |v| v == &Value::Bool(false) || v.as_f64().is_some_and(|n| n >= 1000.0),
    expected: "a number of milliseconds, at least 1000, or false",
};
const REFETCH_INTERVAL: Shape = Shape {
    accepts: |v| v.is_null() || (CRON.accepts)(v) || (STALE_TIME.accepts)(v),
    expected: "a number of milliseconds (at least 1000), false, null or a cron string",
};

fn is_text_list(value: &Value) -> bool {
    value
        .as_array()
        .is_some_and(|items| items.iter().all(Value::is_string))
}

/// `prefix.key`, or `key` at the top.
pub(crate) fn field(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// A value as a message shows it: its JSON, cut short.
pub(crate) fn shown(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text,
    }
}

/// Each key of `object` that `shapes` names, when present, has its shape.
pub(crate) fn check_shapes(
    object: &Map<String, Value>,
    prefix: &str,
    shapes: &[(&str, Shape)],
    issues: &mut Vec<Issue>,
) {
    for (key, shape) in shapes {
        if let Some(value) = object.get(*key)
            && !(shape.accepts)(value)
        {
            issues.push(Issue::error(
                field(prefix, key),
                format!("{} is not {}", shown(value), shape.expected),
            ));
        }
    }
}

/// `key`, when present, is one of `allowed` (or null, with `nullable`).
pub(crate) fn check_one_of(
    object: &Map<String, Value>,
    prefix: &str,
    key: &str,
    allowed: &[&str],
    nullable: bool,
    issues: &mut Vec<Issue>,
) {
    let ok = match object.get(key) {
        None => true,
        Some(Value::Null) => nullable,
        Some(Value::String(text)) => allowed.contains(&text.as_str()),
        Some(_) => false,
    };
    if !ok {
        issues.push(Issue::error(
            field(prefix, key),
            format!(
                "{} is not one of {}",
                shown(&object[key]),
                allowed.join(", ")
            ),
        ));
    }
}

/// `key` is present and a string.
pub(crate) fn check_required_text(
    object: &Map<String, Value>,
    prefix: &str,
    key: &str,
    issues: &mut Vec<Issue>,
) {
    if !object.get(key).is_some_and(Value::is_string) {
        issues.push(Issue::error(field(prefix, key), "required, as a string"));
    }
}

/// The top-level keys of a widget the front end knows (its schema's keys). Others raise its
/// "unrecognized parameters" toast, except the two it ignores silently.
const KNOWN_WIDGET_KEYS: [&str; 28] = [
    "name",
    "showTitle",
    "description",
    "category",
    "subCategory",
    "schemaName",
    "source",
    "widgetId",
    "widgetType",
    "endpoint",
    "fileEndpoint",
    "wsEndpoint",
    "params",
    "groupById",
    "data",
    "type",
    "defaultViz",
    "gridData",
    "staleTime",
    "refetchInterval",
    "dataUpdateDisplay",
    "runButton",
    "disableRetrievalForCopilot",
    "copilotParseAs",
    "inputType",
    "raw",
    "exportable",
    "storage",
];
const SILENTLY_IGNORED_KEYS: [&str; 2] = ["mcp_tool", "searchCategory"];
/// Our own key: the server's settings for the widget, removed before the widget is served.
pub const BACKEND_KEY: &str = "backend";

const WIDGET_SHAPES: [(&str, Shape); 21] = [
    ("showTitle", BOOL_OR_NULL),
    ("category", TEXT),
    ("subCategory", TEXT),
    ("schemaName", TEXT),
    ("source", TEXT_OR_TEXT_LIST),
    ("widgetId", TEXT),
    ("widgetType", TEXT),
    ("fileEndpoint", TEXT),
    ("wsEndpoint", TEXT),
    ("groupById", TEXT_OR_NULL),
    ("staleTime", STALE_TIME),
    ("refetchInterval", REFETCH_INTERVAL),
    ("dataUpdateDisplay", CRON),
    ("runButton", BOOL),
    ("disableRetrievalForCopilot", BOOL),
    ("inputType", TEXT),
    ("raw", BOOL),
    ("exportable", BOOL),
    ("storage", OBJECT),
    ("gridData", OBJECT),
    ("data", OBJECT),
];

/// Every rule of the front end's widget schema for one entry (as written, `backend` included or
/// not), and the warnings beside them.
pub fn widget(entry: &Map<String, Value>) -> Vec<Issue> {
    let mut issues = Vec::new();
    for key in ["name", "description", "endpoint"] {
        check_required_text(entry, "", key, &mut issues);
    }
    check_shapes(entry, "", &WIDGET_SHAPES, &mut issues);
    check_one_of(
        entry,
        "",
        "copilotParseAs",
        &["structured", "unstructured"],
        false,
        &mut issues,
    );
    issues.extend(widget_type(entry));
    issues.extend(grid_data(entry));
    issues.extend(params::params(entry));
    issues.extend(columns::data(entry));
    issues.extend(unknown_keys(entry));
    issues
}

/// `type` and `defaultViz`, when given and not null, are types the front end knows.
pub fn widget_type(entry: &Map<String, Value>) -> Vec<Issue> {
    ["type", "defaultViz"]
        .into_iter()
        .filter_map(|key| match entry.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) if WIDGET_TYPES.contains(&name.as_str()) => None,
            Some(other) => Some(Issue::error(
                key,
                match TYPE_HINTS.iter().find(|(name, _)| other == name) {
                    Some((_, hint)) => {
                        format!(
                            "{} is not a widget type Workspace knows: {hint}",
                            shown(other)
                        )
                    }
                    None => format!(
                        "{} is not a widget type Workspace knows ({})",
                        shown(other),
                        WIDGET_TYPES.join(", ")
                    ),
                },
            )),
        })
        .collect()
}

/// The type the front end gives a widget: `type`, else `defaultViz`, else `table`.
pub fn type_of(entry: &Map<String, Value>) -> &str {
    ["type", "defaultViz"]
        .iter()
        .find_map(|key| entry.get(*key).and_then(Value::as_str))
        .unwrap_or("table")
}

/// `gridData` holds numbers `w` and `h` (the front end's rule); outside the 40-column grid or
/// 100 rows is a warning (Workspace clamps it).
pub fn grid_data(entry: &Map<String, Value>) -> Vec<Issue> {
    let Some(Value::Object(grid)) = entry.get("gridData") else {
        return Vec::new();
    };
    let mut issues = Vec::new();
    for (key, max) in [("w", GRID_COLUMNS), ("h", GRID_ROWS)] {
        match grid.get(key) {
            Some(value) if value.is_number() => {
                if !value.as_f64().is_some_and(|n| n >= 1.0 && n <= max as f64) {
                    issues.push(Issue::warning(
                        format!("gridData.{key}"),
                        format!("{value} is outside 1 to {max}"),
                    ));
                }
            }
            _ => issues.push(Issue::error(
                format!("gridData.{key}"),
                "required, as a number",
            )),
        }
    }
    issues
}

/// Top-level keys the front end does not know: warnings, as its toast is.
pub fn unknown_keys(entry: &Map<String, Value>) -> Vec<Issue> {
    entry
        .keys()
        .filter(|key| {
            !KNOWN_WIDGET_KEYS.contains(&key.as_str())
                && !SILENTLY_IGNORED_KEYS.contains(&key.as_str())
                && key.as_str() != BACKEND_KEY
        })
        .map(|key| {
            Issue::warning(
                key.as_str(),
                "not a key Workspace knows (it shows an \"unrecognized parameters\" warning)",
            )
        })
        .collect()
}

/// A widget's data file against the columns the widget names in it, given as `(field,
/// column)`. Warnings: the data may change without the manifest changing. A column is there
/// when [`crate::filter::find_column`] would find it (the same name, or one ignoring ASCII
/// case), looked up by hash: a file and a manifest of 100,000 columns each take milliseconds.
pub fn data_columns(file: &str, header: &[String], named: &[(String, String)]) -> Vec<Issue> {
    let exact: HashSet<&str> = header.iter().map(String::as_str).collect();
    let folded: HashSet<String> = header.iter().map(|c| c.to_ascii_lowercase()).collect();
    let is_there =
        |column: &str| exact.contains(column) || folded.contains(&column.to_ascii_lowercase());
    let mut columns = None;
    named
        .iter()
        .filter(|(_, column)| !is_there(column))
        .map(|(field, column)| {
            let columns = columns.get_or_insert_with(|| some_columns(header));
            Issue::warning(
                field.as_str(),
                format!("column '{column}' is not in {file} ({columns})"),
            )
        })
        .collect()
}

/// The first [`SHOWN_COLUMNS`] column names, for a message, and how many more there are.
fn some_columns(header: &[String]) -> String {
    let shown = header[..header.len().min(SHOWN_COLUMNS)].join(", ");
    match header.len().saturating_sub(SHOWN_COLUMNS) {
        0 => shown,
        more => format!("{shown}, and {more} more"),
    }
}

/// Column names a message lists before saying how many more there are.
const SHOWN_COLUMNS: usize = 20;

#[cfg(test)]
mod tests;
