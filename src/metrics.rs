//! What `GET /metrics` reports, in Prometheus' text exposition format (version 0.0.4): requests
//! by route kind and status, a latency histogram, bytes sent ([`Metrics`]), and the last status
//! of each widget's endpoint for the status page ([`LastStatuses`]). The app adds the gauges it
//! reads when scraped (caches, live subscribers, problems) through [`Exposition`].
//!
//! Invariant: recording a request is a few relaxed atomic additions, with no lock and no
//! allocation (every request does it); all formatting happens when `/metrics` is scraped.

use std::collections::HashMap;
use std::fmt::{Display, Write as _};
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// The kind of route a request reached, the `route` label of the request counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/`: the status, as JSON or as the HTML page.
    Status,
    /// `widgets.json`, `apps.json`/`templates.json`, `agents.json`.
    Manifest,
    /// `/files/<path>`.
    File,
    /// A widget's endpoint (and the UDF routes below an advanced chart's).
    Widget,
    Options,
    /// A live_grid's `wsEndpoint` (the handshake, or a plain GET's 426).
    WebSocket,
    Metrics,
    /// `/health`.
    Health,
    /// A CORS preflight (`OPTIONS`).
    Preflight,
    /// No route: a refused `Host` or key, an unknown path, a request the HTTP layer refused,
    /// an internal error.
    Other,
}

const ROUTES: [Route; 10] = [
    Route::Status,
    Route::Manifest,
    Route::File,
    Route::Widget,
    Route::Options,
    Route::WebSocket,
    Route::Metrics,
    Route::Health,
    Route::Preflight,
    Route::Other,
];

