//! The only module that touches tiny_http: the listening socket, the worker pool, and the
//! translation between tiny_http's requests and our plain [`Request`]/[`Response`] values.
//!
//! Invariants:
//! - every request tiny_http hands over is answered exactly once, even when the handler panics
//!   (the panic becomes a JSON 500 and the worker carries on);
//! - every answer, the HTTP layer's refusals, a panic's 500 and a WebSocket's `101` included,
//!   is finished in one place, [`Handler::finish`] (for the app `App::finish`, that is
//!   `finish::finish`: CORS, `Date`, `Server`, `Connection`, `X-Request-Id`, the `{"detail"}`
//!   of refusals and panics); this module only encodes it ([`head`]: status line, headers,
//!   `Content-Length`), and an answer that says `Connection: close` ends its connection;
//! - every answer is logged (unless `--quiet`) before it leaves, in one line (`access_log.rs`),
//!   its target redacted here ([`Handler::redact`]);
//! - the handler's background work ([`Handler::watch`]: reloads and the data check) runs on a
//!   thread of its own, one call at a time with a pause between, never on a worker;
//! - responses always carry `Content-Length` (HEAD included), are never chunked, and leave in
//!   one vectored write, head and body together, as far as the socket takes them at once;
//!   the rest is left to a thread of tiny_http's, so no worker waits on a client that does not
//!   read (`Request::send`, vendor/tiny_http/PATCHES.md);
//! - the listening socket has `TCP_NODELAY`, inherited by accepted connections, so small
//!   responses on keep-alive connections are not held back by Nagle's algorithm;
//! - a WebSocket handshake (`Upgrade: websocket`) goes to [`Handler::upgrade`]: refused with its
//!   error response, or answered `101` and the connection handed over (its socket through our
//!   tiny_http patch, `Request::take_upgrade_socket`); the worker is free again at once; when
//!   the server stops, [`Handler::stopped`] ends those connections;
//! - every connection is bounded (vendored tiny_http's `ConnectionLimits`, see
//!   vendor/tiny_http/PATCHES.md): request line and headers by `max_header_bytes` (414/431),
//!   a body by `max_body_bytes` (413) and read whole before a worker takes the request, by a
//!   deadline (`idle_timeout` plus a second per `min_bytes_per_sec` bytes; 408); an answer by
//!   the same deadline; idleness and slow request heads by `idle_timeout`; ambiguous framing
//!   is refused (400, 501);
//! - running out of file descriptors is weathered: the (patched) accept loop answers 503 or
//!   waits, and serves again once descriptors are free;
//! - when the listener really fails, every worker stops and [`ServerHandle::wait`] reports the
//!   failure. The accept loop then ends and we see its error from `recv`; as a second line of
//!   defence a watchdog connects to our own port every second, and a refused connection
//!   means nobody is listening any more. Either way the process must not live on accepting
//!   nothing.

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::access_log::{AccessLog, Logged};
use crate::app::App;
use crate::config::{Config, Tls};
use crate::finish::{self, Answer, Exchange};
use crate::http::{Body, Method, Request, Response};
use crate::log;
use crate::websocket::{self, Connection, Upgrade};

/// What the worker pool serves: the application, or a stand-in in tests.
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, request: &Request) -> Response;

    /// Finishes every answer the server sends, whoever made it ([`finish::finish`]); the
    /// default has no CORS rules.
    fn finish(&self, request: &Request, answer: Answer<'_>, exchange: &Exchange<'_>) -> Response {
        finish::finish(None, request, answer, exchange)
    }

    /// The request target as the access log may show it (secrets removed).
    fn redact(&self, target: &str) -> String {
        target.to_string()
    }

    /// A WebSocket handshake: who takes the connection, or the response refusing it.
    fn upgrade(&self, request: &Request) -> Result<Upgrade, Response> {
        Err(Response::error(
            404,
            &format!("no WebSocket at {}", request.path),
        ))
    }

    /// The server stopped taking requests: end the connections [`Handler::upgrade`] took.
    /// Called by every worker as it stops, so it must be idempotent.
    fn stopped(&self) {}

    /// Background work, called on a thread of its own (one call at a time) until the server
    /// stops: how long to pause before the next call, or `None` for no more calls.
    fn watch(&self) -> Option<Duration> {
        None
    }
}

impl Handler for App {
    fn handle(&self, request: &Request) -> Response {
        App::handle(self, request)
    }

