//! The command line as a user types it: `-p` and `-V`, the folder as an argument, `help` as a
//! subcommand, a mistyped subcommand, a folder that would serve nothing (refused at start-up,
//! an error for `check` and `init`), the warning when the server listens beyond loopback
//! without a key, and `check --url https://...` (the `https-client` feature, on by default).

use std::io::{ErrorKind, Read};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::Running;
use crate::support::{Fixture, prices_fixture};

const BIN: &str = env!("CARGO_BIN_EXE_openbb-files");

/// The subcommands every list of them names.
const SUBCOMMANDS: [&str; 5] = ["serve", "health", "check", "init", "help"];

/// The exit code, stdout and stderr of `command`, which must exit within 5 s (a server that
/// starts when it should not fails the test rather than hanging it).
fn finish(mut command: Command) -> (Option<i32>, String, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{command:?} did not exit within 5 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut stdout, mut stderr) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.code(), stdout, stderr)
}

/// The binary run with `args` in `dir`: see [`finish`].
fn run_in(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut command = Command::new(BIN);
    command.args(args).current_dir(dir);
    finish(command)
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    run_in(&std::env::temp_dir(), args)
}

#[test]
fn short_port_and_the_folder_as_an_argument_start_the_server() {
    let fixture = prices_fixture();
    let root = fixture.root.to_str().unwrap();
    let slash = format!("{root}/");
    for args in [
        &[root, "-p", "0"][..],
        &["serve", "-p0", root],
        &["--root", root, slash.as_str(), "-p=0"],
    ] {
        let mut command = Command::new(BIN);
        // The command line beats the variable.
        command.args(args).env("OPENBB_FILES_ROOT", "/nonexistent");
        let server = Running::spawn(command);
        assert_eq!(server.get("/prices"), 200, "{args:?}");
        let (code, stderr) = server.terminate();
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
    }
    // A folder named like a word, in the current directory.
    fixture.write("desk/data/notes.md", "# Notes\n");
    let mut command = Command::new(BIN);
    command
        .args(["desk", "--port", "0"])
        .current_dir(&fixture.root);
    let server = Running::spawn(command);
    assert_eq!(server.get("/notes_md"), 200);
    assert_eq!(server.terminate().0, Some(0));
}

#[test]
fn two_different_folders_are_a_usage_error() {
    let (one, other) = (Fixture::new(), Fixture::new());
    let (a, b) = (one.root.to_str().unwrap(), other.root.to_str().unwrap());
    for args in [&[a, "--root", b][..], &["check", a, "--root", b], &[a, b]] {
        let (code, stdout, stderr) = run(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert!(stderr.contains(b) && stderr.contains("--help"), "{stderr}");
    }
}

#[test]
fn help_is_a_subcommand_and_v_the_version() {
    for (asked, same_as) in [
        (&["help"][..], &["--help"][..]),
        (&["help", "serve"], &["-h"]),
        (&["help", "--help"], &["--help"]),
        (&["help", "check"], &["check", "--help"]),
        (&["help", "init"], &["init", "-h"]),
        (&["-V"], &["--version"]),
    ] {
        let (code, text, _) = run(asked);
        assert_eq!(code, Some(0), "{asked:?}");
        assert!(!text.is_empty(), "{asked:?}");
        assert_eq!(text, run(same_as).1, "{asked:?} vs {same_as:?}");
    }
    assert!(
        run(&["help", "check"])
            .1
            .starts_with("Usage: openbb-files check")
    );
    let (code, stdout, stderr) = run(&["help", "chek"]);
    assert_eq!(code, Some(2));
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("no subcommand 'chek'"), "{stderr}");
    for name in SUBCOMMANDS {
        assert!(stderr.contains(name), "{name} not listed: {stderr}");
    }
}

