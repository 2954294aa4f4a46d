//! `widgets.json` and `apps.json`: what Workspace is served, and how each endpoint is answered.
//!
//! A widget entry may carry one server-side key, `backend`, that Workspace never sees:
//!
//! ```json
//! "backend": {"file": "prices/daily.csv", "filters": {"symbol": "ticker", "theme": null}}
//! ```
//!
//! `file` names the data file under `data/` (default: `<endpoint>.csv`, then `<endpoint>.json`);
//! `filters` maps parameters to columns (see `filter.rs`). Invariants: the served manifest holds
//! only entries that passed these checks, with `backend` removed and key order kept; each entry
//! left out has a problem line `widget: field: message`; no two served widgets share an endpoint
//! with different backends.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::filter::Rule;
use crate::http::Payload;
use crate::paths::{clean_request_path, is_safe_segment};

/// The server-side settings of one widget.
#[derive(Debug, Clone, PartialEq)]
pub struct Widget {
    pub id: String,
    /// Cleaned endpoint path, e.g. `prices` or `reports/daily`.
    pub endpoint: String,
    /// Data file relative to `data/`, when the widget names one.
    pub file: Option<String>,
    /// Explicit filter rules; `None` means "never filter on this parameter".
    pub filters: Vec<(String, Option<Rule>)>,
}

#[derive(Debug)]
pub struct Manifest {
    /// The JSON object Workspace receives.
    pub served: Payload,
    widgets: Vec<Widget>,
    pub problems: Vec<String>,
}

