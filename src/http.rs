//! Plain request and response values that handlers work with.
//!
//! Nothing here knows about sockets or tiny_http: `server.rs` copies each incoming request into a
//! [`Request`] and writes the returned [`Response`] back. Invariants: header names in a `Request`
//! are lower-case; `Request::path` is the raw path without the query string (still
//! percent-encoded); query keys and values are percent-decoded, with `+` read as a space.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;

/// The request methods the server distinguishes; anything else is carried as `Other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    /// A form's replacement of a row (`writes/`).
    Put,
    Options,
    Other(String),
}

impl Method {
    pub fn parse(name: &str) -> Method {
        match name {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "OPTIONS" => Method::Options,
            other => Method::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Options => "OPTIONS",
            Method::Other(name) => name,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    /// Raw path, percent-encoded, without the query string.
    pub path: String,
    pub query: Vec<(String, String)>,
    /// `(lower-case name, value)` pairs in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The client's address, when the request came over a socket.
    pub remote: Option<IpAddr>,
}

impl Request {
    /// Builds a request from a raw request target such as `/prices?ticker=AAPL`. An absolute-form
    /// target (`http://host/path`) is reduced to its path.
    pub fn new(method: Method, target: &str, headers: Vec<(String, String)>) -> Request {
        let target = strip_scheme_and_authority(target);
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, parse_query(query)),
            None => (target, Vec::new()),
        };
        let path = if path.is_empty() { "/" } else { path };
        let headers = headers
            .into_iter()
            .map(|(mut name, value)| {
                name.make_ascii_lowercase();
                (name, value)
            })
            .collect();
        Request {
            method,
            path: path.to_string(),
            query,
            headers,
            body: Vec::new(),
            remote: None,
        }
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The first value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Reduces an absolute-form target (`http://host/path?q`) to its origin form (`/path?q`).
fn strip_scheme_and_authority(target: &str) -> &str {
    let Some(scheme_end) = target.find("://") else {
        return target;
    };
    if target[..scheme_end].contains(['/', '?']) {
        return target;
    }
    let rest = &target[scheme_end + 3..];
    match rest.find(['/', '?']) {
        Some(start) => &rest[start..],
        None => "",
    }
}

/// Splits `a=1&b=x%20y` into decoded pairs. A key without `=` has an empty value; empty pieces
/// (`a=1&&b=2`) are skipped.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
            (decode_query_part(key), decode_query_part(value))
        })
        .collect()
}

fn decode_query_part(part: &str) -> String {
    if !part.contains(['+', '%']) {
        return part.to_string();
    }
    match String::from_utf8(percent_decode(&part.replace('+', " "))) {
        Ok(text) => text,
        Err(not_utf8) => String::from_utf8_lossy(not_utf8.as_bytes()).into_owned(),
    }
}

/// Decodes `%XX` escapes. A `%` not followed by two hex digits is kept as it is.
pub fn percent_decode(input: &str) -> Vec<u8> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(high), Some(low)) = (
                bytes.get(i + 1).and_then(|b| hex_value(*b)),
                bytes.get(i + 2).and_then(|b| hex_value(*b)),
            )
        {
            out.push(high << 4 | low);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// Encodes every byte except the URL-unreserved ones (`A-Z a-z 0-9 - . _ ~`) as `%XX`; used for
/// URL path segments and RFC 5987 `filename*=UTF-8''...` values alike.
pub fn percent_encode(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for &byte in input.as_bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// A response body: either freshly built bytes or bytes shared with a cache.
#[derive(Debug, Clone)]
pub enum Body {
    Owned(Vec<u8>),
    Shared(Arc<[u8]>),
}

impl AsRef<[u8]> for Body {
    fn as_ref(&self) -> &[u8] {
        match self {
            Body::Owned(bytes) => bytes,
            Body::Shared(bytes) => bytes,
        }
    }
}

/// Response bytes built once and served many times, with the entity tag that names them.
#[derive(Debug, Clone)]
pub struct Payload {
    pub bytes: Arc<[u8]>,
    pub etag: Arc<str>,
}

impl Payload {
    /// The tag is a hash of the bytes, so equal bytes always get equal tags, across restarts.
    pub fn new(bytes: impl Into<Arc<[u8]>>) -> Payload {
        let bytes = bytes.into();
        let mut hasher = std::hash::DefaultHasher::new();
        bytes.hash(&mut hasher);
        let etag = format!("\"{:x}-{:016x}\"", bytes.len(), hasher.finish());
        Payload {
            bytes,
            etag: etag.into(),
        }
    }
}

impl From<Body> for Arc<[u8]> {
    fn from(body: Body) -> Arc<[u8]> {
        match body {
            Body::Owned(bytes) => bytes.into(),
            Body::Shared(bytes) => bytes,
        }
    }
}

/// A response header's value: fixed in the code, built for one response, or shared with a
/// cache (an `ETag`). Most answers then build no header text at all. Values are equal when
/// their text is.
#[derive(Debug, Clone)]
pub enum HeaderValue {
    Static(&'static str),
    Owned(String),
    Shared(Arc<str>),
}

impl std::ops::Deref for HeaderValue {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            HeaderValue::Static(text) => text,
            HeaderValue::Owned(text) => text,
            HeaderValue::Shared(text) => text,
        }
    }
}

impl PartialEq for HeaderValue {
    fn eq(&self, other: &HeaderValue) -> bool {
        **self == **other
    }
}

impl Eq for HeaderValue {}

impl From<&'static str> for HeaderValue {
    fn from(text: &'static str) -> HeaderValue {
        HeaderValue::Static(text)
    }
}

