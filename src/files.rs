//! Reading `data/` for the widget handlers: file templates, cached parses, problem records.
//!
//! Every handler reads through [`Files`], and `Files` reads only paths that
//! [`DataDir::resolve`] hands out. Failures come back as [`FileError`]s, which say what went
//! wrong and nothing of HTTP (the handlers' edge, `widgets/errors.rs`, picks the status). A
//! file that does not parse, and a remote source that cannot be fetched, are also recorded as
//! a problem and listed at `/` until they read again ([`Files::noted`]).
//!
//! What `Files` keeps in memory is bounded by [`Limits`]: parsed tables, rendered answers, row
//! selections, files' bytes and remote copies each within a byte budget (least recently used
//! dropped first).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Read;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use serde_json::Value;

use crate::cache::{
    ALLOCATION, CacheStats, FileCache, FileVersion, Key, Lru, ResponseCache, Weigh, is_changing,
    is_replaced,
};
use crate::data::Data;
use crate::error::{FileError, Location};
use crate::filter::{self, Rule};
use crate::formats::{self, Caps, Format, Reading, Sheet};
use crate::http::{Body, Payload};
use crate::paths::{DataDir, is_safe_segment};
use crate::remote::{self, DEFAULT_TTL, Fetched, Remote, is_remote};
use crate::template::placeholders;
use crate::validate::{Problem, Severity};

/// How much [`Files`] keeps in memory, and how large a filter a request may ask for. Every
/// cache counts its keys and bookkeeping too, and drops the least recently used entries first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Parsed tables and JSON documents of `data/`, weighed as they lie in memory
    /// (`--data-cache-bytes`): a 1 GB CSV of minute bars takes about 0.7 GB. A table larger
    /// than this is parsed for each request.
    pub data: usize,
    /// Rendered table answers (`--response-cache-bytes`). Only what clients ask for is kept,
    /// so a small folder uses a fraction of this; a big file's large answers fit.
    pub responses: usize,
    /// Row selections (filtered, sorted row indices, 4 bytes a row) kept for paging through
    /// them (`--selection-cache-bytes`): a few orderings of a table of several million rows;
    /// an entry may take half of it, so one ordering of up to 12 million rows is kept.
    pub selections: usize,
    /// Whole files served as bytes (`/files/`, pdf, markdown, ...; `--file-cache-bytes`); a
    /// file larger than half of it is read for each request instead.
    pub file_bytes: usize,
    /// Fetched remote bodies, and apart the tables parsed from them, weighed as their bodies
    /// (`--remote-cache-bytes`).
    pub remote: usize,
    pub filter: filter::Limits,
    /// Bytes a compressed data file may expand to (`--max-decompressed-bytes`).
    pub decompressed: u64,
}

const MIB: usize = 1024 * 1024;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            data: 1024 * MIB,
            responses: 128 * MIB,
            selections: 96 * MIB,
            file_bytes: 128 * MIB,
            remote: remote::DEFAULT_CACHE_BYTES,
            filter: filter::Limits::default(),
            decompressed: formats::DEFAULT_MAX_DECOMPRESSED,
        }
    }
}

pub struct Files {
    pub dir: DataDir,
    /// Remote sources: a `file` that is an `http(s)` URL.
    pub remote: Remote,
    /// How large a filter a request may ask for.
    pub filter_limits: filter::Limits,
    /// What one data file may expand to in memory.
    pub caps: Caps,
    /// Parsed remote tables by URL, with the version of the body they were parsed from.
    remote_data: Mutex<Lru<str, (FileVersion, Parsed)>>,
    /// Parsed tables and documents by path and version.
    data: FileCache<ReadKey, Parsed>,
    bytes: FileCache<ReadKey, Result<Arc<[u8]>, FileError>>,
    rendered: ResponseCache<RenderedFrom>,
    selections: ResponseCache<SelectedFrom, Selection>,
    /// Files whose last read failed; cleared when they read again.
    problems: RwLock<BTreeMap<ProblemKey, Problem>>,
}

/// A table or document parsed from a file, or why it does not parse.
type Parsed = Result<Arc<Data>, FileError>;

/// The heap bytes of a [`Parsed`]: the data and their `Arc`'s allocation, or the reason.
fn parsed_weight(parsed: &Parsed) -> usize {
    match parsed {
        Ok(data) => data.weight() + size_of::<Data>() + ALLOCATION,
        Err(err) => error_weight(err),
    }
}

