//! Markdown notes that open with a front-matter block, read as newsfeed articles
//! `{title, date, author, excerpt, body}` (see `widgets/newsfeed.rs`). Pure: text in, article
//! or the reason out. `generate.rs` uses the same rules to tell a folder of notes.
//!
//! ```text
//! ---
//! title: Q3 review
//! date: 2024-10-30
//! author: J. Doe
//! ---
//! First paragraph becomes the excerpt.
//! ```
//!
//! A value in double quotes is read as YAML reads it (`\"`, `\\`, `\n`, `\r`, `\t`, `\xNN`
//! escapes); [`quoted`] writes one so (`writes/` writes notes). Invariant: an article has a
//! non-empty title and a date starting `YYYY-MM-DD`; `unquote(quoted(x))` is `x`.

use serde_json::{Map, Value};

/// An article's fields, in the order they are written.
pub const FIELDS: [&str; 5] = ["title", "date", "author", "excerpt", "body"];
const EXCERPT_CHARS: usize = 280;

/// One note as an article; the error says what is wrong with its front matter.
pub fn parse_note(text: &str) -> Result<Map<String, Value>, String> {
    let mut lines = text.lines();
    if lines.next().map(str::trim_end) != Some("---") {
        return Err("the note must start with a '---' line".into());
    }
    let mut fields = Map::new();
    let mut closed = false;
    for (number, line) in (2..).zip(lines.by_ref()) {
        let line = line.trim_end();
        if line == "---" {
            closed = true;
            break;
        }
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once(':')
            .ok_or_else(|| format!("line {number}: expected 'key: value', got '{line}'"))?;
        let value = unquote(value.trim());
        fields.insert(key.trim().to_ascii_lowercase(), Value::from(value));
    }
    if !closed {
        return Err("no closing '---' line".into());
    }
    let text_of = |key: &str| {
        fields
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let title = text_of("title");
    if title.is_empty() {
        return Err("no title".into());
    }
    let date = text_of("date");
    if !is_iso_date(&date) {
        return Err(format!("date '{date}' is not YYYY-MM-DD"));
    }
    let body = lines.collect::<Vec<_>>().join("\n").trim().to_string();
    let excerpt = match text_of("excerpt") {
        given if !given.is_empty() => given,
        _ => first_paragraph(&body),
    };
    let mut article = Map::new();
    for (key, value) in FIELDS
        .iter()
        .zip([title, date, text_of("author"), excerpt, body])
    {
        article.insert(key.to_string(), Value::from(value));
    }
    Ok(article)
}

/// `text` as a double-quoted front-matter value on one line: quotes, backslashes and control
/// characters escaped.
pub fn quoted(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            c if c.is_control() => quoted.push_str(&format!("\\x{:02x}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// A front-matter value: inside double quotes, its escapes undone; else as it is.
fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return value.to_string();
    };
    let mut text = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            text.push(c);
            continue;
        }
        let escaped = chars.clone().next();
        let plain = match escaped {
            Some('"') => Some('"'),
            Some('\\') => Some('\\'),
            Some('n') => Some('\n'),
            Some('r') => Some('\r'),
            Some('t') => Some('\t'),
            Some('x') => chars
                .as_str()
                .get(1..3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .map(char::from),
            _ => None,
        };
        match plain {
            Some(plain) => {
                let taken = if escaped == Some('x') { 3 } else { 1 };
                chars.nth(taken - 1);
                text.push(plain);
            }
            None => text.push(c),
        }
    }
    text
}

/// Whether `date` starts with `YYYY-MM-DD`.
pub fn is_iso_date(date: &str) -> bool {
    let bytes = date.as_bytes();
    bytes.len() >= 10
        && bytes[..10].iter().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                *b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
}

/// The first paragraph that is not a heading, on one line, cut at [`EXCERPT_CHARS`].
fn first_paragraph(body: &str) -> String {
    let paragraph = body
        .split("\n\n")
        .map(str::trim)
        .find(|p| !p.is_empty() && !p.starts_with('#'))
        .unwrap_or("");
    let line = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", line[..cut].trim_end()),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_become_articles() {
        let note = "---\ntitle: \"Q3: a review\"\ndate: 2024-10-30\nauthor: J. Doe\n---\n\n# Heading\n\nFirst\nparagraph.\n\nSecond.\n";
        let article = parse_note(note).unwrap();
        assert_eq!(
            Value::Object(article),
            serde_json::json!({
                "title": "Q3: a review", "date": "2024-10-30", "author": "J. Doe",
                "excerpt": "First paragraph.",
                "body": "# Heading\n\nFirst\nparagraph.\n\nSecond."
            })
        );
    }

    #[test]
    fn broken_front_matter_says_why() {
        for (note, why) in [
            ("no front matter", "must start"),
            ("---\ntitle: x\ndate: 2024-01-01\n", "closing"),
            ("---\ntitle x\n---\n", "line 2: expected 'key: value'"),
            ("---\ndate: 2024-01-01\n---\n", "no title"),
            ("---\ntitle: x\ndate: soon\n---\n", "not YYYY-MM-DD"),
        ] {
            let err = parse_note(note).unwrap_err();
            assert!(err.contains(why), "{note:?}: {err}");
        }
    }

    #[test]
    fn quoted_values_read_back_as_written() {
        for text in [
            "plain",
            "a: b",
            "say \"hi\"",
            "C:\\dir\\",
            "two\nlines\r\t",
            "bell\u{7}",
            "🚀",
        ] {
            let line = quoted(text);
            assert!(!line.contains('\n') && !line.contains('\r'), "{line}");
            assert_eq!(unquote(&line), text, "{line}");
        }
        assert_eq!(
            unquote("\"keeps \\q\""),
            "keeps \\q",
            "an unknown escape stays"
        );
        assert_eq!(
            unquote("bare \\n"),
            "bare \\n",
            "unquoted values are as written"
        );
    }

    #[test]
    fn long_excerpts_are_cut() {
        let long = "word ".repeat(100);
        let excerpt = first_paragraph(&long);
        assert!(excerpt.ends_with('…'));
        assert!(excerpt.chars().count() <= EXCERPT_CHARS + 1);
    }
}
