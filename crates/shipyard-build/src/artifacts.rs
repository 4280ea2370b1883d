//! The artifact store: each release's files, kept on its workspace's disk under
//! `<data>/workspaces/<tenant>/artifacts/<release>/` (object storage later), and removed when
//! retention prunes the release.

use shipyard_core::ReleaseId;
use shipyard_sandbox::{DiskError, Workspaces};
use std::path::{Path, PathBuf};

/// Where release artifacts live.
#[derive(Debug, Clone)]
pub struct ArtifactStore {
    root: PathBuf,
}

impl ArtifactStore {
    /// `tenant`'s releases, to read or remove (its disk need not be mounted).
    pub fn of(workspaces: &Workspaces, tenant: &str) -> Self {
        Self {
            root: workspaces.artifacts(tenant),
        }
    }

    /// `tenant`'s releases, to store more: only on its mounted disk, never the host's.
    pub fn writable(workspaces: &Workspaces, tenant: &str) -> Result<Self, DiskError> {
        workspaces.mounted(tenant)?;
        Self::at(workspaces.artifacts(tenant)).map_err(|source| DiskError::Io {
            path: workspaces.artifacts(tenant),
            source,
        })
    }

    /// A store under `root` (created when missing).
    fn at(root: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&root)?;
        Ok(Self { root })
    }

    /// The directory of a release's files.
    pub fn path(&self, release: &ReleaseId) -> PathBuf {
        self.root.join(release.as_str())
    }

    /// Moves a finished tree in as `release`: a rename on the same disk, else a copy (`cp -a`
    /// keeps modes and links) into a directory of its own, renamed into place once whole, and
    /// the original's removal. A copy cut short (a full disk, a kill) leaves no `release`.
    pub fn store(&self, built: &Path, release: &ReleaseId) -> std::io::Result<PathBuf> {
        let target = self.path(release);
        if target.exists() {
            // Whole (only a rename makes it): an earlier move stopped before removing the original.
            std::fs::remove_dir_all(built)?;
            return Ok(target);
        }
        match std::fs::rename(built, &target) {
            Ok(()) => Ok(target),
            Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => {
                // Not a release name: swept as nobody's if a crash leaves it.
                let partial = self.root.join(format!(".partial-{release}"));
                let _ = std::fs::remove_dir_all(&partial);
                let copied = std::process::Command::new("cp")
                    .arg("-aT")
                    .arg(built)
                    .arg(&partial)
                    .stderr(std::process::Stdio::piped())
                    .output()?;
                if !copied.status.success() {
                    let _ = std::fs::remove_dir_all(&partial);
                    let said = String::from_utf8_lossy(&copied.stderr);
                    // The first line says why (a full disk repeats it for every file).
                    let why = said.lines().next().unwrap_or("").rsplit(": ").next().unwrap_or("");
                    return Err(std::io::Error::other(format!(
                        "copying the build's files failed: {why}"
                    )));
                }
                std::fs::rename(&partial, &target)?;
                std::fs::remove_dir_all(built)?;
                Ok(target)
            }
            Err(e) => Err(e),
        }
    }

    /// Makes `to` a copy of `from`'s files for a rollback: hard links (`cp -al`, links kept as
    /// links), so it costs directories, not data. Releases never change their files, so the
    /// two can share them; each can still be removed alone.
    pub fn duplicate(&self, from: &ReleaseId, to: &ReleaseId) -> std::io::Result<PathBuf> {
        let target = self.path(to);
        let cp = |flags: &str| {
            std::process::Command::new("cp")
                .arg(flags)
                .arg(self.path(from))
                .arg(&target)
                .stderr(std::process::Stdio::piped())
                .output()
        };
        let mut copied = cp("-al")?;
        if !copied.status.success() {
            // A file with as many links as the filesystem allows (a tenant can make one): copy.
            let _ = std::fs::remove_dir_all(&target);
            copied = cp("-a")?;
        }
        if !copied.status.success() {
            let _ = std::fs::remove_dir_all(&target);
            return Err(std::io::Error::other(format!(
                "copying {} failed: {}",
                self.path(from).display(),
                String::from_utf8_lossy(&copied.stderr).trim()
            )));
        }
        Ok(target)
    }

    /// Removes every artifact directory no release owns (`owned(id)` says whether the store
    /// keeps a release of this workspace): what a crash between storing the files and committing
    /// the row left. Returns how many went.
    pub fn sweep_unowned(&self, owned: impl Fn(&str) -> bool) -> std::io::Result<usize> {
        let mut removed = 0;
        let entries = match std::fs::read_dir(&self.root) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            entries => entries?,
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if owned(&name) {
                continue;
            }
            let path = entry.path();
            // Never follow a link out of the store: a link is removed as a link.
            if entry.file_type()?.is_dir() {
                std::fs::remove_dir_all(&path)?;
            } else {
                std::fs::remove_file(&path)?;
            }
            removed += 1;
        }
        Ok(removed)
    }

    /// Deletes a release's files; a release already gone is fine.
    pub fn remove(&self, release: &ReleaseId) -> std::io::Result<()> {
        match std::fs::remove_dir_all(self.path(release)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_removes_release_trees() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = ArtifactStore::at(tmp.path().join("artifacts")).expect("store");
        let built = tmp.path().join("build");
        std::fs::create_dir_all(built.join("dist")).expect("mkdir");
        std::fs::write(built.join("dist/index.html"), "hi").expect("write");
        let release = ReleaseId::generate();
        let path = store.store(&built, &release).expect("stored");
        assert_eq!(
            std::fs::read_to_string(path.join("dist/index.html")).expect("read"),
            "hi"
        );
        assert!(!built.exists(), "moved, not copied");
        store.remove(&release).expect("removed");
        assert!(!store.path(&release).exists());
        store.remove(&release).expect("removing twice is fine");
    }
}