    fn upgrade(&self, request: &Request) -> Result<Upgrade, Response> {
        App::upgrade(self, request)
    }

    fn finish(&self, request: &Request, answer: Answer<'_>, exchange: &Exchange<'_>) -> Response {
        App::finish(self, request, answer, exchange)
    }

    fn stopped(&self) {
        App::stopped(self);
    }

    fn redact(&self, target: &str) -> String {
        self.auth().redact(target)
    }

    fn watch(&self) -> Option<Duration> {
        Some(App::watch(self))
    }
}

/// How often the watchdog checks that the listener still accepts connections.
const WATCHDOG_INTERVAL: Duration = Duration::from_secs(1);

/// A running server. Dropping it does not stop it; call [`ServerHandle::stop`] (or send
/// SIGINT/SIGTERM to the binary) and then [`ServerHandle::wait`].
pub struct ServerHandle {
    addr: SocketAddr,
    stopper: Stopper,
    workers: Vec<JoinHandle<()>>,
}

/// Asks a server to stop; cheap to clone and safe to call from any thread, more than once.
#[derive(Clone)]
pub struct Stopper {
    server: Arc<tiny_http::Server>,
    stopping: Arc<AtomicBool>,
    failure: Arc<Mutex<Option<String>>>,
    workers: usize,
}

impl Stopper {
    /// Stops taking requests; requests already received are still answered.
    pub fn stop(&self) {
        if !self.stopping.swap(true, Ordering::SeqCst) {
            // Each unblock wakes exactly one worker, after the requests queued before it.
            for _ in 0..self.workers {
                self.server.unblock();
            }
        }
    }

    fn fail(&self, reason: String) {
        let mut failure = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        failure.get_or_insert(reason);
        drop(failure);
        self.stop();
    }
}

impl ServerHandle {
    /// The address actually bound (the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }

    pub fn stop(&self) {
        self.stopper.stop();
    }

    /// Waits for every worker to finish; `Err` when the server stopped because the listener
    /// failed rather than because it was asked to.
    pub fn wait(self) -> Result<(), String> {
        for worker in self.workers {
            let _ = worker.join();
        }
        let failure = self
            .stopper
            .failure
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match failure.clone() {
            Some(reason) => Err(reason),
            None => Ok(()),
        }
    }
}

/// Binds the listener and serves the folder `config.root` names. Every line the process logs
/// from now on is in `config.log_format`.
pub fn start(config: &Config) -> Result<ServerHandle, String> {
    log::set_format(config.log_format);
    start_with(config, App::new(config))
}

