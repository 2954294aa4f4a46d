//! `openbb-files check`: validate a folder offline, or a running backend over HTTP as Workspace
//! would use it.
//!
//! Offline (`--root DIR`), the folder is loaded exactly as the server loads it and every problem
//! the server would list at `/` is printed as `widget: field: message`; the exit status is 1 when
//! any of them is an error (a widget left out, a file that does not parse), 0 when there are only
//! warnings. With `--url`, the checker acts as Workspace does: it fetches `/widgets.json` and
//! `/apps.json`, checks the manifest against Workspace's rules ([`crate::validate`]), calls every
//! widget endpoint and options endpoint with the default parameters (POST with a JSON body for
//! the types that take one), checks each answer's shape for its type (workspace-contract.md §3)
//! and its CORS header, and sends a CORS preflight from `--origin` asking for the token header.
//! It prints one line per check with its time and exits 1 when any check fails.

use std::collections::{BTreeSet, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::app::App;
use crate::config::{Config, UsageError};
use crate::http::percent_encode;
use crate::validate;

/// How long one request to the backend may take, connection included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// The largest answer read from the backend.
const MAX_BODY: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub root: PathBuf,
    pub url: Option<String>,
    pub api_key: Option<String>,
    pub auth_header: String,
    pub origin: String,
}

pub fn help() -> String {
    "Usage: openbb-files check [--root DIR] [--url URL [--api-key KEY] [--auth-header NAME] \
     [--origin ORIGIN]]\n\n\
     Without --url: check the folder DIR (widgets.json, apps.json, data/) as the server loads it.\n\
     With --url: act as Workspace against a running backend.\n\n\
     Options:\n  \
     --root DIR            folder to check [default: .] (env OPENBB_FILES_ROOT)\n  \
     --url URL             base URL of a running backend (env OPENBB_FILES_URL)\n  \
     --api-key KEY         key sent on every request (env OPENBB_FILES_API_KEY)\n  \
     --auth-header NAME    header carrying the key [default: X-API-KEY] (env OPENBB_FILES_AUTH_HEADER)\n  \
     --origin ORIGIN       browser origin to check CORS for [default: https://pro.openbb.co] \
     (env OPENBB_FILES_ORIGIN)\n\n\
     Exit status: 0 when nothing failed (warnings allowed), 1 otherwise, 2 for a usage error.\n"
        .to_string()
}

/// The flags of a subcommand (`check`, `init`): `--name VALUE`, `--name=VALUE`, or a bare
/// `--name` for the `switches`, each falling back to its variable `OPENBB_FILES_<NAME>`. Gives a
/// lookup of the last value of each flag, or `None` when `--help` was asked for.
pub fn subcommand_flags(
    command: &str,
    args: &[String],
    valued: &[&'static str],
    switches: &[&'static str],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<impl Fn(&str) -> Option<String>>, UsageError> {
    let mut given: Vec<(&str, String)> = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--help" || arg == "-h" {
            return Ok(None);
        }
        let body = arg
            .strip_prefix("--")
            .ok_or_else(|| UsageError(format!("{command}: unexpected argument '{arg}'")))?;
        let (name, value) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (body, None),
        };
        let unknown = || UsageError(format!("{command}: unknown option '--{name}'"));
        let value = match (valued.iter().find(|n| **n == name), value) {
            (Some(_), Some(value)) => value,
            (Some(_), None) => args
                .next()
                .cloned()
                .ok_or_else(|| UsageError(format!("{command}: --{name} needs a value")))?,
            (None, None) if switches.contains(&name) => "true".to_string(),
            _ => return Err(unknown()),
        };
        let name = valued
            .iter()
            .chain(switches)
            .find(|n| **n == name)
            .ok_or_else(unknown)?;
        given.push((name, value));
    }
    let from_env: Vec<(&str, String)> = valued
        .iter()
        .chain(switches)
        .filter_map(|name| {
            let variable = format!("OPENBB_FILES_{}", name.to_uppercase().replace('-', "_"));
            Some((*name, env(&variable)?))
        })
        .collect();
    Ok(Some(move |name: &str| {
        given
            .iter()
            .rev()
            .chain(&from_env)
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.trim().is_empty())
    }))
}

