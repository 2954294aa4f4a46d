//! AG Grid's row grouping over a table: `rowGroupCols` (the grouped columns, outermost first),
//! `groupKeys` (the keys of the groups opened so far, one per outer level) and `valueCols`
//! (the columns aggregated, each with an `aggFunc`).
//!
//! With `n` group keys of `m` grouped columns, the answer is level `n`: when `n < m`, one row
//! per distinct value of the `n`-th grouped column among the rows of the opened groups (after
//! the filters), holding that value and each value column's aggregate, ordered by the
//! `sortModel` entries on the grouped column or on an aggregated one (else by the value); when
//! `n == m`, the rows of the innermost group, which the caller sorts and pages as flat rows.
//! `rowCount` is the number of groups, or rows, at that level.
//!
//! Aggregates: `sum` and `avg` of the number cells (blank cells and text are skipped; `null`
//! when there is none), `min` and `max` of the non-blank cells (numbers numerically, text
//! ignoring case), `count` of the group's rows, `first` and `last` the cells of its first and
//! last row in file order. A group key matches a cell of its column exactly (a number key
//! numerically; a blank cell is the key `null` or `""`).
//!
//! Cost: one pass over the rows of the opened groups (narrowed through a dictionary column's
//! index when the column has one), a hash lookup a row, and at most [`MAX_GROUPS`] groups kept:
//! a level with more is refused (400), so a request never holds more than that many groups.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasherDefault, Hasher};

use serde_json::{Map, Value};

use crate::data::cell_value;
use crate::filter::{self, Condition, Op};
use crate::table::{Cell, Table};

use super::models::AUTO_COLUMN;

/// Most groups one level may have: more is a 400 asking to filter first.
pub const MAX_GROUPS: usize = 100_000;

/// A request's grouping, over the table's columns.
#[derive(Debug, PartialEq)]
pub struct Grouping {
    /// The grouped columns, outermost first.
    columns: Vec<usize>,
    /// The keys of the opened groups, one for each of the outermost columns.
    keys: Vec<Value>,
    values: Vec<Aggregate>,
}

/// One value column: its column and how it is aggregated.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Aggregate {
    column: usize,
    func: AggFunc,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum AggFunc {
    Sum,
    Avg,
    Min,
    Max,
    Count,
    First,
    Last,
}

const AGG_FUNCS: &str = "sum, avg, min, max, count, first, last";

impl AggFunc {
    fn named(name: &str) -> Option<AggFunc> {
        Some(match name {
            "sum" => AggFunc::Sum,
            "avg" => AggFunc::Avg,
            "min" => AggFunc::Min,
            "max" => AggFunc::Max,
            "count" => AggFunc::Count,
            "first" => AggFunc::First,
            "last" => AggFunc::Last,
            _ => return None,
        })
    }
}

/// A field of the grouping, at the body's top level (AG Grid's request) or inside `grouping`
/// (as openbb-core nests it).
fn field<'b>(body: &'b Map<String, Value>, key: &str) -> Option<&'b Value> {
    let nested = || body.get("grouping").and_then(|grouping| grouping.get(key));
    body.get(key)
        .filter(|value| !value.is_null())
        .or_else(nested)
}

/// The entries of an array field (absent or `null`: none).
fn entries<'b>(body: &'b Map<String, Value>, key: &str) -> Result<&'b [Value], String> {
    match field(body, key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(entries)) => Ok(entries),
        Some(other) => Err(format!("{key}: expected an array, got {other}")),
    }
}

/// The column an entry of `rowGroupCols` or `valueCols` names by `field` (else `id`).
fn entry_column(entry: &Value, at: &str, names: &[String]) -> Result<usize, String> {
    let name = ["field", "id"]
        .iter()
        .find_map(|key| entry.get(*key).and_then(Value::as_str))
        .ok_or_else(|| format!("{at}: expected {{\"id\", \"field\"}} naming a column"))?;
    filter::find_column(names, name).ok_or_else(|| format!("{at}: the data has no column '{name}'"))
}

