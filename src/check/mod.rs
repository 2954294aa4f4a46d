//! `openbb-files check`: validate a folder offline, or a running backend over HTTP as Workspace
//! would use it.
//!
//! Offline (`--root DIR`), the folder is first checked as the server checks it before starting
//! ([`root_check`]: one that would serve nothing is an error), then loaded exactly as the server
//! loads it, every data file a served widget reads is parsed, and every problem the server would
//! list at `/` is printed as `widget: field: message`; the exit status is 1 when any of them is
//! an error (a widget left out, a file that does not parse), 0 when there are only warnings. With `--url`, `probe`
//! replays Workspace's connect sequence and "Validate widgets" calls against the backend and
//! `shapes` checks each answer's shape; one line per check, exit status 1 when any fails.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod probe;
mod shapes;

use crate::app::App;
use crate::config::{Config, UsageError, subcommand_flags};
use crate::validate::Severity;

/// How long one request to the backend may take, connection included.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// The largest answer read from the backend.
pub(crate) const MAX_BODY: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub root: PathBuf,
    pub url: Option<String>,
    pub api_key: Option<String>,
    pub auth_header: String,
    pub origin: String,
}

pub fn help() -> String {
    "Usage: openbb-files check [DIR | --root DIR] [--url URL [--api-key KEY] [--auth-header NAME] \
     [--origin ORIGIN]]\n\n\
     Without --url: check the folder DIR (widgets.json, apps.json, data/) as the server loads it;\n\
     a folder the server would refuse (missing, or with neither widgets.json nor data/) is an error.\n\
     With --url: act as Workspace against a running backend.\n\n\
     Options:\n  \
     --root DIR            folder to check, also given as DIR [default: .] (env OPENBB_FILES_ROOT)\n  \
     --url URL             base URL of a running backend (env OPENBB_FILES_URL)\n  \
     --api-key KEY         key sent on every request, one of the server's (env OPENBB_FILES_API_KEY)\n  \
     --auth-header NAME    header carrying the key [default: X-API-KEY] (env OPENBB_FILES_AUTH_HEADER)\n  \
     --origin ORIGIN       browser origin to check CORS for [default: https://pro.openbb.co] \
     (env OPENBB_FILES_ORIGIN)\n\n\
     Exit status: 0 when nothing failed (warnings allowed), 1 otherwise, 2 for a usage error.\n"
        .to_string()
}

/// Parses the arguments after `check`; `None` asks for the help text.
pub fn parse(
    args: &[String],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Options>, UsageError> {
    let valued = ["root", "url", "api-key", "auth-header", "origin"];
    let Some(value) = subcommand_flags("check", args, &valued, &[], env)? else {
        return Ok(None);
    };
    let url = value("url").map(|url| url.trim_end_matches('/').to_string());
    if let Some(url) = &url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(UsageError(format!(
            "check: --url: '{url}' must start with http:// or https://"
        )));
    }
    if let Some(url) = &url {
        crate::remote::fetchable(url)
            .map_err(|message| UsageError(format!("check: --url: {message}")))?;
    }
    Ok(Some(Options {
        root: PathBuf::from(value("root").unwrap_or_else(|| ".".into())),
        url,
        api_key: value("api-key"),
        auth_header: value("auth-header").unwrap_or_else(|| "X-API-KEY".into()),
        origin: value("origin").unwrap_or_else(|| "https://pro.openbb.co".into()),
    }))
}

/// Runs the check, writing its lines to `out`; true when nothing failed.
pub fn run(options: &Options, out: &mut dyn Write) -> bool {
    match &options.url {
        Some(url) => probe::Probe::new(url, options).run(out),
        None => check_folder(options, out),
    }
}

/// Extensions of the files served as widgets: such files in the root itself, rather than in
/// `data/`, are the usual reason a folder serves nothing.
const DATA_EXTENSIONS: [&str; 6] = ["csv", "json", "md", "html", "htm", "pdf"];

/// The JSON files of the root that are not data.
const ROOT_FILES: [&str; 4] = ["widgets.json", "apps.json", "agents.json", "templates.json"];

