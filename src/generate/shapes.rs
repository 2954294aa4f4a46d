//! What a JSON file is, read as an analyst would: rows of `{label, value, delta?}` are metric
//! tiles (unless no row has a delta or a number: then they are a dropdown's options, a table), rows of articles (`title`, `date`, and some of `author`, `excerpt`, `body`) a
//! newsfeed, other rows a table, `{data, layout}` a Plotly chart, and an object holding exactly
//! one array of flat objects (`results`, `data.rows`) a table of those rows (`data.dataKey`).
//! Anything else fits no widget, and [`Shape::Unfit`] says why in words a user can act on.

use serde_json::{Map, Value};

use crate::data::Data;

/// The widget a JSON document makes.
#[derive(Debug, PartialEq)]
pub(super) enum Shape {
    /// An array of objects: rows.
    Table,
    /// Metric tiles: `{label, value, delta?}` objects (or one such object).
    Metric,
    /// Articles.
    Newsfeed,
    /// A Plotly figure.
    Chart,
    /// A theme variant of a chart (`x.dark.json`, `x.light.json`): part of that chart.
    ThemeVariant,
    /// The one array of flat objects inside an object, at the dotted path `key`.
    Nested { key: String, items: Vec<Value> },
    /// Fits no widget, for this reason.
    Unfit(String),
}

/// Objects deeper than this are not searched for rows.
const DEPTH: usize = 4;
/// Arrays of rows named when there are too many to choose from (the others are counted).
const NAMED: usize = 5;
/// The fields of an article besides `title` and `date`, of which one at least is present.
const ARTICLE_FIELDS: [&str; 3] = ["author", "excerpt", "body"];
const TILE_FIELDS: [&str; 3] = ["label", "value", "delta"];

/// The shape of `data`, the parsed JSON file `relative`.
pub(super) fn shape(relative: &str, data: &Data) -> Shape {
    let Data::Json { raw, rows } = data else {
        return Shape::Unfit("not a JSON document".into());
    };
    if let Some((_, items)) = rows {
        return rows_shape(items);
    }
    if [".dark.json", ".light.json"]
        .iter()
        .any(|suffix| relative.to_ascii_lowercase().ends_with(suffix))
    {
        return Shape::ThemeVariant;
    }
    let Ok(mut document) = serde_json::from_slice::<Value>(raw) else {
        return Shape::Unfit("not a JSON document".into());
    };
    let Value::Object(object) = &mut document else {
        return Shape::Unfit(
            "a single value: no widget shows it (an array of objects is a table)".into(),
        );
    };
    if object.get("data").is_some_and(Value::is_array)
        && object.get("layout").is_some_and(Value::is_object)
    {
        return Shape::Chart;
    }
    if is_tile(object) {
        return Shape::Metric;
    }
    let mut found = Vec::new();
    row_arrays(object, &[], &mut found);
    match found.as_slice() {
        [path] => Shape::Nested {
            key: path.join("."),
            items: take_rows(object, path).unwrap_or_default(),
        },
        [] => Shape::Unfit(
            "an object holding no array of flat objects: nothing to show as a table, metric, \
             newsfeed or chart (write its widget in widgets.json)"
                .into(),
        ),
        _ => {
            let mut keys: Vec<String> = found.iter().take(NAMED).map(|p| p.join(".")).collect();
            if found.len() > NAMED {
                keys.push(format!("and {} more", found.len() - NAMED));
            }
            Shape::Unfit(format!(
                "an object holding {} arrays of rows ({}): name the one to show in widgets.json \
                 with \"data\": {{\"dataKey\": \"...\"}}",
                found.len(),
                keys.join(", ")
            ))
        }
    }
}

/// The widget an array of items makes: tiles, articles, else rows.
fn rows_shape(items: &[Value]) -> Shape {
    let objects: Option<Vec<&Map<String, Value>>> = items.iter().map(Value::as_object).collect();
    let objects = objects.unwrap_or_default();
    if objects.is_empty() {
        return Shape::Table;
    }
    // `[{"label", "value"}]` with text values only and no delta is a dropdown's options.
    let measured = objects.iter().any(|object| {
        object.contains_key("delta") || object.get("value").is_some_and(Value::is_number)
    });
    if measured && objects.iter().all(|object| is_tile(object)) {
        return Shape::Metric;
    }
    let text =
        |object: &Map<String, Value>, key: &str| object.get(key).is_some_and(Value::is_string);
    let articles = objects.iter().all(|o| text(o, "title") && text(o, "date"));
    let described = ARTICLE_FIELDS
        .iter()
        .any(|field| objects.iter().any(|o| o.contains_key(*field)));
    match articles && described {
        true => Shape::Newsfeed,
        false => Shape::Table,
    }
}

