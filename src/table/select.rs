//! Selection: the rows that pass every [`Condition`], for a [`Table`] and for any other
//! [`Rows`] (JSON rows, `data.rs`), by one code path. A condition on a dictionary column is
//! decided once per distinct value, and the most selective one narrows the scan through the
//! column's index ([`Postings`], built the first time a filter needs it). An equality made from
//! parameter values with commas is first settled against its column ([`settle`]): a value the
//! column holds whole is matched whole.

use std::collections::HashSet;
use std::sync::OnceLock;

use super::{Cell, Column, Condition, NULL_CODE, Table};

/// Rows whose cells a selection reads: a [`Table`], or JSON objects (`data::JsonRows`).
pub trait Rows {
    /// How many rows there are.
    fn rows(&self) -> usize;

    /// The cells of `column` (in range), by row: the column is looked up once, not per cell.
    fn column<'a>(&'a self, column: usize) -> impl Fn(usize) -> Cell<'a>;

    /// `column` as a dictionary (codes, values and their index), when it is stored as one.
    fn dictionary(&self, _column: usize) -> Option<Dictionary<'_>> {
        None
    }
}

/// A dictionary column as selection reads it: each row's code, the text of each code, and the
/// rows of each code (built on first use).
#[derive(Clone, Copy)]
pub struct Dictionary<'a> {
    codes: &'a [u32],
    values: &'a [Box<str>],
    index: &'a OnceLock<Postings>,
}

impl Rows for Table {
    fn rows(&self) -> usize {
        Table::rows(self)
    }

    fn column<'a>(&'a self, column: usize) -> impl Fn(usize) -> Cell<'a> {
        let column = &self.columns[column];
        move |row| column.cell(row)
    }

    fn dictionary(&self, column: usize) -> Option<Dictionary<'_>> {
        match &self.columns[column] {
            Column::Dict {
                codes,
                values,
                index,
            } => Some(Dictionary {
                codes,
                values,
                index,
            }),
            _ => None,
        }
    }
}

impl Table {
    /// The rows that pass every condition, in order ([`select`]).
    pub fn select(&self, conditions: &[Condition]) -> Vec<usize> {
        select(self, conditions)
    }
}

/// The rows of `rows` that pass every condition, in order. A condition on a dictionary column
/// is decided once per distinct value; the most selective one narrows the scan through the
/// column's index.
pub fn select(rows: &impl Rows, conditions: &[Condition]) -> Vec<usize> {
    settle(rows, conditions);
    let tests: Vec<Test<'_, _>> = conditions
        .iter()
        .map(|condition| match rows.dictionary(condition.column) {
            Some(dictionary) => Test::Codes {
                accepted: dictionary
                    .values
                    .iter()
                    .map(|v| condition.accepts(Cell::Text(v)))
                    .collect(),
                null: condition.accepts(Cell::Null),
                dictionary,
            },
            None => Test::Cells {
                cells: rows.column(condition.column),
                condition,
            },
        })
        .collect();
    let passes = |row: usize| tests.iter().all(|test| test.passes(row));
    match narrowest_candidates(rows.rows(), &tests) {
        Some(candidates) => candidates.into_iter().filter(|&row| passes(row)).collect(),
        None => (0..rows.rows()).filter(|&row| passes(row)).collect(),
    }
}

/// Whether `row` passes every condition: [`select`] of one row, without the index.
pub fn passes(rows: &impl Rows, row: usize, conditions: &[Condition]) -> bool {
    settle(rows, conditions);
    conditions
        .iter()
        .all(|condition| condition.accepts(rows.column(condition.column)(row)))
}

/// Settles each condition made from comma-holding parameter values ([`Condition::settle`]):
/// one pass over its column (its distinct values, for a dictionary) finds which of those values
/// the column holds whole. Once per condition, however many rows are then tested.
fn settle(rows: &impl Rows, conditions: &[Condition]) {
    for condition in conditions {
        condition.settle(|wholes| {
            let mut held = HashSet::new();
            let mut hold = |cell: Cell<'_>| {
                if let Cell::Text(text) = cell
                    && wholes.accepts(cell)
                {
                    held.insert(text.to_ascii_lowercase());
                }
            };
            match rows.dictionary(condition.column) {
                Some(dictionary) => dictionary.values.iter().for_each(|v| hold(Cell::Text(v))),
                None => {
                    let cells = rows.column(condition.column);
                    (0..rows.rows()).for_each(|row| hold(cells(row)));
                }
            }
            held
        });
    }
}

