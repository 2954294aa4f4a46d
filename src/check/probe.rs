//! `check --url`: acting as Workspace's browser tab against a running backend, ours or any other.
//!
//! The connect sequence of workspace-contract.md §0, in its order: `GET /widgets.json` (each
//! widget against the front end's schema: one failing widget and Workspace keeps none),
//! `GET /apps.json` (else `/templates.json`; one failing app and Workspace keeps none),
//! `GET /agents.json`, and for `ssrm_advanced` widgets `GET /table-schemas` and
//! `/semantic-views`; then every widget's "Validate widgets" call ([`crate::workspace`]), judged
//! as the front end judges it, and the answer's shape for its type. Besides: a CORS preflight
//! from `--origin` asking for the token header, each answer's CORS header, and each options
//! endpoint. One line per check with its time; the run fails when any check does.

use std::collections::{BTreeSet, HashSet};
use std::io::Write;
use std::time::Instant;

use serde_json::{Map, Value};

use super::shapes::answer_shape;
use super::{MAX_BODY, Options, REQUEST_TIMEOUT};
use crate::http::percent_encode;
use crate::{validate, workspace};

/// One answer from the backend, read in full.
pub(crate) struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Result<Value, String> {
        serde_json::from_slice(&self.body).map_err(|err| format!("the answer is not JSON: {err}"))
    }

    /// The start of the body, for messages.
    fn excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        text.chars().take(160).collect()
    }
}

/// Workspace's side of the conversation with one backend.
pub(super) struct Probe<'o> {
    agent: ureq::Agent,
    base: &'o str,
    options: &'o Options,
    failures: usize,
}

impl<'o> Probe<'o> {
    pub(super) fn new(base: &'o str, options: &'o Options) -> Probe<'o> {
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

    pub(super) fn run(mut self, out: &mut dyn Write) -> bool {
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
            manifest_status(&answer)?;
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
        let failures = self.failures;
        for (id, widget) in &widgets {
            let issues = match widget.as_object() {
                Some(widget) => validate::widget(widget),
                None => vec![validate::Issue::error("widget", "expected an object")],
            };
            let errors = validate::has_error(&issues);
            let lines: Vec<String> = issues.iter().map(|issue| issue.line(id)).collect();
            self.check(out, &format!("widget {id}"), |_| match errors {
                true => Err(lines.join("; ")),
                false if lines.is_empty() => Ok(((), "accepted".into())),
                false => Ok(((), format!("accepted; {}", lines.join("; ")))),
            });
        }
        if self.failures > failures {
            let _ = writeln!(
                out,
                "               Workspace keeps no widget of a backend when one widget fails"
            );
        }
        let ids: HashSet<&str> = widgets.keys().map(String::as_str).collect();
        self.check(out, "GET /apps.json", |probe| {
            let mut answer = probe.send("GET", "apps.json", None, &[])?;
            let mut name = "apps.json";
            if !(200..300).contains(&answer.status) {
                answer = probe.send("GET", "templates.json", None, &[])?;
                name = "templates.json";
            }
            if !(200..300).contains(&answer.status) {
                return Ok(((), format!("status {}: no apps", answer.status)));
            }
            let mut apps = match answer.json().unwrap_or(Value::Null) {
                Value::Array(apps) => Value::Array(apps),
                Value::Object(app) if !app.is_empty() => Value::Array(vec![Value::Object(app)]),
                _ => Value::Array(Vec::new()),
            };
            let count = apps.as_array().map_or(0, Vec::len);
            let issues = validate::apps(&mut apps, &ids);
            let lines: Vec<String> = issues.iter().map(|i| i.line(name)).collect();
            match validate::has_error(&issues) {
                true => Err(format!(
                    "Workspace keeps no app when one fails: {}",
                    lines.join("; ")
                )),
                false => Ok(((), format!("{count} apps from {name} {}", lines.join("; ")))),
            }
        });
        self.check(out, "GET /agents.json", |probe| {
            let answer = probe.send("GET", "agents.json", None, &[])?;
            if !(200..300).contains(&answer.status) {
                return Ok(((), format!("status {}: no agents", answer.status)));
            }
            match answer.json() {
                Ok(Value::Array(agents)) => {
                    let named = agents
                        .iter()
                        .filter(|a| a.get("id").is_some() && a.get("name").is_some())
                        .count();
                    Ok(((), format!("{named} agents")))
                }
                _ => Err("expected a JSON array of agents ([] for none)".into()),
            }
        });
        if widgets.values().any(|w| w["type"] == "ssrm_advanced") {
            for path in ["table-schemas", "semantic-views"] {
                self.check(out, &format!("GET /{path}"), |probe| {
                    let answer = probe.send("GET", path, None, &[])?;
                    expect_ok(&answer).map(|()| ((), format!("status {}", answer.status)))
                });
            }
        }
        let today = workspace::today();
        let mut options_seen = BTreeSet::new();
        for (id, entry) in &widgets {
            let Some(widget) = entry.as_object() else {
                continue;
            };
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
            let kind = validate::type_of(widget);
            let call = workspace::validation_call(widget, today);
            if call.is_absolute() && call.target.contains("://") {
                let _ = writeln!(
                    out,
                    "skip            {id}: {} is another site's, not this backend's",
                    call.target
                );
                continue;
            }
            if call.is_absolute() {
                self.check(out, &format!("widget {id}"), |_| {
                    Err::<((), String), String>(format!(
                        "endpoint '{}' begins with \"http\": Workspace calls it as a URL, \
                         which it is not",
                        call.target
                    ))
                });
                continue;
            }
            let what = format!("{} /{} ({id}, {kind})", call.method, call.target);
            self.check(out, &what, |probe| {
                let answer = probe.send(call.method, &call.target, call.body.as_ref(), &[])?;
                workspace::accepts(answer.status, &answer.body)
                    .map_err(|shown| format!("Validate widgets fails: {shown}"))?;
                cors_shape(&answer, &origin)?;
                if !(200..300).contains(&answer.status) {
                    return Ok(((), format!("status {}: accepted", answer.status)));
                }
                answer_shape(kind, entry, call.body.as_ref(), &answer).map(|m| ((), m))
            });
        }
        let _ = writeln!(out, "{}: {} check(s) failed", self.base, self.failures);
        self.failures == 0
    }
}

/// `/widgets.json` answered, or the message Workspace shows for its status.
fn manifest_status(answer: &Answer) -> Result<(), String> {
    let shown = match answer.status {
        200..=299 => return Ok(()),
        401 | 403 => "Authentication failed",
        404 => "The widgets.json file was not found on the server",
        422 => "The server rejected the request",
        500.. => "Server error occurred",
        _ => "Unable to find a widgets.json file",
    };
    Err(format!(
        "status {}: Workspace says \"{shown}\" ({})",
        answer.status,
        answer.excerpt()
    ))
}

/// Each param's options endpoint, with the literal `optionsParams` as a query string.
fn options_endpoints(widget: &Map<String, Value>) -> Vec<(String, String)> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::shapes::tests::answer;

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
