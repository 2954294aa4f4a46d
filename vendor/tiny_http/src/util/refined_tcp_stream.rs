use std::io::Error as IoError;
use std::io::Result as IoResult;
use std::io::{IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};

use crate::connection::Connection;
#[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
use crate::ssl::SslStream;

pub(crate) enum Stream {
    Http(Connection),
    #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
    Https(SslStream),
}

impl Stream {
    /// openbb-files patch: upstream's `Clone` unwrapped `TcpStream::try_clone`, which fails
    /// (and so panicked the accept thread) when the process has no file descriptor left.
    fn try_clone(&self) -> IoResult<Self> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.try_clone().map(Stream::Http),
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(ssl_stream) => Ok(Stream::Https(ssl_stream.clone())),
        }
    }
}

impl From<Connection> for Stream {
    fn from(tcp_stream: Connection) -> Self {
        Stream::Http(tcp_stream)
    }
}

impl Stream {
    fn secure(&self) -> bool {
        match self {
            Stream::Http(_) => false,
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(_) => true,
        }
    }

    fn peer_addr(&mut self) -> IoResult<Option<SocketAddr>> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.peer_addr(),
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(ssl_stream) => ssl_stream.peer_addr(),
        }
    }

    fn shutdown(&mut self, how: Shutdown) -> IoResult<()> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.shutdown(how),
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(ssl_stream) => ssl_stream.shutdown(how),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> IoResult<usize> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.read(buf),
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(ssl_stream) => ssl_stream.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> IoResult<usize> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.write(buf),
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(ssl_stream) => ssl_stream.write(buf),
        }
    }

    /// openbb-files patch: one `writev` for a plain socket (upstream wrote the first slice).
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> IoResult<usize> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.write_vectored(bufs),
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(ssl_stream) => ssl_stream.write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> IoResult<()> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.flush(),
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(ssl_stream) => ssl_stream.flush(),
        }
    }
}

pub struct RefinedTcpStream {
    stream: Stream,
    close_read: bool,
    close_write: bool,
    /// openbb-files patch: bytes the idle-connection thread already received from this socket
    /// (`idle_connections.rs`), read before the socket's own; `arrived_read` of them are read.
    arrived: Vec<u8>,
    arrived_read: usize,
}

impl RefinedTcpStream {
    /// The reading and the writing half of `stream`; on failure (no file descriptor left to
    /// clone a socket) the stream comes back with the error, so the caller can still answer.
    pub(crate) fn new<S>(
        stream: S,
    ) -> Result<(RefinedTcpStream, RefinedTcpStream), (IoError, Stream)>
    where
        S: Into<Stream>,
    {
        let stream: Stream = stream.into();

        let read = match stream.try_clone() {
            Ok(read) => read,
            Err(err) => return Err((err, stream)),
        };
        let write = stream;

        let read = RefinedTcpStream {
            stream: read,
            close_read: true,
            close_write: false,
            arrived: Vec::new(),
            arrived_read: 0,
        };

        let write = RefinedTcpStream {
            stream: write,
            close_read: false,
            close_write: true,
            arrived: Vec::new(),
            arrived_read: 0,
        };

        Ok((read, write))
    }

    /// Returns true if this struct wraps around a secure connection.
    #[inline]
    pub(crate) fn secure(&self) -> bool {
        self.stream.secure()
    }

    pub(crate) fn peer_addr(&mut self) -> IoResult<Option<SocketAddr>> {
        self.stream.peer_addr()
    }

    /// A clone of the TCP socket (a new descriptor on the same socket, sharing its timeouts);
    /// `None` for TLS and Unix-socket connections, or when the descriptor cannot be cloned.
    pub(crate) fn try_clone_tcp(&self) -> Option<TcpStream> {
        match &self.stream {
            Stream::Http(Connection::Tcp(socket)) => socket.try_clone().ok(),
            _ => None,
        }
    }

