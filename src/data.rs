//! Data files as widgets serve them: tables and JSON documents, filtered by parameters.
//!
//! A delimited text file, a workbook's sheet or a Parquet file becomes a typed [`Table`]
//! ([`crate::formats`] tells them apart by extension and reads the binary ones). A JSON document is kept as the bytes it was read from (so a
//! document that is not filtered goes out byte for byte, key order and all) and, when it is an
//! array, as parsed rows that filters can select from. NDJSON (`.ndjson`, `.jsonl`: one JSON
//! value a line, blank lines skipped) is a typed table like a CSV when every line is a flat
//! object and each key holds values of one JSON type (numbers, strings or booleans; or null),
//! so that it serves everywhere a table does (ssrm, advanced charts); otherwise it is read as
//! the array of its lines, each served as written. Invariant: a `Data`
//! value is only built from input that parsed completely; a bad file is a
//! [`FileError::Parse`] naming the file and line.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

use serde_json::Value;

use crate::csv_read::read_delimited;
use crate::error::{FileError, Location};
use crate::filter::{self, Condition, Limits, PlanError, Rule};
use crate::formats::{self, Caps, Format, Reading, compressed};
use crate::http::Body;
use crate::table::{self, Cell, ColumnBuilder, Rows, Table};

#[derive(Debug)]
pub enum Data {
    Table(Table),
    Json {
        raw: Arc<[u8]>,
        /// Present when the document is an array; `columns` are the keys of its objects in the
        /// order they first appear.
        rows: Option<(Vec<String>, Vec<Value>)>,
    },
}

impl Data {
    /// Reads a data file from `input` as `reading` asks (delimited text, decompressed or not,
    /// is streamed, never held whole); `shown` names it in errors (`data/prices.csv`) and
    /// tells the format by its extension; `caps` bound what it may expand to.
    pub fn load(
        shown: &str,
        input: &mut (dyn Read + Send),
        reading: &Reading,
        caps: &Caps,
    ) -> Result<Data, FileError> {
        let failed = |err: std::io::Error| parse_error(shown, Location::Whole, err);
        let (format, compression) = formats::of(shown);
        let mut input =
            compressed::decompress(compression, input, caps.decompressed).map_err(failed)?;
        let mut whole = || {
            let mut bytes = Vec::new();
            input.read_to_end(&mut bytes).map(|_| bytes).map_err(failed)
        };
        match format {
            Format::Json => parse_json(shown, &whole()?),
            Format::JsonLines => parse_ndjson(shown, &whole()?),
            Format::Workbook => {
                let bytes = whole()?;
                formats::guarded(|| {
                    formats::excel::read(shown, bytes, reading.sheet.as_ref(), caps)
                })
                .map(Data::Table)
                .map_err(|why| workbook_error(shown, why))
            }
            Format::Parquet => {
                let bytes = whole()?;
                formats::guarded(|| formats::parquet::read(bytes, caps))
                    .map(Data::Table)
                    .map_err(|why| parse_error(shown, Location::Whole, why))
            }
            Format::Delimited(by_name) => {
                parse_csv(shown, input, reading.delimiter.or(by_name), reading.decimal)
            }
        }
    }

    /// Parses a data file's bytes as its name says; `shown` names it in errors.
    pub fn parse(shown: &str, bytes: &[u8]) -> Result<Data, FileError> {
        Data::load(
            shown,
            &mut &bytes[..],
            &Reading::default(),
            &Caps::default(),
        )
    }

    /// The JSON response for these query parameters.
    pub fn render(
        &self,
        params: &[(String, String)],
        rules: &[(String, Option<Rule>)],
        limits: &Limits,
    ) -> Result<Body, PlanError> {
        match self {
            Data::Table(table) => {
                let conditions = filter::plan(params, table.names(), rules, limits)?;
                let selected = table.select(&conditions);
                let mut out = Vec::with_capacity(256);
                table.write_json(selected.into_iter(), &mut out);
                Ok(Body::Owned(out))
            }
            Data::Json { raw, rows: None } => Ok(Body::Shared(Arc::clone(raw))),
            Data::Json {
                raw,
                rows: Some((columns, items)),
            } => {
                let conditions = filter::plan(params, columns, rules, limits)?;
                if conditions.is_empty() {
                    return Ok(Body::Shared(Arc::clone(raw)));
                }
                let selected = select_items(items, columns, &conditions);
                serde_json::to_vec(&selected)
                    .map(Body::Owned)
                    .map_err(|err| PlanError::Widget(err.to_string()))
            }
        }
    }

