//! Remote data: a widget's `backend.file` may be an `http(s)` URL, fetched with ureq.
//!
//! A fetch is bounded by [`TIMEOUT`] and [`MAX_BYTES`]; its bytes are kept for the TTL the widget
//! sets (`backend.ttl`, seconds; default [`DEFAULT_TTL`]) and then fetched again. When the
//! upstream fails after a good fetch, the last good bytes keep serving, marked stale (the caller
//! lists the warning at `/`). Invariant: every fetched body gets a [`FileVersion`] of its own, so
//! caches keyed by version never serve an older body for a newer one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::cache::FileVersion;

/// How long one fetch may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest body fetched.
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;
/// How long fetched bytes are used when the widget sets no `ttl`.
pub const DEFAULT_TTL: Duration = Duration::from_secs(60);

/// Whether a `backend.file` names a remote source.
pub fn is_remote(file: &str) -> bool {
    file.starts_with("http://") || file.starts_with("https://")
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

pub struct Remote {
    agent: ureq::Agent,
    max_bytes: u64,
    entries: Mutex<HashMap<String, Entry>>,
    ttls: Mutex<HashMap<String, Duration>>,
    generation: AtomicU64,
}

impl Default for Remote {
    fn default() -> Remote {
        Remote::with_limits(TIMEOUT, MAX_BYTES)
    }
}

impl Remote {
    pub fn with_limits(timeout: Duration, max_bytes: u64) -> Remote {
        Remote {
            agent: ureq::Agent::config_builder()
                .timeout_global(Some(timeout))
                .build()
                .into(),
            max_bytes,
            entries: Mutex::new(HashMap::new()),
            ttls: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
        }
    }

    /// Sets how long `url`'s bytes are kept; several widgets on one URL: the shortest wins.
    pub fn set_ttl(&self, url: &str, ttl: Duration) {
        let mut ttls = self.ttls.lock().unwrap_or_else(|p| p.into_inner());
        let kept = ttls.entry(url.to_string()).or_insert(ttl);
        *kept = (*kept).min(ttl);
    }

    /// `url`'s body: kept bytes while fresh, else fetched; the kept bytes, marked stale, when
    /// the fetch fails; an error when there is nothing to serve.
    pub fn get(&self, url: &str) -> Result<Fetched, String> {
        let ttl = self
            .ttls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(url)
            .copied()
            .unwrap_or(DEFAULT_TTL);
        let kept = |stale: Option<String>| {
            let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            entries.get(url).and_then(|entry| {
                let fresh = entry.fetched.elapsed() < ttl;
                (fresh || stale.is_some()).then(|| Fetched {
                    bytes: Arc::clone(&entry.bytes),
                    version: entry.version,
                    stale: stale.clone(),
                })
            })
        };
        if let Some(fresh) = kept(None) {
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
                self.entries
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(url.to_string(), entry);
                Ok(Fetched {
                    bytes,
                    version,
                    stale: None,
                })
            }
            Err(why) => kept(Some(format!("{why}; serving the copy fetched earlier")))
                .ok_or_else(|| format!("{url}: {why}")),
        }
    }

    fn fetch(&self, url: &str) -> Result<Vec<u8>, String> {
        let mut response = self
            .agent
            .get(url)
            .call()
            .map_err(|err| format!("upstream failed: {err}"))?;
        let body = response.body_mut().with_config().limit(self.max_bytes);
        body.read_to_vec().map_err(|err| match err {
            ureq::Error::BodyExceedsLimit(limit) => {
                format!("upstream answer is larger than {limit} bytes")
            }
            err => format!("upstream answer could not be read: {err}"),
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
        remote.set_ttl(&url, Duration::from_millis(300));
        remote.set_ttl(&url, Duration::from_secs(60)); // the shortest wins
        let first = remote.get(&url).unwrap();
        assert_eq!(&*first.bytes, b"a\n1\n");
        assert_eq!(
            remote.get(&url).unwrap().version,
            first.version,
            "kept, not refetched"
        );
        std::thread::sleep(Duration::from_millis(350));
        let second = remote.get(&url).unwrap();
        assert_eq!(&*second.bytes, b"a\n2\n");
        assert_ne!(second.version, first.version);
        std::thread::sleep(Duration::from_millis(350));
        let stale = remote.get(&url).unwrap();
        assert_eq!(&*stale.bytes, b"a\n2\n");
        let why = stale.stale.unwrap();
        assert!(
            why.contains("upstream failed") && why.contains("serving the copy"),
            "{why}"
        );
    }

    #[test]
    fn fetches_are_bounded_in_size_and_fail_without_a_copy() {
        let url = upstream(vec![Some(vec![b'x'; 2048])]);
        let remote = Remote::with_limits(TIMEOUT, 1024);
        let err = remote.get(&url).err().unwrap();
        assert!(err.contains("larger than 1024 bytes"), "{err}");
        let closed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let err = Remote::default()
            .get(&format!("http://{closed}/x"))
            .err()
            .unwrap();
        assert!(err.contains("upstream failed"), "{err}");
    }
}
