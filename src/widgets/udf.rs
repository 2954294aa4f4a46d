//! advanced_charting (written advanced-chart too): a TradingView UDF feed from an OHLCV table
//! file (any format `formats/` reads).
//!
//! The widget's endpoint is a base path; Workspace's chart calls the routes below it (which
//! `router.rs` decides, as a `UdfRoute`), and "Validate widgets" calls the base path itself,
//! which answers as `config` does:
//!
//! | route | answer |
//! |---|---|
//! | `config` (and the base path) | the feed's features and resolutions |
//! | `symbols?symbol=` | one symbol's description (404 for a symbol the file lacks) |
//! | `search?query=&limit=` | symbols containing the query, ignoring case, prefix matches first |
//! | `history?symbol=&resolution=&from=&to=[&countback=]` | bars `{"s": "ok", "t", "o", "h", "l", "c", "v"}`, or `{"s": "no_data"}` (with `nextTime`, the last bar before `from`, when there is one) |
//! | `time` | the server's clock, unix seconds, as plain text |
//!
//! The file has a time column (`date`, `datetime`, `timestamp` or `time`: `YYYY-MM-DD`,
//! optionally with a time and `Z`/`±HH:MM`, or unix seconds or milliseconds), a symbol column
//! (`symbol` or `ticker`), `open`, `high`, `low`, `close` and optionally `volume`. Times are UTC.
//! Resolutions: `D`/`1D`, `W`/`1W` (weeks from Monday) and `M`/`1M` aggregate the rows into
//! bars (first open, highest high, lowest low, last close, summed volume); `N` (minutes) does
//! the same for files with intraday times. A bar is returned when it overlaps `from..=to`.
//! Bad input is a 400 `{"s": "error", "errmsg", "detail"}`. Answers are cached per file version
//! and query (`Files::rendered`); a symbol's rows come from the table's index (`Table::select`).

use serde_json::{Value, json};

use crate::calendar::{civil_from_days, days_from_civil};
use crate::data::Data;
use crate::filter::{self, Condition, Op};
use crate::http::{Body, JSON, Response};
use crate::manifest::Source;
use crate::table::{Cell, Table};
use crate::widgets::Call;

const DAY: i64 = 86_400;
/// Search results when the request names no `limit`.
const DEFAULT_LIMIT: usize = 30;

/// The answer of one of the feed's routes (`router.rs` decides which; the endpoint itself is
/// [`UdfRoute::Config`]) from the chart's file.
pub fn serve(call: &Call, source: &Source, route: UdfRoute) -> Response {
    let answer: FeedAnswer = match route {
        UdfRoute::Time => return time(),
        UdfRoute::Config => |feed, _| Ok(feed.config()),
        UdfRoute::Symbols => {
            |feed, call| feed.symbol_info(call.param("symbol").unwrap_or_default())
        }
        UdfRoute::Search => |feed, call| feed.search(call),
        UdfRoute::History => |feed, call| feed.history(call),
    };
    let relative = match call.locate(source) {
        Ok(relative) => relative,
        Err(err) => return err.into(),
    };
    let rendered = call.files.rendered(
        &relative,
        &[&call.widget.id, route.name()],
        call.params,
        &[],
        |data| {
            let feed = Feed::of(data).map_err(|detail| {
                Response::error(
                    500,
                    &format!("{}: {detail}", call.files.dir.display(&relative)),
                )
            })?;
            serde_json::to_vec(&answer(&feed, call)?)
                .map(Body::Owned)
                .map_err(|err| Response::error(500, &err.to_string()))
        },
    );
    match rendered {
        Ok(payload) => Response::payload(JSON, &payload),
        Err(response) => response,
    }
}

/// The routes of the feed below an advanced chart's endpoint (`router.rs` decides which one a
/// path names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UdfRoute {
    Config,
    Symbols,
    Search,
    History,
    Time,
}

impl UdfRoute {
    pub const ALL: [UdfRoute; 5] = [
        UdfRoute::Config,
        UdfRoute::Symbols,
        UdfRoute::Search,
        UdfRoute::History,
        UdfRoute::Time,
    ];

