//! Row filters drawn from a widget's query parameters, with no code.
//!
//! Rules, in order, for each parameter with a non-empty value:
//! 1. an explicit rule in the widget's `backend.filters` wins: `"param": "column"` (equality),
//!    `"param": {"column": "date", "op": "gte"}` (`eq`, `gte`, `lte`), or `"param": null`
//!    (never filter on it);
//! 2. a parameter named like a column (exactly, else ignoring ASCII case) keeps rows equal to one
//!    of its comma-separated values;
//! 3. `start_X`/`from_X`/`min_X` and `end_X`/`to_X`/`max_X` bound column `X` (inclusive);
//! 4. anything else (`theme`, `raw`, unknown names) is ignored.
//!
//! Repeating a parameter (`?t=A&t=B`) is the same as `?t=A,B`. Comparison follows the cell's
//! type: numbers numerically, text ignoring ASCII case, and an upper bound on text compares only
//! as many characters as the bound has, so `end_date=2024-03-01` keeps `2024-03-01 16:00`.
//!
//! The server-side row model (`widgets/ssrm.rs`) builds conditions with AG Grid's further
//! operators (`ne`, `lt`, `gt`, `contains`, ...), date conditions that compare the day only, and
//! `any` conditions that join alternatives on one column (combined filters with `OR`).
//!
//! Cost: an equality with many values looks each cell up in a hash set of them, so a filter
//! costs O(rows), not O(rows × values). A request may ask for at most [`Limits::values`] values
//! per condition and [`Limits::conditions`] conditions (each other condition is a pass over the
//! rows); more is refused ([`PlanError::TooLarge`], a 400 naming the limit).

use std::cmp::Ordering;
use std::collections::HashSet;

use serde::Deserialize;
use serde_json::Value;

use crate::table::Cell;

/// How a condition compares. Only `eq`, `gte` and `lte` may be written in `widgets.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// Equal to any of the values.
    Eq,
    /// At least the value (inclusive lower bound).
    Gte,
    /// At most the value; text is compared on the value's length (inclusive upper bound).
    Lte,
    /// Equal to none of the values; a null passes.
    #[serde(skip)]
    Ne,
    #[serde(skip)]
    Lt,
    #[serde(skip)]
    Gt,
    /// Strictly between the two values.
    #[serde(skip)]
    InRange,
    /// Text (or a number's decimal text) holding the value, ignoring case.
    #[serde(skip)]
    Contains,
    /// The negation of `Contains`; a null passes.
    #[serde(skip)]
    NotContains,
    #[serde(skip)]
    StartsWith,
    #[serde(skip)]
    EndsWith,
    /// Null (or empty text).
    #[serde(skip)]
    Blank,
    #[serde(skip)]
    NotBlank,
    /// Passes when any of the condition's alternatives passes (see [`Condition::any`]).
    #[serde(skip)]
    Any,
}

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

impl PlanError {
    /// 500 for the widget's fault, 400 for the request's.
    pub fn status(&self) -> u16 {
        match self {
            PlanError::Widget(_) => 500,
            PlanError::TooLarge(_) => 400,
        }
    }
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
        1.max(condition.alternatives.iter().map(count).sum())
    }
    fn most_values(condition: &Condition) -> usize {
        let alternatives = condition.alternatives.iter().map(most_values);
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

/// One condition a row must meet: `column` compared by `op` with any of `values`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub column: usize,
    pub op: Op,
    pub values: Vec<String>,
    /// Each value read as a number, once, for number cells.
    numbers: Vec<Option<f64>>,
    /// For an equality (or its negation) with more than a few values: the values as a set.
    lookup: Option<Lookup>,
    /// Text cells and values compared on their first ten characters (`YYYY-MM-DD`) only.
    dates: bool,
    /// The alternatives of an [`Op::Any`] condition, all on `column`.
    alternatives: Vec<Condition>,
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
        let values = match op {
            Op::Eq => split_values(value),
            _ => vec![value.trim().to_string()],
        };
        match conditions
            .iter_mut()
            .find(|c| c.column == column && c.op == op && op == Op::Eq)
        {
            Some(existing) => {
                *existing = Condition::new(column, op, [existing.values.clone(), values].concat())
            }
            None => conditions.push(Condition::new(column, op, values)),
        }
    }
    check(&conditions, limits)?;
    Ok(conditions)
}

