//! Data files as widgets serve them: tables and JSON documents, filtered by parameters.
//!
//! A delimited text file, a workbook's sheet or a Parquet file becomes a typed [`Table`]
//! ([`crate::formats`] tells them apart by extension and reads the binary ones). A JSON document is kept as the bytes it was read from (so a
//! document that is not filtered goes out byte for byte, key order and all) and, when it is an
//! array, as parsed rows that filters can select from. NDJSON (`.ndjson`, `.jsonl`: one JSON
//! value a line, blank lines skipped) is read as the array of its lines. Invariant: a `Data`
//! value is only built from input that parsed completely; a bad file is an error naming the
//! file and line.

use std::io::Read;
use std::sync::Arc;

use serde_json::Value;

use crate::csv_read::read_delimited;
use crate::filter::{self, Condition, Limits, PlanError, Rule};
use crate::formats::{self, Caps, Format, Reading, compressed};
use crate::http::Body;
use crate::table::{Cell, Table};

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
    ) -> Result<Data, String> {
        let failed = |err: std::io::Error| format!("{shown}: {err}");
        let (format, compression) = formats::of(shown);
        let mut input =
            compressed::decompress(compression, input, caps.decompressed).map_err(failed)?;
        let mut whole = || {
            let mut bytes = Vec::new();
            input.read_to_end(&mut bytes).map(|_| bytes).map_err(failed)
        };
        let named = |why: String| format!("{shown}: {why}");
        match format {
            Format::Json => parse_json(shown, &whole()?),
            Format::JsonLines => parse_ndjson(shown, &whole()?),
            Format::Workbook => {
                let bytes = whole()?;
                formats::guarded(|| {
                    formats::excel::read(shown, bytes, reading.sheet.as_ref(), caps)
                })
                .map(Data::Table)
                .map_err(named)
            }
            Format::Parquet => {
                let bytes = whole()?;
                formats::guarded(|| formats::parquet::read(bytes, caps))
                    .map(Data::Table)
                    .map_err(named)
            }
            Format::Delimited(by_name) => {
                parse_csv(shown, input, reading.delimiter.or(by_name), reading.decimal)
            }
        }
    }

    /// Parses a data file's bytes as its name says; `shown` names it in errors.
    pub fn parse(shown: &str, bytes: &[u8]) -> Result<Data, String> {
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
                let selected = items
                    .iter()
                    .filter(|item| row_matches(item, columns, &conditions));
                serde_json::to_vec(&selected.collect::<Vec<_>>())
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
    Ok(items
        .iter()
        .filter(|item| row_matches(item, columns, &conditions))
        .collect())
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

fn parse_csv(
    shown: &str,
    input: impl Read + Send,
    delimiter: Option<u8>,
    decimal: Option<u8>,
) -> Result<Data, String> {
    read_delimited(input, delimiter, decimal)
        .map(Data::Table)
        .map_err(|err| match err.line {
            0 => format!("{shown}: {}", err.message),
            line => format!("{shown}: line {line}: {}", err.message),
        })
}

fn parse_json(shown: &str, bytes: &[u8]) -> Result<Data, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let document: Value = serde_json::from_slice(bytes).map_err(|err| {
        format!(
            "{shown}: line {}: column {}: {}",
            err.line(),
            err.column(),
            err
        )
    })?;
    Ok(json_data(Arc::from(bytes), document))
}

fn parse_ndjson(shown: &str, bytes: &[u8]) -> Result<Data, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut items = Vec::new();
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.trim_ascii().is_empty() {
            continue;
        }
        let item: Value = serde_json::from_slice(line).map_err(|err| {
            format!(
                "{shown}: line {}: column {}: {err}",
                index + 1,
                err.column()
            )
        })?;
        items.push(item);
    }
    let document = Value::Array(items);
    let raw = serde_json::to_vec(&document).map_err(|err| format!("{shown}: {err}"))?;
    Ok(json_data(Arc::from(raw), document))
}

/// A parsed JSON document and the bytes served for it unfiltered.
fn json_data(raw: Arc<[u8]>, document: Value) -> Data {
    let rows = match document {
        Value::Array(items) => {
            let mut columns: Vec<String> = Vec::new();
            for key in items
                .iter()
                .filter_map(Value::as_object)
                .flat_map(|o| o.keys())
            {
                if !columns.contains(key) {
                    columns.push(key.clone());
                }
            }
            Some((columns, items))
        }
        _ => None,
    };
    Data::Json { raw, rows }
}

/// Whether a row object (with keys among `columns`) meets every condition.
pub fn row_matches(item: &Value, columns: &[String], conditions: &[Condition]) -> bool {
    conditions.iter().all(|condition| {
        let cell = match item.get(&columns[condition.column]) {
            Some(Value::Bool(flag)) => Cell::Bool(*flag),
            Some(Value::Number(number)) => match number.as_i64() {
                Some(int) => Cell::Int(int),
                None => number.as_f64().map_or(Cell::Null, Cell::Float),
            },
            Some(Value::String(text)) => Cell::Text(text),
            _ => Cell::Null,
        };
        condition.accepts(cell)
    })
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
        assert!(err.starts_with("data/t.jsonl: line 3"), "{err}");
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let err = Data::parse("data/bad.json", b"[\n{\"a\": 1},\n{oops}\n]").unwrap_err();
        assert!(err.starts_with("data/bad.json: line 3"), "{err}");
        let err = Data::parse("data/bad.csv", b"a,b\n1,2\n1,2,3\n").unwrap_err();
        assert!(err.starts_with("data/bad.csv: line 3"), "{err}");
        assert!(
            Data::parse("data/nan.json", b"[NaN]").is_err(),
            "NaN is not JSON"
        );
    }
}
