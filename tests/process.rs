//! The binary as a user runs it: the first stdout line, exit codes, signals, the access log
//! (escaped; a closed stderr changes nothing), and exiting (rather than lingering) when the
//! listener fails.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Fixture, prices_fixture};

const BIN: &str = env!("CARGO_BIN_EXE_openbb-files");

pub struct Running {
    child: Child,
    pub port: u16,
}

impl Running {
    /// Starts the binary with `--port 0` and reads the first stdout line.
    pub fn start(fixture: &Fixture, extra: &[&str]) -> Running {
        let mut command = Command::new(BIN);
        command
            .args(["--root", fixture.root.to_str().unwrap(), "--port", "0"])
            .args(extra);
        Running::spawn(command)
    }

    /// Spawns `command` (which must start the server on 127.0.0.1, port 0) and reads the port
    /// from its first stdout line, which must be exactly `listening on http://127.0.0.1:PORT`
    /// (or `https://`).
    pub fn spawn(command: Command) -> Running {
        Running::spawn_on(command, "127.0.0.1")
    }

    /// [`Running::spawn`] for a server listening on `host` (as the first line shows it).
    pub fn spawn_on(mut command: Command, host: &str) -> Running {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let port = ["http", "https"]
            .iter()
            .find_map(|scheme| {
                first
                    .trim_end()
                    .strip_prefix(&format!("listening on {scheme}://{host}:"))
            })
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .parse()
            .unwrap();
        Running { child, port }
    }

