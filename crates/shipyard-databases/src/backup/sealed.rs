//! A backup's file at rest: the dump encrypted with a key of its own (XChaCha20-Poly1305 in
//! the STREAM construction, 64 KiB chunks), so a copied backups folder holds no row in clear
//! and a cut, swapped or altered chunk is found when the file is read.
//!
//! Layout: `SYBK`, a version byte, the 19-byte nonce prefix, then the chunks; the last one is
//! sealed as last (possibly empty), so a file cut at a chunk boundary does not open either.

use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::stream::{DecryptorBE32, EncryptorBE32};
use chacha20poly1305::aead::{KeyInit, OsRng, rand_core::RngCore};
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MAGIC: &[u8; 4] = b"SYBK";
const VERSION: u8 = 1;
const PREFIX: usize = 19;
/// Plain bytes per chunk.
const CHUNK: usize = 64 * 1024;
/// A sealed chunk: the plain bytes and the tag.
const SEALED_CHUNK: usize = CHUNK + 16;

/// Why a backup file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum SealedError {
    /// The file system said no.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Not a backup file of this version.
    #[error("it is not a Shipyard backup file (its header is wrong)")]
    Header,
    /// A chunk did not authenticate: the file was changed, cut or is another backup's.
    #[error("the backup file is damaged: its chunk {0} does not authenticate (altered, cut short or another backup's)")]
    Damaged(u64),
    /// The key does not have 32 bytes.
    #[error("the backup's key is malformed")]
    Key,
}

/// A fresh random key for one backup.
pub fn new_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    OsRng.fill_bytes(&mut key);
    key
}

fn cipher(key: &[u8]) -> Result<XChaCha20Poly1305, SealedError> {
    XChaCha20Poly1305::new_from_slice(key).map_err(|_| SealedError::Key)
}

/// Writes a sealed file; `finish` seals the last chunk and syncs it to disk.
pub struct SealedWriter {
    file: tokio::fs::File,
    encryptor: EncryptorBE32<XChaCha20Poly1305>,
    pending: Vec<u8>,
    plain_bytes: u64,
}

impl SealedWriter {
    /// Creates `path` (which must not exist) for a backup sealed with `key`.
    pub async fn create(path: &Path, key: &[u8]) -> Result<Self, SealedError> {
        let mut prefix = [0u8; PREFIX];
        OsRng.fill_bytes(&mut prefix);
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .await?;
        file.write_all(MAGIC).await?;
        file.write_all(&[VERSION]).await?;
        file.write_all(&prefix).await?;
        Ok(Self {
            file,
            encryptor: EncryptorBE32::from_aead(cipher(key)?, (&prefix).into()),
            pending: Vec::with_capacity(CHUNK * 2),
            plain_bytes: 0,
        })
    }

    /// Adds plain bytes.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), SealedError> {
        self.pending.extend_from_slice(bytes);
        self.plain_bytes += bytes.len() as u64;
        // A full chunk is sealed only once more follows it: the last one is sealed as last.
        while self.pending.len() > CHUNK {
            let rest = self.pending.split_off(CHUNK);
            let sealed = self
                .encryptor
                .encrypt_next(self.pending.as_slice())
                .map_err(|_| SealedError::Damaged(0))?;
            self.file.write_all(&sealed).await?;
            self.pending = rest;
        }
        Ok(())
    }

    /// Seals the last chunk and syncs the file; the plain bytes written.
    pub async fn finish(mut self) -> Result<u64, SealedError> {
        let sealed = self
            .encryptor
            .encrypt_last(self.pending.as_slice())
            .map_err(|_| SealedError::Damaged(0))?;
        self.file.write_all(&sealed).await?;
        self.file.flush().await?;
        self.file.sync_all().await?;
        Ok(self.plain_bytes)
    }
}

/// Reads a sealed file back chunk by chunk, each authenticated before it is handed out.
pub struct SealedReader {
    file: tokio::fs::File,
    decryptor: Option<DecryptorBE32<XChaCha20Poly1305>>,
    ahead: Vec<u8>,
    chunk: u64,
}

