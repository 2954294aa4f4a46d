//! Rows, in and out: a submission's JSON checked against the target's columns ([`Row::from_body`]),
//! the rows a target file already holds ([`Rows::read`]: how many, where each key's row lies),
//! and one row as the bytes of a CSV record, a JSON line or a Markdown note ([`Row::encode`],
//! [`Row::note_name`]). Pure functions; `disk.rs` does the writing. Invariants: every value
//! written has its column's type (or is empty); a CSV field is quoted when it holds a comma, a
//! quote or a line break; an encoded row is one line (JSON escapes its line breaks, CSV quotes
//! them) ending in `\n`; a note's front-matter values are each one quoted line (its body
//! follows the block, so it cannot add to it) and its name is one safe file-name segment.

use std::collections::HashSet;
use std::ops::Range;

use serde_json::{Map, Number, Value};

use crate::manifest::{Append, Column, ColumnType, FORM_BUTTON, Format, NOTE_BODY, NOTE_TITLE};
use crate::note;

/// One checked value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(Number),
    Bool(bool),
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(text) => text.clone(),
            Cell::Number(number) => number.to_string(),
            Cell::Bool(flag) => flag.to_string(),
        }
    }

    fn json(&self) -> Value {
        match self {
            Cell::Empty => Value::Null,
            Cell::Text(text) => Value::String(text.clone()),
            Cell::Number(number) => Value::Number(number.clone()),
            Cell::Bool(flag) => Value::Bool(*flag),
        }
    }
}

/// A submission, checked: a cell per configured column, then the server-filled ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    cells: Vec<(String, Cell)>,
}

/// What the server fills in for one write, in the columns `Append` names for it.
#[derive(Debug, Clone, Copy)]
pub struct ServerFilled<'a> {
    /// The time of the write, RFC 3339 (UTC).
    pub created_at: &'a str,
    /// The id of the key the write came with; `None` on a server without keys (empty cell).
    pub submitted_by: Option<&'a str>,
}

impl Row {
    /// The row a form's JSON body asks for, with the values the server fills. `Err`: the 400
    /// detail, naming the field.
    pub fn from_body(body: &[u8], append: &Append, filled: ServerFilled) -> Result<Row, String> {
        let body: Map<String, Value> = serde_json::from_slice(body)
            .map_err(|err| format!("the body must be a JSON object of the form's fields: {err}"))?;
        if let Some(name) = body.keys().find(|name| !is_input(name, append)) {
            let server_filled = [&append.created_at, &append.submitted_by];
            let why = match server_filled.contains(&&Some(name.clone())) {
                true => "is filled by the server".to_string(),
                false => format!(
                    "is not a column of this form (its columns: {})",
                    column_names(append).join(", ")
                ),
            };
            return Err(format!("field '{name}' {why}"));
        }
        let mut cells = Vec::with_capacity(append.columns.len() + 1);
        for column in &append.columns {
            let cell = cell(column, body.get(&column.name))
                .map_err(|why| format!("field '{}': {why}", column.name))?;
            if cell == Cell::Empty && append.key.as_deref() == Some(column.name.as_str()) {
                return Err(format!(
                    "field '{}' is required: it is the row's key",
                    column.name
                ));
            }
            if cell == Cell::Empty && column.required {
                return Err(format!("field '{}' is required", column.name));
            }
            cells.push((column.name.clone(), cell));
        }
        if let Some(name) = &append.created_at {
            cells.push((name.clone(), Cell::Text(filled.created_at.to_string())));
        }
        if let Some(name) = &append.submitted_by {
            let id = filled
                .submitted_by
                .map_or(Cell::Empty, |id| Cell::Text(id.into()));
            cells.push((name.clone(), id));
        }
        Ok(Row { cells })
    }

