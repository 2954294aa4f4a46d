//! table_ssrm, asked in process (`InProcess`): windows and row counts, sorting, AG Grid filters and
//! the widget's own params together, both type spellings, bad bodies, and a file that changes.

use serde_json::{Value, json};

use crate::support::{Fixture, InProcess};

/// 250 rows over four tickers, with a few blank closes.
fn fixture() -> Fixture {
    let fixture = Fixture::new();
    let mut csv = String::from("id,date,ticker,close,volume\n");
    for id in 0..250 {
        let ticker = ["AAPL", "MSFT", "NVDA", "XOM"][id % 4];
        let close = match id % 17 {
            0 => String::new(),
            n => format!("{}.{}", 100 + (id * 37) % 90, n),
        };
        let date = format!("2024-{:02}-{:02}", 1 + id % 12, 1 + id % 28);
        csv.push_str(&format!(
            "{id},{date},{ticker},{close},{}\n",
            1000 + id * 7 % 500
        ));
    }
    fixture
        .write("data/prices.csv", csv)
        .write("data/doc.json", r#"[{"a": 1}]"#)
        .write(
            "widgets.json",
            r#"{
              "big": {"name": "Big", "description": "d", "type": "table_ssrm", "endpoint": "big",
                      "params": [{"paramName": "symbol", "type": "text", "value": ""}],
                      "backend": {"file": "prices.csv", "filters": {"symbol": "ticker"}}},
              "other": {"name": "Other", "description": "d", "type": "ssrm_table", "endpoint": "other",
                        "backend": {"file": "prices.csv"}},
              "by_market": {"name": "By market", "description": "d", "type": "table_ssrm", "endpoint": "by_market",
                            "params": [{"paramName": "market", "type": "text"}],
                            "backend": {"file": "{market}.csv"}},
              "doc": {"name": "Doc", "description": "d", "type": "table_ssrm", "endpoint": "doc",
                      "backend": {"file": "doc.json"}},
              "all": {"name": "All", "description": "d", "endpoint": "all", "backend": {"file": "prices.csv"}}
            }"#,
        );
    fixture
}

fn page(server: &InProcess, path: &str, body: Value) -> (Vec<Value>, u64) {
    let reply = server.post(path, &body.to_string());
    assert_eq!(reply.status, 200, "{body}: {reply:?}");
    let answer = reply.json();
    (
        answer["rowData"].as_array().unwrap().clone(),
        answer["rowCount"].as_u64().unwrap(),
    )
}

fn ids(rows: &[Value]) -> Vec<i64> {
    rows.iter().map(|row| row["id"].as_i64().unwrap()).collect()
}

#[test]
fn windows_page_through_the_rows_with_the_total_count() {
    let server = InProcess::new(fixture());
    let all = server.get("/all").json();
    let (rows, count) = page(&server, "/big", json!({"startRow": 0, "endRow": 10}));
    assert_eq!(count, 250);
    assert_eq!(
        rows,
        all.as_array().unwrap()[..10].to_vec(),
        "rows as a table serves them"
    );
    let (rows, count) = page(&server, "/big", json!({"startRow": 245, "endRow": 300}));
    assert_eq!((ids(&rows), count), ((245..250).collect(), 250));
    let (rows, count) = page(&server, "/other", json!({"startRow": 400, "endRow": 500}));
    assert_eq!((rows.len(), count), (0, 250), "ssrm_table is the same type");
}

