//! The rules Workspace applies to a manifest, checked before it is served (workspace-contract.md
//! §2-§6), and the checks of a widget against its data.
//!
//! Workspace rejects a whole backend when one widget breaks its rules, so every widget is checked
//! here first: an [`Issue`] of [`Severity::Error`] leaves the widget out of the served manifest,
//! a [`Severity::Warning`] keeps it (a data file that may appear later, a column the file lacks
//! today). One function per rule family; all pure: the data checks get a table's header through
//! a lookup the caller provides. Messages read `widget: field: message` once the caller adds the
//! widget id (warnings say `warning:` first).

use std::collections::HashSet;

use serde_json::{Map, Value};

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

/// Widget types Workspace knows (its reference list, the types documented on their own pages,
/// and the spellings its examples use).
pub const WIDGET_TYPES: [&str; 20] = [
    "table",
    "chart",
    "table_ssrm",
    "ssrm_table",
    "markdown",
    "metric",
    "note",
    "multi_file_viewer",
    "live_grid",
    "live_feed",
    "newsfeed",
    "advanced-chart",
    "advanced_charting",
    "chart-highcharts",
    "chart-vegalite",
    "youtube",
    "iframe",
    "pdf",
    "html",
    "omni",
];
const PARAM_TYPES: [&str; 8] = [
    "text", "number", "boolean", "date", "ticker", "endpoint", "form", "tabs",
];
/// Types only a form's `inputParams` may use, besides [`PARAM_TYPES`].
const INPUT_TYPES: [&str; 1] = ["button"];
const CELL_DATA_TYPES: [&str; 6] = ["text", "number", "boolean", "date", "dateString", "object"];
const CHART_DATA_TYPES: [&str; 4] = ["category", "series", "time", "excluded"];
const FORMATTERS: [&str; 6] = [
    "int",
    "none",
    "percent",
    "normalized",
    "normalizedPercent",
    "dateToYear",
];
const RENDER_FNS: [&str; 6] = [
    "greenRed",
    "titleCase",
    "hoverCard",
    "cellOnClick",
    "columnColor",
    "showCellChange",
];
/// Workspace's grid is 40 columns wide; a widget is at most 100 rows high.
pub const GRID_COLUMNS: u64 = 40;
const GRID_ROWS: u64 = 100;

/// Every rule family for one widget entry (as written, `backend` included or not).
pub fn widget(entry: &Map<String, Value>) -> Vec<Issue> {
    let mut issues = required_fields(entry);
    issues.extend(widget_type(entry));
    issues.extend(grid_data(entry));
    issues.extend(params(entry));
    issues.extend(columns_defs(entry));
    issues
}

/// `name`, `description` and `endpoint` are required strings.
pub fn required_fields(entry: &Map<String, Value>) -> Vec<Issue> {
    ["name", "description", "endpoint"]
        .into_iter()
        .filter(|field| !entry.get(*field).is_some_and(Value::is_string))
        .map(|field| Issue::error(field, "required, as a string"))
        .collect()
}

/// `type`, when given, is a string Workspace knows.
pub fn widget_type(entry: &Map<String, Value>) -> Vec<Issue> {
    match entry.get("type") {
        None => Vec::new(),
        Some(Value::String(name)) if WIDGET_TYPES.contains(&name.as_str()) => Vec::new(),
        Some(other) => vec![Issue::error(
            "type",
            format!("{other} is not a widget type Workspace knows"),
        )],
    }
}

/// `gridData.w`/`h` are positive whole numbers within the 40-column grid (h at most 100).
pub fn grid_data(entry: &Map<String, Value>) -> Vec<Issue> {
    let Some(grid) = entry.get("gridData") else {
        return Vec::new();
    };
    let Some(grid) = grid.as_object() else {
        return vec![Issue::error("gridData", "expected an object {w, h}")];
    };
    let mut issues = Vec::new();
    for (key, max) in [
        ("w", GRID_COLUMNS),
        ("h", GRID_ROWS),
        ("minW", GRID_COLUMNS),
        ("maxW", GRID_COLUMNS),
        ("minH", GRID_ROWS),
        ("maxH", GRID_ROWS),
    ] {
        match grid.get(key) {
            None => {}
            Some(value) if value.as_u64().is_some_and(|n| (1..=max).contains(&n)) => {}
            Some(value) => issues.push(Issue::error(
                format!("gridData.{key}"),
                format!("{value} is not a whole number from 1 to {max}"),
            )),
        }
    }
    issues
}

