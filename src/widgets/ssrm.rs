//! ssrm_table (written table_ssrm too): AG Grid's server-side row model over a CSV table.
//!
//! Workspace POSTs `{"startRow", "endRow", "sortModel", "filterModel", ...the widget's params}`
//! and gets `{"rowData": [the rows startRow..endRow], "rowCount": rows after filtering}`.
//!
//! - The widget's params (body keys besides AG Grid's, and the query string) filter by the usual
//!   rules (`filter::plan`, with the widget's `backend.filters`) and fill `{param}` placeholders
//!   of `backend.file`.
//! - `filterModel` maps a column to an AG Grid filter: `text`, `number`, `date`, `set` or
//!   `boolean`, each with `type` (equals, notEqual, contains, notContains, startsWith, endsWith,
//!   lessThan, lessThanOrEqual, greaterThan, greaterThanOrEqual, inRange, blank, notBlank) and
//!   `filter`/`filterTo` (dates: `dateFrom`/`dateTo`, compared on `YYYY-MM-DD`; sets: `values`),
//!   or several such `conditions` joined by `operator` (`AND`/`OR`). Each becomes a
//!   `filter::Condition`, so `Table::select` decides a dictionary column once per distinct value
//!   and narrows equality and set filters through the column's index.
//! - `sortModel` (`[{colId, sort}]`, first entry primary) orders the selected row indices with a
//!   stable sort (`Table::sort_rows`); rows themselves are never copied.
//!
//! The ordered indices are kept per file version and request without its window
//! (`Files::selection`), so every further page is a slice of a cached vector; a request that
//! neither filters nor sorts pages through the table directly. Grouping keys
//! (`rowGroupCols`, ...) are accepted and ignored: rows come back flat. Invariant: a body that
//! does not fit these rules is a 400 whose `detail` names the field; so is a filter larger than
//! `filter::Limits` (set filter values, conditions), naming the limit.

use serde_json::{Map, Value};

use crate::data::Data;
use crate::filter::{self, Condition, Op};
use crate::http::{Body, JSON, Response};
use crate::manifest::Source;
use crate::table::{SortKey, Table};
use crate::widgets::errors::refused_filter;
use crate::widgets::{Call, json_body};

/// Keys of AG Grid's request; every other body key is a widget param.
const GRID_KEYS: [&str; 10] = [
    "startRow",
    "endRow",
    "sortModel",
    "filterModel",
    "rowGroupCols",
    "valueCols",
    "pivotCols",
    "pivotMode",
    "groupKeys",
    "grouping",
];

/// Rows asked for when the body names no `endRow` (AG Grid's default block size).
const DEFAULT_BLOCK: u64 = 100;
/// Most rows one request may ask for.
const MAX_WINDOW: u64 = 100_000;

pub fn serve(call: &Call, source: &Source) -> Response {
    match answer(call, source) {
        Ok(response) | Err(response) => response,
    }
}

fn answer(call: &Call, source: &Source) -> Result<Response, Response> {
    let bad = |detail: String| Response::error(400, &detail);
    let body = json_body(call.request)?;
    let (start, end) = window(&body).map_err(bad)?;
    let sort_model = model(&body, "sortModel", Value::Array(Vec::new())).map_err(bad)?;
    let filter_model = model(&body, "filterModel", Value::Object(Map::new())).map_err(bad)?;
    let mut params = call.params.to_vec();
    params.extend(body_params(&body));
    // The body's params fill `{param}` placeholders in `backend.file` too.
    let relative = Call {
        params: &params,
        ..*call
    }
    .locate(source)?;
    let widget = call.widget;
    let limits = &call.files.filter_limits;
    let plan = |table: &Table| -> Result<(Vec<Condition>, Vec<SortKey>), Response> {
        let names = table.names();
        let mut conditions = filter::plan(&params, names, &widget.filters, limits)
            .map_err(|err| refused_filter(format_args!("{}: filters", widget.id), &err))?;
        conditions.extend(filter_conditions(&filter_model, names).map_err(bad)?);
        filter::check(&conditions, limits).map_err(|err| bad(format!("filterModel: {err}")))?;
        Ok((conditions, sort_keys(&sort_model, names).map_err(bad)?))
    };
    let data = call.files.data(&relative)?;
    let table = table_of(call, &relative, &data)?;
    let (conditions, keys) = plan(table)?;
    let (start, end) = (start as usize, end as usize);
    if conditions.is_empty() && keys.is_empty() {
        // Every row in file order: the window needs no selection.
        let rows = table.rows();
        return Ok(page(table, start.min(rows)..end.min(rows), rows));
    }
    // Cached by the params and both models; the window is not part of it.
    let models = [sort_model.to_string(), filter_model.to_string()];
    let scope = [widget.id.as_str(), &models[0], &models[1]];
    let (data, rows) =
        call.files
            .selection::<Response>(&relative, &scope, &params, &widget.filters, |data| {
                let table = table_of(call, &relative, data)?;
                let (conditions, keys) = plan(table)?;
                Ok(select(table, &conditions, &keys))
            })?;
    let table = table_of(call, &relative, &data)?;
    let window = &rows[start.min(rows.len())..end.min(rows.len())];
    Ok(page(
        table,
        window.iter().map(|&row| row as usize),
        rows.len(),
    ))
}

