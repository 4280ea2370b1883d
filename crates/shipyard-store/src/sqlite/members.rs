//! `Members` for SQLite. Every statement filters by the scope's workspace.

use super::Tx;
use super::rows::{MemberRow, convert};
use crate::Result;
use crate::model::{Member, Page, Paged};
use crate::scope::TenantScope;
use crate::traits::Members;
use shipyard_core::{Role, UserId};

macro_rules! member_select {
    () => {
        "SELECT m.user_id, u.email, u.name, m.role, m.created_at
         FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.tenant_id = ?"
    };
}

impl Members for Tx {
    async fn list_members(&mut self, scope: &TenantScope, page: Page) -> Result<Paged<Member>> {
        let rows: Vec<MemberRow> = sqlx::query_as(concat!(member_select!(), " ORDER BY m.joined_seq LIMIT ? OFFSET ?"))
            .bind(scope.tenant_id().as_str().to_owned())
            .bind(i64::from(page.per_page))
            .bind(page.offset())
            .fetch_all(&mut *self.0)
            .await?;
        let total = sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE tenant_id = ?")
            .bind(scope.tenant_id().as_str().to_owned())
            .fetch_one(&mut *self.0)
            .await?;
        Ok(Paged {
            items: convert(rows)?,
            total,
        })
    }

    async fn member(&mut self, scope: &TenantScope, user: &UserId) -> Result<Option<Member>> {
        let row: Option<MemberRow> = sqlx::query_as(concat!(member_select!(), " AND m.user_id = ?"))
            .bind(scope.tenant_id().as_str().to_owned())
            .bind(user.as_str().to_owned())
            .fetch_optional(&mut *self.0)
            .await?;
        row.map(Member::try_from).transpose()
    }

    async fn add_member(&mut self, scope: &TenantScope, user: &UserId, role: Role) -> Result<Member> {
        self.insert_membership(scope.tenant_id(), user, role).await?;
        self.member(scope, user)
            .await?
            .ok_or_else(|| crate::StoreError::Corrupt(format!("membership of {user} vanished")))
    }

    async fn set_member_role(&mut self, scope: &TenantScope, user: &UserId, role: Role) -> Result<Option<Member>> {
        sqlx::query("UPDATE memberships SET role = ? WHERE tenant_id = ? AND user_id = ?")
            .bind(role.as_str())
            .bind(scope.tenant_id().as_str().to_owned())
            .bind(user.as_str().to_owned())
            .execute(&mut *self.0)
            .await?;
        self.member(scope, user).await
    }

    async fn remove_member(&mut self, scope: &TenantScope, user: &UserId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM memberships WHERE tenant_id = ? AND user_id = ?")
            .bind(scope.tenant_id().as_str().to_owned())
            .bind(user.as_str().to_owned())
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn count_owners(&mut self, scope: &TenantScope) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE tenant_id = ? AND role = 'owner'")
                .bind(scope.tenant_id().as_str().to_owned())
                .fetch_one(&mut *self.0)
                .await?,
        )
    }
}
