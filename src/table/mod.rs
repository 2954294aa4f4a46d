//! Typed, column-oriented tables: what a data file's rows become, and what filters, sorts and
//! JSON answers read.
//!
//! Typing is per column, as pandas does it: a column is integer when every non-empty cell is an
//! integer, decimal when every non-empty cell is a number, boolean when every non-empty cell is
//! `true`/`false`, and text otherwise (so a code column holding `007` stays text throughout).
//! Empty cells are null. In number columns the spellings of NaN and infinity are null too, so
//! non-finite values never reach JSON.
//!
//! Storage is compact so big files fit in memory: numbers in plain vectors, in 32 bits when
//! they fit (decimals then as an integer and a scale), text with few distinct values as
//! dictionary codes, other text back to back in one string. Invariants: every column holds
//! exactly `rows` values; column names are unique.
//!
//! By job: this file holds the storage ([`Table`], [`Cell`]); `build.rs` the type inference
//! ([`ColumnBuilder`], which `csv_read.rs` and any other reader feed, one builder a column:
//! `ColumnBuilder::with_capacity` infers the column's type from its cells' text, or from typed
//! values as their text would, `ColumnBuilder::text` keeps them text; then
//! `Table::new(names, builders)`), `number.rs` the
//! reading of number cells, `condition.rs` what
//! a filter condition accepts ([`Condition`]), `select.rs` which rows pass (the one selection,
//! for tables and for JSON rows, through [`Rows`]), `sort.rs` row order ([`Table::sort_rows`]:
//! rows are sorted by index, never moved) and `json.rs` the JSON answer
//! ([`Table::write_json`]). Nothing here opens a file or knows HTTP.

mod build;
mod condition;
mod json;
mod number;
mod select;
mod sort;

use std::sync::OnceLock;

use crate::cache::ALLOCATION;
use number::POWERS_OF_TEN;
use select::Postings;

pub use build::ColumnBuilder;
pub use condition::{Condition, Op};
pub use select::{Rows, passes, select};
pub use sort::SortKey;

/// One cell as filters and encoders see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(&'a str),
}

#[derive(Debug)]
pub struct Table {
    names: Vec<String>,
    columns: Vec<Column>,
    rows: usize,
}

/// Marks a null in a dictionary column's codes.
const NULL_CODE: u32 = u32::MAX;
/// Marks a null in a boolean column.
const NULL_BOOL: u8 = 2;
/// Marks a null in a 32-bit integer or scaled decimal column.
const NULL_I32: i32 = i32::MIN;

#[derive(Debug)]
enum Column {
    /// Every cell is null.
    Empty,
    /// Integers that all fit 32 bits (but -2^31): half the memory of `Int`. [`NULL_I32`] marks
    /// null. A cell that does not fit turns the column into `Int`.
    Int32(Vec<i32>),
    /// `nulls` is only present when some cell is null.
    Int {
        values: Vec<i64>,
        nulls: Option<Vec<bool>>,
    },
    /// NaN marks null.
    Float(Vec<f64>),
    /// Decimals as `mantissa / 10^scale`, when every one fits a 32-bit mantissa at the scale of
    /// the longest fraction: half the memory of `Float`, and each reads back as the very `f64`
    /// its text parses to (both are the correctly rounded value of the same decimal).
    /// [`NULL_I32`] marks null. A cell that does not fit turns the column into `Float`.
    Scaled { mantissas: Vec<i32>, scale: u32 },
    /// 0, 1, or [`NULL_BOOL`].
    Bool(Vec<u8>),
    Dict {
        codes: Vec<u32>,
        values: Vec<Box<str>>,
        /// For each code, the rows holding it, built on first use by a filter.
        index: OnceLock<Postings>,
    },
    /// Cells back to back; a zero-length cell is null.
    Plain { text: String, ends: Vec<usize> },
}