impl From<String> for HeaderValue {
    fn from(text: String) -> HeaderValue {
        HeaderValue::Owned(text)
    }
}

impl From<Arc<str>> for HeaderValue {
    fn from(text: Arc<str>) -> HeaderValue {
        HeaderValue::Shared(text)
    }
}

/// Room for the headers a response usually carries (type, `ETag`, caching, CORS, and those
/// `finish.rs` adds to every answer), so that adding them does not grow the vector.
const USUAL_HEADERS: usize = 10;

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, HeaderValue)>,
    pub body: Body,
}

pub const JSON: &str = "application/json";

impl Response {
    pub fn new(status: u16, content_type: &'static str, body: Body) -> Response {
        let mut headers = Vec::with_capacity(USUAL_HEADERS);
        headers.push(("Content-Type", HeaderValue::Static(content_type)));
        Response {
            status,
            headers,
            body,
        }
    }

    /// Serializes `value` as a JSON response. Serializing our own values cannot fail; should it
    /// ever, the failure is reported as a 500 rather than a panic.
    pub fn json<T: Serialize + ?Sized>(status: u16, value: &T) -> Response {
        match serde_json::to_vec(value) {
            Ok(bytes) => Response::new(status, JSON, Body::Owned(bytes)),
            Err(err) => Response::error(500, &format!("could not encode the response: {err}")),
        }
    }

    /// The error shape Workspace shows inside a widget: `{"detail": "..."}`.
    pub fn error(status: u16, detail: &str) -> Response {
        let body = serde_json::json!({ "detail": detail });
        Response::new(status, JSON, Body::Owned(body.to_string().into_bytes()))
    }

    /// A 200 carrying a cached payload and its `ETag`. `Cache-Control: no-cache` makes browsers
    /// revalidate every time, which costs them a 304 when nothing changed.
    pub fn payload(content_type: &'static str, payload: &Payload) -> Response {
        Response::new(200, content_type, Body::Shared(Arc::clone(&payload.bytes)))
            .with_header("ETag", Arc::clone(&payload.etag))
            .with_header("Cache-Control", "no-cache")
    }

    /// Turns a 200 into a bodiless 304 when the request's `If-None-Match` names its `ETag`.
    pub fn not_modified_for(self, request: &Request) -> Response {
        let (Some(etag), Some(wanted)) = (self.header("ETag"), request.header("if-none-match"))
        else {
            return self;
        };
        let matches = wanted
            .split(',')
            .map(|tag| tag.trim().trim_start_matches("W/"))
            .any(|tag| tag == "*" || tag == etag);
        if self.status != 200 || !matches {
            return self;
        }
        Response {
            status: 304,
            headers: self
                .headers
                .into_iter()
                .filter(|(name, _)| *name != "Content-Type")
                .collect(),
            body: Body::Owned(Vec::new()),
        }
    }

    pub fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Body::Owned(Vec::new()),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<HeaderValue>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| &**value)
    }
}

