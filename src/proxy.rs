//! The client behind a reverse proxy the admin trusts (`--trust-proxy`), for the access log.
//!
//! A proxy says whom it forwards for in `X-Forwarded-For` (`client, proxy1, proxy2`, each hop
//! appending the address it received from). Anyone can send that header, so it is believed only
//! from a trusted peer, and read from the right: the first address that is not a trusted proxy
//! is the client. Invariant: with no trusted proxy (the default), the client is always the
//! socket's peer, whatever the request says.

use std::net::{IpAddr, SocketAddr};

/// An address or a network (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    /// Parses `10.1.2.3`, `10.0.0.0/8`, `::1` or `fd00::/8`.
    pub fn parse(text: &str) -> Result<Network, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| format!("'{text}' is not an IP address or a network (10.0.0.0/8)"))?;
        let address = address.to_canonical();
        let bits = match address {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        let prefix = match prefix {
            None => bits,
            Some(prefix) => prefix
                .parse()
                .ok()
                .filter(|prefix| *prefix <= bits)
                .ok_or_else(|| format!("'{text}': the prefix must be a number up to {bits}"))?,
        };
        Ok(Network { address, prefix })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        let bits = |address: IpAddr| match address {
            IpAddr::V4(v4) => (u128::from(v4.to_bits()), 32),
            IpAddr::V6(v6) => (v6.to_bits(), 128),
        };
        let ((mine, width), (theirs, their_width)) = (bits(self.address), bits(address));
        if width != their_width {
            return false;
        }
        let shift = width - u32::from(self.prefix);
        shift >= 128 || mine >> shift == theirs >> shift
    }
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

/// The client of a request whose socket peer is `peer`: the peer itself unless it is one of
/// `trusted`, else the last address of `forwarded_for` (the `X-Forwarded-For` values in order)
/// that is not a trusted proxy. An entry that is not an address ends the walk at the hop
/// before it.
pub fn client(trusted: &[Network], peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |address: IpAddr| trusted.iter().any(|network| network.contains(address));
    if !is_trusted(peer) {
        return peer;
    }
    let hops = forwarded_for
        .iter()
        .flat_map(|value| value.split(','))
        .rev()
        .map(parse_hop);
    let mut client = peer;
    for hop in hops {
        let Some(hop) = hop else { break };
        client = hop;
        if !is_trusted(hop) {
            break;
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`[::1]:80`, `1.2.3.4:80`).
fn parse_hop(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    let address = text
        .parse::<IpAddr>()
        .or_else(|_| text.parse::<SocketAddr>().map(|socket| socket.ip()))
        .ok()?;
    Some(address.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn networks(texts: &[&str]) -> Vec<Network> {
        texts.iter().map(|t| Network::parse(t).unwrap()).collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn addresses_and_networks_parse_and_match() {
        let private = Network::parse("10.0.0.0/8").unwrap();
        assert!(private.contains(ip("10.200.3.4")));
        assert!(!private.contains(ip("11.0.0.1")));
        assert!(!private.contains(ip("::1")));
        let one = Network::parse("192.168.1.5").unwrap();
        assert!(one.contains(ip("192.168.1.5")) && !one.contains(ip("192.168.1.6")));
        let v6 = Network::parse("fd00::/8").unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        assert!(Network::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(Network::parse("::/0").unwrap().contains(ip("2001:db8::1")));
        assert!(Network::parse("[::1]").unwrap().contains(ip("::1")));
        // An IPv4 client seen on an IPv6 socket is matched as IPv4.
        assert!(private.contains(ip("::ffff:10.1.1.1").to_canonical()));
        for bad in [
            "",
            "proxy.local",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/x",
            "10.0.0/8",
        ] {
            assert!(Network::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_forwarded_client_is_believed_only_from_a_trusted_peer() {
        let trusted = networks(&["10.0.0.0/8"]);
        let forwarded = ["203.0.113.7"];
        assert_eq!(client(&[], ip("10.0.0.2"), &forwarded), ip("10.0.0.2"));
        assert_eq!(
            client(&trusted, ip("198.51.100.1"), &forwarded),
            ip("198.51.100.1")
        );
        assert_eq!(
            client(&trusted, ip("10.0.0.2"), &forwarded),
            ip("203.0.113.7")
        );
        assert_eq!(client(&trusted, ip("10.0.0.2"), &[]), ip("10.0.0.2"));
    }

    #[test]
    fn the_walk_from_the_right_stops_at_the_first_untrusted_hop() {
        let trusted = networks(&["10.0.0.0/8", "fd00::/8"]);
        // The client forged its first entry; the proxies appended the real hops.
        let forwarded = ["1.1.1.1, 203.0.113.7", "10.0.0.9:443, [fd00::3]:80"];
        assert_eq!(
            client(&trusted, ip("10.0.0.2"), &forwarded),
            ip("203.0.113.7")
        );
        // Every hop trusted: the leftmost is the client.
        assert_eq!(
            client(&trusted, ip("10.0.0.2"), &["10.1.1.1, 10.0.0.9"]),
            ip("10.1.1.1")
        );
        // Garbage ends the walk at the last good hop.
        assert_eq!(
            client(&trusted, ip("10.0.0.2"), &["203.0.113.7, unknown"]),
            ip("10.0.0.2")
        );
        assert_eq!(
            client(&trusted, ip("10.0.0.2"), &["garbage, 10.0.0.9"]),
            ip("10.0.0.9")
        );
    }
}
