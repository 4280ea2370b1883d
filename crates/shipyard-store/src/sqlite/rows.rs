//! Rows as SQLite returns them, and their conversion into the model. Timestamps are stored as
//! fixed-width RFC 3339 text so that text order is time order.

use crate::StoreError;
use crate::model::{ApiToken, Member, Membership, Tenant, User};
use chrono::{DateTime, SecondsFormat, Utc};
use shipyard_core::{Email, PasswordHash, Role, Slug, TenantId, TokenId, UserId};

/// Formats a timestamp for storage.
pub(crate) fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses a stored timestamp.
pub(crate) fn parse_ts(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("timestamp `{text}`: {e}")))
}

fn parse_opt_ts(text: Option<String>) -> Result<Option<DateTime<Utc>>, StoreError> {
    text.as_deref().map(parse_ts).transpose()
}

fn parse_role(text: &str) -> Result<Role, StoreError> {
    text.parse().map_err(StoreError::Corrupt)
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: String,
    email: String,
    name: String,
    password_hash: Option<String>,
    is_platform_admin: bool,
    created_at: String,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: UserId::from_trusted(r.id),
            email: Email::from_trusted(r.email),
            name: r.name,
            password_hash: r.password_hash.map(PasswordHash::from_trusted),
            is_platform_admin: r.is_platform_admin,
            created_at: parse_ts(&r.created_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TenantRow {
    id: String,
    name: String,
    slug: String,
    deploys_per_day: i64,
    memory_mb_limit: i64,
    storage_gb_limit: i64,
    max_databases: i64,
    suspended: bool,
    created_at: String,
}

impl TryFrom<TenantRow> for Tenant {
    type Error = StoreError;
    fn try_from(r: TenantRow) -> Result<Self, StoreError> {
        Ok(Tenant {
            id: TenantId::from_trusted(r.id),
            name: r.name,
            slug: Slug::from_trusted(r.slug),
            deploys_per_day: r.deploys_per_day,
            memory_mb_limit: r.memory_mb_limit,
            storage_gb_limit: r.storage_gb_limit,
            max_databases: r.max_databases,
            suspended: r.suspended,
            created_at: parse_ts(&r.created_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct MembershipRow {
    tenant_id: String,
    tenant_name: String,
    tenant_slug: String,
    role: String,
}

impl TryFrom<MembershipRow> for Membership {
    type Error = StoreError;
    fn try_from(r: MembershipRow) -> Result<Self, StoreError> {
        Ok(Membership {
            tenant_id: TenantId::from_trusted(r.tenant_id),
            tenant_name: r.tenant_name,
            tenant_slug: Slug::from_trusted(r.tenant_slug),
            role: parse_role(&r.role)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct MemberRow {
    user_id: String,
    email: String,
    name: String,
    role: String,
    created_at: String,
}

impl TryFrom<MemberRow> for Member {
    type Error = StoreError;
    fn try_from(r: MemberRow) -> Result<Self, StoreError> {
        Ok(Member {
            user_id: UserId::from_trusted(r.user_id),
            email: Email::from_trusted(r.email),
            name: r.name,
            role: parse_role(&r.role)?,
            joined_at: parse_ts(&r.created_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    id: String,
    name: String,
    prefix: String,
    created_at: String,
    expires_at: Option<String>,
    last_used_at: Option<String>,
    scopes: String,
    last_used_ip: Option<String>,
    project_ids: Option<String>,
}

impl TryFrom<TokenRow> for ApiToken {
    type Error = StoreError;
    fn try_from(r: TokenRow) -> Result<Self, StoreError> {
        Ok(ApiToken {
            id: TokenId::from_trusted(r.id),
            name: r.name,
            prefix: r.prefix,
            created_at: parse_ts(&r.created_at)?,
            expires_at: parse_opt_ts(r.expires_at)?,
            last_used_at: parse_opt_ts(r.last_used_at)?,
            scopes: r
                .scopes
                .split(',')
                .map(|s| {
                    shipyard_core::TokenScope::parse(s).ok_or_else(|| StoreError::Corrupt(format!("token scope `{s}`")))
                })
                .collect::<Result<_, _>>()?,
            last_used_ip: r.last_used_ip,
            project_ids: r
                .project_ids
                .map(|ids| {
                    serde_json::from_str::<Vec<String>>(&ids)
                        .map(|ids| ids.into_iter().map(shipyard_core::ProjectId::from_trusted).collect())
                        .map_err(|e| StoreError::Corrupt(format!("token project ids: {e}")))
                })
                .transpose()?,
        })
    }
}

/// Converts every row of a query result.
pub(crate) fn convert<R, T>(rows: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}
