//! The command line and its environment variables, parsed by hand into a [`Config`] (and the
//! flags of the subcommands `check`, `init` and `health`, [`subcommand_flags`]).
//!
//! Every flag `--name` has an environment variable `OPENBB_FILES_NAME` (dashes become
//! underscores); a flag on the command line wins over its variable, which wins over the default.
//! `-p` and `-V` are short for `--port` and `--version`, and one argument that is not an option
//! is the folder to serve, as `--root` gives it (both: a usage error unless the same folder).
//! The environment is passed in as a lookup function so tests never touch the process's own.
//! Invariant: a `Config` that parsed is valid (port and thread count in range, names non-empty).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Command, Config, Tls, UsageError};
use crate::log::LogFormat;

struct Flag {
    name: &'static str,
    /// Placeholder for the value; `None` for a switch.
    value: Option<&'static str>,
    help: &'static str,
}

const FLAGS: [Flag; 34] = [
    Flag {
        name: "root",
        value: Some("DIR"),
        help: "folder holding widgets.json, apps.json and data/ [default: .]",
    },
    Flag {
        name: "host",
        value: Some("ADDR"),
        help: "address to listen on; 0.0.0.0 or :: for the network [default: 127.0.0.1]",
    },
    Flag {
        name: "port",
        value: Some("N"),
        help: "port to listen on; 0 picks a free one [default: 7779]",
    },
    Flag {
        name: "threads",
        value: Some("N"),
        help: "worker threads answering requests [default: the cores plus 2, at least 4]",
    },
    Flag {
        name: "api-key",
        value: Some("KEY"),
        help: "require this key on every request (header or query parameter); its id is \
               'default'",
    },
    Flag {
        name: "api-keys",
        value: Some("FILE"),
        help: "also accept the named keys of FILE, one 'ID KEY' per line ('#' comments; at most \
               1,000 keys, 1 MiB), read once at the start (restart to change them); a write \
               records its key's ID",
    },
    Flag {
        name: "auth-header",
        value: Some("NAME"),
        help: "header that carries the key; Authorization: Bearer works too [default: X-API-KEY]",
    },
    Flag {
        name: "auth-query",
        value: Some("NAME"),
        help: "query parameter that carries the key [default: api_key]",
    },
    Flag {
        name: "cors-origin",
        value: Some("ORIGIN"),
        help: "browser origin allowed to read responses; repeat for several, * for any; \
               replaces the default list (the variable takes a comma-separated list) \
               [default: https://pro.openbb.co https://excel.openbb.co https://pro.openbb.dev \
               http://localhost:1420]",
    },
    Flag {
        name: "allowed-host",
        value: Some("NAME"),
        help: "a name clients reach the server by (DNS name, proxy's public name); repeat for \
               several, * for any (the variable takes a comma-separated list). localhost, IP \
               addresses and the --host name are always allowed; other Host headers get 421",
    },
    Flag {
        name: "trust-proxy",
        value: Some("ADDR"),
        help: "a reverse proxy (address or network, 10.0.0.0/8) whose X-Forwarded-For names \
               the client in the access log; repeat for several (the variable takes a \
               comma-separated list) [default: none: the client is the socket's peer]",
    },
    Flag {
        name: "quiet",
        value: None,
        help: "no access log (one line per request on stderr) [variable: 1 or true]",
    },
    Flag {
        name: "log-format",
        value: Some("FORMAT"),
        help: "every log line as 'text' (access lines: TIME CLIENT REQUEST-ID METHOD PATH \
               STATUS BYTES MICROSECONDSus) or 'json' (one object per line, for log shippers) \
               [default: text]",
    },
    Flag {
        name: "max-header-bytes",
        value: Some("N"),
        help: "longest request line plus headers; longer ones get 414 or 431 [default: 16384]",
    },
    Flag {
        name: "max-body-bytes",
        value: Some("N"),
        help: "largest request body; larger ones get 413 [default: 16777216]",
    },
    Flag {
        name: "max-viewer-bytes",
        value: Some("N"),
        help: "largest multi_file_viewer answer (the files chosen, in base64); larger \
               selections get 413 [default: 67108864]",
    },
    Flag {
        name: "max-decompressed-bytes",
        value: Some("N"),
        help: "most bytes a compressed data file (.gz, .zst, a workbook's parts) may expand \
               to; past it the file is an error [default: 1073741824]",
    },
    Flag {
        name: "idle-timeout-secs",
        value: Some("N"),
        help: "close a connection idle, sending its request or not reading the answer for \
               this long [default: 30]",
    },
    Flag {
        name: "min-bytes-per-sec",
        value: Some("N"),
        help: "a request body must arrive, and an answer be read, within the idle timeout \
               plus one second per N bytes; slower ones get 408 or are closed [default: 16384]",
    },
    Flag {
        name: "live-per-address",
        value: Some("N"),
        help: "live_grid WebSockets open at once from one client address (an IPv6 /64); more \
               get 429. Behind a proxy every client has the proxy's address [default: 32]",
    },
    Flag {
        name: "live-queue-bytes",
        value: Some("N"),
        help: "bytes of rows waiting to be sent to one live_grid WebSocket; a client further \
               behind is closed (1008, too slow) and may reconnect [default: 1048576]",
    },
    Flag {
        name: "tls-cert",
        value: Some("FILE"),
        help: "serve HTTPS with this PEM certificate chain, leaf first (needs --tls-key and a \
               build with --features tls)",
    },
    Flag {
        name: "tls-key",
        value: Some("FILE"),
        help: "the PEM private key of --tls-cert (RSA or EC; PKCS#8, PKCS#1 or SEC1)",
    },
    Flag {
        name: "data-cache-bytes",
        value: Some("N"),
        help: "memory for parsed tables and JSON documents of data/, as they lie in memory; the \
               least recently used go first, and a table larger than this is parsed for each \
               request [default: 1073741824]",
    },
    Flag {
        name: "response-cache-bytes",
        value: Some("N"),
        help: "memory for rendered table answers kept for repeated requests, keys and \
               bookkeeping included; the least recently used go first [default: 134217728]",
    },
    Flag {
        name: "selection-cache-bytes",
        value: Some("N"),
        help: "memory for filtered and sorted row orders kept for paging (ssrm_table) \
               [default: 100663296]",
    },
    Flag {
        name: "file-cache-bytes",
        value: Some("N"),
        help: "memory for whole files kept for /files/, pdf, markdown, ...; a file larger than \
               half of it is read for each request [default: 134217728]",
    },
    Flag {
        name: "remote-cache-bytes",
        value: Some("N"),
        help: "memory for fetched remote bodies (and, apart, the tables parsed from them) \
               [default: 134217728]",
    },
    Flag {
        name: "max-filter-values",
        value: Some("N"),
        help: "most values one filter may compare with (a parameter's values, an SSRM set \
               filter's); more get 400 [default: 10000]",
    },
    Flag {
        name: "max-filter-conditions",
        value: Some("N"),
        help: "most filter conditions one request may make (filtering parameters, SSRM filter \
               conditions); more get 400 [default: 32]",
    },
    Flag {
        name: "allow-unauthenticated-writes",
        value: None,
        help: "take form writes (backend.append) on a server without keys (--api-key, \
               --api-keys); only on a trusted network [variable: 1 or true]",
    },
    Flag {
        name: "max-write-bytes",
        value: Some("N"),
        help: "largest form submission (one row); larger ones get 413 [default: 65536]",
    },
    Flag {
        name: "max-rows-per-file",
        value: Some("N"),
        help: "rows a form's file (notes a form's folder) may hold; one this full takes no \
               more (507) [default: 100000]",
    },
    Flag {
        name: "version",
        value: None,
        help: "print the version and exit",
    },
];

