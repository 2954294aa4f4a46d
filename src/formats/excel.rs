//! Workbooks (`.xlsx`, `.xlsm`, `.xls`, `.ods`) through calamine: one sheet is one table.
//!
//! The header is the first row (from the top of the sheet's used cells) holding at least half
//! as many cells as the fullest of the first [`HEADER_SEARCH_ROWS`] rows, so a title row (a
//! merged cell, a note) and blank rows above the header are skipped. Columns that are blank in
//! the header and below are dropped; a blank row is skipped as a blank CSV line is. Cells keep
//! the workbook's types: a column of numbers (formula results are the cached values) or of
//! booleans is typed so, dates and date-times become ISO-8601 text (`2024-01-02`,
//! `2024-01-02T09:30:00`), and any other column is text as shown (`007` stays `007`); error
//! cells (`#DIV/0!`) are null.
//!
//! Invariant: what a workbook expands to is bounded by [`Caps`] before calamine holds it: the
//! parts of a zip-based one may declare no more than the decompression cap; an `.xlsx` sheet's
//! cells are streamed and counted; an `.ods` spreadsheet's cells, repeats multiplied out (one
//! XML cell may stand for a million), are counted in its XML before calamine expands them; an
//! `.xls` is bounded by its format (65,536 × 256 cells). An encrypted workbook is an error
//! saying so.

use std::io::{Cursor, Read};

use calamine::{Data, Ods, Reader, Xls, Xlsx};

use super::{Caps, Sheet};
use crate::table::{ColumnBuilder, Table};

/// Rows looked at to find the header.
const HEADER_SEARCH_ROWS: u32 = 20;

/// The magic number of an OLE compound file: what an encrypted `.xlsx` really is.
const OLE_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// A workbook's used cells, as `(row, column, value)`.
type Cells = Vec<(u32, u32, Data)>;

enum Book {
    Xlsx(Xlsx<Cursor<Vec<u8>>>),
    Xls(Xls<Cursor<Vec<u8>>>),
    Ods(Ods<Cursor<Vec<u8>>>),
}

/// The names of a workbook's sheets, in order.
pub fn sheet_names(name: &str, bytes: Vec<u8>, caps: &Caps) -> Result<Vec<String>, String> {
    Ok(match open(name, bytes, caps)? {
        Book::Xlsx(book) => book.sheet_names(),
        Book::Xls(book) => book.sheet_names(),
        Book::Ods(book) => book.sheet_names(),
    })
}

/// One sheet (`None`: the first that has cells) of the workbook `bytes` as a table; `name`
/// tells the format by its extension. Errors name the sheet; the caller names the file.
pub fn read(
    name: &str,
    bytes: Vec<u8>,
    sheet: Option<&Sheet>,
    caps: &Caps,
) -> Result<Table, String> {
    let mut book = open(name, bytes, caps)?;
    let names = match &book {
        Book::Xlsx(book) => book.sheet_names(),
        Book::Xls(book) => book.sheet_names(),
        Book::Ods(book) => book.sheet_names(),
    };
    let wanted: Vec<&String> = match sheet {
        None => names.iter().collect(),
        Some(Sheet::Name(wanted)) => names.iter().filter(|n| *n == wanted).collect(),
        Some(Sheet::Index(index)) => names.get(*index).into_iter().collect(),
    };
    if wanted.is_empty() {
        let sheet = sheet.map_or(String::new(), ToString::to_string);
        return Err(format!(
            "no sheet {sheet} (the sheets are: {})",
            names.join(", ")
        ));
    }
    for sheet in wanted {
        let cells =
            cells(&mut book, sheet, caps).map_err(|why| format!("sheet '{sheet}': {why}"))?;
        if !cells.is_empty() {
            return table(cells, caps).map_err(|why| format!("sheet '{sheet}': {why}"));
        }
    }
    Ok(Table::new(Vec::new(), Vec::new()))
}

