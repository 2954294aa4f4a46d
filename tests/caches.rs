//! Caches, cache keys and filters under attack (issue 16): a planted answer never reaches
//! another request, many filter values cost a pass over the rows, and filters beyond the limits
//! are refused with a 400 naming the limit.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Fixture, TestServer, test_config};

/// 256 rows: four tickers a day over 64 days from 2024-02-01.
fn prices() -> Fixture {
    let fixture = Fixture::new();
    let mut csv = String::from("date,ticker,close\n");
    for day in 0..64 {
        let (month, date) = match day {
            0..29 => (2, day + 1),
            29..60 => (3, day - 28),
            _ => (4, day - 59),
        };
        for (n, ticker) in ["AAPL", "MSFT", "NVDA", "XOM"].iter().enumerate() {
            csv.push_str(&format!(
                "2024-{month:02}-{date:02},{ticker},{}.5\n",
                100 + day + n
            ));
        }
    }
    fixture.write("data/prices.csv", csv).write(
        "widgets.json",
        r#"{"prices": {"name": "Prices", "description": "d", "endpoint": "prices"}}"#,
    );
    fixture
}

/// A value holding NUL bytes spelled the key of another request under the old joined keys: the
/// answer to the planting request was then served to the honest one.
#[test]
fn a_planted_answer_never_reaches_another_request() {
    let server = TestServer::start(prices());
    let planted =
        server.get("/prices?end_date=2024-03-31%00%3Fstart_date%002024-03-01%00%3Fticker%00AAPL");
    assert_eq!(planted.status, 200);
    let honest = server.get("/prices?ticker=AAPL&start_date=2024-03-01&end_date=2024-03-31");
    let rows = honest.json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 31, "{}", honest.body);
    assert!(
        rows.iter()
            .all(|row| row["ticker"] == "AAPL"
                && row["date"].as_str().unwrap().starts_with("2024-03"))
    );
    assert_ne!(planted.body, honest.body);
}

/// A table of `rows` rows whose `close` takes `rows` distinct values.
fn wide_prices(rows: usize) -> Fixture {
    let fixture = Fixture::new();
    let mut csv = String::with_capacity(rows * 24);
    csv.push_str("id,ticker,close\n");
    for id in 0..rows {
        csv.push_str(&format!("{id},T{},{}.25\n", id % 5000, id));
    }
    fixture.write("data/big.csv", csv).write(
        "widgets.json",
        r#"{"big": {"name": "Big", "description": "d", "endpoint": "big"},
            "grid": {"name": "Grid", "description": "d", "type": "table_ssrm", "endpoint": "grid",
                     "backend": {"file": "big.csv"}}}"#,
    );
    fixture
}

