//! Rule by rule, each rule of the front end's schemas (workspace-contract.md §0) with one entry
//! it accepts and one it refuses, and the field the refusal names.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::*;

/// A widget with the three required fields, and `extra` merged in.
fn widget_with(extra: Value) -> Map<String, Value> {
    let mut entry = json!({"name": "N", "description": "D", "endpoint": "e"});
    for (key, value) in extra.as_object().unwrap() {
        entry[key] = value.clone();
    }
    entry.as_object().unwrap().clone()
}

fn errors(issues: &[Issue]) -> Vec<&str> {
    issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .map(|i| i.field.as_str())
        .collect()
}

fn warnings(issues: &[Issue]) -> Vec<&str> {
    issues
        .iter()
        .filter(|i| i.severity == Severity::Warning)
        .map(|i| i.field.as_str())
        .collect()
}

/// `(rule, accepted, refused, field named)`: the extra keys of a widget.
fn widget_rules() -> Vec<(&'static str, Value, Value, &'static str)> {
    vec![
        (
            "name is a string",
            json!({"name": ""}),
            json!({"name": 3}),
            "name",
        ),
        (
            "description is required",
            json!({}),
            json!({"description": null}),
            "description",
        ),
        (
            "endpoint is a string",
            json!({"endpoint": "x/y"}),
            json!({"endpoint": ["x"]}),
            "endpoint",
        ),
        (
            "type is the front end's",
            json!({"type": "ssrm_table"}),
            json!({"type": "table_ssrm"}),
            "type",
        ),
        (
            "note is a type",
            json!({"type": "note"}),
            json!({"type": "live_feed"}),
            "type",
        ),
        (
            "type may be null",
            json!({"type": null}),
            json!({"type": 1}),
            "type",
        ),
        (
            "defaultViz is a type",
            json!({"defaultViz": "chart"}),
            json!({"defaultViz": "advanced-chart"}),
            "defaultViz",
        ),
        (
            "category is a string",
            json!({"category": "c"}),
            json!({"category": null}),
            "category",
        ),
        (
            "source: text or texts",
            json!({"source": ["a", "b"]}),
            json!({"source": [1]}),
            "source",
        ),
        (
            "showTitle: boolean or null",
            json!({"showTitle": null}),
            json!({"showTitle": "yes"}),
            "showTitle",
        ),
        (
            "runButton is a boolean",
            json!({"runButton": true}),
            json!({"runButton": "true"}),
            "runButton",
        ),
        (
            "raw is a boolean",
            json!({"raw": false}),
            json!({"raw": 0}),
            "raw",
        ),
        (
            "copilotParseAs",
            json!({"copilotParseAs": "structured"}),
            json!({"copilotParseAs": "json"}),
            "copilotParseAs",
        ),
        (
            "staleTime >= 1000 or false",
            json!({"staleTime": false}),
            json!({"staleTime": 999}),
            "staleTime",
        ),
        (
            "refetchInterval: cron",
            json!({"refetchInterval": "*/5 * * * *"}),
            json!({"refetchInterval": " "}),
            "refetchInterval",
        ),
        (
            "refetchInterval: null",
            json!({"refetchInterval": null}),
            json!({"refetchInterval": true}),
            "refetchInterval",
        ),
        (
            "dataUpdateDisplay: cron",
            json!({"dataUpdateDisplay": "0 9 * * *"}),
            json!({"dataUpdateDisplay": ""}),
            "dataUpdateDisplay",
        ),
        (
            "storage is an object",
            json!({"storage": {}}),
            json!({"storage": []}),
            "storage",
        ),
        (
            "gridData needs w",
            json!({"gridData": {"w": 50, "h": 0.5}}),
            json!({"gridData": {"h": 5}}),
            "gridData.w",
        ),
        (
            "gridData h is a number",
            json!({"gridData": {"w": 5, "h": 5}}),
            json!({"gridData": {"w": 5, "h": "5"}}),
            "gridData.h",
        ),
        (
            "groupById: text or null",
            json!({"groupById": null}),
            json!({"groupById": 1}),
            "groupById",
        ),
        (
            "data is an object",
            json!({"data": {}}),
            json!({"data": []}),
            "data",
        ),
        (
            "data.dataKey is a string",
            json!({"data": {"dataKey": "a.b"}}),
            json!({"data": {"dataKey": 1}}),
            "data.dataKey",
        ),
        (
            "wsRowIdColumn: a column or several",
            json!({"data": {"wsRowIdColumn": ["a", "b"]}}),
            json!({"data": {"wsRowIdColumn": 1}}),
            "data.wsRowIdColumn",
        ),
        (
            "table.showAll is a boolean",
            json!({"data": {"table": {"showAll": true}}}),
            json!({"data": {"table": {"showAll": null}}}),
            "data.table.showAll",
        ),
        (
            "table.transpose may be null",
            json!({"data": {"table": {"transpose": null}}}),
            json!({"data": {"table": {"transpose": "no"}}}),
            "data.table.transpose",
        ),
        (
            "table.period",
            json!({"data": {"table": {"period": ["1y"]}}}),
            json!({"data": {"table": {"period": "1y"}}}),
            "data.table.period",
        ),
        (
            "table.formatterFn",
            json!({"data": {"table": {"formatterFn": null}}}),
            json!({"data": {"table": {"formatterFn": "money"}}}),
            "data.table.formatterFn",
        ),
        (
            "chartView.enabled",
            json!({"data": {"table": {"chartView": {"enabled": true, "chartType": "line"}}}}),
            json!({"data": {"table": {"chartView": {"enabled": 1}}}}),
            "data.table.chartView.enabled",
        ),
    ]
}

