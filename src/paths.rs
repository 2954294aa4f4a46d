//! Path safety: the only way a request or a manifest entry turns into a file path.
//!
//! Invariants: a path handed out by [`DataDir::resolve`] names an existing regular file whose
//! canonical location (symlinks followed) lies inside the canonical `data/` directory, and no
//! component of it below `data/` starts with a dot. Every refusal looks the same to the caller
//! (`None`), so a client cannot tell "outside the root" from "missing".

use std::collections::{HashSet, VecDeque};
use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::http::percent_decode;

/// Turns a raw, percent-encoded request path into clean `/`-joined segments, e.g.
/// `/reports/%71uarterly` → `reports/quarterly`. Empty and `.` segments are dropped; `None` when
/// any segment is unsafe (see [`is_safe_segment`]) or not UTF-8.
pub fn clean_request_path(raw: &str) -> Option<String> {
    let mut clean = String::with_capacity(raw.len());
    for raw_segment in raw.split('/') {
        let decoded;
        let segment = if raw_segment.contains('%') {
            decoded = String::from_utf8(percent_decode(raw_segment)).ok()?;
            decoded.as_str()
        } else {
            raw_segment
        };
        if segment.is_empty() || segment == "." {
            continue;
        }
        if !is_safe_segment(segment) {
            return None;
        }
        if !clean.is_empty() {
            clean.push('/');
        }
        clean.push_str(segment);
    }
    Some(clean)
}

/// A segment is safe when it is not a dotfile (which also excludes `..`), holds no separator or
/// NUL, and is not a Windows drive prefix such as `C:`.
pub fn is_safe_segment(segment: &str) -> bool {
    let is_drive = segment.len() >= 2 && segment.as_bytes()[1] == b':';
    let unsafe_segment = segment.is_empty()
        || segment.starts_with('.')
        || segment.contains(['/', '\\', '\0'])
        || is_drive;
    !unsafe_segment
}

/// The `data/` directory, canonicalized once at start-up.
#[derive(Debug, Clone)]
pub struct DataDir {
    /// The directory's own name followed by `/` (for messages), e.g. `data/`.
    shown_prefix: String,
    /// Canonical form, or `None` when the directory does not exist (then nothing resolves).
    canonical: Option<PathBuf>,
}

