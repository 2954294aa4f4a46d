//! A widget's `params`, as the front end reads them: a list (or rows of lists) of param
//! objects, each first normalized (falsy values become null, a text value becomes text, a
//! number given as text becomes a number, the type defaults to `text`, or `date` for a param
//! named `date`) and then checked by its type. The same normalization gives the default values
//! "Validate widgets" sends (see `workspace.rs`).

use serde_json::{Map, Value};

use super::{
    BOOL, Issue, NUMBER, OBJECT, Shape, TEXT, TEXT_LIST, check_one_of, check_shapes, field, shown,
};

const PARAM_TYPES: [&str; 9] = [
    "text", "date", "ticker", "number", "boolean", "endpoint", "button", "tabs", "form",
];
/// The types a form's `inputParams` may have.
const INPUT_TYPES: [&str; 6] = ["date", "boolean", "endpoint", "number", "text", "button"];
const LANGUAGES: [&str; 9] = [
    "sql",
    "javascript",
    "python",
    "json",
    "html",
    "css",
    "markdown",
    "xml",
    "text",
];

/// Keys every param may have, with their shapes (`show` is made a boolean before the check,
/// `description` may be anything).
const BASE_SHAPES: [(&str, Shape); 9] = [
    ("label", TEXT),
    ("multiple", BOOL),
    ("row", NUMBER),
    ("hidden", BOOL),
    ("style", OBJECT),
    ("multiSelect", BOOL),
    ("roles", TEXT_LIST),
    ("placeholder", TEXT),
    ("query", TEXT),
];

/// A widget's params, whether written as one list or as rows of lists, with their field paths,
/// as written.
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

/// The params as the front end holds them after normalizing, with their field paths. An entry
/// that is not a param object (an object with a non-empty `paramName`, or a form) is left as it
/// is, and fails the checks.
pub fn normalized_params(entry: &Map<String, Value>) -> Vec<(String, Value)> {
    params_of(entry)
        .into_iter()
        .map(|(field, param)| {
            let normalized = match param {
                Value::Object(object) if is_param(object) => Value::Object(normalized(object)),
                other => other.clone(),
            };
            (field, normalized)
        })
        .collect()
}

fn is_param(param: &Map<String, Value>) -> bool {
    param.get("type").and_then(Value::as_str) == Some("form")
        || param
            .get("paramName")
            .and_then(Value::as_str)
            .is_some_and(|name| !name.is_empty())
}

/// One param as the front end normalizes it before its schema sees it.
fn normalized(param: &Map<String, Value>) -> Map<String, Value> {
    let mut param = param.clone();
    // `type ?? (paramName == "date" ? "date" : "text")`: only a missing or null type is filled
    // in; any other value stays, for the type check to judge.
    let given = param.get("type").filter(|t| !t.is_null()).cloned();
    let kind = match &given {
        Some(kind) => kind.as_str().unwrap_or_default().to_string(),
        None if param.get("paramName").and_then(Value::as_str) == Some("date") => "date".into(),
        None => "text".into(),
    };
    let value = param.get("value").cloned().unwrap_or(Value::Null);
    let value = if is_falsy(&value) {
        Value::Null
    } else if kind == "number" && value.is_string() {
        leading_number(value.as_str().unwrap_or_default()).map_or(value, Value::from)
    } else if kind == "text" {
        Value::String(js_string(&value))
    } else {
        value
    };
    param.insert("value".into(), value);
    if given.is_none() {
        param.insert("type".into(), Value::String(kind));
    }
    if param.get("label").is_none_or(Value::is_null)
        && let Some(name) = param.get("paramName").cloned()
    {
        param.insert("label".into(), name);
    }
    if param.get("options").is_none_or(Value::is_null) {
        param.insert("options".into(), Value::Array(Vec::new()));
    }
    if let Some(Value::Array(inputs)) = param.get_mut("inputParams") {
        for input in inputs.iter_mut() {
            if let Value::Object(object) = input {
                *object = normalized(object);
            }
        }
    }
    param.insert(
        "show".into(),
        Value::Bool(param.get("show").and_then(Value::as_bool).unwrap_or(true)),
    );
    param
}

/// JavaScript's falsy values among JSON's: `""`, `0`, `false` and null.
pub fn is_falsy(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    }
}