/// The one-letter spellings: `-p 8080` (or `-p8080`) is `--port 8080`, `-V` is `--version`.
const SHORT: [(char, &str); 2] = [('p', "port"), ('V', "version")];

fn env_name(flag: &str) -> String {
    format!(
        "OPENBB_FILES_{}",
        flag.to_ascii_uppercase().replace('-', "_")
    )
}

/// The `--help` text.
pub fn help() -> String {
    let mut text = String::from(
        "openbb-files: serve a folder of research files to OpenBB Workspace\n\n\
         Usage: openbb-files [serve] [OPTIONS] [DIR]  (DIR: the folder to serve, as --root)\n       \
         openbb-files check [DIR | --url URL]        (validate a folder or a backend; help check)\n       \
         openbb-files init [DIR] [--force]           (write widgets.json for data/; help init)\n       \
         openbb-files health [--url URL]             (ask a running server's /health; help health)\n       \
         openbb-files help [SUBCOMMAND]              (this text, or a subcommand's)\n\n\
         Options:\n",
    );
    for flag in FLAGS.iter() {
        let long = match flag.value {
            Some(value) => format!("--{} {value}", flag.name),
            None => format!("--{}", flag.name),
        };
        let left = match SHORT.iter().find(|(_, name)| *name == flag.name) {
            Some((short, _)) => format!("-{short}, {long}"),
            None => format!("    {long}"),
        };
        let env = if flag.name == "version" {
            String::new()
        } else {
            format!(" (env {})", env_name(flag.name))
        };
        text.push_str(&format!("  {left:<26} {}{env}\n", flag.help));
    }
    text.push_str("  -h, --help                 print this help and exit\n");
    text
}

