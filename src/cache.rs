//! File versions and a cache of values parsed from files, keyed by path and version.
//!
//! A file's version is its length, modification time and (on Unix) inode, so an in-place edit
//! and a write-then-rename are both seen on the next request. Invariant: a cached value was
//! parsed from bytes read while the file had exactly the version stored beside it; when the
//! file changes during the read, the read is retried, so a value never mixes two versions.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use crate::http::Payload;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileVersion {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

impl FileVersion {
    pub fn of(path: &Path) -> io::Result<FileVersion> {
        fs::metadata(path).map(|meta| FileVersion::from_metadata(&meta))
    }

    /// The version of a body fetched from a remote source: its length, when it was fetched, and
    /// a number no other fetch shares.
    pub fn fetched(len: u64, at: SystemTime, generation: u64) -> FileVersion {
        FileVersion {
            len,
            modified: Some(at),
            inode: generation,
        }
    }

    pub fn from_metadata(meta: &fs::Metadata) -> FileVersion {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        FileVersion {
            len: meta.len(),
            modified: meta.modified().ok(),
            inode,
        }
    }
}

/// How often a file that changes while it is read is read again before giving up.
const READ_ATTEMPTS: usize = 5;

fn changing() -> io::Error {
    io::Error::other("the file kept changing while it was read; try again")
}

/// Reads a whole file and the version those bytes belong to.
pub fn read_versioned(path: &Path) -> io::Result<(FileVersion, Vec<u8>)> {
    let mut before = FileVersion::of(path)?;
    for _ in 0..READ_ATTEMPTS {
        let bytes = fs::read(path)?;
        let after = FileVersion::of(path)?;
        if after == before && bytes.len() as u64 == after.len {
            return Ok((after, bytes));
        }
        before = after;
    }
    Err(changing())
}

/// Values parsed from files, reparsed when a file's version changes.
pub struct FileCache<T> {
    entries: RwLock<HashMap<PathBuf, (FileVersion, Arc<T>)>>,
}

impl<T> Default for FileCache<T> {
    fn default() -> Self {
        FileCache {
            entries: RwLock::new(HashMap::new()),
        }
    }
}

impl<T> FileCache<T> {
    /// The value for `path` at its current version, loading the file with `load` if needed.
    /// `load` may run again when the file changes while it reads.
    pub fn get(&self, path: &Path, load: impl Fn(&Path) -> T) -> io::Result<Arc<T>> {
        let version = FileVersion::of(path)?;
        if let Some((cached, value)) = self.read_entries().get(path)
            && *cached == version
        {
            return Ok(Arc::clone(value));
        }
        for _ in 0..READ_ATTEMPTS {
            let before = FileVersion::of(path)?;
            let value = load(path);
            if FileVersion::of(path)? == before {
                let value = Arc::new(value);
                self.entries
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .insert(path.to_path_buf(), (before, Arc::clone(&value)));
                return Ok(value);
            }
        }
        Err(changing())
    }

    fn read_entries(
        &self,
    ) -> std::sync::RwLockReadGuard<'_, HashMap<PathBuf, (FileVersion, Arc<T>)>> {
        self.entries
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A file that is re-read when it changes, keeping the last value that parsed. `parse` gets
/// `None` when the file does not exist.
pub struct Watched<T> {
    path: PathBuf,
    parse: fn(Option<&[u8]>) -> Result<T, String>,
    state: RwLock<WatchedState<T>>,
}

struct WatchedState<T> {
    /// The version last looked at (`None` inside: the file was missing); `None`: never looked.
    seen: Option<Option<FileVersion>>,
    good: Arc<T>,
    problem: Option<Arc<str>>,
}

impl<T> Watched<T> {
    pub fn new(path: PathBuf, initial: T, parse: fn(Option<&[u8]>) -> Result<T, String>) -> Self {
        Watched {
            path,
            parse,
            state: RwLock::new(WatchedState {
                seen: None,
                good: Arc::new(initial),
                problem: None,
            }),
        }
    }

    /// The current good value, and why the file on disk is not being used, if it is not.
    pub fn get(&self) -> (Arc<T>, Option<Arc<str>>) {
        let version = FileVersion::of(&self.path).ok();
        {
            let state = self.state.read().unwrap_or_else(|p| p.into_inner());
            if state.seen == Some(version) {
                return (Arc::clone(&state.good), state.problem.clone());
            }
        }
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        if state.seen != Some(version) {
            let (version, parsed) = match read_versioned(&self.path) {
                Ok((version, bytes)) => (Some(version), (self.parse)(Some(&bytes))),
                Err(err) if err.kind() == io::ErrorKind::NotFound => (None, (self.parse)(None)),
                Err(err) => (version, Err(format!("{}: {err}", self.path.display()))),
            };
            match parsed {
                Ok(value) => {
                    state.good = Arc::new(value);
                    state.problem = None;
                }
                Err(problem) => {
                    eprintln!("openbb-files: {problem} (serving the last good version)");
                    state.problem = Some(problem.into());
                }
            }
            state.seen = Some(version);
        }
        (Arc::clone(&state.good), state.problem.clone())
    }
}

/// The bytes a cached value holds, counted against a [`ResponseCache`]'s budget.
pub trait Weigh {
    fn weight(&self) -> usize;
}

impl Weigh for Payload {
    fn weight(&self) -> usize {
        self.bytes.len()
    }
}

/// Rendered responses (or other values `V` computed from files) by request key, each valid
/// while its stamp `S` (what it was rendered from) is unchanged. When the cached bytes would
/// pass the budget, older entries go first.
pub struct ResponseCache<S, V = Payload> {
    entries: RwLock<HashMap<String, (S, V)>>,
    /// Keys in insertion order with their sizes, for eviction; guarded apart from `entries`.
    order: Mutex<(std::collections::VecDeque<(String, usize)>, usize)>,
    budget: usize,
}

impl<S: PartialEq + Clone, V: Clone + Weigh> ResponseCache<S, V> {
    pub fn new(budget: usize) -> Self {
        ResponseCache {
            entries: RwLock::new(HashMap::new()),
            order: Mutex::new((std::collections::VecDeque::new(), 0)),
            budget,
        }
    }