fn open(name: &str, bytes: Vec<u8>, caps: &Caps) -> Result<Book, String> {
    if bytes.starts_with(&OLE_MAGIC) && !name.to_ascii_lowercase().ends_with(".xls") {
        return Err(
            "the workbook is encrypted (password protected): save it without a password".into(),
        );
    }
    let extension = name
        .rsplit_once('.')
        .map_or("", |(_, ext)| ext)
        .to_ascii_lowercase();
    if extension != "xls" {
        check_zip_sizes(&bytes, caps)?;
    }
    let cursor = Cursor::new(bytes);
    let described = |err: &dyn std::fmt::Display| {
        let text = err.to_string();
        match text.to_ascii_lowercase().contains("password") {
            true => {
                "the workbook is encrypted (password protected): save it without a password".into()
            }
            false => format!("not a readable workbook: {text}"),
        }
    };
    if extension == "ods" {
        check_ods_cells(cursor.get_ref(), caps)?;
    }
    match extension.as_str() {
        "xls" => Xls::new(cursor)
            .map(Book::Xls)
            .map_err(|err| described(&err)),
        "ods" => Ods::new(cursor)
            .map(Book::Ods)
            .map_err(|err| described(&err)),
        _ => Xlsx::new(cursor)
            .map(Book::Xlsx)
            .map_err(|err| described(&err)),
    }
}

/// Refuses a zip-based workbook whose parts declare more than the cap of decompressed bytes
/// (calamine reads some parts, the shared strings, whole when it opens the book).
fn check_zip_sizes(bytes: &[u8], caps: &Caps) -> Result<(), String> {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(()); // not a zip: calamine says what is wrong
    };
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        if let Ok(part) = archive.by_index_raw(index) {
            total = total.saturating_add(part.size());
        }
    }
    match total > caps.decompressed {
        true => Err(format!(
            "it expands to {total} bytes, more than {} (--max-decompressed-bytes)",
            caps.decompressed
        )),
        false => Ok(()),
    }
}

/// Refuses an OpenDocument spreadsheet whose cells with a value, repeats multiplied out, pass
/// the cap of cells (its `content.xml` read up to the decompression cap).
fn check_ods_cells(bytes: &[u8], caps: &Caps) -> Result<(), String> {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(()); // not a zip: calamine says what is wrong
    };
    let Ok(part) = archive.by_name("content.xml") else {
        return Ok(());
    };
    let mut content = Vec::new();
    super::compressed::Capped::new(part, caps.decompressed)
        .read_to_end(&mut content)
        .map_err(|err| format!("content.xml: {err}"))?;
    match ods_cells(&content) {
        cells if cells > caps.cells => Err(format!(
            "its sheets hold {cells} cells (repeats counted), more than {}",
            caps.cells
        )),
        _ => Ok(()),
    }
}

/// The cells holding a value in an OpenDocument `content.xml`, each row's and cell's repeat
/// counts multiplied out (empty cells, however repeated, are not counted: files end their
/// sheets with a million repeated empty rows).
fn ods_cells(content: &[u8]) -> u64 {
    let repeat = |tag: &[u8], name: &[u8]| -> u64 {
        let Some(at) = memchr::memmem::find(tag, name) else {
            return 1;
        };
        let value = &tag[at + name.len()..];
        let digits = value.iter().take_while(|b| b.is_ascii_digit()).count();
        std::str::from_utf8(&value[..digits])
            .ok()
            .and_then(|d| d.parse().ok())
            .unwrap_or(1)
    };
    let is = |tag: &[u8], name: &[u8]| {
        tag.starts_with(name)
            && tag
                .get(name.len())
                .is_none_or(|next| next.is_ascii_whitespace() || *next == b'/')
    };
    let (mut total, mut row_repeats, mut row_cells) = (0u64, 1u64, 0u64);
    for tag in content.split(|&b| b == b'<').skip(1) {
        let tag = &tag[..memchr::memchr(b'>', tag).unwrap_or(tag.len())];
        if is(tag, b"table:table-row") {
            row_repeats = repeat(tag, b"table:number-rows-repeated=\"");
            row_cells = 0;
        } else if is(tag, b"/table:table-row") {
            total = total.saturating_add(row_repeats.saturating_mul(row_cells));
        } else if is(tag, b"table:table-cell")
            && memchr::memmem::find(tag, b"office:value-type=").is_some()
        {
            row_cells = row_cells.saturating_add(repeat(tag, b"table:number-columns-repeated=\""));
        }
    }
    total
}

