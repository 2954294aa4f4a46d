//! One `widgets.json` entry's server side: the `backend` key (see the table in `mod.rs`) and the
//! fields openbb-files reads besides it (`endpoint`, `params`, `wsEndpoint`,
//! `data.wsRowIdColumn`), checked and turned into a [`Widget`] and its [`OptionsRoute`]s.
//! Invariant: every path it returns is cleaned and inside `data/` (or a checked remote URL).

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::model::{
    Articles, Kind, LiveSocket, OptionsRoute, OptionsSource, PdfMode, Source, Tile, Type, Widget,
};
use super::{FILES_PREFIX, RESERVED_ENDPOINTS, append};
use crate::filter::Rule;
use crate::paths::{clean_request_path, is_safe_segment};
use crate::remote::is_remote;
use crate::template::placeholders;
use crate::validate;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BackendSpec {
    file: Option<String>,
    folder: Option<String>,
    #[serde(default)]
    filters: Map<String, Value>,
    column: Option<String>,
    label: Option<String>,
    records: Option<String>,
    #[serde(default)]
    mode: PdfMode,
    #[serde(default)]
    options: Map<String, Value>,
    ttl: Option<u64>,
    append: Option<Value>,
    // How a table file is read (see `formats::Reading`).
    sheet: Option<Value>,
    delimiter: Option<String>,
    decimal: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionsSpec {
    file: Option<String>,
    column: Option<String>,
    label: Option<String>,
    folder: Option<String>,
    extension: Option<String>,
    #[serde(default)]
    stems: bool,
}

impl OptionsSpec {
    /// The source these keys name: a folder's files (`folder`, with `extension` and `stems`),
    /// a column's values (`file` and `column`, with `label`), or a JSON file of options.
    fn source(self) -> Result<OptionsSource, String> {
        let for_folder = self.extension.is_some() || self.stems;
        let for_column = self.column.is_some() || self.label.is_some();
        match (self.file, self.folder) {
            (Some(_), Some(_)) => Err("takes \"file\" or \"folder\", not both".into()),
            (None, None) => Err("needs \"file\" (with \"column\") or \"folder\"".into()),
            (Some(_), None) if for_folder => {
                Err("\"extension\" and \"stems\" apply to a \"folder\"".into())
            }
            (None, Some(_)) if for_column => {
                Err("\"column\" and \"label\" apply to a \"file\"".into())
            }
            (None, Some(folder)) => Ok(OptionsSource::Folder {
                folder,
                extension: self
                    .extension
                    .map(|ext| ext.trim_start_matches('.').to_ascii_lowercase()),
                stems: self.stems,
            }),
            (Some(file), None) => Ok(match self.column {
                Some(column) => OptionsSource::Column {
                    file,
                    column,
                    label: self.label,
                    reading: Default::default(),
                },
                None if self.label.is_some() => {
                    return Err("\"label\" needs \"column\"".into());
                }
                None => OptionsSource::Static { file },
            }),
        }
    }
}

/// Why an entry cannot be served: the field, and the message.
pub(super) type Refusal = (&'static str, String);

/// Validates one entry and splits it into the widget's server side, its options endpoints
/// and what Workspace sees (clashes with other widgets are `clashes.rs`'s).
pub(super) fn widget(
    id: &str,
    entry: Value,
) -> Result<(Widget, Vec<OptionsRoute>, Value), Refusal> {
    let Value::Object(mut entry) = entry else {
        return Err(("widget", "expected an object".into()));
    };
    let widget_type = Type::of(validate::type_of(&entry)).map_err(|message| ("type", message))?;
    let spec = entry
        .remove(validate::BACKEND_KEY)
        .unwrap_or(Value::Object(Map::new()));
    let spec_keys: Vec<String> = spec
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let mut spec: BackendSpec =
        serde_json::from_value(spec).map_err(|err| ("backend", err.to_string()))?;
    if let Some(key) = spec_keys.iter().find(|k| !widget_type.allows(k)) {
        return Err((
            "backend",
            format!(
                "'{key}' does not apply to a {} widget (its keys: {})",
                entry.get("type").and_then(Value::as_str).unwrap_or("table"),
                widget_type.keys().join(", ")
            ),
        ));
    }
    let endpoint = match entry.get("endpoint").and_then(Value::as_str) {
        Some(url) if widget_type == Type::PassThrough && is_remote(url) => url.to_string(),
        endpoint => endpoint_path(endpoint, "endpoint")?,
    };
    let params = params_of(&entry);
    let filter_specs = std::mem::take(&mut spec.filters);
    let options_specs = std::mem::take(&mut spec.options);
    let for_newsfeed = widget_type == Type::Newsfeed;
    let append = spec
        .append
        .take()
        .map(|append| append::parse(append, for_newsfeed))
        .transpose()?;
    if let Some(append) = &append {
        // The widget shows what its form adds, unless it names another file (folder).
        match for_newsfeed {
            true => spec.folder.get_or_insert_with(|| append.file.clone()),
            false => spec.file.get_or_insert_with(|| append.file.clone()),
        };
    }
    let kind = kind(widget_type, spec, &entry, &endpoint, &params)?;
    let filters = filters(filter_specs)?;
    let options = options(id, &kind, options_specs, &params)?;
    if let Some(append) = &append {
        append::add_forms(&mut entry, &endpoint, append);
    }
    let widget = Widget {
        id: id.to_string(),
        endpoint,
        filters,
        kind,
        append,
    };
    Ok((widget, options, Value::Object(entry)))
}

/// The settings of a widget of `widget_type` from its `backend` (whose keys all apply to that
/// type) and its entry.
fn kind(
    widget_type: Type,
    mut spec: BackendSpec,
    entry: &Map<String, Value>,
    endpoint: &str,
    params: &[&Map<String, Value>],
) -> Result<Kind, Refusal> {
    let source = source(&mut spec, params)?;
    check_path("backend.folder", spec.folder.as_deref(), false)?;
    check_path("backend.records", spec.records.as_deref(), false)?;
    Ok(match widget_type {
        Type::Table => Kind::Table(source),
        Type::Markdown => Kind::Markdown(source),
        Type::Html => Kind::Html {
            source,
            records: spec.records,
        },
        Type::Chart(library) => Kind::Chart {
            library,
            source,
            records: spec.records,
        },
        Type::Metric => Kind::Metric {
            source,
            tile: match (spec.column, spec.label) {
                (Some(column), label) => Some(Tile { column, label }),
                (None, Some(_)) => return Err(("backend.label", "needs backend.column".into())),
                (None, None) => None,
            },
        },
        Type::Newsfeed => Kind::Newsfeed(match spec.folder {
            Some(_) if source.file.is_some() => {
                return Err((
                    "backend",
                    "a newsfeed reads backend.file or backend.folder (of notes), not both".into(),
                ));
            }
            Some(folder) => Articles::Notes { folder },
            None => Articles::File(source),
        }),
        Type::Youtube => Kind::Youtube(source),
        Type::Pdf => Kind::Pdf {
            source,
            mode: spec.mode,
        },
        Type::MultiFileViewer => Kind::MultiFileViewer {
            folder: spec.folder.unwrap_or_else(|| endpoint.to_string()),
            file_param: file_selector(params)
                .and_then(|p| p.get("paramName").and_then(Value::as_str))
                .ok_or((
                    "params",
                    "a multi_file_viewer needs a param with \"roles\": [\"fileSelector\"]"
                        .to_string(),
                ))?
                .to_string(),
        },
        Type::Omni => Kind::Omni {
            folder: spec.folder.unwrap_or_default(),
        },
        Type::Ssrm => Kind::Ssrm(source),
        Type::AdvancedChart => Kind::AdvancedChart(source),
        Type::LiveGrid => Kind::LiveGrid {
            socket: live_socket(entry, source.file.as_deref())?,
            source,
        },
        Type::PassThrough => Kind::PassThrough,
    })
}

/// The keys of `spec` that say how the widget's file is read, taken out of it: `backend.file`,
/// a path under `data/` or a remote URL whose `{param}`s name params of the widget, and
/// `backend.ttl`, only for a remote URL, and `backend.sheet`, `backend.delimiter`,
/// `backend.decimal` (how a table file is read). (A key of this kind goes in `Source` and here.)
fn source(spec: &mut BackendSpec, params: &[&Map<String, Value>]) -> Result<Source, Refusal> {
    let (file, ttl) = (spec.file.take(), spec.ttl.take());
    if let Some(template) = &file {
        declared_placeholders(template, params)?;
    }
    match file.as_deref() {
        Some(url) if is_remote(url) => {
            crate::remote::check_template(url).map_err(|message| ("backend.file", message))?
        }
        file => check_path("backend.file", file, true)?,
    }
    if ttl.is_some() && !file.as_deref().is_some_and(is_remote) {
        return Err((
            "backend.ttl",
            "applies to a remote backend.file (an http:// or https:// URL)".into(),
        ));
    }
    let reading = crate::formats::Reading::from_backend(
        spec.sheet.take().as_ref(),
        spec.delimiter.take().as_deref(),
        spec.decimal.take().as_deref(),
    )?;
    Ok(Source {
        file,
        ttl: ttl.map(Duration::from_secs),
        reading,
    })
}

/// `backend.filters`: param → rule, `null` meaning "never filter on this param".
fn filters(specs: Map<String, Value>) -> Result<Vec<(String, Option<Rule>)>, Refusal> {
    let mut filters = Vec::new();
    for (param, rule) in specs {
        let rule = match rule {
            Value::Null => None,
            rule => Some(serde_json::from_value::<Rule>(rule).map_err(|_| {
                (
                    "backend.filters",
                    format!(
                        "'{param}': expected a column name, {{\"column\": ..., \"op\": \"eq\"|\"gte\"|\"lte\"}}, or null"
                    ),
                )
            })?),
        };
        filters.push((param, rule));
    }
    Ok(filters)
}

/// The param with the `fileSelector` role.
fn file_selector<'p>(params: &[&'p Map<String, Value>]) -> Option<&'p Map<String, Value>> {
    params
        .iter()
        .copied()
        .find(|p| validate::has_role(p, "fileSelector"))
}

