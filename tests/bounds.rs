//! Issue 16, bounded work and browser-borne requests: the `Host` check against DNS rebinding,
//! JSON-only POSTs, the caps of multi_file_viewer and omni, listings through link loops and
//! `/` over a very wide file. Each finding of the issue is a test here, failing without its fix.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Fixture, TestServer, raw_status, test_config};

/// A request over a raw socket (ureq sets `Host` itself), answered with `Connection: close`:
/// the status, the whole answer (head and body) and the body.
fn send(
    server: &TestServer,
    head: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut request = format!(
        "{head} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    let answer = server.raw(request.as_bytes());
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (raw_status(&answer), answer, body)
}

fn assert_fast(started: Instant, limit: Duration, what: &str) {
    let took = started.elapsed();
    assert!(took < limit, "{what} took {took:?} (limit {limit:?})");
}

const PDF_HEAD: &str = "%PDF-1.4\n";

/// A folder with a PDF viewer over `filings/`, an omni search, a pdf in url mode and a table.
fn desk() -> Fixture {
    let fixture = Fixture::new();
    fixture
        .write("data/filings/a.pdf", format!("{PDF_HEAD}a\n%%EOF\n"))
        .write("data/filings/b.pdf", format!("{PDF_HEAD}b\n%%EOF\n"))
        .write("data/notes/margins.md", "Gross margin rose.\nNet MARGIN fell.\n")
        .write("data/prices.csv", "ticker,close\nAAPL,1\n")
        .write(
            "widgets.json",
            r#"{
  "filings": {"name": "Filings", "description": "d", "type": "multi_file_viewer", "endpoint": "filings",
              "params": [{"paramName": "filenames", "type": "endpoint", "roles": ["fileSelector"],
                          "optionsEndpoint": "filings/list", "multiSelect": true}]},
  "search": {"name": "Search", "description": "d", "type": "omni", "endpoint": "search",
             "params": [{"paramName": "prompt", "type": "text", "value": ""}]},
  "filing_url": {"name": "Filing", "description": "d", "type": "pdf", "endpoint": "filing_url",
                 "backend": {"file": "filings/a.pdf", "mode": "url"}},
  "prices": {"name": "Prices", "description": "d", "endpoint": "prices"}
}"#,
        );
    fixture
}

#[test]
fn a_rebinding_name_in_host_gets_421_and_known_names_pass() {
    let server = TestServer::start(desk());
    let port = server.addr.port().to_string();
    for host in [
        "localhost".to_string(),
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
        "LocalHost.".to_string(),
    ] {
        let (status, answer, _) = send(&server, "GET /prices", &[("Host", &host)], "");
        assert_eq!(status, 200, "Host: {host}: {answer}");
    }
    // A page on rebind.example, its name now resolving to 127.0.0.1, as the browser sends it.
    for host in [
        "rebind.example",
        &format!("rebind.example:{port}"),
        "localhost.evil.example",
    ] {
        for request in [
            "GET /prices",
            "GET /widgets.json",
            "GET /files/filings/a.pdf",
            "GET /",
        ] {
            let (status, answer, body) = send(&server, request, &[("Host", host)], "");
            assert_eq!(status, 421, "{request} Host: {host}: {answer}");
            let detail: Value = serde_json::from_str(&body).unwrap();
            assert!(
                detail["detail"]
                    .as_str()
                    .unwrap()
                    .contains("--allowed-host")
            );
            assert!(!body.contains("AAPL") && !body.contains("PDF"), "{body}");
        }
    }
    // A POST and a WebSocket handshake are refused alike, the refusal readable by Workspace.
    let (status, answer, _) = send(
        &server,
        "POST /search",
        &[
            ("Host", "rebind.example"),
            ("Content-Type", "application/json"),
            ("Origin", "https://pro.openbb.co"),
        ],
        r#"{"prompt": "margin"}"#,
    );
    assert_eq!(status, 421, "{answer}");
    assert!(
        answer.contains("Access-Control-Allow-Origin: https://pro.openbb.co"),
        "{answer}"
    );
    let (status, answer, _) = send(
        &server,
        "GET /ws/anything",
        &[
            ("Host", "rebind.example"),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ],
        "",
    );
    assert_eq!(status, 421, "{answer}");
}

#[test]
fn allowed_hosts_are_served_and_pdf_links_only_name_them() {
    let fixture = desk();
    let mut config = test_config(&fixture.root);
    config.api_key = Some("k3y".into());
    config.allowed_hosts = vec!["files.example.com".into()];
    let server = TestServer::start_with(fixture, config);
    let key = [("X-API-KEY", "k3y")];
    let url_for = |host: &str| {
        let headers = [key[0], ("Host", host)];
        send(&server, "GET /filing_url", &headers, "")
    };
    let (status, _, body) = url_for("files.example.com");
    assert_eq!(status, 200, "{body}");
    let url = serde_json::from_str::<Value>(&body).unwrap()["url"].clone();
    assert_eq!(
        url,
        "http://files.example.com/files/filings/a.pdf?api_key=k3y"
    );
    // Before: `Host: evil.example` got `http://evil.example/files/...?api_key=k3y`.
    let (status, answer, body) = url_for("evil.example");
    assert_eq!(status, 421, "{answer}");
    assert!(!body.contains("k3y") && !body.contains("url"), "{body}");
}

