//! Slugs: the URL-safe names of workspaces, projects and environments, fixed at creation.

use crate::DomainError;
use std::fmt;

/// `[a-z0-9-]`, starting with a letter, at most 63 characters (one DNS label).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    /// The slug of the production environment every project is made with.
    pub fn production() -> Self {
        Self("production".to_owned())
    }

    /// The longest slug, so a slug always fits in one DNS label.
    pub const MAX_LEN: usize = 63;

    /// Parses a slug a user typed.
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        if value.is_empty() {
            return Err(DomainError::InvalidSlug("must not be empty"));
        }
        if value.len() > Self::MAX_LEN {
            return Err(DomainError::InvalidSlug("must be at most 63 characters"));
        }
        if !value.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(DomainError::InvalidSlug("must start with a lowercase letter"));
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(DomainError::InvalidSlug(
                "may contain only lowercase letters, digits and `-`",
            ));
        }
        if value.ends_with('-') {
            return Err(DomainError::InvalidSlug("must not end with `-`"));
        }
        Ok(Self(value.to_owned()))
    }

    /// Derives a slug from a display name: lower-cased, runs of other characters become one
    /// `-`, a leading non-letter gets an `x-` in front, and `fallback` stands in for a name
    /// with no usable character at all.
    pub fn from_name(name: &str, fallback: &str) -> Self {
        let mut out = String::new();
        for c in name.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                out.push(c);
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        let mut out = out.trim_end_matches('-').to_owned();
        if out.is_empty() {
            out = fallback.to_owned();
        } else if !out.starts_with(|c: char| c.is_ascii_lowercase()) {
            out.insert_str(0, "x-");
        }
        out.truncate(Self::MAX_LEN);
        Self(out.trim_end_matches('-').to_owned())
    }

    /// This slug with `-<suffix>` appended, shortened first so the result stays within 63.
    pub fn with_suffix(&self, suffix: &str) -> Self {
        let keep = Self::MAX_LEN.saturating_sub(suffix.len() + 1);
        let base = self.0[..self.0.len().min(keep)].trim_end_matches('-');
        Self(format!("{base}-{suffix}"))
    }

    /// Wraps a slug read back from the store.
    pub fn from_trusted(value: String) -> Self {
        Self(value)
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_valid_slugs() {
        for (name, slug) in [
            ("Acme Corp", "acme-corp"),
            ("  Ünïcode & Friends!! ", "n-code-friends"),
            ("2024 plans", "x-2024-plans"),
            ("***", "workspace"),
        ] {
            let made = Slug::from_name(name, "workspace");
            assert_eq!(made.as_str(), slug);
            assert_eq!(Slug::parse(made.as_str()), Ok(made));
        }
        let long = Slug::from_name(&"a".repeat(100), "workspace");
        assert_eq!(long.as_str().len(), 63);
        assert_eq!(long.with_suffix("1f2e").as_str().len(), 63);
    }

    #[test]
    fn parse_enforces_every_rule() {
        for bad in ["", "Acme", "1acme", "acme_corp", "acme-", &"a".repeat(64)] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(Slug::parse("acme-2").is_ok());
    }
}
