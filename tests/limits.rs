//! Hostile request heads and bodies over real sockets: every one gets a JSON `{"detail"}` answer
//! with the right status (never a dropped connection), framing is strict (RFC 9112 section 6:
//! nothing after a refused request is read as the next one), and the server keeps serving.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::support::{Reply, TIMEOUT, TestServer, prices_fixture, test_config};

/// A server over the prices fixture with small bounds, so tests stay quick.
fn limited(max_header_bytes: usize, max_body_bytes: u64) -> TestServer {
    let fixture = prices_fixture();
    let config = openbb_files::Config {
        max_header_bytes,
        max_body_bytes,
        idle_timeout: Duration::from_secs(5),
        ..test_config(&fixture.root)
    };
    TestServer::start_with(fixture, config)
}

/// One answer read off the wire by its Content-Length (not by waiting for the close), with
/// header names lower-cased.
pub(crate) fn read_answer(reader: &mut impl BufRead) -> Reply {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let read = reader.read_line(&mut line).unwrap_or_else(|err| {
            panic!("reading the answer failed ({err}); head so far: {head:?}")
        });
        assert!(
            read > 0,
            "connection closed without an answer; head: {head:?}"
        );
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    let mut answer = Reply {
        status,
        headers,
        body: String::new(),
    };
    let length = answer
        .header("content-length")
        .map_or(0, |v| v.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    answer.body = String::from_utf8_lossy(&body).into_owned();
    answer
}

/// Sends `bytes` from a second thread (a server that refuses early may stop reading, which is
/// fine) while reading the answer on this one.
fn exchange(addr: SocketAddr, bytes: Vec<u8>) -> Reply {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(&bytes);
    });
    let answer = read_answer(&mut BufReader::new(stream));
    sender.join().unwrap();
    answer
}

fn assert_still_serves(server: &TestServer) {
    assert_eq!(server.get("/prices").status, 200);
}

#[test]
fn a_request_line_over_the_bound_gets_414() {
    let server = limited(4096, 1024);
    let long = format!(
        "GET /prices?q={} HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "a".repeat(5000)
    );
    let answer = exchange(server.addr, long.into_bytes());
    assert_eq!(answer.status, 414, "{answer:?}");
    assert!(answer.detail().contains("request line"), "{}", answer.body);
    assert_eq!(answer.header("connection"), Some("close"), "{answer:?}");
    assert_still_serves(&server);
}

/// Sends an endless request line (`GET /aaa...`) in pieces of `piece` bytes, `pause` apart,
/// until the answer comes; the answer, how long it took, and the bytes sent until then.
fn endless_request_line(
    addr: SocketAddr,
    piece: usize,
    pause: Duration,
) -> (Reply, Duration, usize) {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let sent = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicBool::new(false));
    let sender = {
        let (sent, answered) = (Arc::clone(&sent), Arc::clone(&answered));
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut bytes = b"GET /".to_vec();
            bytes.resize(piece, b'a');
            while !answered.load(Ordering::SeqCst) && started.elapsed() < TIMEOUT {
                if writer.write_all(&bytes).is_err() {
                    return;
                }
                sent.fetch_add(bytes.len(), Ordering::SeqCst);
                bytes.fill(b'a');
                std::thread::sleep(pause);
            }
        })
    };
    let started = Instant::now();
    let answer = read_answer(&mut BufReader::new(stream));
    let took = started.elapsed();
    let sent_until_answer = sent.load(Ordering::SeqCst);
    answered.store(true, Ordering::SeqCst);
    sender.join().unwrap();
    (answer, took, sent_until_answer)
}

#[test]
fn an_endless_request_line_gets_its_414_within_a_bound_of_bytes_and_of_time() {
    // At full speed the bound of bytes ends it (1 MiB past the header bound), long before the
    // 5 s deadline; the bytes counted include what the sockets' buffers hold.
    let server = limited(4096, 1024);
    let (answer, took, sent) = endless_request_line(server.addr, 64 * 1024, Duration::ZERO);
    println!("at full speed: 414 after {took:?} and {sent} bytes sent");
    assert_eq!(answer.status, 414, "{answer:?}");
    assert!(answer.detail().contains("request line"), "{}", answer.body);
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(sent < 32 << 20, "{sent} bytes sent before the answer");
    drop(server);

    // Slowly (20 KiB/s, the byte bound in 50 s), the head's deadline ends it: 1 s here.
    let fixture = prices_fixture();
    let config = openbb_files::Config {
        max_header_bytes: 4096,
        idle_timeout: Duration::from_secs(1),
        ..test_config(&fixture.root)
    };
    let server = TestServer::start_with(fixture, config);
    let (answer, took, sent) = endless_request_line(server.addr, 1024, Duration::from_millis(50));
    println!("at 20 KiB/s: 414 after {took:?} and {sent} bytes sent");
    assert_eq!(answer.status, 414, "{answer:?}");
    assert_eq!(answer.header("connection"), Some("close"), "{answer:?}");
    assert!(took < Duration::from_millis(2500), "{took:?}");
    assert_still_serves(&server);
}

