//! Typed, column-oriented tables read from CSV, and their JSON encoding.
//!
//! Typing is per column, as pandas does it: a column is integer when every non-empty cell is an
//! integer, decimal when every non-empty cell is a number, boolean when every non-empty cell is
//! `true`/`false`, and text otherwise (so a code column holding `007` stays text throughout).
//! Empty cells are null. In number columns the spellings of NaN and infinity are null too, so
//! non-finite values never reach JSON. Invariants: every column has exactly `rows` values, and
//! column names are unique (repeats get a `.1`, `.2`, ... suffix).

use std::io::Write;

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
    columns: Vec<Values>,
    rows: usize,
}

#[derive(Debug)]
enum Values {
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    Text(TextColumn),
}

/// Text cells stored back to back in one string, so a big file is not a million small boxes.
/// An empty cell is null, so a zero-length span marks null and needs no flag of its own.
#[derive(Debug, Default)]
struct TextColumn {
    text: String,
    /// End offset of each cell in `text`; a cell starts where the previous one ends.
    ends: Vec<usize>,
}

impl TextColumn {
    fn push(&mut self, cell: &str) {
        self.text.push_str(cell);
        self.ends.push(self.text.len());
    }

    fn get(&self, row: usize) -> Option<&str> {
        let start = if row == 0 { 0 } else { self.ends[row - 1] };
        let end = self.ends[row];
        (end > start).then(|| &self.text[start..end])
    }

    fn cells(&self) -> impl Iterator<Item = Option<&str>> {
        (0..self.ends.len()).map(|row| self.get(row))
    }
}

/// How one CSV cell reads on its own; the column's type is the narrowest kind all cells share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Empty,
    Int,
    Float,
    Bool,
    Text,
}

impl Kind {
    fn of(cell: &str) -> Kind {
        if cell.is_empty() {
            Kind::Empty
        } else if parse_int(cell).is_some() {
            Kind::Int
        } else if is_non_finite(cell) || parse_decimal(cell).is_some() {
            Kind::Float
        } else if parse_bool(cell).is_some() {
            Kind::Bool
        } else {
            Kind::Text
        }
    }

    /// The kind of a column holding cells of kinds `self` and `other`.
    fn join(self, other: Kind) -> Kind {
        match (self, other) {
            (Kind::Empty, kind) | (kind, Kind::Empty) => kind,
            (a, b) if a == b => a,
            (Kind::Int, Kind::Float) | (Kind::Float, Kind::Int) => Kind::Float,
            _ => Kind::Text,
        }
    }
}

/// An integer without a sign other than `-`, without leading zeros, that fits an `i64`.
fn parse_int(cell: &str) -> Option<i64> {
    let digits = cell.strip_prefix('-').unwrap_or(cell);
    let well_formed = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if well_formed { cell.parse().ok() } else { None }
}

