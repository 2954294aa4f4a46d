use ascii::AsciiString;

use std::io::Error as IoError;
use std::io::Result as IoResult;
use std::io::{BufRead, BufReader, BufWriter, ErrorKind, Read, Write};

use std::borrow::Cow;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{HTTPVersion, Header, Method, StatusCode};
use crate::request::{
    self, Body, BodyBudget, BodyRules, Framing, Pace, RequestCreationError, RequestHead,
};
use crate::util::RefinedTcpStream;
use crate::util::{SequentialReader, SequentialReaderBuilder, SequentialWriterBuilder};
use crate::Request;

/// openbb-files patch: what one connection may cost. Upstream had no bound at all: request lines
/// and headers of any length, bodies of any announced length, and sockets that wait forever.
#[derive(Clone)]
pub struct ConnectionLimits {
    /// The request line and the headers together, in bytes. A longer request line is answered
    /// 414 (with the headers that follow it, read within a budget of their own: see
    /// `LONG_LINE_SKIP_BYTES`), longer headers 431.
    pub max_header_bytes: usize,
    /// The largest `Content-Length` accepted; a larger one is answered 413 before the body is
    /// read (chunked bodies are the caller's to bound while reading them).
    pub max_body_bytes: usize,
    /// Set as the read and write timeout of every accepted socket: an idle keep-alive
    /// connection, or a client that stops reading a response, is dropped after this long.
    /// It also bounds the time a request's line and headers may take from their first byte
    /// (answered 408), so a client trickling bytes cannot hold a connection forever.
    pub timeout: Option<Duration>,
    /// With `timeout`: a request body must arrive, and an answer be taken, within `timeout`
    /// plus a second per this many bytes of it (a body late is answered 408; an answer late
    /// is given up and its connection closed). 0: no such deadline.
    pub min_bytes_per_sec: usize,
    /// The bytes of request bodies read ahead of the workers (bodies are read whole before
    /// their request is queued), all connections together; a body that finds no room is
    /// answered 503. At least `max_body_bytes`, or the largest bodies never fit.
    pub max_pending_body_bytes: usize,
    /// How refusals are answered; `None` for a plain-text answer giving the reason.
    pub answer_refusal: Option<AnswerRefusal>,
}

impl Default for ConnectionLimits {
    /// No limits, as upstream.
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            max_header_bytes: usize::MAX,
            max_body_bytes: usize::MAX,
            timeout: None,
            min_bytes_per_sec: 0,
            max_pending_body_bytes: usize::MAX,
            answer_refusal: None,
        }
    }
}

/// openbb-files patch: a request the connection refuses (malformed, too large, too slow, framed
/// ambiguously...), as far as it was read, for [`ConnectionLimits::answer_refusal`].
pub struct Refused<'a> {
    pub status: u16,
    pub reason: &'a str,
    /// The request line's method, target and version; `None` when the request line itself
    /// was refused (or none was read).
    pub request_line: Option<(&'a Method, &'a str, &'a HTTPVersion)>,
    /// The headers read before the refusal, after a request line too long to keep included;
    /// empty when none were.
    pub headers: &'a [Header],
}

