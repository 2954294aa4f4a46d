//! Tables from files: typing, column order, filters, JSON documents, bad and missing files.
//! Not about the wire, so asked in process (`InProcess`, through `App::handle`).

use serde_json::json;

use crate::support::{Fixture, InProcess, prices_fixture};

#[test]
fn csv_rows_are_typed_and_keep_column_order() {
    let server = InProcess::new(prices_fixture());
    let reply = server.get("/prices");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert!(
        reply
            .body
            .starts_with(r#"[{"date":"2024-01-02","ticker":"AAPL","close":185.5,"volume":100}"#),
        "{}",
        reply.body
    );
    assert_eq!(reply.json().as_array().unwrap().len(), 5);
}

#[test]
fn awkward_csv_is_read_correctly() {
    let fixture = Fixture::new();
    fixture
        .write(
            "data/awkward.csv",
            "\u{feff}code,name,amount,active,missing,ratio\r\n\
             007,\"Smith, \"\"Jr\"\"\",10,true,,NaN\r\n\
             010,\"two\nlines\",-3,false,,0.5\r\n",
        )
        .write(
            "widgets.json",
            r#"{"a": {"name": "A", "description": "d", "endpoint": "awkward"}}"#,
        );
    let server = InProcess::new(fixture);
    assert_eq!(
        server.get("/awkward").json(),
        json!([
            {"code": "007", "name": "Smith, \"Jr\"", "amount": 10, "active": true, "missing": null, "ratio": null},
            {"code": "010", "name": "two\nlines", "amount": -3, "active": false, "missing": null, "ratio": 0.5}
        ])
    );
}

/// One text column of `/prices?{query}`, row by row.
fn column(server: &InProcess, query: &str, name: &str) -> Vec<String> {
    server
        .get(&format!("/prices?{query}"))
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row[name].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_parameter_named_like_a_column_filters_rows() {
    let server = InProcess::new(prices_fixture());
    let tickers = |query: &str| column(&server, query, "ticker");
    assert_eq!(tickers("ticker=MSFT"), ["MSFT", "MSFT"]);
    assert_eq!(
        tickers("ticker=msft"),
        ["MSFT", "MSFT"],
        "text matches ignoring case"
    );
    assert_eq!(
        tickers("ticker=AAPL,NVDA"),
        ["AAPL", "AAPL", "NVDA"],
        "multiSelect"
    );
    assert_eq!(tickers("ticker=AAPL&ticker=NVDA"), ["AAPL", "AAPL", "NVDA"]);
    assert_eq!(tickers("ticker=AAPL%2CNVDA"), ["AAPL", "AAPL", "NVDA"]);
    assert_eq!(
        tickers("ticker="),
        ["AAPL", "MSFT", "AAPL", "MSFT", "NVDA"],
        "empty = no filter"
    );
    assert_eq!(tickers("ticker=TSLA"), Vec::<String>::new());
    assert_eq!(
        tickers("theme=dark&raw=false&unknown=1").len(),
        5,
        "unknown names are ignored"
    );
    assert_eq!(
        tickers("volume=110"),
        ["AAPL"],
        "numbers compare as numbers"
    );
    assert_eq!(tickers("close=371"), ["MSFT"]);
}

#[test]
fn date_ranges_bound_a_date_column() {
    let server = InProcess::new(prices_fixture());
    let dates = |query: &str| column(&server, query, "date");
    assert_eq!(
        dates("start_date=2024-01-03"),
        ["2024-01-03", "2024-01-03", "2024-01-04"]
    );
    assert_eq!(dates("end_date=2024-01-02"), ["2024-01-02", "2024-01-02"]);
    assert_eq!(
        dates("start_date=2024-01-03&end_date=2024-01-03&ticker=AAPL"),
        ["2024-01-03"]
    );
    assert_eq!(
        dates("min_volume=210&max_volume=300"),
        ["2024-01-03", "2024-01-04"]
    );
}

#[test]
fn explicit_filter_rules_map_parameters_to_columns() {
    let fixture = prices_fixture();
    fixture.write(
        "widgets.json",
        r#"{"p": {"name": "P", "description": "d", "endpoint": "quotes",
                  "backend": {"file": "prices.csv", "filters": {
                      "symbol": "ticker",
                      "since": {"column": "date", "op": "gte"},
                      "volume": null}}},
            "broken": {"name": "B", "description": "d", "endpoint": "broken",
                  "backend": {"file": "prices.csv", "filters": {"x": "no_such_column"}}}}"#,
    );
    let server = InProcess::new(fixture);
    let rows = server
        .get("/quotes?symbol=AAPL&since=2024-01-03&volume=1")
        .json();
    assert_eq!(
        rows,
        json!([{"date": "2024-01-03", "ticker": "AAPL", "close": 184.0, "volume": 110}])
    );
    let reply = server.get("/broken?x=1");
    assert_eq!(reply.status, 500);
    assert!(reply.detail().contains("no_such_column"), "{reply:?}");
    assert_eq!(
        server.get("/broken").status,
        200,
        "the rule only applies when the parameter is sent"
    );
}