/// A metric tile: `label` (text), `value` (text or number), maybe `delta`, and nothing else.
fn is_tile(object: &Map<String, Value>) -> bool {
    object.get("label").is_some_and(Value::is_string)
        && object
            .get("value")
            .is_some_and(|v| v.is_string() || v.is_number())
        && object.keys().all(|key| TILE_FIELDS.contains(&key.as_str()))
}

/// The path (keys from `object`) of every non-empty array of flat objects (scalar values
/// only) in `object`, below `prefix`, searching objects (not arrays) down to [`DEPTH`]; keys
/// holding a dot cannot be named by a dotted path and are passed over.
fn row_arrays(object: &Map<String, Value>, prefix: &[String], found: &mut Vec<Vec<String>>) {
    for (key, value) in object.iter().filter(|(key, _)| !key.contains('.')) {
        let path = [prefix, std::slice::from_ref(key)].concat();
        match value {
            Value::Array(items) if !items.is_empty() && items.iter().all(is_flat_object) => {
                found.push(path);
            }
            Value::Object(inner) if path.len() < DEPTH => row_arrays(inner, &path, found),
            _ => {}
        }
    }
}

/// Takes the array at `path` (keys from `object`, the last naming the array) out of `object`.
fn take_rows(object: &mut Map<String, Value>, path: &[String]) -> Option<Vec<Value>> {
    let (last, inner) = path.split_last()?;
    let mut at = object;
    for key in inner {
        at = at.get_mut(key)?.as_object_mut()?;
    }
    match at.get_mut(last)?.take() {
        Value::Array(items) => Some(items),
        _ => None,
    }
}

fn is_flat_object(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|o| o.values().all(|v| !v.is_array() && !v.is_object()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape_of(name: &str, text: &str) -> Shape {
        shape(
            name,
            &Data::parse(&format!("data/{name}"), text.as_bytes()).unwrap(),
        )
    }

    #[test]
    fn json_files_read_as_an_analyst_would() {
        let kpis = r#"[{"label": "NAV", "value": "$1.6m", "delta": "+0.4%"}, {"label": "N", "value": 12}]"#;
        assert_eq!(shape_of("kpis.json", kpis), Shape::Metric);
        assert_eq!(
            shape_of("k.json", r#"{"label": "NAV", "value": 3}"#),
            Shape::Metric
        );
        let news = r#"[{"title": "A", "date": "2024-01-02", "author": "X", "ticker": "AAPL"},
                       {"title": "B", "date": "2024-01-03", "body": "..."}]"#;
        assert_eq!(shape_of("news.json", news), Shape::Newsfeed);
        let events = r#"[{"title": "A", "date": "2024-01-02"}]"#;
        assert_eq!(
            shape_of("events.json", events),
            Shape::Table,
            "no article fields"
        );
        assert_eq!(
            shape_of("t.json", r#"[{"label": "a", "value": 1, "n": 2}]"#),
            Shape::Table
        );
        let options =
            r#"[{"label": "Energy", "value": "Energy"}, {"label": "Tech", "value": "Tech"}]"#;
        assert_eq!(
            shape_of("sectors.json", options),
            Shape::Table,
            "options, not tiles"
        );
        let nested = r#"{"meta": {"as_of": "2024"}, "data": {"rows": [{"a": 1}], "n": 1}}"#;
        assert_eq!(
            shape_of("f.json", nested),
            Shape::Nested {
                key: "data.rows".into(),
                items: vec![serde_json::json!({"a": 1})]
            }
        );
        let chart = r#"{"data": [{"x": [1]}], "layout": {}}"#;
        assert_eq!(shape_of("c.json", chart), Shape::Chart);
        assert_eq!(shape_of("c.dark.json", chart), Shape::ThemeVariant);
        let Shape::Unfit(two) =
            shape_of("two.json", r#"{"a": [{"x": 1}], "b": {"c": [{"y": 2}]}}"#)
        else {
            panic!("two arrays of rows fit no widget")
        };
        assert!(two.contains("2 arrays of rows (a, b.c)"), "{two}");
        let many: serde_json::Map<String, Value> = (0..1000)
            .map(|i| (format!("k{i}"), serde_json::json!([{"x": i}])))
            .collect();
        let Shape::Unfit(many) = shape_of("many.json", &Value::Object(many).to_string()) else {
            panic!()
        };
        assert!(
            many.contains("1000 arrays of rows (k0, k1, k2, k3, k4, and 995 more)"),
            "{many}"
        );
        let Shape::Unfit(none) = shape_of("s.json", r#"{"not": "a table", "deep": [[1]]}"#) else {
            panic!()
        };
        assert!(none.contains("no array of flat objects"), "{none}");
        assert!(matches!(shape_of("n.json", "3"), Shape::Unfit(_)));
    }
}
