//! The rows a live grid sends: a file's [`Snapshot`] (each key's latest row as JSON text), the
//! [`Change`] between two snapshots, and [`keyed_rows`], the one function the socket's snapshots
//! and the widget's GET both key rows by, so the two always agree. Pure functions over parsed
//! [`Data`]; no thread, socket or lock here.

use super::*;

/// The columns of a table or of JSON rows (none for a JSON document).
pub(super) fn columns(data: &Data) -> &[String] {
    match data {
        Data::Table(table) => table.names(),
        Data::Json {
            rows: Some((columns, _)),
            ..
        } => columns,
        Data::Json { rows: None, .. } => &[],
    }
}

/// Whether the row at `index` meets every condition.
pub(super) fn row_kept(data: &Data, index: usize, conditions: &[Condition]) -> bool {
    match data {
        Data::Table(table) => table::passes(table, index, conditions),
        Data::Json {
            rows: Some((columns, items)),
            ..
        } => table::passes(&JsonRows { columns, items }, index, conditions),
        Data::Json { rows: None, .. } => false,
    }
}

impl Snapshot {
    /// The rows of a table or JSON array keyed by the columns `key` ([`keyed_rows`]: rows
    /// without a key are left out; a repeated key keeps its last row).
    pub(super) fn build(data: &Arc<Data>, key: &[String]) -> Result<Snapshot, String> {
        let keyed = keyed_rows(data, key)?;
        let mut rows = HashMap::with_capacity(keyed.len());
        for (key, index) in keyed {
            rows.insert(key, (index, row_text(data, index)?.into()));
        }
        Ok(Snapshot {
            data: Arc::downgrade(data),
            rows,
        })
    }

    pub(super) fn is_of(&self, data: &Arc<Data>) -> bool {
        std::ptr::eq(self.data.as_ptr(), Arc::as_ptr(data))
    }
}

impl Change {
    /// The rows of `after` that are new or differ from `before`, in file order.
    pub(super) fn between(before: &Snapshot, after: &Snapshot) -> Change {
        let mut changed: Vec<(usize, Arc<str>)> = after
            .rows
            .iter()
            .filter(|(key, (_, text))| before.rows.get(*key).is_none_or(|(_, old)| old != text))
            .map(|(_, (index, text))| (*index, Arc::clone(text)))
            .collect();
        changed.sort_unstable_by_key(|(index, _)| *index);
        let bytes = changed.iter().map(|(_, text)| text.len()).sum();
        let (indices, texts): (Vec<usize>, Vec<Arc<str>>) = changed.into_iter().unzip();
        Change {
            indices,
            texts: texts.into(),
            bytes,
        }
    }
}

/// Each key of a table or JSON array with the index of its last row, in the order the keys
/// first appear: what a live_grid holds, one row per key. The key is the tuple of the cells of
/// the columns `key` (the JSON texts of the cells, comma-joined); a row whose key cells are all
/// empty has no key and is left out. The GET answer (`widgets/live_grid.rs`) and the socket's
/// snapshots both read the rows through this.
pub fn keyed_rows(data: &Data, key: &[String]) -> Result<Vec<(String, usize)>, String> {
    match data {
        Data::Table(table) => Ok(keys_of(table, &key_columns(table.names(), key)?)),
        Data::Json {
            rows: Some((columns, items)),
            ..
        } => Ok(keys_of(
            &JsonRows { columns, items },
            &key_columns(columns, key)?,
        )),
        Data::Json { rows: None, .. } => {
            Err("the data is a JSON document, not rows (a CSV, NDJSON or JSON array)".into())
        }
    }
}

/// The indices of the key's columns among `columns`.
fn key_columns(columns: &[String], key: &[String]) -> Result<Vec<usize>, String> {
    key.iter()
        .map(|name| {
            filter::find_column(columns, name).ok_or_else(|| {
                format!(
                    "data.wsRowIdColumn '{name}' is not a column of the data (columns: {})",
                    columns.join(", ")
                )
            })
        })
        .collect()
}

/// [`keyed_rows`] over the key's columns of any rows.
fn keys_of(rows: &impl Rows, key_columns: &[usize]) -> Vec<(String, usize)> {
    let cells: Vec<_> = key_columns.iter().map(|&c| rows.column(c)).collect();
    // Each key's place in `keyed`, and `keyed`: the keys and their latest rows.
    let mut places: HashMap<String, usize> = HashMap::new();
    let mut keyed: Vec<(String, usize)> = Vec::new();
    let mut text = String::new();
    for index in 0..rows.rows() {
        text.clear();
        let mut blank = true;
        for (at, cell) in cells.iter().enumerate() {
            let value = cell_value(cell(index));
            blank &= value.is_null();
            if at > 0 {
                text.push(',');
            }
            text.push_str(&value.to_string());
        }
        if blank {
            continue;
        }
        match places.get(&text) {
            Some(&place) => keyed[place].1 = index,
            None => {
                places.insert(text.clone(), keyed.len());
                keyed.push((text.clone(), index));
            }
        }
    }
    keyed
}

/// The JSON text of one row of a table or JSON array, as a GET answers it.
fn row_text(data: &Data, index: usize) -> Result<String, String> {
    match data {
        Data::Table(table) => {
            let mut text = Vec::new();
            table.write_json(std::iter::once(index), &mut text);
            // `[{...}]`: the row without the brackets.
            String::from_utf8(text[1..text.len() - 1].to_vec())
                .map_err(|_| "a row that is not UTF-8".to_string())
        }
        Data::Json {
            rows: Some((_, items)),
            ..
        } => Ok(items[index].to_string()),
        Data::Json { rows: None, .. } => Err("the data is a JSON document, not rows".into()),
    }
}
