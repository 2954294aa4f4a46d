//! Finishing answers: the one place where an answer gets what is not its maker's business.
//!
//! Every answer the server sends passes through [`finish`] exactly once, whoever made it: a
//! handler's response (a WebSocket handshake's refusal included), a refusal of the HTTP layer
//! (400, 408, 413, 414, 417, 431, 501, 503, 505; given as a status and a reason), the 500 of
//! a panicking handler, and the `101` of an accepted WebSocket handshake. `server.rs` then only
//! encodes it (status line, headers, `Content-Length`).
//!
//! Invariants:
//! - every answer carries the CORS headers its `Origin` earns (none without a [`Cors`], as for
//!   a test's stand-in handler), `Date`, `Server`, `X-Request-Id` and, when the connection
//!   does not simply go on, `Connection`: `close` whenever it ends after this answer (a
//!   refusal always; a request that asked to close; HTTP/1.0 without `keep-alive`; an answer
//!   its maker marked `Connection: close`), `keep-alive` for HTTP/1.0 requests that asked to
//!   keep it, `Upgrade` for a `101`. The HTTP layer obeys that header (`server::respond`);
//! - refusals and panics get the `{"detail": "..."}` body every error has; a handler's errors
//!   already have it (`Response::error`);
//! - a preflight's grants are the preflight's ([`Cors::preflight`]); the origin headers are
//!   added here, as on every answer.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::SystemTime;

use crate::cors::Cors;
use crate::http::{HeaderValue, Request, Response};

/// An answer as it was made, before it is finished.
pub enum Answer<'a> {
    /// What a handler returned.
    Handled(Response),
    /// The HTTP layer refused the request (or could not take it on): the status and why.
    Refused { status: u16, reason: &'a str },
    /// The handler panicked.
    Panicked,
    /// A WebSocket handshake accepted: `101`, with the `Sec-WebSocket-Accept` value.
    Switching { accept: String },
}

/// What the HTTP layer tells of the exchange an answer ends.
pub struct Exchange<'a> {
    /// The request's id, carried as `X-Request-Id` (the access log's id).
    pub id: &'a str,
    /// The request came in HTTP/1.0, whose connections end after one answer unless the request
    /// asks `Connection: keep-alive`.
    pub http_1_0: bool,
}

const PANICKED: &str = "internal error while answering this request; see the server log";

/// Finishes `answer` to `request` (see the module comment); `cors` is `None` for a handler
/// without CORS rules.
pub fn finish(
    cors: Option<&Cors>,
    request: &Request,
    answer: Answer<'_>,
    exchange: &Exchange<'_>,
) -> Response {
    let (mut response, connection) = match answer {
        Answer::Handled(response) => {
            let connection = match ends_connection(request, &response, exchange) {
                true => Some("close"),
                false => exchange.http_1_0.then_some("keep-alive"),
            };
            (response, connection)
        }
        Answer::Refused { status, reason } => (Response::error(status, reason), Some("close")),
        Answer::Panicked => {
            let response = Response::error(500, PANICKED);
            let connection = ends_connection(request, &response, exchange).then_some("close");
            (response, connection)
        }
        Answer::Switching { accept } => {
            let response = Response::empty(101)
                .with_header("Upgrade", "websocket")
                .with_header("Sec-WebSocket-Accept", accept);
            (response, Some("Upgrade"))
        }
    };
    let headers = &mut response.headers;
    headers.retain(|(name, _)| !name.eq_ignore_ascii_case("Connection"));
    if let Some(cors) = cors {
        headers.extend(cors.headers(request.header("origin")));
    }
    headers.push(("Date", now()));
    headers.push(("Server", env!("CARGO_PKG_NAME").into()));
    headers.push(("X-Request-Id", exchange.id.to_string().into()));
    if let Some(connection) = connection {
        headers.push(("Connection", connection.into()));
    }
    response
}

/// Whether the connection ends after `response`: the request or the response says
/// `Connection: close`, or an HTTP/1.0 request did not ask to keep it.
fn ends_connection(request: &Request, response: &Response, exchange: &Exchange<'_>) -> bool {
    let says = |value: Option<&str>, token: &str| {
        value.is_some_and(|value| {
            value
                .split(',')
                .any(|part| part.trim().eq_ignore_ascii_case(token))
        })
    };
    let asked = request.header("connection");
    says(asked, "close")
        || says(response.header("Connection"), "close")
        || (exchange.http_1_0 && !says(asked, "keep-alive"))
}

