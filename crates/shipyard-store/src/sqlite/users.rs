//! `Users` for SQLite.

use super::Tx;
use super::rows::{UserRow, convert, ts};
use crate::model::{NewUser, Page, Paged, User};
use crate::scope::AdminScope;
use crate::traits::Users;
use crate::{Result, StoreError};
use chrono::Utc;
use shipyard_core::{Email, UserId};

/// The columns `UserRow` reads, as a literal so `concat!` can build whole statements.
macro_rules! user_columns {
    () => {
        "id, email, name, password_hash, is_platform_admin, created_at"
    };
}
pub(crate) use user_columns;

impl Users for Tx {
    async fn count_users(&mut self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&mut *self.0)
            .await?)
    }

    async fn create_user(&mut self, new: &NewUser) -> Result<User> {
        let id = UserId::generate();
        sqlx::query(
            "INSERT INTO users (id, email, name, password_hash, is_platform_admin, created_at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(id.as_str().to_owned())
        .bind(new.email.as_str().to_owned())
        .bind(new.name.clone())
        .bind(new.password_hash.as_ref().map(|h| h.as_str().to_owned()))
        .bind(new.is_platform_admin)
        .bind(ts(Utc::now()))
        .execute(&mut *self.0)
        .await
        .map_err(StoreError::from_write)?;
        self.user_by_id(&id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("user {id} vanished")))
    }

    async fn user_by_id(&mut self, id: &UserId) -> Result<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(concat!("SELECT ", user_columns!(), " FROM users WHERE id = ?"))
            .bind(id.as_str().to_owned())
            .fetch_optional(&mut *self.0)
            .await?;
        row.map(User::try_from).transpose()
    }

    async fn user_by_email(&mut self, email: &Email) -> Result<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(concat!("SELECT ", user_columns!(), " FROM users WHERE email = ?"))
            .bind(email.as_str().to_owned())
            .fetch_optional(&mut *self.0)
            .await?;
        row.map(User::try_from).transpose()
    }

    async fn list_users(&mut self, _admin: &AdminScope, page: Page) -> Result<Paged<User>> {
        let rows: Vec<UserRow> = sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users ORDER BY id LIMIT ? OFFSET ?"
        ))
        .bind(i64::from(page.per_page))
        .bind(page.offset())
        .fetch_all(&mut *self.0)
        .await?;
        let total = self.count_users().await?;
        Ok(Paged {
            items: convert(rows)?,
            total,
        })
    }
}
