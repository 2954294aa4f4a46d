//! WebSocket (RFC 6455) as pure functions over bytes: the opening handshake, server frames, and
//! a parser that turns a client's bytes into messages. No sockets here: `server.rs` hands an
//! accepted connection ([`Connection`]) to whoever the [`Upgrade`] names (`live/`).
//!
//! Invariants: server frames are never masked and never fragmented; client frames must be
//! masked; control frames carry at most 125 bytes and are never fragmented; a message (all its
//! fragments) is at most [`MAX_MESSAGE_BYTES`]; a text message is UTF-8. A client that breaks
//! one of these gets a [`Refusal`]: the close code and reason to send before hanging up.

use std::io::Read;
use std::net::TcpStream;

use crate::http::{Request, Response};

/// Largest message a client may send; `{"params": {...}}` messages are a few hundred bytes.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Close codes (RFC 6455 §7.4.1).
pub const NORMAL: u16 = 1000;
pub const GOING_AWAY: u16 = 1001;
pub const PROTOCOL_ERROR: u16 = 1002;
pub const UNSUPPORTED_DATA: u16 = 1003;
pub const INVALID_PAYLOAD: u16 = 1007;
pub const POLICY_VIOLATION: u16 = 1008;
pub const TOO_BIG: u16 = 1009;
pub const INTERNAL_ERROR: u16 = 1011;
pub const TRY_AGAIN_LATER: u16 = 1013;

const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

const CONTINUATION: u8 = 0x0;
const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;

/// A connection after the `101 Switching Protocols`: read through `reader` (it holds any bytes
/// the HTTP server had already buffered), write to, time out and shut down `socket`.
pub struct Connection {
    pub reader: Box<dyn Read + Send>,
    pub socket: TcpStream,
}

/// An accepted handshake: the `Sec-WebSocket-Accept` value and what takes the connection.
pub struct Upgrade {
    pub accept: String,
    pub start: Box<dyn FnOnce(Connection) + Send>,
}

/// Whether a request asks to become a WebSocket (`Upgrade: websocket`).
pub fn asks_upgrade(request: &Request) -> bool {
    request
        .header("upgrade")
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
}

/// Checks an opening handshake (RFC 6455 §4.2.1) and returns the `Sec-WebSocket-Accept` value;
/// a request that is not a valid handshake gets a 400 (426 for another protocol version).
pub fn handshake(request: &Request) -> Result<String, Response> {
    let bad = |detail: &str| Response::error(400, &format!("WebSocket handshake: {detail}"));
    if request.method.as_str() != "GET" {
        return Err(bad("the method must be GET"));
    }
    if !asks_upgrade(request) {
        return Err(bad("expected the header Upgrade: websocket"));
    }
    let connection_upgrade = request.header("connection").is_some_and(|value| {
        value
            .split(',')
            .any(|token| token.trim().eq_ignore_ascii_case("upgrade"))
    });
    if !connection_upgrade {
        return Err(bad("expected the header Connection: Upgrade"));
    }
    if request.header("sec-websocket-version").map(str::trim) != Some("13") {
        return Err(Response::error(
            426,
            "WebSocket handshake: only version 13 (Sec-WebSocket-Version: 13) is supported",
        )
        .with_header("Sec-WebSocket-Version", "13"));
    }
    let key = request.header("sec-websocket-key").map(str::trim);
    match key {
        Some(key) if is_nonce(key) => Ok(accept_key(key)),
        _ => Err(bad(
            "Sec-WebSocket-Key must be the base64 of 16 bytes (24 characters)",
        )),
    }
}

/// The base64 of 16 bytes: 22 characters of the alphabet, then `==`.
fn is_nonce(key: &str) -> bool {
    key.len() == 24
        && key.ends_with("==")
        && key[..22]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// `base64(SHA-1(key + GUID))`, the server's proof that it read the handshake.
pub fn accept_key(key: &str) -> String {
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key.as_bytes());
    sha.update(GUID.as_bytes());
    crate::base64::encode(&sha.digest().bytes())
}

