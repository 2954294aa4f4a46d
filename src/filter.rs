//! Row filters drawn from a widget's query parameters, with no code.
//!
//! Rules, in order, for each parameter with a non-empty value:
//! 1. an explicit rule in the widget's `backend.filters` wins: `"param": "column"` (equality),
//!    `"param": {"column": "date", "op": "gte"}` (`eq`, `gte`, `lte`), or `"param": null`
//!    (never filter on it);
//! 2. a parameter named like a column (exactly, else ignoring ASCII case) keeps rows equal to one
//!    of its comma-separated values; a value the column holds whole (`Consumer, Staples`) is
//!    matched as one value, before it is split ([`Condition::one_of`]);
//! 3. `start_X`/`from_X`/`min_X` and `end_X`/`to_X`/`max_X` bound column `X` (inclusive);
//! 4. anything else (`theme`, `raw`, unknown names) is ignored.
//!
//! Repeating a parameter (`?t=A&t=B`) is the same as `?t=A,B`, each repeat matched whole first.
//! An explicit `eq` rule splits and matches whole in the same way. What a condition accepts
//! (numbers numerically, text ignoring ASCII case, upper bounds on text as prefixes) is
//! `table/condition.rs`'s, and which rows pass is `table/select.rs`'s: this module only decides
//! which [`Condition`]s a request makes, so it depends on `table` and not the other way.
//!
//! The server-side row model (`widgets/ssrm.rs`) builds conditions with AG Grid's further
//! operators (`ne`, `lt`, `gt`, `contains`, ...), date conditions that compare the day only, and
//! `any` conditions that join alternatives on one column (combined filters with `OR`).
//!
//! A request may ask for at most [`Limits::values`] values per condition and
//! [`Limits::conditions`] conditions (each condition but an equality is a pass over the rows);
//! more is refused ([`PlanError::TooLarge`], a 400 naming the limit).

use serde::Deserialize;
use serde_json::Value;

pub use crate::table::{Condition, Op};

/// An explicit rule for one parameter, as written in `widgets.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Rule {
    Column(String),
    Bound {
        column: String,
        #[serde(default = "equality")]
        op: Op,
    },
}

fn equality() -> Op {
    Op::Eq
}

/// How large a filter one request may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Values one condition compares with (`--max-filter-values`): a parameter's values over
    /// all its repeats, an SSRM set filter's values.
    pub values: usize,
    /// Conditions one request makes (`--max-filter-conditions`): parameters that filter, and
    /// the conditions of an SSRM filter model (each alternative of an `OR` counts).
    pub conditions: usize,
}

impl Default for Limits {
    /// 10,000 values: AG Grid's set filter sends every value ticked, so "all but one" of a
    /// column with thousands of distinct values sends thousands; each value costs a hash
    /// lookup (about a millisecond for all of them) and some 100 bytes while the request runs.
    /// 32 conditions: AG Grid allows 2 a column by default, so 16 columns filtered twice;
    /// each condition but an equality is a pass over every row.
    fn default() -> Limits {
        Limits {
            values: 10_000,
            conditions: 32,
        }
    }
}

/// Why no conditions could be planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    /// The widget or its data is at fault: a rule names a column the data does not have.
    Widget(String),
    /// The request asks for a larger filter than [`Limits`] allow.
    TooLarge(String),
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanError::Widget(detail) | PlanError::TooLarge(detail) => f.write_str(detail),
        }
    }
}

/// Refuses `conditions` when one compares with more than `limits.values` values, or when they
/// are more than `limits.conditions` (the alternatives of an `any` counted one by one).
pub fn check(conditions: &[Condition], limits: &Limits) -> Result<(), PlanError> {
    fn count(condition: &Condition) -> usize {
        1.max(condition.alternatives().iter().map(count).sum())
    }
    fn most_values(condition: &Condition) -> usize {
        let alternatives = condition.alternatives().iter().map(most_values);
        alternatives.fold(condition.values.len(), usize::max)
    }
    let values = conditions.iter().map(most_values).max().unwrap_or(0);
    if values > limits.values {
        return Err(PlanError::TooLarge(format!(
            "a filter compares with {values} values; at most {} are allowed (--max-filter-values)",
            limits.values
        )));
    }
    let total: usize = conditions.iter().map(count).sum();
    if total > limits.conditions {
        return Err(PlanError::TooLarge(format!(
            "the request makes {total} filter conditions; at most {} are allowed \
             (--max-filter-conditions)",
            limits.conditions
        )));
    }
    Ok(())
}