/// A value as JavaScript's `String()` writes it: arrays joined by commas, null inside them
/// empty, a whole number without a fraction.
pub fn js_string(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(js_string).collect::<Vec<_>>().join(","),
        Value::Object(_) => "[object Object]".into(),
        Value::Number(number) => match number.as_f64() {
            Some(f) if number.is_f64() && f.fract() == 0.0 && f.abs() < 1e21 => {
                format!("{}", f as i64)
            }
            _ => number.to_string(),
        },
        Value::Bool(b) => b.to_string(),
    }
}

/// The number at the start of `text`, as `parseFloat` reads it (`"12abc"` is 12).
fn leading_number(text: &str) -> Option<f64> {
    let text = text.trim_start();
    let end = text
        .char_indices()
        .take_while(|(i, c)| c.is_ascii_digit() || *c == '.' || (*i == 0 && "+-".contains(*c)))
        .map(|(i, c)| i + c.len_utf8())
        .last()?;
    let mut candidate = &text[..end];
    while !candidate.is_empty() {
        if let Ok(number) = candidate.parse::<f64>() {
            return Some(number);
        }
        candidate = &candidate[..candidate.len() - 1];
    }
    None
}

/// Every rule of the front end for a widget's params: a list (anything else is read as no
/// params, a warning here), each entry a param object of a known type whose value fits that
/// type, at most one `fileSelector`, and a multi_file_viewer's `endpoint` fileSelector.
pub fn params(entry: &Map<String, Value>) -> Vec<Issue> {
    let mut issues = Vec::new();
    match entry.get("params") {
        None | Some(Value::Array(_)) => {}
        Some(other) => issues.push(Issue::warning(
            "params",
            format!(
                "{} is not an array: Workspace reads it as no params",
                shown(other)
            ),
        )),
    }
    let params = normalized_params(entry);
    for (field, param) in &params {
        param_rules(field, param, &mut issues);
    }
    let selectors: Vec<&Map<String, Value>> = params
        .iter()
        .filter_map(|(_, p)| p.as_object())
        .filter(|p| has_role(p, "fileSelector"))
        .collect();
    if selectors.len() > 1 {
        issues.push(Issue::error(
            "params",
            "only one parameter can have the role \"fileSelector\"",
        ));
    }
    if super::type_of(entry) == "multi_file_viewer"
        && !selectors
            .iter()
            .any(|p| p.get("type").and_then(Value::as_str) == Some("endpoint"))
    {
        issues.push(Issue::error(
            "params",
            "a multi_file_viewer needs an endpoint param with \"roles\": [\"fileSelector\"]",
        ));
    }
    issues
}

/// Whether a param lists `role` in its `roles`.
pub fn has_role(param: &Map<String, Value>, role: &str) -> bool {
    param
        .get("roles")
        .and_then(Value::as_array)
        .is_some_and(|roles| roles.iter().any(|r| r == role))
}

fn param_rules(field_path: &str, param: &Value, issues: &mut Vec<Issue>) {
    let Some(param) = param.as_object().filter(|p| is_param(p)) else {
        issues.push(Issue::error(
            format!("{field_path}.paramName"),
            "required, as a non-empty string (an entry of params is a param object)",
        ));
        return;
    };
    base_rules(field_path, param, issues);
    check_one_of(param, field_path, "type", &PARAM_TYPES, false, issues);
    let kind = param.get("type").and_then(Value::as_str).unwrap_or("text");
    let value = param.get("value").unwrap_or(&Value::Null);
    let value_ok = match kind {
        "text" | "tabs" | "ticker" | "date" => value.is_string() || value.is_null(),
        "button" => !(value.is_array() || value.is_object()),
        "number" => value.is_number() || value.is_null() || is_numeric_text(value),
        "boolean" => value.is_boolean() || value.is_null(),
        _ => true,
    };
    if !value_ok {
        issues.push(Issue::error(
            format!("{field_path}.value"),
            format!("{} does not fit a param of type {kind}", shown(value)),
        ));
    }
    if param.get("multiple") == Some(&Value::Bool(true)) && kind != "text" {
        issues.push(Issue::error(
            format!("{field_path}.multiple"),
            "multiple can only be true when type is 'text'",
        ));
    }
    match kind {
        "text" => check_one_of(param, field_path, "language", &LANGUAGES, true, issues),
        "endpoint" => {
            check_shapes(
                param,
                field_path,
                &[
                    ("optionsEndpoint", TEXT),
                    ("optionsParams", OBJECT),
                    ("groupById", TEXT),
                ],
                issues,
            );
            let no_options = param
                .get("options")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty);
            if param.get("optionsEndpoint").is_none() && no_options {
                issues.push(Issue::warning(
                    format!("{field_path}.optionsEndpoint"),
                    "an endpoint param without optionsEndpoint offers no choices",
                ));
            }
        }
        "form" => form_rules(field_path, param, issues),
        _ => {}
    }
}