/// A widget's params, whether written as one list or as rows of lists, with their field paths.
pub fn params_of(entry: &Map<String, Value>) -> Vec<(String, &Value)> {
    let Some(Value::Array(params)) = entry.get("params") else {
        return Vec::new();
    };
    params
        .iter()
        .enumerate()
        .flat_map(|(i, p)| match p {
            Value::Array(row) => row
                .iter()
                .enumerate()
                .map(|(j, p)| (format!("params[{i}][{j}]"), p))
                .collect(),
            other => vec![(format!("params[{i}]"), other)],
        })
        .collect()
}

/// Each param has a `paramName` and a known `type`; an `endpoint` param names its
/// `optionsEndpoint`; a form's inputs follow the same rules (buttons allowed).
pub fn params(entry: &Map<String, Value>) -> Vec<Issue> {
    match entry.get("params") {
        None | Some(Value::Array(_)) => {}
        Some(_) => return vec![Issue::error("params", "expected an array")],
    }
    let mut issues = Vec::new();
    for (field, param) in params_of(entry) {
        param_rules(&field, param, &PARAM_TYPES, &mut issues);
    }
    issues
}

fn param_rules(field: &str, param: &Value, types: &[&str], issues: &mut Vec<Issue>) {
    let Some(param) = param.as_object() else {
        issues.push(Issue::error(field, "expected an object"));
        return;
    };
    if !param.get("paramName").is_some_and(Value::is_string) {
        issues.push(Issue::error(
            format!("{field}.paramName"),
            "required, as a string",
        ));
    }
    let kind = param.get("type").and_then(Value::as_str);
    match kind {
        Some(kind) if types.contains(&kind) => {}
        _ => issues.push(Issue::error(
            format!("{field}.type"),
            format!(
                "{} is not a parameter type ({})",
                param.get("type").unwrap_or(&Value::Null),
                types.join(", ")
            ),
        )),
    }
    if kind == Some("endpoint") && !param.get("optionsEndpoint").is_some_and(Value::is_string) {
        issues.push(Issue::error(
            format!("{field}.optionsEndpoint"),
            "required for a param of type endpoint",
        ));
    }
    if kind == Some("form") {
        let inputs = param.get("inputParams").and_then(Value::as_array);
        let types: Vec<&str> = PARAM_TYPES.iter().chain(&INPUT_TYPES).copied().collect();
        for (i, input) in inputs.into_iter().flatten().enumerate() {
            param_rules(&format!("{field}.inputParams[{i}]"), input, &types, issues);
        }
    }
}

/// `columnsDefs` sits under `data.table`, each column has a `field`, and the enum-valued keys
/// (`cellDataType`, `chartDataType`, `formatterFn`, `renderFn`) hold values Workspace knows.
pub fn columns_defs(entry: &Map<String, Value>) -> Vec<Issue> {
    let mut issues = Vec::new();
    for misplaced in [
        entry.get("columnsDefs").map(|_| "columnsDefs"),
        entry.get("columns").map(|_| "columns"),
        entry
            .get("data")
            .and_then(|d| d.get("columnsDefs"))
            .map(|_| "data.columnsDefs"),
    ]
    .into_iter()
    .flatten()
    {
        issues.push(Issue::error(
            misplaced,
            "column definitions belong in data.table.columnsDefs",
        ));
    }
    let table = entry.get("data").and_then(|d| d.get("table"));
    if let Some(formatter) = table.and_then(|t| t.get("formatterFn")) {
        issues.extend(one_of("data.table.formatterFn", formatter, &FORMATTERS));
    }
    let Some(columns) = table.and_then(|t| t.get("columnsDefs")) else {
        return issues;
    };
    let Some(columns) = columns.as_array() else {
        issues.push(Issue::error("data.table.columnsDefs", "expected an array"));
        return issues;
    };
    for (i, column) in columns.iter().enumerate() {
        let field = format!("data.table.columnsDefs[{i}]");
        let Some(column) = column.as_object() else {
            issues.push(Issue::error(field, "expected an object"));
            continue;
        };
        if !column.get("field").is_some_and(Value::is_string) {
            issues.push(Issue::error(
                format!("{field}.field"),
                "required, as a string",
            ));
        }
        for (key, allowed) in [
            ("cellDataType", &CELL_DATA_TYPES[..]),
            ("chartDataType", &CHART_DATA_TYPES[..]),
            ("formatterFn", &FORMATTERS[..]),
        ] {
            if let Some(value) = column.get(key) {
                issues.extend(one_of(&format!("{field}.{key}"), value, allowed));
            }
        }
        match column.get("renderFn") {
            Some(Value::Array(names)) => {
                for name in names {
                    issues.extend(one_of(&format!("{field}.renderFn"), name, &RENDER_FNS));
                }
            }
            Some(name) => issues.extend(one_of(&format!("{field}.renderFn"), name, &RENDER_FNS)),
            None => {}
        }
    }
    issues
}