/// The heap bytes of a kept error, near enough: its text.
fn error_weight(err: &FileError) -> usize {
    err.to_string().len() + 2 * ALLOCATION
}

/// Parsed data weigh the bytes they hold on the heap: a table's columns, or a JSON document's
/// bytes and the rows parsed from them.
impl Weigh for Data {
    fn weight(&self) -> usize {
        match self {
            Data::Table(table) => table.heap_bytes(),
            Data::Json { raw, rows } => {
                let rows = rows.as_ref().map_or(0, |(columns, rows)| {
                    let names = columns.iter().map(|name| name.capacity() + ALLOCATION);
                    let items = rows.iter().map(json_weight);
                    (columns.capacity() * size_of::<String>() + names.sum::<usize>())
                        + (rows.capacity() * size_of::<Value>() + items.sum::<usize>())
                        + 2 * ALLOCATION
                });
                raw.len() + ALLOCATION + rows
            }
        }
    }
}

/// The heap bytes of a parsed JSON value, near enough: an object (an insertion-ordered map)
/// takes, for each entry, its key, its value and about three words of hash and index.
fn json_weight(value: &Value) -> usize {
    match value {
        Value::String(text) => text.capacity() + ALLOCATION,
        Value::Array(items) => {
            let items_held = items.iter().map(json_weight).sum::<usize>();
            items.capacity() * size_of::<Value>() + ALLOCATION + items_held
        }
        Value::Object(map) => {
            let entry = size_of::<String>() + size_of::<Value>() + 3 * size_of::<usize>();
            let held = map
                .iter()
                .map(|(key, value)| key.capacity() + ALLOCATION + json_weight(value));
            map.len() * entry + 2 * ALLOCATION + held.sum::<usize>()
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
    }
}

/// A data file as one lookup found it: its name relative to `data/` (or a remote URL), and for
/// a local file its path and version then. Reading through it takes no second lookup (an
/// `lstat` a path segment; the `statx` of a short path is a tenth of a small request's time),
/// and reads only that file (see [`Files::read_local`]). It reads as its name.
#[derive(Debug, Clone)]
pub struct Found {
    relative: String,
    /// `None` for a remote file.
    local: Option<(PathBuf, FileVersion)>,
    /// For a remote file, how long a fetched copy is used ([`DEFAULT_TTL`] unless the widget
    /// sets `backend.ttl`).
    ttl: Duration,
    /// How the widget asks for the file to be read (a workbook's sheet, a separator).
    reading: Reading,
}

impl Found {
    pub fn into_name(self) -> String {
        self.relative
    }

    /// The file, a remote copy of which is used for `ttl`.
    pub fn kept_for(self, ttl: Duration) -> Found {
        Found { ttl, ..self }
    }

    /// The file, read as `reading` asks (parsed and cached apart from other readings of it).
    pub fn read_as(self, reading: Reading) -> Found {
        Found { reading, ..self }
    }
}

impl Deref for Found {
    type Target = str;

    fn deref(&self) -> &str {
        &self.relative
    }
}

/// What the readers of [`Files`] take: a name relative to `data/` (or a remote URL), looked up
/// when it is read, or a file already [`Found`].
pub trait DataFile {
    fn found(&self, files: &Files) -> Result<Cow<'_, Found>, FileError>;
}

impl DataFile for str {
    fn found(&self, files: &Files) -> Result<Cow<'_, Found>, FileError> {
        files.find(self).map(Cow::Owned)
    }
}

impl DataFile for String {
    fn found(&self, files: &Files) -> Result<Cow<'_, Found>, FileError> {
        self.as_str().found(files)
    }
}

impl DataFile for Found {
    fn found(&self, _: &Files) -> Result<Cow<'_, Found>, FileError> {
        Ok(Cow::Borrowed(self))
    }
}

/// What a file's parse (and bytes) are kept under: its path and how its widget reads it, so
/// that each sheet or separator asked of one file is parsed and kept apart.
#[derive(Clone, PartialEq, Eq, Hash)]
struct ReadKey {
    path: PathBuf,
    reading: Reading,
}

impl Weigh for ReadKey {
    fn weight(&self) -> usize {
        let sheet = match &self.reading.sheet {
            Some(Sheet::Name(name)) => name.len(),
            _ => 0,
        };
        self.path.as_os_str().len() + sheet
    }
}

impl From<&ReadKey> for Box<ReadKey> {
    fn from(key: &ReadKey) -> Box<ReadKey> {
        Box::new(key.clone())
    }
}