impl SealedReader {
    /// Opens `path`, sealed with `key`.
    pub async fn open(path: &Path, key: &[u8]) -> Result<Self, SealedError> {
        let mut file = tokio::fs::File::open(path).await?;
        let mut header = [0u8; 4 + 1 + PREFIX];
        file.read_exact(&mut header).await.map_err(|_| SealedError::Header)?;
        if &header[..4] != MAGIC || header[4] != VERSION {
            return Err(SealedError::Header);
        }
        let prefix: [u8; PREFIX] = header[5..].try_into().map_err(|_| SealedError::Header)?;
        let mut reader = Self {
            file,
            decryptor: Some(DecryptorBE32::from_aead(cipher(key)?, (&prefix).into())),
            ahead: Vec::new(),
            chunk: 0,
        };
        reader.ahead = reader.read_sealed().await?;
        Ok(reader)
    }

    /// Up to one sealed chunk's bytes; fewer only at the end of the file.
    async fn read_sealed(&mut self) -> Result<Vec<u8>, SealedError> {
        let mut buf = vec![0u8; SEALED_CHUNK];
        let mut filled = 0;
        while filled < SEALED_CHUNK {
            let n = self.file.read(&mut buf[filled..]).await?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        buf.truncate(filled);
        Ok(buf)
    }

    /// The next plain chunk, or None after the last.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, SealedError> {
        if self.decryptor.is_none() {
            return Ok(None);
        }
        let sealed = std::mem::take(&mut self.ahead);
        let next = self.read_sealed().await?;
        self.chunk += 1;
        let damaged = SealedError::Damaged(self.chunk);
        let plain = if next.is_empty() {
            // Nothing follows: this must be the chunk sealed as last.
            let decryptor = self.decryptor.take().ok_or(SealedError::Damaged(self.chunk))?;
            decryptor.decrypt_last(sealed.as_slice()).map_err(|_| damaged)?
        } else {
            let decryptor = self.decryptor.as_mut().ok_or(SealedError::Damaged(self.chunk))?;
            decryptor.decrypt_next(sealed.as_slice()).map_err(|_| damaged)?
        };
        self.ahead = next;
        Ok(Some(plain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn round_trip(len: usize) -> Vec<u8> {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("b");
        let key = new_key();
        let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let mut w = SealedWriter::create(&path, &key).await.expect("create");
        for part in plain.chunks(10_000) {
            w.write(part).await.expect("write");
        }
        assert_eq!(w.finish().await.expect("finish"), len as u64);
        let mut r = SealedReader::open(&path, &key).await.expect("open");
        let mut back = Vec::new();
        while let Some(chunk) = r.next_chunk().await.expect("chunk") {
            back.extend(chunk);
        }
        assert_eq!(back, plain);
        back
    }

    #[tokio::test]
    async fn every_length_round_trips() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17] {
            round_trip(len).await;
        }
    }

    #[tokio::test]
    async fn altered_cut_or_rekeyed_files_do_not_open() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("b");
        let key = new_key();
        let mut w = SealedWriter::create(&path, &key).await.expect("create");
        w.write(&vec![7u8; 2 * CHUNK + 5]).await.expect("write");
        w.finish().await.expect("finish");
        let whole = std::fs::read(&path).expect("read");
        let read_all = |bytes: Vec<u8>, key: [u8; 32]| {
            let path = dir.path().join("c");
            async move {
                std::fs::write(&path, bytes).expect("write");
                let mut r = SealedReader::open(&path, &key).await?;
                while r.next_chunk().await?.is_some() {}
                Ok::<(), SealedError>(())
            }
        };
        assert!(read_all(whole.clone(), key).await.is_ok(), "positive control");
        let mut flipped = whole.clone();
        flipped[100] ^= 1;
        assert!(matches!(read_all(flipped, key).await, Err(SealedError::Damaged(1))));
        let cut = whole[..24 + 2 * SEALED_CHUNK].to_vec();
        assert!(matches!(read_all(cut, key).await, Err(SealedError::Damaged(2))));
        assert!(matches!(
            read_all(whole.clone(), new_key()).await,
            Err(SealedError::Damaged(1))
        ));
        assert!(matches!(
            read_all(b"PGDMP".to_vec(), key).await,
            Err(SealedError::Header)
        ));
    }
}
