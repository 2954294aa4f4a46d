//! Token checks, written by hand: the API key Workspace attaches to every request.
//!
//! Workspace sends the key either as a header (default `X-API-KEY`, or `Authorization: Bearer
//! KEY`) or as a query parameter (default `api_key`); both are accepted. Invariants: keys are
//! compared in constant time, and the key never appears in an error message or a log line
//! ([`Auth::redact`] hides the query parameter in logged URLs).

use crate::http::{Request, parse_query};

#[derive(Debug, Clone)]
pub struct Auth {
    key: Option<String>,
    header: String,
    query: String,
}

impl Auth {
    pub fn new(key: Option<String>, header: &str, query: &str) -> Auth {
        Auth {
            key,
            header: header.to_ascii_lowercase(),
            query: query.to_string(),
        }
    }

    pub fn required(&self) -> bool {
        self.key.is_some()
    }

    /// The query parameter that carries the key; it is never treated as a data filter.
    pub fn query_name(&self) -> &str {
        &self.query
    }

    /// The query parameter name and key, for a URL the browser fetches without Workspace's
    /// headers (a PDF link); `None` when no key is required.
    pub fn url_credential(&self) -> Option<(&str, &str)> {
        self.key.as_deref().map(|key| (self.query.as_str(), key))
    }

    /// Ok when no key is configured or the request carries it; otherwise the 401 detail.
    pub fn check(&self, request: &Request) -> Result<(), String> {
        let Some(key) = &self.key else {
            return Ok(());
        };
        let bearer = request.header("authorization").and_then(|value| {
            let (scheme, token) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
        let offered = [
            request.header(&self.header),
            bearer,
            request.query_param(&self.query),
        ];
        // Every candidate is compared, so timing does not reveal which one was present.
        let matched = offered.iter().fold(false, |found, candidate| {
            found | candidate.is_some_and(|c| constant_time_eq(c.as_bytes(), key.as_bytes()))
        });
        if matched {
            Ok(())
        } else {
            Err(format!(
                "missing or invalid API key: send it in the {} header or the {} query parameter",
                self.header.to_ascii_uppercase(),
                self.query
            ))
        }
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

/// Compares two byte strings in time that depends only on their lengths, not their contents.
fn constant_time_eq(offered: &[u8], expected: &[u8]) -> bool {
    let mut difference = (offered.len() ^ expected.len()) as u64;
    for (index, byte) in expected.iter().enumerate() {
        let other = offered.get(index).copied().unwrap_or(!*byte);
        difference |= u64::from(other ^ byte);
    }
    difference == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;

    fn auth() -> Auth {
        Auth::new(Some("s3cret".into()), "X-API-KEY", "api_key")
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
        let open = Auth::new(None, "X-API-KEY", "api_key");
        assert!(!open.required());
        assert!(open.check(&request("/", &[])).is_ok());
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
        let auth = Auth::new(Some("k".into()), "X-Token", "token");
        assert!(auth.check(&request("/", &[("x-token", "k")])).is_ok());
        assert!(auth.check(&request("/?token=k", &[])).is_ok());
        assert!(auth.check(&request("/?api_key=k", &[])).is_err());
    }

    #[test]
    fn constant_time_comparison_is_exact() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"ab", b"abc"));
        assert!(!constant_time_eq(b"abcd", b"abc"));
        assert!(!constant_time_eq(b"", b"a"));
        assert!(constant_time_eq(b"", b""));
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
