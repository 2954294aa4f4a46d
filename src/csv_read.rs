//! Reading CSV into a [`Table`], in parallel for big files.
//!
//! The input is cut into blocks of about [`BLOCK_BYTES`] at line ends that lie outside quoted
//! fields (an even number of quotes before them), so every block holds whole records. Blocks are
//! parsed on worker threads into column builders and joined in file order as they finish, so
//! memory holds the typed columns plus a few blocks, never the whole file as text.
//!
//! Accepted: a UTF-8 BOM, CRLF or LF line ends, quoted fields holding commas, quotes and
//! newlines, and spaces around fields (trimmed). Blank lines are skipped; short rows are padded
//! with nulls. A row with more fields than the header, or text that is not UTF-8, is an error
//! naming its line (1-based, as an editor shows it).

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};

use crate::table::{ColumnBuilder, Table};

/// Block size: large enough to amortize the hand-off, small enough to keep memory flat. Tests
/// use small blocks so that small inputs cross many block boundaries.
#[cfg(not(test))]
const BLOCK_BYTES: usize = 8 << 20;
#[cfg(test)]
const BLOCK_BYTES: usize = 64 << 10;

#[derive(Debug, PartialEq, Eq)]
pub struct CsvError {
    pub line: u64,
    pub message: String,
}

impl CsvError {
    fn io(err: io::Error) -> CsvError {
        CsvError {
            line: 0,
            message: format!("could not be read: {err}"),
        }
    }
}