/// What a problem is recorded under: the file as shown (`data/...`, or a URL) and how it was
/// read, so that each reading of a file (a sheet) has its problem apart: one sheet that reads
/// does not clear another's problem. Problems are listed at `/` in this order.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct ProblemKey {
    shown: String,
    reading: Reading,
}

impl ProblemKey {
    /// A file read as its name says.
    fn of(shown: &str) -> ProblemKey {
        ProblemKey {
            shown: shown.to_string(),
            reading: Reading::default(),
        }
    }
}

/// What a rendered table response depends on besides its request: the file's version and the
/// widget's filter rules. While both are unchanged, the cached bytes are the answer.
#[derive(Clone, PartialEq)]
struct RenderedFrom {
    file: PathBuf,
    version: FileVersion,
    rules: Vec<(String, Option<Rule>)>,
}

impl Weigh for RenderedFrom {
    fn weight(&self) -> usize {
        let column = |rule: &Option<Rule>| match rule {
            Some(Rule::Column(column) | Rule::Bound { column, .. }) => column.len() + ALLOCATION,
            None => 0,
        };
        let rules = self.rules.iter().map(|(param, rule)| {
            size_of::<(String, Option<Rule>)>() + param.len() + ALLOCATION + column(rule)
        });
        self.file.weight() + 2 * ALLOCATION + rules.sum::<usize>()
    }
}

/// What a row selection depends on: what a rendered answer does, and the very table its rows
/// index into. The table is held weakly, so a cached selection never keeps a table in memory;
/// a table parsed again (after the data cache let it go) is selected from anew.
#[derive(Clone)]
struct SelectedFrom {
    from: RenderedFrom,
    data: Weak<Data>,
}

impl PartialEq for SelectedFrom {
    fn eq(&self, other: &SelectedFrom) -> bool {
        self.from == other.from && Weak::ptr_eq(&self.data, &other.data)
    }
}

impl Weigh for SelectedFrom {
    /// A weak reference keeps its `Arc`'s allocation (not the data) until it is dropped.
    fn weight(&self) -> usize {
        self.from.weight() + size_of::<Data>() + ALLOCATION
    }
}

/// Row indices chosen and ordered for a request.
type Selection = Arc<[u32]>;

impl Weigh for Selection {
    fn weight(&self) -> usize {
        self.len() * size_of::<u32>() + ALLOCATION
    }
}

impl Files {
    pub fn new(dir: DataDir) -> Files {
        Files::with_limits(dir, Limits::default())
    }

    pub fn with_limits(dir: DataDir, limits: Limits) -> Files {
        Files {
            dir,
            remote: Remote::new(remote::TIMEOUT, remote::MAX_BYTES, limits.remote),
            filter_limits: limits.filter,
            caps: Caps {
                decompressed: limits.decompressed,
                ..Caps::default()
            },
            remote_data: Mutex::new(Lru::new(limits.remote)),
            data: FileCache::new(limits.data, limits.data, parsed_weight),
            bytes: FileCache::new(
                limits.file_bytes,
                limits.file_bytes / 2,
                |bytes| match bytes {
                    Ok(bytes) => bytes.len() + ALLOCATION,
                    Err(err) => error_weight(err),
                },
            ),
            rendered: ResponseCache::new(limits.responses),
            selections: ResponseCache::new(limits.selections),
            problems: RwLock::new(BTreeMap::new()),
        }
    }

    /// A table file's rows for `params`, rendered by `render` once per file version, rules and
    /// parameters (in any order); `scope` (the widget, then what else the answer depends on,
    /// such as a route) keeps answers apart that share a file and parameters. `render`'s own
    /// failures (of any type a [`FileError`] converts into) come back as they are.
    pub fn rendered<E: From<FileError>>(
        &self,
        file: &(impl DataFile + ?Sized),
        scope: &[&str],
        params: &[(String, String)],
        rules: &[(String, Option<Rule>)],
        render: impl FnOnce(&Data) -> Result<Body, E>,
    ) -> Result<Payload, E> {
        let file = file.found(self)?;
        let (from, data) = self.rendered_from(&file, rules)?;
        let key = cache_key(&file, scope, params);
        self.rendered
            .get_or_render(&key, &from, || render(&data).map(Payload::new))
    }