/// Paths the server answers itself; no widget may take them.
const RESERVED_ENDPOINTS: [&str; 4] = ["", "widgets.json", "apps.json", "templates.json"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BackendSpec {
    file: Option<String>,
    #[serde(default)]
    filters: Map<String, Value>,
}

impl Manifest {
    pub fn empty() -> Manifest {
        Manifest {
            served: Payload::new(&b"{}"[..]),
            widgets: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Parses `widgets.json`. Only a file that is not a JSON object fails as a whole; a bad
    /// entry is left out and reported in `problems`.
    pub fn parse(bytes: Option<&[u8]>) -> Result<Manifest, String> {
        let bytes = bytes.ok_or("widgets.json: the file was not found in the root folder")?;
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let document: Value = serde_json::from_slice(bytes).map_err(|err| {
            format!(
                "widgets.json: line {}: column {}: {err}",
                err.line(),
                err.column()
            )
        })?;
        let Value::Object(entries) = document else {
            return Err(
                "widgets.json: expected an object mapping widget ids to widgets".to_string(),
            );
        };
        let mut served = Map::new();
        let mut widgets: Vec<Widget> = Vec::new();
        let mut problems = Vec::new();
        for (id, entry) in entries {
            match check_widget(&id, entry, &widgets) {
                Ok((widget, entry)) => {
                    served.insert(id, entry);
                    widgets.push(widget);
                }
                Err((field, message)) => problems.push(format!("{id}: {field}: {message}")),
            }
        }
        let served = serde_json::to_vec(&served).map_err(|err| err.to_string())?;
        Ok(Manifest {
            served: Payload::new(served),
            widgets,
            problems,
        })
    }

    pub fn widget_count(&self) -> usize {
        self.widgets.len()
    }

    pub fn widget_for(&self, endpoint: &str) -> Option<&Widget> {
        self.widgets.iter().find(|w| w.endpoint == endpoint)
    }
}

type Problem = (&'static str, String);

/// Validates one entry and splits it into the widget's server side and what Workspace sees.
fn check_widget(id: &str, entry: Value, accepted: &[Widget]) -> Result<(Widget, Value), Problem> {
    let Value::Object(mut entry) = entry else {
        return Err(("widget", "expected an object".into()));
    };
    let spec = match entry.remove("backend") {
        None => BackendSpec {
            file: None,
            filters: Map::new(),
        },
        Some(value) => serde_json::from_value(value).map_err(|err| ("backend", err.to_string()))?,
    };
    let raw_endpoint = entry
        .get("endpoint")
        .and_then(Value::as_str)
        .ok_or(("endpoint", "required, as a string".to_string()))?;
    let endpoint = raw_endpoint.split('?').next().unwrap_or_default();
    let endpoint = clean_request_path(endpoint)
        .ok_or(("endpoint", format!("'{raw_endpoint}' is not a safe path")))?;
    if RESERVED_ENDPOINTS.contains(&endpoint.as_str()) {
        return Err((
            "endpoint",
            format!("'{raw_endpoint}' is a path the server answers itself"),
        ));
    }
    if let Some(file) = &spec.file
        && !file.split('/').all(is_safe_segment)
    {
        return Err((
            "backend.file",
            format!("'{file}' must be a relative path inside data/ without '..' or dotfiles"),
        ));
    }
    let mut filters = Vec::new();
    for (param, rule) in spec.filters {
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
    let widget = Widget {
        id: id.to_string(),
        endpoint,
        file: spec.file,
        filters,
    };
    if let Some(other) = accepted.iter().find(|w| w.endpoint == widget.endpoint)
        && (other.file != widget.file || other.filters != widget.filters)
    {
        return Err((
            "endpoint",
            format!(
                "'{}' is already served by widget '{}' with other backend settings",
                widget.endpoint, other.id
            ),
        ));
    }
    Ok((widget, Value::Object(entry)))
}

/// Parses `apps.json` into the bytes served at `/apps.json`: an array (a lone app object is
/// wrapped in one), `[]` when there is no file.
pub fn parse_apps(bytes: Option<&[u8]>) -> Result<Payload, String> {
    let Some(bytes) = bytes else {
        return Ok(Payload::new(&b"[]"[..]));
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let document: Value = serde_json::from_slice(bytes).map_err(|err| {
        format!(
            "apps.json: line {}: column {}: {err}",
            err.line(),
            err.column()
        )
    })?;
    match document {
        Value::Array(_) => Ok(Payload::new(bytes)),
        Value::Object(_) => Ok(Payload::new([b"[", bytes, b"]"].concat())),
        _ => Err("apps.json: expected an array of apps".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served(manifest: &Manifest) -> Value {
        serde_json::from_slice(&manifest.served.bytes).unwrap()
    }

    #[test]
    fn backend_keys_are_removed_and_order_kept() {
        let manifest = Manifest::parse(Some(
            br#"{"z": {"name": "Z", "endpoint": "/z", "backend": {"file": "a/z.csv"}},
                 "a": {"name": "A", "endpoint": "a?x=1", "type": "table"}}"#,
        ))
        .unwrap();
        assert!(manifest.problems.is_empty(), "{:?}", manifest.problems);
        let text = std::str::from_utf8(&manifest.served.bytes).unwrap();
        assert!(!text.contains("backend"));
        assert!(text.find("\"z\"").unwrap() < text.find("\"a\"").unwrap());
        assert_eq!(
            manifest.widget_for("z").unwrap().file.as_deref(),
            Some("a/z.csv")
        );
        assert_eq!(manifest.widget_for("a").unwrap().id, "a");
        assert_eq!(manifest.widget_count(), 2);
    }

    #[test]
    fn bad_entries_are_left_out_and_reported() {
        let manifest = Manifest::parse(Some(
            br#"{"ok": {"name": "Ok", "endpoint": "ok"},
                 "no_endpoint": {"name": "X"},
                 "escape": {"endpoint": "../etc/passwd"},
                 "bad_file": {"endpoint": "f", "backend": {"file": "../secret.csv"}},
                 "typo": {"endpoint": "t", "backend": {"fiel": "t.csv"}},
                 "bad_rule": {"endpoint": "r", "backend": {"filters": {"p": 5}}},
                 "reserved": {"endpoint": "/widgets.json"},
                 "twin": {"endpoint": "ok", "backend": {"file": "other.csv"}},
                 "scalar": 3}"#,
        ))
        .unwrap();
        assert_eq!(
            served(&manifest),
            serde_json::json!({"ok": {"name": "Ok", "endpoint": "ok"}})
        );
        let problems = manifest.problems.join("\n");
        for expected in [
            "no_endpoint: endpoint:",
            "escape: endpoint:",
            "bad_file: backend.file:",
            "typo: backend: unknown field `fiel`",
            "bad_rule: backend.filters:",
            "reserved: endpoint:",
            "twin: endpoint: 'ok' is already served by widget 'ok'",
            "scalar: widget:",
        ] {
            assert!(
                problems.contains(expected),
                "missing {expected:?} in\n{problems}"
            );
        }
    }

    #[test]
    fn a_file_that_is_not_an_object_fails_whole() {
        assert!(
            Manifest::parse(Some(b"[]"))
                .unwrap_err()
                .contains("expected an object")
        );
        assert!(
            Manifest::parse(Some(b"{\n\"a\": "))
                .unwrap_err()
                .starts_with("widgets.json: line 2")
        );
        assert!(Manifest::parse(None).is_err());
    }

    #[test]
    fn filters_parse_into_rules() {
        let manifest = Manifest::parse(Some(
            br#"{"p": {"endpoint": "p", "backend": {"filters": {
                "symbol": "ticker", "since": {"column": "date", "op": "gte"}, "theme": null}}}}"#,
        ))
        .unwrap();
        let widget = manifest.widget_for("p").unwrap();
        assert_eq!(widget.filters.len(), 3);
        assert_eq!(
            widget.filters[0],
            ("symbol".into(), Some(Rule::Column("ticker".into())))
        );
        assert_eq!(widget.filters[2], ("theme".into(), None));
    }

    #[test]
    fn apps_are_served_as_an_array() {
        assert_eq!(&*parse_apps(None).unwrap().bytes, b"[]");
        assert_eq!(
            &*parse_apps(Some(br#"[{"name": "a"}]"#)).unwrap().bytes,
            br#"[{"name": "a"}]"#
        );
        assert_eq!(
            &*parse_apps(Some(br#"{"name": "a"}"#)).unwrap().bytes,
            br#"[{"name": "a"}]"#
        );
        assert!(parse_apps(Some(b"3")).is_err());
        assert!(
            parse_apps(Some(b"["))
                .unwrap_err()
                .starts_with("apps.json: line 1")
        );
    }
}
