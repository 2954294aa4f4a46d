//! Live grids: the subscribers of each live_grid's WebSocket, and the rows pushed to them.
//!
//! One watcher thread (started with the first subscriber, gone with the last) looks at the
//! version of every watched file each [`Limits::poll`]. When a file changed, its rows are read
//! again (through [`Files`], so parsed once per version) and compared by key
//! (`data.wsRowIdColumn`) with the last snapshot: every row that is new or differs is sent, as
//! one JSON object per text message, to each subscriber whose params (the socket URL's query,
//! then each `{"params": {...}}` message) keep it, by the table filter rules (`filter::plan`).
//! Rows removed from the file are not announced; a key repeated in the file counts once, its
//! last row.
//!
//! Each subscriber has two threads: a reader (client messages: params, ping, close) and a writer
//! fed by a bounded queue (one entry per change of the file: the rows it keeps; pongs), which
//! also pings a quiet connection every [`Limits::ping_every`]. Invariants:
//! the watcher never blocks on a client (it only `try_send`s; a full queue drops the client);
//! a write that takes longer than [`Limits::write_timeout`], or a client silent for
//! [`Limits::idle`] (it answers our pings, so only a dead one is), ends the connection; both
//! threads of a subscriber end together (the writer shuts the socket down when it stops, the
//! reader leaves the hub and so disconnects the writer's queue), so no thread outlives its
//! connection; every end we choose is announced with a close frame and a reason.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::cache::FileVersion;
use crate::data::{self, Data, cell_value};
use crate::files::Files;
use crate::filter;
use crate::http::Response;
use crate::manifest::Widget;
use crate::websocket::{self, Connection, Message, Parser};
use crate::widgets::json_params;

/// Timings and bounds of the live sockets; tests shorten them.
#[derive(Debug, Clone)]
pub struct Limits {
    /// How often watched files are looked at.
    pub poll: Duration,
    /// How often a quiet connection gets a ping.
    pub ping_every: Duration,
    /// A client that sends nothing (not even a pong) for this long is closed.
    pub idle: Duration,
    /// A client that does not take a frame within this time is closed.
    pub write_timeout: Duration,
    /// Changes (each the rows of one new version of the file) waiting for one client; a client
    /// that falls this far behind is closed.
    pub queue: usize,
    /// Connections open at once, over all live grids.
    pub subscribers: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            poll: Duration::from_millis(250),
            ping_every: Duration::from_secs(20),
            idle: Duration::from_secs(60),
            write_timeout: Duration::from_secs(10),
            queue: 64,
            subscribers: 256,
        }
    }
}

pub struct Hub {
    files: Arc<Files>,
    limits: Limits,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    groups: Vec<Group>,
    /// Whether the watcher thread runs.
    watching: bool,
}

/// The subscribers of one live_grid (one widget's settings on one file).
struct Group {
    widget: Widget,
    relative: String,
    seen: Snapshot,
    peers: Vec<Arc<Peer>>,
}

/// A file's rows as last seen: its version, and each row's JSON text by key.
pub struct Snapshot {
    version: Option<FileVersion>,
    rows: HashMap<String, Arc<str>>,
}

struct Peer {
    queue: SyncSender<Out>,
    params: Mutex<Vec<(String, String)>>,
    /// Set once: the close frame the writer sends before it hangs up.
    closing: Arc<Mutex<Option<(u16, String)>>>,
}

/// What a subscriber's writer sends.
enum Out {
    /// The rows of one change of the file that the subscriber's params keep.
    Rows(Vec<Arc<str>>),
    Pong(Vec<u8>),
    /// Look at `closing`.
    Wake,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Peer {
    /// Asks the writer to send this close frame and hang up (the first reason wins).
    fn close(&self, code: u16, reason: &str) {
        lock(&self.closing).get_or_insert_with(|| (code, reason.to_string()));
        let _ = self.queue.try_send(Out::Wake);
    }

    fn is_closing(&self) -> bool {
        lock(&self.closing).is_some()
    }
}

impl Hub {
    pub fn new(files: Arc<Files>, limits: Limits) -> Hub {
        Hub {
            files,
            limits,
            state: Mutex::new(State::default()),
        }
    }