fn column(extra: Value) -> Value {
    let mut column = json!({"field": "f", "headerName": "F"});
    for (key, value) in extra.as_object().unwrap() {
        column[key] = value.clone();
    }
    json!({"data": {"table": {"columnsDefs": [column]}}})
}

/// `(rule, accepted, refused, field named)`: the extra keys of one column.
fn column_rules() -> Vec<(&'static str, Value, Value, &'static str)> {
    let rule = |extra| extra;
    vec![
        (
            "headerName is required",
            rule(json!({})),
            rule(json!({"headerName": null})),
            "headerName",
        ),
        (
            "field is a string",
            rule(json!({"field": "x"})),
            rule(json!({"field": 1})),
            "field",
        ),
        (
            "cellDataType",
            rule(json!({"cellDataType": "dateString"})),
            rule(json!({"cellDataType": "string"})),
            "cellDataType",
        ),
        (
            "chartDataType",
            rule(json!({"chartDataType": "series"})),
            rule(json!({"chartDataType": null})),
            "chartDataType",
        ),
        (
            "formatterFn may be null",
            rule(json!({"formatterFn": null})),
            rule(json!({"formatterFn": "money"})),
            "formatterFn",
        ),
        (
            "decimalPlaces 0..6",
            rule(json!({"decimalPlaces": 6})),
            rule(json!({"decimalPlaces": 7})),
            "decimalPlaces",
        ),
        (
            "renderFn joined by commas",
            rule(json!({"renderFn": "greenRed, titleCase"})),
            rule(json!({"renderFn": "greenRed,bold"})),
            "renderFn",
        ),
        (
            "renderFn as an array",
            rule(json!({"renderFn": ["hoverCard"]})),
            rule(json!({"renderFn": [1]})),
            "renderFn",
        ),
        (
            "pinned",
            rule(json!({"pinned": true})),
            rule(json!({"pinned": "top"})),
            "pinned",
        ),
        (
            "align",
            rule(json!({"align": "center"})),
            rule(json!({"align": "middle"})),
            "align",
        ),
        (
            "width may be null",
            rule(json!({"width": null})),
            rule(json!({"width": "10px"})),
            "width",
        ),
        (
            "groupBy needs its param",
            rule(json!({"renderFnParams": {"actionType": "groupBy", "groupByParamName": "t"}})),
            rule(json!({"renderFnParams": {"actionType": "groupBy"}})),
            "renderFnParams.groupBy.paramName",
        ),
        (
            "sendToAgent needs markdown",
            rule(
                json!({"renderFnParams": {"actionType": "sendToAgent", "sendToAgent": {"markdown": "m"}}}),
            ),
            rule(json!({"renderFnParams": {"actionType": "sendToAgent"}})),
            "renderFnParams.sendToAgent.markdown",
        ),
        (
            "actionType",
            rule(json!({"renderFnParams": {"actionType": null}})),
            rule(json!({"renderFnParams": {"actionType": "openUrl"}})),
            "renderFnParams.actionType",
        ),
        (
            "colorRules colors",
            rule(
                json!({"renderFnParams": {"colorRules": [{"condition": "gt", "value": 0, "color": "#0f0"}]}}),
            ),
            rule(
                json!({"renderFnParams": {"colorRules": [{"condition": "gt", "value": 0, "color": "pink"}]}}),
            ),
            "renderFnParams.colorRules[0].color",
        ),
        (
            "between needs a range",
            rule(
                json!({"renderFnParams": {"colorRules": [{"condition": "between", "range": {"min": 0, "max": 1}, "color": "red"}]}}),
            ),
            rule(
                json!({"renderFnParams": {"colorRules": [{"condition": "between", "value": 1, "color": "red"}]}}),
            ),
            "renderFnParams.colorRules[0].range",
        ),
        (
            "other conditions need a value",
            rule(
                json!({"renderFnParams": {"colorRules": [{"condition": "contains", "value": "x", "color": "blue"}]}}),
            ),
            rule(json!({"renderFnParams": {"colorRules": [{"condition": "eq", "color": "blue"}]}})),
            "renderFnParams.colorRules[0].value",
        ),
        (
            "sparkline type",
            rule(json!({"sparkline": {"type": "bar"}})),
            rule(json!({"sparkline": {"type": "pie"}})),
            "sparkline.type",
        ),
        (
            "sparkline options need customFormatter",
            rule(json!({"sparkline": {"type": "line", "options": {"customFormatter": "f"}}})),
            rule(json!({"sparkline": {"type": "line", "options": {}}})),
            "sparkline.options.customFormatter",
        ),
    ]
}

