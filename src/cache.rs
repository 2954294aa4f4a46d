//! File versions, caches of values parsed from files (by path and version) and of rendered
//! answers (by request [`Key`]), each within a byte budget ([`Lru`]).
//!
//! Every cache counts all it holds against its budget (values, keys, stamps, ETags and its own
//! bookkeeping, [`Lru::overhead`]) and drops the least recently used entries first. A request
//! key is a length-prefixed encoding of its parts and parameters, so different requests never
//! share one, whatever bytes their values hold.
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

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::hash::Hash;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
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

/// Values parsed from files, reparsed when a file's version changes; the least recently used
/// go first when the values would pass the cache's budget ([`Lru`]).
pub struct FileCache<T> {
    entries: Mutex<Lru<Path, (FileVersion, Arc<T>)>>,
    weigh: fn(&T) -> usize,
    counters: Counters,
}

/// How often a cache answered from memory (hits) and had to load or render (misses), for
/// `/metrics`: relaxed atomic additions, as every request counts.
#[derive(Default)]
pub struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Counters {
    pub fn count(&self, hit: bool) {
        let counter = if hit { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The hits and misses so far.
    pub fn read(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }
}

/// What a cache holds and how often it answered, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    pub entries: usize,
    /// The bytes its entries weigh against its budget.
    pub bytes: usize,
    pub hits: u64,
    pub misses: u64,
}

impl CacheStats {
    pub fn of<K: ?Sized + Hash + Eq + Weigh, V>(
        entries: &Mutex<Lru<K, V>>,
        counters: &Counters,
    ) -> CacheStats
    where
        for<'k> Arc<K>: From<&'k K>,
    {
        let (hits, misses) = counters.read();
        let entries = lock(entries);
        CacheStats {
            entries: entries.len(),
            bytes: entries.total(),
            hits,
            misses,
        }
    }
}

impl<T> FileCache<T> {
    /// A cache of at most `budget` bytes, each value weighing what `weigh` says.
    pub fn new(budget: usize, weigh: fn(&T) -> usize) -> FileCache<T> {
        FileCache {
            entries: Mutex::new(Lru::new(budget)),
            weigh,
            counters: Counters::default(),
        }
    }

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
        let last = lock(&self.entries)
            .get(path)
            .map(|(cached, value)| (*cached, Arc::clone(value)));
        let hit = last
            .as_ref()
            .is_some_and(|last| last.0 == version || version.maybe_mid_rewrite());
        self.counters.count(hit);
        if let Some(last) = last.as_ref().filter(|_| hit) {
            return Ok(last.clone());
        }
        let (version, value) = match load_stable(path, Some(version), &load) {
            Ok(loaded) => loaded,
            // the last whole version read is still one this path led to inside `data/`
            Err(err) if is_changing(&err) || is_replaced(&err) => return last.ok_or(err),
            Err(err) => return Err(err),
        };
        let value = Arc::new(value);
        let weight = (self.weigh)(&value) + size_of::<FileVersion>() + ALLOCATION;
        lock(&self.entries).insert(path, (version, Arc::clone(&value)), weight);
        Ok((version, value))
    }

    /// How many values are kept, and the bytes they weigh.
    #[cfg(test)]
    pub fn usage(&self) -> (usize, usize) {
        let entries = lock(&self.entries);
        (entries.len(), entries.total())
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats::of(&self.entries, &self.counters)
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
                    crate::log::write(
                        crate::log::Level::Error,
                        &format!("openbb-files: {problem} (serving the last good version)"),
                    );
                    state.problem = Some(problem.into());
                }
            }
            state.seen = Some(version);
        }
        (Arc::clone(&state.good), state.problem.clone())
    }
}

/// What an allocation costs besides the bytes asked for: the allocator's header and rounding,
/// and an `Arc`'s two counts (48 bytes: calibrated so that resident memory stays within the
/// budgets under a million distinct requests, RELIABILITY.md).
pub const ALLOCATION: usize = 48;