/// Binds the listener and starts the worker pool answering with `handler`.
pub fn start_with(config: &Config, handler: impl Handler) -> Result<ServerHandle, String> {
    let listener = bind(&config.host, config.port)?;
    let addr = listener
        .local_addr()
        .map_err(|err| format!("cannot read the bound address: {err}"))?;
    let handler = Arc::new(handler);
    let log = Arc::new(AccessLog::new(
        config.access_log.then_some(config.log_format),
        config.trust_proxy.clone(),
    ));
    let max_body_bytes = usize::try_from(config.max_body_bytes).unwrap_or(usize::MAX);
    let answer_refusal: tiny_http::AnswerRefusal = {
        let handler = Arc::clone(&handler);
        let log = Arc::clone(&log);
        Arc::new(move |refused: &tiny_http::Refused<'_>| refusal(&*handler, refused, &log))
    };
    let limits = tiny_http::ConnectionLimits {
        max_header_bytes: config.max_header_bytes,
        max_body_bytes,
        timeout: Some(config.idle_timeout),
        min_bytes_per_sec: config.min_bytes_per_sec,
        max_pending_body_bytes: max_body_bytes.saturating_mul(config.threads),
        answer_refusal: Some(answer_refusal),
    };
    let tls = config.tls.as_ref().map(tls_config).transpose()?;
    let server = tiny_http::Server::from_listener_with_limits(listener, tls, limits, scheduling())
        .map_err(|err| match &config.tls {
            Some(files) => format!(
                "cannot serve HTTPS with {} and {}: {err} (is the key the certificate's?)",
                files.cert.display(),
                files.key.display()
            ),
            None => format!("cannot start the HTTP server: {err}"),
        })?;
    let stopper = Stopper {
        server: Arc::new(server),
        stopping: Arc::new(AtomicBool::new(false)),
        failure: Arc::new(Mutex::new(None)),
        workers: config.threads,
    };
    let workers = (0..config.threads)
        .map(|index| {
            let handler = Arc::clone(&handler);
            let stopper = stopper.clone();
            let log = Arc::clone(&log);
            std::thread::Builder::new()
                .name(format!("worker-{index}"))
                .spawn(move || work(&*handler, &stopper, &log))
                .map_err(|err| format!("cannot start worker threads: {err}"))
        })
        .collect::<Result<Vec<_>, _>>();
    let mut workers = match workers {
        Ok(workers) => workers,
        Err(err) => {
            stopper.stop();
            return Err(err);
        }
    };
    let watchdog = {
        let stopper = stopper.clone();
        std::thread::Builder::new()
            .name("watchdog".into())
            .spawn(move || watch_listener(addr, &stopper))
    };
    let watcher = {
        let stopper = stopper.clone();
        std::thread::Builder::new()
            .name("watcher".into())
            .spawn(move || watch_in_background(&*handler, &stopper))
    };
    for (thread, what) in [(watchdog, "watchdog"), (watcher, "background check")] {
        match thread {
            Ok(thread) => workers.push(thread),
            Err(err) => {
                stopper.stop();
                return Err(format!("cannot start the {what} thread: {err}"));
            }
        }
    }
    Ok(ServerHandle {
        addr,
        stopper,
        workers,
    })
}

/// How long a request may wait for a running worker before a spare takes it: short enough to
/// go unnoticed, long enough that under load a worker coming back takes it without a wake-up.
const SPARE_AFTER: Duration = Duration::from_millis(2);

/// How the workers share the requests (tiny_http's `Scheduling`, vendor/tiny_http/PATCHES.md
/// change 14): as many run at once as the machine has cores, and the others
/// (`config::default_threads` starts two more) are spares for blocking work (a slow client, a
/// first load of a big file), taking a request once it has waited [`SPARE_AFTER`].
fn scheduling() -> tiny_http::Scheduling {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    tiny_http::Scheduling {
        wake_limit: cores,
        stall: SPARE_AFTER,
    }
}

/// The certificate and key `--tls-cert`/`--tls-key` name, read and checked for the PEM
/// blocks they must hold, so that a wrong file is named in a plain message.
fn tls_config(files: &Tls) -> Result<tiny_http::SslConfig, String> {
    if !cfg!(feature = "tls") {
        return Err(
            "this build cannot serve HTTPS: build it with `--features tls` (needs \
                    OpenSSL's headers, e.g. libssl-dev), or put a TLS reverse proxy in front \
                    (deploy/)"
                .to_string(),
        );
    }
    let read = |path: &std::path::Path, what: &str, labels: &[&str]| {
        let pem = std::fs::read(path)
            .map_err(|err| format!("cannot read the TLS {what} {}: {err}", path.display()))?;
        let text = String::from_utf8_lossy(&pem);
        if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(format!(
                "the TLS {what} {} is encrypted; give an unencrypted key \
                 (openssl pkey -in KEY -out PLAIN)",
                path.display()
            ));
        }
        if !labels
            .iter()
            .any(|label| text.contains(&format!("-----BEGIN {label}-----")))
        {
            return Err(format!(
                "the TLS {what} {} holds no PEM block {}",
                path.display(),
                labels.join(" or ")
            ));
        }
        Ok(pem)
    };
    Ok(tiny_http::SslConfig {
        certificate: read(&files.cert, "certificate", &["CERTIFICATE"])?,
        private_key: read(
            &files.key,
            "key",
            &["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"],
        )?,
    })
}

fn bind(host: &str, port: u16) -> Result<TcpListener, String> {
    let cannot = |err: &dyn std::fmt::Display| format!("cannot listen on {host}:{port}: {err}");
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|err| cannot(&err))?
        .next()
        .ok_or_else(|| cannot(&"the host name has no address"))?;
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )
    .map_err(|err| cannot(&err))?;
    socket.set_reuse_address(true).map_err(|err| cannot(&err))?;
    socket.set_tcp_nodelay(true).map_err(|err| cannot(&err))?;
    socket
        .bind(&addr.into())
        .and_then(|()| socket.listen(1024))
        .map_err(|err| bind_error(addr, &err))?;
    Ok(socket.into())
}