/// openbb-files patch: the whole answer (status line, headers, body) to a refusal. It should
/// say `Connection: close`, for the connection closes after it whatever it says: after a
/// refusal the bytes that follow cannot be trusted to start a request (the framing may be
/// broken, a body left unread), so here the connection layer's rule wins over the answer's.
pub type AnswerRefusal = Arc<dyn Fn(&Refused<'_>) -> Vec<u8> + Send + Sync>;

/// openbb-files patch: what the connections of one server share.
pub(crate) struct Shared {
    limits: ConnectionLimits,
    body_rules: BodyRules,
}

impl Shared {
    pub(crate) fn new(limits: ConnectionLimits) -> Arc<Shared> {
        let budget = limits.max_pending_body_bytes.max(limits.max_body_bytes);
        Arc::new(Shared {
            body_rules: BodyRules {
                max_bytes: limits.max_body_bytes,
                pace: limits.pace(),
                budget: (budget < usize::MAX).then(|| BodyBudget::new(budget)),
            },
            limits,
        })
    }

    pub(crate) fn timeout(&self) -> Option<Duration> {
        self.limits.timeout
    }

    /// The bytes answering `refused`: `ConnectionLimits::answer_refusal`'s, or by default the
    /// reason as plain text with `Connection: close`.
    pub(crate) fn answer(&self, refused: &Refused<'_>) -> Vec<u8> {
        if let Some(answer) = &self.limits.answer_refusal {
            return answer(refused);
        }
        format!(
            "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{}",
            refused.status,
            StatusCode(refused.status).default_reason_phrase(),
            refused.reason.len(),
            refused.reason
        )
        .into_bytes()
    }
}

impl ConnectionLimits {
    fn pace(&self) -> Pace {
        Pace {
            timeout: self.timeout,
            min_bytes_per_sec: self.min_bytes_per_sec,
        }
    }
}

/// After refusing a request, what is still read (and dropped) before the socket closes, so
/// that a client still sending does not get a reset in place of the answer.
const LINGER_BYTES: usize = 16 * 1024 * 1024;
const LINGER_TIME: Duration = Duration::from_secs(2);

/// openbb-files patch: after a request line over `max_header_bytes`, how many more bytes of it
/// are read (and dropped) to reach its headers, whose `Origin` the 414 needs for its CORS
/// headers. Dropped bytes hold no memory; the head's deadline still applies. Beyond it the 414
/// is answered without the headers.
const LONG_LINE_SKIP_BYTES: usize = 1024 * 1024;

/// A ClientConnection is an object that will store a socket to a client
/// and return Request objects.
pub struct ClientConnection {
    // address of the client
    remote_addr: IoResult<Option<SocketAddr>>,

    // sequence of Readers to the stream, so that the data is not read in
    //  the wrong order
    source: SequentialReaderBuilder<BufReader<RefinedTcpStream>>,

    // sequence of Writers to the stream, to avoid writing response #2 before
    //  response #1
    sink: SequentialWriterBuilder<BufWriter<RefinedTcpStream>>,

    // Reader to read the next header from
    next_header_source: SequentialReader<BufReader<RefinedTcpStream>>,

    // set to true if we know that the previous request is the last one
    no_more_requests: bool,

    // true if the connection goes through SSL
    secure: bool,

    // openbb-files patch: the limits and answers shared by the server's connections
    shared: Arc<Shared>,

    // openbb-files patch: a request head already read, whose request is still to be built
    // (see `read_ready_head`)
    pending_head: Option<RequestHead>,
}

impl RequestHead {
    /// true if building the request can wait on the client or on another request: a body to
    /// read, an `Expect` to answer, an upgrade (its socket is cloned under the writer's lock),
    /// or a version answered 505.
    fn may_wait(&self) -> bool {
        let header = |name: &'static str| self.headers.iter().find(|h| h.field.equiv(name));
        self.version > (1, 1)
            || header("Content-Length").is_some_and(|h| h.value.as_str().trim() != "0")
            || header("Transfer-Encoding").is_some()
            || header("Expect").is_some()
            || crate::request::connection_upgrade(&self.headers)
    }
}

/// Error that can happen when reading a request.
#[derive(Debug)]
enum ReadError {
    WrongRequestLine,
    WrongHeader,
    NotAscii,
    RequestLineTooLong,
    HeadersTooLarge,
    /// the request line and headers did not arrive in time
    TimedOut,
    /// refused with this status and reason while building the request (its framing, its
    /// body, its version)
    Refused(u16, Cow<'static, str>),
    /// the previous answer ended the connection (`SequentialWriter::close`)
    Closing,
    /// the connection closed or failed, or stayed idle, before a complete request
    ReadIoError(IoError),
}

impl From<RequestCreationError> for ReadError {
    fn from(error: RequestCreationError) -> ReadError {
        match error {
            RequestCreationError::CreationIoError(e) => ReadError::ReadIoError(e),
            RequestCreationError::Refused(status, reason) => ReadError::Refused(status, reason),
        }
    }
}

impl ReadError {
    /// The status and `reason` the client is answered with before the connection closes;
    /// `None` to close without an answer.
    fn answer(&self) -> Option<(u16, &str)> {
        Some(match self {
            ReadError::WrongRequestLine => (400, "malformed request line"),
            ReadError::WrongHeader => (400, "malformed request header"),
            ReadError::NotAscii => (400, "the request line or a header is not ASCII"),
            ReadError::RequestLineTooLong => (414, "the request line is too long"),
            ReadError::HeadersTooLarge => (431, "the request headers are too large"),
            ReadError::TimedOut => (408, "the request did not arrive in time"),
            ReadError::Refused(status, reason) => (*status, reason.as_ref()),
            ReadError::Closing | ReadError::ReadIoError(_) => return None,
        })
    }
}

/// Progress through one request's line and headers.
struct Head {
    /// When its first byte arrived.
    started: Option<Instant>,
    /// Bytes still allowed.
    remaining: usize,
}

impl ClientConnection {
    /// Creates a new `ClientConnection` that takes ownership of the `TcpStream`.
    pub fn new(write_socket: RefinedTcpStream, read_socket: RefinedTcpStream) -> ClientConnection {
        let shared = Shared::new(ConnectionLimits::default());
        ClientConnection::with_limits(write_socket, read_socket, shared)
    }

    /// openbb-files patch: a connection bounded by `shared` limits (the socket timeouts
    /// themselves are set by the accept loop).
    pub(crate) fn with_limits(
        write_socket: RefinedTcpStream,
        mut read_socket: RefinedTcpStream,
        shared: Arc<Shared>,
    ) -> ClientConnection {
        let remote_addr = read_socket.peer_addr();
        let secure = read_socket.secure();

        let mut source = SequentialReaderBuilder::new(BufReader::with_capacity(1024, read_socket));
        let first_header = source.next().unwrap();

        ClientConnection {
            source,
            sink: SequentialWriterBuilder::new(BufWriter::with_capacity(1024, write_socket)),
            remote_addr,
            next_header_source: first_header,
            no_more_requests: false,
            secure,
            shared,
            pending_head: None,
        }
    }

    /// true if the connection is HTTPS
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// Reads the next line from self.next_header_source, without its `CRLF`, within the
    /// byte budget and the time limit of `head`. The next read will start at the first byte
    /// of the new line. A lone `LF` does not end a line.
    fn read_next_line(
        &mut self,
        head: &mut Head,
        request_line: bool,
    ) -> Result<Vec<u8>, ReadError> {
        let over_budget = match request_line {
            true => ReadError::RequestLineTooLong,
            false => ReadError::HeadersTooLarge,
        };
        let mut line = Vec::new();
        self.pass_line(head, over_budget, |piece| line.extend_from_slice(piece))?;
        line.truncate(line.len() - 2);
        Ok(line)
    }

    /// Passes the next line, `CRLF` included, to `take` a piece at a time, within the byte
    /// budget and the time limit of `head` (`over_budget` when the line does not fit).
    ///
    /// openbb-files patch: reads what the buffer holds at once (upstream read byte by byte,
    /// and the time limit was checked per byte); the time limit is checked whenever the
    /// buffer is looked at, which includes after every read from the socket.
    fn pass_line(
        &mut self,
        head: &mut Head,
        over_budget: ReadError,
        mut take: impl FnMut(&[u8]),
    ) -> Result<(), ReadError> {
        // the last byte taken, to find a `CR` that ended the previous piece
        let mut last = None;
        loop {
            let reader = self.next_header_source.turn();
            let buffered = match reader.fill_buf() {
                Ok([]) => {
                    let err = IoError::new(ErrorKind::ConnectionAborted, "Unexpected EOF");
                    return Err(ReadError::ReadIoError(err));
                }
                Ok(buffered) => buffered,
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err)
                    if head.started.is_some()
                        && matches!(err.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) =>
                {
                    return Err(ReadError::TimedOut)
                }
                Err(err) => return Err(ReadError::ReadIoError(err)),
            };
            let started = *head.started.get_or_insert_with(Instant::now);
            if self
                .shared
                .timeout()
                .is_some_and(|limit| started.elapsed() > limit)
            {
                return Err(ReadError::TimedOut);
            }
            let newline = buffered.iter().position(|&byte| byte == b'\n');
            let taken = newline.map_or(buffered.len(), |at| at + 1);
            if taken > head.remaining {
                return Err(over_budget);
            }
            head.remaining -= taken;
            let piece = &buffered[..taken];
            let ended = match newline {
                Some(0) => last == Some(b'\r'),
                Some(at) => piece[at - 1] == b'\r',
                None => false,
            };
            last = piece.last().copied().or(last);
            take(piece);
            reader.consume(taken);
            if ended {
                return Ok(());
            }
        }
    }

    /// Reads a request's line and headers from the stream.
    /// Blocks until the header has been read.
    /// openbb-files patch: a refusal carries what was read of the head (for its answer).
    fn read_head(&mut self) -> Result<RequestHead, Refusal> {
        let mut progress = Head {
            started: None,
            remaining: self.shared.limits.max_header_bytes,
        };
        // reading the request line
        let line = match self.read_next_line(&mut progress, true) {
            Err(ReadError::RequestLineTooLong) => {
                return Err(self.refuse_long_line(progress.started))
            }
            line => line?,
        };
        let line = AsciiString::from_ascii(line).map_err(|_| ReadError::NotAscii)?;
        let (method, path, version) = parse_request_line(line.as_str().trim())?;
        let mut head = RequestHead {
            method,
            path,
            version,
            headers: Vec::new(),
        };
        match self.read_headers(&mut progress, &mut head.headers) {
            Ok(()) => Ok(head),
            Err(error) => Err(Refusal::with_head(error, head)),
        }
    }

    /// Reads header lines into `headers` up to the empty line that ends them.
    fn read_headers(
        &mut self,
        progress: &mut Head,
        headers: &mut Vec<Header>,
    ) -> Result<(), ReadError> {
        loop {
            let line = self.read_next_line(progress, false)?;
            if line.is_empty() {
                return Ok(());
            }
            let line = AsciiString::from_ascii(line).map_err(|_| ReadError::NotAscii)?;
            let header =
                Header::from_str(line.as_str().trim()).map_err(|_| ReadError::WrongHeader)?;
            headers.push(header);
        }
    }

    /// openbb-files patch: the refusal (414) of a request line over `max_header_bytes`, whose
    /// first bytes were read from `started`. The rest of the line (at most
    /// `LONG_LINE_SKIP_BYTES`) is read and dropped, then the headers within a budget of
    /// `max_header_bytes`, both by the head's deadline, so that the answer can carry the CORS
    /// headers of their `Origin`. If either does not fit or arrive in time, or a header is
    /// malformed, the 414 carries no header, as before.
    fn refuse_long_line(&mut self, started: Option<Instant>) -> Refusal {
        let mut rest_of_line = Head {
            started,
            remaining: LONG_LINE_SKIP_BYTES,
        };
        let mut header_lines = Head {
            started,
            remaining: self.shared.limits.max_header_bytes,
        };
        let mut headers = Vec::new();
        let read = self
            .pass_line(&mut rest_of_line, ReadError::RequestLineTooLong, |_| {})
            .and_then(|()| self.read_headers(&mut header_lines, &mut headers));
        if read.is_err() {
            headers.clear();
        }
        Refusal {
            error: ReadError::RequestLineTooLong,
            request_line: None,
            headers,
        }
    }

    /// Builds the request of `head`.
    ///
    /// openbb-files patch: checks its framing (`request::framing`) and version, and reads its
    /// whole body (`request::read_body`), answering `Expect: 100-continue` first; a refusal
    /// keeps the head, for its answer.
    fn build_request(&mut self, head: RequestHead) -> Result<Request, Refusal> {
        if head.version > HTTPVersion(1, 1) {
            let reason = "only HTTP/1.0 and HTTP/1.1 are supported".into();
            return Err(Refusal::with_head(ReadError::Refused(505, reason), head));
        }
        let rules = &self.shared.body_rules;
        let framing = match request::framing(&head.headers, rules.max_bytes) {
            Ok(framing) => framing,
            Err(error) => return Err(Refusal::with_head(error.into(), head)),
        };

        // building the writer for the request
        let mut writer = self.sink.next().unwrap();

        // a socket for the caller of `Request::upgrade`: timeouts, and writing from one thread
        // while another reads (see PATCHES.md)
        let upgrade_socket = if framing == Framing::Upgrade {
            writer.with_inner(|w| w.get_ref().try_clone_tcp())
        } else {
            None
        };

        // follow-up for next potential request
        let mut data_source = self.source.next().unwrap();
        std::mem::swap(&mut self.next_header_source, &mut data_source);

        let body = match framing {
            Framing::Upgrade => Body::Upgrade(Box::new(data_source)),
            framing => {
                let has_body = !matches!(framing, Framing::NoBody | Framing::Length(0));
                let continues = head.version == HTTPVersion(1, 1)
                    && head.headers.iter().any(|h| h.field.equiv("Expect"));
                if has_body && continues {
                    let sent = writer
                        .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                        .and_then(|()| writer.flush());
                    if let Err(e) = sent {
                        return Err(Refusal::with_head(ReadError::ReadIoError(e), head));
                    }
                }
                // the reader passes to the next request once the body is read
                match request::read_body(framing, data_source, rules, Instant::now()) {
                    Ok((bytes, reserved)) => Body::Read(bytes, reserved),
                    Err(error) => return Err(Refusal::with_head(error.into(), head)),
                }
            }
        };
        // openbb-files patch: upstream unwrapped the address, and panicked when the client
        // had already gone (ENOTCONN from peer_addr).
        let remote_addr = self.remote_addr.as_ref().ok().copied().flatten();
        let request = Request::assemble(head, self.secure, remote_addr, body, Box::new(writer));
        Ok(request
            .with_upgrade_socket(upgrade_socket)
            .with_pace(self.shared.limits.pace()))
    }

    /// openbb-files patch: answers a refused request (through `ConnectionLimits::
    /// answer_refusal`; upstream sent empty bodies, and nothing at all for a non-ASCII header),
    /// then ends the connection (`linger`).
    fn refuse(&mut self, refused: &Refused<'_>) {
        let answer = self.shared.answer(refused);
        let mut writer = self.sink.next().unwrap();
        let sent = writer.write_all(&answer).and_then(|()| writer.flush());
        drop(writer);
        if sent.is_ok() {
            self.linger();
        }
    }

    /// openbb-files patch: shuts the sending side, then reads what the client is still sending
    /// for a bounded time and amount, so that closing does not reset the connection before
    /// the client has read the last answer.
    fn linger(&mut self) {
        if self
            .sink
            .with_inner(|w| w.get_mut().shutdown_write())
            .is_err()
        {
            return;
        }
        let started = Instant::now();
        let mut buf = [0; 8192];
        let mut drained = 0;
        while drained < LINGER_BYTES && started.elapsed() < LINGER_TIME {
            match self.next_header_source.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(read) => drained += read,
            }
        }
    }
}