    /// Connections open now.
    pub fn subscribers(&self) -> usize {
        lock(&self.state).groups.iter().map(|g| g.peers.len()).sum()
    }

    /// Checks, before the handshake is answered, that a client may subscribe to `widget` over
    /// `relative`: room for one more (else 503) and rows keyed by the widget's row key (else
    /// the file's error, or a 500 naming the missing column). Returns the rows as they are now.
    pub fn admit(&self, widget: &Widget, relative: &str) -> Result<Snapshot, Response> {
        if self.subscribers() >= self.limits.subscribers {
            return Err(Response::error(
                503,
                &format!(
                    "{} live subscribers already (the limit); try again later",
                    self.limits.subscribers
                ),
            ));
        }
        let path = self
            .files
            .dir
            .resolve(relative)
            .map(|(path, _)| path)
            .ok_or_else(|| Response::error(404, &format!("not found: {relative}")))?;
        let version = FileVersion::of(&path).ok();
        let data = self.files.data(relative)?;
        let (_, rows) = keyed_rows(&data, row_key(widget))
            .map_err(|detail| Response::error(500, &format!("{}: {detail}", widget.id)))?;
        Ok(Snapshot {
            version,
            rows: diff(&HashMap::new(), rows).0,
        })
    }

    /// Takes an accepted connection: a subscriber of `widget` on `relative` with `params`,
    /// until either side closes. `seen` is what [`Hub::admit`] returned.
    pub fn join(
        self: &Arc<Self>,
        widget: Widget,
        relative: String,
        params: Vec<(String, String)>,
        seen: Snapshot,
        connection: Connection,
    ) {
        let Connection { reader, socket } = connection;
        let refuse = |code: u16, reason: &str| {
            let _ = (&socket).write_all(&websocket::close_frame(code, reason));
            let _ = socket.shutdown(Shutdown::Both);
        };
        let timeouts = socket
            .set_read_timeout(Some(self.limits.idle))
            .and_then(|()| socket.set_write_timeout(Some(self.limits.write_timeout)));
        if timeouts.is_err() {
            return refuse(
                websocket::INTERNAL_ERROR,
                "cannot set the socket's timeouts",
            );
        }
        let (queue, outgoing) = sync_channel(self.limits.queue);
        let closing = Arc::new(Mutex::new(None));
        let peer = Arc::new(Peer {
            queue,
            params: Mutex::new(params),
            closing: Arc::clone(&closing),
        });
        if let Err(reason) = self.enter(widget, relative, seen, &peer) {
            return refuse(websocket::TRY_AGAIN_LATER, &reason);
        }
        let ping_every = self.limits.ping_every;
        let writer = thread::Builder::new()
            .name("live-writer".into())
            .spawn(move || write_frames(&outgoing, &closing, socket, ping_every));
        let Ok(writer) = writer else {
            // Dropping the upgraded stream (`reader`) hangs up.
            return self.leave(&peer);
        };
        let hub = Arc::clone(self);
        let reading = Arc::clone(&peer);
        let idle = self.limits.idle;
        let reader = thread::Builder::new()
            .name("live-reader".into())
            .spawn(move || {
                let mut reader = reader;
                let (code, reason) = read_messages(&reading, &mut *reader, idle);
                reading.close(code, &reason);
                hub.leave(&reading);
                drop(reading);
                // The upgraded stream shuts the socket down when dropped: after the writer's
                // close frame.
                let _ = writer.join();
                drop(reader);
            });
        if reader.is_err() {
            peer.close(websocket::TRY_AGAIN_LATER, "no thread free");
            self.leave(&peer);
        }
    }