#[test]
fn a_mistyped_subcommand_lists_the_valid_ones() {
    let empty = Fixture::new();
    let (code, stdout, stderr) = run_in(&empty.root, &["chekc", "--root", "x"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.starts_with("openbb-files: 'chekc' is neither a subcommand ("),
        "{stderr}"
    );
    for name in SUBCOMMANDS {
        assert!(stderr.contains(name), "{name} not listed: {stderr}");
    }
}

#[test]
fn a_folder_that_would_serve_nothing_is_refused_at_start_up() {
    let fixture = Fixture::new();
    fixture
        .write("desk/prices.csv", "date,close\n2024-01-02,1\n")
        .write("desk/apps.json", "[]")
        .write("file.csv", "a\n1\n");
    let desk = fixture.path("desk");
    let missing = fixture.path("missing");
    let file = fixture.path("file.csv");
    let cases = [
        (
            missing.clone(),
            format!("the folder {} does not exist", missing.display()),
        ),
        (file.clone(), format!("{} is not a folder", file.display())),
        (
            desk.clone(),
            format!(
                "{} holds neither widgets.json nor data/, so there is nothing to serve",
                desk.display()
            ),
        ),
    ];
    for (root, message) in &cases {
        let root = root.to_str().unwrap();
        for args in [&[root, "-p", "0"][..], &["--root", root, "-p", "0"]] {
            let (code, stdout, stderr) = run(args);
            assert_eq!(code, Some(2), "{args:?}: {stderr}");
            assert!(stdout.is_empty(), "started: {stdout}");
            assert!(
                stderr.starts_with(&format!("openbb-files: {message}")),
                "{stderr}"
            );
        }
    }
    // The data file in the root itself is named, with where it goes (apps.json is no data).
    let (_, _, stderr) = run(&[desk.to_str().unwrap()]);
    assert!(
        stderr.ends_with(&format!(
            "; move prices.csv into {}/\n",
            desk.join("data").display()
        )),
        "{stderr}"
    );
    // The variable's folder is checked alike.
    let mut command = Command::new(BIN);
    command.args(["-p", "0"]).env("OPENBB_FILES_ROOT", &missing);
    let (code, _, stderr) = finish(command);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");
}

#[test]
fn check_and_init_report_such_a_folder_as_an_error() {
    let fixture = Fixture::new();
    fixture.write("desk/prices.csv", "date,close\n2024-01-02,1\n");
    let desk = fixture.path("desk");
    let desk = desk.to_str().unwrap();
    let missing = fixture.path("missing");
    for (root, message) in [
        (missing.to_str().unwrap(), "does not exist"),
        (desk, "; move prices.csv into"),
    ] {
        let (code, stdout, _) = run(&["check", root]);
        assert_eq!(code, Some(1), "{stdout}");
        assert!(
            stdout.starts_with("error: ") && stdout.contains(message),
            "{stdout}"
        );
        assert!(stdout.ends_with(": 1 error(s), 0 warning(s)\n"), "{stdout}");
        let (code, stdout, stderr) = run(&["init", "--root", root]);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        assert!(stderr.contains(message), "{stderr}");
    }
    // An empty data/ with the data files beside it serves (files may be added while running),
    // but check and the server's log say where the files go.
    std::fs::create_dir(fixture.path("desk/data")).unwrap();
    let (code, stdout, _) = run(&["check", desk]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.starts_with("warning: "), "{stdout}");
    assert!(stdout.contains("data/ is empty, so no widget is served; move prices.csv into"));
    assert!(stdout.ends_with(": 0 error(s), 1 warning(s)\n"), "{stdout}");
    let mut command = Command::new(BIN);
    command.args([desk, "-p", "0"]);
    let server = Running::spawn(command);
    assert_eq!(server.get("/widgets.json"), 200);
    let (code, stderr) = server.terminate();
    assert_eq!(code, Some(0));
    assert!(
        stderr.contains("openbb-files: warning: ") && stderr.contains("move prices.csv into"),
        "{stderr}"
    );
}

#[test]
fn listening_beyond_loopback_without_a_key_warns_and_still_serves() {
    // Bound to every interface for well under a second; the requests go to 127.0.0.1 only.
    let fixture = prices_fixture();
    let root = fixture.root.to_str().unwrap();
    let mut command = Command::new(BIN);
    command.args([root, "-p", "0", "--host", "0.0.0.0", "--quiet"]);
    let open = Running::spawn_on(command, "0.0.0.0");
    assert_eq!(open.get("/prices"), 200);
    let port = open.port;
    let (code, stderr) = open.terminate();
    assert_eq!(code, Some(0), "{stderr}");
    let warning = stderr
        .lines()
        .find(|line| line.starts_with("openbb-files: warning: "))
        .unwrap_or_else(|| panic!("no warning: {stderr}"));
    assert!(
        warning.contains(&format!("listening on 0.0.0.0:{port} without a key"))
            && warning.contains("anyone who can reach this address can read every file")
            && warning.contains("--api-key"),
        "{warning}"
    );
    let mut command = Command::new(BIN);
    command.args([root, "-p", "0", "--host", "0.0.0.0", "--api-key", "k"]);
    let keyed = Running::spawn_on(command, "0.0.0.0");
    assert_eq!(keyed.get("/prices"), 401);
    let (_, stderr) = keyed.terminate();
    assert!(!stderr.contains("warning"), "{stderr}");
    let local = Running::start(&fixture, &[]);
    let (_, stderr) = local.terminate();
    assert!(!stderr.contains("warning"), "{stderr}");
}

#[test]
fn check_url_speaks_tls_to_an_https_url_or_says_how_to_build_it() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    if !cfg!(feature = "https-client") {
        let (code, _, stderr) = run(&["check", "--url", &url]);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(
            stderr.contains("cargo install --locked --path ."),
            "{stderr}"
        );
        return;
    }
    // A plain listener stands in for the backend: the first bytes of the first connection are a
    // TLS handshake record (content type 22, version 3.x). Then the listener is closed, so the
    // check's later requests are refused at once.
    let hello = std::thread::spawn(move || {
        listener.set_nonblocking(true).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    stream.set_nonblocking(false).unwrap();
                    stream
                        .set_read_timeout(Some(Duration::from_secs(5)))
                        .unwrap();
                    let mut first = [0u8; 2];
                    stream.read_exact(&mut first).unwrap();
                    return first;
                }
                Err(err) if err.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(err) => panic!("the check never connected: {err}"),
            }
        }
    });
    let (code, stdout, stderr) = run(&["check", "--url", &url]);
    assert_eq!(hello.join().unwrap(), [22, 3], "{stdout}{stderr}");
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(!stdout.contains("unsecured"), "{stdout}");
}