fn params(list: Value) -> Value {
    json!({"params": list})
}

/// `(rule, accepted, refused, field named)`: a widget's params.
fn param_rules() -> Vec<(&'static str, Value, Value, &'static str)> {
    vec![
        (
            "paramName is required",
            params(json!([{"paramName": "a"}])),
            params(json!([{"type": "text"}])),
            "params[0].paramName",
        ),
        (
            "paramName is not empty",
            params(json!([{"paramName": "a", "type": "date"}])),
            params(json!([{"paramName": "", "type": "date"}])),
            "params[0].paramName",
        ),
        (
            "type is known",
            params(json!([{"paramName": "a", "type": "button"}])),
            params(json!([{"paramName": "a", "type": "slider"}])),
            "params[0].type",
        ),
        (
            "a null type is text",
            params(json!([{"paramName": "a", "type": null}])),
            params(json!([{"paramName": "a", "type": 5}])),
            "params[0].type",
        ),
        (
            "an empty type is no type",
            params(json!([{"paramName": "a"}])),
            params(json!([{"paramName": "a", "type": ""}])),
            "params[0].type",
        ),
        (
            "numeric text has a digit",
            params(json!([{"paramName": "a", "type": "number", "value": "-1."}])),
            params(json!([{"paramName": "a", "type": "number", "value": "-"}])),
            "params[0].value",
        ),
        (
            "rows of params",
            params(json!([[{"paramName": "a"}, {"paramName": "b"}]])),
            params(json!([[{"paramName": "a"}, "b"]])),
            "params[0][1].paramName",
        ),
        (
            "text value: a list becomes text",
            params(json!([{"paramName": "a", "value": ["x", "y"]}])),
            params(json!([{"paramName": "a", "type": "ticker", "value": ["x"]}])),
            "params[0].value",
        ),
        (
            "falsy values become null",
            params(json!([{"paramName": "a", "type": "date", "value": 0}])),
            params(json!([{"paramName": "a", "type": "date", "value": 5}])),
            "params[0].value",
        ),
        (
            "number: a number or numeric text",
            params(json!([{"paramName": "a", "type": "number", "value": "1.5"}])),
            params(json!([{"paramName": "a", "type": "number", "value": "one"}])),
            "params[0].value",
        ),
        (
            "boolean value",
            params(json!([{"paramName": "a", "type": "boolean", "value": true}])),
            params(json!([{"paramName": "a", "type": "boolean", "value": "true"}])),
            "params[0].value",
        ),
        (
            "endpoint value may be anything",
            params(
                json!([{"paramName": "a", "type": "endpoint", "value": ["x", 1], "optionsEndpoint": "o"}]),
            ),
            params(json!([{"paramName": "a", "type": "endpoint", "optionsEndpoint": 1}])),
            "params[0].optionsEndpoint",
        ),
        (
            "multiple only on text",
            params(json!([{"paramName": "a", "multiple": true}])),
            params(
                json!([{"paramName": "a", "type": "endpoint", "multiple": true, "options": []}]),
            ),
            "params[0].multiple",
        ),
        (
            "options need labels",
            params(json!([{"paramName": "a", "options": [{"label": "A", "value": null}]}])),
            params(json!([{"paramName": "a", "options": [{"value": "A"}]}])),
            "params[0].options[0].label",
        ),
        (
            "option values are scalars",
            params(json!([{"paramName": "a", "options": [{"label": "A", "value": 1}]}])),
            params(json!([{"paramName": "a", "options": [{"label": "A", "value": [1]}]}])),
            "params[0].options[0].value",
        ),
        (
            "tabs options are text",
            params(
                json!([{"paramName": "a", "type": "tabs", "options": [{"label": "A", "value": "a"}]}]),
            ),
            params(
                json!([{"paramName": "a", "type": "tabs", "options": [{"label": "A", "value": 1}]}]),
            ),
            "params[0].options[0].value",
        ),
        (
            "language",
            params(json!([{"paramName": "a", "language": "sql"}])),
            params(json!([{"paramName": "a", "language": "rust"}])),
            "params[0].language",
        ),
        (
            "popupWidth 100..1000",
            params(json!([{"paramName": "a", "style": {"popupWidth": 100}}])),
            params(json!([{"paramName": "a", "style": {"popupWidth": 50}}])),
            "params[0].style.popupWidth",
        ),
        (
            "hidden is a boolean",
            params(json!([{"paramName": "a", "hidden": true}])),
            params(json!([{"paramName": "a", "hidden": null}])),
            "params[0].hidden",
        ),
        (
            "roles are strings",
            params(json!([{"paramName": "a", "roles": ["r"]}])),
            params(json!([{"paramName": "a", "roles": "r"}])),
            "params[0].roles",
        ),
        (
            "one fileSelector",
            params(json!([{"paramName": "a", "roles": ["fileSelector"]}])),
            params(
                json!([{"paramName": "a", "roles": ["fileSelector"]}, {"paramName": "b", "roles": ["fileSelector"]}]),
            ),
            "params",
        ),
        (
            "a form needs no paramName",
            params(json!([{"type": "form", "endpoint": "f", "method": "PUT"}])),
            params(json!([{"type": "form", "method": "GET"}])),
            "params[0].method",
        ),
        (
            "form inputs are input types",
            params(
                json!([{"type": "form", "inputParams": [{"paramName": "go", "type": "button"}]}]),
            ),
            params(json!([{"type": "form", "inputParams": [{"paramName": "t", "type": "tabs"}]}])),
            "params[0].inputParams[0].type",
        ),
        (
            "form inputs need names",
            params(json!([{"type": "form", "inputParams": [{"paramName": "x"}]}])),
            params(json!([{"type": "form", "inputParams": [{"type": "text"}]}])),
            "params[0].inputParams[0].paramName",
        ),
    ]
}