    pub fn get(&self, path: &str) -> u16 {
        get_status(self.port, path)
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Sends SIGTERM and waits (at most 10 s) for the exit; returns its code and stderr.
    pub fn terminate(self) -> (Option<i32>, String) {
        self.signal("TERM");
        self.finish(Duration::from_secs(10))
    }

    /// The process's stderr, for a caller that reads it while the server runs.
    pub fn take_stderr(&mut self) -> std::process::ChildStderr {
        self.child.stderr.take().expect("stderr not taken yet")
    }

    /// Waits (bounded) for the process to exit; returns its code and its stderr.
    pub fn finish(mut self, within: Duration) -> (Option<i32>, String) {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut stderr = String::new();
                if let Some(mut pipe) = self.child.stderr.take() {
                    pipe.read_to_string(&mut stderr).unwrap();
                }
                return (status.code(), stderr);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the server did not exit within {within:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A server still running when its test ends (a failed assertion) is stopped.
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn first_line_then_sigterm_exits_zero() {
    let fixture = prices_fixture();
    let server = Running::start(&fixture, &[]);
    assert_eq!(server.get("/prices"), 200);
    let (code, stderr) = server.terminate();
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn sigint_exits_zero() {
    let fixture = prices_fixture();
    let server = Running::start(&fixture, &[]);
    server.signal("INT");
    assert_eq!(server.finish(Duration::from_secs(10)).0, Some(0));
}

#[test]
fn access_log_has_one_line_per_request_with_the_key_redacted() {
    let fixture = prices_fixture();
    let server = Running::start(&fixture, &["--api-key", "hunter2-key"]);
    assert_eq!(server.get("/prices?api_key=hunter2-key&ticker=AAPL"), 200);
    assert_eq!(server.get("/nope?api_key=wrong"), 401);
    let (_, stderr) = server.terminate();
    assert!(
        !stderr.contains("hunter2"),
        "the key leaked into the log:\n{stderr}"
    );
    // TIME CLIENT REQUEST-ID METHOD PATH STATUS BYTES MICROSECONDSus
    let lines: Vec<Vec<&str>> = stderr
        .lines()
        .map(|l| l.split(' ').collect::<Vec<_>>())
        .filter(|fields| fields.get(3) == Some(&"GET"))
        .collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    let fields = &lines[0];
    assert_eq!(
        fields[3..6],
        ["GET", "/prices?api_key=REDACTED&ticker=AAPL", "200"]
    );
    assert_eq!(fields[1], "127.0.0.1");
    assert!(fields[6].parse::<usize>().unwrap() > 0, "bytes: {fields:?}");
    assert!(fields[7].ends_with("us"), "microseconds: {fields:?}");
    assert_eq!(lines[1][3..6], ["GET", "/nope?api_key=REDACTED", "401"]);
}

#[test]
fn help_version_and_usage_errors() {
    let help = Command::new(BIN).arg("--help").output().unwrap();
    assert!(help.status.success());
    let text = String::from_utf8(help.stdout).unwrap();
    for name in [
        "--root",
        "--host",
        "--port",
        "--threads",
        "--api-key",
        "--auth-header",
        "--auth-query",
        "--cors-origin",
        "--log-format",
        "OPENBB_FILES_API_KEY",
        "OPENBB_FILES_LOG_FORMAT",
    ] {
        assert!(text.contains(name), "--help lacks {name}");
    }
    let version = Command::new(BIN).arg("--version").output().unwrap();
    assert!(
        String::from_utf8(version.stdout)
            .unwrap()
            .contains(env!("CARGO_PKG_VERSION"))
    );
    for args in [
        &["--bogus"][..],
        &["--port", "nope"],
        &["serve", ".", "extra"],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8(out.stderr).unwrap().contains("--help"));
    }
}

#[test]
fn environment_variables_configure_the_server() {
    let fixture = prices_fixture();
    let mut command = Command::new(BIN);
    command
        .env("OPENBB_FILES_ROOT", &fixture.root)
        .env("OPENBB_FILES_PORT", "0")
        .env("OPENBB_FILES_API_KEY", "env-key");
    let server = Running::spawn(command);
    assert_eq!(server.get("/prices"), 401);
    assert_eq!(server.get("/prices?api_key=env-key"), 200);
    assert_eq!(server.terminate().0, Some(0));
}

#[test]
fn a_port_in_use_is_a_clear_startup_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let fixture = Fixture::new();
    let out = Command::new(BIN)
        .args(["--root", fixture.root.to_str().unwrap(), "--port", &port])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(&format!(
            "cannot listen on 127.0.0.1:{port}: Address already in use"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("--port 0 for a free one"), "{stderr}");
    // With --log-format json the start-up error is a JSON line too.
    let out = Command::new(BIN)
        .args(["--root", fixture.root.to_str().unwrap(), "--port", &port])
        .args(["--log-format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let line: serde_json::Value = serde_json::from_str(stderr.trim()).expect("one JSON line");
    assert!(
        line["message"]
            .as_str()
            .is_some_and(|m| m.contains("Address already in use")),
        "{stderr}"
    );
}

/// The status of a GET on 127.0.0.1:`port`.
fn get_status(port: u16, path: &str) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(crate::support::TIMEOUT))
        .build()
        .into();
    agent
        .get(format!("http://127.0.0.1:{port}{path}"))
        .call()
        .unwrap_or_else(|err| panic!("GET {path}: {err}"))
        .status()
        .as_u16()
}

/// The binary started by `sh -c` with `ulimit -n fds` and `args` (after `--port 0`).
pub fn start_with_fd_limit(fixture: &Fixture, fds: u32, args: &str) -> Running {
    let script = format!(
        "ulimit -n {fds} && exec '{BIN}' --root '{}' --port 0 --quiet {args}",
        fixture.root.display()
    );
    let mut command = Command::new("sh");
    command.args(["-c", &script]);
    Running::spawn(command)
}

/// Sends one GET on a new connection and returns the status line's code, or `None` when no
/// answer came within `within` (the connection waits in the backlog, or was closed or reset).
fn try_get(port: u16, path: &str, within: Duration) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(within)).ok()?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .ok()?;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer)
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
fn running_out_of_file_descriptors_refuses_then_recovers() {
    // With 32 descriptors, 40 held connections exhaust them: upstream tiny_http's accept
    // thread then panicked and the server stopped serving for good. Now it answers 503 or
    // leaves connections waiting in the backlog, and serves again once descriptors are free.
    let fixture = prices_fixture();
    let mut server = start_with_fd_limit(&fixture, 32, "--threads 2 --idle-timeout-secs 60");
    let port = server.port;
    let mut held = Vec::new();
    for _ in 0..40 {
        if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) {
            held.push(stream);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let refused = try_get(port, "/prices", Duration::from_secs(1));
    assert!(
        matches!(refused, None | Some(503)),
        "served while out of descriptors: {refused:?}"
    );
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match try_get(port, "/prices", Duration::from_secs(2)) {
            Some(200) => break,
            other if Instant::now() > deadline => {
                panic!("not serving again 10 s after the descriptors were freed: {other:?}")
            }
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server exited"
    );
    let (code, stderr) = server.terminate();
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn json_access_log_has_one_object_per_request_with_the_key_redacted() {
    let fixture = prices_fixture();
    let server = Running::start(
        &fixture,
        &["--api-key", "hunter2-key", "--log-format", "json"],
    );
    assert_eq!(server.get("/prices?api_key=hunter2-key&ticker=AAPL"), 200);
    assert_eq!(server.get("/nope"), 401);
    let (_, stderr) = server.terminate();
    assert!(
        !stderr.contains("hunter2"),
        "the key leaked into the log:\n{stderr}"
    );
    // Every line is JSON, the banner's included; access lines are those with a method.
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .filter(|line: &serde_json::Value| line.get("method").is_some())
        .collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    let first = &lines[0];
    assert_eq!(first["method"], "GET");
    assert_eq!(first["path"], "/prices?api_key=REDACTED&ticker=AAPL");
    assert_eq!(first["status"], 200);
    assert!(first["bytes"].as_u64().unwrap() > 0, "{first}");
    assert!(first["micros"].is_u64(), "{first}");
    assert_eq!(lines[1]["path"], "/nope");
    assert_eq!(lines[1]["status"], 401);
    assert!(
        stderr.lines().all(|l| l.starts_with('{')),
        "text lines in json mode:\n{stderr}"
    );
}

#[test]
fn startup_banner_on_stderr_names_the_url_and_the_token_rule() {
    let fixture = prices_fixture();
    let open = Running::start(&fixture, &["--quiet"]);
    let url = format!("URL http://127.0.0.1:{}\n", open.port);
    let (_, stderr) = open.terminate();
    assert!(stderr.contains(&url), "{stderr}");
    assert!(stderr.contains("Token: not required"), "{stderr}");
    let keyed = Running::start(&fixture, &["--api-key", "k", "--auth-header", "X-Desk"]);
    let (_, stderr) = keyed.terminate();
    assert!(
        stderr.contains("Token: required, as header X-Desk (or query parameter api_key)"),
        "{stderr}"
    );
}

#[test]
fn a_closed_stderr_fails_no_request_and_sigterm_still_stops_the_server() {
    let fixture = prices_fixture();
    let mut server = Running::start(&fixture, &[]);
    // The reader of stderr is gone: from now on every log line fails to write (EPIPE).
    drop(server.child.stderr.take());
    for n in 0..20 {
        assert_eq!(server.get(&format!("/prices?n={n}")), 200, "request {n}");
    }
    // A broken widgets.json is a problem line (the last good version keeps serving).
    fixture.write("widgets.json", "{ broken");
    assert_eq!(server.get("/widgets.json"), 200);
    assert_eq!(server.get("/prices"), 200);
    server.signal("TERM");
    let (code, _) = server.finish(Duration::from_secs(5));
    assert_eq!(code, Some(0));
}

#[test]
fn piped_into_head_it_keeps_serving_and_stops_on_sigterm() {
    // `openbb-files 2>&1 | head -3`: once head has its three lines, stdout and stderr both
    // lead nowhere.
    let fixture = prices_fixture();
    let (pid, code) = (fixture.path("server.pid"), fixture.path("server.code"));
    let script = format!(
        "('{BIN}' --root '{}' --port 0 2>&1 & echo $! > '{}'; wait $!; echo $? > '{}') | head -3",
        fixture.root.display(),
        pid.display(),
        code.display()
    );
    let mut shell = Command::new("sh")
        .args(["-c", &script])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Read line by line: the shell keeps the pipe open until the server exits.
    let mut lines = BufReader::new(shell.stdout.take().unwrap());
    let mut head = String::new();
    for _ in 0..3 {
        lines.read_line(&mut head).unwrap();
    }
    let port: u16 = head
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("listening on http://127.0.0.1:"))
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("unexpected head: {head:?}"));
    assert_eq!(head.lines().count(), 3, "{head}");
    for n in 0..20 {
        assert_eq!(
            get_status(port, &format!("/prices?n={n}")),
            200,
            "request {n}"
        );
    }
    let pid = std::fs::read_to_string(&pid).unwrap();
    let killed = Command::new("kill")
        .args(["-TERM", pid.trim()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    while shell.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "the server outlived SIGTERM by 5 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(std::fs::read_to_string(&code).unwrap().trim(), "0");
}

#[test]
fn control_characters_in_a_request_reach_the_log_escaped() {
    let fixture = prices_fixture();
    let server = Running::start(&fixture, &[]);
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream
        .set_read_timeout(Some(crate::support::TIMEOUT))
        .unwrap();
    stream
        .write_all(b"GET /\x1b]0;pwned\x07\x1b[2J?q=\x1b[31m HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let _ = stream.read_to_end(&mut Vec::new());
    let (code, stderr) = server.terminate();
    assert_eq!(code, Some(0));
    assert!(
        !stderr.contains(['\x1b', '\x07']),
        "raw control characters in the log: {stderr:?}"
    );
    assert!(
        stderr.contains("GET /\\x1b]0;pwned\\x07\\x1b[2J?q=\\x1b[31m 404 "),
        "{stderr}"
    );
}

#[test]
fn a_blank_key_in_the_environment_is_refused_at_start_up() {
    let fixture = prices_fixture();
    let child = Command::new(BIN)
        .args(["--root", fixture.root.to_str().unwrap(), "--port", "0"])
        .env("OPENBB_FILES_API_KEY", " ")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (code, stderr) = Running { child, port: 0 }.finish(Duration::from_secs(5));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("OPENBB_FILES_API_KEY"), "{stderr}");
}
