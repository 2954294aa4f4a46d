//! openbb-files patch: idle keep-alive connections wait in one epoll set (Linux, Android)
//! instead of each on a thread of its own. Upstream gave every connection a pool thread that
//! sat in `recv` between requests, so each request cost a wake-up of that thread and then of a
//! worker; under load a third of the server's CPU went to switching threads.
//!
//! A connection is parked here while it is between requests (`ClientConnection::idle_socket`:
//! plain socket, reader free, nothing buffered, more requests may follow). One thread waits on
//! the set. When a parked connection becomes readable, that thread receives what arrived
//! without waiting (`ClientConnection::receive_arrived`; the bytes go to the connection's
//! reader, ahead of the socket's). If they hold the whole head of a request, it reads the head
//! with the connection's own parser (the bytes are there, so this cannot wait). If building the request cannot wait either (no body, no `Expect`, no
//! upgrade, HTTP/1.x: `RequestHead::may_wait`), it builds it, pushes it to the workers' queue
//! and parks the connection again. Everything else (a partial head, a body, pipelined bytes, a
//! refusal to answer, the last request, a close that would flush to the client) goes to a pool
//! thread, which serves the connection as upstream did and parks it again after a request: no
//! client can make this thread wait.
//!
//! Invariants: a parked connection is registered with `EPOLLONESHOT` and is in `parked` under
//! the key its registration carries, so each readiness reaches exactly one owner; it is added
//! to `parked` before it is armed. A connection parked longer than the idle timeout with
//! nothing arrived is closed, as the socket's read timeout closed it upstream. Once the thread
//! ends (the server dropped, the set failed, a panic) nothing is parked any more: parked
//! connections are closed if the server is gone, or else served on pool threads.

use std::collections::HashMap;
use std::io::Result as IoResult;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use rustix::buffer::spare_capacity;
use rustix::event::epoll::{self, CreateFlags, EventData, EventFlags};
use rustix::event::{eventfd, EventfdFlags, Timespec};
use rustix::io::Errno;
use rustix::net::{recv, RecvFlags};

use crate::client::{ClientConnection, Refusal};
use crate::util::{MessagesQueue, TaskPool};
use crate::Message;

/// The epoll key of the wake-up descriptor; connections get keys from 1 on.
const WAKE_KEY: u64 = 0;
/// How many of a parked connection's bytes are received at once, to find a whole request head
/// in them. A longer head is read on a pool thread.
const RECEIVE_BYTES: usize = 8192;
/// Readiness events taken per wait.
const EVENTS_PER_WAIT: usize = 64;

/// The idle plain connections of one server, in an epoll set, and the one thread that waits
/// on it.
///
/// Guarantees:
/// - one owner at a time: a connection is parked here (in `parked`, under the key of its
///   `EPOLLONESHOT` registration, added before it is armed), or held by the waiting thread
///   while it handles one readiness, or by one pool thread, or closed; each readiness reaches
///   exactly one owner, so no two threads ever read one connection;
/// - the waiting thread never waits on a client: it receives only what has arrived, reads a
///   head only when the whole of it is there and the previous answer is written, builds a
///   request only when that needs nothing more (`RequestHead::may_wait`), and hands
///   everything else (refusals included) to a pool thread;
/// - a request it builds is pushed to the workers' queue exactly once, before its connection
///   is parked again; the request's bytes are consumed from the connection's reader, so no
///   request is read twice nor skipped;
/// - no connection is stranded: one parked longer than the idle timeout with nothing arrived
///   is closed; when the server is dropped every parked one is closed; if the thread ends for
///   any other reason, parking stops and the parked ones go to pool threads.
///
/// Exercised by the tests below and, through the server, by the top-level randomized
/// `tests/stress.rs`.
pub(crate) struct IdleConnections {
    epoll: OwnedFd,
    /// Written to wake the waiting thread when the server closes.
    wake: OwnedFd,
    parked: Mutex<Parked>,
    /// Set when the server is dropped: parked connections are closed, new ones are not kept.
    server_gone: AtomicBool,
    idle_timeout: Option<Duration>,
}

struct Parked {
    /// `None` once the set is closed.
    clients: Option<HashMap<u64, (ClientConnection, Instant)>>,
    next_key: u64,
}