/// Equality against thousands of values is one lookup a row: 2,000 closes over 100,000 rows
/// (200 million comparisons before) and a set filter of 10,000 tickers answer at once.
#[test]
fn many_filter_values_cost_a_pass_over_the_rows() {
    let fixture = wide_prices(100_000);
    let mut config = test_config(&fixture.root);
    config.max_header_bytes = 64 * 1024; // room for 2,000 values in the URL
    let server = TestServer::start_with(fixture, config);
    assert_eq!(
        server
            .get("/big?close=1.25")
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let closes: Vec<String> = (0..2000).map(|n| format!("{}.25", n * 50)).collect();
    let started = Instant::now();
    let reply = server.get(&format!("/big?close={}", closes.join(",")));
    let took = started.elapsed();
    assert_eq!(reply.json().as_array().unwrap().len(), 2000);
    assert!(took < Duration::from_secs(2), "{took:?}");

    let tickers: Vec<String> = (0..10_000).map(|n| format!("T{n}")).collect();
    let body = json!({"startRow": 0, "endRow": 10,
        "filterModel": {"ticker": {"filterType": "set", "values": tickers}}});
    let started = Instant::now();
    let reply = server.post("/grid", &body.to_string());
    let took = started.elapsed();
    assert_eq!(reply.json()["rowCount"], 100_000, "{}", reply.body);
    assert!(took < Duration::from_secs(2), "{took:?}");
}

/// Filters past the limits get a 400 naming the limit (its flag), before any work on the rows.
#[test]
fn filters_beyond_the_limits_are_refused_naming_them() {
    let fixture = wide_prices(100);
    let mut config = test_config(&fixture.root);
    config.max_filter_values = 50;
    let server = TestServer::start_with(fixture, config);
    let refused = |reply: crate::support::Reply, flag: &str| {
        assert_eq!(reply.status, 400, "{reply:?}");
        assert!(reply.detail().contains(flag), "{}", reply.detail());
    };
    let values = |count: usize| (0..count).map(|n| format!("T{n}")).collect::<Vec<_>>();
    assert_eq!(
        server
            .get(&format!("/big?ticker={}", values(50).join(",")))
            .status,
        200
    );
    refused(
        server.get(&format!("/big?ticker={}", values(51).join(","))),
        "--max-filter-values",
    );
    refused(
        server.get(&format!("/big?ticker={}&ticker=X", values(50).join(","))),
        "--max-filter-values",
    );
    refused(
        server.get(&format!("/big?{}", ["min_close=1"; 33].join("&"))),
        "--max-filter-conditions",
    );

    let grid = |filter: Value| server.post("/grid", &json!({"filterModel": filter}).to_string());
    refused(
        grid(json!({"ticker": {"filterType": "set", "values": values(51)}})),
        "--max-filter-values",
    );
    let conditions: Vec<Value> = (0..33)
        .map(|n| json!({"type": "notEqual", "filter": n}))
        .collect();
    refused(
        grid(json!({"id": {"filterType": "number", "operator": "OR", "conditions": conditions}})),
        "--max-filter-conditions",
    );
    refused(
        server.post(
            "/grid",
            &json!({"ticker": values(51), "filterModel": {}}).to_string(),
        ),
        "--max-filter-values",
    );
}

/// 2,000 rows of `id,ticker,close`, the tickers starting with `prefix`.
fn named_table(prefix: &str) -> String {
    let rows = (0..2000).map(|id| format!("{id},{prefix}{},{id}.5\n", id % 7));
    format!("id,ticker,close\n{}", rows.collect::<String>())
}

/// A data cache smaller than two tables (`--data-cache-bytes`) keeps one at a time and serves
/// both, each parsed again when its turn comes; a grid paged again over a table parsed again
/// selects its rows anew (its cached selection indexed the table let go).
#[test]
fn a_data_cache_smaller_than_two_tables_serves_both() {
    use openbb_files::cache::Weigh;
    let fixture = Fixture::new();
    fixture
        .write("data/a.csv", named_table("A"))
        .write("data/b.csv", named_table("B"))
        .write(
            "widgets.json",
            r#"{"a": {"name": "A", "description": "d", "type": "table_ssrm", "endpoint": "a"},
                "b": {"name": "B", "description": "d", "type": "table_ssrm", "endpoint": "b"}}"#,
        );
    let one = openbb_files::data::Data::parse("a.csv", named_table("A").as_bytes()).unwrap();
    let mut config = test_config(&fixture.root);
    config.data_cache_bytes = one.weight() * 3 / 2;
    let server = TestServer::start_with(fixture, config);
    let body = json!({"startRow": 0, "endRow": 2, "sortModel": [{"colId": "id", "sort": "desc"}]});
    for round in 0..3 {
        for (path, ticker) in [("/a", "A"), ("/b", "B")] {
            let reply = server.post(path, &body.to_string());
            assert_eq!(reply.status, 200, "round {round}, {path}: {reply:?}");
            let answer = reply.json();
            assert_eq!(answer["rowCount"], 2000);
            assert_eq!(
                answer["rowData"],
                json!([{"id": 1999, "ticker": format!("{ticker}4"), "close": 1999.5},
                       {"id": 1998, "ticker": format!("{ticker}3"), "close": 1998.5}])
            );
        }
    }
}
