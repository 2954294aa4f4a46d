//! The shape of each widget type's answer (workspace-contract.md §3), checked by `check --url`
//! on the answers it gets: what Workspace would render, beyond whether it accepts them.

use serde_json::Value;

use super::probe::Answer;
use crate::validate;
use crate::widgets::youtube::video_url;

/// The answer has the shape Workspace expects for the widget's type (contract §3).
pub(super) fn answer_shape(
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
    if kind == "youtube" {
        let url = String::from_utf8_lossy(&answer.body);
        return match video_url(url.trim()) {
            Ok(()) => Ok(format!("a YouTube video, {}", url.trim())),
            Err(why) => Err(format!(
                "expected the URL of a YouTube video as text: '{url}' {why}"
            )),
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
        "ssrm_table" => match (&value["rowData"], value["rowCount"].as_u64()) {
            (Value::Array(rows), Some(count)) => Ok(format!("{} of {count} rows", rows.len())),
            _ => Err("expected {\"rowData\": [...], \"rowCount\": N}".into()),
        },
        "chart-highcharts" => match value["series"] {
            Value::Array(_) | Value::Null if value.is_object() => Ok("Highcharts options".into()),
            _ => Err("expected a Highcharts options object {\"series\": [...], ...}".into()),
        },
        "chart-vegalite" => match value.is_object() {
            true => Ok("a Vega-Lite spec".into()),
            false => Err("expected a Vega-Lite spec object".into()),
        },
        "advanced_charting" => match value.is_object() {
            true => Ok("a UDF configuration".into()),
            false => Err("expected the UDF configuration object at the endpoint".into()),
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
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn answer(media: &str, body: &str) -> Answer {
        Answer {
            status: 200,
            headers: vec![("Content-Type".into(), media.into())],
            body: body.as_bytes().to_vec(),
        }
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
        assert!(shape("chart-highcharts", json, r#"{"series": []}"#).is_ok());
        assert!(shape("chart-highcharts", json, r#"{"series": 1}"#).is_err());
        assert!(shape("chart-vegalite", json, r#"{"mark": "bar"}"#).is_ok());
        assert!(shape("chart-vegalite", json, "[]").is_err());
        let video = "https://youtu.be/MSlhOFxEdxg";
        assert!(shape("youtube", "text/plain", video).is_ok());
        assert!(shape("youtube", "text/plain", "https://evil.example/x").is_err());
        assert!(shape("ssrm_table", json, r#"{"rowData": [], "rowCount": 0}"#).is_ok());
        assert!(shape("ssrm_table", json, "[]").is_err());
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
}