/// The options endpoints of widget `id`: `backend.options`, and a multi_file_viewer's folder
/// on its fileSelector's `optionsEndpoint`.
fn options(
    id: &str,
    kind: &Kind,
    specs: Map<String, Value>,
    params: &[&Map<String, Value>],
) -> Result<Vec<OptionsRoute>, Refusal> {
    let mut routes = Vec::new();
    for (param, source) in specs {
        let refused = |message: String| ("backend.options", format!("'{param}': {message}"));
        let spec: OptionsSpec =
            serde_json::from_value(source).map_err(|err| refused(err.to_string()))?;
        let mut source = spec.source().map_err(refused)?;
        // The widget's own file is read as the widget reads it (a workbook's sheet).
        if let OptionsSource::Column { file, reading, .. } = &mut source
            && let Some(own) = kind.source().filter(|s| s.file.as_ref() == Some(file))
        {
            *reading = own.reading.clone();
        }
        let path = match &source {
            OptionsSource::Column { file, .. } | OptionsSource::Static { file } => file,
            OptionsSource::Folder { folder, .. } => folder,
        };
        check_path("backend.options", Some(path), false)?;
        routes.push((param, source));
    }
    // The folder's files answer the selector's options endpoint, when it names one (without
    // one, Workspace offers no choices; the validator warns of that).
    if let Kind::MultiFileViewer { folder, file_param } = kind
        && file_selector(params).is_some_and(|p| p.contains_key("optionsEndpoint"))
        && !routes.iter().any(|(name, _)| name == file_param)
    {
        let source = OptionsSource::Folder {
            folder: folder.clone(),
            extension: None,
            stems: false,
        };
        routes.push((file_param.clone(), source));
    }
    let mut options = Vec::new();
    for (param, source) in routes {
        let declared = params
            .iter()
            .find(|p| p.get("paramName").and_then(Value::as_str) == Some(param.as_str()))
            .ok_or((
                "backend.options",
                format!("'{param}' is not a param of this widget"),
            ))?;
        let endpoint = endpoint_path(
            declared.get("optionsEndpoint").and_then(Value::as_str),
            "optionsEndpoint",
        )
        .map_err(|(field, message)| {
            ("backend.options", format!("'{param}': {field}: {message}"))
        })?;
        options.push(OptionsRoute {
            endpoint,
            source,
            widget: id.to_string(),
        });
    }
    Ok(options)
}

