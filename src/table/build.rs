//! Type inference: [`ColumnBuilder`] takes a column's cells as text, one run at a time, and
//! keeps them in the narrowest storage that holds them all, widening it (integer → decimal →
//! text, boolean → text) when a cell does not fit. Readers (`csv_read.rs`) feed one builder per
//! column and call [`Table::new`](super::Table::new) with them.
//!
//! Readers of typed files (Parquet) hand over integers, floats and booleans as they are
//! (`extend_integers`, `extend_floats`, `extend_bools`). Invariant: a typed value makes the
//! column exactly what its text makes it (a float's text is its shortest, ryu's): the same
//! kind, storage and cells; a value the column's storage does not hold as it is goes in as
//! that text, so every widening rule is the text path's own.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::number::{POWERS_OF_TEN, number, parse_bool, parse_int, scan_plain};
use super::{Cell, Column, NULL_BOOL, NULL_CODE, NULL_I32};

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
                    let value = match parse_int(cell) {
                        None if !cell.is_empty() => return Stop::Misfit(cell),
                        value => value,
                    };
                    if !push_int32(values, value) {
                        return Stop::Unfit(cell);
                    }
                    *len += 1;
                }
            }
            Column::Int { values, nulls } => {
                for cell in cells {
                    let value = match parse_int(cell) {
                        None if !cell.is_empty() => return Stop::Misfit(cell),
                        value => value,
                    };
                    push_int(values, nulls, value, *len, *capacity);
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

    /// Adds integers (`None`: null) in order, stored as they are: the column comes out as
    /// [`extend`](Self::extend) makes it of their text (the same kind, storage and cells).
    pub fn extend_integers(&mut self, values: impl IntoIterator<Item = Option<i64>>) {
        self.extend_typed(values);
    }

    /// Adds floats (`None`, NaN and infinities: null) in order, stored as they are: the column
    /// comes out as [`extend`](Self::extend) makes it of their shortest text (ryu's, which
    /// writes three as `3.0`), as a scaled decimal when that text is one it would scale.
    pub fn extend_floats(&mut self, values: impl IntoIterator<Item = Option<f64>>) {
        self.extend_typed(values);
    }

    /// Adds booleans (`None`: null) in order, stored as they are: the column comes out as
    /// [`extend`](Self::extend) makes it of `true` and `false`.
    pub fn extend_bools(&mut self, values: impl IntoIterator<Item = Option<bool>>) {
        self.extend_typed(values);
    }

    /// Stores typed values in runs while the column's storage holds them as they are; a value
    /// it does not hold goes through [`push`](Self::push) as its text, which widens the column
    /// as that text would, and the next run starts after it.
    fn extend_typed<V: Typed>(&mut self, values: impl IntoIterator<Item = Option<V>>) {
        let mut values = values.into_iter();
        let mut text = String::new();
        while let Err(misfit) = V::store_run(self, &mut values) {
            text.clear();
            V::write(misfit, &mut text);
            self.push(&text);
        }
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
    pub(super) fn finish(self) -> Column {
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

/// Stores an integer (`None`: null) in 32 bits; `false`, with nothing stored, when it does not
/// fit them (-2^31 marks a null).
#[inline(always)]
fn push_int32(values: &mut Vec<i32>, value: Option<i64>) -> bool {
    let stored = match value.map(i32::try_from) {
        None => NULL_I32,
        Some(Ok(value)) if value != NULL_I32 => value,
        Some(_) => return false,
    };
    values.push(stored);
    true
}

/// Stores an integer (`None`: null) after the `len` cells of a 64-bit column, whose nulls are
/// kept apart once it has one.
#[inline(always)]
fn push_int(
    values: &mut Vec<i64>,
    nulls: &mut Option<Vec<bool>>,
    value: Option<i64>,
    len: usize,
    capacity: usize,
) {
    values.push(value.unwrap_or(0));
    match (value, nulls) {
        (Some(_), None) => {}
        (Some(_), Some(nulls)) => nulls.push(false),
        (None, nulls) => nulls
            .get_or_insert_with(|| filled(Vec::new(), false, len, capacity))
            .push(true),
    }
}

/// A value a typed reader (Parquet) hands over without text, for
/// [`ColumnBuilder::extend_typed`].
trait Typed: Copy {
    /// The value's text as [`ColumnBuilder::extend`] would be given it; none for a null.
    fn write(value: Option<Self>, out: &mut String);

    /// Stores values while the column's storage holds them as they are, as their text would
    /// be stored; the first one it does not hold is given back, not stored.
    fn store_run(
        builder: &mut ColumnBuilder,
        values: &mut impl Iterator<Item = Option<Self>>,
    ) -> Result<(), Option<Self>>;
}

impl Typed for i64 {
    fn write(value: Option<i64>, out: &mut String) {
        if let Some(value) = value {
            out.push_str(itoa::Buffer::new().format(value));
        }
    }

    #[inline(always)]
    fn store_run(
        builder: &mut ColumnBuilder,
        values: &mut impl Iterator<Item = Option<i64>>,
    ) -> Result<(), Option<i64>> {
        let ColumnBuilder {
            column,
            len,
            capacity,
            ..
        } = builder;
        match column {
            Column::Int32(stored) => {
                for value in values {
                    if !push_int32(stored, value) {
                        return Err(value);
                    }
                    *len += 1;
                }
            }
            Column::Int {
                values: stored,
                nulls,
            } => {
                for value in values {
                    push_int(stored, nulls, value, *len, *capacity);
                    *len += 1;
                }
            }
            _ => return values.next().map_or(Ok(()), Err),
        }
        Ok(())
    }
}

impl Typed for f64 {
    fn write(value: Option<f64>, out: &mut String) {
        if let Some(value) = value.filter(|value| value.is_finite()) {
            out.push_str(ryu::Buffer::new().format_finite(value));
        }
    }

    #[inline(always)]
    fn store_run(
        builder: &mut ColumnBuilder,
        values: &mut impl Iterator<Item = Option<f64>>,
    ) -> Result<(), Option<f64>> {
        let ColumnBuilder { column, len, .. } = builder;
        match column {
            Column::Float(stored) => {
                for value in values {
                    stored.push(value.filter(|v| v.is_finite()).unwrap_or(f64::NAN));
                    *len += 1;
                }
            }
            Column::Scaled { mantissas, scale } => {
                for value in values {
                    mantissas.push(match value.filter(|v| v.is_finite()) {
                        None => NULL_I32,
                        Some(finite) => match shortest_mantissa_at(finite, *scale) {
                            Some(mantissa) => mantissa,
                            None => return Err(value),
                        },
                    });
                    *len += 1;
                }
            }
            _ => return values.next().map_or(Ok(()), Err),
        }
        Ok(())
    }
}

impl Typed for bool {
    fn write(value: Option<bool>, out: &mut String) {
        out.push_str(match value {
            Some(true) => "true",
            Some(false) => "false",
            None => "",
        });
    }

    #[inline(always)]
    fn store_run(
        builder: &mut ColumnBuilder,
        values: &mut impl Iterator<Item = Option<bool>>,
    ) -> Result<(), Option<bool>> {
        let ColumnBuilder { column, len, .. } = builder;
        match column {
            Column::Bool(stored) => {
                for value in values {
                    stored.push(value.map_or(NULL_BOOL, u8::from));
                    *len += 1;
                }
            }
            _ => return values.next().map_or(Ok(()), Err),
        }
        Ok(())
    }
}

/// The mantissa at `scale` decimals of finite `value`'s shortest text (ryu's, as
/// [`Typed::write`] writes it), when [`ColumnBuilder::extend`] would store that text in a
/// scaled column of that scale as it is: a plain decimal (ryu writes an exponent below 10^-5)
/// with at most `scale` decimals (and at least one: ryu writes `3.0`), no negative zero, and a
/// mantissa that fits 32 bits. Checked without text: when `mantissa / 10^scale`, correctly
/// rounded, is `value`, that decimal reads back as `value`, and it is the only one of `scale`
/// decimals that does (a 32-bit mantissa puts the next ones many units of `value`'s last place
/// away), so the shortest text is it, its trailing zeros left out.
#[inline(always)]
fn shortest_mantissa_at(value: f64, scale: u32) -> Option<i32> {
    let power = *POWERS_OF_TEN.get(scale as usize)?;
    let scaled = value * power;
    // The nearest integer, saturated (`round` is a call into libm, this a few instructions;
    // the two differ only where no integer reads back as `value`).
    let mantissa = (scaled + 0.5f64.copysign(scaled)) as i64;
    let magnitude = mantissa.unsigned_abs();
    let exact = magnitude <= i32::MAX as u64 && mantissa as f64 / power == value;
    let plain = match scale {
        0 => false,
        1..=5 => true,
        _ => mantissa == 0 || magnitude as f64 >= POWERS_OF_TEN[scale as usize - 5],
    };
    let negative_zero = mantissa == 0 && value.is_sign_negative();
    (exact && plain && !negative_zero).then_some(mantissa as i32)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::testing::{build, json, numbers_below};
    use crate::table::{Cell, Table};

    /// A value for the typed-append property: a boundary of the text path or a random one;
    /// mostly a decimal of the column's `shape` (so that columns get scaled): at most
    /// `shape % 13` decimals and `1 + shape / 13 % 10` digits.
    fn some_float(next: &mut dyn FnMut(usize) -> usize, shape: usize) -> Option<f64> {
        const SPECIAL: [f64; 24] = [
            0.0,
            -0.0,
            3.0,
            1500.0,
            -0.25,
            326.92,
            0.1,
            1e-5,
            1.2e-5,
            9.99e-6,
            0.000_123,
            1e-7,
            2_147_483_647.0,
            214_748_364.7,
            21_474_836.48,
            -2_147_483_647.0,
            2_147_483_648.0,
            1e15,
            1e16,
            1e300,
            0.123_456_7,
            f64::NAN,
            f64::INFINITY,
            5e-324,
        ];
        let sign = if next(2) == 0 { 1.0 } else { -1.0 };
        match next(16) {
            0 => None,
            1 => Some(SPECIAL[next(SPECIAL.len())]),
            2 => Some(f64::from_bits(next(usize::MAX) as u64)),
            3 => Some(f64::from(0.1f32 * next(1000) as f32)),
            _ => {
                let digits = 1 + next(1 + shape / 13 % 10) as u32;
                let mantissa = next(10usize.pow(digits));
                Some(sign * mantissa as f64 / POWERS_OF_TEN[next(1 + shape % 13)])
            }
        }
    }

    fn some_integer(next: &mut dyn FnMut(usize) -> usize, _: usize) -> Option<i64> {
        const SPECIAL: [i64; 8] = [
            0,
            -1,
            i32::MAX as i64,
            i32::MIN as i64,
            i32::MIN as i64 + 1,
            i32::MAX as i64 + 1,
            i64::MAX,
            i64::MIN,
        ];
        match next(5) {
            0 => None,
            1 => Some(SPECIAL[next(SPECIAL.len())]),
            2 => Some(next(usize::MAX) as i64),
            _ => Some(next(2000) as i64 - 1000),
        }
    }

    fn some_bool(next: &mut dyn FnMut(usize) -> usize, _: usize) -> Option<bool> {
        [None, Some(true), Some(false)][next(3)]
    }

    /// Everything a builder holds that reaches its column: storage, cells and spellings.
    fn state(builder: &ColumnBuilder) -> String {
        let ColumnBuilder {
            column,
            len,
            null_spellings,
            ..
        } = builder;
        format!("{column:?} {len} {null_spellings:?}")
    }

    /// For random values added in runs, now and then with a text cell between runs: typed
    /// appends and the text of the same values give the same column, cell for cell, of the
    /// same kind and storage (scale included).
    fn typed_matches_text<V: Typed + std::fmt::Debug>(
        seed: u64,
        value: fn(&mut dyn FnMut(usize) -> usize, usize) -> Option<V>,
        extend: impl Fn(&mut ColumnBuilder, Vec<Option<V>>),
    ) {
        let cells = [
            "",
            "x",
            "7",
            "2.5",
            "true",
            "NaN",
            "1e3",
            "-0.0",
            "3000000000",
        ];
        let mut next = numbers_below(seed);
        for _ in 0..5000 {
            let mut typed = ColumnBuilder::with_capacity(next(20));
            let mut text = ColumnBuilder::with_capacity(typed.capacity);
            let shape = next(130);
            let mut added = Vec::new();
            for _ in 0..1 + next(4) {
                if next(8) == 0 {
                    let cell = cells[next(cells.len())];
                    typed.push(cell);
                    text.push(cell);
                    added.push(format!("{cell:?}"));
                }
                let values: Vec<Option<V>> =
                    (0..next(10)).map(|_| value(&mut next, shape)).collect();
                let texts: Vec<String> = values
                    .iter()
                    .map(|value| {
                        let mut out = String::new();
                        V::write(*value, &mut out);
                        out
                    })
                    .collect();
                added.push(format!("{values:?}"));
                extend(&mut typed, values);
                text.extend(texts.iter().map(String::as_str));
            }
            assert_eq!(state(&typed), state(&text), "{added:?}");
        }
    }

    #[test]
    fn typed_appends_make_the_column_the_values_text_makes() {
        typed_matches_text(0x9e37_79b9_7f4a_7c15, some_float, |column, values| {
            column.extend_floats(values)
        });
        typed_matches_text(0x2545_f491_4f6c_dd1d, some_integer, |column, values| {
            column.extend_integers(values)
        });
        typed_matches_text(0x1234_5678_9abc_def1, some_bool, |column, values| {
            column.extend_bools(values)
        });
    }

    #[test]
    fn typed_floats_are_scaled_as_their_shortest_text() {
        let storage = |values: &[f64]| {
            let mut column = ColumnBuilder::default();
            column.extend_floats(values.iter().copied().map(Some));
            match column.column {
                Column::Scaled { scale, .. } => format!("scaled {scale}"),
                Column::Float(_) => "f64".to_string(),
                _ => format!("{:?}", column.kind()),
            }
        };
        assert_eq!(storage(&[326.92, 326.9, 327.0]), "scaled 2");
        assert_eq!(storage(&[3.0, 4.0]), "scaled 1", "ryu writes 3.0");
        assert_eq!(storage(&[0.000_01]), "scaled 5");
        assert_eq!(storage(&[0.000_012, 0.000_001]), "f64", "ryu writes 1e-6");
        assert_eq!(storage(&[1.5, -0.0]), "f64", "negative zero keeps its sign");
        assert_eq!(storage(&[21_474_836.47, 0.001]), "f64");
    }

    #[test]
    fn columns_are_typed_as_a_whole() {
        assert_eq!(
            Kind::of("99999999999999999999"),
            Kind::Float,
            "too long for an i64"
        );
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
    fn a_text_builder_keeps_numbers_as_written() {
        let mut column = ColumnBuilder::text(3);
        column.extend(["1", "007", "", "true"]);
        let table = Table::new(vec!["t".into()], vec![column]);
        let cells: Vec<Cell<'_>> = (0..4).map(|row| table.cell(row, 0)).collect();
        let (t, n) = (Cell::Text, Cell::Null);
        assert_eq!(cells, [t("1"), t("007"), n, t("true")]);
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
}
