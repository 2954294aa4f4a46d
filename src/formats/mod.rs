//! The file formats a table can be read from, told apart by extension, and how a widget asks
//! for one to be read (`backend.sheet`, `backend.delimiter`, `backend.decimal`).
//!
//! | extension | read as |
//! |---|---|
//! | `.csv` | delimited text, separator detected (comma, semicolon, tab, pipe) |
//! | `.tsv`, `.tab` / `.psv` | tab / pipe separated text |
//! | `.json` / `.jsonl`, `.ndjson` | a JSON document / JSON Lines ([`crate::data`]) |
//! | `.xlsx`, `.xlsm`, `.xls`, `.ods` | a workbook: one sheet is a table ([`excel`]) |
//! | `.parquet`, `.pq` | Parquet, typed from its schema ([`parquet`]) |
//! | any of the text ones + `.gz` / `.zst` | the inner format, decompressed as it is read |
//!
//! Invariants: a file is read whole or not at all (a bad file is one error naming the file and
//! its sheet, row or line); what a file expands to in memory is bounded by [`Caps`]
//! (decompressed bytes, cells of a sheet), so no small file can take unbounded memory.

pub mod compressed;
pub mod delimited;
pub mod excel;
pub mod parquet;

use std::fmt;

/// The formats a data file can be in, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Delimited text; the separator when the extension says it (`None`: detected).
    Delimited(Option<u8>),
    Json,
    JsonLines,
    Workbook,
    Parquet,
}

/// How a file's bytes are packed around its format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Extensions read as tables (lower case, compressed forms aside), for zero configuration and
/// the widget types that read tables.
pub const TABLE_EXTENSIONS: [&str; 12] = [
    "csv", "tsv", "tab", "psv", "jsonl", "ndjson", "xlsx", "xlsm", "xls", "ods", "parquet", "pq",
];

/// The format and compression of a file named `name` (a path or URL; case does not matter).
/// Anything not recognised is CSV, as it always was.
pub fn of(name: &str) -> (Format, Compression) {
    let lower = name.to_ascii_lowercase();
    let (inner, compression) = match lower.rsplit_once('.') {
        Some((inner, "gz")) => (inner, Compression::Gzip),
        Some((inner, "zst")) => (inner, Compression::Zstd),
        _ => (lower.as_str(), Compression::None),
    };
    let format = match inner.rsplit_once('.').map_or("", |(_, ext)| ext) {
        "tsv" | "tab" => Format::Delimited(Some(b'\t')),
        "psv" => Format::Delimited(Some(b'|')),
        "json" => Format::Json,
        "jsonl" | "ndjson" => Format::JsonLines,
        "xlsx" | "xlsm" | "xls" | "ods" if compression == Compression::None => Format::Workbook,
        "parquet" | "pq" if compression == Compression::None => Format::Parquet,
        _ => Format::Delimited(None),
    };
    (format, compression)
}

/// Whether a file of this name is read as a table (or JSON rows) by the table widgets.
pub fn is_table_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let inner = lower
        .strip_suffix(".gz")
        .or_else(|| lower.strip_suffix(".zst"))
        .unwrap_or(&lower);
    let extension = inner.rsplit_once('.').map_or("", |(_, ext)| ext);
    TABLE_EXTENSIONS.contains(&extension)
}

/// Runs a third-party decoder (calamine, parquet) on untrusted bytes: should it panic on a
/// corrupt file, the panic is the file's error, not the request's.
pub fn guarded<T>(decode: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode)).unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(format!("the file is corrupt (its reader failed: {why})"))
    })
}

/// How a widget asks for its file to be read: all `None` reads it as its name says, with the
/// separator and decimal mark detected and the first non-empty sheet.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reading {
    /// `backend.sheet`: a workbook's sheet.
    pub sheet: Option<Sheet>,
    /// `backend.delimiter`: the field separator of delimited text.
    pub delimiter: Option<u8>,
    /// `backend.decimal`: `b','` reads decimal commas as numbers, `b'.'` never does.
    pub decimal: Option<u8>,
}

/// A sheet by name or by 0-based position.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sheet {
    Name(String),
    Index(usize),
}

impl fmt::Display for Sheet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sheet::Name(name) => write!(f, "'{name}'"),
            Sheet::Index(index) => write!(f, "#{index}"),
        }
    }
}