impl ClientConnection {
    /// openbb-files patch: the next request, with what it says of the connection (whether
    /// more requests may follow), or why it was refused. `next` answers the refusal at once;
    /// the idle-connection thread (`util/idle_connections.rs`), which must not wait on a
    /// client, leaves that to a pool thread.
    ///
    /// openbb-files patch: one request at a time: the next is read once the previous answer is
    /// written (`SequentialWriterBuilder::last_done`), so a client that pipelines requests and
    /// reads no answer holds one answer, not a worker per request; none if that answer ended
    /// the connection.
    pub(crate) fn read_request(&mut self) -> Result<Request, Refusal> {
        let head = match self.pending_head.take() {
            Some(head) => head,
            None => {
                if self.sink.last_done(true) == Some(true) {
                    return Err(ReadError::Closing.into());
                }
                self.read_head()?
            }
        };
        let rq = self.build_request(head)?;

        // updating the status of the connection
        let connection_header = rq
            .headers()
            .iter()
            .find(|h| h.field.equiv("Connection"))
            .map(|h| h.value.as_str());

        let lowercase = connection_header.map(|h| h.to_ascii_lowercase());

        match lowercase {
            Some(ref val) if val.contains("close") => self.no_more_requests = true,
            Some(ref val) if val.contains("upgrade") => self.no_more_requests = true,
            Some(ref val)
                if !val.contains("keep-alive") && *rq.http_version() == HTTPVersion(1, 0) =>
            {
                self.no_more_requests = true
            }
            None if *rq.http_version() == HTTPVersion(1, 0) => self.no_more_requests = true,
            _ => (),
        };
        Ok(rq)
    }

