//! What an API token may do (CONTRACT.md, "Later capabilities" and "Settled in turn 3"): each
//! scope includes the ones below it — `write` everything the role allows, `deploy` trigger,
//! cancel, retry and rollback, `read` every GET but those that hand out credentials or data
//! wholesale.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One scope of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    /// Every GET (streams included) except credentials and wholesale data.
    Read,
    /// Read, and trigger, cancel, retry and roll back deployments.
    Deploy,
    /// Everything the caller's role allows.
    Write,
}

impl TokenScope {
    /// The name as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Deploy => "deploy",
            TokenScope::Write => "write",
        }
    }

    /// Parses a stored or requested scope.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "read" => Some(TokenScope::Read),
            "deploy" => Some(TokenScope::Deploy),
            "write" => Some(TokenScope::Write),
            _ => None,
        }
    }

    /// Whether a token granted `self` may do what needs `needed`.
    pub fn covers(self, needed: TokenScope) -> bool {
        self >= needed
    }
}

impl std::fmt::Display for TokenScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scope_includes_the_ones_below_it() {
        use TokenScope::{Deploy, Read, Write};
        assert!(Write.covers(Deploy) && Write.covers(Read) && Deploy.covers(Read));
        assert!(!Read.covers(Deploy) && !Deploy.covers(Write) && !Read.covers(Write));
        for s in [Read, Deploy, Write] {
            assert_eq!(TokenScope::parse(s.as_str()), Some(s));
        }
        assert_eq!(TokenScope::parse("admin"), None);
    }
}
