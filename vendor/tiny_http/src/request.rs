use std::io::Error as IoError;
use std::io::{self, Cursor, ErrorKind, IoSlice, Read, Write};

use std::borrow::Cow;
use std::fmt;
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::sync::mpsc::Sender;

use crate::util::{RefinedTcpStream, SequentialWriter};
use crate::{HTTPVersion, Header, Method, Response, StatusCode};
use chunked_transfer::Decoder;
use std::io::BufWriter;

/// Represents an HTTP request made by a client.
///
/// A `Request` object is what is produced by the server, and is your what
/// your code must analyse and answer.
///
/// This object implements the `Send` trait, therefore you can dispatch your requests to
/// worker threads.
///
/// # Pipelining
///
/// If a client sends multiple requests in a row (without waiting for the response), then you will
/// get multiple `Request` objects simultaneously. This is called *requests pipelining*.
/// Tiny-http automatically reorders the responses so that you don't need to worry about the order
/// in which you call `respond` or `into_writer`.
///
/// This mechanic is disabled if:
///
///  - The body of a request is large enough (handling requires pipelining requires storing the
///    body of the request in a buffer ; if the body is too big, tiny-http will avoid doing that)
///  - A request sends a `Expect: 100-continue` header (which means that the client waits to
///    know whether its body will be processed before sending it)
///  - A request sends a `Connection: close` header or `Connection: upgrade` header (used for
///    websockets), which indicates that this is the last request that will be received on this
///    connection
///
/// # Automatic cleanup
///
/// If a `Request` object is destroyed without `into_writer` or `respond` being called,
/// an empty response with a 500 status code (internal server error) will automatically be
/// sent back to the client.
/// This means that if your code fails during the handling of a request, this "internal server
/// error" response will automatically be sent during the stack unwinding.
///
/// # Testing
///
/// If you want to build fake requests to test your server, use [`TestRequest`](crate::test::TestRequest).
pub struct Request {
    // where to read the body from
    data_reader: Option<Box<dyn Read + Send + 'static>>,

    // if this writer is empty, then the request has been answered
    response_writer: Option<Box<dyn AnswerSink>>,

    remote_addr: Option<SocketAddr>,

    // true if HTTPS, false if HTTP
    secure: bool,

    method: Method,

    path: String,

    http_version: HTTPVersion,

    headers: Vec<Header>,

    body_length: Option<usize>,

    // If Some, a message must be sent after responding
    notify_when_responded: Option<Sender<()>>,

    // a clone of the connection's TCP socket, for requests with `Connection: upgrade`
    upgrade_socket: Option<TcpStream>,

    // openbb-files patch: the share of the body budget this request's body holds until a
    // worker takes the request (`Request::leave_budget`)
    reserved: Option<Reserved>,

    // openbb-files patch: how slowly the answer may leave (`Request::send`)
    pace: Pace,
}

/// openbb-files patch: where a request's answer goes. Besides `Write`: a write that does not
/// wait for the client, a wait for the client to take more, and ending the connection after
/// the answer. The defaults suit writers that never wait (tests).
pub(crate) trait AnswerSink: Write + Send {
    /// Writes what the client takes at once; `WouldBlock` when it takes nothing now.
    fn send_now(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.write_vectored(bufs)
    }

    /// Waits at most `timeout` (`None`: as long as it takes) for the client to take more;
    /// false if it did not.
    fn wait_writable(&mut self, _timeout: Option<Duration>) -> io::Result<bool> {
        Ok(true)
    }

    /// The connection ends after this answer (written in full or given up).
    fn close(&mut self) {}
}

impl AnswerSink for SequentialWriter<BufWriter<RefinedTcpStream>> {
    fn send_now(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        SequentialWriter::send_now(self, bufs)
    }

    fn wait_writable(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        SequentialWriter::wait_writable(self, timeout)
    }

    fn close(&mut self) {
        SequentialWriter::close(self)
    }
}

impl AnswerSink for io::Sink {}

impl<W: AnswerSink + ?Sized> AnswerSink for Box<W> {
    fn send_now(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        (**self).send_now(bufs)
    }

