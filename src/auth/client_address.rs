//! The client's address: the socket peer, or — only when the peer is a trusted proxy —
//! the right-most address in `X-Forwarded-For` that is not itself a trusted proxy.
//!
//! Walking from the right matters: every hop appends the address it received the
//! request from, so only the entries added by our own proxies can be believed; anything
//! to the left of the first untrusted hop was written by the client and may be forged.

use std::{net::IpAddr, sync::Arc};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The proxies (`TRUSTED_PROXIES`) whose forwarding headers are believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Arc<[IpNet]>);

impl TrustedProxies {
    /// Trusts the addresses of `networks`.
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks.into())
    }

    /// Whether `ip` belongs to a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|network| network.contains(&ip))
    }

    /// The client's address for a request that arrived from `peer` with `headers`.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            let Ok(ip) = hop.parse::<IpAddr>() else {
                // A hop we cannot read ends what can be believed.
                break;
            };
            client = ip;
            if !self.contains(ip) {
                break;
            }
        }
        client
    }
}
