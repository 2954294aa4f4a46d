//! Typed, column-oriented tables, row selection, and their JSON encoding.
//!
//! Typing is per column, as pandas does it: a column is integer when every non-empty cell is an
//! integer, decimal when every non-empty cell is a number, boolean when every non-empty cell is
//! `true`/`false`, and text otherwise (so a code column holding `007` stays text throughout).
//! Empty cells are null. In number columns the spellings of NaN and infinity are null too, so
//! non-finite values never reach JSON.
//!
//! Storage is compact so big files fit in memory: numbers in plain vectors, in 32 bits when
//! they fit (decimals then as an integer and a scale), text with few distinct values as
//! dictionary codes, other text back to back in one string. A dictionary column gets an index
//! (rows per value) the first time a filter on it needs one. Rows are sorted by index
//! ([`Table::sort_rows`]), never moved. Invariants: every column holds exactly `rows` values;
//! column names are unique. Columns are built by [`ColumnBuilder`], which `csv_read.rs` feeds.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::io::Write;
use std::sync::OnceLock;

use crate::cache::ALLOCATION;
use crate::filter::Condition;

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
        let rows = columns.first().map_or(0, |c| c.len);
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

    /// The rows that pass every condition, in order. A condition on a dictionary column is
    /// decided once per distinct value; the most selective one narrows the scan through the
    /// column's index.
    pub fn select(&self, conditions: &[Condition]) -> Vec<usize> {
        let tests: Vec<Test<'_>> = conditions
            .iter()
            .map(|condition| match &self.columns[condition.column] {
                Column::Dict { codes, values, .. } => Test::Codes {
                    codes,
                    accepted: values
                        .iter()
                        .map(|v| condition.accepts(Cell::Text(v)))
                        .collect(),
                    null: condition.accepts(Cell::Null),
                },
                column => Test::Cells { column, condition },
            })
            .collect();
        let passes = |row: usize| tests.iter().all(|test| test.passes(row));
        match self.narrowest_candidates(conditions, &tests) {
            Some(candidates) => candidates.into_iter().filter(|&row| passes(row)).collect(),
            None => (0..self.rows).filter(|&row| passes(row)).collect(),
        }
    }

    /// Rows that can possibly pass, from the index of the dictionary condition that accepts the
    /// fewest rows, when that is a small part of the table.
    fn narrowest_candidates(
        &self,
        conditions: &[Condition],
        tests: &[Test<'_>],
    ) -> Option<Vec<usize>> {
        u32::try_from(self.rows).ok()?;
        let (column, accepted) = conditions
            .iter()
            .zip(tests)
            .filter_map(|(condition, test)| match test {
                // The index holds no null rows, so it can only narrow a test nulls fail.
                Test::Codes {
                    accepted,
                    null: false,
                    ..
                } => Some((&self.columns[condition.column], accepted)),
                _ => None,
            })
            .filter(|(_, accepted)| accepted.iter().filter(|a| **a).count() * 8 < accepted.len())
            .min_by_key(|(_, accepted)| accepted.iter().filter(|a| **a).count())?;
        let Column::Dict {
            codes,
            values,
            index,
        } = column
        else {
            return None;
        };
        let index = index.get_or_init(|| Postings::new(codes, values.len()));
        let mut rows: Vec<usize> = accepted
            .iter()
            .enumerate()
            .filter(|(_, accepted)| **accepted)
            .flat_map(|(code, _)| index.rows(code).iter().map(|row| *row as usize))
            .collect();
        rows.sort_unstable();
        Some(rows)
    }

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

    /// Writes the chosen rows as a JSON array of objects whose keys follow the header order.
    pub fn write_json(&self, rows: impl Iterator<Item = usize>, out: &mut Vec<u8>) {
        let keys: Vec<Vec<u8>> = self
            .names
            .iter()
            .map(|name| {
                let mut key = serde_json::to_vec(name).unwrap_or_default();
                key.push(b':');
                key
            })
            .collect();
        out.push(b'[');
        for (position, row) in rows.enumerate() {
            if position > 0 {
                out.push(b',');
            }
            out.push(b'{');
            for (column, key) in keys.iter().enumerate() {
                if column > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(key);
                write_cell(self.cell(row, column), out);
            }
            out.push(b'}');
        }
        out.push(b']');
    }
}

/// The rows of each code of a dictionary column (of fewer than 2^32 rows), back to back in one
/// vector: those of code `c` are `rows[starts[c]..starts[c + 1]]`, in order. Built by a counting
/// sort: a pass to count each code's rows, a pass to place them, no vector growing.
#[derive(Debug)]
struct Postings {
    starts: Vec<usize>,
    rows: Vec<u32>,
}