/// Why `addr` cannot be listened on, with what to do about it when the cause is a usual one.
fn bind_error(addr: SocketAddr, err: &std::io::Error) -> String {
    let hint = match err.kind() {
        ErrorKind::AddrInUse => {
            "; another program (or another openbb-files) listens there: stop it, give another \
             port with --port N, or --port 0 for a free one"
        }
        ErrorKind::PermissionDenied if addr.port() < 1024 => {
            "; ports below 1024 need privileges: give one above 1023 with --port N"
        }
        ErrorKind::AddrNotAvailable => {
            "; this machine has no such address: give one of its own with --host, or 0.0.0.0 \
             for all of them"
        }
        _ => "",
    };
    format!("cannot listen on {addr}: {err}{hint}")
}

/// Connects to our own port every [`WATCHDOG_INTERVAL`] until the server stops; a refused
/// connection means the accept loop is gone, and the server is stopped as failed. Other errors
/// (no descriptor free for the probe, a full backlog) prove nothing and are ignored.
fn watch_listener(addr: SocketAddr, stopper: &Stopper) {
    let probe = SocketAddr::new(
        match addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        },
        addr.port(),
    );
    let step = Duration::from_millis(50);
    let mut waited = Duration::ZERO;
    while !stopper.stopping.load(Ordering::SeqCst) {
        std::thread::sleep(step);
        waited += step;
        if waited < WATCHDOG_INTERVAL {
            continue;
        }
        waited = Duration::ZERO;
        if let Err(err) = TcpStream::connect_timeout(&probe, WATCHDOG_INTERVAL)
            && err.kind() == ErrorKind::ConnectionRefused
            && !stopper.stopping.load(Ordering::SeqCst)
        {
            stopper.fail(format!(
                "the listener on {addr} stopped accepting connections"
            ));
        }
    }
}

/// Runs [`Handler::watch`] until the server stops or it asks for no more calls, pausing as
/// long as it says between calls (waking every 50 ms to see whether the server stops).
fn watch_in_background(handler: &dyn Handler, stopper: &Stopper) {
    let step = Duration::from_millis(50);
    while !stopper.stopping.load(Ordering::SeqCst) {
        let Some(pause) = handler.watch() else {
            return;
        };
        let resume = Instant::now() + pause;
        while Instant::now() < resume && !stopper.stopping.load(Ordering::SeqCst) {
            std::thread::sleep(step.min(resume.saturating_duration_since(Instant::now())));
        }
    }
}

/// Answers requests until the server stops.
fn work(handler: &dyn Handler, stopper: &Stopper, log: &AccessLog) {
    loop {
        match stopper.server.recv() {
            Ok(request) => answer(handler, request, log),
            Err(_) if stopper.stopping.load(Ordering::SeqCst) => break,
            Err(err) => {
                stopper.fail(format!("the listener failed: {err}"));
                break;
            }
        }
    }
    // The connections handed over (WebSockets) end with the server.
    handler.stopped();
}

fn answer(handler: &dyn Handler, mut incoming: tiny_http::Request, log: &AccessLog) {
    let started = Instant::now();
    let request = read_request(&mut incoming);
    let log = Logged::new(log, &request, started);
    if websocket::asks_upgrade(&request) {
        match catch_unwind(AssertUnwindSafe(|| handler.upgrade(&request))) {
            Ok(Ok(upgrade)) => hand_over(handler, incoming, &request, upgrade, log),
            Ok(Err(refusal)) => respond(handler, incoming, &request, Answer::Handled(refusal), log),
            Err(_) => respond(handler, incoming, &request, Answer::Panicked, log),
        }
        return;
    }
    let answer = match catch_unwind(AssertUnwindSafe(|| handler.handle(&request))) {
        Ok(response) => Answer::Handled(response),
        Err(_) => Answer::Panicked,
    };
    respond(handler, incoming, &request, answer, log);
}

