//! Write-back forms (`backend.append`): the generated form passes the front end's schema, a POST
//! adds a checked, correctly quoted row that the widget then shows, a PUT replaces a row by
//! key, bad input gets a 4xx naming the field, writes need a key (or the opt-in flag), many
//! concurrent submitters each land exactly once, a SIGKILL mid-writes loses no acknowledged
//! row, a full disk (a real 64 KiB tmpfs) leaves the file intact, a live_grid's socket pushes
//! a written row, and `check` reports a broken write target. A newsfeed's form adds one
//! Markdown note per POST, under a safe name of its own, that the newsfeed then lists; a full
//! disk leaves no part of a refused note.

use std::collections::HashSet;
use std::fs;
use std::net::TcpStream;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tungstenite::Message;

use crate::process::Running;
use crate::support::{Fixture, Reply, TIMEOUT, TestServer, test_config};

const KEY: &str = "s3cret";

const WIDGETS: &str = r#"{
  "ideas": {"name": "Trade ideas", "description": "d", "endpoint": "ideas",
            "backend": {"file": "ideas.csv",
                        "append": {"file": "ideas.csv", "key": "id", "created_at": "created_at",
                                   "columns": [{"name": "id"},
                                               {"name": "side", "options": ["buy", "sell"]},
                                               {"name": "size", "type": "number"},
                                               {"name": "date", "type": "date"},
                                               {"name": "hedged", "type": "boolean"},
                                               {"name": "note"}]}}},
  "journal": {"name": "Journal", "description": "d", "endpoint": "journal",
              "backend": {"append": {"file": "journal.jsonl", "columns": [{"name": "text"}]}}},
  "quotes": {"name": "Quotes", "description": "d", "type": "live_grid", "endpoint": "quotes",
             "wsEndpoint": "ws/quotes", "data": {"wsRowIdColumn": "symbol"},
             "backend": {"append": {"file": "quotes.csv", "key": "symbol",
                                    "columns": [{"name": "symbol"}, {"name": "price", "type": "number"}]}}},
  "research": {"name": "Research journal", "description": "d", "type": "newsfeed", "endpoint": "research",
               "backend": {"append": {"folder": "research", "columns": [{"name": "ticker"}]}}},
  "prices": {"name": "Prices", "description": "d", "endpoint": "prices"}
}"#;

const EARLIER_NOTE: &str = "---\ntitle: Earlier\ndate: 2026-01-02\n---\nAn older note.\n";

const IDEAS_HEADER: &str = "id,side,size,date,hedged,note,created_at\n";

fn fixture() -> Fixture {
    let fixture = Fixture::new();
    fixture
        .write("widgets.json", WIDGETS)
        .write("data/ideas.csv", IDEAS_HEADER)
        .write("data/journal.jsonl", "")
        .write("data/quotes.csv", "symbol,price\nAAPL,1\n")
        .write("data/prices.csv", "ticker,price\nAAPL,1\n")
        .write("data/research/2026-01-02-earlier.md", EARLIER_NOTE);
    fixture
}

fn server_with(fixture: Fixture, adjust: impl FnOnce(&mut openbb_files::Config)) -> TestServer {
    let mut config = test_config(&fixture.root);
    config.api_key = Some(KEY.into());
    adjust(&mut config);
    TestServer::start_with(fixture, config)
}

fn server() -> TestServer {
    server_with(fixture(), |_| {})
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(TIMEOUT))
        .build()
        .into()
}

/// `method` with a JSON `body` on `base` + `path`, with the key unless `key` is `None`.
fn send(base: &str, method: &str, path: &str, body: &str, key: Option<&str>) -> Reply {
    let mut request = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"))
        .header("Content-Type", "application/json");
    if let Some(key) = key {
        request = request.header("X-API-KEY", key);
    }
    let response = agent()
        .run(request.body(body.to_string()).unwrap())
        .unwrap_or_else(|err| panic!("{method} {path}: {err}"));
    Reply::from(response)
}

fn post(server: &TestServer, path: &str, body: Value) -> Reply {
    send(&server.url(""), "POST", path, &body.to_string(), Some(KEY))
}

fn put(server: &TestServer, path: &str, body: Value) -> Reply {
    send(&server.url(""), "PUT", path, &body.to_string(), Some(KEY))
}

fn get(server: &TestServer, path: &str) -> Value {
    let reply = server.request("GET", path, &[("X-API-KEY", KEY)]);
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.json()
}