#[test]
fn headers_over_the_bound_get_431_even_a_4_mib_line() {
    let server = limited(4096, 1024);
    for header in [
        format!("X-Big: {}\r\n", "b".repeat(4 * 1024 * 1024)),
        format!("X-A: {}\r\nX-B: {}\r\n", "a".repeat(2500), "b".repeat(2500)),
    ] {
        let request = format!("GET /prices HTTP/1.1\r\nHost: localhost\r\n{header}\r\n");
        let started = Instant::now();
        let answer = exchange(server.addr, request.into_bytes());
        assert_eq!(answer.status, 431, "{answer:?}");
        assert!(answer.detail().contains("headers"), "{}", answer.body);
        assert!(started.elapsed() < Duration::from_secs(5));
    }
    assert_still_serves(&server);
}

#[test]
fn the_header_bound_is_configurable() {
    let small = limited(1024, 1024);
    let large = limited(64 * 1024, 1024);
    let request = format!(
        "GET /prices HTTP/1.1\r\nHost: localhost\r\nX-Pad: {}\r\nConnection: close\r\n\r\n",
        "p".repeat(2000)
    );
    assert_eq!(
        exchange(small.addr, request.clone().into_bytes()).status,
        431
    );
    assert_eq!(exchange(large.addr, request.into_bytes()).status, 200);
}

#[test]
fn a_non_ascii_header_or_request_line_gets_400_not_a_dropped_connection() {
    let server = limited(16 * 1024, 1024);
    for request in [
        "GET /prices HTTP/1.1\r\nHost: localhost\r\nX-Name: Zoë\r\n\r\n",
        "GET /prices/é HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET /prices HTTP/1.1\r\nHost: localhost\r\nNo colon here\r\n\r\n",
        "NOT HTTP AT ALL\r\n\r\n",
    ] {
        let answer = exchange(server.addr, request.as_bytes().to_vec());
        assert_eq!(answer.status, 400, "{request:?}: {}", answer.body);
        assert!(!answer.detail().is_empty());
    }
    assert_still_serves(&server);
}

#[test]
fn a_declared_body_over_the_bound_gets_413_before_it_is_sent() {
    let server = limited(16 * 1024, 1000);
    // With Expect: 100-continue the client waits: the 413 must come without the body.
    let request = "POST /prices HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
                   Content-Length: 5000\r\nExpect: 100-continue\r\n\r\n";
    let answer = exchange(server.addr, request.as_bytes().to_vec());
    assert_eq!(answer.status, 413, "{}", answer.body);
    assert!(answer.detail().contains("1000 bytes"), "{}", answer.body);
    // A length no machine could hold is refused the same way, without allocating it.
    let huge =
        "POST /prices HTTP/1.1\r\nHost: localhost\r\nContent-Length: 18446744073709551615\r\n\r\n";
    assert_eq!(exchange(server.addr, huge.as_bytes().to_vec()).status, 413);
    let bogus = "POST /prices HTTP/1.1\r\nHost: localhost\r\nContent-Length: lots\r\n\r\n";
    assert_eq!(exchange(server.addr, bogus.as_bytes().to_vec()).status, 400);
    assert_still_serves(&server);
}

