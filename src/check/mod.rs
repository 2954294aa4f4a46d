//! `openbb-files check`: validate a folder offline, or a running backend over HTTP as Workspace
//! would use it.
//!
//! Offline (`--root DIR`), the folder is loaded exactly as the server loads it, every data file a
//! served widget reads is parsed, and every problem the server would list at `/` is printed as
//! `widget: field: message`; the exit status is 1 when any of them is an error (a widget left
//! out, a file that does not parse), 0 when there are only warnings. With `--url`, `probe`
//! replays Workspace's connect sequence and "Validate widgets" calls against the backend and
//! `shapes` checks each answer's shape; one line per check, exit status 1 when any fails.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

mod probe;
mod shapes;

use crate::app::App;
use crate::config::{Config, UsageError};
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
    "Usage: openbb-files check [--root DIR] [--url URL [--api-key KEY] [--auth-header NAME] \
     [--origin ORIGIN]]\n\n\
     Without --url: check the folder DIR (widgets.json, apps.json, data/) as the server loads it.\n\
     With --url: act as Workspace against a running backend.\n\n\
     Options:\n  \
     --root DIR            folder to check [default: .] (env OPENBB_FILES_ROOT)\n  \
     --url URL             base URL of a running backend (env OPENBB_FILES_URL)\n  \
     --api-key KEY         key sent on every request (env OPENBB_FILES_API_KEY)\n  \
     --auth-header NAME    header carrying the key [default: X-API-KEY] (env OPENBB_FILES_AUTH_HEADER)\n  \
     --origin ORIGIN       browser origin to check CORS for [default: https://pro.openbb.co] \
     (env OPENBB_FILES_ORIGIN)\n\n\
     Exit status: 0 when nothing failed (warnings allowed), 1 otherwise, 2 for a usage error.\n"
        .to_string()
}

/// The flags of a subcommand (`check`, `init`): `--name VALUE`, `--name=VALUE`, or a bare
/// `--name` for the `switches`, each falling back to its variable `OPENBB_FILES_<NAME>`. Gives a
/// lookup of the last value of each flag, or `None` when `--help` was asked for.
pub fn subcommand_flags(
    command: &str,
    args: &[String],
    valued: &[&'static str],
    switches: &[&'static str],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<impl Fn(&str) -> Option<String>>, UsageError> {
    let mut given: Vec<(&str, String)> = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--help" || arg == "-h" {
            return Ok(None);
        }
        let body = arg
            .strip_prefix("--")
            .ok_or_else(|| UsageError(format!("{command}: unexpected argument '{arg}'")))?;
        let (name, value) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (body, None),
        };
        let unknown = || UsageError(format!("{command}: unknown option '--{name}'"));
        let value = match (valued.iter().find(|n| **n == name), value) {
            (Some(_), Some(value)) => value,
            (Some(_), None) => args
                .next()
                .cloned()
                .ok_or_else(|| UsageError(format!("{command}: --{name} needs a value")))?,
            (None, None) if switches.contains(&name) => "true".to_string(),
            _ => return Err(unknown()),
        };
        let name = valued
            .iter()
            .chain(switches)
            .find(|n| **n == name)
            .ok_or_else(unknown)?;
        given.push((name, value));
    }
    let from_env: Vec<(&str, String)> = valued
        .iter()
        .chain(switches)
        .filter_map(|name| {
            let variable = format!("OPENBB_FILES_{}", name.to_uppercase().replace('-', "_"));
            Some((*name, env(&variable)?))
        })
        .collect();
    Ok(Some(move |name: &str| {
        given
            .iter()
            .rev()
            .chain(&from_env)
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.trim().is_empty())
    }))
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

fn check_folder(options: &Options, out: &mut dyn Write) -> bool {
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
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    let _ = writeln!(
        out,
        "{}: {errors} error(s), {} warning(s)",
        options.root.display(),
        problems.len() - errors
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
            &["x"],
            &["--url", "ftp://x"],
        ] {
            assert!(parse(&args(bad), &env).is_err(), "{bad:?}");
        }
    }
}