    fn wait_writable(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        (**self).wait_writable(timeout)
    }

    fn close(&mut self) {
        (**self).close()
    }
}

/// openbb-files patch: how slowly a request body may arrive, or an answer leave: all of it
/// within `timeout` plus a second per `min_bytes_per_sec` bytes. No deadline without either.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Pace {
    pub(crate) timeout: Option<Duration>,
    pub(crate) min_bytes_per_sec: usize,
}

impl Pace {
    /// When `bytes` started at `started` must be through.
    fn deadline(&self, started: Instant, bytes: usize) -> Option<Instant> {
        let timeout = self.timeout?;
        if self.min_bytes_per_sec == 0 {
            return None;
        }
        let transfer = Duration::from_secs_f64(bytes as f64 / self.min_bytes_per_sec as f64);
        started.checked_add(timeout.saturating_add(transfer))
    }
}

/// openbb-files patch: the bytes of request bodies read and not yet taken by a worker, shared
/// by every connection of a server, so that many clients sending bodies at once cannot make it
/// hold more than `limit` bytes of them.
pub(crate) struct BodyBudget {
    used: Mutex<usize>,
    limit: usize,
}

/// A share of a [`BodyBudget`], given back when dropped.
pub(crate) struct Reserved {
    budget: Arc<BodyBudget>,
    bytes: usize,
}

