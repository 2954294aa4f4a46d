//! A widget's `data`: `dataKey`, the live_grid row keys, and `data.table` with its
//! `columnsDefs`, by the front end's rules (each column needs `field` and `headerName`; the
//! enum-valued keys hold values it knows; render parameters and color rules are complete).

use serde_json::{Map, Value};

use super::{
    BOOL, BOOL_OR_NULL, Issue, NUMBER_OR_NULL, OBJECT, Shape, TEXT, TEXT_LIST, TEXT_OR_NULL,
    TEXT_OR_TEXT_LIST, check_one_of, check_required_text, check_shapes, shown,
};

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
const COLOR_CONDITIONS: [&str; 9] = [
    "eq",
    "ne",
    "gt",
    "lt",
    "gte",
    "lte",
    "contains",
    "notContains",
    "between",
];

const DATA_SHAPES: [(&str, Shape); 4] = [
    ("dataKey", TEXT),
    ("wsRowIdColumn", TEXT_OR_TEXT_LIST),
    ("wsRowIdColumns", TEXT_LIST),
    ("table", OBJECT),
];
const TABLE_SHAPES: [(&str, Shape); 5] = [
    ("showAll", BOOL),
    ("enableAdvanced", BOOL),
    ("transpose", BOOL_OR_NULL),
    (
        "columnsDefs",
        Shape {
            accepts: Value::is_array,
            expected: "an array of column definitions",
        },
    ),
    ("chartView", OBJECT),
];
const CHART_VIEW_SHAPES: [(&str, Shape); 7] = [
    ("enabled", BOOL),
    ("chartType", TEXT),
    ("ignoreCellRange", BOOL),
    ("cellRangeCols", OBJECT),
    ("chartSettingsOpen", BOOL),
    ("xLabel", TEXT),
    ("yLabel", TEXT),
];
const COLUMN_SHAPES: [(&str, Shape); 13] = [
    ("enableCellChangeWs", BOOL_OR_NULL),
    ("prefix", TEXT),
    ("suffix", TEXT),
    (
        "renderFnParams",
        Shape {
            accepts: |v| v.is_object() || v.is_null(),
            expected: "an object or null",
        },
    ),
    ("sparkline", OBJECT),
    ("width", NUMBER_OR_NULL),
    ("maxWidth", NUMBER_OR_NULL),
    ("minWidth", NUMBER_OR_NULL),
    ("hide", BOOL_OR_NULL),
    ("headerTooltip", TEXT_OR_NULL),
    ("rowGroup", BOOL_OR_NULL),
    ("aggFunc", TEXT_OR_NULL),
    (
        "pinned",
        Shape {
            accepts: |v| v.is_null() || v.is_boolean() || v == "left" || v == "right",
            expected: "\"left\", \"right\", a boolean or null",
        },
    ),
];

/// `data` and everything under it.
pub fn data(entry: &Map<String, Value>) -> Vec<Issue> {
    let mut issues = Vec::new();
    let Some(Value::Object(data)) = entry.get("data") else {
        return issues;
    };
    check_shapes(data, "data", &DATA_SHAPES, &mut issues);
    if data.contains_key("columnsDefs") {
        issues.push(Issue::warning(
            "data.columnsDefs",
            "column definitions belong in data.table.columnsDefs; Workspace ignores these",
        ));
    }
    let Some(Value::Object(table)) = data.get("table") else {
        return issues;
    };
    check_shapes(table, "data.table", &TABLE_SHAPES, &mut issues);
    check_one_of(
        table,
        "data.table",
        "formatterFn",
        &FORMATTERS,
        true,
        &mut issues,
    );
    match table.get("period") {
        None | Some(Value::Bool(_)) => {}
        Some(period) if (TEXT_LIST.accepts)(period) => {}
        Some(other) => issues.push(Issue::error(
            "data.table.period",
            format!("{} is not a boolean or an array of strings", shown(other)),
        )),
    }
    if let Some(Value::Object(view)) = table.get("chartView") {
        check_shapes(
            view,
            "data.table.chartView",
            &CHART_VIEW_SHAPES,
            &mut issues,
        );
    }
    let columns = table.get("columnsDefs").and_then(Value::as_array);
    for (i, column) in columns.into_iter().flatten().enumerate() {
        column_rules(&format!("data.table.columnsDefs[{i}]"), column, &mut issues);
    }
    issues
}

fn column_rules(prefix: &str, column: &Value, issues: &mut Vec<Issue>) {
    let Some(column) = column.as_object() else {
        issues.push(Issue::error(prefix, "expected an object"));
        return;
    };
    check_required_text(column, prefix, "field", issues);
    check_required_text(column, prefix, "headerName", issues);
    check_shapes(column, prefix, &COLUMN_SHAPES, issues);
    check_one_of(
        column,
        prefix,
        "cellDataType",
        &CELL_DATA_TYPES,
        false,
        issues,
    );
    check_one_of(
        column,
        prefix,
        "chartDataType",
        &CHART_DATA_TYPES,
        false,
        issues,
    );
    check_one_of(column, prefix, "formatterFn", &FORMATTERS, true, issues);
    check_one_of(
        column,
        prefix,
        "align",
        &["left", "center", "right"],
        false,
        issues,
    );
    if let Some(places) = column.get("decimalPlaces")
        && !places.as_f64().is_some_and(|n| (0.0..=6.0).contains(&n))
    {
        issues.push(Issue::error(
            format!("{prefix}.decimalPlaces"),
            format!("{} is not a number from 0 to 6", shown(places)),
        ));
    }
    render_fns(prefix, column.get("renderFn"), issues);
    if let Some(Value::Object(params)) = column.get("renderFnParams") {
        render_fn_params(&format!("{prefix}.renderFnParams"), params, issues);
    }
    if let Some(Value::Object(sparkline)) = column.get("sparkline") {
        let prefix = format!("{prefix}.sparkline");
        check_one_of(
            sparkline,
            &prefix,
            "type",
            &["line", "area", "bar"],
            false,
            issues,
        );
        if !sparkline.contains_key("type") {
            issues.push(Issue::error(
                format!("{prefix}.type"),
                "required: line, area or bar",
            ));
        }
        check_shapes(
            sparkline,
            &prefix,
            &[("dataField", TEXT), ("options", OBJECT)],
            issues,
        );
        if let Some(Value::Object(options)) = sparkline.get("options") {
            check_required_text(
                options,
                &format!("{prefix}.options"),
                "customFormatter",
                issues,
            );
        }
    }
}

