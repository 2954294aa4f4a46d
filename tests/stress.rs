//! A randomized stress test of the vendored tiny_http's scheduler (the workers' queue and its
//! spares) and idle-connection thread, through the server as it runs: no request is lost or
//! answered twice, and every client gets exactly its own answers, in order.
//!
//! Clients follow scripts drawn from a seeded PRNG (xorshift; the seed is printed, and
//! `STRESS_SEED=N` replays one): keep-alive sequences, pipelined bursts, heads and bodies
//! written a few bytes at a time, answers read slowly, and clients that vanish in the middle of
//! a request or of its answer. Each request carries a unique id in its path; the handler
//! counts each id it answers (after a random pause) and echoes it. At the end every request
//! sent whole was answered exactly once, no request cut short was answered, and nothing else.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openbb_files::http::{Body, Request, Response};

use crate::limits::read_answer;
use crate::support::TestServer;

/// A small PRNG (xorshift64*): no dependency, and a failing run replays from its seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..bound`.
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn pause(&mut self, max_millis: u64) -> Duration {
        Duration::from_millis(self.below(max_millis + 1))
    }
}

/// Answers `/r/<id>?pause=<ms>&size=<bytes>` after the pause with `size` bytes starting
/// `<id>\n`, counting how often each id was answered.
#[derive(Clone, Default)]
struct Counting {
    answered: Arc<Mutex<HashMap<u64, u32>>>,
}

impl openbb_files::Handler for Counting {
    fn handle(&self, request: &Request) -> Response {
        let Some(id) = request
            .path
            .strip_prefix("/r/")
            .and_then(|id| id.parse::<u64>().ok())
        else {
            return Response::error(404, "not a stress request");
        };
        let number = |name| request.query_param(name).map_or(0, |v| v.parse().unwrap());
        std::thread::sleep(Duration::from_millis(number("pause")));
        *self.answered.lock().unwrap().entry(id).or_default() += 1;
        let mut body = format!("{id}\n").into_bytes();
        body.resize(body.len().max(number("size") as usize), b'x');
        Response::new(200, "text/plain", Body::Owned(body))
    }
}

/// The request with `id`, a random pause and answer size; `last`: the connection's last,
/// which asks to close it.
fn request(rng: &mut Rng, id: u64, large_answer: bool, last: bool) -> Vec<u8> {
    let pause = rng.below(8);
    let size = match large_answer {
        true => 256 * 1024 + rng.below(256 * 1024),
        false => rng.below(2048),
    };
    let close = if last { "Connection: close\r\n" } else { "" };
    let (method, body) = match rng.below(4) {
        0 => ("POST", "{\"a\":1}"),
        _ => ("GET", ""),
    };
    format!(
        "{method} /r/{id}?pause={pause}&size={size} HTTP/1.1\r\nHost: x\r\n{close}\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Reads slowly: at most 4 KiB at a time, with a pause before each read.
struct SlowReader {
    stream: TcpStream,
    pause: Duration,
}

impl Read for SlowReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        std::thread::sleep(self.pause);
        let room = buf.len().min(4096);
        self.stream.read(&mut buf[..room])
    }
}

/// What a client did with the ids it used.
#[derive(Default)]
struct Outcome {
    /// Sent whole: each must be answered exactly once.
    whole: Vec<u64>,
    /// Cut short before their head ended: none may be answered.
    cut: Vec<u64>,
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
}

/// Checks that the next answer on `reader` is the one to `id`.
fn expect_answer(reader: &mut impl BufRead, id: u64) {
    let answer = read_answer(reader);
    assert_eq!(answer.status, 200, "{id}: {answer:?}");
    let echoed = answer.body.split('\n').next().unwrap();
    assert_eq!(echoed, id.to_string(), "an answer out of order or not ours");
}

/// Checks that `reader` gives the answers to `ids`, in order, then the close and nothing else.
fn expect_answers(reader: &mut impl BufRead, ids: &[u64]) {
    for &id in ids {
        expect_answer(reader, id);
    }
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest);
    assert!(
        rest.is_empty(),
        "bytes after the last answer: {:?}",
        String::from_utf8_lossy(&rest[..rest.len().min(200)])
    );
}