/// The used cells of a sheet, at most `caps.cells` of them.
fn cells(book: &mut Book, sheet: &str, caps: &Caps) -> Result<Cells, String> {
    let too_many = || format!("more than {} cells", caps.cells);
    let mut cells = Cells::new();
    match book {
        Book::Xlsx(book) => {
            let mut reader = book
                .worksheet_cells_reader(sheet)
                .map_err(|e| e.to_string())?;
            while let Some(cell) = reader.next_cell().map_err(|e| e.to_string())? {
                if cells.len() as u64 >= caps.cells {
                    return Err(too_many());
                }
                let (row, column) = cell.get_position();
                let value = Data::from(cell.get_value().clone());
                if value != Data::Empty {
                    cells.push((row, column, value));
                }
            }
        }
        Book::Xls(book) => cells = used(book.worksheet_range(sheet).map_err(|e| e.to_string())?),
        Book::Ods(book) => cells = used(book.worksheet_range(sheet).map_err(|e| e.to_string())?),
    }
    match cells.len() as u64 > caps.cells {
        true => Err(too_many()),
        false => Ok(cells),
    }
}

fn used(range: calamine::Range<Data>) -> Cells {
    range
        .used_cells()
        .filter(|(_, _, value)| **value != Data::Empty)
        .map(|(row, column, value)| {
            let (top, left) = range.start().unwrap_or_default();
            (top + row as u32, left + column as u32, value.clone())
        })
        .collect()
}

/// The table of a sheet's cells: header found, blank columns and rows dropped.
fn table(mut cells: Cells, caps: &Caps) -> Result<Table, String> {
    if cells.is_empty() {
        return Ok(Table::new(Vec::new(), Vec::new()));
    }
    cells.sort_unstable_by_key(|&(row, column, _)| (row, column));
    let top = cells[0].0;
    let header_row = header_row(&cells, top);
    let left = cells.iter().map(|c| c.1).min().unwrap_or(0);
    let right = cells.iter().map(|c| c.1).max().unwrap_or(0);
    let width = (right - left + 1) as usize;
    if width > caps.columns {
        return Err(format!("{width} columns, more than {}", caps.columns));
    }
    let data_rows: Vec<u32> = {
        let mut rows: Vec<u32> = cells
            .iter()
            .map(|c| c.0)
            .filter(|&r| r > header_row)
            .collect();
        rows.dedup();
        rows
    };
    if data_rows.len() as u64 * width as u64 > caps.cells {
        return Err(format!(
            "{} rows of {width} columns, more than {} cells",
            data_rows.len(),
            caps.cells
        ));
    }
    // Each column's cells, in row order, with the header's apart.
    let mut header: Vec<Option<String>> = vec![None; width];
    let mut columns: Vec<Vec<(usize, Data)>> = vec![Vec::new(); width];
    for (row, column, value) in cells {
        let column = (column - left) as usize;
        if row == header_row {
            header[column] = Some(text(&value));
        } else if row > header_row {
            let index = data_rows.partition_point(|&r| r < row);
            columns[column].push((index, value));
        }
    }
    let mut names = Vec::new();
    let mut builders = Vec::new();
    for (index, (name, cells)) in header.into_iter().zip(columns).enumerate() {
        if name.is_none() && cells.is_empty() {
            continue;
        }
        let name = name
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("Unnamed: {index}"));
        names.push(unique(&names, name));
        builders.push(column(&cells, data_rows.len()));
    }
    Ok(Table::new(names, builders))
}

