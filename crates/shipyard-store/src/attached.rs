//! The databases an environment's sandboxes get: each attachment's variable and URL, in
//! clear, and every database password the redactor must know.

use crate::model::{Database, Page, ResolvedSecret};
use crate::scope::TenantScope;
use crate::secrets::database_aad;
use crate::traits::{Attachments, Databases};
use crate::{Result, StoreError};
use shipyard_core::{DatabaseId, EnvironmentId, PinnedAttachment, ProjectId, SecretBox, SecretString, database_url};

/// A database attached to an environment, as its builds and instances get it.
#[derive(Debug, Clone)]
pub struct AttachedDatabase {
    /// `db_…`
    pub database_id: DatabaseId,
    /// Its name.
    pub name: String,
    /// The variable that holds the URL.
    pub env_var: String,
    /// Its loopback port (the same inside the sandbox).
    pub port: u16,
    /// The tenant role's URL, password included.
    pub url: SecretString,
}

/// One of `db`'s sealed passwords (`what`: `password` for the tenant role's, `superuser` for
/// the platform's), in clear.
pub fn open_database_secret(secret_box: &SecretBox, db: &Database, sealed: &[u8], what: &str) -> Result<String> {
    let plain = secret_box
        .open(sealed, &database_aad(&db.tenant_id, &db.id, what))
        .map_err(|_| StoreError::Undecryptable(format!("database {} {what}", db.id)))?;
    String::from_utf8(plain).map_err(|e| StoreError::Corrupt(format!("database {} {what}: {e}", db.id)))
}

/// The tenant role's password of `db`, in clear.
pub fn database_password(secret_box: &SecretBox, db: &Database) -> Result<String> {
    open_database_secret(secret_box, db, &db.password_sealed, "password")
}

/// Of `recorded` (a release's attachments), those still attached to `environment` of
/// `project`, and those that went since.
pub async fn still_attached(
    tx: &mut impl Attachments,
    scope: &TenantScope,
    (project, environment): (&ProjectId, &EnvironmentId),
    recorded: &[PinnedAttachment],
) -> Result<(Vec<PinnedAttachment>, Vec<PinnedAttachment>)> {
    let now = tx.project_attachments(scope, project).await?;
    Ok(recorded.iter().cloned().partition(|pin| {
        now.iter()
            .any(|a| a.covers(environment) && a.database_id.as_str() == pin.database_id)
    }))
}

/// The databases attached to `environment` of `project` now. With `recorded` (a release's
/// own), only those of them still attached, each under the variable the release was made with:
/// an attachment that went since is never given back.
pub async fn attached(
    tx: &mut (impl Attachments + Databases),
    scope: &TenantScope,
    secret_box: &SecretBox,
    (project, environment): (&ProjectId, &EnvironmentId),
    recorded: Option<&[PinnedAttachment]>,
) -> Result<Vec<AttachedDatabase>> {
    let mut out = Vec::new();
    for attachment in tx.project_attachments(scope, project).await? {
        if !attachment.covers(environment) {
            continue;
        }
        let env_var = match recorded {
            None => attachment.env_var,
            Some(pins) => match pins.iter().find(|p| p.database_id == attachment.database_id.as_str()) {
                Some(pin) => pin.env_var.clone(),
                None => continue,
            },
        };
        if out.iter().any(|a: &AttachedDatabase| a.env_var == env_var) {
            continue;
        }
        let Some(db) = tx.database(scope, &attachment.database_id).await? else {
            continue;
        };
        let password = database_password(secret_box, &db)?;
        out.push(AttachedDatabase {
            url: database_url(&db.username, &password, db.port, &db.database_name).into(),
            database_id: db.id,
            name: db.name,
            env_var,
            port: db.port,
        });
    }
    Ok(out)
}

/// The variables a sandbox gets: the secrets, and each attached database's URL. Attaching
/// refuses a secret's name; a secret made later under an attachment's name is shadowed by it,
/// as Heroku's add-on variables shadow config.
pub fn sandbox_env(secrets: &[ResolvedSecret], attached: &[AttachedDatabase]) -> Vec<(String, SecretString)> {
    let taken = |name: &str| attached.iter().any(|a| a.env_var == name);
    let secrets = secrets
        .iter()
        .filter(|s| !taken(s.name.as_str()))
        .map(|s| (s.name.to_string(), s.value.clone()));
    let databases = attached.iter().map(|a| (a.env_var.clone(), a.url.clone()));
    secrets.chain(databases).collect()
}

/// Every database password of the workspace, in clear, for the redactor.
pub async fn database_passwords(
    tx: &mut impl Databases,
    scope: &TenantScope,
    secret_box: &SecretBox,
) -> Result<Vec<String>> {
    // One page holds them all: a workspace holds at most 1,000 (`maxDatabases`' ceiling).
    let all = tx
        .list_databases(
            scope,
            Page {
                page: 1,
                per_page: 1000,
            },
        )
        .await?;
    all.items.iter().map(|db| database_password(secret_box, db)).collect()
}