    /// The last segment of its path.
    pub fn name(self) -> &'static str {
        match self {
            UdfRoute::Config => "config",
            UdfRoute::Symbols => "symbols",
            UdfRoute::Search => "search",
            UdfRoute::History => "history",
            UdfRoute::Time => "time",
        }
    }

    pub fn parse(name: &str) -> Option<UdfRoute> {
        UdfRoute::ALL.into_iter().find(|route| route.name() == name)
    }
}

/// A route's answer from the feed of the chart's file.
type FeedAnswer = fn(&Feed, &Call) -> Result<Value, Response>;

/// The `time` route: the server's clock, unix seconds, as plain text.
fn time() -> Response {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    Response::new(
        200,
        "text/plain; charset=utf-8",
        Body::Owned(now.to_string().into_bytes()),
    )
}

/// A UDF error: `{"s": "error", "errmsg"}` as charts read it, and `detail` as Workspace does.
fn udf_error(status: u16, message: &str) -> Response {
    Response::json(
        status,
        &json!({"s": "error", "errmsg": message, "detail": message}),
    )
}

/// The columns of an OHLCV table.
struct Feed<'t> {
    table: &'t Table,
    time: usize,
    symbol: usize,
    /// open, high, low, close.
    prices: [usize; 4],
    volume: Option<usize>,
}

/// A resolution: bars of `Minutes(n)`, a day, a week or a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolution {
    Minutes(i64),
    Day,
    Week,
    Month,
}

impl Resolution {
    fn parse(text: &str) -> Option<Resolution> {
        Some(match text {
            "D" | "1D" => Resolution::Day,
            "W" | "1W" => Resolution::Week,
            "M" | "1M" => Resolution::Month,
            minutes => match minutes.parse::<i64>() {
                Ok(n) if (1..=DAY / 60).contains(&n) => Resolution::Minutes(n),
                _ => return None,
            },
        })
    }

    /// The start of the bar holding time `t`.
    fn bar_start(self, t: i64) -> i64 {
        let day = t.div_euclid(DAY);
        match self {
            Resolution::Minutes(n) => t - t.rem_euclid(n * 60),
            Resolution::Day => day * DAY,
            // 1970-01-01 was a Thursday: day 0 is 3 days after a Monday.
            Resolution::Week => (day - (day + 3).rem_euclid(7)) * DAY,
            Resolution::Month => {
                let (year, month, _) = civil_from_days(day);
                days_from_civil(year, month, 1) * DAY
            }
        }
    }
}

/// One bar: start time, open, high, low, close, volume.
type Bar = (i64, [f64; 4], f64);

impl<'t> Feed<'t> {
    fn of(data: &'t Data) -> Result<Feed<'t>, String> {
        let Data::Table(table) = data else {
            return Err("an advanced chart reads a table file, not a JSON document".into());
        };
        let names = table.names();
        let find = |choices: &[&str]| choices.iter().find_map(|c| filter::find_column(names, c));
        let missing = |what: &str| format!("an advanced chart needs a {what} column");
        let price = |name: &str| find(&[name]).ok_or_else(|| missing(name));
        Ok(Feed {
            table,
            time: find(&["date", "datetime", "timestamp", "time"])
                .ok_or_else(|| missing("date (or datetime, timestamp, time)"))?,
            symbol: find(&["symbol", "ticker"]).ok_or_else(|| missing("symbol (or ticker)"))?,
            prices: [
                price("open")?,
                price("high")?,
                price("low")?,
                price("close")?,
            ],
            volume: find(&["volume"]),
        })
    }

    /// The symbols, sorted, each once.
    fn symbols(&self) -> Vec<&'t str> {
        let mut symbols: Vec<&str> = (0..self.table.rows())
            .filter_map(|row| match self.table.cell(row, self.symbol) {
                Cell::Text(text) => Some(text),
                _ => None,
            })
            .collect();
        symbols.sort_unstable();
        symbols.dedup();
        symbols
    }

