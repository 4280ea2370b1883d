//! What an observation means: whether the TXT record proves ownership (and if not, a sentence
//! saying what was seen), and whether the hostname's records send its traffic here.

use crate::lookup::{ANSWER_WITHIN, Answer};
use shipyard_core::custom_domain::{DnsRecord, RecordKind};
use std::net::IpAddr;

/// Records shown in a sentence, at most; the rest are counted.
const SHOWN: usize = 3;
/// Characters of one observed value shown, at most: a stranger's DNS decides what is there.
const SHOWN_CHARS: usize = 64;

/// Ok when a TXT record at `challenge_name` holds `value`; else why not, naming what was seen.
pub fn proof(value: &str, challenge_name: &str, answer: &Answer) -> Result<(), String> {
    let records = match answer {
        Answer::Records(records) => records,
        Answer::Unanswered => {
            return Err(format!(
                "the resolver did not answer in {} s; verify again when DNS answers",
                ANSWER_WITHIN.as_secs()
            ));
        }
        Answer::Failed(why) => return Err(format!("the resolver failed to look up {challenge_name}: {why}")),
    };
    if records.iter().any(|r| r.kind == RecordKind::Txt && r.value == value) {
        return Ok(());
    }
    if records.is_empty() {
        return Err(format!(
            "no TXT record at {challenge_name}; create one holding \"{value}\" (DNS changes can take minutes to be seen)"
        ));
    }
    let mut seen: Vec<String> = records
        .iter()
        .take(SHOWN)
        .map(|r| format!("TXT \"{}\"", shorten(&r.value)))
        .collect();
    if records.len() > SHOWN {
        seen.push(format!("{} more", records.len() - SHOWN));
    }
    Err(format!(
        "found {} at {challenge_name}, expected \"{value}\"",
        seen.join(", ")
    ))
}

/// What the user should create so that `hostname` reaches its environment: a CNAME to the
/// live host, or (the only way at a zone's apex) A/AAAA records naming this server.
pub fn expected_records(hostname: &str, live_host: &str, public: &[IpAddr]) -> Vec<DnsRecord> {
    let mut records = vec![DnsRecord {
        kind: RecordKind::Cname,
        name: hostname.to_owned(),
        value: live_host.to_owned(),
    }];
    records.extend(public.iter().map(|ip| DnsRecord {
        kind: if ip.is_ipv4() { RecordKind::A } else { RecordKind::Aaaa },
        name: hostname.to_owned(),
        value: ip.to_string(),
    }));
    records
}

/// Whether `observed` sends the hostname here: a CNAME to the live host, or addresses that
/// are all this server's (one stray address would send some visitors elsewhere).
pub fn points_here(observed: &[DnsRecord], live_host: &str, public: &[IpAddr]) -> bool {
    if observed
        .iter()
        .any(|r| r.kind == RecordKind::Cname && r.value.eq_ignore_ascii_case(live_host))
    {
        return true;
    }
    let addresses: Vec<&DnsRecord> = observed
        .iter()
        .filter(|r| matches!(r.kind, RecordKind::A | RecordKind::Aaaa))
        .collect();
    !addresses.is_empty()
        && addresses
            .iter()
            .all(|r| r.value.parse::<IpAddr>().is_ok_and(|ip| public.contains(&ip)))
}

/// `observed` as shown to the domain's owner: an address that is not public (private,
/// loopback, link-local, shared) and not this server's is hidden, so a resolver inside the
/// operator's network never tells a tenant what lies there.
pub fn conceal(observed: Vec<DnsRecord>, public: &[IpAddr]) -> Vec<DnsRecord> {
    observed
        .into_iter()
        .map(|mut r| {
            let hidden = matches!(r.kind, RecordKind::A | RecordKind::Aaaa)
                && r.value
                    .parse::<IpAddr>()
                    .is_ok_and(|ip| !public.contains(&ip) && !is_public(ip));
            if hidden {
                r.value = HIDDEN.to_owned();
            }
            r
        })
        .collect()
}

/// What a hidden address shows.
pub const HIDDEN: &str = "(hidden: not a public address)";