/// Answers an accepted WebSocket handshake with `101` and gives the connection to `upgrade`.
fn hand_over(
    handler: &dyn Handler,
    mut incoming: tiny_http::Request,
    request: &Request,
    upgrade: Upgrade,
    log: Logged<'_>,
) {
    let Some(socket) = incoming.take_upgrade_socket() else {
        let refusal = Answer::Refused {
            status: 503,
            reason: "cannot take this WebSocket connection now",
        };
        return respond(handler, incoming, request, refusal, log);
    };
    let accept = upgrade.accept;
    let exchange = log.exchange(is_http_1_0(incoming.http_version()));
    let switching = handler.finish(request, Answer::Switching { accept }, &exchange);
    log.answered("GET", &handler.redact(incoming.url()), switching.status, 0);
    let head = head(incoming.http_version(), &switching);
    let reader = incoming.upgrade_with_head(&head);
    let connection = Connection {
        reader: Box::new(reader),
        socket,
    };
    // A panic here has no response left to become; the connection just closes.
    let _ = catch_unwind(AssertUnwindSafe(|| (upgrade.start)(connection)));
}

/// The plain request of `incoming`, its body included (vendored tiny_http has read the body
/// whole, within the limits, before a worker takes the request).
fn read_request(incoming: &mut tiny_http::Request) -> Request {
    let headers = plain_headers(incoming.headers());
    let method = Method::parse(incoming.method().as_str());
    let mut request = Request::new(method, incoming.url(), headers);
    request.remote = incoming.remote_addr().map(|address| address.ip());
    // With `Connection: upgrade`, tiny_http's body reader is the rest of the connection (the
    // upgraded protocol's bytes) and no request follows on it: no body is read.
    let upgrading = request
        .header("connection")
        .is_some_and(|value| value.to_ascii_lowercase().contains("upgrade"));
    if !upgrading {
        // Bytes in memory: reading them cannot fail or wait.
        let _ = incoming.as_reader().read_to_end(&mut request.body);
    }
    request
}

fn plain_headers(headers: &[tiny_http::Header]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| (h.field.as_str().to_string(), h.value.as_str().to_string()))
        .collect()
}

/// Finishes `answer` to `request` ([`Handler::finish`]), logs it and sends it; the connection
/// ends after it when it says `Connection: close`.
fn respond(
    handler: &dyn Handler,
    incoming: tiny_http::Request,
    request: &Request,
    answer: Answer<'_>,
    log: Logged<'_>,
) {
    let response = handler.finish(
        request,
        answer,
        &log.exchange(is_http_1_0(incoming.http_version())),
    );
    // Logged before the answer leaves, so that a client holding its answer finds the line
    // (in the order it made its requests, and before a shutdown it then asks for).
    let bytes = response.body.as_ref().len();
    let method = incoming.method().as_str();
    log.answered(
        method,
        &handler.redact(incoming.url()),
        response.status,
        bytes,
    );
    let head_only = *incoming.method() == tiny_http::Method::Head;
    let close = says_close(&response);
    let (head, body) = encode(incoming.http_version(), head_only, response);
    // tiny_http writes what the socket takes now and leaves the rest to a thread of its own:
    // a client that does not read holds no worker. A client that went away is not an error
    // worth more than the log line above.
    incoming.send(head, body, close);
}

/// Whether a finished answer ends its connection.
fn says_close(response: &Response) -> bool {
    response
        .header("Connection")
        .is_some_and(|value| value.eq_ignore_ascii_case("close"))
}

/// Answers a request the HTTP layer refused (malformed, too large, too slow, ambiguously
/// framed...; see vendor/tiny_http/PATCHES.md) as every answer is made: finished by the
/// handler ([`Answer::Refused`]), logged, and encoded by [`head`]. The connection closes after
/// it whatever it says (tiny_http's rule, which [`finish::finish`] follows).
fn refusal(handler: &dyn Handler, refused: &tiny_http::Refused<'_>, log: &AccessLog) -> Vec<u8> {
    let started = Instant::now();
    // A request line refused (414) has no method or target, but its headers, when read, still
    // give the answer its CORS headers.
    let (method, target) = refused
        .request_line
        .map_or(("-", "-"), |(method, target, _)| (method.as_str(), target));
    let request = Request::new(
        Method::parse(method),
        target,
        plain_headers(refused.headers),
    );
    let log = Logged::new(log, &request, started);
    let answer = Answer::Refused {
        status: refused.status,
        reason: refused.reason,
    };
    // Refusals are answered in HTTP/1.1 whatever the request said (a 505 among them).
    let version = tiny_http::HTTPVersion(1, 1);
    let response = handler.finish(&request, answer, &log.exchange(is_http_1_0(&version)));
    let bytes = response.body.as_ref().len();
    log.answered(method, &handler.redact(target), response.status, bytes);
    let (mut answer, body) = encode(&version, method == "HEAD", response);
    answer.extend_from_slice(body.as_ref());
    answer
}