impl Grouping {
    /// The body's grouping over columns `names`; `None` when it groups by nothing. Refuses
    /// (naming the field) an unknown column or aggFunc, a column listed twice, more group keys
    /// than grouped columns, and pivoting.
    pub fn of(body: &Map<String, Value>, names: &[String]) -> Result<Option<Grouping>, String> {
        let pivoting = field(body, "pivotMode").and_then(Value::as_bool) == Some(true);
        if pivoting && !entries(body, "pivotCols")?.is_empty() {
            return Err("pivotCols: pivoting is not supported; group rows instead".into());
        }
        let mut columns = Vec::new();
        for (position, entry) in entries(body, "rowGroupCols")?.iter().enumerate() {
            let at = format!("rowGroupCols[{position}]");
            let column = entry_column(entry, &at, names)?;
            if columns.contains(&column) {
                return Err(format!("{at}: '{}' is grouped already", names[column]));
            }
            columns.push(column);
        }
        let keys = entries(body, "groupKeys")?.to_vec();
        if keys.len() > columns.len() {
            return Err(format!(
                "groupKeys: {} keys for {} grouped columns",
                keys.len(),
                columns.len()
            ));
        }
        if let Some(key) = keys.iter().find(|key| key.is_array() || key.is_object()) {
            return Err(format!("groupKeys: {key} is not a value"));
        }
        let mut values: Vec<Aggregate> = Vec::new();
        for (position, entry) in entries(body, "valueCols")?.iter().enumerate() {
            let at = format!("valueCols[{position}]");
            let column = entry_column(entry, &at, names)?;
            let name = entry.get("aggFunc").and_then(Value::as_str).unwrap_or("");
            let func = AggFunc::named(name).ok_or_else(|| {
                format!("{at}.aggFunc: unknown aggregation \"{name}\" (one of {AGG_FUNCS})")
            })?;
            if values.iter().any(|value| value.column == column) {
                return Err(format!("{at}: '{}' is aggregated already", names[column]));
            }
            values.push(Aggregate { column, func });
        }
        Ok((!columns.is_empty()).then_some(Grouping {
            columns,
            keys,
            values,
        }))
    }

    /// Whether the request asks for rows (every group is opened), not groups.
    pub fn is_leaf_level(&self) -> bool {
        self.keys.len() == self.columns.len()
    }

    /// What the answer depends on, as text for a cache key.
    pub fn cache_text(&self) -> String {
        let values: Vec<String> = self
            .values
            .iter()
            .map(|value| format!("{}:{:?}", value.column, value.func))
            .collect();
        format!(
            "{:?}|{}|{}",
            self.columns,
            Value::from(self.keys.clone()),
            values.join(",")
        )
    }

    /// Conditions that keep at least the rows of the opened groups (text compares ignoring
    /// case, so [`Grouping::in_opened_groups`] decides exactly), for the selection to narrow
    /// its scan with.
    pub fn narrowing(&self) -> Vec<Condition> {
        let opened = self.columns.iter().zip(&self.keys);
        opened
            .map(|(&column, key)| match key_text(key) {
                None => Condition::new(column, Op::Blank, Vec::new()),
                Some(text) => Condition::new(column, Op::Eq, vec![text]),
            })
            .collect()
    }

    /// Whether `row` lies in every opened group.
    pub fn in_opened_groups(&self, table: &Table, row: usize) -> bool {
        let opened = self.columns.iter().zip(&self.keys);
        opened
            .into_iter()
            .all(|(&column, key)| key_matches(table.cell(row, column), key))
    }