/// `renderFn`: a name, several joined by commas, an array of names, or null.
fn render_fns(prefix: &str, value: Option<&Value>, issues: &mut Vec<Issue>) {
    let names: Vec<Option<&str>> = match value {
        None | Some(Value::Null) => return,
        Some(Value::String(joined)) => joined.split(',').map(|n| Some(n.trim())).collect(),
        Some(Value::Array(items)) => items.iter().map(|n| n.as_str().map(str::trim)).collect(),
        Some(_) => vec![None],
    };
    if names
        .iter()
        .any(|name| !name.is_some_and(|n| RENDER_FNS.contains(&n)))
    {
        issues.push(Issue::error(
            format!("{prefix}.renderFn"),
            format!(
                "{} is not one or more of {}",
                shown(value.unwrap_or(&Value::Null)),
                RENDER_FNS.join(", ")
            ),
        ));
    }
}

/// `renderFnParams`: its action's required settings and its color rules.
fn render_fn_params(prefix: &str, params: &Map<String, Value>, issues: &mut Vec<Issue>) {
    check_one_of(
        params,
        prefix,
        "actionType",
        &["groupBy", "sendToAgent"],
        true,
        issues,
    );
    check_shapes(
        params,
        prefix,
        &[
            ("groupByParamName", TEXT_OR_NULL),
            ("groupBy", OBJECT),
            ("colorValueKey", TEXT_OR_NULL),
        ],
        issues,
    );
    for key in ["hoverCard", "sendToAgent"] {
        if let Some(value) = params.get(key)
            && !(value.is_object() || value.is_null())
        {
            issues.push(Issue::error(
                format!("{prefix}.{key}"),
                format!("{} is not an object or null", shown(value)),
            ));
        }
    }
    match params.get("actionType").and_then(Value::as_str) {
        Some("groupBy") => {
            let named = params.get("groupByParamName").is_some_and(Value::is_string)
                || params
                    .get("groupBy")
                    .and_then(|g| g.get("paramName"))
                    .and_then(Value::as_str)
                    .is_some_and(|name| !name.is_empty());
            if !named {
                issues.push(Issue::error(
                    format!("{prefix}.groupBy.paramName"),
                    "required when actionType is groupBy (or groupByParamName)",
                ));
            }
        }
        Some("sendToAgent") => {
            let markdown = params.get("sendToAgent").and_then(|s| s.get("markdown"));
            if !markdown.is_some_and(Value::is_string) {
                issues.push(Issue::error(
                    format!("{prefix}.sendToAgent.markdown"),
                    "required when actionType is sendToAgent",
                ));
            }
        }
        _ => {}
    }
    match params.get("colorRules") {
        None | Some(Value::Null) => {}
        Some(Value::Array(rules)) => {
            for (i, rule) in rules.iter().enumerate() {
                color_rule(&format!("{prefix}.colorRules[{i}]"), rule, issues);
            }
        }
        Some(other) => issues.push(Issue::error(
            format!("{prefix}.colorRules"),
            format!("{} is not an array of rules", shown(other)),
        )),
    }
}

/// A color rule: a condition, a color (green, red, blue or a hex code), and a `value` (or a
/// `range` {min, max} for `between`).
fn color_rule(prefix: &str, rule: &Value, issues: &mut Vec<Issue>) {
    let Some(rule) = rule.as_object() else {
        issues.push(Issue::error(prefix, "expected an object"));
        return;
    };
    match rule.get("condition").and_then(Value::as_str) {
        Some("between") => {
            let range = rule.get("range").and_then(Value::as_object);
            if !range.is_some_and(|r| {
                ["min", "max"]
                    .iter()
                    .all(|k| r.get(*k).is_some_and(Value::is_number))
            }) {
                issues.push(Issue::error(
                    format!("{prefix}.range"),
                    "required for between, as {\"min\": number, \"max\": number}",
                ));
            }
        }
        Some(condition) if COLOR_CONDITIONS.contains(&condition) => {
            if !rule
                .get("value")
                .is_some_and(|v| v.is_string() || v.is_number())
            {
                issues.push(Issue::error(
                    format!("{prefix}.value"),
                    "required, as a string or a number",
                ));
            }
        }
        _ => issues.push(Issue::error(
            format!("{prefix}.condition"),
            format!("required, one of {}", COLOR_CONDITIONS.join(", ")),
        )),
    }
    let color_ok = rule
        .get("color")
        .and_then(Value::as_str)
        .is_some_and(|color| ["green", "red", "blue"].contains(&color) || is_hex_color(color));
    if !color_ok {
        issues.push(Issue::error(
            format!("{prefix}.color"),
            "required: green, red, blue or a #rgb/#rrggbb code",
        ));
    }
    check_shapes(rule, prefix, &[("fill", BOOL)], issues);
}

fn is_hex_color(color: &str) -> bool {
    color
        .strip_prefix('#')
        .is_some_and(|hex| matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit()))
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