#[test]
fn each_rule_of_the_widget_schema_accepts_and_refuses() {
    let rules = widget_rules()
        .into_iter()
        .chain(
            column_rules()
                .into_iter()
                .map(|(rule, ok, bad, field)| (rule, column(ok), column(bad), field)),
        )
        .chain(param_rules());
    for (rule, accepted, refused, field) in rules {
        let issues = widget(&widget_with(accepted.clone()));
        assert_eq!(errors(&issues), Vec::<&str>::new(), "{rule}: {accepted}");
        let issues = widget(&widget_with(refused.clone()));
        let named = errors(&issues);
        assert!(
            named.iter().any(|f| f.ends_with(field)),
            "{rule}: {refused} should be refused at {field}, got {named:?}"
        );
    }
}

#[test]
fn a_multi_file_viewer_needs_an_endpoint_file_selector() {
    let selector = json!([{"paramName": "f", "type": "endpoint", "roles": ["fileSelector"],
                           "optionsEndpoint": "o"}]);
    let ok = widget_with(json!({"type": "multi_file_viewer", "params": selector}));
    assert!(errors(&widget(&ok)).is_empty());
    let text = json!([{"paramName": "f", "type": "text", "roles": ["fileSelector"]}]);
    let bad = widget_with(json!({"type": "multi_file_viewer", "params": text}));
    assert_eq!(errors(&widget(&bad)), ["params"]);
    let by_default_viz = widget_with(json!({"defaultViz": "multi_file_viewer"}));
    assert_eq!(errors(&widget(&by_default_viz)), ["params"]);
}

