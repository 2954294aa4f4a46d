//! omni: full-text search over the text files (`.md`, `.txt`, `.csv`, `.json`, and the other
//! delimited and JSON Lines files: `.tsv`, `.tab`, `.psv`, `.jsonl`, `.ndjson`) under the
//! widget's folder (default: all of `data/`). POST body: the widget's param values, with the
//! query in `prompt` and the answer's form in `type` (`table`, the default, or `text`). A line
//! matches when it holds every word of the prompt, ignoring ASCII case. The answer is
//! `{content, data_format: {data_type: "object", parse_as}, citable: true, extra_citations}`:
//! rows `{file, line, snippet}` (parse_as `table`) or a Markdown list (parse_as `text`), and
//! one citation per file the lines come from, listing those lines ([`citations`]), so that
//! Workspace's AI can cite the file and line an answer came from. At most [`MAX_HITS`] lines
//! from at most [`MAX_CITED_FILES`] files: the search stops at either, so every line answered
//! is cited. No prompt (`null`, `""`, absent) answers no rows (`[]`, or `""` as text) and no
//! citations.
//!
//! Bounded work: a prompt holds at most [`MAX_PROMPT_WORDS`] distinct words and
//! [`MAX_PROMPT_BYTES`] bytes (else 400), so a search costs at most that many passes over the
//! text; files are read through the file cache (once per version) and searched where they lie,
//! lowered a [`WINDOW`] at a time, and a snippet is cut from around the match: a 200 MB line
//! is never copied. At most half the workers search at once ([`Searches`]); a search beyond
//! that is a 503 to retry, so searches never hold every worker.

use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use crate::files::utf8_text;
use crate::http::Response;
use crate::widgets::{Call, json_body};

const EXTENSIONS: [&str; 9] = [
    "md", "txt", "csv", "json", "tsv", "tab", "psv", "jsonl", "ndjson",
];
/// The most lines an answer holds.
pub const MAX_HITS: usize = 100;
/// The most files an answer's lines come from (one citation each).
pub const MAX_CITED_FILES: usize = 20;
const SNIPPET_CHARS: usize = 160;
/// The longest prompt searched for, in bytes.
pub const MAX_PROMPT_BYTES: usize = 1024;
/// The most distinct words a prompt may hold.
pub const MAX_PROMPT_WORDS: usize = 32;
/// How much of a line is lowered at a time to be searched.
const WINDOW: usize = 64 * 1024;

/// The answer to a search of the text files under `folder` (`""`: all of `data/`).
pub fn serve(call: &Call, folder: &str) -> Response {
    let body = match json_body(call.request) {
        Ok(body) => body,
        Err(response) => return response,
    };
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
    let prompt = match body.get("prompt") {
        None | Some(Value::Null) => "",
        Some(Value::String(prompt)) => prompt.trim(),
        Some(_) => return Response::error(400, "'prompt' must be text"),
    };
    let terms = match terms(prompt) {
        Ok(terms) => terms,
        Err(detail) => return Response::error(400, &detail),
    };
    let (hits, complete) = if terms.is_empty() {
        (Vec::new(), true)
    } else {
        let Some(_searching) = call.searches.enter() else {
            return Response::error(
                503,
                &format!(
                    "{} searches are running already, as many as may run at once; retry in a \
                     moment",
                    call.searches.most
                ),
            )
            .with_header("Retry-After", "1");
        };
        match search(call, folder, &terms) {
            Ok(found) => found,
            Err(response) => return response,
        }
    };
    let extra_citations = citations(&call.widget.id, prompt, &hits);
    let (content, parse_as) = match (as_table, prompt.is_empty()) {
        (true, _) => (Value::Array(hits), "table"),
        (false, true) => (Value::from(""), "text"),
        (false, false) => (Value::from(markdown(prompt, &hits, complete)), "text"),
    };
    Response::json(
        200,
        &json!({
            "content": content,
            "data_format": {"data_type": "object", "parse_as": parse_as},
            "citable": true,
            "extra_citations": extra_citations,
        }),
    )
}

/// One citation per file the hits come from (they come file by file), in the shape of
/// Workspace's omni responses: `{"source_info": {"type": "widget", "widget_id", "name",
/// "description", "metadata"}, "details": [{"file", "line", "snippet"}, ...]}`, the file's
/// name (relative to `data/`) as `name`, its matching lines in `metadata.lines` and `details`.
fn citations(widget: &str, prompt: &str, hits: &[Value]) -> Vec<Value> {
    hits.chunk_by(|a, b| a["file"] == b["file"])
        .map(|lines| {
            let file = lines[0]["file"].as_str().unwrap_or_default();
            let numbers: Vec<&Value> = lines.iter().map(|hit| &hit["line"]).collect();
            let listed: Vec<String> = numbers.iter().map(|n| n.to_string()).collect();
            let plural = if listed.len() == 1 { "" } else { "s" };
            json!({
                "source_info": {
                    "type": "widget",
                    "widget_id": widget,
                    "name": file,
                    "description": format!(
                        "data/{file}, line{plural} {}: matching \"{prompt}\"",
                        listed.join(", ")
                    ),
                    "metadata": {"file": file, "lines": numbers, "prompt": prompt},
                },
                "details": lines,
            })
        })
        .collect()
}