impl Route {
    fn label(self) -> &'static str {
        match self {
            Route::Status => "status",
            Route::Manifest => "manifest",
            Route::File => "file",
            Route::Widget => "widget",
            Route::Options => "options",
            Route::WebSocket => "websocket",
            Route::Metrics => "metrics",
            Route::Health => "health",
            Route::Preflight => "preflight",
            Route::Other => "other",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Statuses counted apart: 100 to 599 (anything else is counted as 599).
const STATUSES: std::ops::RangeInclusive<u16> = 100..=599;
const STATUS_COUNT: usize = 500;

/// Upper bounds of the latency histogram's buckets, in microseconds (then `+Inf`).
const BUCKETS_MICROS: [u64; 14] = [
    250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 10_000_000,
];

/// Requests, latency and bytes since the server started.
pub struct Metrics {
    /// By route kind, then status: `ROUTES.len() * STATUS_COUNT` counters.
    requests: Box<[AtomicU64]>,
    /// Requests by the first bucket holding their latency; the last one is `+Inf`.
    latency: [AtomicU64; BUCKETS_MICROS.len() + 1],
    latency_micros: AtomicU64,
    bytes: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            requests: (0..ROUTES.len() * STATUS_COUNT)
                .map(|_| AtomicU64::new(0))
                .collect(),
            latency: std::array::from_fn(|_| AtomicU64::new(0)),
            latency_micros: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// Counts one answer: its route kind, status, body bytes sent and the time it took.
    pub fn record(&self, route: Route, status: u16, bytes: usize, took: Duration) {
        let status = status.clamp(*STATUSES.start(), *STATUSES.end());
        let index = route.index() * STATUS_COUNT + usize::from(status - STATUSES.start());
        self.requests[index].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let bucket = BUCKETS_MICROS
            .iter()
            .position(|bound| micros <= *bound)
            .unwrap_or(BUCKETS_MICROS.len());
        self.latency[bucket].fetch_add(1, Ordering::Relaxed);
        self.latency_micros.fetch_add(micros, Ordering::Relaxed);
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// The request counter, the latency histogram and the bytes sent.
    pub fn write(&self, out: &mut Exposition) {
        out.family(
            "openbb_files_requests_total",
            "counter",
            "Requests answered, by route kind and status.",
        );
        for route in ROUTES {
            let counters = &self.requests[route.index() * STATUS_COUNT..][..STATUS_COUNT];
            for (status, counter) in STATUSES.zip(counters) {
                let count = counter.load(Ordering::Relaxed);
                if count > 0 {
                    let status = status.to_string();
                    let labels = [("route", route.label()), ("status", status.as_str())];
                    out.sample("openbb_files_requests_total", &labels, count);
                }
            }
        }
        let name = "openbb_files_request_duration_seconds";
        out.family(
            name,
            "histogram",
            "Time to make an answer, from the request read to the answer ready to send.",
        );
        let mut below = 0;
        for (index, counter) in self.latency.iter().enumerate() {
            below += counter.load(Ordering::Relaxed);
            let bound = match BUCKETS_MICROS.get(index) {
                Some(micros) => seconds(*micros),
                None => "+Inf".to_string(),
            };
            out.sample(&format!("{name}_bucket"), &[("le", &bound)], below);
        }
        let micros = self.latency_micros.load(Ordering::Relaxed);
        out.sample(&format!("{name}_sum"), &[], seconds(micros));
        out.sample(&format!("{name}_count"), &[], below);
        out.family(
            "openbb_files_response_bytes_total",
            "counter",
            "Bytes of response bodies sent.",
        );
        let bytes = self.bytes.load(Ordering::Relaxed);
        out.sample("openbb_files_response_bytes_total", &[], bytes);
    }
}

/// Microseconds as seconds in decimal, exactly (`2500` is `0.0025`).
fn seconds(micros: u64) -> String {
    let text = format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Prometheus' text exposition format, written family by family.
#[derive(Default)]
pub struct Exposition(String);

/// The `Content-Type` of [`Exposition`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

impl Exposition {
    /// Starts the metric family `name` of `kind` (`counter`, `gauge`, `histogram`).
    pub fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    /// One sample of the family started last; label values are escaped.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Display) {
        self.0.push_str(name);
        if !labels.is_empty() {
            let labels: Vec<String> = labels
                .iter()
                .map(|(label, value)| format!("{label}=\"{}\"", escape_label(value)))
                .collect();
            let _ = write!(self.0, "{{{}}}", labels.join(","));
        }
        let _ = writeln!(self.0, " {value}");
    }

    /// A family of one gauge sample per label set.
    pub fn gauge(&mut self, name: &str, help: &str, samples: &[(&[(&str, &str)], u64)]) {
        self.family(name, "gauge", help);
        for (labels, value) in samples {
            self.sample(name, labels, value);
        }
    }

    /// A family of one counter sample per label set.
    pub fn counter(&mut self, name: &str, help: &str, samples: &[(&[(&str, &str)], u64)]) {
        self.family(name, "counter", help);
        for (labels, value) in samples {
            self.sample(name, labels, value);
        }
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A label value with `\`, `"` and newlines escaped, as the format requires.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The last status of each widget endpoint requested, and when it was answered: one atomic
/// (milliseconds since 1970 and the status, packed) per endpoint, so recording takes a shared
/// read lock and one store. An endpoint gets its slot on its first request (the write lock);
/// only served widgets' endpoints are recorded, so the slots are bounded by the manifests.
#[derive(Default)]
pub struct LastStatuses {
    by_endpoint: RwLock<HashMap<String, AtomicU64>>,
}

impl LastStatuses {
    pub fn record(&self, endpoint: &str, status: u16, at: SystemTime) {
        let millis = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as u64);
        let packed = (millis << 16) | u64::from(status);
        {
            let slots = self.by_endpoint.read().unwrap_or_else(|p| p.into_inner());
            if let Some(slot) = slots.get(endpoint) {
                slot.store(packed, Ordering::Relaxed);
                return;
            }
        }
        let mut slots = self.by_endpoint.write().unwrap_or_else(|p| p.into_inner());
        slots.insert(endpoint.to_string(), AtomicU64::new(packed));
    }

    /// The last status of `endpoint` and when it was answered; `None` before its first request.
    pub fn get(&self, endpoint: &str) -> Option<(u16, SystemTime)> {
        let slots = self.by_endpoint.read().unwrap_or_else(|p| p.into_inner());
        let packed = slots.get(endpoint)?.load(Ordering::Relaxed);
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(packed >> 16);
        Some(((packed & 0xffff) as u16, at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_route_and_status_with_a_histogram() {
        let metrics = Metrics::default();
        metrics.record(Route::Widget, 200, 100, Duration::from_micros(300));
        metrics.record(Route::Widget, 200, 50, Duration::from_millis(3));
        metrics.record(Route::Other, 404, 20, Duration::from_secs(60));
        let mut out = Exposition::default();
        metrics.write(&mut out);
        let text = out.into_string();
        for line in [
            "# TYPE openbb_files_requests_total counter",
            "openbb_files_requests_total{route=\"widget\",status=\"200\"} 2",
            "openbb_files_requests_total{route=\"other\",status=\"404\"} 1",
            "# TYPE openbb_files_request_duration_seconds histogram",
            "openbb_files_request_duration_seconds_bucket{le=\"0.00025\"} 0",
            "openbb_files_request_duration_seconds_bucket{le=\"0.0005\"} 1",
            "openbb_files_request_duration_seconds_bucket{le=\"0.005\"} 2",
            "openbb_files_request_duration_seconds_bucket{le=\"10\"} 2",
            "openbb_files_request_duration_seconds_bucket{le=\"+Inf\"} 3",
            "openbb_files_request_duration_seconds_sum 60.0033",
            "openbb_files_request_duration_seconds_count 3",
            "openbb_files_response_bytes_total 170",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line} in\n{text}");
        }
        assert!(!text.contains("status=\"201\""), "{text}");
    }

    #[test]
    fn odd_statuses_and_label_values_stay_well_formed() {
        let metrics = Metrics::default();
        metrics.record(Route::Other, 42, 0, Duration::ZERO);
        let mut out = Exposition::default();
        metrics.write(&mut out);
        out.gauge("g", "help", &[(&[("name", "a\"b\\c\nd")], 7)]);
        let text = out.into_string();
        assert!(
            text.contains("{route=\"other\",status=\"100\"} 1"),
            "{text}"
        );
        assert!(text.contains("g{name=\"a\\\"b\\\\c\\nd\"} 7\n"), "{text}");
    }

    #[test]
    fn seconds_are_exact_decimals() {
        assert_eq!(seconds(0), "0");
        assert_eq!(seconds(2_500), "0.0025");
        assert_eq!(seconds(1_000_000), "1");
        assert_eq!(seconds(60_003_300), "60.0033");
    }

    #[test]
    fn the_last_status_of_each_endpoint_is_kept() {
        let statuses = LastStatuses::default();
        assert_eq!(statuses.get("prices"), None);
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_709_251_200_250);
        statuses.record("prices", 200, at);
        statuses.record("prices", 404, at + Duration::from_secs(1));
        statuses.record("news", 500, at);
        assert_eq!(
            statuses.get("prices"),
            Some((404, at + Duration::from_secs(1)))
        );
        assert_eq!(statuses.get("news"), Some((500, at)));
    }
}