/// Parses the arguments after `check`; `None` asks for the help text.
pub fn parse(
    args: &[String],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Options>, UsageError> {
    let valued = ["root", "url", "api-key", "auth-header", "origin"];
    let Some(value) = subcommand_flags("check", args, &valued, &[], env)? else {
        return Ok(None);
    };
    let url = value("url").map(|url| url.trim_end_matches('/').to_string());
    if let Some(url) = &url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(UsageError(format!(
            "check: --url: '{url}' must start with http:// or https://"
        )));
    }
    Ok(Some(Options {
        root: PathBuf::from(value("root").unwrap_or_else(|| ".".into())),
        url,
        api_key: value("api-key"),
        auth_header: value("auth-header").unwrap_or_else(|| "X-API-KEY".into()),
        origin: value("origin").unwrap_or_else(|| "https://pro.openbb.co".into()),
    }))
}

/// Runs the check, writing its lines to `out`; true when nothing failed.
pub fn run(options: &Options, out: &mut dyn Write) -> bool {
    match &options.url {
        Some(url) => Probe::new(url, options).run(out),
        None => check_folder(options, out),
    }
}

fn check_folder(options: &Options, out: &mut dyn Write) -> bool {
    let config = Config {
        root: options.root.clone(),
        ..Config::default()
    };
    let problems = App::quiet(&config).problems();
    for problem in &problems {
        let _ = writeln!(out, "{problem}");
    }
    let errors = problems.iter().filter(|p| !is_warning(p)).count();
    let _ = writeln!(
        out,
        "{}: {errors} error(s), {} warning(s)",
        options.root.display(),
        problems.len() - errors
    );
    errors == 0
}

fn is_warning(problem: &str) -> bool {
    problem.contains(": warning: ")
}

/// One answer from the backend, read in full.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Result<Value, String> {
        serde_json::from_slice(&self.body).map_err(|err| format!("the answer is not JSON: {err}"))
    }

    /// The start of the body, for messages.
    fn excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        text.chars().take(160).collect()
    }
}

/// Workspace's side of the conversation with one backend.
struct Probe<'o> {
    agent: ureq::Agent,
    base: &'o str,
    options: &'o Options,
    failures: usize,
}

