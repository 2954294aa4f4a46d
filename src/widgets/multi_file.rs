//! multi_file_viewer: POST `{"<fileSelector paramName>": ["a.pdf", ...]}` (an array, or one
//! comma-separated string) answers one entry per requested file, in order, a name asked for
//! twice answered once: `{content (base64), data_format: {data_type: <extension>, filename}}`,
//! or `{error_type: "not_found", content}` for a name that is not a file of the widget's
//! folder. No selection (`[]`, `""`, `null`, absent) answers `[]`. The fileSelector's options
//! endpoint lists the folder (see `options.rs`).
//!
//! Bounded work: at most [`MAX_FILES`] names a request, and an answer of at most
//! `--max-viewer-bytes` (the files' sizes are added up before any is read); beyond either,
//! 413 naming the limit.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::base64;
use crate::files::Files;
use crate::http::{Body, JSON, Response};
use crate::paths::is_safe_segment;
use crate::widgets::{Call, json_body};

/// Distinct file names one request may ask for.
pub const MAX_FILES: usize = 100;
/// What an entry adds to the answer besides its content and name (keys, quotes, the type).
const ENTRY_OVERHEAD: u64 = 80;

/// The answer for the files of `folder` named by the body's `param` (the fileSelector's).
pub fn serve(call: &Call, folder: &str, param: &str) -> Response {
    let body = match json_body(call.request) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let names: Vec<&str> = match body.get(param) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => match items.iter().map(Value::as_str).collect() {
            Some(names) => names,
            None => return Response::error(400, &format!("'{param}' must hold file names")),
        },
        Some(Value::String(joined)) => joined
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect(),
        Some(_) => {
            return Response::error(
                400,
                &format!("the request body's '{param}' must be an array of file names"),
            );
        }
    };
    let mut seen = HashSet::new();
    let names: Vec<&str> = names.into_iter().filter(|n| seen.insert(*n)).collect();
    if names.len() > MAX_FILES {
        return Response::error(
            413,
            &format!(
                "{} files were asked for; a request may ask for at most {MAX_FILES}",
                names.len()
            ),
        );
    }
    let expected: u64 = names
        .iter()
        .map(|name| expected_size(call.files, folder, name))
        .sum();
    if expected > call.max_viewer_bytes {
        return too_large(expected, call.max_viewer_bytes);
    }
    let mut answer = b"[".to_vec();
    for (index, name) in names.iter().enumerate() {
        if index > 0 {
            answer.push(b',');
        }
        let entry = entry(call.files, folder, name);
        if serde_json::to_writer(&mut answer, &entry).is_err() {
            return Response::error(500, "could not encode the answer");
        }
        // The files may have grown since their sizes were added up.
        if answer.len() as u64 > call.max_viewer_bytes {
            return too_large(answer.len() as u64, call.max_viewer_bytes);
        }
    }
    answer.push(b']');
    Response::new(200, JSON, Body::Owned(answer))
}

fn too_large(bytes: u64, limit: u64) -> Response {
    Response::error(
        413,
        &format!(
            "the files asked for make an answer of {bytes} bytes or more, over the limit of \
             {limit} (--max-viewer-bytes); ask for fewer files at a time"
        ),
    )
}

/// The size of a file's entry in the answer, from its metadata: its base64 and its name.
fn expected_size(files: &Files, folder: &str, name: &str) -> u64 {
    let file = is_safe_segment(name)
        .then(|| files.dir.resolve(&format!("{folder}/{name}")))
        .flatten();
    let content = file.map_or(0, |(_, meta)| meta.len().div_ceil(3) * 4);
    content + name.len() as u64 + ENTRY_OVERHEAD
}

fn entry(files: &Files, folder: &str, name: &str) -> Value {
    let relative = format!("{folder}/{name}");
    let bytes = is_safe_segment(name)
        .then(|| files.bytes(&relative).ok())
        .flatten();
    match bytes {
        Some(bytes) => {
            let extension = name
                .rsplit_once('.')
                .map_or("", |(_, e)| e)
                .to_ascii_lowercase();
            json!({
                "content": base64::encode(&bytes),
                "data_format": {"data_type": extension, "filename": name},
            })
        }
        None => json!({
            "error_type": "not_found",
            "content": format!("'{name}' is not a file in {}", files.dir.display(folder)),
        }),
    }
}