impl BodyBudget {
    pub(crate) fn new(limit: usize) -> Arc<BodyBudget> {
        Arc::new(BodyBudget {
            used: Mutex::new(0),
            limit,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, usize> {
        self.used.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An empty share, to grow as bytes arrive.
    pub(crate) fn share(self: &Arc<Self>) -> Reserved {
        Reserved {
            budget: Arc::clone(self),
            bytes: 0,
        }
    }
}

impl Reserved {
    /// Adds `bytes` to the share; false (and nothing added) when the budget has no room.
    fn grow(&mut self, bytes: usize) -> bool {
        let mut used = self.budget.lock();
        match used.checked_add(bytes) {
            Some(total) if total <= self.budget.limit => {
                *used = total;
                self.bytes += bytes;
                true
            }
            _ => false,
        }
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        *self.budget.lock() -= self.bytes;
    }
}

struct NotifyOnDrop<R> {
    sender: Sender<()>,
    inner: R,
}

impl<R: Read> Read for NotifyOnDrop<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}
impl<R: Write> Write for NotifyOnDrop<R> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    // openbb-files patch: forwarded, so that a response leaves in one `writev`
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.inner.write_vectored(bufs)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
impl<R> Drop for NotifyOnDrop<R> {
    fn drop(&mut self) {
        self.sender.send(()).unwrap();
    }
}

/// Error that can happen when building a `Request` object.
#[derive(Debug)]
pub enum RequestCreationError {
    /// Error while reading data from the socket during the creation of the `Request`.
    CreationIoError(IoError),

    /// openbb-files patch: the request is refused with this status and reason, and the
    /// connection closed (an `Expect` other than `100-continue`, broken framing, a body too
    /// large or too slow...).
    Refused(u16, Cow<'static, str>),
}

impl From<IoError> for RequestCreationError {
    fn from(err: IoError) -> RequestCreationError {
        RequestCreationError::CreationIoError(err)
    }
}

/// True if the client sent a `Connection: upgrade` header.
pub(crate) fn connection_upgrade(headers: &[Header]) -> bool {
    match headers
        .iter()
        .find(|h: &&Header| h.field.equiv("Connection"))
        .map(|h| h.value.as_str())
    {
        Some(v) if v.to_ascii_lowercase().contains("upgrade") => true,
        _ => false,
    }
}

/// openbb-files patch: how a request's body is delimited (RFC 9112 section 6).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Framing {
    NoBody,
    Length(usize),
    Chunked,
    /// `Connection: upgrade`: the rest of the connection belongs to the new protocol.
    Upgrade,
}

/// openbb-files patch: how the body of a request with `headers` is delimited, or why it is
/// refused. Upstream took the first `Content-Length` (`+17` included), decoded any
/// `Transfer-Encoding` as chunked, and with both let one win: a proxy that framed the request
/// otherwise could have a request smuggled past it. Now `Content-Length` with
/// `Transfer-Encoding` is 400; several `Content-Length`s must be one same decimal number (a
/// sign, a non-digit, or different values are 400); a `Transfer-Encoding` other than `chunked`
/// is 501; a length over `max_body_bytes` is 413; an `Expect` other than `100-continue` 417.
pub(crate) fn framing(
    headers: &[Header],
    max_body_bytes: usize,
) -> Result<Framing, RequestCreationError> {
    let refused =
        |status, reason: &'static str| Err(RequestCreationError::Refused(status, reason.into()));
    let values = |name: &'static str| {
        headers
            .iter()
            .filter(move |h| h.field.equiv(name))
            .flat_map(|h| h.value.as_str().split(','))
            .map(str::trim)
    };
    let codings: Vec<&str> = values("Transfer-Encoding")
        .filter(|v| !v.is_empty())
        .collect();
    let lengths: Vec<&str> = values("Content-Length").collect();
    let mut framing = match (codings.as_slice(), lengths.as_slice()) {
        ([], []) => Framing::NoBody,
        ([_, ..], [_, ..]) => {
            return refused(400, "Content-Length and Transfer-Encoding together");
        }
        ([only], []) if only.eq_ignore_ascii_case("chunked") => Framing::Chunked,
        ([_, ..], []) => return refused(501, "only the chunked transfer coding is supported"),
        ([], [first, rest @ ..]) => {
            let digits = |v: &&str| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
            if !lengths.iter().all(digits) {
                return refused(400, "Content-Length is not a number");
            }
            let significant = |v: &str| v.trim_start_matches('0').to_owned();
            if rest.iter().any(|v| significant(v) != significant(first)) {
                return refused(400, "conflicting Content-Length values");
            }
            match first.parse::<usize>() {
                Ok(length) if length <= max_body_bytes => Framing::Length(length),
                _ => return Err(too_large(max_body_bytes)),
            }
        }
    };
    match headers.iter().find(|h| h.field.equiv("Expect")) {
        Some(h) if !h.value.as_str().eq_ignore_ascii_case("100-continue") => {
            return refused(417, "only Expect: 100-continue is supported");
        }
        _ => {}
    }
    if connection_upgrade(headers) {
        framing = Framing::Upgrade;
    }
    Ok(framing)
}

fn too_large(max_body_bytes: usize) -> RequestCreationError {
    let reason = format!("the request body is larger than {} bytes", max_body_bytes);
    RequestCreationError::Refused(413, reason.into())
}

/// openbb-files patch: the rules for reading a request's body (see `read_body`).
#[derive(Clone)]
pub(crate) struct BodyRules {
    pub(crate) max_bytes: usize,
    pub(crate) pace: Pace,
    pub(crate) budget: Option<Arc<BodyBudget>>,
}

impl BodyRules {
    /// No limits, as upstream.
    pub(crate) fn unlimited() -> BodyRules {
        BodyRules {
            max_bytes: usize::MAX,
            pace: Pace::default(),
            budget: None,
        }
    }
}

/// Bytes read from the socket at once while reading a body.
const BODY_READ: usize = 16 * 1024;

/// openbb-files patch: reads the whole body `framing` delimits from `source`, before the
/// request is queued, so that no worker waits on a client sending it (upstream handed workers
/// a reader on the socket: four clients sending a byte every few seconds took four workers).
/// Refused: a chunked body over `rules.max_bytes` (413), one that is not valid chunked coding
/// (400), a body that misses its deadline (408, `Pace`, counted from `started`), or one the
/// body budget has no room for (503). Bytes are kept as they arrive, never allocated ahead.
pub(crate) fn read_body<R: Read>(
    framing: Framing,
    source: R,
    rules: &BodyRules,
    started: Instant,
) -> Result<(Vec<u8>, Option<Reserved>), RequestCreationError> {
    let mut reserved = rules.budget.as_ref().map(BodyBudget::share);
    let (mut reader, expected): (Box<dyn Read + '_>, Option<usize>) = match framing {
        Framing::NoBody | Framing::Upgrade | Framing::Length(0) => return Ok((Vec::new(), None)),
        Framing::Length(length) => (Box::new(source.take(length as u64)), Some(length)),
        Framing::Chunked => (Box::new(Decoder::new(source)), None),
    };
    let refused =
        |status, reason: &'static str| RequestCreationError::Refused(status, reason.into());
    let mut body = Vec::new();
    let mut buffer = [0u8; BODY_READ];
    loop {
        let so_far = expected.unwrap_or(body.len());
        if rules
            .pace
            .deadline(started, so_far)
            .is_some_and(|at| Instant::now() > at)
        {
            return Err(refused(408, "the request body did not arrive in time"));
        }
        let read = match reader.read(&mut buffer) {
            Ok(0) if expected.is_some_and(|length| body.len() < length) => {
                let info = "Connection has been closed before we received enough data";
                return Err(IoError::new(ErrorKind::ConnectionAborted, info).into());
            }
            Ok(0) => return Ok((body, reserved)),
            Ok(read) => read,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(refused(408, "the request body did not arrive in time"));
            }
            Err(e) if e.kind() == ErrorKind::InvalidInput => {
                return Err(refused(400, "the chunked request body is malformed"));
            }
            Err(e) => return Err(e.into()),
        };
        if body.len() + read > rules.max_bytes {
            return Err(too_large(rules.max_bytes));
        }
        if !reserved.as_mut().map_or(true, |share| share.grow(read)) {
            return Err(refused(
                503,
                "too many request bodies are being received at once; try again",
            ));
        }
        body.extend_from_slice(&buffer[..read]);
    }
}

/// Builds a new request.
///
/// After the request line and headers have been read from the socket, a new `Request` object
/// is built.
///
/// openbb-files patch: the body is read whole here (`framing`, `read_body`); the request's
/// reader is those bytes, or for an upgrade the rest of the connection.
///
/// The `Write` object will be used by the `Request` to write the response.
#[allow(clippy::too_many_arguments)]
pub(crate) fn new_request<R, W>(
    secure: bool,
    method: Method,
    path: String,
    version: HTTPVersion,
    headers: Vec<Header>,
    remote_addr: Option<SocketAddr>,
    source_data: R,
    writer: W,
    rules: &BodyRules,
) -> Result<Request, RequestCreationError>
where
    R: Read + Send + 'static,
    W: AnswerSink + 'static,
{
    let body = match framing(&headers, rules.max_bytes)? {
        Framing::Upgrade => Body::Upgrade(Box::new(source_data)),
        framing => {
            let (bytes, reserved) = read_body(framing, source_data, rules, Instant::now())?;
            Body::Read(bytes, reserved)
        }
    };
    let head = RequestHead {
        method,
        path,
        version,
        headers,
    };
    Ok(Request::assemble(
        head,
        secure,
        remote_addr,
        body,
        Box::new(writer),
    ))
}

/// openbb-files patch: a request's line and headers, read; its body not yet.
pub(crate) struct RequestHead {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) version: HTTPVersion,
    pub(crate) headers: Vec<Header>,
}

