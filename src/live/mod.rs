//! Live grids: the subscribers of each live_grid's WebSocket, and the rows pushed to them.
//!
//! One watcher thread (started with the first subscriber, gone with the last) looks at every
//! watched file each [`Limits::poll`]. A file's rows are kept as a [`Snapshot`]: each key's
//! (`data.wsRowIdColumn`) last row as JSON text, built once per version of the file (from one
//! parse by [`Files`]). A handshake takes the latest snapshot, whatever its version, and never
//! waits for one being built, so it costs the same on a big file as on a small one; only the
//! first handshake on a file builds one. When the file changed, the rows of the new snapshot
//! that are new or differ from the group's last one are sent, as one JSON object per text
//! message, to each subscriber whose params (the socket URL's query, then each
//! `{"params": {...}}` message) keep them, by the table filter rules (`filter::plan`). Rows
//! removed from the file are not announced; a key repeated in the file counts once, its last
//! row.
//!
//! Each subscriber has two threads: a reader (client messages: params, ping, close) and a writer
//! fed by a bounded queue (one entry per change of the file: the rows it keeps; pongs), which
//! also pings a quiet connection every [`Limits::ping_every`]. Invariants:
//! - the hub's lock is only held to look at or change who subscribes to what, never while a
//!   file is read, a snapshot built or rows compared or queued, so the watcher never stalls
//!   `/` or a handshake;
//! - the watcher never blocks on a client (it only `try_send`s); a client with rows waiting
//!   gets a new change only while what waits stays within [`Limits::queue_bytes`] and
//!   [`Limits::queue`] changes, else it is closed ("too slow", 1008) and may reconnect;
//! - a frame or batch of rows the client does not take within [`Limits::write_timeout`]
//!   (however it paces its reads), or a client silent for [`Limits::idle`] (it answers our
//!   pings, so only a dead one is), ends the connection;
//! - open connections are bounded in all ([`Limits::subscribers`], else 503) and from one
//!   client address ([`Limits::per_address`], else 429), both checked before the upgrade; a
//!   connection counts until its threads end;
//! - both threads of a subscriber end together (the writer shuts the socket down when it stops,
//!   the reader leaves the hub and so disconnects the writer's queue), so no thread outlives its
//!   connection; every end we choose is announced with a close frame and a reason.
//!
//! Memory: one snapshot per live file (the latest, kept while the server runs: one per
//! live_grid file the manifest names), whose row texts the queues share; per subscriber at most
//! `queue_bytes` of waiting rows beyond the change it is taking, and a socket send buffer of
//! [`SEND_BUFFER_BYTES`].

use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv6Addr, Shutdown, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::data::{Data, JsonRows, cell_value};
use crate::files::Files;
use crate::filter::{self, Condition, Rule};
use crate::formats::Reading;
use crate::http::Response;
use crate::manifest::LiveGrid;
use crate::table::{self, Rows};
use crate::websocket::{self, Connection, Message, Parser};

mod rows;
mod wire;

pub use rows::keyed_rows;
use rows::{columns, row_kept};
use wire::{Writer, read_messages, write_frames};

/// The kernel's send buffer for a live socket (Linux doubles it). Left to itself, it grows up
/// to 4 MiB on a connection that does not read; this keeps 256 of them to about 128 MiB.
pub const SEND_BUFFER_BYTES: usize = 256 * 1024;

/// Frames are written in batches of about this many bytes: one system call per batch, not per
/// row.
const WRITE_BATCH_BYTES: usize = 64 * 1024;