/// The bytes a cached value holds on the heap, counted against a cache's budget.
pub trait Weigh {
    fn weight(&self) -> usize;
}

impl Weigh for Payload {
    fn weight(&self) -> usize {
        self.bytes.len() + self.etag.len() + 2 * ALLOCATION
    }
}

impl Weigh for str {
    fn weight(&self) -> usize {
        self.len()
    }
}

impl Weigh for [u8] {
    fn weight(&self) -> usize {
        self.len()
    }
}

impl Weigh for Path {
    fn weight(&self) -> usize {
        self.as_os_str().len()
    }
}

impl<A: Weigh, B: Weigh> Weigh for (A, B) {
    fn weight(&self) -> usize {
        self.0.weight() + self.1.weight()
    }
}

/// Locks `mutex`, taking over its state when a thread panicked while holding it (every state
/// an entry is left in is whole: values are inserted and removed in one step).
fn lock<T: ?Sized>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Values by key within a byte budget, the least recently used evicted first. An entry weighs
/// what its caller says its value holds plus its key's bytes and [`Lru::overhead`] (its slot in
/// the map and in the recency index, the key's allocation), so that a million tiny entries
/// count for the memory they take. Invariants: `total` is the sum of the entries' weights and
/// never above `budget` after an insert; `recency` holds each key once, at its last use.
pub struct Lru<K: ?Sized, V> {
    entries: HashMap<Arc<K>, Slot<V>>,
    /// Keys by when they were last used: the first is the least recently used.
    recency: BTreeMap<u64, Arc<K>>,
    clock: u64,
    total: usize,
    budget: usize,
}

struct Slot<V> {
    value: V,
    weight: usize,
    used: u64,
}

