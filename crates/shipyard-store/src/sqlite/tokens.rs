//! `ApiTokens` for SQLite.

use super::Tx;
use super::rows::{TokenRow, convert, ts};
use crate::model::{ApiToken, NewToken, Page, Paged, User};
use crate::traits::{ApiTokens, Users};
use crate::{Result, StoreError};
use chrono::{DateTime, Duration, Utc};
use shipyard_core::{ProjectId, TokenId, UserId};

macro_rules! token_columns {
    () => {
        "id, name, prefix, created_at, expires_at, last_used_at, scopes, last_used_ip, project_ids"
    };
}

impl ApiTokens for Tx {
    async fn create_token(&mut self, user: &UserId, new: &NewToken<'_>) -> Result<ApiToken> {
        let id = TokenId::generate();
        let row: TokenRow = sqlx::query_as(concat!(
            "INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, created_at, expires_at, scopes, project_ids)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ",
            token_columns!()
        ))
        .bind(id.as_str().to_owned())
        .bind(user.as_str().to_owned())
        .bind(new.name.to_owned())
        .bind(new.prefix.to_owned())
        .bind(new.token_hash.to_owned())
        .bind(ts(Utc::now()))
        .bind(new.expires_at.map(ts))
        .bind(new.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","))
        .bind(new.projects.map(ids_json))
        .fetch_one(&mut *self.0)
        .await
        .map_err(StoreError::from_write)?;
        ApiToken::try_from(row)
    }

    async fn list_tokens(&mut self, user: &UserId, page: Page) -> Result<Paged<ApiToken>> {
        let rows: Vec<TokenRow> = sqlx::query_as(concat!(
            "SELECT ",
            token_columns!(),
            " FROM api_tokens WHERE user_id = ? ORDER BY id DESC LIMIT ? OFFSET ?"
        ))
        .bind(user.as_str().to_owned())
        .bind(i64::from(page.per_page))
        .bind(page.offset())
        .fetch_all(&mut *self.0)
        .await?;
        let total = sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens WHERE user_id = ?")
            .bind(user.as_str().to_owned())
            .fetch_one(&mut *self.0)
            .await?;
        Ok(Paged {
            items: convert(rows)?,
            total,
        })
    }

    async fn delete_token(&mut self, user: &UserId, id: &TokenId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM api_tokens WHERE id = ? AND user_id = ?")
            .bind(id.as_str().to_owned())
            .bind(user.as_str().to_owned())
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn token_user(&mut self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<(User, ApiToken)>> {
        let row: Option<(String, TokenRow)> = sqlx::query_as::<_, TokenWithUser>(concat!(
            "SELECT user_id, ",
            token_columns!(),
            " FROM api_tokens WHERE token_hash = ? AND (expires_at IS NULL OR expires_at > ?)"
        ))
        .bind(token_hash.to_owned())
        .bind(ts(now))
        .fetch_optional(&mut *self.0)
        .await?
        .map(|r| (r.user_id, r.token));
        let Some((user_id, token)) = row else {
            return Ok(None);
        };
        let user = self.user_by_id(&UserId::from_trusted(user_id)).await?;
        user.map(|u| ApiToken::try_from(token).map(|t| (u, t))).transpose()
    }

    async fn touch_token(&mut self, id: &TokenId, now: DateTime<Utc>, ip: Option<&str>) -> Result<()> {
        // Minute resolution is what a user needs to spot a stale token, and it keeps a busy
        // token from turning every request into a write; a new address is written at once.
        sqlx::query(
            "UPDATE api_tokens SET last_used_at = ?1, last_used_ip = ?2 WHERE id = ?3
             AND (last_used_at IS NULL OR last_used_at < ?4 OR last_used_ip IS NOT ?2)",
        )
        .bind(ts(now))
        .bind(ip.map(str::to_owned))
        .bind(id.as_str().to_owned())
        .bind(ts(now - Duration::minutes(1)))
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }
}

#[derive(sqlx::FromRow)]
struct TokenWithUser {
    user_id: String,
    #[sqlx(flatten)]
    token: TokenRow,
}

/// A list of project ids as the JSON array a query's `json_each` reads.
pub(crate) fn ids_json(ids: &[ProjectId]) -> String {
    serde_json::Value::from(ids.iter().map(|p| p.as_str()).collect::<Vec<_>>()).to_string()
}