/// The records of a CSV file (header included), parsed by the csv crate: a torn or misquoted
/// row fails here.
fn records(path: &std::path::Path) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap();
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn the_generated_forms_pass_the_front_end_schema_and_a_written_form_is_kept() {
    let fixture = fixture();
    let own_form = r#"{"own": {"name": "O", "description": "d", "endpoint": "own",
        "params": [{"type": "form", "endpoint": "own", "inputParams": [{"paramName": "a", "type": "text"}]}],
        "backend": {"append": {"file": "own.csv", "columns": [{"name": "a"}]}}}}"#;
    let mut widgets: Value = serde_json::from_str(WIDGETS).unwrap();
    let own: Value = serde_json::from_str(own_form).unwrap();
    widgets["own"] = own["own"].clone();
    fixture.write("widgets.json", widgets.to_string());
    let server = server_with(fixture, |_| {});
    let served = get(&server, "/widgets.json");
    for (id, entry) in served.as_object().unwrap() {
        let issues = openbb_files::validate::widget(entry.as_object().unwrap());
        assert!(
            !openbb_files::validate::has_error(&issues),
            "{id}: {issues:?}"
        );
    }
    let forms: Vec<&Value> = served["ideas"]["params"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(
        forms.len(),
        2,
        "an add form and, with a key, a replace form"
    );
    assert_eq!(forms[0]["type"], "form");
    assert_eq!(forms[0]["method"], "POST");
    assert_eq!(forms[0]["endpoint"], "ideas");
    assert_eq!(forms[1]["method"], "PUT");
    let inputs = forms[0]["inputParams"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = inputs
        .iter()
        .map(|i| {
            (
                i["paramName"].as_str().unwrap(),
                i["type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("id", "text"),
            ("side", "text"),
            ("size", "number"),
            ("date", "date"),
            ("hedged", "boolean"),
            ("note", "text"),
            ("submit", "button")
        ]
    );
    assert_eq!(
        inputs[1]["options"],
        json!([{"label": "buy", "value": "buy"}, {"label": "sell", "value": "sell"}])
    );
    assert_eq!(
        served["own"]["params"], own["own"]["params"],
        "a form of the user's own stays"
    );
    assert!(
        served["prices"].get("params").is_none(),
        "nothing writable unless configured"
    );
    assert!(served["ideas"].get("backend").is_none());
}

#[test]
fn a_post_adds_a_quoted_row_that_the_table_shows_and_a_put_replaces_it() {
    let server = server();
    let note = "said \"go\", then\nleft";
    let reply = post(
        &server,
        "/ideas",
        json!({"id": "i1", "side": "buy", "size": "2.5", "date": "2026-03-01",
               "hedged": false, "note": note, "submit": true}),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    let path = server.fixture.path("data/ideas.csv");
    let rows = records(&path);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[1][..6],
        ["i1", "buy", "2.5", "2026-03-01", "false", note]
    );
    assert!(
        rows[1][6].starts_with("20") && rows[1][6].ends_with('Z'),
        "created_at: {rows:?}"
    );
    let table = get(&server, "/ideas");
    assert_eq!(table[0]["note"], note);
    assert_eq!(table[0]["size"], 2.5);

    let reply = put(
        &server,
        "/ideas",
        json!({"id": "i1", "side": "sell", "size": 3}),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    let rows = records(&path);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][..3], ["i1", "sell", "3"]);
    assert_eq!(get(&server, "/ideas")[0]["side"], "sell");

    let reply = post(&server, "/journal", json!({"text": "line one\nline two"}));
    assert_eq!(reply.status, 200, "{reply:?}");
    let journal = fs::read_to_string(server.fixture.path("data/journal.jsonl")).unwrap();
    assert_eq!(journal, "{\"text\":\"line one\\nline two\"}\n");
    assert_eq!(get(&server, "/journal")[0]["text"], "line one\nline two");
}

#[test]
fn bad_submissions_get_a_clear_error_and_change_nothing() {
    let server = server_with(fixture(), |config| config.writes.max_body_bytes = 200);
    let path = server.fixture.path("data/ideas.csv");
    fs::write(&path, format!("{IDEAS_HEADER}i1,buy,1,,,,t")).unwrap();
    for (method, body, status, naming) in [
        ("POST", json!({"id": "i2", "side": "hold"}), 400, "'side'"),
        ("POST", json!({"id": "i2", "size": "lots"}), 400, "'size'"),
        (
            "POST",
            json!({"id": "i2", "date": "yesterday"}),
            400,
            "'date'",
        ),
        ("POST", json!({"id": "i2", "price": 1}), 400, "'price'"),
        (
            "POST",
            json!({"id": "i2", "created_at": "x"}),
            400,
            "filled by the server",
        ),
        ("POST", json!({"side": "buy"}), 400, "'id'"),
        ("POST", json!([1, 2]), 400, "JSON object"),
        ("POST", json!({"id": "i1"}), 409, "'i1'"),
        ("PUT", json!({"id": "nope"}), 404, "'nope'"),
        (
            "POST",
            json!({"id": "i2", "note": "x".repeat(300)}),
            413,
            "--max-write-bytes",
        ),
    ] {
        let reply = send(
            &server.url(""),
            method,
            "/ideas",
            &body.to_string(),
            Some(KEY),
        );
        assert_eq!(reply.status, status, "{body}: {reply:?}");
        assert!(
            reply.detail().contains(naming),
            "{body}: {}",
            reply.detail()
        );
    }
    let reply = send(
        &server.url(""),
        "PUT",
        "/journal",
        r#"{"text": "x"}"#,
        Some(KEY),
    );
    assert_eq!(reply.status, 405, "no key column: no replacing");
    assert_eq!(reply.header("allow"), Some("GET, HEAD, POST, OPTIONS"));
    let reply = send(&server.url(""), "POST", "/prices", "{}", Some(KEY));
    assert_eq!(
        reply.status, 405,
        "a widget without backend.append takes no writes"
    );
    let reply = server.request(
        "POST",
        "/ideas",
        &[("X-API-KEY", KEY), ("Content-Type", "text/plain")],
    );
    assert_eq!(reply.status, 415);
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        format!("{IDEAS_HEADER}i1,buy,1,,,,t")
    );
    // A file without a final line break gets one before the new row.
    assert_eq!(post(&server, "/ideas", json!({"id": "i2"})).status, 200);
    assert_eq!(records(&path).len(), 3);
    // A row added by someone else is seen by the next write (what writes learnt is per version).
    let mut file = fs::OpenOptions::new().append(true).open(&path).unwrap();
    std::io::Write::write_all(&mut file, b"ext,sell,1,,,,t\n").unwrap();
    assert_eq!(post(&server, "/ideas", json!({"id": "ext"})).status, 409);
}

#[test]
fn writes_need_a_key_unless_the_server_allows_them_without() {
    let unkeyed = fixture();
    let config = test_config(&unkeyed.root);
    let open = TestServer::start_with(unkeyed, config);
    let reply = send(&open.url(""), "POST", "/ideas", r#"{"id": "a"}"#, None);
    assert_eq!(reply.status, 403, "{reply:?}");
    assert!(reply.detail().contains("--api-key"), "{}", reply.detail());
    assert_eq!(
        open.get("/ideas").status,
        200,
        "the widget is served read-only"
    );
    assert_eq!(
        fs::read_to_string(open.fixture.path("data/ideas.csv")).unwrap(),
        IDEAS_HEADER
    );

    let allowed = server_with(fixture(), |config| {
        config.api_key = None;
        config.writes.allow_unauthenticated = true;
    });
    let reply = send(&allowed.url(""), "POST", "/ideas", r#"{"id": "a"}"#, None);
    assert_eq!(reply.status, 200, "{reply:?}");

    let keyed = server();
    let reply = send(
        &keyed.url(""),
        "POST",
        "/ideas",
        r#"{"id": "a"}"#,
        Some("wrong"),
    );
    assert_eq!(reply.status, 401);
}

#[test]
fn concurrent_submitters_each_land_exactly_once() {
    const SUBMITTERS: usize = 8;
    const EACH: usize = 25;
    let server = Arc::new(server());
    let base = server.url("");
    let together = Arc::new(std::sync::Barrier::new(SUBMITTERS));
    let threads: Vec<_> = (0..SUBMITTERS)
        .map(|t| {
            let (base, together) = (base.clone(), Arc::clone(&together));
            std::thread::spawn(move || {
                let mut shared_taken = 0;
                for i in 0..EACH {
                    together.wait();
                    let body = json!({"id": format!("t{t}-{i}"), "note": format!("a, \"b\"\n{i}")});
                    let reply = send(&base, "POST", "/ideas", &body.to_string(), Some(KEY));
                    assert_eq!(reply.status, 200, "{reply:?}");
                    // Every submitter also races for a key of the round: one wins, the others
                    // get 409.
                    together.wait();
                    let shared = json!({"id": format!("shared-{i}")}).to_string();
                    let shared = send(&base, "POST", "/ideas", &shared, Some(KEY));
                    assert!([200, 409].contains(&shared.status), "{shared:?}");
                    shared_taken += usize::from(shared.status == 200);
                }
                shared_taken
            })
        })
        .collect();
    let shared_taken: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(shared_taken, EACH, "one key, one row");
    let rows = records(&server.fixture.path("data/ideas.csv"));
    let ids: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), (SUBMITTERS + 1) * EACH);
    assert_eq!(
        unique.len(),
        (SUBMITTERS + 1) * EACH,
        "every row exactly once"
    );
    assert!(rows.iter().all(|r| r.len() == 7), "no torn row");
}

#[test]
fn a_file_at_its_row_cap_takes_no_more() {
    let server = server_with(fixture(), |config| config.writes.max_rows = 2);
    assert_eq!(post(&server, "/ideas", json!({"id": "a"})).status, 200);
    assert_eq!(post(&server, "/ideas", json!({"id": "b"})).status, 200);
    let reply = post(&server, "/ideas", json!({"id": "c"}));
    assert_eq!(reply.status, 507, "{reply:?}");
    assert!(reply.detail().contains("--max-rows-per-file"));
    assert_eq!(records(&server.fixture.path("data/ideas.csv")).len(), 3);
}

#[test]
fn a_process_killed_mid_writes_keeps_every_acknowledged_row() {
    let fixture = fixture();
    let mut running = Running::start(&fixture, &["--quiet", "--allow-unauthenticated-writes"]);
    // Read stderr (one line per write) meanwhile, so the server never blocks on a full pipe.
    let mut stderr = running.take_stderr();
    let log = std::thread::spawn(move || {
        let mut log = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut log).unwrap();
        log
    });
    let base = format!("http://127.0.0.1:{}", running.port);
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let deadline = Instant::now() + Duration::from_secs(3);
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let (base, acknowledged) = (base.clone(), Arc::clone(&acknowledged));
            std::thread::spawn(move || {
                for i in 0.. {
                    if Instant::now() > deadline {
                        break;
                    }
                    let id = format!("t{t}-{i}");
                    let body = json!({"id": id, "note": "x".repeat(i % 50)}).to_string();
                    let mut request = ureq::http::Request::builder()
                        .method("POST")
                        .uri(format!("{base}/ideas"))
                        .header("Content-Type", "application/json");
                    request = request.header("Connection", "close");
                    match agent().run(request.body(body).unwrap()) {
                        Ok(response) if response.status() == 200 => {
                            acknowledged.lock().unwrap().push(id)
                        }
                        _ => break,
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    running.signal("KILL");
    for thread in threads {
        thread.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    let log = log.join().unwrap();
    let logged = "POST widget=ideas file=data/ideas.csv client=127.0.0.1 key=- bytes=";
    let writes_logged = log
        .lines()
        .filter(|l| l.contains(logged) && l.ends_with("status=200"));
    assert!(
        writes_logged.count() >= acknowledged.len(),
        "every write is logged: {log:.300}"
    );
    assert!(
        acknowledged.len() > 20,
        "only {} writes before the kill",
        acknowledged.len()
    );
    let rows = records(&fixture.path("data/ideas.csv"));
    assert!(rows.iter().all(|r| r.len() == 7), "no torn row");
    let written: HashSet<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !written.contains(id.as_str()))
        .collect();
    assert!(lost.is_empty(), "acknowledged rows lost: {lost:?}");
    // And the restarted server serves the file.
    let restarted = Running::start(&fixture, &["--quiet"]);
    assert_eq!(restarted.get("/ideas"), 200);
}

/// A real full disk: `data/` on a 64 KiB tmpfs, filled up (needs root; the test fails where it
/// cannot mount, rather than passing without checking).
#[test]
fn a_full_disk_answers_507_and_leaves_the_file_intact() {
    let fixture = fixture();
    let data = fixture.path("data");
    let _unmounted_last = full_tmpfs(&data, |data| {
        fs::write(data.join("ideas.csv"), IDEAS_HEADER).unwrap()
    });
    let server = server_with(fixture, |config| config.writes.max_body_bytes = 64 * 1024);
    let mut answered = Vec::new();
    for i in 0..40 {
        let note = "n".repeat(1000);
        let reply = post(
            &server,
            "/ideas",
            json!({"id": format!("r{i}"), "note": note}),
        );
        answered.push(reply.status);
        if reply.status != 200 {
            assert_eq!(reply.status, 507, "{reply:?}");
            assert!(
                reply.detail().contains("was not changed"),
                "{}",
                reply.detail()
            );
            break;
        }
    }
    assert_eq!(answered.last(), Some(&507), "{answered:?}");
    let rows = records(&data.join("ideas.csv"));
    assert_eq!(
        rows.len(),
        answered.len(),
        "the header and each acknowledged row: {answered:?}"
    );
    assert!(rows.iter().all(|r| r.len() == 7), "no torn row");
    let size = fs::metadata(data.join("ideas.csv")).unwrap().len() as usize;
    assert_eq!(
        size,
        IDEAS_HEADER.len() + (answered.len() - 1) * rows_bytes(&rows[1..])
    );
}

/// Mounts a 64 KiB tmpfs on `data`, lets `prepare` write to it, then fills it up; unmounted
/// when the answer is dropped.
fn full_tmpfs(data: &std::path::Path, prepare: impl FnOnce(&std::path::Path)) -> Unmount {
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(data)
        .status()
        .unwrap();
    assert!(mounted.success(), "this test needs root to mount a tmpfs");
    let unmount = Unmount(data.to_path_buf());
    prepare(data);
    let filled = fs::write(data.join("filler.bin"), vec![b'x'; 64 * 1024 + 1]);
    assert!(filled.is_err(), "the tmpfs should be full");
    unmount
}

#[test]
fn a_full_disk_refuses_a_note_and_leaves_no_part_of_it() {
    let fixture = fixture();
    let data = fixture.path("data");
    let _unmounted_last = full_tmpfs(&data, |data| fs::create_dir(data.join("research")).unwrap());
    let server = server_with(fixture, |config| config.writes.max_body_bytes = 64 * 1024);
    let mut acknowledged = 0;
    let refused = loop {
        let reply = post(
            &server,
            "/research",
            json!({"title": "t", "body": "b".repeat(1000)}),
        );
        if reply.status != 200 {
            break reply;
        }
        written_note(&server, &reply);
        acknowledged += 1;
        assert!(acknowledged < 40, "the disk never filled");
    };
    assert_eq!(refused.status, 507, "{refused:?}");
    assert!(
        refused.detail().contains("was not changed"),
        "{}",
        refused.detail()
    );
    let names = notes(&server);
    assert_eq!(
        names.len(),
        acknowledged,
        "only the acknowledged notes, no dot-file: {names:?}"
    );
}

/// The bytes of one of `rows` as written (all the same length here), its line break included.
fn rows_bytes(rows: &[Vec<String>]) -> usize {
    rows.first().map_or(0, |r| r.join(",").len() + 1)
}

/// Unmounts a fixture's `data/` when dropped, even after a failed assertion, and removes the
/// fixture's folder (whose own removal stopped at the mount point).
struct Unmount(std::path::PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        if let Some(root) = self.0.parent() {
            let _ = fs::remove_dir_all(root);
        }
    }
}

#[test]
fn a_live_grid_socket_pushes_a_written_row() {
    let fixture = fixture();
    let config = test_config(&fixture.root);
    let limits = openbb_files::live::Limits {
        poll: Duration::from_millis(50),
        ..openbb_files::live::Limits::default()
    };
    let mut config = config;
    config.api_key = Some(KEY.into());
    let server = TestServer::start_live(fixture, config, limits);
    let stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let target = format!("ws://{}/ws/quotes?api_key={KEY}", server.addr);
    let (mut socket, _) = tungstenite::client::client(target, stream).unwrap();
    wait_until_subscribed(&server);
    assert_eq!(
        post(&server, "/quotes", json!({"symbol": "MSFT", "price": 7})).status,
        200
    );
    let started = Instant::now();
    loop {
        assert!(started.elapsed() < TIMEOUT, "no row pushed");
        match socket.read().unwrap() {
            Message::Text(text) => {
                let row: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(row["symbol"], "MSFT", "{row}");
                assert_eq!(row["price"], 7);
                break;
            }
            _ => continue,
        }
    }
}

fn wait_until_subscribed(server: &TestServer) {
    let started = Instant::now();
    while get(server, "/")["live_subscribers"].as_u64() != Some(1) {
        assert!(started.elapsed() < TIMEOUT, "the socket was not counted");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The watcher has taken the file's first version once the subscriber is counted; give
    // it one poll so the write is a change.
    std::thread::sleep(Duration::from_millis(120));
}

#[test]
fn check_reports_a_broken_write_target_and_a_server_without_a_key() {
    let fixture = fixture();
    fixture.write("data/ideas.csv", "id,side\n");
    fs::remove_file(fixture.path("data/journal.jsonl")).unwrap();
    fs::remove_dir_all(fixture.path("data/research")).unwrap();
    let (status, text) = crate::support::check_folder(&fixture);
    assert_eq!(status, Some(1), "{text}");
    assert!(
        text.contains("ideas: backend.append: data/ideas.csv cannot take this form's rows: its header lacks the column(s) size, date, hedged, note, created_at"),
        "{text}"
    );
    assert!(
        text.contains(
            "journal: backend.append: data/journal.jsonl, the file of this form, is missing"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "research: backend.append: data/research, the folder of this form's notes, is missing"
        ),
        "{text}"
    );
    assert!(
        text.contains("note: unless served with --api-key or --api-keys, served read-only (their forms' writes get 403): ideas, journal, quotes, research: writes need an API key"),
        "{text}"
    );
}

/// The notes of `data/research`, by file name.
fn notes(server: &TestServer) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(server.fixture.path("data/research"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The note a write answered with, read back by the newsfeed's own parser.
fn written_note(server: &TestServer, reply: &Reply) -> serde_json::Map<String, Value> {
    assert_eq!(reply.status, 200, "{reply:?}");
    let written = reply.json()["written"].as_str().unwrap().to_string();
    let name = written.strip_prefix("research/").unwrap();
    assert!(openbb_files::paths::is_safe_segment(name), "{written}");
    let text = fs::read_to_string(server.fixture.path(&format!("data/{written}"))).unwrap();
    openbb_files::note::parse_note(&text).unwrap_or_else(|why| panic!("{written}: {why}\n{text}"))
}

#[test]
fn a_post_adds_a_note_that_the_newsfeed_shows() {
    let server = server();
    let form = &get(&server, "/widgets.json")["research"]["params"][0];
    assert_eq!(
        (&form["method"], &form["label"]),
        (&json!("POST"), &json!("Add a note"))
    );
    let inputs: Vec<&str> = form["inputParams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|input| input["paramName"].as_str().unwrap())
        .collect();
    assert_eq!(inputs, ["title", "body", "author", "ticker", "submit"]);

    let body = "First paragraph.\n\n---\ntitle: injected\ndate: 1999-01-01\n---\nafter";
    let reply = post(
        &server,
        "/research",
        json!({"title": "Q4: NVDA \"beat\"", "body": body, "author": "J. Doe",
               "ticker": "NVDA", "submit": true}),
    );
    let note = written_note(&server, &reply);
    let date = reply.json()["row"]["date"].as_str().unwrap().to_string();
    assert_eq!(
        reply.json()["written"],
        format!("research/{}-q4-nvda-beat.md", &date[..10])
    );
    assert_eq!(note["title"], "Q4: NVDA \"beat\"");
    assert_eq!(
        note["body"], body,
        "the body cannot add to the front matter"
    );
    assert_eq!(note["date"], date.as_str());
    let articles = get(&server, "/research");
    let titles: Vec<&str> = articles
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Q4: NVDA \"beat\"", "Earlier"], "newest first");
    assert_eq!(articles[0]["author"], "J. Doe");
    assert_eq!(articles[0]["excerpt"], "First paragraph.");
}

#[test]
fn a_hostile_title_makes_a_safe_note_of_its_own() {
    let server = server();
    let long = "x".repeat(10_000);
    let titles = [
        "../x",
        "..",
        "/etc/passwd",
        "a\"b: c\n---\ndate: soon\r\n# d",
        "🚀🚀🚀",
        "back\\slash\t\u{7}",
        long.as_str(),
    ];
    for title in titles {
        let reply = post(&server, "/research", json!({"title": title}));
        assert_eq!(written_note(&server, &reply)["title"], title);
    }
    let names = notes(&server);
    assert_eq!(names.len(), titles.len() + 1, "{names:?}");
    assert!(
        names
            .iter()
            .all(|name| name.len() <= 80 && !name.starts_with('.')),
        "{names:?}"
    );
    assert!(!server.fixture.path("data/x").exists() && !server.fixture.path("x").exists());
    let shown = get(&server, "/research");
    assert_eq!(shown.as_array().unwrap().len(), titles.len() + 1);
}

#[test]
fn concurrent_notes_with_one_title_each_land_once_under_their_own_name() {
    const SUBMITTERS: usize = 8;
    let server = Arc::new(server());
    let together = Arc::new(std::sync::Barrier::new(SUBMITTERS));
    let threads: Vec<_> = (0..SUBMITTERS)
        .map(|t| {
            let (server, together) = (Arc::clone(&server), Arc::clone(&together));
            std::thread::spawn(move || {
                together.wait();
                let reply = post(
                    &server,
                    "/research",
                    json!({"title": "Same idea", "body": t.to_string()}),
                );
                let note = written_note(&server, &reply);
                (
                    reply.json()["written"].as_str().unwrap().to_string(),
                    note["body"].clone(),
                )
            })
        })
        .collect();
    let written: Vec<(String, Value)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let names: HashSet<&str> = written.iter().map(|(name, _)| name.as_str()).collect();
    let bodies: HashSet<String> = written.iter().map(|(_, body)| body.to_string()).collect();
    assert_eq!(names.len(), SUBMITTERS, "distinct names: {names:?}");
    assert_eq!(bodies.len(), SUBMITTERS, "each note holds its own body");
    assert!(names.iter().any(|name| name.ends_with("-same-idea.md")));
    assert!(
        names.iter().any(|name| name.ends_with("-same-idea-8.md")),
        "{names:?}"
    );
    assert_eq!(
        notes(&server).len(),
        SUBMITTERS + 1,
        "no temporary file is left"
    );
}

#[test]
fn bad_notes_get_a_400_naming_the_field_and_unkeyed_writes_a_403() {
    let server = server_with(fixture(), |config| config.writes.max_rows = 2);
    for (body, field) in [
        (json!({"body": "no title"}), "'title'"),
        (json!({"title": ""}), "'title'"),
        (
            json!({"title": "t", "date": "2020-01-01"}),
            "'date' is filled by the server",
        ),
        (json!({"title": "t", "price": 3}), "'price'"),
        (json!({"title": ["t"]}), "'title'"),
        (json!(["t"]), "JSON object"),
    ] {
        let reply = post(&server, "/research", body.clone());
        assert_eq!(reply.status, 400, "{body}: {reply:?}");
        assert!(reply.detail().contains(field), "{body}: {}", reply.detail());
    }
    let put = put(&server, "/research", json!({"title": "t"}));
    assert_eq!(put.status, 405, "a note is never replaced: {put:?}");
    assert_eq!(notes(&server).len(), 1, "nothing written");
    let unkeyed = send(
        &server.url(""),
        "POST",
        "/research",
        r#"{"title": "t"}"#,
        None,
    );
    assert_eq!(unkeyed.status, 401, "{unkeyed:?}");
    assert_eq!(
        post(&server, "/research", json!({"title": "t"})).status,
        200
    );
    let full = post(&server, "/research", json!({"title": "t"}));
    assert_eq!(full.status, 507, "a folder at its cap: {full:?}");
    assert!(full.detail().contains("--max-rows-per-file"));

    let keyless = fixture();
    let config = test_config(&keyless.root);
    let keyless = TestServer::start_with(keyless, config);
    let refused = send(
        &keyless.url(""),
        "POST",
        "/research",
        r#"{"title": "t"}"#,
        None,
    );
    assert_eq!(refused.status, 403, "{refused:?}");
    assert!(refused.detail().contains("--api-key"));
    assert_eq!(notes(&keyless).len(), 1);
}

/// Two write targets that record who wrote: a CSV log and a notes folder.
const SIGNED_WIDGETS: &str = r#"{
  "signed": {"name": "Signed ideas", "description": "d", "endpoint": "signed",
             "backend": {"append": {"file": "signed.csv", "created_at": "created_at",
                                    "submitted_by": "analyst", "columns": [{"name": "idea"}]}}},
  "signed_notes": {"name": "Signed notes", "description": "d", "type": "newsfeed",
                   "endpoint": "signed_notes",
                   "backend": {"append": {"folder": "signed_notes", "submitted_by": "submitted_by"}}}
}"#;

/// The named keys of [`signed_fixture`]'s `keys.txt`.
const ALICE: &str = "alice-k3y";
const BOB: &str = "bob-k3y";

fn signed_fixture() -> Fixture {
    let fixture = Fixture::new();
    fixture
        .write("widgets.json", SIGNED_WIDGETS)
        .write("data/signed.csv", "idea,created_at,analyst\n")
        .write("data/signed_notes/.keep", "")
        .write(
            "keys.txt",
            format!("# desk keys\nalice {ALICE}\n\nbob\t{BOB}\n"),
        );
    fixture
}

/// A server taking `--api-key KEY` (id `default`) and `--api-keys keys.txt`.
fn signed_server() -> TestServer {
    let fixture = signed_fixture();
    let mut config = test_config(&fixture.root);
    config.api_key = Some(KEY.into());
    config.api_keys =
        openbb_files::auth::read_keys_file(&fixture.path("keys.txt"), Some(KEY)).unwrap();
    TestServer::start_with(fixture, config)
}

#[test]
fn each_row_records_the_id_of_the_key_it_came_with() {
    let server = signed_server();
    let base = server.url("");
    let inputs = &get(&server, "/widgets.json")["signed"]["params"][0]["inputParams"];
    assert_eq!(
        inputs.as_array().unwrap().len(),
        2,
        "idea and the button: {inputs}"
    );
    // Each key in another of the places Workspace may send it.
    let by_header = send(
        &base,
        "POST",
        "/signed",
        r#"{"idea": "long A"}"#,
        Some(ALICE),
    );
    assert_eq!(by_header.status, 200, "{by_header:?}");
    assert_eq!(by_header.json()["row"]["analyst"], "alice");
    let by_bearer = agent()
        .run(
            ureq::http::Request::builder()
                .method("POST")
                .uri(server.url("/signed"))
                .header("Content-Type", "application/json")
                .header("Authorization", format!("Bearer {BOB}"))
                .body(r#"{"idea": "short B"}"#.to_string())
                .unwrap(),
        )
        .unwrap();
    assert_eq!(by_bearer.status(), 200);
    let path = format!("/signed?api_key={KEY}");
    let by_query = send(&base, "POST", &path, r#"{"idea": "flat C"}"#, None);
    assert_eq!(by_query.status, 200, "{by_query:?}");

    let refused = send(
        &base,
        "POST",
        "/signed",
        r#"{"idea": "x", "analyst": "bob"}"#,
        Some(ALICE),
    );
    assert_eq!(refused.status, 400);
    assert!(
        refused
            .detail()
            .contains("field 'analyst' is filled by the server"),
        "{}",
        refused.detail()
    );
    let unknown = send(
        &base,
        "POST",
        "/signed",
        r#"{"idea": "x"}"#,
        Some("carol-k3y"),
    );
    assert_eq!(unknown.status, 401);
    assert!(!unknown.detail().contains("carol"), "{}", unknown.detail());

    let rows = records(&server.fixture.path("data/signed.csv"));
    let signed: Vec<(&str, &str)> = rows[1..]
        .iter()
        .map(|row| (row[0].as_str(), row[2].as_str()))
        .collect();
    assert_eq!(
        signed,
        [
            ("long A", "alice"),
            ("short B", "bob"),
            ("flat C", "default")
        ]
    );
    // The table reads back with a named key too.
    let table = server.request("GET", "/signed", &[("X-API-KEY", BOB)]);
    assert_eq!(table.status, 200, "{table:?}");
    assert_eq!(table.json()[0]["analyst"], "alice");

    let note = send(
        &base,
        "POST",
        "/signed_notes",
        r#"{"title": "Memo", "author": "A. Smith"}"#,
        Some(BOB),
    );
    assert_eq!(note.status, 200, "{note:?}");
    let written = note.json()["written"].as_str().unwrap().to_string();
    let text = fs::read_to_string(server.fixture.path(&format!("data/{written}"))).unwrap();
    assert!(
        text.contains("author: \"A. Smith\"\n") && text.contains("submitted_by: \"bob\"\n"),
        "{text}"
    );
    assert_eq!(
        openbb_files::note::parse_note(&text).unwrap()["author"],
        "A. Smith"
    );
}

#[test]
fn without_keys_the_submitter_column_stays_empty_and_is_warned_about() {
    let fixture = signed_fixture();
    let mut config = test_config(&fixture.root);
    config.writes.allow_unauthenticated = true;
    let server = TestServer::start_with(fixture, config);
    let reply = send(
        &server.url(""),
        "POST",
        "/signed",
        r#"{"idea": "anon"}"#,
        None,
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.json()["row"]["analyst"], Value::Null);
    let rows = records(&server.fixture.path("data/signed.csv"));
    assert_eq!(rows[1][0], "anon");
    assert_eq!(rows[1][2], "");
    let problems = server.get("/").json()["problems"].to_string();
    assert!(
        problems.contains("signed: backend.append: submitted_by: 'analyst' stays empty"),
        "{problems}"
    );
}

#[test]
fn the_write_log_names_the_key_id_and_never_the_key() {
    let fixture = signed_fixture();
    let keys = fixture.path("keys.txt");
    let running = Running::start(&fixture, &["--quiet", "--api-keys", keys.to_str().unwrap()]);
    let base = format!("http://127.0.0.1:{}", running.port);
    let reply = send(
        &base,
        "POST",
        "/signed",
        r#"{"idea": "logged"}"#,
        Some(ALICE),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    let reply = send(&base, "POST", "/signed", r#"{"nope": 1}"#, Some(BOB));
    assert_eq!(reply.status, 400, "{reply:?}");
    let (_, stderr) = running.terminate();
    assert!(stderr.contains("Keys: 2, each known by its id"), "{stderr}");
    let logged = |key: &str, status: u16| {
        stderr.lines().any(|line| {
            line.contains("openbb-files: write: ")
                && line.contains(&format!(
                    "widget=signed file=data/signed.csv client=127.0.0.1 key={key} bytes="
                ))
                && line.ends_with(&format!("status={status}"))
        })
    };
    assert!(logged("alice", 200) && logged("bob", 400), "{stderr}");
    assert!(!stderr.contains(ALICE) && !stderr.contains(BOB), "{stderr}");
}
