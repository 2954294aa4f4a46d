//! Writes from Workspace forms: a POST to a widget with `backend.append` adds one row to its
//! file (a newsfeed's: one Markdown note to its folder), a PUT replaces the row of the
//! submitted key (`manifest/append.rs` parses the setting and generates the forms). `row.rs`
//! checks values and encodes rows and notes, `disk.rs` writes them.
//!
//! Invariants: nothing is writable unless a widget names its file (folder) in `widgets.json`
//! (a request never chooses the file: a note's name comes from the server's date and a slug of
//! its title, and never replaces a file) and that file resolves inside `data/`; writes are
//! refused (403) unless the server has API keys or `--allow-unauthenticated-writes`; a body
//! over [`Limits::max_body_bytes`] is a 413 and a file at [`Limits::max_rows`] rows (a folder at
//! as many notes) takes no more (507); writes to one file (folder) are serialised (a lock per
//! path, held from reading the file to the synced write), each is on disk (`fdatasync`, or a
//! synced new file renamed or linked into place, the folder synced) before its 2xx, and a
//! failed one leaves the file (folder) as it was. Every write, refused or done, is logged:
//! time, client, the id of its key (never the key), widget, file, bytes, status; the
//! `submitted_by` column holds that id.

mod disk;
mod row;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use serde_json::json;

use crate::cache::FileVersion;
use crate::http::{Method, Request, Response};
use crate::log;
use crate::manifest::{Append, Format, Manifest, Widget};
use crate::paths::{DataDir, is_safe_segment};
use crate::validate::Problem;
use row::{Row, Rows, ServerFilled};

/// The bounds of writes, from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// `--allow-unauthenticated-writes`: take writes on a server without keys.
    pub allow_unauthenticated: bool,
    /// `--max-write-bytes`: the largest form submission.
    pub max_body_bytes: usize,
    /// `--max-rows-per-file`: a target file with this many rows takes no more.
    pub max_rows: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            allow_unauthenticated: false,
            max_body_bytes: 64 * 1024,
            max_rows: 100_000,
        }
    }
}

/// How much of a CSV target [`Writes::problems`] reads for its header.
const HEADER_BYTES_READ: u64 = 64 * 1024;

/// The most free-looking names a note is tried under (`-2`, `-3`, ...) before a 500.
const NOTE_NAMES_TRIED: usize = 1000;

/// Locks kept for at most this many files beyond those being written.
const IDLE_LOCKS_KEPT: usize = 64;

/// The writes of one server: its limits and a lock per target file.
#[derive(Debug)]
pub struct Writes {
    data: DataDir,
    limits: Limits,
    /// Whether requests carry a checked API key (`--api-key`, `--api-keys`).
    authenticated: bool,
    /// Per target file: the lock serialising its writes, guarding what the last one learnt.
    locks: Mutex<HashMap<PathBuf, Arc<Mutex<Option<Known>>>>>,
}

/// What a write learnt of its file, reused by the next while the file is unchanged (so an
/// append costs a `stat`, not a read of the whole file).
#[derive(Debug)]
struct Known {
    version: FileVersion,
    rows: Rows,
}

/// A refused or failed write: status and detail.
type Refusal = (u16, String);