/// Reads a whole CSV with a header row.
pub fn read_csv(input: impl Read + Send) -> Result<Table, CsvError> {
    let mut blocks = Blocks {
        input,
        carry: Vec::new(),
        next_line: 1,
        at_end: false,
    };
    let Some((first_line, mut first)) = blocks.next_block().map_err(CsvError::io)? else {
        return Ok(Table::new(Vec::new(), Vec::new()));
    };
    if first.starts_with(b"\xEF\xBB\xBF") {
        first.drain(..3);
    }
    let mut reader = record_reader(&first);
    let mut header = csv::ByteRecord::new();
    if !reader
        .read_byte_record(&mut header)
        .map_err(|err| csv_error(&err, first_line))?
    {
        return Ok(Table::new(Vec::new(), Vec::new()));
    }
    let names = unique_names(&header).map_err(|message| CsvError {
        line: first_line,
        message,
    })?;
    let position = reader.position().clone();
    let rest = first.split_off(position.byte() as usize);
    let rest_line = first_line + position.line() - 1;
    let width = names.len();
    let failed = &AtomicBool::new(false);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let (task_sender, task_receiver) = mpsc::sync_channel::<(usize, u64, Vec<u8>)>(workers);
    let task_receiver = &Mutex::new(task_receiver);

    std::thread::scope(|scope| {
        let (result_sender, result_receiver) = mpsc::channel();
        for _ in 0..workers {
            let (tasks, results) = (task_receiver, result_sender.clone());
            scope.spawn(move || {
                loop {
                    let task = tasks.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok((index, line, bytes)) = task else {
                        return;
                    };
                    let parsed = parse_block(&bytes, line, width);
                    if parsed.is_err() {
                        failed.store(true, Ordering::SeqCst);
                    }
                    if results.send((index, parsed)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(result_sender);
        let feeder = scope.spawn(move || -> Result<(), CsvError> {
            let mut block = Some((rest_line, rest));
            let mut index = 0;
            while let Some((line, bytes)) = block {
                if failed.load(Ordering::SeqCst) || task_sender.send((index, line, bytes)).is_err()
                {
                    return Ok(());
                }
                index += 1;
                block = blocks.next_block().map_err(CsvError::io)?;
            }
            Ok(())
        });
        let mut columns: Vec<ColumnBuilder> =
            (0..width).map(|_| ColumnBuilder::default()).collect();
        let mut waiting = BTreeMap::new();
        let mut next = 0;
        let mut first_error = None;
        for (index, parsed) in result_receiver {
            waiting.insert(index, parsed);
            while let Some(parsed) = waiting.remove(&next) {
                next += 1;
                match parsed {
                    Ok(block) if first_error.is_none() => {
                        for (column, part) in columns.iter_mut().zip(block) {
                            column.append(part);
                        }
                    }
                    Ok(_) => {}
                    Err(err) => {
                        first_error.get_or_insert(err);
                    }
                }
            }
        }
        // An error in an earlier block than one still waiting wins; blocks after it never ran.
        if let Some((_, Err(err))) = waiting.into_iter().next() {
            first_error.get_or_insert(err);
        }
        feeder
            .join()
            .unwrap_or_else(|_| Err(CsvError::io(io::Error::other("reader thread failed"))))?;
        match first_error {
            Some(err) => Err(err),
            None => Ok(Table::new(names, columns)),
        }
    })
}

/// Reads only a CSV's header row (the column names, as [`read_csv`] names them): a cheap look
/// at a file's columns without reading its rows.
pub fn read_header(input: impl Read) -> Result<Vec<String>, CsvError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut header = csv::ByteRecord::new();
    if !reader
        .read_byte_record(&mut header)
        .map_err(|err| csv_error(&err, 1))?
    {
        return Ok(Vec::new());
    }
    let line = reader.position().line();
    unique_names(&header).map_err(|message| CsvError { line, message })
}

fn record_reader(bytes: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes)
}

fn csv_error(err: &csv::Error, first_line: u64) -> CsvError {
    CsvError {
        line: first_line + err.position().map_or(1, |p| p.line()) - 1,
        message: match err.kind() {
            csv::ErrorKind::Utf8 { .. } => "the file is not valid UTF-8".to_string(),
            _ => err.to_string(),
        },
    }
}

/// Parses whole records into column builders; `first_line` is the file line `bytes` start on.
fn parse_block(
    bytes: &[u8],
    first_line: u64,
    width: usize,
) -> Result<Vec<ColumnBuilder>, CsvError> {
    match parse_unquoted_block(bytes, first_line, width)? {
        Some(columns) => Ok(columns),
        None => parse_with_reader(bytes, first_line, width),
    }
}

/// The general path: any valid CSV, through the `csv` crate.
fn parse_with_reader(
    bytes: &[u8],
    first_line: u64,
    width: usize,
) -> Result<Vec<ColumnBuilder>, CsvError> {
    let mut reader = record_reader(bytes);
    let mut record = csv::StringRecord::new();
    let mut columns: Vec<ColumnBuilder> = (0..width).map(|_| ColumnBuilder::default()).collect();
    while reader
        .read_record(&mut record)
        .map_err(|err| csv_error(&err, first_line))?
    {
        let line = first_line + record.position().map_or(1, |p| p.line()) - 1;
        add_record(&mut columns, line, record.len(), record.iter())?;
    }
    Ok(columns)
}

/// The fast path for the common machine-written block: no quotes and no bare carriage returns,
/// so records are lines and fields are split at commas (several times faster than the general
/// reader). `None` when the block needs the general reader.
fn parse_unquoted_block(
    bytes: &[u8],
    first_line: u64,
    width: usize,
) -> Result<Option<Vec<ColumnBuilder>>, CsvError> {
    if memchr::memchr(b'"', bytes).is_some() {
        return Ok(None);
    }
    let text = std::str::from_utf8(bytes).map_err(|err| CsvError {
        line: first_line + memchr::memchr_iter(b'\n', &bytes[..err.valid_up_to()]).count() as u64,
        message: "the file is not valid UTF-8".to_string(),
    })?;
    let has_carriage_returns = memchr::memchr(b'\r', bytes).is_some();
    let mut columns: Vec<ColumnBuilder> = (0..width).map(|_| ColumnBuilder::default()).collect();
    let mut commas: Vec<usize> = Vec::with_capacity(width);
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len()));
    for (offset, end) in ends.enumerate() {
        let mut line = &text[start..end];
        start = end + 1;
        if has_carriage_returns {
            line = line.strip_suffix('\r').unwrap_or(line);
            if memchr::memchr(b'\r', line.as_bytes()).is_some() {
                return Ok(None);
            }
        }
        if line.is_empty() {
            continue;
        }
        commas.clear();
        commas.extend(memchr::memchr_iter(b',', line.as_bytes()));
        let mut field_start = 0;
        let fields = commas.iter().copied().chain([line.len()]).map(|comma| {
            let field = &line[field_start..comma];
            field_start = comma + 1;
            field
        });
        add_record(
            &mut columns,
            first_line + offset as u64,
            commas.len() + 1,
            fields,
        )?;
    }
    Ok(Some(columns))
}

/// Adds one record of `count` fields (trimmed here) on file line `line`. A record of spaces
/// only is a blank line and skipped, as the reader skips empty lines; more fields than the
/// header is an error; fewer are padded with nulls.
fn add_record<'a>(
    columns: &mut [ColumnBuilder],
    line: u64,
    count: usize,
    fields: impl Iterator<Item = &'a str>,
) -> Result<(), CsvError> {
    if count > columns.len() {
        return Err(CsvError {
            line,
            message: format!(
                "this row has {count} fields but the header has {}",
                columns.len()
            ),
        });
    }
    let mut fields = fields.map(str::trim_ascii).peekable();
    if count == 1 && fields.peek().is_some_and(|field| field.is_empty()) {
        return Ok(());
    }
    for column in columns {
        column.push(fields.next().unwrap_or_default());
    }
    Ok(())
}

