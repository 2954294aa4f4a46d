use super::*;
use crate::validate::Problem;

/// Parses a manifest, giving entries the `name` and `description` Workspace requires when
/// they lack them, so that each test shows only the rule it is about.
fn parse(text: &[u8]) -> Manifest {
    let mut document: Value = serde_json::from_slice(text).unwrap();
    for entry in document.as_object_mut().unwrap().values_mut() {
        if let Some(entry) = entry.as_object_mut() {
            for key in ["name", "description"] {
                entry.entry(key).or_insert_with(|| Value::from(key));
            }
        }
    }
    Manifest::parse(Some(&serde_json::to_vec(&document).unwrap())).unwrap()
}

fn lines(problems: &[Problem]) -> Vec<String> {
    problems.iter().map(|p| p.line.clone()).collect()
}

fn served(manifest: &Manifest) -> Value {
    serde_json::from_slice(&manifest.served.bytes).unwrap()
}

#[test]
fn backend_keys_are_removed_and_order_kept() {
    let manifest = parse(
        br#"{"z": {"name": "Z", "endpoint": "/z", "backend": {"file": "a/z.csv"}},
             "a": {"name": "A", "endpoint": "a?x=1", "type": "table"}}"#,
    );
    assert!(manifest.problems.is_empty(), "{:?}", manifest.problems);
    let text = std::str::from_utf8(&manifest.served.bytes).unwrap();
    assert!(!text.contains("backend"));
    assert!(text.find("\"z\"").unwrap() < text.find("\"a\"").unwrap());
    assert_eq!(
        manifest.widget_at("z").unwrap().kind,
        Kind::Table(Source {
            file: Some("a/z.csv".into()),
            ttl: None,
            reading: Default::default(),
        })
    );
    assert_eq!(manifest.widget_at("a").unwrap().id, "a");
    assert_eq!(manifest.widget_count(), 2);
}

#[test]
fn bad_entries_are_left_out_and_reported() {
    let manifest = parse(
        br#"{"ok": {"name": "Ok", "endpoint": "ok"},
             "no_endpoint": {"name": "X"},
             "escape": {"endpoint": "../etc/passwd"},
             "bad_file": {"endpoint": "f", "backend": {"file": "../secret.csv"}},
             "typo": {"endpoint": "t", "backend": {"fiel": "t.csv"}},
             "bad_rule": {"endpoint": "r", "backend": {"filters": {"p": 5}}},
             "reserved": {"endpoint": "/widgets.json"},
             "probe": {"endpoint": "health"},
             "twin": {"endpoint": "ok", "backend": {"file": "other.csv"}},
             "scalar": 3}"#,
    );
    assert_eq!(
        served(&manifest),
        serde_json::json!({"ok": {"name": "Ok", "endpoint": "ok", "description": "description"}})
    );
    let problems = lines(&manifest.problems).join("\n");
    for expected in [
        "no_endpoint: endpoint:",
        "escape: endpoint:",
        "bad_file: backend.file:",
        "typo: backend: unknown field `fiel`",
        "bad_rule: backend.filters:",
        "reserved: endpoint:",
        "probe: endpoint: 'health' is a path the server answers itself",
        "twin: endpoint: 'ok' is already served by widget 'ok'",
        "scalar: widget:",
    ] {
        assert!(
            problems.contains(expected),
            "missing {expected:?} in\n{problems}"
        );
    }
}

#[test]
fn a_widget_lists_at_most_twenty_problems() {
    let columns: Vec<Value> = (0..30).map(|i| serde_json::json!({"field": i})).collect();
    let entry = serde_json::json!({"wide": {"name": "W", "description": "d", "endpoint": "w",
        "data": {"table": {"columnsDefs": columns}}}});
    let manifest = Manifest::parse(Some(entry.to_string().as_bytes())).unwrap();
    assert_eq!(manifest.problems.len(), 21);
    assert_eq!(
        manifest.problems[20].line,
        "wide: and 40 more problems like these"
    );
}