/// Timings and bounds of the live sockets: two come from flags (`Config::live`), tests
/// shorten the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// How often watched files are looked at.
    pub poll: Duration,
    /// How often a quiet connection gets a ping.
    pub ping_every: Duration,
    /// A client that sends nothing (not even a pong) for this long is closed.
    pub idle: Duration,
    /// A client that does not take a frame, or a batch of rows (64 KiB), within this time is
    /// closed, however it paces its reads.
    pub write_timeout: Duration,
    /// Changes (each the rows of one new version of the file) waiting for one client; a client
    /// that falls this far behind is closed.
    pub queue: usize,
    /// Bytes of rows waiting for one client: a client with rows waiting whose next change
    /// would take it past this is closed. One that has none waiting takes a change of any size.
    pub queue_bytes: usize,
    /// Connections open at once, over all live grids.
    pub subscribers: usize,
    /// Connections open at once from one client address (an IPv6 address's /64).
    pub per_address: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            poll: Duration::from_millis(250),
            ping_every: Duration::from_secs(20),
            idle: Duration::from_secs(60),
            write_timeout: Duration::from_secs(10),
            queue: 64,
            queue_bytes: 1024 * 1024,
            subscribers: 256,
            per_address: 32,
        }
    }
}

pub struct Hub {
    files: Arc<Files>,
    limits: Limits,
    state: Mutex<State>,
    /// The snapshots of each live file, by file, reading and row key.
    snapshots: Mutex<HashMap<FileAndKey, Arc<Snapshots>>>,
}

/// A live file (relative to `data/`), how it is read (a workbook's sheet, a separator) and the
/// columns keying its rows.
type FileAndKey = (String, Reading, Vec<String>);

/// The snapshots of one file, read one way, for one row key.
#[derive(Default)]
struct Snapshots {
    /// The latest built, whatever the file's version now.
    latest: Mutex<Option<Arc<Snapshot>>>,
    /// Held while a snapshot is built, so that each version is built once.
    building: Mutex<()>,
}

#[derive(Default)]
struct State {
    groups: Vec<Group>,
    /// Whether the watcher thread runs.
    watching: bool,
}

/// What the hub keeps of a live_grid's settings: its widget's id (for messages), its filters
/// (applied to the rows pushed), how its file is read (`backend.sheet`, `backend.delimiter`,
/// `backend.decimal`: as the widget's GET reads it) and the column keying its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    id: String,
    filters: Vec<(String, Option<Rule>)>,
    reading: Reading,
    row_key: Vec<String>,
}

impl Grid {
    pub fn of(grid: &LiveGrid) -> Grid {
        Grid {
            id: grid.widget.id.clone(),
            filters: grid.widget.filters.clone(),
            reading: grid.source.reading.clone(),
            row_key: grid.socket.row_key.clone(),
        }
    }
}

/// The subscribers of one live_grid (one widget's settings on one file).
struct Group {
    grid: Grid,
    relative: String,
    /// The rows last sent (before the first change: what its first subscriber was admitted
    /// with).
    seen: Arc<Snapshot>,
    peers: Vec<Arc<Peer>>,
}

/// The rows of one version of a file for one row key: each key's last row, with its index in
/// the data, as the JSON text sent.
pub struct Snapshot {
    /// The parse the rows come from. `Files` hands out the same `Arc` while the file is
    /// unchanged, so this tells the version; weak, so that an old snapshot never keeps a
    /// replaced file's parse in memory.
    data: Weak<Data>,
    rows: HashMap<String, (usize, Arc<str>)>,
}

/// A handshake [`Hub::admit`] let in: the rows as they were, and the client's address.
pub struct Admission {
    seen: Arc<Snapshot>,
    client: Option<IpAddr>,
}

struct Peer {
    queue: SyncSender<Out>,
    params: Mutex<Vec<(String, String)>>,
    /// Whom the per-address limit counts this connection against (see [`client_of`]).
    client: Option<IpAddr>,
    sending: Arc<Sending>,
}

/// What the watcher and the reader tell a subscriber's writer besides its queue.
#[derive(Default)]
struct Sending {
    /// Set once: the close frame the writer sends before it hangs up.
    closing: Mutex<Option<(u16, String)>>,
    /// Bytes of the rows queued or being written.
    queued: AtomicUsize,
}

