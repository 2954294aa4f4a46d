//! The models against brute-force readings of AG Grid's operators and sort order.

use super::group::{self, Grouping};
use super::models::{filter_conditions, sort_keys};
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
    let plan = Plan {
        conditions,
        sort: keys,
        grouping: None,
    };
    select(table, &plan)
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
    let has = |f: fn(&str, &str) -> bool| text.as_deref().is_some_and(|t| f(t, &a.to_lowercase()));
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

/// The group rows the server answers for a body (its `filterModel`, grouping and `sortModel`).
fn groups(table: &Table, body: Value) -> Result<Vec<Value>, String> {
    let body = body.as_object().unwrap();
    let names = table.names();
    let grouping = Grouping::of(body, names)?.expect("a grouping");
    let mut conditions = filter_conditions(body.get("filterModel").unwrap_or(&json!({})), names)?;
    conditions.extend(grouping.narrowing());
    let rows = grouped_rows(table, &conditions, &grouping);
    let lines = grouping.group_lines(table, rows, body.get("sortModel").unwrap_or(&json!([])))?;
    if lines.is_empty() {
        return Ok(Vec::new());
    }
    Ok(lines
        .split(|&byte| byte == b'\n')
        .map(|line| serde_json::from_slice(line).unwrap())
        .collect())
}

/// The brute-force groups: rows kept by `keep`, grouped by `column` exactly, in order of
/// first appearance, with each `(column, aggFunc)` computed plainly.
fn brute_groups(
    rows: &[Value],
    keep: impl Fn(&Value) -> bool,
    column: &str,
    aggregates: &[(&str, &str)],
) -> Vec<Value> {
    let mut keys: Vec<Value> = Vec::new();
    let mut members: Vec<Vec<&Value>> = Vec::new();
    for row in rows.iter().filter(|row| keep(row)) {
        match keys.iter().position(|key| *key == row[column]) {
            Some(at) => members[at].push(row),
            None => {
                keys.push(row[column].clone());
                members.push(vec![row]);
            }
        }
    }
    keys.into_iter()
        .zip(members)
        .map(|(key, members)| {
            let mut group = json!({ column: key });
            for (field, func) in aggregates {
                let cells: Vec<&Value> = members.iter().map(|row| &row[*field]).collect();
                let present: Vec<&Value> = cells.iter().copied().filter(|c| !c.is_null()).collect();
                let numbers: Vec<f64> = present.iter().filter_map(|c| c.as_f64()).collect();
                let all_ints = present.iter().all(|c| c.is_i64());
                let extreme = |wanted: Ordering| {
                    present.iter().fold(Value::Null, |kept, cell| {
                        if kept.is_null() || order(cell, &kept) == wanted {
                            (*cell).clone()
                        } else {
                            kept
                        }
                    })
                };
                group[*field] = match *func {
                    "count" => json!(members.len()),
                    "first" => cells[0].clone(),
                    "last" => cells[cells.len() - 1].clone(),
                    "sum" if numbers.is_empty() => Value::Null,
                    "sum" if all_ints => {
                        json!(present.iter().map(|c| c.as_i64().unwrap()).sum::<i64>())
                    }
                    "sum" => json!(numbers.iter().sum::<f64>()),
                    "avg" if numbers.is_empty() => Value::Null,
                    "avg" => json!(numbers.iter().sum::<f64>() / numbers.len() as f64),
                    "min" => extreme(Ordering::Less),
                    "max" => extreme(Ordering::Greater),
                    other => panic!("{other}"),
                };
            }
            group
        })
        .collect()
}

/// Whether two answers are equal, numbers to within a part in 10^12 (JSON text is read back
/// to within a unit in the last place).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-12 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[track_caller]
fn assert_same(a: Vec<Value>, b: Vec<Value>, context: &str) {
    let (a, b) = (Value::from(a), Value::from(b));
    assert!(same(&a, &b), "{context}:\n{a}\n!=\n{b}");
}