/// Param values given as JSON (a POST body, a WebSocket message) as query-style pairs: text as
/// it is, arrays joined by commas (multiSelect), numbers and booleans as written; nulls and
/// objects are no filter.
pub fn json_params<'a>(
    entries: impl Iterator<Item = (&'a String, &'a Value)>,
) -> Vec<(String, String)> {
    let text = |value: &Value| match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(_) | Value::Bool(_) => Some(value.to_string()),
        _ => None,
    };
    entries
        .filter_map(|(key, value)| {
            let value = match value {
                Value::Array(items) => items.iter().filter_map(text).collect::<Vec<_>>().join(","),
                other => text(other)?,
            };
            Some((key.clone(), value))
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

fn split_values(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

impl Condition {
    pub fn new(column: usize, op: Op, values: Vec<String>) -> Condition {
        let numbers: Vec<Option<f64>> = values.iter().map(|v| v.trim().parse().ok()).collect();
        let lookup = (matches!(op, Op::Eq | Op::Ne) && values.len() > LOOKUP_FROM)
            .then(|| Lookup::new(&values, &numbers));
        Condition {
            column,
            op,
            values,
            numbers,
            lookup,
            dates: false,
            alternatives: Vec::new(),
        }
    }

    /// A condition on dates: text cells and values compare on their `YYYY-MM-DD` prefix, so
    /// `2024-03-01 16:00` equals `2024-03-01 00:00:00`.
    pub fn on_dates(column: usize, op: Op, values: Vec<String>) -> Condition {
        let values = values.into_iter().map(|v| day(&v).to_string()).collect();
        Condition {
            dates: true,
            ..Condition::new(column, op, values)
        }
    }

    /// A condition that passes when any of `alternatives` (conditions on `column`) passes.
    pub fn any(column: usize, alternatives: Vec<Condition>) -> Condition {
        Condition {
            alternatives,
            ..Condition::new(column, Op::Any, Vec::new())
        }
    }

    /// Whether `cell` (this condition's column in some row) passes.
    pub fn accepts(&self, cell: Cell<'_>) -> bool {
        let cell = match cell {
            Cell::Text(text) if self.dates => Cell::Text(day(text)),
            cell => cell,
        };
        let mut values = self.values.iter().zip(&self.numbers);
        let ordered = |(v, n): (&String, &Option<f64>), wanted: fn(Ordering) -> bool| {
            compare(cell, v, *n, false).is_some_and(wanted)
        };
        let equal = || match &self.lookup {
            Some(lookup) => lookup.contains(cell),
            None => (self.values.iter().zip(&self.numbers)).any(|(v, n)| equals(cell, v, *n)),
        };
        match self.op {
            Op::Eq => equal(),
            Op::Ne => !equal(),
            Op::Gte => values.all(|value| ordered(value, Ordering::is_ge)),
            Op::Lte => values.all(|(v, n)| compare(cell, v, *n, true).is_some_and(Ordering::is_le)),
            Op::Lt => values.all(|value| ordered(value, Ordering::is_lt)),
            Op::Gt => values.all(|value| ordered(value, Ordering::is_gt)),
            Op::InRange => {
                let mut bounds = values;
                match (bounds.next(), bounds.next()) {
                    (Some(low), Some(high)) => {
                        ordered(low, Ordering::is_gt) && ordered(high, Ordering::is_lt)
                    }
                    _ => false,
                }
            }
            Op::Contains | Op::StartsWith | Op::EndsWith => {
                values.all(|(v, _)| text_test(cell, v, self.op))
            }
            Op::NotContains => !values.any(|(v, _)| text_test(cell, v, Op::Contains)),
            Op::Blank => matches!(cell, Cell::Null | Cell::Text("")),
            Op::NotBlank => !matches!(cell, Cell::Null | Cell::Text("")),
            Op::Any => self.alternatives.iter().any(|c| c.accepts(cell)),
        }
    }
}

/// Equalities with more values than this look cells up in a [`Lookup`]; with fewer, comparing
/// with each is faster than hashing.
const LOOKUP_FROM: usize = 8;

/// The values of an equality as sets, so that a cell is looked up once instead of compared
/// with each value; it answers exactly as [`equals`] with each value would.
#[derive(Debug, Clone, PartialEq)]
struct Lookup {
    /// The values, folded to ASCII lower case (text equality ignores ASCII case).
    texts: HashSet<Box<[u8]>, foldhash::fast::RandomState>,
    /// The values that read as numbers other than NaN, as [`number_key`]s.
    numbers: HashSet<u64, foldhash::fast::RandomState>,
    /// Whether a value means `false`, and whether one means `true`.
    truths: [bool; 2],
}

impl Lookup {
    fn new(values: &[String], numbers: &[Option<f64>]) -> Lookup {
        let texts = values
            .iter()
            .map(|value| value.to_ascii_lowercase().into_bytes().into_boxed_slice())
            .collect();
        let numbers = numbers
            .iter()
            .flatten()
            .filter(|number| !number.is_nan())
            .map(|&number| number_key(number))
            .collect();
        let truths = [false, true].map(|truth| {
            values.iter().any(|value| {
                compare(Cell::Bool(truth), value, None, false) == Some(Ordering::Equal)
            })
        });
        Lookup {
            texts,
            numbers,
            truths,
        }
    }

    fn contains(&self, cell: Cell<'_>) -> bool {
        match cell {
            Cell::Null => false,
            Cell::Text(text) => with_folded(text, |folded| self.texts.contains(folded)),
            Cell::Int(int) => self.numbers.contains(&number_key(int as f64)),
            Cell::Float(float) => self.numbers.contains(&number_key(float)),
            Cell::Bool(truth) => self.truths[usize::from(truth)],
        }
    }
}

/// A number as a set key: equal numbers (0 and -0 included) have equal keys.
fn number_key(number: f64) -> u64 {
    if number == 0.0 { 0 } else { number.to_bits() }
}

/// Calls `then` with `text` folded to ASCII lower case, on the stack when it is short.
fn with_folded<R>(text: &str, then: impl FnOnce(&[u8]) -> R) -> R {
    let mut buffer = [0u8; 64];
    match buffer.get_mut(..text.len()) {
        Some(folded) => {
            folded.copy_from_slice(text.as_bytes());
            folded.make_ascii_lowercase();
            then(folded)
        }
        None => then(text.to_ascii_lowercase().as_bytes()),
    }
}

/// The `YYYY-MM-DD` part of a date or date-time text (the whole text when shorter).
fn day(text: &str) -> &str {
    text.get(..10).unwrap_or(text)
}

/// `Contains`, `StartsWith` or `EndsWith` on the cell's text (a number's decimal text),
/// ignoring ASCII case. A null never passes.
fn text_test(cell: Cell<'_>, value: &str, op: Op) -> bool {
    let owned;
    let text = match cell {
        Cell::Null => return false,
        Cell::Text(text) => text,
        Cell::Bool(flag) => {
            if flag {
                "true"
            } else {
                "false"
            }
        }
        Cell::Int(int) => {
            owned = int.to_string();
            &owned
        }
        Cell::Float(float) => {
            owned = float.to_string();
            &owned
        }
    };
    let (text, value) = (text.to_ascii_lowercase(), value.to_ascii_lowercase());
    match op {
        Op::StartsWith => text.starts_with(&value),
        Op::EndsWith => text.ends_with(&value),
        _ => text.contains(&value),
    }
}

fn equals(cell: Cell<'_>, value: &str, number: Option<f64>) -> bool {
    match cell {
        Cell::Null => false,
        Cell::Text(text) => text.eq_ignore_ascii_case(value),
        _ => compare(cell, value, number, false) == Some(Ordering::Equal),
    }
}

/// Orders `cell` against a parameter value (`number` is the value read as a number); `None`
/// when they cannot be compared. With `as_prefix`, text is compared on the value's length only
/// (an inclusive upper bound).
fn compare(cell: Cell<'_>, value: &str, number: Option<f64>, as_prefix: bool) -> Option<Ordering> {
    match cell {
        Cell::Null => None,
        Cell::Int(int) => (int as f64).partial_cmp(&number?),
        Cell::Float(float) => float.partial_cmp(&number?),
        Cell::Bool(flag) => {
            let wanted = match value.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => return None,
            };
            Some(flag.cmp(&wanted))
        }
        Cell::Text(text) => {
            let text = text.as_bytes();
            let text = if as_prefix {
                &text[..text.len().min(value.len())]
            } else {
                text
            };
            let value = value.as_bytes().iter().map(u8::to_ascii_lowercase);
            Some(text.iter().map(u8::to_ascii_lowercase).cmp(value))
        }
    }
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
        assert_eq!(
            plan,
            [Condition::new(
                1,
                Op::Eq,
                vec!["AAPL".into(), "MSFT".into()]
            )]
        );
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
        assert_eq!(err.status(), 500);
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
        assert_eq!(err.status(), 400);
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

    /// Equality through the set of many values answers as comparing with each value does.
    #[test]
    fn many_values_are_looked_up_as_each_would_compare() {
        let values: Vec<String> = ["aapl", "1.0", "-0", "2.5", "true", "NaN", "x", "Ünï", "07"]
            .iter()
            .map(|v| v.to_string())
            .chain((0..20).map(|n| format!("v{n}")))
            .collect();
        let many = Condition::new(0, Op::Eq, values.clone());
        let none = Condition::new(0, Op::Ne, values.clone());
        assert!(many.lookup.is_some());
        let long = "L".repeat(100);
        let cells = [
            Cell::Null,
            Cell::Text("AAPL"),
            Cell::Text("ünï"),
            Cell::Text("Ünï"),
            Cell::Text("V7"),
            Cell::Text("7"),
            Cell::Text(&long),
            Cell::Int(1),
            Cell::Int(0),
            Cell::Int(7),
            Cell::Float(-0.0),
            Cell::Float(2.5),
            Cell::Float(f64::NAN),
            Cell::Bool(true),
            Cell::Bool(false),
        ];
        for cell in cells {
            let each = values
                .iter()
                .any(|v| Condition::new(0, Op::Eq, vec![v.clone()]).accepts(cell));
            assert_eq!(many.accepts(cell), each, "{cell:?}");
            assert_eq!(none.accepts(cell), !each, "{cell:?}");
        }
    }

    #[test]
    fn comparisons_follow_the_cell_type() {
        let eq = |values: &[&str]| {
            Condition::new(0, Op::Eq, values.iter().map(|s| s.to_string()).collect())
        };
        assert!(eq(&["aapl"]).accepts(Cell::Text("AAPL")));
        assert!(!eq(&["AAP"]).accepts(Cell::Text("AAPL")));
        assert!(eq(&["1.0"]).accepts(Cell::Int(1)));
        assert!(eq(&["x", "2.5"]).accepts(Cell::Float(2.5)));
        assert!(!eq(&["abc"]).accepts(Cell::Int(1)));
        assert!(eq(&["true"]).accepts(Cell::Bool(true)));
        assert!(!eq(&["null"]).accepts(Cell::Null));
    }

    #[test]
    fn grid_operators_dates_and_alternatives() {
        let one = |op: Op, value: &str| Condition::new(0, op, vec![value.to_string()]);
        assert!(
            one(Op::Ne, "x").accepts(Cell::Null),
            "a negation admits nulls"
        );
        assert!(!one(Op::Ne, "X").accepts(Cell::Text("x")));
        assert!(one(Op::Contains, "PL").accepts(Cell::Text("aapl")));
        assert!(one(Op::Contains, "37").accepts(Cell::Int(1375)));
        assert!(one(Op::NotContains, "z").accepts(Cell::Null));
        assert!(one(Op::StartsWith, "aa").accepts(Cell::Text("AAPL")));
        assert!(!one(Op::EndsWith, "aa").accepts(Cell::Text("AAPL")));
        assert!(
            one(Op::Lt, "2").accepts(Cell::Float(1.5)) && !one(Op::Lt, "2").accepts(Cell::Int(2))
        );
        assert!(one(Op::Gt, "2").accepts(Cell::Int(3)) && !one(Op::Gt, "2").accepts(Cell::Null));
        let range = Condition::new(0, Op::InRange, vec!["1".into(), "3".into()]);
        assert!(
            range.accepts(Cell::Int(2)) && !range.accepts(Cell::Int(3)),
            "bounds excluded"
        );
        assert!(Condition::new(0, Op::Blank, vec![]).accepts(Cell::Text("")));
        assert!(!Condition::new(0, Op::NotBlank, vec![]).accepts(Cell::Null));
        let day = Condition::on_dates(0, Op::Eq, vec!["2024-03-01 00:00:00".into()]);
        assert!(day.accepts(Cell::Text("2024-03-01 16:00")));
        let before = Condition::on_dates(0, Op::Lt, vec!["2024-03-01 00:00:00".into()]);
        assert!(
            !before.accepts(Cell::Text("2024-03-01 09:30"))
                && before.accepts(Cell::Text("2024-02-29"))
        );
        let either = Condition::any(0, vec![one(Op::Lt, "10"), one(Op::Gt, "90")]);
        assert!(
            either.accepts(Cell::Int(5))
                && either.accepts(Cell::Int(95))
                && !either.accepts(Cell::Int(50))
        );
    }

    #[test]
    fn upper_bounds_on_text_include_the_whole_day() {
        let until = Condition::new(0, Op::Lte, vec!["2024-03-01".into()]);
        assert!(until.accepts(Cell::Text("2024-03-01 16:00")));
        assert!(until.accepts(Cell::Text("2024-02-29")));
        assert!(!until.accepts(Cell::Text("2024-03-02")));
        let since = Condition::new(0, Op::Gte, vec!["2024-03-01".into()]);
        assert!(since.accepts(Cell::Text("2024-03-01")));
        assert!(!since.accepts(Cell::Text("2024-02-29 23:59")));
        assert!(!since.accepts(Cell::Null));
        let min = Condition::new(0, Op::Gte, vec!["10".into()]);
        assert!(min.accepts(Cell::Int(10)) && !min.accepts(Cell::Float(9.5)));
    }
}