/// Builds the conditions for `params` over a table with `columns`. `rules` holds the explicit
/// rules (`None` = ignore the parameter). Fails when an explicit rule names a missing column,
/// or when the conditions pass `limits` ([`check`]).
pub fn plan(
    params: &[(String, String)],
    columns: &[String],
    rules: &[(String, Option<Rule>)],
    limits: &Limits,
) -> Result<Vec<Condition>, PlanError> {
    let mut conditions: Vec<Condition> = Vec::new();
    for (name, value) in params {
        if value.trim().is_empty() {
            continue;
        }
        let target = match rules.iter().find(|(param, _)| param == name) {
            Some((_, None)) => None,
            Some((_, Some(rule))) => {
                let (column, op) = match rule {
                    Rule::Column(column) => (column, Op::Eq),
                    Rule::Bound { column, op } => (column, *op),
                };
                let index = find_column(columns, column).ok_or_else(|| {
                    PlanError::Widget(format!("parameter '{name}' filters on column '{column}', which the data does not have"))
                })?;
                Some((index, op))
            }
            None => implicit_target(name, columns),
        };
        let Some((column, op)) = target else { continue };
        let merged = conditions
            .iter_mut()
            .find(|c| c.column == column && c.op == op && op == Op::Eq);
        match (op, merged) {
            (Op::Eq, Some(existing)) => {
                let sent = [existing.sent(), std::slice::from_ref(value)].concat();
                *existing = Condition::one_of(column, sent)
            }
            (Op::Eq, None) => conditions.push(Condition::one_of(column, vec![value.clone()])),
            _ => conditions.push(Condition::new(column, op, vec![value.trim().to_string()])),
        }
    }
    check(&conditions, limits)?;
    Ok(conditions)
}

/// Param values given as JSON (a POST body, a WebSocket message) as query-style pairs: text as
/// it is, an array (multiSelect) as one pair an item, as a repeated query parameter (so each
/// item is matched whole before it is split on commas), numbers and booleans as written; nulls
/// and objects are no filter.
pub fn json_params<'a>(
    entries: impl Iterator<Item = (&'a String, &'a Value)>,
) -> Vec<(String, String)> {
    let text = |value: &Value| match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(_) | Value::Bool(_) => Some(value.to_string()),
        _ => None,
    };
    entries
        .flat_map(|(key, value)| {
            let values = match value {
                Value::Array(items) => items.iter().filter_map(text).collect(),
                other => text(other).into_iter().collect::<Vec<_>>(),
            };
            values.into_iter().map(|value| (key.clone(), value))
        })
        .collect()
}

fn implicit_target(param: &str, columns: &[String]) -> Option<(usize, Op)> {
    if let Some(index) = find_column(columns, param) {
        return Some((index, Op::Eq));
    }
    const BOUNDS: [(&str, Op); 6] = [
        ("start_", Op::Gte),
        ("from_", Op::Gte),
        ("min_", Op::Gte),
        ("end_", Op::Lte),
        ("to_", Op::Lte),
        ("max_", Op::Lte),
    ];
    BOUNDS.iter().find_map(|(prefix, op)| {
        let column = param.strip_prefix(prefix)?;
        find_column(columns, column).map(|index| (index, *op))
    })
}