/// The widget's data as a table; a JSON document is a 500 (the widget needs a CSV).
fn table_of<'d>(call: &Call, relative: &str, data: &'d Data) -> Result<&'d Table, Response> {
    match data {
        Data::Table(table) => Ok(table),
        Data::Json { .. } => Err(Response::error(
            500,
            &format!(
                "widget '{}': {} is not a CSV table",
                call.widget.id,
                call.files.dir.display(relative)
            ),
        )),
    }
}

/// The answer: the window's rows and the count of rows after filtering.
fn page(table: &Table, window: impl Iterator<Item = usize>, count: usize) -> Response {
    let mut out = Vec::with_capacity(16 * 1024);
    out.extend_from_slice(b"{\"rowData\":");
    table.write_json(window, &mut out);
    out.extend_from_slice(format!(",\"rowCount\":{count}}}").as_bytes());
    Response::new(200, JSON, Body::Owned(out))
}

/// The rows passing `conditions`, ordered by `keys`, as indices.
fn select(table: &Table, conditions: &[Condition], keys: &[SortKey]) -> Vec<u32> {
    let mut rows = table.select(conditions);
    table.sort_rows(&mut rows, keys);
    rows.into_iter().map(|row| row as u32).collect()
}

/// `startRow`/`endRow`: whole numbers, `endRow` not before `startRow`, at most [`MAX_WINDOW`]
/// rows apart.
fn window(body: &Map<String, Value>) -> Result<(u64, u64), String> {
    let number = |key: &str| match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("{key}: expected a whole number >= 0, got {value}")),
    };
    let start = number("startRow")?.unwrap_or(0);
    let end = number("endRow")?.unwrap_or(start + DEFAULT_BLOCK);
    if end < start {
        return Err(format!("endRow ({end}) is before startRow ({start})"));
    }
    if end - start > MAX_WINDOW {
        return Err(format!(
            "the window startRow..endRow holds more than {MAX_WINDOW} rows"
        ));
    }
    Ok((start, end))
}

/// A model from the body (`null` or absent: `empty`), of the same JSON type as `empty`.
fn model(body: &Map<String, Value>, key: &str, empty: Value) -> Result<Value, String> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(empty),
        Some(value) if std::mem::discriminant(value) == std::mem::discriminant(&empty) => {
            Ok(value.clone())
        }
        Some(value) => Err(format!(
            "{key}: expected {}, got {value}",
            if empty.is_array() {
                "an array"
            } else {
                "an object"
            }
        )),
    }
}

/// The widget's params in the body (every key but the grid's own), as query-style pairs.
fn body_params(body: &Map<String, Value>) -> Vec<(String, String)> {
    filter::json_params(
        body.iter()
            .filter(|(key, _)| !GRID_KEYS.contains(&key.as_str())),
    )
}

