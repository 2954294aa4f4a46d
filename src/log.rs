//! Lines on stderr: the access log, problems, the start-up banner, the shutdown notice.
//!
//! Invariants: logging never stops serving, so a failed write (stderr closed, a full disk, a
//! pipe whose reader is gone) is ignored rather than panicking as `eprintln!` does; and no
//! control character from a request or a file name reaches a terminal raw: each is written
//! escaped (`\x1b`, `\u{9b}`), so every line is exactly one line.

use std::fmt::Write as _;
use std::io::Write as _;

/// Writes `text` and a newline on stderr, its control characters escaped; a failed write is
/// ignored.
pub fn line(text: &str) {
    let mut line = escape_controls(text).into_owned();
    line.push('\n');
    // One write, so that lines from several threads do not interleave.
    let _ = std::io::stderr().write_all(line.as_bytes());
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
    }
}