/// The current time as an HTTP date, formatted once per second per thread and shared.
fn now() -> HeaderValue {
    thread_local! {
        static DATE: RefCell<(u64, Arc<str>)> = RefCell::new((u64::MAX, Arc::from("")));
    }
    let now = SystemTime::now();
    let second = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    DATE.with_borrow_mut(|(formatted_at, date)| {
        if *formatted_at != second {
            *formatted_at = second;
            *date = Arc::from(httpdate::fmt_http_date(now));
        }
        HeaderValue::Shared(Arc::clone(date))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;

    const ORIGIN: &str = "https://pro.openbb.co";

    fn request(headers: &[(&str, &str)]) -> Request {
        let headers = headers
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        Request::new(Method::Get, "/prices", headers)
    }

    fn finished(request: &Request, answer: Answer<'_>, http_1_0: bool) -> Response {
        let cors = Cors::new(&[ORIGIN.to_string()]);
        let exchange = Exchange {
            id: "id-7",
            http_1_0,
        };
        finish(Some(&cors), request, answer, &exchange)
    }

    #[test]
    fn every_kind_of_answer_gets_the_same_headers() {
        let from_origin = request(&[("Origin", ORIGIN)]);
        let answers = [
            Answer::Handled(Response::error(404, "gone")),
            Answer::Refused {
                status: 431,
                reason: "the request headers are too large",
            },
            Answer::Panicked,
            Answer::Switching { accept: "k".into() },
        ];
        for answer in answers {
            let response = finished(&from_origin, answer, false);
            let status = response.status;
            assert_eq!(
                response.header("Access-Control-Allow-Origin"),
                Some(ORIGIN),
                "{status}"
            );
            assert_eq!(response.header("Vary"), Some("Origin"), "{status}");
            assert_eq!(response.header("X-Request-Id"), Some("id-7"), "{status}");
            assert_eq!(response.header("Server"), Some("openbb-files"), "{status}");
            let date = response.header("Date").unwrap();
            assert!(httpdate::parse_http_date(date).is_ok(), "{date}");
        }
    }

    #[test]
    fn refusals_and_panics_get_a_json_detail() {
        let refused = Answer::Refused {
            status: 413,
            reason: "the request body is larger than 10 bytes",
        };
        for (answer, status, detail) in [
            (refused, 413, "the request body is larger than 10 bytes"),
            (Answer::Panicked, 500, PANICKED),
        ] {
            let response = finished(&request(&[]), answer, false);
            assert_eq!(response.status, status);
            assert_eq!(response.header("Content-Type"), Some("application/json"));
            let body: serde_json::Value = serde_json::from_slice(response.body.as_ref()).unwrap();
            assert_eq!(body, serde_json::json!({ "detail": detail }));
        }
    }

    #[test]
    fn the_connection_header_says_whether_the_connection_goes_on() {
        let ok = || Answer::Handled(Response::empty(204));
        let connection = |request: &Request, answer, http_1_0| {
            let response = finished(request, answer, http_1_0);
            let values = response.headers.iter().filter(|(n, _)| *n == "Connection");
            values.map(|(_, v)| v.to_string()).collect::<Vec<_>>()
        };
        let plain = request(&[]);
        assert_eq!(connection(&plain, ok(), false), Vec::<String>::new());
        assert_eq!(connection(&plain, ok(), true), ["close"]);
        let keep = request(&[("Connection", "Keep-Alive")]);
        assert_eq!(connection(&keep, ok(), true), ["keep-alive"]);
        let close = request(&[("Connection", "keep-alive, close")]);
        assert_eq!(connection(&close, ok(), false), ["close"]);
        // a refusal always closes; a maker's `close` is kept once
        let refused = Answer::Refused {
            status: 400,
            reason: "malformed request header",
        };
        assert_eq!(connection(&keep, refused, false), ["close"]);
        let marked = Response::empty(204).with_header("Connection", "close");
        assert_eq!(
            connection(&plain, Answer::Handled(marked), false),
            ["close"]
        );
        let switching = Answer::Switching { accept: "k".into() };
        assert_eq!(connection(&plain, switching, false), ["Upgrade"]);
    }

    #[test]
    fn without_cors_rules_or_an_allowed_origin_no_access_control_header() {
        let exchange = Exchange {
            id: "x",
            http_1_0: false,
        };
        let from_origin = request(&[("Origin", ORIGIN)]);
        let answer = Answer::Handled(Response::empty(204));
        let bare = finish(None, &from_origin, answer, &exchange);
        assert!(bare.headers.iter().all(|(n, _)| !n.starts_with("Access")));
        let foreign = request(&[("Origin", "https://evil.example")]);
        let response = finished(&foreign, Answer::Panicked, false);
        assert!(
            response
                .headers
                .iter()
                .all(|(n, _)| !n.starts_with("Access"))
        );
    }
}
