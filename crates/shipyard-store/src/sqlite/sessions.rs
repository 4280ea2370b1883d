//! `Sessions` for SQLite.

use super::Tx;
use super::rows::{UserRow, ts};
use super::users::user_columns;
use crate::Result;
use crate::model::User;
use crate::traits::Sessions;
use chrono::{DateTime, Utc};
use shipyard_core::UserId;

impl Sessions for Tx {
    async fn create_session(&mut self, user: &UserId, token_hash: &str, expires_at: DateTime<Utc>) -> Result<()> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
            .bind(token_hash.to_owned())
            .bind(user.as_str().to_owned())
            .bind(ts(Utc::now()))
            .bind(ts(expires_at))
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn session_user(&mut self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE id = (SELECT user_id FROM sessions WHERE token_hash = ? AND expires_at > ?)"
        ))
        .bind(token_hash.to_owned())
        .bind(ts(now))
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(User::try_from).transpose()
    }

    async fn delete_session(&mut self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(token_hash.to_owned())
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }
}
