//! When a hostname's certificate is ordered: never before its domain is verified and points
//! here (the caller's filter), at once when it has none, when a third of its lifetime is left
//! (or `--renew-before` says earlier), and after a failure only once its back-off has passed.

use chrono::{DateTime, TimeDelta, Utc};
use shipyard_store::Certificate;

/// What to do about one hostname now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Order (or renew) now.
    Order,
    /// Nothing until then.
    Wait(DateTime<Utc>),
}

/// The youngest a certificate is renewed at: a `renew_before` longer than the CA's lifetimes
/// must not turn into an order every pass.
pub const YOUNGEST_RENEWED: TimeDelta = TimeDelta::hours(1);

/// When an issued certificate is renewed: a third of its lifetime before it ends, or
/// `renew_before` before it ends when that is earlier — but never before half its lifetime (a
/// `renew_before` longer than the CA's lifetimes must not renew every certificate over and
/// over) nor within `YOUNGEST_RENEWED` of its issuance.
pub fn renew_at(issued_at: DateTime<Utc>, not_after: DateTime<Utc>, renew_before: TimeDelta) -> DateTime<Utc> {
    let lifetime = not_after - issued_at;
    let by_lifetime = not_after - lifetime / 3;
    let asked = not_after - renew_before.min(lifetime / 2);
    by_lifetime.min(asked).max(issued_at + YOUNGEST_RENEWED)
}

/// How long after its `failures`-th failure in a row a hostname is tried again: a minute,
/// then five, thirty, two hours, six hours at most (a name that cannot validate must not spend
/// the CA's allowance).
pub fn back_off(failures: i64) -> TimeDelta {
    match failures {
        ..=1 => TimeDelta::minutes(1),
        2 => TimeDelta::minutes(5),
        3 => TimeDelta::minutes(30),
        4 => TimeDelta::hours(2),
        _ => TimeDelta::hours(6),
    }
}

/// What to do about a hostname whose stored row is `row` (None: never ordered).
pub fn plan(row: Option<&Certificate>, now: DateTime<Utc>, renew_before: TimeDelta) -> Plan {
    let Some(row) = row else {
        return Plan::Order;
    };
    // An order left in flight by a restart is taken up again (never ordered anew).
    if row.order_url.is_some() {
        return Plan::Order;
    }
    let due = match &row.issued {
        // An admin's renewal is due whatever the certificate's age.
        Some(_) if row.renew_requested => now,
        Some(issued) => renew_at(issued.issued_at, issued.not_after, renew_before),
        None => now,
    };
    let due = row.next_attempt_at.map_or(due, |retry| due.max(retry));
    if due <= now { Plan::Order } else { Plan::Wait(due) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shipyard_store::IssuedCertificate;

    fn issued(days: i64, now: DateTime<Utc>) -> Certificate {
        Certificate {
            hostname: "shop.example.com".into(),
            issued: Some(IssuedCertificate {
                chain_pem: String::new(),
                key_sealed: Vec::new(),
                issued_at: now,
                not_after: now + TimeDelta::days(days),
            }),
            ..Certificate::default()
        }
    }

    #[test]
    fn a_certificate_is_renewed_with_a_third_of_its_life_left_or_earlier_when_asked() {
        let now = Utc::now();
        let ninety = issued(90, now);
        assert_eq!(
            plan(Some(&ninety), now, TimeDelta::zero()),
            Plan::Wait(now + TimeDelta::days(60))
        );
        assert_eq!(
            plan(Some(&ninety), now + TimeDelta::days(60), TimeDelta::zero()),
            Plan::Order
        );
        assert_eq!(
            plan(Some(&ninety), now, TimeDelta::days(40)),
            Plan::Wait(now + TimeDelta::days(50))
        );
        assert_eq!(
            plan(Some(&ninety), now, TimeDelta::days(365)),
            Plan::Wait(now + TimeDelta::days(45)),
            "a renew-before longer than the lifetime renews at half of it, not over and over"
        );
        let hour = issued(0, now);
        assert_eq!(
            plan(Some(&hour), now, TimeDelta::zero()),
            Plan::Wait(now + YOUNGEST_RENEWED),
            "never within an hour of issuance"
        );
        assert_eq!(plan(None, now, TimeDelta::zero()), Plan::Order);
        let asked = Certificate {
            renew_requested: true,
            ..issued(90, now)
        };
        assert_eq!(
            plan(Some(&asked), now, TimeDelta::zero()),
            Plan::Order,
            "an admin's renewal"
        );
    }

    #[test]
    fn a_failure_waits_out_its_back_off_and_an_order_in_flight_is_taken_up() {
        let now = Utc::now();
        let failed = Certificate {
            hostname: "shop.example.com".into(),
            error: Some("connection refused".into()),
            failures: 2,
            next_attempt_at: Some(now + back_off(2)),
            ..Certificate::default()
        };
        assert_eq!(
            plan(Some(&failed), now, TimeDelta::zero()),
            Plan::Wait(now + TimeDelta::minutes(5))
        );
        assert_eq!(
            plan(Some(&failed), now + TimeDelta::minutes(5), TimeDelta::zero()),
            Plan::Order
        );
        let in_flight = Certificate {
            order_url: Some("https://ca.test/order/1".into()),
            ..issued(90, now)
        };
        assert_eq!(plan(Some(&in_flight), now, TimeDelta::zero()), Plan::Order);
        assert!(back_off(1) < back_off(3) && back_off(9) == TimeDelta::hours(6));
    }
}