    /// The groups of level `self.keys.len()` among `rows` (which lie in the opened groups), as
    /// JSON objects, one a line, ordered by `sort` (`sortModel` entries: `colId`, `sort`).
    /// Fails past [`MAX_GROUPS`] groups, and on a sort entry that is not valid.
    pub fn group_lines(
        &self,
        table: &Table,
        rows: impl Iterator<Item = usize>,
        sort: &Value,
    ) -> Result<Vec<u8>, String> {
        let column = self.columns[self.keys.len()];
        let order = self.group_order(sort, table.names())?;
        let mut groups = self.collect(table, column, rows)?;
        let mut summaries: Vec<(Value, Vec<Value>)> = groups
            .drain(..)
            .map(|group| (cell_value(group.key), self.aggregates(table, &group)))
            .collect();
        summaries.sort_by(|a, b| {
            let by = |on: &SortOn| match on {
                SortOn::Key => (&a.0, &b.0),
                SortOn::Aggregate(at) => (&a.1[*at], &b.1[*at]),
            };
            let ordering = order
                .iter()
                .fold(Ordering::Equal, |so_far, (on, descending)| {
                    so_far.then_with(|| {
                        let (a, b) = by(on);
                        let ordering = value_order(a, b);
                        if *descending {
                            ordering.reverse()
                        } else {
                            ordering
                        }
                    })
                });
            ordering.then_with(|| value_order(&a.0, &b.0))
        });
        let names = table.names();
        let mut out = Vec::with_capacity(summaries.len() * 64);
        for (position, (key, aggregates)) in summaries.into_iter().enumerate() {
            if position > 0 {
                out.push(b'\n');
            }
            let mut row = Map::new();
            row.insert(names[column].clone(), key);
            for (value, aggregate) in self.values.iter().zip(aggregates) {
                if value.column != column {
                    row.insert(names[value.column].clone(), aggregate);
                }
            }
            // A map of JSON values always serializes.
            out.extend(serde_json::to_vec(&row).unwrap_or_default());
        }
        Ok(out)
    }

    /// The `sortModel` entries that order groups: on the grouped column of this level (or
    /// AG Grid's group column), or on an aggregated column. Others are for leaf rows.
    fn group_order(&self, sort: &Value, names: &[String]) -> Result<Vec<(SortOn, bool)>, String> {
        let column = self.columns[self.keys.len()];
        let mut order = Vec::new();
        for (position, entry) in sort.as_array().into_iter().flatten().enumerate() {
            let at = format!("sortModel[{position}]");
            let colid = entry.get("colId").and_then(Value::as_str).unwrap_or("");
            let descending = entry.get("sort").and_then(Value::as_str) == Some("desc");
            let on = match colid.strip_prefix(AUTO_COLUMN) {
                Some("") => Some(column),
                Some(field) => filter::find_column(names, field.trim_start_matches('-')),
                None => filter::find_column(names, colid),
            };
            let on = on.ok_or_else(|| format!("{at}.colId: the data has no column '{colid}'"))?;
            if on == column {
                order.push((SortOn::Key, descending));
            } else if let Some(at) = self.values.iter().position(|value| value.column == on) {
                order.push((SortOn::Aggregate(at), descending));
            }
        }
        Ok(order)
    }

