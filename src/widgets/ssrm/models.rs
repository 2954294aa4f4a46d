//! AG Grid's `sortModel` and `filterModel` as sort keys and conditions over a table's columns.

use serde_json::{Map, Value};

use crate::filter::{self, Condition, Op};
use crate::table::SortKey;

/// The `sortModel` column id of AG Grid's group column (`ag-Grid-AutoColumn`, or with the
/// grouped field after a dash when each level has its own): it orders groups, not rows.
pub const AUTO_COLUMN: &str = "ag-Grid-AutoColumn";

/// `sortModel` as sort keys over the table's columns (entries on AG Grid's group column are
/// for group levels: `group.rs`).
pub fn sort_keys(model: &Value, names: &[String]) -> Result<Vec<SortKey>, String> {
    let entries = model.as_array().map(Vec::as_slice).unwrap_or_default();
    entries
        .iter()
        .enumerate()
        .filter(|(_, entry)| {
            let colid = entry.get("colId").and_then(Value::as_str);
            !colid.is_some_and(|colid| colid.starts_with(AUTO_COLUMN))
        })
        .map(|(position, entry)| {
            let field = |key: &str| entry.get(key).and_then(Value::as_str);
            let at = format!("sortModel[{position}]");
            let column_id = field("colId").ok_or_else(|| format!("{at}.colId: required"))?;
            let column = filter::find_column(names, column_id)
                .ok_or_else(|| format!("{at}.colId: the data has no column '{column_id}'"))?;
            let descending = match field("sort") {
                Some("asc") => false,
                Some("desc") => true,
                _ => return Err(format!("{at}.sort: expected \"asc\" or \"desc\"")),
            };
            Ok(SortKey { column, descending })
        })
        .collect()
}

/// `filterModel` as conditions over the table's columns (all must pass).
pub fn filter_conditions(model: &Value, names: &[String]) -> Result<Vec<Condition>, String> {
    let mut conditions = Vec::new();
    for (column_id, filter) in model.as_object().into_iter().flatten() {
        let at = format!("filterModel.{column_id}");
        let column = filter::find_column(names, column_id)
            .ok_or_else(|| format!("{at}: the data has no column '{column_id}'"))?;
        let filter = filter
            .as_object()
            .ok_or_else(|| format!("{at}: expected an object"))?;
        conditions.extend(column_filter(column, filter).map_err(|err| format!("{at}: {err}"))?);
    }
    Ok(conditions)
}