#[test]
fn what_the_front_end_accepts_but_a_user_should_hear_of_is_a_warning() {
    let entry = widget_with(json!({
        "columnsDefs": [], "backend": {}, "mcp_tool": {}, "searchCategory": "x",
        "gridData": {"w": 60, "h": 5},
        "params": [{"paramName": "t", "type": "endpoint"}],
        "data": {"columnsDefs": []}
    }));
    let issues = widget(&entry);
    assert!(errors(&issues).is_empty(), "{issues:?}");
    assert_eq!(
        warnings(&issues),
        [
            "gridData.w",
            "params[0].optionsEndpoint",
            "data.columnsDefs",
            "columnsDefs"
        ]
    );
    let loose = widget(&widget_with(json!({"params": {"a": 1}})));
    assert_eq!(
        warnings(&loose),
        ["params"],
        "a non-array is read as no params"
    );
}

#[test]
fn spellings_and_types() {
    assert_eq!(canonical_type("table_ssrm"), Some("ssrm_table"));
    assert_eq!(canonical_type("advanced-chart"), Some("advanced_charting"));
    assert_eq!(canonical_type("ssrm_table"), None);
    assert_eq!(type_of(&widget_with(json!({}))), "table");
    assert_eq!(type_of(&widget_with(json!({"defaultViz": "pdf"}))), "pdf");
    assert_eq!(
        type_of(&widget_with(json!({"type": "html", "defaultViz": "pdf"}))),
        "html"
    );
}

#[test]
fn params_are_normalized_as_the_front_end_does() {
    let entry = widget_with(json!({"params": [
        {"paramName": "date", "value": ""},
        [{"paramName": "n", "type": "number", "value": "12abc"}, {"paramName": "t", "value": [1, "b"]}],
        {"paramName": "off", "type": "boolean", "value": false, "label": null}
    ]}));
    let normalized: Vec<Value> = normalized_params(&entry)
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    assert_eq!(normalized[0]["type"], "date");
    assert_eq!(normalized[0]["value"], Value::Null);
    assert_eq!(normalized[1]["value"], 12.0);
    assert_eq!(normalized[2]["value"], "1,b");
    assert_eq!(normalized[3]["value"], Value::Null);
    assert_eq!(normalized[3]["label"], "off");
}

