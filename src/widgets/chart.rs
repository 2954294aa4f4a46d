//! chart: a figure from a JSON file, for Workspace's three chart types: a Plotly figure
//! (`chart`), a Highcharts options object (`chart-highcharts`) and a Vega-Lite spec
//! (`chart-vegalite`). Workspace adds `theme=dark|light`: a file made for the theme
//! (`x.dark.json` beside `x.json`) is served as it is when present; otherwise the figure is given
//! the theme's background (dark `#151518`, light `#FFFFFF`, whatever the file says) and, for
//! Highcharts and Vega-Lite (whose defaults are dark text on white), the theme's text and grid
//! colours wherever the file sets none ([`themed`]). With `raw=true` the widget's
//! `backend.records` rows are answered instead.

use serde_json::{Map, Value};

use crate::data::Data;
use crate::http::{Body, JSON, Response};
use crate::manifest::{ChartLibrary, Source};
use crate::remote::is_remote;
use crate::widgets::{Call, table};

/// The colours of one of Workspace's themes.
#[derive(Debug, PartialEq)]
struct Theme {
    name: &'static str,
    background: &'static str,
    text: &'static str,
    grid: &'static str,
}

const THEMES: [Theme; 2] = [
    Theme {
        name: "dark",
        background: "#151518",
        text: "#E5E7EB",
        grid: "#2A2A2A",
    },
    Theme {
        name: "light",
        background: "#FFFFFF",
        text: "#1A1A1A",
        grid: "#E5E5E5",
    },
];

pub fn serve(
    call: &Call,
    library: ChartLibrary,
    source: &Source,
    records: Option<&str>,
) -> Response {
    if let Some(response) = table::raw(call, records) {
        return response;
    }
    let relative = match call.locate(source) {
        Ok(relative) => relative,
        Err(err) => return err.into(),
    };
    let theme = call
        .param("theme")
        .and_then(|asked| THEMES.iter().find(|t| asked.eq_ignore_ascii_case(t.name)));
    let themed_file = theme
        .map(|theme| themed_name(&relative, theme.name))
        .filter(|name| !is_remote(name))
        .and_then(|name| call.files.try_find(&name));
    let file = themed_file.as_ref().unwrap_or(&relative);
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
                    "{}: a {} chart file must hold {}",
                    call.files.dir.display(file),
                    library_name(library),
                    figure_name(library)
                ),
            );
        }
    };
    match theme {
        Some(theme) if themed_file.is_none() => match serde_json::from_slice(raw) {
            Ok(figure) => Response::json(200, &themed(library, figure, theme)),
            Err(err) => Response::error(500, &err.to_string()),
        },
        _ => Response::new(200, JSON, Body::Shared(raw.clone())),
    }
}

fn library_name(library: ChartLibrary) -> &'static str {
    match library {
        ChartLibrary::Plotly => "Plotly",
        ChartLibrary::Highcharts => "Highcharts",
        ChartLibrary::VegaLite => "Vega-Lite",
    }
}

fn figure_name(library: ChartLibrary) -> &'static str {
    match library {
        ChartLibrary::Plotly => "a figure object {\"data\": [...], \"layout\": {...}}",
        ChartLibrary::Highcharts => "an options object {\"series\": [...], ...}",
        ChartLibrary::VegaLite => "a spec object {\"mark\": ..., \"encoding\": {...}, ...}",
    }
}

/// `charts/x.json` → `charts/x.dark.json`.
fn themed_name(relative: &str, theme: &str) -> String {
    match relative.rsplit_once('.') {
        Some((stem, extension)) if !stem.ends_with('/') => format!("{stem}.{theme}.{extension}"),
        _ => format!("{relative}.{theme}"),
    }
}

/// The figure in `theme`'s colours: its background always; for Highcharts and Vega-Lite, text
/// and grid colours where the figure sets none. Parts that are not objects stay as written.
fn themed(library: ChartLibrary, mut figure: Value, theme: &Theme) -> Value {
    let (text, grid) = (theme.text, theme.grid);
    match library {
        ChartLibrary::Plotly => {
            for key in ["paper_bgcolor", "plot_bgcolor"] {
                put(&mut figure, &["layout", key], theme.background, true);
            }
        }
        ChartLibrary::Highcharts => {
            put(
                &mut figure,
                &["chart", "backgroundColor"],
                theme.background,
                true,
            );
            put(&mut figure, &["title", "style", "color"], text, false);
            put(&mut figure, &["subtitle", "style", "color"], text, false);
            put(&mut figure, &["legend", "itemStyle", "color"], text, false);
            for key in ["xAxis", "yAxis"] {
                // An axis is an object, or an array of them (several axes).
                let axes = match &mut figure {
                    Value::Object(figure) => figure.entry(key).or_insert_with(object),
                    _ => continue,
                };
                let axes = match axes {
                    Value::Array(axes) => axes.iter_mut().collect(),
                    axis => vec![axis],
                };
                for axis in axes {
                    put(axis, &["labels", "style", "color"], text, false);
                    put(axis, &["title", "style", "color"], text, false);
                    for key in ["gridLineColor", "lineColor", "tickColor"] {
                        put(axis, &[key], grid, false);
                    }
                }
            }
        }
        ChartLibrary::VegaLite => {
            put(&mut figure, &["background"], theme.background, true);
            for key in ["labelColor", "titleColor"] {
                put(&mut figure, &["config", "axis", key], text, false);
                put(&mut figure, &["config", "legend", key], text, false);
            }
            for key in ["gridColor", "domainColor", "tickColor"] {
                put(&mut figure, &["config", "axis", key], grid, false);
            }
            put(&mut figure, &["config", "title", "color"], text, false);
        }
    }
    figure
}