    /// The value of the key column, as the file holds it.
    pub fn key(&self, append: &Append) -> Option<String> {
        let key = append.key.as_deref()?;
        self.cells
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, cell)| cell.text())
    }

    /// The row as one line of the file, `\n` included: a CSV record in the order of `header`
    /// (a column the row does not fill is left empty), or a JSON object.
    pub fn encode(&self, format: Format, header: &[String]) -> Vec<u8> {
        match format {
            Format::Csv => {
                let fields: Vec<String> = header
                    .iter()
                    .map(
                        |column| match self.cells.iter().find(|(name, _)| name == column) {
                            Some((_, cell)) => cell.text(),
                            None => String::new(),
                        },
                    )
                    .collect();
                csv_record(&fields)
            }
            Format::JsonLines => {
                let object: Map<String, Value> = self
                    .cells
                    .iter()
                    .map(|(name, cell)| (name.clone(), cell.json()))
                    .collect();
                let mut line = Value::Object(object).to_string().into_bytes();
                line.push(b'\n');
                line
            }
            Format::Notes => {
                let mut text = String::from("---\n");
                let mut body = "";
                for (name, cell) in &self.cells {
                    match cell {
                        Cell::Text(value) if name == NOTE_BODY => body = value,
                        Cell::Empty => {}
                        Cell::Text(value) => text += &format!("{name}: {}\n", note::quoted(value)),
                        cell => text += &format!("{name}: {}\n", cell.text()),
                    }
                }
                text += "---\n\n";
                text += body;
                text.push('\n');
                text.into_bytes()
            }
        }
    }

    /// The file name of the row as a note written on `day` (`YYYY-MM-DD`), `-<n>` added for
    /// the `n`th try: `<day>-<title slug>[-n].md`. The slug keeps ASCII letters and digits
    /// (lower-cased), other runs become one `-`, at most [`SLUG_CHARS`]; `note` when none is left.
    pub fn note_name(&self, day: &str, n: usize) -> String {
        let title = self
            .cells
            .iter()
            .find(|(name, _)| name == NOTE_TITLE)
            .map(|(_, cell)| cell.text())
            .unwrap_or_default();
        let mut slug = String::new();
        for c in title.chars() {
            if slug.len() >= SLUG_CHARS {
                break;
            }
            match c.is_ascii_alphanumeric() {
                true => slug.push(c.to_ascii_lowercase()),
                false if !slug.is_empty() && !slug.ends_with('-') => slug.push('-'),
                false => {}
            }
        }
        let slug = match slug.trim_end_matches('-') {
            "" => "note",
            slug => slug,
        };
        match n {
            1 => format!("{day}-{slug}.md"),
            n => format!("{day}-{slug}-{n}.md"),
        }
    }

    /// The row as JSON, for the answer.
    pub fn to_json(&self) -> Value {
        let object: Map<String, Value> = self
            .cells
            .iter()
            .map(|(name, cell)| (name.clone(), cell.json()))
            .collect();
        Value::Object(object)
    }
}

/// The longest slug of a note's file name.
const SLUG_CHARS: usize = 60;

/// Whether `name` may be a key of a submission: a column, or the form's button.
fn is_input(name: &str, append: &Append) -> bool {
    name == FORM_BUTTON || append.columns.iter().any(|c| c.name == name)
}

fn column_names(append: &Append) -> Vec<&str> {
    append.columns.iter().map(|c| c.name.as_str()).collect()
}

/// One submitted value, checked against its column. `null`, absent and `""` are empty.
fn cell(column: &Column, value: Option<&Value>) -> Result<Cell, String> {
    let cell = match (column.kind, value) {
        (_, None | Some(Value::Null)) => return Ok(Cell::Empty),
        (_, Some(Value::String(text))) if text.is_empty() => return Ok(Cell::Empty),
        (ColumnType::Text, Some(Value::String(text))) => Cell::Text(text.clone()),
        (ColumnType::Text, Some(Value::Number(number))) => Cell::Text(number.to_string()),
        (ColumnType::Number, Some(Value::Number(number))) => Cell::Number(number.clone()),
        (ColumnType::Number, Some(Value::String(text))) => match text.trim().parse::<Number>() {
            Ok(number) => Cell::Number(number),
            Err(_) => return Err(format!("'{text}' is not a number")),
        },
        (ColumnType::Boolean, Some(Value::Bool(flag))) => Cell::Bool(*flag),
        (ColumnType::Boolean, Some(Value::String(text))) => match text.as_str() {
            "true" => Cell::Bool(true),
            "false" => Cell::Bool(false),
            _ => return Err(format!("'{text}' is not true or false")),
        },
        (ColumnType::Date, Some(Value::String(text))) if is_date(text) => Cell::Text(text.clone()),
        (ColumnType::Date, Some(Value::String(text))) => {
            return Err(format!(
                "'{text}' is not a date (YYYY-MM-DD, a time may follow)"
            ));
        }
        (kind, Some(other)) => return Err(format!("{other} is not a {}", kind.as_str())),
    };
    if !column.options.is_empty() && !column.options.contains(&cell.text()) {
        return Err(format!(
            "'{}' is not one of the options ({})",
            cell.text(),
            column.options.join(", ")
        ));
    }
    Ok(cell)
}

/// `YYYY-MM-DD`, optionally followed by a time after `T` or a space.
fn is_date(text: &str) -> bool {
    let (date, rest) = text.split_at(text.len().min(10));
    let parts: Vec<&str> = date.split('-').collect();
    let number = |part: &str, digits: usize, max: u32| {
        part.len() == digits
            && part.bytes().all(|b| b.is_ascii_digit())
            && part.parse::<u32>().is_ok_and(|n| (1..=max).contains(&n))
    };
    parts.len() == 3
        && number(parts[0], 4, 9999)
        && number(parts[1], 2, 12)
        && number(parts[2], 2, 31)
        && (rest.is_empty() || rest.starts_with(['T', ' ']))
}

