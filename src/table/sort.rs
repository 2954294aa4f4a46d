//! Row order: [`Table::sort_rows`] sorts row indices by [`SortKey`]s, stably.

use std::cmp::Ordering;

use super::{Cell, Column, NULL_CODE, Table};

impl Table {
    /// Sorts row indices, stably, by `keys` (the first is the primary key). Nulls come first
    /// ascending and last descending; text compares ignoring ASCII case, then as written.
    ///
    /// One stable pass per key, the last key first, so earlier keys decide and later ones
    /// break ties. A pass over numbers, booleans or dictionary text (whose values are ranked
    /// once) sorts compact `(key, position)` pairs, which keeps memory access sequential;
    /// plain text is compared cell by cell.
    pub fn sort_rows(&self, rows: &mut [usize], keys: &[SortKey]) {
        for key in keys.iter().rev() {
            let column = &self.columns[key.column];
            let ranks = match column {
                Column::Empty => continue,
                Column::Plain { .. } => {
                    rows.sort_by(|&a, &b| {
                        let ordering = text_cell_order(column.cell(a), column.cell(b));
                        if key.descending {
                            ordering.reverse()
                        } else {
                            ordering
                        }
                    });
                    continue;
                }
                Column::Dict { values, .. } => {
                    let mut by_value: Vec<usize> = (0..values.len()).collect();
                    by_value.sort_by(|&a, &b| text_order(&values[a], &values[b]));
                    let mut ranks = vec![0u64; values.len()];
                    for (rank, code) in (0..).zip(by_value) {
                        ranks[code] = rank;
                    }
                    ranks
                }
                _ => Vec::new(),
            };
            let mut nulls = Vec::new();
            let mut keyed: Vec<(u64, u32)> = Vec::with_capacity(rows.len());
            for (position, &row) in (0u32..).zip(rows.iter()) {
                match column.sort_key(row, &ranks) {
                    Some(value) if key.descending => keyed.push((!value, position)),
                    Some(value) => keyed.push((value, position)),
                    None => nulls.push(row),
                }
            }
            keyed.sort_unstable();
            let sorted = keyed.iter().map(|&(_, position)| rows[position as usize]);
            let sorted: Vec<usize> = if key.descending {
                sorted.chain(nulls).collect()
            } else {
                nulls.into_iter().chain(sorted).collect()
            };
            rows.copy_from_slice(&sorted);
        }
    }
}

/// One key of a sort: a column, ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    pub column: usize,
    pub descending: bool,
}

impl Column {
    /// A row's sort key: integers ordered as unsigned numbers, so comparing keys compares
    /// values; `ranks` holds a dictionary column's rank per code. `None` for a null.
    fn sort_key(&self, row: usize, ranks: &[u64]) -> Option<u64> {
        const SIGN: u64 = 1 << 63;
        match self {
            Column::Dict { codes, .. } => match codes[row] {
                NULL_CODE => None,
                code => Some(ranks[code as usize]),
            },
            column => match column.cell(row) {
                Cell::Int(value) => Some(value as u64 ^ SIGN),
                Cell::Float(value) => {
                    let bits = value.to_bits();
                    Some(if bits & SIGN == 0 { bits | SIGN } else { !bits })
                }
                Cell::Bool(value) => Some(u64::from(value)),
                Cell::Null | Cell::Text(_) => None,
            },
        }
    }
}

/// The order of two cells of a text column: nulls first, then by [`text_order`].
fn text_cell_order(a: Cell<'_>, b: Cell<'_>) -> Ordering {
    let text = |cell| match cell {
        Cell::Text(text) => Some(text),
        _ => None,
    };
    match (text(a), text(b)) {
        (Some(a), Some(b)) => text_order(a, b),
        (a, b) => a.is_some().cmp(&b.is_some()),
    }
}

/// Text order: ignoring ASCII case, then as written.
fn text_order(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|b| b.to_ascii_lowercase())
        .cmp(b.bytes().map(|b| b.to_ascii_lowercase()))
        .then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::testing::build;

    #[test]
    fn sorting_matches_a_brute_force_sort() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let rows: Vec<Vec<String>> = (0..6000)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let blank = state.is_multiple_of(11);
                let pick = |text: String| if blank { String::new() } else { text };
                vec![
                    pick(format!("Note {}", state % 100_000)),
                    pick(format!("{}", (state >> 8) as i64 % 2000 - 1000)),
                    pick(format!("{}.5", (state >> 20) as i64 % 300 - 150)),
                    pick(["true", "false"][(state >> 40) as usize % 2].into()),
                    pick(["b", "A", "a", "C"][(state >> 44) as usize % 4].into()),
                    format!("{i}"),
                ]
            })
            .collect();
        let table = build(&["note", "int", "float", "flag", "letter", "id"], &rows);
        assert!(matches!(table.columns[0], Column::Plain { .. }));
        assert!(matches!(table.columns[4], Column::Dict { .. }));
        let brute = |a: Cell<'_>, b: Cell<'_>| match (a, b) {
            (Cell::Null, Cell::Null) => Ordering::Equal,
            (Cell::Null, _) => Ordering::Less,
            (_, Cell::Null) => Ordering::Greater,
            (Cell::Text(a), Cell::Text(b)) => {
                a.to_lowercase().cmp(&b.to_lowercase()).then(a.cmp(b))
            }
            (Cell::Int(a), Cell::Int(b)) => a.cmp(&b),
            (Cell::Float(a), Cell::Float(b)) => a.partial_cmp(&b).unwrap(),
            (Cell::Bool(a), Cell::Bool(b)) => a.cmp(&b),
            other => panic!("{other:?}"),
        };
        for keys in [
            vec![(0, false)],
            vec![(1, true)],
            vec![(2, false), (0, true)],
            vec![(4, false), (3, true), (1, false)],
            vec![(4, true)],
        ] {
            let keys: Vec<SortKey> = keys
                .into_iter()
                .map(|(column, descending)| SortKey { column, descending })
                .collect();
            let mut expected: Vec<usize> = (0..table.rows()).collect();
            expected.sort_by(|&a, &b| {
                keys.iter().fold(Ordering::Equal, |so_far, key| {
                    so_far.then_with(|| {
                        let ordering = brute(table.cell(a, key.column), table.cell(b, key.column));
                        if key.descending {
                            ordering.reverse()
                        } else {
                            ordering
                        }
                    })
                })
            });
            let mut sorted: Vec<usize> = (0..table.rows()).collect();
            table.sort_rows(&mut sorted, &keys);
            assert_eq!(sorted, expected, "{keys:?}");
        }
    }
}