    /// openbb-files patch: the descriptor of a plain (not TLS) socket, which can wait in an
    /// epoll set (`idle_connections.rs`); a TLS stream may hold decrypted bytes of its own.
    #[cfg(unix)]
    pub(crate) fn plain_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        match &self.stream {
            Stream::Http(connection) => Some(connection.as_fd()),
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(_) => None,
        }
    }

    /// openbb-files patch: bytes received from this socket by the idle-connection thread, to be
    /// read before any more of the socket's.
    pub(crate) fn push_arrived(&mut self, bytes: &[u8]) {
        self.arrived.extend_from_slice(bytes);
    }

    /// openbb-files patch: whether bytes from `push_arrived` are still unread.
    pub(crate) fn has_arrived(&self) -> bool {
        self.arrived_read < self.arrived.len()
    }

    /// openbb-files patch: writes what the client takes at once, without waiting for it: for a
    /// plain socket on Linux, one `sendmsg` with `MSG_DONTWAIT` (`WouldBlock` when the socket
    /// takes nothing) and `MSG_NOSIGNAL`; elsewhere, and over TLS, a write as `write_vectored`
    /// does, which waits for the client at most the socket's write timeout.
    #[allow(irrefutable_let_patterns)] // without TLS, every stream is a plain one
    pub(crate) fn send_now(&mut self, bufs: &[IoSlice<'_>]) -> IoResult<usize> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Stream::Http(connection) = &self.stream {
            use rustix::net::{sendmsg, SendAncillaryBuffer, SendFlags};
            let flags = SendFlags::DONTWAIT | SendFlags::NOSIGNAL;
            let mut no_control = SendAncillaryBuffer::default();
            return Ok(sendmsg(connection.as_fd(), bufs, &mut no_control, flags)?);
        }
        self.stream.write_vectored(bufs)
    }

    /// openbb-files patch: waits at most `timeout` (`None`: as long as it takes) for a plain
    /// socket to take more (`poll`), false if it did not; true at once elsewhere (`send_now`
    /// then waits itself).
    #[allow(irrefutable_let_patterns)] // without TLS, every stream is a plain one
    pub(crate) fn wait_writable(&self, timeout: Option<std::time::Duration>) -> IoResult<bool> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Stream::Http(connection) = &self.stream {
            use rustix::event::{poll, PollFd, PollFlags, Timespec};
            let timeout = timeout.map(|timeout| Timespec {
                tv_sec: timeout.as_secs().min(i32::MAX as u64) as _,
                tv_nsec: timeout.subsec_nanos() as _,
            });
            let socket = connection.as_fd();
            let mut fds = [PollFd::new(&socket, PollFlags::OUT)];
            return Ok(poll(&mut fds, timeout.as_ref())? > 0);
        }
        let _ = timeout;
        Ok(true)
    }

    /// openbb-files patch: tells the client no more data is coming (the read half still reads).
    pub(crate) fn shutdown_write(&mut self) -> IoResult<()> {
        self.stream.shutdown(Shutdown::Write)
    }
}

impl Drop for RefinedTcpStream {
    fn drop(&mut self) {
        if self.close_read {
            self.stream.shutdown(Shutdown::Read).ok();
        }

        if self.close_write {
            self.stream.shutdown(Shutdown::Write).ok();
        }
    }
}

impl Read for RefinedTcpStream {
    fn read(&mut self, buf: &mut [u8]) -> IoResult<usize> {
        // openbb-files patch: the bytes the idle-connection thread received come first
        let arrived = &self.arrived[self.arrived_read..];
        if arrived.is_empty() {
            return self.stream.read(buf);
        }
        let taken = arrived.len().min(buf.len());
        buf[..taken].copy_from_slice(&arrived[..taken]);
        self.arrived_read += taken;
        if self.arrived_read == self.arrived.len() {
            self.arrived.clear(); // the capacity stays, for the next request's bytes
            self.arrived_read = 0;
        }
        Ok(taken)
    }
}

impl Write for RefinedTcpStream {
    fn write(&mut self, buf: &[u8]) -> IoResult<usize> {
        self.stream.write(buf)
    }

    // openbb-files patch: see `Stream::write_vectored`
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> IoResult<usize> {
        self.stream.write_vectored(bufs)
    }

    fn flush(&mut self) -> IoResult<()> {
        self.stream.flush()
    }
}