/// The rules every param (and every form input) follows, whatever its type.
fn base_rules(field_path: &str, param: &Map<String, Value>, issues: &mut Vec<Issue>) {
    let is_form = param.get("type").and_then(Value::as_str) == Some("form");
    match param.get("paramName") {
        None if is_form => {}
        Some(Value::String(name)) if is_form || !name.is_empty() => {}
        _ => issues.push(Issue::error(
            format!("{field_path}.paramName"),
            "required, as a non-empty string",
        )),
    }
    check_shapes(param, field_path, &BASE_SHAPES, issues);
    if let Some(width) = param.get("style").and_then(|style| style.get("popupWidth"))
        && !width
            .as_f64()
            .is_some_and(|w| (100.0..=1000.0).contains(&w))
    {
        issues.push(Issue::error(
            format!("{field_path}.style.popupWidth"),
            format!("{} is not a number from 100 to 1000", shown(width)),
        ));
    }
    let tabs = param.get("type").and_then(Value::as_str) == Some("tabs");
    match param.get("options") {
        None | Some(Value::Null) => {}
        Some(Value::Array(options)) => {
            for (i, option) in options.iter().enumerate() {
                let option_field = format!("{field_path}.options[{i}]");
                let Some(option) = option.as_object() else {
                    issues.push(Issue::error(
                        option_field,
                        "expected an object {label, value}",
                    ));
                    continue;
                };
                if !option.get("label").is_some_and(Value::is_string) {
                    issues.push(Issue::error(
                        format!("{option_field}.label"),
                        "required, as a string",
                    ));
                }
                let value = option.get("value").unwrap_or(&Value::Null);
                let (fits, expected) = match tabs {
                    true => (value.is_string() || value.is_null(), "a string or null"),
                    false => (
                        !(value.is_array() || value.is_object()),
                        "a string, number, boolean or null",
                    ),
                };
                if !fits {
                    issues.push(Issue::error(
                        format!("{option_field}.value"),
                        format!("{} is not {expected}", shown(value)),
                    ));
                }
            }
        }
        Some(other) => issues.push(Issue::error(
            format!("{field_path}.options"),
            format!("{} is not an array of {{label, value}}", shown(other)),
        )),
    }
}

/// A form's `endpoint`, `method` and `inputParams` (each a param of an input type).
fn form_rules(field_path: &str, param: &Map<String, Value>, issues: &mut Vec<Issue>) {
    check_shapes(param, field_path, &[("endpoint", TEXT)], issues);
    check_one_of(param, field_path, "method", &["POST", "PUT"], false, issues);
    match param.get("inputParams") {
        None => {}
        Some(Value::Array(inputs)) => {
            for (i, input) in inputs.iter().enumerate() {
                let input_field = format!("{field_path}.inputParams[{i}]");
                let Some(input) = input.as_object() else {
                    issues.push(Issue::error(input_field, "expected a param object"));
                    continue;
                };
                if input.get("type").and_then(Value::as_str) == Some("form") {
                    issues.push(Issue::error(
                        format!("{input_field}.type"),
                        format!("\"form\" is not one of {}", INPUT_TYPES.join(", ")),
                    ));
                    continue;
                }
                base_rules(&input_field, input, issues);
                check_one_of(input, &input_field, "type", &INPUT_TYPES, false, issues);
            }
        }
        Some(other) => issues.push(Issue::error(
            field(field_path, "inputParams"),
            format!("{} is not an array of params", shown(other)),
        )),
    }
}

/// A number param's value given as text: digits with an optional sign and point, at least one
/// digit (`"-"` or `"."` read as a number is NaN, which the front end refuses).
fn is_numeric_text(value: &Value) -> bool {
    let Some(text) = value.as_str() else {
        return false;
    };
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let mut parts = unsigned.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let fraction = parts.next().unwrap_or_default();
    let digits = || whole.chars().chain(fraction.chars());
    digits().all(|c| c.is_ascii_digit()) && digits().next().is_some()
}