impl<'o> Probe<'o> {
    fn new(base: &'o str, options: &'o Options) -> Probe<'o> {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(REQUEST_TIMEOUT))
            .build()
            .into();
        Probe {
            agent,
            base,
            options,
            failures: 0,
        }
    }

    /// Sends one request as Workspace's browser tab would (origin, key), reading the answer.
    fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> Result<Answer, String> {
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}/{}", self.base, path.trim_start_matches('/')))
            .header("Origin", &self.options.origin);
        if method != "OPTIONS"
            && let Some(key) = &self.options.api_key
        {
            builder = builder.header(&self.options.auth_header, key);
        }
        for (name, value) in extra {
            builder = builder.header(*name, *value);
        }
        let response = match body {
            Some(body) => {
                let request = builder
                    .header("Content-Type", "application/json")
                    .body(body.to_string())
                    .map_err(|err| err.to_string())?;
                self.agent.run(request)
            }
            None => {
                let request = builder.body(()).map_err(|err| err.to_string())?;
                self.agent.run(request)
            }
        };
        let mut response = response.map_err(|err| format!("no answer: {err}"))?;
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|err| format!("the answer could not be read: {err}"))?;
        Ok(Answer {
            status: response.status().as_u16(),
            headers,
            body,
        })
    }

    /// Runs one check and prints its line: `ok`/`FAIL`, the time, what was asked, the outcome.
    fn check<T>(
        &mut self,
        out: &mut dyn Write,
        what: &str,
        run: impl FnOnce(&Self) -> Result<(T, String), String>,
    ) -> Option<T> {
        let started = Instant::now();
        let result = run(self);
        let millis = started.elapsed().as_secs_f64() * 1000.0;
        let (mark, value, message) = match result {
            Ok((value, message)) => ("ok  ", Some(value), message),
            Err(message) => {
                self.failures += 1;
                ("FAIL", None, message)
            }
        };
        let _ = writeln!(out, "{mark} {millis:>8.1} ms  {what}: {message}");
        value
    }

    fn run(mut self, out: &mut dyn Write) -> bool {
        let origin = self.options.origin.clone();
        let auth = self.options.auth_header.to_ascii_lowercase();
        self.check(
            out,
            &format!("OPTIONS /widgets.json (preflight from {origin})"),
            |probe| {
                let asked = format!("{auth},content-type");
                let answer = probe.send(
                    "OPTIONS",
                    "widgets.json",
                    None,
                    &[
                        ("Access-Control-Request-Method", "GET"),
                        ("Access-Control-Request-Headers", &asked),
                    ],
                )?;
                preflight_shape(&answer, &origin, &auth).map(|m| ((), m))
            },
        );
        let widgets = self.check(out, "GET /widgets.json", |probe| {
            let answer = probe.send("GET", "widgets.json", None, &[])?;
            expect_ok(&answer)?;
            cors_shape(&answer, &origin)?;
            match answer.json()? {
                Value::Object(widgets) => {
                    let message = format!("{} widgets", widgets.len());
                    Ok((widgets, message))
                }
                _ => Err("expected an object mapping widget ids to widgets".into()),
            }
        });
        let Some(widgets) = widgets else {
            return false;
        };
        for (id, widget) in &widgets {
            let issues = widget.as_object().map(validate::widget).unwrap_or_default();
            for issue in issues {
                let line = issue.line(id);
                self.check(out, "widgets.json rules", |_| match issue.severity {
                    validate::Severity::Error => Err(line),
                    validate::Severity::Warning => Ok(((), line)),
                });
            }
        }
        let ids: HashSet<&str> = widgets.keys().map(String::as_str).collect();
        self.check(out, "GET /apps.json", |probe| {
            let answer = probe.send("GET", "apps.json", None, &[])?;
            if answer.status == 404 {
                return Ok(((), "404: no apps (Workspace accepts that)".into()));
            }
            expect_ok(&answer)?;
            let mut apps = answer.json()?;
            let count = apps.as_array().ok_or("expected an array of apps")?.len();
            let errors: Vec<String> = validate::apps(&mut apps, &ids)
                .into_iter()
                .filter(|i| i.severity == validate::Severity::Error)
                .map(|i| i.line("apps.json"))
                .collect();
            if errors.is_empty() {
                Ok(((), format!("{count} apps")))
            } else {
                Err(errors.join("; "))
            }
        });
        let mut options_seen = BTreeSet::new();
        for (id, widget) in &widgets {
            for (path, query) in options_endpoints(widget) {
                if options_seen.insert(path.clone()) {
                    let what = format!("GET /{path} (options of {id})");
                    self.check(out, &what, |probe| {
                        let answer = probe.send("GET", &format!("{path}{query}"), None, &[])?;
                        expect_ok(&answer)?;
                        options_shape(&answer.json()?).map(|m| ((), m))
                    });
                }
            }
            let Some(call) = widget_call(widget) else {
                let _ = writeln!(
                    out,
                    "skip            {id}: an iframe's endpoint is not ours"
                );
                continue;
            };
            let body = call.body.map(|body| self.with_file_choice(widget, body));
            let what = format!(
                "{} /{} ({id}, {})",
                if body.is_some() { "POST" } else { "GET" },
                call.path,
                call.kind
            );
            self.check(out, &what, |probe| {
                let method = if body.is_some() { "POST" } else { "GET" };
                let answer = probe.send(method, &call.path, body.as_ref(), &[])?;
                expect_ok(&answer)?;
                cors_shape(&answer, &origin)?;
                answer_shape(&call.kind, widget, body.as_ref(), &answer).map(|m| ((), m))
            });
        }
        let _ = writeln!(out, "{}: {} check(s) failed", self.base, self.failures);
        self.failures == 0
    }

    /// A multi_file_viewer body names the first file its selector's options endpoint offers,
    /// as a user picking one would.
    fn with_file_choice(&self, widget: &Value, mut body: Value) -> Value {
        let selector = validate::params_of(widget.as_object().unwrap_or(&Map::new()))
            .into_iter()
            .map(|(_, p)| p)
            .find(|p| {
                p["roles"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|r| r == "fileSelector"))
            })
            .cloned();
        let (Some(selector), Some(object)) = (selector, body.as_object_mut()) else {
            return body;
        };
        let (Some(name), Some(endpoint)) = (
            selector["paramName"].as_str(),
            selector["optionsEndpoint"].as_str(),
        ) else {
            return body;
        };
        let first = self
            .send("GET", endpoint, None, &[])
            .ok()
            .and_then(|answer| answer.json().ok())
            .and_then(|options| options.get(0).cloned())
            .map(|option| option.get("value").cloned().unwrap_or(option));
        if let Some(first) = first {
            object.insert(name.to_string(), json!([first]));
        }
        body
    }
}

