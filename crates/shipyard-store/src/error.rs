//! Store errors. Constraint violations that a user can cause are named, so the API can answer
//! 409 with a sentence instead of a 500.

use thiserror::Error;

/// What went wrong in the store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A unique constraint was violated; carries the constraint's name from the migration.
    #[error("conflict on {0}")]
    Conflict(&'static str),
    /// The database failed (I/O, corruption, busy beyond the timeout).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations failed to apply at start.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A sealed value (a secret version, a credential) did not open with this install's key;
    /// names which one, never its value.
    #[error("{0} could not be decrypted")]
    Undecryptable(String),
    /// Every uid of the configured sandbox range is taken.
    #[error("every sandbox uid from {first} to {last} is taken (--sandbox-uids): widen the range")]
    UidsExhausted {
        /// The range's first uid.
        first: u32,
        /// Its last.
        last: u32,
    },
    /// A value the store's own rules refuse (a live host label too long for DNS).
    #[error(transparent)]
    Refused(#[from] shipyard_core::DomainError),
    /// A row held a value this version of Shipyard cannot read.
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// Unique constraints callers may see as `StoreError::Conflict`.
const NAMED_CONSTRAINTS: &[(&str, &str)] = &[
    ("users.email", "users_email_key"),
    ("tenants.slug", "tenants_slug_key"),
    ("memberships.tenant_id, memberships.user_id", "memberships_pkey"),
    ("api_tokens.token_hash", "api_tokens_hash_key"),
    ("projects.tenant_id, projects.slug", "projects_slug_key"),
    ("environments.project_id, environments.slug", "environments_slug_key"),
    (
        "environments.tenant_id, environments.host_label",
        "environments_host_key",
    ),
    ("index 'secrets_name_key'", "secrets_name_key"),
];

impl StoreError {
    /// Turns a unique violation into `Conflict(<constraint>)`; other errors pass through.
    pub(crate) fn from_write(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err
            && db.is_unique_violation()
        {
            // SQLite reports the columns, not the constraint name: map them back.
            let msg = db.message();
            if let Some((_, name)) = NAMED_CONSTRAINTS.iter().find(|(cols, _)| msg.contains(cols)) {
                return StoreError::Conflict(name);
            }
        }
        StoreError::Database(err)
    }
}