impl Postings {
    fn new(codes: &[u32], values: usize) -> Postings {
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

    fn rows(&self, code: usize) -> &[u32] {
        &self.rows[self.starts[code]..self.starts[code + 1]]
    }
}

/// The bytes a vector's allocation takes (none before it allocates).
fn vector_bytes<T>(vector: &Vec<T>) -> usize {
    match vector.capacity() * size_of::<T>() {
        0 => 0,
        bytes => bytes + ALLOCATION,
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

enum Test<'a> {
    /// A dictionary column: whether each code passes, decided once per distinct value.
    Codes {
        codes: &'a [u32],
        accepted: Vec<bool>,
        /// Whether a null passes.
        null: bool,
    },
    Cells {
        column: &'a Column,
        condition: &'a Condition,
    },
}

impl Test<'_> {
    fn passes(&self, row: usize) -> bool {
        match self {
            Test::Codes {
                codes,
                accepted,
                null,
            } => match codes[row] {
                NULL_CODE => *null,
                code => accepted[code as usize],
            },
            Test::Cells { column, condition } => condition.accepts(column.cell(row)),
        }
    }
}

fn write_cell(cell: Cell<'_>, out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail, and every value here is finite.
    let _ = match cell {
        Cell::Null => out.write_all(b"null"),
        Cell::Bool(value) => out.write_all(if value { b"true" } else { b"false" }),
        Cell::Int(value) => serde_json::to_writer(&mut *out, &value).map_err(Into::into),
        Cell::Float(value) => serde_json::to_writer(&mut *out, &value).map_err(Into::into),
        Cell::Text(value) => serde_json::to_writer(&mut *out, value).map_err(Into::into),
    };
}

/// A dictionary column turns into plain text once it has more than this many distinct values
/// and they are more than half its cells: then codes save nothing.
const DICTIONARY_LIMIT: usize = 4096;

/// Builds one column cell by cell, widening its type as cells demand (integer → decimal →
/// text, boolean → text). Builders for consecutive parts of a file are joined with
/// [`ColumnBuilder::append`].
#[derive(Debug)]
pub struct ColumnBuilder {
    column: Column,
    lookup: HashMap<Box<str>, u32, foldhash::fast::RandomState>,
    /// Cells stored as a null number that were spelled out (`NaN`, `N/A`), by row, so that
    /// they read back as written if the column turns out to be text.
    null_spellings: Vec<(usize, Box<str>)>,
    len: usize,
    /// The number of cells expected: storage is allocated for that many at once.
    capacity: usize,
    /// Storage left by the builder's last use, emptied, taken when it makes its column's.
    room: Room,
}

/// The emptied 32-bit storage of a builder whose cells went into another column (see
/// [`ColumnBuilder::append`]): most columns of a big file are integers, scaled decimals or
/// dictionary codes, so a builder given part after part takes fresh memory once.
#[derive(Debug, Default)]
struct Room {
    integers: Vec<i32>,
    codes: Vec<u32>,
}

impl Default for ColumnBuilder {
    fn default() -> Self {
        ColumnBuilder::with_capacity(0)
    }
}

impl ColumnBuilder {
    /// A builder that allocates room for `capacity` cells when it first stores a typed one, so
    /// that a known number of rows never reallocates (nor copies) while it grows.
    pub fn with_capacity(capacity: usize) -> ColumnBuilder {
        ColumnBuilder {
            column: Column::Empty,
            lookup: HashMap::default(),
            null_spellings: Vec::new(),
            len: 0,
            capacity,
            room: Room::default(),
        }
    }

    /// A builder whose cells are text however they read (`007` stays `007`), for the text
    /// columns of formats that type their cells themselves (workbooks, Parquet).
    pub fn text(capacity: usize) -> ColumnBuilder {
        let mut builder = ColumnBuilder::with_capacity(capacity);
        builder.widen(Kind::Dict);
        builder
    }

    /// Adds one cell, already trimmed.
    pub fn push(&mut self, cell: &str) {
        self.extend([cell]);
    }

    /// Adds cells, already trimmed, in order. The column's kind is decided once per run of
    /// cells that fit it, not once per cell: a loop specialised to the kind stores cells until
    /// one does not fit, the column widens for that cell, and a new run starts with it.
    pub fn extend<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) {
        let mut cells = cells.into_iter();
        let mut misfit = None;
        loop {
            let mut run = misfit.take().into_iter().chain(&mut cells);
            match self.store_run(&mut run) {
                Stop::End => return,
                Stop::Misfit(cell) => {
                    self.widen(Kind::of(cell).join(self.kind()));
                    misfit = Some(cell);
                }
                Stop::TooManyValues => self.widen(Kind::Plain),
                Stop::Unfit(cell) => {
                    self.make_room_for(cell);
                    misfit = Some(cell);
                }
            }
        }
    }