/// openbb-files patch: a request's body, read whole (with its share of the body budget), or
/// for an upgrade the rest of the connection.
pub(crate) enum Body {
    Read(Vec<u8>, Option<Reserved>),
    Upgrade(Box<dyn Read + Send + 'static>),
}

impl Request {
    /// openbb-files patch: the request of `head`, whose body has been read, answered through
    /// `writer`.
    pub(crate) fn assemble(
        head: RequestHead,
        secure: bool,
        remote_addr: Option<SocketAddr>,
        body: Body,
        writer: Box<dyn AnswerSink>,
    ) -> Request {
        let (body_length, data_reader, reserved) = match body {
            Body::Read(bytes, reserved) => (
                Some(bytes.len()),
                Box::new(Cursor::new(bytes)) as Box<dyn Read + Send>,
                reserved,
            ),
            Body::Upgrade(rest) => (None, rest, None),
        };
        Request {
            data_reader: Some(data_reader),
            response_writer: Some(writer),
            remote_addr,
            secure,
            method: head.method,
            path: head.path,
            http_version: head.version,
            headers: head.headers,
            body_length,
            notify_when_responded: None,
            upgrade_socket: None,
            reserved,
            pace: Pace::default(),
        }
    }

    /// openbb-files patch: the answer may leave as slowly as `pace` allows (`Request::send`).
    pub(crate) fn with_pace(mut self, pace: Pace) -> Self {
        self.pace = pace;
        self
    }

