//! Passwords: length rules at the edge and Argon2id hashes at rest.

use crate::DomainError;
use argon2::password_hash::{Output, ParamsString, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash as PhcHash, Version};
use std::cell::RefCell;
use std::fmt;

thread_local! {
    /// Argon2's working memory (19 MiB with the default parameters), kept for the thread's
    /// life. Allocated per hash, glibc does not reuse the freed, over-aligned block: every hash
    /// grew the process by 19 MiB.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs `argon` over `password` and `salt` into `out`, in this thread's reused memory.
fn argon2_into(argon: &Argon2<'_>, password: &[u8], salt: &[u8], out: &mut [u8]) -> argon2::Result<()> {
    BLOCKS.with_borrow_mut(|blocks| {
        let needed = argon.params().block_count();
        if blocks.len() != needed {
            *blocks = vec![Block::default(); needed];
        }
        argon.hash_password_into_with_memory(password, salt, out, &mut blocks[..])
    })
}

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
        let argon = Argon2::default();
        let mut salt_bytes = [0u8; 64];
        let phc = salt
            .as_salt()
            .decode_b64(&mut salt_bytes)
            .and_then(|salt_raw| {
                Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
                    Ok(argon2_into(&argon, self.0.as_bytes(), salt_raw, out)?)
                })
            })
            .and_then(|output| {
                Ok(PhcHash {
                    algorithm: Algorithm::Argon2id.ident(),
                    version: Some(Version::V0x13.into()),
                    params: ParamsString::try_from(argon.params())?,
                    salt: Some(salt.as_salt()),
                    hash: Some(output),
                }
                .to_string())
            })
            // Hashing only fails on out-of-range parameters, and the defaults are in range.
            .unwrap_or_else(|e| unreachable!("argon2 default parameters rejected: {e}"));
        PasswordHash(phc)
    }

    /// Whether this password matches a stored hash (compared in constant time). A malformed
    /// hash matches nothing.
    pub fn verify(&self, hash: &PasswordHash) -> bool {
        let Ok(phc) = PhcHash::new(&hash.0) else { return false };
        let (Some(salt), Some(expected)) = (phc.salt, phc.hash) else {
            return false;
        };
        let algorithm = Algorithm::try_from(phc.algorithm);
        let version = phc.version.map_or(Ok(Version::default()), Version::try_from);
        let (Ok(params), Ok(algorithm), Ok(version)) = (Params::try_from(&phc), algorithm, version) else {
            return false;
        };
        let argon = Argon2::new(algorithm, version, params);
        let mut salt_bytes = [0u8; 64];
        let Ok(salt_raw) = salt.decode_b64(&mut salt_bytes) else {
            return false;
        };
        let mut out = vec![0u8; expected.len()];
        argon2_into(&argon, self.0.as_bytes(), salt_raw, &mut out).is_ok()
            && Output::new(&out).is_ok_and(|actual| actual == expected)
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
    fn hashes_agree_with_the_argon2_crates_own_hasher() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let pw = Password::parse("correct horse".into()).expect("long enough");
        // Hashes stored before the reused-memory hasher still verify, and the other way round.
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"correct horse", &salt)
            .expect("hash")
            .to_string();
        assert!(pw.verify(&PasswordHash::from_trusted(theirs)));
        let ours = pw.hash();
        let parsed = PhcHash::new(ours.as_str()).expect("phc");
        assert!(Argon2::default().verify_password(b"correct horse", &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"wrong horse", &parsed).is_err());
    }

    #[test]
    fn length_rules_and_redacted_debug() {
        assert!(Password::parse("short".into()).is_err());
        assert!(Password::parse("x".repeat(257)).is_err());
        let pw = Password::parse("hunter22hunter22".into()).expect("long enough");
        assert!(!format!("{pw:?}").contains("hunter"));
    }
}