/// An enum-valued key holds one of `allowed`; `null` counts as not set (OpenBB's own launcher
/// writes `"formatterFn": null`).
fn one_of(field: &str, value: &Value, allowed: &[&str]) -> Option<Issue> {
    match value.as_str() {
        Some(text) if allowed.contains(&text) => None,
        None if value.is_null() => None,
        _ => Some(Issue::error(
            field,
            format!("{value} is not one of {}", allowed.join(", ")),
        )),
    }
}

/// The `field`s of a widget's `data.table.columnsDefs`.
pub fn column_fields(entry: &Map<String, Value>) -> Vec<String> {
    entry
        .get("data")
        .and_then(|d| d.get("table"))
        .and_then(|t| t.get("columnsDefs"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("field").and_then(Value::as_str).map(String::from))
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

/// The layouts of `apps.json` against the served widget ids: a layout item naming a widget that
/// is not served (ids beginning `rich_note`, Workspace's own notes, excepted) is taken out of the
/// returned apps and reported, as is an item outside the 40-column grid.
pub fn apps(apps: &mut Value, ids: &HashSet<&str>) -> Vec<Issue> {
    let mut issues = Vec::new();
    let Some(list) = apps.as_array_mut() else {
        return issues;
    };
    for (a, app) in list.iter_mut().enumerate() {
        let Some(tabs) = app.get_mut("tabs").and_then(Value::as_object_mut) else {
            continue;
        };
        for (tab_id, tab) in tabs.iter_mut() {
            let Some(layout) = tab.get_mut("layout").and_then(Value::as_array_mut) else {
                continue;
            };
            let mut index = 0;
            layout.retain(|item| {
                let field = format!("[{a}].tabs.{tab_id}.layout[{index}]");
                index += 1;
                let id = item.get("i").and_then(Value::as_str).unwrap_or_default();
                if !id.starts_with("rich_note") && !ids.contains(id) {
                    issues.push(Issue::error(
                        format!("{field}.i"),
                        format!("'{id}' is not a served widget; the item is left out"),
                    ));
                    return false;
                }
                let x = item.get("x").and_then(Value::as_u64);
                let w = item.get("w").and_then(Value::as_u64);
                if !matches!((x, w), (Some(x), Some(w)) if w >= 1 && x + w <= GRID_COLUMNS) {
                    issues.push(Issue::warning(
                        field,
                        format!("x + w must stay within the {GRID_COLUMNS}-column grid"),
                    ));
                }
                true
            });
        }
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn fields(issues: &[Issue]) -> Vec<&str> {
        issues.iter().map(|i| i.field.as_str()).collect()
    }

    #[test]
    fn required_fields_are_strings() {
        let issues = required_fields(&entry(json!({"name": "A", "endpoint": 3})));
        assert_eq!(fields(&issues), ["description", "endpoint"]);
        assert!(
            required_fields(&entry(
                json!({"name": "", "description": "", "endpoint": "e"})
            ))
            .is_empty()
        );
    }

    #[test]
    fn types_are_known() {
        assert!(widget_type(&entry(json!({}))).is_empty());
        assert!(widget_type(&entry(json!({"type": "advanced_charting"}))).is_empty());
        let issues = widget_type(&entry(json!({"type": "tabel"})));
        assert_eq!(
            issues[0].line("w"),
            "w: type: \"tabel\" is not a widget type Workspace knows"
        );
    }

    #[test]
    fn grid_stays_within_forty_columns() {
        assert!(grid_data(&entry(json!({"gridData": {"w": 40, "h": 100}}))).is_empty());
        let issues = grid_data(&entry(json!({"gridData": {"w": 41, "h": 0, "minW": "x"}})));
        assert_eq!(
            fields(&issues),
            ["gridData.w", "gridData.h", "gridData.minW"]
        );
        assert_eq!(
            fields(&grid_data(&entry(json!({"gridData": [1]})))),
            ["gridData"]
        );
    }

    #[test]
    fn params_need_names_known_types_and_options_endpoints() {
        let issues = params(&entry(json!({"params": [
            {"paramName": "a", "type": "text"},
            [{"paramName": "b", "type": "endpoint"}, {"type": "colour"}],
            {"paramName": "f", "type": "form", "inputParams": [
                {"paramName": "go", "type": "button"}, {"paramName": "x", "type": "slider"}]},
            "loose"
        ]})));
        assert_eq!(
            fields(&issues),
            [
                "params[1][0].optionsEndpoint",
                "params[1][1].paramName",
                "params[1][1].type",
                "params[2].inputParams[1].type",
                "params[3]"
            ]
        );
        assert_eq!(fields(&params(&entry(json!({"params": {}})))), ["params"]);
        let button = params(&entry(
            json!({"params": [{"paramName": "b", "type": "button"}]}),
        ));
        assert_eq!(
            fields(&button),
            ["params[0].type"],
            "buttons only inside forms"
        );
    }

    #[test]
    fn columns_defs_sit_under_data_table_with_known_enums() {
        let good = json!({"data": {"table": {"formatterFn": "int", "columnsDefs": [
            {"field": "a", "cellDataType": "number", "chartDataType": "series",
             "formatterFn": "percent", "renderFn": ["greenRed", "titleCase"]},
            {"field": "b", "renderFn": "cellOnClick", "formatterFn": null, "chartDataType": null}]}}});
        assert!(columns_defs(&entry(good.clone())).is_empty());
        assert_eq!(column_fields(&entry(good)), ["a", "b"]);
        let bad = json!({"columnsDefs": [], "data": {"columnsDefs": [], "table": {
            "formatterFn": "money", "columnsDefs": [
            {"cellDataType": "string"}, {"field": "b", "chartDataType": "y", "renderFn": ["bold"]}, 7]}}});
        assert_eq!(
            fields(&columns_defs(&entry(bad))),
            [
                "columnsDefs",
                "data.columnsDefs",
                "data.table.formatterFn",
                "data.table.columnsDefs[0].field",
                "data.table.columnsDefs[0].cellDataType",
                "data.table.columnsDefs[1].chartDataType",
                "data.table.columnsDefs[1].renderFn",
                "data.table.columnsDefs[2]"
            ]
        );
    }

    #[test]
    fn data_columns_are_warnings() {
        let named = [
            (
                "data.table.columnsDefs[0].field".to_string(),
                "Close".to_string(),
            ),
            ("backend.filters.since".to_string(), "day".to_string()),
        ];
        let header = ["date".to_string(), "close".to_string()];
        let issues = data_columns("data/p.csv", &header, &named);
        assert_eq!(issues.len(), 1);
        assert_eq!(
            issues[0].line("p"),
            "p: backend.filters.since: warning: column 'day' is not in data/p.csv (date, close)"
        );
    }

    #[test]
    fn wide_files_are_checked_by_hash_and_named_in_short() {
        let header: Vec<String> = (0..100_000).map(|i| format!("c{i}")).collect();
        let mut named: Vec<(String, String)> = header
            .iter()
            .map(|c| ("field".to_string(), c.to_ascii_uppercase()))
            .collect();
        named.push(("field".to_string(), "gone".to_string()));
        let started = std::time::Instant::now();
        let issues = data_columns("data/wide.csv", &header, &named);
        let took = started.elapsed();
        assert!(took.as_secs() < 2, "{took:?}");
        assert_eq!(issues.len(), 1);
        assert_eq!(
            issues[0].line("w"),
            format!(
                "w: field: warning: column 'gone' is not in data/wide.csv ({}, and 99980 more)",
                header[..20].join(", ")
            )
        );
    }

    #[test]
    fn apps_lose_items_naming_missing_widgets() {
        let mut document = json!([{"name": "A", "tabs": {"t": {"layout": [
            {"i": "a", "x": 0, "y": 0, "w": 20, "h": 5},
            {"i": "gone", "x": 20, "y": 0, "w": 20, "h": 5},
            {"i": "rich_note_1", "x": 0, "y": 5, "w": 10, "h": 5},
            {"i": "a", "x": 30, "y": 5, "w": 20, "h": 5}]}}}]);
        let issues = apps(&mut document, &HashSet::from(["a"]));
        assert_eq!(
            issues
                .iter()
                .map(|i| i.line("apps.json"))
                .collect::<Vec<_>>(),
            [
                "apps.json: [0].tabs.t.layout[1].i: 'gone' is not a served widget; the item is left out",
                "apps.json: [0].tabs.t.layout[3]: warning: x + w must stay within the 40-column grid"
            ]
        );
        let layout = document[0]["tabs"]["t"]["layout"].as_array().unwrap();
        assert_eq!(layout.len(), 3);
    }
}