fn by_key(mut groups: Vec<Value>, column: &str) -> Vec<Value> {
    groups.sort_by(|a, b| order(&a[column], &b[column]));
    groups
}

#[test]
fn group_levels_and_aggregates_match_a_brute_force_grouping() {
    let (table, rows) = table();
    let value_cols = |cols: &[(&str, &str)]| -> Value {
        cols.iter()
            .map(|(field, func)| json!({"id": field, "field": field, "aggFunc": func}))
            .collect()
    };
    for aggregates in [
        [
            ("price", "sum"),
            ("qty", "avg"),
            ("date", "min"),
            ("id", "count"),
        ],
        [
            ("price", "max"),
            ("qty", "sum"),
            ("date", "last"),
            ("id", "first"),
        ],
        [
            ("price", "avg"),
            ("qty", "max"),
            ("date", "max"),
            ("id", "min"),
        ],
    ] {
        // The top level: one row per ticker (blank included), ordered by the key.
        let body = json!({"rowGroupCols": [{"id": "ticker", "field": "ticker"}],
                          "valueCols": value_cols(&aggregates), "groupKeys": []});
        let expected = brute_groups(&rows, |_| true, "ticker", &aggregates);
        assert_same(
            groups(&table, body).unwrap(),
            by_key(expected, "ticker"),
            "top",
        );
        // A filter applies within the groups.
        let filtered = json!({"rowGroupCols": [{"id": "ticker", "field": "ticker"}],
                              "valueCols": value_cols(&aggregates),
                              "filterModel": {"qty": {"filterType": "number", "type": "greaterThan", "filter": 2}}});
        let keep = |row: &Value| passes(row, "qty", "number", "greaterThan", "2", "");
        let expected = brute_groups(&rows, keep, "ticker", &aggregates);
        assert_same(
            groups(&table, filtered).unwrap(),
            by_key(expected, "ticker"),
            "filtered",
        );
    }
    // The second level inside "msft" (exactly: not "MSFT"), and inside the blank ticker.
    let aggregates = [("price", "sum"), ("id", "count")];
    for (key, wanted) in [
        (json!("msft"), json!("msft")),
        (json!(null), Value::Null),
        (json!(""), Value::Null),
    ] {
        let body = json!({"grouping": {"rowGroupCols": [{"field": "ticker"}, {"field": "qty"}],
                                        "groupKeys": [key], "valueCols": value_cols(&aggregates)}});
        let expected = brute_groups(&rows, |row| row["ticker"] == wanted, "qty", &aggregates);
        assert!(!expected.is_empty());
        assert_same(
            groups(&table, body).unwrap(),
            by_key(expected, "qty"),
            &key.to_string(),
        );
    }
    // Groups sorted on an aggregate, then on the group column (AG Grid's auto column).
    let sorted = |sort: Value| {
        let body = json!({"rowGroupCols": [{"field": "ticker"}], "valueCols": value_cols(&aggregates),
                          "sortModel": sort});
        groups(&table, body).unwrap()
    };
    let mut expected = by_key(
        brute_groups(&rows, |_| true, "ticker", &aggregates),
        "ticker",
    );
    expected.sort_by(|a, b| order(&b["price"], &a["price"]));
    assert_same(
        sorted(json!([{"colId": "price", "sort": "desc"}])),
        expected.clone(),
        "by sum",
    );
    expected.sort_by(|a, b| order(&b["ticker"], &a["ticker"]));
    assert_same(
        sorted(json!([{"colId": "ag-Grid-AutoColumn", "sort": "desc"}])),
        expected.clone(),
        "auto",
    );
    assert_same(
        sorted(json!([{"colId": "ticker", "sort": "desc"}, {"colId": "qty", "sort": "asc"}])),
        expected,
        "key",
    );
    // The leaf level: the rows of the opened groups, a number key matching as text too.
    let leaf = json!({"rowGroupCols": [{"field": "ticker"}, {"field": "qty"}], "groupKeys": ["AAPL", "3"]});
    let leaf = leaf.as_object().unwrap();
    let grouping = Grouping::of(leaf, table.names()).unwrap().unwrap();
    assert!(grouping.is_leaf_level());
    let plan = Plan {
        conditions: grouping.narrowing(),
        sort: Vec::new(),
        grouping: Some(grouping),
    };
    let leaf_ids: Vec<i64> = select(&table, &plan)
        .into_iter()
        .map(|row| rows[row as usize]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        leaf_ids,
        brute(&rows, |row| row["ticker"] == "AAPL" && row["qty"] == 3)
    );
}

