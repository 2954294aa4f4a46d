use std::io::Result as IoResult;
use std::io::{BufWriter, IoSlice, Read, Write};
use std::time::Duration;

use super::RefinedTcpStream;

// openbb-files patch: one-value channels (see oneshot.rs) instead of std::sync::mpsc
use super::oneshot::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

use std::mem;

pub struct SequentialReaderBuilder<R>
where
    R: Read + Send,
{
    inner: SequentialReaderBuilderInner<R>,
}

enum SequentialReaderBuilderInner<R>
where
    R: Read + Send,
{
    First(R),
    NotFirst(Receiver<R>),
}

pub struct SequentialReader<R>
where
    R: Read + Send,
{
    inner: SequentialReaderInner<R>,
    next: Sender<R>,
}

enum SequentialReaderInner<R>
where
    R: Read + Send,
{
    MyTurn(R),
    Waiting(Receiver<R>),
    Empty,
}

pub struct SequentialWriterBuilder<W>
where
    W: Write + Send,
{
    writer: Arc<Mutex<W>>,
    // openbb-files patch: each writer says, when done, whether the connection is to close
    next_trigger: Option<Receiver<bool>>,
    /// openbb-files patch: a writer done asked to close the connection
    close_asked: bool,
}

pub struct SequentialWriter<W>
where
    W: Write + Send,
{
    trigger: Option<Receiver<bool>>,
    writer: Arc<Mutex<W>>,
    on_finish: Sender<bool>,
    /// openbb-files patch: the connection closes after this writer's answer
    close: bool,
}

impl<R: Read + Send> SequentialReaderBuilder<R> {
    pub fn new(reader: R) -> SequentialReaderBuilder<R> {
        SequentialReaderBuilder {
            inner: SequentialReaderBuilderInner::First(reader),
        }
    }
}

impl<W: Write + Send> SequentialWriterBuilder<W> {
    pub fn new(writer: W) -> SequentialWriterBuilder<W> {
        SequentialWriterBuilder {
            writer: Arc::new(Mutex::new(writer)),
            next_trigger: None,
            close_asked: false,
        }
    }

    /// openbb-files patch: whether the last writer handed out is done, waiting for it with
    /// `wait` (`None`: not yet); once it is, `Some(true)` if a writer asked to close the
    /// connection (see `SequentialWriter::close_after`).
    pub fn last_done(&mut self, wait: bool) -> Option<bool> {
        if let Some(trigger) = self.next_trigger.take() {
            let close = match wait {
                true => trigger.recv().ok(),
                false => match trigger.try_recv() {
                    Ok(None) => {
                        self.next_trigger = Some(trigger);
                        return None;
                    }
                    done => done.ok().flatten(),
                },
            };
            self.close_asked |= close.unwrap_or(true);
        }
        Some(self.close_asked)
    }

    /// openbb-files patch: runs `f` on the underlying writer (to shut a socket down).
    pub fn with_inner<T>(&self, f: impl FnOnce(&mut W) -> T) -> T {
        let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut writer)
    }
}

impl<W: Write + Send> SequentialWriterBuilder<BufWriter<W>> {
    /// openbb-files patch: true if dropping this cannot write to the client: no request holds
    /// a writer any more and nothing is buffered. (The last owner of a `BufWriter` flushes it,
    /// which waits as long as the socket's write timeout for a client that does not read.)
    pub fn drops_without_writing(&mut self) -> bool {
        Arc::get_mut(&mut self.writer)
            .is_some_and(|writer| writer.get_mut().is_ok_and(|w| w.buffer().is_empty()))
    }
}

impl<R: Read + Send> Iterator for SequentialReaderBuilder<R> {
    type Item = SequentialReader<R>;

    fn next(&mut self) -> Option<SequentialReader<R>> {
        let (tx, rx) = channel();

        let inner = mem::replace(&mut self.inner, SequentialReaderBuilderInner::NotFirst(rx));

        match inner {
            SequentialReaderBuilderInner::First(reader) => Some(SequentialReader {
                inner: SequentialReaderInner::MyTurn(reader),
                next: tx,
            }),

            SequentialReaderBuilderInner::NotFirst(previous) => Some(SequentialReader {
                inner: SequentialReaderInner::Waiting(previous),
                next: tx,
            }),
        }
    }
}

impl<W: Write + Send> Iterator for SequentialWriterBuilder<W> {
    type Item = SequentialWriter<W>;
    fn next(&mut self) -> Option<SequentialWriter<W>> {
        let (tx, rx) = channel();
        let mut next_next_trigger = Some(rx);
        ::std::mem::swap(&mut next_next_trigger, &mut self.next_trigger);

        Some(SequentialWriter {
            trigger: next_next_trigger,
            writer: self.writer.clone(),
            on_finish: tx,
            close: false,
        })
    }
}