/// Whether `root` can be served, before it is: `Err` when it is not a folder that can be read,
/// or holds neither `widgets.json` nor `data/` (so that nothing would be served); `Ok(Some(..))`,
/// a warning, when it has no `widgets.json` and an empty `data/` but data files beside it.
/// The messages name the folder as an absolute path, and say where data files found in the
/// root itself should go.
pub fn root_check(root: &Path) -> Result<Option<String>, String> {
    let absolute = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
    let shown = absolute.display();
    match std::fs::metadata(root) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let hidden = ["/home", "/root"]
                .iter()
                .any(|home| absolute.starts_with(home));
            let hint = match hidden {
                true => {
                    " (a systemd service with ProtectHome=yes sees nothing under /home or /root)"
                }
                false => "",
            };
            return Err(format!("the folder {shown} does not exist{hint}"));
        }
        Err(err) => return Err(format!("cannot read the folder {shown}: {err}")),
        Ok(metadata) if !metadata.is_dir() => return Err(format!("{shown} is not a folder")),
        Ok(_) => {}
    }
    let cannot_read =
        |folder: &Path, err| format!("cannot read the folder {}: {err}", folder.display());
    let entries = std::fs::read_dir(root).map_err(|err| cannot_read(&absolute, err))?;
    if absolute.join("widgets.json").is_file() {
        return Ok(None);
    }
    let data = absolute.join("data");
    let move_them = match data_files(entries) {
        stray if stray.is_empty() => None,
        stray if stray.len() <= 3 => Some(stray.join(", ")),
        stray => Some(format!(
            "{} and {} more files",
            stray[..3].join(", "),
            stray.len() - 3
        )),
    }
    .map(|files| format!("; move {files} into {}/", data.display()));
    if !data.is_dir() {
        return Err(format!(
            "{shown} holds neither widgets.json nor data/, so there is nothing to serve: a folder \
             to serve keeps its files (CSV, JSON, Markdown, PDF, ...) in data/, and optionally \
             widgets.json beside it{}",
            move_them.unwrap_or_default()
        ));
    }
    let data_is_empty = std::fs::read_dir(&data)
        .map_err(|err| cannot_read(&data, err))?
        .next()
        .is_none();
    Ok(move_them.filter(|_| data_is_empty).map(|move_them| {
        format!(
            "{}/ is empty, so no widget is served{move_them}",
            data.display()
        )
    }))
}

/// The names of the data files (by extension) among `entries`, sorted.
fn data_files(entries: std::fs::ReadDir) -> Vec<String> {
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| {
            let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
            extension.is_some_and(|e| DATA_EXTENSIONS.contains(&e.as_str()))
                && !ROOT_FILES.contains(&name.as_str())
        })
        .collect();
    names.sort();
    names
}

