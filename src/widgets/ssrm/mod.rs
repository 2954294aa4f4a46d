//! ssrm_table (written table_ssrm too): AG Grid's server-side row model over a table file (any
//! format `formats/` reads).
//!
//! Workspace POSTs `{"startRow", "endRow", "sortModel", "filterModel", ...the widget's params}`
//! and gets `{"rowData": [the rows startRow..endRow], "rowCount": rows after filtering}`.
//! By job: this file reads the request and pages the answer, `models.rs` reads `sortModel` and
//! `filterModel`, `group.rs` row grouping.
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
//! - `rowGroupCols`, `groupKeys` and `valueCols` (at the top level, or inside `grouping`) group
//!   the rows (`group.rs`): a level short of the innermost answers its groups with their
//!   aggregates, `rowCount` the number of groups; the innermost level answers the rows of the
//!   opened groups like flat rows.
//!
//! The ordered indices are kept per file version and request without its window
//! (`Files::selection`), so every further page is a slice of a cached vector; a request that
//! neither filters nor sorts pages through the table directly. A level's groups are rendered
//! once per file version and request without its window, as JSON lines kept with the rendered
//! answers (`Files::rendered`), so a further page of groups is a slice of those lines.
//! Invariant: a body that does not fit these rules is a 400 whose `detail` names the field; so
//! is a filter larger than `filter::Limits` (set filter values, conditions), naming the limit,
//! and a level of more than `group::MAX_GROUPS` groups.

mod group;
mod models;

use std::ops::Range;

use serde_json::{Map, Value};

use crate::data::Data;
use crate::filter::{self, Condition};
use crate::http::{Body, JSON, Response};
use crate::manifest::Source;
use crate::table::{SortKey, Table};
use crate::widgets::errors::refused_filter;
use crate::widgets::{Call, json_body};
use group::Grouping;
use models::{filter_conditions, sort_keys};

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
    let plan = |table: &Table| -> Result<Plan, Response> {
        let names = table.names();
        let mut conditions = filter::plan(&params, names, &widget.filters, limits)
            .map_err(|err| refused_filter(format_args!("{}: filters", widget.id), &err))?;
        conditions.extend(filter_conditions(&filter_model, names).map_err(bad)?);
        filter::check(&conditions, limits).map_err(|err| bad(format!("filterModel: {err}")))?;
        let grouping = Grouping::of(&body, names).map_err(bad)?;
        if let Some(grouping) = &grouping {
            conditions.extend(grouping.narrowing());
        }
        let sort = sort_keys(&sort_model, names).map_err(bad)?;
        Ok(Plan {
            conditions,
            sort,
            grouping,
        })
    };
    let data = call.files.data(&relative)?;
    let table = table_of(call, &relative, &data)?;
    let first = plan(table)?;
    let (start, end) = (start as usize, end as usize);
    // Cached by the params, both models and the grouping; the window is not part of it.
    let grouping = first.grouping.as_ref().map(Grouping::cache_text);
    let models = [
        sort_model.to_string(),
        filter_model.to_string(),
        grouping.unwrap_or_default(),
    ];
    let mut scope = vec![widget.id.as_str(), &models[0], &models[1], &models[2]];
    if first.grouping.as_ref().is_some_and(|g| !g.is_leaf_level()) {
        scope.push("groups");
        let lines = call.files.rendered::<Response>(
            &relative,
            &scope,
            &params,
            &widget.filters,
            |data| {
                let table = table_of(call, &relative, data)?;
                let Plan {
                    conditions,
                    grouping,
                    ..
                } = plan(table)?;
                let Some(grouping) = grouping else {
                    return Err(bad("rowGroupCols: required for groups".into()));
                };
                let rows = grouped_rows(table, &conditions, &grouping);
                let lines = grouping.group_lines(table, rows, &sort_model);
                Ok(Body::Owned(lines.map_err(bad)?))
            },
        )?;
        return Ok(group_page(&lines.bytes, start..end));
    }
    if first.conditions.is_empty() && first.sort.is_empty() {
        // Every row in file order: the window needs no selection.
        let rows = table.rows();
        return Ok(page(table, start.min(rows)..end.min(rows), rows));
    }
    let (data, rows) =
        call.files
            .selection::<Response>(&relative, &scope, &params, &widget.filters, |data| {
                let table = table_of(call, &relative, data)?;
                let plan = plan(table)?;
                Ok(select(table, &plan))
            })?;
    let table = table_of(call, &relative, &data)?;
    let window = &rows[start.min(rows.len())..end.min(rows.len())];
    Ok(page(
        table,
        window.iter().map(|&row| row as usize),
        rows.len(),
    ))
}

/// What a request asks of a table: the conditions rows must meet (its params, its
/// `filterModel`, and the groups it opened), their order, and its grouping.
struct Plan {
    conditions: Vec<Condition>,
    sort: Vec<SortKey>,
    grouping: Option<Grouping>,
}

/// The rows of the groups a request opened that pass its conditions, in file order (every
/// row, without a selection, when there are no conditions).
fn grouped_rows<'a>(
    table: &'a Table,
    conditions: &[Condition],
    grouping: &'a Grouping,
) -> Box<dyn Iterator<Item = usize> + 'a> {
    if conditions.is_empty() {
        return Box::new(0..table.rows());
    }
    let rows = table.select(conditions).into_iter();
    Box::new(rows.filter(move |&row| grouping.in_opened_groups(table, row)))
}

/// A page of group rows: the window's lines of `lines` (one JSON object a line), and the
/// number of lines as the count.
fn group_page(lines: &[u8], window: Range<usize>) -> Response {
    let count = match lines {
        [] => 0,
        lines => 1 + lines.iter().filter(|&&byte| byte == b'\n').count(),
    };
    let mut out = Vec::with_capacity(16 * 1024);
    out.extend_from_slice(b"{\"rowData\":[");
    let shown = lines
        .split(|&byte| byte == b'\n')
        .take(window.end.min(count));
    for (position, line) in shown.skip(window.start).enumerate() {
        if position > 0 {
            out.push(b',');
        }
        out.extend_from_slice(line);
    }
    out.extend_from_slice(format!("],\"rowCount\":{count}}}").as_bytes());
    Response::new(200, JSON, Body::Owned(out))
}

/// The widget's data as a table; a JSON document is a 500 (the widget needs a table file).
fn table_of<'d>(call: &Call, relative: &str, data: &'d Data) -> Result<&'d Table, Response> {
    match data {
        Data::Table(table) => Ok(table),
        Data::Json { .. } => Err(Response::error(
            500,
            &format!(
                "widget '{}': {} is not a table (a JSON document, or JSON lines holding nested \
                 values or a key of mixed types)",
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

/// The rows passing the plan's conditions (in the groups it opened), in its order, as
/// indices.
fn select(table: &Table, plan: &Plan) -> Vec<u32> {
    let mut rows = table.select(&plan.conditions);
    if let Some(grouping) = &plan.grouping {
        rows.retain(|&row| grouping.in_opened_groups(table, row));
    }
    table.sort_rows(&mut rows, &plan.sort);
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

#[cfg(test)]
mod tests;