/// Header names made unique the way pandas does it: `a, a, a` → `a, a.1, a.2`; an empty name
/// becomes `Unnamed: N` (N = 0-based position).
fn unique_names(header: &csv::ByteRecord) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = Vec::with_capacity(header.len());
    for (index, name) in header.iter().enumerate() {
        let name = std::str::from_utf8(name.trim_ascii())
            .map_err(|_| "the header is not valid UTF-8".to_string())?;
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
    Ok(names)
}

/// Cuts a reader into blocks of whole records.
struct Blocks<R> {
    input: R,
    carry: Vec<u8>,
    /// The file line the next block starts on.
    next_line: u64,
    at_end: bool,
}

impl<R: Read> Blocks<R> {
    /// The next block and the line it starts on, or `None` at the end.
    fn next_block(&mut self) -> io::Result<Option<(u64, Vec<u8>)>> {
        let mut block = std::mem::take(&mut self.carry);
        let mut want = BLOCK_BYTES;
        loop {
            if !self.at_end && block.len() < want {
                let missing = (want - block.len()) as u64;
                let read = (&mut self.input).take(missing).read_to_end(&mut block)?;
                self.at_end = read as u64 != missing;
            }
            if self.at_end {
                break;
            }
            if let Some(end) = last_record_end(&block) {
                self.carry = block.split_off(end + 1);
                break;
            }
            want = block.len() * 2; // one record longer than a block: read on
        }
        if block.is_empty() {
            return Ok(None);
        }
        let line = self.next_line;
        self.next_line += memchr::memchr_iter(b'\n', &block).count() as u64;
        Ok(Some((line, block)))
    }
}

