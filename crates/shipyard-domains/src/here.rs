//! One look at a domain, as verify and the re-check take it: what its TXT record proves and
//! where its CNAME/A/AAAA records send it.

use crate::lookup::{Answer, Dns};
use crate::verdict::{points_here, proof};
use chrono::{DateTime, Utc};
use shipyard_store::DnsLook;
use std::net::IpAddr;

/// How soon a domain that does not point here is looked at again.
pub const AGAIN_SOON: chrono::TimeDelta = chrono::TimeDelta::minutes(5);
/// How soon one that does is looked at again.
pub const AGAIN_LATER: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// Where traffic for a domain should go: this server's public addresses and apps domain.
#[derive(Debug, Clone)]
pub struct Here {
    /// Live hosts are `<label>.<workspace>.<apps_domain>`.
    pub apps_domain: String,
    /// `--public-address`, the A/AAAA values that point here.
    pub public: Vec<IpAddr>,
    /// The resolver.
    pub dns: Dns,
    /// Wakes the background re-check (a domain was added).
    pub wake: std::sync::Arc<tokio::sync::Notify>,
}

/// One look at a domain: its proof and its routing records.
#[derive(Debug, Clone)]
pub struct Look {
    /// Ok when the TXT record proves ownership; else what was seen.
    pub proof: Result<(), String>,
    /// The routing records and what they mean.
    pub dns: DnsLook,
}

impl Here {
    /// The live host of an environment.
    pub fn live_host(&self, host_label: &str, workspace_slug: &str) -> String {
        shipyard_core::live_host::live_host(host_label, workspace_slug, &self.apps_domain)
    }

    /// Asks DNS about `hostname` now.
    pub async fn look(&self, hostname: &str, challenge: &str, live_host: &str) -> Look {
        let challenge_name = format!("_shipyard-challenge.{hostname}");
        let seen = self.dns.observe(hostname, &challenge_name).await;
        let dns = match seen.routing {
            Answer::Records(observed) => DnsLook {
                points_here: points_here(&observed, live_host, &self.public),
                observed,
                error: None,
                checked_at: Some(Utc::now()),
            },
            Answer::Unanswered => DnsLook {
                error: Some(format!(
                    "the resolver did not answer in {} s",
                    crate::lookup::ANSWER_WITHIN.as_secs()
                )),
                checked_at: Some(Utc::now()),
                ..DnsLook::default()
            },
            Answer::Failed(why) => DnsLook {
                error: Some(format!("the resolver failed to look up {hostname}: {why}")),
                checked_at: Some(Utc::now()),
                ..DnsLook::default()
            },
        };
        Look {
            proof: proof(challenge, &challenge_name, &seen.challenge),
            dns,
        }
    }
}

/// When a domain whose look says `points_here` is looked at next.
pub fn next_check(now: DateTime<Utc>, points_here: bool) -> DateTime<Utc> {
    now + if points_here { AGAIN_LATER } else { AGAIN_SOON }
}