    /// Adds `peer` to its widget's group (creating it, and the watcher, when needed).
    fn enter(
        self: &Arc<Self>,
        widget: Widget,
        relative: String,
        seen: Snapshot,
        peer: &Arc<Peer>,
    ) -> Result<(), String> {
        let mut state = lock(&self.state);
        let open: usize = state.groups.iter().map(|g| g.peers.len()).sum();
        if open >= self.limits.subscribers {
            return Err(format!(
                "{open} live subscribers already (the limit); try again later"
            ));
        }
        if !state.watching {
            let hub = Arc::clone(self);
            thread::Builder::new()
                .name("live-watcher".into())
                .spawn(move || hub.watch())
                .map_err(|_| "no thread free for the file watcher".to_string())?;
            state.watching = true;
        }
        match state
            .groups
            .iter_mut()
            .find(|g| g.widget == widget && g.relative == relative)
        {
            Some(group) => group.peers.push(Arc::clone(peer)),
            None => state.groups.push(Group {
                widget,
                relative,
                seen,
                peers: vec![Arc::clone(peer)],
            }),
        }
        Ok(())
    }

    /// Closes every connection with `code` and `reason` (each leaves once its reader ends).
    pub fn close_all(&self, code: u16, reason: &str) {
        for group in &lock(&self.state).groups {
            for peer in &group.peers {
                peer.close(code, reason);
            }
        }
    }

    fn leave(&self, peer: &Arc<Peer>) {
        let mut state = lock(&self.state);
        for group in &mut state.groups {
            group.peers.retain(|p| !Arc::ptr_eq(p, peer));
        }
        state.groups.retain(|g| !g.peers.is_empty());
    }

    /// The watcher thread: a look at every watched file each `poll`, until nobody subscribes.
    fn watch(&self) {
        loop {
            thread::sleep(self.limits.poll);
            let mut state = lock(&self.state);
            if state.groups.is_empty() {
                state.watching = false;
                return;
            }
            for group in &mut state.groups {
                self.refresh(group);
            }
            state.groups.retain(|g| !g.peers.is_empty());
        }
    }