impl Reading {
    /// `backend.sheet`, `backend.delimiter` and `backend.decimal` as widgets.json gives them
    /// (a sheet is a name or a 0-based index; a delimiter one ASCII character or `\t`; a
    /// decimal mark `.` or `,`), or what is wrong with one, as `(field, message)`.
    pub fn from_backend(
        sheet: Option<&serde_json::Value>,
        delimiter: Option<&str>,
        decimal: Option<&str>,
    ) -> Result<Reading, (&'static str, String)> {
        let sheet = match sheet {
            None => None,
            Some(serde_json::Value::String(name)) => Some(Sheet::Name(name.clone())),
            Some(serde_json::Value::Number(n)) => match n.as_u64() {
                Some(index) => Some(Sheet::Index(index as usize)),
                None => return Err(("backend.sheet", format!("{n} is not a sheet index"))),
            },
            Some(_) => return Err(("backend.sheet", "a sheet name or 0-based index".into())),
        };
        let delimiter = match delimiter {
            None => None,
            Some("\\t" | "\t" | "tab") => Some(b'\t'),
            Some(one) if one.len() == 1 && one.is_ascii() && !matches!(one, "\"" | "\n" | "\r") => {
                Some(one.as_bytes()[0])
            }
            Some(other) => {
                return Err((
                    "backend.delimiter",
                    format!("'{other}' is not one ASCII character (or \\t)"),
                ));
            }
        };
        let decimal = match decimal {
            None => None,
            Some(".") => Some(b'.'),
            Some(",") => Some(b','),
            Some(other) => {
                return Err(("backend.decimal", format!("'{other}' is not '.' or ','")));
            }
        };
        Ok(Reading {
            sheet,
            delimiter,
            decimal,
        })
    }
}

/// What one file may expand to in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Bytes a compressed file (`.gz`, `.zst`, a workbook's XML) may decompress to
    /// (`--max-decompressed-bytes`).
    pub decompressed: u64,
    /// Cells of one sheet (calamine holds a sheet's cells at about 40 bytes each while they are
    /// read).
    pub cells: u64,
    /// Cells (rows × columns) a Parquet file may declare, or one a byte of the file when that
    /// is more: run-length encoding packs a billion equal values into a few bytes, so its
    /// schema's row count is checked first. A cell takes 4 to 9 bytes of table, so a file of N
    /// bytes beyond the cap can make about 9N (a CSV's narrowest rows, about 2N).
    pub parquet_cells: u64,
    /// Columns of any table from a workbook or Parquet file.
    pub columns: usize,
}

/// 1 GiB, the default budget of parsed tables (`--data-cache-bytes`): a compressed CSV of a 1 GB
/// export reads; the table of a bomb of the narrowest rows (`1\n`, 4 bytes a row in memory)
/// takes at most about twice the cap.
pub const DEFAULT_MAX_DECOMPRESSED: u64 = 1 << 30;

impl Default for Caps {
    fn default() -> Caps {
        Caps {
            decompressed: DEFAULT_MAX_DECOMPRESSED,
            // A million rows of 20 columns: about 0.8 GB while calamine holds them.
            cells: 20_000_000,
            // About 2 GB of table at 4 bytes a cell; a 1 GB export of prices declares 670 M
            // (BENCHMARKS.md), a file's own bytes allow it.
            parquet_cells: 500_000_000,
            // Excel's own limit.
            columns: 16_384,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_come_from_extensions() {
        assert_eq!(of("a.CSV"), (Format::Delimited(None), Compression::None));
        assert_eq!(
            of("a.tsv.gz"),
            (Format::Delimited(Some(b'\t')), Compression::Gzip)
        );
        assert_eq!(
            of("x/a.psv"),
            (Format::Delimited(Some(b'|')), Compression::None)
        );
        assert_eq!(of("a.jsonl.zst"), (Format::JsonLines, Compression::Zstd));
        assert_eq!(of("a.csv.gz").0, Format::Delimited(None));
        assert_eq!(of("book.XLSX").0, Format::Workbook);
        assert_eq!(of("t.pq").0, Format::Parquet);
        assert_eq!(of("noext"), (Format::Delimited(None), Compression::None));
        assert!(is_table_file("a.csv.gz") && is_table_file("b.ods") && !is_table_file("c.md"));
    }

    #[test]
    fn backend_settings_are_checked() {
        let reading =
            Reading::from_backend(Some(&serde_json::json!("Prices")), Some("\\t"), Some(","))
                .unwrap();
        assert_eq!(reading.sheet, Some(Sheet::Name("Prices".into())));
        assert_eq!(reading.delimiter, Some(b'\t'));
        assert_eq!(reading.decimal, Some(b','));
        assert_eq!(
            Reading::from_backend(Some(&serde_json::json!(2)), None, None)
                .unwrap()
                .sheet,
            Some(Sheet::Index(2))
        );
        assert!(Reading::from_backend(None, Some(";;"), None).is_err());
        assert!(Reading::from_backend(None, None, Some(";")).is_err());
        assert!(Reading::from_backend(Some(&serde_json::json!(-1)), None, None).is_err());
    }
}
