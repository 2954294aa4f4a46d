//! CORS, written by hand: which origins may read our responses, and preflight answers.
//!
//! Invariants: an origin on the allow-list is echoed exactly, with credentials allowed and
//! `Vary: Origin`; with the wildcard `*` every origin may read but credentials are never
//! allowed; any other origin gets no `Access-Control-*` header at all. Preflights (`OPTIONS`)
//! are answered before any token check, because browsers never send credentials on them.

use std::sync::Arc;

use crate::http::{HeaderValue, Request, Response};

/// The origins Workspace is served from: the web app, the Excel add-in, OpenBB's development
/// build, and the desktop app's local origin.
pub const DEFAULT_ORIGINS: [&str; 4] = [
    "https://pro.openbb.co",
    "https://excel.openbb.co",
    "https://pro.openbb.dev",
    "http://localhost:1420",
];

/// Methods a preflight may ask for.
const ALLOWED_METHODS: &str = "GET, HEAD, POST, PUT, OPTIONS";
/// How long a browser may reuse a preflight answer (Chromium caps this at two hours).
const MAX_AGE_SECONDS: &str = "7200";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cors {
    AnyOrigin,
    /// Shared, so that echoing an allowed origin copies no text.
    Only(Vec<Arc<str>>),
}

impl Cors {
    /// `*` anywhere in the list allows every origin.
    pub fn new(origins: &[String]) -> Cors {
        if origins.iter().any(|origin| origin == "*") {
            Cors::AnyOrigin
        } else {
            Cors::Only(
                origins
                    .iter()
                    .map(|origin| Arc::from(origin.trim_end_matches('/')))
                    .collect(),
            )
        }
    }

    /// Whether pages from `origin` may read our answers.
    pub fn allows(&self, origin: &str) -> bool {
        match self {
            Cors::AnyOrigin => true,
            Cors::Only(allowed) => allowed.iter().any(|a| **a == *origin),
        }
    }

    /// The CORS headers a response to a request from `origin` carries.
    pub fn headers(
        &self,
        origin: Option<&str>,
    ) -> impl Iterator<Item = (&'static str, HeaderValue)> + use<> {
        let headers = match self {
            Cors::AnyOrigin => [
                Some(("Access-Control-Allow-Origin", "*".into())),
                None,
                None,
            ],
            Cors::Only(allowed) => {
                let echoed = origin.and_then(|origin| allowed.iter().find(|a| ***a == *origin));
                [
                    Some(("Vary", "Origin".into())),
                    echoed.map(|origin| ("Access-Control-Allow-Origin", Arc::clone(origin).into())),
                    echoed.map(|_| ("Access-Control-Allow-Credentials", "true".into())),
                ]
            }
        };
        headers.into_iter().flatten()
    }

    /// Answers an `OPTIONS` request: 204, and when the origin is allowed the preflight grants
    /// (the origin headers themselves are added to it as to every answer, by `finish.rs`).
    pub fn preflight(&self, request: &Request) -> Response {
        let mut response = Response::empty(204).with_header("Allow", ALLOWED_METHODS);
        let allowed = self
            .headers(request.header("origin"))
            .any(|(name, _)| name == "Access-Control-Allow-Origin");
        if !allowed {
            return response;
        }
        response = response
            .with_header("Access-Control-Allow-Methods", ALLOWED_METHODS)
            .with_header("Access-Control-Max-Age", MAX_AGE_SECONDS);
        if let Some(asked) = request.header("access-control-request-headers") {
            response = response.with_header("Access-Control-Allow-Headers", asked.to_string());
        }
        if request
            .header("access-control-request-private-network")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        {
            response = response.with_header("Access-Control-Allow-Private-Network", "true");
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;

    fn defaults() -> Cors {
        Cors::new(&DEFAULT_ORIGINS.map(String::from))
    }

    fn preflight(cors: &Cors, headers: &[(&str, &str)]) -> Response {
        let headers = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        cors.preflight(&Request::new(Method::Options, "/widgets.json", headers))
    }

    #[test]
    fn allowed_origins_are_echoed_with_credentials() {
        let headers: Vec<_> = defaults().headers(Some("https://pro.openbb.co")).collect();
        assert!(headers.contains(&(
            "Access-Control-Allow-Origin",
            "https://pro.openbb.co".into()
        )));
        assert!(headers.contains(&("Access-Control-Allow-Credentials", "true".into())));
        assert!(headers.contains(&("Vary", "Origin".into())));
    }

    #[test]
    fn other_origins_get_no_cors_headers() {
        for origin in [
            Some("https://evil.example"),
            Some("https://pro.openbb.co.evil"),
            Some("null"),
            None,
        ] {
            let headers: Vec<_> = defaults().headers(origin).collect();
            assert!(
                headers
                    .iter()
                    .all(|(name, _)| !name.starts_with("Access-Control")),
                "{origin:?}: {headers:?}"
            );
        }
    }

    #[test]
    fn wildcard_never_allows_credentials() {
        let cors = Cors::new(&["https://a.example".into(), "*".into()]);
        assert_eq!(
            cors.headers(Some("https://b.example")).collect::<Vec<_>>(),
            [("Access-Control-Allow-Origin", "*".into())]
        );
    }

    #[test]
    fn configured_list_replaces_the_default_and_ignores_trailing_slash() {
        let cors = Cors::new(&["http://localhost:3000/".into()]);
        assert!(cors.headers(Some("http://localhost:3000")).count() > 1);
        assert_eq!(cors.headers(Some("https://pro.openbb.co")).count(), 1);
    }

    #[test]
    fn preflight_grants_methods_headers_and_private_network() {
        let response = preflight(
            &defaults(),
            &[
                ("Origin", "https://pro.openbb.co"),
                ("Access-Control-Request-Method", "GET"),
                ("Access-Control-Request-Headers", "x-api-key,content-type"),
                ("Access-Control-Request-Private-Network", "true"),
            ],
        );
        assert_eq!(response.status, 204);
        assert_eq!(
            response.header("Access-Control-Allow-Headers"),
            Some("x-api-key,content-type")
        );
        assert_eq!(
            response.header("Access-Control-Allow-Methods"),
            Some(ALLOWED_METHODS)
        );
        assert_eq!(
            response.header("Access-Control-Max-Age"),
            Some(MAX_AGE_SECONDS)
        );
        assert_eq!(
            response.header("Access-Control-Allow-Private-Network"),
            Some("true")
        );
    }

    #[test]
    fn preflight_from_a_foreign_origin_grants_nothing() {
        let response = preflight(
            &defaults(),
            &[
                ("Origin", "https://evil.example"),
                ("Access-Control-Request-Headers", "x-api-key"),
            ],
        );
        assert_eq!(response.status, 204);
        assert!(
            response
                .headers
                .iter()
                .all(|(n, _)| !n.starts_with("Access-Control"))
        );
    }
}