/// The index of column `name`: an exact match, else one ignoring ASCII case.
pub fn find_column(columns: &[String], name: &str) -> Option<usize> {
    columns
        .iter()
        .position(|c| c == name)
        .or_else(|| columns.iter().position(|c| c.eq_ignore_ascii_case(name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::owned_pairs as params;

    fn columns(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn column_names_become_equality_filters() {
        let cols = columns(&["date", "ticker", "close"]);
        let plan = plan(
            &params(&[("ticker", "AAPL,MSFT"), ("theme", "dark")]),
            &cols,
            &[],
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(plan.len(), 1);
        assert_eq!((plan[0].column, plan[0].op), (1, Op::Eq));
        assert_eq!(plan[0].values, ["AAPL", "MSFT"]);
    }

    #[test]
    fn repeated_parameters_are_one_multi_value_filter() {
        let cols = columns(&["ticker"]);
        let plan = plan(
            &params(&[("ticker", "A"), ("ticker", "B")]),
            &cols,
            &[],
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0].values, ["A", "B"]);
    }

    #[test]
    fn json_arrays_are_repeats_each_matched_whole_first() {
        let body =
            serde_json::json!({"sector": ["Consumer, Staples", "Energy"], "n": 3, "x": null});
        let pairs = json_params(body.as_object().unwrap().iter());
        assert_eq!(
            pairs,
            params(&[
                ("sector", "Consumer, Staples"),
                ("sector", "Energy"),
                ("n", "3")
            ])
        );
        let plan = plan(&pairs, &columns(&["sector"]), &[], &Limits::default()).unwrap();
        assert_eq!(plan[0].sent(), ["Consumer, Staples", "Energy"]);
    }

    #[test]
    fn prefixes_make_date_ranges() {
        let cols = columns(&["Date", "close"]);
        let plan = plan(
            &params(&[
                ("start_date", "2024-01-01"),
                ("end_date", "2024-02-01"),
                ("min_close", ""),
            ]),
            &cols,
            &[],
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(plan.len(), 2, "an empty value is no filter");
        assert_eq!((plan[0].column, plan[0].op), (0, Op::Gte));
        assert_eq!((plan[1].column, plan[1].op), (0, Op::Lte));
    }

    #[test]
    fn explicit_rules_win() {
        let cols = columns(&["symbol", "day", "ticker"]);
        let rules = vec![
            ("ticker".to_string(), Some(Rule::Column("symbol".into()))),
            (
                "since".to_string(),
                Some(Rule::Bound {
                    column: "day".into(),
                    op: Op::Gte,
                }),
            ),
            ("symbol".to_string(), None),
        ];
        let plan = plan(
            &params(&[("ticker", "X"), ("since", "2024-01-01"), ("symbol", "Y")]),
            &cols,
            &rules,
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(plan.len(), 2);
        assert_eq!((plan[0].column, plan[0].op), (0, Op::Eq));
        assert_eq!((plan[1].column, plan[1].op), (1, Op::Gte));
        let bad = vec![("x".to_string(), Some(Rule::Column("nope".into())))];
        let err = super::plan(&params(&[("x", "1")]), &cols, &bad, &Limits::default()).unwrap_err();
        assert!(err.to_string().contains("'nope'"), "{err}");
        assert!(matches!(err, PlanError::Widget(_)), "{err:?}");
    }

    #[test]
    fn requests_beyond_the_limits_are_refused_naming_them() {
        let cols = columns(&["ticker", "date", "close"]);
        let limits = Limits {
            values: 3,
            conditions: 2,
        };
        let plan = |pairs: &[(&str, &str)]| super::plan(&params(pairs), &cols, &[], &limits);
        assert!(plan(&[("ticker", "A,B,C")]).is_ok());
        let err = plan(&[("ticker", "A,B"), ("ticker", "C,D")]).unwrap_err();
        assert!(matches!(err, PlanError::TooLarge(_)), "{err:?}");
        assert!(
            err.to_string().contains("4 values; at most 3")
                && err.to_string().contains("--max-filter-values"),
            "{err}"
        );
        let repeated = [("start_date", "2024-01-01"); 3];
        let err = plan(&repeated).unwrap_err();
        assert!(
            err.to_string().contains("3 filter conditions; at most 2")
                && err.to_string().contains("--max-filter-conditions"),
            "{err}"
        );
        let any = Condition::any(0, vec![Condition::new(0, Op::Lt, vec!["1".into()]); 3]);
        assert!(
            check(&[any], &limits).is_err(),
            "alternatives count one by one"
        );
    }
}
