//! A custom domain's hostname: the one home of the rules a user's own name must meet (#36).
//! Unicode names are kept as their ASCII (punycode) form and shown both ways.

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};
use thiserror::Error;

/// The longest hostname DNS carries.
const MAX_NAME: usize = 253;
/// The longest label DNS carries.
const MAX_LABEL: usize = 63;
/// What the proof's TXT name puts in front of the hostname (so the hostname has that much less
/// room).
pub const CHALLENGE_PREFIX: &str = "_shipyard-challenge.";
/// Top-level names no public DNS answers for (RFC 6761 and ICANN's private-use `internal`, and
/// the common private ones): a resolver's answer there is the operator's own network.
const SPECIAL_USE: [&str; 11] = [
    "localhost",
    "local",
    "internal",
    "arpa",
    "invalid",
    "test",
    "onion",
    "alt",
    "lan",
    "home",
    "corp",
];

/// Why a hostname cannot be a custom domain: one rule each, named.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum HostnameError {
    /// Nothing given.
    #[error("hostname is empty")]
    Empty,
    /// `a..b`, `.a.b`.
    #[error("hostname `{0}` has an empty label (a leading dot or two dots in a row)")]
    EmptyLabel(String),
    /// `*.example.com`.
    #[error("hostname `{0}` is a wildcard; add each hostname on its own")]
    Wildcard(String),
    /// `192.0.2.1`, `[2001:db8::1]`.
    #[error("hostname `{0}` is an IP address; a custom domain is a name")]
    IpLiteral(String),
    /// Not a name IDNA (UTS #46, STD3 rules) accepts.
    #[error(
        "hostname `{0}` is not a valid internationalised domain name (IDNA): letters, digits and hyphens per label, no leading or trailing hyphen"
    )]
    Idna(String),
    /// Longer than DNS carries with the proof's prefix in front.
    #[error(
        "hostname `{name}` is {len} characters in ASCII; DNS allows {MAX_NAME} with `{CHALLENGE_PREFIX}` in front, so at most 233"
    )]
    TooLong {
        /// The name (ASCII).
        name: String,
        /// Its length.
        len: usize,
    },
    /// A label longer than DNS carries.
    #[error("label `{label}` of hostname `{name}` is {len} characters; DNS allows {MAX_LABEL}")]
    LabelTooLong {
        /// The name (ASCII).
        name: String,
        /// The label.
        label: String,
        /// Its length.
        len: usize,
    },
    /// Under a top-level name public DNS does not answer for.
    #[error("hostname `{0}` is under `.{1}`, a special-use or private name no public DNS answers for")]
    SpecialUse(String, String),
    /// `localhost`, `intranet`.
    #[error("hostname `{0}` has one label; a custom domain has at least two (shop.example.com)")]
    OneLabel(String),
    /// The API's and console's own host.
    #[error("hostname `{0}` is the platform's own host")]
    PlatformHost(String),
    /// A name the platform gives out itself.
    #[error("hostname `{0}` is under the apps domain `{1}`, whose names the platform gives out")]
    UnderAppsDomain(String, String),
}

/// `pending → verified`, or `failed` (verify may be asked again); a verified one stays so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DomainStatus {
    /// Added; its TXT record not seen yet.
    Pending,
    /// Its TXT record was seen: the edge serves it.
    Verified,
    /// The last verify did not see its TXT record; `error` says what it saw.
    Failed,
}

impl DomainStatus {
    /// Every status.
    pub const ALL: [Self; 3] = [Self::Pending, Self::Verified, Self::Failed];

    /// The name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Verified => "verified",
            Self::Failed => "failed",
        }
    }

    /// Parses a stored status.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A hostname that meets every rule, in ASCII (lowercase, punycode, no trailing dot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomHostname(String);