impl Writes {
    pub fn new(data: DataDir, limits: Limits, authenticated: bool) -> Writes {
        Writes {
            data,
            limits,
            authenticated,
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// Why this server takes no writes, or `None` when it does.
    pub fn refused_because(&self) -> Option<&'static str> {
        (!self.authenticated && !self.limits.allow_unauthenticated).then_some(
            "writes need an API key: start the server with --api-key or --api-keys (or, on a \
             trusted network only, --allow-unauthenticated-writes)",
        )
    }

    /// The write targets of `manifest` checked: each file exists and can take its form's rows
    /// (else an error); a `submitted_by` column on a server taking writes without keys is a
    /// warning (it stays empty). For `check`, the start and `/`.
    pub fn problems(&self, manifest: &Manifest) -> Vec<Problem> {
        let anonymous = !self.authenticated && self.limits.allow_unauthenticated;
        manifest
            .write_targets()
            .filter_map(|(widget, append)| {
                let shown = |why: &str| format!("{}: backend.append: {why}", widget.id);
                if let Err(why) = self.target(append) {
                    return Some(Problem::error(shown(&why)));
                }
                let column = append.submitted_by.as_ref().filter(|_| anonymous)?;
                Some(Problem::warning(shown(&format!(
                    "submitted_by: '{column}' stays empty: this server takes writes without \
                     keys (--allow-unauthenticated-writes); give each submitter a key with \
                     --api-keys"
                ))))
            })
            .collect()
    }

    /// Which widgets of `manifest` are served read-only and why, when this server takes no
    /// writes (logged at the start, printed by `check`).
    pub fn read_only(&self, manifest: &Manifest) -> Option<String> {
        let why = self.refused_because()?;
        let ids: Vec<&str> = manifest
            .write_targets()
            .map(|(w, _)| w.id.as_str())
            .collect();
        (!ids.is_empty()).then(|| {
            format!(
                "served read-only (their forms' writes get 403): {}: {why}",
                ids.join(", ")
            )
        })
    }

    /// Whether `append`'s file (folder) exists and (a CSV) has a header naming the form's
    /// columns. Reads the first line only: the background check calls this every few seconds.
    fn target(&self, append: &Append) -> Result<(), String> {
        let shown = self.data.display(&append.file);
        if append.format == Format::Notes {
            self.folder_of(append)?;
            return Ok(());
        }
        let (path, _) = self
            .data
            .resolve(&append.file)
            .ok_or_else(|| missing(&shown))?;
        if append.format == Format::Csv {
            let mut first_line = Vec::new();
            let file = std::fs::File::open(&path).map_err(|err| format!("{shown}: {err}"))?;
            std::io::BufReader::new(file.take(HEADER_BYTES_READ))
                .read_until(b'\n', &mut first_line)
                .map_err(|err| format!("{shown}: {err}"))?;
            Rows::read(&first_line, append, None).map_err(|why| cannot_take(&shown, &why))?;
        }
        Ok(())
    }

    /// The answer to a form's POST (add a row) or PUT (replace the row of its key) on
    /// `widget`, whose `backend.append` is `append`, from the holder of the key `submitter`
    /// names (`None` on a server without keys); logged.
    pub fn serve(
        &self,
        widget: &Widget,
        append: &Append,
        request: &Request,
        submitter: Option<&str>,
    ) -> Response {
        let (status, file, body) = match self.write(append, request, submitter) {
            Ok((file, row)) => (
                200,
                file.clone(),
                json!({"written": file, "row": row.to_json()}),
            ),
            Err((status, detail)) => (status, append.file.clone(), json!({"detail": detail})),
        };
        let client = request.remote.map_or("-".to_string(), |ip| ip.to_string());
        log::line(&format!(
            "openbb-files: write: {} {} widget={} file=data/{file} client={client} key={} bytes={} \
             status={status}",
            log::rfc3339(SystemTime::now()),
            request.method.as_str(),
            widget.id,
            submitter.unwrap_or("-"),
            request.body.len(),
        ));
        Response::json(status, &body)
    }

    /// Writes the submission of `request` by `submitter`; returns the file written (under
    /// `data/`) and the row.
    fn write(
        &self,
        append: &Append,
        request: &Request,
        submitter: Option<&str>,
    ) -> Result<(String, Row), Refusal> {
        if let Some(why) = self.refused_because() {
            return Err((403, why.to_string()));
        }
        if request.body.len() > self.limits.max_body_bytes {
            return Err((
                413,
                format!(
                    "a form submission may hold {} bytes (--max-write-bytes)",
                    self.limits.max_body_bytes
                ),
            ));
        }
        let now = log::rfc3339(SystemTime::now());
        let filled = ServerFilled {
            created_at: &now,
            submitted_by: submitter,
        };
        let row = Row::from_body(&request.body, append, filled).map_err(|detail| (400, detail))?;
        if append.format == Format::Notes {
            let file = self.add_note(append, &row, &now[..10])?;
            return Ok((file, row));
        }
        let shown = self.data.display(&append.file);
        let (path, _) = self
            .data
            .resolve(&append.file)
            .ok_or_else(|| (500, missing(&shown)))?;
        let lock = self.lock_for(&path);
        let mut known = lock.lock().unwrap_or_else(PoisonError::into_inner);
        let io_failed = |err: std::io::Error| (500, format!("{shown}: {err}"));
        let version = FileVersion::of(&path).map_err(io_failed)?;
        let read = |key: Option<&str>| {
            let bytes = std::fs::read(&path).map_err(io_failed)?;
            let rows =
                Rows::read(&bytes, append, key).map_err(|why| (500, cannot_take(&shown, &why)))?;
            Ok::<_, Refusal>((bytes, rows))
        };
        let key = row.key(append);
        if request.method == Method::Put {
            let key = key.ok_or((
                405,
                "this form has no key column: rows can only be added".into(),
            ))?;
            let (bytes, rows) = read(Some(&key))?;
            let span = rows.found.ok_or_else(|| {
                (
                    404,
                    format!("{shown} has no row whose key is '{key}' to replace"),
                )
            })?;
            let line = row.encode(append.format, &rows.header);
            let replaced = [&bytes[..span.start], &line, &bytes[span.end..]].concat();
            *known = None;
            disk::replace(&path, &replaced).map_err(|err| failed(&shown, &err))?;
            return Ok((append.file.clone(), row));
        }
        let current = match known.take() {
            Some(current) if current.version == version => current,
            _ => Known {
                version,
                rows: read(None)?.1,
            },
        };
        let Known { rows, version } = known.insert(current);
        if rows.count >= self.limits.max_rows {
            return Err((
                507,
                format!(
                    "{shown} holds {} rows, the most it may (--max-rows-per-file)",
                    rows.count
                ),
            ));
        }
        if let Some(key) = key.as_ref().filter(|key| rows.keys.contains(*key)) {
            return Err((
                409,
                format!("{shown} already has a row whose key is '{key}': use PUT to replace it"),
            ));
        }
        let line = row.encode(append.format, &rows.header);
        let added = match rows.ends_in_newline {
            true => line,
            false => [b"\n".as_slice(), &line].concat(),
        };
        disk::append(&path, &added).map_err(|err| failed(&shown, &err))?;
        rows.count += 1;
        rows.keys.extend(key);
        rows.ends_in_newline = true;
        // Kept for the next write while the file stays at the version written here (if the
        // stat fails, the old version no longer matches and the next write reads the file).
        if let Ok(written) = FileVersion::of(&path) {
            *version = written;
        }
        Ok((append.file.clone(), row))
    }

    /// Adds `row` as a new note written on `day` to `append`'s folder, under a name no file
    /// has; returns its path under `data/`.
    fn add_note(&self, append: &Append, row: &Row, day: &str) -> Result<String, Refusal> {
        let folder = self.folder_of(append).map_err(|why| (500, why))?;
        let lock = self.lock_for(&folder);
        let _turn = lock.lock().unwrap_or_else(PoisonError::into_inner);
        let shown = self.data.display(&append.file);
        let taken: HashSet<String> = std::fs::read_dir(&folder)
            .map_err(|err| (500, format!("{shown}: {err}")))?
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        let notes = taken
            .iter()
            .filter(|name| is_safe_segment(name) && name.to_ascii_lowercase().ends_with(".md"))
            .count();
        if notes >= self.limits.max_rows {
            return Err((
                507,
                format!("{shown} holds {notes} notes, the most it may (--max-rows-per-file)"),
            ));
        }
        // The names listed are skipped; `add_new` also skips one taken since (never replacing it).
        let names = (1..)
            .map(|n| row.note_name(day, n))
            .filter(|name| !taken.contains(name))
            .take(NOTE_NAMES_TRIED);
        let name = disk::add_new(&folder, names, &row.encode(Format::Notes, &[]))
            .map_err(|err| failed(&shown, &err))?;
        Ok(format!("{}/{name}", append.file))
    }

    /// The folder a newsfeed's form adds notes to, or why it cannot.
    fn folder_of(&self, append: &Append) -> Result<PathBuf, String> {
        self.data.resolve_folder(&append.file).ok_or_else(|| {
            format!(
                "{}, the folder of this form's notes, is missing: create it",
                self.data.display(&append.file)
            )
        })
    }

    /// The lock of the file at `path`; locks no write holds are dropped when too many are kept.
    fn lock_for(&self, path: &Path) -> Arc<Mutex<Option<Known>>> {
        let mut locks = lock(&self.locks);
        if locks.len() > IDLE_LOCKS_KEPT {
            locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        }
        Arc::clone(locks.entry(path.to_path_buf()).or_default())
    }
}

fn missing(shown: &str) -> String {
    format!(
        "{shown}, the file of this form, is missing: create it (a CSV file with its header line)"
    )
}

fn cannot_take(shown: &str, why: &str) -> String {
    format!("{shown} cannot take this form's rows: {why}")
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The answer to a write the disk refused: 507 when it is full, 500 otherwise.
fn failed(shown: &str, err: &std::io::Error) -> Refusal {
    let status = match err.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => 507,
        _ => 500,
    };
    (
        status,
        format!("{shown} was not changed: the write failed: {err}"),
    )
}
