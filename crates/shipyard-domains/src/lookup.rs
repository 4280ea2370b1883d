//! Asking DNS: the resolver named by `--dns-resolver` (the system's otherwise), no cache, no
//! hosts file, no search list, one deadline for every question about one hostname.

use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::{Resolver, TokioResolver};
use shipyard_core::custom_domain::{DnsRecord, RecordKind};
use std::net::SocketAddr;
use std::time::Duration;
use thiserror::Error;

/// How long the resolver has to answer everything about one hostname.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(5);
/// How long one try of one question may take.
const TRY_WITHIN: Duration = Duration::from_secs(2);

/// Records of one type kept from one answer: a stranger's zone decides how many there are,
/// and what is kept is stored and shown.
const MAX_RECORDS: usize = 16;
/// Characters of one record's value kept (a challenge value is far shorter, so a proof is
/// never cut).
const MAX_VALUE_CHARS: usize = 255;

/// The resolver could not be set up.
#[derive(Debug, Error)]
#[error("the DNS resolver cannot be set up: {0}")]
pub struct DnsConfigError(String);

/// What one question got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The records of the asked type (none: the name has none).
    Records(Vec<DnsRecord>),
    /// The resolver did not answer within `ANSWER_WITHIN`.
    Unanswered,
    /// The resolver answered with an error (SERVFAIL, REFUSED, a broken reply).
    Failed(String),
}

/// What the resolver says about one hostname now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// The TXT records at its challenge name.
    pub challenge: Answer,
    /// Its CNAME, A and AAAA records, in that order.
    pub routing: Answer,
}

/// A DNS client for domain checks.
#[derive(Clone)]
pub struct Dns {
    resolver: TokioResolver,
}

impl std::fmt::Debug for Dns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dns").finish_non_exhaustive()
    }
}

impl Dns {
    /// A client asking `server` (UDP, then TCP for truncated answers), or the system's
    /// resolvers (`/etc/resolv.conf`) when None.
    pub fn new(server: Option<SocketAddr>) -> Result<Self, DnsConfigError> {
        let provider = TokioRuntimeProvider::default();
        let mut builder = match server {
            Some(addr) => {
                let mut name_server = NameServerConfig::udp_and_tcp(addr.ip());
                for connection in &mut name_server.connections {
                    connection.port = addr.port();
                }
                Resolver::builder_with_config(ResolverConfig::from_name_servers(vec![name_server]), provider)
            }
            None => Resolver::builder(provider).map_err(|e| DnsConfigError(e.to_string()))?,
        };
        let options = builder.options_mut();
        // A check must see DNS as it is now: a cached "no record" would hide the record the
        // user just created, and the hosts file is this machine's opinion, not the world's.
        options.cache_size = 0;
        // A zero-sized cache may still hold an entry for a moment; a zero lifetime never does.
        options.positive_max_ttl = Some(Duration::ZERO);
        options.negative_max_ttl = Some(Duration::ZERO);
        options.use_hosts_file = ResolveHosts::Never;
        options.ndots = 0;
        // Two tries of 2 s each fit the 5 s deadline: one lost datagram does not fail a verify.
        options.timeout = TRY_WITHIN;
        options.attempts = 1;
        let resolver = builder.build().map_err(|e| DnsConfigError(e.to_string()))?;
        Ok(Self { resolver })
    }

    /// Asks about `hostname` (ASCII, no root dot): its challenge TXT and where it points. The
    /// questions share one deadline, each on its own: an answer that came is kept even when
    /// another question is never answered.
    pub async fn observe(&self, hostname: &str, challenge_name: &str) -> Observation {
        let deadline = tokio::time::Instant::now() + ANSWER_WITHIN;
        let within = |asked| async move {
            tokio::time::timeout_at(deadline, asked)
                .await
                .unwrap_or(Answer::Unanswered)
        };
        let (txt, cname, a, aaaa) = tokio::join!(
            within(self.ask(challenge_name, RecordType::TXT)),
            within(self.ask(hostname, RecordType::CNAME)),
            within(self.ask(hostname, RecordType::A)),
            within(self.ask(hostname, RecordType::AAAA)),
        );
        Observation {
            challenge: txt,
            routing: merge([cname, a, aaaa]),
        }
    }

    async fn ask(&self, name: &str, kind: RecordType) -> Answer {
        let fqdn = format!("{name}.");
        match self.resolver.lookup(fqdn.as_str(), kind).await {
            Ok(lookup) => Answer::Records(
                lookup
                    .answers()
                    .iter()
                    .filter_map(|r| record(&r.data, &r.name.to_ascii()))
                    .filter(|r| kind_of(r.kind) == kind)
                    .take(MAX_RECORDS)
                    .collect(),
            ),
            Err(e) if e.is_no_records_found() || e.is_nx_domain() => Answer::Records(Vec::new()),
            Err(hickory_resolver::net::NetError::Timeout) => Answer::Unanswered,
            Err(e) => Answer::Failed(e.to_string()),
        }
    }
}

/// One answer of several questions: records if every one answered, else the first failure.
fn merge(answers: [Answer; 3]) -> Answer {
    let mut all = Vec::new();
    for answer in answers {
        match answer {
            Answer::Records(records) => all.extend(records),
            other => return other,
        }
    }
    Answer::Records(all)
}

fn kind_of(kind: RecordKind) -> RecordType {
    match kind {
        RecordKind::Txt => RecordType::TXT,
        RecordKind::Cname => RecordType::CNAME,
        RecordKind::A => RecordType::A,
        RecordKind::Aaaa => RecordType::AAAA,
    }
}

/// A record as the API shows it; None for types a check does not read.
fn record(data: &RData, name: &str) -> Option<DnsRecord> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let (kind, value) = match data {
        RData::TXT(txt) => (
            RecordKind::Txt,
            txt.txt_data
                .iter()
                .map(|part| String::from_utf8_lossy(part).into_owned())
                .collect::<String>(),
        ),
        RData::CNAME(target) => (
            RecordKind::Cname,
            target.0.to_ascii().trim_end_matches('.').to_ascii_lowercase(),
        ),
        RData::A(a) => (RecordKind::A, a.0.to_string()),
        RData::AAAA(aaaa) => (RecordKind::Aaaa, aaaa.0.to_string()),
        _ => return None,
    };
    Some(DnsRecord {
        kind,
        name,
        value: value.chars().take(MAX_VALUE_CHARS).collect(),
    })
}