    /// A symbol's rows as time-ordered bars (rows without a time or a price are left out), or
    /// `None` when the file has no such symbol.
    fn rows_of(&self, symbol: &str) -> Result<Option<Vec<Bar>>, Response> {
        let rows = self
            .table
            .select(&[Condition::new(self.symbol, Op::Eq, vec![symbol.into()])]);
        if rows.is_empty() {
            return Ok(None);
        }
        let mut bars = Vec::with_capacity(rows.len());
        for row in rows {
            let number = |column: usize| match self.table.cell(row, column) {
                Cell::Int(value) => Some(value as f64),
                Cell::Float(value) => Some(value),
                _ => None,
            };
            let time = match self.table.cell(row, self.time) {
                Cell::Null => continue,
                cell => unix_time(cell).ok_or_else(|| {
                    Response::error(
                        500,
                        &format!(
                            "data row {}: cannot read the time {}",
                            row + 1,
                            crate::data::cell_value(cell)
                        ),
                    )
                })?,
            };
            let prices = self.prices.map(number);
            let [Some(open), Some(high), Some(low), Some(close)] = prices else {
                continue;
            };
            let volume = self.volume.and_then(number).unwrap_or(0.0);
            bars.push((time, [open, high, low, close], volume));
        }
        bars.sort_by_key(|bar| bar.0);
        Ok(Some(bars))
    }

    fn has_intraday(&self) -> bool {
        (0..self.table.rows()).any(|row| {
            unix_time(self.table.cell(row, self.time)).is_some_and(|t| t.rem_euclid(DAY) != 0)
        })
    }