#[test]
fn widgets_breaking_workspace_rules_are_left_out_with_every_reason() {
    let manifest = Manifest::parse(Some(
        br#"{"good": {"name": "G", "description": "d", "endpoint": "g",
                      "data": {"table": {"columnsDefs": [{"field": "a", "headerName": "A", "cellDataType": "number"}]}}},
             "broken": {"name": "B", "endpoint": "b", "type": "tabel", "gridData": {"w": 50, "h": 8},
                        "data": {"table": {"columnsDefs": [{"field": "a", "formatterFn": "money"}]}}}}"#,
    ))
    .unwrap();
    assert_eq!(manifest.widget_count(), 1);
    assert!(manifest.widget_at("g").is_some());
    assert_eq!(
        lines(&manifest.problems),
        [
            "broken: description: required, as a string",
            "broken: type: \"tabel\" is not a widget type Workspace knows (advanced_charting, chart, chart-highcharts, chart-vegalite, file_viewer, html, iframe, live_grid, markdown, metric, multi_file_viewer, newsfeed, note, rich_note, omni, pdf, table, ssrm_table, ssrm_advanced, youtube)",
            "broken: gridData.w: warning: 50 is outside 1 to 40",
            "broken: data.table.columnsDefs[0].headerName: required, as a string",
            "broken: data.table.columnsDefs[0].formatterFn: \"money\" is not one of int, none, percent, normalized, normalizedPercent, dateToYear"
        ]
    );
}

#[test]
fn a_file_that_is_not_an_object_fails_whole() {
    assert!(
        Manifest::parse(Some(b"[]"))
            .unwrap_err()
            .contains("expected an object")
    );
    assert!(
        Manifest::parse(Some(b"{\n\"a\": "))
            .unwrap_err()
            .starts_with("widgets.json: line 2")
    );
    assert!(Manifest::parse(None).is_err());
}

#[test]
fn filters_parse_into_rules() {
    let manifest = parse(
        br#"{"p": {"endpoint": "p", "backend": {"filters": {
            "symbol": "ticker", "since": {"column": "date", "op": "gte"}, "theme": null}}}}"#,
    );
    let widget = manifest.widget_at("p").unwrap();
    assert_eq!(widget.filters.len(), 3);
    assert_eq!(
        widget.filters[0],
        ("symbol".into(), Some(Rule::Column("ticker".into())))
    );
    assert_eq!(widget.filters[2], ("theme".into(), None));
}