/// The header's row: the first holding at least half the cells of the fullest of the first
/// rows.
fn header_row(cells: &Cells, top: u32) -> u32 {
    let mut counts: Vec<(u32, usize)> = Vec::new();
    for &(row, _, _) in cells.iter().take_while(|c| c.0 < top + HEADER_SEARCH_ROWS) {
        match counts.last_mut() {
            Some((last, count)) if *last == row => *count += 1,
            _ => counts.push((row, 1)),
        }
    }
    let fullest = counts.iter().map(|c| c.1).max().unwrap_or(0);
    counts
        .iter()
        .find(|c| c.1 * 2 >= fullest)
        .map_or(top, |c| c.0)
}

fn unique(taken: &[String], name: String) -> String {
    let mut candidate = name.clone();
    let mut suffix = 0;
    while taken.contains(&candidate) {
        suffix += 1;
        candidate = format!("{name}.{suffix}");
    }
    candidate
}

/// A column of `rows` cells from its non-empty `(row, value)` pairs: numbers and booleans
/// typed when the whole column is of that type, else text as the workbook shows it.
fn column(cells: &[(usize, Data)], rows: usize) -> ColumnBuilder {
    let all =
        |test: fn(&Data) -> bool| cells.iter().all(|(_, value)| test(value) || is_null(value));
    let typed =
        all(|v| matches!(v, Data::Int(_) | Data::Float(_))) || all(|v| matches!(v, Data::Bool(_)));
    let mut builder = match typed {
        true => ColumnBuilder::with_capacity(rows),
        false => ColumnBuilder::text(rows),
    };
    let mut next = 0;
    for (row, value) in cells {
        for _ in next..*row {
            builder.push("");
        }
        builder.push(&text(value));
        next = row + 1;
    }
    for _ in next..rows {
        builder.push("");
    }
    builder
}

fn is_null(value: &Data) -> bool {
    matches!(value, Data::Empty | Data::Error(_))
}

/// A cell as text: numbers as Rust writes them (shortest round trip), dates in ISO-8601.
fn text(value: &Data) -> String {
    match value {
        Data::Empty | Data::Error(_) => String::new(),
        Data::Int(number) => number.to_string(),
        Data::Float(number) if number.is_finite() => number.to_string(),
        Data::Float(_) => String::new(),
        Data::Bool(flag) => flag.to_string(),
        Data::String(text) | Data::DateTimeIso(text) | Data::DurationIso(text) => {
            text.trim().to_string()
        }
        Data::DateTime(date) if date.is_datetime() => {
            let (year, month, day, hour, minute, second, milli) = date.to_ymd_hms_milli();
            match (hour, minute, second, milli) {
                (0, 0, 0, 0) => format!("{year:04}-{month:02}-{day:02}"),
                (_, _, _, 0) => {
                    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}")
                }
                _ => format!(
                    "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}"
                ),
            }
        }
        Data::DateTime(duration) => duration.as_f64().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ods_cells_multiply_repeats_and_skip_empty_cells() {
        let row = |repeats: &str, cells: &str| {
            format!("<table:table-row{repeats}>{cells}</table:table-row>")
        };
        let valued = r#"<table:table-cell table:number-columns-repeated="1000" office:value-type="float" office:value="1"/>"#;
        let empty = r#"<table:table-cell table:number-columns-repeated="16384"/>"#;
        let content = [
            row("", r#"<table:table-cell office:value-type="string"><text:p>a</text:p></table:table-cell>"#),
            row(r#" table:number-rows-repeated="1000""#, valued),
            row(r#" table:number-rows-repeated="1048000""#, empty),
        ]
        .concat();
        assert_eq!(ods_cells(content.as_bytes()), 1 + 1000 * 1000);
        assert_eq!(
            ods_cells(b"<table:table-rows><table:table-row/></table:table-rows>"),
            0
        );
    }
}