    /// The values of column `name` in the rows these parameters select, in file order. Fails
    /// when the data is not a table or has no such column.
    pub fn column(
        &self,
        params: &[(String, String)],
        rules: &[(String, Option<Rule>)],
        limits: &Limits,
        name: &str,
    ) -> Result<Vec<Value>, PlanError> {
        let missing = || PlanError::Widget(format!("the data has no column '{name}'"));
        match self {
            Data::Table(table) => {
                let index = filter::find_column(table.names(), name).ok_or_else(missing)?;
                let conditions = filter::plan(params, table.names(), rules, limits)?;
                Ok(table
                    .select(&conditions)
                    .into_iter()
                    .map(|row| cell_value(table.cell(row, index)))
                    .collect())
            }
            Data::Json {
                rows: Some((columns, items)),
                ..
            } => {
                let key = &columns[filter::find_column(columns, name).ok_or_else(missing)?];
                Ok(filter_items(items, columns, params, rules, limits)?
                    .into_iter()
                    .map(|item| item.get(key).cloned().unwrap_or(Value::Null))
                    .collect())
            }
            Data::Json { rows: None, .. } => Err(PlanError::Widget(
                "the data is a JSON document, not a table or an array of rows".to_string(),
            )),
        }
    }
}

/// The items (objects whose keys are `columns`) that these parameters select.
pub fn filter_items<'a>(
    items: &'a [Value],
    columns: &[String],
    params: &[(String, String)],
    rules: &[(String, Option<Rule>)],
    limits: &Limits,
) -> Result<Vec<&'a Value>, PlanError> {
    let conditions = filter::plan(params, columns, rules, limits)?;
    Ok(select_items(items, columns, &conditions))
}

/// A table cell as a JSON value.
pub fn cell_value(cell: Cell<'_>) -> Value {
    match cell {
        Cell::Null => Value::Null,
        Cell::Bool(flag) => Value::Bool(flag),
        Cell::Int(number) => Value::from(number),
        Cell::Float(number) => {
            serde_json::Number::from_f64(number).map_or(Value::Null, Value::Number)
        }
        Cell::Text(text) => Value::from(text),
    }
}

pub fn is_json(shown: &str) -> bool {
    shown.to_ascii_lowercase().ends_with(".json")
}

/// A parse error of the file `shown` at `at`.
fn parse_error(shown: &str, at: Location, message: impl ToString) -> FileError {
    FileError::Parse {
        file: shown.to_string(),
        at,
        message: message.to_string(),
    }
}

/// A workbook's error (`formats::excel` says `sheet 'Name': why` when a sheet is at fault) as
/// a parse error located at that sheet.
fn workbook_error(shown: &str, why: String) -> FileError {
    let in_sheet = why
        .strip_prefix("sheet '")
        .and_then(|rest| rest.split_once("': "));
    match in_sheet {
        Some((sheet, message)) => parse_error(shown, Location::Sheet(sheet.to_string()), message),
        None => parse_error(shown, Location::Whole, why),
    }
}

fn parse_csv(
    shown: &str,
    input: impl Read + Send,
    delimiter: Option<u8>,
    decimal: Option<u8>,
) -> Result<Data, FileError> {
    read_delimited(input, delimiter, decimal)
        .map(Data::Table)
        .map_err(|err| err.in_file(shown))
}

/// Where a JSON parser's error lies, its line counted in the file.
fn json_location(line: usize, err: &serde_json::Error) -> Location {
    Location::LineColumn {
        line: line as u64,
        column: err.column() as u64,
    }
}

fn parse_json(shown: &str, bytes: &[u8]) -> Result<Data, FileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let document: Value = serde_json::from_slice(bytes)
        .map_err(|err| parse_error(shown, json_location(err.line(), &err), &err))?;
    Ok(json_data(Arc::from(bytes), document))
}