#[test]
fn types_take_their_own_backend_keys() {
    let manifest = parse(
        br#"{"md": {"endpoint": "md", "type": "markdown", "backend": {"file": "r/{ticker}.md"},
                    "params": [{"paramName": "ticker", "value": "AAPL"}]},
             "m": {"endpoint": "m", "type": "metric", "backend": {"file": "p.csv", "column": "close", "label": "Close"}},
             "pdf": {"endpoint": "pdf", "type": "pdf", "backend": {"mode": "url"}},
             "mfv": {"endpoint": "mfv", "type": "multi_file_viewer",
                     "params": [[{"paramName": "names", "type": "endpoint", "roles": ["fileSelector"], "optionsEndpoint": "mfv/files"}]]},
             "folder_on_table": {"endpoint": "t", "backend": {"folder": "x"}},
             "column_on_chart": {"endpoint": "c", "type": "chart", "backend": {"column": "x"}},
             "bad_mode": {"endpoint": "p2", "type": "pdf", "backend": {"mode": "fax"}},
             "bad_placeholder": {"endpoint": "b", "type": "markdown", "backend": {"file": "r/{ti cker}.md"}},
             "open_brace": {"endpoint": "b2", "type": "markdown", "backend": {"file": "r/{ticker.md"}},
             "escaping_folder": {"endpoint": "n", "type": "newsfeed", "backend": {"folder": "../notes"}},
             "file_and_folder": {"endpoint": "n2", "type": "newsfeed", "backend": {"file": "n.csv", "folder": "notes"}},
             "label_alone": {"endpoint": "m2", "type": "metric", "backend": {"label": "Close"}},
             "no_selector": {"endpoint": "x", "type": "multi_file_viewer"},
             "files_prefix": {"endpoint": "files/a.pdf", "type": "pdf"},
             "path_param": {"endpoint": "r/{t}", "params": [{"paramName": "t"}]},
             "http_like": {"endpoint": "http_log"}}"#,
    );
    let problems = lines(&manifest.problems).join("\n");
    for expected in [
        "folder_on_table: backend: 'folder' does not apply to a table widget",
        "column_on_chart: backend: 'column' does not apply to a chart widget",
        "bad_mode: backend: unknown variant `fax`",
        "bad_placeholder: backend.file: 'r/{ti cker}.md': bad placeholder",
        "open_brace: backend.file:",
        "escaping_folder: backend.folder:",
        "file_and_folder: backend: a newsfeed reads backend.file or backend.folder (of notes), not both",
        "label_alone: backend.label: needs backend.column",
        "no_selector: params: a multi_file_viewer needs an endpoint param",
        "files_prefix: endpoint: 'files/a.pdf' is a path the server answers itself",
        "path_param: endpoint: 'r/{t}': openbb-files does not serve {param} placeholders",
        "http_like: endpoint: 'http_log': Workspace reads an endpoint beginning with \"http\"",
    ] {
        assert!(
            problems.contains(expected),
            "missing {expected:?} in\n{problems}"
        );
    }
    assert_eq!(manifest.widget_count(), 4, "{problems}");
    let file = |name: &str| Source {
        file: Some(name.into()),
        ttl: None,
        reading: Default::default(),
    };
    assert_eq!(
        manifest.widget_at("md").unwrap().kind,
        Kind::Markdown(file("r/{ticker}.md"))
    );
    assert_eq!(
        manifest.widget_at("m").unwrap().kind,
        Kind::Metric {
            source: file("p.csv"),
            tile: Some(Tile {
                column: "close".into(),
                label: Some("Close".into())
            })
        }
    );
    assert_eq!(
        manifest.widget_at("pdf").unwrap().kind,
        Kind::Pdf {
            source: Source {
                file: None,
                ttl: None,
                reading: Default::default(),
            },
            mode: PdfMode::Url
        }
    );
    assert_eq!(
        manifest.widget_at("mfv").unwrap().kind,
        Kind::MultiFileViewer {
            folder: "mfv".into(),
            file_param: "names".into()
        },
        "the folder defaults to the endpoint"
    );
    assert_eq!(
        manifest.options_at("mfv/files").unwrap().source,
        OptionsSource::Folder {
            folder: "mfv".into(),
            extension: None,
            stems: false,
        }
    );
}

#[test]
fn options_endpoints_come_from_params() {
    let manifest = parse(
        br#"{"a": {"endpoint": "a", "params": [
                {"paramName": "ticker", "type": "endpoint", "optionsEndpoint": "/options/tickers?x=1"},
                {"paramName": "sector", "type": "endpoint", "optionsEndpoint": "options/sectors"}],
              "backend": {"options": {"ticker": {"file": "h.csv", "column": "ticker", "label": "name"},
                                      "sector": {"file": "sectors.json"}}}},
             "b": {"endpoint": "b", "params": [{"paramName": "t", "type": "endpoint", "optionsEndpoint": "options/tickers"}],
                   "backend": {"options": {"t": {"file": "h.csv", "column": "ticker", "label": "name"}}}},
             "clash": {"endpoint": "c", "params": [{"paramName": "t", "type": "endpoint", "optionsEndpoint": "options/tickers"}],
                       "backend": {"options": {"t": {"file": "other.csv", "column": "ticker"}}}},
             "on_widget": {"endpoint": "d", "params": [{"paramName": "t", "type": "endpoint", "optionsEndpoint": "a"}],
                           "backend": {"options": {"t": {"file": "h.csv", "column": "x"}}}},
             "takes_options": {"endpoint": "options/sectors"},
             "no_param": {"endpoint": "e", "backend": {"options": {"nope": {"file": "h.csv"}}}},
             "no_endpoint": {"endpoint": "f", "params": [{"paramName": "t", "type": "text"}],
                             "backend": {"options": {"t": {"file": "h.csv"}}}}}"#,
    );
    assert_eq!(
        manifest.options_at("options/tickers").unwrap().source,
        OptionsSource::Column {
            file: "h.csv".into(),
            column: "ticker".into(),
            label: Some("name".into()),
            reading: Default::default(),
        }
    );
    assert_eq!(
        manifest.options_at("options/sectors").unwrap().source,
        OptionsSource::Static {
            file: "sectors.json".into()
        }
    );
    assert!(
        manifest.widget_at("b").is_some(),
        "same options, same endpoint: fine"
    );
    let problems = lines(&manifest.problems).join("\n");
    for expected in [
        "clash: backend.options: options endpoint 'options/tickers' is already answered otherwise (by widget 'a')",
        "on_widget: backend.options: options endpoint 'a'",
        "takes_options: endpoint: 'options/sectors' is already an options endpoint of widget 'a'",
        "no_param: backend.options: 'nope' is not a param of this widget",
        "no_endpoint: backend.options: 't': optionsEndpoint: required",
    ] {
        assert!(
            problems.contains(expected),
            "missing {expected:?} in\n{problems}"
        );
    }
}