/// `sortModel` as sort keys over the table's columns.
fn sort_keys(model: &Value, names: &[String]) -> Result<Vec<SortKey>, String> {
    let entries = model.as_array().map(Vec::as_slice).unwrap_or_default();
    entries
        .iter()
        .enumerate()
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
fn filter_conditions(model: &Value, names: &[String]) -> Result<Vec<Condition>, String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::cmp::Ordering;

    /// 600 rows: unique ids, dates (some with a time), a ticker dictionary with blanks, prices
    /// with nulls, quantities.
    fn table() -> (Table, Vec<Value>) {
        let tickers = ["AAPL", "MSFT", "NVDA", "msft", "", "XOM", "Amzn"];
        let mut csv = String::from("id,date,ticker,price,qty\n");
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for id in 0..600 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let date = format!("2024-{:02}-{:02}", 1 + state % 4, 1 + (state >> 8) % 28);
            let date = match id % 5 {
                0 => format!("{date} 15:30"),
                _ => date,
            };
            let price = match (state >> 16) % 9 {
                0 => String::new(),
                n => format!("{}.{}", (state >> 20) % 100, n),
            };
            let ticker = tickers[((state >> 30) % tickers.len() as u64) as usize];
            let qty = (state >> 40) % 7;
            csv.push_str(&format!("{id},{date},{ticker},{price},{qty}\n"));
        }
        let Data::Table(table) = Data::parse("data/t.csv", csv.as_bytes()).unwrap() else {
            panic!("a CSV is a table")
        };
        let mut out = Vec::new();
        table.write_json(0..table.rows(), &mut out);
        let rows: Value = serde_json::from_slice(&out).unwrap();
        (table, rows.as_array().unwrap().clone())
    }

    /// What the server answers for these models, as row ids.
    fn ids(table: &Table, filter_model: Value, sort_model: Value) -> Vec<i64> {
        let conditions = filter_conditions(&filter_model, table.names()).unwrap();
        let keys = sort_keys(&sort_model, table.names()).unwrap();
        select(table, &conditions, &keys)
            .into_iter()
            .map(|row| match table.cell(row as usize, 0) {
                crate::table::Cell::Int(id) => id,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    /// The brute-force answer: a plain reading of AG Grid's operators over JSON rows.
    fn passes(row: &Value, column: &str, kind: &str, op: &str, a: &str, b: &str) -> bool {
        let cell = &row[column];
        if op == "blank" {
            return cell.is_null();
        }
        if op == "notBlank" {
            return !cell.is_null();
        }
        let order = |value: &str| -> Option<Ordering> {
            match (kind, cell) {
                (_, Value::Null) => None,
                ("number", cell) => cell.as_f64()?.partial_cmp(&value.parse::<f64>().ok()?),
                ("date", Value::String(text)) => Some(text[..10].cmp(&value[..10])),
                (_, Value::String(text)) => Some(text.to_lowercase().cmp(&value.to_lowercase())),
                _ => None,
            }
        };
        let text = cell.as_str().map(str::to_lowercase);
        let has =
            |f: fn(&str, &str) -> bool| text.as_deref().is_some_and(|t| f(t, &a.to_lowercase()));
        match op {
            "equals" => order(a) == Some(Ordering::Equal),
            "notEqual" => order(a) != Some(Ordering::Equal),
            "lessThan" => order(a) == Some(Ordering::Less),
            "lessThanOrEqual" => order(a).is_some_and(|o| o != Ordering::Greater),
            "greaterThan" => order(a) == Some(Ordering::Greater),
            "greaterThanOrEqual" => order(a).is_some_and(|o| o != Ordering::Less),
            "inRange" => order(a) == Some(Ordering::Greater) && order(b) == Some(Ordering::Less),
            "contains" => has(|t, v| t.contains(v)),
            "notContains" => !has(|t, v| t.contains(v)),
            "startsWith" => has(|t, v| t.starts_with(v)),
            "endsWith" => has(|t, v| t.ends_with(v)),
            other => panic!("{other}"),
        }
    }

    fn simple(kind: &str, op: &str, a: &str, b: &str) -> Value {
        match kind {
            "date" => {
                json!({"filterType": "date", "type": op, "dateFrom": format!("{a} 00:00:00"), "dateTo": format!("{b} 00:00:00")})
            }
            "number" => {
                json!({"filterType": "number", "type": op, "filter": a.parse::<f64>().unwrap(), "filterTo": b.parse::<f64>().unwrap()})
            }
            _ => json!({"filterType": kind, "type": op, "filter": a}),
        }
    }

    fn brute(rows: &[Value], keep: impl Fn(&Value) -> bool) -> Vec<i64> {
        rows.iter()
            .filter(|row| keep(row))
            .map(|row| row["id"].as_i64().unwrap())
            .collect()
    }

    #[test]
    fn every_operator_matches_a_brute_force_scan() {
        let (table, rows) = table();
        let cases = [
            (
                "ticker",
                "text",
                [
                    "equals",
                    "notEqual",
                    "contains",
                    "notContains",
                    "startsWith",
                    "endsWith",
                    "blank",
                    "notBlank",
                ]
                .as_slice(),
                "ms",
                "",
            ),
            (
                "ticker",
                "text",
                &["equals", "notEqual", "endsWith"],
                "msft",
                "",
            ),
            (
                "price",
                "number",
                &[
                    "equals",
                    "notEqual",
                    "lessThan",
                    "lessThanOrEqual",
                    "greaterThan",
                    "greaterThanOrEqual",
                    "inRange",
                    "blank",
                    "notBlank",
                ],
                "42.5",
                "77.3",
            ),
            (
                "qty",
                "number",
                &["equals", "lessThan", "inRange", "greaterThanOrEqual"],
                "2",
                "5",
            ),
            (
                "date",
                "date",
                &[
                    "equals",
                    "notEqual",
                    "lessThan",
                    "greaterThan",
                    "lessThanOrEqual",
                    "greaterThanOrEqual",
                    "inRange",
                ],
                "2024-02-10",
                "2024-03-20",
            ),
        ];
        for (column, kind, ops, a, b) in cases {
            for op in ops {
                let model = json!({ column: simple(kind, op, a, b) });
                let expected = brute(&rows, |row| passes(row, column, kind, op, a, b));
                assert_eq!(ids(&table, model.clone(), json!([])), expected, "{model}");
            }
        }
    }

    #[test]
    fn combined_set_and_multi_column_filters_match_a_brute_force_scan() {
        let (table, rows) = table();
        let or = json!({"price": {"filterType": "number", "operator": "OR", "conditions": [
            {"type": "lessThan", "filter": 10}, {"type": "greaterThan", "filter": 90}]}});
        let expected = brute(&rows, |r| {
            passes(r, "price", "number", "lessThan", "10", "")
                || passes(r, "price", "number", "greaterThan", "90", "")
        });
        assert_eq!(ids(&table, or, json!([])), expected);
        let and = json!({"date": {"filterType": "date", "operator": "AND",
            "condition1": {"type": "greaterThan", "dateFrom": "2024-02-01"},
            "condition2": {"type": "lessThan", "dateFrom": "2024-03-01"}},
            "ticker": {"filterType": "text", "type": "contains", "filter": "a"}});
        let expected = brute(&rows, |r| {
            passes(r, "date", "date", "greaterThan", "2024-02-01", "")
                && passes(r, "date", "date", "lessThan", "2024-03-01", "")
                && passes(r, "ticker", "text", "contains", "a", "")
        });
        assert_eq!(ids(&table, and, json!([])), expected);
        let set = json!({"ticker": {"filterType": "set", "values": ["AAPL", "XOM"]}});
        let wanted = |r: &Value, blanks: bool| match r["ticker"].as_str() {
            Some(t) => t.eq_ignore_ascii_case("aapl") || t.eq_ignore_ascii_case("xom"),
            None => blanks,
        };
        assert_eq!(
            ids(&table, set, json!([])),
            brute(&rows, |r| wanted(r, false))
        );
        let with_blanks = json!({"ticker": {"filterType": "set", "values": ["AAPL", null, "XOM"]}});
        assert_eq!(
            ids(&table, with_blanks, json!([])),
            brute(&rows, |r| wanted(r, true))
        );
        let none = json!({"ticker": {"filterType": "set", "values": []}});
        assert!(ids(&table, none, json!([])).is_empty());
    }

    /// Brute-force order: nulls first, numbers numerically, text ignoring case then as written.
    fn order(a: &Value, b: &Value) -> Ordering {
        match (a, b) {
            (Value::Null, Value::Null) => Ordering::Equal,
            (Value::Null, _) => Ordering::Less,
            (_, Value::Null) => Ordering::Greater,
            (Value::String(a), Value::String(b)) => {
                a.to_lowercase().cmp(&b.to_lowercase()).then(a.cmp(b))
            }
            _ => a.as_f64().unwrap().total_cmp(&b.as_f64().unwrap()),
        }
    }

    #[test]
    fn sorting_is_stable_and_multi_key_like_a_brute_force_sort() {
        let (table, rows) = table();
        for sort in [
            json!([{"colId": "ticker", "sort": "asc"}]),
            json!([{"colId": "price", "sort": "desc"}]),
            json!([{"colId": "ticker", "sort": "desc"}, {"colId": "qty", "sort": "asc"}, {"colId": "date", "sort": "desc"}]),
            json!([{"colId": "qty", "sort": "asc"}, {"colId": "price", "sort": "asc"}]),
        ] {
            let mut expected: Vec<&Value> = rows.iter().collect();
            expected.sort_by(|a, b| {
                sort.as_array()
                    .unwrap()
                    .iter()
                    .fold(Ordering::Equal, |so_far, key| {
                        so_far.then_with(|| {
                            let column = key["colId"].as_str().unwrap();
                            let ordering = order(&a[column], &b[column]);
                            if key["sort"] == "desc" {
                                ordering.reverse()
                            } else {
                                ordering
                            }
                        })
                    })
            });
            let expected: Vec<i64> = expected.iter().map(|r| r["id"].as_i64().unwrap()).collect();
            assert_eq!(ids(&table, json!({}), sort.clone()), expected, "{sort}");
        }
        let filtered = ids(
            &table,
            json!({"ticker": {"filterType": "set", "values": ["MSFT"]}}),
            json!([{"colId": "price", "sort": "asc"}]),
        );
        let mut expected: Vec<&Value> = rows
            .iter()
            .filter(|r| {
                r["ticker"]
                    .as_str()
                    .is_some_and(|t| t.eq_ignore_ascii_case("msft"))
            })
            .collect();
        expected.sort_by(|a, b| order(&a["price"], &b["price"]));
        assert_eq!(
            filtered,
            expected
                .iter()
                .map(|r| r["id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn bad_models_are_explained() {
        let (table, _) = table();
        let names = table.names();
        for (model, expected) in [
            (
                json!({"nope": {"type": "equals", "filter": "x"}}),
                "filterModel.nope: the data has no column 'nope'",
            ),
            (
                json!({"price": {"filterType": "number", "type": "equals", "filter": "abc"}}),
                "filterModel.price: filter: \"abc\" is not a number value",
            ),
            (
                json!({"price": {"filterType": "number", "type": "inRange", "filter": 1}}),
                "filterTo: required for \"inRange\"",
            ),
            (
                json!({"price": {"filterType": "number", "type": "between", "filter": 1}}),
                "type: unknown operator \"between\"",
            ),
            (
                json!({"date": {"filterType": "date", "type": "equals", "dateFrom": "03/01/2024"}}),
                "dateFrom: \"03/01/2024\" is not a date value",
            ),
            (
                json!({"ticker": {"filterType": "weird", "type": "equals", "filter": "x"}}),
                "unknown filter type \"weird\"",
            ),
            (json!({"ticker": {"filterType": "set"}}), "values: required"),
            (
                json!({"ticker": {"operator": "XOR", "conditions": [{"type": "blank"}]}}),
                "operator: expected",
            ),
            (
                json!({"ticker": 3}),
                "filterModel.ticker: expected an object",
            ),
        ] {
            let err = filter_conditions(&model, names).unwrap_err();
            assert!(err.contains(expected), "{model}: {err}");
        }
        for (sort, expected) in [
            (
                json!([{"colId": "nope", "sort": "asc"}]),
                "sortModel[0].colId: the data has no column",
            ),
            (json!([{"colId": "id", "sort": "up"}]), "sortModel[0].sort"),
            (json!([{"sort": "asc"}]), "sortModel[0].colId: required"),
        ] {
            let err = sort_keys(&sort, names).unwrap_err();
            assert!(err.contains(expected), "{sort}: {err}");
        }
        let body = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(window(&body(json!({}))).unwrap(), (0, 100));
        assert_eq!(
            window(&body(json!({"startRow": 50, "endRow": 75}))).unwrap(),
            (50, 75)
        );
        for bad in [
            json!({"startRow": -1}),
            json!({"startRow": 5, "endRow": 2}),
            json!({"endRow": "9"}),
            json!({"startRow": 0, "endRow": 1_000_000}),
        ] {
            assert!(window(&body(bad.clone())).is_err(), "{bad}");
        }
        assert_eq!(
            body_params(&body(
                json!({"startRow": 0, "ticker": ["AAPL", "MSFT"], "qty": 3, "flag": true, "none": null, "filterModel": {}})
            )),
            [
                ("ticker".to_string(), "AAPL".to_string()),
                ("ticker".into(), "MSFT".into()),
                ("qty".into(), "3".into()),
                ("flag".into(), "true".into())
            ]
        );
    }
}