#[test]
fn json_documents_are_served_as_they_are_for_data_key() {
    let server = InProcess::new(prices_fixture());
    let reply = server.get("/fundamentals?ticker=AAPL");
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body,
        r#"{"as_of": "2024-12-31", "results": [{"ticker": "AAPL", "pe": 30.5}, {"ticker": "MSFT", "pe": 35}]}"#
    );
}

#[test]
fn json_arrays_of_objects_are_rows_and_filter_like_csv() {
    let fixture = Fixture::new();
    fixture
        .write(
            "data/watchlist.json",
            r#"[{"ticker": "AAPL", "sector": "Tech", "target": 210},
                {"ticker": "XOM", "sector": "Energy", "target": 120},
                {"ticker": "NVDA", "sector": "Tech", "target": 150}]"#,
        )
        .write(
            "widgets.json",
            r#"{"w": {"name": "W", "description": "d", "endpoint": "watchlist"}}"#,
        );
    let server = InProcess::new(fixture);
    assert_eq!(server.get("/watchlist").json().as_array().unwrap().len(), 3);
    assert_eq!(
        server.get("/watchlist?sector=tech&min_target=200").body,
        r#"[{"ticker":"AAPL","sector":"Tech","target":210}]"#
    );
}

#[test]
fn a_malformed_csv_names_file_and_line_and_others_keep_working() {
    let fixture = prices_fixture();
    fixture.write("data/bad.csv", "a,b\n1,2\n3,4,5\n").write(
        "widgets.json",
        r#"{"prices": {"name": "P", "description": "d", "endpoint": "prices"},
                "bad": {"name": "B", "description": "d", "endpoint": "bad"}}"#,
    );
    let server = InProcess::new(fixture);
    let reply = server.get("/bad");
    assert_eq!(reply.status, 500);
    let detail = reply.detail();
    assert!(
        detail.contains("data/bad.csv") && detail.contains("line 3"),
        "{detail}"
    );
    assert_eq!(server.get("/prices").status, 200);
    let problems = server.get("/").json()["problems"].to_string();
    assert!(problems.contains("data/bad.csv: line 3"), "{problems}");
    server.fixture.write("data/bad.csv", "a,b\n1,2\n3,4\n");
    assert_eq!(
        server.get("/bad").json(),
        json!([{"a": 1, "b": 2}, {"a": 3, "b": 4}])
    );
    assert_eq!(
        server.get("/").json()["problems"],
        json!([]),
        "fixed files leave the list"
    );
}

/// A file read two ways (here by two separators) has a problem per reading: the reading that
/// works does not clear the problem of the one that fails.
#[test]
fn each_reading_of_a_file_has_its_problem_apart() {
    let fixture = Fixture::new();
    fixture.write("data/bad.csv", "a,b\n1,2\n3,4,5\n").write(
        "widgets.json",
        r#"{"commas": {"name": "C", "description": "d", "endpoint": "commas",
                       "backend": {"file": "bad.csv"}},
            "semicolons": {"name": "S", "description": "d", "endpoint": "semicolons",
                           "backend": {"file": "bad.csv", "delimiter": ";"}}}"#,
    );
    let server = InProcess::new(fixture);
    let problems = |server: &InProcess| server.get("/").json()["problems"].to_string();
    assert_eq!(server.get("/commas").status, 500);
    assert!(problems(&server).contains("data/bad.csv: line 3"));
    assert_eq!(server.get("/semicolons").status, 200);
    assert!(
        problems(&server).contains("data/bad.csv: line 3"),
        "the other reading cleared it: {}",
        problems(&server)
    );
    server.fixture.write("data/bad.csv", "a,b\n1,2\n3,4\n");
    assert_eq!(server.get("/commas").status, 200);
    assert_eq!(problems(&server), "[]");
}

#[test]
fn a_missing_data_file_is_a_404_that_says_what_was_looked_for() {
    let fixture = Fixture::new();
    fixture.write(
        "widgets.json",
        r#"{"gone": {"name": "G", "description": "d", "endpoint": "gone"},
            "named": {"name": "N", "description": "d", "endpoint": "named", "backend": {"file": "sub/x.csv"}}}"#,
    );
    let server = InProcess::new(fixture);
    let reply = server.get("/gone");
    assert_eq!(reply.status, 404);
    assert!(
        reply.detail().contains("data/gone.csv and data/gone.json"),
        "{reply:?}"
    );
    assert!(server.get("/named").detail().contains("data/sub/x.csv"));
}

#[test]
fn nested_endpoints_and_json_fallback() {
    let fixture = Fixture::new();
    fixture
        .write("data/reports/daily.json", r#"[{"n": 1}]"#)
        .write(
            "widgets.json",
            r#"{"d": {"name": "D", "description": "d", "endpoint": "/reports/daily"}}"#,
        );
    let server = InProcess::new(fixture);
    assert_eq!(server.get("/reports/daily").json(), json!([{"n": 1}]));
}
