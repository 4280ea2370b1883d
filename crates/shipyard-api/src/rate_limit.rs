//! Login throttling per email and per client IP, so a password cannot be guessed at speed.

use crate::error::ApiError;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

/// Keyed limiters for login attempts.
pub struct LoginLimiter {
    per_email: DefaultKeyedRateLimiter<String>,
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
}

fn quota(burst: u32, one_per: Duration) -> Quota {
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(one_per).map_or_else(|| Quota::per_second(burst), |q| q.allow_burst(burst))
}

impl LoginLimiter {
    /// Ten tries per account, then one every 30 s; a hundred per address, then one a second.
    pub fn new() -> Self {
        Self {
            per_email: RateLimiter::keyed(quota(10, Duration::from_secs(30))),
            per_ip: RateLimiter::keyed(quota(100, Duration::from_secs(1))),
        }
    }

    /// Counts one attempt; 429 with `Retry-After` once either budget is spent.
    pub fn check(&self, email: &str, ip: Option<IpAddr>) -> Result<(), ApiError> {
        let clock = DefaultClock::default();
        if let Err(wait) = self.per_email.check_key(&email.to_owned()) {
            let secs = wait.wait_time_from(clock.now()).as_secs_f64().ceil() as u64;
            return Err(ApiError::too_many_requests(
                format!("too many login attempts for this account; try again in {secs} s"),
                secs,
            ));
        }
        if let Some(ip) = ip
            && let Err(wait) = self.per_ip.check_key(&ip)
        {
            let secs = wait.wait_time_from(clock.now()).as_secs_f64().ceil() as u64;
            return Err(ApiError::too_many_requests(
                format!("too many login attempts from {ip}; try again in {secs} s"),
                secs,
            ));
        }
        Ok(())
    }
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::new()
    }
}
