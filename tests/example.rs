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
                // A multiSelect value goes out comma-separated.
                Value::Array(items) => items
                    .iter()
                    .map(|item| {
                        item.as_str()
                            .map_or_else(|| item.to_string(), str::to_string)
                    })
                    .collect::<Vec<_>>()
                    .join(","),
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

/// The widget's params, whether written as one list or as rows of lists.
fn params_of(widget: &Value) -> Vec<Value> {
    let params = widget["params"].as_array().cloned().unwrap_or_default();
    params
        .into_iter()
        .flat_map(|p| match p {
            Value::Array(row) => row,
            other => vec![other],
        })
        .collect()
}

/// Checks a table widget's answer: rows (under `dataKey` when set) holding the declared columns.
fn check_rows(id: &str, widget: &Value, body: &Value) {
    let rows = match widget["data"]["dataKey"].as_str() {
        Some(key) => &body[key],
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

/// Checks one widget's answer to its default parameters against the contract's shape for its
/// type (workspace-contract.md §3).
fn check_widget(server: &TestServer, id: &str, widget: &Value) {
    let endpoint = widget["endpoint"].as_str().unwrap().trim_start_matches('/');
    let path = format!("/{endpoint}?{}", default_query(widget));
    let kind = widget["type"].as_str().unwrap_or("table");
    if matches!(kind, "multi_file_viewer" | "omni" | "ssrm_table") {
        return check_post_widget(server, id, kind, widget);
    }
    if kind == "advanced_charting" {
        return check_udf(server, id, widget);
    }
    if kind == "live_grid" {
        return check_live_grid(server, id, widget, &path);
    }
    let reply = server.get(&path);
    assert_eq!(reply.status, 200, "{id}: {reply:?}");
    if kind == "youtube" {
        assert!(
            reply.body.starts_with("https://www.youtube.com/watch?v="),
            "{id}"
        );
        let transcript = server.get(&format!("{path}&raw=true"));
        assert_eq!(
            transcript.header("content-type"),
            Some("text/markdown; charset=utf-8")
        );
        assert!(
            transcript.body.starts_with("# "),
            "{id}: a Markdown transcript"
        );
        return;
    }
    if kind == "html" {
        assert!(
            reply
                .header("content-type")
                .unwrap()
                .starts_with("text/html"),
            "{id}"
        );
        assert!(reply.body.contains("<html"), "{id}");
    } else {
        let body = reply.json();
        match kind {
            "table" => check_rows(id, widget, &body),
            "markdown" => assert!(body.as_str().is_some_and(|t| t.starts_with('#')), "{id}"),
            "metric" => {
                let tiles = body
                    .as_array()
                    .cloned()
                    .unwrap_or_else(|| vec![body.clone()]);
                assert!(!tiles.is_empty(), "{id}");
                for tile in tiles {
                    assert!(
                        tile["label"].is_string() && !tile["value"].is_null(),
                        "{id}: {tile}"
                    );
                }
            }
            "newsfeed" => {
                let articles = body.as_array().unwrap();
                assert!(!articles.is_empty(), "{id}");
                for article in articles {
                    for field in ["title", "date", "author", "excerpt", "body"] {
                        assert!(article[field].is_string(), "{id}: {field} in {article}");
                    }
                }
                let dates: Vec<&str> = articles
                    .iter()
                    .map(|a| a["date"].as_str().unwrap())
                    .collect();
                assert!(
                    dates.windows(2).all(|w| w[0] >= w[1]),
                    "{id}: not newest first"
                );
            }
            "chart" | "chart-highcharts" | "chart-vegalite" => {
                // The figure's own part, and where the theme's background goes.
                let (part, background_at): (&str, &[&str]) = match kind {
                    "chart" => ("data", &["layout", "paper_bgcolor"]),
                    "chart-highcharts" => ("series", &["chart", "backgroundColor"]),
                    _ => ("encoding", &["background"]),
                };
                assert!(!body[part].is_null(), "{id}");
                for (theme, background) in [("dark", "#151518"), ("light", "#FFFFFF")] {
                    let themed = server.get(&format!("{path}&theme={theme}")).json();
                    assert!(!themed[part].is_null(), "{id} {theme}");
                    let shown = background_at.iter().fold(&themed, |v, key| &v[*key]);
                    assert_eq!(shown, background, "{id} {theme}");
                }
            }
            "pdf" => {
                assert_eq!(body["data_format"]["data_type"], "pdf", "{id}");
                assert!(
                    body["data_format"]["filename"]
                        .as_str()
                        .unwrap()
                        .ends_with(".pdf")
                );
                match (body["content"].as_str(), body["url"].as_str()) {
                    (Some(content), None) => assert!(content.starts_with("JVBERi0"), "{id}: %PDF-"),
                    (None, Some(url)) => {
                        let path = url.split_once(&server.addr.to_string()).unwrap().1;
                        let file = server.get(path);
                        assert_eq!(file.status, 200, "{id}: {url}");
                        assert_eq!(file.header("content-type"), Some("application/pdf"));
                        assert!(file.body.starts_with("%PDF-"), "{id}");
                    }
                    _ => panic!("{id}: a pdf answer holds content or url: {body}"),
                }
            }
            other => panic!("{id}: the example has an unexpected type {other}"),
        }
    }
    if widget["raw"] == true {
        let raw = server.get(&format!("{path}&raw=true")).json();
        assert!(!raw.as_array().unwrap().is_empty(), "{id}: raw records");
    }
}

fn check_post_widget(server: &TestServer, id: &str, kind: &str, widget: &Value) {
    let endpoint = widget["endpoint"].as_str().unwrap().trim_start_matches('/');
    let mut body = serde_json::Map::new();
    for param in params_of(widget) {
        body.insert(
            param["paramName"].as_str().unwrap().to_string(),
            param["value"].clone(),
        );
    }
    if kind == "ssrm_table" {
        body.insert("startRow".into(), 0.into());
        body.insert("endRow".into(), 50.into());
        body.insert(
            "sortModel".into(),
            serde_json::json!([{"colId": "date", "sort": "desc"}]),
        );
        let answer = server.post(&format!("/{endpoint}"), &Value::Object(body).to_string());
        assert_eq!(answer.status, 200, "{id}: {answer:?}");
        let answer = answer.json();
        check_rows(id, widget, &answer["rowData"]);
        let rows = answer["rowData"].as_array().unwrap();
        assert_eq!(rows.len(), 50, "{id}");
        assert!(
            answer["rowCount"].as_u64().unwrap() > 50,
            "{id}: {}",
            answer["rowCount"]
        );
        assert!(
            rows[0]["date"].as_str() >= rows[49]["date"].as_str(),
            "{id}: sorted"
        );
        return;
    }
    if kind == "omni" {
        let answer = server.post(
            &format!("/{endpoint}"),
            &Value::Object(body.clone()).to_string(),
        );
        assert_eq!(answer.status, 200, "{id}: {answer:?}");
        let answer = answer.json();
        assert_eq!(answer["data_format"]["data_type"], "object", "{id}");
        assert!(
            !answer["content"].as_array().unwrap().is_empty(),
            "{id}: no hits"
        );
        body.insert("type".into(), "text".into());
        let answer = server
            .post(&format!("/{endpoint}"), &Value::Object(body).to_string())
            .json();
        assert_eq!(answer["data_format"]["parse_as"], "text", "{id}");
        assert!(answer["content"].is_string(), "{id}");
        return;
    }
    let selector = params_of(widget)
        .into_iter()
        .find(|p| p["roles"] == serde_json::json!(["fileSelector"]))
        .unwrap();
    let options_endpoint = selector["optionsEndpoint"].as_str().unwrap();
    let files: Vec<Value> = server
        .get(&format!("/{options_endpoint}"))
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|option| option["value"].clone())
        .collect();
    assert!(files.len() >= 4, "{id}: {files:?}");
    let param = selector["paramName"].as_str().unwrap().to_string();
    for names in [selector["value"].clone(), Value::Array(files)] {
        let request = serde_json::json!({ param.clone(): names.clone() });
        let answer = server.post(&format!("/{endpoint}"), &request.to_string());
        assert_eq!(answer.status, 200, "{id}: {answer:?}");
        let answer = answer.json();
        let entries = answer.as_array().unwrap();
        assert_eq!(entries.len(), names.as_array().unwrap().len(), "{id}");
        for (entry, name) in entries.iter().zip(names.as_array().unwrap()) {
            assert_eq!(&entry["data_format"]["filename"], name, "{id}: {entry}");
            assert!(entry["content"].is_string(), "{id}");
        }
    }
}

/// An advanced chart's UDF routes, for its `data.defaultSymbol`.
fn check_udf(server: &TestServer, id: &str, widget: &Value) {
    let base = format!(
        "/{}",
        widget["endpoint"].as_str().unwrap().trim_start_matches('/')
    );
    let symbol = widget["data"]["defaultSymbol"].as_str().unwrap();
    let config = server.get(&format!("{base}/config")).json();
    assert!(
        config["supported_resolutions"]
            .as_array()
            .unwrap()
            .contains(&"1D".into()),
        "{id}"
    );
    let info = server
        .get(&format!("{base}/symbols?symbol={symbol}"))
        .json();
    assert_eq!(info["name"], symbol, "{id}");
    let found = server
        .get(&format!("{base}/search?query={symbol}&limit=10"))
        .json();
    assert_eq!(found[0]["symbol"], symbol, "{id}");
    for resolution in ["1D", "W", "M"] {
        let bars = server
            .get(&format!(
                "{base}/history?symbol={symbol}&resolution={resolution}&from=0&to=4102444800"
            ))
            .json();
        assert_eq!(bars["s"], "ok", "{id} {resolution}: {bars}");
        let times = bars["t"].as_array().unwrap();
        assert!(!times.is_empty(), "{id} {resolution}");
        for series in ["o", "h", "l", "c", "v"] {
            assert_eq!(
                bars[series].as_array().unwrap().len(),
                times.len(),
                "{id} {series}"
            );
        }
    }
    let time = server.get(&format!("{base}/time"));
    assert!(time.body.parse::<u64>().is_ok(), "{id}: {time:?}");
}

/// A live grid: its rows over GET, and its WebSocket accepting a subscription with the
/// widget's default params (the bundled file is not changed, so nothing is pushed).
fn check_live_grid(server: &TestServer, id: &str, widget: &Value, path: &str) {
    let rows = server.get(path);
    assert_eq!(rows.status, 200, "{id}: {rows:?}");
    check_rows(id, widget, &rows.json());
    let key = widget["data"]["wsRowIdColumn"].as_str().unwrap();
    assert!(rows.json()[0][key].is_string(), "{id}: rows keyed by {key}");
    let socket = widget["wsEndpoint"]
        .as_str()
        .unwrap()
        .trim_start_matches('/');
    let stream = std::net::TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(crate::support::TIMEOUT))
        .unwrap();
    let url = format!("ws://{}/{socket}", server.addr);
    let (mut socket, response) = tungstenite::client::client(url.as_str(), stream)
        .unwrap_or_else(|err| panic!("{id}: {url}: {err}"));
    assert_eq!(response.status(), 101, "{id}");
    let params: serde_json::Map<String, Value> = params_of(widget)
        .iter()
        .map(|p| {
            (
                p["paramName"].as_str().unwrap().to_string(),
                p["value"].clone(),
            )
        })
        .collect();
    let message = serde_json::json!({ "params": params }).to_string();
    socket.send(tungstenite::Message::text(message)).unwrap();
    socket.close(None).unwrap();
    loop {
        match socket.read() {
            Ok(_) => {}
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(err) => panic!("{id}: {err}"),
        }
    }
}

