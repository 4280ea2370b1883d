//! Passwords: length rules at the edge and Argon2id hashes at rest.

use crate::DomainError;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Argon2, PasswordHash as PhcHash};
use std::fmt;

/// A password as the user sent it; `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Shortest password accepted, following NIST SP 800-63B's minimum.
    pub const MIN_LEN: usize = 8;
    /// Longest accepted, so hashing cost stays bounded.
    pub const MAX_LEN: usize = 256;

    /// Checks the length rules.
    pub fn parse(value: String) -> Result<Self, DomainError> {
        let chars = value.chars().count();
        if chars < Self::MIN_LEN {
            return Err(DomainError::WeakPassword("must be at least 8 characters"));
        }
        if chars > Self::MAX_LEN {
            return Err(DomainError::WeakPassword("must be at most 256 characters"));
        }
        Ok(Self(value))
    }

    /// Hashes with Argon2id and a fresh salt.
    pub fn hash(&self) -> PasswordHash {
        let salt = SaltString::generate(&mut OsRng);
        let phc = Argon2::default()
            .hash_password(self.0.as_bytes(), &salt)
            .map(|h| h.to_string())
            // Hashing only fails on out-of-range parameters, and the defaults are in range.
            .unwrap_or_else(|e| unreachable!("argon2 default parameters rejected: {e}"));
        PasswordHash(phc)
    }

    /// Whether this password matches a stored hash. A malformed hash matches nothing.
    pub fn verify(&self, hash: &PasswordHash) -> bool {
        PhcHash::new(&hash.0).is_ok_and(|parsed| Argon2::default().verify_password(self.0.as_bytes(), &parsed).is_ok())
    }

    /// Spends the time of one verification, so a login for an unknown user takes as long as
    /// one with a wrong password and does not reveal which accounts exist.
    pub fn verify_against_nothing(&self) {
        static DUMMY: std::sync::OnceLock<PasswordHash> = std::sync::OnceLock::new();
        let dummy = DUMMY.get_or_init(|| Password("not-a-real-password".into()).hash());
        let _ = self.verify(dummy);
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(****)")
    }
}

/// An Argon2id hash in PHC string form, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a hash read back from the store.
    pub fn from_trusted(value: String) -> Self {
        Self(value)
    }

    /// The PHC string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_only_the_same_password() {
        let pw = Password::parse("correct horse".into()).expect("long enough");
        let hash = pw.hash();
        assert!(hash.as_str().starts_with("$argon2id$"));
        assert!(pw.verify(&hash));
        let other = Password::parse("incorrect horse".into()).expect("long enough");
        assert!(!other.verify(&hash));
        assert!(!pw.verify(&PasswordHash::from_trusted("garbage".into())));
    }

    #[test]
    fn length_rules_and_redacted_debug() {
        assert!(Password::parse("short".into()).is_err());
        assert!(Password::parse("x".repeat(257)).is_err());
        let pw = Password::parse("hunter22hunter22".into()).expect("long enough");
        assert!(!format!("{pw:?}").contains("hunter"));
    }
}