    /// Sends a group's changed rows, if its file changed, to the peers whose params keep them;
    /// peers that are closing or too far behind leave the group.
    fn refresh(&self, group: &mut Group) {
        let Some((path, _)) = self.files.dir.resolve(&group.relative) else {
            return;
        };
        let version = FileVersion::of(&path).ok();
        if version == group.seen.version {
            return;
        }
        // A file that does not read (a partial write, a parse error) is tried again next time;
        // `Files` lists the problem at `/`.
        let Ok(data) = self.files.data(&group.relative) else {
            return;
        };
        let Ok((columns, rows)) = keyed_rows(&data, row_key(&group.widget)) else {
            return;
        };
        let (rows, changed) = diff(&group.seen.rows, rows);
        group.seen = Snapshot { version, rows };
        if changed.is_empty() {
            return;
        }
        let rules = &group.widget.filters;
        group
            .peers
            .retain(|peer| offer(peer, &columns, rules, &self.files.filter_limits, &changed));
    }
}

/// Queues the changed rows `peer`'s params keep; false when the peer must leave.
fn offer(
    peer: &Peer,
    columns: &[String],
    rules: &[(String, Option<filter::Rule>)],
    limits: &filter::Limits,
    changed: &[Changed],
) -> bool {
    if peer.is_closing() {
        return false;
    }
    let params = lock(&peer.params).clone();
    let conditions = match filter::plan(&params, columns, rules, limits) {
        Ok(conditions) => conditions,
        Err(detail) => {
            peer.close(websocket::INTERNAL_ERROR, &format!("filters: {detail}"));
            return false;
        }
    };
    let rows: Vec<Arc<str>> = changed
        .iter()
        .filter(|(row, _)| data::row_matches(row, columns, &conditions))
        .map(|(_, text)| Arc::clone(text))
        .collect();
    if rows.is_empty() {
        return true;
    }
    match peer.queue.try_send(Out::Rows(rows)) {
        Ok(()) => true,
        Err(TrySendError::Full(_)) => {
            peer.close(
                websocket::POLICY_VIOLATION,
                "too slow: the updates waiting for this client filled its queue",
            );
            false
        }
        Err(TrySendError::Disconnected(_)) => false,
    }
}

fn row_key(widget: &Widget) -> &str {
    widget
        .live
        .as_ref()
        .map_or("", |live| live.row_key.as_str())
}

/// A row's key (the text of its key cell) and the row as a JSON object.
type Keyed = (String, Value);

/// A changed row, and its JSON text as sent.
type Changed = (Value, Arc<str>);

/// The rows of a table or JSON array as objects, with each one's key (text of the key cell;
/// rows without a key are left out), and the columns.
fn keyed_rows(data: &Data, key: &str) -> Result<(Vec<String>, Vec<Keyed>), String> {
    let missing = |columns: &[String]| {
        format!(
            "data.wsRowIdColumn '{key}' is not a column of the data (columns: {})",
            columns.join(", ")
        )
    };
    let key_text = |value: &Value| match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    };
    match data {
        Data::Table(table) => {
            let names = table.names();
            let index = filter::find_column(names, key).ok_or_else(|| missing(names))?;
            let rows = (0..table.rows())
                .filter_map(|row| {
                    let key = key_text(&cell_value(table.cell(row, index)))?;
                    let object: Map<String, Value> = names
                        .iter()
                        .enumerate()
                        .map(|(column, name)| (name.clone(), cell_value(table.cell(row, column))))
                        .collect();
                    Some((key, Value::Object(object)))
                })
                .collect();
            Ok((names.to_vec(), rows))
        }
        Data::Json {
            rows: Some((columns, items)),
            ..
        } => {
            let name =
                &columns[filter::find_column(columns, key).ok_or_else(|| missing(columns))?];
            let rows = items
                .iter()
                .filter_map(|item| Some((key_text(item.get(name)?)?, item.clone())))
                .collect();
            Ok((columns.clone(), rows))
        }
        Data::Json { rows: None, .. } => {
            Err("the data is a JSON document, not rows (a CSV, NDJSON or JSON array)".into())
        }
    }
}

/// The new snapshot (each key's last row, as JSON text) and the rows that are new or differ
/// from `before`, in file order.
fn diff(
    before: &HashMap<String, Arc<str>>,
    rows: Vec<Keyed>,
) -> (HashMap<String, Arc<str>>, Vec<Changed>) {
    let mut last: HashMap<String, (usize, Value, Arc<str>)> = HashMap::with_capacity(rows.len());
    for (position, (key, row)) in rows.into_iter().enumerate() {
        let text: Arc<str> = row.to_string().into();
        last.insert(key, (position, row, text));
    }
    let mut changed: Vec<(usize, Value, Arc<str>)> = last
        .iter()
        .filter(|(key, (_, _, text))| before.get(*key) != Some(text))
        .map(|(_, (position, row, text))| (*position, row.clone(), Arc::clone(text)))
        .collect();
    changed.sort_by_key(|(position, _, _)| *position);
    let snapshot = last
        .into_iter()
        .map(|(key, (_, _, text))| (key, text))
        .collect();
    let changed = changed
        .into_iter()
        .map(|(_, row, text)| (row, text))
        .collect();
    (snapshot, changed)
}

/// A client's message: `{"params": {...}}` gives its params (multi-values as arrays or comma
/// strings). Other JSON objects are ignored; anything else is refused with a reason.
fn params_message(text: &str) -> Result<Option<Vec<(String, String)>>, String> {
    let expected = "expected a JSON object such as {\"params\": {...}}";
    let value: Value = serde_json::from_str(text).map_err(|err| format!("{expected}: {err}"))?;
    let Value::Object(message) = value else {
        return Err(expected.to_string());
    };
    match message.get("params") {
        None => Ok(None),
        Some(Value::Object(params)) => Ok(Some(json_params(params.iter()))),
        Some(_) => Err("\"params\" must be an object of parameter values".to_string()),
    }
}

