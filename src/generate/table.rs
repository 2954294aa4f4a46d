//! A generated table's settings: `columnsDefs` from the types its cells read as, a dropdown for
//! a text column with few distinct values (options from the data, defaulting to the first, so
//! the first load is small), and `start_<col>`/`end_<col>` date params for a date column.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::{id_of, title};
use crate::data::Data;
use crate::files::{DataFile, Files};
use crate::note::is_iso_date;
use crate::table::Cell;

/// A text column with at most this many distinct values (and some repeated) is a dropdown.
const DROPDOWN_MAX: usize = 20;
/// Rows looked at to infer a column's type and distinct values.
const SAMPLE_ROWS: usize = 10_000;

/// Which params a generated table offers.
#[derive(Clone, Copy)]
pub(super) enum Filters<'a> {
    /// Date ranges, and dropdowns whose options are the column's values in this file.
    All(&'a str),
    /// Date ranges only: the widget reads any of several files (`prices/{ticker}.csv`), and
    /// options drawn from one would not fit the others.
    Dates,
    /// None: the rows lie inside a JSON document (`data.dataKey`), served as it is.
    None,
}

/// What the sampled cells of a column look like.
#[derive(Default)]
pub(super) struct Profile {
    numbers: usize,
    booleans: usize,
    dates: usize,
    texts: usize,
    /// Distinct text values, up to one more than [`DROPDOWN_MAX`].
    distinct: HashSet<String>,
}

impl Profile {
    fn add(&mut self, cell: Cell<'_>) {
        match cell {
            Cell::Null => {}
            Cell::Bool(_) => self.booleans += 1,
            Cell::Int(_) | Cell::Float(_) => self.numbers += 1,
            Cell::Text(text) => {
                if is_iso_date(text) {
                    self.dates += 1;
                } else {
                    self.texts += 1;
                }
                if self.distinct.len() <= DROPDOWN_MAX {
                    self.distinct.insert(text.to_string());
                }
            }
        }
    }

    fn cell_data_type(&self) -> &'static str {
        match (self.numbers, self.booleans, self.dates, self.texts) {
            (_, 0, 0, 0) if self.numbers > 0 => "number",
            (0, _, 0, 0) if self.booleans > 0 => "boolean",
            (0, 0, _, 0) if self.dates > 0 => "date",
            _ => "text",
        }
    }

    /// A text column with few distinct values, some of them repeated.
    fn is_dropdown(&self) -> bool {
        let texts = self.texts + self.dates;
        self.cell_data_type() == "text"
            && self.distinct.len() <= DROPDOWN_MAX
            && self.distinct.len() < texts
    }

    /// The value the options endpoint lists first (text sorted ignoring case).
    fn first_value(&self) -> Option<&str> {
        let key = |value: &&String| (value.to_lowercase(), value.to_string());
        self.distinct.iter().min_by_key(key).map(String::as_str)
    }
}

/// The columns of a table file (or a workbook's sheet) with a profile of each (none when it is
/// no table).
pub(super) fn file_profiles(
    files: &Files,
    file: &(impl DataFile + ?Sized),
) -> Vec<(String, Profile)> {
    let Ok(data) = files.data(file) else {
        return Vec::new();
    };
    match &*data {
        Data::Table(table) => table
            .names()
            .iter()
            .enumerate()
            .map(|(column, name)| {
                let mut profile = Profile::default();
                for row in 0..table.rows().min(SAMPLE_ROWS) {
                    profile.add(table.cell(row, column));
                }
                (name.clone(), profile)
            })
            .collect(),
        Data::Json {
            rows: Some((columns, items)),
            ..
        } => item_profiles(columns, items),
        Data::Json { rows: None, .. } => Vec::new(),
    }
}

/// Columns `columns` of JSON objects `items`, each with a profile.
pub(super) fn item_profiles(columns: &[String], items: &[Value]) -> Vec<(String, Profile)> {
    columns
        .iter()
        .map(|name| {
            let mut profile = Profile::default();
            for item in items.iter().take(SAMPLE_ROWS) {
                profile.add(match &item[name] {
                    Value::Null => Cell::Null,
                    Value::Bool(b) => Cell::Bool(*b),
                    Value::Number(n) => Cell::Float(n.as_f64().unwrap_or_default()),
                    Value::String(text) => Cell::Text(text),
                    _ => Cell::Text(""),
                });
            }
            (name.clone(), profile)
        })
        .collect()
}

/// Adds to `widget` (id `id`) the `columnsDefs` of `profiles` and the params `filters` allows:
/// date ranges for date columns, a dropdown for a low-cardinality text column (defaulting to
/// its first option).
pub(super) fn table_settings(
    profiles: Vec<(String, Profile)>,
    filters: Filters<'_>,
    id: &str,
    widget: &mut Map<String, Value>,
) {
    let mut columns = Vec::new();
    let mut params = Vec::new();
    let mut options = Map::new();
    for (name, profile) in profiles {
        let kind = profile.cell_data_type();
        columns.push(json!({"field": name, "headerName": title(&name), "cellDataType": kind}));
        match filters {
            Filters::All(_) | Filters::Dates if kind == "date" => {
                for (prefix, label) in [("start", "From"), ("end", "To")] {
                    params.push(
                        json!({"paramName": format!("{prefix}_{name}"), "type": "date",
                                       "label": format!("{label} ({name})"), "value": null}),
                    );
                }
            }
            Filters::All(file) if profile.is_dropdown() => {
                params.push(
                    json!({"paramName": name, "type": "endpoint", "label": title(&name),
                                   "optionsEndpoint": format!("{id}/options/{}", id_of(&name)),
                                   "value": profile.first_value().unwrap_or_default()}),
                );
                options.insert(name.clone(), json!({"file": file, "column": name}));
            }
            _ => {}
        }
    }
    if !params.is_empty() {
        let declared = widget.entry("params").or_insert_with(|| json!([]));
        if let Some(declared) = declared.as_array_mut() {
            declared.extend(params);
        }
    }
    let data = widget.entry("data").or_insert_with(|| json!({}));
    data["table"] = json!({"columnsDefs": columns});
    if !options.is_empty() {
        widget["backend"]["options"] = Value::Object(options);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_type_columns_and_find_dropdowns() {
        let profile = |cells: &[Cell]| {
            let mut p = Profile::default();
            cells.iter().for_each(|c| p.add(*c));
            p
        };
        let numbers = profile(&[Cell::Int(1), Cell::Null, Cell::Float(2.5)]);
        assert_eq!(numbers.cell_data_type(), "number");
        let dates = profile(&[Cell::Text("2024-01-02"), Cell::Text("2024-01-03")]);
        assert_eq!(dates.cell_data_type(), "date");
        assert!(!dates.is_dropdown());
        let sectors = profile(&[Cell::Text("tech"), Cell::Text("Energy"), Cell::Text("tech")]);
        assert!(sectors.is_dropdown());
        assert_eq!(sectors.first_value(), Some("Energy"), "as the options sort");
        let unique = profile(&[Cell::Text("a"), Cell::Text("b")]);
        assert!(!unique.is_dropdown(), "no value repeats: not a category");
        let mixed = profile(&[Cell::Text("x"), Cell::Bool(true)]);
        assert_eq!(mixed.cell_data_type(), "text");
        assert_eq!(profile(&[Cell::Bool(false)]).cell_data_type(), "boolean");
    }
}