/// `(name, value)` pairs as owned strings, the shape of parsed query parameters (for tests).
#[cfg(test)]
pub(crate) fn owned_pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_are_decoded() {
        assert_eq!(
            parse_query("ticker=AAPL&name=S%26P+500&flag&&empty="),
            vec![
                ("ticker".to_string(), "AAPL".to_string()),
                ("name".to_string(), "S&P 500".to_string()),
                ("flag".to_string(), String::new()),
                ("empty".to_string(), String::new()),
            ]
        );
        assert_eq!(
            parse_query("bad=%FF%41"),
            vec![("bad".to_string(), "\u{FFFD}A".to_string())]
        );
    }

    #[test]
    fn broken_escapes_are_kept_literally() {
        assert_eq!(percent_decode("100%"), b"100%");
        assert_eq!(percent_decode("%zz%4"), b"%zz%4");
        assert_eq!(percent_decode("%2e%2E%2f"), b"../");
        assert_eq!(percent_decode("%00"), b"\0");
    }

    #[test]
    fn percent_encoding_round_trips() {
        assert_eq!(
            percent_encode("Q3 report (final).pdf"),
            "Q3%20report%20%28final%29.pdf"
        );
        assert_eq!(percent_encode("résumé;\"x\""), "r%C3%A9sum%C3%A9%3B%22x%22");
        for text in ["a/b?c=d&e", "ünï cødé", "100%"] {
            assert_eq!(percent_decode(&percent_encode(text)), text.as_bytes());
        }
    }

    #[test]
    fn request_splits_path_and_query() {
        let request = Request::new(
            Method::Get,
            "/prices?ticker=MSFT",
            vec![("X-Api-Key".into(), "k".into())],
        );
        assert_eq!(request.path, "/prices");
        assert_eq!(request.query_param("ticker"), Some("MSFT"));
        assert_eq!(request.header("x-api-key"), Some("k"));
        assert_eq!(request.headers[0].0, "x-api-key");
    }

    #[test]
    fn absolute_form_targets_keep_only_the_path() {
        let request = Request::new(Method::Get, "http://evil.example/data/x?y=1", vec![]);
        assert_eq!(request.path, "/data/x");
        assert_eq!(request.query_param("y"), Some("1"));
        assert_eq!(Request::new(Method::Get, "http://host", vec![]).path, "/");
        assert_eq!(
            Request::new(Method::Get, "/a?next=http://x/y", vec![]).path,
            "/a"
        );
    }

    #[test]
    fn payload_tags_follow_the_bytes() {
        assert_eq!(
            Payload::new(&b"[1]"[..]).etag,
            Payload::new(&b"[1]"[..]).etag
        );
        assert_ne!(
            Payload::new(&b"[1]"[..]).etag,
            Payload::new(&b"[2]"[..]).etag
        );
        assert!(Payload::new(&b"[1]"[..]).etag.starts_with("\"3-"));
    }

    #[test]
    fn if_none_match_turns_a_200_into_a_304() {
        let payload = Payload::new(&b"{}"[..]);
        let request =
            |tag: &str| Request::new(Method::Get, "/", vec![("If-None-Match".into(), tag.into())]);
        let fresh = Response::payload(JSON, &payload);
        for tag in [
            payload.etag.to_string(),
            format!("W/{}", payload.etag),
            "*".into(),
            format!("\"x\", {}", payload.etag),
        ] {
            let response = fresh.clone().not_modified_for(&request(&tag));
            assert_eq!(response.status, 304, "{tag}");
            assert!(response.body.as_ref().is_empty());
            assert_eq!(response.header("ETag"), Some(&*payload.etag));
        }
        assert_eq!(
            fresh.clone().not_modified_for(&request("\"other\"")).status,
            200
        );
        let no_header = Request::new(Method::Get, "/", vec![]);
        assert_eq!(fresh.not_modified_for(&no_header).status, 200);
        let error = Response::error(404, "x").with_header("ETag", payload.etag.to_string());
        assert_eq!(error.not_modified_for(&request("*")).status, 404);
    }

    #[test]
    fn error_bodies_carry_detail() {
        let response = Response::error(404, "no such \"thing\"");
        assert_eq!(response.status, 404);
        let value: serde_json::Value = serde_json::from_slice(response.body.as_ref()).unwrap();
        assert_eq!(value["detail"], "no such \"thing\"");
    }
}