/// Reads the client's frames until the connection must end; returns the close code and reason.
fn read_messages(peer: &Peer, reader: &mut dyn Read, idle: Duration) -> (u16, String) {
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
fn write_frames(
    outgoing: &Receiver<Out>,
    closing: &Mutex<Option<(u16, String)>>,
    mut socket: TcpStream,
    ping_every: Duration,
) {
    loop {
        if let Some((code, reason)) = lock(closing).take() {
            let _ = socket.write_all(&websocket::close_frame(code, &reason));
            break;
        }
        let written = match outgoing.recv_timeout(ping_every) {
            Ok(Out::Rows(rows)) => rows
                .iter()
                .try_for_each(|row| socket.write_all(&websocket::text_frame(row))),
            Ok(Out::Pong(payload)) => socket.write_all(&websocket::pong_frame(&payload)),
            Ok(Out::Wake) => Ok(()),
            Err(RecvTimeoutError::Timeout) => socket.write_all(&websocket::ping_frame()),
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if written.is_err() {
            break;
        }
    }
    let _ = socket.shutdown(Shutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(csv: &str, key: &str) -> (Vec<String>, Vec<Keyed>) {
        keyed_rows(&Data::parse("data/t.csv", csv.as_bytes()).unwrap(), key).unwrap()
    }

    #[test]
    fn changed_rows_are_found_by_key() {
        let (_, first) = rows("id,px\nA,1\nB,2\nC,3\n", "id");
        let (seen, all) = diff(&HashMap::new(), first);
        assert_eq!(all.len(), 3);
        // B changes, D is appended, C is removed (not announced), A is unchanged.
        let (_, next) = rows("id,px\nA,1\nB,5\nD,4\n", "ID");
        let (seen, changed) = diff(&seen, next);
        let texts: Vec<&str> = changed.iter().map(|(_, text)| &**text).collect();
        assert_eq!(texts, [r#"{"id":"B","px":5}"#, r#"{"id":"D","px":4}"#]);
        assert_eq!(seen.len(), 3);
        // A key repeated in the file counts once, with its last row.
        let (_, log) = rows("id,px\nA,1\nA,7\nA,8\n", "id");
        let (_, changed) = diff(&seen, log);
        assert_eq!(&*changed[0].1, r#"{"id":"A","px":8}"#);
        assert_eq!(changed.len(), 1);
    }

    #[test]
    fn rows_need_their_key() {
        let (_, keyed) = rows("id,px\n1,1\n,2\n", "id");
        assert_eq!(keyed.len(), 1, "a row without a key is left out");
        assert_eq!(keyed[0].0, "1");
        let data = Data::parse("data/t.csv", b"id,px\n1,1\n").unwrap();
        assert!(keyed_rows(&data, "sym").unwrap_err().contains("'sym'"));
        let doc = Data::parse("data/t.json", br#"{"a": 1}"#).unwrap();
        assert!(keyed_rows(&doc, "a").is_err());
        let nd = Data::parse("data/t.ndjson", b"{\"k\": 2, \"v\": true}\n{\"v\": 1}\n").unwrap();
        let (columns, keyed) = keyed_rows(&nd, "k").unwrap();
        assert_eq!(columns, ["k", "v"]);
        assert_eq!(keyed.len(), 1);
    }

    #[test]
    fn params_messages() {
        assert_eq!(
            params_message(r#"{"params": {"t": ["A", "B"], "n": 2, "s": "x,y", "z": null}}"#),
            Ok(Some(vec![
                ("t".into(), "A,B".into()),
                ("n".into(), "2".into()),
                ("s".into(), "x,y".into()),
            ]))
        );
        assert_eq!(params_message(r#"{"hello": 1}"#), Ok(None));
        assert!(params_message("not json").is_err());
        assert!(params_message("[1]").is_err());
        assert!(params_message(r#"{"params": "t=A"}"#).is_err());
    }
}