/// The prompt's distinct words in lower case, or why it is too long to search for.
fn terms(prompt: &str) -> Result<Vec<String>, String> {
    if prompt.len() > MAX_PROMPT_BYTES {
        return Err(format!(
            "the prompt is {} bytes long; at most {MAX_PROMPT_BYTES} bytes are searched for",
            prompt.len()
        ));
    }
    let mut terms: Vec<String> = Vec::new();
    for word in prompt.split_whitespace().map(str::to_ascii_lowercase) {
        if !terms.contains(&word) {
            terms.push(word);
        }
    }
    if terms.len() > MAX_PROMPT_WORDS {
        return Err(format!(
            "the prompt holds {} different words; at most {MAX_PROMPT_WORDS} are searched for",
            terms.len()
        ));
    }
    Ok(terms)
}

/// The lines of the folder's text files that hold every term, as `{file, line, snippet}`, and
/// whether they are all of them (not cut at [`MAX_HITS`] lines or [`MAX_CITED_FILES`] files).
fn search(call: &Call, folder: &str, terms: &[String]) -> Result<(Vec<Value>, bool), Response> {
    let files = call.files.folder(folder, true)?;
    let mut window = String::new();
    let mut hits = Vec::new();
    let mut cited_files = 0;
    for relative in files.iter().filter(|f| is_text(f)) {
        let Ok(bytes) = call.files.bytes(relative.as_str()) else {
            continue;
        };
        let shown = call.files.dir.display(relative);
        let Ok(text) = call.files.noted(&shown, utf8_text(&shown, &bytes)) else {
            continue;
        };
        let mut cited = false;
        for (number, line) in text.lines().enumerate() {
            if let Some(at) = find_terms(line, terms, &mut window) {
                if hits.len() == MAX_HITS || (!cited && cited_files == MAX_CITED_FILES) {
                    return Ok((hits, false));
                }
                if !cited {
                    cited = true;
                    cited_files += 1;
                }
                let snippet = snippet(line, at);
                hits.push(json!({"file": relative, "line": number + 1, "snippet": snippet}));
            }
        }
    }
    Ok((hits, true))
}

/// Whether `line` holds every term (each in lower case, at most [`MAX_PROMPT_WORDS`]),
/// ignoring ASCII case: where the first term first starts, or `None`. The line is lowered
/// into `window` a [`WINDOW`] at a time, consecutive windows overlapping by the longest term,
/// so a long line costs one pass and no copy of itself.
fn find_terms(line: &str, terms: &[String], window: &mut String) -> Option<usize> {
    let overlap = terms.iter().map(String::len).max().unwrap_or(0);
    let mut found = [None; MAX_PROMPT_WORDS];
    let mut start = 0;
    loop {
        let mut end = (start + WINDOW + overlap).min(line.len());
        while !line.is_char_boundary(end) {
            end += 1;
        }
        window.clear();
        window.push_str(&line[start..end]);
        window.make_ascii_lowercase();
        for (term, at) in terms.iter().zip(found.iter_mut()) {
            if at.is_none() {
                *at = window.find(term.as_str()).map(|i| start + i);
            }
        }
        if found[..terms.len()].iter().all(Option::is_some) {
            return found[0];
        }
        if end == line.len() {
            return None;
        }
        // Every match starting before `start + WINDOW` lay wholly in this window.
        start += WINDOW;
        while !line.is_char_boundary(start) {
            start += 1;
        }
    }
}

/// How many searches may run at once, and how many do.
pub struct Searches {
    running: AtomicUsize,
    most: usize,
}

/// A running search; it ends when this is dropped.
pub struct Searching<'s>(&'s Searches);

impl Searches {
    /// At most `most` searches at once (at least one).
    pub fn new(most: usize) -> Searches {
        Searches {
            running: AtomicUsize::new(0),
            most: most.max(1),
        }
    }

    /// A place for one more search, or `None` when `most` are running.
    pub fn enter(&self) -> Option<Searching<'_>> {
        self.running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |running| {
                (running < self.most).then_some(running + 1)
            })
            .ok()
            .map(|_| Searching(self))
    }
}

impl Drop for Searching<'_> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::AcqRel);
    }
}

