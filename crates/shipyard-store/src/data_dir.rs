//! The data directory: one `shipyard serve` at a time (an exclusive lock), the master key
//! (made at first start, mode 0600), and the paths of everything else inside it.

use crate::layout::{self, Layout};
use shipyard_core::{SecretBox, SecretBoxError};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why the data directory cannot be used.
#[derive(Debug, Error)]
pub enum DataDirError {
    /// Another process holds the lock.
    #[error(
        "data directory {0} is in use by another `shipyard serve` (lock held on {0}/shipyard.lock); stop it first or pass another --data-dir"
    )]
    InUse(PathBuf),
    /// The directory or a file in it cannot be read or written.
    #[error("data directory {path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The master key file exists but is not a key.
    #[error("master key {path}: {source}")]
    BadKey {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        source: SecretBoxError,
    },
}

/// An opened data directory.
#[derive(Debug)]
pub struct DataDir {
    root: PathBuf,
    // Held for the life of the server: the OS drops the lock when the process ends, even on a crash.
    _lock: Option<File>,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> DataDirError + '_ {
    move |source| DataDirError::Io {
        path: path.to_owned(),
        source,
    }
}

impl DataDir {
    /// Opens the directory for a server: creates it (0700) and takes the exclusive lock.
    pub fn open_exclusive(root: &Path) -> Result<Self, DataDirError> {
        let mut dir = Self::open_shared(root)?;
        let lock_path = root.join(layout::LOCK);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(DataDirError::InUse(dir.root.clone())),
            Err(fs::TryLockError::Error(e)) => return Err(io_err(&lock_path)(e)),
        }
        dir._lock = Some(lock);
        Ok(dir)
    }

    /// Opens the directory without the lock, for admin commands that run beside a server.
    pub fn open_shared(root: &Path) -> Result<Self, DataDirError> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(root)
            .map_err(io_err(root))?;
        let root = root.canonicalize().map_err(io_err(root))?;
        Ok(Self { root, _lock: None })
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The main database file.
    pub fn database_path(&self) -> PathBuf {
        self.root.join(layout::DATABASE)
    }

    /// Where everything lives: this directory and its work root (see `work_root`).
    pub fn layout(&self) -> Result<Layout, DataDirError> {
        Ok(Layout::new(self.root.clone(), self.work_root()?))
    }

    /// Lets the sandbox users reach their own workspaces: the data directory, `projects/` (where
    /// build disks are mounted) and `workspaces/` (where workspaces' disks, holding releases'
    /// files, are) become traverse-only for others (0711), while everything the server keeps
    /// (databases, key, mirrors) is readable by the server's user alone. Inside the sandbox
    /// the whole data directory is hidden anyway; this is the second wall.
    pub fn prepare_for_builds(&self) -> Result<(), DataDirError> {
        let set =
            |path: &Path, mode: u32| fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io_err(path));
        for dir in [layout::PROJECTS, layout::WORKSPACES] {
            let path = self.root.join(dir);
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o711)
                .create(&path)
                .map_err(io_err(&path))?;
            set(&path, 0o711)?;
        }
        set(&self.root, 0o711)?;
        for private in layout::PRIVATE {
            let path = self.root.join(private);
            if path.exists() {
                set(&path, 0o700)?;
            }
        }
        for entry in fs::read_dir(&self.root).map_err(io_err(&self.root))?.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".db")
                || name.ends_with(".db-wal")
                || name.ends_with(".db-shm")
                || name == layout::MASTER_KEY
            {
                set(&entry.path(), 0o600)?;
            }
        }
        Ok(())
    }

    /// Where build disks (holding workspaces and caches) are mounted: inside the data directory when every directory
    /// above it lets others through (the sandbox users must reach their workspaces), else a
    /// directory under `/var/tmp` named after this data directory.
    fn work_root(&self) -> Result<PathBuf, DataDirError> {
        let traversable = self
            .root
            .ancestors()
            .skip(1)
            .all(|dir| fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o001 != 0));
        if traversable {
            return Ok(self.root.clone());
        }
        let digest = self
            .root
            .to_string_lossy()
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
        let root = PathBuf::from(format!("/var/tmp/shipyard-work-{digest:016x}"));
        let dir = root.join(layout::PROJECTS);
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o711)
            .create(&dir)
            .map_err(io_err(&dir))?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o711)).map_err(io_err(&dir))?;
        fs::set_permissions(&root, fs::Permissions::from_mode(0o711)).map_err(io_err(&root))?;
        // Canonical, as the data directory is: checks compare paths resolved through links.
        root.canonicalize().map_err(io_err(&root))
    }

    /// Loads the master key, making one at first start.
    pub fn secret_box(&self) -> Result<SecretBox, DataDirError> {
        let path = self.root.join(layout::MASTER_KEY);
        let key = match File::open(&path) {
            Ok(mut file) => {
                let mut key = Vec::new();
                file.read_to_end(&mut key).map_err(io_err(&path))?;
                key
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let key = SecretBox::generate_key();
                // create_new: if two processes race at first start, one fails here instead of
                // both writing different keys.
                let mut file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(io_err(&path))?;
                file.write_all(&key)
                    .and_then(|()| file.sync_all())
                    .map_err(io_err(&path))?;
                key.to_vec()
            }
            Err(e) => return Err(io_err(&path)(e)),
        };
        let mode = fs::metadata(&path).map_err(io_err(&path))?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(path = %path.display(), mode = format!("{mode:o}"), "master key is readable by others; chmod 600 it");
        }
        SecretBox::new(&key).map_err(|source| DataDirError::BadKey { path, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_exclusive_open_is_refused_and_key_is_private() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let first = DataDir::open_exclusive(tmp.path()).expect("first open");
        let second = DataDir::open_exclusive(tmp.path());
        assert!(matches!(second, Err(DataDirError::InUse(_))), "{second:?}");
        DataDir::open_shared(tmp.path()).expect("shared open works beside the server");

        let sealed = first.secret_box().expect("key made").seal(b"v", b"aad");
        let mode = fs::metadata(tmp.path().join("master.key"))
            .expect("key exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let reopened = first.secret_box().expect("key loaded");
        assert_eq!(reopened.open(&sealed, b"aad").as_deref(), Ok(&b"v"[..]));

        drop(first);
        DataDir::open_exclusive(tmp.path()).expect("lock released when the holder goes");
    }
}
