//! File versions and a cache of values parsed from files, keyed by path and version.
//!
//! A file's version is its length, modification time and (on Unix) inode, so an in-place edit
//! and a write-then-rename are both seen on the next request. Invariant: a cached value was
//! parsed from exactly as many bytes as the version stored beside it says, read while the file
//! had that version before and after; when the file changes during the read, the read is
//! retried after a pause, so a value never mixes two versions or stops short.
//!
//! An in-place rewrite (truncate, then write) passes through an empty file, and a reader can
//! land in between; a file emptied within the last second therefore counts as changing: it is
//! read again after a pause, and meanwhile the last whole version read is served (or, when
//! there is none, the reader is told to try again). Two rewrites to the same length within one tick of
//! the file system's clock cannot be told apart by their metadata (as for `make` or any
//! metadata-keyed cache); replacing a file by rename always can.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use crate::http::Payload;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileVersion {
    len: u64,
    modified: Option<SystemTime>,
    /// Which file: device and inode (0 and 0 where the platform has none).
    device: u64,
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
            device: 0,
            inode: generation,
        }
    }

    pub fn from_metadata(meta: &fs::Metadata) -> FileVersion {
        #[cfg(unix)]
        let (device, inode) = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino())
        };
        #[cfg(not(unix))]
        let (device, inode) = (0, 0);
        FileVersion {
            len: meta.len(),
            modified: meta.modified().ok(),
            device,
            inode,
        }
    }

    /// Whether both are versions of the same file (not necessarily the same version).
    fn same_file(&self, other: &FileVersion) -> bool {
        (self.device, self.inode) == (other.device, other.inode)
    }

    /// An empty file modified within [`JUST_EMPTIED`]: maybe an in-place rewrite between its
    /// truncation and its write.
    fn maybe_mid_rewrite(&self) -> bool {
        self.len == 0
            && self
                .modified
                .and_then(|modified| modified.elapsed().ok())
                .is_some_and(|age| age < JUST_EMPTIED)
    }
}

/// How often a file that changes while it is read is read again before giving up; the pauses
/// between attempts double from 1 ms (63 ms in all).
const READ_ATTEMPTS: u32 = 7;
const JUST_EMPTIED: Duration = Duration::from_secs(1);

/// Whether `err` says that a file changed during every attempt to read it (a passing state).
pub fn is_changing(err: &io::Error) -> bool {
    matches!(unsettled(err), Some(Unsettled::Changing))
}

/// Whether `err` says that the path no longer leads to the file the caller found there (it
/// was replaced, or a link put in its place): the caller looks it up again.
pub fn is_replaced(err: &io::Error) -> bool {
    matches!(unsettled(err), Some(Unsettled::Replaced))
}

/// Why no whole version of the file found could be read.
#[derive(Debug)]
enum Unsettled {
    Changing,
    Replaced,
}

fn unsettled(err: &io::Error) -> Option<&Unsettled> {
    err.get_ref()?.downcast_ref()
}

impl std::fmt::Display for Unsettled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unsettled::Changing => "the file kept changing while it was read; try again",
            Unsettled::Replaced => "the file was replaced since it was found",
        })
    }
}

impl std::error::Error for Unsettled {}

/// Runs `load` over the file's bytes until they are all from one version: the version is the
/// same before and after, and `load` (then a drain, should it stop early) saw exactly as many
/// bytes as that version's length. With `found`, the file must be that one (the caller's
/// lookup saw it at `path`: same device and inode) and the file opened must be the one looked
/// at, or nothing is read ([`is_replaced`]): a link swapped in after the lookup is never
/// followed.
fn load_stable<T>(
    path: &Path,
    found: Option<FileVersion>,
    load: &dyn Fn(&mut (dyn Read + Send)) -> T,
) -> io::Result<(FileVersion, T)> {
    for attempt in 0..READ_ATTEMPTS {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(1 << (attempt - 1)));
        }
        let before = FileVersion::of(path)?;
        if found.is_some_and(|found| !found.same_file(&before)) {
            return Err(io::Error::other(Unsettled::Replaced));
        }
        if before.maybe_mid_rewrite() {
            continue;
        }
        let file = fs::File::open(path)?;
        let opened = FileVersion::from_metadata(&file.metadata()?);
        if !opened.same_file(&before) {
            continue; // replaced between the look and the open
        }
        let mut reader = Counting {
            inner: file,
            count: 0,
        };
        let value = load(&mut reader);
        io::copy(&mut reader, &mut io::sink())?;
        if reader.count == before.len && FileVersion::of(path)? == before {
            return Ok((before, value));
        }
    }
    Err(io::Error::other(Unsettled::Changing))
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.count += read as u64;
        Ok(read)
    }
}

