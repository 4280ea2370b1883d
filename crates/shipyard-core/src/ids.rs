//! Typed, prefixed ids: `usr_0190…`. The random part is a UUIDv7 in hex, so ids sort by creation.

use crate::DomainError;
use std::fmt;

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The prefix every id of this kind starts with, underscore included.
            pub const PREFIX: &'static str = concat!($prefix, "_");

            /// A fresh, time-ordered id.
            pub fn generate() -> Self {
                Self(format!("{}{}", Self::PREFIX, uuid::Uuid::now_v7().simple()))
            }

            /// Parses an id a user sent; anything but `<prefix>_<32 hex>` is refused.
            pub fn parse(value: &str) -> Result<Self, DomainError> {
                let valid = value.strip_prefix(Self::PREFIX).is_some_and(|rest| {
                    rest.len() == 32 && rest.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                });
                if valid {
                    Ok(Self(value.to_owned()))
                } else {
                    Err(DomainError::InvalidId { kind: $kind, value: value.to_owned() })
                }
            }

            /// Wraps an id read back from the store, which only ever holds ids made by `generate`.
            pub fn from_trusted(value: String) -> Self {
                Self(value)
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

prefixed_id!(
    /// A user account.
    UserId, "usr", "user"
);
prefixed_id!(
    /// A workspace (tenant).
    TenantId, "ten", "tenant"
);
prefixed_id!(
    /// A personal access token.
    TokenId, "tok", "token"
);

prefixed_id!(
    /// A repository connection.
    ConnectionId, "rc", "repository connection"
);
prefixed_id!(
    /// A project.
    ProjectId, "prj", "project"
);
prefixed_id!(
    /// An environment of a project.
    EnvironmentId, "env", "environment"
);
prefixed_id!(
    /// A secret.
    SecretId, "sec", "secret"
);
prefixed_id!(
    /// A deployment.
    DeploymentId, "dep", "deployment"
);
prefixed_id!(
    /// A release.
    ReleaseId, "rel", "release"
);
prefixed_id!(
    /// A managed database.
    DatabaseId, "db", "database"
);
prefixed_id!(
    /// A one-off command run in a release's sandbox (`shipyard run`).
    RunId, "run", "run"
);
prefixed_id!(
    /// A backup of a managed database.
    BackupId, "bkp", "backup"
);
prefixed_id!(
    /// A restore of a backup.
    RestoreId, "rst", "restore"
);
prefixed_id!(
    /// A custom domain of an environment.
    DomainId, "dom", "domain"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back_and_sort_by_creation() {
        let a = UserId::generate();
        let b = UserId::generate();
        assert_eq!(UserId::parse(a.as_str()), Ok(a.clone()));
        assert!(a < b, "{a} should sort before {b}");
    }

    #[test]
    fn wrong_prefix_or_body_is_refused() {
        let tenant = TenantId::generate();
        assert!(UserId::parse(tenant.as_str()).is_err());
        assert!(UserId::parse("usr_").is_err());
        assert!(UserId::parse("usr_0123456789ABCDEF0123456789abcdef").is_err());
        assert!(UserId::parse("usr_0123456789abcdef0123456789abcdef").is_ok());
    }
}