/// What is waiting on a parked connection.
#[derive(Debug, PartialEq)]
enum Waiting {
    /// Nothing yet (a readiness that passed).
    Nothing,
    /// The whole head of a request: the line and headers up to the empty line. A request
    /// head ends at the first CRLF CRLF, so reading it takes only bytes already here.
    WholeHead,
    /// Part of a head (or more than `RECEIVE_BYTES` of one): a pool thread waits for the rest.
    Partial,
    /// The client closed the connection, or it failed.
    Gone,
}

impl IdleConnections {
    /// The epoll set and the thread waiting on it, which hands requests to `messages` and
    /// connections that need a thread to `pool`.
    pub(crate) fn start(
        messages: Arc<MessagesQueue<Message>>,
        pool: Arc<TaskPool>,
        idle_timeout: Option<Duration>,
    ) -> IoResult<Arc<IdleConnections>> {
        let epoll = epoll::create(CreateFlags::CLOEXEC)?;
        let wake = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        epoll::add(&epoll, &wake, EventData::new_u64(WAKE_KEY), EventFlags::IN)?;
        let idle = Arc::new(IdleConnections {
            epoll,
            wake,
            parked: Mutex::new(Parked {
                clients: Some(HashMap::new()),
                next_key: WAKE_KEY + 1,
            }),
            server_gone: AtomicBool::new(false),
            idle_timeout,
        });
        let waiting = Arc::clone(&idle);
        thread::Builder::new()
            .name("tiny_http idle".into())
            .spawn(move || waiting.run(&messages, &pool))?;
        Ok(idle)
    }

    /// Parks `client` if it is between requests. Gives it back if it is not, or if the set
    /// failed while the server runs, for the caller to go on serving it; closes it if the
    /// server is gone.
    #[allow(clippy::result_large_err)] // the connection itself comes back, moved not copied
    pub(crate) fn park(&self, mut client: ClientConnection) -> Result<(), ClientConnection> {
        if client.idle_socket().is_none() {
            return Err(client);
        }
        let mut parked = self.lock();
        let Parked { clients, next_key } = &mut *parked;
        let Some(clients) = clients else {
            return match self.server_gone.load(Ordering::Acquire) {
                true => Ok(()),
                false => Err(client),
            };
        };
        let key = *next_key;
        *next_key += 1;
        let (client, _) = clients.entry(key).or_insert((client, Instant::now()));
        let socket = client.idle_socket().expect("checked above");
        if let Err(err) = arm(&self.epoll, socket, key) {
            log::warn!("Cannot wait for a connection in epoll: {}", err);
            let (client, _) = clients.remove(&key).expect("just inserted");
            return Err(client);
        }
        Ok(())
    }

    /// Closes the parked connections and stops the waiting thread (the server is dropped).
    pub(crate) fn close(&self) {
        self.server_gone.store(true, Ordering::Release);
        let _ = rustix::io::write(&self.wake, &1u64.to_ne_bytes());
    }

    fn lock(&self) -> MutexGuard<'_, Parked> {
        self.parked
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn run(self: Arc<Self>, messages: &Arc<MessagesQueue<Message>>, pool: &Arc<TaskPool>) {
        let _stop_parking = StopParking {
            idle: &self,
            messages,
            pool,
        };
        let mut events = Vec::with_capacity(EVENTS_PER_WAIT);
        let mut received = vec![0; RECEIVE_BYTES];
        // expired connections are looked for a few times per idle timeout
        let sweep_every = self
            .idle_timeout
            .map(|timeout| (timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(1)));
        let wait_at_most = sweep_every.map(|every| Timespec {
            tv_sec: every.as_secs() as _,
            tv_nsec: every.subsec_nanos() as _,
        });
        let mut next_sweep = sweep_every.map(|every| Instant::now() + every);
        while !self.server_gone.load(Ordering::Acquire) {
            events.clear();
            match epoll::wait(
                &self.epoll,
                spare_capacity(&mut events),
                wait_at_most.as_ref(),
            ) {
                Ok(_) | Err(Errno::INTR) => {}
                Err(err) => {
                    log::error!("Waiting for idle connections failed: {}", err);
                    return;
                }
            }
            for event in &events {
                let key = event.data.u64();
                let taken = match key {
                    WAKE_KEY => None,
                    key => self.lock().clients.as_mut().and_then(|c| c.remove(&key)),
                };
                if let Some((client, _)) = taken {
                    self.serve(client, messages, pool, &mut received);
                }
            }
            if let (Some(at), Some(every), Some(timeout)) =
                (next_sweep, sweep_every, self.idle_timeout)
            {
                let now = Instant::now();
                if now >= at {
                    self.close_expired(now, timeout, pool);
                    next_sweep = Some(now + every);
                }
            }
        }
    }

