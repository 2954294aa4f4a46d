//! One module per widget type, each a few plain functions from a [`Call`] to a [`Response`].
//!
//! `router.rs` finds the widget for a path and `app/` hands the call here; [`serve`] picks
//! the handler by the widget's [`Kind`] and gives it that kind's settings (an advanced chart's
//! routes below its endpoint are handed to `udf::serve` directly, with the route decided). Handlers read only through [`Files`] (so only through
//! `DataDir::resolve`), and answer in the shape `workspace-contract.md` §3 gives for their type.
//! Options endpoints (`options`) and the raw-file route (`pdf::raw_file`) are answered here too.
//! Storage failures come up as [`FileError`]s; `errors` turns them into answers.

pub mod chart;
pub mod errors;
pub mod html;
pub mod live_grid;
pub mod markdown;
pub mod metric;
pub mod multi_file;
pub mod newsfeed;
pub mod omni;
pub mod options;
pub mod pdf;
pub mod ssrm;
pub mod table;
pub mod udf;
pub mod youtube;

use serde_json::{Map, Value};

use crate::auth::{ApiKey, Auth};
use crate::error::FileError;
use crate::files::{Files, Found};
use crate::http::{Request, Response};
use crate::manifest::{Kind, Source, Widget};
use udf::UdfRoute;

/// Everything a handler needs for one request.
pub struct Call<'a> {
    pub files: &'a Files,
    pub widget: &'a Widget,
    pub request: &'a Request,
    /// The query parameters, without the API key's.
    pub params: &'a [(String, String)],
    pub auth: &'a Auth,
    /// The key the request authenticated with (`None` when no key is required).
    pub key: Option<&'a ApiKey>,
    /// The largest multi_file_viewer answer (`--max-viewer-bytes`).
    pub max_viewer_bytes: u64,
    /// The omni searches running, and how many may.
    pub searches: &'a omni::Searches,
}

/// The answer of a widget's endpoint: its kind's handler, given the kind's settings.
pub fn serve(call: &Call) -> Response {
    match &call.widget.kind {
        Kind::Table(source) => table::serve(call, source),
        Kind::Markdown(source) => markdown::serve(call, source),
        Kind::Html { source, records } => html::serve(call, source, records.as_deref()),
        Kind::Metric { source, tile } => metric::serve(call, source, tile.as_ref()),
        Kind::Newsfeed(articles) => newsfeed::serve(call, articles),
        Kind::Chart {
            library,
            source,
            records,
        } => chart::serve(call, *library, source, records.as_deref()),
        Kind::Youtube(source) => youtube::serve(call, source),
        Kind::Pdf { source, mode } => pdf::serve(call, source, *mode),
        Kind::MultiFileViewer { folder, file_param } => multi_file::serve(call, folder, file_param),
        Kind::Omni { folder } => omni::serve(call, folder),
        Kind::Ssrm(source) => ssrm::serve(call, source),
        // The endpoint answers as its `config` route (Workspace's "Validate widgets" calls it).
        Kind::AdvancedChart(source) => udf::serve(call, source, UdfRoute::Config),
        Kind::LiveGrid { source, socket } => live_grid::serve(call, source, socket),
        Kind::PassThrough => Response::json(200, &Map::new()),
    }
}

impl Call<'_> {
    /// The widget's file: `backend.file` with its placeholders filled, else the first of
    /// `<endpoint>.<extension>` that exists (extensions by the widget's type).
    pub fn locate(&self, source: &Source) -> Result<Found, FileError> {
        let candidates = match &source.file {
            Some(template) => vec![Files::fill(template, self.params)?],
            None => self.widget.default_files(),
        };
        let found = self.files.locate(&self.widget.id, candidates)?;
        let found = found.read_as(source.reading.clone());
        Ok(match source.ttl {
            Some(ttl) => found.kept_for(ttl),
            None => found,
        })
    }

    /// The value of a query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// A POST body as a JSON object. Workspace sends an object; a JSON string holding an object is
/// accepted too (some clients encode the body twice). Anything else is a 400.
pub fn json_body(request: &Request) -> Result<Map<String, Value>, Response> {
    let bad = |why: &str| Response::error(400, &format!("the request body {why}"));
    let value: Value =
        serde_json::from_slice(&request.body).map_err(|err| bad(&format!("is not JSON: {err}")))?;
    let value = match value {
        Value::String(inner) => serde_json::from_str(&inner)
            .map_err(|err| bad(&format!("is a JSON string that does not hold JSON: {err}")))?,
        other => other,
    };
    match value {
        Value::Object(object) => Ok(object),
        _ => Err(bad("must be a JSON object of parameter values")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;

    fn post(body: &str) -> Request {
        let mut request = Request::new(Method::Post, "/x", Vec::new());
        request.body = body.as_bytes().to_vec();
        request
    }

    #[test]
    fn bodies_are_objects_or_strings_holding_one() {
        assert_eq!(
            json_body(&post(r#"{"prompt": "x"}"#)).unwrap()["prompt"],
            "x"
        );
        assert_eq!(
            json_body(&post(r#""{\"prompt\": \"y\"}""#)).unwrap()["prompt"],
            "y"
        );
        for bad in ["", "not json", "[1]", "\"just text\"", "3", "\"[1]\""] {
            let response = json_body(&post(bad)).unwrap_err();
            assert_eq!(response.status, 400, "{bad}");
        }
    }
}