/// A live_grid's `wsEndpoint` and `data.wsRowIdColumn`, both required. Its file may not hold
/// `{param}` placeholders: one file is watched for all of the widget's subscribers.
fn live_socket(entry: &Map<String, Value>, file: Option<&str>) -> Result<LiveSocket, Refusal> {
    let endpoint = endpoint_path(
        entry.get("wsEndpoint").and_then(Value::as_str),
        "wsEndpoint",
    )?;
    let key = entry.get("data").and_then(|data| data.get("wsRowIdColumn"));
    let row_key = row_key(key).ok_or((
        "data.wsRowIdColumn",
        "a live_grid needs the column that identifies its rows, or an array of the columns \
         that do together"
            .to_string(),
    ))?;
    if file.is_some_and(|file| file.contains('{')) {
        return Err((
            "backend.file",
            "a live_grid watches one file: no {param} placeholders".to_string(),
        ));
    }
    Ok(LiveSocket { endpoint, row_key })
}

/// `data.wsRowIdColumn`: a column name, or a non-empty array of distinct column names (a
/// composite key, as the front end accepts it).
fn row_key(key: Option<&Value>) -> Option<Vec<String>> {
    let columns: Vec<String> = match key? {
        Value::String(column) => vec![column.clone()],
        Value::Array(columns) => columns
            .iter()
            .map(|column| column.as_str().map(str::to_string))
            .collect::<Option<_>>()?,
        _ => return None,
    };
    let distinct = columns
        .iter()
        .enumerate()
        .all(|(at, column)| !column.is_empty() && !columns[..at].contains(column));
    (!columns.is_empty() && distinct).then_some(columns)
}