    /// openbb-files patch: a worker took the request: its body no longer counts against the
    /// budget of bodies waiting for one (see `BodyBudget`).
    pub(crate) fn leave_budget(&mut self) {
        self.reserved = None;
    }

    /// openbb-files patch: sends an answer already framed, `head` and then `body`, without
    /// making the caller wait on the client: what the socket takes at once is written here,
    /// and the rest, if any, by a thread of its own, which gives up when the client takes
    /// nothing for the connection's timeout or the answer misses its deadline (`Pace`). A
    /// worker is then free at once even for a client that does not read (upstream wrote on
    /// the worker, which a client that stopped reading held for good). With `close`, or when
    /// the answer cannot be written, the connection ends after it (see
    /// `SequentialWriter::close`).
    pub fn send<B>(mut self, head: Vec<u8>, body: B, close: bool)
    where
        B: AsRef<[u8]> + Send + 'static,
    {
        let writer = self.extract_writer_impl();
        let notify = self.notify_when_responded.take();
        let mut answer = Answer {
            writer,
            head,
            body,
            sent: 0,
            close,
        };
        match answer.send_now() {
            Ok(false) => {}
            done => return answer.finish(done.map(|_| ()), notify),
        }
        let deadline = self.pace.deadline(Instant::now(), answer.left());
        let rest = Arc::new(Mutex::new(Some((answer, notify))));
        let on_thread = Arc::clone(&rest);
        let timeout = self.pace.timeout;
        let spawned = std::thread::Builder::new()
            .name("tiny_http answer".into())
            .spawn(move || Answer::send_rest(&on_thread, timeout, deadline));
        if spawned.is_err() {
            Answer::send_rest(&rest, timeout, deadline); // no thread to spare: here, then
        }
    }

    /// Returns true if the request was made through HTTPS.
    #[inline]
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// Returns the method requested by the client (eg. `GET`, `POST`, etc.).
    #[inline]
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// Returns the resource requested by the client.
    #[inline]
    pub fn url(&self) -> &str {
        &self.path
    }

    /// Returns a list of all headers sent by the client.
    #[inline]
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// Returns the HTTP version of the request.
    #[inline]
    pub fn http_version(&self) -> &HTTPVersion {
        &self.http_version
    }

    /// Returns the length of the body in bytes.
    ///
    /// Returns `None` if the length is unknown.
    #[inline]
    pub fn body_length(&self) -> Option<usize> {
        self.body_length
    }

    /// Returns the address of the client that sent this request.
    ///
    /// The address is always `Some` for TCP listeners, but always `None` for UNIX listeners
    /// (as the remote address of a UNIX client is almost always unnamed).
    ///
    /// Note that this is gathered from the socket. If you receive the request from a proxy,
    /// this function will return the address of the proxy and not the address of the actual
    /// user.
    #[inline]
    pub fn remote_addr(&self) -> Option<&SocketAddr> {
        self.remote_addr.as_ref()
    }

    /// For a request with a `Connection: upgrade` header on a plain TCP connection: a clone of
    /// the connection's socket (`None` otherwise, for HTTPS and Unix sockets, and on the second
    /// call). Take it before [`Request::upgrade`]: the stream `upgrade` returns cannot be split
    /// and gives no access to the socket, while this clone can set read and write timeouts
    /// (they are the socket's, so they apply to the upgraded stream too), write from one
    /// thread while another reads the upgraded stream, and shut the connection down.
    /// Read through the upgraded stream, not the clone: it holds bytes already buffered.
    pub fn take_upgrade_socket(&mut self) -> Option<TcpStream> {
        self.upgrade_socket.take()
    }

