//! live_grid: rows over GET, and changed rows pushed over a real WebSocket (tungstenite as the
//! client) when the file changes, filtered by the client's params. Every read is bounded by a
//! socket timeout, so a server that hangs fails the test.

use std::fs;
use std::io::ErrorKind;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Error, Message, WebSocket};

use openbb_files::live::Limits;

use crate::support::{Fixture, TIMEOUT, TestServer, test_config};

pub(crate) type Socket = WebSocket<TcpStream>;

const WIDGETS: &str = r#"{
  "quotes": {"name": "Quotes", "description": "d", "type": "live_grid", "endpoint": "quotes",
             "wsEndpoint": "ws/quotes", "data": {"wsRowIdColumn": "symbol"},
             "params": [{"paramName": "symbol", "type": "text", "multiSelect": true,
                         "value": ["AAPL", "MSFT"]}]},
  "trades": {"name": "Trades", "description": "d", "type": "live_grid", "endpoint": "trades",
             "wsEndpoint": "ws/trades", "data": {"wsRowIdColumn": "id"},
             "backend": {"file": "trades.ndjson"}},
  "book": {"name": "Book", "description": "d", "type": "live_grid", "endpoint": "book",
           "wsEndpoint": "ws/book", "data": {"wsRowIdColumn": ["symbol", "venue"]}}
}"#;

fn limits() -> Limits {
    Limits {
        poll: Duration::from_millis(50),
        ping_every: Duration::from_millis(300),
        idle: Duration::from_secs(2),
        write_timeout: Duration::from_secs(1),
        queue: 64,
        queue_bytes: 1024 * 1024,
        subscribers: 3,
        per_address: 3,
    }
}

fn fixture() -> Fixture {
    let fixture = Fixture::new();
    fixture
        .write("widgets.json", WIDGETS)
        .write("data/quotes.csv", "symbol,price\nAAPL,1\nMSFT,2\nNVDA,3\n")
        .write("data/trades.ndjson", "{\"id\": 1, \"qty\": 10}\n")
        .write(
            "data/book.csv",
            "symbol,venue,price,status\nAAPL,X,1,open\nAAPL,Y,2,open\nMSFT,X,3,open\n\
             AAPL,X,4,closed\nMSFT,X,5,open\n",
        );
    fixture
}

fn server() -> TestServer {
    let fixture = fixture();
    let config = test_config(&fixture.root);
    TestServer::start_live(fixture, config, limits())
}

/// Opens the WebSocket at `target`, or returns the HTTP status that refused it.
fn try_connect(server: &TestServer, target: &str) -> Result<Socket, u16> {
    handshake(server, TcpStream::connect(server.addr).unwrap(), target)
}

/// A connection from the local address `from` (on Linux every 127.x.y.z reaches the server),
/// with a receive buffer of `receive_buffer` bytes when given: set before connecting, so the
/// kernel does not grow it, and a client that stops reading stalls the server's writes quickly.
fn tcp_from(server: &TestServer, from: [u8; 4], receive_buffer: Option<usize>) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    if let Some(bytes) = receive_buffer {
        socket.set_recv_buffer_size(bytes).unwrap();
    }
    let from = std::net::SocketAddr::from((from, 0));
    socket.bind(&from.into()).unwrap();
    socket.connect(&server.addr.into()).unwrap();
    socket.into()
}

/// The WebSocket handshake for `target` on `stream`, or the HTTP status that refused it.
fn handshake(server: &TestServer, stream: TcpStream, target: &str) -> Result<Socket, u16> {
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    match tungstenite::client::client(format!("ws://{}{target}", server.addr), stream) {
        Ok((socket, response)) => {
            assert_eq!(response.status(), 101);
            assert_eq!(response.headers()["server"], "openbb-files");
            Ok(socket)
        }
        Err(tungstenite::HandshakeError::Failure(Error::Http(response))) => {
            Err(response.status().as_u16())
        }
        Err(err) => panic!("handshake on {target} failed: {err}"),
    }
}

