//! `Tenants` for SQLite.

use super::Tx;
use super::rows::{MembershipRow, TenantRow, convert, ts};
use crate::model::{Membership, Page, Paged, Tenant, TenantPatch};
use crate::scope::{AdminScope, TenantScope};
use crate::traits::Tenants;
use crate::{Result, StoreError};
use chrono::Utc;
use shipyard_core::{Role, Slug, TenantId, UserId};

macro_rules! tenant_columns {
    () => {
        "id, name, slug, deploys_per_day, memory_mb_limit, storage_gb_limit, max_databases, suspended, created_at"
    };
}

impl Tx {
    async fn slug_taken(&mut self, slug: &Slug) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants WHERE slug = ?")
            .bind(slug.as_str().to_owned())
            .fetch_one(&mut *self.0)
            .await?;
        Ok(n > 0)
    }

    /// A free slug for `name`: the plain slug, or it with a short random suffix.
    async fn free_slug(&mut self, name: &str) -> Result<Slug> {
        let base = Slug::from_name(name, "workspace");
        if !self.slug_taken(&base).await? {
            return Ok(base);
        }
        // Four hex characters give 65,536 choices; a handful of tries finds a free one unless
        // the install has tens of thousands of workspaces of the same name.
        for _ in 0..16 {
            let random = uuid_suffix();
            let candidate = base.with_suffix(&random);
            if !self.slug_taken(&candidate).await? {
                return Ok(candidate);
            }
        }
        Err(StoreError::Conflict(crate::Constraint::TenantSlug))
    }

    /// Inserts a membership; shared by workspace creation and `Members::add_member`.
    pub(super) async fn insert_membership(&mut self, tenant: &TenantId, user: &UserId, role: Role) -> Result<()> {
        sqlx::query(
            "INSERT INTO memberships (tenant_id, user_id, role, joined_seq, created_at)
             VALUES (?, ?, ?, (SELECT COALESCE(MAX(joined_seq), 0) + 1 FROM memberships), ?)",
        )
        .bind(tenant.as_str().to_owned())
        .bind(user.as_str().to_owned())
        .bind(role.as_str())
        .bind(ts(Utc::now()))
        .execute(&mut *self.0)
        .await
        .map_err(StoreError::from_write)?;
        Ok(())
    }

    async fn tenant_by_id(&mut self, id: &TenantId) -> Result<Option<Tenant>> {
        let row: Option<TenantRow> =
            sqlx::query_as(concat!("SELECT ", tenant_columns!(), " FROM tenants WHERE id = ?"))
                .bind(id.as_str().to_owned())
                .fetch_optional(&mut *self.0)
                .await?;
        row.map(Tenant::try_from).transpose()
    }
}

fn uuid_suffix() -> String {
    // The low bits of a v7 UUID are random.
    let simple = shipyard_core::TenantId::generate();
    simple.as_str()[simple.as_str().len() - 4..].to_owned()
}

impl Tenants for Tx {
    async fn create_tenant(&mut self, name: &str, owner: &UserId) -> Result<Tenant> {
        let id = TenantId::generate();
        let slug = self.free_slug(name).await?;
        sqlx::query("INSERT INTO tenants (id, name, slug, created_at) VALUES (?, ?, ?, ?)")
            .bind(id.as_str().to_owned())
            .bind(name.to_owned())
            .bind(slug.as_str().to_owned())
            .bind(ts(Utc::now()))
            .execute(&mut *self.0)
            .await
            .map_err(StoreError::from_write)?;
        self.insert_membership(&id, owner, Role::Owner).await?;
        self.tenant_by_id(&id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("tenant {id} vanished")))
    }

    async fn tenant_scope(&mut self, user: &UserId, tenant: &TenantId) -> Result<Option<TenantScope>> {
        let row: Option<(String, bool, String)> = sqlx::query_as(
            "SELECT m.role, t.suspended, t.slug FROM memberships m JOIN tenants t ON t.id = m.tenant_id
             WHERE m.tenant_id = ? AND m.user_id = ?",
        )
        .bind(tenant.as_str().to_owned())
        .bind(user.as_str().to_owned())
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(|(role, suspended, slug)| {
            let role = role.parse().map_err(StoreError::Corrupt)?;
            Ok(TenantScope::new(
                tenant.clone(),
                Slug::from_trusted(slug),
                user.clone(),
                role,
                suspended,
            ))
        })
        .transpose()
    }

    async fn admin_scope(&mut self, user: &UserId) -> Result<Option<AdminScope>> {
        let admin: Option<bool> = sqlx::query_scalar("SELECT is_platform_admin FROM users WHERE id = ?")
            .bind(user.as_str().to_owned())
            .fetch_optional(&mut *self.0)
            .await?;
        Ok(admin.unwrap_or(false).then(|| AdminScope::new(user.clone())))
    }

    async fn memberships(&mut self, user: &UserId) -> Result<Vec<Membership>> {
        let rows: Vec<MembershipRow> = sqlx::query_as(
            "SELECT m.tenant_id, t.name AS tenant_name, t.slug AS tenant_slug, m.role
             FROM memberships m JOIN tenants t ON t.id = m.tenant_id
             WHERE m.user_id = ? ORDER BY m.joined_seq",
        )
        .bind(user.as_str().to_owned())
        .fetch_all(&mut *self.0)
        .await?;
        convert(rows)
    }

    async fn owned_tenant_named(&mut self, user: &UserId, name: &str) -> Result<Option<Tenant>> {
        let row: Option<TenantRow> = sqlx::query_as(concat!(
            "SELECT ",
            tenant_columns!(),
            " FROM tenants WHERE name = ? AND id IN
              (SELECT tenant_id FROM memberships WHERE user_id = ? AND role = 'owner')
              ORDER BY id LIMIT 1"
        ))
        .bind(name.to_owned())
        .bind(user.as_str().to_owned())
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(Tenant::try_from).transpose()
    }

    async fn list_tenants(&mut self, _admin: &AdminScope, page: Page) -> Result<Paged<Tenant>> {
        let rows: Vec<TenantRow> = sqlx::query_as(concat!(
            "SELECT ",
            tenant_columns!(),
            " FROM tenants ORDER BY id LIMIT ? OFFSET ?"
        ))
        .bind(i64::from(page.per_page))
        .bind(page.offset())
        .fetch_all(&mut *self.0)
        .await?;
        let total = sqlx::query_scalar("SELECT COUNT(*) FROM tenants")
            .fetch_one(&mut *self.0)
            .await?;
        Ok(Paged {
            items: convert(rows)?,
            total,
        })
    }

    async fn update_tenant(
        &mut self,
        _admin: &AdminScope,
        tenant: &TenantId,
        patch: &TenantPatch,
    ) -> Result<Option<Tenant>> {
        sqlx::query(
            "UPDATE tenants SET deploys_per_day = COALESCE(?, deploys_per_day),
                                memory_mb_limit = COALESCE(?, memory_mb_limit),
                                storage_gb_limit = COALESCE(?, storage_gb_limit),
                                max_databases = COALESCE(?, max_databases),
                                suspended = COALESCE(?, suspended)
             WHERE id = ?",
        )
        .bind(patch.deploys_per_day)
        .bind(patch.memory_mb_limit)
        .bind(patch.storage_gb_limit)
        .bind(patch.max_databases)
        .bind(patch.suspended)
        .bind(tenant.as_str().to_owned())
        .execute(&mut *self.0)
        .await?;
        self.tenant_by_id(tenant).await
    }
}
