//! chart: a figure from a JSON file, for Workspace's three chart types: a Plotly figure
//! (`chart`), a Highcharts options object (`chart-highcharts`) and a Vega-Lite spec
//! (`chart-vegalite`). Workspace adds `theme=dark|light`: a file made for the theme
//! (`x.dark.json` beside `x.json`) is served as it is when present; otherwise the figure is given
//! the theme's background (dark `#151518`, light `#FFFFFF`, whatever the file says) and, for
//! Highcharts and Vega-Lite (whose defaults are dark text on white), the theme's text and grid
//! colours wherever the file sets none ([`themed`]). With `raw=true` the widget's
//! `backend.records` rows are answered instead.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
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
        _ => return not_a_figure(call, file, library),
    };
    match theme {
        Some(theme) if themed_file.is_none() => match themed_bytes(library, raw, theme) {
            Ok(bytes) => Response::new(200, JSON, Body::Owned(bytes)),
            Err(_) => not_a_figure(call, file, library),
        },
        _ => Response::new(200, JSON, Body::Shared(raw.clone())),
    }
}

fn not_a_figure(call: &Call, file: &str, library: ChartLibrary) -> Response {
    Response::error(
        500,
        &format!(
            "{}: a {} chart file must hold {}",
            call.files.dir.display(file),
            library_name(library),
            figure_name(library)
        ),
    )
}

/// The figure (a JSON object, as the file's bytes) in `theme`'s colours ([`themed`]): only the
/// members the theme sets are parsed and written anew; the others (the data, however big) are
/// copied as the file has them, in the file's order.
fn themed_bytes(
    library: ChartLibrary,
    raw: &[u8],
    theme: &Theme,
) -> Result<Vec<u8>, serde_json::Error> {
    let Members(members) = serde_json::from_slice(raw)?;
    // The members `themed` sets are those it makes in an empty figure.
    let keys = match themed(library, Value::Object(Map::new()), theme) {
        Value::Object(keys) => keys,
        _ => Map::new(),
    };
    let mut touched = Map::new();
    for (key, value) in &members {
        if keys.contains_key(key) {
            touched.insert(key.clone(), serde_json::from_str(value.get())?);
        }
    }
    let Value::Object(mut touched) = themed(library, Value::Object(touched), theme) else {
        unreachable!("themed keeps an object an object");
    };
    let mut out = Vec::with_capacity(raw.len() + 1024);
    let mut write = |key: &str, value: &[u8]| -> Result<(), serde_json::Error> {
        out.push(if out.is_empty() { b'{' } else { b',' });
        serde_json::to_writer(&mut out, key)?;
        out.push(b':');
        out.extend_from_slice(value);
        Ok(())
    };
    for (key, value) in &members {
        match touched.remove(key) {
            Some(themed) => write(key, &serde_json::to_vec(&themed)?)?,
            None => write(key, value.get().as_bytes())?,
        }
    }
    for (key, value) in &touched {
        write(key, &serde_json::to_vec(value)?)?;
    }
    if out.is_empty() {
        out.push(b'{');
    }
    out.push(b'}');
    Ok(out)
}

/// A JSON object's members in the file's order, each value left as its text (borrowed).
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Members<'de>, M::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(Visit)
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
    fn only_the_members_the_theme_sets_are_written_anew() {
        let raw = br##"{"series": [{"data": [1,  2]}], "chart": {"type": "bar"}, "z": "last"}"##;
        let bytes = themed_bytes(ChartLibrary::Highcharts, raw, DARK).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            text.starts_with(r##"{"series":[{"data": [1,  2]}],"chart":{"type":"bar","backgroundColor":"#151518"},"z":"last","##),
            "the data as written, in the file's order: {text}"
        );
        let figure: Value = serde_json::from_str(&text).unwrap();
        let whole = themed(
            ChartLibrary::Highcharts,
            serde_json::from_slice(raw).unwrap(),
            DARK,
        );
        assert_eq!(figure, whole, "the same figure as themed whole");
        for library in [ChartLibrary::Plotly, ChartLibrary::VegaLite] {
            let spec = br#"{"mark": "bar", "data": {"values": [1]}}"#;
            let bytes = themed_bytes(library, spec, LIGHT).unwrap();
            let whole = themed(library, serde_json::from_slice(spec).unwrap(), LIGHT);
            assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap(), whole);
        }
        assert_eq!(
            themed_bytes(ChartLibrary::Plotly, b"{}", DARK).unwrap(),
            br##"{"layout":{"paper_bgcolor":"#151518","plot_bgcolor":"#151518"}}"##
        );
        assert!(themed_bytes(ChartLibrary::Plotly, b"\"text\"", DARK).is_err());
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
