//! Roles a user holds in a workspace and what each may do.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// A member's role in one workspace, from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Full control, including other owners.
    Owner,
    /// Manages members (except owners) and everything a member can.
    Admin,
    /// Deploys and manages projects and secrets.
    Member,
    /// Reads only.
    Viewer,
}

impl Role {
    /// The role as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }

    /// Whether this role grants at least what `required` grants.
    pub fn at_least(self, required: Role) -> bool {
        // Variants are declared from most to least powerful, so "more" is "smaller".
        self <= required
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "member" => Ok(Role::Member),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!("unknown role `{other}`")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_matches_power() {
        assert!(Role::Owner.at_least(Role::Admin));
        assert!(Role::Member.at_least(Role::Member));
        assert!(!Role::Viewer.at_least(Role::Member));
        assert!(!Role::Admin.at_least(Role::Owner));
        assert_eq!("viewer".parse::<Role>(), Ok(Role::Viewer));
    }
}
