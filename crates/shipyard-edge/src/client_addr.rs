//! The client address of a request (CONTRACT.md, "Hosts the listener answers"): the peer,
//! unless the peer is a trusted proxy (`--trusted-proxy`), in which case the last address in
//! `X-Forwarded-For` that is not a trusted proxy. Rate limits, access logs and audit events
//! use it.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

/// The client address of a request from `peer` with `headers`, trusting `proxies`.
pub fn client_addr(peer: Option<IpAddr>, headers: &HeaderMap, proxies: &[IpNet]) -> Option<IpAddr> {
    let trusted = |ip: &IpAddr| proxies.iter().any(|net| net.contains(ip));
    let peer = peer?;
    if !trusted(&peer) {
        return Some(peer);
    }
    // Each proxy appends the address it saw; walk back from the nearest until one we do not
    // trust. A hop that does not parse ends the walk: nothing before it can be believed.
    let mut hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    let mut client = peer;
    while let Some(hop) = hops.pop() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted(&ip) => client = ip,
            Ok(ip) => return Some(ip),
            Err(_) => break,
        }
    }
    Some(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in xff {
            map.append("x-forwarded-for", value.parse().expect("header"));
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("cidr")];
        let spoofed = headers(&["6.6.6.6"]);
        assert_eq!(
            client_addr(Some(ip("203.0.113.9")), &spoofed, &proxies),
            Some(ip("203.0.113.9")),
            "an untrusted peer's header is ignored"
        );
        assert_eq!(
            client_addr(Some(ip("10.1.1.1")), &headers(&["6.6.6.6, 198.51.100.7"]), &proxies),
            Some(ip("198.51.100.7")),
            "the last untrusted hop, not the first (which the client wrote)"
        );
        assert_eq!(
            client_addr(Some(ip("10.1.1.1")), &headers(&["198.51.100.7", "10.2.2.2"]), &proxies),
            Some(ip("198.51.100.7")),
            "chained trusted proxies are skipped"
        );
        assert_eq!(
            client_addr(Some(ip("10.1.1.1")), &headers(&[]), &proxies),
            Some(ip("10.1.1.1"))
        );
        assert_eq!(
            client_addr(Some(ip("10.1.1.1")), &headers(&["garbage, 10.3.3.3"]), &proxies),
            Some(ip("10.3.3.3"))
        );
        assert_eq!(
            client_addr(Some(ip("127.0.0.1")), &headers(&["6.6.6.6"]), &[]),
            Some(ip("127.0.0.1"))
        );
    }
}
