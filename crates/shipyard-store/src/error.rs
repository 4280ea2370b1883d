//! Store errors. Constraint violations that a user can cause are named, so the API can answer
//! 409 with a sentence instead of a 500.

use thiserror::Error;

/// What went wrong in the store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A unique constraint was violated.
    #[error("conflict on {}", .0.name())]
    Conflict(Constraint),
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

/// The unique constraints a write may break that callers tell apart (named as in the
/// migrations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    /// `users_email_key`: one user per email.
    UserEmail,
    /// `tenants_slug_key`: one workspace per slug.
    TenantSlug,
    /// `memberships_pkey`: one membership per user and workspace.
    Membership,
    /// `api_tokens_hash_key`: one token per hash.
    TokenHash,
    /// `projects_slug_key`: one project per slug in a workspace.
    ProjectSlug,
    /// `environments_slug_key`: one environment per slug in a project.
    EnvironmentSlug,
    /// `environments_host_key`: one environment per live host label in a workspace.
    EnvironmentHost,
    /// `secrets_name_key`: one secret per name and scope.
    SecretName,
    /// `databases_name_key`: one database per name in a workspace.
    DatabaseName,
    /// `databases_port_key`: one database per port.
    DatabasePort,
    /// `database_attachments_key`: one attachment of a database per project and environment.
    DatabaseAttachment,
    /// `domains_hostname_key`: one domain per hostname in a project.
    DomainHostname,
    /// `domains_verified_key`: one verified domain per hostname on the platform.
    DomainVerified,
}

impl Constraint {
    const ALL: [Self; 13] = [
        Self::UserEmail,
        Self::TenantSlug,
        Self::Membership,
        Self::TokenHash,
        Self::ProjectSlug,
        Self::EnvironmentSlug,
        Self::EnvironmentHost,
        Self::SecretName,
        Self::DatabaseName,
        Self::DatabasePort,
        Self::DatabaseAttachment,
        Self::DomainHostname,
        Self::DomainVerified,
    ];

    /// Its name in the migrations.
    pub fn name(self) -> &'static str {
        match self {
            Self::UserEmail => "users_email_key",
            Self::TenantSlug => "tenants_slug_key",
            Self::Membership => "memberships_pkey",
            Self::TokenHash => "api_tokens_hash_key",
            Self::ProjectSlug => "projects_slug_key",
            Self::EnvironmentSlug => "environments_slug_key",
            Self::EnvironmentHost => "environments_host_key",
            Self::SecretName => "secrets_name_key",
            Self::DatabaseName => "databases_name_key",
            Self::DatabasePort => "databases_port_key",
            Self::DatabaseAttachment => "database_attachments_key",
            Self::DomainHostname => "domains_hostname_key",
            Self::DomainVerified => "domains_verified_key",
        }
    }

    /// What SQLite's message says of it: the columns (it does not name constraints), or the
    /// index for one made by `CREATE UNIQUE INDEX`.
    fn sqlite_says(self) -> &'static str {
        match self {
            Self::UserEmail => "users.email",
            Self::TenantSlug => "tenants.slug",
            Self::Membership => "memberships.tenant_id, memberships.user_id",
            Self::TokenHash => "api_tokens.token_hash",
            Self::ProjectSlug => "projects.tenant_id, projects.slug",
            Self::EnvironmentSlug => "environments.project_id, environments.slug",
            Self::EnvironmentHost => "environments.tenant_id, environments.host_label",
            Self::SecretName => "index 'secrets_name_key'",
            Self::DatabaseName => "databases.tenant_id, databases.name",
            Self::DatabasePort => "databases.port",
            Self::DatabaseAttachment => "index 'database_attachments_key'",
            Self::DomainHostname => "domains.project_id, domains.hostname",
            // A partial index on one column: SQLite names the column (checked after the pair).
            Self::DomainVerified => "domains.hostname",
        }
    }
}

impl StoreError {
    /// Turns a unique violation into `Conflict(<constraint>)`; other errors pass through.
    pub(crate) fn from_write(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err
            && db.is_unique_violation()
        {
            let msg = db.message();
            if let Some(constraint) = Constraint::ALL.into_iter().find(|c| msg.contains(c.sqlite_says())) {
                return StoreError::Conflict(constraint);
            }
        }
        StoreError::Database(err)
    }
}