/// Parses the arguments of `openbb-files [serve]` after the program name and the word `serve`,
/// reading variables through `env`. One argument that is not an option is the folder to serve,
/// as `--root` gives it (after `--`, even one starting with `-`).
pub fn parse(args: &[String], env: &dyn Fn(&str) -> Option<String>) -> Result<Command, UsageError> {
    let mut args = args.iter();
    let mut given: Vec<(&'static str, String)> = Vec::new();
    let mut folder: Option<&String> = None;
    let mut options_ended = false;
    while let Some(arg) = args.next() {
        if options_ended || !arg.starts_with('-') || arg == "-" {
            if let Some(first) = folder.replace(arg) {
                return Err(UsageError(format!(
                    "unexpected argument '{arg}' (the folder to serve is '{first}')"
                )));
            }
            continue;
        }
        if arg == "--" {
            options_ended = true;
            continue;
        }
        if arg == "--help" || arg == "-h" {
            return Ok(Command::Help);
        }
        let (flag, inline) = option(arg)?;
        if flag.name == "version" {
            return match inline {
                None => Ok(Command::Version),
                Some(_) => Err(UsageError(format!("{arg}: --version takes no value"))),
            };
        }
        let value = match (flag.value, inline) {
            (None, None) => "true".to_string(),
            (None, Some(_)) => {
                return Err(UsageError(format!("--{} does not take a value", flag.name)));
            }
            (Some(_), Some(value)) => value,
            (Some(placeholder), None) => args.next().cloned().ok_or_else(|| {
                UsageError(format!("--{} needs a value ({placeholder})", flag.name))
            })?,
        };
        given.push((flag.name, value));
    }
    if let Some(folder) = folder {
        match given.iter().rev().find(|(name, _)| *name == "root") {
            Some((_, root)) => same_folder(folder, root)?,
            None => given.push(("root", folder.clone())),
        }
    }
    let lookup = |name: &str| -> Vec<String> {
        let from_args: Vec<String> = given
            .iter()
            .filter(|(flag, _)| *flag == name)
            .map(|(_, value)| value.clone())
            .collect();
        if !from_args.is_empty() {
            return from_args;
        }
        // A variable set to blanks counts as unset, except the keys': starting without the
        // key someone meant to set would open the server silently, so it is refused below.
        let is_key = matches!(name, "api-key" | "api-keys");
        let from_env = env(&env_name(name)).filter(|v| is_key || !v.trim().is_empty());
        match (name, from_env) {
            ("cors-origin" | "allowed-host" | "trust-proxy", Some(list)) => {
                list.split(',').map(|s| s.trim().to_string()).collect()
            }
            (_, Some(value)) => vec![value],
            (_, None) => Vec::new(),
        }
    };
    let last = |name: &str| lookup(name).pop();
    // A bad value is reported as it was given: a variable's (say OPENBB_FILES_PORT, which
    // Kubernetes sets to tcp://IP:PORT for a Service named openbb-files) by its own name.
    let called = |name: &str| match given.iter().any(|(flag, _)| *flag == name) {
        true => format!("--{name}"),
        false => env_name(name),
    };
    build(&lookup, &last, &called).map(|config| Command::Serve(Box::new(config)))
}

/// The folder given as an argument and the one `--root` gives must be the same, when both are
/// given (`openbb-files desk --root desk/` is fine, `openbb-files a --root b` a usage error).
fn same_folder(folder: &str, root: &str) -> Result<(), UsageError> {
    match Path::new(folder) == Path::new(root) {
        true => Ok(()),
        false => Err(UsageError(format!(
            "two folders given: '{folder}' and --root '{root}'; give one"
        ))),
    }
}

/// The flag an option argument names, with its value when the same argument holds one:
/// `--name`, `--name=VALUE`, `-p`, `-pVALUE` or `-p=VALUE`.
fn option(arg: &str) -> Result<(&'static Flag, Option<String>), UsageError> {
    let (name, inline) = match arg.strip_prefix("--") {
        Some(body) => match body.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (body, None),
        },
        None => {
            let mut chars = arg[1..].chars();
            let short = chars.next().unwrap_or('-');
            let rest = chars.as_str();
            let name = SHORT
                .iter()
                .find(|(letter, _)| *letter == short)
                .map(|(_, name)| *name)
                .ok_or_else(|| UsageError(format!("unknown option '-{short}'")))?;
            let rest = rest.strip_prefix('=').unwrap_or(rest);
            (name, (!rest.is_empty()).then_some(rest))
        }
    };
    let flag = FLAGS
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| UsageError(format!("unknown option '--{name}'")))?;
    Ok((flag, inline.map(str::to_string)))
}

