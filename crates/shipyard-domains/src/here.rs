//! One look at a domain, as verify and the re-check take it: what its TXT record proves and
//! where its CNAME/A/AAAA records send it.

use crate::lookup::{Answer, Dns};
use crate::verdict::{conceal, points_here, proof};
use chrono::{DateTime, Utc};
use shipyard_core::custom_domain::challenge_name;
use shipyard_store::DnsLook;
use std::net::IpAddr;
use std::sync::Arc;
use tokio::sync::{Notify, Semaphore};

/// How soon a domain that does not point here is looked at again.
pub const AGAIN_SOON: chrono::TimeDelta = chrono::TimeDelta::minutes(5);
/// How soon one that does is looked at again.
pub const AGAIN_LATER: chrono::TimeDelta = chrono::TimeDelta::hours(1);
/// How long after it was added a domain that does not point here is looked at every few
/// minutes; after that, every `AGAIN_SELDOM` (a name abandoned half-way costs little).
pub const KEEN_FOR: chrono::TimeDelta = chrono::TimeDelta::days(7);
/// How soon a domain abandoned half-way is looked at again.
pub const AGAIN_SELDOM: chrono::TimeDelta = chrono::TimeDelta::hours(6);

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
    pub wake: Arc<Notify>,
    /// Looks in flight at once, server-wide: each holds sockets for up to 5 s, and a stranger
    /// decides how many domains there are and how slowly their DNS answers.
    pub looks: Arc<Semaphore>,
}

/// One look at a domain: its proof and its routing records.
#[derive(Debug, Clone)]
pub struct Look {
    /// Ok when the TXT record proves ownership; else what was seen.
    pub proof: Result<(), String>,
    /// The routing records and what they mean.
    pub dns: DnsLook,
}

/// Looks in flight at once, at most.
pub const MAX_LOOKS: usize = 32;

impl Here {
    /// Where domains should point, asked through `dns`.
    pub fn new(apps_domain: String, public: Vec<IpAddr>, dns: Dns) -> Self {
        Self {
            apps_domain,
            public,
            dns,
            wake: Arc::default(),
            looks: Arc::new(Semaphore::new(MAX_LOOKS)),
        }
    }

    /// The live host of an environment.
    pub fn live_host(&self, host_label: &str, workspace_slug: &str) -> String {
        shipyard_core::live_host::live_host(host_label, workspace_slug, &self.apps_domain)
    }

    /// Asks DNS about `hostname` now, or None when `MAX_LOOKS` are in flight already.
    pub async fn try_look(&self, hostname: &str, challenge: &str, live_host: &str) -> Option<Look> {
        let _permit = self.looks.try_acquire().ok()?;
        Some(self.look_now(hostname, challenge, live_host).await)
    }

    /// Asks DNS about `hostname` once a look may start.
    pub async fn look(&self, hostname: &str, challenge: &str, live_host: &str) -> Option<Look> {
        let _permit = self.looks.acquire().await.ok()?;
        Some(self.look_now(hostname, challenge, live_host).await)
    }

    async fn look_now(&self, hostname: &str, challenge: &str, live_host: &str) -> Look {
        let challenge_name = challenge_name(hostname);
        let seen = self.dns.observe(hostname, &challenge_name).await;
        let dns = match seen.routing {
            Answer::Records(observed) => DnsLook {
                points_here: points_here(&observed, live_host, &self.public),
                observed: conceal(observed, &self.public),
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

/// How long a verified domain's TXT record may stay gone before the domain is unverified:
/// long enough for a DNS migration, short enough that a name's new owner can have it.
pub const PROOF_GRACE: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// Whether a proof gone since `since` has been gone too long at `now`.
pub fn lapsed(since: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - since >= PROOF_GRACE
}

/// What a verified domain says while its proof is gone (since `since`, as `why` says).
pub fn proof_gone(why: &str, since: DateTime<Utc>) -> String {
    format!(
        "the TXT record proving this domain is gone ({why}); it is unverified at {} unless it returns",
        (since + PROOF_GRACE).format("%Y-%m-%d %H:%M UTC")
    )
}

/// When a domain added at `created_at`, whose look says `points_here`, is looked at next.
pub fn next_check(now: DateTime<Utc>, created_at: DateTime<Utc>, points_here: bool) -> DateTime<Utc> {
    let wait = if points_here {
        AGAIN_LATER
    } else if now - created_at < KEEN_FOR {
        AGAIN_SOON
    } else {
        AGAIN_SELDOM
    };
    now + wait
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_lapses_after_its_grace_and_an_abandoned_domain_is_looked_at_seldom() {
        let now = Utc::now();
        assert!(!lapsed(now - PROOF_GRACE + chrono::TimeDelta::minutes(1), now));
        assert!(lapsed(now - PROOF_GRACE, now));
        assert_eq!(next_check(now, now, true), now + AGAIN_LATER);
        assert_eq!(next_check(now, now, false), now + AGAIN_SOON);
        assert_eq!(next_check(now, now - KEEN_FOR, false), now + AGAIN_SELDOM);
        let note = proof_gone("no TXT record", now);
        assert!(
            note.contains("no TXT record") && note.contains("unless it returns"),
            "{note}"
        );
    }
}