    /// Stores cells while they fit the column's kind.
    fn store_run<'a>(&mut self, cells: &mut impl Iterator<Item = &'a str>) -> Stop<'a> {
        let ColumnBuilder {
            column,
            lookup,
            null_spellings,
            len,
            capacity,
            room: _,
        } = self;
        match column {
            Column::Empty => {
                for cell in cells {
                    if !cell.is_empty() {
                        return Stop::Misfit(cell);
                    }
                    *len += 1;
                }
            }
            Column::Int32(values) => {
                for cell in cells {
                    values.push(match parse_int(cell) {
                        Some(value) => match i32::try_from(value) {
                            Ok(value) if value != NULL_I32 => value,
                            _ => return Stop::Unfit(cell),
                        },
                        None if cell.is_empty() => NULL_I32,
                        None => return Stop::Misfit(cell),
                    });
                    *len += 1;
                }
            }
            Column::Int { values, nulls } => {
                for cell in cells {
                    if let Some(value) = parse_int(cell) {
                        values.push(value);
                        if let Some(nulls) = nulls {
                            nulls.push(false);
                        }
                    } else if cell.is_empty() {
                        values.push(0);
                        nulls
                            .get_or_insert_with(|| filled(Vec::new(), false, *len, *capacity))
                            .push(true);
                    } else {
                        return Stop::Misfit(cell);
                    }
                    *len += 1;
                }
            }
            Column::Float(values) => {
                for cell in cells {
                    let Some(value) = number(cell) else {
                        return Stop::Misfit(cell);
                    };
                    if value.is_nan() && !cell.is_empty() {
                        null_spellings.push((*len, cell.into()));
                    }
                    values.push(value);
                    *len += 1;
                }
            }
            Column::Scaled { mantissas, scale } => {
                for cell in cells {
                    let mantissa = match scan_plain(cell) {
                        Some(plain) => match plain.mantissa_at(*scale) {
                            Some(mantissa) => mantissa,
                            None => return Stop::Unfit(cell),
                        },
                        None if cell.is_empty() => NULL_I32,
                        None => match number(cell) {
                            Some(value) if value.is_nan() => {
                                null_spellings.push((*len, cell.into()));
                                NULL_I32
                            }
                            Some(_) => return Stop::Unfit(cell),
                            None => return Stop::Misfit(cell),
                        },
                    };
                    mantissas.push(mantissa);
                    *len += 1;
                }
            }
            Column::Bool(values) => {
                for cell in cells {
                    values.push(match cell {
                        "" => NULL_BOOL,
                        _ => match parse_bool(cell) {
                            Some(value) => u8::from(value),
                            None => return Stop::Misfit(cell),
                        },
                    });
                    *len += 1;
                }
            }
            Column::Dict { codes, values, .. } => {
                // Values often repeat in runs (a date on every row of a day), so the last value
                // is compared before the dictionary is searched.
                let mut last: Option<(&str, u32)> = None;
                for cell in cells {
                    *len += 1;
                    match last {
                        Some((value, code)) if value == cell => codes.push(code),
                        _ if cell.is_empty() => codes.push(NULL_CODE),
                        _ => {
                            let (code, new) = dictionary_code(lookup, values, cell);
                            codes.push(code);
                            last = Some((cell, code));
                            // Only a new value can make the dictionary too big for its cells.
                            if new && values.len() > DICTIONARY_LIMIT && values.len() * 2 > *len {
                                return Stop::TooManyValues;
                            }
                        }
                    }
                }
            }
            Column::Plain { text, ends } => {
                for cell in cells {
                    text.push_str(cell);
                    ends.push(text.len());
                    *len += 1;
                }
            }
        }
        Stop::End
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends the cells of `next` (the following rows of the same column), leaving `next`
    /// as empty as a new builder, with the room of its storage kept for the next part it is
    /// given: a file's blocks are parsed into reused builders, so that only the joined
    /// columns take fresh memory. (`next` starts again with no kind, as a new builder does:
    /// what it makes of the next part cannot depend on what it held.)
    pub fn append(&mut self, next: &mut ColumnBuilder) {
        // Widening to a dictionary can end in plain text (too many distinct values), so the
        // kinds are joined until they agree: plain text is the widest and stays put.
        while self.kind() != next.kind() {
            let kind = self.kind().join(next.kind());
            self.widen(kind);
            next.widen(kind);
        }
        self.share_storage(next);
        let offset = self.len;
        self.null_spellings.extend(
            next.null_spellings
                .drain(..)
                .map(|(row, spelling)| (row + offset, spelling)),
        );
        match (&mut self.column, &mut next.column) {
            (Column::Empty, Column::Empty) => {}
            (
                Column::Int { values, nulls },
                Column::Int {
                    values: more,
                    nulls: more_nulls,
                },
            ) => {
                if nulls.is_some() || more_nulls.is_some() {
                    let nulls = nulls.get_or_insert_with(|| vec![false; self.len]);
                    match more_nulls.take() {
                        Some(mut more_nulls) => nulls.append(&mut more_nulls),
                        None => nulls.resize(nulls.len() + more.len(), false),
                    }
                }
                values.append(more);
            }
            (Column::Int32(values), Column::Int32(more)) => values.append(more),
            (Column::Float(values), Column::Float(more)) => values.append(more),
            (
                Column::Scaled { mantissas, .. },
                Column::Scaled {
                    mantissas: more, ..
                },
            ) => mantissas.append(more),
            (Column::Bool(values), Column::Bool(more)) => values.append(more),
            (
                Column::Plain { text, ends },
                Column::Plain {
                    text: more,
                    ends: more_ends,
                },
            ) => {
                let offset = text.len();
                text.push_str(more);
                ends.extend(more_ends.iter().map(|end| end + offset));
            }
            (Column::Dict { .. }, Column::Dict { codes, values, .. }) => {
                let remap: Vec<u32> = values.iter().map(|value| self.code_for(value)).collect();
                if let Column::Dict { codes: mine, .. } = &mut self.column {
                    mine.extend(codes.iter().map(|&code| match code {
                        NULL_CODE => NULL_CODE,
                        code => remap[code as usize],
                    }));
                }
            }
            _ => unreachable!("both builders were widened to the same kind"),
        }
        self.len += next.len;
        next.clear();
    }

    /// Empties the builder, keeping the room of its 32-bit storage.
    fn clear(&mut self) {
        match std::mem::replace(&mut self.column, Column::Empty) {
            Column::Int32(integers)
            | Column::Scaled {
                mantissas: integers,
                ..
            } => self.room.integers = integers,
            Column::Dict { codes, .. } => self.room.codes = codes,
            _ => {}
        }
        self.len = 0;
        self.lookup.clear();
        self.null_spellings.clear();
    }

    /// Gives two columns of one kind one storage: 64-bit integers when either needs them;
    /// decimals scaled at the larger scale when every mantissa fits it, `f64`s otherwise.
    fn share_storage(&mut self, other: &mut ColumnBuilder) {
        match (&self.column, &other.column) {
            (Column::Int32(_), Column::Int { .. }) => self.widen_ints(),
            (Column::Int { .. }, Column::Int32(_)) => other.widen_ints(),
            (
                Column::Scaled { scale, .. },
                Column::Scaled {
                    scale: other_scale, ..
                },
            ) => {
                let scale = (*scale).max(*other_scale);
                if !(self.rescale(scale) && other.rescale(scale)) {
                    self.unscale();
                    other.unscale();
                }
            }
            (Column::Scaled { .. }, Column::Float(_)) => self.unscale(),
            (Column::Float(_), Column::Scaled { .. }) => other.unscale(),
            _ => {}
        }
    }

    /// Makes a compact column able to hold `cell`, a number it could not: 64-bit integers for
    /// an integer; for a decimal a larger scale when the cell has more decimals and every
    /// stored mantissa still fits, `f64`s otherwise.
    fn make_room_for(&mut self, cell: &str) {
        match self.column {
            Column::Int32(_) => self.widen_ints(),
            Column::Scaled { scale, .. } => {
                let wanted = scan_plain(cell).map_or(scale, |plain| plain.fraction_digits as u32);
                if wanted <= scale || !self.rescale(wanted) {
                    self.unscale();
                }
            }
            _ => unreachable!("only compact columns refuse a cell of their kind"),
        }
    }

    /// Turns a 32-bit integer column into 64-bit integers, with the same room.
    fn widen_ints(&mut self) {
        if let Column::Int32(values) = &self.column {
            let room = values.capacity().max(self.len);
            let nulls = values.contains(&NULL_I32).then(|| {
                let mut nulls = Vec::with_capacity(room);
                nulls.extend(values.iter().map(|&value| value == NULL_I32));
                nulls
            });
            let mut wide = Vec::with_capacity(room);
            wide.extend(values.iter().map(|&value| match value {
                NULL_I32 => 0,
                value => i64::from(value),
            }));
            self.column = Column::Int {
                values: wide,
                nulls,
            };
        }
    }

    /// Raises a scaled column's scale to `to` when every mantissa still fits 32 bits; `false`,
    /// with nothing changed, otherwise.
    fn rescale(&mut self, to: u32) -> bool {
        let Column::Scaled { mantissas, scale } = &mut self.column else {
            return false;
        };
        let Some(factor) = to.checked_sub(*scale).and_then(|up| 10i64.checked_pow(up)) else {
            return false;
        };
        // Never the null, -2^31: that is no multiple of ten.
        let scaled = |mantissa: i32| {
            i64::from(mantissa)
                .checked_mul(factor)
                .and_then(|value| i32::try_from(value).ok())
        };
        if factor > 1 {
            let fits = |&mantissa: &i32| mantissa == NULL_I32 || scaled(mantissa).is_some();
            if !mantissas.iter().all(fits) {
                return false;
            }
            for mantissa in mantissas.iter_mut().filter(|m| **m != NULL_I32) {
                *mantissa = scaled(*mantissa).unwrap_or(NULL_I32);
            }
        }
        *scale = to;
        true
    }

    /// Turns a scaled column into `f64`s, with the same room.
    fn unscale(&mut self) {
        if let Column::Scaled { mantissas, .. } = &self.column {
            let mut values = Vec::with_capacity(mantissas.capacity().max(self.len));
            values.extend((0..self.len).map(|row| match self.column.cell(row) {
                Cell::Float(value) => value,
                _ => f64::NAN,
            }));
            self.column = Column::Float(values);
        }
    }

    fn code_for(&mut self, value: &str) -> u32 {
        let Column::Dict { values, .. } = &mut self.column else {
            unreachable!("only dictionary columns have codes")
        };
        dictionary_code(&mut self.lookup, values, value).0
    }

    fn kind(&self) -> Kind {
        match self.column {
            Column::Empty => Kind::Empty,
            Column::Int32(_) | Column::Int { .. } => Kind::Int,
            Column::Float(_) | Column::Scaled { .. } => Kind::Float,
            Column::Bool(_) => Kind::Bool,
            Column::Dict { .. } => Kind::Dict,
            Column::Plain { .. } => Kind::Plain,
        }
    }

    /// Converts the stored cells to `kind`, which is never narrower than the current kind.
    fn widen(&mut self, kind: Kind) {
        if kind == self.kind() {
            return;
        }
        let mut cells: Vec<Option<String>> = (0..self.len)
            .map(|row| match self.column.cell(row) {
                Cell::Null => None,
                Cell::Int(value) => Some(value.to_string()),
                Cell::Float(value) => Some(value.to_string()),
                Cell::Bool(value) => Some(value.to_string()),
                Cell::Text(text) => Some(text.to_string()),
            })
            .collect();
        if matches!(kind, Kind::Dict | Kind::Plain) {
            for (row, spelling) in self.null_spellings.drain(..) {
                cells[row] = Some(spelling.into());
            }
        }
        let (len, capacity) = (self.len, self.capacity);
        let decimals = match &mut self.column {
            Column::Int32(values) if kind == Kind::Float => Some(Column::Scaled {
                mantissas: std::mem::take(values),
                scale: 0,
            }),
            // A 64-bit column holds an integer that fits no mantissa.
            Column::Int { values, nulls } if kind == Kind::Float => {
                let mut numbers = Vec::with_capacity(capacity.max(len));
                numbers.extend(values.iter().enumerate().map(|(row, v)| match nulls {
                    Some(nulls) if nulls[row] => f64::NAN,
                    _ => *v as f64,
                }));
                Some(Column::Float(numbers))
            }
            _ => None,
        };
        self.lookup.clear();
        let integers = &mut self.room.integers;
        self.column = match kind {
            Kind::Empty => Column::Empty,
            Kind::Int => Column::Int32(filled(std::mem::take(integers), NULL_I32, len, capacity)),
            Kind::Float => decimals.unwrap_or_else(|| Column::Scaled {
                mantissas: filled(std::mem::take(integers), NULL_I32, len, capacity),
                scale: 0,
            }),
            Kind::Bool => Column::Bool(filled(Vec::new(), NULL_BOOL, len, capacity)),
            Kind::Dict => Column::Dict {
                codes: filled(
                    std::mem::take(&mut self.room.codes),
                    0,
                    0,
                    capacity.max(len),
                ),
                values: Vec::new(),
                index: OnceLock::new(),
            },
            Kind::Plain => Column::Plain {
                text: String::new(),
                ends: Vec::with_capacity(capacity.max(len)),
            },
        };
        if matches!(kind, Kind::Dict | Kind::Plain) {
            self.len = 0;
            self.extend(cells.iter().map(|cell| cell.as_deref().unwrap_or("")));
            debug_assert_eq!(self.len, len);
        }
    }

    /// The finished column, its vectors trimmed to their length (growth doubled them).
    fn finish(self) -> Column {
        let mut column = self.column;
        match &mut column {
            Column::Empty => {}
            Column::Int { values, nulls } => {
                values.shrink_to_fit();
                nulls.iter_mut().for_each(Vec::shrink_to_fit);
            }
            Column::Int32(values) => values.shrink_to_fit(),
            Column::Float(values) => values.shrink_to_fit(),
            Column::Scaled { mantissas, .. } => mantissas.shrink_to_fit(),
            Column::Bool(values) => values.shrink_to_fit(),
            Column::Dict { codes, values, .. } => {
                codes.shrink_to_fit();
                values.shrink_to_fit();
            }
            Column::Plain { text, ends } => {
                text.shrink_to_fit();
                ends.shrink_to_fit();
            }
        }
        column
    }
}