#[test]
fn every_bundled_widget_answers_in_its_shape() {
    let server = example_server();
    let widgets = server.get("/widgets.json").json();
    let widgets = widgets.as_object().unwrap();
    let types: std::collections::BTreeSet<&str> = widgets
        .values()
        .map(|w| w["type"].as_str().unwrap_or("table"))
        .collect();
    for expected in [
        "table",
        "markdown",
        "html",
        "metric",
        "newsfeed",
        "chart",
        "chart-highcharts",
        "chart-vegalite",
        "youtube",
        "pdf",
        "multi_file_viewer",
        "omni",
        "ssrm_table",
        "advanced_charting",
        "live_grid",
    ] {
        assert!(
            types.contains(expected),
            "the example has no {expected} widget"
        );
    }
    for (id, widget) in widgets {
        assert!(
            widget["name"].is_string() && widget["description"].is_string(),
            "{id}"
        );
        assert!(
            widget.get("backend").is_none(),
            "{id}: server-side key leaked"
        );
        check_widget(&server, id, widget);
    }
    let info = server.get("/").json();
    assert_eq!(info["problems"], serde_json::json!([]), "{info}");
}

#[test]
fn every_bundled_options_endpoint_answers() {
    let server = example_server();
    let widgets = server.get("/widgets.json").json();
    let mut seen = 0;
    for (id, widget) in widgets.as_object().unwrap() {
        for param in params_of(widget) {
            let Some(endpoint) = param["optionsEndpoint"].as_str() else {
                continue;
            };
            // optionsParams are resolved against the widget's default values, as Workspace does.
            let query: Vec<String> = param["optionsParams"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(key, value)| {
                    let value = value.as_str().unwrap();
                    let resolved = match value.strip_prefix('$') {
                        Some(other) => params_of(widget)
                            .into_iter()
                            .find(|p| p["paramName"] == other)
                            .and_then(|p| p["value"].as_str().map(str::to_string))
                            .unwrap(),
                        None => value.to_string(),
                    };
                    format!("{key}={}", resolved.replace(' ', "%20"))
                })
                .collect();
            let reply = server.get(&format!("/{endpoint}?{}", query.join("&")));
            assert_eq!(reply.status, 200, "{id}: {endpoint}: {reply:?}");
            let options = reply.json();
            let options = options.as_array().unwrap();
            assert!(!options.is_empty(), "{id}: {endpoint}");
            for option in options {
                assert!(
                    option["label"].is_string() && !option["value"].is_null(),
                    "{id}: {option}"
                );
            }
            if let Some(default) = param["value"].as_str() {
                assert!(
                    options.iter().any(|o| o["value"] == default),
                    "{id}: the default {default} is not among the options of {endpoint}"
                );
            }
            seen += 1;
        }
    }
    assert!(seen >= 5, "only {seen} options endpoints");
    let energy = server.get("/options/holdings?sector=Energy").json();
    assert_eq!(
        energy,
        serde_json::json!([{"label": "Chevron Corp.", "value": "CVX"},
                           {"label": "Exxon Mobil Corp.", "value": "XOM"}])
    );
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