#[test]
fn sorting_filters_and_params_combine() {
    let server = InProcess::new(fixture());
    let all = server.get("/all").json();
    let mut expected: Vec<&Value> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["ticker"] == "MSFT" || row["ticker"] == "NVDA")
        .filter(|row| row["close"].as_f64().is_some_and(|c| c > 120.0))
        .filter(|row| row["date"].as_str().unwrap() < "2024-07-01")
        .collect();
    expected.sort_by(|a, b| {
        b["ticker"].as_str().cmp(&a["ticker"].as_str()).then(
            a["close"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["close"].as_f64().unwrap()),
        )
    });
    let expected = ids(&expected.into_iter().cloned().collect::<Vec<_>>());
    assert!(expected.len() > 20, "{}", expected.len());
    let body = |start: usize, end: usize| {
        json!({
            "startRow": start, "endRow": end,
            "symbol": ["MSFT", "NVDA"],
            "sortModel": [{"colId": "ticker", "sort": "desc"}, {"colId": "close", "sort": "asc"}],
            "filterModel": {
                "close": {"filterType": "number", "type": "greaterThan", "filter": 120},
                "date": {"filterType": "date", "type": "lessThan", "dateFrom": "2024-07-01 00:00:00", "dateTo": null}
            }
        })
    };
    let mut seen = Vec::new();
    for start in (0..expected.len() + 10).step_by(10) {
        let (rows, count) = page(&server, "/big", body(start, start + 10));
        assert_eq!(count as usize, expected.len());
        seen.extend(ids(&rows));
    }
    assert_eq!(
        seen, expected,
        "the pages put together are the sorted, filtered rows"
    );
    let (rows, count) = page(
        &server,
        "/big",
        json!({"startRow": 0, "endRow": 100, "filterModel": {"ticker": {"filterType": "set", "values": ["XOM"]},
               "close": {"filterType": "number", "type": "blank"}}}),
    );
    assert!(
        count > 0
            && rows
                .iter()
                .all(|r| r["ticker"] == "XOM" && r["close"].is_null())
    );
}

#[test]
fn a_changed_file_is_paged_afresh() {
    let server = InProcess::new(fixture());
    let body = json!({"startRow": 0, "endRow": 5, "sortModel": [{"colId": "id", "sort": "desc"}]});
    let (rows, count) = page(&server, "/big", body.clone());
    assert_eq!((ids(&rows)[0], count), (249, 250));
    let mut csv = std::fs::read_to_string(server.fixture.path("data/prices.csv")).unwrap();
    csv.push_str("900,2024-12-31,AAPL,1.5,1\n");
    std::fs::write(server.fixture.path("data/prices.csv"), csv).unwrap();
    let (rows, count) = page(&server, "/big", body);
    assert_eq!((ids(&rows)[0], count), (900, 251));
}