    /// The payload for `key` when it was rendered from `stamp`; otherwise renders it and keeps
    /// it (an entry larger than half the budget is served but not kept).
    pub fn get_or_render<E>(
        &self,
        key: String,
        stamp: &S,
        render: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        if let Some((cached, payload)) = self
            .entries
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            && cached == stamp
        {
            return Ok(payload.clone());
        }
        let payload = render()?;
        let size = payload.weight() + key.len();
        if size > self.budget / 2 {
            return Ok(payload);
        }
        let mut order = self.order.lock().unwrap_or_else(|p| p.into_inner());
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        let (queue, total) = &mut *order;
        if let Some((_, old)) = entries.insert(key.clone(), (stamp.clone(), payload.clone())) {
            *total -= old.weight() + key.len();
            queue.retain(|(queued, _)| *queued != key);
        }
        queue.push_back((key, size));
        *total += size;
        while *total > self.budget {
            let Some((oldest, size)) = queue.pop_front() else {
                break;
            };
            entries.remove(&oldest);
            *total -= size;
        }
        Ok(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn values_are_reparsed_only_when_the_file_changes() {
        let path = std::env::temp_dir().join(format!("obf-cache-{}.txt", std::process::id()));
        fs::write(&path, "one").unwrap();
        let cache = FileCache::default();
        let parses = Cell::new(0);
        let parse = |path: &Path| {
            parses.set(parses.get() + 1);
            fs::read_to_string(path).unwrap()
        };
        assert_eq!(*cache.get(&path, parse).unwrap(), "one");
        assert_eq!(*cache.get(&path, parse).unwrap(), "one");
        assert_eq!(parses.get(), 1);
        fs::write(&path, "three").unwrap();
        assert_eq!(*cache.get(&path, parse).unwrap(), "three");
        assert_eq!(parses.get(), 2);
        fs::remove_file(&path).unwrap();
        assert!(cache.get(&path, parse).is_err());
    }

    #[test]
    fn responses_are_kept_per_stamp_within_the_budget() {
        let cache: ResponseCache<u32> = ResponseCache::new(400);
        let renders = Cell::new(0);
        let render = |text: &str| {
            renders.set(renders.get() + 1);
            Ok::<_, ()>(Payload::new(text.as_bytes().to_vec()))
        };
        let body = |p: Payload| String::from_utf8(p.bytes.to_vec()).unwrap();
        assert_eq!(
            body(
                cache
                    .get_or_render("a".into(), &1, || render("one"))
                    .unwrap()
            ),
            "one"
        );
        assert_eq!(
            body(
                cache
                    .get_or_render("a".into(), &1, || render("two"))
                    .unwrap()
            ),
            "one"
        );
        assert_eq!(renders.get(), 1);
        assert_eq!(
            body(
                cache
                    .get_or_render("a".into(), &2, || render("new"))
                    .unwrap()
            ),
            "new"
        );
        assert_eq!(renders.get(), 2, "a new stamp renders again");
        let big = "x".repeat(99);
        for key in ["b", "c", "d", "e"] {
            cache
                .get_or_render(key.into(), &1, || render(&big))
                .unwrap();
        }
        {
            let (queue, total) = &*cache.order.lock().unwrap();
            assert!(*total <= 400, "{total}");
            assert_eq!(
                queue.front().map(|(k, _)| k.as_str()),
                Some("b"),
                "the oldest went first"
            );
            assert_eq!(cache.entries.read().unwrap().len(), queue.len());
        }
        let huge = "y".repeat(201);
        cache
            .get_or_render("h".into(), &1, || render(&huge))
            .unwrap();
        assert!(
            !cache.entries.read().unwrap().contains_key("h"),
            "too big to keep"
        );
        assert!(
            cache
                .get_or_render::<()>("z".into(), &1, || Err(()))
                .is_err()
        );
    }

    fn parse_number(bytes: Option<&[u8]>) -> Result<u32, String> {
        let text = std::str::from_utf8(bytes.ok_or("missing")?).map_err(|e| e.to_string())?;
        text.trim()
            .parse()
            .map_err(|_| format!("not a number: {text}"))
    }

    #[test]
    fn watched_files_keep_the_last_good_value() {
        let path = std::env::temp_dir().join(format!("obf-watched-{}.txt", std::process::id()));
        let _ = fs::remove_file(&path);
        let watched = Watched::new(path.clone(), 0, parse_number);
        assert_eq!(watched.get(), (Arc::new(0), Some("missing".into())));
        fs::write(&path, "1").unwrap();
        assert_eq!(watched.get(), (Arc::new(1), None));
        fs::write(&path, "one").unwrap();
        let (value, problem) = watched.get();
        assert_eq!(*value, 1, "a broken edit keeps the last good value");
        assert!(problem.unwrap().contains("not a number"));
        fs::write(&path, "22").unwrap();
        assert_eq!(watched.get(), (Arc::new(22), None));
        fs::remove_file(&path).unwrap();
    }
}