impl<R: Read + Send> SequentialReader<R> {
    /// openbb-files patch: the reader itself, once the previous request is done with it (so
    /// that a caller can read through `BufRead` rather than byte by byte).
    pub fn turn(&mut self) -> &mut R {
        if let SequentialReaderInner::Waiting(ref mut recv) = self.inner {
            self.inner = SequentialReaderInner::MyTurn(recv.recv().unwrap());
        }
        match self.inner {
            SequentialReaderInner::MyTurn(ref mut reader) => reader,
            SequentialReaderInner::Waiting(_) | SequentialReaderInner::Empty => unreachable!(),
        }
    }

    /// openbb-files patch: the reader if the previous request is already done with it, without
    /// waiting (for parking idle connections, `idle_connections.rs`).
    pub fn try_turn(&mut self) -> Option<&mut R> {
        if let SequentialReaderInner::Waiting(ref recv) = self.inner {
            self.inner = SequentialReaderInner::MyTurn(recv.try_recv().ok()??);
        }
        match self.inner {
            SequentialReaderInner::MyTurn(ref mut reader) => Some(reader),
            SequentialReaderInner::Waiting(_) | SequentialReaderInner::Empty => None,
        }
    }
}

impl<R: Read + Send> Read for SequentialReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> IoResult<usize> {
        self.turn().read(buf)
    }
}

impl<W: Write + Send> SequentialWriter<W> {
    /// Runs `f` on the shared writer (waiting while another response is being written to it).
    pub fn with_inner<T>(&self, f: impl FnOnce(&W) -> T) -> T {
        f(&self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}

impl<W: Write + Send> SequentialWriter<W> {
    /// Waits until the previous response on this connection is written. (openbb-files patch:
    /// one function for what upstream repeated in each write method.)
    fn wait_for_previous(&mut self) {
        if let Some(v) = self.trigger.take() {
            let _ = v.recv();
        }
    }
}

impl SequentialWriter<BufWriter<RefinedTcpStream>> {
    /// openbb-files patch: writes what the client takes at once (see
    /// `RefinedTcpStream::send_now`), after anything buffered.
    pub fn send_now(&mut self, bufs: &[IoSlice<'_>]) -> IoResult<usize> {
        self.wait_for_previous();
        let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        writer.flush()?;
        writer.get_mut().send_now(bufs)
    }

    /// openbb-files patch: ends the connection after this answer, which must be written: its
    /// sending side is shut (the client sees the end at once), and once this writer is done
    /// the connection reads no further request (`SequentialWriterBuilder::last_done`).
    pub fn close(&mut self) {
        self.wait_for_previous();
        self.close = true;
        let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writer.flush();
        let _ = writer.get_mut().shutdown_write();
    }

    /// openbb-files patch: waits at most `timeout` for the client to take more; false if it
    /// took nothing.
    pub fn wait_writable(&self, timeout: Option<Duration>) -> IoResult<bool> {
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        writer.get_ref().wait_writable(timeout)
    }
}

impl<W: Write + Send> Write for SequentialWriter<BufWriter<W>> {
    fn write(&mut self, buf: &[u8]) -> IoResult<usize> {
        self.wait_for_previous();
        self.writer.lock().unwrap().write(buf)
    }

    /// openbb-files patch: what is buffered goes first, then `bufs` in one vectored write to
    /// the stream itself, so a head and a large body leave in one system call. (`BufWriter`
    /// on stable Rust cannot tell that the stream takes vectored writes, and would have made
    /// two writes of them.)
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> IoResult<usize> {
        self.wait_for_previous();
        let mut writer = self.writer.lock().unwrap();
        writer.flush()?;
        writer.get_mut().write_vectored(bufs)
    }

    fn flush(&mut self) -> IoResult<()> {
        self.wait_for_previous();
        self.writer.lock().unwrap().flush()
    }
}

impl<R> Drop for SequentialReader<R>
where
    R: Read + Send,
{
    fn drop(&mut self) {
        let inner = mem::replace(&mut self.inner, SequentialReaderInner::Empty);

        match inner {
            SequentialReaderInner::MyTurn(reader) => {
                self.next.send(reader).ok();
            }
            SequentialReaderInner::Waiting(recv) => {
                let reader = recv.recv().unwrap();
                self.next.send(reader).ok();
            }
            SequentialReaderInner::Empty => (),
        }
    }
}

impl<W> Drop for SequentialWriter<W>
where
    W: Write + Send,
{
    fn drop(&mut self) {
        self.on_finish.send(self.close).ok();
    }
}