#[test]
fn posts_need_a_json_content_type() {
    let server = TestServer::start(desk());
    let body = r#"{"prompt": "margin"}"#;
    for content_type in [
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/jsonp"),
        None,
    ] {
        let mut headers = vec![("Host", "localhost")];
        headers.extend(content_type.map(|t| ("Content-Type", t)));
        for path in ["POST /search", "POST /filings"] {
            let (status, answer, body) = send(&server, path, &headers, body);
            assert_eq!(status, 415, "{path} {content_type:?}: {answer}");
            assert!(body.contains("application/json"), "{body}");
        }
    }
    for content_type in ["application/json", "Application/JSON; charset=utf-8"] {
        let headers = [("Host", "localhost"), ("Content-Type", content_type)];
        let (status, answer, _) = send(&server, "POST /search", &headers, body);
        assert_eq!(status, 200, "{content_type}: {answer}");
    }
}

#[test]
fn no_selection_and_no_prompt_answer_empty() {
    let server = TestServer::start(desk());
    for body in [
        r#"{"filenames": []}"#,
        r#"{"filenames": null}"#,
        "{}",
        r#"{"filenames": ""}"#,
    ] {
        let reply = server.post("/filings", body);
        assert_eq!((reply.status, reply.json()), (200, json!([])), "{body}");
    }
    for body in [
        r#"{"prompt": null}"#,
        r#"{"prompt": ""}"#,
        "{}",
        r#"{"prompt": "  "}"#,
    ] {
        let reply = server.post("/search", body);
        assert_eq!(reply.status, 200, "{body}: {reply:?}");
        assert_eq!(
            reply.json(),
            json!({"content": [], "data_format": {"data_type": "object", "parse_as": "table"},
                   "citable": true, "extra_citations": []})
        );
    }
    let text = server.post("/search", r#"{"prompt": null, "type": "text"}"#);
    assert_eq!(text.json()["content"], "");
}

#[test]
fn a_file_named_many_times_is_answered_once() {
    // 5 MB, as in the issue: 1,000 names of it made a 6.7 GB answer.
    let fixture = desk();
    let big = format!("{PDF_HEAD}{}\n%%EOF\n", "x".repeat(5 << 20));
    fixture.write("data/filings/big.pdf", &big);
    let server = TestServer::start(fixture);
    let names = vec!["big.pdf"; 1000];
    let started = Instant::now();
    let reply = server.post("/filings", &json!({ "filenames": names }).to_string());
    assert_fast(
        started,
        Duration::from_secs(8),
        "1,000 names of a 5 MB file",
    );
    assert_eq!(
        reply.status,
        200,
        "{}",
        &reply.body[..200.min(reply.body.len())]
    );
    let entries = reply.json();
    assert_eq!(entries.as_array().unwrap().len(), 1);
    assert_eq!(entries[0]["data_format"]["filename"], "big.pdf");
    // 800,000 names of one small PDF (a 16 MiB body before; 3 GB of memory).
    let names = vec!["a.pdf"; 800_000];
    let started = Instant::now();
    let reply = server.post("/filings", &json!({ "filenames": names }).to_string());
    assert_fast(started, Duration::from_secs(8), "800,000 names");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json().as_array().unwrap().len(), 1);
}