/// The rows that changed between two snapshots, in file order, as every subscriber's queue
/// shares them.
struct Change {
    /// Each row's index in the new data (to test it against a subscriber's filters).
    indices: Vec<usize>,
    texts: Arc<[Arc<str>]>,
    bytes: usize,
}

/// What a subscriber's writer sends.
enum Out {
    /// The rows of one change that the subscriber's params keep: those at `kept` (positions in
    /// `texts`), or all of them.
    Rows {
        texts: Arc<[Arc<str>]>,
        kept: Option<Vec<u32>>,
    },
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
        lock(&self.sending.closing).get_or_insert_with(|| (code, reason.to_string()));
        let _ = self.queue.try_send(Out::Wake);
    }
}

impl Sending {
    fn is_closing(&self) -> bool {
        lock(&self.closing).is_some()
    }
}

impl State {
    fn peers(&self) -> impl Iterator<Item = &Arc<Peer>> {
        self.groups.iter().flat_map(|group| &group.peers)
    }

    /// Whether one more connection from `client` fits: the status and reason if not.
    fn room_for(&self, limits: &Limits, client: Option<IpAddr>) -> Result<(), (u16, String)> {
        let open = self.peers().count();
        if open >= limits.subscribers {
            return Err((
                503,
                format!("{open} live sockets open already (the limit); try again later"),
            ));
        }
        let from_client = self.peers().filter(|peer| peer.client == client).count();
        match client {
            Some(client) if from_client >= limits.per_address => Err((
                429,
                format!(
                    "{from_client} live sockets open from {client} already (the limit per \
                     address, --live-per-address); close one first"
                ),
            )),
            _ => Ok(()),
        }
    }

    fn group(&mut self, grid: &Grid, relative: &str) -> Option<&mut Group> {
        self.groups
            .iter_mut()
            .find(|g| g.grid == *grid && g.relative == relative)
    }
}

/// Whom the per-address limit counts as one client: an IPv4 address, or an IPv6 address's /64
/// (a host on IPv6 usually has a whole /64 to pick addresses from).
fn client_of(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64))),
        v4 => v4,
    }
}

impl Hub {
    pub fn new(files: Arc<Files>, limits: Limits) -> Hub {
        Hub {
            files,
            limits,
            state: Mutex::new(State::default()),
            snapshots: Mutex::new(HashMap::new()),
        }
    }

    /// Connections open now.
    pub fn subscribers(&self) -> usize {
        lock(&self.state).peers().count()
    }

    /// Bytes of rows waiting to be sent, over all connections.
    pub fn queued_bytes(&self) -> usize {
        lock(&self.state)
            .peers()
            .map(|peer| peer.sending.queued.load(Ordering::Relaxed))
            .sum()
    }

    /// Checks, before the handshake is answered, that a client at `address` may subscribe to
    /// `grid` over `relative`: room for one more in all (else 503) and from that address
    /// (else 429). The subscriber starts from the latest snapshot of the file, whatever its
    /// version (the watcher then sends what changed since), so only the first handshake on a
    /// file reads it: its rows must be keyed by the widget's row key (else the file's error,
    /// or a 500 naming the missing column).
    pub fn admit(
        &self,
        grid: &Grid,
        relative: &str,
        address: Option<IpAddr>,
    ) -> Result<Admission, Response> {
        let client = address.map(client_of);
        lock(&self.state)
            .room_for(&self.limits, client)
            .map_err(|(status, detail)| Response::error(status, &detail))?;
        let latest = lock(&self.snapshots_of(grid, relative).latest).clone();
        let seen = match latest {
            Some(seen) => seen,
            None => self.snapshot(grid, relative)?.1,
        };
        Ok(Admission { seen, client })
    }

    fn snapshots_of(&self, grid: &Grid, relative: &str) -> Arc<Snapshots> {
        let key = (
            relative.to_string(),
            grid.reading.clone(),
            grid.row_key.clone(),
        );
        Arc::clone(lock(&self.snapshots).entry(key).or_default())
    }

