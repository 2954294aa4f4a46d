//! Answers finished in one place (`finish.rs`), over real sockets: the `Connection` an answer
//! is finished with is what the connection does next, and HTTP/1.0 keep-alive is said.

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;

use openbb_files::http::{Body, Request, Response};

use crate::limits::read_answer;
use crate::support::{TIMEOUT, TestServer};

/// Answers `/last` with `Connection: close` (as a handler ending a connection would), and
/// anything else plainly.
struct Closing;

impl openbb_files::Handler for Closing {
    fn handle(&self, request: &Request) -> Response {
        let path = request.path.clone().into_bytes();
        let response = Response::new(200, "text/plain", Body::Owned(path));
        match request.path.as_str() {
            "/last" => response.with_header("Connection", "close"),
            _ => response,
        }
    }
}

fn connect(server: &TestServer) -> (TcpStream, BufReader<TcpStream>) {
    let stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let reader = BufReader::new(stream.try_clone().unwrap());
    (stream, reader)
}

/// What is left on the connection after the answers read: `Ok` with the bytes (none
/// expected) when the server closed it within the test's bound.
fn rest_until_closed(reader: &mut BufReader<TcpStream>) -> std::io::Result<Vec<u8>> {
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).map(|_| rest)
}

#[test]
fn an_answer_finished_with_connection_close_ends_its_keep_alive_connection() {
    let server = TestServer::start_handler(Closing);
    let (mut stream, mut reader) = connect(&server);
    stream
        .write_all(b"GET /more HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let more = read_answer(&mut reader);
    assert_eq!((more.status, more.header("connection")), (200, None));
    // the connection goes on, until an answer says otherwise
    stream
        .write_all(b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
        .unwrap();
    let last = read_answer(&mut reader);
    assert_eq!(last.body, "/last");
    assert_eq!(last.header("connection"), Some("close"));
    // a request sent after it is not read: the server closes after the answer (EOF; the
    // unread request may turn the close into a reset, which is a close too)
    let _ = stream.write_all(b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n");
    match rest_until_closed(&mut reader) {
        Ok(rest) => assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest)),
        Err(err) => assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}"),
    }
}

#[test]
fn http_1_0_connections_close_unless_kept_alive_and_say_which() {
    let server = TestServer::start_handler(Closing);
    let (mut stream, mut reader) = connect(&server);
    for path in ["/one", "/two"] {
        let request = format!("GET {path} HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        let answer = read_answer(&mut reader);
        assert_eq!(answer.body, path);
        assert_eq!(answer.header("connection"), Some("keep-alive"));
    }
    stream.write_all(b"GET /three HTTP/1.0\r\n\r\n").unwrap();
    let answer = read_answer(&mut reader);
    assert_eq!(answer.header("connection"), Some("close"));
    assert_eq!(rest_until_closed(&mut reader).unwrap(), b"");
}

#[test]
fn every_answer_carries_date_server_and_request_id() {
    let server = TestServer::start_handler(Closing);
    let (mut stream, mut reader) = connect(&server);
    stream
        .write_all(b"GET /x HTTP/1.1\r\nHost: x\r\nX-Request-Id: edge-42\r\n\r\n")
        .unwrap();
    let answer = read_answer(&mut reader);
    assert_eq!(answer.header("x-request-id"), Some("edge-42"));
    assert_eq!(answer.header("server"), Some("openbb-files"));
    assert!(answer.header("date").is_some(), "{answer:?}");
    // a stand-in handler has no CORS rules
    assert!(!answer.has_cors(), "{answer:?}");
}