/// A client whose receive buffer is 4 KiB (see [`tcp_from`]).
fn connect_with_small_buffer(server: &TestServer, target: &str) -> Socket {
    let stream = tcp_from(server, [127, 0, 0, 1], Some(4096));
    handshake(server, stream, target).unwrap_or_else(|status| panic!("{target}: HTTP {status}"))
}

pub(crate) fn connect(server: &TestServer, target: &str) -> Socket {
    try_connect(server, target).unwrap_or_else(|status| panic!("{target}: HTTP {status}"))
}

/// Fails the test once `started` is [`TIMEOUT`] ago: the server's pings would otherwise keep
/// a loop waiting for something else going for ever.
fn within_time(started: Instant, waiting_for: &str) {
    assert!(
        started.elapsed() < TIMEOUT,
        "no {waiting_for} within {TIMEOUT:?}"
    );
}

/// The next row pushed, skipping pings (tungstenite answers them).
pub(crate) fn next_row(socket: &mut Socket) -> Value {
    let started = Instant::now();
    loop {
        within_time(started, "row");
        match socket.read() {
            Ok(Message::Text(text)) => return serde_json::from_str(&text).unwrap(),
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            other => panic!("expected a row, got {other:?}"),
        }
    }
}

/// Asserts that no row arrives within `wait`.
fn assert_quiet(socket: &mut Socket, wait: Duration) {
    socket.get_mut().set_read_timeout(Some(wait)).unwrap();
    let started = Instant::now();
    while started.elapsed() < wait {
        match socket.read() {
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Err(Error::Io(err))
                if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
            {
                break;
            }
            other => panic!("expected nothing, got {other:?}"),
        }
    }
    socket.get_mut().set_read_timeout(Some(TIMEOUT)).unwrap();
}

