//! Reading CSV into a [`Table`], in parallel for big files.
//!
//! The input is cut into blocks of about [`BLOCK_BYTES`] at line ends that lie outside quoted
//! fields (an even number of quotes before them), so every block holds whole records. Blocks are
//! parsed on worker threads into column builders and joined in file order as they finish, so
//! memory holds the typed columns plus a few blocks, never the whole file as text; a parsed
//! block's buffer is read into again. Most blocks take the fast path (no quotes, and no carriage
//! return but before a line end): their rows are split in batches, then each column takes a
//! batch of cells at once.
//!
//! Accepted: a UTF-8 BOM, CRLF or LF line ends, quoted fields holding commas, quotes and
//! newlines, and spaces around fields (trimmed). Blank lines are skipped; short rows are padded
//! with nulls. A row with more fields than the header, or text that is not UTF-8, is an error
//! naming its line (1-based, as an editor shows it).
//!
//! The separator may be any ASCII byte but the quote (comma, semicolon, tab, pipe are detected
//! by [`crate::formats::delimited`], which also finds the decimal-comma columns of a
//! semicolon-separated file).

use std::collections::{BTreeMap, HashSet};
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use crate::error::{FileError, Location};
use crate::formats::delimited::{
    SAMPLE_LINES, decimal_comma_columns, detect_delimiter, with_decimal_point,
};
use crate::table::{ColumnBuilder, Table};

/// Block size: large enough to amortize the hand-off, small enough to keep memory flat. Tests
/// use small blocks so that small inputs cross many block boundaries.
#[cfg(not(test))]
const BLOCK_BYTES: usize = 8 << 20;
#[cfg(test)]
const BLOCK_BYTES: usize = 64 << 10;

/// Why a CSV does not parse, and on which line (1-based; 0 for no line in particular).
#[derive(Debug, PartialEq, Eq)]
pub struct CsvError {
    pub line: u64,
    pub message: String,
}

impl CsvError {
    /// This error as the file `shown`'s parse error.
    pub fn in_file(self, shown: &str) -> FileError {
        FileError::Parse {
            file: shown.to_string(),
            at: Location::line(self.line),
            message: self.message,
        }
    }

    fn io(err: io::Error) -> CsvError {
        CsvError {
            line: 0,
            message: format!("could not be read: {err}"),
        }
    }
}

/// How a file's records are split into fields, and which columns read decimal commas.
#[derive(Debug)]
struct Fields {
    delimiter: u8,
    /// By column; missing ones (all, for most files) read cells as written.
    decimal_commas: Vec<bool>,
}

impl Fields {
    #[cfg(test)]
    const COMMA: Fields = Fields {
        delimiter: b',',
        decimal_commas: Vec::new(),
    };

    fn decimal_comma(&self, column: usize) -> bool {
        self.decimal_commas.get(column).copied().unwrap_or(false)
    }
}

/// Reads a whole CSV with a header row, its separator detected.
pub fn read_csv(input: impl Read + Send) -> Result<Table, CsvError> {
    read_delimited(input, None, None)
}