/// The code of `value` in a dictionary column, added as a new code when it is not there yet;
/// with whether it was new. (No key is allocated for a value already there.)
fn dictionary_code(
    lookup: &mut HashMap<Box<str>, u32, foldhash::fast::RandomState>,
    values: &mut Vec<Box<str>>,
    value: &str,
) -> (u32, bool) {
    if let Some(code) = lookup.get(value) {
        return (*code, false);
    }
    let code = values.len() as u32;
    values.push(value.into());
    lookup.insert(value.into(), code);
    (code, true)
}

/// `storage`, emptied, holding `len` copies of `value`, with room for `capacity` values in all.
fn filled<T: Clone>(mut storage: Vec<T>, value: T, len: usize, capacity: usize) -> Vec<T> {
    storage.clear();
    storage.reserve(capacity.max(len));
    storage.resize(len, value);
    storage
}

/// Why [`ColumnBuilder::store_run`] stopped.
enum Stop<'a> {
    /// The cells ran out.
    End,
    /// This cell, not stored, does not fit the column's kind.
    Misfit(&'a str),
    /// The last cell stored made the dictionary too big: the column should be plain text.
    TooManyValues,
    /// This cell, not stored, is of the column's kind but does not fit its compact storage.
    Unfit(&'a str),
}

/// The storage kinds, ordered so that [`Kind::join`] of two kinds can hold both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Empty,
    Int,
    Float,
    Bool,
    Dict,
    Plain,
}