/// A decimal in JSON's number grammar (`-1.5`, `2e-3`), finite.
fn parse_decimal(cell: &str) -> Option<f64> {
    let bytes = cell.strip_prefix('-').unwrap_or(cell).as_bytes();
    let int_len = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if int_len == 0 || (int_len > 1 && bytes[0] == b'0') {
        return None;
    }
    let mut rest = &bytes[int_len..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let len = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        rest = &fraction[len..];
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

fn parse_bool(cell: &str) -> Option<bool> {
    match cell {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Spellings that mean "not a number" in a number column (pandas and spreadsheets write these),
/// plus decimals too large for an `f64`.
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

/// A CSV that could not be read; `line` is 1-based, as an editor shows it.
#[derive(Debug, PartialEq, Eq)]
pub struct CsvError {
    pub line: u64,
    pub message: String,
}

impl Table {
    /// Reads CSV bytes with a header row. Accepts a UTF-8 BOM, CRLF or LF line ends, quoted fields
    /// holding commas, quotes and newlines, and surrounding spaces (trimmed). Short rows are padded
    /// with nulls; a row with more fields than the header is an error, as is text that is not
    /// UTF-8.
    pub fn from_csv(bytes: &[u8]) -> Result<Table, CsvError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(bytes);
        let mut record = csv::StringRecord::new();
        let error = |err: csv::Error| CsvError {
            line: err.position().map_or(1, |p| p.line()),
            message: match err.kind() {
                csv::ErrorKind::Utf8 { .. } => "the file is not valid UTF-8".to_string(),
                _ => err.to_string(),
            },
        };
        if !reader.read_record(&mut record).map_err(error)? {
            return Ok(Table {
                names: Vec::new(),
                columns: Vec::new(),
                rows: 0,
            });
        }
        let names = unique_names(&record);
        let mut raw: Vec<TextColumn> = names.iter().map(|_| TextColumn::default()).collect();
        let mut rows = 0;
        while reader.read_record(&mut record).map_err(error)? {
            if record.len() > names.len() {
                return Err(CsvError {
                    line: record.position().map_or(0, |p| p.line()),
                    message: format!(
                        "this row has {} fields but the header has {}",
                        record.len(),
                        names.len()
                    ),
                });
            }
            if record.len() == 1 && record[0].is_empty() {
                continue; // a line of spaces: blank, like the empty lines the reader skips
            }
            for (index, column) in raw.iter_mut().enumerate() {
                column.push(record.get(index).unwrap_or(""));
            }
            rows += 1;
        }
        let columns = raw.into_iter().map(Values::typed).collect();
        Ok(Table {
            names,
            columns,
            rows,
        })
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cell(&self, row: usize, column: usize) -> Cell<'_> {
        match &self.columns[column] {
            Values::Int(values) => values[row].map_or(Cell::Null, Cell::Int),
            Values::Float(values) => values[row].map_or(Cell::Null, Cell::Float),
            Values::Bool(values) => values[row].map_or(Cell::Null, Cell::Bool),
            Values::Text(values) => values.get(row).map_or(Cell::Null, Cell::Text),
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

/// Header names made unique the way pandas does it: `a, a, a` → `a, a.1, a.2`; an empty name
/// becomes `Unnamed: N` (N = 0-based position).
fn unique_names(header: &csv::StringRecord) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(header.len());
    for (index, name) in header.iter().enumerate() {
        let base = if name.is_empty() {
            format!("Unnamed: {index}")
        } else {
            name.to_string()
        };
        let mut candidate = base.clone();
        let mut suffix = 0;
        while names.contains(&candidate) {
            suffix += 1;
            candidate = format!("{base}.{suffix}");
        }
        names.push(candidate);
    }
    names
}

impl Values {
    fn typed(column: TextColumn) -> Values {
        let kind = column.cells().fold(Kind::Empty, |kind, cell| {
            kind.join(Kind::of(cell.unwrap_or("")))
        });
        match kind {
            Kind::Int => Values::Int(column.cells().map(|c| c.and_then(parse_int)).collect()),
            Kind::Float => Values::Float(
                column
                    .cells()
                    .map(|c| c.and_then(|c| parse_int(c).map(|i| i as f64).or(parse_decimal(c))))
                    .collect(),
            ),
            Kind::Bool => Values::Bool(column.cells().map(|c| c.and_then(parse_bool)).collect()),
            Kind::Empty | Kind::Text => Values::Text(column),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(table: &Table) -> serde_json::Value {
        let mut out = Vec::new();
        table.write_json(0..table.rows(), &mut out);
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn columns_are_typed_as_a_whole() {
        let table = Table::from_csv(
            b"code,qty,price,flag,note,empty\n007,1,1.5,true,x,\n010,-2,2,False,,\n",
        )
        .unwrap();
        assert_eq!(
            json(&table),
            serde_json::json!([
                {"code": "007", "qty": 1, "price": 1.5, "flag": true, "note": "x", "empty": null},
                {"code": "010", "qty": -2, "price": 2.0, "flag": false, "note": null, "empty": null}
            ])
        );
    }

    #[test]
    fn column_order_is_the_header_order() {
        let table = Table::from_csv(b"z,a,m\n1,2,3\n").unwrap();
        let mut out = Vec::new();
        table.write_json(0..1, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), r#"[{"z":1,"a":2,"m":3}]"#);
    }

    #[test]
    fn number_spellings() {
        assert_eq!(parse_int("0"), Some(0));
        assert_eq!(parse_int("-12"), Some(-12));
        assert_eq!(parse_int("007"), None);
        assert_eq!(parse_int("+1"), None);
        assert_eq!(parse_int("99999999999999999999"), None);
        assert_eq!(parse_decimal("1.25"), Some(1.25));
        assert_eq!(parse_decimal("-0.5e2"), Some(-50.0));
        assert_eq!(parse_decimal("1E+3"), Some(1000.0));
        for text in [
            ".5", "5.", "00.5", "1e", "1.2.3", "1,5", "0x10", "1_000", "NaN", "1e999",
        ] {
            assert_eq!(parse_decimal(text), None, "{text}");
        }
        assert_eq!(Kind::of("99999999999999999999"), Kind::Float);
    }

    #[test]
    fn non_finite_values_become_null_in_number_columns_only() {
        let table =
            Table::from_csv(b"x,label\n1.5,NaN\nNaN,inf\ninf,a\n-Infinity,b\n1e999,c\n").unwrap();
        let value = json(&table);
        let xs: Vec<_> = value
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["x"].clone())
            .collect();
        assert_eq!(
            xs,
            [
                serde_json::json!(1.5),
                serde_json::Value::Null,
                serde_json::Value::Null,
                serde_json::Value::Null,
                serde_json::Value::Null
            ]
        );
        assert_eq!(value[0]["label"], "NaN", "a text column keeps its text");
    }

    #[test]
    fn bom_crlf_quotes_and_newlines() {
        let csv = "\u{feff}name,comment\r\n\"Smith, J\",\"said \"\"hi\"\"\nthen left\"\r\n";
        let table = Table::from_csv(csv.as_bytes()).unwrap();
        assert_eq!(table.names(), ["name", "comment"]);
        assert_eq!(
            json(&table),
            serde_json::json!([{"name": "Smith, J", "comment": "said \"hi\"\nthen left"}])
        );
    }

    #[test]
    fn short_rows_are_padded_and_long_rows_rejected_with_their_line() {
        let table = Table::from_csv(b"a,b,c\n1,2\n").unwrap();
        assert_eq!(
            json(&table),
            serde_json::json!([{"a": 1, "b": 2, "c": null}])
        );
        let err = Table::from_csv(b"a,b\n1,2\n3,4\n5,6,7\n").unwrap_err();
        assert_eq!(err.line, 4);
        assert!(err.message.contains("3 fields"), "{}", err.message);
    }

    #[test]
    fn invalid_utf8_is_an_error_with_a_line() {
        let err = Table::from_csv(b"a\nok\n\xff\xfe\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("UTF-8"));
    }

    #[test]
    fn repeated_and_empty_header_names() {
        let table = Table::from_csv(b"a,a,,a\n1,2,3,4\n").unwrap();
        assert_eq!(table.names(), ["a", "a.1", "Unnamed: 2", "a.2"]);
    }

    #[test]
    fn empty_file_and_header_only() {
        assert_eq!(json(&Table::from_csv(b"").unwrap()), serde_json::json!([]));
        assert_eq!(
            json(&Table::from_csv(b"a,b\n").unwrap()),
            serde_json::json!([])
        );
    }

    #[test]
    fn text_cells_are_read_back_exactly() {
        let table = Table::from_csv(b"t,n\nalpha,1\n\n\"\",2\nbeta,3\n   \ngamma,4\n").unwrap();
        // Blank lines are skipped (as pandas does); an empty field is a null cell.
        assert_eq!(table.rows(), 4);
        assert_eq!(table.cell(0, 0), Cell::Text("alpha"));
        assert_eq!(table.cell(1, 0), Cell::Null);
        assert_eq!(table.cell(2, 0), Cell::Text("beta"));
        assert_eq!(table.cell(3, 0), Cell::Text("gamma"));
        assert_eq!(table.cell(3, 1), Cell::Int(4));
    }
}
