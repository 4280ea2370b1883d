//! The client-side budget that keeps Shipyard under the CA's published limits whatever happens
//! (Let's Encrypt: 300 new orders per account per 3 hours, 50 certificates per registered domain
//! per week): every order is counted in the store's ledger before it is placed, so restarts and
//! retry loops cannot exceed them (traefik#3653).

use chrono::{DateTime, TimeDelta, Utc};
use shipyard_store::{Backend, Certificates, SqliteStore};

/// New orders per account in `ORDERS_WINDOW`, at most (under Let's Encrypt's 300).
pub const ORDERS_PER_WINDOW: i64 = 250;
/// The window of `ORDERS_PER_WINDOW`.
pub const ORDERS_WINDOW: TimeDelta = TimeDelta::hours(3);
/// Orders per registered domain in a week, at most (under Let's Encrypt's 50 certificates).
pub const PER_REGISTERED_DOMAIN: i64 = 45;
/// The window of `PER_REGISTERED_DOMAIN`.
pub const REGISTERED_WINDOW: TimeDelta = TimeDelta::days(7);

/// The registered domain a hostname counts against: its last two labels. Where the public
/// suffix has more (`example.co.uk`), this groups more names together than the CA does, so the
/// budget is stricter than the CA's, never looser.
pub fn registered_domain(hostname: &str) -> String {
    let labels: Vec<&str> = hostname.rsplit('.').take(2).collect();
    labels.into_iter().rev().collect::<Vec<_>>().join(".")
}

/// Counts an order for `hostname` into the ledger when it fits the budget at `now` (the check
/// and the count in one write, so two servers on one store cannot both take the last place);
/// else why not and until when. The count is made before the CA is asked, so an order is never
/// left out however what follows fails.
pub async fn reserve(
    store: &SqliteStore,
    directory: &str,
    hostname: &str,
    now: DateTime<Utc>,
) -> shipyard_store::Result<Result<(), (String, DateTime<Utc>)>> {
    let registered = registered_domain(hostname);
    let mut tx = store.write().await?;
    let (recent, _) = tx.orders_since(directory, &registered, now - ORDERS_WINDOW).await?;
    let (_, weekly) = tx.orders_since(directory, &registered, now - REGISTERED_WINDOW).await?;
    let held = if recent >= ORDERS_PER_WINDOW {
        Some((
            "this server's account placed as many orders as 3 hours allow".to_owned(),
            TimeDelta::minutes(30),
        ))
    } else if weekly >= PER_REGISTERED_DOMAIN {
        Some((
            format!("{registered} had as many orders as a week allows"),
            TimeDelta::hours(12),
        ))
    } else {
        None
    };
    if let Some((why, wait)) = held {
        let until = now + wait;
        let when = until.format("%Y-%m-%d %H:%M UTC");
        return Ok(Err((
            format!("held back to stay within the CA's limits ({why}); trying again at {when}"),
            until,
        )));
    }
    tx.record_order(directory, hostname, &registered, now).await?;
    SqliteStore::commit(tx).await?;
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_count_against_their_last_two_labels() {
        assert_eq!(registered_domain("shop.example.com"), "example.com");
        assert_eq!(registered_domain("a.b.shop.example.com"), "example.com");
        assert_eq!(registered_domain("example.com"), "example.com");
        // Stricter than the public suffix list: every .co.uk name shares one budget.
        assert_eq!(registered_domain("shop.example.co.uk"), "co.uk");
    }
}