impl Kind {
    /// The narrowest kind that can hold this one cell.
    fn of(cell: &str) -> Kind {
        if cell.is_empty() {
            Kind::Empty
        } else if parse_int(cell).is_some() {
            Kind::Int
        } else if number(cell).is_some() {
            Kind::Float
        } else if parse_bool(cell).is_some() {
            Kind::Bool
        } else {
            Kind::Dict
        }
    }

    /// The narrowest kind that holds cells of both kinds.
    fn join(self, other: Kind) -> Kind {
        match (self, other) {
            (Kind::Empty, kind) | (kind, Kind::Empty) => kind,
            (a, b) if a == b => a,
            (Kind::Int, Kind::Float) | (Kind::Float, Kind::Int) => Kind::Float,
            (Kind::Plain, _) | (_, Kind::Plain) => Kind::Plain,
            _ => Kind::Dict,
        }
    }
}

/// A cell of a decimal column: a number, or NaN (null) for empty and non-finite spellings.
#[inline(always)]
fn number(cell: &str) -> Option<f64> {
    if cell.is_empty() {
        return Some(f64::NAN);
    }
    parse_decimal(cell).or_else(|| is_non_finite(cell).then_some(f64::NAN))
}

/// A number written as `-?digits(.digits)?` without a leading zero, read in one pass.
struct Plain {
    negative: bool,
    /// All digits, the fraction's included, as one integer (at most 19 digits).
    mantissa: u64,
    fraction_digits: usize,
    has_point: bool,
}

impl Plain {
    /// This number's mantissa at `scale` decimals, when it has no more decimals than that, the
    /// mantissa fits 32 bits, and it is not a negative zero (which reads back as `-0.0`).
    #[inline(always)]
    fn mantissa_at(&self, scale: u32) -> Option<i32> {
        let magnitude = match scale.checked_sub(self.fraction_digits as u32)? {
            0 => self.mantissa,
            up => self.mantissa.checked_mul(10u64.checked_pow(up)?)?,
        };
        match (self.negative, i32::try_from(magnitude).ok()?) {
            (true, 0) => None,
            (true, magnitude) => Some(-magnitude),
            (false, magnitude) => Some(magnitude),
        }
    }
}

#[inline(always)]
fn scan_plain(cell: &str) -> Option<Plain> {
    let bytes = cell.as_bytes();
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    let mut mantissa = 0;
    let int_digits = add_digits(digits, &mut mantissa);
    let fraction_digits = match &digits[int_digits..] {
        [] => None,
        [b'.', fraction @ ..] => match add_digits(fraction, &mut mantissa) {
            count if count > 0 && count == fraction.len() => Some(count),
            _ => return None,
        },
        _ => return None,
    };
    let leading_zero = int_digits > 1 && digits[0] == b'0';
    if int_digits == 0 || leading_zero || int_digits + fraction_digits.unwrap_or(0) > 19 {
        return None;
    }
    Some(Plain {
        negative,
        mantissa,
        fraction_digits: fraction_digits.unwrap_or(0),
        has_point: fraction_digits.is_some(),
    })
}

/// Adds the leading decimal digits of `bytes` to `mantissa` (times ten for each) and returns
/// how many there were. Past 19 digits in all the mantissa wraps: callers reject that many.
#[inline(always)]
fn add_digits(bytes: &[u8], mantissa: &mut u64) -> usize {
    for (count, byte) in bytes.iter().enumerate() {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return count;
        }
        *mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(digit));
    }
    bytes.len()
}

/// An integer without a sign other than `-`, without leading zeros, that fits an `i64`.
#[inline(always)]
fn parse_int(cell: &str) -> Option<i64> {
    let plain = scan_plain(cell).filter(|p| !p.has_point)?;
    if plain.negative {
        0i64.checked_sub_unsigned(plain.mantissa)
    } else {
        i64::try_from(plain.mantissa).ok()
    }
}

/// A decimal in JSON's number grammar (`-1.5`, `2e-3`), finite. Inlined into the loops over
/// cells: the common plain decimal is read there; exponents and long mantissas are not.
#[inline(always)]
fn parse_decimal(cell: &str) -> Option<f64> {
    if let Some(plain) = scan_plain(cell)
        && plain.mantissa < 1 << 53
    {
        // Exact: the mantissa fits an f64 and 10^k is exact, so one correctly rounded division
        // gives the correctly rounded value (Clinger's fast path).
        let value = plain.mantissa as f64 / POWERS_OF_TEN[plain.fraction_digits];
        return Some(if plain.negative { -value } else { value });
    }
    parse_other_decimal(cell)
}

