//! Health: the `/health` answer for probes (systemd, a container's HEALTHCHECK, Kubernetes) and
//! `openbb-files health`, the probe the binary runs itself where there is no curl (the
//! distroless image has no shell).
//!
//! `/health` is answered after the `Host` check and before the token check, so a probe needs no
//! key; its body says only whether the server can serve: 200 `{"status": "ok"}`, or 503
//! `{"status": "unavailable", ...}` while no manifest could be loaded at all (`widgets.json`
//! exists but has not parsed once since the start). Invariant: nothing else (no widget, file,
//! problem text or setting) is in either answer.

use std::process::ExitCode;
use std::time::Duration;

use crate::config::UsageError;
use crate::config::subcommand_flags;
use crate::http::Response;
use crate::router::HEALTH_PATH as PATH;

/// How long `openbb-files health` waits for the whole answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The answer to a GET or HEAD of [`PATH`] (`router.rs` routes it, `app/mod.rs` refuses other
/// methods); `loaded` tells whether a manifest has been loaded.
pub fn answer(loaded: bool) -> Response {
    let body = match loaded {
        true => serde_json::json!({"status": "ok"}),
        false => serde_json::json!({
            "status": "unavailable",
            "detail": "widgets.json has not loaded since the server started; \
                       the reason is in the log",
        }),
    };
    Response::json(if loaded { 200 } else { 503 }, &body).with_header("Cache-Control", "no-store")
}

pub fn help() -> String {
    "Usage: openbb-files health [--url URL | --host ADDR --port N]\n\n\
     Ask a running server's /health: exit 0 when it answers 200 {\"status\": \"ok\"}, 1 \
     otherwise. For container and service health checks (no key needed).\n\n\
     Options:\n  \
     --url URL     base URL of the server (http://; https:// needs a build with \
     --features https-client) (env OPENBB_FILES_URL)\n  \
     --host ADDR   the server's --host; 0.0.0.0 or :: asks loopback [default: 127.0.0.1] \
     (env OPENBB_FILES_HOST)\n  \
     --port N      the server's --port [default: 7779] (env OPENBB_FILES_PORT)\n\n\
     Exit status: 0 healthy, 1 not (or no answer), 2 for a usage error.\n"
        .to_string()
}

/// Parses the arguments after `health` into the URL to ask; `None` asks for the help text.
/// Without `--url`, the server's own `--host` and `--port` (or their variables, which a
/// container or a unit shares with the server) say where it listens.
pub fn parse(
    args: &[String],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, UsageError> {
    let Some(value) = subcommand_flags("health", args, &["url", "host", "port"], &[], env)? else {
        return Ok(None);
    };
    if let Some(url) = value("url") {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(UsageError(format!(
                "health: --url: '{url}' must start with http:// or https://"
            )));
        }
        return Ok(Some(format!("{}{PATH}", url.trim_end_matches('/'))));
    }
    let port = value("port").unwrap_or_else(|| "7779".into());
    let port: u16 = port.trim().parse().map_err(|_| {
        UsageError(format!(
            "health: --port (or OPENBB_FILES_PORT): '{port}' is not a port number (0-65535)"
        ))
    })?;
    let host = value("host").unwrap_or_else(|| "127.0.0.1".into());
    let host = match host.trim_start_matches('[').trim_end_matches(']') {
        "0.0.0.0" | "" => "127.0.0.1".to_string(),
        "::" => "[::1]".to_string(),
        v6 if v6.contains(':') => format!("[{v6}]"),
        name => name.to_string(),
    };
    Ok(Some(format!("http://{host}:{port}{PATH}")))
}

/// Asks `url` once: `Ok` with the answer's summary when it is 200 `{"status": "ok"}`, `Err`
/// with what went wrong otherwise.
pub fn probe(url: &str) -> Result<String, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(PROBE_TIMEOUT))
        .max_redirects(0)
        .build()
        .into();
    let mut response = agent
        .get(url)
        .call()
        .map_err(|err| format!("{url}: no answer: {err}"))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(4096)
        .read_to_string()
        .unwrap_or_default();
    let said = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|value| value["status"].as_str().map(String::from));
    match (status, said.as_deref()) {
        (200, Some("ok")) => Ok(format!("{url}: {status} ok")),
        _ => Err(format!("{url}: {status} {}", body.trim())),
    }
}

/// `openbb-files health ...`: 0 when the server is healthy, 1 when not, 2 for a usage error.
pub fn command(args: &[String]) -> ExitCode {
    match parse(args, &|name| std::env::var(name).ok()) {
        Ok(Some(url)) => match probe(&url) {
            Ok(line) => {
                println!("{line}");
                ExitCode::SUCCESS
            }
            Err(line) => {
                eprintln!("openbb-files: health: {line}");
                ExitCode::FAILURE
            }
        },
        Ok(None) => {
            print!("{}", help());
            ExitCode::SUCCESS
        }
        Err(UsageError(message)) => {
            eprintln!("openbb-files: {message}\nTry 'openbb-files health --help'.");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(args: &[&str], env: &[(&str, &str)]) -> Result<Option<String>, UsageError> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse(&args, &|name| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn the_url_comes_from_the_servers_own_settings() {
        let asked = |args: &[&str], env: &[(&str, &str)]| url(args, env).unwrap().unwrap();
        assert_eq!(asked(&[], &[]), "http://127.0.0.1:7779/health");
        let container = [
            ("OPENBB_FILES_HOST", "0.0.0.0"),
            ("OPENBB_FILES_PORT", "8080"),
        ];
        assert_eq!(asked(&[], &container), "http://127.0.0.1:8080/health");
        assert_eq!(
            asked(&["--host", "::", "--port=1"], &[]),
            "http://[::1]:1/health"
        );
        assert_eq!(asked(&["--host", "::1"], &[]), "http://[::1]:7779/health");
        assert_eq!(
            asked(&["--url", "https://files.example.com/"], &container),
            "https://files.example.com/health"
        );
        assert_eq!(url(&["--help"], &[]).unwrap(), None);
    }

    #[test]
    fn bad_settings_are_usage_errors() {
        for (args, env) in [
            (&["--url", "files.example.com"][..], &[][..]),
            (&["--port", "x"], &[]),
            (&[], &[("OPENBB_FILES_PORT", "tcp://10.0.0.1:80")]),
            (&["stray"], &[]),
            (&["--bogus"], &[]),
        ] {
            assert!(url(args, env).is_err(), "{args:?} {env:?}");
        }
    }

    #[test]
    fn the_answer_says_only_whether_a_manifest_loaded() {
        let ok = answer(true);
        assert_eq!(
            (ok.status, ok.body.as_ref()),
            (200, &br#"{"status":"ok"}"#[..])
        );
        assert_eq!(answer(false).status, 503);
    }
}