/// `(rule, accepted, refused, field named)`: the extra keys of an app.
fn app_rules() -> Vec<(&'static str, Value, Value, &'static str)> {
    let layout = |item: Value| json!({"tabs": {"t": {"id": "t", "name": "T", "layout": [item]}}});
    vec![
        (
            "name is required",
            json!({"name": "A"}),
            json!({"name": null}),
            "name",
        ),
        (
            "id begins custom-",
            json!({"id": "custom-x"}),
            json!({"id": "desk"}),
            "id",
        ),
        (
            "id goes on after custom-",
            json!({"id": "custom-1"}),
            json!({"id": "custom-"}),
            "id",
        ),
        (
            "tabs is an object",
            json!({"tabs": {}}),
            json!({"tabs": []}),
            "tabs",
        ),
        (
            "a tab has a name",
            json!({"tabs": {"t": {"id": "t", "name": "T", "layout": []}}}),
            json!({"tabs": {"t": {"id": "t", "layout": []}}}),
            "tabs.t.name",
        ),
        (
            "a tab has a layout",
            json!({"tabs": {"t": {"id": "t", "name": "T", "layout": []}}}),
            json!({"tabs": {"t": {"id": "t", "name": "T"}}}),
            "tabs.t.layout",
        ),
        (
            "layout numbers",
            layout(json!({"i": "w", "x": 0, "y": 0, "w": 4, "h": 4})),
            layout(json!({"i": "w", "x": 0, "y": "0", "w": 4, "h": 4})),
            "tabs.t.layout[0].y",
        ),
        (
            "layout item i",
            layout(json!({"i": "w", "x": 0, "y": 0, "w": 4, "h": 4})),
            layout(json!({"x": 0, "y": 0, "w": 4, "h": 4})),
            "tabs.t.layout[0].i",
        ),
        (
            "layout state",
            layout(
                json!({"i": "w", "x": 0, "y": 0, "w": 4, "h": 4, "state": {"params": {"a": 1}}}),
            ),
            layout(json!({"i": "w", "x": 0, "y": 0, "w": 4, "h": 4, "state": {"params": []}})),
            "tabs.t.layout[0].state.params",
        ),
        (
            "layout groups are names",
            layout(json!({"i": "w", "x": 0, "y": 0, "w": 4, "h": 4, "groups": ["G"]})),
            layout(json!({"i": "w", "x": 0, "y": 0, "w": 4, "h": 4, "groups": "G"})),
            "tabs.t.layout[0].groups",
        ),
        (
            "groups need a type",
            json!({"groups": [{"name": "G", "type": "endpointParam"}]}),
            json!({"groups": [{"name": "G"}]}),
            "groups[0].type",
        ),
        (
            "widgetIds on every group or none",
            json!({"groups": [{"name": "G", "type": "t", "widgetIds": ["a"]}]}),
            json!({"groups": [{"name": "G", "type": "t", "widgetIds": ["a"]}, {"name": "H", "type": "t"}]}),
            "groups[1].widgetIds",
        ),
        (
            "prompts are strings",
            json!({"prompts": ["p"]}),
            json!({"prompts": [1]}),
            "prompts",
        ),
        (
            "mcpServers need a URL",
            json!({"mcpServers": [{"name": "m", "url": "https://m.example/mcp"}]}),
            json!({"mcpServers": [{"name": "m", "url": "m.example"}]}),
            "mcpServers[0].url",
        ),
        (
            "mcp_servers is read as mcpServers",
            json!({"mcp_servers": [{"name": "m", "url": "http://x", "authType": "token"}]}),
            json!({"mcp_servers": [{"name": "m", "url": "http://x", "authType": "basic"}]}),
            "mcpServers[0].authType",
        ),
        (
            "allowCustomization is a boolean",
            json!({"allowCustomization": true}),
            json!({"allowCustomization": "yes"}),
            "allowCustomization",
        ),
    ]
}

fn app_with(extra: Value) -> Value {
    let mut app = json!({"name": "A", "tabs": {}});
    for (key, value) in extra.as_object().unwrap() {
        app[key] = value.clone();
    }
    app
}