impl DataDir {
    pub fn new(dir: PathBuf) -> DataDir {
        let canonical = dir.canonicalize().ok();
        let name = dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| "data".to_string());
        DataDir {
            shown_prefix: format!("{name}/"),
            canonical,
        }
    }

    /// How to name `relative` in a message, e.g. `data/prices.csv`.
    pub fn display(&self, relative: &str) -> String {
        [self.shown_prefix.as_str(), relative].concat()
    }

    /// Resolves a `/`-separated path relative to `data/` to a readable regular file and its
    /// metadata, or `None`. Paths without symlinks cost one `lstat` per segment; a path through
    /// a symlink is canonicalized and must still land inside `data/` on a non-dot name.
    pub fn resolve(&self, relative: &str) -> Option<(PathBuf, fs::Metadata)> {
        let root = self.canonical.as_ref()?;
        if !relative.split('/').all(is_safe_segment) {
            return None;
        }
        let mut path = root.clone();
        let mut meta = None;
        for segment in relative.split('/') {
            path.push(segment);
            let found = fs::symlink_metadata(&path).ok()?;
            if found.file_type().is_symlink() {
                return resolve_through_links(root, relative);
            }
            meta = Some(found);
        }
        meta.filter(fs::Metadata::is_file).map(|meta| (path, meta))
    }

    /// The folder `folder` (relative to `data/`, `""` for `data/` itself), links followed, when
    /// it is a folder inside `data/`.
    pub fn resolve_folder(&self, folder: &str) -> Option<PathBuf> {
        let root = self.canonical.as_ref()?;
        if !folder.is_empty() && !folder.split('/').all(is_safe_segment) {
            return None;
        }
        let dir = root.join(folder).canonicalize().ok()?;
        let inside = dir.strip_prefix(root).ok()?;
        (inside.components().all(is_plain_component) && dir.is_dir()).then_some(dir)
    }

    /// The files in `folder` (relative to `data/`, `""` for `data/` itself) as paths relative to
    /// `data/`, sorted; with `recursive`, files in subfolders too (at most [`MAX_DEPTH`] deep).
    /// Only files [`DataDir::resolve`] accepts are listed. `None` when the folder is not a
    /// folder inside `data/`.
    ///
    /// Each directory is read once, known by its device and inode: a link back to a folder
    /// already listed (`ln -s . data/loop`) adds nothing, so link loops can neither multiply
    /// the listing nor make it endless. Folders are taken breadth first, in name order, and
    /// those reached through a link only after all the others, so a folder is listed under
    /// its own path when it has one inside `folder`.
    pub fn list(&self, folder: &str, recursive: bool) -> Option<Vec<String>> {
        let root = self.canonical.as_ref()?;
        self.resolve_folder(folder)?;
        let mut files = Vec::new();
        let mut visited = HashSet::new();
        let mut pending = VecDeque::from([(folder.to_string(), 0)]);
        let mut linked = VecDeque::new();
        while let Some((current, depth)) = pending.pop_front().or_else(|| linked.pop_front()) {
            let path = root.join(&current);
            if !directory_id(&path).is_some_and(|id| visited.insert(id)) {
                continue;
            }
            let Ok(entries) = fs::read_dir(&path) else {
                continue;
            };
            let mut entries: Vec<fs::DirEntry> = entries.flatten().collect();
            entries.sort_by_key(fs::DirEntry::file_name);
            for entry in entries {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !is_safe_segment(&name) {
                    continue;
                }
                let relative = if current.is_empty() {
                    name
                } else {
                    format!("{current}/{name}")
                };
                if self.resolve(&relative).is_some() {
                    files.push(relative);
                } else if recursive && depth < MAX_DEPTH && self.is_folder(&relative) {
                    let is_link = entry.file_type().is_ok_and(|t| t.is_symlink());
                    let queue = if is_link { &mut linked } else { &mut pending };
                    queue.push_back((relative, depth + 1));
                }
            }
        }
        files.sort();
        Some(files)
    }

    fn is_folder(&self, relative: &str) -> bool {
        let Some(root) = &self.canonical else {
            return false;
        };
        root.join(relative).canonicalize().is_ok_and(|dir| {
            dir.is_dir()
                && dir
                    .strip_prefix(root)
                    .is_ok_and(|inside| inside.components().all(is_plain_component))
        })
    }
}

fn resolve_through_links(root: &Path, relative: &str) -> Option<(PathBuf, fs::Metadata)> {
    let candidate = root.join(relative).canonicalize().ok()?;
    let inside = candidate.strip_prefix(root).ok()?;
    if !inside.components().all(is_plain_component) {
        return None;
    }
    let meta = fs::metadata(&candidate).ok()?;
    meta.is_file().then_some((candidate, meta))
}

/// Which directory `path` leads to (links followed): its device and inode.
#[cfg(unix)]
fn directory_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(path).ok().map(|meta| (meta.dev(), meta.ino()))
}

/// Which directory `path` leads to: its canonical path, where there are no inodes.
#[cfg(not(unix))]
fn directory_id(path: &Path) -> Option<PathBuf> {
    path.canonicalize().ok()
}

/// How deep [`DataDir::list`] descends below the folder it lists.
pub const MAX_DEPTH: usize = 8;

