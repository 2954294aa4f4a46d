//! Remote data: a widget's `backend.file` may be an `http(s)` URL, fetched with ureq.
//!
//! A fetch is bounded by [`TIMEOUT`] and [`MAX_BYTES`]; its bytes are kept for the TTL the widget
//! sets (`backend.ttl`, seconds; default [`DEFAULT_TTL`]) and then fetched again, within a byte
//! budget over all URLs (the least recently used go first). When the upstream fails after a good
//! fetch, the last good bytes keep serving, marked stale (the caller lists the warning at `/`).
//! Invariants: every fetched body gets a [`FileVersion`] of its own, so caches keyed by version
//! never serve an older body for a newer one; a `{param}` of a `backend.file` URL stands only in
//! its path or query ([`check_template`], at load) and is filled percent-encoded ([`encode`]),
//! so a request can neither choose the upstream nor add to its URL.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::cache::{ALLOCATION, CacheStats, Counters, FileVersion, Lru};
use crate::http::percent_encode;
use crate::template::placeholders;

/// How long one fetch may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest body fetched.
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;
/// How long fetched bytes are used when the widget sets no `ttl`.
pub const DEFAULT_TTL: Duration = Duration::from_secs(60);
/// Bytes of fetched bodies kept (`--remote-cache-bytes`): four of the largest a fetch may bring.
pub const DEFAULT_CACHE_BYTES: usize = 4 * MAX_BYTES as usize;

/// Whether a `backend.file` names a remote source.
pub fn is_remote(file: &str) -> bool {
    file.starts_with("http://") || file.starts_with("https://")
}

/// `Err` for an `https://` URL when this build has no HTTPS client (the `https-client` feature,
/// on by default, left out by `--no-default-features`), saying how to build one that has.
pub fn fetchable(url: &str) -> Result<(), String> {
    match cfg!(feature = "https-client") || !url.starts_with("https://") {
        true => Ok(()),
        false => Err(
            "https:// needs the https-client feature, which this build left out \
                      (--no-default-features): build with default features, e.g. cargo install \
                      --locked --path . in the source folder"
                .to_string(),
        ),
    }
}

/// Checks a remote `backend.file` template: this build can fetch it ([`fetchable`]), and its
/// placeholders stand in the path and the query only, never in the scheme, user info, host or
/// port (a request could then choose the upstream) nor in the fragment (never sent).
pub fn check_template(url: &str) -> Result<(), String> {
    placeholders(url)?;
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or(after_scheme);
    let fragment = url.split_once('#').map(|(_, fragment)| fragment);
    let misplaced = match (authority.contains('{'), fragment) {
        (true, _) => "the user info, host or port",
        (false, Some(fragment)) if fragment.contains('{') => "the fragment",
        _ => return fetchable(url),
    };
    Err(format!(
        "'{url}': placeholders may stand in the path and the query only, not in {misplaced}"
    ))
}

/// A query value for the placeholder at `at` in a remote template, percent-encoded so that it
/// stays one path segment or one query value (every byte but letters, digits and `-._~` is
/// encoded; `check_template` has kept placeholders out of the host and the fragment). In the
/// path, `.` and `..` are refused (`None`): they would climb the upstream's path.
pub fn encode(template: &str, at: usize, value: &str) -> Option<String> {
    let in_path = !template[..at].contains('?');
    (!in_path || !matches!(value, "." | "..")).then(|| percent_encode(value))
}

/// Why a fetch brought no body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// No answer, or an answer that is not a success (the client's message).
    Failed(String),
    /// The body is larger than the limit, in bytes.
    TooLarge { limit: u64 },
    /// The body broke off or could not be decoded (the client's message).
    Unreadable(String),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Failed(why) => write!(f, "upstream failed: {why}"),
            FetchError::TooLarge { limit } => {
                write!(f, "upstream answer is larger than {limit} bytes")
            }
            FetchError::Unreadable(why) => write!(f, "upstream answer could not be read: {why}"),
        }
    }
}

/// A remote body as served: the bytes, their version, and why they are stale, if they are.
#[derive(Clone)]
pub struct Fetched {
    pub bytes: Arc<[u8]>,
    pub version: FileVersion,
    pub stale: Option<String>,
}

struct Entry {
    bytes: Arc<[u8]>,
    version: FileVersion,
    fetched: Instant,
}