/// One CSV record and its `\n`; a field holding a comma, quote or line break is quoted, its
/// quotes doubled.
fn csv_record(fields: &[String]) -> Vec<u8> {
    let quoted: Vec<String> = fields
        .iter()
        .map(|field| match field.contains([',', '"', '\n', '\r']) {
            true => format!("\"{}\"", field.replace('"', "\"\"")),
            false => field.clone(),
        })
        .collect();
    let mut line = quoted.join(",").into_bytes();
    line.push(b'\n');
    line
}

/// The rows a target file holds, read for one write.
#[derive(Debug)]
pub struct Rows {
    /// A CSV file's columns (empty for JSON lines).
    pub header: Vec<String>,
    /// How many rows (the header not counted).
    pub count: usize,
    /// The values of the key column (empty without a key).
    pub keys: HashSet<String>,
    /// The bytes (line end included) of the row whose key was looked for, if there is one.
    pub found: Option<Range<usize>>,
    /// Whether the file is empty or ends in a line break (else one goes before a new row).
    pub ends_in_newline: bool,
}

impl Rows {
    /// Reads a target file's rows in one pass, keeping the header, the count, the keys and
    /// where the row whose key column holds `key` lies. `Err`: why the file cannot take the form's
    /// rows (a CSV without a header naming every column, a line that is not a JSON object).
    pub fn read(bytes: &[u8], append: &Append, key: Option<&str>) -> Result<Rows, String> {
        let mut rows = Rows {
            header: Vec::new(),
            count: 0,
            keys: HashSet::new(),
            found: None,
            ends_in_newline: bytes.is_empty() || bytes.ends_with(b"\n"),
        };
        match append.format {
            Format::Csv => rows.read_csv(bytes, append, key)?,
            Format::JsonLines => rows.read_json_lines(bytes, append, key)?,
            Format::Notes => return Err("notes are files of a folder, not rows of a file".into()),
        }
        Ok(rows)
    }