    /// openbb-files patch: for the idle-connection thread, once the whole head of the next
    /// request is in the socket: reads it, and tells whether `read_request` can then build the
    /// request without waiting. If not, the head is kept for the thread that goes on.
    pub(crate) fn read_ready_head(&mut self) -> Result<bool, Refusal> {
        let head = self.read_head()?;
        let ready = !head.may_wait();
        self.pending_head = Some(head);
        Ok(ready)
    }

    /// openbb-files patch: answers a refused request (if it gets an answer) and reads what the
    /// client still sends for a while; the connection is done with afterwards.
    pub(crate) fn answer_refusal(&mut self, refusal: Refusal) {
        let Refusal {
            error,
            request_line,
            headers,
        } = refusal;
        match error.answer() {
            Some((status, reason)) => self.refuse(&Refused {
                status,
                reason,
                request_line: request_line
                    .as_ref()
                    .map(|(method, path, version)| (method, path.as_str(), version)),
                headers: &headers,
            }),
            None if matches!(error, ReadError::Closing) => self.linger(),
            None => {}
        }
    }

    /// openbb-files patch: for the idle-connection thread: whether the answer to the previous
    /// request is written (`Some(false)`), not yet (`None`), or ended the connection
    /// (`Some(true)`); a new request is read only in the first case.
    pub(crate) fn previous_answer_done(&mut self) -> Option<bool> {
        self.sink.last_done(false)
    }