/// The [`Config`] of the settings `all` and `last` give; an error names a setting as `called`
/// does.
fn build(
    all: &dyn Fn(&str) -> Vec<String>,
    last: &dyn Fn(&str) -> Option<String>,
    called: &dyn Fn(&str) -> String,
) -> Result<Config, UsageError> {
    let mut config = Config::default();
    if let Some(root) = last("root") {
        config.root = PathBuf::from(root);
    }
    if let Some(host) = last("host") {
        config.host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
    }
    if let Some(port) = last("port") {
        config.port = port.parse().map_err(|_| bad_port(&called("port"), &port))?;
    }
    if let Some(threads) = last("threads") {
        config.threads = number_in(&called("threads"), &threads, 1, 1024)?;
    }
    if let Some(bytes) = last("max-header-bytes") {
        config.max_header_bytes = number_in(&called("max-header-bytes"), &bytes, 1024, 1 << 30)?;
    }
    if let Some(bytes) = last("max-body-bytes") {
        config.max_body_bytes = number_in(&called("max-body-bytes"), &bytes, 0, 1 << 40)?;
    }
    for (flag, field) in [
        ("data-cache-bytes", &mut config.data_cache_bytes),
        ("response-cache-bytes", &mut config.response_cache_bytes),
        ("selection-cache-bytes", &mut config.selection_cache_bytes),
        ("file-cache-bytes", &mut config.file_cache_bytes),
        ("remote-cache-bytes", &mut config.remote_cache_bytes),
    ] {
        if let Some(bytes) = last(flag) {
            *field = number_in(&called(flag), &bytes, 0, 1 << 40)?;
        }
    }
    for (flag, field) in [
        ("max-filter-values", &mut config.max_filter_values),
        ("max-filter-conditions", &mut config.max_filter_conditions),
    ] {
        if let Some(count) = last(flag) {
            *field = number_in(&called(flag), &count, 1, 1 << 30)?;
        }
    }
    if let Some(bytes) = last("max-viewer-bytes") {
        config.max_viewer_bytes = number_in(&called("max-viewer-bytes"), &bytes, 1024, 1 << 40)?;
    }
    if let Some(bytes) = last("max-decompressed-bytes") {
        config.max_decompressed_bytes =
            number_in(&called("max-decompressed-bytes"), &bytes, 1024, 1 << 40)?;
    }
    for name in all("allowed-host") {
        if name != "*" && crate::hosts::host_name(&name).is_none() {
            return Err(UsageError(format!(
                "{}: '{name}' is not a host name (give it as files.example.com)",
                called("allowed-host")
            )));
        }
        config.allowed_hosts.push(name);
    }
    for proxy in all("trust-proxy") {
        let network = crate::proxy::Network::parse(&proxy)
            .map_err(|why| UsageError(format!("--trust-proxy: {why}")))?;
        config.trust_proxy.push(network);
    }
    if let Some(secs) = last("idle-timeout-secs") {
        config.idle_timeout =
            Duration::from_secs(number_in(&called("idle-timeout-secs"), &secs, 1, 86400)?);
    }
    if let Some(rate) = last("min-bytes-per-sec") {
        config.min_bytes_per_sec = number_in(&called("min-bytes-per-sec"), &rate, 1, 1 << 30)?;
    }
    if let Some(sockets) = last("live-per-address") {
        config.live.per_address = number_in(&called("live-per-address"), &sockets, 1, 65536)?;
    }
    if let Some(bytes) = last("live-queue-bytes") {
        config.live.queue_bytes = number_in(&called("live-queue-bytes"), &bytes, 1024, 1 << 30)?;
    }
    config.tls = match (last("tls-cert"), last("tls-key")) {
        (Some(cert), Some(key)) => Some(Tls {
            cert: PathBuf::from(cert),
            key: PathBuf::from(key),
        }),
        (None, None) => None,
        _ => {
            return Err(UsageError(
                "--tls-cert and --tls-key go together".to_string(),
            ));
        }
    };
    if let Some(key) = last("api-key") {
        if key.trim().is_empty() {
            return Err(UsageError(format!(
                "{} must not be empty or blank",
                called("api-key")
            )));
        }
        config.api_key = Some(key.into());
    }
    if let Some(file) = last("api-keys") {
        let flag = called("api-keys");
        if file.trim().is_empty() {
            return Err(UsageError(format!("{flag} must name a file")));
        }
        // Everything in data/ is served to every key holder: there, the file would give each
        // holder every key (and the name of anyone to write as).
        let served = config.root.join("data").canonicalize();
        if let (Ok(served), Ok(keys)) = (served, Path::new(&file).canonicalize())
            && keys.starts_with(&served)
        {
            return Err(UsageError(format!(
                "{flag}: {file} is inside data/, which is served: keep the keys file outside it"
            )));
        }
        config.api_keys = crate::auth::read_keys_file(Path::new(&file), config.api_key.as_deref())
            .map_err(|why| UsageError(format!("{flag}: {file}: {why}")))?;
        if config.api_keys.is_empty() {
            return Err(UsageError(format!(
                "{flag}: {file} holds no key: write one 'ID KEY' line per person"
            )));
        }
    }
    for (flag, field) in [
        ("auth-header", &mut config.auth_header),
        ("auth-query", &mut config.auth_query),
    ] {
        if let Some(name) = last(flag) {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(UsageError(format!(
                    "{}: '{name}' is not a valid name",
                    called(flag)
                )));
            }
            *field = name;
        }
    }
    let origins = all("cors-origin");
    if !origins.is_empty() {
        config.cors_origins = origins;
    }
    if let Some(allow) = last("allow-unauthenticated-writes") {
        config.writes.allow_unauthenticated =
            matches!(allow.to_ascii_lowercase().as_str(), "1" | "true" | "yes");
    }
    if let Some(bytes) = last("max-write-bytes") {
        config.writes.max_body_bytes = number_in(&called("max-write-bytes"), &bytes, 64, 1 << 30)?;
    }
    if let Some(rows) = last("max-rows-per-file") {
        config.writes.max_rows = number_in(&called("max-rows-per-file"), &rows, 1, 1 << 40)?;
    }
    if let Some(quiet) = last("quiet") {
        config.access_log = !matches!(quiet.to_ascii_lowercase().as_str(), "1" | "true" | "yes");
    }
    if let Some(format) = last("log-format") {
        config.log_format = match format.to_ascii_lowercase().as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            _ => {
                return Err(UsageError(format!(
                    "{}: '{format}' is not 'text' or 'json'",
                    called("log-format")
                )));
            }
        };
    }
    Ok(config)
}

