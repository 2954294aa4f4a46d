//! The bundled example (the repository's own widgets.json, apps.json and data/) works as
//! Workspace would use it: every widget answers with its default parameters, in its shape.

use serde_json::Value;

use crate::support::{Fixture, TestServer, test_config};

fn example_server() -> TestServer {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    TestServer::start_with(Fixture::new(), test_config(root))
}

/// The query string Workspace would send for a widget's default parameter values.
fn default_query(widget: &Value) -> String {
    let params = widget["params"].as_array().cloned().unwrap_or_default();
    params
        .iter()
        .filter_map(|p| {
            let value = match &p["value"] {
                Value::String(s) => s.clone(),
                Value::Null => return None,
                other => other.to_string(),
            };
            Some(format!(
                "{}={}",
                p["paramName"].as_str()?,
                value.replace(' ', "%20")
            ))
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[test]
fn every_bundled_widget_answers_with_rows() {
    let server = example_server();
    let info = server.get("/").json();
    assert_eq!(info["problems"], serde_json::json!([]), "{info}");
    let widgets = server.get("/widgets.json").json();
    let widgets = widgets.as_object().unwrap();
    assert!(widgets.len() >= 4);
    for (id, widget) in widgets {
        assert!(
            widget["name"].is_string() && widget["description"].is_string(),
            "{id}"
        );
        assert!(
            widget.get("backend").is_none(),
            "{id}: server-side key leaked"
        );
        let endpoint = widget["endpoint"].as_str().unwrap().trim_start_matches('/');
        let reply = server.get(&format!("/{endpoint}?{}", default_query(widget)));
        assert_eq!(reply.status, 200, "{id}: {reply:?}");
        let body = reply.json();
        let rows = match widget["data"]["dataKey"].as_str() {
            Some(key) => body[key].clone(),
            None => body,
        };
        let rows = rows
            .as_array()
            .unwrap_or_else(|| panic!("{id}: rows are not an array"));
        assert!(!rows.is_empty(), "{id}: default parameters select no rows");
        if let Some(columns) = widget["data"]["table"]["columnsDefs"].as_array() {
            for column in columns {
                let field = column["field"].as_str().unwrap();
                assert!(
                    rows[0].get(field).is_some(),
                    "{id}: column {field} not in the data"
                );
            }
        }
    }
}

#[test]
fn the_bundled_dashboard_only_names_real_widgets_and_fits_the_grid() {
    let server = example_server();
    let widgets = server.get("/widgets.json").json();
    let apps = server.get("/apps.json").json();
    for app in apps.as_array().unwrap() {
        for tab in app["tabs"].as_object().unwrap().values() {
            for item in tab["layout"].as_array().unwrap() {
                let id = item["i"].as_str().unwrap();
                assert!(
                    widgets.get(id).is_some(),
                    "layout names unknown widget {id}"
                );
                let (x, w) = (item["x"].as_u64().unwrap(), item["w"].as_u64().unwrap());
                assert!(x + w <= 40, "{id} overflows the 40-column grid");
            }
        }
        for group in app["groups"].as_array().unwrap() {
            let param = group["paramName"].as_str().unwrap();
            for id in group["widgetIds"].as_array().unwrap() {
                let widget = &widgets[id.as_str().unwrap()];
                let params = widget["params"].as_array().unwrap();
                assert!(
                    params.iter().any(|p| p["paramName"] == param),
                    "{id} lacks {param}"
                );
            }
        }
    }
}

#[test]
fn bundled_filters_work() {
    let server = example_server();
    let rows = server
        .get("/prices?ticker=MSFT&start_date=2024-06-03&end_date=2024-06-07")
        .json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|r| r["ticker"] == "MSFT"));
    let sectors = server.get("/holdings?sector=Energy,Financials").json();
    assert!(
        sectors
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["sector"] == "Energy" || r["sector"] == "Financials")
    );
    let earnings = server.get("/earnings?ticker=NVDA&since=2024-10-01").json();
    assert_eq!(earnings.as_array().unwrap().len(), 2);
}