#[test]
fn a_chunked_body_over_the_bound_gets_413_and_one_under_it_is_read() {
    let server = limited(16 * 1024, 1000);
    let chunked = |size: usize| {
        let mut request =
            b"POST /prices HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\
                            Content-Type: application/json\r\n\r\n"
                .to_vec();
        request.extend_from_slice(format!("{size:x}\r\n").as_bytes());
        request.extend(std::iter::repeat_n(b' ', size));
        request.extend_from_slice(b"\r\n0\r\n\r\n");
        request
    };
    let over = exchange(server.addr, chunked(3000));
    assert_eq!(over.status, 413, "{}", over.body);
    assert!(over.detail().contains("1000 bytes"), "{}", over.body);
    assert_eq!(over.header("connection"), Some("close"), "{over:?}");
    // Under the bound the body reaches the handler (which refuses POST on a table: not 413).
    let under = exchange(server.addr, chunked(500));
    assert_ne!(under.status, 413, "{}", under.body);
    assert_still_serves(&server);
}

#[test]
fn the_connection_is_closed_after_a_refusal() {
    let server = limited(1024, 1024);
    let stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut writer = stream.try_clone().unwrap();
    writer
        .write_all(format!("GET /{} HTTP/1.1\r\n\r\n", "x".repeat(2000)).as_bytes())
        .unwrap();
    let mut reader = BufReader::new(stream);
    assert_eq!(read_answer(&mut reader).status, 414);
    let started = Instant::now();
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// Sends `request` on a new connection and reads until the server closes it (at most 5 s).
fn until_closed(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let started = Instant::now();
    let _ = stream.read_to_end(&mut answer);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the connection was not closed: {}",
        String::from_utf8_lossy(&answer)
    );
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn ambiguous_or_unsupported_framing_is_refused_and_closes_the_connection() {
    let server = limited(16 * 1024, 1024);
    // Were the body framed otherwise than the refusal says, the GET behind it would be answered
    // as a second request on the connection.
    let smuggled = "GET /prices HTTP/1.1\r\nHost: localhost\r\n\r\n";
    for (framing, status) in [
        ("Content-Length: 5\r\nTransfer-Encoding: chunked", 400),
        ("Transfer-Encoding: chunked\r\nContent-Length: 5", 400),
        ("Content-Length: 5\r\nContent-Length: 6", 400),
        ("Content-Length: 1,2", 400),
        ("Content-Length: +5", 400),
        ("Content-Length: -5", 400),
        ("Content-Length: 0x5", 400),
        ("Content-Length: 5 5", 400),
        ("Content-Length:", 400),
        ("Transfer-Encoding: gzip", 501),
        ("Transfer-Encoding: gzip, chunked", 501),
        (
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
            501,
        ),
        ("Transfer-Encoding: identity", 501),
    ] {
        let request = format!(
            "POST /prices HTTP/1.1\r\nHost: localhost\r\n{framing}\r\n\r\n0\r\n\r\n{smuggled}"
        );
        let answer = until_closed(server.addr, request.as_bytes());
        assert_eq!(
            answer.matches("HTTP/1.1 ").count(),
            1,
            "{framing:?}: {answer}"
        );
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status} ")),
            "{framing:?}: {answer}"
        );
        assert!(answer.contains("Connection: close\r\n"), "{answer}");
        assert!(answer.contains(r#"{"detail":""#), "{answer}");
    }
    // One length said twice, the same, is one length (RFC 9112 section 6.3).
    for framing in [
        "Content-Length: 2\r\nContent-Length: 2",
        "Content-Length: 2, 02",
    ] {
        let request = format!(
            "POST /prices HTTP/1.1\r\nHost: localhost\r\n{framing}\r\nConnection: close\r\n\r\n{{}}"
        );
        let answer = until_closed(server.addr, request.as_bytes());
        assert!(answer.starts_with("HTTP/1.1 405 "), "{framing:?}: {answer}");
    }
    assert_still_serves(&server);
}

#[test]
fn the_rest_of_a_refused_body_is_never_read_as_a_request() {
    let server = limited(16 * 1024, 1000);
    let smuggled = "GET /prices HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let mut chunked =
        b"POST /prices HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n\
                        bb8\r\n"
            .to_vec();
    chunked.extend(std::iter::repeat_n(b' ', 3000));
    chunked.extend_from_slice(format!("\r\n0\r\n\r\n{smuggled}").as_bytes());
    let mut declared =
        b"POST /prices HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3000\r\n\r\n".to_vec();
    declared.extend_from_slice(smuggled.repeat(100).as_bytes());
    for request in [chunked, declared] {
        let answer = until_closed(server.addr, &request);
        assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
        assert_eq!(answer.matches("HTTP/1.1 ").count(), 1, "{answer}");
    }
    assert_still_serves(&server);
}
