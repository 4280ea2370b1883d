//! A build's disk: the project's build disk mounted for it (`--build-disk`), the sentence for a
//! build that filled it, and a release's size held to `--artifact-max` before it is stored.

use super::Failure;
use crate::context::Worker;
use shipyard_core::ProjectId;
use shipyard_sandbox::{Disk, DiskSpec};
use std::path::Path;

/// Where the workspaces are on a build disk.
pub(super) const BUILDS: &str = "builds";
/// Where the package cache is on a build disk.
pub(super) const CACHE: &str = "cache";

impl Worker {
    /// Mounts `project`'s build disk (made at its first build) for one build.
    pub(super) async fn build_disk(&self, project: &ProjectId) -> Result<Disk, Failure> {
        let (image, at) = shipyard_build::build::build_disk(&self.settings.work_root, project.as_str());
        let (disks, bytes) = (self.disks.clone(), self.settings.build_disk);
        let attached = tokio::task::spawn_blocking(move || {
            let disk = disks.attach(&DiskSpec {
                image: &image,
                at: &at,
                bytes,
                owner: None,
                ephemeral: false,
            })?;
            let builds = at.join(BUILDS);
            if disk.mounted_now() {
                // Workspaces of builds a crash interrupted: nothing of this server uses them.
                let _ = std::fs::remove_dir_all(&builds);
            }
            prepare_dir(&builds).map_err(|source| shipyard_sandbox::DiskError::Io { path: builds, source })?;
            Ok::<_, shipyard_sandbox::DiskError>(disk)
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|attached| attached.map_err(|e| e.to_string()));
        attached.map_err(|e| Failure::new(format!("the build disk could not be mounted: {e}")))
    }

    /// Says why a build step failed when the build disk is full: the tenant's own error is
    /// usually an ENOSPC deep in a package manager's output.
    pub(super) fn explain_full_disk(&self, disk: &Path, failure: Failure) -> Failure {
        let full = shipyard_sandbox::disk::free_bytes(disk).is_some_and(|free| free < self.settings.build_disk / 50);
        if !full || failure.end != super::End::Failed {
            return failure;
        }
        Failure::new(format!(
            "the build wrote more than {} (limit --build-disk); the project's package cache counts \
             too, and a deploy with clearCache: true empties it. {}",
            shipyard_core::size::text(self.settings.build_disk),
            failure.error
        ))
    }

    /// Refuses a release larger than `--artifact-max` before a byte of it is copied out of the
    /// build disk. Nothing of the build runs any more, so the size cannot change after the count.
    pub(super) async fn check_artifact_size(&self, tree: &Path) -> Result<(), Failure> {
        let (tree, limit) = (tree.to_owned(), self.settings.artifact_max);
        let counted = tokio::task::spawn_blocking(move || shipyard_sandbox::disk::usage(&tree, limit)).await;
        match counted {
            Ok(Ok(bytes)) if bytes <= limit => Ok(()),
            Ok(Ok(_)) => Err(Failure::new(format!(
                "the release is larger than {} (limit --artifact-max)",
                shipyard_core::size::text(limit)
            ))),
            Ok(Err(e)) => Err(Failure::new(format!("the artifact could not be measured: {e}"))),
            Err(e) => Err(Failure::new(format!("the artifact could not be measured: {e}"))),
        }
    }
}

/// A directory only the server writes and sandbox users may pass through.
fn prepare_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new().recursive(true).mode(0o711).create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o711))
}
