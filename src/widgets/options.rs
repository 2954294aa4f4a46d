//! Options endpoints (a param's `optionsEndpoint`): `[{label, value}]` for a dropdown.
//!
//! From a table file: the distinct non-null values of a column, sorted (numbers numerically,
//! text ignoring case), labelled by another column when the route names one; the query
//! parameters (Workspace sends the param's `optionsParams`) first filter the rows by the usual
//! rules, so `?sector=Energy` lists only the energy tickers; the widget's own file is read as
//! the widget reads it (`backend.sheet`, `backend.delimiter`, `backend.decimal`). From a JSON file: the options array
//! as written. From a folder: its files (a multi_file_viewer's fileSelector, or
//! `{"folder": "reports", "extension": "md", "stems": true}` for `reports/{ticker}.md`), in
//! name order, by name or by stem, only those with the extension when one is given.

use std::cmp::Ordering;
use std::collections::HashSet;

use serde_json::{Value, json};

use crate::data::Data;
use crate::files::{Files, Found};
use crate::http::{Body, JSON, Response};
use crate::manifest::{OptionsRoute, OptionsSource};
use crate::widgets::errors::refused_filter;

pub fn serve(files: &Files, route: &OptionsRoute, params: &[(String, String)]) -> Response {
    match &route.source {
        OptionsSource::Column {
            file,
            column,
            label,
            reading,
        } => match files.find(file) {
            Ok(found) => from_column(
                files,
                &found.read_as(reading.clone()),
                column,
                label.as_deref(),
                params,
            ),
            Err(err) => err.into(),
        },
        OptionsSource::Static { file } => match files.data(file) {
            Ok(data) => match &*data {
                Data::Json { raw, rows: Some(_) } => {
                    Response::new(200, JSON, Body::Shared(raw.clone()))
                }
                _ => Response::error(
                    500,
                    &format!("{}: options must be a JSON array", files.dir.display(file)),
                ),
            },
            Err(err) => err.into(),
        },
        OptionsSource::Folder {
            folder,
            extension,
            stems,
        } => match files.folder(folder, false) {
            Ok(names) => {
                let options: Vec<Value> = folder_entries(&names, extension.as_deref(), *stems)
                    .into_iter()
                    .map(|name| json!({"label": name, "value": name}))
                    .collect();
                Response::json(200, &options)
            }
            Err(err) => err.into(),
        },
    }
}

/// The file names of `paths` (a folder's files, in order), those ending `.<extension>` (any
/// case) when it is given, without the extension when `stems`; a stem two files share once.
fn folder_entries<'p>(paths: &'p [String], extension: Option<&str>, stems: bool) -> Vec<&'p str> {
    let mut entries: Vec<&str> = Vec::new();
    for name in paths.iter().map(|p| p.rsplit('/').next().unwrap_or(p)) {
        let split = name.rsplit_once('.').filter(|(stem, _)| !stem.is_empty());
        let ext = split.map(|(_, ext)| ext);
        if extension.is_some_and(|wanted| !ext.is_some_and(|e| e.eq_ignore_ascii_case(wanted))) {
            continue;
        }
        let entry = match (stems, split) {
            (true, Some((stem, _))) => stem,
            _ => name,
        };
        if !entries.contains(&entry) {
            entries.push(entry);
        }
    }
    entries
}

fn from_column(
    files: &Files,
    file: &Found,
    column: &str,
    label: Option<&str>,
    params: &[(String, String)],
) -> Response {
    let data = match files.data(file) {
        Ok(data) => data,
        Err(err) => return err.into(),
    };
    let shown = files.dir.display(file);
    let limits = &files.filter_limits;
    let values = data.column(params, &[], limits, column);
    let labels = label
        .map(|label| data.column(params, &[], limits, label))
        .transpose();
    let (values, labels) = match (values, labels) {
        (Ok(values), Ok(labels)) => (values, labels),
        (Err(err), _) | (_, Err(err)) => return refused_filter(shown, &err),
    };
    let mut options: Vec<(Value, String)> = Vec::new();
    let mut seen = HashSet::new();
    for (row, value) in values.into_iter().enumerate() {
        if value.is_null() || !seen.insert(value.to_string()) {
            continue;
        }
        let label = labels
            .as_ref()
            .map(|labels| &labels[row])
            .filter(|l| !l.is_null())
            .unwrap_or(&value);
        let label = label
            .as_str()
            .map_or_else(|| label.to_string(), str::to_string);
        options.push((value, label));
    }
    options.sort_by(|(a, _), (b, _)| compare(a, b));
    let options: Vec<Value> = options
        .into_iter()
        .map(|(value, label)| json!({"label": label, "value": value}))
        .collect();
    Response::json(200, &options)
}

fn compare(a: &Value, b: &Value) -> Ordering {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => {
            let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_lowercase);
            text(a).cmp(&text(b))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_entries_by_name_or_stem_filtered_by_extension() {
        let paths: Vec<String> = [
            "r/AAPL.md",
            "r/MSFT.MD",
            "r/notes.txt",
            "r/.md",
            "r/a.b.pdf",
        ]
        .iter()
        .map(|p| p.to_string())
        .collect();
        assert_eq!(
            folder_entries(&paths, None, false),
            ["AAPL.md", "MSFT.MD", "notes.txt", ".md", "a.b.pdf"]
        );
        assert_eq!(folder_entries(&paths, Some("md"), true), ["AAPL", "MSFT"]);
        assert_eq!(folder_entries(&paths, Some("pdf"), false), ["a.b.pdf"]);
        assert_eq!(
            folder_entries(&paths, None, true),
            ["AAPL", "MSFT", "notes", ".md", "a.b"]
        );
    }
}