impl Column {
    /// See [`Table::heap_bytes`].
    fn heap_bytes(&self) -> usize {
        match self {
            Column::Empty => 0,
            Column::Int32(values)
            | Column::Scaled {
                mantissas: values, ..
            } => vector_bytes(values),
            Column::Int { values, nulls } => {
                vector_bytes(values) + nulls.as_ref().map_or(0, vector_bytes)
            }
            Column::Float(values) => vector_bytes(values),
            Column::Bool(values) => vector_bytes(values),
            Column::Dict { codes, values, .. } => {
                let texts = values.iter().map(|value| value.len() + ALLOCATION);
                let index =
                    (values.len() + 1) * size_of::<usize>() + codes.len() * size_of::<u32>();
                vector_bytes(codes)
                    + vector_bytes(values)
                    + texts.sum::<usize>()
                    + index
                    + 2 * ALLOCATION
            }
            Column::Plain { text, ends } => text.capacity() + ALLOCATION + vector_bytes(ends),
        }
    }

    fn cell(&self, row: usize) -> Cell<'_> {
        match self {
            Column::Empty => Cell::Null,
            Column::Int { values, nulls } => match nulls {
                Some(nulls) if nulls[row] => Cell::Null,
                _ => Cell::Int(values[row]),
            },
            Column::Int32(values) => match values[row] {
                NULL_I32 => Cell::Null,
                value => Cell::Int(i64::from(value)),
            },
            Column::Float(values) if values[row].is_nan() => Cell::Null,
            Column::Float(values) => Cell::Float(values[row]),
            Column::Scaled { mantissas, scale } => match mantissas[row] {
                NULL_I32 => Cell::Null,
                mantissa => Cell::Float(f64::from(mantissa) / POWERS_OF_TEN[*scale as usize]),
            },
            Column::Bool(values) => match values[row] {
                NULL_BOOL => Cell::Null,
                value => Cell::Bool(value == 1),
            },
            Column::Dict { codes, values, .. } => match codes[row] {
                NULL_CODE => Cell::Null,
                code => Cell::Text(&values[code as usize]),
            },
            Column::Plain { text, ends } => {
                let start = if row == 0 { 0 } else { ends[row - 1] };
                match &text[start..ends[row]] {
                    "" => Cell::Null,
                    cell => Cell::Text(cell),
                }
            }
        }
    }
}

impl Table {
    pub fn new(names: Vec<String>, columns: Vec<ColumnBuilder>) -> Table {
        let rows = columns.first().map_or(0, ColumnBuilder::len);
        Table {
            names,
            columns: columns.into_iter().map(ColumnBuilder::finish).collect(),
            rows,
        }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cell(&self, row: usize, column: usize) -> Cell<'_> {
        self.columns[column].cell(row)
    }

    /// The bytes the table holds on the heap, each allocation's overhead ([`ALLOCATION`])
    /// included. A dictionary column's index counts as built, whether a filter built it yet or
    /// not: one may at any time.
    pub fn heap_bytes(&self) -> usize {
        let names = self.names.iter().map(|name| name.capacity() + ALLOCATION);
        let columns = self.columns.iter().map(Column::heap_bytes);
        vector_bytes(&self.names)
            + names.sum::<usize>()
            + vector_bytes(&self.columns)
            + columns.sum::<usize>()
    }
}

/// The bytes a vector's allocation takes (none before it allocates).
fn vector_bytes<T>(vector: &Vec<T>) -> usize {
    match vector.capacity() * size_of::<T>() {
        0 => 0,
        bytes => bytes + ALLOCATION,
    }
}

#[cfg(test)]
mod testing {
    //! Helpers for the tests of this module's files.

    use super::*;

    pub fn build<R: AsRef<[C]>, C: AsRef<str>>(names: &[&str], rows: &[R]) -> Table {
        let mut columns: Vec<ColumnBuilder> =
            names.iter().map(|_| ColumnBuilder::default()).collect();
        for row in rows {
            for (column, cell) in columns.iter_mut().zip(row.as_ref()) {
                column.push(cell.as_ref());
            }
        }
        Table::new(names.iter().map(|s| s.to_string()).collect(), columns)
    }

    /// A deterministic stream of numbers below a bound (xorshift).
    pub fn numbers_below(mut state: u64) -> impl FnMut(usize) -> usize {
        move |bound| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as usize % bound
        }
    }

    pub fn json(table: &Table) -> serde_json::Value {
        let mut out = Vec::new();
        table.write_json(0..table.rows(), &mut out);
        serde_json::from_slice(&out).unwrap()
    }
}