    /// A parked connection became readable.
    fn serve(
        self: &Arc<Self>,
        mut client: ClientConnection,
        messages: &Arc<MessagesQueue<Message>>,
        pool: &TaskPool,
        scratch: &mut [u8],
    ) {
        let waiting = match client.receive_arrived(scratch) {
            Some(received) => waiting(received, scratch),
            None => Waiting::Partial, // cannot happen: only idle connections are parked
        };
        let head = match waiting {
            Waiting::Nothing => return self.park_or_serve_on_pool(client, messages, pool),
            Waiting::Gone => return close(client, pool),
            Waiting::Partial => return self.serve_on_pool(client, messages, pool),
            // the whole head is in the socket: reading it cannot wait; but the next request
            // is read only once the previous answer is written (`read_request`), and after
            // an answer that ended the connection, not at all: a pool thread waits for it
            Waiting::WholeHead => match client.previous_answer_done() {
                Some(false) => client.read_ready_head(),
                _ => return self.serve_on_pool(client, messages, pool),
            },
        };
        match head {
            Ok(true) => match client.read_request() {
                Ok(request) => {
                    messages.push(request.into());
                    self.park_or_serve_on_pool(client, messages, pool);
                }
                Err(refusal) => refuse_on_pool(client, refusal, pool),
            },
            // building this request may wait (a body, an upgrade...): a pool thread does it
            Ok(false) => self.serve_on_pool(client, messages, pool),
            Err(refusal) => refuse_on_pool(client, refusal, pool),
        }
    }

    /// Parks a connection again, or if it is not idle (its last request, or pipelined bytes
    /// buffered) hands it to a pool thread, which goes on serving or drops it. (Dropping
    /// waits until the last request is done with the reader, which after an upgrade lasts as
    /// long as the new protocol.)
    fn park_or_serve_on_pool(
        self: &Arc<Self>,
        client: ClientConnection,
        messages: &Arc<MessagesQueue<Message>>,
        pool: &TaskPool,
    ) {
        if let Err(client) = self.park(client) {
            self.serve_on_pool(client, messages, pool);
        }
    }

    /// Hands a connection that needs a thread to the pool, which serves it as upstream did
    /// and parks it again after a request.
    fn serve_on_pool(
        self: &Arc<Self>,
        client: ClientConnection,
        messages: &Arc<MessagesQueue<Message>>,
        pool: &TaskPool,
    ) {
        let idle = Arc::clone(self);
        let messages = Arc::clone(messages);
        let mut client = Some(client);
        pool.spawn(Box::new(move || {
            if let Some(client) = client.take() {
                crate::serve_client(client, &messages, Some(&idle));
            }
        }));
    }

    /// Closes the connections parked for longer than `timeout`, unless bytes arrived on them
    /// since (their readiness is then waiting to be taken, after a long batch).
    fn close_expired(&self, now: Instant, timeout: Duration, pool: &TaskPool) {
        let expired: Vec<ClientConnection> = {
            let mut parked = self.lock();
            let Some(clients) = parked.clients.as_mut() else {
                return;
            };
            let keys: Vec<u64> = clients
                .iter_mut()
                .filter_map(|(key, (client, since))| {
                    let expired = now.duration_since(*since) > timeout
                        && client.idle_socket().is_some_and(|socket| {
                            matches!(look(socket, &mut [0]), Waiting::Nothing | Waiting::Gone)
                        });
                    expired.then_some(*key)
                })
                .collect();
            keys.iter()
                .filter_map(|key| clients.remove(key))
                .map(|(client, _)| client)
                .collect()
        };
        for mut client in expired {
            if let Some(socket) = client.idle_socket() {
                let _ = epoll::delete(&self.epoll, socket);
            }
            close(client, pool);
        }
    }
}

/// Ends parking when the waiting thread ends, however it ends (the server dropped, the set
/// failed, a panic): `park` refuses from then on, and the parked connections are closed if
/// the server is gone (or the thread is unwinding), or else served on pool threads.
struct StopParking<'a> {
    idle: &'a Arc<IdleConnections>,
    messages: &'a Arc<MessagesQueue<Message>>,
    pool: &'a Arc<TaskPool>,
}