    pub(crate) fn with_upgrade_socket(mut self, socket: Option<TcpStream>) -> Self {
        self.upgrade_socket = socket;
        self
    }

    /// Sends a response with a `Connection: upgrade` header, then turns the `Request` into a `Stream`.
    ///
    /// The main purpose of this function is to support websockets.
    /// If you detect that the request wants to use some kind of protocol upgrade, you can
    ///  call this function to obtain full control of the socket stream.
    ///
    /// If you call this on a non-websocket request, tiny-http will wait until this `Stream` object
    ///  is destroyed before continuing to read or write on the socket. Therefore you should always
    ///  destroy it as soon as possible.
    pub fn upgrade<R: Read>(
        mut self,
        protocol: &str,
        response: Response<R>,
    ) -> Box<dyn ReadWrite + Send> {
        response
            .raw_print(
                self.response_writer.as_mut().unwrap().by_ref(),
                self.http_version.clone(),
                &self.headers,
                false,
                Some(protocol),
            )
            .ok(); // TODO: unused result
        self.response_writer.as_mut().unwrap().flush().ok(); // TODO: unused result
        self.into_upgraded()
    }

    /// openbb-files patch: like [`Request::upgrade`], with the response's bytes (its status
    /// line and headers, which should include `Connection: upgrade` and `Upgrade`) written as
    /// they are, so that the caller finishes its `101` as it finishes every other answer.
    pub fn upgrade_with_head(mut self, head: &[u8]) -> Box<dyn ReadWrite + Send> {
        let writer = self.response_writer.as_mut().unwrap();
        writer.write_all(head).and_then(|()| writer.flush()).ok(); // as `upgrade`: the stream fails next
        self.into_upgraded()
    }

    /// The connection's stream, once the answer switching protocols is written.
    fn into_upgraded(mut self) -> Box<dyn ReadWrite + Send> {
        use crate::util::CustomStream;

        let stream = CustomStream::new(self.extract_reader_impl(), self.extract_writer_impl());
        if let Some(sender) = self.notify_when_responded.take() {
            let stream = NotifyOnDrop {
                sender,
                inner: stream,
            };
            Box::new(stream) as Box<dyn ReadWrite + Send>
        } else {
            Box::new(stream) as Box<dyn ReadWrite + Send>
        }
    }

    /// Allows to read the body of the request.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # extern crate rustc_serialize;
    /// # extern crate tiny_http;
    /// # use rustc_serialize::json::Json;
    /// # use std::io::Read;
    /// # fn get_content_type(_: &tiny_http::Request) -> &'static str { "" }
    /// # fn main() {
    /// # let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
    /// let mut request = server.recv().unwrap();
    ///
    /// if get_content_type(&request) == "application/json" {
    ///     let mut content = String::new();
    ///     request.as_reader().read_to_string(&mut content).unwrap();
    ///     let json: Json = content.parse().unwrap();
    /// }
    /// # }
    /// ```
    ///
    /// openbb-files patch: the body has already been read (a `100 Continue` the client asked
    /// for was sent before that), so this reader never waits on the client.
    #[inline]
    pub fn as_reader(&mut self) -> &mut dyn Read {
        self.data_reader.as_mut().unwrap()
    }

    /// Turns the `Request` into a writer.
    ///
    /// The writer has a raw access to the stream to the user.
    /// This function is useful for things like CGI.
    ///
    /// Note that the destruction of the `Writer` object may trigger
    /// some events. For exemple if a client has sent multiple requests and the requests
    /// have been processed in parallel, the destruction of a writer will trigger
    /// the writing of the next response.
    /// Therefore you should always destroy the `Writer` as soon as possible.
    #[inline]
    pub fn into_writer(mut self) -> Box<dyn Write + Send + 'static> {
        let writer = self.extract_writer_impl();
        if let Some(sender) = self.notify_when_responded.take() {
            let writer = NotifyOnDrop {
                sender,
                inner: writer,
            };
            Box::new(writer) as Box<dyn Write + Send + 'static>
        } else {
            Box::new(writer)
        }
    }