#[test]
fn bad_groupings_are_explained() {
    let (table, _) = table();
    for (body, expected) in [
        (
            json!({"rowGroupCols": [{"field": "nope"}]}),
            "rowGroupCols[0]: the data has no column 'nope'",
        ),
        (
            json!({"rowGroupCols": [{"displayName": "x"}]}),
            "rowGroupCols[0]: expected",
        ),
        (
            json!({"rowGroupCols": "ticker"}),
            "rowGroupCols: expected an array",
        ),
        (
            json!({"rowGroupCols": [{"field": "ticker"}, {"field": "TICKER"}]}),
            "grouped already",
        ),
        (
            json!({"rowGroupCols": [{"field": "ticker"}], "groupKeys": ["A", "B"]}),
            "groupKeys: 2 keys for 1 grouped columns",
        ),
        (
            json!({"rowGroupCols": [{"field": "ticker"}], "groupKeys": [[1]]}),
            "groupKeys: [1] is not a value",
        ),
        (
            json!({"rowGroupCols": [{"field": "ticker"}], "valueCols": [{"field": "price", "aggFunc": "median"}]}),
            "valueCols[0].aggFunc: unknown aggregation \"median\" (one of sum, avg, min, max, count, first, last)",
        ),
        (
            json!({"rowGroupCols": [{"field": "ticker"}], "valueCols": [{"field": "nope", "aggFunc": "sum"}]}),
            "valueCols[0]: the data has no column 'nope'",
        ),
        (
            json!({"rowGroupCols": [{"field": "ticker"}], "valueCols": [{"field": "qty", "aggFunc": "sum"}, {"field": "qty", "aggFunc": "max"}]}),
            "valueCols[1]: 'qty' is aggregated already",
        ),
        (
            json!({"pivotMode": true, "pivotCols": [{"field": "qty"}]}),
            "pivotCols: pivoting is not supported",
        ),
    ] {
        let err = Grouping::of(body.as_object().unwrap(), table.names()).unwrap_err();
        assert!(err.contains(expected), "{body}: {err}");
    }
    let none = json!({"rowGroupCols": [], "pivotMode": false});
    assert_eq!(
        Grouping::of(none.as_object().unwrap(), table.names()),
        Ok(None)
    );
    let body = json!({"rowGroupCols": [{"field": "ticker"}], "sortModel": [{"colId": "nope", "sort": "asc"}]});
    let err = groups(&table, body).unwrap_err();
    assert!(
        err.contains("sortModel[0].colId: the data has no column 'nope'"),
        "{err}"
    );
}

#[test]
fn a_level_with_too_many_groups_is_refused() {
    let mut csv = String::from("id,v\n");
    for id in 0..=group::MAX_GROUPS {
        csv.push_str(&format!("{id},1\n"));
    }
    let Data::Table(table) = Data::parse("data/t.csv", csv.as_bytes()).unwrap() else {
        panic!("a CSV is a table")
    };
    let err = groups(&table, json!({"rowGroupCols": [{"field": "id"}]})).unwrap_err();
    assert!(
        err.contains("'id' has more than 100000 groups here; filter the rows first"),
        "{err}"
    );
    let filtered = json!({"rowGroupCols": [{"field": "id"}],
                          "filterModel": {"id": {"filterType": "number", "type": "lessThan", "filter": 10}}});
    assert_eq!(groups(&table, filtered).unwrap().len(), 10);
}
