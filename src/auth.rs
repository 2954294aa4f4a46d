//! Token checks, written by hand: the API keys Workspace attaches to every request.
//!
//! Workspace sends a key either as a header (default `X-API-KEY`, or `Authorization: Bearer
//! KEY`) or as a query parameter (default `api_key`); both are accepted. A server has no key,
//! `--api-key`'s (id [`DEFAULT_KEY_ID`]), the named keys of an `--api-keys` file
//! ([`read_keys_file`]: `ID KEY` lines, read once at the start), or both; any of them
//! authenticates a request, and [`Auth::check`] says which (a write records its id).
//! Invariants: a key offered is compared in constant time with every configured key (no early
//! stop), and a key never appears in an error message, a log line or a `Debug` output
//! ([`Auth::redact`] hides the query parameter in logged URLs); only ids are shown.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use crate::http::{Request, parse_query};

/// The id `--api-key`'s key is known by.
pub const DEFAULT_KEY_ID: &str = "default";

/// The largest `--api-keys` file read, in bytes.
pub const MAX_KEYS_FILE_BYTES: u64 = 1024 * 1024;

/// The most keys an `--api-keys` file may hold. Every request is compared with each: 1,000 keys
/// add about 0.03 ms to a request, 10,000 would add 0.2 ms and cut the requests a second by
/// two thirds (RELIABILITY.md, `bench/named_keys.sh`).
pub const MAX_KEYS: usize = 1_000;

/// The longest key id.
const MAX_ID_CHARS: usize = 64;

/// One accepted key and the id it is known by (in the write log and `submitted_by` columns).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    id: Arc<str>,
    secret: String,
}

impl ApiKey {
    pub fn new(id: &str, secret: &str) -> ApiKey {
        ApiKey {
            id: id.into(),
            secret: secret.to_string(),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

/// A key as the settings hold it (`--api-key`): the text, which `Debug` never shows, so that
/// printing a `Config` never shows a key.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl std::ops::Deref for Secret {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Secret {
        Secret(text)
    }
}

impl From<&str> for Secret {
    fn from(text: &str) -> Secret {
        Secret(text.to_string())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(hidden)")
    }
}

/// Shows the id only, so that printing a `Config` never shows a key.
impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.id)
    }
}

/// Reads an `--api-keys` file: one `ID KEY` per line (whitespace between them), blank lines
/// and `#` comments skipped. An id is 1 to 64 of `A-Z a-z 0-9 . _ -`, a key has no whitespace;
/// ids and keys are unique, also against `default` (`--api-key`'s key, when given). `Err`: why,
/// naming the line but never showing its text (a line may hold a key).
pub fn read_keys_file(path: &Path, default: Option<&str>) -> Result<Vec<ApiKey>, String> {
    let file = std::fs::File::open(path).map_err(|err| err.to_string())?;
    let mut bytes = Vec::new();
    file.take(MAX_KEYS_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| err.to_string())?;
    if bytes.len() as u64 > MAX_KEYS_FILE_BYTES {
        return Err(format!(
            "larger than {MAX_KEYS_FILE_BYTES} bytes, the most a keys file may be"
        ));
    }
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
    parse_keys(&text, default)
}

/// The keys of a keys file's `text` (see [`read_keys_file`]).
fn parse_keys(text: &str, default: Option<&str>) -> Result<Vec<ApiKey>, String> {
    let mut keys = Vec::new();
    // The line of each id and key seen, to name the first of two.
    let mut id_lines: HashMap<&str, usize> = HashMap::new();
    let mut key_lines: HashMap<&str, usize> = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fault = |why: &str| Err(format!("line {number}: {why}"));
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [id, secret] = fields[..] else {
            return fault("expected an id, whitespace, then the key (the key holds no whitespace)");
        };
        if id.len() > MAX_ID_CHARS
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return fault("an id is 1 to 64 of A-Z, a-z, 0-9, '.', '_' and '-'");
        }
        if keys.len() == MAX_KEYS {
            return fault(&format!("more than {MAX_KEYS} keys"));
        }
        if default.is_some() && id == DEFAULT_KEY_ID {
            return fault("the id 'default' is --api-key's key: name this one otherwise");
        }
        if default == Some(secret) {
            return fault("the same key as --api-key: give each person a key of their own");
        }
        if let Some(first) = id_lines.insert(id, number) {
            return fault(&format!("the same id as line {first}"));
        }
        if let Some(first) = key_lines.insert(secret, number) {
            return fault(&format!(
                "the same key as line {first}: give each person a key of their own"
            ));
        }
        keys.push(ApiKey::new(id, secret));
    }
    Ok(keys)
}

#[derive(Debug, Clone)]
pub struct Auth {
    keys: Vec<ApiKey>,
    header: String,
    query: String,
}

impl Auth {
    /// The checks of a server taking `keys` (none: every request is let through).
    pub fn new(keys: Vec<ApiKey>, header: &str, query: &str) -> Auth {
        Auth {
            keys,
            header: header.to_ascii_lowercase(),
            query: query.to_string(),
        }
    }

