//! The uids a server hands to projects, kept to itself on this host: no local account or
//! subordinate-id range (`/etc/subuid`, `/etc/subgid`) may use one, and no other running
//! server may have an overlapping range, or two tenants (or a tenant and a host user) would
//! share a uid and each other's files.

use std::fs::File;
use std::ops::RangeInclusive;
use std::path::Path;
use thiserror::Error;

/// Where running servers record their ranges, each in a file they hold locked.
const RESERVATIONS: &str = "/run/shipyard/uid-ranges";

/// Why a range cannot be used.
#[derive(Debug, Error)]
pub enum UidRangeError {
    /// A host account or subordinate range uses part of it.
    #[error("--sandbox-uids {first}-{last} overlaps {what}: choose a range no host account uses")]
    HostUses {
        /// The range's first uid.
        first: u32,
        /// Its last.
        last: u32,
        /// Which account or range.
        what: String,
    },
    /// Another running server holds an overlapping range.
    #[error(
        "--sandbox-uids {first}-{last} overlaps {other}, which another shipyard server on this host uses: give each server a range of its own"
    )]
    InUse {
        /// The range's first uid.
        first: u32,
        /// Its last.
        last: u32,
        /// The other server's range.
        other: String,
    },
    /// The reservation could not be written.
    #[error("cannot reserve the sandbox uids in {RESERVATIONS}: {0}")]
    Io(#[from] std::io::Error),
}

/// A range held for this server while the value lives.
#[derive(Debug)]
pub struct UidReservation {
    _lock: File,
}

fn overlaps(a: &RangeInclusive<u32>, b: &RangeInclusive<u32>) -> bool {
    a.start() <= b.end() && b.start() <= a.end()
}

/// The host's users and groups in `passwd`/`group` form whose id falls in `range`, and the
/// subordinate ranges (`name:start:count`) overlapping it, as one phrase each.
fn host_users_in(range: &RangeInclusive<u32>, passwd: &str, group: &str, subids: &str) -> Option<String> {
    let id_in = |text: &str, kind: &str| {
        text.lines().find_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let id: u32 = fields.nth(1)?.parse().ok()?;
            range.contains(&id).then(|| format!("the host {kind} `{name}` ({id})"))
        })
    };
    let sub = subids.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let start: u32 = fields.next()?.parse().ok()?;
        let count: u32 = fields.next()?.parse().ok()?;
        let theirs = start..=start.saturating_add(count.saturating_sub(1));
        overlaps(range, &theirs).then(|| format!("the subordinate ids of `{name}` ({start}-{})", theirs.end()))
    });
    id_in(passwd, "user").or_else(|| id_in(group, "group")).or(sub)
}

/// Checks `range` against the host's accounts and the other running servers, then holds it.
pub fn reserve(range: &RangeInclusive<u32>) -> Result<UidReservation, UidRangeError> {
    let (first, last) = (*range.start(), *range.end());
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let subids = format!("{}\n{}", read("/etc/subuid"), read("/etc/subgid"));
    if let Some(what) = host_users_in(range, &read("/etc/passwd"), &read("/etc/group"), &subids) {
        return Err(UidRangeError::HostUses { first, last, what });
    }
    std::fs::create_dir_all(RESERVATIONS)?;
    for entry in std::fs::read_dir(RESERVATIONS)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(theirs) = name
            .split_once('-')
            .and_then(|(a, b)| Some(a.parse::<u32>().ok()?..=b.parse::<u32>().ok()?))
        else {
            continue;
        };
        if !overlaps(range, &theirs) {
            continue;
        }
        let held = File::open(entry.path())?;
        match held.try_lock() {
            // Nobody holds it: a server that stopped without cleaning up.
            Ok(()) => {
                let _ = std::fs::remove_file(entry.path());
            }
            Err(_) => {
                return Err(UidRangeError::InUse {
                    first,
                    last,
                    other: name,
                });
            }
        }
    }
    let ours = File::create(Path::new(RESERVATIONS).join(format!("{first}-{last}")))?;
    ours.try_lock().map_err(|_| UidRangeError::InUse {
        first,
        last,
        other: format!("{first}-{last}"),
    })?;
    Ok(UidReservation { _lock: ours })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_accounts_and_subordinate_ranges_in_the_range_are_named() {
        let range = 1_500_000..=1_599_999;
        let passwd = "root:x:0:0:root:/root:/bin/sh\nada:x:1000:1000::/home/ada:/bin/sh\n";
        assert_eq!(host_users_in(&range, passwd, "", "ada:100000:65536\n"), None);
        let clash = "svc:x:1500042:1500042::/:/bin/false\n";
        assert!(host_users_in(&range, clash, "", "").is_some_and(|w| w.contains("`svc` (1500042)")));
        let sub = host_users_in(&range, passwd, "", "bob:1499000:65536\n").expect("overlap");
        assert!(sub.contains("`bob` (1499000-1564535)"), "{sub}");
    }

    #[test]
    fn two_servers_cannot_hold_overlapping_ranges() {
        let ours = reserve(&(3_900_000_000..=3_900_000_099)).expect("free range");
        match reserve(&(3_900_000_050..=3_900_000_199)) {
            Err(UidRangeError::InUse { other, .. }) => assert_eq!(other, "3900000000-3900000099"),
            other => panic!("an overlapping range is refused: {other:?}"),
        }
        drop(ours);
        let again = reserve(&(3_900_000_050..=3_900_000_199)).expect("free once released");
        drop(again);
    }
}