/// The flags of a subcommand (`check`, `init`, `health`): `--name VALUE`, `--name=VALUE`, or a bare
/// `--name` for the `switches`, each falling back to its variable `OPENBB_FILES_<NAME>`; one
/// argument that is not an option is the folder, as `--root` gives it (after `--`, even one
/// starting with `-`). Gives a lookup of the last value of each flag, or `None` when `--help`
/// was asked for.
pub fn subcommand_flags(
    command: &str,
    args: &[String],
    valued: &[&'static str],
    switches: &[&'static str],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<impl Fn(&str) -> Option<String>>, UsageError> {
    let mut given: Vec<(&str, String)> = Vec::new();
    let mut folder: Option<&String> = None;
    let mut options_ended = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if options_ended || !arg.starts_with('-') || arg == "-" {
            if folder.is_some() || !valued.contains(&"root") {
                return Err(UsageError(format!(
                    "{command}: unexpected argument '{arg}'"
                )));
            }
            folder = Some(arg);
            continue;
        }
        if arg == "--" {
            options_ended = true;
            continue;
        }
        if arg == "--help" || arg == "-h" {
            return Ok(None);
        }
        let body = arg
            .strip_prefix("--")
            .ok_or_else(|| UsageError(format!("{command}: unknown option '{arg}'")))?;
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
    if let Some(folder) = folder {
        match given.iter().rev().find(|(name, _)| *name == "root") {
            Some((_, root)) => same_folder(folder, root)
                .map_err(|UsageError(message)| UsageError(format!("{command}: {message}")))?,
            None => given.push(("root", folder.clone())),
        }
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

/// A port that does not parse, with a hint when it is the address Kubernetes gives every pod of
/// a namespace with a Service named openbb-files (`OPENBB_FILES_PORT=tcp://10.0.0.1:80`).
fn bad_port(called: &str, port: &str) -> UsageError {
    let hint = match port.starts_with("tcp://") {
        true => {
            " (Kubernetes sets this for a Service named openbb-files: give the pod \
             `enableServiceLinks: false` or set the variable in its env)"
        }
        false => "",
    };
    UsageError(format!(
        "{called}: '{port}' is not a port number (0-65535){hint}"
    ))
}

/// `value` as a whole number from `min` to `max`, for the setting `called` (`--flag` or its
/// variable).
fn number_in<T>(called: &str, value: &str, min: T, max: T) -> Result<T, UsageError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    value
        .trim()
        .parse()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            UsageError(format!(
                "{called}: '{value}' is not a number from {min} to {max}"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::Limits;
    use crate::proxy::Network;

    fn parse_with(args: &[&str], env: &[(&str, &str)]) -> Result<Command, UsageError> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse(&args, &move |name| {
            env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    fn config(args: &[&str], env: &[(&str, &str)]) -> Config {
        match parse_with(args, env).unwrap() {
            Command::Serve(config) => *config,
            other => panic!("expected serve, got {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let config = config(&[], &[]);
        assert_eq!(config.host, "127.0.0.1");
        assert_eq!(config.port, 7779);
        assert_eq!(config.root, PathBuf::from("."));
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(config.threads, (cores + 2).max(4));
        assert_eq!(config.cors_origins.len(), 4);
        assert_eq!(config.api_key, None);
        assert!(config.access_log);
        assert_eq!(config.log_format, LogFormat::Text);
    }

    #[test]
    fn a_keys_file_adds_named_keys_and_is_refused_without_showing_them() {
        let folder = std::env::temp_dir().join(format!("openbb-keys-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let write = |name: &str, text: &str| {
            let path = folder.join(name);
            std::fs::write(&path, text).unwrap();
            path.to_string_lossy().into_owned()
        };
        let good = write("good", "alice k-alice\nbob k-bob\n");
        let both = config(&["--api-key", "k-main", "--api-keys", &good], &[]);
        let ids: Vec<&str> = both.api_keys.iter().map(|k| k.id()).collect();
        assert_eq!(ids, ["alice", "bob"]);
        let all: Vec<String> = both.keys().iter().map(|k| k.id().to_string()).collect();
        assert_eq!(all, ["default", "alice", "bob"]);
        let env = [("OPENBB_FILES_API_KEYS", good.as_str())];
        assert_eq!(config(&[], &env).keys().len(), 2);
        let bad = write("bad", "# keys\nalice k-alice\ncarol k-alice\n");
        let err = parse_with(&["--api-keys", &bad], &[]).unwrap_err().0;
        assert_eq!(
            err,
            format!(
                "--api-keys: {bad}: line 3: the same key as line 2: give each person a key of \
                 their own"
            )
        );
        let err = parse_with(&["--api-key", "k-bob", "--api-keys", &good], &[])
            .unwrap_err()
            .0;
        assert!(err.contains("line 2: the same key as --api-key"), "{err}");
        assert!(!err.contains("k-bob"), "{err}");
        let empty = write("empty", "# nobody yet\n");
        let err = parse_with(&["--api-keys", &empty], &[]).unwrap_err().0;
        assert!(
            err.ends_with("holds no key: write one 'ID KEY' line per person"),
            "{err}"
        );
        let huge = write("huge", &"#".repeat(1 << 20 | 1));
        let err = parse_with(&["--api-keys", &huge], &[]).unwrap_err().0;
        assert!(err.contains("larger than 1048576 bytes"), "{err}");
        let latin1 = folder.join("latin1");
        std::fs::write(&latin1, b"ren\xe9 k-ren\xe9\n").unwrap();
        let err = parse_with(&["--api-keys", latin1.to_str().unwrap()], &[]).unwrap_err();
        assert!(err.0.ends_with("latin1: not UTF-8 text"), "{err:?}");
        let missing = folder.join("missing").to_string_lossy().into_owned();
        assert!(parse_with(&["--api-keys", &missing], &[]).is_err());
        let blank = [("OPENBB_FILES_API_KEYS", " ")];
        assert_eq!(
            parse_with(&[], &blank),
            Err(UsageError("OPENBB_FILES_API_KEYS must name a file".into()))
        );
        // Inside the served data/, the keys would be served to every key holder.
        std::fs::create_dir_all(folder.join("data/sub")).unwrap();
        let served = write("data/sub/keys.txt", "alice k-alice\n");
        let root = folder.to_string_lossy().into_owned();
        let err = parse_with(&["--root", &root, "--api-keys", &served], &[])
            .unwrap_err()
            .0;
        assert!(err.ends_with("is inside data/, which is served: keep the keys file outside it"));
        assert!(!err.contains("k-alice"), "{err}");
        let beside = config(&["--root", &root, "--api-keys", &good], &[]);
        assert_eq!(beside.api_keys.len(), 2, "a keys file beside data/ is fine");
        std::fs::remove_dir_all(&folder).unwrap();
    }

    #[test]
    fn log_format_from_flag_or_variable() {
        assert_eq!(
            config(&["--log-format", "json"], &[]).log_format,
            LogFormat::Json
        );
        assert_eq!(
            config(&["--log-format=TEXT"], &[]).log_format,
            LogFormat::Text
        );
        let env = [("OPENBB_FILES_LOG_FORMAT", "json")];
        assert_eq!(config(&[], &env).log_format, LogFormat::Json);
        assert_eq!(
            config(&["--log-format", "text"], &env).log_format,
            LogFormat::Text
        );
        assert_eq!(
            parse_with(&["--log-format", "xml"], &[]),
            Err(UsageError(
                "--log-format: 'xml' is not 'text' or 'json'".into()
            ))
        );
    }

    #[test]
    fn flags_in_both_spellings() {
        let config = config(
            &[
                "--root",
                "/srv/x",
                "--port=0",
                "--host",
                "[::1]",
                "--threads",
                "3",
                "--quiet",
            ],
            &[],
        );
        assert_eq!(config.root, PathBuf::from("/srv/x"));
        assert_eq!(config.port, 0);
        assert_eq!(config.host, "::1");
        assert_eq!(config.threads, 3);
        assert!(!config.access_log);
    }

    #[test]
    fn command_line_beats_environment_beats_default() {
        let env = [
            ("OPENBB_FILES_PORT", "9000"),
            ("OPENBB_FILES_API_KEY", "from-env"),
            (
                "OPENBB_FILES_CORS_ORIGIN",
                "http://a.example, http://b.example",
            ),
            ("OPENBB_FILES_AUTH_HEADER", "X-Token"),
            ("OPENBB_FILES_QUIET", "1"),
        ];
        let from_env = config(&[], &env);
        assert_eq!(from_env.port, 9000);
        assert_eq!(from_env.api_key.as_deref(), Some("from-env"));
        let printed = format!("{from_env:?}");
        assert!(
            !printed.contains("from-env"),
            "a printed Config shows its key: {printed}"
        );
        assert_eq!(
            from_env.cors_origins,
            ["http://a.example", "http://b.example"]
        );
        assert_eq!(from_env.auth_header, "X-Token");
        assert!(!from_env.access_log);
        let overridden = config(
            &[
                "--port",
                "1",
                "--cors-origin",
                "http://c.example",
                "--cors-origin",
                "*",
            ],
            &env,
        );
        assert_eq!(overridden.port, 1);
        assert_eq!(overridden.cors_origins, ["http://c.example", "*"]);
    }

    #[test]
    fn every_flag_has_its_variable() {
        let env: Vec<(String, &str)> = [
            ("root", "/r"),
            ("host", "0.0.0.0"),
            ("port", "1"),
            ("threads", "2"),
            ("api-key", "k"),
            ("auth-header", "H"),
            ("auth-query", "q"),
            ("cors-origin", "*"),
            ("quiet", "true"),
            ("log-format", "json"),
            ("max-header-bytes", "4096"),
            ("max-body-bytes", "100"),
            ("idle-timeout-secs", "5"),
            ("allowed-host", "files.example.com, nas.local"),
            ("max-viewer-bytes", "2048"),
            ("max-decompressed-bytes", "4096"),
            ("min-bytes-per-sec", "100"),
            ("tls-cert", "/c.pem"),
            ("tls-key", "/k.pem"),
            ("data-cache-bytes", "10"),
            ("response-cache-bytes", "11"),
            ("selection-cache-bytes", "12"),
            ("file-cache-bytes", "13"),
            ("remote-cache-bytes", "14"),
            ("max-filter-values", "15"),
            ("max-filter-conditions", "16"),
            ("live-per-address", "4"),
            ("live-queue-bytes", "65536"),
            ("trust-proxy", "10.0.0.0/8, ::1"),
            ("allow-unauthenticated-writes", "1"),
            ("max-write-bytes", "1000"),
            ("max-rows-per-file", "17"),
        ]
        .iter()
        .map(|(flag, value)| (env_name(flag), *value))
        .collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let config = config(&[], &env);
        assert_eq!(
            config,
            Config {
                root: PathBuf::from("/r"),
                host: "0.0.0.0".into(),
                port: 1,
                threads: 2,
                api_key: Some("k".into()),
                api_keys: Vec::new(),
                auth_header: "H".into(),
                auth_query: "q".into(),
                cors_origins: vec!["*".into()],
                access_log: false,
                log_format: LogFormat::Json,
                max_header_bytes: 4096,
                max_body_bytes: 100,
                idle_timeout: Duration::from_secs(5),
                min_bytes_per_sec: 100,
                tls: Some(Tls {
                    cert: PathBuf::from("/c.pem"),
                    key: PathBuf::from("/k.pem"),
                }),
                data_cache_bytes: 10,
                response_cache_bytes: 11,
                selection_cache_bytes: 12,
                file_cache_bytes: 13,
                remote_cache_bytes: 14,
                max_filter_values: 15,
                max_filter_conditions: 16,
                allowed_hosts: vec!["files.example.com".into(), "nas.local".into()],
                trust_proxy: vec![
                    Network::parse("10.0.0.0/8").unwrap(),
                    Network::parse("::1").unwrap()
                ],
                max_viewer_bytes: 2048,
                max_decompressed_bytes: 4096,
                live: Limits {
                    per_address: 4,
                    queue_bytes: 65536,
                    ..Limits::default()
                },
                writes: crate::writes::Limits {
                    allow_unauthenticated: true,
                    max_body_bytes: 1000,
                    max_rows: 17,
                },
            }
        );
        for flag in FLAGS.iter().filter(|f| f.name != "version") {
            assert!(
                help().contains(&env_name(flag.name)),
                "{} missing from help",
                flag.name
            );
        }
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let config = config(
            &["--trust-proxy", "10.0.0.0/8", "--trust-proxy=fd00::1"],
            &[],
        );
        assert_eq!(
            config.trust_proxy,
            [
                Network::parse("10.0.0.0/8").unwrap(),
                Network::parse("fd00::1").unwrap()
            ]
        );
        assert_eq!(Config::default().trust_proxy, []);
        let err = parse_with(&["--trust-proxy", "proxy.local"], &[]).unwrap_err();
        assert!(err.0.starts_with("--trust-proxy: 'proxy.local'"), "{err:?}");
    }

    #[test]
    fn help_and_version() {
        assert_eq!(parse_with(&["--help"], &[]), Ok(Command::Help));
        assert_eq!(parse_with(&["-h"], &[]), Ok(Command::Help));
        assert_eq!(parse_with(&["--version"], &[]), Ok(Command::Version));
        assert_eq!(parse_with(&["-V"], &[]), Ok(Command::Version));
        assert!(help().contains("  -p, --port N "), "{}", help());
        assert!(help().contains("  -V, --version "), "{}", help());
        assert!(help().contains("      --root DIR "), "{}", help());
    }

    #[test]
    fn short_port_in_every_spelling() {
        for args in [
            &["-p", "8080"][..],
            &["-p8080"],
            &["-p=8080"],
            &["--port=8080"],
        ] {
            assert_eq!(config(args, &[]).port, 8080, "{args:?}");
        }
        assert_eq!(
            parse_with(&["-x"], &[]),
            Err(UsageError("unknown option '-x'".into()))
        );
        assert!(parse_with(&["-p"], &[]).is_err());
        assert!(parse_with(&["-Vx"], &[]).is_err());
    }

    #[test]
    fn the_folder_as_an_argument_is_the_root() {
        let root = |args: &[&str], env: &[(&str, &str)]| config(args, env).root;
        assert_eq!(root(&["desk"], &[]), PathBuf::from("desk"));
        assert_eq!(
            root(&["-p", "0", "/srv/desk", "--quiet"], &[]),
            PathBuf::from("/srv/desk")
        );
        assert_eq!(
            root(&["desk", "--root", "desk/"], &[]),
            PathBuf::from("desk/")
        );
        assert_eq!(root(&["--", "-odd"], &[]), PathBuf::from("-odd"));
        // The command line beats the variable, in either spelling.
        let env = [("OPENBB_FILES_ROOT", "/from/env")];
        assert_eq!(root(&["desk"], &env), PathBuf::from("desk"));
        assert_eq!(root(&[], &env), PathBuf::from("/from/env"));
        assert_eq!(
            parse_with(&["a", "--root", "b"], &[]),
            Err(UsageError(
                "two folders given: 'a' and --root 'b'; give one".into()
            ))
        );
        assert_eq!(
            parse_with(&["a", "b"], &[]),
            Err(UsageError(
                "unexpected argument 'b' (the folder to serve is 'a')".into()
            ))
        );
    }

    #[test]
    fn usage_errors() {
        for args in [
            &["--bogus"][..],
            &["--port"],
            &["--port", "70000"],
            &["--port", "x"],
            &["--threads", "0"],
            &["--max-header-bytes", "10"],
            &["--max-body-bytes", "-1"],
            &["--idle-timeout-secs", "0"],
            &["--min-bytes-per-sec", "0"],
            &["--live-per-address", "0"],
            &["--live-queue-bytes", "100"],
            &["--tls-cert", "c.pem"],
            &["--tls-key", "k.pem"],
            &["--api-key", ""],
            &["--allowed-host", "https://files.example.com/"],
            &["--max-viewer-bytes", "10"],
            &["--quiet=1"],
            &["--auth-header", "has space"],
            &["one", "two"],
        ] {
            assert!(
                parse_with(args, &[]).is_err(),
                "{args:?} should be a usage error"
            );
        }
        assert_eq!(
            parse_with(&["--bogus"], &[]),
            Err(UsageError("unknown option '--bogus'".into()))
        );
    }

    #[test]
    fn a_blank_key_is_refused_from_the_flag_and_from_the_variable() {
        for (args, env, named) in [
            (&["--api-key", " "][..], &[][..], "--api-key"),
            (
                &[],
                &[("OPENBB_FILES_API_KEY", " ")],
                "OPENBB_FILES_API_KEY",
            ),
            (&[], &[("OPENBB_FILES_API_KEY", "")], "OPENBB_FILES_API_KEY"),
            (
                &[],
                &[("OPENBB_FILES_API_KEY", "\t\n")],
                "OPENBB_FILES_API_KEY",
            ),
        ] {
            let refused = parse_with(args, env);
            assert_eq!(
                refused,
                Err(UsageError(format!("{named} must not be empty or blank")))
            );
        }
        // Other variables set to blanks still count as unset.
        assert_eq!(config(&[], &[("OPENBB_FILES_PORT", " ")]).port, 7779);
    }

    #[test]
    fn a_bad_value_is_named_as_it_was_given() {
        let service_link = [("OPENBB_FILES_PORT", "tcp://10.0.0.1:80")];
        let Err(UsageError(message)) = parse_with(&[], &service_link) else {
            panic!("tcp://10.0.0.1:80 is not a port");
        };
        assert!(
            message.starts_with("OPENBB_FILES_PORT: 'tcp://10.0.0.1:80' is not a port number")
                && message.contains("enableServiceLinks: false"),
            "{message}"
        );
        // The flag wins over the variable, so a bad flag is named as the flag.
        assert_eq!(
            parse_with(&["--port", "x"], &service_link),
            Err(UsageError(
                "--port: 'x' is not a port number (0-65535)".into()
            ))
        );
        for (variable, value) in [
            ("OPENBB_FILES_THREADS", "0"),
            ("OPENBB_FILES_FILE_CACHE_BYTES", "lots"),
            ("OPENBB_FILES_ALLOWED_HOST", "https://x/"),
            ("OPENBB_FILES_AUTH_HEADER", "a b"),
            ("OPENBB_FILES_LOG_FORMAT", "xml"),
        ] {
            let refused = parse_with(&[], &[(variable, value)]);
            assert!(
                matches!(&refused, Err(UsageError(m)) if m.starts_with(&format!("{variable}: "))),
                "{variable}={value}: {refused:?}"
            );
        }
    }
}