    fn resolutions(intraday: bool) -> Vec<&'static str> {
        let daily = ["1D", "1W", "1M"];
        match intraday {
            true => ["1", "5", "15", "30", "60", "240"]
                .into_iter()
                .chain(daily)
                .collect(),
            false => daily.to_vec(),
        }
    }

    fn config(&self) -> Value {
        json!({
            "supported_resolutions": Feed::resolutions(self.has_intraday()),
            "supports_search": true,
            "supports_group_request": false,
            "supports_marks": false,
            "supports_timescale_marks": false,
            "supports_time": true,
            "exchanges": [],
            "symbols_types": [],
        })
    }

    fn symbol_info(&self, symbol: &str) -> Result<Value, Response> {
        let symbol = symbol.trim();
        let bars = self
            .rows_of(symbol)?
            .ok_or_else(|| udf_error(404, &format!("unknown symbol '{symbol}'")))?;
        let intraday = bars.iter().any(|bar| bar.0.rem_euclid(DAY) != 0);
        let name = self
            .symbols()
            .into_iter()
            .find(|s| s.eq_ignore_ascii_case(symbol))
            .unwrap_or(symbol);
        Ok(json!({
            "name": name, "ticker": name, "description": name, "type": "stock",
            "session": "24x7", "timezone": "Etc/UTC", "exchange": "", "listed_exchange": "",
            "format": "price", "minmov": 1, "pricescale": 100,
            "has_intraday": intraday, "has_daily": true, "has_weekly_and_monthly": true,
            "supported_resolutions": Feed::resolutions(intraday),
            "volume_precision": 0, "data_status": "endofday",
        }))
    }

    fn search(&self, call: &Call) -> Result<Value, Response> {
        let query = call
            .param("query")
            .unwrap_or_default()
            .trim()
            .to_lowercase();
        let limit = match call.param("limit").map(str::trim) {
            None | Some("") => DEFAULT_LIMIT,
            Some(text) => text
                .parse()
                .map_err(|_| udf_error(400, &format!("limit: '{text}' is not a whole number")))?,
        };
        let mut found: Vec<&str> = self
            .symbols()
            .into_iter()
            .filter(|s| s.to_lowercase().contains(&query))
            .collect();
        found.sort_by_key(|s| !s.to_lowercase().starts_with(&query));
        found.truncate(limit);
        Ok(found
            .into_iter()
            .map(|s| json!({"symbol": s, "full_name": s, "description": s, "exchange": "", "ticker": s, "type": "stock"}))
            .collect())
    }

    fn history(&self, call: &Call) -> Result<Value, Response> {
        let required = |name: &str| {
            call.param(name)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| udf_error(400, &format!("{name}: required")))
        };
        let time = |name: &str| -> Result<Option<i64>, Response> {
            match call.param(name).map(str::trim) {
                None | Some("") => Ok(None),
                Some(text) => text.parse().map(Some).map_err(|_| {
                    udf_error(400, &format!("{name}: '{text}' is not a whole number"))
                }),
            }
        };
        let symbol = required("symbol")?;
        let resolution = required("resolution")?;
        let resolution = Resolution::parse(resolution).ok_or_else(|| {
            udf_error(
                400,
                &format!("resolution: '{resolution}' is not one of D, W, M or a number of minutes"),
            )
        })?;
        let from = time("from")?.unwrap_or(i64::MIN);
        let to = time("to")?.unwrap_or(i64::MAX);
        let countback = time("countback")?;
        let rows = self
            .rows_of(symbol)?
            .ok_or_else(|| udf_error(404, &format!("unknown symbol '{symbol}'")))?;
        if matches!(resolution, Resolution::Minutes(_))
            && !rows.iter().any(|bar| bar.0.rem_euclid(DAY) != 0)
        {
            return Err(udf_error(
                400,
                &format!("resolution: '{symbol}' has daily rows only; minutes need times"),
            ));
        }
        // Bars with the time of their last row, to tell whether they reach into the range.
        let mut bars: Vec<(Bar, i64)> = Vec::new();
        for (time, [open, high, low, close], volume) in rows {
            let start = resolution.bar_start(time);
            match bars.last_mut() {
                Some(((bar_start, prices, bar_volume), last)) if *bar_start == start => {
                    prices[1] = prices[1].max(high);
                    prices[2] = prices[2].min(low);
                    prices[3] = close;
                    *bar_volume += volume;
                    *last = time;
                }
                _ => bars.push(((start, [open, high, low, close], volume), time)),
            }
        }
        let before_to = bars.iter().filter(|((start, ..), _)| *start <= to);
        let chosen: Vec<&Bar> = match countback {
            Some(count) => {
                let all: Vec<&Bar> = before_to.map(|(bar, _)| bar).collect();
                let skip = all
                    .len()
                    .saturating_sub(usize::try_from(count).unwrap_or(0));
                all[skip..].to_vec()
            }
            None => before_to
                .filter(|(_, last)| *last >= from)
                .map(|(bar, _)| bar)
                .collect(),
        };
        if chosen.is_empty() {
            let next = bars.iter().rev().find(|((start, ..), _)| *start < from);
            return Ok(match next {
                Some(((start, ..), _)) => json!({"s": "no_data", "nextTime": start}),
                None => json!({"s": "no_data"}),
            });
        }
        let series =
            |pick: fn(&Bar) -> Value| chosen.iter().map(|bar| pick(bar)).collect::<Vec<_>>();
        Ok(json!({
            "s": "ok",
            "t": series(|bar| json!(bar.0)),
            "o": series(|bar| json!(bar.1[0])),
            "h": series(|bar| json!(bar.1[1])),
            "l": series(|bar| json!(bar.1[2])),
            "c": series(|bar| json!(bar.1[3])),
            "v": series(|bar| json!(bar.2)),
        }))
    }
}

/// A time cell as unix seconds: `YYYY-MM-DD`, optionally with `[T ]HH:MM[:SS[.fff]]` and `Z`
/// or `±HH[:]MM` (UTC without one), or a number of seconds (milliseconds above 10^11).
fn unix_time(cell: Cell<'_>) -> Option<i64> {
    match cell {
        Cell::Int(value) if value.abs() >= 100_000_000_000 => Some(value / 1000),
        Cell::Int(value) => Some(value),
        Cell::Float(value) => unix_time(Cell::Int(value as i64)),
        Cell::Text(text) => parse_date_time(text),
        Cell::Null | Cell::Bool(_) => None,
    }
}