fn object() -> Value {
    Value::Object(Map::new())
}

/// Sets the string at `path` (objects made on the way), or only where there is none yet unless
/// `overwrite`. A step that is not an object leaves the value as it is.
fn put(value: &mut Value, path: &[&str], leaf: &str, overwrite: bool) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = value;
    for key in parents {
        match at {
            Value::Object(map) => at = map.entry(*key).or_insert_with(object),
            _ => return,
        }
    }
    if let Value::Object(map) = at
        && (overwrite || !map.contains_key(*last))
    {
        map.insert(last.to_string(), Value::from(leaf));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DARK: &Theme = &THEMES[0];
    const LIGHT: &Theme = &THEMES[1];

    #[test]
    fn themed_files_sit_beside_the_figure() {
        assert_eq!(themed_name("charts/x.json", "dark"), "charts/x.dark.json");
        assert_eq!(themed_name("x", "light"), "x.light");
    }

    #[test]
    fn plotly_backgrounds_follow_the_theme() {
        let figure = themed(
            ChartLibrary::Plotly,
            json!({"data": [], "layout": {"title": "t", "paper_bgcolor": "red"}}),
            DARK,
        );
        assert_eq!(
            figure,
            json!({"data": [], "layout": {"title": "t", "paper_bgcolor": "#151518", "plot_bgcolor": "#151518"}})
        );
        let figure = themed(ChartLibrary::Plotly, json!({"data": []}), LIGHT);
        assert_eq!(figure["layout"]["plot_bgcolor"], "#FFFFFF");
        let odd = json!({"data": [], "layout": "not an object"});
        assert_eq!(themed(ChartLibrary::Plotly, odd.clone(), DARK), odd);
    }

    #[test]
    fn highcharts_get_the_themes_colours_where_they_set_none() {
        let figure = json!({
            "chart": {"type": "line", "backgroundColor": "red"},
            "title": {"text": "T", "style": {"color": "#123456"}},
            "xAxis": {"categories": ["a"]},
            "yAxis": [{"title": {"text": "y1"}}, {"gridLineColor": "#ABCDEF"}],
            "series": [{"data": [1]}]
        });
        let dark = themed(ChartLibrary::Highcharts, figure, DARK);
        assert_eq!(
            dark["chart"],
            json!({"type": "line", "backgroundColor": "#151518"})
        );
        assert_eq!(
            dark["title"]["style"]["color"], "#123456",
            "the file's colour stays"
        );
        assert_eq!(dark["subtitle"]["style"]["color"], "#E5E7EB");
        assert_eq!(dark["legend"]["itemStyle"]["color"], "#E5E7EB");
        assert_eq!(dark["xAxis"]["categories"], json!(["a"]));
        assert_eq!(dark["xAxis"]["labels"]["style"]["color"], "#E5E7EB");
        assert_eq!(dark["yAxis"][0]["title"]["text"], "y1");
        assert_eq!(dark["yAxis"][0]["title"]["style"]["color"], "#E5E7EB");
        assert_eq!(dark["yAxis"][0]["gridLineColor"], "#2A2A2A");
        assert_eq!(dark["yAxis"][1]["gridLineColor"], "#ABCDEF");
        assert_eq!(dark["series"], json!([{"data": [1]}]));
    }

    #[test]
    fn vega_lite_gets_the_themes_background_and_config() {
        let spec = json!({"mark": "bar", "background": "red",
                          "config": {"axis": {"labelColor": "#123456"}}});
        let light = themed(ChartLibrary::VegaLite, spec, LIGHT);
        assert_eq!(light["background"], "#FFFFFF");
        assert_eq!(light["mark"], "bar");
        assert_eq!(light["config"]["axis"]["labelColor"], "#123456");
        assert_eq!(light["config"]["axis"]["titleColor"], "#1A1A1A");
        assert_eq!(light["config"]["axis"]["gridColor"], "#E5E5E5");
        assert_eq!(light["config"]["legend"]["labelColor"], "#1A1A1A");
        assert_eq!(light["config"]["title"]["color"], "#1A1A1A");
    }
}
