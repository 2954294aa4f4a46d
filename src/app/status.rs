//! The answers about the server itself: `/` as JSON ([`App::info`]) or, for a browser, the
//! status page (`status_page.rs`), and `/metrics` in Prometheus' text format. Both are
//! `no-store`: they change every second.

use crate::cache::CacheStats;
use crate::http::{Body, Request, Response};
use crate::manifest::Manifest;
use crate::metrics::Exposition;
use crate::status_page::{self, WidgetRow};
use crate::validate::Severity;

use super::App;

impl App {
    pub(super) fn info(&self, manifest: &Manifest) -> Response {
        Response::json(
            200,
            &serde_json::json!({
                "name": env!("CARGO_PKG_NAME"),
                "version": env!("CARGO_PKG_VERSION"),
                "widgets": manifest.widget_count(),
                "auth_required": self.auth.required(),
                "uptime_seconds": self.started.elapsed().as_secs(),
                "live_subscribers": self.live.subscribers(),
                "live_queued_bytes": self.live.queued_bytes(),
                "problems": self.problems().into_iter().map(|p| p.line).collect::<Vec<_>>(),
            }),
        )
        // `/` answers by `Accept` (JSON or the status page) and changes every second: neither
        // answer is kept by a cache, so none can be served for the other.
        .with_header("Cache-Control", "no-store")
    }

    /// The status page (`/` in a browser): what [`App::info`] says, with each widget's last
    /// answer; the URL to paste into Workspace is the one the browser used.
    pub(super) fn status_page(&self, request: &Request, manifest: &Manifest) -> Response {
        let served: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&manifest.served.bytes).unwrap_or_default();
        let text = |entry: &serde_json::Value, key: &str, default: &str| {
            entry[key].as_str().unwrap_or(default).to_string()
        };
        let widgets = served
            .iter()
            .map(|(id, entry)| WidgetRow {
                name: text(entry, "name", id),
                kind: text(entry, "type", "table"),
                endpoint: text(entry, "endpoint", ""),
                last: self.last_statuses.get(id),
            })
            .collect();
        // The Host check has passed: it is a name this server answers to.
        let host = request.header("host").unwrap_or("127.0.0.1");
        let url = format!("{}://{host}", self.scheme);
        status_page::render(&status_page::Status {
            url: &url,
            auth_required: self.auth.required(),
            origins: &self.cors_origins,
            widgets,
            problems: &self.problems(),
        })
    }

    /// `/metrics` in Prometheus' text format: the requests counted, the caches, live_grid
    /// subscribers, failed remote fetches and the current problems.
    pub(super) fn metrics(&self) -> Response {
        let mut out = Exposition::default();
        self.metrics.write(&mut out);
        type Figure = fn(&CacheStats) -> u64;
        let cache_families: [(&str, &str, &str, Figure); 4] = [
            (
                "openbb_files_cache_bytes",
                "gauge",
                "Bytes a cache holds, counted against its budget.",
                |stats| stats.bytes as u64,
            ),
            (
                "openbb_files_cache_entries",
                "gauge",
                "Entries a cache holds.",
                |stats| stats.entries as u64,
            ),
            (
                "openbb_files_cache_hits_total",
                "counter",
                "Answers a cache gave from memory.",
                |stats| stats.hits,
            ),
            (
                "openbb_files_cache_misses_total",
                "counter",
                "Times a cache had to read, fetch or render.",
                |stats| stats.misses,
            ),
        ];
        let caches = self.files.cache_stats();
        for (name, kind, help, figure) in cache_families {
            out.family(name, kind, help);
            for (cache, stats) in &caches {
                out.sample(name, &[("cache", cache)], figure(stats));
            }
        }
        out.gauge(
            "openbb_files_live_subscribers",
            "live_grid WebSockets open.",
            &[(&[], self.live.subscribers() as u64)],
        );
        out.counter(
            "openbb_files_remote_fetch_failures_total",
            "Fetches of remote data sources that failed.",
            &[(&[], self.files.remote.failures())],
        );
        let problems = self.problems();
        let count = |severity| problems.iter().filter(|p| p.severity == severity).count();
        out.gauge(
            "openbb_files_problems",
            "Problems listed at / now, by severity.",
            &[
                (&[("severity", "error")], count(Severity::Error) as u64),
                (&[("severity", "warning")], count(Severity::Warning) as u64),
            ],
        );
        out.gauge(
            "openbb_files_uptime_seconds",
            "Seconds since the server started.",
            &[(&[], self.started.elapsed().as_secs())],
        );
        out.gauge(
            "openbb_files_build_info",
            "The version serving, as a label.",
            &[(&[("version", env!("CARGO_PKG_VERSION"))], 1)],
        );
        let body = Body::Owned(out.into_string().into_bytes());
        Response::new(200, crate::metrics::CONTENT_TYPE, body)
            .with_header("Cache-Control", "no-store")
    }
}