    /// openbb-files patch: the socket, while this connection is between requests and can wait
    /// in an epoll set: plain (not TLS), more requests may follow, the previous request is done
    /// with the reader (its body read), and no byte or head of the next request is held yet.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub(crate) fn idle_socket(&mut self) -> Option<std::os::fd::BorrowedFd<'_>> {
        self.idle_reader()?.get_ref().plain_fd()
    }

    /// openbb-files patch: for the idle-connection thread, once an idle connection's socket is
    /// readable: receives what arrived (without waiting) into `scratch` and keeps it for the
    /// reader, in front of the socket's bytes; the count received, or `None` if the
    /// connection is not idle (see `idle_socket`).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub(crate) fn receive_arrived(
        &mut self,
        scratch: &mut [u8],
    ) -> Option<rustix::io::Result<usize>> {
        use rustix::net::{recv, RecvFlags};
        let reader = self.idle_reader()?;
        let received = recv(
            reader.get_ref().plain_fd()?,
            &mut *scratch,
            RecvFlags::DONTWAIT,
        );
        let received = received.map(|(count, _)| count);
        if let Ok(count) = received {
            reader.get_mut().push_arrived(&scratch[..count]);
        }
        Some(received)
    }

    /// The reader, if the connection is between requests and holds no byte of the next one.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn idle_reader(&mut self) -> Option<&mut BufReader<RefinedTcpStream>> {
        if self.no_more_requests || self.pending_head.is_some() {
            return None;
        }
        let reader = self.next_header_source.try_turn()?;
        let holds_bytes = !reader.buffer().is_empty() || reader.get_ref().has_arrived();
        (!holds_bytes).then_some(reader)
    }

    /// openbb-files patch: true if dropping the connection now cannot wait on the client (see
    /// `SequentialWriterBuilder::drops_without_writing`; the reader is free when it is idle).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub(crate) fn closes_without_waiting(&mut self) -> bool {
        self.sink.drops_without_writing()
    }
}