fn parse_ndjson(shown: &str, bytes: &[u8]) -> Result<Data, FileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut items = Vec::new();
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.trim_ascii().is_empty() {
            continue;
        }
        let item: Value = serde_json::from_slice(line)
            .map_err(|err| parse_error(shown, json_location(index + 1, &err), &err))?;
        items.push(item);
    }
    if let Some(table) = flat_table(&items) {
        return Ok(Data::Table(table));
    }
    let document = Value::Array(items);
    let raw =
        serde_json::to_vec(&document).map_err(|err| parse_error(shown, Location::Whole, err))?;
    Ok(json_data(Arc::from(raw), document))
}

/// The most cells a table made of JSON lines may hold per value the lines write (a key that
/// some lines lack is a null cell in the others).
const SPARSE_FACTOR: usize = 4;

/// Lines that are all flat objects, each key holding one JSON type, as a table: columns in the
/// order their keys first appear (a key a line lacks, or `null`, is a null cell; so is `""`, as
/// an empty CSV cell is), a column of strings kept as text (`"007"` stays text). `None` for
/// anything else: lines with no keys at all, and lines so sparse (each naming keys the others
/// lack) that the table would hold more than [`SPARSE_FACTOR`] cells per value written, whose
/// null cells would cost memory the file never paid for, quadratic in its lines. Two passes
/// over each line's own entries, each key hashed once a pass: the work is linear in the file's
/// bytes and the table's cells, however long a key.
fn flat_table(items: &[Value]) -> Option<Table> {
    #[derive(Clone, Copy, PartialEq)]
    enum Type {
        Text,
        Number,
        Bool,
    }
    let objects: Vec<&serde_json::Map<String, Value>> =
        items.iter().map(Value::as_object).collect::<Option<_>>()?;
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut names: Vec<&str> = Vec::new();
    // A column's type: `None` while it has held only nulls.
    let mut types: Vec<Option<Type>> = Vec::new();
    let mut values = 0usize;
    for object in &objects {
        for (name, value) in object.iter() {
            values += 1;
            let column = *index.entry(name).or_insert_with(|| {
                names.push(name);
                types.push(None);
                names.len() - 1
            });
            let kind = match value {
                Value::Null => continue,
                Value::String(_) => Type::Text,
                Value::Number(_) => Type::Number,
                Value::Bool(_) => Type::Bool,
                Value::Array(_) | Value::Object(_) => return None,
            };
            match types[column] {
                None => types[column] = Some(kind),
                Some(known) if known == kind => {}
                Some(_) => return None,
            }
        }
    }
    let rows = objects.len();
    if names.is_empty() || names.len().saturating_mul(rows) > SPARSE_FACTOR * values + 1024 {
        return None;
    }
    let mut columns: Vec<ColumnBuilder> = types
        .iter()
        .map(|kind| match kind {
            Some(Type::Text) => ColumnBuilder::text(rows),
            _ => ColumnBuilder::with_capacity(rows),
        })
        .collect();
    for (row, object) in objects.iter().enumerate() {
        for (name, value) in object.iter() {
            let column = &mut columns[index[name.as_str()]];
            // The rows before that lacked the key (a line names a key once).
            while column.len() < row {
                column.push("");
            }
            match value {
                Value::String(text) => column.push(text),
                Value::Number(number) => column.push(&number.to_string()),
                Value::Bool(flag) => column.push(if *flag { "true" } else { "false" }),
                _ => column.push(""),
            }
        }
    }
    for column in &mut columns {
        while column.len() < rows {
            column.push("");
        }
    }
    Some(Table::new(
        names.into_iter().map(String::from).collect(),
        columns,
    ))
}

/// A parsed JSON document and the bytes served for it unfiltered.
fn json_data(raw: Arc<[u8]>, document: Value) -> Data {
    let rows = match document {
        Value::Array(items) => Some((keys_of(&items), items)),
        _ => None,
    };
    Data::Json { raw, rows }
}