#[test]
fn each_rule_of_the_app_schema_accepts_and_refuses() {
    for (rule, accepted, refused, field) in app_rules() {
        let mut document = json!([app_with(accepted.clone())]);
        let issues = apps(&mut document, &HashSet::from(["w"]));
        assert_eq!(errors(&issues), Vec::<&str>::new(), "{rule}: {accepted}");
        assert_eq!(document.as_array().unwrap().len(), 1, "{rule}: kept");
        let mut document = json!([app_with(refused.clone())]);
        let issues = apps(&mut document, &HashSet::from(["w"]));
        let named = errors(&issues);
        assert!(
            named.iter().any(|f| f.ends_with(field)),
            "{rule}: {refused} should be refused at {field}, got {named:?}"
        );
        assert!(document.as_array().unwrap().is_empty(), "{rule}: left out");
    }
}

#[test]
fn a_failing_app_is_left_out_on_its_own() {
    let mut document = json!([
        {"name": "Good", "tabs": {"t": {"id": "t", "name": "T", "layout": [
            {"i": "a", "x": 0, "y": 0, "w": 20, "h": 5},
            {"i": "gone", "x": 20, "y": 0, "w": 20, "h": 5},
            {"i": "rich_note_1", "x": 0, "y": 5, "w": 10, "h": 5},
            {"i": "a", "x": 30, "y": 5, "w": 20, "h": 5}]}}, "extra": 1},
        {"name": "Bad", "tabs": {"t": {"id": "t", "name": "T", "layout": [{"i": "a"}]}}}
    ]);
    let issues = apps(&mut document, &HashSet::from(["a"]));
    let lines: Vec<String> = issues.iter().map(|i| i.line("apps.json")).collect();
    assert_eq!(
        lines,
        [
            "apps.json: [0].extra: warning: not a key Workspace knows (it shows an \"unrecognized\" warning)",
            "apps.json: [0].tabs.t.layout[1].i: warning: 'gone' is not a served widget; the item is left out",
            "apps.json: [0].tabs.t.layout[3]: warning: x + w must stay within the 40-column grid",
            "apps.json: [1].tabs.t.layout[0].x: required, as a number",
            "apps.json: [1].tabs.t.layout[0].y: required, as a number",
            "apps.json: [1].tabs.t.layout[0].w: required, as a number",
            "apps.json: [1].tabs.t.layout[0].h: required, as a number",
            "apps.json: [1]: this app is left out",
        ]
    );
    let served = document.as_array().unwrap();
    assert_eq!(served.len(), 1);
    assert_eq!(
        served[0]["tabs"]["t"]["layout"].as_array().unwrap().len(),
        3
    );
}

#[test]
fn data_columns_are_warnings() {
    let named = [
        (
            "data.table.columnsDefs[0].field".to_string(),
            "Close".to_string(),
        ),
        ("backend.filters.since".to_string(), "day".to_string()),
    ];
    let header = ["date".to_string(), "close".to_string()];
    let issues = data_columns("data/p.csv", &header, &named);
    assert_eq!(issues.len(), 1);
    assert_eq!(
        issues[0].line("p"),
        "p: backend.filters.since: warning: column 'day' is not in data/p.csv (date, close)"
    );
}

#[test]
fn wide_files_are_checked_by_hash_and_named_in_short() {
    let header: Vec<String> = (0..100_000).map(|i| format!("c{i}")).collect();
    let mut named: Vec<(String, String)> = header
        .iter()
        .map(|c| ("field".to_string(), c.to_ascii_uppercase()))
        .collect();
    named.push(("field".to_string(), "gone".to_string()));
    let started = std::time::Instant::now();
    let issues = data_columns("data/wide.csv", &header, &named);
    let took = started.elapsed();
    assert!(took.as_secs() < 2, "{took:?}");
    assert_eq!(issues.len(), 1);
    assert_eq!(
        issues[0].line("w"),
        format!(
            "w: field: warning: column 'gone' is not in data/wide.csv ({}, and 99980 more)",
            header[..20].join(", ")
        )
    );
}