    fn read_csv(&mut self, bytes: &[u8], append: &Append, key: Option<&str>) -> Result<(), String> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        let mut record = csv::ByteRecord::new();
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return Err("it has no header line: write the column names first".into()),
            Err(err) => return Err(format!("it is not CSV: {err}")),
        }
        self.header = record
            .iter()
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .collect();
        let wanted = column_names(append)
            .into_iter()
            .chain(append.created_at.as_deref())
            .chain(append.submitted_by.as_deref());
        let missing: Vec<&str> = wanted
            .filter(|c| !self.header.iter().any(|h| h == c))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "its header lacks the column(s) {}",
                missing.join(", ")
            ));
        }
        let key_index = append
            .key
            .as_deref()
            .and_then(|name| self.header.iter().position(|h| h == name));
        loop {
            let start = reader.position().byte() as usize;
            if let Some(span) = &mut self.found
                && span.end == usize::MAX
            {
                span.end = start;
            }
            match reader.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(err) => return Err(format!("it is not CSV: {err}")),
            }
            self.count += 1;
            let Some(value) = key_index.and_then(|k| record.get(k)) else {
                continue;
            };
            if key.map(str::as_bytes) == Some(value) && self.found.is_none() {
                self.found = Some(start..usize::MAX);
            }
            self.keys
                .insert(String::from_utf8_lossy(value).into_owned());
        }
        if let Some(span) = &mut self.found {
            span.end = span.end.min(bytes.len());
        }
        Ok(())
    }

    fn read_json_lines(
        &mut self,
        bytes: &[u8],
        append: &Append,
        key: Option<&str>,
    ) -> Result<(), String> {
        let mut start = 0;
        for (number, line) in bytes.split_inclusive(|b| *b == b'\n').enumerate() {
            let span = start..start + line.len();
            start = span.end;
            if line.trim_ascii().is_empty() {
                continue;
            }
            self.count += 1;
            let Some(name) = append.key.as_deref() else {
                continue;
            };
            let object: Map<String, Value> = serde_json::from_slice(line)
                .map_err(|err| format!("line {} is not a JSON object: {err}", number + 1))?;
            let value = match object.get(name) {
                Some(Value::String(text)) => text.clone(),
                Some(other) => other.to_string(),
                None => continue,
            };
            if key == Some(value.as_str()) && self.found.is_none() {
                self.found = Some(span);
            }
            self.keys.insert(value);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ideas() -> Append {
        let column = |name: &str, kind, options: &[&str]| Column {
            name: name.into(),
            kind,
            options: options.iter().map(|o| o.to_string()).collect(),
            required: false,
        };
        Append {
            file: "ideas.csv".into(),
            format: Format::Csv,
            columns: vec![
                column("id", ColumnType::Text, &[]),
                column("side", ColumnType::Text, &["buy", "sell"]),
                column("size", ColumnType::Number, &[]),
                column("date", ColumnType::Date, &[]),
                column("hedged", ColumnType::Boolean, &[]),
                column("note", ColumnType::Text, &[]),
            ],
            key: Some("id".into()),
            created_at: Some("created_at".into()),
            submitted_by: Some("analyst".into()),
        }
    }

    const FILLED: ServerFilled = ServerFilled {
        created_at: "2026-01-01T00:00:00.000Z",
        submitted_by: Some("alice"),
    };

    fn row(body: &str) -> Result<Row, String> {
        Row::from_body(body.as_bytes(), &ideas(), FILLED)
    }

    #[test]
    fn values_are_checked_against_their_columns_and_named_when_wrong() {
        let fine = r#"{"id": "i1", "side": "buy", "size": "1.5", "date": "2026-03-01",
                      "hedged": true, "note": null, "submit": true}"#;
        assert!(row(fine).is_ok());
        for (body, field) in [
            (r#"{"id": "i1", "side": "hold"}"#, "side"),
            (r#"{"id": "i1", "size": "ten"}"#, "size"),
            (r#"{"id": "i1", "date": "2026-13-01"}"#, "date"),
            (r#"{"id": "i1", "hedged": "maybe"}"#, "hedged"),
            (r#"{"id": "i1", "note": [1]}"#, "note"),
            (r#"{"id": "i1", "price": 3}"#, "price"),
            (r#"{"id": "i1", "created_at": "x"}"#, "created_at"),
            (r#"{"id": "i1", "analyst": "mallory"}"#, "analyst"),
            (r#"{"side": "buy"}"#, "id"),
        ] {
            let detail = row(body).unwrap_err();
            assert!(detail.contains(&format!("'{field}'")), "{body}: {detail}");
        }
        assert!(row("[1]").is_err());
    }

    #[test]
    fn csv_fields_are_quoted_and_follow_the_header() {
        let row = row(r#"{"id": "i,1", "note": "said \"hi\"\nthen left", "size": 2}"#).unwrap();
        let header: Vec<String> = ["note", "extra", "id", "size", "created_at", "analyst"]
            .map(String::from)
            .to_vec();
        let line = String::from_utf8(row.encode(Format::Csv, &header)).unwrap();
        assert_eq!(
            line,
            "\"said \"\"hi\"\"\nthen left\",,\"i,1\",2,2026-01-01T00:00:00.000Z,alice\n"
        );
        let json = String::from_utf8(row.encode(Format::JsonLines, &[])).unwrap();
        assert_eq!(json.matches('\n').count(), 1, "{json}");
    }

    #[test]
    fn the_submitter_is_filled_by_the_server_and_empty_without_keys() {
        let body = br#"{"id": "i1"}"#;
        let by = |submitted_by| {
            let filled = ServerFilled {
                submitted_by,
                ..FILLED
            };
            Row::from_body(body, &ideas(), filled).unwrap().to_json()["analyst"].clone()
        };
        assert_eq!(by(Some("alice")), "alice");
        assert_eq!(by(None), Value::Null);
        let header = ["id".to_string(), "analyst".to_string()];
        let row = Row::from_body(
            body,
            &ideas(),
            ServerFilled {
                submitted_by: None,
                ..FILLED
            },
        );
        assert_eq!(row.unwrap().encode(Format::Csv, &header), b"i1,\n");
    }

    #[test]
    fn rows_are_counted_and_found_by_key_across_quoted_line_breaks() {
        let file = "id,side,size,date,hedged,note,created_at,analyst\n\
                    a,buy,1,,,\"two\nlines\",t,x\n\
                    b,sell,2,,,,t,y";
        let read = |key| Rows::read(file.as_bytes(), &ideas(), Some(key)).unwrap();
        let rows = read("b");
        assert_eq!(rows.count, 2);
        assert!(!rows.ends_in_newline);
        assert_eq!(&file[rows.found.unwrap()], "b,sell,2,,,,t,y");
        let a = read("a").found.unwrap();
        assert!(file[a].ends_with("lines\",t,x\n"));
        assert_eq!(read("c").found, None);
        assert!(rows.keys.contains("a") && rows.keys.contains("b") && rows.keys.len() == 2);
        let lacking = Rows::read(b"id,side\n", &ideas(), None).unwrap_err();
        assert!(lacking.contains("size"), "{lacking}");
    }
}