/// The keys of the JSON objects among `items`, in the order they first appear: the columns
/// they make as a table.
pub fn keys_of(items: &[Value]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for key in items
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|o| o.keys())
    {
        if seen.insert(key) {
            keys.push(key.clone());
        }
    }
    keys
}

/// The items (objects whose keys are `columns`) that pass every condition, in order.
fn select_items<'a>(
    items: &'a [Value],
    columns: &[String],
    conditions: &[Condition],
) -> Vec<&'a Value> {
    let selected = table::select(&JsonRows { columns, items }, conditions);
    selected.into_iter().map(|row| &items[row]).collect()
}

/// JSON objects as rows of a table whose columns are `columns` (keys), for the selection
/// tables use (`table::select`): a key an object lacks, or holds an array or object in, is a
/// null cell.
pub struct JsonRows<'a> {
    pub columns: &'a [String],
    pub items: &'a [Value],
}

impl Rows for JsonRows<'_> {
    fn rows(&self) -> usize {
        self.items.len()
    }

    fn column<'a>(&'a self, column: usize) -> impl Fn(usize) -> Cell<'a> {
        let key = &self.columns[column];
        move |row| match self.items[row].get(key) {
            Some(Value::Bool(flag)) => Cell::Bool(*flag),
            Some(Value::Number(number)) => match number.as_i64() {
                Some(int) => Cell::Int(int),
                None => number.as_f64().map_or(Cell::Null, Cell::Float),
            },
            Some(Value::String(text)) => Cell::Text(text),
            _ => Cell::Null,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::owned_pairs as params;

    fn render(data: &Data, pairs: &[(&str, &str)]) -> Value {
        serde_json::from_slice(
            data.render(&params(pairs), &[], &Limits::default())
                .unwrap()
                .as_ref(),
        )
        .unwrap()
    }

    #[test]
    fn csv_rows_are_filtered() {
        let data = Data::parse(
            "data/p.csv",
            b"date,ticker,close\n2024-01-02,AAPL,1\n2024-01-03,MSFT,2\n2024-01-04,AAPL,3\n",
        )
        .unwrap();
        let rows = render(&data, &[("ticker", "aapl"), ("start_date", "2024-01-03")]);
        assert_eq!(
            rows,
            serde_json::json!([{"date": "2024-01-04", "ticker": "AAPL", "close": 3}])
        );
        assert_eq!(
            render(&data, &[("ticker", "")]).as_array().unwrap().len(),
            3
        );
    }

    #[test]
    fn json_documents_pass_through_byte_for_byte() {
        let bytes = br#"{"z": 1, "results": [{"b": 2, "a": 1}]}"#;
        let data = Data::parse("data/x.json", bytes).unwrap();
        assert_eq!(
            data.render(&params(&[("a", "1")]), &[], &Limits::default())
                .unwrap()
                .as_ref(),
            bytes
        );
    }

    #[test]
    fn json_arrays_are_filtered_keeping_key_order() {
        let data = Data::parse(
            "data/x.json",
            br#"[{"name": "b", "sector": "Tech", "w": 0.5}, {"name": "a", "sector": "Energy"}]"#,
        )
        .unwrap();
        let out = data
            .render(&params(&[("sector", "tech")]), &[], &Limits::default())
            .unwrap();
        assert_eq!(
            std::str::from_utf8(out.as_ref()).unwrap(),
            r#"[{"name":"b","sector":"Tech","w":0.5}]"#
        );
    }

    #[test]
    fn json_rows_select_what_a_table_of_them_selects() {
        let tickers = ["AAPL", "MSFT", "SPY", "XOM"];
        let rows: Vec<(String, &str, usize, Option<String>)> = (0..400)
            .map(|i| {
                let x = (i % 7 != 0).then(|| format!("{}.5", i % 30));
                (
                    format!("2024-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
                    tickers[i % 4],
                    i % 13,
                    x,
                )
            })
            .collect();
        let mut csv = String::from("date,ticker,n,x\n");
        for (date, ticker, n, x) in &rows {
            csv += &format!("{date},{ticker},{n},{}\n", x.as_deref().unwrap_or(""));
        }
        let json: Vec<Value> = rows
            .iter()
            .map(|(date, ticker, n, x)| {
                let x = x
                    .as_ref()
                    .map_or(Value::Null, |x| x.parse::<f64>().unwrap().into());
                serde_json::json!({"date": date, "ticker": ticker, "n": n, "x": x})
            })
            .collect();
        let table = Data::parse("data/t.csv", csv.as_bytes()).unwrap();
        let json = Data::parse("data/t.json", &serde_json::to_vec(&json).unwrap()).unwrap();
        for query in [
            vec![("ticker", "aapl,spy")],
            vec![("ticker", "XOM"), ("start_date", "2024-06-01")],
            vec![("end_date", "2024-03-15"), ("min_n", "3"), ("max_x", "20")],
            vec![("x", "12.5")],
            vec![("n", "12"), ("ticker", "nope")],
        ] {
            let from_table = render(&table, &query);
            assert!(
                from_table.as_array().is_some_and(|rows| rows.len() < 400),
                "{query:?}"
            );
            assert_eq!(render(&json, &query), from_table, "{query:?}");
        }
    }

    #[test]
    fn a_value_the_column_holds_whole_is_matched_before_its_commas_split_it() {
        let csv = "name,sector\nKO,\"Consumer, Staples\"\nPG,\"Consumer, Staples\"\nAMZN,Consumer\n\
                   XOM,Energy\nAAPL,Tech\n";
        let table = Data::parse("data/h.csv", csv.as_bytes()).unwrap();
        let items: Vec<Value> = [
            ("KO", "Consumer, Staples"),
            ("AMZN", "Consumer"),
            ("XOM", "Energy"),
            ("AAPL", "Tech"),
        ]
        .iter()
        .map(|(name, sector)| serde_json::json!({"name": name, "sector": sector}))
        .collect();
        let json = Data::parse("data/h.json", &serde_json::to_vec(&items).unwrap()).unwrap();
        let names = |data: &Data, pairs: &[(&str, &str)]| -> Vec<String> {
            render(data, pairs)
                .as_array()
                .unwrap()
                .iter()
                .map(|row| row["name"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(
            names(&table, &[("sector", "Consumer, Staples")]),
            ["KO", "PG"]
        );
        assert_eq!(names(&json, &[("sector", "consumer, staples")]), ["KO"]);
        // Not held whole: split on commas as before.
        assert_eq!(names(&table, &[("sector", "Energy,Tech")]), ["XOM", "AAPL"]);
        assert_eq!(
            names(&json, &[("sector", "Consumer,Tech")]),
            ["AMZN", "AAPL"]
        );
        // Each repeat (a multi-select sent as repeats) is matched whole first.
        let repeats = [("sector", "Consumer, Staples"), ("sector", "Energy")];
        assert_eq!(names(&table, &repeats), ["KO", "PG", "XOM"]);
        assert_eq!(names(&json, &repeats), ["KO", "XOM"]);
        assert_eq!(
            table
                .column(
                    &params(&[("sector", "Consumer, Staples")]),
                    &[],
                    &Limits::default(),
                    "name"
                )
                .unwrap(),
            [Value::from("KO"), Value::from("PG")]
        );
    }

    #[test]
    fn columns_are_read_after_the_filters() {
        let csv = Data::parse(
            "data/p.csv",
            b"ticker,close,flag\nAAPL,1.5,true\nMSFT,2,\nAAPL,3,false\n",
        )
        .unwrap();
        assert_eq!(
            csv.column(
                &params(&[("ticker", "AAPL")]),
                &[],
                &Limits::default(),
                "CLOSE"
            )
            .unwrap(),
            [serde_json::json!(1.5), serde_json::json!(3.0)]
        );
        assert_eq!(
            csv.column(&[], &[], &Limits::default(), "flag").unwrap(),
            [Value::Bool(true), Value::Null, Value::Bool(false)]
        );
        assert!(
            csv.column(&[], &[], &Limits::default(), "nope")
                .unwrap_err()
                .to_string()
                .contains("'nope'")
        );
        let json = Data::parse("data/x.json", br#"[{"t": "A", "v": 1}, {"t": "B"}]"#).unwrap();
        assert_eq!(
            json.column(&params(&[("t", "b")]), &[], &Limits::default(), "v")
                .unwrap(),
            [Value::Null]
        );
        let doc = Data::parse("data/x.json", br#"{"a": 1}"#).unwrap();
        assert!(doc.column(&[], &[], &Limits::default(), "a").is_err());
    }

    #[test]
    fn ndjson_lines_are_rows() {
        let data = Data::parse(
            "data/t.ndjson",
            b"{\"id\": 1, \"s\": \"a\"}\r\n\n{\"id\": 2, \"s\": \"b\"}\n",
        )
        .unwrap();
        assert_eq!(
            render(&data, &[]),
            serde_json::json!([{"id": 1, "s": "a"}, {"id": 2, "s": "b"}])
        );
        assert_eq!(
            render(&data, &[("s", "B")]),
            serde_json::json!([{"id": 2, "s": "b"}])
        );
        let err = Data::parse("data/t.jsonl", b"{\"id\": 1}\n\n{oops}\n").unwrap_err();
        assert!(err.to_string().starts_with("data/t.jsonl: line 3"), "{err}");
    }

    #[test]
    fn ndjson_of_flat_one_type_keys_is_a_typed_table() {
        let flat = b"{\"code\": \"007\", \"px\": 1.5, \"ok\": true}\n{\"px\": 2, \"code\": null}\n";
        let data = Data::parse("data/t.jsonl", flat).unwrap();
        let Data::Table(table) = &data else {
            panic!("{data:?}");
        };
        assert_eq!(table.names(), ["code", "px", "ok"]);
        assert_eq!(
            render(&data, &[]),
            serde_json::json!([{"code": "007", "px": 1.5, "ok": true},
                               {"code": null, "px": 2.0, "ok": null}])
        );
        for kept_as_written in [
            &b"{\"v\": 1}\n{\"v\": \"a\"}\n"[..],
            b"{\"v\": [1]}\n",
            b"[1, 2]\n",
            b"{}\n{}\n",
        ] {
            let data = Data::parse("data/t.jsonl", kept_as_written).unwrap();
            assert!(matches!(data, Data::Json { .. }), "{data:?}");
        }
        // Every line a key of its own: 2,000 × 2,000 null cells as a table; as written instead.
        let sparse: String = (0..2000).map(|i| format!("{{\"k{i}\": {i}}}\n")).collect();
        let data = Data::parse("data/t.jsonl", sparse.as_bytes()).unwrap();
        assert!(matches!(data, Data::Json { .. }));
    }

    #[test]
    fn a_long_key_in_json_lines_costs_its_length_once_not_once_a_line() {
        // Hashed once a line, this 1 MiB name beside 20,000 lines would be 40 GB of hashing.
        let mut lines = format!("{{\"{}\": 1, \"a\": 1}}\n", "k".repeat(1 << 20));
        lines.push_str(&"{\"a\": 1, \"b\": \"x\"}\n".repeat(20_000));
        let data = Data::parse("data/t.jsonl", lines.as_bytes()).unwrap();
        let Data::Table(table) = &data else {
            panic!("not a table");
        };
        assert_eq!(table.names().len(), 3);
        assert_eq!(table.rows(), 20_001);
        assert_eq!(table.cell(0, 2), Cell::Null);
        assert_eq!(table.cell(20_000, 0), Cell::Null);
        assert_eq!(table.cell(20_000, 2), Cell::Text("x"));
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let err = Data::parse("data/bad.json", b"[\n{\"a\": 1},\n{oops}\n]").unwrap_err();
        let at = Location::LineColumn { line: 3, column: 2 };
        assert!(
            matches!(&err, FileError::Parse { file, at: found, .. } if file == "data/bad.json" && *found == at),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("data/bad.json: line 3: column 2: "),
            "{err}"
        );
        let err = Data::parse("data/bad.csv", b"a,b\n1,2\n1,2,3\n").unwrap_err();
        assert!(
            matches!(
                &err,
                FileError::Parse {
                    at: Location::Line(3),
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            err.to_string().starts_with("data/bad.csv: line 3: "),
            "{err}"
        );
        assert!(
            Data::parse("data/nan.json", b"[NaN]").is_err(),
            "NaN is not JSON"
        );
    }
}
