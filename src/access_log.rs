//! The access log: one line per answer (text or JSON, through `log.rs`), and the request id
//! each answer carries as `X-Request-Id`.
//!
//! Invariants: a line holds the time, the client (the `X-Forwarded-For` client only when the
//! peer is a `--trust-proxy`), the request id, the method, the target with its secrets already
//! redacted by the caller, the status, the body's bytes and the microseconds taken; a client's
//! own request id is echoed only when it is short and plain ([`is_plain_request_id`]), so
//! nothing a log or a header could trip on is written. `server.rs` calls it; it knows nothing
//! of tiny_http.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime};

use crate::finish::Exchange;
use crate::http::Request;
use crate::log::{self, LogFormat};
use crate::proxy::{self, Network};

/// How answers are logged, and the request ids they carry.
pub struct AccessLog {
    /// `None` when quiet.
    format: Option<LogFormat>,
    /// Proxies whose `X-Forwarded-For` is believed.
    trusted: Vec<Network>,
    ids: RequestIds,
}

impl AccessLog {
    /// Lines in `format` (`None`: no access log), naming the forwarded client for requests
    /// through a `trusted` proxy.
    pub fn new(format: Option<LogFormat>, trusted: Vec<Network>) -> AccessLog {
        AccessLog {
            format,
            trusted,
            ids: RequestIds::new(),
        }
    }
}

/// Ids of the requests that come without a usable `X-Request-Id`: a tag of this process (from
/// the time it started and its pid, in hex) and a sequence number, unique across restarts in
/// practice and cheap to make.
struct RequestIds {
    tag: u32,
    next: AtomicU64,
}

impl RequestIds {
    fn new() -> RequestIds {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos());
        RequestIds {
            tag: (nanos as u32) ^ std::process::id().rotate_left(16),
            next: AtomicU64::new(1),
        }
    }

    /// The id of a request that sent `offered` as its `X-Request-Id`: that one when it is
    /// short and plain (so that a proxy's id ties its log line to ours), else a new one.
    fn for_request(&self, offered: Option<&str>) -> String {
        match offered.filter(|id| is_plain_request_id(id)) {
            Some(id) => id.to_string(),
            None => {
                let sequence = self.next.fetch_add(1, Ordering::Relaxed);
                format!("{:08x}-{sequence}", self.tag)
            }
        }
    }
}

/// The longest `X-Request-Id` taken from a client.
const MAX_REQUEST_ID: usize = 64;

/// Whether a client's request id may be echoed and logged: 1 to [`MAX_REQUEST_ID`] letters,
/// digits and `-_.:` (a UUID, a proxy's hex id), nothing a log or a header could trip on.
fn is_plain_request_id(id: &str) -> bool {
    (1..=MAX_REQUEST_ID).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// What the access log says of a request besides its answer, and the id it is answered with.
pub struct Logged<'a> {
    log: &'a AccessLog,
    started: Instant,
    id: String,
    peer: Option<IpAddr>,
    client: Option<IpAddr>,
}

impl<'a> Logged<'a> {
    pub fn new(log: &'a AccessLog, request: &Request, started: Instant) -> Logged<'a> {
        let forwarded_for = || {
            let headers = request.headers.iter();
            let values = headers.filter(|(name, _)| name == "x-forwarded-for");
            values.map(|(_, value)| value.as_str()).collect::<Vec<_>>()
        };
        let client = request.remote.map(|peer| match log.trusted.is_empty() {
            true => peer,
            false => proxy::client(&log.trusted, peer, &forwarded_for()),
        });
        Logged {
            log,
            started,
            id: log.ids.for_request(request.header("x-request-id")),
            peer: request.remote,
            client,
        }
    }

    /// What finishing the answer to a request needs to know of the exchange; `http_1_0`: the
    /// request came in HTTP/1.0.
    pub fn exchange(&self, http_1_0: bool) -> Exchange<'_> {
        Exchange {
            id: &self.id,
            http_1_0,
        }
    }

