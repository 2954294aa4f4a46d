//! Lines on stderr: the access log, problems, reloads, the start-up banner, the shutdown notice.
//!
//! Every line follows the process's `--log-format` ([`set_format`], once at start): plain text
//! for a terminal, or one JSON object a line for log shippers (`{"time", "level", "message"}`;
//! access lines carry their own fields, see `server.rs`). Times are RFC 3339 in UTC with
//! milliseconds ([`rfc3339`]).
//!
//! Invariants: logging never stops serving, so a failed write (stderr closed, a full disk, a
//! pipe whose reader is gone) is ignored rather than panicking as `eprintln!` does; and no
//! control character from a request or a file name reaches a terminal raw: each is written
//! escaped (`\x1b`, `\u{9b}`) in text, and JSON escapes its own, so every line is exactly one
//! line.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

/// How each access-log line is written on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `METHOD PATH STATUS BYTES MICROSECONDSus`, for people reading a terminal.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Whether lines are JSON objects; set once when the server starts.
static JSON: AtomicBool = AtomicBool::new(false);

/// Writes every following line of this process in `format`.
pub fn set_format(format: LogFormat) {
    JSON.store(format == LogFormat::Json, Ordering::Relaxed);
}

/// The format lines are written in.
pub fn format() -> LogFormat {
    match JSON.load(Ordering::Relaxed) {
        true => LogFormat::Json,
        false => LogFormat::Text,
    }
}

/// How much a line matters, for JSON's `level` (text lines say it in their words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// Writes `text` as an information line (see [`write`]).
pub fn line(text: &str) {
    write(Level::Info, text);
}

/// Writes `text` at `level` in the process's format: as it is in text, or as
/// `{"time", "level", "message"}` in JSON (without the `openbb-files: ` prefix and the banner's
/// indent, which a log shipper does not need). A failed write is ignored.
pub fn write(level: Level, text: &str) {
    match format() {
        LogFormat::Text => self::text(text),
        LogFormat::Json => {
            let message = text.trim_start();
            let message = message.strip_prefix("openbb-files: ").unwrap_or(message);
            json(&serde_json::json!({
                "time": rfc3339(SystemTime::now()),
                "level": level.as_str(),
                "message": message,
            }));
        }
    }
}

/// Writes a text line as it is (its control characters escaped).
pub fn text(line: &str) {
    write_line(escape_controls(line).into_owned());
}

/// Writes `object` as one JSON line (an access line in JSON).
pub fn json(object: &serde_json::Value) {
    write_line(json_text(object));
}

/// `object` as JSON text in which no control character is left raw: serde_json escapes C0,
/// and DEL and C1 (which it keeps) are written as `\u00NN`, only ever inside strings.
fn json_text(object: &serde_json::Value) -> String {
    let text = object.to_string();
    if !text.chars().any(char::is_control) {
        return text;
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c.is_control() {
            true => {
                let _ = write!(escaped, "\\u{:04x}", u32::from(c));
            }
            false => escaped.push(c),
        }
    }
    escaped
}

/// Writes `line` and a newline on stderr in one write, so that lines from several threads do
/// not interleave; a failed write is ignored.
fn write_line(mut line: String) {
    line.push('\n');
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// `time` in RFC 3339, UTC, with milliseconds: `2025-03-01T09:30:00.250Z`. The part up to the
/// seconds is formatted once a second per thread (the access log asks on every request).
pub fn rfc3339(time: SystemTime) -> String {
    thread_local! {
        static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let since = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let second = since.as_secs();
    SECOND.with_borrow_mut(|(formatted_at, text)| {
        if *formatted_at != second {
            *formatted_at = second;
            *text = seconds_rfc3339(second);
        }
        format!("{text}.{:03}Z", since.subsec_millis())
    })
}

/// `YYYY-MM-DDTHH:MM:SS` of a count of seconds since 1970 (UTC).
fn seconds_rfc3339(seconds: u64) -> String {
    let days = i64::try_from(seconds / 86_400).unwrap_or(i64::MAX);
    let (year, month, day) = crate::calendar::civil_from_days(days);
    let in_day = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        in_day / 3600,
        in_day / 60 % 60,
        in_day % 60
    )
}

/// `text` with each control character (C0, DEL and C1, tab and newline included) written as
/// `\xNN` (or `\u{NN}` beyond ASCII); other characters, backslashes included, are kept.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if c.is_ascii_control() => {
                let _ = write!(escaped, "\\x{:02x}", u32::from(c));
            }
            c if c.is_control() => {
                let _ = write!(escaped, "\\u{{{:x}}}", u32::from(c));
            }
            c => escaped.push(c),
        }
    }
    escaped.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(escape_controls("GET /prices 200"), "GET /prices 200");
        assert_eq!(
            escape_controls("/\u{1b}[2J\u{7}x\ty\nz\u{7f}"),
            "/\\x1b[2J\\x07x\\x09y\\x0az\\x7f"
        );
        assert_eq!(escape_controls("a\u{9b}31m é \\x"), "a\\u{9b}31m é \\x");
    }

    #[test]
    fn a_line_never_panics() {
        // stderr may be anything in a test run; writing must simply not panic.
        line("openbb-files: a test line \u{1b}[0m");
        write(Level::Error, "openbb-files: a test problem");
    }

    #[test]
    fn times_are_rfc3339_utc_with_milliseconds() {
        let at = |secs: u64, millis: u64| {
            rfc3339(SystemTime::UNIX_EPOCH + Duration::from_millis(secs * 1000 + millis))
        };
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
        // 2024-02-29 (a leap day) 23:59:59.999, then the next second.
        assert_eq!(at(1_709_251_199, 999), "2024-02-29T23:59:59.999Z");
        assert_eq!(at(1_709_251_200, 5), "2024-03-01T00:00:00.005Z");
        assert_eq!(at(1_709_251_200, 250), "2024-03-01T00:00:00.250Z");
    }

    #[test]
    fn json_lines_leave_no_control_character_raw() {
        let object = serde_json::json!({"path": "/a\u{1b}[2J\n\u{7f}\u{9b}b"});
        let line = json_text(&object);
        assert!(!line.chars().any(char::is_control), "{line}");
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed, object);
    }
}