    /// The caches by name, for `/metrics`: rendered answers, row selections, files' bytes,
    /// parsed tables and fetched remote bodies.
    pub fn cache_stats(&self) -> [(&'static str, CacheStats); 5] {
        [
            ("responses", self.rendered.stats()),
            ("selections", self.selections.stats()),
            ("files", self.bytes.stats()),
            ("tables", self.data.stats()),
            ("remote", self.remote.stats()),
        ]
    }

    /// Row indices of a table file chosen by `select` (filtered and sorted rows), kept like
    /// [`Files::rendered`] keeps responses so that paging through them selects nothing anew;
    /// returned with the data they index into.
    pub fn selection<E: From<FileError>>(
        &self,
        file: &(impl DataFile + ?Sized),
        scope: &[&str],
        params: &[(String, String)],
        rules: &[(String, Option<Rule>)],
        select: impl FnOnce(&Data) -> Result<Vec<u32>, E>,
    ) -> Result<(Arc<Data>, Arc<[u32]>), E> {
        let file = file.found(self)?;
        let (from, data) = self.rendered_from(&file, rules)?;
        let key = cache_key(&file, scope, params);
        let from = SelectedFrom {
            from,
            data: Arc::downgrade(&data),
        };
        let rows = self
            .selections
            .get_or_render(&key, &from, || select(&data).map(Selection::from))?;
        Ok((data, rows))
    }

    /// The data of a table file with what an answer rendered from it depends on besides the
    /// request: the file, the version those data were parsed from (not the version seen before
    /// or after, which may differ while the file changes) and the widget's rules.
    fn rendered_from(
        &self,
        file: &Found,
        rules: &[(String, Option<Rule>)],
    ) -> Result<(RenderedFrom, Arc<Data>), FileError> {
        let (file, version, data) = self.versioned_data(file)?;
        let from = RenderedFrom {
            file,
            version,
            rules: rules.to_vec(),
        };
        Ok((from, data))
    }

    pub fn problems(&self) -> Vec<Problem> {
        let problems = self.problems.read().unwrap_or_else(|p| p.into_inner());
        problems.values().cloned().collect()
    }

    /// Fills `{param}` placeholders from the query. In a path under `data/` a value must be one
    /// safe path segment, so it can never leave the template's folder; in a remote URL it is
    /// percent-encoded for where it stands ([`remote::encode`]).
    pub fn fill(template: &str, params: &[(String, String)]) -> Result<String, FileError> {
        placeholders(template).map_err(|why| FileError::Template { why })?;
        let mut filled = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            let close = open + rest[open..].find('}').unwrap_or(rest.len() - open);
            let name = &rest[open + 1..close];
            let value = params
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.trim())
                .filter(|value| !value.is_empty())
                .ok_or_else(|| FileError::MissingParameter {
                    param: name.to_string(),
                })?;
            let in_url = is_remote(template);
            let not_a_name = || FileError::NotAFileName {
                param: name.to_string(),
                value: value.to_string(),
                in_url,
            };
            filled.push_str(&rest[..open]);
            if in_url {
                let at = template.len() - rest.len() + open;
                filled.push_str(&remote::encode(template, at, value).ok_or_else(not_a_name)?);
            } else if is_safe_segment(value) {
                filled.push_str(value);
            } else {
                return Err(not_a_name());
            }
            rest = &rest[close + 1..];
        }
        filled.push_str(rest);
        Ok(filled)
    }

    /// The first candidate (relative to `data/`) for `widget` that exists, or an error naming
    /// all of them.
    pub fn locate(&self, widget: &str, candidates: Vec<String>) -> Result<Found, FileError> {
        let mut tried = Vec::with_capacity(candidates.len());
        for relative in candidates {
            match self.look_up(relative) {
                Ok(found) => return Ok(found),
                Err(relative) => tried.push(relative),
            }
        }
        Err(FileError::NoDataFile {
            widget: widget.to_string(),
            tried: tried.iter().map(|c| self.dir.display(c)).collect(),
        })
    }

    /// The file `relative` names under `data/` (a remote URL is always found: it is fetched
    /// when read).
    pub fn find(&self, relative: &str) -> Result<Found, FileError> {
        self.try_find(relative)
            .ok_or_else(|| self.not_found(relative))
    }

    /// [`Files::find`] as an `Option`.
    pub fn try_find(&self, relative: &str) -> Option<Found> {
        self.look_up(relative.to_string()).ok()
    }

    /// [`Files::find`], giving the name back when nothing is there.
    fn look_up(&self, relative: String) -> Result<Found, String> {
        if is_remote(&relative) {
            return Ok(Found {
                relative,
                local: None,
                ttl: DEFAULT_TTL,
                reading: Reading::default(),
            });
        }
        match self.dir.resolve(&relative) {
            Some((path, meta)) => Ok(Found {
                relative,
                local: Some((path, FileVersion::from_metadata(&meta))),
                ttl: DEFAULT_TTL,
                reading: Reading::default(),
            }),
            None => Err(relative),
        }
    }

    /// A table or JSON document, parsed once per file version.
    pub fn data(&self, file: &(impl DataFile + ?Sized)) -> Result<Arc<Data>, FileError> {
        let file = file.found(self)?;
        self.versioned_data(&file).map(|(_, _, data)| data)
    }

    /// [`Files::data`] with the file's path (a remote file's URL) and the version the data were
    /// parsed from.
    fn versioned_data(&self, file: &Found) -> Result<(PathBuf, FileVersion, Arc<Data>), FileError> {
        let Some((path, seen)) = &file.local else {
            let (version, data) = self.remote_data(file)?;
            return Ok((PathBuf::from(&file.relative), version, data));
        };
        let shown = self.dir.display(file);
        let (path, version, parsed) = self.read_local(&self.data, file, path, *seen, |input| {
            Data::load(&shown, input, &file.reading, &self.caps).map(Arc::new)
        })?;
        let problem = ProblemKey {
            shown,
            reading: file.reading.clone(),
        };
        let data = self.noted_as(problem, parsed.as_ref().clone())?;
        Ok((path, version, data))
    }

    /// A local file's value through `cache`. If the path no longer leads to the file the lookup
    /// found (replaced, or a link put in its place), the name is looked up again, once: what is
    /// read is always a file a lookup found inside `data/`.
    fn read_local<T>(
        &self,
        cache: &FileCache<ReadKey, T>,
        file: &Found,
        path: &Path,
        seen: FileVersion,
        load: impl Fn(&mut (dyn Read + Send)) -> T,
    ) -> Result<(PathBuf, FileVersion, Arc<T>), FileError> {
        let shown = self.dir.display(file);
        let read = |path: &Path, seen| {
            let key = ReadKey {
                path: path.to_path_buf(),
                reading: file.reading.clone(),
            };
            cache.get(&key, path, seen, &load)
        };
        let (path, read) = match read(path, seen) {
            Err(err) if is_replaced(&err) => match self.find(file)?.local {
                Some((path, seen)) => {
                    let again = read(&path, seen);
                    (path, again)
                }
                None => return Err(self.not_found(file)),
            },
            read => (path.to_path_buf(), read),
        };
        let (version, value) = read.map_err(|err| unreadable(&shown, &err))?;
        Ok((path, version, value))
    }

    /// Whether `relative` names a file under `data/` (a remote URL counts as there: it is
    /// fetched when a widget asks for it).
    pub fn exists(&self, relative: &str) -> bool {
        self.try_find(relative).is_some()
    }

    /// A remote body; a failed fetch is an error and a problem, a stale copy a warning at `/`.
    fn fetch(&self, file: &Found) -> Result<Fetched, FileError> {
        let url = &file.relative;
        match self.remote.get(url, file.ttl) {
            Ok(fetched) => {
                match &fetched.stale {
                    Some(why) => {
                        let line = format!("{url}: warning: {why}");
                        self.record(ProblemKey::of(url), Problem::warning(line));
                    }
                    None => self.clear_problem(url),
                }
                Ok(fetched)
            }
            Err(why) => self.noted(
                url,
                Err(FileError::Upstream {
                    url: url.clone(),
                    why,
                }),
            ),
        }
    }

    /// A remote table or document, parsed once per fetched body, with that body's version.
    fn remote_data(&self, file: &Found) -> Result<(FileVersion, Arc<Data>), FileError> {
        let fetched = self.fetch(file)?;
        let url = file.relative.as_str();
        let cached = self
            .remote_data
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(url)
            .cloned();
        let parsed = match cached {
            Some((version, parsed)) if version == fetched.version => parsed,
            _ => {
                let shown = url.split(['?', '#']).next().unwrap_or(url);
                let parsed = Data::parse(shown, &fetched.bytes).map(Arc::new);
                self.remote_data
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(
                        url,
                        (fetched.version, parsed.clone()),
                        parsed_weight(&parsed),
                    );
                parsed
            }
        };
        // A stale copy keeps the warning `fetch` recorded; a fresh one settles the problem.
        let data = match fetched.stale {
            None => self.noted(url, parsed)?,
            Some(_) => parsed?,
        };
        Ok((fetched.version, data))
    }

    /// A table file's column names as `reading` reads it, cheaply: a CSV's header row only, or
    /// the keys of a JSON array's objects. `None` for a JSON document that is not an array of
    /// rows.
    pub fn header(&self, relative: &str, reading: &Reading) -> crate::manifest::Header {
        if is_remote(relative) {
            return Ok(None);
        }
        let shown = self.dir.display(relative);
        let found = self.find(relative)?.read_as(reading.clone());
        let (format, compression) = formats::of(relative);
        if let (Some((path, _)), Format::Delimited(by_name), formats::Compression::None) =
            (&found.local, format, compression)
        {
            let file = std::fs::File::open(path).map_err(|err| unreadable(&shown, &err))?;
            return crate::csv_read::read_header(file, reading.delimiter.or(by_name))
                .map(Some)
                .map_err(|err| err.in_file(&shown));
        }
        match &*self.data(&found)? {
            Data::Json { rows, .. } => Ok(rows.as_ref().map(|(columns, _)| columns.clone())),
            Data::Table(table) => Ok(Some(table.names().to_vec())),
        }
    }

    /// A file's bytes, read once per file version.
    pub fn bytes(&self, file: &(impl DataFile + ?Sized)) -> Result<Arc<[u8]>, FileError> {
        let file = file.found(self)?;
        let Some((path, version)) = &file.local else {
            return Ok(self.fetch(&file)?.bytes);
        };
        let shown = self.dir.display(&file);
        // Sized from the version seen, so the buffer is allocated once (a growing one peaked at
        // twice the file before the copy into the shared slice).
        let expected = usize::try_from(version.byte_len()).unwrap_or(0);
        let (_, _, cached) = self.read_local(&self.bytes, &file, path, *version, |input| {
            let mut bytes = Vec::with_capacity(expected);
            input
                .read_to_end(&mut bytes)
                .map(|_| Arc::from(bytes))
                .map_err(|err| unreadable(&shown, &err))
        })?;
        cached.as_ref().clone()
    }

    /// A UTF-8 text file (a BOM is dropped); text that is not UTF-8 is a parse error and a
    /// problem.
    pub fn text(&self, file: &(impl DataFile + ?Sized)) -> Result<String, FileError> {
        let file = file.found(self)?;
        let bytes = self.bytes(&*file)?;
        let shown = self.dir.display(&file);
        self.noted(&shown, utf8_text(&shown, &bytes).map(str::to_string))
    }

    /// The files of `folder` under `data/` (and of its subfolders when `recursive`), as names
    /// relative to `data/`.
    pub fn folder(&self, folder: &str, recursive: bool) -> Result<Vec<String>, FileError> {
        self.dir
            .list(folder, recursive)
            .ok_or_else(|| FileError::FolderNotFound {
                folder: self.dir.display(folder),
            })
    }

    fn not_found(&self, relative: &str) -> FileError {
        FileError::NotFound {
            file: self.dir.display(relative),
        }
    }

    /// Records the problem for `shown` when `result` is an error, clears it when it is not;
    /// `result` is passed on as it is (answering is the caller's business).
    pub fn noted<T>(&self, shown: &str, result: Result<T, FileError>) -> Result<T, FileError> {
        self.noted_as(ProblemKey::of(shown), result)
    }

    /// [`Files::noted`] under `key`.
    fn noted_as<T>(&self, key: ProblemKey, result: Result<T, FileError>) -> Result<T, FileError> {
        match &result {
            Ok(_) => self.clear(&key),
            Err(err) => self.record(key, Problem::error(err.to_string())),
        }
        result
    }

    /// Notes a problem with a file without failing the request (e.g. one bad note in a feed).
    pub fn record_problem(&self, shown: &str, detail: &str) {
        self.record(ProblemKey::of(shown), Problem::error(detail));
    }

    /// Notes `problem` under `key`, logging it when it is new.
    fn record(&self, key: ProblemKey, problem: Problem) {
        let mut problems = self.problems.write().unwrap_or_else(|p| p.into_inner());
        if problems.get(&key) != Some(&problem) {
            let level = match problem.severity {
                Severity::Warning => crate::log::Level::Warning,
                Severity::Error => crate::log::Level::Error,
            };
            crate::log::write(level, &format!("openbb-files: {}", problem.line));
            problems.insert(key, problem);
        }
    }

    pub fn clear_problem(&self, shown: &str) {
        self.clear(&ProblemKey::of(shown));
    }

    fn clear(&self, key: &ProblemKey) {
        let present = self
            .problems
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(key);
        if present {
            self.problems
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .remove(key);
        }
    }
}