/// Rows that can possibly pass, from the index of the dictionary condition that accepts the
/// fewest rows, when that is a small part of the rows (of which there are `rows`).
fn narrowest_candidates<C>(rows: usize, tests: &[Test<'_, C>]) -> Option<Vec<usize>> {
    u32::try_from(rows).ok()?;
    let (dictionary, accepted) = tests
        .iter()
        .filter_map(|test| match test {
            // The index holds no null rows, so it can only narrow a test nulls fail.
            Test::Codes {
                dictionary,
                accepted,
                null: false,
            } => Some((dictionary, accepted)),
            _ => None,
        })
        .filter(|(_, accepted)| accepted.iter().filter(|a| **a).count() * 8 < accepted.len())
        .min_by_key(|(_, accepted)| accepted.iter().filter(|a| **a).count())?;
    let index = dictionary
        .index
        .get_or_init(|| Postings::new(dictionary.codes, dictionary.values.len()));
    let mut rows: Vec<usize> = accepted
        .iter()
        .enumerate()
        .filter(|(_, accepted)| **accepted)
        .flat_map(|(code, _)| index.rows(code).iter().map(|row| *row as usize))
        .collect();
    rows.sort_unstable();
    Some(rows)
}

/// One condition, ready to test rows; `C` gives a column's cells by row.
enum Test<'a, C> {
    /// A dictionary column: whether each code passes, decided once per distinct value.
    Codes {
        dictionary: Dictionary<'a>,
        accepted: Vec<bool>,
        /// Whether a null passes.
        null: bool,
    },
    /// Any other column: the condition, asked of each cell.
    Cells { cells: C, condition: &'a Condition },
}

impl<'a, C: Fn(usize) -> Cell<'a>> Test<'a, C> {
    fn passes(&self, row: usize) -> bool {
        match self {
            Test::Codes {
                dictionary,
                accepted,
                null,
            } => match dictionary.codes[row] {
                NULL_CODE => *null,
                code => accepted[code as usize],
            },
            Test::Cells { cells, condition } => condition.accepts(cells(row)),
        }
    }
}

/// The rows of each code of a dictionary column (of fewer than 2^32 rows), back to back in one
/// vector: those of code `c` are `rows[starts[c]..starts[c + 1]]`, in order. Built by a counting
/// sort: a pass to count each code's rows, a pass to place them, no vector growing.
#[derive(Debug)]
pub(super) struct Postings {
    starts: Vec<usize>,
    rows: Vec<u32>,
}

impl Postings {
    pub(super) fn new(codes: &[u32], values: usize) -> Postings {
        let mut starts = vec![0; values + 1];
        for &code in codes {
            if code != NULL_CODE {
                starts[code as usize + 1] += 1;
            }
        }
        for code in 0..values {
            starts[code + 1] += starts[code];
        }
        let mut next = starts.clone();
        let mut rows = vec![0; starts[values]];
        for (row, &code) in (0..).zip(codes) {
            if code != NULL_CODE {
                let slot = &mut next[code as usize];
                rows[*slot] = row;
                *slot += 1;
            }
        }
        Postings { starts, rows }
    }

    pub(super) fn rows(&self, code: usize) -> &[u32] {
        &self.rows[self.starts[code]..self.starts[code + 1]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{self, Rule};
    use crate::table::testing::build;

    #[test]
    fn postings_list_each_codes_rows_in_order() {
        let n = NULL_CODE;
        let codes = [2, 0, n, 2, 2, 0, n, 3];
        let postings = Postings::new(&codes, 5);
        for code in 0..5 {
            let expected: Vec<u32> = (0..)
                .zip(codes)
                .filter(|&(_, c)| c == code as u32)
                .map(|(row, _)| row)
                .collect();
            assert_eq!(postings.rows(code), expected, "code {code}");
        }
        assert_eq!(postings.rows.len(), 6, "nulls are in no list");
        assert!(Postings::new(&[], 0).rows.is_empty());
    }

    #[test]
    fn select_matches_a_brute_force_scan() {
        let tickers = [
            "AAPL", "MSFT", "NVDA", "SPY", "XOM", "JPM", "BAC", "CVX", "HD", "PG",
        ];
        let rows: Vec<Vec<String>> = (0..2000)
            .map(|i| {
                vec![
                    format!("2024-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
                    tickers[i * 7 % tickers.len()].to_string(),
                    format!("{}", i % 97),
                    if i % 13 == 0 {
                        String::new()
                    } else {
                        format!("{}.5", i % 50)
                    },
                ]
            })
            .collect();
        let table = build(&["date", "ticker", "n", "x"], &rows);
        let names = table.names().to_vec();
        for query in [
            vec![("ticker", "AAPL")],
            vec![("ticker", "aapl,spy"), ("start_date", "2024-06-01")],
            vec![("end_date", "2024-03-15"), ("min_n", "10"), ("max_x", "20")],
            vec![("x", "12.5"), ("ticker", "XOM")],
            vec![("ticker", "NOPE")],
            vec![],
        ] {
            let params: Vec<(String, String)> = query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let conditions = filter::plan(
                &params,
                &names,
                &Vec::<(String, Option<Rule>)>::new(),
                &filter::Limits::default(),
            )
            .unwrap();
            let brute: Vec<usize> = (0..table.rows())
                .filter(|&row| {
                    conditions
                        .iter()
                        .all(|c| c.accepts(table.cell(row, c.column)))
                })
                .collect();
            assert_eq!(table.select(&conditions), brute, "{query:?}");
        }
    }
}