fn is_plain_component(component: Component<'_>) -> bool {
    match component {
        Component::Normal(name) => !name.to_string_lossy().starts_with('.'),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn request_paths_are_cleaned() {
        assert_eq!(clean_request_path("/prices").as_deref(), Some("prices"));
        assert_eq!(clean_request_path("//a/./b/").as_deref(), Some("a/b"));
        assert_eq!(clean_request_path("/%70rices").as_deref(), Some("prices"));
        assert_eq!(clean_request_path("/").as_deref(), Some(""));
    }

    #[test]
    fn traversal_in_any_spelling_is_refused() {
        for raw in [
            "/../etc/passwd",
            "/a/../../x",
            "/%2e%2e/x",
            "/%2E%2E%2Fetc",
            "/a%2f..%2fb",
            "/..%5c..%5cwin.ini",
            "/a%00.csv",
            "/.env",
            "/data/.hidden.csv",
            "/C:/windows",
            "/%ff%fe",
        ] {
            assert_eq!(clean_request_path(raw), None, "{raw} should be refused");
        }
    }

    #[test]
    fn generated_traversal_attempts_never_pass() {
        let pieces = [
            "..", "%2e%2e", "%2E.", ".%2e", "..%2f", "%2f", "%5c", "a", ".", "",
        ];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let raw = format!("/{a}/{b}/{c}");
                    if let Some(clean) = clean_request_path(&raw) {
                        assert!(
                            clean.split('/').all(|s| s.is_empty() || is_safe_segment(s)),
                            "{raw} -> {clean}"
                        );
                        assert!(!clean.contains(".."), "{raw} -> {clean}");
                    }
                }
            }
        }
    }

    /// Links back up the tree (`ln -s . data/loopN`) list nothing twice and end: before, two
    /// such links listed every file 511 times and three did not finish.
    #[cfg(unix)]
    #[test]
    fn link_loops_list_each_file_once() {
        use std::os::unix::fs::symlink;
        let base = std::env::temp_dir().join(format!("obf-loops-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let data = base.join("data");
        fs::create_dir_all(data.join("sub")).unwrap();
        fs::write(data.join("a.csv"), "a\n1\n").unwrap();
        fs::write(data.join("sub/b.csv"), "b\n1\n").unwrap();
        for link in ["loop1", "loop2", "loop3"] {
            symlink(".", data.join(link)).unwrap();
        }
        symlink("..", data.join("sub/up")).unwrap();
        symlink("sub", data.join("alias")).unwrap();
        let dir = DataDir::new(data.clone());
        let started = std::time::Instant::now();
        assert_eq!(dir.list("", true).unwrap(), ["a.csv", "sub/b.csv"]);
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert_eq!(
            dir.list("sub", true).unwrap(),
            ["sub/b.csv", "sub/up/a.csv"],
            "a folder outside the one listed is listed once, through its link"
        );
        fs::remove_dir_all(base).unwrap();
    }

    #[test]
    fn resolve_stays_inside_data() {
        let base = std::env::temp_dir().join(format!("obf-paths-{}", std::process::id()));
        let data = base.join("data");
        fs::create_dir_all(data.join("sub")).unwrap();
        fs::write(base.join("secret.txt"), "secret").unwrap();
        fs::write(data.join("ok.csv"), "a\n1\n").unwrap();
        fs::write(data.join("sub/deep.csv"), "a\n1\n").unwrap();
        fs::write(data.join(".hidden.csv"), "a\n1\n").unwrap();
        #[cfg(unix)]
        {
            let _ = std::os::unix::fs::symlink(base.join("secret.txt"), data.join("escape.csv"));
            let _ = std::os::unix::fs::symlink(data.join(".hidden.csv"), data.join("alias.csv"));
            let _ = std::os::unix::fs::symlink(data.join("ok.csv"), data.join("link.csv"));
        }
        let dir = DataDir::new(data.clone());
        let (path, meta) = dir.resolve("ok.csv").unwrap();
        assert_eq!(path, data.canonicalize().unwrap().join("ok.csv"));
        assert_eq!(meta.len(), 4);
        assert!(dir.resolve("sub/deep.csv").is_some());
        assert!(
            dir.resolve("link.csv").is_some(),
            "links inside data/ are fine"
        );
        for refused in [
            "../secret.txt",
            "sub/../../secret.txt",
            "/etc/passwd",
            ".hidden.csv",
            "escape.csv",
            "alias.csv",
            "sub",
            "missing.csv",
            "",
        ] {
            assert!(
                dir.resolve(refused).is_none(),
                "{refused} should be refused"
            );
        }
        assert_eq!(dir.display("ok.csv"), "data/ok.csv");
        assert_eq!(
            dir.list("", false).unwrap(),
            ["link.csv", "ok.csv"],
            "dotfiles and links leading out or to dotfiles are not listed"
        );
        assert_eq!(
            dir.list("", true).unwrap(),
            ["link.csv", "ok.csv", "sub/deep.csv"]
        );
        assert_eq!(dir.list("sub", false).unwrap(), ["sub/deep.csv"]);
        for refused in ["..", "../data", "ok.csv", "missing", ".git"] {
            assert_eq!(
                dir.list(refused, false),
                None,
                "{refused} should be refused"
            );
        }
        fs::remove_dir_all(base).unwrap();
    }
}