/// A server frame: final, unmasked.
fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 10);
    push_frame(&mut out, opcode, payload);
    out
}

/// Appends a server frame to `out`.
fn push_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8]) {
    out.push(0x80 | opcode);
    match payload.len() {
        len @ 0..=125 => out.push(len as u8),
        len @ 126..=0xFFFF => {
            out.push(126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
}

/// Appends a text frame to `out`, to send several in one write.
pub fn push_text_frame(out: &mut Vec<u8>, text: &str) {
    push_frame(out, TEXT, text.as_bytes());
}

pub fn ping_frame() -> Vec<u8> {
    frame(PING, b"")
}

pub fn pong_frame(payload: &[u8]) -> Vec<u8> {
    frame(PONG, payload)
}

/// A close frame with `code` and `reason`, the reason cut (at a character boundary) to fit the
/// 125 bytes of a control frame.
pub fn close_frame(code: u16, reason: &str) -> Vec<u8> {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(&reason.as_bytes()[..end]);
    frame(CLOSE, &payload)
}

/// A complete message from the client.
#[derive(Debug, PartialEq, Eq)]
pub enum Message {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong,
    /// The client's close code, if it sent one.
    Close(Option<u16>),
}

/// Why the connection must end: the close code and reason to send.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: u16,
    pub reason: String,
}

fn refuse(code: u16, reason: &str) -> Refusal {
    Refusal {
        code,
        reason: reason.to_string(),
    }
}

/// One frame as read: final or not, its opcode, its unmasked payload, and the bytes it took.
struct Frame {
    fin: bool,
    opcode: u8,
    payload: Vec<u8>,
    used: usize,
}

/// Collects a client's bytes ([`Parser::push`]) and hands out its messages ([`Parser::next`]),
/// joining fragmented ones.
#[derive(Default)]
pub struct Parser {
    buffer: Vec<u8>,
    /// The opcode and payload so far of a fragmented message.
    partial: Option<(u8, Vec<u8>)>,
}

impl Parser {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete message, `Ok(None)` when more bytes are needed.
    #[allow(clippy::should_implement_trait)] // fallible, unlike Iterator::next
    pub fn next(&mut self) -> Result<Option<Message>, Refusal> {
        loop {
            let Some(Frame {
                fin,
                opcode,
                payload,
                used,
            }) = self.frame()?
            else {
                return Ok(None);
            };
            self.buffer.drain(..used);
            if opcode >= CLOSE {
                return control(opcode, payload).map(Some);
            }
            let (opcode, payload) = match (opcode, self.partial.take()) {
                (CONTINUATION, None) => {
                    return Err(refuse(
                        PROTOCOL_ERROR,
                        "a continuation frame with no message",
                    ));
                }
                (CONTINUATION, Some((first, mut so_far))) => {
                    so_far.extend_from_slice(&payload);
                    (first, so_far)
                }
                (_, Some(_)) => {
                    return Err(refuse(
                        PROTOCOL_ERROR,
                        "a new message inside a fragmented one",
                    ));
                }
                (opcode, None) => (opcode, payload),
            };
            if payload.len() > MAX_MESSAGE_BYTES {
                return Err(refuse(TOO_BIG, "the message is larger than 64 KiB"));
            }
            if !fin {
                self.partial = Some((opcode, payload));
                continue;
            }
            return match opcode {
                TEXT => String::from_utf8(payload)
                    .map(|text| Some(Message::Text(text)))
                    .map_err(|_| refuse(INVALID_PAYLOAD, "a text message that is not UTF-8")),
                _ => Ok(Some(Message::Binary(payload))),
            };
        }
    }

    /// The first frame in the buffer, unmasked.
    fn frame(&self) -> Result<Option<Frame>, Refusal> {
        let bytes = &self.buffer;
        if bytes.len() < 2 {
            return Ok(None);
        }
        let fin = bytes[0] & 0x80 != 0;
        if bytes[0] & 0x70 != 0 {
            return Err(refuse(
                PROTOCOL_ERROR,
                "reserved bits set (no extension was agreed)",
            ));
        }
        let opcode = bytes[0] & 0x0F;
        if !matches!(opcode, CONTINUATION | TEXT | BINARY | CLOSE | PING | PONG) {
            return Err(refuse(PROTOCOL_ERROR, "unknown opcode"));
        }
        if bytes[1] & 0x80 == 0 {
            return Err(refuse(PROTOCOL_ERROR, "client frames must be masked"));
        }
        let (length, mut at) = match bytes[1] & 0x7F {
            126 if bytes.len() >= 4 => (u64::from(u16::from_be_bytes([bytes[2], bytes[3]])), 4),
            127 if bytes.len() >= 10 => {
                let mut eight = [0u8; 8];
                eight.copy_from_slice(&bytes[2..10]);
                (u64::from_be_bytes(eight), 10)
            }
            126 | 127 => return Ok(None),
            short => (u64::from(short), 2),
        };
        if opcode >= CLOSE && (!fin || length > 125) {
            return Err(refuse(
                PROTOCOL_ERROR,
                "control frames must be whole and at most 125 bytes",
            ));
        }
        if length > MAX_MESSAGE_BYTES as u64 {
            return Err(refuse(TOO_BIG, "the message is larger than 64 KiB"));
        }
        let length = length as usize;
        if bytes.len() < at + 4 + length {
            return Ok(None);
        }
        let mask = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
        at += 4;
        let payload = bytes[at..at + length]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[i % 4])
            .collect();
        Ok(Some(Frame {
            fin,
            opcode,
            payload,
            used: at + length,
        }))
    }
}

fn control(opcode: u8, payload: Vec<u8>) -> Result<Message, Refusal> {
    match opcode {
        PING => Ok(Message::Ping(payload)),
        PONG => Ok(Message::Pong),
        _ => match payload.len() {
            0 => Ok(Message::Close(None)),
            1 => Err(refuse(PROTOCOL_ERROR, "a close frame with a one-byte body")),
            _ => {
                std::str::from_utf8(&payload[2..])
                    .map_err(|_| refuse(INVALID_PAYLOAD, "a close reason that is not UTF-8"))?;
                Ok(Message::Close(Some(u16::from_be_bytes([
                    payload[0], payload[1],
                ]))))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;

    /// A client frame, masked with a fixed key.
    fn client_frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let mut out = vec![first_byte];
        match payload.len() {
            len @ 0..=125 => out.push(0x80 | len as u8),
            len @ 126..=0xFFFF => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    fn parse(bytes: &[u8]) -> Result<Vec<Message>, Refusal> {
        let mut parser = Parser::default();
        parser.push(bytes);
        let mut messages = Vec::new();
        while let Some(message) = parser.next()? {
            messages.push(message);
        }
        Ok(messages)
    }

    fn request(headers: &[(&str, &str)]) -> Request {
        let headers = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Request::new(Method::Get, "/live", headers)
    }

    #[test]
    fn the_rfc_handshake_example() {
        // RFC 6455 §1.3.
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        let good = [
            ("Upgrade", "websocket"),
            ("Connection", "keep-alive, Upgrade"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ];
        assert_eq!(
            handshake(&request(&good)).unwrap(),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        let without = |name: &str| {
            let headers: Vec<_> = good.iter().copied().filter(|(k, _)| *k != name).collect();
            handshake(&request(&headers)).unwrap_err().status
        };
        assert_eq!(without("Connection"), 400);
        assert_eq!(without("Sec-WebSocket-Key"), 400);
        assert_eq!(without("Sec-WebSocket-Version"), 426);
        let mut short_key = good;
        short_key[3].1 = "c2hvcnQ=";
        assert_eq!(handshake(&request(&short_key)).unwrap_err().status, 400);
    }

    fn text_frame(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        push_text_frame(&mut out, text);
        out
    }

    #[test]
    fn server_frames_have_the_right_lengths() {
        assert_eq!(text_frame("hi"), [0x81, 2, b'h', b'i']);
        assert_eq!(&text_frame(&"x".repeat(300))[..4], [0x81, 126, 1, 44]);
        assert_eq!(
            &text_frame(&"x".repeat(70_000))[..10],
            [0x81, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]
        );
        assert_eq!(ping_frame(), [0x89, 0]);
        let mut two = text_frame("a");
        push_text_frame(&mut two, &"b".repeat(300));
        assert_eq!(two[..3], text_frame("a"));
        assert_eq!(two[3..], text_frame(&"b".repeat(300)));
        assert_eq!(
            close_frame(1000, "bye"),
            [0x88, 5, 0x03, 0xE8, b'b', b'y', b'e']
        );
        let long = close_frame(1008, &"é".repeat(100));
        assert_eq!(long[1] as usize, long.len() - 2);
        assert!(long.len() - 2 <= 125);
        assert!(
            std::str::from_utf8(&long[4..]).is_ok(),
            "cut at a character boundary"
        );
    }

    #[test]
    fn client_messages_are_unmasked_and_joined() {
        let mut bytes = client_frame(0x81, br#"{"params": {}}"#);
        bytes.extend(client_frame(0x01, b"frag"));
        bytes.extend(client_frame(0x89, b"ping?")); // control frames may come between fragments
        bytes.extend(client_frame(0x80, b"mented"));
        bytes.extend(client_frame(0x8A, b""));
        bytes.extend(client_frame(0x82, &[1, 2, 3]));
        bytes.extend(client_frame(0x81, &vec![b'a'; 1000]));
        bytes.extend(client_frame(0x88, &[0x03, 0xE9, b'o', b'k']));
        let messages = parse(&bytes).unwrap();
        assert_eq!(
            messages,
            [
                Message::Text(r#"{"params": {}}"#.into()),
                Message::Ping(b"ping?".to_vec()),
                Message::Text("fragmented".into()),
                Message::Pong,
                Message::Binary(vec![1, 2, 3]),
                Message::Text("a".repeat(1000)),
                Message::Close(Some(1001)),
            ]
        );
    }

    #[test]
    fn partial_frames_wait_for_more_bytes() {
        let bytes = client_frame(0x81, &[b'z'; 200]);
        let mut parser = Parser::default();
        for chunk in bytes.chunks(7) {
            assert_eq!(parser.next().unwrap(), None);
            parser.push(chunk);
        }
        assert_eq!(parser.next().unwrap(), Some(Message::Text("z".repeat(200))));
        assert_eq!(parser.next().unwrap(), None);
    }

    #[test]
    fn broken_frames_are_refused_with_a_code() {
        let code = |bytes: &[u8]| parse(bytes).unwrap_err().code;
        assert_eq!(code(&[0x81, 0x02, b'h', b'i']), PROTOCOL_ERROR, "unmasked");
        assert_eq!(
            code(&client_frame(0xC1, b"x")),
            PROTOCOL_ERROR,
            "reserved bit"
        );
        assert_eq!(code(&client_frame(0x83, b"x")), PROTOCOL_ERROR, "opcode 3");
        assert_eq!(
            code(&client_frame(0x80, b"x")),
            PROTOCOL_ERROR,
            "lone continuation"
        );
        assert_eq!(
            code(&client_frame(0x09, b"x")),
            PROTOCOL_ERROR,
            "fragmented ping"
        );
        assert_eq!(
            code(&client_frame(0x89, &[0; 126])),
            PROTOCOL_ERROR,
            "long ping"
        );
        assert_eq!(code(&client_frame(0x81, &[0xFF, 0xFE])), INVALID_PAYLOAD);
        assert_eq!(code(&client_frame(0x88, &[3])), PROTOCOL_ERROR);
        assert_eq!(
            code(&client_frame(0x82, &vec![0; MAX_MESSAGE_BYTES + 1])),
            TOO_BIG
        );
        let mut fragments = client_frame(0x01, &vec![0; MAX_MESSAGE_BYTES]);
        fragments.extend(client_frame(0x80, b"more"));
        assert_eq!(code(&fragments), TOO_BIG);
        // A header announcing a huge frame is refused before its payload arrives.
        assert_eq!(code(&[0x82, 0xFF, 0, 0, 0, 1, 0, 0, 0, 0]), TOO_BIG);
    }
}
