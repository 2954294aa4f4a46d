//! The application without sockets: an `App` over a fixture folder, asked with plain
//! `http::Request` values through `App::handle` and finished by `App::finish`, as a server
//! worker does ([`answer`]). For behaviour that
//! is not about the wire (what an endpoint answers, filters, zero configuration, file names);
//! limits, framing, slow clients, CORS on refusals and TLS stay on sockets ([`TestServer`]).
//! Requests carry `Host: localhost`, as the test clients do over sockets.
//!
//! [`TestServer`]: super::TestServer
//! [`answer`]: super::answer

use openbb_files::Config;
use openbb_files::app::App;
use openbb_files::http::{Method, Request, Response};

use super::{Fixture, Reply, answer, test_config};

pub struct InProcess {
    pub fixture: Fixture,
    pub app: App,
}

impl InProcess {
    /// The app over `fixture` with the test settings ([`test_config`]).
    pub fn new(fixture: Fixture) -> InProcess {
        let config = test_config(&fixture.root);
        InProcess::with_config(fixture, &config)
    }

    pub fn with_config(fixture: Fixture, config: &Config) -> InProcess {
        InProcess {
            app: App::new(config),
            fixture,
        }
    }

    /// A GET of `target` as it would be on the wire: path percent-encoded, with its query.
    pub fn get(&self, target: &str) -> Reply {
        self.request("GET", target, &[])
    }

    /// A POST of `body` with a JSON content type.
    pub fn post(&self, target: &str, body: &str) -> Reply {
        let json = [("Content-Type", "application/json")];
        self.send("POST", target, &json, body.as_bytes())
    }

    /// Any method, with extra headers (as [`TestServer::request`](super::TestServer::request)).
    pub fn request(&self, method: &str, target: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(method, target, headers, b"")
    }

    pub fn send(&self, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let headers = [("Host", "localhost")].iter().chain(headers);
        let headers = headers.map(|(name, value)| (name.to_string(), value.to_string()));
        let mut request = Request::new(Method::parse(method), target, headers.collect());
        request.body = body.to_vec();
        Reply::from(answer(&self.app, &request))
    }
}

impl From<Response> for Reply {
    fn from(response: Response) -> Reply {
        let headers = (response.headers.iter())
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_string()));
        Reply {
            status: response.status,
            headers: headers.collect(),
            body: String::from_utf8_lossy(response.body.as_ref()).into_owned(),
        }
    }
}