/// Why a request was refused (see `ClientConnection::read_request`), with what was read of
/// its head: the request line if it was read, and the headers.
pub(crate) struct Refusal {
    error: ReadError,
    request_line: Option<(Method, String, HTTPVersion)>,
    headers: Vec<Header>,
}

impl Refusal {
    fn with_head(error: ReadError, head: RequestHead) -> Refusal {
        let RequestHead {
            method,
            path,
            version,
            headers,
        } = head;
        Refusal {
            error,
            request_line: Some((method, path, version)),
            headers,
        }
    }
}

impl From<ReadError> for Refusal {
    fn from(error: ReadError) -> Refusal {
        Refusal {
            error,
            request_line: None,
            headers: Vec::new(),
        }
    }
}

impl Iterator for ClientConnection {
    type Item = Request;

    /// Blocks until the next Request is available.
    /// Returns None when no new Requests will come from the client.
    fn next(&mut self) -> Option<Request> {
        // the client sent a "connection: close" header in this previous request
        //  or is using HTTP 1.0, meaning that no new request will come
        if self.no_more_requests {
            return None;
        }
        // after a refusal we do not know where the next request would start: close
        // (openbb-files patch: a version above 1.1 is such a refusal, 505)
        match self.read_request() {
            Ok(rq) => Some(rq),
            Err(refusal) => {
                self.answer_refusal(refusal);
                None
            }
        }
    }
}