/// The close frame the server sends, after any rows or pings.
fn close_frame(socket: &mut Socket) -> CloseFrame {
    let started = Instant::now();
    loop {
        within_time(started, "close frame");
        match socket.read() {
            Ok(Message::Close(Some(frame))) => return frame,
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Text(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

fn send(socket: &mut Socket, text: &str) {
    socket.send(Message::text(text)).unwrap();
}

/// Replaces a data file at once (write, then rename), as an export job would.
pub(crate) fn replace(fixture: &Fixture, relative: &str, contents: impl AsRef<[u8]>) {
    let temporary = fixture.path(&format!("{relative}.tmp"));
    fs::write(&temporary, contents).unwrap();
    fs::rename(temporary, fixture.path(relative)).unwrap();
}

pub(crate) fn append(fixture: &Fixture, relative: &str, contents: &str) {
    use std::io::Write;
    let mut file = fs::OpenOptions::new()
        .append(true)
        .open(fixture.path(relative))
        .unwrap();
    file.write_all(contents.as_bytes()).unwrap();
}

/// Waits until the server counts `expected` open sockets.
fn wait_for_subscribers(server: &TestServer, expected: u64) {
    let started = Instant::now();
    loop {
        let open = server.get("/").json()["live_subscribers"].as_u64().unwrap();
        if open == expected {
            return;
        }
        assert!(
            started.elapsed() < TIMEOUT,
            "{open} sockets open, expected {expected}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn rows_come_over_get_like_a_table() {
    let server = server();
    assert_eq!(
        server.get("/quotes?symbol=AAPL,MSFT").json(),
        json!([{"symbol": "AAPL", "price": 1}, {"symbol": "MSFT", "price": 2}])
    );
    assert_eq!(server.get("/trades").json(), json!([{"id": 1, "qty": 10}]));
    let manifest = server.get("/widgets.json").json();
    assert_eq!(manifest["quotes"]["wsEndpoint"], "ws/quotes");
    assert!(manifest["quotes"].get("backend").is_none());
    let plain = server.get("/ws/quotes");
    assert_eq!(plain.status, 426);
    assert_eq!(plain.header("upgrade"), Some("websocket"));
    assert!(plain.detail().contains("WebSocket of widget 'quotes'"));
}

#[test]
fn appended_rows_arrive_and_filtered_ones_do_not() {
    let server = server();
    let fixture = &server.fixture;
    let mut socket = connect(&server, "/ws/quotes?symbol=AAPL,MSFT");
    wait_for_subscribers(&server, 1);

    // NVDA is not among the symbols asked for; the AAPL row behind it is.
    append(fixture, "data/quotes.csv", "NVDA,4\nAAPL,5\n");
    assert_eq!(next_row(&mut socket), json!({"symbol": "AAPL", "price": 5}));
    assert_quiet(&mut socket, Duration::from_millis(400));

    // New params as an array: only NVDA now. A rewrite changes AAPL and NVDA.
    send(&mut socket, r#"{"params": {"symbol": ["NVDA"]}}"#);
    std::thread::sleep(Duration::from_millis(200));
    replace(
        fixture,
        "data/quotes.csv",
        "symbol,price\nAAPL,6\nMSFT,2\nNVDA,8\n",
    );
    assert_eq!(next_row(&mut socket), json!({"symbol": "NVDA", "price": 8}));
    assert_quiet(&mut socket, Duration::from_millis(400));

    // As a comma string; unchanged rows (MSFT) are not sent again.
    send(&mut socket, r#"{"params": {"symbol": "msft,aapl"}}"#);
    std::thread::sleep(Duration::from_millis(200));
    replace(
        fixture,
        "data/quotes.csv",
        "symbol,price\nAAPL,7\nMSFT,2\nNVDA,9\n",
    );
    assert_eq!(next_row(&mut socket), json!({"symbol": "AAPL", "price": 7}));
    assert_quiet(&mut socket, Duration::from_millis(400));

    // An empty value filters nothing.
    send(&mut socket, r#"{"params": {"symbol": []}}"#);
    std::thread::sleep(Duration::from_millis(200));
    append(fixture, "data/quotes.csv", "TSLA,1\n");
    assert_eq!(next_row(&mut socket), json!({"symbol": "TSLA", "price": 1}));
}

#[test]
fn get_holds_each_keys_latest_row_as_the_socket_does() {
    let server = server();
    // Quotes appended to all day: one row per symbol, the latest, where it first appeared.
    append(
        &server.fixture,
        "data/quotes.csv",
        "AAPL,10\nNVDA,30\nAAPL,11\n",
    );
    assert_eq!(
        server.get("/quotes").json(),
        json!([{"symbol": "AAPL", "price": 11}, {"symbol": "MSFT", "price": 2},
               {"symbol": "NVDA", "price": 30}])
    );
    assert_eq!(
        server.get("/quotes?symbol=NVDA").json(),
        json!([{"symbol": "NVDA", "price": 30}])
    );
    // A composite key (symbol, venue): AAPL on X and on Y are two rows.
    let book = |query: &str| server.get(&format!("/book{query}")).json();
    assert_eq!(
        book(""),
        json!([{"symbol": "AAPL", "venue": "X", "price": 4, "status": "closed"},
               {"symbol": "AAPL", "venue": "Y", "price": 2, "status": "open"},
               {"symbol": "MSFT", "venue": "X", "price": 5, "status": "open"}])
    );
    // Filters read each key's latest row: AAPL on X was open once, and is closed now.
    assert_eq!(
        book("?status=open"),
        json!([{"symbol": "AAPL", "venue": "Y", "price": 2, "status": "open"},
               {"symbol": "MSFT", "venue": "X", "price": 5, "status": "open"}])
    );
    // The socket pushes the composite key's new row, and the GET then holds the same row.
    let mut socket = connect(&server, "/ws/book");
    wait_for_subscribers(&server, 1);
    append(
        &server.fixture,
        "data/book.csv",
        "AAPL,Y,6,open\nMSFT,Y,7,open\n",
    );
    let pushed = [next_row(&mut socket), next_row(&mut socket)];
    assert_eq!(
        pushed,
        [
            json!({"symbol": "AAPL", "venue": "Y", "price": 6, "status": "open"}),
            json!({"symbol": "MSFT", "venue": "Y", "price": 7, "status": "open"})
        ]
    );
    let rows = book("?status=open");
    assert_eq!(rows[0], pushed[0]);
    assert_eq!(rows.as_array().unwrap().len(), 3);
    assert_eq!(rows[2], pushed[1]);
    assert_quiet(&mut socket, Duration::from_millis(300));
}

#[test]
fn ndjson_files_push_their_lines() {
    let server = server();
    let mut socket = connect(&server, "/ws/trades");
    wait_for_subscribers(&server, 1);
    append(
        &server.fixture,
        "data/trades.ndjson",
        "{\"id\": 2, \"qty\": 5}\n",
    );
    assert_eq!(next_row(&mut socket), json!({"id": 2, "qty": 5}));
}

#[test]
fn pings_are_answered_and_sent_and_close_is_echoed() {
    let server = server();
    let mut socket = connect(&server, "/ws/quotes");
    socket
        .send(Message::Ping(b"are you there".to_vec().into()))
        .unwrap();
    let mut pong = false;
    let mut ping = false;
    let started = Instant::now();
    while !(pong && ping) {
        assert!(started.elapsed() < TIMEOUT, "pong {pong}, ping {ping}");
        match socket.read().unwrap() {
            Message::Pong(payload) => {
                assert_eq!(&payload[..], b"are you there");
                pong = true;
            }
            Message::Ping(_) => ping = true, // the server's keep-alive, every 300 ms here
            other => panic!("unexpected {other:?}"),
        }
    }
    wait_for_subscribers(&server, 1);
    socket.close(None).unwrap();
    let started = Instant::now();
    loop {
        within_time(started, "end of the connection");
        match socket.read() {
            Ok(Message::Close(frame)) => {
                assert_eq!(frame.map(|f| f.code), Some(CloseCode::Normal));
            }
            Ok(_) => {}
            Err(Error::ConnectionClosed) => break,
            Err(err) => panic!("after close: {err}"),
        }
    }
    wait_for_subscribers(&server, 0);
}

#[test]
fn stopping_the_server_closes_the_sockets() {
    let server = server();
    let mut socket = connect(&server, "/ws/quotes");
    wait_for_subscribers(&server, 1);
    assert_eq!(server.stop(), Ok(()));
    let frame = close_frame(&mut socket);
    assert_eq!(frame.code, CloseCode::Away);
    assert_eq!(frame.reason, "the server is stopping");
}

#[test]
fn bad_messages_get_a_close_frame_with_a_reason() {
    let server = server();
    let mut socket = connect(&server, "/ws/quotes");
    send(&mut socket, "symbol=AAPL");
    let frame = close_frame(&mut socket);
    assert_eq!(frame.code, CloseCode::Invalid);
    assert!(frame.reason.contains("{\"params\""), "{}", frame.reason);

    let mut socket = connect(&server, "/ws/quotes");
    socket.send(Message::binary(vec![1, 2, 3])).unwrap();
    let frame = close_frame(&mut socket);
    assert_eq!(frame.code, CloseCode::Unsupported);
    assert!(frame.reason.contains("binary"), "{}", frame.reason);
    wait_for_subscribers(&server, 0);
}

#[test]
fn a_client_that_stops_answering_is_closed() {
    let server = server();
    let silent = connect(&server, "/ws/quotes");
    wait_for_subscribers(&server, 1);
    // It never reads, so it never answers the pings: after `idle` (2 s) it is closed.
    let started = Instant::now();
    wait_for_subscribers(&server, 0);
    assert!(started.elapsed() >= Duration::from_millis(1500));
    drop(silent);
}

#[test]
fn handshakes_are_checked_before_the_upgrade() {
    let fixture = fixture();
    let mut config = test_config(&fixture.root);
    config.api_key = Some("k3y".into());
    let server = TestServer::start_live(fixture, config, limits());
    assert_eq!(try_connect(&server, "/ws/quotes").err(), Some(401));
    assert_eq!(
        try_connect(&server, "/ws/nothing?api_key=k3y").err(),
        Some(404)
    );
    let socket = connect(&server, "/ws/quotes?api_key=k3y&symbol=AAPL");
    wait_for_subscribers_with_key(&server, 1);
    drop(socket);

    // A page from an origin that may not read our answers may not open a socket either.
    let handshake = |origin: &str| {
        server.raw(
            format!(
                "GET /ws/quotes?api_key=k3y HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\n\
                 Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
                 Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: {origin}\r\n\r\n"
            )
            .as_bytes(),
        )
    };
    let refused = handshake("https://evil.example");
    assert!(refused.starts_with("HTTP/1.1 403"), "{refused}");
    assert!(refused.contains("\"detail\""), "{refused}");
    // A bad key is a 400 with a detail, not an upgrade.
    let bad_key = server.raw(
        b"GET /ws/quotes?api_key=k3y HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\n\
          Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n\r\n",
    );
    assert!(bad_key.starts_with("HTTP/1.1 400"), "{bad_key}");
    assert!(bad_key.contains("Sec-WebSocket-Key"), "{bad_key}");
}

fn wait_for_subscribers_with_key(server: &TestServer, expected: u64) {
    let started = Instant::now();
    while server.get("/?api_key=k3y").json()["live_subscribers"] != expected {
        assert!(started.elapsed() < TIMEOUT);
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn subscribers_are_bounded() {
    let server = server();
    let sockets: Vec<Socket> = (0..3).map(|_| connect(&server, "/ws/quotes")).collect();
    wait_for_subscribers(&server, 3);
    assert_eq!(try_connect(&server, "/ws/quotes").err(), Some(503));
    drop(sockets);
    wait_for_subscribers(&server, 0);
    connect(&server, "/ws/quotes");
}

#[test]
fn a_dead_client_does_not_block_another() {
    // Idle clients are closed only after 30 s here: the stuck one must go by its write timeout.
    let fixture = fixture();
    let config = test_config(&fixture.root);
    let idle = Duration::from_secs(30);
    let server = TestServer::start_live(fixture, config, Limits { idle, ..limits() });
    let fixture = &server.fixture;
    // `stuck` never reads: its socket buffers fill, a write to it times out (1 s) and it is
    // dropped. `live` must get every row meanwhile.
    let stuck = connect_with_small_buffer(&server, "/ws/quotes");
    let mut live = connect(&server, "/ws/quotes");
    wait_for_subscribers(&server, 2);
    let padding = "x".repeat(16 * 1024);
    // 8 MB: more than the server's send buffer (4 MB at most on Linux) and the stuck client's
    // 4 KiB receive buffer hold.
    let rows = 500;
    let mut contents = String::from("symbol,price,note\n");
    for i in 0..rows {
        contents.push_str(&format!("S{i},{i},{padding}\n"));
    }
    let started = Instant::now();
    replace(fixture, "data/quotes.csv", &contents);
    for i in 0..rows {
        let row = next_row(&mut live);
        assert_eq!(row["symbol"], format!("S{i}"));
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the live client waited {:?}",
        started.elapsed()
    );
    wait_for_subscribers(&server, 1);
    // The stuck client, reading at last, finds its connection ended part way.
    let mut stuck = stuck;
    let mut received = 0;
    let started = Instant::now();
    loop {
        within_time(started, "end of the stuck connection");
        match stuck.read() {
            Ok(Message::Text(_)) => received += 1,
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
    assert!(received < rows, "the stuck client got all {rows} rows");
    // The live one still gets updates.
    append(fixture, "data/quotes.csv", "S0,-1,\n");
    assert_eq!(next_row(&mut live)["price"], -1);
}

/// The live widget `big` (key `symbol`) over `data/big.csv`, besides `quotes`.
const BIG_WIDGETS: &str = r#"{
  "quotes": {"name": "Quotes", "description": "d", "type": "live_grid", "endpoint": "quotes",
             "wsEndpoint": "ws/quotes", "data": {"wsRowIdColumn": "symbol"}},
  "big": {"name": "Big", "description": "d", "type": "live_grid", "endpoint": "big",
          "wsEndpoint": "ws/big", "data": {"wsRowIdColumn": "symbol"}}
}"#;

/// `rows` rows `S<i>,<price>,<note>`, every price `price`.
fn big_csv(rows: usize, price: usize) -> String {
    let mut csv = String::from("symbol,price,note\n");
    for i in 0..rows {
        csv.push_str(&format!("S{i},{price},row number {i}\n"));
    }
    csv
}

#[test]
fn a_handshake_on_a_big_file_costs_what_one_on_a_small_file_does() {
    let fixture = fixture();
    fixture
        .write("widgets.json", BIG_WIDGETS)
        .write("data/big.csv", big_csv(200_000, 1));
    let config = test_config(&fixture.root);
    let server = TestServer::start_live(fixture, config, limits());
    // The first handshake on this version of the file reads it (once per version).
    let started = Instant::now();
    drop(connect(&server, "/ws/big"));
    let first = started.elapsed();
    let slowest = |target: &str| {
        (0..3)
            .map(|_| {
                let started = Instant::now();
                let socket = connect(&server, target);
                let took = started.elapsed();
                drop(socket);
                wait_for_subscribers(&server, 0);
                took
            })
            .max()
            .unwrap()
    };
    let small = slowest("/ws/quotes");
    let big = slowest("/ws/big");
    eprintln!("handshakes: first on 200k rows {first:?}, 3 rows {small:?}, 200k rows {big:?}");
    assert!(
        big < small + Duration::from_millis(150),
        "a handshake on 200k rows took {big:?}, on 3 rows {small:?}"
    );
}

#[test]
fn a_client_that_falls_behind_is_closed_with_a_reason_and_may_reconnect() {
    let fixture = fixture();
    let config = test_config(&fixture.root);
    let budget = 64 * 1024;
    let limits = Limits {
        idle: Duration::from_secs(30),
        write_timeout: Duration::from_secs(8),
        queue_bytes: budget,
        subscribers: 8,
        per_address: 8,
        ..limits()
    };
    let server = TestServer::start_live(fixture, config, limits);
    // Three clients that stop reading, one that reads.
    let mut stuck: Vec<Socket> = (0..3)
        .map(|_| connect_with_small_buffer(&server, "/ws/quotes"))
        .collect();
    let mut reader = connect(&server, "/ws/quotes");
    wait_for_subscribers(&server, 4);
    // Each version changes all 1,000 rows: 150 KB of rows. The server's send buffer (512 KiB)
    // takes three; then a stuck client has rows waiting, and the next change is too many.
    let padding = "x".repeat(100);
    let rows = 1000;
    let versions = 10;
    let change = |version: usize| {
        let mut csv = String::from("symbol,price,note\n");
        for i in 0..rows {
            csv.push_str(&format!("S{i},{version},{padding}\n"));
        }
        csv
    };
    let mut most_queued = 0;
    for version in 1..=versions {
        replace(&server.fixture, "data/quotes.csv", change(version));
        for _ in 0..rows {
            assert_eq!(
                next_row(&mut reader)["price"],
                version,
                "the reader missed a row"
            );
        }
        let queued = server.get("/").json()["live_queued_bytes"]
            .as_u64()
            .unwrap();
        most_queued = most_queued.max(queued);
    }
    // Each client holds at most its budget, or one change (when it had nothing waiting).
    let one_change =
        rows as u64 * format!(r#"{{"symbol":"S000","price":1,"note":"{padding}"}}"#).len() as u64;
    assert!(
        most_queued <= 4 * one_change.max(budget as u64),
        "{most_queued} bytes queued (one change: {one_change} bytes)"
    );
    // Reading at last, each stuck client finds part of the rows, then the reason.
    for socket in &mut stuck {
        let mut received = 0;
        let started = Instant::now();
        let frame = loop {
            within_time(started, "close frame");
            match socket.read() {
                Ok(Message::Text(_)) => received += 1,
                Ok(Message::Close(Some(frame))) => break frame,
                Ok(_) => {}
                Err(err) => panic!("after {received} rows: {err}"),
            }
        };
        assert_eq!(frame.code, CloseCode::Policy);
        assert!(frame.reason.starts_with("too slow: "), "{}", frame.reason);
        assert!(received < versions * rows, "got all {received} rows");
        // The client's close frame answers the server's, as a browser's does; the server,
        // still reading, then hangs up.
        let _ = socket.flush();
    }
    wait_for_subscribers(&server, 1);
    // A client closed for falling behind may come back.
    let mut again = connect(&server, "/ws/quotes");
    wait_for_subscribers(&server, 2);
    append(&server.fixture, "data/quotes.csv", "S0,-1,\n");
    assert_eq!(next_row(&mut again)["price"], -1);
}

#[test]
fn one_address_cannot_take_every_socket() {
    let fixture = fixture();
    let config = test_config(&fixture.root);
    let limits = Limits {
        per_address: 2,
        ..limits()
    };
    let server = TestServer::start_live(fixture, config, limits);
    let from_one: Vec<Socket> = (0..2).map(|_| connect(&server, "/ws/quotes")).collect();
    wait_for_subscribers(&server, 2);
    // A third from the same address is refused before the upgrade, with the reason.
    let refused = server.raw(
        b"GET /ws/quotes HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
          Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    assert!(refused.starts_with("HTTP/1.1 429"), "{refused}");
    assert!(
        refused.contains(r#"{"detail":"2 live sockets open from 127.0.0.1 already"#),
        "{refused}"
    );
    assert!(refused.contains("--live-per-address"), "{refused}");
    // Another address still gets in, up to the limit over all (3).
    let from_two = tcp_from(&server, [127, 0, 0, 2], None);
    let other = handshake(&server, from_two, "/ws/quotes").unwrap();
    wait_for_subscribers(&server, 3);
    let from_three = tcp_from(&server, [127, 0, 0, 3], None);
    assert_eq!(
        handshake(&server, from_three, "/ws/quotes").err(),
        Some(503)
    );
    // Once one closes, the first address may open one again.
    drop(from_one);
    wait_for_subscribers(&server, 1);
    connect(&server, "/ws/quotes");
    drop(other);
}

#[test]
fn the_watcher_reads_a_big_file_without_stalling_the_server() {
    let fixture = fixture();
    fixture
        .write("widgets.json", BIG_WIDGETS)
        .write("data/big.csv", big_csv(200_000, 1));
    let config = test_config(&fixture.root);
    let limits = Limits {
        subscribers: 16,
        per_address: 16,
        ..limits()
    };
    let server = TestServer::start_live(fixture, config, limits);
    let mut big = connect(&server, "/ws/big");
    wait_for_subscribers(&server, 1);
    // A new version: the watcher parses 200k rows, builds their snapshot and compares it with
    // the last (about 1.5 s in a debug build). Meanwhile `/` and a handshake are answered.
    replace(&server.fixture, "data/big.csv", big_csv(200_000, 2));
    let pushed = std::thread::spawn(move || {
        let row = next_row(&mut big);
        (Instant::now(), row)
    });
    let mut slowest = Duration::ZERO;
    let mut answered = 0;
    while !pushed.is_finished() {
        let started = Instant::now();
        assert_eq!(server.get("/").status, 200);
        drop(connect(&server, "/ws/quotes"));
        slowest = slowest.max(started.elapsed());
        answered += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    let (pushed_at, row) = pushed.join().unwrap();
    assert_eq!(row["price"], 2);
    eprintln!("during the reload: {answered} requests, slowest {slowest:?}");
    assert!(answered >= 3, "only {answered} requests during the reload");
    assert!(
        slowest < Duration::from_millis(500),
        "a request took {slowest:?} while the watcher read the file"
    );
    assert!(pushed_at.elapsed() < TIMEOUT);
}

/// The filter limits configured hold for live_grid clients too: params past
/// `--max-filter-values` close the socket, naming the flag, when rows would be pushed.
#[test]
fn live_params_are_held_to_the_configured_filter_limits() {
    let fixture = fixture();
    let mut config = test_config(&fixture.root);
    config.max_filter_values = 1;
    let server = TestServer::start_live(fixture, config, limits());
    let mut socket = connect(&server, "/ws/quotes?symbol=AAPL");
    wait_for_subscribers(&server, 1);
    append(&server.fixture, "data/quotes.csv", "AAPL,5\n");
    assert_eq!(next_row(&mut socket), json!({"symbol": "AAPL", "price": 5}));

    send(&mut socket, r#"{"params": {"symbol": ["AAPL", "MSFT"]}}"#);
    std::thread::sleep(Duration::from_millis(200));
    append(&server.fixture, "data/quotes.csv", "MSFT,6\n");
    let frame = close_frame(&mut socket);
    assert!(frame.reason.contains("--max-filter-values"), "{frame:?}");
}