/// Why a data file cannot be read: it keeps changing or being replaced under the reader
/// (which passes), or it cannot be read at all.
fn unreadable(shown: &str, err: &std::io::Error) -> FileError {
    let (file, why) = (shown.to_string(), err.to_string());
    match is_changing(err) || is_replaced(err) {
        true => FileError::Changing { file, why },
        false => FileError::Unreadable { file, why },
    }
}

/// A file's bytes as UTF-8 text, a BOM dropped.
pub fn utf8_text<'a>(shown: &str, bytes: &'a [u8]) -> Result<&'a str, FileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|err| FileError::Parse {
        file: shown.to_string(),
        at: Location::Whole,
        message: format!("not UTF-8 text ({err})"),
    })
}

/// The cache key for a request on a file: the file, the `scope` (the widget, ...) and the
/// parameters in any order.
fn cache_key(relative: &str, scope: &[&str], params: &[(String, String)]) -> Key {
    let parts: Vec<&str> = std::iter::once(relative)
        .chain(scope.iter().copied())
        .collect();
    Key::new(&parts, params)
}

/// The media type for a file name, by extension.
pub fn media_type(name: &str) -> &'static str {
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("pdf") => "application/pdf",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("svg") => "image/svg+xml",
        Some("webp") => "image/webp",
        Some("md") => "text/markdown; charset=utf-8",
        Some("txt") => "text/plain; charset=utf-8",
        Some("csv") => "text/csv; charset=utf-8",
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::owned_pairs as params;
    use crate::table::Cell;

    #[test]
    fn placeholders_take_one_safe_segment() {
        assert_eq!(
            Files::fill("reports/{ticker}.md", &params(&[("ticker", "AAPL")])).unwrap(),
            "reports/AAPL.md"
        );
        assert_eq!(
            Files::fill("{a}/{b}-{a}.pdf", &params(&[("a", "x"), ("b", "y")])).unwrap(),
            "x/y-x.pdf"
        );
        for bad in ["..", "../secret", "a/b", ".env", "C:", "a\\b"] {
            let err = Files::fill("reports/{t}.md", &params(&[("t", bad)])).unwrap_err();
            let refused = FileError::NotAFileName {
                param: "t".into(),
                value: bad.into(),
                in_url: false,
            };
            assert_eq!(err, refused, "{bad}");
        }
        let url = "http://127.0.0.1:9/r/{t}.csv";
        let err = Files::fill(url, &params(&[("t", "..")])).unwrap_err();
        assert!(matches!(err, FileError::NotAFileName { in_url: true, .. }));
        let missing = FileError::MissingParameter { param: "t".into() };
        assert_eq!(Files::fill("r/{t}.md", &[]), Err(missing.clone()));
        assert_eq!(
            Files::fill("r/{t}.md", &params(&[("t", " ")])),
            Err(missing),
            "a blank value is missing"
        );
    }

    /// A file found, then replaced before it is read: by a link to a file outside `data/`
    /// (never read), or by another file (read, after a new lookup).
    #[cfg(unix)]
    #[test]
    fn a_found_file_replaced_before_it_is_read_is_looked_up_again() {
        let root = std::env::temp_dir().join(format!("obf-found-{}", std::process::id()));
        let data = root.join("data");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(root.join("secret.csv"), "s\nSECRET\n").unwrap();
        std::fs::write(data.join("a.csv"), "a\nfirst\n").unwrap();
        let files = Files::new(DataDir::new(data.clone()));
        let rows = |file: &Found| match &*files.data(file)? {
            Data::Table(table) => Ok(table.names().to_vec()),
            Data::Json { .. } => unreachable!("a CSV parses to a table"),
        };
        let not_found = FileError::NotFound {
            file: "data/a.csv".into(),
        };

        let found = files.find("a.csv").unwrap();
        std::fs::remove_file(data.join("a.csv")).unwrap();
        std::os::unix::fs::symlink(root.join("secret.csv"), data.join("a.csv")).unwrap();
        assert_eq!(rows(&found), Err(not_found.clone()));
        assert_eq!(files.bytes(&found), Err(not_found));

        std::fs::remove_file(data.join("a.csv")).unwrap();
        std::fs::write(data.join("a.csv"), "a\nfirst\n").unwrap();
        let found = files.find("a.csv").unwrap();
        std::fs::write(data.join("b.csv"), "b\nsecond\n").unwrap();
        std::fs::rename(data.join("b.csv"), data.join("a.csv")).unwrap();
        assert_eq!(rows(&found), Ok(vec!["b".to_string()]));
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// Many distinct requests, many files: each cache stays within its budget, counting its
    /// keys and bookkeeping, and keeps the most recently used.
    #[test]
    fn caches_stay_within_their_budgets() {
        let root = std::env::temp_dir().join(format!("obf-budgets-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("t.csv"), "sector,n\nx,1\ny,2\n").unwrap();
        for n in 0..40 {
            std::fs::write(root.join(format!("f{n}.pdf")), vec![b'x'; 1000]).unwrap();
        }
        std::fs::write(root.join("big.pdf"), vec![b'x'; 6000]).unwrap();
        let budget = 10_000;
        let limits = Limits {
            responses: budget,
            selections: budget,
            file_bytes: budget,
            ..Limits::default()
        };
        let files = Files::with_limits(DataDir::new(root.clone()), limits);
        for n in 0..5_000 {
            let params = params(&[("sector", &format!("z{n}"))]);
            let rendered = files.rendered("t.csv", &["w"], &params, &[], |_| {
                Ok::<_, FileError>(Body::Owned(b"[]".to_vec()))
            });
            assert_eq!(&*rendered.unwrap().bytes, b"[]");
            files
                .selection("t.csv", &["w"], &params, &[], |_| {
                    Ok::<_, FileError>(vec![0])
                })
                .unwrap();
            assert_eq!(
                files.bytes(&format!("f{}.pdf", n % 40)).unwrap().len(),
                1000
            );
        }
        assert_eq!(
            files.bytes("big.pdf").unwrap().len(),
            6000,
            "served, not kept"
        );
        let local = files
            .cache_stats()
            .into_iter()
            .filter(|(name, _)| *name != "remote");
        for (_, CacheStats { entries, bytes, .. }) in local {
            assert!(bytes <= budget, "{bytes} bytes in {entries} entries");
            assert!(entries > 0 && entries < 50, "{entries} entries");
        }
        let rendered_again: Result<_, FileError> = files.rendered(
            "t.csv",
            &["w"],
            &params(&[("sector", "z4999")]),
            &[],
            |_| panic!("the most recent answer is kept"),
        );
        assert!(rendered_again.is_ok());
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// A data cache smaller than two tables keeps one: both are served, the one let go parsed
    /// again when it is asked for, the one kept reused.
    #[test]
    fn a_data_cache_smaller_than_two_tables_keeps_one() {
        let root = std::env::temp_dir().join(format!("obf-data-budget-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        let table = |name: &str| {
            let rows = (0..2000).map(|n| format!("{name}{},{n}\n", n % 7));
            format!("ticker,close\n{}", rows.collect::<String>())
        };
        std::fs::write(root.join("a.csv"), table("A")).unwrap();
        std::fs::write(root.join("b.csv"), table("B")).unwrap();
        let one = parsed_weight(&Data::parse("a.csv", table("A").as_bytes()).map(Arc::new));
        let limits = Limits {
            data: one * 3 / 2,
            ..Limits::default()
        };
        let files = Files::with_limits(DataDir::new(root.clone()), limits);
        fn first_cell(data: &Data) -> Cell<'_> {
            match data {
                Data::Table(table) => table.cell(0, 0),
                Data::Json { .. } => unreachable!("a CSV parses to a table"),
            }
        }
        let a = files.data("a.csv").unwrap();
        let b = files.data("b.csv").unwrap();
        assert_eq!(
            (first_cell(&a), first_cell(&b)),
            (Cell::Text("A0"), Cell::Text("B0"))
        );
        let tables = || {
            let mut stats = files.cache_stats().into_iter();
            stats.find(|(name, _)| *name == "tables").unwrap().1
        };
        assert_eq!(
            tables().entries,
            1,
            "{} bytes of {}",
            tables().bytes,
            limits.data
        );
        let a_again = files.data("a.csv").unwrap();
        assert!(
            !Arc::ptr_eq(&a, &a_again),
            "a was let go, then parsed again"
        );
        assert_eq!(first_cell(&a_again), Cell::Text("A0"));
        assert!(Arc::ptr_eq(&a_again, &files.data("a.csv").unwrap()));
        assert_eq!(tables().entries, 1);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn media_types_follow_the_extension() {
        assert_eq!(media_type("a/Report.PDF"), "application/pdf");
        assert_eq!(media_type("x.jpeg"), "image/jpeg");
        assert_eq!(media_type("noext"), "application/octet-stream");
    }
}