#[test]
fn multi_file_answers_are_capped_in_names_and_bytes() {
    let fixture = desk();
    for name in ["c", "d"] {
        let pdf = format!("{PDF_HEAD}{}\n%%EOF\n", name.repeat(600 * 1024));
        fixture.write(&format!("data/filings/{name}.pdf"), pdf);
    }
    let mut config = test_config(&fixture.root);
    config.max_viewer_bytes = 1024 * 1024;
    let server = TestServer::start_with(fixture, config);
    let one = server.post("/filings", r#"{"filenames": ["c.pdf", "a.pdf"]}"#);
    assert_eq!(one.status, 200, "{}", one.body.len());
    let both = server.post("/filings", r#"{"filenames": ["c.pdf", "d.pdf"]}"#);
    assert_eq!(both.status, 413);
    let detail = both.detail();
    assert!(
        detail.contains("1048576") && detail.contains("--max-viewer-bytes"),
        "{detail}"
    );
    let many: Vec<String> = (0..=100).map(|i| format!("n{i}.pdf")).collect();
    let reply = server.post("/filings", &json!({ "filenames": many }).to_string());
    assert_eq!(reply.status, 413);
    assert!(reply.detail().contains("at most 100"), "{}", reply.detail());
    assert_eq!(server.get("/prices").status, 200);
}

#[test]
fn omni_prompts_are_capped_and_long_lines_are_cut_where_they_match() {
    let fixture = desk();
    // One 20 MB line (the issue's was 200 MB: 3.2 GB to cut its snippet), matching at the end.
    let line = format!("{} needle at the end", "word ".repeat(4 << 20));
    fixture.write("data/notes/huge.txt", &line);
    let server = TestServer::start(fixture);
    let started = Instant::now();
    let reply = server.post("/search", r#"{"prompt": "NEEDLE end"}"#);
    assert_fast(
        started,
        Duration::from_secs(8),
        "a search through a 20 MB line",
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    let hits = reply.json()["content"].clone();
    assert_eq!(hits.as_array().unwrap().len(), 1, "{hits}");
    let snippet = hits[0]["snippet"].as_str().unwrap();
    assert!(
        snippet.len() < 400 && snippet.ends_with("needle at the end"),
        "{snippet}"
    );

    // 500,000 words: seconds of CPU per matching line before; refused at once now.
    let started = Instant::now();
    let prompt = "margin ".repeat(250_000) + &"w ".repeat(250_000);
    let reply = server.post("/search", &json!({ "prompt": prompt }).to_string());
    assert_fast(started, Duration::from_secs(3), "a 500,000-word prompt");
    assert_eq!(reply.status, 400);
    assert!(
        reply.detail().contains("at most 1024 bytes"),
        "{}",
        reply.detail()
    );
    let words: Vec<String> = (0..33).map(|i| format!("w{i}")).collect();
    let reply = server.post("/search", &json!({ "prompt": words.join(" ") }).to_string());
    assert_eq!(reply.status, 400);
    assert!(reply.detail().contains("at most 32"), "{}", reply.detail());
    let reply = server.post("/search", r#"{"prompt": "margin margin margin"}"#);
    assert_eq!(reply.json()["content"].as_array().unwrap().len(), 2);
}

/// `ln -s . data/loopN`: two such links listed every file 511 times, three never finished.
#[cfg(unix)]
#[test]
fn link_loops_list_each_file_once() {
    for loops in [2, 3] {
        let fixture = Fixture::new();
        fixture
            .write("data/prices.csv", "ticker,close\nAAPL,1\n")
            .write("data/notes/brief.md", "# Brief\n\nmargin talk\n")
            .write(
                "widgets.json",
                r#"{"search": {"name": "S", "description": "d", "type": "omni", "endpoint": "search"}}"#,
            );
        for n in 1..=loops {
            std::os::unix::fs::symlink(".", fixture.path(&format!("data/loop{n}"))).unwrap();
        }
        let started = Instant::now();
        let server = TestServer::start(fixture);
        let hits = server.post("/search", r#"{"prompt": "margin"}"#).json()["content"].clone();
        assert_eq!(
            hits,
            json!([{"file": "notes/brief.md", "line": 3, "snippet": "margin talk"}])
        );
        // Without widgets.json the manifest is made from the listing.
        std::fs::remove_file(server.fixture.path("widgets.json")).unwrap();
        let widgets = server.get("/widgets.json").json();
        let mut ids: Vec<&String> = widgets.as_object().unwrap().keys().collect();
        ids.sort();
        assert_eq!(ids, ["notes_brief_md", "prices_csv"], "{loops} loops");
        assert_fast(started, Duration::from_secs(5), "start and list");
    }
}

/// A 100,000-column CSV: each `GET /` took 25 s of CPU (column names made unique, and the
/// columns a widget names looked up, by scanning lists). Now `/` is quick, and after the first
/// one it checks only that nothing changed.
#[test]
fn a_very_wide_file_keeps_the_index_fast() {
    let fixture = Fixture::new();
    let header: Vec<String> = (0..100_000).map(|i| format!("c{i}")).collect();
    let row: Vec<String> = (0..100_000).map(|i| i.to_string()).collect();
    let defs: Vec<Value> = header
        .iter()
        .map(|c| json!({"field": c, "headerName": c}))
        .collect();
    let widgets = json!({"wide": {"name": "Wide", "description": "d", "endpoint": "wide",
                                  "data": {"table": {"columnsDefs": defs}}}});
    fixture
        .write(
            "data/wide.csv",
            format!("{}\n{}\n", header.join(","), row.join(",")),
        )
        .write("widgets.json", widgets.to_string());
    let server = TestServer::start(fixture);
    for _ in 0..3 {
        let started = Instant::now();
        let reply = server.get("/");
        assert_fast(started, Duration::from_secs(3), "GET /");
        assert_eq!(reply.json()["problems"], json!([]));
    }
    let started = Instant::now();
    for _ in 0..20 {
        server.get("/");
    }
    assert_fast(
        started,
        Duration::from_secs(2),
        "20 more GET / (no data read)",
    );
    // The data are checked again once they change.
    let narrower = format!("{}\n{}\n", header[1..].join(","), row[1..].join(","));
    std::fs::write(server.fixture.path("data/wide.csv"), narrower).unwrap();
    let problems = server.get("/").json()["problems"].clone();
    assert_eq!(problems.as_array().unwrap().len(), 1, "{problems}");
    let problem = problems[0].as_str().unwrap();
    assert!(
        problem.contains("column 'c0' is not in data/wide.csv (c1, c2,") && problem.len() < 300,
        "{problem}"
    );
}