    /// Logs the answer (unless quiet); `path` is the target as the client sent it, its
    /// secrets already redacted.
    pub fn answered(&self, method: &str, path: &str, status: u16, bytes: usize) {
        let Some(format) = self.log.format else {
            return;
        };
        let micros = u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let line = AccessLine {
            time: log::rfc3339(SystemTime::now()),
            client: self.client,
            peer: self.peer,
            id: &self.id,
            method,
            path,
            status,
            bytes,
            micros,
        };
        match format {
            LogFormat::Text => log::text(&line.text()),
            LogFormat::Json => log::json(&line.json()),
        }
    }
}

/// One access-log line; `path` has had its secrets removed. Control characters are escaped by
/// [`log::text`] and [`log::json`].
struct AccessLine<'a> {
    /// RFC 3339, UTC.
    time: String,
    /// The client: the peer, or whom a trusted proxy forwarded for (`None`: not known, as for
    /// a request the HTTP layer refused).
    client: Option<IpAddr>,
    peer: Option<IpAddr>,
    id: &'a str,
    method: &'a str,
    path: &'a str,
    status: u16,
    bytes: usize,
    micros: u64,
}

impl AccessLine<'_> {
    /// `TIME CLIENT REQUEST-ID METHOD PATH STATUS BYTES MICROSECONDSus`.
    fn text(&self) -> String {
        let client = self
            .client
            .map_or_else(|| "-".to_string(), |ip| ip.to_string());
        format!(
            "{} {client} {} {} {} {} {} {}us",
            self.time, self.id, self.method, self.path, self.status, self.bytes, self.micros
        )
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "time": self.time,
            "client": self.client.map(|ip| ip.to_string()),
            "peer": self.peer.map(|ip| ip.to_string()),
            "request_id": self.id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "bytes": self.bytes,
            "micros": self.micros,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_lines_in_both_formats() {
        let line = AccessLine {
            time: "2024-03-01T00:00:00.250Z".into(),
            client: Some("203.0.113.7".parse().unwrap()),
            peer: Some("10.0.0.2".parse().unwrap()),
            id: "5f3a9c01-42",
            method: "GET",
            path: "/prices?a=1",
            status: 200,
            bytes: 42,
            micros: 7,
        };
        assert_eq!(
            line.text(),
            "2024-03-01T00:00:00.250Z 203.0.113.7 5f3a9c01-42 GET /prices?a=1 200 42 7us"
        );
        assert_eq!(
            line.json(),
            serde_json::json!({"time": "2024-03-01T00:00:00.250Z", "client": "203.0.113.7",
                               "peer": "10.0.0.2", "request_id": "5f3a9c01-42",
                               "method": "GET", "path": "/prices?a=1", "status": 200,
                               "bytes": 42, "micros": 7})
        );
        let unknown = AccessLine {
            client: None,
            peer: None,
            ..line
        };
        assert!(
            unknown.text().contains("Z - 5f3a9c01-42 GET"),
            "{}",
            unknown.text()
        );
        assert_eq!(unknown.json()["client"], serde_json::Value::Null);
    }

    #[test]
    fn request_ids_are_the_clients_when_plain_else_ours() {
        let ids = RequestIds::new();
        let uuid = "3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f";
        assert_eq!(ids.for_request(Some(uuid)), uuid);
        assert_eq!(ids.for_request(Some("edge:abc.1_2")), "edge:abc.1_2");
        let first = ids.for_request(None);
        let second = ids.for_request(None);
        assert_ne!(first, second);
        assert!(is_plain_request_id(&first), "{first}");
        for refused in ["", "a b", "a\u{1b}[2J", "<x>", "a\"b", &"x".repeat(65), "é"] {
            let id = ids.for_request(Some(refused));
            assert_ne!(id, refused);
            assert!(is_plain_request_id(&id), "{id}");
        }
    }
}