fn check_folder(options: &Options, out: &mut dyn Write) -> bool {
    let warning = match root_check(&options.root) {
        Ok(warning) => warning,
        Err(message) => {
            let _ = writeln!(out, "error: {message}");
            let _ = writeln!(out, "{}: 1 error(s), 0 warning(s)", options.root.display());
            return false;
        }
    };
    if let Some(warning) = &warning {
        let _ = writeln!(out, "warning: {warning}");
    }
    let config = Config {
        root: options.root.clone(),
        ..Config::default()
    };
    let app = App::quiet(&config);
    app.read_data_files();
    let problems = app.problems();
    for problem in &problems {
        let _ = writeln!(out, "{}", problem.line);
    }
    if let Some(note) = app.writes_read_only() {
        let _ = writeln!(
            out,
            "note: unless served with --api-key or --api-keys, {note}"
        );
    }
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    let _ = writeln!(
        out,
        "{}: {errors} error(s), {} warning(s)",
        options.root.display(),
        problems.len() - errors + usize::from(warning.is_some())
    );
    errors == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn arguments_and_their_variables() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let options = parse(&args(&["--url", "http://h:1/", "--api-key=k"]), &env)
            .unwrap()
            .unwrap();
        assert_eq!(options.url.as_deref(), Some("http://h:1"));
        assert_eq!(options.api_key.as_deref(), Some("k"));
        assert_eq!(options.origin, "https://pro.openbb.co");
        let from_env = |name: &str| (name == "OPENBB_FILES_ROOT").then(|| "/srv".to_string());
        let options = parse(&[], &from_env).unwrap().unwrap();
        assert_eq!((options.root, options.url), (PathBuf::from("/srv"), None));
        assert_eq!(parse(&args(&["-h"]), &env), Ok(None));
        for bad in [
            &["--url"][..],
            &["--bogus", "x"],
            &["x", "y"],
            &["x", "--root", "y"],
            &["-x"],
            &["--url", "ftp://x"],
        ] {
            assert!(parse(&args(bad), &env).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_folder_as_an_argument() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let root = |a: &[&str]| parse(&args(a), &env).unwrap().unwrap().root;
        assert_eq!(root(&["desk"]), PathBuf::from("desk"));
        assert_eq!(root(&["desk/", "--root", "desk"]), PathBuf::from("desk"));
        assert_eq!(root(&["--", "-odd"]), PathBuf::from("-odd"));
        let from_env = |name: &str| (name == "OPENBB_FILES_ROOT").then(|| "/srv".to_string());
        let options = parse(&args(&["desk"]), &from_env).unwrap().unwrap();
        assert_eq!(options.root, PathBuf::from("desk"));
        assert_eq!(
            parse(&args(&["a", "--root", "b"]), &env),
            Err(UsageError(
                "check: two folders given: 'a' and --root 'b'; give one".into()
            ))
        );
    }

    /// A fresh folder under the temp dir holding `files` (paths relative to it; a name ending
    /// in `/` is a folder).
    fn folder(name: &str, files: &[&str]) -> PathBuf {
        let root = std::env::temp_dir().join(format!("obf-root-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        for file in files {
            match file.strip_suffix('/') {
                Some(dir) => std::fs::create_dir_all(root.join(dir)).unwrap(),
                None => std::fs::write(root.join(file), "x").unwrap(),
            }
        }
        root
    }

    #[test]
    fn a_folder_that_would_serve_nothing_is_refused_and_says_why() {
        let missing = std::env::temp_dir().join("obf-root-never-made");
        let err = root_check(&missing).unwrap_err();
        assert_eq!(
            err,
            format!("the folder {} does not exist", missing.display())
        );
        let err = root_check(Path::new("/home/nobody-here/desk")).unwrap_err();
        assert!(err.contains("ProtectHome=yes"), "{err}");

        let empty = folder("empty", &[]);
        let err = root_check(&empty).unwrap_err();
        assert!(
            err.contains("holds neither widgets.json nor data/"),
            "{err}"
        );
        assert!(!err.contains("move"), "{err}");
        let file = empty.join("a-file.csv");
        std::fs::write(&file, "x").unwrap();
        assert_eq!(
            root_check(&file).unwrap_err(),
            format!("{} is not a folder", file.display())
        );

        let stray = folder(
            "stray",
            &["b.csv", "a.pdf", "apps.json", "notes.txt", "sub/"],
        );
        let err = root_check(&stray).unwrap_err();
        let data = stray.join("data");
        assert!(
            err.ends_with(&format!("; move a.pdf, b.csv into {}/", data.display())),
            "{err}"
        );
        let many = folder("many", &["1.csv", "2.json", "3.md", "4.html", "5.pdf"]);
        let err = root_check(&many).unwrap_err();
        assert!(
            err.contains("; move 1.csv, 2.json, 3.md and 2 more files into"),
            "{err}"
        );

        // Served: widgets.json alone (remote sources), data/ alone (zero configuration).
        for (name, files) in [
            ("widgets", &["widgets.json"][..]),
            ("data", &["data/"]),
            ("both", &["widgets.json", "data/", "x.csv"]),
            ("filled", &["data/", "data/x.csv", "y.csv"]),
        ] {
            let root = folder(name, files);
            assert_eq!(root_check(&root), Ok(None), "{files:?}");
            let _ = std::fs::remove_dir_all(root);
        }
        // An empty data/ with data files beside it: served (files may be dropped in), with a
        // warning saying where they go.
        let beside = folder("beside", &["data/", "prices.csv"]);
        let warning = root_check(&beside).unwrap().unwrap();
        assert!(warning.contains("data/ is empty"), "{warning}");
        assert!(warning.contains("move prices.csv into"), "{warning}");
        for root in [empty, stray, many, beside] {
            let _ = std::fs::remove_dir_all(root);
        }
    }
}
