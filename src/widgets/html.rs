//! html: an `.html` file served as `text/html`; `raw=true` answers the widget's records as JSON.

use crate::http::{Body, Response};
use crate::manifest::Source;
use crate::widgets::{Call, table};

pub fn serve(call: &Call, source: &Source, records: Option<&str>) -> Response {
    if let Some(response) = table::raw(call, records) {
        return response;
    }
    let file = call
        .locate(source)
        .and_then(|relative| call.files.text(&relative));
    match file {
        Ok(text) => Response::new(
            200,
            "text/html; charset=utf-8",
            Body::Owned(text.into_bytes()),
        ),
        Err(err) => err.into(),
    }
}
