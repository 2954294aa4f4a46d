//! A subscriber's two threads' work on its socket: [`read_messages`] (params, ping, close
//! frames from the client) and the [`Writer`] that sends rows and pings within the write
//! timeout. Bounds are the hub's [`Limits`]; the hub's lock is never taken here.

use super::*;

/// A client's message: `{"params": {...}}` gives its params (multi-values as arrays or comma
/// strings). Other JSON objects are ignored; anything else is refused with a reason.
pub(super) fn params_message(text: &str) -> Result<Option<Vec<(String, String)>>, String> {
    let expected = "expected a JSON object such as {\"params\": {...}}";
    let value: Value = serde_json::from_str(text).map_err(|err| format!("{expected}: {err}"))?;
    let Value::Object(message) = value else {
        return Err(expected.to_string());
    };
    match message.get("params") {
        None => Ok(None),
        Some(Value::Object(params)) => Ok(Some(filter::json_params(params.iter()))),
        Some(_) => Err("\"params\" must be an object of parameter values".to_string()),
    }
}

/// Reads the client's frames until the connection must end; returns the close code and reason.
pub(super) fn read_messages(peer: &Peer, reader: &mut dyn Read, idle: Duration) -> (u16, String) {
    let mut parser = Parser::default();
    let mut buffer = [0u8; 8192];
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => return (websocket::GOING_AWAY, String::new()),
            Ok(read) => read,
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                let reason = format!("nothing from the client for {} s", idle.as_secs());
                return (websocket::GOING_AWAY, reason);
            }
            Err(_) => return (websocket::GOING_AWAY, String::new()),
        };
        parser.push(&buffer[..read]);
        loop {
            match parser.next() {
                Ok(None) => break,
                Ok(Some(Message::Text(text))) => match params_message(&text) {
                    Ok(Some(params)) => *lock(&peer.params) = params,
                    Ok(None) => {}
                    Err(reason) => return (websocket::INVALID_PAYLOAD, reason),
                },
                Ok(Some(Message::Binary(_))) => {
                    let reason =
                        "binary messages are not understood; send {\"params\": {...}} as text";
                    return (websocket::UNSUPPORTED_DATA, reason.to_string());
                }
                Ok(Some(Message::Ping(payload))) => {
                    // A client whose queue is full is being dropped anyway.
                    let _ = peer.queue.try_send(Out::Pong(payload));
                }
                Ok(Some(Message::Pong)) => {}
                Ok(Some(Message::Close(_))) => return (websocket::NORMAL, String::new()),
                Err(refusal) => return (refusal.code, refusal.reason),
            }
        }
    }
}

/// Sends queued frames, and a ping when the queue stays empty for `ping_every`, until the peer
/// closes (its close frame is sent), the queue is disconnected or a write fails or times out;
/// then shuts the socket down, which also ends the reader.
pub(super) fn write_frames(
    outgoing: &Receiver<Out>,
    sending: &Sending,
    mut writer: Writer,
    ping_every: Duration,
) {
    loop {
        if let Some((code, reason)) = lock(&sending.closing).take() {
            if writer.send(&websocket::close_frame(code, &reason)).is_ok() {
                // Only the sending side ends: the client's answer (its close frame, a pong)
                // is still read, so it never meets a closed socket's reset, which would throw
                // away the rows and the reason it has yet to read. The reader hangs up when
                // the client does, or at the idle timeout.
                let _ = writer.socket.shutdown(Shutdown::Write);
                return;
            }
            break;
        }
        let written = match outgoing.recv_timeout(ping_every) {
            Ok(Out::Rows { texts, kept }) => match kept {
                None => write_rows(&mut writer, texts.iter(), sending),
                Some(kept) => {
                    let rows = kept.iter().map(|&at| &texts[at as usize]);
                    write_rows(&mut writer, rows, sending)
                }
            },
            Ok(Out::Pong(payload)) => writer.send(&websocket::pong_frame(&payload)),
            Ok(Out::Wake) => Ok(()),
            Err(RecvTimeoutError::Timeout) => writer.send(&websocket::ping_frame()),
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if written.is_err() {
            break;
        }
    }
    let _ = writer.socket.shutdown(Shutdown::Both);
}

/// Writes rows as text frames, in batches, each batch's bytes taken off `sending.queued` once
/// written; stops early when the peer is closing (the rest is not sent).
fn write_rows<'a>(
    writer: &mut Writer,
    rows: impl Iterator<Item = &'a Arc<str>>,
    sending: &Sending,
) -> io::Result<()> {
    let mut batch = Vec::with_capacity(WRITE_BATCH_BYTES);
    let mut batch_rows = 0;
    let mut flush = |batch: &mut Vec<u8>, batch_rows: &mut usize| {
        writer.send(batch)?;
        sending.queued.fetch_sub(*batch_rows, Ordering::Relaxed);
        batch.clear();
        *batch_rows = 0;
        io::Result::Ok(())
    };
    for row in rows {
        if sending.is_closing() {
            return Ok(());
        }
        websocket::push_text_frame(&mut batch, row);
        batch_rows += row.len();
        if batch.len() >= WRITE_BATCH_BYTES {
            flush(&mut batch, &mut batch_rows)?;
        }
    }
    flush(&mut batch, &mut batch_rows)
}

/// A subscriber's socket, for its writer: each frame or batch of rows must be taken by the
/// client within `timeout`.
pub(super) struct Writer {
    pub(super) socket: TcpStream,
    pub(super) timeout: Duration,
}

impl Writer {
    /// Writes all of `bytes` within the timeout, else fails. The socket's write timeout bounds
    /// one wait for the client, and a client that takes a few bytes now and then would start
    /// a new wait each time: so it is set to what is left of the timeout before every write.
    pub(super) fn send(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        let deadline = Instant::now() + self.timeout;
        while !bytes.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ErrorKind::TimedOut.into());
            }
            self.socket.set_write_timeout(Some(left))?;
            match self.socket.write(bytes) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(written) => bytes = &bytes[written..],
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }
}