fn is_text(relative: &str) -> bool {
    relative
        .rsplit_once('.')
        .is_some_and(|(_, e)| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The line trimmed to about [`SNIPPET_CHARS`] characters around byte offset `at` (a char
/// boundary); only those characters are looked at, however long the line.
fn snippet(line: &str, at: usize) -> String {
    let start = line[..at]
        .char_indices()
        .rev()
        .take(SNIPPET_CHARS / 3)
        .last()
        .map_or(at, |(i, _)| i);
    let end = line[start..]
        .char_indices()
        .nth(SNIPPET_CHARS)
        .map_or(line.len(), |(i, _)| start + i);
    let text = line[start..end].trim();
    let before = if start > 0 { "…" } else { "" };
    let after = if end < line.len() { "…" } else { "" };
    format!("{before}{text}{after}")
}

fn markdown(prompt: &str, hits: &[Value], complete: bool) -> String {
    if hits.is_empty() {
        return format!("No lines match **{prompt}**.");
    }
    let more = if complete { "" } else { " (first ones)" };
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
    fn searches_beyond_the_most_wait_for_a_place() {
        let searches = Searches::new(2);
        let first = searches.enter().expect("a place");
        let second = searches.enter().expect("a place");
        assert!(searches.enter().is_none(), "two at once at most");
        drop(first);
        let third = searches.enter().expect("a place again");
        drop((second, third));
        assert_eq!(searches.running.load(Ordering::Acquire), 0);
        assert_eq!(Searches::new(0).most, 1, "always one");
    }

    #[test]
    fn snippets_are_cut_around_the_match() {
        assert_eq!(snippet("  short line  ", 2), "short line");
        let long = format!("{}needle{}", "a".repeat(300), "b".repeat(300));
        let cut = snippet(&long, 300);
        assert!(cut.starts_with('…') && cut.ends_with('…'), "{cut}");
        assert!(cut.contains("needle"));
        assert_eq!(cut.chars().count(), SNIPPET_CHARS + 2);
        assert!(snippet("ééé needle", 7).contains("needle"));
        let huge = format!("{}needle{}", "é".repeat(1 << 20), "b".repeat(1 << 20));
        let cut = snippet(&huge, 2 << 20);
        assert_eq!(cut.chars().count(), SNIPPET_CHARS + 2);
        assert!(cut.starts_with(&format!("…{}needle", "é".repeat(SNIPPET_CHARS / 3))));
    }

    #[test]
    fn terms_are_found_across_windows_ignoring_case() {
        let terms = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        let mut window = String::new();
        assert_eq!(
            find_terms("Net MARGIN up", &terms(&["margin", "net"]), &mut window),
            Some(4)
        );
        assert_eq!(
            find_terms("net margin", &terms(&["margin", "zebra"]), &mut window),
            None
        );
        // "needle" straddles the first window's end; "é" makes some offsets not char boundaries.
        let line = format!(
            "{}NeEdLe{}é tail",
            "é".repeat(WINDOW / 2 - 2),
            "x".repeat(WINDOW)
        );
        let at = find_terms(&line, &terms(&["tail", "needle"]), &mut window);
        assert_eq!(at, Some(line.len() - 4));
        assert_eq!(
            find_terms(&line, &terms(&["needle"]), &mut window),
            Some(WINDOW - 4)
        );
        assert!(window.len() <= WINDOW + 6, "only a window is copied");
    }

    #[test]
    fn prompts_are_bounded() {
        assert_eq!(terms("Margin margin  NET").unwrap(), ["margin", "net"]);
        let many: Vec<String> = (0..=MAX_PROMPT_WORDS).map(|i| format!("w{i}")).collect();
        assert!(terms(&many.join(" ")).unwrap_err().contains("at most 32"));
        assert!(
            terms(&"a ".repeat(500_000))
                .unwrap_err()
                .contains("at most 1024 bytes")
        );
        assert_eq!(
            terms(&"a ".repeat(500)).unwrap(),
            ["a"],
            "repeated words count once"
        );
    }

    #[test]
    fn each_file_is_cited_once_with_its_lines() {
        let hit = |file: &str, line: u64| json!({"file": file, "line": line, "snippet": "s"});
        let hits = [hit("a.md", 3), hit("a.md", 17), hit("b/c.csv", 2)];
        let cited = citations("desk", "net margin", &hits);
        assert_eq!(
            cited,
            [
                json!({"source_info": {"type": "widget", "widget_id": "desk", "name": "a.md",
                                       "description": "data/a.md, lines 3, 17: matching \"net margin\"",
                                       "metadata": {"file": "a.md", "lines": [3, 17], "prompt": "net margin"}},
                       "details": [hit("a.md", 3), hit("a.md", 17)]}),
                json!({"source_info": {"type": "widget", "widget_id": "desk", "name": "b/c.csv",
                                       "description": "data/b/c.csv, line 2: matching \"net margin\"",
                                       "metadata": {"file": "b/c.csv", "lines": [2], "prompt": "net margin"}},
                       "details": [hit("b/c.csv", 2)]}),
            ]
        );
        assert!(citations("desk", "", &[]).is_empty());
    }

    #[test]
    fn only_text_files_are_searched() {
        assert!(is_text("notes/a.MD") && is_text("x.csv"));
        assert!(!is_text("a.pdf") && !is_text("README"));
    }
}
