//! advanced_charting, asked in process (`InProcess`): every UDF route, daily, weekly, monthly and
//! intraday bars from the rows, ranges, countback, no_data and errors, and both type spellings.

use serde_json::{Value, json};

use crate::support::{Fixture, InProcess};

/// 2024-01-01 00:00 UTC.
const JAN_1: i64 = 1_704_067_200;
const DAY: i64 = 86_400;

/// Daily rows for two symbols over January to March 2024 (every day, out of order), and
/// five-minute rows for one symbol on 2024-01-02.
fn server() -> InProcess {
    let fixture = Fixture::new();
    let mut daily = String::from("date,ticker,open,high,low,close,volume\n");
    for day in (0..91).rev() {
        for (symbol, base) in [("AAPL", 100.0), ("MSFT", 300.0)] {
            let (y, m, d) = date(day);
            let open = base + day as f64;
            daily.push_str(&format!(
                "{y}-{m:02}-{d:02},{symbol},{open},{},{},{},{}\n",
                open + 2.0,
                open - 1.0,
                open + 0.5,
                1000 + day
            ));
        }
    }
    let mut intraday = String::from("timestamp,symbol,open,high,low,close,volume\n");
    for bar in 0..24 {
        let t = JAN_1 + DAY + 9 * 3600 + bar * 300;
        intraday.push_str(&format!(
            "{t},BTC,{0},{1},{2},{3},10\n",
            40 + bar,
            45 + bar,
            35 + bar,
            41 + bar
        ));
    }
    fixture
        .write("data/ohlcv.csv", daily)
        .write("data/ticks.csv", intraday)
        .write("data/bad.csv", "when,what\n1,2\n")
        .write(
            "widgets.json",
            r#"{
              "chart": {"name": "Chart", "description": "d", "type": "advanced_charting", "endpoint": "udf",
                        "data": {"defaultSymbol": "AAPL"}, "backend": {"file": "ohlcv.csv"}},
              "ticks": {"name": "Ticks", "description": "d", "type": "advanced-chart", "endpoint": "feeds/ticks",
                        "backend": {"file": "ticks.csv"}},
              "bad": {"name": "Bad", "description": "d", "type": "advanced_charting", "endpoint": "bad",
                      "backend": {"file": "bad.csv"}}
            }"#,
        );
    InProcess::new(fixture)
}

/// The date `days` after 2024-01-01 (January to March only).
fn date(days: i64) -> (i64, i64, i64) {
    match days {
        0..=30 => (2024, 1, days + 1),
        31..=59 => (2024, 2, days - 30),
        _ => (2024, 3, days - 59),
    }
}

fn history(server: &InProcess, query: &str) -> Value {
    let reply = server.get(&format!("/udf/history?{query}"));
    assert_eq!(reply.status, 200, "{query}: {reply:?}");
    reply.json()
}

#[test]
fn config_symbols_search_and_time() {
    let server = server();
    let config = server.get("/udf/config").json();
    assert_eq!(config["supported_resolutions"], json!(["1D", "1W", "1M"]));
    assert_eq!(config["supports_search"], true);
    let ticks = server.get("/feeds/ticks/config").json();
    assert!(
        ticks["supported_resolutions"]
            .as_array()
            .unwrap()
            .contains(&json!("5"))
    );
    let info = server.get("/udf/symbols?symbol=msft").json();
    assert_eq!(
        (info["name"].clone(), info["has_intraday"].clone()),
        (json!("MSFT"), json!(false))
    );
    assert_eq!(info["timezone"], "Etc/UTC");
    let unknown = server.get("/udf/symbols?symbol=TSLA");
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["s"], "error");
    assert!(unknown.detail().contains("unknown symbol 'TSLA'"));
    let found = server.get("/udf/search?query=s&limit=5").json();
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["symbol"], "MSFT");
    let all = server.get("/udf/search?query=&limit=1").json();
    assert_eq!(
        all,
        json!([{"symbol": "AAPL", "full_name": "AAPL", "description": "AAPL", "exchange": "", "ticker": "AAPL", "type": "stock"}])
    );
    let prefix_first = server.get("/udf/search?query=a").json();
    assert_eq!(prefix_first[0]["symbol"], "AAPL");
    let time = server.get("/udf/time");
    assert_eq!(time.status, 200);
    let now = time.body.parse::<i64>().expect("a plain integer");
    assert!(
        (now - std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64)
            .abs()
            < 60
    );
    assert_eq!(
        server.get("/udf").json(),
        server.get("/udf/config").json(),
        "the base path answers the configuration (Workspace's \"Validate widgets\" calls it)"
    );
    assert_eq!(server.get("/udf/nope").status, 404);
}