/// A cleaned endpoint path from a manifest value; refuses reserved paths and the files prefix.
fn endpoint_path(value: Option<&str>, field: &'static str) -> Result<String, Refusal> {
    let raw = value.ok_or((field, "required, as a string".to_string()))?;
    if raw.starts_with("http") {
        return Err((
            field,
            format!(
                "'{raw}': Workspace reads an endpoint beginning with \"http\" as another \
                 site's address, so it would never reach this server: rename it"
            ),
        ));
    }
    if raw.contains(['{', '}']) {
        return Err((
            field,
            format!(
                "'{raw}': openbb-files does not serve {{param}} placeholders in an endpoint: \
                 send the param in the query (backend.file may use it as {{param}})"
            ),
        ));
    }
    let path = raw.split('?').next().unwrap_or_default();
    let path = clean_request_path(path).ok_or((field, format!("'{raw}' is not a safe path")))?;
    if RESERVED_ENDPOINTS.contains(&path.as_str()) || path.split('/').next() == Some(FILES_PREFIX) {
        return Err((
            field,
            format!("'{raw}' is a path the server answers itself"),
        ));
    }
    Ok(path)
}

/// Every `{name}` placeholder of a file template names one of the widget's params (otherwise
/// every request would fail).
fn declared_placeholders(template: &str, params: &[&Map<String, Value>]) -> Result<(), Refusal> {
    let names = placeholders(template).map_err(|message| ("backend.file", message))?;
    let declared: Vec<&str> = params
        .iter()
        .filter_map(|p| p.get("paramName").and_then(Value::as_str))
        .collect();
    match names.iter().find(|name| !declared.contains(name)) {
        Some(name) => Err((
            "backend.file",
            format!(
                "'{{{name}}}' names no param of this widget (its params: {})",
                if declared.is_empty() {
                    "none".to_string()
                } else {
                    declared.join(", ")
                }
            ),
        )),
        None => Ok(()),
    }
}

/// A widget's params, whether written as one list or as rows of lists.
fn params_of(entry: &Map<String, Value>) -> Vec<&Map<String, Value>> {
    validate::params_of(entry)
        .into_iter()
        .filter_map(|(_, p)| p.as_object())
        .collect()
}

/// A path under `data/`: safe segments only; with `templated`, `{param}` placeholders allowed.
fn check_path(field: &'static str, path: Option<&str>, templated: bool) -> Result<(), Refusal> {
    let Some(path) = path else { return Ok(()) };
    let mut filled = path.to_string();
    if templated {
        for name in placeholders(path).map_err(|message| (field, message))? {
            filled = filled.replace(&format!("{{{name}}}"), "x");
        }
    }
    if filled.split('/').all(is_safe_segment) && !filled.contains(['{', '}']) {
        Ok(())
    } else {
        Err((
            field,
            format!("'{path}' must be a relative path inside data/ without '..' or dotfiles"),
        ))
    }
}