impl CustomHostname {
    /// Checks `raw` against the rules, in an order that names the first one it breaks. The
    /// rules are checked on the name as given and again on its IDNA (ASCII) form, as mapping
    /// can make new dots (`。`) and digits (full-width) that only the second check sees.
    pub fn parse(raw: &str, platform_host: &str, apps_domain: &str) -> Result<Self, HostnameError> {
        let given = shape(raw.trim(), raw)?;
        let mapped = Uts46::new()
            .to_ascii(given.as_bytes(), AsciiDenyList::STD3, Hyphens::Check, DnsLength::Ignore)
            .map_err(|_| HostnameError::Idna(raw.to_owned()))?;
        let ascii = shape(&mapped, raw)?.to_owned();
        let room = MAX_NAME - CHALLENGE_PREFIX.len();
        if ascii.len() > room {
            return Err(HostnameError::TooLong {
                len: ascii.len(),
                name: ascii,
            });
        }
        if let Some(label) = ascii.split('.').find(|l| l.len() > MAX_LABEL) {
            return Err(HostnameError::LabelTooLong {
                label: label.to_owned(),
                len: label.len(),
                name: ascii.clone(),
            });
        }
        if !ascii.contains('.') {
            return Err(HostnameError::OneLabel(ascii));
        }
        if let Some(tld) = ascii.rsplit('.').next().filter(|tld| SPECIAL_USE.contains(tld)) {
            return Err(HostnameError::SpecialUse(ascii.clone(), tld.to_owned()));
        }
        let platform = platform_host.trim_end_matches('.').to_ascii_lowercase();
        if ascii == platform {
            return Err(HostnameError::PlatformHost(ascii));
        }
        let apps = apps_domain.trim_end_matches('.').to_ascii_lowercase();
        if ascii == apps || ascii.ends_with(&format!(".{apps}")) {
            return Err(HostnameError::UnderAppsDomain(ascii, apps));
        }
        Ok(Self(ascii))
    }

    /// The stored, routed form: lowercase ASCII, punycode for Unicode labels.
    pub fn ascii(&self) -> &str {
        &self.0
    }

    /// The form to show a person: Unicode labels decoded.
    pub fn unicode(&self) -> String {
        to_unicode(&self.0)
    }

    /// The name whose TXT record proves ownership.
    pub fn challenge_name(&self) -> String {
        challenge_name(&self.0)
    }
}

/// The name whose TXT record proves ownership of `hostname` (ASCII).
pub fn challenge_name(hostname: &str) -> String {
    format!("{CHALLENGE_PREFIX}{hostname}")
}

/// A stored (ASCII) hostname as a person reads it: Unicode labels decoded.
pub fn to_unicode(ascii: &str) -> String {
    idna::domain_to_unicode(ascii).0
}

/// The kinds of record a domain's check reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum RecordKind {
    /// The ownership proof.
    Txt,
    /// An alias to the environment's live host.
    Cname,
    /// An IPv4 address of this server.
    A,
    /// An IPv6 address of this server.
    Aaaa,
}

/// A DNS record: one the user should create, or one the resolver saw.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct DnsRecord {
    /// `TXT`, `CNAME`, `A` or `AAAA`.
    #[serde(rename = "type")]
    pub kind: RecordKind,
    /// The name it is at, without the root dot.
    pub name: String,
    /// What it holds (a name without its root dot, an address, the text).
    pub value: String,
}

/// `name` without its one trailing dot (the root, how DNS spells a full name: accepted, never
/// kept), once it is not empty, has no empty label, no wildcard and is no IP address.
fn shape<'a>(name: &'a str, raw: &str) -> Result<&'a str, HostnameError> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() {
        return Err(HostnameError::Empty);
    }
    if name.split('.').any(str::is_empty) {
        return Err(HostnameError::EmptyLabel(raw.to_owned()));
    }
    if name.contains('*') {
        return Err(HostnameError::Wildcard(raw.to_owned()));
    }
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<std::net::IpAddr>().is_ok() || is_ipv4_like(name) {
        return Err(HostnameError::IpLiteral(raw.to_owned()));
    }
    Ok(name)
}