/// Parses a "HTTP/1.1" string.
fn parse_http_version(version: &str) -> Result<HTTPVersion, ReadError> {
    let (major, minor) = match version {
        "HTTP/0.9" => (0, 9),
        "HTTP/1.0" => (1, 0),
        "HTTP/1.1" => (1, 1),
        "HTTP/2.0" => (2, 0),
        "HTTP/3.0" => (3, 0),
        _ => return Err(ReadError::WrongRequestLine),
    };

    Ok(HTTPVersion(major, minor))
}

/// Parses the request line of the request.
/// eg. GET / HTTP/1.1
fn parse_request_line(line: &str) -> Result<(Method, String, HTTPVersion), ReadError> {
    let mut parts = line.split(' ');

    let method = parts.next().and_then(|w| w.parse().ok());
    let path = parts.next().map(ToOwned::to_owned);
    let version = parts.next().and_then(|w| parse_http_version(w).ok());

    method
        .and_then(|method| Some((method, path?, version?)))
        .ok_or(ReadError::WrongRequestLine)
}

#[cfg(test)]
mod test {
    #[test]
    fn test_parse_request_line() {
        let (method, path, ver) = super::parse_request_line("GET /hello HTTP/1.1").unwrap();

        assert!(method == crate::Method::Get);
        assert!(path == "/hello");
        assert!(ver == crate::common::HTTPVersion(1, 1));

        assert!(super::parse_request_line("GET /hello").is_err());
        assert!(super::parse_request_line("qsd qsd qsd").is_err());
    }
}