/// [`parse_decimal`] of what is not a plain decimal with at most 15 digits.
#[inline(never)]
fn parse_other_decimal(cell: &str) -> Option<f64> {
    let bytes = cell.strip_prefix('-').unwrap_or(cell).as_bytes();
    let int_len = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if int_len == 0 || (int_len > 1 && bytes[0] == b'0') {
        return None;
    }
    let mut rest = &bytes[int_len..];
    if let Some(after_point) = rest.strip_prefix(b".") {
        let len = after_point
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if len == 0 {
            return None;
        }
        rest = &after_point[len..];
    }
    if let Some(exponent) = rest.strip_prefix(b"e").or_else(|| rest.strip_prefix(b"E")) {
        let exponent = exponent
            .strip_prefix(b"+")
            .or_else(|| exponent.strip_prefix(b"-"))
            .unwrap_or(exponent);
        if exponent.is_empty() || !exponent.iter().all(|b| b.is_ascii_digit()) {
            return None;
        }
        rest = &[];
    }
    if !rest.is_empty() {
        return None;
    }
    cell.parse::<f64>().ok().filter(|value| value.is_finite())
}

const POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

fn parse_bool(cell: &str) -> Option<bool> {
    match cell {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Spellings that mean "not a number" in a number column (pandas and spreadsheets write these),
/// plus decimals too large for an `f64`.
#[inline(never)]
fn is_non_finite(cell: &str) -> bool {
    const SPELLINGS: [&str; 12] = [
        "nan",
        "-nan",
        "inf",
        "-inf",
        "+inf",
        "infinity",
        "-infinity",
        "+infinity",
        "null",
        "n/a",
        "#n/a",
        "na",
    ];
    SPELLINGS.iter().any(|s| s.eq_ignore_ascii_case(cell))
        || (cell.parse::<f64>().is_ok_and(|v| v.is_infinite()) && parse_int(cell).is_none())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{self, Rule};

    fn build<R: AsRef<[C]>, C: AsRef<str>>(names: &[&str], rows: &[R]) -> Table {
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
    fn numbers_below(mut state: u64) -> impl FnMut(usize) -> usize {
        move |bound| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as usize % bound
        }
    }

    fn json(table: &Table) -> serde_json::Value {
        let mut out = Vec::new();
        table.write_json(0..table.rows(), &mut out);
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn columns_are_typed_as_a_whole() {
        let table = build(
            &["code", "qty", "price", "flag", "note", "empty", "mixed"],
            &[
                &["007", "1", "1.5", "true", "x", "", "1"],
                &["010", "-2", "2", "False", "", "", "a"],
            ],
        );
        assert_eq!(
            json(&table),
            serde_json::json!([
                {"code": "007", "qty": 1, "price": 1.5, "flag": true, "note": "x", "empty": null, "mixed": "1"},
                {"code": "010", "qty": -2, "price": 2.0, "flag": false, "note": null, "empty": null, "mixed": "a"}
            ])
        );
    }

    #[test]
    fn number_spellings() {
        assert_eq!(parse_int("0"), Some(0));
        assert_eq!(parse_int("-12"), Some(-12));
        assert_eq!(parse_int("007"), None);
        assert_eq!(parse_int("+1"), None);
        assert_eq!(parse_int("99999999999999999999"), None);
        assert_eq!(parse_int("9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_int("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int("9223372036854775808"), None);
        assert_eq!(parse_int("-0"), Some(0));
        assert_eq!(parse_int("1.0"), None);
        assert_eq!(parse_decimal("1.25"), Some(1.25));
        assert_eq!(parse_decimal("-0.5e2"), Some(-50.0));
        assert_eq!(parse_decimal("1E+3"), Some(1000.0));
        assert_eq!(parse_decimal("-142.52"), Some(-142.52));
        for text in [
            ".5", "5.", "00.5", "1e", "1.2.3", "1,5", "0x10", "1_000", "NaN", "1e999",
        ] {
            assert_eq!(parse_decimal(text), None, "{text}");
        }
        assert_eq!(Kind::of("99999999999999999999"), Kind::Float);
    }

    #[test]
    fn the_fast_decimal_path_rounds_like_the_standard_library() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let digits = state % 1_000_000_000_000_000;
            let scale = (state >> 60) as usize % 16;
            let text = format!("{digits}");
            let text = if scale > 0 && scale < text.len() {
                format!(
                    "{}.{}",
                    &text[..text.len() - scale],
                    &text[text.len() - scale..]
                )
            } else {
                text
            };
            assert_eq!(parse_decimal(&text), text.parse::<f64>().ok(), "{text}");
        }
    }

    #[test]
    fn widening_keeps_every_cell() {
        let mut column = ColumnBuilder::default();
        for cell in ["", "1", "", "2.5", "NaN", "x", "1"] {
            column.push(cell);
        }
        let table = Table::new(vec!["c".into()], vec![column]);
        let cells: Vec<Cell<'_>> = (0..7).map(|row| table.cell(row, 0)).collect();
        assert_eq!(
            cells,
            [
                Cell::Null,
                Cell::Text("1"),
                Cell::Null,
                Cell::Text("2.5"),
                Cell::Text("NaN"),
                Cell::Text("x"),
                Cell::Text("1")
            ],
            "text re-renders the numbers it held and keeps the spelling of a NaN"
        );
    }

    #[test]
    fn appended_parts_join_their_types_and_dictionaries() {
        let part = |cells: &[&str]| {
            let mut column = ColumnBuilder::default();
            cells.iter().for_each(|cell| column.push(cell));
            column
        };
        let mut ints = part(&["1", ""]);
        ints.append(&mut part(&["2.5"]));
        let mut words = part(&["a", "b", ""]);
        words.append(&mut part(&["b", "c", "a"]));
        let mut empty = part(&["", ""]);
        empty.append(&mut part(&["", "7"]));
        let table = Table::new(
            vec!["n".into(), "w".into(), "e".into()],
            vec![
                {
                    let mut n = ints;
                    n.append(&mut part(&["", "", ""]));
                    n
                },
                words,
                {
                    let mut e = empty;
                    e.append(&mut part(&["1", "2"]));
                    e
                },
            ],
        );
        assert_eq!(table.rows(), 6);
        assert_eq!(table.cell(0, 0), Cell::Float(1.0));
        assert_eq!(table.cell(1, 0), Cell::Null);
        assert_eq!(table.cell(2, 0), Cell::Float(2.5));
        let words: Vec<Cell<'_>> = (0..6).map(|row| table.cell(row, 1)).collect();
        assert_eq!(
            words,
            [
                Cell::Text("a"),
                Cell::Text("b"),
                Cell::Null,
                Cell::Text("b"),
                Cell::Text("c"),
                Cell::Text("a")
            ]
        );
        assert_eq!(table.cell(3, 2), Cell::Int(7));
        assert_eq!(table.cell(0, 2), Cell::Null);
        assert_eq!(table.cell(5, 2), Cell::Int(2));
    }

    #[test]
    fn compact_numbers_read_back_as_their_text_parses() {
        let decimals = [
            "",
            "NaN",
            "0",
            "7",
            "-3",
            "0.5",
            "-0.25",
            "326.92",
            "326.9",
            "1.000001",
            "-0.0",
            "2147483647",
            "214748364.8",
            "21474836.48",
            "3000000000",
            "1e3",
            "12345.6789",
            "0.000000001",
        ];
        let integers = [
            "",
            "0",
            "7",
            "-3",
            "2147483647",
            "-2147483647",
            "-2147483648",
            "2147483648",
            "-9223372036854775808",
            "9223372036854775807",
        ];
        let mut next = numbers_below(0x9e37_79b9_7f4a_7c15u64);
        for pieces in [&decimals[..], &integers[..]] {
            for _ in 0..500 {
                let cells: Vec<&str> = (0..next(12)).map(|_| pieces[next(pieces.len())]).collect();
                // The cells arrive in parts, as blocks of a file do, joined in order, each
                // part in the builder the last one left.
                let mut column = ColumnBuilder::default();
                let mut builder = ColumnBuilder::with_capacity(cells.len());
                let mut rest = &cells[..];
                while !rest.is_empty() {
                    let (part, after) = rest.split_at(1 + next(rest.len()));
                    builder.extend(part.iter().copied());
                    column.append(&mut builder);
                    assert!(builder.is_empty());
                    rest = after;
                }
                let table = Table::new(vec!["x".into()], vec![column]);
                for (row, cell) in cells.iter().enumerate() {
                    // Debug output tells -0.0 from 0.0, which `==` does not.
                    let read = table.cell(row, 0);
                    let expected = match read {
                        Cell::Int(_) => cell.parse().map_or(Cell::Null, Cell::Int),
                        _ => cell
                            .parse()
                            .map_or(Cell::Null, |value: f64| match value.is_nan() {
                                true => Cell::Null,
                                false => Cell::Float(value),
                            }),
                    };
                    assert_eq!(
                        format!("{read:?}"),
                        format!("{expected:?}"),
                        "{cell:?} in {cells:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn what_fits_is_stored_in_32_bits_and_the_rest_in_64() {
        let storage = |cells: &[&str]| {
            let mut column = ColumnBuilder::default();
            column.extend(cells.iter().copied());
            match column.column {
                Column::Scaled { scale, .. } => format!("scaled {scale}"),
                Column::Float(_) => "f64".to_string(),
                _ => format!("{:?}", column.kind()),
            }
        };
        assert_eq!(storage(&["326.92", "326.9", "", "NaN", "327"]), "scaled 2");
        assert_eq!(storage(&["1", "2", "0.125"]), "scaled 3");
        assert_eq!(
            storage(&["21474836.47", "0.001"]),
            "f64",
            "no room for a third decimal"
        );
        assert_eq!(storage(&["1.5", "1e3"]), "f64");
        assert_eq!(
            storage(&["1.5", "-0.0"]),
            "f64",
            "negative zero keeps its sign"
        );
        assert_eq!(storage(&["4000000000", "0.5"]), "f64");
        assert_eq!(storage(&["5", "", "2.5"]), "scaled 1");
        let ints = |column: &ColumnBuilder| match column.column {
            Column::Int32(_) => "32 bits",
            Column::Int { .. } => "64 bits",
            _ => "not integers",
        };
        let mut column = ColumnBuilder::default();
        column.extend(["1", "", "2147483647", "-2147483647"]);
        assert_eq!(ints(&column), "32 bits");
        column.push("-2147483648");
        assert_eq!(ints(&column), "64 bits", "-2^31 marks a null in 32 bits");
    }

    #[test]
    fn a_reused_builder_reads_a_part_as_a_new_one_does() {
        // Cells that read differently once their column has turned to text or decimal.
        let pieces = [
            "a",
            "1.50",
            "True",
            "-0",
            "1e3",
            "0.10",
            "",
            "NaN",
            "7",
            "2.5",
            "3000000000",
        ];
        let mut next = numbers_below(0x2545_f491_4f6c_dd1du64);
        for _ in 0..500 {
            let cells: Vec<&str> = (0..next(12)).map(|_| pieces[next(pieces.len())]).collect();
            let (mut fresh, mut reused) = (ColumnBuilder::default(), ColumnBuilder::default());
            let mut builder = ColumnBuilder::default();
            let mut rest = &cells[..];
            while !rest.is_empty() {
                let (part, after) = rest.split_at(1 + next(rest.len()));
                let mut new = ColumnBuilder::default();
                new.extend(part.iter().copied());
                fresh.append(&mut new);
                builder.extend(part.iter().copied());
                reused.append(&mut builder);
                rest = after;
            }
            assert_eq!(fresh.kind(), reused.kind(), "{cells:?}");
            let render = |column: ColumnBuilder| {
                let table = Table::new(vec!["x".into()], vec![column]);
                let cells: Vec<String> = (0..table.rows())
                    .map(|row| format!("{:?}", table.cell(row, 0)))
                    .collect();
                cells
            };
            assert_eq!(render(fresh), render(reused), "{cells:?}");
        }
    }

    #[test]
    fn parts_joined_as_text_agree_when_one_has_too_many_values_for_a_dictionary() {
        let numbers: Vec<String> = (0..5_000).map(|i| format!("{i}.5")).collect();
        let numbers: Vec<&str> = numbers.iter().map(String::as_str).collect();
        for (first, second) in [(&numbers[..], &["x"][..]), (&["x"][..], &numbers[..])] {
            let mut column = ColumnBuilder::default();
            column.extend(first.iter().copied());
            let mut part = ColumnBuilder::default();
            part.extend(second.iter().copied());
            column.append(&mut part);
            assert_eq!(column.kind(), Kind::Plain);
            let table = Table::new(vec!["c".into()], vec![column]);
            let cells: Vec<Cell<'_>> = (0..table.rows()).map(|row| table.cell(row, 0)).collect();
            let expected: Vec<Cell<'_>> =
                first.iter().chain(second).map(|c| Cell::Text(c)).collect();
            assert_eq!(cells, expected);
        }
    }

    #[test]
    fn a_reused_part_keeps_no_cell_of_its_last_use() {
        let notes: Vec<String> = (0..5_000).map(|i| format!("note {i}")).collect();
        let parts: [Vec<&str>; 5] = [
            vec!["a", "b", ""],
            vec!["c", "a"],
            notes.iter().map(String::as_str).collect(),
            vec!["", "z"],
            vec!["1"],
        ];
        let mut column = ColumnBuilder::default();
        let mut part = ColumnBuilder::default();
        for cells in &parts {
            part.extend(cells.iter().copied());
            column.append(&mut part);
        }
        let table = Table::new(vec!["w".into()], vec![column]);
        let expected: Vec<&str> = parts.concat();
        assert_eq!(table.rows(), expected.len());
        for (row, cell) in expected.iter().enumerate() {
            let read = match table.cell(row, 0) {
                Cell::Text(text) => text,
                Cell::Null => "",
                other => panic!("{other:?}"),
            };
            assert_eq!(read, *cell, "row {row}");
        }
        // 64-bit integers, whose nulls are kept apart.
        let mut ints = ColumnBuilder::default();
        let mut part = ColumnBuilder::default();
        for cells in [&["3000000000", ""][..], &["5"], &["", "2"], &["4"]] {
            part.extend(cells.iter().copied());
            ints.append(&mut part);
        }
        let table = Table::new(vec!["n".into()], vec![ints]);
        let cells: Vec<Cell<'_>> = (0..table.rows()).map(|row| table.cell(row, 0)).collect();
        let (n, i) = (Cell::Null, Cell::Int);
        assert_eq!(cells, [i(3_000_000_000), n, i(5), n, i(2), i(4)]);
    }

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
    fn runs_of_a_value_share_its_code() {
        let cells = ["x", "x", "y", "y", "x", "", "", "x", "z", "y", "y", ""];
        let mut column = ColumnBuilder::default();
        column.extend(cells[..5].iter().copied());
        column.extend(cells[5..].iter().copied());
        column.push("z");
        let Column::Dict { codes, values, .. } = &column.column else {
            panic!("{:?}", column.kind());
        };
        assert_eq!(values, &["x", "y", "z"].map(Box::from));
        let n = NULL_CODE;
        assert_eq!(codes, &[0, 0, 1, 1, 0, n, n, 0, 2, 1, 1, n, 2]);
    }

    #[test]
    fn a_builder_with_capacity_fills_its_storage_without_growing() {
        let filled_in_place = |cells: &[&str]| {
            let mut column = ColumnBuilder::with_capacity(cells.len());
            column.push(cells[0]);
            let capacity = |column: &ColumnBuilder| match &column.column {
                Column::Int { values, nulls } => values
                    .capacity()
                    .min(nulls.as_ref().map_or(usize::MAX, Vec::capacity)),
                Column::Int32(values) => values.capacity(),
                Column::Float(values) => values.capacity(),
                Column::Scaled { mantissas, .. } => mantissas.capacity(),
                Column::Bool(values) => values.capacity(),
                Column::Dict { codes, .. } => codes.capacity(),
                Column::Plain { ends, .. } => ends.capacity(),
                Column::Empty => 0,
            };
            let before = capacity(&column);
            column.extend(cells[1..].iter().copied());
            (before, capacity(&column))
        };
        let numbers: Vec<String> = (0..1000).map(|i| format!("{i}.5")).collect();
        let numbers: Vec<&str> = numbers.iter().map(String::as_str).collect();
        assert_eq!(filled_in_place(&numbers), (1000, 1000));
        let ints = ["7", ""].repeat(500);
        assert_eq!(filled_in_place(&ints), (1000, 1000));
        assert_eq!(filled_in_place(&["a"; 1000]), (1000, 1000));
        assert_eq!(filled_in_place(&["true"; 1000]), (1000, 1000));
        // Widening keeps the room: integers then a decimal.
        let mut widened = vec!["1"; 999];
        widened.push("1.5");
        assert_eq!(filled_in_place(&widened), (1000, 1000));
    }

    #[test]
    fn many_distinct_values_fall_back_to_plain_text() {
        let mut column = ColumnBuilder::default();
        let cells: Vec<String> = (0..10_000).map(|i| format!("note {i}")).collect();
        cells.iter().for_each(|cell| column.push(cell));
        assert_eq!(column.kind(), Kind::Plain);
        let table = Table::new(vec!["n".into()], vec![column]);
        assert_eq!(table.cell(9_999, 0), Cell::Text("note 9999"));
    }

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