impl Drop for StopParking<'_> {
    fn drop(&mut self) {
        let parked = self.idle.lock().clients.take().unwrap_or_default();
        let server_gone = self.idle.server_gone.load(Ordering::Acquire);
        for (client, _) in parked.into_values() {
            if thread::panicking() {
                drop(client); // the pool may be what failed
            } else if server_gone {
                close(client, self.pool);
            } else {
                self.idle.serve_on_pool(client, self.messages, self.pool);
            }
        }
    }
}

/// Closes a connection here if that cannot wait on the client, else on a pool thread.
fn close(mut client: ClientConnection, pool: &TaskPool) {
    if client.closes_without_waiting() {
        return; // dropped, that is closed, here
    }
    let mut client = Some(client);
    pool.spawn(Box::new(move || drop(client.take())));
}

/// Answers a refused request on a pool thread (the answer and the linger after it wait on the
/// client).
fn refuse_on_pool(client: ClientConnection, refusal: Refusal, pool: &TaskPool) {
    let mut refused = Some((client, refusal));
    pool.spawn(Box::new(move || {
        if let Some((mut client, refusal)) = refused.take() {
            client.answer_refusal(refusal);
        }
    }));
}

/// Arms `socket` for one readiness event carrying `key`: modifies its registration, or adds
/// one if it has none yet (a new connection).
fn arm(epoll: &OwnedFd, socket: BorrowedFd<'_>, key: u64) -> IoResult<()> {
    let flags = EventFlags::IN | EventFlags::RDHUP | EventFlags::ONESHOT;
    match epoll::modify(epoll, socket, EventData::new_u64(key), flags) {
        Err(Errno::NOENT) => Ok(epoll::add(epoll, socket, EventData::new_u64(key), flags)?),
        other => Ok(other?),
    }
}

/// Looks at the bytes waiting on a socket, without taking them or waiting for any.
fn look(socket: BorrowedFd<'_>, buffer: &mut [u8]) -> Waiting {
    let peeked = recv(socket, &mut *buffer, RecvFlags::PEEK | RecvFlags::DONTWAIT);
    waiting(peeked.map(|(count, _)| count), buffer)
}

/// What waits on a connection, from what a receive (or a peek) into `buffer` gave.
fn waiting(received: rustix::io::Result<usize>, buffer: &[u8]) -> Waiting {
    match received {
        Ok(0) => Waiting::Gone,
        Ok(read) if buffer[..read].windows(4).any(|w| w == b"\r\n\r\n") => Waiting::WholeHead,
        Ok(_) => Waiting::Partial,
        Err(Errno::AGAIN) | Err(Errno::INTR) => Waiting::Nothing,
        Err(Errno::CONNRESET) | Err(Errno::TIMEDOUT) | Err(Errno::PIPE) | Err(Errno::NOTCONN) => {
            Waiting::Gone
        }
        // anything else (no memory, no buffers) may pass: a pool thread reads as upstream did
        Err(_) => Waiting::Partial,
    }
}

#[cfg(test)]
mod tests {
    use crate::{ConnectionLimits, Response, Server};
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::Arc;
    use std::thread;
    use std::time::{Duration, Instant};

    /// A server whose two workers answer each request with its method, URL and body.
    fn echo_server(timeout: Duration) -> (Arc<Server>, u16) {
        echo_server_with(ConnectionLimits {
            timeout: Some(timeout),
            ..ConnectionLimits::default()
        })
    }