impl<K: ?Sized + Hash + Eq + Weigh, V> Lru<K, V>
where
    for<'k> Arc<K>: From<&'k K>,
{
    pub fn new(budget: usize) -> Lru<K, V> {
        Lru {
            entries: HashMap::new(),
            recency: BTreeMap::new(),
            clock: 0,
            total: 0,
            budget,
        }
    }

    /// What an entry takes besides its key's and value's bytes: its map slot counted three
    /// times (a hash table is between half and seven-eighths full, and holds its old slots too
    /// while it grows), its place in the recency index (a B-tree's nodes are two thirds full or
    /// more) and the key's allocation.
    pub fn overhead() -> usize {
        3 * size_of::<(Arc<K>, Slot<V>)>() + 2 * size_of::<(u64, Arc<K>)>() + ALLOCATION
    }

    /// The value for `key`, now the most recently used.
    pub fn get(&mut self, key: &K) -> Option<&V> {
        let slot = self.entries.get_mut(key)?;
        self.clock += 1;
        if let Some(shared) = self.recency.remove(&slot.used) {
            self.recency.insert(self.clock, shared);
        }
        slot.used = self.clock;
        Some(&slot.value)
    }

    /// Keeps `value` (holding `weight` bytes) for `key`, evicting the least recently used
    /// entries while the total passes the budget. An entry weighing more than half the budget
    /// is not kept (the caller serves it all the same).
    pub fn insert(&mut self, key: &K, value: V, weight: usize) {
        self.remove(key);
        let weight = weight + key.weight() + Self::overhead();
        if weight > self.budget / 2 {
            return;
        }
        self.clock += 1;
        let shared: Arc<K> = Arc::from(key);
        self.recency.insert(self.clock, Arc::clone(&shared));
        self.entries.insert(
            shared,
            Slot {
                value,
                weight,
                used: self.clock,
            },
        );
        self.total += weight;
        while self.total > self.budget {
            let Some((_, oldest)) = self.recency.pop_first() else {
                break;
            };
            if let Some(slot) = self.entries.remove(&oldest) {
                self.total -= slot.weight;
            }
        }
    }

    fn remove(&mut self, key: &K) {
        if let Some(slot) = self.entries.remove(key) {
            self.recency.remove(&slot.used);
            self.total -= slot.weight;
        }
    }

    /// The bytes the entries weigh in all.
    pub fn total(&self) -> usize {
        self.total
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A cache key: the parts naming what was asked (widget, file, route, ...) and the request's
/// parameters in any order. Each part, name and value is written after its length, and the
/// counts of parts and parameters go first, so two keys are equal only when their parts are
/// and their parameters are the same pairs, whatever bytes (NUL included) those hold.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key(Vec<u8>);

impl Key {
    pub fn new(parts: &[&str], params: &[(String, String)]) -> Key {
        let mut sorted: Vec<&(String, String)> = params.iter().collect();
        sorted.sort();
        let fields = parts.iter().map(|part| part.len());
        let fields = fields.chain(sorted.iter().map(|(name, value)| name.len() + value.len()));
        let mut bytes = Vec::with_capacity(fields.map(|len| len + 4).sum::<usize>() + 4);
        push_length(&mut bytes, parts.len());
        for part in parts {
            push_field(&mut bytes, part);
        }
        push_length(&mut bytes, sorted.len());
        for (name, value) in sorted {
            push_field(&mut bytes, name);
            push_field(&mut bytes, value);
        }
        Key(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

fn push_field(out: &mut Vec<u8>, field: &str) {
    push_length(out, field.len());
    out.extend_from_slice(field.as_bytes());
}

/// `length` in LEB128: seven bits a byte, low bits first, the high bit set on all bytes but the
/// last (a prefix code: where it ends is known without looking further).
fn push_length(out: &mut Vec<u8>, mut length: usize) {
    while length >= 0x80 {
        out.push((length & 0x7f) as u8 | 0x80);
        length >>= 7;
    }
    out.push(length as u8);
}

/// Rendered responses (or other values `V` computed from files) by request [`Key`], each valid
/// while its stamp `S` (what it was rendered from) is unchanged; the least recently used go
/// first when the entries would pass the budget.
pub struct ResponseCache<S, V = Payload> {
    entries: Mutex<Lru<[u8], (S, V)>>,
    counters: Counters,
}

impl<S: PartialEq + Clone + Weigh, V: Clone + Weigh> ResponseCache<S, V> {
    pub fn new(budget: usize) -> Self {
        ResponseCache {
            entries: Mutex::new(Lru::new(budget)),
            counters: Counters::default(),
        }
    }

    /// The value for `key` when it was rendered from `stamp`; otherwise renders it and keeps
    /// it (an entry larger than half the budget is served but not kept).
    pub fn get_or_render<E>(
        &self,
        key: &Key,
        stamp: &S,
        render: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        if let Some((cached, value)) = lock(&self.entries).get(key.as_bytes())
            && cached == stamp
        {
            self.counters.count(true);
            return Ok(value.clone());
        }
        self.counters.count(false);
        let value = render()?;
        let weight = stamp.weight() + value.weight();
        lock(&self.entries).insert(key.as_bytes(), (stamp.clone(), value.clone()), weight);
        Ok(value)
    }

    /// How many entries are kept, and the bytes they weigh.
    #[cfg(test)]
    pub fn usage(&self) -> (usize, usize) {
        let entries = lock(&self.entries);
        (entries.len(), entries.total())
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats::of(&self.entries, &self.counters)
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
        let cache = FileCache::new(usize::MAX, |_| 0);
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
        let cache = FileCache::new(usize::MAX, |_| 0);
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

    impl Weigh for u32 {
        fn weight(&self) -> usize {
            0
        }
    }

    #[test]
    fn responses_are_kept_per_stamp() {
        let cache: ResponseCache<u32> = ResponseCache::new(1 << 20);
        let renders = Cell::new(0);
        let render = |text: &str| {
            renders.set(renders.get() + 1);
            Ok::<_, ()>(Payload::new(text.as_bytes().to_vec()))
        };
        let key = Key::new(&["w", "a.csv"], &[]);
        let body = |p: Payload| String::from_utf8(p.bytes.to_vec()).unwrap();
        let get = |stamp, text| body(cache.get_or_render(&key, &stamp, || render(text)).unwrap());
        assert_eq!(get(1, "one"), "one");
        assert_eq!(get(1, "two"), "one");
        assert_eq!(renders.get(), 1);
        assert_eq!(get(2, "new"), "new", "a new stamp renders again");
        assert_eq!(renders.get(), 2);
        assert_eq!(cache.usage().0, 1, "the new stamp replaced the old");
        assert!(cache.get_or_render::<()>(&key, &3, || Err(())).is_err());
    }

    /// The least recently used entry goes first, and every entry counts its key and its
    /// bookkeeping, so many tiny entries cannot pass the budget either.
    #[test]
    fn the_least_recently_used_go_first_and_everything_counts() {
        let overhead = Lru::<str, ()>::overhead();
        let mut lru: Lru<str, ()> = Lru::new(4 * (overhead + 10));
        for key in ["a", "b", "c", "d"] {
            lru.insert(key, (), 9);
        }
        assert_eq!((lru.len(), lru.total()), (4, 4 * (overhead + 10)));
        assert!(lru.get("a").is_some(), "a is now the most recently used");
        lru.insert("e", (), 9);
        assert!(lru.get("b").is_none(), "b was the least recently used");
        for key in ["a", "c", "d", "e"] {
            assert!(lru.get(key).is_some(), "{key}");
        }
        lru.insert("huge", (), 2 * (overhead + 10));
        assert!(
            lru.get("huge").is_none(),
            "more than half the budget is not kept"
        );
        assert_eq!(lru.len(), 4);
        lru.insert("a", (), 2 * (overhead + 10) - overhead - 1);
        assert_eq!(
            lru.len(),
            3,
            "a grew to half the budget: the least recently used went"
        );
        assert!(lru.get("c").is_none() && lru.get("a").is_some());
        assert!(lru.total() <= 4 * (overhead + 10));

        let mut tiny: Lru<str, ()> = Lru::new(1 << 20);
        for n in 0..100_000 {
            tiny.insert(&format!("k{n}"), (), 0);
        }
        assert!(tiny.total() <= 1 << 20);
        assert!(tiny.len() < (1 << 20) / overhead, "{}", tiny.len());
        let mut none: Lru<str, ()> = Lru::new(0);
        none.insert("a", (), 0);
        assert!(none.is_empty(), "a budget of 0 keeps nothing");
    }

    #[test]
    fn keys_differ_whenever_the_requests_do() {
        let pairs = |list: &[(&str, &str)]| crate::http::owned_pairs(list);
        let key = |parts: &[&str], list: &[(&str, &str)]| Key::new(parts, &pairs(list));
        assert_eq!(
            key(&["w", "f"], &[("a", "1"), ("b", "2")]),
            key(&["w", "f"], &[("b", "2"), ("a", "1")]),
            "parameters in any order"
        );
        // The planting attack: one value holding what the joined pairs of another request were.
        assert_ne!(
            key(
                &["w", "f"],
                &[(
                    "end_date",
                    "2024-03-31\0?start_date\x002024-03-01\0?ticker\0AAPL"
                )]
            ),
            key(
                &["w", "f"],
                &[
                    ("end_date", "2024-03-31"),
                    ("start_date", "2024-03-01"),
                    ("ticker", "AAPL")
                ]
            )
        );
        assert_ne!(
            key(&["w", "f"], &[("ab", "")]),
            key(&["w", "f"], &[("a", "b")])
        );
        assert_ne!(key(&["w", "f\0x"], &[]), key(&["w", "f"], &[("x", "")]));
        assert_ne!(
            key(&["w", "f", "history"], &[]),
            key(&["w", "f"], &[("history", "")])
        );
        assert_ne!(key(&["w"], &[("", "")]), key(&["w", ""], &[]));
        let long = "x".repeat(300);
        assert_ne!(key(&[&long], &[]), key(&[&long[..299]], &[("", "")]));
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
