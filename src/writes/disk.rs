//! The three ways a write reaches the disk, each durable before it returns: [`append`] (one
//! `write` to the end of the file, then `fdatasync`), [`replace`] (a new file beside the old
//! one, synced, renamed over it, and the folder synced) and [`add_new`] (a new file, written
//! and synced under a dot-name, linked under a name no file has, and the folder synced).
//! Invariants: a failed append leaves the file as it was (cut back to its length before), a
//! failed replacement leaves the old file in place, a failed addition adds nothing, and an
//! addition never replaces a file; readers see the old bytes or the new, never a mix
//! (`cache::load_stable` retries a read that overlapped an append).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Adds `bytes` at the end of the file at `path` in one write (`O_APPEND`) and syncs its data.
/// On failure (a full disk, ...) the file is cut back to its length before.
pub fn append(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().append(true).open(path)?;
    let before = file.metadata()?.len();
    let written = file.write_all(bytes).and_then(|()| file.sync_data());
    if written.is_err() {
        // A partial write (ENOSPC after some bytes) must not stay: nobody was told it happened.
        let _ = file.set_len(before).and_then(|()| file.sync_data());
    }
    written
}

/// Replaces the file at `path` with `bytes`: writes them to a dot-file beside it (never served:
/// `paths` refuses dot names), syncs it, renames it over `path` and syncs the folder, so that
/// after a crash the file is the old one or the new one.
pub fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let temporary = temporary_beside(path)?;
    let permissions = fs::metadata(path)?.permissions();
    let replaced = write_new(&temporary, bytes, Some(permissions)).and_then(|()| {
        fs::rename(&temporary, path)?;
        sync_folder(path)
    });
    if replaced.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    replaced
}

/// Adds a file holding `bytes` to `folder` under the first of `names` that no file has (a
/// name taken meanwhile by anyone is skipped, never replaced) and returns that name. The bytes
/// are written and synced under a dot-name first and then linked under the name, so a reader
/// sees the whole file or none.
pub fn add_new(
    folder: &Path,
    names: impl IntoIterator<Item = String>,
    bytes: &[u8],
) -> io::Result<String> {
    let mut names = names.into_iter().peekable();
    let first = names.peek().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "no name to add a file under")
    })?;
    let temporary = temporary_beside(&folder.join(first))?;
    let added = write_new(&temporary, bytes, None).and_then(|()| {
        let name = link_under_a_free_name(&temporary, folder, names)?;
        let path = folder.join(&name);
        match sync_folder(&path) {
            Ok(()) => Ok(name),
            Err(err) => {
                let _ = fs::remove_file(&path);
                Err(err)
            }
        }
    });
    let _ = fs::remove_file(&temporary);
    added
}

/// Links `file` in `folder` under the first of `names` no file has (`link` refuses a taken
/// name, atomically).
fn link_under_a_free_name(
    file: &Path,
    folder: &Path,
    names: impl Iterator<Item = String>,
) -> io::Result<String> {
    for name in names {
        match fs::hard_link(file, folder.join(&name)) {
            Ok(()) => return Ok(name),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "every name tried is taken",
    ))
}

/// `.<name>.openbb-files-write` in the folder of `path`.
fn temporary_beside(path: &Path) -> io::Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?;
    let mut temporary = std::ffi::OsString::from(".");
    temporary.push(name);
    temporary.push(".openbb-files-write");
    Ok(path.with_file_name(temporary))
}

/// Writes and syncs a new file holding `bytes`, with `permissions` (else the default ones).
fn write_new(path: &Path, bytes: &[u8], permissions: Option<fs::Permissions>) -> io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    if let Some(permissions) = permissions {
        file.set_permissions(permissions)?;
    }
    file.sync_all()
}

/// Syncs the folder holding `path`, so a rename in it survives a crash.
fn sync_folder(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(folder) => File::open(folder)?.sync_all(),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_adds_to_the_end_and_replace_swaps_the_whole_file() {
        let dir = std::env::temp_dir().join(format!("openbb-files-disk-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log.csv");
        fs::write(&path, "a\n1\n").unwrap();
        append(&path, b"2\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "a\n1\n2\n");
        replace(&path, b"a\n3\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "a\n3\n");
        let names: Vec<_> = fs::read_dir(&dir).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn add_new_takes_the_first_free_name_and_replaces_none() {
        let dir = std::env::temp_dir().join(format!("openbb-files-add-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("a.md"), "old").unwrap();
        let names = || ["a.md", "a-2.md"].map(String::from);
        assert_eq!(add_new(&dir, names(), b"new").unwrap(), "a-2.md");
        assert_eq!(fs::read_to_string(dir.join("a.md")).unwrap(), "old");
        assert_eq!(fs::read_to_string(dir.join("a-2.md")).unwrap(), "new");
        let err = add_new(&dir, names(), b"newer").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        let names: Vec<_> = fs::read_dir(&dir).unwrap().collect();
        assert_eq!(names.len(), 2, "no temporary file is left");
        fs::remove_dir_all(&dir).unwrap();
    }
}