/// One column's filter: a simple one, or `conditions` (legacy: `condition1`, `condition2`)
/// joined by `operator`. `AND` gives one condition per part, `OR` one condition holding them.
fn column_filter(column: usize, filter: &Map<String, Value>) -> Result<Vec<Condition>, String> {
    let parts: Vec<&Value> = match filter.get("conditions") {
        Some(Value::Array(parts)) => parts.iter().collect(),
        Some(_) => return Err("conditions: expected an array".into()),
        None => ["condition1", "condition2"]
            .iter()
            .filter_map(|key| filter.get(*key))
            .collect(),
    };
    if parts.is_empty() {
        return simple_filter(column, filter, None).map(|condition| vec![condition]);
    }
    let inherited = filter.get("filterType").and_then(Value::as_str);
    let parts = parts
        .into_iter()
        .enumerate()
        .map(|(position, part)| {
            let part = part
                .as_object()
                .ok_or_else(|| format!("conditions[{position}]: expected an object"))?;
            simple_filter(column, part, inherited)
                .map_err(|err| format!("conditions[{position}]: {err}"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let operator = filter
        .get("operator")
        .and_then(Value::as_str)
        .unwrap_or("AND");
    if operator.eq_ignore_ascii_case("and") {
        Ok(parts)
    } else if operator.eq_ignore_ascii_case("or") {
        Ok(vec![Condition::any(column, parts)])
    } else {
        Err(format!(
            "operator: expected \"AND\" or \"OR\", got \"{operator}\""
        ))
    }
}

/// A simple filter: `filterType` (or the combined filter's), `type`, and its values.
fn simple_filter(
    column: usize,
    filter: &Map<String, Value>,
    inherited: Option<&str>,
) -> Result<Condition, String> {
    let filter_type = filter
        .get("filterType")
        .and_then(Value::as_str)
        .or(inherited)
        .unwrap_or("text");
    if filter_type == "set" {
        return set_filter(column, filter);
    }
    let name = filter
        .get("type")
        .and_then(Value::as_str)
        .ok_or("type: required, as a string")?;
    let op = operator(name).ok_or_else(|| format!("type: unknown operator \"{name}\""))?;
    let needs = match op {
        Op::Blank | Op::NotBlank => 0,
        Op::InRange => 2,
        _ => 1,
    };
    let keys: [&str; 2] = match filter_type {
        "date" => ["dateFrom", "dateTo"],
        "text" | "number" | "boolean" => ["filter", "filterTo"],
        other => return Err(format!("filterType: unknown filter type \"{other}\"")),
    };
    let values = keys[..needs]
        .iter()
        .map(|key| {
            let value = filter
                .get(*key)
                .filter(|value| !value.is_null())
                .ok_or_else(|| format!("{key}: required for \"{name}\""))?;
            filter_value(filter_type, value)
                .ok_or_else(|| format!("{key}: {value} is not a {filter_type} value"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(match filter_type {
        "date" => Condition::on_dates(column, op, values),
        _ => Condition::new(column, op, values),
    })
}

/// A set filter: the cell is one of `values`; a `null` among them admits blanks.
fn set_filter(column: usize, filter: &Map<String, Value>) -> Result<Condition, String> {
    let values = filter
        .get("values")
        .and_then(Value::as_array)
        .ok_or("values: required, as an array")?;
    let texts: Vec<String> = values
        .iter()
        .filter(|value| !value.is_null())
        .map(|value| filter_value("text", value).ok_or(format!("values: {value} is not a value")))
        .collect::<Result<_, _>>()?;
    let listed = Condition::new(column, Op::Eq, texts);
    Ok(match values.iter().any(Value::is_null) {
        true => Condition::any(
            column,
            vec![listed, Condition::new(column, Op::Blank, Vec::new())],
        ),
        false => listed,
    })
}

/// A filter value as text: a number filter takes numbers (or numeric text), a date filter
/// `YYYY-MM-DD` with an optional time, a boolean filter `true`/`false`, a text filter scalars.
fn filter_value(filter_type: &str, value: &Value) -> Option<String> {
    let text = match value {
        Value::String(text) => text.trim().to_string(),
        Value::Number(_) | Value::Bool(_) => value.to_string(),
        _ => return None,
    };
    let valid = match filter_type {
        "number" => text.parse::<f64>().is_ok_and(f64::is_finite),
        "date" => is_date(&text),
        "boolean" => matches!(text.as_str(), "true" | "false"),
        _ => true,
    };
    valid.then_some(text)
}

/// Whether `text` starts with a `YYYY-MM-DD` date.
fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 10
        && bytes[..10]
            .iter()
            .enumerate()
            .all(|(position, byte)| match position {
                4 | 7 => *byte == b'-',
                _ => byte.is_ascii_digit(),
            })
}

fn operator(name: &str) -> Option<Op> {
    Some(match name {
        "equals" => Op::Eq,
        "notEqual" => Op::Ne,
        "contains" => Op::Contains,
        "notContains" => Op::NotContains,
        "startsWith" => Op::StartsWith,
        "endsWith" => Op::EndsWith,
        "lessThan" => Op::Lt,
        "lessThanOrEqual" => Op::Lte,
        "greaterThan" => Op::Gt,
        "greaterThanOrEqual" => Op::Gte,
        "inRange" => Op::InRange,
        "blank" => Op::Blank,
        "notBlank" => Op::NotBlank,
        _ => return None,
    })
}
