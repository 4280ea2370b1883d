//! Email addresses as users type them: trimmed and compared case-insensitively.

use crate::DomainError;

/// A normalised (trimmed, lower-cased) email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses an address loosely: one `@`, something on each side, a dot in the domain.
    /// Deliverability is not ours to judge; typos like a missing `@` are.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let value = raw.trim().to_lowercase();
        let invalid = || DomainError::InvalidEmail(raw.to_owned());
        if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = value.split_once('@').ok_or_else(invalid)?;
        let domain_ok =
            !domain.contains('@') && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.');
        if local.is_empty() || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(value))
    }

    /// Wraps an address read back from the store.
    pub fn from_trusted(value: String) -> Self {
        Self(value)
    }

    /// The part before the `@`, used to name things when the user gave no name.
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_refuses_obvious_typos() {
        assert_eq!(
            Email::parse(" Ada@Example.COM ").map(|e| e.0),
            Ok("ada@example.com".into())
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