/// Fetches remote bodies and keeps them, by URL, within a byte budget (the least recently used
/// go first; a body larger than half the budget is served but not kept).
pub struct Remote {
    agent: ureq::Agent,
    max_bytes: u64,
    entries: Mutex<Lru<str, Entry>>,
    generation: AtomicU64,
    /// Kept bodies used (hits) and fetches (misses), for `/metrics`.
    counters: Counters,
    /// Fetches that failed (a stale copy served or not), for `/metrics`.
    failures: AtomicU64,
}

impl Default for Remote {
    fn default() -> Remote {
        Remote::new(TIMEOUT, MAX_BYTES, DEFAULT_CACHE_BYTES)
    }
}

impl Remote {
    /// Fetches bounded by `timeout` and `max_bytes`, keeping `budget` bytes of bodies.
    pub fn new(timeout: Duration, max_bytes: u64, budget: usize) -> Remote {
        Remote {
            agent: ureq::Agent::config_builder()
                .timeout_global(Some(timeout))
                .build()
                .into(),
            max_bytes,
            entries: Mutex::new(Lru::new(budget)),
            generation: AtomicU64::new(0),
            counters: Counters::default(),
            failures: AtomicU64::new(0),
        }
    }

    /// `url`'s body: kept bytes while younger than `ttl`, else fetched; the kept bytes, marked
    /// stale, when the fetch fails; why the fetch failed when there is nothing to serve.
    pub fn get(&self, url: &str, ttl: Duration) -> Result<Fetched, FetchError> {
        let kept = |stale: Option<String>| {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            entries.get(url).and_then(|entry| {
                let fresh = entry.fetched.elapsed() < ttl;
                (fresh || stale.is_some()).then(|| Fetched {
                    bytes: Arc::clone(&entry.bytes),
                    version: entry.version,
                    stale: stale.clone(),
                })
            })
        };
        let fresh = kept(None);
        self.counters.count(fresh.is_some());
        if let Some(fresh) = fresh {
            return Ok(fresh);
        }
        match self.fetch(url) {
            Ok(bytes) => {
                let generation = self.generation.fetch_add(1, Ordering::SeqCst);
                let version =
                    FileVersion::fetched(bytes.len() as u64, SystemTime::now(), generation);
                let bytes: Arc<[u8]> = bytes.into();
                let entry = Entry {
                    bytes: Arc::clone(&bytes),
                    version,
                    fetched: Instant::now(),
                };
                let weight = bytes.len() + ALLOCATION;
                self.entries
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(url, entry, weight);
                Ok(Fetched {
                    bytes,
                    version,
                    stale: None,
                })
            }
            Err(why) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                kept(Some(format!("{why}; serving the copy fetched earlier"))).ok_or(why)
            }
        }
    }

    /// What the cache of fetched bodies holds and how often it answered.
    pub fn stats(&self) -> CacheStats {
        CacheStats::of(&self.entries, &self.counters)
    }

    /// How many fetches failed since the start.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let mut response = self
            .agent
            .get(url)
            .call()
            .map_err(|err| FetchError::Failed(err.to_string()))?;
        let body = response.body_mut().with_config().limit(self.max_bytes);
        body.read_to_vec().map_err(|err| match err {
            ureq::Error::BodyExceedsLimit(limit) => FetchError::TooLarge { limit },
            err => FetchError::Unreadable(err.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// A loopback upstream answering each connection with the next of `bodies` (`None`: a 500).
    fn upstream(bodies: Vec<Option<Vec<u8>>>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/data.csv", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for (body, stream) in bodies.into_iter().zip(listener.incoming()) {
                let mut stream = stream.unwrap();
                stream.set_read_timeout(Some(TIMEOUT)).unwrap();
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let (status, body) = match body {
                    Some(body) => ("200 OK", body),
                    None => ("500 Internal Server Error", b"down".to_vec()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        url
    }

    #[test]
    fn bodies_are_kept_for_the_ttl_then_refetched_and_served_stale_on_failure() {
        let url = upstream(vec![
            Some(b"a\n1\n".to_vec()),
            Some(b"a\n2\n".to_vec()),
            None,
        ]);
        let remote = Remote::default();
        let ttl = Duration::from_millis(300);
        let first = remote.get(&url, ttl).unwrap();
        assert_eq!(&*first.bytes, b"a\n1\n");
        assert_eq!(
            remote.get(&url, ttl).unwrap().version,
            first.version,
            "kept, not refetched"
        );
        std::thread::sleep(Duration::from_millis(350));
        let second = remote.get(&url, ttl).unwrap();
        assert_eq!(&*second.bytes, b"a\n2\n");
        assert_ne!(second.version, first.version);
        std::thread::sleep(Duration::from_millis(350));
        let stale = remote.get(&url, ttl).unwrap();
        assert_eq!(&*stale.bytes, b"a\n2\n");
        let why = stale.stale.unwrap();
        assert!(
            why.contains("upstream failed") && why.contains("serving the copy"),
            "{why}"
        );
    }

    /// Copies of many URLs stay within the budget, the least recently used going first.
    #[test]
    fn copies_are_kept_within_the_budget() {
        let url = upstream(vec![Some(vec![b'x'; 1000]); 12]);
        let remote = Remote::new(TIMEOUT, MAX_BYTES, 4000);
        for n in 0..10 {
            let copy = remote.get(&format!("{url}?n={n}"), DEFAULT_TTL).unwrap();
            assert_eq!(copy.bytes.len(), 1000);
        }
        let CacheStats {
            entries: count,
            bytes: total,
            ..
        } = remote.stats();
        assert!(total <= 4000 && count < 4, "{count} copies, {total} bytes");
        let kept = remote.get(&format!("{url}?n=9"), DEFAULT_TTL).unwrap();
        assert_eq!(
            kept.bytes.len(),
            1000,
            "the most recent copy is kept, not fetched"
        );
    }

    #[test]
    fn placeholders_stand_in_the_path_and_query_only_and_are_encoded() {
        for good in [
            "http://example.com/{t}.csv",
            "http://example.com:8080/a/{t}?s={t}&k=1",
            "http://example.com?s={t}#top",
        ] {
            assert_eq!(check_template(good), Ok(()), "{good}");
        }
        for (bad, place) in [
            ("http://{host}/x", "host"),
            ("http://example.{tld}/x", "host"),
            ("http://example.com:{port}/x", "port"),
            ("https://{user}:pw@example.com/x", "user info"),
            ("https://example.com{p}/x", "host"),
            ("https://example.com/x#{f}", "fragment"),
        ] {
            let err = check_template(bad).unwrap_err();
            assert!(err.contains(place), "{bad}: {err}");
        }
        assert!(check_template("http://example.com/{a").is_err());
        let template = "http://example.com/r/{t}.csv?s={t}";
        let (in_path, in_query) = (
            template.find("{t}").unwrap(),
            template.rfind("{t}").unwrap(),
        );
        assert_eq!(
            encode(template, in_query, "A&b=1#/ é").unwrap(),
            "A%26b%3D1%23%2F%20%C3%A9"
        );
        assert_eq!(encode(template, in_path, "a/../b").unwrap(), "a%2F..%2Fb");
        assert_eq!(encode(template, in_path, ".."), None);
        assert_eq!(encode(template, in_query, "..").unwrap(), "..");
    }

    #[test]
    fn https_needs_the_https_client_feature() {
        let https = check_template("https://example.com/{t}.csv");
        assert_eq!(https.is_ok(), cfg!(feature = "https-client"), "{https:?}");
        if let Err(message) = https {
            assert!(
                message.contains("cargo install --locked --path ."),
                "{message}"
            );
        }
        assert_eq!(fetchable("http://example.com/x.csv"), Ok(()));
    }

    #[test]
    fn fetches_are_bounded_in_size_and_fail_without_a_copy() {
        let url = upstream(vec![Some(vec![b'x'; 2048])]);
        let remote = Remote::new(TIMEOUT, 1024, DEFAULT_CACHE_BYTES);
        let err = remote.get(&url, DEFAULT_TTL).err().unwrap();
        assert_eq!(err, FetchError::TooLarge { limit: 1024 });
        assert_eq!(err.to_string(), "upstream answer is larger than 1024 bytes");
        let closed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let err = Remote::default()
            .get(&format!("http://{closed}/x"), DEFAULT_TTL)
            .err()
            .unwrap();
        assert!(matches!(err, FetchError::Failed(_)), "{err:?}");
        assert!(err.to_string().starts_with("upstream failed: "), "{err}");
    }
}
