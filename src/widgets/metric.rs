//! metric: tiles of `{label, value, delta}`. A JSON file holding one object or an array of
//! them is served as it is. With `backend.column`, the tile is computed from a table file: the
//! latest (last non-null, in file order) value of the column in the rows the widget's filters
//! keep, and its change against the previous one; `backend.label` names it (default: the
//! column). The answer is then an array of one tile.

use serde_json::{Value, json};

use crate::data::Data;
use crate::http::{Body, JSON, Response};
use crate::manifest::{Source, Tile};
use crate::widgets::Call;
use crate::widgets::errors::refused_filter;

pub fn serve(call: &Call, source: &Source, tile: Option<&Tile>) -> Response {
    let relative = match call.locate(source) {
        Ok(relative) => relative,
        Err(err) => return err.into(),
    };
    let data = match call.files.data(&relative) {
        Ok(data) => data,
        Err(err) => return err.into(),
    };
    let Some(Tile { column, label }) = tile else {
        return match &*data {
            Data::Json { raw, .. } => Response::new(200, JSON, Body::Shared(raw.clone())),
            Data::Table(_) => Response::error(
                500,
                &format!(
                    "widget '{}': a metric from a CSV needs backend.column",
                    call.widget.id
                ),
            ),
        };
    };
    let limits = &call.files.filter_limits;
    let values = match data.column(call.params, &call.widget.filters, limits, column) {
        Ok(values) => values,
        Err(err) => return refused_filter(call.files.dir.display(&relative), &err),
    };
    let label = label.as_deref().unwrap_or(column);
    let tiles: Vec<Value> = latest(&values)
        .map(|tile| with_label(tile, label))
        .into_iter()
        .collect();
    Response::json(200, &tiles)
}

fn with_label(mut tile: Value, label: &str) -> Value {
    tile["label"] = Value::from(label);
    tile
}

/// `{value, delta}` from the last two non-null values; no `delta` with one value, or when
/// either is not a number.
fn latest(values: &[Value]) -> Option<Value> {
    let mut present = values.iter().filter(|v| !v.is_null()).rev();
    let value = present.next()?;
    let mut tile = json!({"label": "", "value": value});
    let delta = match (value, present.next()) {
        (Value::Number(now), Some(Value::Number(before))) => {
            match (now.as_i64(), before.as_i64()) {
                (Some(now), Some(before)) => Some(Value::from(now - before)),
                _ => {
                    let change = now.as_f64()? - before.as_f64()?;
                    // Rounded to drop binary noise (371.0 - 370.25 stays 0.75).
                    serde_json::Number::from_f64((change * 1e9).round() / 1e9).map(Value::Number)
                }
            }
        }
        _ => None,
    };
    if let Some(delta) = delta {
        tile["delta"] = delta;
    }
    Some(tile)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_value_and_its_change() {
        let tile = latest(&[json!(1.1), json!(2.2), Value::Null]).unwrap();
        assert_eq!(tile["value"], 2.2);
        assert_eq!(tile["delta"], 1.1);
        let tile = latest(&[json!(10), json!(7)]).unwrap();
        assert_eq!(tile["delta"], -3);
        let tile = latest(&[json!(5)]).unwrap();
        assert!(tile.get("delta").is_none());
        let tile = latest(&[json!(5), json!("Buy")]).unwrap();
        assert_eq!(tile["value"], "Buy");
        assert!(tile.get("delta").is_none());
        assert_eq!(latest(&[Value::Null]), None);
        assert_eq!(latest(&[]), None);
    }
}