#[test]
fn daily_weekly_and_monthly_bars() {
    let server = server();
    let all = format!("symbol=AAPL&from={}&to={}", JAN_1 - DAY, JAN_1 + 200 * DAY);
    let daily = history(&server, &format!("{all}&resolution=D"));
    assert_eq!(daily["s"], "ok");
    let t = daily["t"].as_array().unwrap();
    assert_eq!(t.len(), 91);
    assert_eq!(
        (t[0].as_i64(), t[90].as_i64()),
        (Some(JAN_1), Some(JAN_1 + 90 * DAY)),
        "time-ordered"
    );
    assert_eq!(
        (
            daily["o"][0].clone(),
            daily["c"][0].clone(),
            daily["v"][0].clone()
        ),
        (json!(100.0), json!(100.5), json!(1000.0))
    );
    let monthly = history(&server, &format!("{all}&resolution=1M"));
    assert_eq!(
        monthly["t"],
        json!([JAN_1, JAN_1 + 31 * DAY, JAN_1 + 60 * DAY])
    );
    // January: opens 100..130; the high is the last day's open + 2, the low the first's - 1.
    assert_eq!(monthly["o"][0], json!(100.0));
    assert_eq!(monthly["h"][0], json!(132.0));
    assert_eq!(monthly["l"][0], json!(99.0));
    assert_eq!(monthly["c"][0], json!(130.5));
    assert_eq!(
        monthly["v"][0],
        json!((0..31).map(|d| 1000.0 + d as f64).sum::<f64>())
    );
    let weekly = history(&server, &format!("{all}&resolution=W"));
    let weeks = weekly["t"].as_array().unwrap();
    // 2024-01-01 was a Monday: 13 whole weeks.
    assert_eq!(weeks.len(), 13);
    assert!(
        weeks
            .iter()
            .all(|t| (t.as_i64().unwrap() - JAN_1) % (7 * DAY) == 0)
    );
    assert_eq!(
        weekly["v"][0],
        json!((0..7).map(|d| 1000.0 + d as f64).sum::<f64>())
    );
    let range = history(
        &server,
        &format!(
            "symbol=AAPL&resolution=D&from={}&to={}",
            JAN_1 + 10 * DAY,
            JAN_1 + 12 * DAY
        ),
    );
    assert_eq!(
        range["t"],
        json!([JAN_1 + 10 * DAY, JAN_1 + 11 * DAY, JAN_1 + 12 * DAY]),
        "from and to included"
    );
    let countback = history(
        &server,
        &format!(
            "symbol=AAPL&resolution=D&from={}&to={}&countback=2",
            JAN_1 + 80 * DAY,
            JAN_1 + 12 * DAY
        ),
    );
    assert_eq!(
        countback["t"],
        json!([JAN_1 + 11 * DAY, JAN_1 + 12 * DAY]),
        "countback wins over from"
    );
}

#[test]
fn intraday_bars_and_no_data() {
    let server = server();
    let ticks = |query: &str| {
        server
            .get(&format!("/feeds/ticks/history?symbol=BTC&{query}"))
            .json()
    };
    let day = JAN_1 + DAY;
    let fifteen = ticks(&format!("resolution=15&from={day}&to={}", day + DAY));
    let t = fifteen["t"].as_array().unwrap();
    assert_eq!(t.len(), 8, "24 five-minute rows make 8 quarter-hours");
    assert_eq!(t[0], json!(day + 9 * 3600));
    assert_eq!(
        (
            fifteen["o"][0].clone(),
            fifteen["h"][0].clone(),
            fifteen["l"][0].clone(),
            fifteen["c"][0].clone(),
            fifteen["v"][0].clone()
        ),
        (
            json!(40.0),
            json!(47.0),
            json!(35.0),
            json!(43.0),
            json!(30.0)
        )
    );
    let daily = ticks(&format!("resolution=1D&from={day}&to={}", day + DAY));
    assert_eq!(daily["t"], json!([day]));
    assert_eq!(daily["c"], json!([64.0]));
    let later = ticks(&format!(
        "resolution=5&from={}&to={}",
        day + 5 * DAY,
        day + 6 * DAY
    ));
    assert_eq!(
        later,
        json!({"s": "no_data", "nextTime": day + 9 * 3600 + 23 * 300})
    );
    let earlier = ticks(&format!(
        "resolution=5&from={}&to={}",
        JAN_1 - 9 * DAY,
        JAN_1 - 8 * DAY
    ));
    assert_eq!(earlier, json!({"s": "no_data"}));
}

#[test]
fn bad_input_is_an_error_the_chart_can_read() {
    let server = server();
    for (query, why) in [
        ("resolution=D&from=0&to=1", "symbol: required"),
        ("symbol=AAPL&from=0&to=1", "resolution: required"),
        (
            "symbol=AAPL&resolution=2D&from=0&to=1",
            "resolution: '2D' is not one of",
        ),
        (
            "symbol=AAPL&resolution=D&from=yesterday&to=1",
            "from: 'yesterday' is not a whole number",
        ),
        (
            "symbol=AAPL&resolution=5&from=0&to=1",
            "has daily rows only",
        ),
    ] {
        let reply = server.get(&format!("/udf/history?{query}"));
        assert_eq!(reply.status, 400, "{query}: {reply:?}");
        let body = reply.json();
        assert_eq!(body["s"], "error", "{query}");
        assert!(
            body["errmsg"].as_str().unwrap().contains(why),
            "{query}: {body}"
        );
        assert_eq!(body["errmsg"], body["detail"]);
    }
    let unknown = server.get("/udf/history?symbol=TSLA&resolution=D&from=0&to=1");
    assert_eq!(unknown.status, 404);
    assert_eq!(server.get("/udf/search?query=a&limit=many").status, 400);
    let bad = server.get("/bad/config");
    assert_eq!(bad.status, 500);
    assert!(
        bad.detail()
            .contains("data/bad.csv: an advanced chart needs a date"),
        "{}",
        bad.detail()
    );
}
