//! What a filter condition accepts: a [`Condition`] compares one column's cell with the values
//! it was given, following the cell's type: numbers numerically, text ignoring ASCII case, and
//! an upper bound on text compares only as many characters as the bound has, so
//! `end_date=2024-03-01` keeps `2024-03-01 16:00`. Which conditions a request makes is
//! `filter.rs`'s job; which rows pass them is `select.rs`'s.
//!
//! Cost: an equality with many values looks each cell up in a hash set of them ([`Lookup`]),
//! so a filter costs O(rows), not O(rows × values).

use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::OnceLock;

use serde::Deserialize;

use super::Cell;

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
    /// For an equality [`Condition::one_of`] parameter values: the values as sent, and once
    /// [`Condition::settle`]d against the column (when one holds a comma), the equality that
    /// matches each whole where the column holds it whole, and by its parts elsewhere.
    sent: Vec<String>,
    settled: OnceLock<Box<Condition>>,
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
            sent: Vec::new(),
            settled: OnceLock::new(),
        }
    }

    /// Equal to any of parameter values `sent`, each a comma-separated list (`AAPL,MSFT`), but
    /// matched as one value where the column holds it whole (`Consumer, Staples`): `values`
    /// are the parts until [`Condition::settle`] has looked at the column.
    pub fn one_of(column: usize, sent: Vec<String>) -> Condition {
        let parts = sent.iter().flat_map(|value| split_values(value)).collect();
        Condition {
            sent,
            ..Condition::new(column, Op::Eq, parts)
        }
    }

    /// The parameter values this condition was made from by [`Condition::one_of`] (none for
    /// another condition).
    pub fn sent(&self) -> &[String] {
        &self.sent
    }

    /// Decides, once, which of the values [`Condition::sent`] are matched whole: those that
    /// `held` (given an equality with such values) returns, folded to ASCII lower case, as
    /// texts the column holds. Does nothing when no value holds a comma, or once settled.
    pub fn settle(&self, held: impl FnOnce(&Condition) -> HashSet<String>) {
        if !self.sent.iter().any(|value| value.contains(',')) || self.settled.get().is_some() {
            return;
        }
        let wholes: Vec<String> = self
            .sent
            .iter()
            .filter(|value| value.contains(','))
            .map(|value| value.trim().to_string())
            .collect();
        let held = held(&Condition::new(self.column, Op::Eq, wholes));
        let values = self
            .sent
            .iter()
            .flat_map(
                |value| match held.contains(&value.trim().to_ascii_lowercase()) {
                    true => vec![value.trim().to_string()],
                    false => split_values(value),
                },
            )
            .collect();
        let _ = self
            .settled
            .set(Box::new(Condition::new(self.column, Op::Eq, values)));
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

    /// The alternatives of an [`Op::Any`] condition (none for another).
    pub fn alternatives(&self) -> &[Condition] {
        &self.alternatives
    }

    /// Whether `cell` (this condition's column in some row) passes.
    pub fn accepts(&self, cell: Cell<'_>) -> bool {
        if let Some(settled) = self.settled.get() {
            return settled.accepts(cell);
        }
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

/// A parameter value's comma-separated parts, trimmed, empty ones left out.
fn split_values(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
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