    /// The groups of `column` among `rows`, in the order they first appear.
    fn collect<'t>(
        &self,
        table: &'t Table,
        column: usize,
        rows: impl Iterator<Item = usize>,
    ) -> Result<Vec<Group<'t>>, String> {
        let mut places: HashMap<GroupKey<'t>, usize, BuildHasherDefault<KeyHasher>> =
            HashMap::default();
        let mut groups: Vec<Group<'t>> = Vec::new();
        // The previous row's group: files sorted by a column hold runs of one key.
        let mut previous: Option<(GroupKey<'t>, usize)> = None;
        for row in rows {
            let cell = table.cell(row, column);
            let key = GroupKey::of(cell);
            if let Some((previous_key, place)) = &previous
                && *previous_key == key
            {
                groups[*place].add(table, row, &self.values);
                continue;
            }
            let place = match places.entry(key) {
                Entry::Occupied(place) => *place.get(),
                Entry::Vacant(place) => {
                    if groups.len() == MAX_GROUPS {
                        return Err(format!(
                            "rowGroupCols: '{}' has more than {MAX_GROUPS} groups here; \
                             filter the rows first",
                            table.names()[column]
                        ));
                    }
                    groups.push(Group::new(cell, row, self.values.len()));
                    *place.insert(groups.len() - 1)
                }
            };
            groups[place].add(table, row, &self.values);
            previous = Some((key, place));
        }
        Ok(groups)
    }

    /// A group's aggregates, one per value column.
    fn aggregates(&self, table: &Table, group: &Group<'_>) -> Vec<Value> {
        let values = self.values.iter().zip(&group.accumulated);
        values
            .map(|(value, accumulated)| match value.func {
                AggFunc::Count => Value::from(group.rows),
                AggFunc::First => cell_value(table.cell(group.first, value.column)),
                AggFunc::Last => cell_value(table.cell(group.last, value.column)),
                AggFunc::Sum => accumulated.sum(),
                AggFunc::Avg => accumulated.average(),
                AggFunc::Min | AggFunc::Max => accumulated.extreme.map_or(Value::Null, cell_value),
            })
            .collect()
    }
}

/// What groups are ordered on: their key or one of their aggregates.
enum SortOn {
    Key,
    Aggregate(usize),
}

/// A cell as a hash key: equal keys are equal cells (a float by its bits, `-0` as `0`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum GroupKey<'t> {
    Null,
    Bool(bool),
    Int(i64),
    Float(u64),
    Text(&'t str),
}

impl<'t> GroupKey<'t> {
    fn of(cell: Cell<'t>) -> GroupKey<'t> {
        match cell {
            Cell::Null => GroupKey::Null,
            Cell::Bool(flag) => GroupKey::Bool(flag),
            Cell::Int(number) => GroupKey::Int(number),
            Cell::Float(number) => GroupKey::Float((number + 0.0).to_bits()),
            Cell::Text(text) => GroupKey::Text(text),
        }
    }
}

/// A fast hash for group keys, a multiply and a rotate a word (FxHash's, with rustc-hash's
/// final rotation): a key is hashed for
/// every row grouped, and SipHash's resistance to chosen keys buys nothing here, where the keys
/// come from the data file, not from the request.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
            self.write_u64(word);
        }
        for &byte in chunks.remainder() {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    /// The high bits, which the multiplications mixed from every bit, moved to the low end,
    /// where the table picks buckets: the low bits alone only see the keys' low bits, which
    /// repeat among decimals (`k / 100` as floats), and keys would share a few buckets.
    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

/// One group as its rows are read.
struct Group<'t> {
    key: Cell<'t>,
    rows: usize,
    first: usize,
    last: usize,
    /// One per value column.
    accumulated: Vec<Accumulated<'t>>,
}

/// What a value column's aggregate needs of the rows read so far.
#[derive(Default)]
struct Accumulated<'t> {
    /// Sum of the integer cells, and of the other number cells.
    integers: i128,
    floats: f64,
    /// Number cells, and of those not integers.
    numbers: usize,
    non_integers: usize,
    /// The least or greatest non-blank cell, for `min` or `max`.
    extreme: Option<Cell<'t>>,
}

impl<'t> Group<'t> {
    fn new(key: Cell<'t>, row: usize, values: usize) -> Group<'t> {
        Group {
            key,
            rows: 0,
            first: row,
            last: row,
            accumulated: (0..values).map(|_| Accumulated::default()).collect(),
        }
    }

    fn add(&mut self, table: &'t Table, row: usize, values: &[Aggregate]) {
        self.rows += 1;
        self.last = row;
        for (value, accumulated) in values.iter().zip(&mut self.accumulated) {
            let cell = table.cell(row, value.column);
            match value.func {
                AggFunc::Sum | AggFunc::Avg => accumulated.add_number(cell),
                AggFunc::Min => accumulated.keep_if(cell, Ordering::Less),
                AggFunc::Max => accumulated.keep_if(cell, Ordering::Greater),
                AggFunc::Count | AggFunc::First | AggFunc::Last => {}
            }
        }
    }
}

impl<'t> Accumulated<'t> {
    fn add_number(&mut self, cell: Cell<'_>) {
        match cell {
            Cell::Int(number) => self.integers += i128::from(number),
            Cell::Float(number) => {
                self.floats += number;
                self.non_integers += 1;
            }
            _ => return,
        }
        self.numbers += 1;
    }

