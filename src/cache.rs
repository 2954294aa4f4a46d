//! File versions, caches of values parsed from files (by path and version) and of rendered
//! answers (by request [`Key`]), each within a byte budget ([`Lru`]).
//!
//! Every cache counts all it holds against its budget (values, keys, stamps, ETags, and its
//! table at full capacity, [`Lru::table_bytes`]), even while the table grows, and drops the
//! least recently used entries first. A request key is a length-prefixed encoding of its parts
//! and parameters, so different requests never share one, whatever bytes their values hold.
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

use std::collections::hash_map::RandomState;
use std::fs;
use std::hash::{BuildHasher, Hash};
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

    /// The file's length in bytes when this version was seen.
    pub fn byte_len(&self) -> u64 {
        self.len
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
/// go first when the values would pass the cache's budget ([`Lru`]). Kept under a `K`: the
/// file's path, or a typed key naming it and how it was read.
pub struct FileCache<K: ?Sized, T> {
    entries: Mutex<Lru<K, (FileVersion, Arc<T>)>>,
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
        for<'k> Box<K>: From<&'k K>,
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

impl<K: ?Sized + Hash + Eq + Weigh, T> FileCache<K, T>
where
    for<'k> Box<K>: From<&'k K>,
{
    /// A cache of at most `budget` bytes, keeping values of up to `largest` bytes, each
    /// weighing what `weigh` says it holds on the heap.
    pub fn new(budget: usize, largest: usize, weigh: fn(&T) -> usize) -> FileCache<K, T> {
        FileCache {
            entries: Mutex::new(Lru::keeping_up_to(budget, largest)),
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
    ///
    /// `key` is what the value is kept under (the path, or the path and how it was read).
    pub fn get(
        &self,
        key: &K,
        path: &Path,
        version: FileVersion,
        load: impl Fn(&mut (dyn Read + Send)) -> T,
    ) -> io::Result<(FileVersion, Arc<T>)> {
        let last = lock(&self.entries)
            .get(key)
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
        let weight = (self.weigh)(&value) + size_of::<T>() + ALLOCATION;
        lock(&self.entries).insert(key, (version, Arc::clone(&value)), weight);
        Ok((version, value))
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

/// Values by key within a byte budget, the least recently used evicted first.
///
/// Everything it holds counts against the budget: each entry's heap bytes (what its caller
/// says its value holds, plus its key's bytes and allocation) and the table at its full
/// capacity, used or not: the entries' places in `nodes` (each a key pointer, a value and its
/// links in the recency list) and the `index` over them ([`Lru::table_bytes`]). The table
/// grows only when the entries, the old table and the new one (both exist while it grows) fit
/// in the budget together; otherwise the least recently used entry makes room. So what it
/// takes never passes the budget, not even while it grows, whatever the entries weigh.
///
/// Invariants: `nodes` is dense (a removed entry's place goes to the last one) and never
/// longer than `capacity`; `index` has `2 * capacity` slots (so at most half of them are
/// full) and holds each node's position once, found by linear probing from its hash's home
/// slot with no empty slot on the way (a removal shifts the slots after it back: no
/// tombstones); the recency list links every node once, from `oldest` to `newest`; `held` is
/// the sum of the entries' weights, and `held + table_bytes(capacity) <= budget`.
pub struct Lru<K: ?Sized, V> {
    nodes: Vec<Node<K, V>>,
    index: Vec<Slot>,
    capacity: usize,
    hasher: RandomState,
    oldest: u32,
    newest: u32,
    held: usize,
    budget: usize,
    /// The heaviest entry kept.
    largest: usize,
}

struct Node<K: ?Sized, V> {
    key: Box<K>,
    value: V,
    weight: usize,
    hash: u32,
    older: u32,
    newer: u32,
}

/// A slot of the index: a node's position ([`NONE`]: the slot is empty) and its key's hash.
#[derive(Clone, Copy)]
struct Slot {
    node: u32,
    hash: u32,
}

/// No node: an empty slot, or the end of the recency list.
const NONE: u32 = u32::MAX;
const EMPTY: Slot = Slot {
    node: NONE,
    hash: 0,
};
/// The places a table is first given, when they fit.
const FIRST_CAPACITY: usize = 4;
/// The most places a table has: positions are `u32`, and the index has twice as many slots.
const MOST_CAPACITY: usize = 1 << 31;

impl<K: ?Sized + Hash + Eq + Weigh, V> Lru<K, V>
where
    for<'k> Box<K>: From<&'k K>,
{
    /// An empty cache of `budget` bytes that keeps entries of up to half of it (a heavier one
    /// would flush most others).
    pub fn new(budget: usize) -> Lru<K, V> {
        Lru::keeping_up_to(budget, budget / 2)
    }

    /// An empty cache of `budget` bytes that keeps entries weighing up to `largest`.
    pub fn keeping_up_to(budget: usize, largest: usize) -> Lru<K, V> {
        Lru {
            nodes: Vec::new(),
            index: Vec::new(),
            capacity: 0,
            hasher: RandomState::new(),
            oldest: NONE,
            newest: NONE,
            held: 0,
            budget,
            largest,
        }
    }

    /// The bytes a table of `capacity` places takes, whether they are used or not: the places
    /// (inline parts of keys and values, links), the index's two slots a place, and both
    /// allocations.
    pub fn table_bytes(capacity: usize) -> usize {
        match capacity {
            0 => 0,
            _ => capacity * (size_of::<Node<K, V>>() + 2 * size_of::<Slot>()) + 2 * ALLOCATION,
        }
    }

    /// The value for `key`, now the most recently used.
    pub fn get(&mut self, key: &K) -> Option<&V> {
        let node = self.index[self.find(key, self.hash(key))?].node;
        self.unlink(node);
        self.link_newest(node);
        Some(&self.nodes[node as usize].value)
    }

    /// Keeps `value` (holding `weight` bytes on the heap) for `key`, evicting the least
    /// recently used entries while the entries and the table would pass the budget. An entry
    /// heavier than the cache keeps is not kept (the caller serves it all the same), nor one
    /// for which the table has no room.
    pub fn insert(&mut self, key: &K, value: V, weight: usize) {
        let hash = self.hash(key);
        if let Some(slot) = self.find(key, hash) {
            self.remove(slot);
        }
        let weight = weight + key.weight() + ALLOCATION;
        if weight > self.largest || (self.nodes.len() == self.capacity && !self.make_room(weight)) {
            return;
        }
        while self.held + weight + Self::table_bytes(self.capacity) > self.budget {
            if self.nodes.is_empty() {
                return;
            }
            self.remove(self.slot_of(self.oldest));
        }
        let node = self.nodes.len() as u32;
        self.nodes.push(Node {
            key: Box::from(key),
            value,
            weight,
            hash,
            older: NONE,
            newer: NONE,
        });
        self.link_newest(node);
        let home = self.home(hash);
        let free = self.probe(home).find(|&at| self.index[at].node == NONE);
        self.index[free.expect("the index is at most half full")] = Slot { node, hash };
        self.held += weight;
    }

    /// The bytes it takes in all: the entries' and the table's.
    pub fn total(&self) -> usize {
        self.held + Self::table_bytes(self.capacity)
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Frees a place for an entry of `weight` when all are taken: grows the table when the
    /// entries, this one and both tables fit in the budget together (to twice the places, or
    /// as many as fit, but by a quarter at least so that growing stays rare), else evicts the
    /// least recently used entry. False when there is no place to be had.
    fn make_room(&mut self, weight: usize) -> bool {
        let old = Self::table_bytes(self.capacity);
        let spare = self
            .budget
            .saturating_sub(self.held + weight + old + 2 * ALLOCATION);
        let fits = spare / Self::table_bytes(1).saturating_sub(2 * ALLOCATION);
        let capacity = (2 * self.capacity)
            .max(FIRST_CAPACITY)
            .min(fits)
            .min(MOST_CAPACITY);
        if capacity > self.capacity + self.capacity / 4 {
            self.grow(capacity);
            return true;
        }
        if self.nodes.is_empty() {
            return false;
        }
        self.remove(self.slot_of(self.oldest));
        true
    }

    fn grow(&mut self, capacity: usize) {
        self.nodes.reserve_exact(capacity - self.nodes.len());
        let old = std::mem::replace(&mut self.index, vec![EMPTY; 2 * capacity]);
        self.capacity = capacity;
        for slot in old.into_iter().filter(|slot| slot.node != NONE) {
            let home = self.home(slot.hash);
            let free = self.probe(home).find(|&at| self.index[at].node == NONE);
            self.index[free.expect("the index is at most half full")] = slot;
        }
    }

    fn hash(&self, key: &K) -> u32 {
        (self.hasher.hash_one(key) >> 32) as u32
    }

    /// The slot where probing for `hash` starts.
    fn home(&self, hash: u32) -> usize {
        ((u64::from(hash) * self.index.len() as u64) >> 32) as usize
    }

    /// The index's slots from `home` on, wrapping around, each once.
    fn probe(&self, home: usize) -> impl Iterator<Item = usize> + use<K, V> {
        let len = self.index.len();
        (home..len).chain(0..home)
    }

    /// The slot of `key`'s node, if it is kept.
    fn find(&self, key: &K, hash: u32) -> Option<usize> {
        for at in self.probe(self.home(hash)) {
            let slot = self.index[at];
            if slot.node == NONE {
                return None;
            }
            if slot.hash == hash && *self.nodes[slot.node as usize].key == *key {
                return Some(at);
            }
        }
        None
    }

    /// The slot of a node kept.
    fn slot_of(&self, node: u32) -> usize {
        let home = self.home(self.nodes[node as usize].hash);
        let slot = self.probe(home).find(|&at| self.index[at].node == node);
        slot.expect("every node has a slot")
    }

    /// Removes the node of the slot `at`; the last node takes its place.
    fn remove(&mut self, at: usize) {
        let node = self.index[at].node;
        self.unindex(at);
        self.unlink(node);
        let last = (self.nodes.len() - 1) as u32;
        if node != last {
            let moved = self.slot_of(last);
            self.index[moved].node = node;
            let Node { older, newer, .. } = self.nodes[last as usize];
            *self.newer_of(older) = node;
            *self.older_of(newer) = node;
        }
        let removed = self.nodes.swap_remove(node as usize);
        self.held -= removed.weight;
    }

    /// Empties the slot `at`, shifting back the slots after it that may stand closer to their
    /// home, so that no probe meets an empty slot before its node.
    fn unindex(&mut self, mut hole: usize) {
        let len = self.index.len();
        let mut next = (hole + 1) % len;
        while self.index[next].node != NONE {
            let home = self.home(self.index[next].hash);
            // the slot at `next` may move to `hole` when `hole` lies between its home and it
            if (next + len - home) % len >= (next + len - hole) % len {
                self.index[hole] = self.index[next];
                hole = next;
            }
            next = (next + 1) % len;
        }
        self.index[hole] = EMPTY;
    }

    fn unlink(&mut self, node: u32) {
        let Node { older, newer, .. } = self.nodes[node as usize];
        *self.newer_of(older) = newer;
        *self.older_of(newer) = older;
    }

    fn link_newest(&mut self, node: u32) {
        let newest = self.newest;
        let links = &mut self.nodes[node as usize];
        (links.older, links.newer) = (newest, NONE);
        *self.newer_of(newest) = node;
        self.newest = node;
    }

    /// Where the node after `node` in the recency list is written (`oldest` for [`NONE`]).
    fn newer_of(&mut self, node: u32) -> &mut u32 {
        match node {
            NONE => &mut self.oldest,
            node => &mut self.nodes[node as usize].newer,
        }
    }

    /// Where the node before `node` in the recency list is written (`newest` for [`NONE`]).
    fn older_of(&mut self, node: u32) -> &mut u32 {
        match node {
            NONE => &mut self.newest,
            node => &mut self.nodes[node as usize].older,
        }
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
        let cache: FileCache<Path, _> = FileCache::new(usize::MAX, usize::MAX, |_| 0);
        let get = |load| {
            FileVersion::of(&path).and_then(|version| cache.get(&path, &path, version, load))
        };
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
        let cache: FileCache<Path, _> = FileCache::new(usize::MAX, usize::MAX, |_| 0);
        let version = FileVersion::of(&path).unwrap();
        let first_byte = |input: &mut (dyn Read + Send)| {
            let mut byte = [0];
            input.read_exact(&mut byte).unwrap();
            byte[0]
        };
        assert_eq!(
            *cache.get(&path, &path, version, first_byte).unwrap().1,
            b'f'
        );
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
        assert_eq!(cache.stats().entries, 1, "the new stamp replaced the old");
        assert!(cache.get_or_render::<()>(&key, &3, || Err(())).is_err());
    }

    /// The least recently used entry goes first; an entry counts its key and the table counts
    /// all its places, so the budget is what the cache takes.
    #[test]
    fn the_least_recently_used_go_first() {
        let entry = 9 + 1 + ALLOCATION; // the value's bytes, the key's, the key's allocation
        let budget = Lru::<str, ()>::table_bytes(FIRST_CAPACITY) + 4 * entry;
        let mut lru: Lru<str, ()> = Lru::new(budget);
        for key in ["a", "b", "c", "d"] {
            lru.insert(key, (), 9);
        }
        assert_eq!((lru.len(), lru.total()), (4, budget));
        assert!(lru.get("a").is_some(), "a is now the most recently used");
        lru.insert("e", (), 9);
        assert!(lru.get("b").is_none(), "b was the least recently used");
        for key in ["a", "c", "d", "e"] {
            assert!(lru.get(key).is_some(), "{key}");
        }
        lru.insert("huge", (), budget / 2);
        assert!(
            lru.get("huge").is_none(),
            "over half the budget is not kept"
        );
        assert_eq!(lru.len(), 4);
        lru.insert("c", (), 3 * entry - 1 - ALLOCATION);
        assert_eq!(lru.len(), 2, "c weighs three entries now: a and d went");
        assert!(lru.get("e").is_some() && lru.get("c").is_some());
        assert_eq!(lru.total(), budget);

        let mut none: Lru<str, ()> = Lru::new(0);
        none.insert("a", (), 0);
        assert!(none.is_empty(), "a budget of 0 keeps nothing");
    }

    /// A million tiny entries: the table grows only while the entries and both tables (the old
    /// one and the new, as while it grows) fit in the budget, and what is counted is what the
    /// table really allocated.
    #[test]
    fn the_table_grows_only_within_the_budget() {
        for budget in [1 << 14, 1 << 20, 3 << 20] {
            let mut lru: Lru<str, ()> = Lru::new(budget);
            for n in 0..1_000_000 {
                let (capacity, held) = (lru.capacity, lru.held);
                lru.insert(&format!("k{n}"), (), 0);
                if lru.capacity != capacity {
                    let both = Lru::<str, ()>::table_bytes(capacity)
                        + Lru::<str, ()>::table_bytes(lru.capacity);
                    assert!(
                        held + both <= budget,
                        "grew from {capacity} to {}",
                        lru.capacity
                    );
                }
                assert!(lru.total() <= budget);
            }
            let allocated = lru.nodes.capacity() * size_of::<Node<str, ()>>()
                + lru.index.capacity() * size_of::<Slot>()
                + 2 * ALLOCATION;
            assert_eq!(Lru::<str, ()>::table_bytes(lru.capacity), allocated);
            assert!(
                lru.len() > lru.capacity / 2,
                "{} of {}",
                lru.len(),
                lru.capacity
            );
            assert!(lru.get("k999999").is_some());
        }
    }

    /// Random inserts and lookups against a plain model: the entries kept are always the most
    /// recently used, each with its last value, and the index finds each of them once.
    #[test]
    fn the_index_agrees_with_a_plain_model() {
        let mut state = 1_u64;
        let mut random = |below: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % below
        };
        let budget = Lru::<str, u64>::table_bytes(64) + 40 * (ALLOCATION + 2);
        let mut lru: Lru<str, u64> = Lru::new(budget);
        let mut recency: Vec<(String, u64)> = Vec::new(); // every key inserted, oldest first
        for step in 0..20_000 {
            let key = random(300).to_string();
            if random(3) == 0 {
                if let Some(&value) = lru.get(&key) {
                    let at = recency.iter().position(|(k, _)| *k == key).unwrap();
                    let used = recency.remove(at);
                    assert_eq!(used.1, value);
                    recency.push(used);
                }
            } else {
                lru.insert(&key, step, 0);
                recency.retain(|(k, _)| *k != key);
                recency.push((key, step));
            }
            let kept = &recency[recency.len() - lru.len()..];
            for (key, value) in kept {
                let slot = lru.find(key, lru.hash(key)).expect(key);
                assert_eq!(lru.nodes[lru.index[slot].node as usize].value, *value);
            }
            let slots = lru.index.iter().filter(|slot| slot.node != NONE).count();
            assert_eq!(slots, lru.len());
            assert!(lru.total() <= budget);
        }
        assert!(lru.len() > 20, "{}", lru.len());
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