    /// Extract the response `Writer` object from the Request, dropping this `Writer` has the same side effects
    /// as the object returned by `into_writer` above.
    ///
    /// This may only be called once on a single request.
    fn extract_writer_impl(&mut self) -> Box<dyn AnswerSink> {
        use std::mem;

        assert!(self.response_writer.is_some());

        let mut writer = None;
        mem::swap(&mut self.response_writer, &mut writer);
        writer.unwrap()
    }

    /// Extract the body `Reader` object from the Request.
    ///
    /// This may only be called once on a single request.
    fn extract_reader_impl(&mut self) -> Box<dyn Read + Send + 'static> {
        use std::mem;

        assert!(self.data_reader.is_some());

        let mut reader = None;
        mem::swap(&mut self.data_reader, &mut reader);
        reader.unwrap()
    }

    /// Sends a response to this request.
    #[inline]
    pub fn respond<R>(mut self, response: Response<R>) -> Result<(), IoError>
    where
        R: Read,
    {
        let res = self.respond_impl(response);
        if let Some(sender) = self.notify_when_responded.take() {
            sender.send(()).unwrap();
        }
        res
    }

    fn respond_impl<R>(&mut self, response: Response<R>) -> Result<(), IoError>
    where
        R: Read,
    {
        let mut writer = self.extract_writer_impl();

        let do_not_send_body = self.method == Method::Head;

        Self::ignore_client_closing_errors(response.raw_print(
            writer.by_ref(),
            self.http_version.clone(),
            &self.headers,
            do_not_send_body,
            None,
        ))?;

        Self::ignore_client_closing_errors(writer.flush())
    }

    fn ignore_client_closing_errors(result: io::Result<()>) -> io::Result<()> {
        result.or_else(|err| match err.kind() {
            ErrorKind::BrokenPipe => Ok(()),
            ErrorKind::ConnectionAborted => Ok(()),
            ErrorKind::ConnectionRefused => Ok(()),
            ErrorKind::ConnectionReset => Ok(()),
            _ => Err(err),
        })
    }

    pub(crate) fn with_notify_sender(mut self, sender: Sender<()>) -> Self {
        self.notify_when_responded = Some(sender);
        self
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> Result<(), fmt::Error> {
        write!(
            formatter,
            "Request({} {} from {:?})",
            self.method, self.path, self.remote_addr
        )
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        if self.response_writer.is_some() {
            let response = Response::empty(500);
            let _ = self.respond_impl(response); // ignoring any potential error
            if let Some(sender) = self.notify_when_responded.take() {
                sender.send(()).unwrap();
            }
        }
    }
}

/// openbb-files patch: an answer on its way to the client (`Request::send`).
struct Answer<B> {
    writer: Box<dyn AnswerSink>,
    head: Vec<u8>,
    body: B,
    /// Bytes of `head` and then `body` written so far.
    sent: usize,
    close: bool,
}

/// An answer left to a thread of its own, with the sender `Request::respond` would notify.
type Rest<B> = Mutex<Option<(Answer<B>, Option<Sender<()>>)>>;

impl<B: AsRef<[u8]>> Answer<B> {
    fn left(&self) -> usize {
        self.head.len() + self.body.as_ref().len() - self.sent
    }

