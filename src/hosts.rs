//! Which names a request may call the server by (its `Host` header): the defence against DNS
//! rebinding. A page on a name its author controls (`rebind.example`) can have that name
//! resolve to 127.0.0.1 once loaded; its requests are then same-origin in the browser's eyes,
//! so CORS never applies, but they still carry `Host: rebind.example`. Only names the server
//! knows are served, so such a page reads nothing (421 Misdirected Request).
//!
//! Allowed: `localhost`; any IP address (`127.0.0.1`, `[::1]`, `192.168.1.20`: an address is
//! not a name DNS can rebind, and a page served from an address is served by that address);
//! the `--host` name the server was started with; the names given with `--allowed-host`, or
//! any name when one of those is `*`. The port is not compared (a proxy may forward its own),
//! and case and a final dot do not matter. A request without `Host` (HTTP/1.0) cannot come from
//! a browser and passes.

use std::net::IpAddr;

use crate::http::Request;

#[derive(Debug, Clone)]
pub struct Hosts {
    /// Allowed names besides `localhost` and addresses, in lower case without a final dot.
    names: Vec<String>,
    any: bool,
}

impl Hosts {
    /// The names for a server bound to `bind` (`--host`) with `allowed` (`--allowed-host`).
    pub fn new(bind: &str, allowed: &[String]) -> Hosts {
        let names = std::iter::once(bind)
            .chain(allowed.iter().map(String::as_str))
            .filter_map(host_name)
            .collect();
        Hosts {
            names,
            any: allowed.iter().any(|name| name == "*"),
        }
    }

    /// `Ok` when the request names this server, else the reason for the 421.
    pub fn check(&self, request: &Request) -> Result<(), String> {
        match request.header("host") {
            Some(host) if !self.allows(host) => Err(format!(
                "this server does not answer to the name in 'Host: {host}'; a name it is \
                 reached by (through DNS or a proxy) must be given with --allowed-host"
            )),
            _ => Ok(()),
        }
    }

    /// Whether a `Host` header value (`name`, `name:port`, `[v6]:port`) names this server.
    pub fn allows(&self, host: &str) -> bool {
        if self.any {
            return true;
        }
        let Some(name) = host_name(host) else {
            return false;
        };
        name == "localhost" || name.parse::<IpAddr>().is_ok() || self.names.contains(&name)
    }
}

/// The name in a `Host` value or a `--host`/`--allowed-host` setting (`name`, `name:port`,
/// `[v6]:port`, or a bare IPv6 address), without its port or brackets, in lower case and
/// without a final dot; `None` when it is not one (empty, holding characters no host name has,
/// or with a port that is not a number).
pub fn host_name(host: &str) -> Option<String> {
    let host = host.trim();
    let (name, port) = match host.strip_prefix('[') {
        Some(bracketed) => {
            let (name, rest) = bracketed.split_once(']')?;
            (
                name,
                rest.strip_prefix(':').or(rest.is_empty().then_some(""))?,
            )
        }
        None if host.matches(':').count() > 1 => (host, ""),
        None => host.split_once(':').unwrap_or((host, "")),
    };
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'));
    valid.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;

    fn request(host: Option<&str>) -> Request {
        let headers = host
            .map(|h| vec![("Host".to_string(), h.to_string())])
            .unwrap_or_default();
        Request::new(Method::Get, "/", headers)
    }

    #[test]
    fn loopback_names_and_addresses_pass_with_or_without_port() {
        let hosts = Hosts::new("127.0.0.1", &[]);
        for host in [
            "localhost",
            "LOCALHOST:7779",
            "localhost.",
            "127.0.0.1",
            "127.0.0.1:7779",
            "[::1]",
            "[::1]:7779",
            "192.168.1.20:80",
        ] {
            assert!(hosts.allows(host), "{host}");
        }
        assert!(hosts.check(&request(None)).is_ok(), "HTTP/1.0 without Host");
    }

    #[test]
    fn other_names_are_refused_unless_allowed() {
        let hosts = Hosts::new("127.0.0.1", &[]);
        for host in [
            "evil.example",
            "rebind.example:7779",
            "localhost.evil.example",
            "127.0.0.1.evil.example",
            "",
            "[::1",
            "[::1]x",
            "a b",
            "host:port",
            "https://files.example.com/",
        ] {
            assert!(!hosts.allows(host), "{host}");
        }
        let detail = hosts.check(&request(Some("evil.example"))).unwrap_err();
        assert!(
            detail.contains("evil.example") && detail.contains("--allowed-host"),
            "{detail}"
        );

        let hosts = Hosts::new(
            "files.lan",
            &["Data.Example.COM".into(), "x.test:8443".into()],
        );
        for host in [
            "files.lan:7779",
            "data.example.com",
            "DATA.example.com.",
            "x.test",
        ] {
            assert!(hosts.allows(host), "{host}");
        }
        assert!(!hosts.allows("example.com"));
        assert!(Hosts::new("0.0.0.0", &["*".into()]).allows("anything.example"));
        assert!(Hosts::new("::", &[]).allows("[fe80::1]:7779"));
    }
}
