//! The secret box: XChaCha20-Poly1305 under the master key. A sealed value is
//! `version ‖ nonce ‖ ciphertext`; the AAD binds it to where it belongs, so a ciphertext
//! copied to another row does not open.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload, rand_core::RngCore};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use thiserror::Error;

/// Format version of sealed values; bump when the layout or the cipher changes.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

/// Why a sealed value could not be opened.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SecretBoxError {
    /// Too short, or an unknown version byte.
    #[error("sealed value is malformed")]
    Malformed,
    /// Wrong key, wrong AAD, or tampered ciphertext.
    #[error("sealed value does not open with this key and context")]
    Unauthentic,
    /// The master key file does not hold 32 bytes.
    #[error("master key must be 32 bytes, found {0}")]
    BadKeyLength(usize),
}

/// Seals and opens values under one 256-bit key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl SecretBox {
    /// Length of a master key in bytes.
    pub const KEY_LEN: usize = 32;

    /// A fresh random master key.
    pub fn generate_key() -> [u8; Self::KEY_LEN] {
        let mut key = [0u8; Self::KEY_LEN];
        OsRng.fill_bytes(&mut key);
        key
    }

    /// A box for the given key bytes.
    pub fn new(key: &[u8]) -> Result<Self, SecretBoxError> {
        let cipher = XChaCha20Poly1305::new_from_slice(key).map_err(|_| SecretBoxError::BadKeyLength(key.len()))?;
        Ok(Self { cipher })
    }

    /// Encrypts `plaintext`, authenticated together with `aad`.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(&nonce, Payload { msg: plaintext, aad })
            // Encryption fails only for messages near 2^38 bytes, far beyond any secret.
            .unwrap_or_else(|_| unreachable!("plaintext too long for XChaCha20-Poly1305"));
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Decrypts a value made by `seal` with the same `aad`.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, SecretBoxError> {
        let (version, rest) = sealed.split_first().ok_or(SecretBoxError::Malformed)?;
        if *version != VERSION || rest.len() < NONCE_LEN {
            return Err(SecretBoxError::Malformed);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        self.cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad })
            .map_err(|_| SecretBoxError::Unauthentic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed() -> SecretBox {
        SecretBox::new(&SecretBox::generate_key()).expect("32-byte key")
    }

    #[test]
    fn round_trip_and_fresh_nonces() {
        let sb = boxed();
        let a = sb.seal(b"postgres://u:p@h/db", b"ten_1|DATABASE_URL");
        let b = sb.seal(b"postgres://u:p@h/db", b"ten_1|DATABASE_URL");
        assert_ne!(a, b, "each seal uses a fresh nonce");
        assert_eq!(a[0], VERSION);
        assert_eq!(
            sb.open(&a, b"ten_1|DATABASE_URL").as_deref(),
            Ok(&b"postgres://u:p@h/db"[..])
        );
    }

    #[test]
    fn wrong_aad_key_tamper_or_version_fail() {
        let sb = boxed();
        let sealed = sb.seal(b"value", b"ctx");
        assert_eq!(sb.open(&sealed, b"other"), Err(SecretBoxError::Unauthentic));
        assert_eq!(boxed().open(&sealed, b"ctx"), Err(SecretBoxError::Unauthentic));
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert_eq!(sb.open(&tampered, b"ctx"), Err(SecretBoxError::Unauthentic));
        let mut versioned = sealed;
        versioned[0] = 9;
        assert_eq!(sb.open(&versioned, b"ctx"), Err(SecretBoxError::Malformed));
        assert_eq!(sb.open(&[], b"ctx"), Err(SecretBoxError::Malformed));
        assert!(matches!(
            SecretBox::new(&[0; 16]),
            Err(SecretBoxError::BadKeyLength(16))
        ));
    }
}