    /// The rows of `relative` now, keyed by `grid`'s row key, with the data they come from:
    /// built once per version of the file and shared. Waits for a build of the same file under
    /// way, never for the hub's lock.
    fn snapshot(
        &self,
        grid: &Grid,
        relative: &str,
    ) -> Result<(Arc<Data>, Arc<Snapshot>), Response> {
        let snapshots = self.snapshots_of(grid, relative);
        let _building = lock(&snapshots.building);
        let file = self.files.find(relative)?.read_as(grid.reading.clone());
        let data = self.files.data(&file)?;
        let latest = lock(&snapshots.latest).clone();
        if let Some(snapshot) = latest.filter(|s| s.is_of(&data)) {
            return Ok((data, snapshot));
        }
        let snapshot = Snapshot::build(&data, &grid.row_key)
            .map_err(|detail| Response::error(500, &format!("{}: {detail}", grid.id)))?;
        let snapshot = Arc::new(snapshot);
        *lock(&snapshots.latest) = Some(Arc::clone(&snapshot));
        Ok((data, snapshot))
    }

    /// Takes an accepted connection: a subscriber of `grid` on `relative` with `params`,
    /// until either side closes. `admission` is what [`Hub::admit`] returned.
    pub fn join(
        self: &Arc<Self>,
        grid: Grid,
        relative: String,
        params: Vec<(String, String)>,
        admission: Admission,
        connection: Connection,
    ) {
        let Connection { reader, socket } = connection;
        let refuse = |code: u16, reason: &str| {
            let _ = (&socket).write_all(&websocket::close_frame(code, reason));
            let _ = socket.shutdown(Shutdown::Both);
        };
        let set_up = socket
            .set_read_timeout(Some(self.limits.idle))
            .and_then(|()| socket2::SockRef::from(&socket).set_send_buffer_size(SEND_BUFFER_BYTES));
        if set_up.is_err() {
            return refuse(websocket::INTERNAL_ERROR, "cannot set up the socket");
        }
        let (queue, outgoing) = sync_channel(self.limits.queue);
        let sending = Arc::new(Sending::default());
        let peer = Arc::new(Peer {
            queue,
            params: Mutex::new(params),
            client: admission.client,
            sending: Arc::clone(&sending),
        });
        if let Err(reason) = self.enter(grid, relative, admission.seen, &peer) {
            return refuse(websocket::TRY_AGAIN_LATER, &reason);
        }
        let ping_every = self.limits.ping_every;
        let writer = Writer {
            socket,
            timeout: self.limits.write_timeout,
        };
        let writer = thread::Builder::new()
            .name("live-writer".into())
            .spawn(move || write_frames(&outgoing, &sending, writer, ping_every));
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
        grid: Grid,
        relative: String,
        seen: Arc<Snapshot>,
        peer: &Arc<Peer>,
    ) -> Result<(), String> {
        let mut state = lock(&self.state);
        state
            .room_for(&self.limits, peer.client)
            .map_err(|(_, reason)| reason)?;
        if !state.watching {
            let hub = Arc::clone(self);
            thread::Builder::new()
                .name("live-watcher".into())
                .spawn(move || hub.watch())
                .map_err(|_| "no thread free for the file watcher".to_string())?;
            state.watching = true;
        }
        match state.group(&grid, &relative) {
            Some(group) => group.peers.push(Arc::clone(peer)),
            None => state.groups.push(Group {
                grid,
                relative,
                seen,
                peers: vec![Arc::clone(peer)],
            }),
        }
        Ok(())
    }

