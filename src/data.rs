//! Data files as widgets serve them: CSV tables and JSON documents, filtered by parameters.
//!
//! A CSV becomes a typed [`Table`]. A JSON document is kept as the bytes it was read from (so a
//! document that is not filtered goes out byte for byte, key order and all) and, when it is an
//! array, as parsed rows that filters can select from. Invariant: a `Data` value is only built
//! from input that parsed completely; a bad file is an error naming the file and line.

use std::fs::{self, File};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::csv_read::read_csv;
use crate::filter::{self, Condition, Rule};
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
    /// Reads a data file (a CSV is streamed, never held whole); `shown` names it in errors
    /// (`data/prices.csv`).
    pub fn load(shown: &str, path: &Path) -> Result<Data, String> {
        let unreadable = |err: std::io::Error| format!("{shown}: {err}");
        if is_json(shown) {
            parse_json(shown, &fs::read(path).map_err(unreadable)?)
        } else {
            parse_csv(shown, File::open(path).map_err(unreadable)?)
        }
    }

    /// Parses a data file's bytes; `shown` names it in errors and tells CSV from JSON.
    pub fn parse(shown: &str, bytes: &[u8]) -> Result<Data, String> {
        if is_json(shown) {
            parse_json(shown, bytes)
        } else {
            parse_csv(shown, bytes)
        }
    }

    /// The JSON response for these query parameters.
    pub fn render(
        &self,
        params: &[(String, String)],
        rules: &[(String, Option<Rule>)],
    ) -> Result<Body, String> {
        match self {
            Data::Table(table) => {
                let conditions = filter::plan(params, table.names(), rules)?;
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
                let conditions = filter::plan(params, columns, rules)?;
                if conditions.is_empty() {
                    return Ok(Body::Shared(Arc::clone(raw)));
                }
                let selected: Vec<&Value> = items
                    .iter()
                    .filter(|item| row_matches(item, columns, &conditions))
                    .collect();
                serde_json::to_vec(&selected)
                    .map(Body::Owned)
                    .map_err(|err| err.to_string())
            }
        }
    }
}

fn is_json(shown: &str) -> bool {
    shown.to_ascii_lowercase().ends_with(".json")
}

fn parse_csv(shown: &str, input: impl Read + Send) -> Result<Data, String> {
    read_csv(input)
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
    Ok(Data::Json {
        raw: Arc::from(bytes),
        rows,
    })
}

fn row_matches(item: &Value, columns: &[String], conditions: &[Condition]) -> bool {
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

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn render(data: &Data, pairs: &[(&str, &str)]) -> Value {
        serde_json::from_slice(data.render(&params(pairs), &[]).unwrap().as_ref()).unwrap()
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
            data.render(&params(&[("a", "1")]), &[]).unwrap().as_ref(),
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
        let out = data.render(&params(&[("sector", "tech")]), &[]).unwrap();
        assert_eq!(
            std::str::from_utf8(out.as_ref()).unwrap(),
            r#"[{"name":"b","sector":"Tech","w":0.5}]"#
        );
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
