//! Workspace's manifest rules, asked in process (`InProcess`): a broken widget among good ones is
//! left out of `/widgets.json` and listed at `/`, the good ones keep answering; data warnings keep
//! their widget; app layouts naming a widget that is not served lose that item.

use serde_json::{Value, json};

use crate::support::{Fixture, InProcess};

const WIDGETS: &str = r#"{
  "prices": {"name": "Prices", "description": "d", "endpoint": "prices",
             "data": {"table": {"columnsDefs": [{"field": "close", "headerName": "Close", "cellDataType": "number"},
                                                {"field": "volume", "headerName": "Volume"}]}}},
  "broken": {"name": "Broken", "description": "d", "endpoint": "broken", "type": "table",
             "gridData": {"w": 60, "h": 10},
             "params": [{"paramName": "t", "type": "endpoint"}],
             "data": {"table": {"columnsDefs": [{"field": "close", "headerName": "Close", "cellDataType": "float"}]}}},
  "later": {"name": "Later", "description": "d", "type": "markdown", "endpoint": "later"}
}"#;

const APPS: &str = r#"[{"name": "Desk", "allowCustomization": true, "tabs": {"t": {"id": "t", "name": "T",
  "layout": [{"i": "prices", "x": 0, "y": 2, "w": 20, "h": 9},
             {"i": "broken", "x": 20, "y": 2, "w": 20, "h": 9},
             {"i": "rich_note_1", "x": 0, "y": 11, "w": 20, "h": 9}]}}, "groups": []}]"#;

#[test]
fn one_broken_widget_is_left_out_and_the_others_keep_working() {
    let fixture = Fixture::new();
    fixture
        .write("widgets.json", WIDGETS)
        .write("apps.json", APPS)
        .write("data/prices.csv", "date,close\n2024-01-02,10\n");
    let server = InProcess::new(fixture);
    let manifest = server.get("/widgets.json").json();
    let ids: Vec<&str> = manifest
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(ids, ["prices", "later"]);
    assert_eq!(
        server.get("/prices").json(),
        json!([{"date": "2024-01-02", "close": 10}])
    );
    let problems = server.get("/").json()["problems"].clone();
    assert_eq!(
        problems,
        json!([
            "broken: gridData.w: warning: 60 is outside 1 to 40",
            "broken: params[0].optionsEndpoint: warning: an endpoint param without optionsEndpoint offers no choices",
            "broken: data.table.columnsDefs[0].cellDataType: \"float\" is not one of text, number, boolean, date, dateString, object",
            "prices: data.table.columnsDefs: warning: column 'volume' is not in data/prices.csv (date, close)",
            "later: backend.file: warning: data/later.md does not exist (yet)",
            "apps.json: [0].tabs.t.layout[1].i: warning: 'broken' is not a served widget; the item is left out"
        ])
    );
    let apps = server.get("/apps.json").json();
    let layout: Vec<&Value> = apps[0]["tabs"]["t"]["layout"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(
        layout
            .iter()
            .map(|item| item["i"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["prices", "rich_note_1"]
    );
    // The warning goes once the file appears; the widget was served all along.
    server.fixture.write("data/later.md", "# Later");
    assert_eq!(server.get("/later").json(), json!("# Later"));
    let problems = server.get("/").json()["problems"].to_string();
    assert!(!problems.contains("later"), "{problems}");
}