#[test]
fn large_and_chart_types_take_both_spellings() {
    let manifest = parse(
        br#"{"s1": {"endpoint": "s1", "type": "table_ssrm", "backend": {"filters": {"p": "c"}}},
             "s2": {"endpoint": "s2", "type": "ssrm_table"},
             "a1": {"endpoint": "udf", "type": "advanced_charting", "backend": {"file": "p.csv"}},
             "a2": {"endpoint": "feeds/x", "type": "advanced-chart"},
             "no_filters": {"endpoint": "a3", "type": "advanced_charting", "backend": {"filters": {}}},
             "options_below": {"endpoint": "o", "params": [{"paramName": "t", "type": "endpoint", "optionsEndpoint": "udf/tickers"}],
                               "backend": {"options": {"t": {"file": "h.csv", "column": "t"}}}},
             "socket_below": {"endpoint": "q", "type": "live_grid", "wsEndpoint": "udf/ws",
                              "data": {"wsRowIdColumn": "id"}},
             "beside": {"endpoint": "udf/extra"}}"#,
    );
    let problems = lines(&manifest.problems).join("\n");
    for expected in [
        "no_filters: backend: 'filters' does not apply",
        "options_below: backend.options: options endpoint 'udf/tickers' is already answered otherwise (by widget 'a1')",
        "socket_below: wsEndpoint: 'udf/ws' is already answered otherwise (by widget 'a1')",
    ] {
        assert!(
            problems.contains(expected),
            "missing {expected:?} in\n{problems}"
        );
    }
    assert!(
        manifest.widget_at("udf/extra").is_some(),
        "an endpoint below a chart's is the widget's (the router asks it first)"
    );
    for (path, id, widget_type) in [
        ("s1", "s1", Type::Ssrm),
        ("s2", "s2", Type::Ssrm),
        ("udf", "a1", Type::AdvancedChart),
        ("feeds/x", "a2", Type::AdvancedChart),
    ] {
        let widget = manifest.widget_at(path).unwrap();
        let found = (widget.id.as_str(), widget.kind.widget_type());
        assert_eq!(found, (id, widget_type), "{path}");
    }
    assert!(Type::Ssrm.takes_post() && !Type::AdvancedChart.takes_post());
    assert!(Type::AdvancedChart.has_routes_below() && !Type::Ssrm.has_routes_below());
}

#[test]
fn a_file_may_be_a_remote_url_with_a_ttl() {
    let manifest = parse(
        br#"{"r": {"endpoint": "r", "backend": {"file": "http://example.com/p.csv?t={ticker}", "ttl": 30},
                   "params": [{"paramName": "ticker"}]},
             "ttl_local": {"endpoint": "l", "backend": {"file": "p.csv", "ttl": 30}},
             "ttl_on_omni": {"endpoint": "o", "type": "omni", "backend": {"ttl": 30}},
             "bad_url": {"endpoint": "b", "backend": {"file": "http://x/{a b}"}}}"#,
    );
    let source = manifest.widget_at("r").unwrap().kind.source().unwrap();
    assert_eq!(source.ttl, Some(std::time::Duration::from_secs(30)));
    let problems = lines(&manifest.problems).join("\n");
    for expected in [
        "ttl_local: backend.ttl: applies to a remote backend.file",
        "ttl_on_omni: backend: 'ttl' does not apply to a omni widget",
        "bad_url: backend.file: 'http://x/{a b}': bad placeholder",
    ] {
        assert!(
            problems.contains(expected),
            "missing {expected:?} in\n{problems}"
        );
    }
}

