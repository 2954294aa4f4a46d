//! chart: a Plotly figure from a JSON file. Workspace adds `theme=dark|light`; a file made for
//! the theme (`x.dark.json` beside `x.json`) is served as it is when present, otherwise the
//! figure's backgrounds are set to the theme's (dark `#151518`, light `#FFFFFF`). With
//! `raw=true` the widget's `backend.records` rows are answered instead.

use serde_json::{Map, Value};

use crate::data::Data;
use crate::http::{Body, JSON, Response};
use crate::manifest::Source;
use crate::remote::is_remote;
use crate::widgets::{Call, table};

const THEMES: [(&str, &str); 2] = [("dark", "#151518"), ("light", "#FFFFFF")];

pub fn serve(call: &Call, source: &Source, records: Option<&str>) -> Response {
    if let Some(response) = table::raw(call, records) {
        return response;
    }
    let relative = match call.locate(source) {
        Ok(relative) => relative,
        Err(err) => return err.into(),
    };
    let theme = call.param("theme").and_then(|asked| {
        THEMES
            .iter()
            .find(|(name, _)| asked.eq_ignore_ascii_case(name))
    });
    let themed = theme
        .map(|(name, _)| themed_name(&relative, name))
        .filter(|name| !is_remote(name))
        .and_then(|name| call.files.try_find(&name));
    let file = themed.as_ref().unwrap_or(&relative);
    let data = match call.files.data(file) {
        Ok(data) => data,
        Err(err) => return err.into(),
    };
    let raw = match &*data {
        Data::Json { raw, rows: None } => raw,
        _ => {
            return Response::error(
                500,
                &format!(
                    "{}: a chart file must hold a Plotly figure object",
                    call.files.dir.display(file)
                ),
            );
        }
    };
    match theme {
        Some((_, background)) if themed.is_none() => match serde_json::from_slice(raw) {
            Ok(figure) => Response::json(200, &with_background(figure, background)),
            Err(err) => Response::error(500, &err.to_string()),
        },
        _ => Response::new(200, JSON, Body::Shared(raw.clone())),
    }
}

/// `charts/x.json` → `charts/x.dark.json`.
fn themed_name(relative: &str, theme: &str) -> String {
    match relative.rsplit_once('.') {
        Some((stem, extension)) if !stem.ends_with('/') => format!("{stem}.{theme}.{extension}"),
        _ => format!("{relative}.{theme}"),
    }
}

/// Sets `layout.paper_bgcolor` and `layout.plot_bgcolor`.
fn with_background(mut figure: Value, background: &str) -> Value {
    if let Value::Object(figure) = &mut figure {
        let layout = figure
            .entry("layout")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(layout) = layout {
            for key in ["paper_bgcolor", "plot_bgcolor"] {
                layout.insert(key.to_string(), Value::from(background));
            }
        }
    }
    figure
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn themed_files_sit_beside_the_figure() {
        assert_eq!(themed_name("charts/x.json", "dark"), "charts/x.dark.json");
        assert_eq!(themed_name("x", "light"), "x.light");
    }

    #[test]
    fn backgrounds_follow_the_theme() {
        let figure = with_background(
            json!({"data": [], "layout": {"title": "t", "paper_bgcolor": "red"}}),
            "#151518",
        );
        assert_eq!(
            figure,
            json!({"data": [], "layout": {"title": "t", "paper_bgcolor": "#151518", "plot_bgcolor": "#151518"}})
        );
        assert_eq!(
            with_background(json!({"data": []}), "#FFFFFF")["layout"]["plot_bgcolor"],
            "#FFFFFF"
        );
    }
}