/// One connection, in one of the random shapes, using ids from `first_id` on.
fn one_connection(addr: SocketAddr, rng: &mut Rng, first_id: u64, outcome: &mut Outcome) {
    let count = 1 + rng.below(5);
    let ids: Vec<u64> = (first_id..first_id + count).collect();
    let mut stream = connect(addr);
    match rng.below(6) {
        // keep-alive: one request at a time
        0 => {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            for (n, &id) in ids.iter().enumerate() {
                let last = n + 1 == ids.len();
                stream.write_all(&request(rng, id, false, last)).unwrap();
                expect_answer(&mut reader, id);
            }
            expect_answers(&mut reader, &[]);
            outcome.whole.extend(&ids);
        }
        // pipelined: every request in one write, then the answers
        1 => {
            let burst: Vec<u8> = ids
                .iter()
                .enumerate()
                .flat_map(|(n, &id)| request(rng, id, false, n + 1 == ids.len()))
                .collect();
            stream.write_all(&burst).unwrap();
            expect_answers(&mut BufReader::new(stream), &ids);
            outcome.whole.extend(&ids);
        }
        // a slow writer: each request a few bytes at a time
        2 => {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            for (n, &id) in ids.iter().enumerate() {
                let bytes = request(rng, id, false, n + 1 == ids.len());
                for piece in bytes.chunks(1 + rng.below(40) as usize) {
                    stream.write_all(piece).unwrap();
                    std::thread::sleep(rng.pause(3));
                }
                expect_answer(&mut reader, id);
            }
            expect_answers(&mut reader, &[]);
            outcome.whole.extend(&ids);
        }
        // a slow reader of large answers
        3 => {
            let pause = rng.pause(2);
            let reader = SlowReader {
                stream: stream.try_clone().unwrap(),
                pause,
            };
            let mut reader = BufReader::with_capacity(4096, reader);
            for (n, &id) in ids.iter().take(2).enumerate() {
                stream
                    .write_all(&request(rng, id, true, n + 1 == ids.len().min(2)))
                    .unwrap();
                expect_answer(&mut reader, id);
            }
            expect_answers(&mut reader, &[]);
            outcome.whole.extend(ids.iter().take(2));
        }
        // vanishing mid-request: whole requests first, then one cut inside its head
        4 => {
            let (&cut, sent) = ids.split_last().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            for &id in sent {
                stream.write_all(&request(rng, id, false, false)).unwrap();
                expect_answer(&mut reader, id);
            }
            let bytes = request(rng, cut, false, false);
            let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
            stream
                .write_all(&bytes[..1 + rng.below(head_end as u64) as usize])
                .unwrap();
            std::thread::sleep(rng.pause(3));
            outcome.whole.extend(sent);
            outcome.cut.push(cut);
        }
        // vanishing mid-answer: a large answer, partly read
        _ => {
            let id = ids[0];
            stream.write_all(&request(rng, id, true, false)).unwrap();
            let mut some = vec![0; 1 + rng.below(64 * 1024) as usize];
            let _ = stream.read(&mut some).unwrap();
            outcome.whole.push(id);
        }
    }
}

#[test]
fn no_request_is_lost_or_answered_twice_under_random_clients() {
    let seed = std::env::var("STRESS_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(0x5eed_2026);
    eprintln!("stress seed: {seed} (STRESS_SEED={seed} replays it)");
    let counting = Counting::default();
    let server = TestServer::start_handler_with(counting.clone(), |config| {
        config.threads = 4;
        config.idle_timeout = Duration::from_secs(3);
    });
    let addr = server.addr;
    let started = Instant::now();
    let clients: Vec<_> = (0..24u64)
        .map(|client| {
            let mut rng = Rng::new(seed ^ (client + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            std::thread::spawn(move || {
                let mut outcome = Outcome::default();
                for connection in 0..8u64 {
                    let first_id = client * 1_000_000 + connection * 100;
                    one_connection(addr, &mut rng, first_id, &mut outcome);
                }
                outcome
            })
        })
        .collect();
    let mut whole = Vec::new();
    let mut cut = Vec::new();
    for client in clients {
        let outcome = client.join().expect("a client saw a wrong answer");
        whole.extend(outcome.whole);
        cut.extend(outcome.cut);
    }
    // answers to clients that vanished mid-answer may still be on their way to the handler's
    // count: it is made before the answer is sent, so they are all in by now
    let answered = counting.answered.lock().unwrap().clone();
    for id in &whole {
        assert_eq!(answered.get(id), Some(&1), "request {id} sent whole");
    }
    for id in &cut {
        assert_eq!(answered.get(id), None, "request {id} cut inside its head");
    }
    assert_eq!(
        answered.len(),
        whole.len(),
        "answers to requests never sent"
    );
    let took = started.elapsed();
    eprintln!(
        "{} requests answered once each, {} cut short and not answered, in {took:?}",
        whole.len(),
        cut.len()
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
}
