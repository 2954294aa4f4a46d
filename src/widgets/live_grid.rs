//! live_grid: one row per key (`data.wsRowIdColumn`, one column or several together), as the
//! widget's socket keeps them. The GET answer holds each key's latest row (its last in the
//! file), in the order the keys first appear, that the widget's filters keep; the WebSocket on
//! its `wsEndpoint`, which pushes the rows that change afterwards, is `live/`. Both read the
//! rows through `live::keyed_rows`, so a key's row is the same in both, and a key whose latest
//! row the filters drop is not shown, however its earlier rows read.

use crate::data::{Data, JsonRows};
use crate::filter::{self, PlanError};
use crate::http::{Body, JSON, Response};
use crate::live::keyed_rows;
use crate::manifest::{LiveSocket, Source};
use crate::table;
use crate::widgets::Call;
use crate::widgets::errors::refused_filter;

pub fn serve(call: &Call, source: &Source, socket: &LiveSocket) -> Response {
    let relative = match call.locate(source) {
        Ok(relative) => relative,
        Err(err) => return err.into(),
    };
    let widget = call.widget;
    let limits = &call.files.filter_limits;
    let mut scope = vec![widget.id.as_str(), "latest"];
    scope.extend(socket.row_key.iter().map(String::as_str));
    let rendered = call
        .files
        .rendered(&relative, &scope, call.params, &widget.filters, |data| {
            latest_rows(data, &socket.row_key, call.params, &widget.filters, limits)
                .map_err(|err| refused_filter(format_args!("{}: filters", widget.id), &err))
        });
    match rendered {
        Ok(payload) => Response::payload(JSON, &payload),
        Err(response) => response,
    }
}

/// Each key's latest row that the params keep, in the order the keys first appear, as JSON.
fn latest_rows(
    data: &Data,
    key: &[String],
    params: &[(String, String)],
    rules: &[(String, Option<filter::Rule>)],
    limits: &filter::Limits,
) -> Result<Body, PlanError> {
    let latest = keyed_rows(data, key).map_err(PlanError::Widget)?;
    let latest = latest.into_iter().map(|(_, index)| index);
    let mut out = Vec::with_capacity(256);
    match data {
        Data::Table(table) => {
            let conditions = filter::plan(params, table.names(), rules, limits)?;
            let kept = latest.filter(|&row| table::passes(table, row, &conditions));
            table.write_json(kept, &mut out);
        }
        Data::Json {
            rows: Some((columns, items)),
            ..
        } => {
            let conditions = filter::plan(params, columns, rules, limits)?;
            let rows = JsonRows { columns, items };
            let kept: Vec<_> = latest
                .filter(|&row| table::passes(&rows, row, &conditions))
                .map(|row| &items[row])
                .collect();
            out = serde_json::to_vec(&kept).map_err(|err| PlanError::Widget(err.to_string()))?;
        }
        // `keyed_rows` refused it already.
        Data::Json { rows: None, .. } => {}
    }
    Ok(Body::Owned(out))
}
