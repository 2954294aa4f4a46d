//! Slow and idle clients over real sockets: hundreds of idle or trickling connections do not
//! keep a normal client waiting and are closed after the idle timeout, a client that stops
//! reading a large answer does not hold a worker, four times as many slow-body and unread
//! pipelining connections as workers do not either, a body that misses its deadline is
//! answered 408, and workers busy on slow requests (one per core, the most that are woken at
//! once) do not hold back the next request.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use openbb_files::http::{Body, Request, Response};

use crate::process::start_with_fd_limit;
use crate::support::{TestServer, prices_fixture};

/// Reads until the server closes `stream`; `Err` with what was read when it is still open
/// at `deadline`.
fn wait_closed(stream: &mut TcpStream, deadline: Instant) -> Result<Vec<u8>, Vec<u8>> {
    let mut seen = Vec::new();
    let mut buf = [0; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(seen);
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return Ok(seen),
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            // A reset closes the connection too.
            Err(_) => return Ok(seen),
        }
    }
}

#[test]
fn five_hundred_idle_and_slowloris_connections_neither_block_nor_linger() {
    let fixture = prices_fixture();
    // 500 connections cost the server about 1,000 descriptors.
    let server = start_with_fd_limit(&fixture, 4096, "--idle-timeout-secs 2 --threads 4");
    let addr = ("127.0.0.1", server.port);
    let mut idle = Vec::new();
    let mut slow = Vec::new();
    for n in 0..250 {
        idle.push(TcpStream::connect(addr).unwrap());
        let mut trickling = TcpStream::connect(addr).unwrap();
        trickling
            .write_all(format!("GET /prices?n={n} HTTP/1.1\r\nHost: x\r\nX-Slow: ").as_bytes())
            .unwrap();
        slow.push(trickling);
    }
    let opened = Instant::now();
    // Keep the slow ones trickling (one byte each every 200 ms) while a normal client asks.
    let mut slowest = Duration::ZERO;
    for _ in 0..5 {
        let started = Instant::now();
        assert_eq!(server.get("/prices"), 200);
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(1),
            "a normal request took {took:?}"
        );
        slowest = slowest.max(took);
        for stream in &mut slow {
            let _ = stream.write_all(b"z");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // The head of a request may take at most the idle timeout (2 s) from its first byte, and
    // an idle connection is closed after 2 s: all are gone well within 10 s.
    let deadline = opened + Duration::from_secs(10);
    for (n, stream) in idle.iter_mut().enumerate() {
        let seen = wait_closed(stream, deadline)
            .unwrap_or_else(|_| panic!("idle connection {n} still open after 10 s"));
        assert!(seen.is_empty(), "an idle connection got {seen:?}");
    }
    let mut timed_out = 0;
    for (n, stream) in slow.iter_mut().enumerate() {
        let seen = wait_closed(stream, deadline)
            .unwrap_or_else(|_| panic!("slow connection {n} still open after 10 s"));
        timed_out += usize::from(seen.starts_with(b"HTTP/1.1 408 "));
    }
    assert!(timed_out > 0, "no slow connection was answered 408");
    eprintln!(
        "500 idle/slow connections: slowest normal request {slowest:?}; all closed {:?} after \
         opening ({timed_out} of 250 slow ones answered 408)",
        opened.elapsed()
    );
    assert_eq!(server.get("/prices"), 200);
    assert_eq!(server.terminate().0, Some(0));
}

/// Answers every request with 64 MiB, far more than the socket buffers hold.
struct Large;

impl openbb_files::Handler for Large {
    fn handle(&self, request: &Request) -> Response {
        match request.path.as_str() {
            "/large" => Response::new(
                200,
                "application/octet-stream",
                Body::Owned(vec![b'x'; 64 * 1024 * 1024]),
            ),
            _ => Response::error(404, "no such thing"),
        }
    }
}

#[test]
fn a_client_that_stops_reading_does_not_hold_the_only_worker() {
    let server = TestServer::start_handler_with(Large, |config| {
        config.threads = 1;
        config.idle_timeout = Duration::from_secs(1);
    });
    let mut stalled = TcpStream::connect(server.addr).unwrap();
    stalled
        .write_all(b"GET /large HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // Let the worker fill the socket buffers and block on the write.
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(server.get("/small").status, 404);
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(4),
        "the next request took {took:?}"
    );
    eprintln!(
        "with the only worker stalled on a client that does not read: next answer in {took:?}"
    );
    drop(stalled);
}

/// Answers `/slow` after 3 s (a stand-in for a first load of a big file), anything else at once.
struct SlowPath;

impl openbb_files::Handler for SlowPath {
    fn handle(&self, request: &Request) -> Response {
        if request.path == "/slow" {
            std::thread::sleep(Duration::from_secs(3));
        }
        Response::new(200, "text/plain", Body::Owned(b"ok".to_vec()))
    }
}

#[test]
fn workers_busy_on_slow_requests_do_not_hold_back_the_next_one() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let server = TestServer::start_handler_with(SlowPath, |config| config.threads = cores + 2);
    // One slow request per core: that many running workers is the most a request wakes.
    let slow: Vec<TcpStream> = (0..cores)
        .map(|_| {
            let mut stream = TcpStream::connect(server.addr).unwrap();
            stream
                .write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500)); // every slow request is being answered
    let started = Instant::now();
    assert_eq!(server.get("/fast").status, 200);
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "the next request waited {took:?} for a worker busy on a slow one"
    );
    eprintln!("with {cores} workers busy on slow requests: next answer in {took:?}");
    drop(slow);
}

