//! Where Scimitar may send requests. A Tenant URL or an OAuth endpoint is whatever an
//! administrator typed, so without a rule Test Connection would let anyone who can configure an
//! application knock on the console's own loopback ports and its private network (and read what
//! answers). By default requests go to public addresses only: host names are resolved by
//! [`PublicOnly`], which drops private, loopback and link-local answers, and URLs that name such
//! an address literally are refused by [`Outbound::check`]. `--allow-private-targets` lifts the
//! rule for SCIM servers on the same network (and for the tests, whose peers run on loopback).
//! Every outbound client is built here, with no redirects followed and bounded timeouts.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The flag that allows private targets, as the administrator types it.
pub const ALLOW_PRIVATE_FLAG: &str = "--allow-private-targets";

#[derive(Clone, Copy, Debug, Default)]
pub struct Outbound {
    pub allow_private_targets: bool,
}

impl Outbound {
    /// A client builder with the rules every outbound client shares.
    pub fn client(&self) -> reqwest::ClientBuilder {
        let builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("Scimitar/", env!("CARGO_PKG_VERSION")));
        if self.allow_private_targets {
            builder
        } else {
            builder.dns_resolver(Arc::new(PublicOnly))
        }
    }

    /// Refuses a URL whose host is a private address written out (`http://127.0.0.1:8080`,
    /// `http://[::1]/`), which no resolver sees. Names are left to [`PublicOnly`].
    pub fn check(&self, url: &str) -> Result<(), String> {
        if self.allow_private_targets {
            return Ok(());
        }
        let Ok(parsed) = reqwest::Url::parse(url.trim()) else {
            return Ok(()); // not a URL: the caller's own check says so
        };
        let ip = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(url::Host::Domain(name)) if name.eq_ignore_ascii_case("localhost") => {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            }
            _ => return Ok(()),
        };
        if is_private(ip) {
            Err(refusal(&ip.to_string()))
        } else {
            Ok(())
        }
    }
}

fn refusal(what: &str) -> String {
    format!(
        "{what} is a private, loopback or link-local address; Scimitar sends requests there only \
         when the server is started with {ALLOW_PRIVATE_FLAG}"
    )
}

/// Whether `ip` belongs to this machine or a private network rather than the internet.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private_v4(v4);
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || is_nat64_of_private(v6)
        }
    }
}

fn is_private_v4(v4: Ipv4Addr) -> bool {
    let [a, b, ..] = v4.octets();
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT 100.64.0.0/10
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18.0.0/15
        || a >= 240 // reserved
}

/// `64:ff9b::/96` carries an IPv4 address for NAT64 gateways.
fn is_nat64_of_private(v6: Ipv6Addr) -> bool {
    let s = v6.segments();
    s[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
        && is_private_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ))
}

/// Resolves host names as the system does, keeping public addresses only. A name with none
/// left fails to resolve, with a message naming the rule.
#[derive(Debug)]
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| !is_private(a.ip()))
                .collect();
            if public.is_empty() && !found.is_empty() {
                return Err(
                    refusal(&format!("{host} resolves to {}, which", found[0].ip())).into(),
                );
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_and_link_local_addresses_are_told_from_public_ones() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(is_private(private.parse().unwrap()), "{private}");
        }
        for public in ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(!is_private(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn written_out_private_hosts_are_refused_unless_allowed() {
        let strict = Outbound::default();
        for url in [
            "http://127.0.0.1:8080/scim",
            "http://[::1]/",
            "http://localhost:9/",
            "https://10.0.0.1/",
        ] {
            let message = strict.check(url).unwrap_err();
            assert!(message.contains(ALLOW_PRIVATE_FLAG), "{message}");
        }
        assert!(strict.check("https://api.example.com/scim/v2").is_ok());
        let open = Outbound {
            allow_private_targets: true,
        };
        assert!(open.check("http://127.0.0.1:8080/scim").is_ok());
    }

    #[tokio::test]
    async fn names_that_resolve_only_to_private_addresses_do_not_resolve() {
        let name: Name = "localhost".parse().unwrap();
        let error = match PublicOnly.resolve(name).await {
            Ok(_) => panic!("localhost resolved through PublicOnly"),
            Err(e) => e.to_string(),
        };
        assert!(error.contains(ALLOW_PRIVATE_FLAG), "{error}");
    }
}