#[test]
fn live_grids_need_a_socket_and_a_row_key() {
    let manifest = Manifest::parse(Some(
        br#"{"live": {"name": "Quotes", "description": "d", "endpoint": "quotes", "type": "live_grid", "wsEndpoint": "/ws/quotes",
                      "data": {"wsRowIdColumn": "symbol"}, "backend": {"filters": {"s": "symbol"}}},
             "no_socket": {"name": "N", "description": "d", "endpoint": "a", "type": "live_grid", "data": {"wsRowIdColumn": "id"}},
             "no_key": {"name": "N", "description": "d", "endpoint": "b", "type": "live_grid", "wsEndpoint": "ws/b"},
             "templated": {"name": "N", "description": "d", "endpoint": "c", "type": "live_grid", "wsEndpoint": "ws/c",
                           "data": {"wsRowIdColumn": "id"}, "backend": {"file": "{t}.csv"},
                           "params": [{"paramName": "t"}]},
             "same_socket": {"name": "N", "description": "d", "endpoint": "d", "type": "live_grid", "wsEndpoint": "ws/quotes",
                             "data": {"wsRowIdColumn": "id"}},
             "socket_on_endpoint": {"name": "N", "description": "d", "endpoint": "e", "type": "live_grid", "wsEndpoint": "quotes",
                                    "data": {"wsRowIdColumn": "id"}},
             "endpoint_on_socket": {"name": "N", "description": "d", "endpoint": "ws/quotes"},
             "composite": {"name": "N", "description": "d", "endpoint": "f", "type": "live_grid", "wsEndpoint": "ws/f",
                           "data": {"wsRowIdColumn": ["a", "b"]}},
             "empty_key": {"name": "N", "description": "d", "endpoint": "g", "type": "live_grid", "wsEndpoint": "ws/g",
                           "data": {"wsRowIdColumn": []}},
             "twice": {"name": "N", "description": "d", "endpoint": "h", "type": "live_grid", "wsEndpoint": "ws/h",
                       "data": {"wsRowIdColumn": ["a", "a"]}}}"#,
    ))
    .unwrap();
    let live = manifest.live_grid_at("ws/quotes").unwrap();
    assert_eq!(live.widget.id, "live");
    assert_eq!(live.socket.row_key, ["symbol"]);
    let composite = manifest.live_grid_at("ws/f").unwrap();
    assert_eq!(composite.socket.row_key, ["a", "b"]);
    assert_eq!(manifest.widget_at("quotes").unwrap().id, "live");
    assert!(!Type::LiveGrid.takes_post());
    assert_eq!(manifest.widget_count(), 2);
    let problems = lines(&manifest.problems).join("\n");
    for expected in [
        "no_socket: wsEndpoint: required",
        "no_key: data.wsRowIdColumn:",
        "templated: backend.file: a live_grid watches one file",
        "same_socket: wsEndpoint: 'ws/quotes' is already answered otherwise (by widget 'live')",
        "socket_on_endpoint: wsEndpoint: 'quotes' is already answered otherwise",
        "endpoint_on_socket: endpoint: 'ws/quotes' is already the wsEndpoint of widget 'live'",
        "empty_key: data.wsRowIdColumn: a live_grid needs the column",
        "twice: data.wsRowIdColumn: a live_grid needs the column",
    ] {
        assert!(problems.contains(expected), "{expected} in {problems}");
    }
}

#[test]
fn apps_are_served_as_an_array() {
    assert!(parse_apps(None).unwrap().is_none(), "no file");
    let served = |bytes: &[u8]| parse_apps(Some(bytes)).unwrap().unwrap().bytes;
    assert_eq!(&*served(br#"[{"name": "a"}]"#), br#"[{"name": "a"}]"#);
    assert_eq!(&*served(br#"{"name": "a"}"#), br#"[{"name": "a"}]"#);
    assert!(parse_apps(Some(b"3")).is_err());
    assert!(
        parse_apps(Some(b"["))
            .unwrap_err()
            .starts_with("apps.json: line 1")
    );
}