/// Answers `/large` with 1 MiB and anything else with a few bytes.
struct Sized;

impl openbb_files::Handler for Sized {
    fn handle(&self, request: &Request) -> Response {
        let size = match request.path.as_str() {
            "/large" => 1024 * 1024,
            _ => 2,
        };
        Response::new(200, "text/plain", Body::Owned(vec![b'x'; size]))
    }
}

#[test]
fn slow_bodies_and_unread_pipelines_four_times_the_workers_leave_room_for_others() {
    // The default idle timeout (30 s): no per-read timeout frees anything within the test.
    let server = TestServer::start_handler_with(Sized, |config| config.threads = 4);
    let connect = || {
        let stream = TcpStream::connect(server.addr).unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream
    };
    // 16 connections announcing a 100,000-byte body and sending it a byte at a time.
    let mut slow_bodies: Vec<TcpStream> = (0..16)
        .map(|_| {
            let mut stream = connect();
            stream
                .write_all(b"POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{")
                .unwrap();
            stream
        })
        .collect();
    // 16 connections pipelining 300 requests for 1 MiB each and reading nothing.
    let pipelined = "GET /large HTTP/1.1\r\nHost: x\r\n\r\n".repeat(300);
    let unread: Vec<TcpStream> = (0..16)
        .map(|_| {
            let mut stream = connect();
            stream.write_all(pipelined.as_bytes()).unwrap();
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500)); // every worker that can be taken is
    let mut slowest = Duration::ZERO;
    for _ in 0..5 {
        let started = Instant::now();
        assert_eq!(server.get("/small").status, 200);
        slowest = slowest.max(started.elapsed());
        for stream in &mut slow_bodies {
            let _ = stream.write_all(b" ");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        slowest < Duration::from_secs(1),
        "a normal request took {slowest:?}"
    );
    eprintln!(
        "16 slow-body and 16 unread pipelining connections on 4 workers: slowest normal answer \
         {slowest:?}"
    );
    drop((slow_bodies, unread));
}

#[test]
fn a_body_that_misses_its_deadline_is_answered_408() {
    // A 4,096-byte body at 1,024 bytes a second at least: due within 1 + 4 s.
    let server = TestServer::start_handler_with(Sized, |config| {
        config.idle_timeout = Duration::from_secs(1);
        config.min_bytes_per_sec = 1024;
    });
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .write_all(b"POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n")
        .unwrap();
    // A byte every 300 ms: each read succeeds well within the 1 s idle timeout.
    let started = Instant::now();
    let answer = loop {
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "no 408 after 8 s"
        );
        let _ = stream.write_all(b"x");
        std::thread::sleep(Duration::from_millis(300));
        let mut seen = [0; 64];
        stream.set_nonblocking(true).unwrap();
        let read = stream.read(&mut seen);
        stream.set_nonblocking(false).unwrap();
        if let Ok(n) = read
            && n > 0
        {
            break String::from_utf8_lossy(&seen[..n]).into_owned();
        }
    };
    let took = started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(
        took > Duration::from_secs(4) && took < Duration::from_secs(7),
        "408 after {took:?}"
    );
    eprintln!("a 4,096-byte body at a byte per 300 ms: 408 after {took:?}");
}