fn parse_date_time(text: &str) -> Option<i64> {
    let digits = |part: &str| -> Option<i64> {
        (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse().ok())
            .flatten()
    };
    let (date, rest) = (text.get(..10)?, &text[10..]);
    let mut parts = date.split('-');
    let (year, month, day) = (
        digits(parts.next()?)?,
        digits(parts.next()?)?,
        digits(parts.next()?)?,
    );
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || date.as_bytes()[4] != b'-' {
        return None;
    }
    let mut seconds = days_from_civil(year, month, day) * DAY;
    let Some(rest) = rest.strip_prefix(['T', ' ']) else {
        return rest.is_empty().then_some(seconds);
    };
    let (clock, offset) = match rest.find(['Z', '+', '-']) {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let mut fields = clock.split(':');
    let hours = digits(fields.next()?)?;
    let minutes = digits(fields.next()?)?;
    let whole_seconds = match fields.next() {
        Some(field) => digits(field.split('.').next()?)?,
        None => 0,
    };
    if fields.next().is_some() || hours > 23 || minutes > 59 || whole_seconds > 60 {
        return None;
    }
    seconds += hours * 3600 + minutes * 60 + whole_seconds;
    match offset {
        "" | "Z" => Some(seconds),
        signed => {
            let (sign, amount) = signed.split_at(1);
            let amount = amount.replace(':', "");
            if amount.len() != 4 {
                return None;
            }
            let shift = digits(&amount[..2])? * 3600 + digits(&amount[2..])? * 60;
            Some(if sign == "+" {
                seconds - shift
            } else {
                seconds + shift
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_unix_seconds() {
        assert_eq!(parse_date_time("2024-03-01"), Some(19_783 * DAY));
        assert_eq!(
            parse_date_time("2024-03-01T09:30:15Z"),
            Some(19_783 * DAY + 34_215)
        );
        assert_eq!(
            parse_date_time("2024-03-01 09:30"),
            Some(19_783 * DAY + 34_200)
        );
        assert_eq!(
            parse_date_time("2024-03-01T09:30:00.250+01:00"),
            Some(19_783 * DAY + 30_600)
        );
        assert_eq!(
            parse_date_time("2024-03-01T09:30:00-0100"),
            Some(19_783 * DAY + 37_800)
        );
        for bad in [
            "2024-13-01",
            "2024/03/01",
            "2024-03-01x",
            "2024-03-01T25:00",
            "03-01-2024",
            "2024-03",
        ] {
            assert_eq!(parse_date_time(bad), None, "{bad}");
        }
        assert_eq!(unix_time(Cell::Int(1_709_285_400)), Some(1_709_285_400));
        assert_eq!(unix_time(Cell::Int(1_709_285_400_000)), Some(1_709_285_400));
    }

    #[test]
    fn bars_start_on_their_period() {
        let t = parse_date_time("2024-03-13T14:47:00Z").unwrap(); // a Wednesday
        let at = |text: &str| parse_date_time(text).unwrap();
        assert_eq!(
            Resolution::Minutes(5).bar_start(t),
            at("2024-03-13T14:45:00Z")
        );
        assert_eq!(
            Resolution::Minutes(60).bar_start(t),
            at("2024-03-13T14:00:00Z")
        );
        assert_eq!(Resolution::Day.bar_start(t), at("2024-03-13"));
        assert_eq!(Resolution::Week.bar_start(t), at("2024-03-11"));
        assert_eq!(
            Resolution::Week.bar_start(at("2024-03-11")),
            at("2024-03-11")
        );
        assert_eq!(
            Resolution::Week.bar_start(at("2024-03-10")),
            at("2024-03-04")
        );
        assert_eq!(Resolution::Month.bar_start(t), at("2024-03-01"));
        assert_eq!(Resolution::parse("1D"), Some(Resolution::Day));
        assert_eq!(Resolution::parse("60"), Some(Resolution::Minutes(60)));
        for bad in ["0", "2D", "S", "", "99999"] {
            assert_eq!(Resolution::parse(bad), None, "{bad}");
        }
    }
}