/// How Workspace calls a widget: its type, the path with the default query, and the JSON body
/// for the types that take POST. `None` for an iframe (its endpoint is another site).
struct WidgetCall {
    kind: String,
    path: String,
    body: Option<Value>,
}

fn widget_call(widget: &Value) -> Option<WidgetCall> {
    let kind = widget["type"].as_str().unwrap_or("table").to_string();
    if kind == "iframe" {
        return None;
    }
    let endpoint = widget["endpoint"].as_str()?.trim_start_matches('/');
    let defaults = default_values(widget);
    let post = matches!(
        kind.as_str(),
        "multi_file_viewer" | "omni" | "table_ssrm" | "ssrm_table"
    );
    if post {
        let mut body: Map<String, Value> = defaults.into_iter().collect();
        match kind.as_str() {
            "omni" => {
                let prompt = body.entry("prompt").or_insert(json!(""));
                if prompt.as_str().is_none_or(str::is_empty) {
                    *prompt = json!("a");
                }
            }
            "table_ssrm" | "ssrm_table" => {
                for (key, value) in [
                    ("startRow", json!(0)),
                    ("endRow", json!(100)),
                    ("sortModel", json!([])),
                    ("filterModel", json!({})),
                ] {
                    body.insert(key.into(), value);
                }
            }
            _ => {}
        }
        return Some(WidgetCall {
            kind,
            path: endpoint.to_string(),
            body: Some(Value::Object(body)),
        });
    }
    let mut query: Vec<String> = defaults
        .iter()
        .map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(&wire(value))))
        .collect();
    if kind.starts_with("chart") {
        query.push("theme=dark".into());
    }
    let path = match kind.as_str() {
        "advanced_charting" | "advanced-chart" => format!("{endpoint}/config"),
        _ => endpoint.to_string(),
    };
    let path = if query.is_empty() || kind.starts_with("advanced") {
        path
    } else {
        format!("{path}?{}", query.join("&"))
    };
    Some(WidgetCall {
        kind,
        path,
        body: None,
    })
}

