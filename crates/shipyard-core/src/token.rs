//! Opaque bearer values (API tokens, session ids): random text shown once, stored as SHA-256.

use chacha20poly1305::aead::{OsRng, rand_core::RngCore};
use sha2::{Digest, Sha256};

/// A freshly made token: the plain value for the user, its hash for the store.
pub struct OpaqueToken {
    /// The whole token, shown to its owner exactly once.
    pub plain: String,
    /// SHA-256 of `plain`, hex; what the store keeps and looks up by.
    pub hash: String,
}

impl OpaqueToken {
    /// Random bytes per token: 256 bits, beyond any guessing.
    const RANDOM_BYTES: usize = 32;

    /// Makes a token `<prefix><64 hex>`, e.g. `shpat_…` for API tokens.
    pub fn generate(prefix: &str) -> Self {
        let mut bytes = [0u8; Self::RANDOM_BYTES];
        OsRng.fill_bytes(&mut bytes);
        let plain = format!("{prefix}{}", hex::encode(bytes));
        let hash = Self::hash_of(&plain);
        Self { plain, hash }
    }

    /// The hash under which a presented token is looked up.
    pub fn hash_of(plain: &str) -> String {
        hex::encode(Sha256::digest(plain.as_bytes()))
    }

    /// The first characters of the token, shown in lists so users can tell tokens apart.
    pub fn display_prefix(&self) -> String {
        self.plain.chars().take(14).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_hash_stably() {
        let a = OpaqueToken::generate("shpat_");
        let b = OpaqueToken::generate("shpat_");
        assert_ne!(a.plain, b.plain);
        assert!(a.plain.starts_with("shpat_") && a.plain.len() == 6 + 64);
        assert_eq!(OpaqueToken::hash_of(&a.plain), a.hash);
        assert_eq!(a.display_prefix().len(), 14);
        assert!(!a.hash.contains(&a.plain));
    }
}
