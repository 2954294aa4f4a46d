//! What Workspace's front end sends a backend when "Validate widgets" is on
//! (workspace-contract.md §0), and how it judges the answers. No input or output (today's date
//! is an argument; `today` reads the clock): `check --url` sends these calls, and the tests
//! replay them against our own server.
//!
//! Each widget is called once with its default params as the front end builds them: every
//! param normalized (falsy values null, text values as text; see `validate::normalized_params`),
//! a value saved in `storage.params` winning, `ticker` params as `AAPL`, a date that is not a
//! date (a `$currentDate-1M` expression) resolved against today. omni, ssrm_table and
//! multi_file_viewer are POSTed a JSON body; every other type, advanced_charting included, is a
//! GET of its endpoint with the non-empty params in the query string.

use serde_json::{Map, Value, json};

use crate::calendar::{civil_from_days, days_from_civil};
use crate::http::percent_encode;
use crate::validate::{self, is_falsy, js_string, normalized_params};

/// The ticker Workspace puts in every `ticker` param when it validates.
pub const VALIDATION_TICKER: &str = "AAPL";
/// The prompt of an omni widget's validation call, unless a param overrides it.
pub const VALIDATION_PROMPT: &str = "test validation query";

/// One "Validate widgets" request.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationCall {
    pub method: &'static str,
    /// The endpoint with its query string, relative to the backend's root (no leading `/`), or
    /// an absolute URL when the widget's endpoint is one (another site's: an iframe's).
    pub target: String,
    pub body: Option<Value>,
}

impl ValidationCall {
    /// Whether the call goes to another site than the backend.
    pub fn is_absolute(&self) -> bool {
        self.target.starts_with("http")
    }
}

/// The call Workspace makes for `widget` (as `/widgets.json` serves it) on `today` (days since
/// 1970-01-01, for `$currentDate` expressions).
pub fn validation_call(widget: &Map<String, Value>, today: i64) -> ValidationCall {
    let params = default_params(widget, today);
    let endpoint = widget
        .get("endpoint")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let endpoint = if endpoint.starts_with("http") {
        endpoint
    } else {
        endpoint.trim_start_matches('/')
    };
    let start: Option<Map<String, Value>> = match validate::type_of(widget) {
        "omni" => Some(
            [("prompt".into(), json!(VALIDATION_PROMPT))]
                .into_iter()
                .collect(),
        ),
        "ssrm_table" => Some(
            [("startRow".into(), json!(0)), ("endRow".into(), json!(10))]
                .into_iter()
                .collect(),
        ),
        "multi_file_viewer" => Some(Map::new()),
        _ => None,
    };
    if let Some(mut body) = start {
        body.extend(params);
        return ValidationCall {
            method: "POST",
            target: endpoint.to_string(),
            body: Some(Value::Object(body)),
        };
    }
    ValidationCall {
        method: "GET",
        target: with_query(endpoint, params),
        body: None,
    }
}

/// The default params of a widget as the front end sends them, in param order.
pub fn default_params(widget: &Map<String, Value>, today: i64) -> Vec<(String, Value)> {
    let saved = widget
        .get("storage")
        .and_then(|s| s.get("params"))
        .and_then(Value::as_object);
    normalized_params(widget)
        .into_iter()
        .filter_map(|(_, param)| {
            let name = param.get("paramName")?.as_str()?.to_string();
            if let Some(value) = saved.and_then(|s| s.get(&name)) {
                return Some((name, value.clone()));
            }
            let value = param.get("value").cloned().unwrap_or(Value::Null);
            let value = match param.get("type").and_then(Value::as_str) {
                Some("ticker") => json!(VALIDATION_TICKER),
                Some("date") => match value.as_str() {
                    Some(text) if !looks_like_date(text) => json!(current_date(text, today)),
                    _ => value,
                },
                _ => value,
            };
            Some((name, value))
        })
        .collect()
}

