//! omni: full-text search over the text files (`.md`, `.txt`, `.csv`, `.json`) under the
//! widget's folder (default: all of `data/`). POST body: the widget's param values, with the
//! query in `prompt` and the answer's form in `type` (`table`, the default, or `text`). A line
//! matches when it holds every word of the prompt, ignoring ASCII case. The answer is
//! `{content, data_format: {data_type: "object", parse_as}}`: rows `{file, line, snippet}`
//! (parse_as `table`) or a Markdown list (parse_as `text`); at most [`MAX_HITS`] lines.

use serde_json::{Value, json};

use crate::http::Response;
use crate::widgets::{Call, json_body};

const EXTENSIONS: [&str; 4] = ["md", "txt", "csv", "json"];
const MAX_HITS: usize = 100;
const SNIPPET_CHARS: usize = 160;

pub fn serve(call: &Call) -> Response {
    let body = match json_body(call.request) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let prompt = body
        .get("prompt")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim();
    let as_table = match body.get("type").and_then(Value::as_str) {
        None | Some("table") => true,
        Some("text" | "markdown") => false,
        Some(other) => {
            return Response::error(
                400,
                &format!("'type' must be \"table\" or \"text\", not \"{other}\""),
            );
        }
    };
    if prompt.is_empty() {
        return answer(Vec::new(), as_table, prompt);
    }
    let folder = call.widget.folder.as_deref().unwrap_or("");
    let Some(files) = call.files.dir.list(folder, true) else {
        return Response::error(
            404,
            &format!("not found: folder {}", call.files.dir.display(folder)),
        );
    };
    let terms: Vec<String> = prompt
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let mut hits = Vec::new();
    'files: for relative in files.iter().filter(|f| is_text(f)) {
        let Ok(text) = call.files.text(relative) else {
            continue;
        };
        for (number, line) in text.lines().enumerate() {
            let lower = line.to_ascii_lowercase();
            if terms.iter().all(|t| lower.contains(t.as_str())) {
                if hits.len() == MAX_HITS {
                    break 'files;
                }
                let at = lower.find(terms[0].as_str()).unwrap_or(0);
                hits.push(
                    json!({"file": relative, "line": number + 1, "snippet": snippet(line, at)}),
                );
            }
        }
    }
    answer(hits, as_table, prompt)
}

/// The matching lines as a table, or as a Markdown list; no prompt (null, empty or absent, as
/// Workspace's "Validate widgets" may send) is an empty answer of the same shape.
fn answer(hits: Vec<Value>, as_table: bool, prompt: &str) -> Response {
    let (content, parse_as) = match (as_table, prompt.is_empty()) {
        (true, _) => (Value::Array(hits), "table"),
        (false, true) => (Value::from(""), "text"),
        (false, false) => (Value::from(markdown(prompt, &hits)), "text"),
    };
    Response::json(
        200,
        &json!({"content": content, "data_format": {"data_type": "object", "parse_as": parse_as}}),
    )
}

fn is_text(relative: &str) -> bool {
    relative
        .rsplit_once('.')
        .is_some_and(|(_, e)| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The line trimmed to about [`SNIPPET_CHARS`] characters around byte offset `at`.
fn snippet(line: &str, at: usize) -> String {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let around = chars.iter().position(|(i, _)| *i >= at).unwrap_or(0);
    let start = around.saturating_sub(SNIPPET_CHARS / 3);
    let end = (start + SNIPPET_CHARS).min(chars.len());
    let text: String = chars[start..end].iter().map(|(_, c)| c).collect();
    let text = text.trim();
    let before = if start > 0 { "…" } else { "" };
    let after = if end < chars.len() { "…" } else { "" };
    format!("{before}{text}{after}")
}

fn markdown(prompt: &str, hits: &[Value]) -> String {
    if hits.is_empty() {
        return format!("No lines match **{prompt}**.");
    }
    let more = if hits.len() == MAX_HITS {
        " (first ones)"
    } else {
        ""
    };
    let mut out = format!("**{} lines** match **{prompt}**{more}:\n\n", hits.len());
    for hit in hits {
        out.push_str(&format!(
            "- `{}:{}` {}\n",
            hit["file"].as_str().unwrap_or(""),
            hit["line"],
            hit["snippet"].as_str().unwrap_or("")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_cut_around_the_match() {
        assert_eq!(snippet("  short line  ", 2), "short line");
        let long = format!("{}needle{}", "a".repeat(300), "b".repeat(300));
        let cut = snippet(&long, 300);
        assert!(cut.starts_with('…') && cut.ends_with('…'), "{cut}");
        assert!(cut.contains("needle"));
        assert_eq!(cut.chars().count(), SNIPPET_CHARS + 2);
        assert!(snippet("ééé needle", 7).contains("needle"));
    }

    #[test]
    fn only_text_files_are_searched() {
        assert!(is_text("notes/a.MD") && is_text("x.csv"));
        assert!(!is_text("a.pdf") && !is_text("README"));
    }
}