    /// Keeps `cell` when it compares `wanted` to the one kept (or none is kept).
    fn keep_if(&mut self, cell: Cell<'t>, wanted: Ordering) {
        if cell == Cell::Null {
            return;
        }
        let kept = self
            .extreme
            .is_some_and(|kept| cell_order(cell, kept) != wanted);
        if !kept {
            self.extreme = Some(cell);
        }
    }

    /// The sum: an integer while every number was one (and it fits), else a float.
    fn sum(&self) -> Value {
        match (
            self.numbers,
            self.non_integers,
            i64::try_from(self.integers),
        ) {
            (0, _, _) => Value::Null,
            (_, 0, Ok(sum)) => Value::from(sum),
            _ => float(self.integers as f64 + self.floats),
        }
    }

    fn average(&self) -> Value {
        match self.numbers {
            0 => Value::Null,
            numbers => float((self.integers as f64 + self.floats) / numbers as f64),
        }
    }
}

fn float(number: f64) -> Value {
    cell_value(Cell::Float(number))
}

/// The order of two non-blank cells of one column: numbers numerically, text ignoring case,
/// then as written (as [`value_order`] orders them as JSON, without making JSON of each).
fn cell_order(a: Cell<'_>, b: Cell<'_>) -> Ordering {
    let number = |cell| match cell {
        Cell::Int(value) => Some(value as f64),
        Cell::Float(value) => Some(value),
        _ => None,
    };
    match (a, b, number(a), number(b)) {
        (Cell::Text(a), Cell::Text(b), _, _) => text_order(a, b),
        (Cell::Bool(a), Cell::Bool(b), _, _) => a.cmp(&b),
        (_, _, Some(a), Some(b)) => a.total_cmp(&b),
        _ => value_order(&cell_value(a), &cell_value(b)),
    }
}

/// Text order: ignoring ASCII case, then as written.
fn text_order(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|byte| byte.to_ascii_lowercase())
        .cmp(b.bytes().map(|byte| byte.to_ascii_lowercase()))
        .then_with(|| a.cmp(b))
}

/// The order of group keys and aggregates: nulls first, then numbers numerically, booleans,
/// text ignoring case, then as written.
fn value_order(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
            a.total_cmp(&b)
        }
        (Value::String(a), Value::String(b)) => text_order(a, b),
        (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
        (a, b) => rank(a).cmp(&rank(b)),
    }
}

/// The order of JSON types among group keys (a column holds one type, and nulls).
fn rank(value: &Value) -> u8 {
    match value {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) | Value::Object(_) => 4,
    }
}

/// A group key as filter text; `None` for the blank group (`null` or `""`).
fn key_text(key: &Value) -> Option<String> {
    match key {
        Value::Null => None,
        Value::String(text) if text.is_empty() => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

/// Whether a cell is in the group of `key`: text exactly, numbers numerically (the key a
/// number or its text), booleans as `true`/`false`, blank as `null` or `""`.
fn key_matches(cell: Cell<'_>, key: &Value) -> bool {
    let number = || match key {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    match (cell, key_text(key)) {
        (Cell::Null, key) => key.is_none(),
        (_, None) => false,
        (Cell::Text(text), Some(key)) => text == key,
        (Cell::Bool(flag), Some(key)) => key == flag.to_string(),
        (Cell::Int(value), Some(_)) => number() == Some(value as f64),
        (Cell::Float(value), Some(_)) => number() == Some(value),
    }
}