    /// Closes every connection with `code` and `reason` (each leaves once its reader ends).
    pub fn close_all(&self, code: u16, reason: &str) {
        for peer in lock(&self.state).peers() {
            peer.close(code, reason);
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
            let watched: Vec<(Grid, String, Arc<Snapshot>)> = {
                let mut state = lock(&self.state);
                if state.groups.is_empty() {
                    state.watching = false;
                    return;
                }
                let group = |g: &Group| (g.grid.clone(), g.relative.clone(), Arc::clone(&g.seen));
                state.groups.iter().map(group).collect()
            };
            for (grid, relative, seen) in watched {
                self.refresh(&grid, &relative, &seen);
            }
        }
    }

    /// If the file of a group changed since `seen`, offers the changed rows to its subscribers.
    /// The file is read, and the rows compared and queued, without the hub's lock; it is taken
    /// only to swap in the new snapshot and to see who subscribes.
    fn refresh(&self, grid: &Grid, relative: &str, seen: &Arc<Snapshot>) {
        // A file that does not read (a partial write, a parse error) is tried again next time;
        // `Files` lists the problem at `/`.
        let Ok((data, now)) = self.snapshot(grid, relative) else {
            return;
        };
        if Arc::ptr_eq(&now, seen) {
            return;
        }
        let change = Change::between(seen, &now);
        let peers = {
            let mut state = lock(&self.state);
            // Gone, or everyone left and a new group began since the look.
            let Some(group) = state
                .group(grid, relative)
                .filter(|group| Arc::ptr_eq(&group.seen, seen))
            else {
                return;
            };
            group.seen = now;
            group.peers.clone()
        };
        if change.texts.is_empty() {
            return;
        }
        for peer in peers {
            offer(
                &peer,
                &data,
                &grid.filters,
                &self.files.filter_limits,
                &change,
                &self.limits,
            );
        }
    }
}