/// The endpoint with its `{name}` placeholders filled from `params` (those params then leave
/// the query) and, when it has no query of its own, the non-empty params as the query string.
fn with_query(endpoint: &str, mut params: Vec<(String, Value)>) -> String {
    let mut target = endpoint.to_string();
    params.retain(|(name, value)| {
        let placeholder = format!("{{{name}}}");
        if !target.contains(&placeholder) {
            return true;
        }
        target = target.replace(&placeholder, &js_string(value));
        false
    });
    if target.contains('?') {
        return target;
    }
    let query: Vec<String> = params
        .iter()
        .map(|(name, value)| (name, js_string(value)))
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(&value)))
        .collect();
    match query.is_empty() {
        true => target,
        false => format!("{target}?{}", query.join("&")),
    }
}

/// Whether a date param's text reads as a date (so the front end sends it as it is).
fn looks_like_date(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_digit())
}

/// A `$currentDate[+-]N[unit]` expression resolved against `today` as `YYYY-MM-DD` (units `h`,
/// `d`, `w`, `m` months, `q` quarters, `y`, `b` business days); any other text is today.
pub fn current_date(expression: &str, today: i64) -> String {
    let day = shifted(expression, today).unwrap_or(today);
    let (year, month, day) = civil_from_days(day);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The largest `N` of a `$currentDate` expression taken (larger ones read as today), so that
/// a backend's date default cannot make the arithmetic overflow or a business-day count spin.
const MAX_SHIFT: i64 = 100_000;

fn shifted(expression: &str, today: i64) -> Option<i64> {
    let at = expression.to_ascii_lowercase().find("$currentdate")?;
    let rest = &expression[at + "$currentDate".len()..];
    let sign = match rest.chars().next()? {
        '+' => 1,
        '-' => -1,
        _ => return None,
    };
    let digits: String = rest[1..].chars().take_while(char::is_ascii_digit).collect();
    let amount: i64 = digits.parse().ok().filter(|n| *n <= MAX_SHIFT)?;
    let unit = rest[1 + digits.len()..]
        .chars()
        .next()?
        .to_ascii_lowercase();
    let (year, month, day) = civil_from_days(today);
    let months = |n: i64| {
        let index = year * 12 + (month - 1) + sign * n;
        let (y, m) = (index.div_euclid(12), index.rem_euclid(12) + 1);
        let last = days_from_civil(y + i64::from(m == 12), m % 12 + 1, 1) - 1;
        days_from_civil(y, m, 1) + (day - 1).min(last - days_from_civil(y, m, 1))
    };
    Some(match unit {
        'h' => today + sign * (amount / 24),
        'd' => today + sign * amount,
        'w' => today + sign * amount * 7,
        'm' => months(amount),
        'q' => months(amount * 3),
        'y' => months(amount * 12),
        'b' => {
            let mut day = today;
            let mut left = amount;
            while left > 0 {
                day += sign;
                // 1970-01-01 was a Thursday: day 0 is weekday 3 (Monday 0).
                if (day + 3).rem_euclid(7) < 5 {
                    left -= 1;
                }
            }
            day
        }
        _ => return None,
    })
}

/// Whether Workspace accepts a validation answer: any 2xx, a 422 or 405, or an error whose
/// `detail` (or `message`, or `error`) says `field required` or `missing`. Otherwise the text it
/// shows. An error answer that is not JSON stops the whole check in the browser.
pub fn accepts(status: u16, body: &[u8]) -> Result<(), String> {
    if (200..300).contains(&status) || status == 422 || status == 405 {
        return Ok(());
    }
    let error: Value = serde_json::from_slice(body).map_err(|_| {
        format!("status {status} with a body that is not JSON: Workspace's check stops there")
    })?;
    let detail = ["detail", "message", "error"]
        .iter()
        .find_map(|key| error.get(*key).filter(|v| !is_falsy(v)))
        .unwrap_or(&error);
    let text = detail.to_string();
    match ["field required", "missing"]
        .iter()
        .any(|m| text.contains(m))
    {
        true => Ok(()),
        false => Err(format!("status {status}: {text}")),
    }
}

/// Today as days since 1970-01-01 (UTC).
pub fn today() -> i64 {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    (seconds / 86_400) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn widget(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn get_calls_carry_the_non_empty_defaults() {
        let call = validation_call(
            &widget(json!({"endpoint": "prices", "params": [
                {"paramName": "ticker", "type": "ticker", "value": "MSFT"},
                {"paramName": "q", "type": "text", "value": ["a b", "c"]},
                {"paramName": "n", "type": "number", "value": "2.0"},
                {"paramName": "none", "type": "text", "value": ""},
                {"paramName": "off", "type": "boolean", "value": false},
                {"paramName": "zero", "type": "number", "value": 0}]})),
            0,
        );
        assert_eq!(call.method, "GET");
        assert_eq!(call.target, "prices?ticker=AAPL&q=a%20b%2Cc&n=2");
    }

    #[test]
    fn post_bodies_by_type() {
        let omni = validation_call(
            &widget(json!({"type": "omni", "endpoint": "/s", "params": [
                {"paramName": "prompt", "type": "text", "value": ""}]})),
            0,
        );
        assert_eq!(omni.target, "s");
        assert_eq!(omni.body, Some(json!({"prompt": null})));
        let ssrm = validation_call(
            &widget(json!({"type": "ssrm_table", "endpoint": "t", "params": [
                {"paramName": "tickers", "type": "endpoint", "value": ["A", "B"]}]})),
            0,
        );
        assert_eq!(
            ssrm.body,
            Some(json!({"startRow": 0, "endRow": 10, "tickers": ["A", "B"]}))
        );
        let files = validation_call(
            &widget(
                json!({"type": "multi_file_viewer", "endpoint": "f", "params": [
                {"paramName": "names", "type": "endpoint", "value": []}]}),
            ),
            0,
        );
        assert_eq!(files.body, Some(json!({"names": []})));
    }

    #[test]
    fn saved_values_placeholders_and_own_queries() {
        let call = validation_call(
            &widget(
                json!({"endpoint": "r/{ticker}", "storage": {"params": {"x": "saved"}},
                "params": [{"paramName": "ticker", "type": "endpoint", "value": "MSFT"},
                           {"paramName": "x", "value": "default"}]}),
            ),
            0,
        );
        assert_eq!(call.target, "r/MSFT?x=saved");
        let own = validation_call(
            &widget(json!({"endpoint": "e?a=1", "params": [{"paramName": "b", "value": "2"}]})),
            0,
        );
        assert_eq!(own.target, "e?a=1");
        assert!(
            validation_call(&widget(json!({"endpoint": "https://x.example"})), 0).is_absolute()
        );
    }

    #[test]
    fn current_date_expressions() {
        let today = days_from_civil(2026, 3, 31);
        assert_eq!(current_date("$currentDate-1M", today), "2026-02-28");
        assert_eq!(current_date("$currentDate+1y", today), "2027-03-31");
        assert_eq!(current_date("$currentDate-2w", today), "2026-03-17");
        assert_eq!(current_date("$currentDate-1q", today), "2025-12-31");
        // 2026-03-31 is a Tuesday: three business days back is the Thursday before.
        assert_eq!(current_date("$currentDate-3b", today), "2026-03-26");
        assert_eq!(current_date("yesterday", today), "2026-03-31");
        for huge in [
            "$currentDate-99999999999b",
            "$currentDate-9223372036854775807d",
        ] {
            assert_eq!(current_date(huge, today), "2026-03-31", "{huge}");
        }
    }

    #[test]
    fn acceptance_follows_the_front_end() {
        assert!(accepts(200, b"[]").is_ok());
        assert!(accepts(204, b"").is_ok());
        assert!(accepts(422, b"whatever").is_ok());
        assert!(accepts(405, b"").is_ok());
        assert!(accepts(400, br#"{"detail": "missing parameter 'ticker'"}"#).is_ok());
        assert!(accepts(500, br#"{"message": "field required: x"}"#).is_ok());
        assert_eq!(
            accepts(404, br#"{"detail": "not found: x"}"#),
            Err("status 404: \"not found: x\"".into())
        );
        assert!(accepts(500, b"<html>").unwrap_err().contains("not JSON"));
    }
}