/// The last `\n` preceded by an even number of quotes: a line end outside any quoted field.
fn last_record_end(block: &[u8]) -> Option<usize> {
    if memchr::memchr(b'"', block).is_none() {
        return memchr::memrchr(b'\n', block);
    }
    let mut inside_quotes = false;
    let mut last = None;
    for position in memchr::memchr2_iter(b'"', b'\n', block) {
        match block[position] {
            b'"' => inside_quotes = !inside_quotes,
            _ if !inside_quotes => last = Some(position),
            _ => {}
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Cell;

    fn json(table: &Table) -> serde_json::Value {
        let mut out = Vec::new();
        table.write_json(0..table.rows(), &mut out);
        serde_json::from_slice(&out).unwrap()
    }

    fn read(text: &[u8]) -> Table {
        read_csv(text).unwrap()
    }

    #[test]
    fn the_header_alone_is_read_like_the_whole_file() {
        let text = "\u{feff} date ,\"close\"\n2024-01-02,1\nbroken,\"";
        assert_eq!(read_header(text.as_bytes()).unwrap(), ["date", "close"]);
        assert!(read_header(&b""[..]).unwrap().is_empty());
        assert_eq!(read_header(&b"a,a\n"[..]).unwrap(), ["a", "a.1"]);
        assert!(read_header(&b"\xff\n"[..]).is_err());
    }

    #[test]
    fn column_order_is_the_header_order() {
        let mut out = Vec::new();
        read(b"z,a,m\n1,2,3\n").write_json(0..1, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), r#"[{"z":1,"a":2,"m":3}]"#);
    }

    #[test]
    fn non_finite_values_become_null_in_number_columns_only() {
        let value = json(&read(
            b"x,label\n1.5,NaN\nNaN,inf\ninf,a\n-Infinity,b\n1e999,c\n",
        ));
        let xs: Vec<_> = value
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["x"].clone())
            .collect();
        assert_eq!(xs[0], serde_json::json!(1.5));
        assert!(xs[1..].iter().all(serde_json::Value::is_null), "{xs:?}");
        assert_eq!(value[0]["label"], "NaN", "a text column keeps its text");
    }

    #[test]
    fn bom_crlf_quotes_and_newlines() {
        let csv = "\u{feff}name , comment\r\n\"Smith, J\",\"said \"\"hi\"\"\nthen left\"\r\n";
        let table = read(csv.as_bytes());
        assert_eq!(table.names(), ["name", "comment"]);
        assert_eq!(
            json(&table),
            serde_json::json!([{"name": "Smith, J", "comment": "said \"hi\"\nthen left"}])
        );
    }

    #[test]
    fn short_rows_are_padded_and_long_rows_rejected_with_their_line() {
        assert_eq!(
            json(&read(b"a,b,c\n1,2\n")),
            serde_json::json!([{"a": 1, "b": 2, "c": null}])
        );
        let err = read_csv(&b"a,b\n1,2\n3,4\n5,6,7\n"[..]).unwrap_err();
        assert_eq!(err.line, 4);
        assert!(err.message.contains("3 fields"), "{}", err.message);
    }

    #[test]
    fn invalid_utf8_is_an_error_with_a_line() {
        let err = read_csv(&b"a\nok\n\xff\xfe\n"[..]).unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("UTF-8"));
    }

    #[test]
    fn repeated_and_empty_header_names() {
        assert_eq!(
            read(b"a,a,,a\n1,2,3,4\n").names(),
            ["a", "a.1", "Unnamed: 2", "a.2"]
        );
    }

    #[test]
    fn empty_file_and_header_only() {
        assert_eq!(json(&read(b"")), serde_json::json!([]));
        assert_eq!(json(&read(b"a,b\n")), serde_json::json!([]));
        assert_eq!(read(b"a,b\n").names(), ["a", "b"]);
    }

    #[test]
    fn blank_lines_are_skipped_and_empty_fields_are_null() {
        let table = read(b"t,n\nalpha,1\n\n\"\",2\nbeta,3\n   \ngamma,4\n");
        assert_eq!(table.rows(), 4);
        assert_eq!(table.cell(0, 0), Cell::Text("alpha"));
        assert_eq!(table.cell(1, 0), Cell::Null);
        assert_eq!(table.cell(3, 0), Cell::Text("gamma"));
        assert_eq!(table.cell(3, 1), Cell::Int(4));
    }

    #[test]
    fn the_unquoted_fast_path_reads_like_the_general_reader() {
        let block = b"1, a ,2.5\r\n\n  \n3,b\n4\n,,\n5,c,x\n";
        let table = |columns: Vec<ColumnBuilder>| {
            let table = Table::new(vec!["n".into(), "t".into(), "v".into()], columns);
            let mut out = Vec::new();
            table.write_json(0..table.rows(), &mut out);
            String::from_utf8(out).unwrap()
        };
        let fast = parse_unquoted_block(block, 2, 3)
            .unwrap()
            .expect("no quotes: fast path");
        let general = parse_with_reader(block, 2, 3).unwrap();
        assert_eq!(table(fast), table(general));
        assert!(parse_unquoted_block(b"a,\"b\"\n", 1, 2).unwrap().is_none());
        assert!(
            parse_unquoted_block(b"a\rb\n", 1, 1).unwrap().is_none(),
            "bare CR ends a record"
        );
        let err = parse_unquoted_block(b"1,2\n3,4,5\n", 10, 2).unwrap_err();
        assert_eq!((err.line, err.message.contains("3 fields")), (11, true));
        let err = parse_unquoted_block(b"ok\n\xff\n", 10, 1).unwrap_err();
        assert_eq!(err.line, 11);
    }

    #[test]
    fn record_ends_ignore_newlines_inside_quotes() {
        assert_eq!(last_record_end(b"a,b\n1,2\n3,4"), Some(7));
        assert_eq!(last_record_end(b"a\n\"x\ny\"\n\"open\n"), Some(7));
        assert_eq!(last_record_end(b"\"a\nb"), None);
    }

    #[test]
    fn many_blocks_give_the_same_table_as_one() {
        // Big enough for several blocks, with quoted newlines and a type change late on.
        let mut csv = String::from("id,name,value,note\n");
        let rows = 100_000;
        for i in 0..rows {
            let note = if i % 1000 == 0 {
                "\"two\nlines, quoted\"".to_string()
            } else {
                format!("n{}", i % 7)
            };
            let value = if i == rows - 1 {
                "x".to_string()
            } else {
                format!("{}.25", i % 100)
            };
            csv.push_str(&format!("{i},T{:03},{value},{note}\n", i % 100));
        }
        assert!(csv.len() > 2 * BLOCK_BYTES);
        let table = read(csv.as_bytes());
        assert_eq!(table.rows(), rows);
        assert_eq!(table.cell(0, 0), Cell::Int(0));
        assert_eq!(table.cell(12_345, 0), Cell::Int(12_345));
        assert_eq!(table.cell(12_345, 1), Cell::Text("T045"));
        assert_eq!(table.cell(5000, 3), Cell::Text("two\nlines, quoted"));
        assert_eq!(
            table.cell(1, 2),
            Cell::Text("1.25"),
            "the late text cell made the column text"
        );
        assert_eq!(table.cell(rows - 1, 2), Cell::Text("x"));
        let mut bad = csv.clone();
        bad.push_str("1,2,3,4,5\n");
        assert_eq!(
            read_csv(bad.as_bytes()).unwrap_err().line,
            rows as u64 + 2 + (rows as u64 / 1000)
        );
    }
}
