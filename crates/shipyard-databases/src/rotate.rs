//! Password rotation: the tenant's login takes turns between its owner role and a second
//! login that acts as it. The new password works at once; the old one until the grace period
//! ends (PostgreSQL's own password expiry), so apps move over at their next deploy.

use crate::conf::second_login;
use crate::error::DatabaseError;
use crate::manager::Clusters;
use chrono::{DateTime, Utc};
use shipyard_core::{DatabaseStatus, OpaqueToken, SecretBox};
use shipyard_store::Database;
use shipyard_store::secrets::database_aad;
use sqlx::Executor;

/// A rotation done on the server, for the store to record.
pub struct Rotated {
    /// The login the URL names from now on.
    pub username: String,
    /// Its password, sealed for the database.
    pub password_sealed: Vec<u8>,
    /// When the old login's password stops working.
    pub previous_valid_until: DateTime<Utc>,
}

impl Clusters {
    /// Gives the tenant's other login a new password and ends the current one's at
    /// `previous_valid_until`; the server must be running.
    pub async fn rotate_password(
        &self,
        db: &Database,
        secret_box: &SecretBox,
        previous_valid_until: DateTime<Utc>,
    ) -> Result<Rotated, DatabaseError> {
        if db.status != DatabaseStatus::Running {
            return Err(DatabaseError::NotRunning(db.id.to_string()));
        }
        let next = if db.username == db.owner_role {
            second_login(&db.owner_role)
        } else {
            db.owner_role.clone()
        };
        let password = OpaqueToken::generate("").plain;
        let cluster = self.cluster(db)?;
        let superuser = self.open(db, &db.superuser_password_sealed, "superuser")?;
        let fail = |e: sqlx::Error| DatabaseError::step("rotating the password", e);
        let mut admin = cluster.admin(&superuser).await.map_err(fail)?;
        cluster
            .rewrite_hba(&db.owner_role, &db.database_name)
            .map_err(|e| DatabaseError::step("rotating the password", e))?;
        admin
            .execute("SELECT pg_catalog.pg_reload_conf()")
            .await
            .map_err(fail)?;
        let until = previous_valid_until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        crate::roles::rotate_login(&mut admin, db, &next, &password, &until).await?;
        Ok(Rotated {
            username: next,
            password_sealed: secret_box.seal(password.as_bytes(), &database_aad(&db.tenant_id, &db.id, "password")),
            previous_valid_until,
        })
    }
}