    pub fn required(&self) -> bool {
        !self.keys.is_empty()
    }

    /// The query parameter that carries the key; it is never treated as a data filter.
    pub fn query_name(&self) -> &str {
        &self.query
    }

    /// The query parameter name and `presented`'s key (what [`Auth::check`] gave for the
    /// request), for a URL the browser fetches without Workspace's headers (a PDF link), so
    /// that the link carries the requester's own key; `None` when no key is required.
    pub fn url_credential<'a>(
        &'a self,
        presented: Option<&'a ApiKey>,
    ) -> Option<(&'a str, &'a str)> {
        presented.map(|key| (self.query.as_str(), key.secret.as_str()))
    }

    /// The key the request carries (`None` when no key is configured); otherwise the 401
    /// detail.
    pub fn check(&self, request: &Request) -> Result<Option<&ApiKey>, String> {
        if self.keys.is_empty() {
            return Ok(None);
        }
        let bearer = request.header("authorization").and_then(|value| {
            let (scheme, token) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
        let offered = [
            request.header(&self.header),
            bearer,
            request.query_param(&self.query),
        ];
        // Every candidate is compared with every key, so timing reveals neither which one was
        // present nor which key (if any) matched.
        let matched = self.keys.iter().fold(None, |found, key| {
            let hit = offered.iter().fold(false, |hit, candidate| {
                hit | candidate
                    .is_some_and(|c| constant_time_eq(c.as_bytes(), key.secret.as_bytes()))
            });
            found.or(hit.then_some(key))
        });
        matched.map(Some).ok_or_else(|| {
            format!(
                "missing or invalid API key: send it in the {} header or the {} query parameter",
                self.header.to_ascii_uppercase(),
                self.query
            )
        })
    }

    /// The request target with the key's query parameter value replaced, for logging.
    pub fn redact(&self, target: &str) -> String {
        let Some((path, query)) = target.split_once('?') else {
            return target.to_string();
        };
        let pieces: Vec<String> = query
            .split('&')
            .map(|piece| {
                let key = piece.split_once('=').map_or(piece, |(key, _)| key);
                let decoded = parse_query(key).into_iter().next().map(|(k, _)| k);
                if decoded.as_deref() == Some(self.query.as_str()) {
                    format!("{key}=REDACTED")
                } else {
                    piece.to_string()
                }
            })
            .collect();
        format!("{path}?{}", pieces.join("&"))
    }
}

/// Compares two byte strings in time that depends only on the expected one's length, neither
/// on their contents nor on the offered one's length; eight bytes at a time, as every request
/// is compared with every key (byte by byte, 10,000 keys had cost 0.7 ms a request).
fn constant_time_eq(offered: &[u8], expected: &[u8]) -> bool {
    let same_length = offered.len() == expected.len();
    // Of another length, the expected string is compared with itself, which takes as long.
    let offered = if same_length { offered } else { expected };
    let mut difference = u64::from(!same_length);
    let (offered, expected) = (offered.chunks_exact(8), expected.chunks_exact(8));
    for (a, b) in offered.clone().zip(expected.clone()) {
        difference |= word(a) ^ word(b);
    }
    for (a, b) in offered.remainder().iter().zip(expected.remainder()) {
        difference |= u64::from(a ^ b);
    }
    difference == 0
}

/// Eight bytes as a number.
fn word(bytes: &[u8]) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(bytes);
    u64::from_ne_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;

    fn auth() -> Auth {
        Auth::new(
            vec![ApiKey::new("default", "s3cret")],
            "X-API-KEY",
            "api_key",
        )
    }

    fn request(target: &str, headers: &[(&str, &str)]) -> Request {
        let headers = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Request::new(Method::Get, target, headers)
    }

    #[test]
    fn no_key_configured_lets_everything_through() {
        let open = Auth::new(Vec::new(), "X-API-KEY", "api_key");
        assert!(!open.required());
        assert_eq!(open.check(&request("/", &[])), Ok(None));
        assert_eq!(open.url_credential(None), None);
    }

    #[test]
    fn key_accepted_in_header_bearer_or_query() {
        let auth = auth();
        assert!(
            auth.check(&request("/", &[("x-api-key", "s3cret")]))
                .is_ok()
        );
        assert!(
            auth.check(&request("/", &[("X-Api-Key", "s3cret")]))
                .is_ok()
        );
        assert!(
            auth.check(&request("/", &[("Authorization", "Bearer s3cret")]))
                .is_ok()
        );
        assert!(
            auth.check(&request("/", &[("authorization", "bearer s3cret")]))
                .is_ok()
        );
        assert!(auth.check(&request("/x?api_key=s3cret", &[])).is_ok());
        assert!(auth.check(&request("/x?api_key=s3cr%65t", &[])).is_ok());
    }

    #[test]
    fn wrong_or_missing_keys_are_refused_without_echoing_the_key() {
        let auth = auth();
        for (target, headers) in [
            ("/", vec![]),
            ("/", vec![("x-api-key", "s3cre")]),
            ("/", vec![("x-api-key", "s3cret ")]),
            ("/", vec![("x-api-key", "S3CRET")]),
            ("/", vec![("authorization", "Basic s3cret")]),
            ("/?api_key=", vec![]),
            ("/?apikey=s3cret", vec![]),
            ("/", vec![("other", "s3cret")]),
        ] {
            let err = auth.check(&request(target, &headers)).unwrap_err();
            assert!(!err.contains("s3cret"), "{err}");
        }
    }

    #[test]
    fn custom_names() {
        let auth = Auth::new(vec![ApiKey::new("default", "k")], "X-Token", "token");
        assert!(auth.check(&request("/", &[("x-token", "k")])).is_ok());
        assert!(auth.check(&request("/?token=k", &[])).is_ok());
        assert!(auth.check(&request("/?api_key=k", &[])).is_err());
    }

    #[test]
    fn any_configured_key_authenticates_and_is_named() {
        let keys = vec![ApiKey::new("alice", "a-key"), ApiKey::new("bob", "b-key")];
        let auth = Auth::new(keys, "X-API-KEY", "api_key");
        let id = |request: Request| auth.check(&request).map(|key| key.map(ApiKey::id));
        assert_eq!(
            id(request("/", &[("x-api-key", "a-key")])),
            Ok(Some("alice"))
        );
        assert_eq!(id(request("/?api_key=b-key", &[])), Ok(Some("bob")));
        // A wrong key beside a right one still authenticates, as the right one.
        let both = request("/?api_key=nope", &[("authorization", "Bearer b-key")]);
        assert_eq!(id(both), Ok(Some("bob")));
        assert!(id(request("/", &[("x-api-key", "c-key")])).is_err());
        let bob = auth.check(&request("/?api_key=b-key", &[])).unwrap();
        assert_eq!(auth.url_credential(bob), Some(("api_key", "b-key")));
    }

    #[test]
    fn a_keys_file_names_each_key_and_its_faults_by_line_only() {
        let text = "# desk keys\n\nalice   a-key-1\n  bob\tb.key_2  \n";
        let keys = parse_keys(text, None).unwrap();
        assert_eq!(
            keys,
            [
                ApiKey::new("alice", "a-key-1"),
                ApiKey::new("bob", "b.key_2")
            ]
        );
        assert_eq!(format!("{keys:?}"), "[ApiKey(alice), ApiKey(bob)]");
        for (text, default, why) in [
            ("alice\n", None, "line 1: expected an id"),
            ("a k1\nb k2 extra\n", None, "line 2: expected an id"),
            ("al/ice sekrit-1\n", None, "line 1: an id is"),
            (
                &format!("{} sekrit-1\n", "i".repeat(65)),
                None,
                "line 1: an id is",
            ),
            (
                "a sekrit-1\n#\nb sekrit-1\n",
                None,
                "line 3: the same key as line 1",
            ),
            (
                "a sekrit-1\na sekrit-2\n",
                None,
                "line 2: the same id as line 1",
            ),
            (
                "default sekrit-1\n",
                Some("other"),
                "line 1: the id 'default'",
            ),
            (
                "a sekrit-1\n",
                Some("sekrit-1"),
                "line 1: the same key as --api-key",
            ),
        ] {
            let err = parse_keys(text, default).unwrap_err();
            assert!(err.starts_with(why), "{text:?}: {err}");
            assert!(!err.contains("sekrit") && !err.contains("k2"), "{err}");
        }
        assert!(parse_keys("default k\n", None).is_ok());
        let many: String = (0..=MAX_KEYS).map(|n| format!("id{n} key{n}\n")).collect();
        let err = parse_keys(&many, None).unwrap_err();
        assert_eq!(
            err,
            format!("line {}: more than {MAX_KEYS} keys", MAX_KEYS + 1)
        );
    }

    #[test]
    fn constant_time_comparison_is_exact() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"ab", b"abc"));
        assert!(!constant_time_eq(b"abcd", b"abc"));
        assert!(!constant_time_eq(b"", b"a"));
        assert!(constant_time_eq(b"", b""));
        let long = b"0123456789abcdef-0123456789";
        assert!(constant_time_eq(long, long));
        for index in 0..long.len() {
            let mut other = *long;
            other[index] ^= 1;
            assert!(!constant_time_eq(&other, long), "byte {index}");
        }
    }

    #[test]
    fn logs_never_show_the_key() {
        let auth = auth();
        assert_eq!(
            auth.redact("/prices?ticker=A&api_key=s3cret&x=1"),
            "/prices?ticker=A&api_key=REDACTED&x=1"
        );
        assert_eq!(auth.redact("/p?api%5Fkey=s3cret"), "/p?api%5Fkey=REDACTED");
        assert_eq!(auth.redact("/p"), "/p");
    }
}
