//! Custom domains of a project's environments.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
pub use shipyard_core::custom_domain::{DnsRecord, DomainStatus, RecordKind};
use utoipa::ToSchema;

/// `POST /tenants/<t>/projects/<p>/domains`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateDomainRequest {
    /// The hostname (Unicode names are stored as punycode).
    pub hostname: String,
    /// `env_…` it serves (default: production).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_id: Option<String>,
}

/// The TXT record that proves ownership.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Verification {
    /// Always `TXT`.
    #[serde(rename = "type")]
    pub kind: RecordKind,
    /// `_shipyard-challenge.<hostname>`.
    pub name: String,
    /// What the record must hold.
    pub value: String,
}

/// Whether the hostname's traffic reaches its environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DomainDns {
    /// Records to create: a CNAME to the live host, or A/AAAA records to this server's public
    /// addresses (one way or the other).
    pub expected: Vec<DnsRecord>,
    /// The CNAME, A and AAAA records the resolver saw at the last look.
    pub observed: Vec<DnsRecord>,
    /// Whether what was seen sends the hostname here.
    pub points_here: bool,
    /// When the last look was (None: not looked at yet).
    pub checked_at: Option<DateTime<Utc>>,
    /// Why the last look failed, when it did.
    pub error: Option<String>,
}

/// Where a domain's HTTPS certificate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CertificateStatus {
    /// None, and none is ordered: the domain is not verified.
    None,
    /// Being ordered, or waiting for what the error names (DNS to point here).
    Pending,
    /// Issued and served.
    Issued,
    /// The last order failed (the error says why); it is tried again later.
    Failed,
}

/// A domain's HTTPS certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DomainCertificate {
    /// Where it stands.
    pub status: CertificateStatus,
    /// When the certificate served expires.
    pub not_after: Option<DateTime<Utc>>,
    /// Why it is not issued, or why its renewal failed.
    pub error: Option<String>,
}

/// A custom domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DomainView {
    /// `dom_…`
    pub id: String,
    /// ASCII (punycode for Unicode labels), as DNS and the edge see it.
    pub hostname: String,
    /// The same name as a person reads it (Unicode labels decoded).
    pub hostname_unicode: String,
    /// `prj_…`
    pub project_id: String,
    /// `env_…` it serves.
    pub environment_id: String,
    /// `pending`, `verified` or `failed`.
    pub status: DomainStatus,
    /// The record to create to prove ownership.
    pub verification: Verification,
    /// Why the last verify failed, with what it saw.
    pub error: Option<String>,
    /// Where its traffic goes.
    pub dns: DomainDns,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// When it was verified.
    pub verified_at: Option<DateTime<Utc>>,
    /// Its HTTPS certificate (null when the server has no HTTPS listener).
    pub certificate: Option<DomainCertificate>,
}