/// Reads a whole file and the version those bytes belong to.
pub fn read_versioned(path: &Path) -> io::Result<(FileVersion, Vec<u8>)> {
    let (version, bytes) = load_stable(path, None, &|reader| {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).map(|_| bytes)
    })?;
    Ok((version, bytes?))
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
    /// The value for `path` at `version` (the file's metadata as the caller's lookup found it),
    /// and the version it was read at, loading the file's bytes with `load` if needed. `load`
    /// may run again when the file changes while it reads. Only that file is read: if the path
    /// leads elsewhere by now, the last version read is served, or the error says so
    /// ([`is_replaced`]).
    ///
    /// While the file is being rewritten (just emptied, or changing during every read) the
    /// last whole version read is served, if there is one: an answer is always one whole
    /// version, the old or the new.
    pub fn get(
        &self,
        path: &Path,
        version: FileVersion,
        load: impl Fn(&mut (dyn Read + Send)) -> T,
    ) -> io::Result<(FileVersion, Arc<T>)> {
        let last = self
            .read_entries()
            .get(path)
            .map(|(cached, value)| (*cached, Arc::clone(value)));
        if let Some(last) = &last
            && (last.0 == version || version.maybe_mid_rewrite())
        {
            return Ok(last.clone());
        }
        let (version, value) = match load_stable(path, Some(version), &load) {
            Ok(loaded) => loaded,
            // the last whole version read is still one this path led to inside `data/`
            Err(err) if is_changing(&err) || is_replaced(&err) => return last.ok_or(err),
            Err(err) => return Err(err),
        };
        let value = Arc::new(value);
        self.entries
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(path.to_path_buf(), (version, Arc::clone(&value)));
        Ok((version, value))
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
                    crate::log::line(&format!(
                        "openbb-files: {problem} (serving the last good version)"
                    ));
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
        let get = |load| FileVersion::of(&path).and_then(|version| cache.get(&path, version, load));
        let parses = Cell::new(0);
        let parse = |input: &mut (dyn Read + Send)| {
            parses.set(parses.get() + 1);
            let mut text = String::new();
            input.read_to_string(&mut text).unwrap();
            text
        };
        assert_eq!(*get(&parse).unwrap().1, "one");
        assert_eq!(*get(&parse).unwrap().1, "one");
        assert_eq!(parses.get(), 1);
        fs::write(&path, "three").unwrap();
        let (version, value) = get(&parse).unwrap();
        assert_eq!(*value, "three");
        assert_eq!(version, FileVersion::of(&path).unwrap());
        assert_eq!(parses.get(), 2);
        fs::remove_file(&path).unwrap();
        assert!(get(&parse).is_err());
    }

    #[test]
    fn a_loader_that_stops_early_still_gets_its_value() {
        let path = std::env::temp_dir().join(format!("obf-early-{}.txt", std::process::id()));
        fs::write(&path, "first line\nsecond line\n").unwrap();
        let cache = FileCache::default();
        let version = FileVersion::of(&path).unwrap();
        let first_byte = |input: &mut (dyn Read + Send)| {
            let mut byte = [0];
            input.read_exact(&mut byte).unwrap();
            byte[0]
        };
        assert_eq!(*cache.get(&path, version, first_byte).unwrap().1, b'f');
        fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_file_just_emptied_is_read_again_once_written() {
        // An in-place rewrite: truncated now, written 5 ms later.
        let path = std::env::temp_dir().join(format!("obf-empty-{}.txt", std::process::id()));
        fs::write(&path, "").unwrap();
        let writer = {
            let path = path.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(5));
                fs::write(&path, "written").unwrap();
            })
        };
        let (_, bytes) = read_versioned(&path).unwrap();
        writer.join().unwrap();
        assert_eq!(bytes, b"written");
        fs::remove_file(&path).unwrap();
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