/// Reads a whole delimited file with a header row. `delimiter` is the field separator
/// (`None`: detected); `decimal` is `b','` to read the decimal commas of columns written that
/// way, `b'.'` never to (`None`: only when the separator is a semicolon).
pub fn read_delimited(
    input: impl Read + Send,
    delimiter: Option<u8>,
    decimal: Option<u8>,
) -> Result<Table, CsvError> {
    let mut blocks = Blocks {
        input,
        carry: Vec::new(),
        next_line: 1,
        at_end: false,
    };
    let Some(mut first) = blocks.next_block(Vec::new()).map_err(CsvError::io)? else {
        return Ok(Table::new(Vec::new(), Vec::new()));
    };
    if first.bytes.starts_with(b"\xEF\xBB\xBF") {
        first.start = 3;
    }
    let delimiter = delimiter.unwrap_or_else(|| detect_delimiter(first.records()));
    let mut reader = record_reader(first.records(), delimiter);
    let mut header = csv::ByteRecord::new();
    if !reader
        .read_byte_record(&mut header)
        .map_err(|err| csv_error(&err, first.line))?
    {
        return Ok(Table::new(Vec::new(), Vec::new()));
    }
    let names = unique_names(&header, first.line)?;
    let position = reader.position().clone();
    first.start += position.byte() as usize;
    first.line += position.line() - 1;
    let width = names.len();
    let reads_decimal_commas =
        decimal.unwrap_or(if delimiter == b';' { b',' } else { b'.' }) == b',';
    let fields = &Fields {
        delimiter,
        decimal_commas: match reads_decimal_commas {
            true => sample_decimal_commas(first.records(), delimiter, width),
            false => Vec::new(),
        },
    };
    let failed = &AtomicBool::new(false);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let (task_sender, task_receiver) = mpsc::sync_channel::<(usize, Block)>(workers);
    // Only the workers hold the task receiver: once the last of them ends (a panic, or the
    // collector gone), it is dropped and the feeder's send fails instead of waiting for ever.
    let task_receiver = Arc::new(Mutex::new(task_receiver));
    // Parsed blocks' buffers go back to the feeder, which reads the next blocks into them.
    let (spare_sender, spare_receiver) = mpsc::channel::<Vec<u8>>();
    // Blocks' column builders, emptied into the table's columns, go back to the workers, which
    // parse the next blocks into them: only the table's columns take fresh memory.
    let spare_columns = &Mutex::new(Vec::<Vec<ColumnBuilder>>::new());

    std::thread::scope(|scope| {
        let (result_sender, result_receiver) = mpsc::channel();
        for _ in 0..workers {
            let (tasks, results) = (Arc::clone(&task_receiver), result_sender.clone());
            let spares = spare_sender.clone();
            scope.spawn(move || {
                loop {
                    let task = tasks.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok((index, block)) = task else {
                        return;
                    };
                    let reused = spare_columns
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .pop();
                    let parsed = parse_block(&block, fields, width, reused);
                    if parsed.is_err() {
                        failed.store(true, Ordering::SeqCst);
                    }
                    let _ = spares.send(block.bytes);
                    if results.send((index, parsed)).is_err() {
                        return;
                    }
                }
            });
        }
        drop((task_receiver, result_sender, spare_sender));
        let feeder = scope.spawn(move || -> Result<(), CsvError> {
            let mut block = Some(first);
            let mut index = 0;
            while let Some(next) = block {
                if failed.load(Ordering::SeqCst) || task_sender.send((index, next)).is_err() {
                    return Ok(());
                }
                index += 1;
                // A buffer that grew for one record longer than a block is not kept.
                let buffer = spare_receiver
                    .try_recv()
                    .ok()
                    .filter(|spare| spare.capacity() <= 2 * BLOCK_BYTES)
                    .unwrap_or_default();
                block = blocks.next_block(buffer).map_err(CsvError::io)?;
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
                    Ok(mut block) if first_error.is_none() => {
                        for (column, part) in columns.iter_mut().zip(&mut block) {
                            column.append(part);
                        }
                        spare_columns
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(block);
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

/// The decimal-comma columns of the first records of `records` (see
/// [`decimal_comma_columns`]).
fn sample_decimal_commas(records: &[u8], delimiter: u8, width: usize) -> Vec<bool> {
    let mut reader = record_reader(records, delimiter);
    let mut sample = Vec::new();
    let mut record = csv::StringRecord::new();
    while sample.len() < SAMPLE_LINES && reader.read_record(&mut record).unwrap_or(false) {
        sample.push(record.clone());
    }
    decimal_comma_columns(
        width,
        sample
            .iter()
            .map(|record| record.iter().map(str::trim_ascii).collect()),
    )
}

/// Reads only a CSV's header row (the column names, as [`read_csv`] names them, separator
/// detected unless given): a cheap look at a file's columns without reading its rows.
pub fn read_header(mut input: impl Read, delimiter: Option<u8>) -> Result<Vec<String>, CsvError> {
    let mut sample = Vec::new();
    (&mut input)
        .take(64 << 10)
        .read_to_end(&mut sample)
        .map_err(CsvError::io)?;
    let text = sample.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&sample);
    let delimiter = delimiter.unwrap_or_else(|| detect_delimiter(text));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(io::Cursor::new(&sample).chain(input));
    let mut header = csv::ByteRecord::new();
    if !reader
        .read_byte_record(&mut header)
        .map_err(|err| csv_error(&err, 1))?
    {
        return Ok(Vec::new());
    }
    let line = reader.position().line();
    unique_names(&header, line)
}

fn record_reader(bytes: &[u8], delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
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

/// Parses a block's records into column builders: `reused` (empty ones) when given.
fn parse_block(
    block: &Block,
    fields: &Fields,
    width: usize,
    reused: Option<Vec<ColumnBuilder>>,
) -> Result<Vec<ColumnBuilder>, CsvError> {
    let fresh = || builders(width, row_room(block, width));
    let reused = reused.unwrap_or_else(fresh);
    match parse_unquoted_block(block.records(), fields, block.line, reused)? {
        Some(columns) => Ok(columns),
        None => parse_with_reader(block.records(), fields, block.line, fresh()),
    }
}

/// How many rows a block's builders make room for: a line end per row at most, and a whole row
/// has `width` bytes at least (its separators), so that blank lines or newlines in quotes
/// cannot make a wide table reserve far more than the block holds (shorter rows just grow the
/// builders).
fn row_room(block: &Block, width: usize) -> usize {
    (block.line_ends + 1).min(block.records().len() / width.max(1) + 1)
}

/// Builders for `width` columns with room for `rows` cells each.
fn builders(width: usize, rows: usize) -> Vec<ColumnBuilder> {
    (0..width)
        .map(|_| ColumnBuilder::with_capacity(rows))
        .collect()
}

/// The general path: any valid CSV, through the `csv` crate, into empty `columns`;
/// `first_line` is the file line `bytes` start on.
fn parse_with_reader(
    bytes: &[u8],
    fields: &Fields,
    first_line: u64,
    mut columns: Vec<ColumnBuilder>,
) -> Result<Vec<ColumnBuilder>, CsvError> {
    let mut reader = record_reader(bytes, fields.delimiter);
    let mut record = csv::StringRecord::new();
    while reader
        .read_record(&mut record)
        .map_err(|err| csv_error(&err, first_line))?
    {
        let line = first_line + record.position().map_or(1, |p| p.line()) - 1;
        add_record(&mut columns, fields, line, record.len(), record.iter())?;
    }
    Ok(columns)
}

/// Cells per batch of the fast path: the field spans of a batch of rows (8 bytes a cell, so
/// 128 KiB) stay in cache while each column takes its cells of the batch. Tests use small
/// batches so that small blocks cross many batch boundaries.
#[cfg(not(test))]
const BATCH_CELLS: usize = 16 << 10;
#[cfg(test)]
const BATCH_CELLS: usize = 32;

/// The fast path for the common machine-written block: no quotes and no bare carriage returns
/// (a `\r` only ends a line, before its `\n`, and trimming drops it), so records are lines and
/// fields are split at commas (several times faster than the general reader). The fields of a
/// batch of rows are found first, then each column takes its cells of the batch in one run.
/// `None` when the block needs the general reader.
fn parse_unquoted_block(
    bytes: &[u8],
    fields: &Fields,
    first_line: u64,
    mut columns: Vec<ColumnBuilder>,
) -> Result<Option<Vec<ColumnBuilder>>, CsvError> {
    let bare_carriage_return = || {
        memchr::memchr_iter(b'\r', bytes)
            .any(|position| bytes.get(position + 1).is_some_and(|&next| next != b'\n'))
    };
    if memchr::memchr(b'"', bytes).is_some()
        || bytes.len() >= u32::MAX as usize
        || bare_carriage_return()
    {
        return Ok(None);
    }
    let text = std::str::from_utf8(bytes).map_err(|err| CsvError {
        line: first_line + memchr::memchr_iter(b'\n', &bytes[..err.valid_up_to()]).count() as u64,
        message: "the file is not valid UTF-8".to_string(),
    })?;
    let width = columns.len();
    // A row takes two bytes or more (with its line end) but the last: a small block gets a
    // small batch.
    let batch_rows = (BATCH_CELLS / width.max(1)).clamp(1, bytes.len() / 2 + 1);
    // The field of batch row `row` in column `column` is `spans[column * batch_rows + row]`,
    // as byte offsets into the block; a missing field is an empty span, a null.
    let mut spans = vec![(0u32, 0u32); batch_rows * width];
    let mut rows = 0;
    let mut field = 0;
    let mut field_start = 0;
    let mut line = first_line;
    for end in Separators::new(bytes, fields.delimiter).chain([bytes.len()]) {
        if field < width {
            spans[field * batch_rows + rows] = (field_start, end as u32);
        }
        field += 1;
        field_start = end as u32 + 1;
        if bytes.get(end) == Some(&fields.delimiter) {
            continue;
        }
        if field > width {
            return Err(too_many_fields(line, field, width));
        }
        let (start, end) = spans[rows];
        if field > 1 || !text[start as usize..end as usize].trim_ascii().is_empty() {
            for column in field..width {
                spans[column * batch_rows + rows] = (0, 0);
            }
            rows += 1;
            if rows == batch_rows {
                add_batch(&mut columns, fields, text, &spans, rows);
                rows = 0;
            }
        }
        field = 0;
        line += 1;
    }
    add_batch(&mut columns, fields, text, &spans, rows);
    Ok(Some(columns))
}

/// Adds the first `rows` rows of a batch of `spans` (as [`parse_unquoted_block`] lays them
/// out) to the columns, trimming each cell.
fn add_batch(
    columns: &mut [ColumnBuilder],
    fields: &Fields,
    text: &str,
    spans: &[(u32, u32)],
    rows: usize,
) {
    let batch_rows = spans.len() / columns.len();
    let mut buffer = String::new();
    for (index, (column, spans)) in columns
        .iter_mut()
        .zip(spans.chunks_exact(batch_rows))
        .enumerate()
    {
        let cells = spans[..rows]
            .iter()
            .map(|&(start, end)| trim(&text[start as usize..end as usize]));
        if fields.decimal_comma(index) {
            cells.for_each(|cell| column.push(with_decimal_point(cell, &mut buffer)));
        } else {
            column.extend(cells);
        }
    }
}

/// `cell.trim_ascii()`, after a look at both ends: machine-written cells seldom need it.
fn trim(cell: &str) -> &str {
    match (cell.as_bytes().first(), cell.as_bytes().last()) {
        (Some(&first), Some(&last)) if first > b' ' && last > b' ' => cell,
        _ => cell.trim_ascii(),
    }
}

/// The positions of the separators and line ends of a block, in order. Each 64 bytes are turned
/// into a bit mask of their separators at once, so the cost is per byte scanned plus per
/// separator, with no call per field.
struct Separators<'a> {
    bytes: &'a [u8],
    delimiter: u8,
    /// Where the chunk of `mask` starts; the next chunk starts 64 bytes later.
    chunk_start: usize,
    /// The separators of the current chunk not yet returned, bit `i` for byte `i`.
    mask: u64,
}

impl<'a> Separators<'a> {
    fn new(bytes: &'a [u8], delimiter: u8) -> Separators<'a> {
        let mut separators = Separators {
            bytes,
            delimiter,
            chunk_start: 0,
            mask: 0,
        };
        separators.mask = separators.chunk_mask();
        separators
    }

    /// The separators of the 64 bytes at `chunk_start` (fewer at the end of the block).
    fn chunk_mask(&self) -> u64 {
        let rest = self.bytes.get(self.chunk_start..).unwrap_or_default();
        let mut chunk = [0u8; 64];
        let chunk = match rest.first_chunk::<64>() {
            Some(full) => full,
            None => {
                chunk[..rest.len()].copy_from_slice(rest);
                &chunk
            }
        };
        // One loop the compiler vectorizes into byte compares, then 8 flags at a time gathered
        // into 8 bits by one multiplication: flag i (bit 8i) lands on bit 56 + i, and no two
        // partial products overlap, so nothing carries.
        let mut flags = [0u8; 64];
        let delimiter = self.delimiter;
        for (flag, &byte) in flags.iter_mut().zip(chunk) {
            *flag = u8::from(byte == delimiter) | u8::from(byte == b'\n');
        }
        let mut mask = 0;
        for (index, bytes) in flags.chunks_exact(8).enumerate() {
            let word = u64::from_le_bytes(bytes.try_into().unwrap_or_default());
            mask |= (word.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * index);
        }
        mask
    }
}

impl Iterator for Separators<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.chunk_start += 64;
            if self.chunk_start >= self.bytes.len() {
                return None;
            }
            self.mask = self.chunk_mask();
        }
        let position = self.chunk_start + self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(position)
    }
}

/// Adds one record of `count` fields (trimmed here) on file line `line`. A record of spaces
/// only is a blank line and skipped, as the reader skips empty lines; more fields than the
/// header is an error; fewer are padded with nulls.
fn add_record<'a>(
    columns: &mut [ColumnBuilder],
    fields: &Fields,
    line: u64,
    count: usize,
    cells: impl Iterator<Item = &'a str>,
) -> Result<(), CsvError> {
    if count > columns.len() {
        return Err(too_many_fields(line, count, columns.len()));
    }
    let mut cells = cells.map(str::trim_ascii).peekable();
    if count == 1 && cells.peek().is_some_and(|cell| cell.is_empty()) {
        return Ok(());
    }
    let mut buffer = String::new();
    for (index, column) in columns.iter_mut().enumerate() {
        let cell = cells.next().unwrap_or_default();
        match fields.decimal_comma(index) {
            true => column.push(with_decimal_point(cell, &mut buffer)),
            false => column.push(cell),
        }
    }
    Ok(())
}

fn too_many_fields(line: u64, count: usize, width: usize) -> CsvError {
    CsvError {
        line,
        message: format!("this row has {count} fields but the header has {width}"),
    }
}

/// Header names made unique the way pandas does it: `a, a, a` → `a, a.1, a.2`; an empty name
/// becomes `Unnamed: N` (N = 0-based position). `line` is the header's, for the error.
fn unique_names(header: &csv::ByteRecord, line: u64) -> Result<Vec<String>, CsvError> {
    let mut names: Vec<String> = Vec::with_capacity(header.len());
    let mut taken: HashSet<String> = HashSet::with_capacity(header.len());
    for (index, name) in header.iter().enumerate() {
        let name = std::str::from_utf8(name.trim_ascii()).map_err(|_| CsvError {
            line,
            message: "the header is not valid UTF-8".to_string(),
        })?;
        let base = if name.is_empty() {
            format!("Unnamed: {index}")
        } else {
            name.to_string()
        };
        let mut candidate = base.clone();
        let mut suffix = 0;
        while taken.contains(&candidate) {
            suffix += 1;
            candidate = format!("{base}.{suffix}");
        }
        taken.insert(candidate.clone());
        names.push(candidate);
    }
    Ok(names)
}

/// Whole records cut from the input.
struct Block {
    bytes: Vec<u8>,
    /// Where the records start in `bytes` (after the BOM and the header in the first block).
    start: usize,
    /// The file line the records start on.
    line: u64,
    /// The `\n` in `bytes`: one more is an upper bound on the number of records.
    line_ends: usize,
}

impl Block {
    fn records(&self) -> &[u8] {
        &self.bytes[self.start..]
    }
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
    /// The next block, read into `buffer` (whose old content is dropped, its room reused), or
    /// `None` at the end.
    fn next_block(&mut self, mut buffer: Vec<u8>) -> io::Result<Option<Block>> {
        buffer.clear();
        buffer.append(&mut self.carry);
        // Emptied; after a record longer than a block it need not stay that large.
        self.carry.shrink_to(BLOCK_BYTES);
        let mut want = BLOCK_BYTES;
        loop {
            if !self.at_end && buffer.len() < want {
                let missing = want - buffer.len();
                buffer.reserve_exact(missing);
                let read = (&mut self.input)
                    .take(missing as u64)
                    .read_to_end(&mut buffer)?;
                self.at_end = read != missing;
            }
            if self.at_end {
                break;
            }
            if let Some(end) = last_record_end(&buffer) {
                self.carry.extend_from_slice(&buffer[end + 1..]);
                buffer.truncate(end + 1);
                break;
            }
            want = buffer.len() * 2; // one record longer than a block: read on
        }
        if buffer.is_empty() {
            return Ok(None);
        }
        let line_ends = memchr::memchr_iter(b'\n', &buffer).count();
        let line = self.next_line;
        self.next_line += line_ends as u64;
        Ok(Some(Block {
            bytes: buffer,
            start: 0,
            line,
            line_ends,
        }))
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

    #[test]
    fn room_for_rows_is_bounded_by_the_bytes_a_row_needs() {
        let block = |bytes: &[u8]| Block {
            bytes: bytes.to_vec(),
            start: 0,
            line: 1,
            line_ends: memchr::memchr_iter(b'\n', bytes).count(),
        };
        let blank_lines = block(&[b'\n'; 10_000]);
        assert_eq!(row_room(&blank_lines, 1), 10_001);
        assert_eq!(row_room(&blank_lines, 1_000), 11);
        let rows = block(b"1,2,3\n4,5,6\n");
        assert_eq!(row_room(&rows, 3), 3);
    }
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
        assert_eq!(
            read_header(text.as_bytes(), None).unwrap(),
            ["date", "close"]
        );
        assert!(read_header(&b""[..], None).unwrap().is_empty());
        assert_eq!(read_header(&b"a,a\n"[..], None).unwrap(), ["a", "a.1"]);
        assert!(read_header(&b"\xff\n"[..], None).is_err());
    }

    #[test]
    fn a_wide_header_is_named_in_linear_time() {
        let mut text: String = (0..100_000).map(|i| format!("c{i},")).collect();
        text.push_str("c0\n");
        let started = std::time::Instant::now();
        let names = read_header(text.as_bytes(), None).unwrap();
        let took = started.elapsed();
        assert!(took.as_secs() < 2, "{took:?}");
        assert_eq!(names.len(), 100_001);
        assert_eq!(names[100_000], "c0.1");
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
        let fast = parse_unquoted_block(block, &Fields::COMMA, 2, builders(3, 0))
            .unwrap()
            .expect("no quotes: fast path");
        let general = parse_with_reader(block, &Fields::COMMA, 2, builders(3, 0)).unwrap();
        assert_eq!(table(fast), table(general));
        assert!(
            parse_unquoted_block(b"a,\"b\"\n", &Fields::COMMA, 1, builders(2, 0))
                .unwrap()
                .is_none()
        );
        assert!(
            parse_unquoted_block(b"a\rb\n", &Fields::COMMA, 1, builders(1, 0))
                .unwrap()
                .is_none(),
            "bare CR ends a record"
        );
        let err =
            parse_unquoted_block(b"1,2\n3,4,5\n", &Fields::COMMA, 10, builders(2, 0)).unwrap_err();
        assert_eq!((err.line, err.message.contains("3 fields")), (11, true));
        let err =
            parse_unquoted_block(b"ok\n\xff\n", &Fields::COMMA, 10, builders(1, 0)).unwrap_err();
        assert_eq!(err.line, 11);
    }

    #[test]
    fn the_fast_path_reads_batch_after_batch_like_the_general_reader() {
        // Rows of every shape, many more than a batch holds (32 cells: 8 rows of 4 here).
        let shapes = [
            "1,a,2.5,x\n",
            "\n",
            "2, b , -1 ,\r\n",
            "   \r\n",
            "3\n",
            ",,,\n",
            "4,é,NaN,\t y\n",
            "5,a,,z",
        ];
        let mut block = String::new();
        for i in 0..100 {
            block.push_str(shapes[i * 7 % shapes.len()]);
            if !block.ends_with('\n') {
                block.push('\n');
            }
        }
        let render = |columns: Vec<ColumnBuilder>| {
            let names = ["n", "t", "v", "w"].map(String::from).to_vec();
            let table = Table::new(names, columns);
            let mut out = Vec::new();
            table.write_json(0..table.rows(), &mut out);
            (table.rows(), String::from_utf8(out).unwrap())
        };
        let fast = parse_unquoted_block(block.as_bytes(), &Fields::COMMA, 2, builders(4, 101))
            .unwrap()
            .expect("no quotes: fast path");
        let general =
            parse_with_reader(block.as_bytes(), &Fields::COMMA, 2, builders(4, 101)).unwrap();
        let (rows, fast) = render(fast);
        assert_eq!(rows, 76, "100 lines, 24 of them blank");
        assert_eq!(fast, render(general).1);
        // The too-long row is found in a later batch, with its line.
        let mut long = block.clone();
        long.push_str("1,2,3,4,5\n");
        let err =
            parse_unquoted_block(long.as_bytes(), &Fields::COMMA, 2, builders(4, 0)).unwrap_err();
        assert_eq!((err.line, err.message.contains("5 fields")), (102, true));
    }

    #[test]
    fn the_fast_path_agrees_with_the_general_reader_on_random_blocks() {
        let pieces = [
            "", "", "1", "-2", "3.25", "007", "NaN", "inf", "true", "x", " y ", "é", ",", ",",
            "\n", "\n", "\r\n", " ",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..300 {
            let mut block = String::new();
            for _ in 0..60 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                block.push_str(pieces[state as usize % pieces.len()]);
            }
            // Errors are compared by message: after blank lines the general reader names the
            // line where they start (a quirk of its record positions), the fast path the row's.
            let outcome = |parsed: Result<Vec<ColumnBuilder>, CsvError>| {
                parsed.map_err(|err| err.message).map(|columns| {
                    let names = (0..3).map(|i| i.to_string()).collect();
                    let table = Table::new(names, columns);
                    let mut out = Vec::new();
                    table.write_json(0..table.rows(), &mut out);
                    String::from_utf8(out).unwrap()
                })
            };
            let fast = parse_unquoted_block(block.as_bytes(), &Fields::COMMA, 5, builders(3, 0))
                .transpose()
                .expect("no quotes nor bare CR: fast path");
            let general = parse_with_reader(block.as_bytes(), &Fields::COMMA, 5, builders(3, 0));
            assert_eq!(outcome(fast), outcome(general), "{block:?}");
        }
    }

    #[test]
    fn trimming_looks_at_both_ends_like_trim_ascii() {
        for byte in 0..128u8 {
            let edge = char::from(byte);
            for cell in [
                format!("{edge}"),
                format!("{edge}a"),
                format!("a{edge}"),
                format!("{edge}é {edge}"),
                format!("{edge}{edge}"),
            ] {
                assert_eq!(trim(&cell), cell.trim_ascii(), "{cell:?}");
            }
        }
        assert_eq!(trim(""), "");
    }

    #[test]
    fn separators_are_every_comma_and_line_end() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let alphabet = ",\n\r\"a0 é\u{1F600}".as_bytes();
        for len in 0..300 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    alphabet[state as usize % alphabet.len()]
                })
                .collect();
            let expected: Vec<usize> = (0..len)
                .filter(|&i| bytes[i] == b',' || bytes[i] == b'\n')
                .collect();
            assert_eq!(Separators::new(&bytes, b',').collect::<Vec<_>>(), expected);
        }
        let every_byte: Vec<u8> = (0..=255u8).cycle().skip(7).take(700).collect();
        let expected: Vec<usize> = (0..every_byte.len())
            .filter(|&i| every_byte[i] == b',' || every_byte[i] == b'\n')
            .collect();
        assert_eq!(
            Separators::new(&every_byte, b',').collect::<Vec<_>>(),
            expected
        );
    }

    #[test]
    fn blocks_reuse_buffers_and_keep_records_whole() {
        let text: String = (0..30_000)
            .map(|i| format!("{i},\"q{}\"\n", "\n".repeat(i % 3)))
            .collect();
        let mut blocks = Blocks {
            input: text.as_bytes(),
            carry: Vec::new(),
            next_line: 1,
            at_end: false,
        };
        let mut joined = Vec::new();
        let mut buffer = b"stale bytes of an earlier block".to_vec();
        let (mut lines, mut count) = (1, 0);
        while let Some(block) = blocks.next_block(buffer).unwrap() {
            count += 1;
            assert_eq!(block.line, lines);
            assert_eq!(last_record_end(&block.bytes), Some(block.bytes.len() - 1));
            lines += block.line_ends as u64;
            joined.extend_from_slice(block.records());
            buffer = block.bytes;
        }
        assert!(count > 2, "{count} blocks");
        assert_eq!(lines, 60_001);
        assert_eq!(joined, text.as_bytes());
    }

    #[test]
    fn record_ends_ignore_newlines_inside_quotes() {
        assert_eq!(last_record_end(b"a,b\n1,2\n3,4"), Some(7));
        assert_eq!(last_record_end(b"a\n\"x\ny\"\n\"open\n"), Some(7));
        assert_eq!(last_record_end(b"\"a\nb"), None);
    }

    #[test]
    fn a_block_of_many_distinct_numbers_joins_a_block_of_text_as_text() {
        // Lines of equal length fill a block exactly: one block of distinct numbers (too many
        // for a dictionary) and then one of a single word, or the other way round. Joining
        // them makes a dictionary of the numbers, which has to become plain text.
        let lines = |width: usize| (BLOCK_BYTES - "id\n".len()) / width;
        let numbers: Vec<String> = (0..lines(7)).map(|i| (100_000 + i).to_string()).collect();
        let words = vec!["x".to_string(); lines(2)];
        assert!(numbers.len() > 2 * 4096, "more than a dictionary keeps");
        for cells in [
            [&numbers[..], &words].concat(),
            [&words[..], &numbers].concat(),
        ] {
            let csv = format!("id\n{}\n", cells.join("\n"));
            let table = read(csv.as_bytes());
            let read: Vec<Cell<'_>> = (0..table.rows()).map(|row| table.cell(row, 0)).collect();
            let expected: Vec<Cell<'_>> = cells.iter().map(|cell| Cell::Text(cell)).collect();
            assert!(read == expected, "{} rows", table.rows());
        }
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
