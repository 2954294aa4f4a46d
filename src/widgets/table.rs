//! table (and every type without a handler of its own): the rows of a CSV or JSON file after
//! the widget's filters; a JSON document that is not an array is served as it is.

use crate::files::DataFile;
use crate::http::{JSON, Response};
use crate::manifest::Source;
use crate::widgets::Call;
use crate::widgets::errors::refused_filter;

pub fn serve(call: &Call, source: &Source) -> Response {
    match call.locate(source) {
        Ok(relative) => rows(call, &relative),
        Err(err) => err.into(),
    }
}

/// The rows of a table file after the widget's filters, as a JSON response with an `ETag`,
/// rendered once per file version and parameters.
pub fn rows(call: &Call, file: &(impl DataFile + ?Sized)) -> Response {
    let widget = call.widget;
    let limits = &call.files.filter_limits;
    let rendered = call
        .files
        .rendered(file, &[&widget.id], call.params, &widget.filters, |data| {
            data.render(call.params, &widget.filters, limits)
                .map_err(|err| refused_filter(format_args!("{}: filters", widget.id), &err))
        });
    match rendered {
        Ok(payload) => Response::payload(JSON, &payload),
        Err(response) => response,
    }
}

/// Whether the request is Workspace's `raw=true` call (a widget with `"raw": true` makes it
/// for its AI: the data behind a chart or page, a video's transcript).
pub fn asks_raw(call: &Call) -> bool {
    call.param("raw")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The answer to `raw=true` (the charts, html): the rows of the widget's `records`
/// (`backend.records`), or a 404 when it names none. `None` when the request is not a raw one.
pub fn raw(call: &Call, records: Option<&str>) -> Option<Response> {
    if !asks_raw(call) {
        return None;
    }
    Some(match records {
        Some(records) => rows(call, records),
        None => Response::error(
            404,
            &format!(
                "widget '{}' names no records for raw=true (backend.records)",
                call.widget.id
            ),
        ),
    })
}