/// Whether `ip` is reachable on the public internet (by its range alone).
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            let shared = a == 100 && (64..128).contains(&b);
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || shared
                || a == 0)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            let unique_local = first & 0xfe00 == 0xfc00;
            let link_local = first & 0xffc0 == 0xfe80;
            !(v6.is_loopback() || v6.is_unspecified() || unique_local || link_local)
        }
    }
}

/// `value` cut to what a sentence shows.
fn shorten(value: &str) -> String {
    if value.chars().count() <= SHOWN_CHARS {
        return value.to_owned();
    }
    let cut: String = value.chars().take(SHOWN_CHARS).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txt(value: &str) -> DnsRecord {
        DnsRecord {
            kind: RecordKind::Txt,
            name: "_shipyard-challenge.shop.example.com".into(),
            value: value.into(),
        }
    }

    fn rec(kind: RecordKind, value: &str) -> DnsRecord {
        DnsRecord {
            kind,
            name: "shop.example.com".into(),
            value: value.into(),
        }
    }

    #[test]
    fn the_proof_says_what_it_saw() {
        let name = "_shipyard-challenge.shop.example.com";
        assert_eq!(proof("k3", name, &Answer::Records(vec![txt("x"), txt("k3")])), Ok(()));
        let none = proof("k3", name, &Answer::Records(Vec::new())).expect_err("no record");
        assert!(
            none.starts_with("no TXT record at _shipyard-challenge.shop.example.com"),
            "{none}"
        );
        let wrong = proof("k3", name, &Answer::Records(vec![txt("abc")])).expect_err("wrong");
        assert_eq!(
            wrong,
            "found TXT \"abc\" at _shipyard-challenge.shop.example.com, expected \"k3\""
        );
        let many: Vec<DnsRecord> = (0..10).map(|i| txt(&format!("{i}{}", "z".repeat(500)))).collect();
        let long = proof("k3", name, &Answer::Records(many)).expect_err("many");
        assert!(long.len() < 400 && long.contains("7 more"), "{long}");
        let silent = proof("k3", name, &Answer::Unanswered).expect_err("silent");
        assert!(silent.contains("did not answer in 5 s"), "{silent}");
    }

    #[test]
    fn only_records_naming_this_server_point_here() {
        let live = "web-production.acme.apps.example.net";
        let public: Vec<IpAddr> = vec!["192.0.2.10".parse().expect("ip"), "2001:db8::10".parse().expect("ip")];
        assert!(points_here(&[rec(RecordKind::Cname, live)], live, &public));
        assert!(points_here(&[rec(RecordKind::A, "192.0.2.10")], live, &public));
        assert!(points_here(
            &[rec(RecordKind::A, "192.0.2.10"), rec(RecordKind::Aaaa, "2001:db8::10")],
            live,
            &public
        ));
        assert!(!points_here(&[], live, &public));
        assert!(!points_here(
            &[rec(RecordKind::Cname, "elsewhere.example")],
            live,
            &public
        ));
        assert!(!points_here(
            &[rec(RecordKind::A, "192.0.2.10"), rec(RecordKind::A, "198.51.100.1")],
            live,
            &public
        ));
        assert!(!points_here(&[rec(RecordKind::A, "192.0.2.10")], live, &[]));
        let seen = vec![
            rec(RecordKind::A, "10.1.2.3"),
            rec(RecordKind::A, "203.0.113.5"),
            rec(RecordKind::Aaaa, "fd00::1"),
            rec(RecordKind::A, "192.0.2.10"),
        ];
        let shown: Vec<String> = conceal(seen, &public).into_iter().map(|r| r.value).collect();
        assert_eq!(shown, [HIDDEN, "203.0.113.5", HIDDEN, "192.0.2.10"]);
        let expected = expected_records("shop.example.com", live, &public);
        let kinds: Vec<RecordKind> = expected.iter().map(|r| r.kind).collect();
        assert_eq!(kinds, [RecordKind::Cname, RecordKind::A, RecordKind::Aaaa]);
    }
}
