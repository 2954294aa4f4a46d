//! Why reading `data/` failed, as the storage layer says it: [`FileError`].
//!
//! `files`, `remote`, `data` and `csv_read` return these values and know nothing of HTTP; the
//! widget handlers' edge (`widgets/errors.rs`) is the one place that turns each variant into a
//! status, a `{"detail"}` and headers. Invariants: the text of an error ([`Display`]) names the
//! file (as shown, `data/...`, or a remote URL) and never holds a path outside `data/`; every
//! value is plain data (`Clone`, `Eq`), so a parse error can be cached with the version it
//! belongs to and compared in tests.
//!
//! [`Display`]: std::fmt::Display

use std::fmt;

use crate::remote::FetchError;

/// Why a data file could not be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    /// No file of that name under `data/` (`file` as shown).
    NotFound { file: String },
    /// No folder of that name under `data/` (a newsfeed, omni or options folder).
    FolderNotFound { folder: String },
    /// None of a widget's candidate files exists (`tried`, as shown, in order).
    NoDataFile { widget: String, tried: Vec<String> },
    /// A `{param}` of a file name was not given (or was blank).
    MissingParameter { param: String },
    /// A `{param}` value that cannot stand in the file name: not one safe path segment under
    /// `data/`, or `.`/`..` in a remote URL's path.
    NotAFileName {
        param: String,
        value: String,
        in_url: bool,
    },
    /// A `backend.file` template whose placeholders do not parse (checked at load).
    Template { why: String },
    /// The file could not be opened or read (gone since it was found, a folder, no permission).
    Unreadable { file: String, why: String },
    /// The file kept changing, or being replaced, while it was read: asking again will do.
    Changing { file: String, why: String },
    /// The file's content is not what its type says: a CSV, JSON, JSON Lines, workbook or
    /// Parquet file that does not parse (or expands past its caps), text that is not UTF-8.
    Parse {
        file: String,
        at: Location,
        message: String,
    },
    /// A remote file's fetch failed and no earlier copy is kept.
    Upstream { url: String, why: FetchError },
}

/// Where in a file a parse error lies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The file as a whole (it could not be read through, or is not text).
    Whole,
    /// A line, 1-based as an editor shows it.
    Line(u64),
    /// A line and a column, both 1-based.
    LineColumn { line: u64, column: u64 },
    /// A workbook's sheet, by name.
    Sheet(String),
}

impl Location {
    /// A 1-based line; line 0 means no line in particular.
    pub fn line(line: u64) -> Location {
        match line {
            0 => Location::Whole,
            line => Location::Line(line),
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::NotFound { file } => write!(f, "not found: {file}"),
            FileError::FolderNotFound { folder } => write!(f, "not found: folder {folder}"),
            FileError::NoDataFile { widget, tried } => write!(
                f,
                "widget '{widget}' has no data file: looked for {}",
                tried.join(" and ")
            ),
            FileError::MissingParameter { param } => write!(
                f,
                "missing parameter '{param}': the file name is built from it"
            ),
            FileError::NotAFileName {
                param,
                value,
                in_url,
            } => {
                let what = if *in_url { "path segment" } else { "file name" };
                write!(f, "parameter '{param}': '{value}' is not a {what}")
            }
            FileError::Template { why } => f.write_str(why),
            FileError::Unreadable { file, why } | FileError::Changing { file, why } => {
                write!(f, "{file}: {why}")
            }
            FileError::Parse { file, at, message } => match at {
                Location::Whole => write!(f, "{file}: {message}"),
                Location::Line(line) => write!(f, "{file}: line {line}: {message}"),
                Location::LineColumn { line, column } => {
                    write!(f, "{file}: line {line}: column {column}: {message}")
                }
                Location::Sheet(sheet) => write!(f, "{file}: sheet '{sheet}': {message}"),
            },
            FileError::Upstream { url, why } => write!(f, "{url}: {why}"),
        }
    }
}

impl std::error::Error for FileError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_name_the_file_and_where() {
        let at = |at| FileError::Parse {
            file: "data/p.csv".into(),
            at,
            message: "bad".into(),
        };
        assert_eq!(at(Location::line(0)).to_string(), "data/p.csv: bad");
        assert_eq!(at(Location::line(3)).to_string(), "data/p.csv: line 3: bad");
        let cell = Location::LineColumn { line: 2, column: 7 };
        assert_eq!(at(cell).to_string(), "data/p.csv: line 2: column 7: bad");
        let sheet = Location::Sheet("Prices".into());
        assert_eq!(at(sheet).to_string(), "data/p.csv: sheet 'Prices': bad");
    }
}