    /// Writes what the client takes at once; true when all is written.
    fn send_now(&mut self) -> io::Result<bool> {
        while self.left() > 0 {
            let (head, body) = (self.head.as_slice(), self.body.as_ref());
            let parts = match head.get(self.sent..) {
                Some(head) if !head.is_empty() => [IoSlice::new(head), IoSlice::new(body)],
                _ => [
                    IoSlice::new(&body[self.sent - head.len()..]),
                    IoSlice::new(&[]),
                ],
            };
            match self.writer.send_now(&parts) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(written) => self.sent += written,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Writes the rest of the answer in `rest` as the client takes it, giving up when it takes
    /// nothing for `timeout` or at `deadline`; then finishes it.
    fn send_rest(rest: &Rest<B>, timeout: Option<Duration>, deadline: Option<Instant>) {
        let taken = rest.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some((mut answer, notify)) = taken else {
            return;
        };
        let sent = loop {
            match answer.send_now() {
                Ok(true) => break Ok(()),
                Ok(false) => {}
                Err(e) => break Err(e),
            }
            let wait = match deadline.map(|at| at.checked_duration_since(Instant::now())) {
                Some(None) => break Err(ErrorKind::TimedOut.into()),
                Some(Some(left)) => Some(timeout.map_or(left, |timeout| timeout.min(left))),
                None => timeout,
            };
            match answer.writer.wait_writable(wait) {
                Ok(true) => {}
                Ok(false) => break Err(ErrorKind::TimedOut.into()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        answer.finish(sent, notify);
    }

    /// Ends the answer: the connection closes if it asked to or the answer failed; the next
    /// answer on the connection may go once the writer is dropped.
    fn finish(mut self, sent: io::Result<()>, notify: Option<Sender<()>>) {
        match sent {
            Ok(()) if !self.close => {
                let _ = self.writer.flush();
            }
            _ => self.writer.close(),
        }
        drop(self.writer);
        if let Some(sender) = notify {
            let _ = sender.send(());
        }
    }
}

/// Dummy trait that regroups the `Read` and `Write` traits.
///
/// Automatically implemented on all types that implement both `Read` and `Write`.
pub trait ReadWrite: Read + Write {}
impl<T> ReadWrite for T where T: Read + Write {}

#[cfg(test)]
mod tests {
    use super::Request;

    #[test]
    fn must_be_send() {
        #![allow(dead_code)]
        fn f<T: Send>(_: &T) {}
        fn bar(rq: &Request) {
            f(rq);
        }
    }

    /// Patch 3 (PATCHES.md): an upgrade request carries a clone of its TCP socket, whose
    /// timeouts apply to the upgraded stream and which writes beside it; other requests do not.
    #[test]
    fn upgrade_requests_carry_their_socket() {
        use std::io::{ErrorKind, Read, Write};
        use std::net::TcpStream;
        use std::time::{Duration, Instant};

        let server = crate::Server::http("127.0.0.1:0").unwrap();
        let addr = server.server_addr().to_ip().unwrap();
        let mut client = TcpStream::connect(addr).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        client
            .write_all(b"GET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut plain = server
            .recv_timeout(Duration::from_secs(5))
            .unwrap()
            .unwrap();
        assert!(plain.take_upgrade_socket().is_none());
        plain.respond(crate::Response::empty(204)).unwrap();

        client
            .write_all(
                b"GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n",
            )
            .unwrap();
        let mut request = server
            .recv_timeout(Duration::from_secs(5))
            .unwrap()
            .unwrap();
        let mut socket = request
            .take_upgrade_socket()
            .expect("a socket for an upgrade");
        assert!(request.take_upgrade_socket().is_none(), "taken once");
        let mut stream = request.upgrade("test", crate::Response::empty(101));
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let started = Instant::now();
        let mut buf = [0u8; 16];
        let err = stream.read(&mut buf).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
            "{:?}",
            err
        );
        assert!(started.elapsed() < Duration::from_secs(3));

        socket.write_all(b"from the clone").unwrap();
        client.write_all(b"to the stream").unwrap();
        let mut got = [0u8; 13];
        stream.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"to the stream");

        let mut seen = Vec::new();
        while !String::from_utf8_lossy(&seen).ends_with("from the clone") {
            let mut chunk = [0u8; 256];
            let n = client.read(&mut chunk).unwrap();
            assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&seen));
            seen.extend_from_slice(&chunk[..n]);
        }
        let seen = String::from_utf8_lossy(&seen);
        assert!(seen.starts_with("HTTP/1.1 204"), "{}", seen);
        assert!(seen.contains("HTTP/1.1 101"), "{}", seen);
    }
}
