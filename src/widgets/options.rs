//! Options endpoints (a param's `optionsEndpoint`): `[{label, value}]` for a dropdown.
//!
//! From a table file: the distinct non-null values of a column, sorted (numbers numerically,
//! text ignoring case), labelled by another column when the route names one; the query
//! parameters (Workspace sends the param's `optionsParams`) first filter the rows by the usual
//! rules, so `?sector=Energy` lists only the energy tickers. From a JSON file: the options array
//! as written. From a folder: its files, for a multi_file_viewer's fileSelector.

use std::cmp::Ordering;
use std::collections::HashSet;

use serde_json::{Value, json};

use crate::data::Data;
use crate::files::Files;
use crate::http::{Body, JSON, Response};
use crate::manifest::{OptionsRoute, OptionsSource};
use crate::widgets::errors::refused_filter;

pub fn serve(files: &Files, route: &OptionsRoute, params: &[(String, String)]) -> Response {
    match &route.source {
        OptionsSource::Column {
            file,
            column,
            label,
        } => from_column(files, file, column, label.as_deref(), params),
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
        OptionsSource::Folder { folder } => match files.folder(folder, false) {
            Ok(names) => {
                let options: Vec<Value> = names
                    .iter()
                    .map(|n| n.rsplit('/').next().unwrap_or(n))
                    .map(|name| json!({"label": name, "value": name}))
                    .collect();
                Response::json(200, &options)
            }
            Err(err) => err.into(),
        },
    }
}

fn from_column(
    files: &Files,
    file: &str,
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