/// Queues the rows of `change` that `peer`'s params keep, or closes a peer too far behind.
fn offer(
    peer: &Peer,
    data: &Data,
    rules: &[(String, Option<filter::Rule>)],
    filter_limits: &filter::Limits,
    change: &Change,
    limits: &Limits,
) {
    if peer.sending.is_closing() {
        return;
    }
    let params = lock(&peer.params).clone();
    let conditions = match filter::plan(&params, columns(data), rules, filter_limits) {
        Ok(conditions) => conditions,
        Err(detail) => {
            peer.close(websocket::INTERNAL_ERROR, &format!("filters: {detail}"));
            return;
        }
    };
    let (kept, bytes) = if conditions.is_empty() {
        (None, change.bytes)
    } else {
        let kept: Vec<u32> = (0..change.indices.len() as u32)
            .filter(|&at| row_kept(data, change.indices[at as usize], &conditions))
            .collect();
        let bytes = kept.iter().map(|&at| change.texts[at as usize].len()).sum();
        (Some(kept), bytes)
    };
    if bytes == 0 {
        return;
    }
    let waiting = peer.sending.queued.load(Ordering::Relaxed);
    if waiting > 0 && waiting + bytes > limits.queue_bytes {
        let reason = format!(
            "too slow: {waiting} bytes of rows were still waiting for this client (the limit is {})",
            limits.queue_bytes
        );
        return peer.close(websocket::POLICY_VIOLATION, &reason);
    }
    peer.sending.queued.fetch_add(bytes, Ordering::Relaxed);
    let rows = Out::Rows {
        texts: Arc::clone(&change.texts),
        kept,
    };
    match peer.queue.try_send(rows) {
        Ok(()) | Err(TrySendError::Disconnected(_)) => {}
        Err(TrySendError::Full(_)) => {
            peer.sending.queued.fetch_sub(bytes, Ordering::Relaxed);
            let reason = format!(
                "too slow: {} changes were still waiting for this client (the limit)",
                limits.queue
            );
            peer.close(websocket::POLICY_VIOLATION, &reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::wire::params_message;
    use super::*;

    fn snapshot(csv: &str, key: &str) -> Snapshot {
        Snapshot::build(
            &Arc::new(Data::parse("data/t.csv", csv.as_bytes()).unwrap()),
            &[key.to_string()],
        )
        .unwrap()
    }

    fn texts(change: &Change) -> Vec<&str> {
        change.texts.iter().map(|text| &**text).collect()
    }

    #[test]
    fn changed_rows_are_found_by_key() {
        let empty = snapshot("id,px\n", "id");
        let first = snapshot("id,px\nA,1\nB,2\nC,3\n", "id");
        assert_eq!(Change::between(&empty, &first).texts.len(), 3);
        // B changes, D is appended, C is removed (not announced), A is unchanged.
        let next = snapshot("id,px\nA,1\nB,5\nD,4\n", "ID");
        let change = Change::between(&first, &next);
        assert_eq!(
            texts(&change),
            [r#"{"id":"B","px":5}"#, r#"{"id":"D","px":4}"#]
        );
        assert_eq!(change.indices, [1, 2]);
        assert_eq!(change.bytes, 34);
        assert_eq!(next.rows.len(), 3);
        // A key repeated in the file counts once, with its last row.
        let log = snapshot("id,px\nA,1\nA,7\nA,8\n", "id");
        assert_eq!(
            texts(&Change::between(&next, &log)),
            [r#"{"id":"A","px":8}"#]
        );
    }

    #[test]
    fn each_key_keeps_its_latest_row_in_the_order_keys_first_appear() {
        let data = Data::parse(
            "data/t.csv",
            b"sym,venue,px\nA,X,1\nB,X,2\nA,Y,3\nA,X,4\n,,5\nB,,6\nB,X,7\n",
        )
        .unwrap();
        let keys = |key: &[&str]| {
            let key: Vec<String> = key.iter().map(|k| k.to_string()).collect();
            keyed_rows(&data, &key).unwrap()
        };
        let pairs = |pairs: &[(&str, usize)]| -> Vec<(String, usize)> {
            pairs.iter().map(|(k, i)| (k.to_string(), *i)).collect()
        };
        assert_eq!(keys(&["sym"]), pairs(&[(r#""A""#, 3), (r#""B""#, 6)]));
        // A composite key: the tuple; a key partly empty is a key, a wholly empty one is not.
        assert_eq!(
            keys(&["sym", "venue"]),
            pairs(&[
                (r#""A","X""#, 3),
                (r#""B","X""#, 6),
                (r#""A","Y""#, 2),
                (r#""B",null"#, 5),
            ])
        );
        let missing = keyed_rows(&data, &["sym".into(), "nope".into()]).unwrap_err();
        assert!(missing.contains("'nope' is not a column"), "{missing}");
        // Cells holding commas or quotes cannot make two keys read alike.
        let tricky = Data::parse("data/t.csv", b"a,b\n\"x,y\",z\nx,\"y,z\"\n").unwrap();
        let key = ["a".to_string(), "b".to_string()];
        assert_eq!(keyed_rows(&tricky, &key).unwrap().len(), 2);
    }

    #[test]
    fn rows_need_their_key() {
        let keyed = snapshot("id,px\n1,1\n,2\n", "id");
        assert_eq!(keyed.rows.len(), 1, "a row without a key is left out");
        assert_eq!(&*keyed.rows["1"].1, r#"{"id":1,"px":1}"#);
        let data = Arc::new(Data::parse("data/t.csv", b"id,px\n1,1\n").unwrap());
        assert!(
            Snapshot::build(&data, &["sym".into()])
                .err()
                .unwrap()
                .contains("'sym'")
        );
        let doc = Arc::new(Data::parse("data/t.json", br#"{"a": 1}"#).unwrap());
        assert!(Snapshot::build(&doc, &["a".into()]).is_err());
        let nd = Data::parse("data/t.ndjson", b"{\"k\": 2, \"v\": true}\n{\"v\": 1}\n").unwrap();
        let nd = Arc::new(nd);
        let keyed = Snapshot::build(&nd, &["k".into()]).unwrap();
        assert_eq!(columns(&nd), ["k", "v"]);
        assert_eq!(keyed.rows.len(), 1);
        assert_eq!(&*keyed.rows["2"].1, r#"{"k":2,"v":true}"#);
        assert!(keyed.is_of(&nd));
        assert!(!keyed.is_of(&data));
    }

    #[test]
    fn a_snapshot_is_built_once_per_version_and_shared() {
        let data = std::env::temp_dir().join(format!("obf-live-{}", std::process::id()));
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("q.csv"), "id,px\nA,1\n").unwrap();
        let files = Arc::new(Files::new(crate::paths::DataDir::new(data.clone())));
        let hub = Hub::new(files, Limits::default());
        let manifest = crate::manifest::Manifest::parse(Some(
            br#"{"q": {"name": "Q", "description": "d", "type": "live_grid", "endpoint": "q",
                       "wsEndpoint": "q/ws", "data": {"wsRowIdColumn": "id"}}}"#,
        ))
        .unwrap();
        let grid = Grid::of(&manifest.live_grid_at("q/ws").unwrap());
        let admit = || hub.admit(&grid, "q.csv", None).unwrap().seen;
        let current = || hub.snapshot(&grid, "q.csv").unwrap().1;
        let first = admit();
        assert!(
            Arc::ptr_eq(&first, &admit()),
            "the same version is not built again"
        );
        assert!(Arc::ptr_eq(&first, &current()));
        std::fs::write(data.join("q.csv"), "id,px\nA,1\nB,2\n").unwrap();
        // A handshake takes the latest snapshot; the watcher's look builds the new version's.
        assert!(Arc::ptr_eq(&first, &admit()));
        let second = current();
        assert!(
            !Arc::ptr_eq(&first, &second),
            "a new version has a new snapshot"
        );
        assert!(Arc::ptr_eq(&second, &current()));
        assert!(Arc::ptr_eq(&second, &admit()));
        assert_eq!(second.rows.len(), 2);
        assert_eq!(
            texts(&Change::between(&first, &second)),
            [r#"{"id":"B","px":2}"#]
        );
        std::fs::remove_dir_all(data).unwrap();
    }

    #[test]
    fn a_write_is_cut_at_its_timeout_however_the_client_paces_its_reads() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (socket, _) = listener.accept().unwrap();
        // A client that takes 64 KiB every 50 ms (for at most 3 s): each wait of the writer
        // ends with some progress, so a timeout per write call alone never fires.
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop = Arc::clone(&done);
        let reading = thread::spawn(move || {
            let mut buffer = vec![0; 64 * 1024];
            let started = Instant::now();
            while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(3) {
                match client.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => thread::sleep(Duration::from_millis(50)),
                }
            }
        });
        let timeout = Duration::from_millis(300);
        let mut writer = Writer { socket, timeout };
        let started = Instant::now();
        assert!(writer.send(&vec![b'x'; 64 * 1024 * 1024]).is_err());
        let took = started.elapsed();
        assert!(took < Duration::from_secs(1), "the write took {took:?}");
        done.store(true, Ordering::Relaxed);
        reading.join().unwrap();
    }

    #[test]
    fn clients_are_counted_by_address_and_ipv6_prefix() {
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        assert_eq!(client_of(ip("10.1.2.3")), ip("10.1.2.3"));
        assert_eq!(client_of(ip("::ffff:10.1.2.3")), ip("10.1.2.3"));
        assert_eq!(client_of(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(
            client_of(ip("2001:db8:1:2:bbbb::9")),
            client_of(ip("2001:db8:1:2:aaaa::1"))
        );
        assert_ne!(client_of(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
    }

    #[test]
    fn params_messages() {
        assert_eq!(
            params_message(r#"{"params": {"t": ["A", "B"], "n": 2, "s": "x,y", "z": null}}"#),
            Ok(Some(vec![
                ("t".into(), "A".into()),
                ("t".into(), "B".into()),
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
