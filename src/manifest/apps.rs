//! `apps.json` and `agents.json`: read as served (an array), and apps checked against the
//! served widgets.

use serde_json::Value;

use super::Manifest;
use crate::http::Payload;
use crate::validate::{self, Problem};

impl Manifest {
    /// `apps.json` as served beside this manifest: apps that break the front end's rules and
    /// layout items naming a widget that is not served are taken out (see [`validate::apps`]);
    /// with the problem lines for `apps.json`.
    pub fn apps(&self, apps: &Payload) -> (Payload, Vec<Problem>) {
        let Ok(mut document) = serde_json::from_slice::<Value>(&apps.bytes) else {
            return (apps.clone(), Vec::new());
        };
        let written = document.clone();
        let issues = validate::apps(&mut document, &self.ids().collect());
        let lines = issues.iter().map(|i| i.problem("apps.json")).collect();
        if document == written {
            return (apps.clone(), lines);
        }
        let bytes = serde_json::to_vec(&document).unwrap_or_else(|_| apps.bytes.to_vec());
        (Payload::new(bytes), lines)
    }
}

/// Parses `apps.json` into the bytes served at `/apps.json`: an array (a lone app object is
/// wrapped in one); `None` when there is no file (the app then serves `[]`, or the generated
/// dashboard, `dashboard.rs`).
pub fn parse_apps(bytes: Option<&[u8]>) -> Result<Option<Payload>, String> {
    let Some(bytes) = bytes else {
        return Ok(None);
    };
    let (document, bytes) = read_json("apps.json", bytes)?;
    match document {
        Value::Array(_) => Ok(Some(Payload::new(bytes))),
        Value::Object(_) => Ok(Some(Payload::new([b"[", bytes, b"]"].concat()))),
        _ => Err("apps.json: expected an array of apps".to_string()),
    }
}

/// Parses `agents.json` into the bytes served at `/agents.json` (Workspace asks for it on every
/// connect): an array, `[]` when there is no file.
pub fn parse_agents(bytes: Option<&[u8]>) -> Result<Payload, String> {
    let Some(bytes) = bytes else {
        return Ok(Payload::new(&b"[]"[..]));
    };
    match read_json("agents.json", bytes)? {
        (Value::Array(_), bytes) => Ok(Payload::new(bytes)),
        _ => Err("agents.json: expected an array of agents".to_string()),
    }
}

/// A manifest file's JSON document and its bytes without a byte-order mark, or an error naming
/// the file, line and column.
pub(super) fn read_json<'b>(name: &str, bytes: &'b [u8]) -> Result<(Value, &'b [u8]), String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let document = serde_json::from_slice(bytes).map_err(|err| {
        format!(
            "{name}: line {}: column {}: {err}",
            err.line(),
            err.column()
        )
    })?;
    Ok((document, bytes))
}