#[test]
fn bad_requests_are_explained() {
    let server = InProcess::new(fixture());
    for (body, why) in [
        ("[]", "must be a JSON object"),
        (r#"{"startRow": -5}"#, "startRow: expected a whole number"),
        (r#"{"startRow": 10, "endRow": 5}"#, "is before startRow"),
        (
            r#"{"sortModel": {"colId": "id"}}"#,
            "sortModel: expected an array",
        ),
        (
            r#"{"sortModel": [{"colId": "nope", "sort": "asc"}]}"#,
            "no column 'nope'",
        ),
        (
            r#"{"filterModel": {"close": {"filterType": "number", "type": "equals", "filter": "x"}}}"#,
            "is not a number value",
        ),
        (
            r#"{"filterModel": {"date": {"filterType": "date", "type": "inRange", "dateFrom": "2024-01-01"}}}"#,
            "dateTo: required",
        ),
    ] {
        let reply = server.post("/big", body);
        assert_eq!(reply.status, 400, "{body}: {reply:?}");
        assert!(reply.detail().contains(why), "{body}: {}", reply.detail());
    }
    let reply = server.post("/by_market", r#"{"market": "prices", "endRow": 3}"#);
    assert_eq!(
        reply.json()["rowCount"],
        250,
        "body params fill the file template"
    );
    let reply = server.post("/by_market", r#"{"market": "../widgets"}"#);
    assert_eq!(reply.status, 400, "{reply:?}");
    let reply = server.post("/doc", "{}");
    assert_eq!(reply.status, 500);
    assert!(
        reply.detail().contains("is not a table"),
        "{}",
        reply.detail()
    );
    let reply = server.get("/big");
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("POST, OPTIONS"));
}

/// The rows `/all` serves, of the given tickers.
fn rows_of(server: &InProcess, tickers: &[&str]) -> Vec<Value> {
    let all = server.get("/all").json();
    let all = all.as_array().unwrap();
    all.iter()
        .filter(|row| tickers.iter().any(|t| row["ticker"] == *t))
        .cloned()
        .collect()
}

#[test]
fn groups_carry_their_key_and_aggregates_page_by_page() {
    let server = InProcess::new(fixture());
    let grouped = |start: usize, end: usize, extra: Value| {
        let mut body = json!({
            "startRow": start, "endRow": end,
            "rowGroupCols": [{"id": "ticker", "displayName": "Ticker", "field": "ticker"}],
            "valueCols": [{"id": "close", "field": "close", "aggFunc": "sum"},
                          {"id": "volume", "field": "volume", "aggFunc": "max"},
                          {"id": "id", "field": "id", "aggFunc": "count"},
                          {"id": "date", "field": "date", "aggFunc": "first"}],
            "pivotCols": [], "pivotMode": false, "groupKeys": []});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        page(&server, "/big", body)
    };
    let expected = |ticker: &str| {
        let rows = rows_of(&server, &[ticker]);
        let close: f64 = rows.iter().filter_map(|r| r["close"].as_f64()).sum();
        let volume = rows.iter().map(|r| r["volume"].as_i64().unwrap()).max();
        (
            ticker.to_string(),
            close,
            volume.unwrap(),
            rows.len() as u64,
            rows[0]["date"].clone(),
        )
    };
    let read = |row: &Value| {
        (
            row["ticker"].as_str().unwrap().to_string(),
            row["close"].as_f64().unwrap(),
            row["volume"].as_i64().unwrap(),
            row["id"].as_u64().unwrap(),
            row["date"].clone(),
        )
    };
    let (rows, count) = grouped(0, 100, json!({}));
    assert_eq!(count, 4, "four tickers: four groups");
    for (row, ticker) in rows.iter().zip(["AAPL", "MSFT", "NVDA", "XOM"]) {
        let (got, want) = (read(row), expected(ticker));
        assert_eq!(
            (&got.0, got.2, got.3, &got.4),
            (&want.0, want.2, want.3, &want.4)
        );
        assert!((got.1 - want.1).abs() < 1e-6, "{row}");
        assert_eq!(
            row.as_object().unwrap().len(),
            5,
            "the key and four aggregates: {row}"
        );
    }
    // A window of groups, the count unchanged; groups sorted on an aggregate.
    let (window, count) = grouped(1, 3, json!({}));
    assert_eq!((window, count), (rows[1..3].to_vec(), 4));
    let (by_volume, _) = grouped(
        0,
        10,
        json!({"sortModel": [{"colId": "id", "sort": "desc"}, {"colId": "volume", "sort": "asc"}]}),
    );
    let counts: Vec<u64> = by_volume
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    // The widget's params and the filterModel apply within the groups.
    let (filtered, count) = grouped(
        0,
        10,
        json!({"symbol": "MSFT,NVDA",
               "filterModel": {"close": {"filterType": "number", "type": "greaterThan", "filter": 150}}}),
    );
    assert_eq!(count, 2);
    for row in &filtered {
        let ticker = row["ticker"].as_str().unwrap();
        let kept: Vec<Value> = rows_of(&server, &[ticker])
            .into_iter()
            .filter(|r| r["close"].as_f64().is_some_and(|c| c > 150.0))
            .collect();
        assert_eq!(row["id"], kept.len(), "{row}");
        assert_eq!(row["date"], kept[0]["date"], "{row}");
    }
}

#[test]
fn opened_groups_answer_the_next_level_then_their_rows() {
    let server = InProcess::new(fixture());
    let msft = rows_of(&server, &["MSFT"]);
    let levels = json!([{"field": "ticker"}, {"field": "volume"}]);
    // Level 1 inside MSFT (the grouping nested as openbb-core sends it): one group per volume.
    let (groups, count) = page(
        &server,
        "/big",
        json!({"startRow": 0, "endRow": 1000, "grouping": {"rowGroupCols": levels,
               "groupKeys": ["MSFT"], "valueCols": [{"field": "close", "aggFunc": "avg"}]}}),
    );
    let mut volumes: Vec<i64> = msft.iter().map(|r| r["volume"].as_i64().unwrap()).collect();
    volumes.sort();
    volumes.dedup();
    assert_eq!(count as usize, volumes.len());
    let keys: Vec<i64> = groups
        .iter()
        .map(|g| g["volume"].as_i64().unwrap())
        .collect();
    assert_eq!(keys, volumes, "groups ordered by their key");
    // The leaf level: MSFT's rows of one volume (the key sent as AG Grid may, as text),
    // filtered and sorted like flat rows, with their count.
    let volume = volumes[0];
    let mut expected: Vec<&Value> = msft.iter().filter(|r| r["volume"] == volume).collect();
    expected.sort_by(|a, b| b["id"].as_i64().cmp(&a["id"].as_i64()));
    let (rows, count) = page(
        &server,
        "/big",
        json!({"startRow": 0, "endRow": 100, "rowGroupCols": levels,
               "groupKeys": ["MSFT", volume.to_string()],
               "sortModel": [{"colId": "ag-Grid-AutoColumn", "sort": "asc"}, {"colId": "id", "sort": "desc"}]}),
    );
    assert_eq!(count as usize, expected.len());
    assert_eq!(
        ids(&rows),
        ids(&expected.into_iter().cloned().collect::<Vec<_>>())
    );
    // One level of rows: MSFT's, paged.
    let (first, count) = page(
        &server,
        "/big",
        json!({"startRow": 0, "endRow": 5, "rowGroupCols": [{"field": "ticker"}], "groupKeys": ["MSFT"]}),
    );
    assert_eq!(count as usize, msft.len());
    assert_eq!(ids(&first), ids(&msft[..5]));
    // A group no row holds is empty.
    let (none, count) = page(
        &server,
        "/big",
        json!({"rowGroupCols": [{"field": "ticker"}], "groupKeys": ["msft"]}),
    );
    assert_eq!((none.len(), count), (0, 0), "keys match exactly");
}

#[test]
fn bad_groupings_are_a_400_naming_the_field_and_groups_follow_the_file() {
    let server = InProcess::new(fixture());
    for (body, why) in [
        (
            json!({"rowGroupCols": [{"field": "ticker"}], "valueCols": [{"field": "close", "aggFunc": "median"}]}),
            "valueCols[0].aggFunc: unknown aggregation \"median\"",
        ),
        (
            json!({"rowGroupCols": [{"field": "sector"}]}),
            "rowGroupCols[0]: the data has no column 'sector'",
        ),
        (
            json!({"rowGroupCols": [{"field": "ticker"}], "groupKeys": ["MSFT", "1"]}),
            "groupKeys: 2 keys for 1 grouped columns",
        ),
        (
            json!({"pivotMode": true, "pivotCols": [{"field": "ticker"}]}),
            "pivoting is not supported",
        ),
    ] {
        let reply = server.post("/big", &body.to_string());
        assert_eq!(reply.status, 400, "{body}: {reply:?}");
        assert!(reply.detail().contains(why), "{body}: {}", reply.detail());
    }
    let body = json!({"rowGroupCols": [{"field": "ticker"}], "valueCols": [{"field": "id", "aggFunc": "count"}]});
    let (groups, count) = page(&server, "/big", body.clone());
    assert_eq!((count, groups[0]["id"].as_u64()), (4, Some(63)));
    let mut csv = std::fs::read_to_string(server.fixture.path("data/prices.csv")).unwrap();
    csv.push_str("900,2024-12-31,AAPL,1.5,1\n901,2024-12-31,TSLA,2.5,1\n");
    std::fs::write(server.fixture.path("data/prices.csv"), csv).unwrap();
    let (groups, count) = page(&server, "/big", body);
    assert_eq!((count, groups[0]["id"].as_u64()), (5, Some(64)));
}
