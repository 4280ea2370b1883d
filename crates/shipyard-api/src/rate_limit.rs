//! Login throttling per email and per client IP, so a password cannot be guessed at speed.

use crate::error::ApiError;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use shipyard_core::Email;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

/// Keyed limiters for login attempts.
pub struct LoginLimiter {
    per_email: DefaultKeyedRateLimiter<String>,
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
}

/// Keys kept before the limiters forget the ones that are back to a full budget: a flood of
/// distinct keys costs bounded memory.
const PRUNE_AT: usize = 10_000;

fn quota(burst: u32, one_per: Duration) -> Quota {
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(one_per).map_or_else(|| Quota::per_second(burst), |q| q.allow_burst(burst))
}

fn wait_secs(wait: governor::NotUntil<governor::clock::QuantaInstant>) -> u64 {
    wait.wait_time_from(DefaultClock::default().now()).as_secs_f64().ceil() as u64
}

impl LoginLimiter {
    /// Ten tries per account, then one every 30 s; a hundred per address, then one a second.
    pub fn new() -> Self {
        Self {
            per_email: RateLimiter::keyed(quota(10, Duration::from_secs(30))),
            per_ip: RateLimiter::keyed(quota(100, Duration::from_secs(1))),
        }
    }

    /// Counts one attempt: first against the client address, then against the account (only
    /// a well-formed email is a key, so its size is bounded); 429 with `Retry-After` once
    /// either budget is spent.
    pub fn check(&self, email: Option<&Email>, ip: Option<IpAddr>) -> Result<(), ApiError> {
        if let Some(ip) = ip {
            spend(&self.per_ip, ip, &format!("from {ip}"))?;
        }
        match email {
            Some(email) => spend(&self.per_email, email.as_str().to_owned(), "for this account"),
            None => Ok(()),
        }
    }
}

/// Takes one attempt from `key`'s budget (429 naming `whose` when it is spent), then forgets
/// keys back at a full budget once there are many.
fn spend<K: Clone + Eq + std::hash::Hash>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: K,
    whose: &str,
) -> Result<(), ApiError> {
    if let Err(wait) = limiter.check_key(&key) {
        let secs = wait_secs(wait);
        return Err(ApiError::too_many_requests(
            format!("too many login attempts {whose}; try again in {secs} s"),
            secs,
        ));
    }
    if limiter.len() > PRUNE_AT {
        limiter.retain_recent();
        limiter.shrink_to_fit();
    }
    Ok(())
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::new()
    }
}