/// A param value as Workspace sends it in a query string: multiSelect values comma-joined.
fn wire(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(wire).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// The default value of each param that has one (`$currentDate` expressions and forms left
/// out: Workspace resolves those itself).
fn default_values(widget: &Value) -> Vec<(String, Value)> {
    let Some(widget) = widget.as_object() else {
        return Vec::new();
    };
    validate::params_of(widget)
        .into_iter()
        .filter(|(_, p)| p["type"] != "form")
        .filter_map(|(_, p)| {
            let value = p.get("value")?;
            let dynamic = value.as_str().is_some_and(|v| v.starts_with('$'));
            (!value.is_null() && !dynamic)
                .then(|| Some((p["paramName"].as_str()?.to_string(), value.clone())))?
        })
        .collect()
}

/// Each param's options endpoint, with the literal `optionsParams` as a query string.
fn options_endpoints(widget: &Value) -> Vec<(String, String)> {
    let Some(widget) = widget.as_object() else {
        return Vec::new();
    };
    validate::params_of(widget)
        .into_iter()
        .filter_map(|(_, p)| {
            let endpoint = p["optionsEndpoint"].as_str()?.trim_start_matches('/');
            let literals: Vec<String> = p["optionsParams"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| {
                    let v = v.as_str()?;
                    (!v.starts_with('$'))
                        .then(|| format!("{}={}", percent_encode(k), percent_encode(v)))
                })
                .collect();
            let query = match literals.is_empty() {
                true => String::new(),
                false => format!("?{}", literals.join("&")),
            };
            Some((endpoint.split('?').next()?.to_string(), query))
        })
        .collect()
}

fn expect_ok(answer: &Answer) -> Result<(), String> {
    match answer.status {
        200..=299 => Ok(()),
        status => Err(format!("status {status}: {}", answer.excerpt())),
    }
}

/// The answer lets the browser tab at `origin` read it.
fn cors_shape(answer: &Answer, origin: &str) -> Result<(), String> {
    match answer.header("access-control-allow-origin") {
        Some(allowed) if allowed == origin || allowed == "*" => Ok(()),
        Some(other) => Err(format!(
            "Access-Control-Allow-Origin is '{other}', not {origin}: the browser will not show it"
        )),
        None => Err(format!(
            "no Access-Control-Allow-Origin for {origin}: the browser will not show it"
        )),
    }
}

fn preflight_shape(answer: &Answer, origin: &str, auth: &str) -> Result<String, String> {
    if !(200..300).contains(&answer.status) {
        return Err(format!(
            "status {}: the browser sends no request after a failed preflight",
            answer.status
        ));
    }
    cors_shape(answer, origin)?;
    let allowed = answer
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let listed = allowed
        .split(',')
        .map(str::trim)
        .any(|h| h == auth || h == "*");
    if !listed {
        return Err(format!(
            "Access-Control-Allow-Headers '{allowed}' does not allow {auth}"
        ));
    }
    Ok(format!("{} allows {auth}", answer.status))
}

/// An options endpoint answers an array of `{label, value}` objects or of strings.
fn options_shape(options: &Value) -> Result<String, String> {
    let items = options.as_array().ok_or("expected an array of options")?;
    let bad = items
        .iter()
        .position(|o| !(o.is_string() || o.get("value").is_some()));
    match bad {
        Some(index) => Err(format!(
            "option {index} is not a string or {{label, value}}"
        )),
        None => Ok(format!("{} options", items.len())),
    }
}

/// The answer has the shape Workspace expects for the widget's type (contract §3).
fn answer_shape(
    kind: &str,
    widget: &Value,
    body: Option<&Value>,
    answer: &Answer,
) -> Result<String, String> {
    if kind == "html" {
        let media = answer.header("content-type").unwrap_or_default();
        return match media.starts_with("text/html") {
            true => Ok(format!("{} bytes of HTML", answer.body.len())),
            false => Err(format!("expected text/html, got '{media}'")),
        };
    }
    if kind == "markdown" && !is_json_media(answer) {
        return Ok(format!("{} bytes of Markdown text", answer.body.len()));
    }
    let value = answer.json()?;
    match kind {
        "markdown" => value
            .as_str()
            .map(|text| format!("{} characters of Markdown", text.len()))
            .ok_or_else(|| "expected a JSON string of Markdown".into()),
        "chart" => match (&value["data"], &value["layout"]) {
            (Value::Array(traces), Value::Object(_) | Value::Null) => {
                Ok(format!("Plotly figure, {} traces", traces.len()))
            }
            _ => Err("expected a Plotly figure {\"data\": [...], \"layout\": {...}}".into()),
        },
        "metric" => {
            let tiles = match &value {
                Value::Array(tiles) => tiles.clone(),
                tile => vec![tile.clone()],
            };
            match tiles
                .iter()
                .all(|t| t.get("label").is_some() && t.get("value").is_some())
            {
                true => Ok(format!("{} metric tile(s)", tiles.len())),
                false => Err("expected {\"label\", \"value\"} tiles".into()),
            }
        }
        "newsfeed" => {
            let articles = value.as_array().ok_or("expected an array of articles")?;
            match articles.iter().position(|a| !a["title"].is_string()) {
                Some(index) => Err(format!("article {index} has no title")),
                None => Ok(format!("{} articles", articles.len())),
            }
        }
        "pdf" => {
            let typed = value["data_format"]["data_type"] == "pdf";
            let content = value["content"].is_string() || value["url"].is_string();
            match typed && content {
                true => Ok("a PDF".into()),
                false => Err(
                    "expected {\"data_format\": {\"data_type\": \"pdf\", ...}, \"content\" or \"url\"}"
                        .into(),
                ),
            }
        }
        "multi_file_viewer" => {
            let files = value
                .as_array()
                .ok_or("expected an array, one entry per file")?;
            let asked = body
                .and_then(|b| b.as_object())
                .and_then(|b| b.values().find_map(Value::as_array))
                .map_or(files.len(), Vec::len);
            let well_formed = files
                .iter()
                .all(|f| f["data_format"].is_object() || f["error_type"].is_string());
            match (files.len() == asked, well_formed) {
                (true, true) => Ok(format!("{} file(s)", files.len())),
                (false, _) => Err(format!("{asked} file(s) asked, {} answered", files.len())),
                (_, false) => Err("each entry needs data_format (or error_type)".into()),
            }
        }
        "omni" => match value.get("content").is_some() || value.is_string() {
            true => Ok("an answer".into()),
            false => Err("expected {\"content\": ..., \"data_format\": {...}}".into()),
        },
        "table_ssrm" | "ssrm_table" => match (&value["rowData"], value["rowCount"].as_u64()) {
            (Value::Array(rows), Some(count)) => Ok(format!("{} of {count} rows", rows.len())),
            _ => Err("expected {\"rowData\": [...], \"rowCount\": N}".into()),
        },
        "advanced_charting" | "advanced-chart" => match value.is_object() {
            true => Ok("a UDF configuration".into()),
            false => Err("expected the UDF configuration object at <endpoint>/config".into()),
        },
        "table" => table_shape(widget, &value),
        _ => Ok("JSON".into()),
    }
}

fn is_json_media(answer: &Answer) -> bool {
    answer
        .header("content-type")
        .is_some_and(|m| m.starts_with("application/json"))
}

/// Rows of flat objects (under `data.dataKey` when set: a dotted path, `""` for none) holding
/// the `columnsDefs` fields.
fn table_shape(widget: &Value, value: &Value) -> Result<String, String> {
    let rows = match widget["data"]["dataKey"].as_str() {
        Some(key) if !key.is_empty() => key.split('.').fold(value, |v, k| &v[k]),
        _ => value,
    };
    let rows = rows.as_array().ok_or("expected an array of rows")?;
    if let Some(index) = rows.iter().position(|r| !r.is_object()) {
        return Err(format!("row {index} is not an object"));
    }
    if let Some(first) = rows.first() {
        let fields = widget
            .as_object()
            .map(validate::column_fields)
            .unwrap_or_default();
        if let Some(missing) = fields.iter().find(|f| first.get(f.as_str()).is_none()) {
            return Err(format!(
                "column '{missing}' of columnsDefs is not in the rows"
            ));
        }
    }
    Ok(format!("{} rows", rows.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(media: &str, body: &str) -> Answer {
        Answer {
            status: 200,
            headers: vec![("Content-Type".into(), media.into())],
            body: body.as_bytes().to_vec(),
        }
    }

    fn env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn arguments_and_their_variables() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let options = parse(&args(&["--url", "http://h:1/", "--api-key=k"]), &env)
            .unwrap()
            .unwrap();
        assert_eq!(options.url.as_deref(), Some("http://h:1"));
        assert_eq!(options.api_key.as_deref(), Some("k"));
        assert_eq!(options.origin, "https://pro.openbb.co");
        let from_env = |name: &str| (name == "OPENBB_FILES_ROOT").then(|| "/srv".to_string());
        let options = parse(&[], &from_env).unwrap().unwrap();
        assert_eq!((options.root, options.url), (PathBuf::from("/srv"), None));
        assert_eq!(parse(&args(&["-h"]), &env), Ok(None));
        for bad in [
            &["--url"][..],
            &["--bogus", "x"],
            &["x"],
            &["--url", "ftp://x"],
        ] {
            assert!(parse(&args(bad), &env).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn widget_calls_carry_default_params() {
        let table = json!({"endpoint": "/prices", "params": [
            {"paramName": "ticker", "type": "text", "value": ["AAPL", "MSFT"]},
            {"paramName": "since", "type": "date", "value": "$currentDate-1w"},
            [{"paramName": "q", "type": "text", "value": "a b"}]]});
        let call = widget_call(&table).unwrap();
        assert_eq!(call.path, "prices?ticker=AAPL%2CMSFT&q=a%20b");
        assert!(call.body.is_none());
        let ssrm = widget_call(&json!({"endpoint": "s", "type": "table_ssrm"})).unwrap();
        assert_eq!(ssrm.body.unwrap()["endRow"], 100);
        let chart = widget_call(&json!({"endpoint": "c", "type": "chart"})).unwrap();
        assert_eq!(chart.path, "c?theme=dark");
        assert_eq!(
            widget_call(&json!({"endpoint": "udf", "type": "advanced_charting"}))
                .unwrap()
                .path,
            "udf/config"
        );
        assert!(widget_call(&json!({"endpoint": "https://x", "type": "iframe"})).is_none());
    }

    #[test]
    fn shapes_follow_the_type() {
        let none = json!({});
        let shape = |kind: &str, media: &str, body: &str| {
            answer_shape(kind, &none, None, &answer(media, body))
        };
        let json = "application/json";
        assert!(shape("table", json, r#"[{"a": 1}]"#).is_ok());
        assert!(shape("table", json, r#"{"a": 1}"#).is_err());
        assert!(shape("table", json, "[1]").is_err());
        assert!(shape("table", json, "[NaN]").is_err());
        assert!(shape("chart", json, r#"{"data": [], "layout": {}}"#).is_ok());
        assert!(shape("chart", json, r#"{"layout": {}}"#).is_err());
        assert!(shape("markdown", json, r##""# x""##).is_ok());
        assert!(shape("markdown", json, "{}").is_err());
        assert!(shape("markdown", "text/markdown", "# x").is_ok());
        assert!(shape("metric", json, r#"[{"label": "a", "value": 1}]"#).is_ok());
        assert!(shape("metric", json, r#"{"value": 1}"#).is_err());
        assert!(shape("newsfeed", json, r#"[{"date": "2024-01-01"}]"#).is_err());
        assert!(shape("html", "text/html; charset=utf-8", "<h1>").is_ok());
        assert!(shape("html", json, "\"<h1>\"").is_err());
        assert!(
            shape(
                "pdf",
                json,
                r#"{"data_format": {"data_type": "pdf"}, "url": "u"}"#
            )
            .is_ok()
        );
        assert!(shape("pdf", json, r#"{"content": "x"}"#).is_err());
        assert!(shape("table_ssrm", json, r#"{"rowData": [], "rowCount": 0}"#).is_ok());
        assert!(shape("table_ssrm", json, "[]").is_err());
        let widget =
            json!({"data": {"dataKey": "r.rows", "table": {"columnsDefs": [{"field": "b"}]}}});
        let rows = answer(json, r#"{"r": {"rows": [{"a": 1}]}}"#);
        assert_eq!(
            answer_shape("table", &widget, None, &rows).unwrap_err(),
            "column 'b' of columnsDefs is not in the rows"
        );
        let no_key = json!({"data": {"dataKey": ""}});
        let rows = answer(json, r#"[{"a": 1}]"#);
        assert!(
            answer_shape("table", &no_key, None, &rows).is_ok(),
            "\"\" is no key"
        );
        let asked = json!({"names": ["a", "b"]});
        let one = answer(json, r#"[{"data_format": {}}]"#);
        assert!(answer_shape("multi_file_viewer", &none, Some(&asked), &one).is_err());
    }

    #[test]
    fn preflights_must_allow_the_origin_and_the_token_header() {
        let mut ok = answer("text/plain", "");
        ok.status = 204;
        ok.headers = vec![
            ("access-control-allow-origin".into(), "https://o".into()),
            (
                "access-control-allow-headers".into(),
                "X-API-KEY, content-type".into(),
            ),
        ];
        assert!(preflight_shape(&ok, "https://o", "x-api-key").is_ok());
        assert!(preflight_shape(&ok, "https://other", "x-api-key").is_err());
        assert!(preflight_shape(&ok, "https://o", "authorization").is_err());
        ok.status = 405;
        assert!(preflight_shape(&ok, "https://o", "x-api-key").is_err());
    }
}
