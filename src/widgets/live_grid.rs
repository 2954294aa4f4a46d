//! live_grid: the rows of a CSV or NDJSON file after the widget's filters, like a table. The
//! WebSocket on its `wsEndpoint`, which pushes changed rows, is `live.rs`.

use crate::http::Response;
use crate::manifest::Source;
use crate::widgets::{Call, table};

pub fn serve(call: &Call, source: &Source) -> Response {
    match call.locate(source) {
        Ok(relative) => table::rows(call, &relative),
        Err(err) => err.into(),
    }
}