/// Four dot-separated numbers (`10.0.0.1`, also `010.1.1.1`, which `IpAddr` refuses): an
/// address whatever a resolver makes of it, never a name to verify.
fn is_ipv4_like(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether an error is the rule a case expects.
    type Rule = fn(&HostnameError) -> bool;

    fn parse(raw: &str) -> Result<CustomHostname, HostnameError> {
        CustomHostname::parse(raw, "console.example.net", "apps.example.net")
    }

    #[test]
    fn good_names_are_kept_lowercase_without_their_root_dot() {
        let name = parse("SHOP.Example.com.").expect("valid");
        assert_eq!(name.ascii(), "shop.example.com");
        assert_eq!(name.challenge_name(), "_shipyard-challenge.shop.example.com");
        assert_eq!(parse("a-b.c-d.example").expect("valid").ascii(), "a-b.c-d.example");
    }

    #[test]
    fn unicode_names_round_trip_through_punycode() {
        let name = parse("Bücher.example").expect("valid");
        assert_eq!(name.ascii(), "xn--bcher-kva.example");
        assert_eq!(name.unicode(), "bücher.example");
        assert_eq!(
            parse("xn--bcher-kva.example").expect("valid").unicode(),
            "bücher.example"
        );
    }

    #[test]
    fn every_rule_is_named() {
        let long_label = format!("{}.example.com", "a".repeat(64));
        let long_name = format!("{}.com", vec!["b".repeat(60); 5].join("."));
        let cases: Vec<(&str, Rule)> = vec![
            ("", |e| matches!(e, HostnameError::Empty)),
            ("  .  ", |e| matches!(e, HostnameError::Empty)),
            ("a..example.com", |e| matches!(e, HostnameError::EmptyLabel(_))),
            (".example.com", |e| matches!(e, HostnameError::EmptyLabel(_))),
            ("*.example.com", |e| matches!(e, HostnameError::Wildcard(_))),
            ("192.0.2.1", |e| matches!(e, HostnameError::IpLiteral(_))),
            ("010.0.0.1", |e| matches!(e, HostnameError::IpLiteral(_))),
            ("[2001:db8::1]", |e| matches!(e, HostnameError::IpLiteral(_))),
            ("shop_1.example.com", |e| matches!(e, HostnameError::Idna(_))),
            ("-shop.example.com", |e| matches!(e, HostnameError::Idna(_))),
            ("sh op.example.com", |e| matches!(e, HostnameError::Idna(_))),
            (&long_label, |e| {
                matches!(e, HostnameError::LabelTooLong { len: 64, .. })
            }),
            (&long_name, |e| matches!(e, HostnameError::TooLong { .. })),
            ("intranet", |e| matches!(e, HostnameError::OneLabel(_))),
            ("db.corp.internal", |e| matches!(e, HostnameError::SpecialUse(..))),
            ("printer.local.", |e| matches!(e, HostnameError::SpecialUse(..))),
            ("x.apps.example.net\u{3002}", |e| {
                matches!(e, HostnameError::UnderAppsDomain(..))
            }),
            ("a\u{3002}\u{3002}b.com", |e| matches!(e, HostnameError::EmptyLabel(_))),
            ("\u{ff11}\u{ff10}.0.0.1", |e| matches!(e, HostnameError::IpLiteral(_))),
            ("Console.Example.net", |e| matches!(e, HostnameError::PlatformHost(_))),
            ("apps.example.net", |e| matches!(e, HostnameError::UnderAppsDomain(..))),
            ("web-prod.acme.apps.example.net", |e| {
                matches!(e, HostnameError::UnderAppsDomain(..))
            }),
        ];
        for (raw, is) in cases {
            let err = parse(raw).expect_err(raw);
            assert!(is(&err), "{raw:?} gave {err:?}");
            assert!(!err.to_string().is_empty());
        }
        // The longest name whose proof still fits DNS: 233 characters, and not one more.
        let label = "c".repeat(63);
        let longest = format!("{label}.{label}.{label}.{}.com", "d".repeat(37));
        assert_eq!(parse(&longest).expect("fits").ascii().len(), 233);
        assert_eq!(challenge_name(&longest).len(), MAX_NAME);
        let over = format!("{label}.{label}.{label}.{}.com", "d".repeat(38));
        assert!(matches!(parse(&over), Err(HostnameError::TooLong { len: 234, .. })));
        // A look-alike of the apps domain is not under it.
        assert!(parse("myapps.example.net").is_ok());
    }
}