/// The head of `response` for a request of `version`, and the body it carries: none for HEAD
/// and for the statuses that have none.
fn encode(
    version: &tiny_http::HTTPVersion,
    head_only: bool,
    response: Response,
) -> (Vec<u8>, Body) {
    let head = head(version, &response);
    let with_body = !head_only && !matches!(response.status, 100..=199 | 204 | 304);
    let body = match with_body {
        true => response.body,
        false => Body::Owned(Vec::new()),
    };
    (head, body)
}

/// Whether a request came in HTTP/1.0 (whose connections end after one answer unless kept
/// alive).
fn is_http_1_0(version: &tiny_http::HTTPVersion) -> bool {
    *version == tiny_http::HTTPVersion(1, 0)
}

/// The status line and headers of a finished `response` ([`finish::finish`]), ending with the
/// blank line. Responses are written by hand rather than through `tiny_http::Response`, whose
/// boxed reader is copied out in 8 KiB writes. `Content-Length` is always the body's length
/// (HEAD included; none on a `1xx`), and header values that could break the framing are
/// dropped.
fn head(version: &tiny_http::HTTPVersion, response: &Response) -> Vec<u8> {
    let mut head = Vec::with_capacity(256);
    head.extend_from_slice(b"HTTP/");
    push_number(&mut head, version.0.into());
    head.push(b'.');
    push_number(&mut head, version.1.into());
    head.push(b' ');
    push_number(&mut head, response.status.into());
    head.push(b' ');
    let reason = tiny_http::StatusCode(response.status).default_reason_phrase();
    head.extend_from_slice(reason.as_bytes());
    head.extend_from_slice(b"\r\n");
    for (name, value) in &response.headers {
        if value
            .bytes()
            .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
        {
            for part in [name.as_bytes(), b": ", value.as_bytes(), b"\r\n"] {
                head.extend_from_slice(part);
            }
        } else {
            log::write(
                log::Level::Warning,
                &format!("openbb-files: dropped response header {name}: not printable ASCII"),
            );
        }
    }
    if response.status >= 200 {
        head.extend_from_slice(b"Content-Length: ");
        push_number(&mut head, response.body.as_ref().len() as u64);
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// Appends `number` in decimal.
fn push_number(out: &mut Vec<u8>, mut number: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (number % 10) as u8;
        number /= 10;
        if number == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_bind_names_the_address_and_what_to_do() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let in_use = bind("127.0.0.1", port).err().unwrap();
        assert!(
            in_use.starts_with(&format!("cannot listen on 127.0.0.1:{port}: ")),
            "{in_use}"
        );
        assert!(in_use.contains("--port 0 for a free one"), "{in_use}");
        // 192.0.2.1 (TEST-NET-1) is on no machine; binding to it sends nothing.
        let foreign = bind("192.0.2.1", 0).err().unwrap();
        assert!(
            foreign.contains("this machine has no such address"),
            "{foreign}"
        );
        let denied = bind_error(
            "0.0.0.0:80".parse().unwrap(),
            &std::io::Error::from(ErrorKind::PermissionDenied),
        );
        assert!(
            denied.contains("ports below 1024 need privileges"),
            "{denied}"
        );
    }

    #[test]
    fn numbers_in_decimal() {
        for number in [0, 7, 404, 1_000_000, u64::MAX] {
            let mut out = b"x".to_vec();
            push_number(&mut out, number);
            assert_eq!(out, format!("x{number}").into_bytes());
        }
    }

    #[test]
    fn a_head_has_the_status_line_headers_and_length() {
        let response = Response::error(404, "gone")
            .with_header("ETag", "\"v1\"")
            .with_header("X-Broken", "a\r\nInjected: yes");
        let text = String::from_utf8(head(&tiny_http::HTTPVersion(1, 0), &response)).unwrap();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(
            lines,
            [
                "HTTP/1.0 404 Not Found",
                "Content-Type: application/json",
                "ETag: \"v1\"",
                &format!("Content-Length: {}", response.body.as_ref().len()),
                "",
                ""
            ]
        );
        // a 101 has no length
        let switching = Response::empty(101).with_header("Upgrade", "websocket");
        let text = String::from_utf8(head(&tiny_http::HTTPVersion(1, 1), &switching)).unwrap();
        assert_eq!(
            text,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
        );
    }
}