    fn echo_server_with(limits: ConnectionLimits) -> (Arc<Server>, u16) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let scheduling = Default::default();
        let server = Server::from_listener_with_limits(listener, None, limits, scheduling).unwrap();
        let server = Arc::new(server);
        assert!(server.idle.is_some(), "no epoll set on Linux");
        for _ in 0..2 {
            let server = Arc::clone(&server);
            thread::spawn(move || {
                while let Ok(mut request) = server.recv() {
                    let mut body = String::new();
                    let _ = request.as_reader().read_to_string(&mut body);
                    let answer = format!("{} {} {}", request.method(), request.url(), body);
                    let _ = request.respond(Response::from_string(answer));
                }
            });
        }
        (server, port)
    }

    fn connect(port: u16) -> TcpStream {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream
    }

    /// Reads one response with a `Content-Length` and returns its body.
    fn read_answer(stream: &mut TcpStream) -> String {
        let mut received = Vec::new();
        let mut byte = [0];
        while !received.ends_with(b"\r\n\r\n") {
            assert_eq!(
                stream.read(&mut byte).unwrap(),
                1,
                "connection closed mid-head"
            );
            received.push(byte[0]);
        }
        let head = String::from_utf8(received).unwrap();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("Content-Length: "))
            .expect("a Content-Length")
            .parse()
            .unwrap();
        let mut body = vec![0; length];
        stream.read_exact(&mut body).unwrap();
        String::from_utf8(body).unwrap()
    }

    fn parked(server: &Server) -> usize {
        let idle = server.idle.as_ref().unwrap();
        idle.lock()
            .clients
            .as_ref()
            .map_or(0, |clients| clients.len())
    }

    fn eventually(what: &str, condition: impl Fn() -> bool) {
        let started = Instant::now();
        while !condition() {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "never: {}",
                what
            );
            thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn keep_alive_connections_wait_parked_between_requests() {
        let (server, port) = echo_server(Duration::from_secs(30));
        let mut streams: Vec<TcpStream> = (0..20).map(|_| connect(port)).collect();
        for round in 0..3 {
            for (n, stream) in streams.iter_mut().enumerate() {
                write!(stream, "GET /{}/{} HTTP/1.1\r\nHost: x\r\n\r\n", round, n).unwrap();
            }
            for (n, stream) in streams.iter_mut().enumerate() {
                assert_eq!(read_answer(stream), format!("GET /{}/{} ", round, n));
            }
            eventually("all 20 connections parked", || parked(&server) == 20);
        }
    }

    #[test]
    fn partial_heads_bodies_and_pipelined_requests_are_served_on_a_thread_and_parked_again() {
        let (server, port) = echo_server(Duration::from_secs(30));
        let mut stream = connect(port);
        eventually("the new connection parked", || parked(&server) == 1);

        stream.write_all(b"GET /slow HTTP/1.1\r\nHo").unwrap();
        thread::sleep(Duration::from_millis(100));
        stream.write_all(b"st: x\r\n\r\n").unwrap();
        assert_eq!(read_answer(&mut stream), "GET /slow ");

        stream
            .write_all(b"POST /body HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")
            .unwrap();
        assert_eq!(read_answer(&mut stream), "POST /body hello");

        stream
            .write_all(b"GET /one HTTP/1.1\r\n\r\nGET /two HTTP/1.1\r\n\r\n")
            .unwrap();
        assert_eq!(read_answer(&mut stream), "GET /one ");
        assert_eq!(read_answer(&mut stream), "GET /two ");
        eventually("the connection parked again", || parked(&server) == 1);

        stream.write_all(b"GET /last HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(read_answer(&mut stream), "GET /last ");
    }

    /// Requests received together, more than the reader's buffer holds, the first head ending
    /// right where a buffer-full ends: what is left of the received bytes is served, not parked.
    #[test]
    fn pipelined_requests_beyond_the_readers_buffer_are_all_served() {
        let (server, port) = echo_server(Duration::from_secs(30));
        let mut stream = connect(port);
        eventually("the new connection parked", || parked(&server) == 1);
        let start = "GET /one HTTP/1.1\r\nX-Pad: ";
        let pad = "x".repeat(1024 - start.len() - 4);
        let first = format!("{start}{pad}\r\n\r\n");
        assert_eq!(first.len(), 1024); // the reader's buffer (client.rs)
        let all = format!("{first}GET /two HTTP/1.1\r\n\r\nGET /three HTTP/1.1\r\n\r\n");
        stream.write_all(all.as_bytes()).unwrap();
        for path in ["/one", "/two", "/three"] {
            assert_eq!(read_answer(&mut stream), format!("GET {path} "));
        }
        eventually("the connection parked again", || parked(&server) == 1);
        stream.write_all(b"GET /last HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(read_answer(&mut stream), "GET /last ");
    }

    #[test]
    fn a_partial_head_does_not_hold_up_other_connections() {
        let (_server, port) = echo_server(Duration::from_secs(30));
        let mut slow = connect(port);
        slow.write_all(b"GET /slow HTTP/1.1\r\n").unwrap();
        let mut other = connect(port);
        for n in 0..10 {
            write!(other, "GET /{} HTTP/1.1\r\n\r\n", n).unwrap();
            assert_eq!(read_answer(&mut other), format!("GET /{} ", n));
        }
        slow.write_all(b"\r\n").unwrap();
        assert_eq!(read_answer(&mut slow), "GET /slow ");
    }

    #[test]
    fn requests_whose_building_may_wait_do_not_hold_up_other_connections() {
        let (_server, port) = echo_server(Duration::from_secs(30));
        // bodies that have not arrived (header names as the parser reads them: trimmed, any
        // case) and an upgrade, whose socket is cloned under the writer's lock
        for head in [
            "POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
            "POST /b HTTP/1.1\r\n content-length: 5\r\n\r\n",
            "POST /c HTTP/1.1\r\n\tContent-Length: 5\r\n\r\n",
            "POST /d HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST /e HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
        ] {
            let mut waiting = connect(port);
            waiting.write_all(head.as_bytes()).unwrap();
            thread::sleep(Duration::from_millis(50));
            let mut other = connect(port);
            let started = Instant::now();
            other.write_all(b"GET /other HTTP/1.1\r\n\r\n").unwrap();
            assert_eq!(read_answer(&mut other), "GET /other ");
            assert!(started.elapsed() < Duration::from_secs(2), "{:?}", head);
        }
        let mut upgrading = connect(port);
        upgrading
            .write_all(b"GET /ws HTTP/1.1\r\n Connection: Upgrade\r\nUpgrade: x\r\n\r\n")
            .unwrap();
        let mut other = connect(port);
        other.write_all(b"GET /other HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(read_answer(&mut other), "GET /other ");
    }

    #[test]
    fn versions_above_1_1_are_answered_505_and_the_connection_closed() {
        let (_server, port) = echo_server(Duration::from_secs(30));
        let mut stream = connect(port);
        stream
            .write_all(b"GET /v HTTP/2.0 HTTP/1.1\r\n\r\nGET /w HTTP/1.1\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 505 "), "{}", answer);
        assert!(!answer.contains("GET /w"), "{}", answer);
    }

    #[test]
    fn malformed_requests_are_refused_and_the_connection_closed() {
        let (_server, port) = echo_server(Duration::from_secs(30));
        let mut stream = connect(port);
        stream
            .write_all(b"GET / HTTP/1.1\r\nno colon\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 400 "), "{}", answer);
        assert!(
            answer.ends_with("\r\n\r\nmalformed request header"),
            "{}",
            answer
        );
    }

    /// The caller's answer to a refusal says `keep-alive`: the connection still closes after
    /// it (the layer cannot know where a next request would start), and what follows on the
    /// connection is never read as a request.
    #[test]
    fn a_refusal_closes_its_connection_whatever_its_answer_says() {
        let answer_refusal: crate::AnswerRefusal = Arc::new(|refused: &crate::Refused<'_>| {
            let head = format!(
                "HTTP/1.1 {} Refused\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nno",
                refused.status
            );
            head.into_bytes()
        });
        let (_server, port) = echo_server_with(ConnectionLimits {
            timeout: Some(Duration::from_secs(5)),
            answer_refusal: Some(answer_refusal),
            ..ConnectionLimits::default()
        });
        let mut stream = connect(port);
        stream
            .write_all(b"GET / HTTP/1.1\r\nno colon\r\n\r\nGET /next HTTP/1.1\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap(); // EOF within the read timeout
        assert_eq!(
            answer,
            "HTTP/1.1 400 Refused\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nno"
        );
    }

    #[test]
    fn a_crlf_split_by_the_end_of_the_readers_buffer_still_ends_the_line() {
        // the reader's buffer holds 1024 bytes: the request line's CR is the last of them, its
        // LF the first of the next buffer
        let (_server, port) = echo_server(Duration::from_secs(30));
        let target = format!("/{}", "a".repeat(1023 - "GET / HTTP/1.1".len()));
        let request = format!("GET {target} HTTP/1.1\r\nConnection: close\r\n\r\n");
        assert_eq!(request.find('\r'), Some(1023));
        let mut stream = connect(port);
        stream.write_all(request.as_bytes()).unwrap();
        assert_eq!(read_answer(&mut stream), format!("GET {target} "));
    }

    #[test]
    fn parked_connections_close_after_the_idle_timeout() {
        let (_server, port) = echo_server(Duration::from_millis(300));
        let mut stream = connect(port);
        stream.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(read_answer(&mut stream), "GET / ");
        let started = Instant::now();
        assert_eq!(stream.read(&mut [0; 16]).unwrap(), 0, "still open");
        let waited = started.elapsed();
        assert!(
            waited < Duration::from_millis(1500),
            "closed after {:?}",
            waited
        );
    }

    #[test]
    fn parked_connections_close_with_the_server() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = Server::from_listener(listener, None).unwrap();
        let mut stream = connect(port);
        eventually("the connection parked", || parked(&server) == 1);
        let started = Instant::now();
        drop(server);
        assert_eq!(stream.read(&mut [0; 16]).unwrap(), 0, "still open");
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
