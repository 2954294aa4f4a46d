//! newsfeed: articles `{title, date, author, excerpt, body}`, newest first.
//!
//! From a JSON or CSV file with those columns (`backend.file`, default `<endpoint>.csv`/`.json`),
//! or from a folder of Markdown notes (`backend.folder`), each opening with a front-matter block:
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
//! The body is the Markdown after the block; the excerpt is its first paragraph that is not a
//! heading (or an `excerpt:` key). A note whose front matter is broken is left out and reported
//! (listed at `/`), never fatal. The widget's filters apply to the articles' fields. With
//! `backend.append.folder`, its form adds notes to the folder (`writes/`).

use std::cmp::Reverse;

use serde_json::Value;

use crate::data::filter_items;
use crate::error::FileError;
use crate::files::Files;
use crate::http::Response;
use crate::manifest::{Articles, Source};
use crate::note::{FIELDS, parse_note};
use crate::widgets::Call;
use crate::widgets::errors::refused_filter;

pub fn serve(call: &Call, articles: &Articles) -> Response {
    let articles = match articles {
        Articles::Notes { folder } => notes(call, folder),
        Articles::File(source) => from_file(call, source),
    };
    let mut articles = match articles {
        Ok(articles) => articles,
        Err(response) => return response,
    };
    articles.sort_by_key(|article| {
        Reverse(
            article
                .get("date")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        )
    });
    Response::json(200, &articles)
}

fn from_file(call: &Call, source: &Source) -> Result<Vec<Value>, Response> {
    let relative = call.locate(source)?;
    let data = call.files.data(&relative)?;
    let body = data
        .render(call.params, &call.widget.filters, &call.files.filter_limits)
        .map_err(|err| refused_filter(format_args!("{}: filters", call.widget.id), &err))?;
    match serde_json::from_slice(body.as_ref()) {
        Ok(Value::Array(articles)) => Ok(articles),
        _ => Err(Response::error(
            500,
            &format!(
                "{}: a newsfeed file must hold an array of articles",
                call.files.dir.display(&relative)
            ),
        )),
    }
}

fn notes(call: &Call, folder: &str) -> Result<Vec<Value>, Response> {
    let articles = read_notes(call.files, folder)?;
    let columns: Vec<String> = FIELDS.iter().map(|f| f.to_string()).collect();
    let selected = filter_items(
        &articles,
        &columns,
        call.params,
        &call.widget.filters,
        &call.files.filter_limits,
    )
    .map_err(|err| refused_filter(format_args!("{}: filters", call.widget.id), &err))?;
    Ok(selected.into_iter().cloned().collect())
}

/// The notes of a folder as articles; a note whose front matter is broken is left out and
/// recorded as a problem of its file.
pub fn read_notes(files: &Files, folder: &str) -> Result<Vec<Value>, FileError> {
    let names = files.folder(folder, false)?;
    let mut articles = Vec::new();
    for relative in names
        .iter()
        .filter(|n| n.to_ascii_lowercase().ends_with(".md"))
    {
        let Ok(text) = files.text(relative) else {
            continue;
        };
        let shown = files.dir.display(relative);
        match parse_note(&text) {
            Ok(article) => {
                files.clear_problem(&shown);
                articles.push(Value::Object(article));
            }
            Err(why) => files.record_problem(&shown, &format!("{shown}: front matter: {why}")),
        }
    }
    Ok(articles)
}
