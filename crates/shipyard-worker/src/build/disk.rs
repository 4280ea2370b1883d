//! A build's disk: its workspace's disk (`storageGbLimit`) and the project's build disk inside it
//! (`--build-disk`) mounted for it, the sentence for a build that filled either, and a release's
//! size held to `--artifact-max` before it is stored.

use super::Failure;
use super::inputs::Inputs;
use crate::context::Worker;
use shipyard_sandbox::{Disk, DiskKind, DiskSpec};
use std::path::Path;

/// Where the workspaces are on a build disk.
pub(super) const BUILDS: &str = "builds";
/// Where the package cache is on a build disk.
pub(super) const CACHE: &str = "cache";

impl Worker {
    /// Mounts the workspace's disk, then the project's build disk on it (made at its first
    /// build), for one build.
    pub(super) async fn build_disk(&self, inputs: &Inputs) -> Result<Disk, Failure> {
        let tenant = inputs.scope.tenant_id().to_string();
        let workspaces = self.runtime.workspaces().clone();
        let (image, at) = shipyard_build::build::build_disk(
            &workspaces,
            &self.settings.layout.project_mounts(),
            &tenant,
            inputs.project.id.as_str(),
        );
        let (disks, bytes, limit) = (self.disks.clone(), self.settings.build_disk, inputs.storage_limit);
        let attached = tokio::task::spawn_blocking(move || {
            workspaces.attach(&tenant, limit)?;
            let disk = disks.attach(&DiskSpec {
                image: &image,
                at: &at,
                bytes,
                owner: None,
                kind: DiskKind::Cache,
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

    /// Makes sure what the build wrote is on its workspace's disk, not only promised by the page
    /// cache: a build that overfilled the workspace fails here, before a release is stored.
    pub(super) async fn settle(&self, inputs: &Inputs, disk: &Path, opened: std::fs::File) -> Result<(), Failure> {
        let (workspaces, tenant, disk) = (
            self.runtime.workspaces().clone(),
            inputs.scope.tenant_id().to_string(),
            disk.to_owned(),
        );
        let settled = tokio::task::spawn_blocking(move || workspaces.settle(&tenant, &disk, &opened)).await;
        match settled {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Failure::new(format!("the build's files could not all be written: {e}"))),
            Err(e) => Err(Failure::new(format!("the build's files could not be checked: {e}"))),
        }
    }

    /// Says why a build step failed when a disk is full: the tenant's own error is usually an
    /// ENOSPC (or, past the workspace's limit, an I/O error) deep in a package manager's output.
    pub(super) fn explain_full_disk(&self, inputs: &Inputs, disk: &Path, failure: Failure) -> Failure {
        if failure.end != super::End::Failed {
            return failure;
        }
        let failure = self.explain_full_workspace(inputs, failure);
        let full = shipyard_sandbox::disk::free_bytes(disk).is_some_and(|free| free < self.settings.build_disk / 50);
        if !full {
            return failure;
        }
        Failure::new(format!(
            "the build wrote more than {} (limit --build-disk); the project's package cache counts \
             too, and a deploy with clearCache: true empties it. {}",
            shipyard_core::size::text(self.settings.build_disk),
            failure.error
        ))
    }

    /// Says that the workspace's disk is full when it is (less than 64 MiB left).
    pub(super) fn explain_full_workspace(&self, inputs: &Inputs, failure: Failure) -> Failure {
        let workspaces = self.runtime.workspaces();
        let tenant = inputs.scope.tenant_id().as_str();
        let free = workspaces
            .mounted(tenant)
            .ok()
            .and_then(|at| shipyard_sandbox::disk::free_bytes(&at));
        let (Some(free), Some(used)) = (free, workspaces.used(tenant)) else {
            return failure;
        };
        if free >= 64 << 20 {
            return failure;
        }
        Failure::new(format!(
            "{}; {}",
            full_workspace(used, inputs.storage_limit),
            failure.error
        ))
    }

    /// Refuses a release larger than `--artifact-max`, or than what its workspace has left,
    /// before a byte of it is copied out of the build disk. Nothing of the build runs any more,
    /// so the size cannot change after the count.
    pub(super) async fn check_artifact_size(&self, inputs: &Inputs, tree: &Path) -> Result<(), Failure> {
        let (tree, limit) = (tree.to_owned(), self.settings.artifact_max);
        let counted = tokio::task::spawn_blocking(move || shipyard_sandbox::disk::usage(&tree, limit)).await;
        let bytes = match counted {
            Ok(Ok(bytes)) if bytes <= limit => bytes,
            Ok(Ok(_)) => {
                return Err(Failure::new(format!(
                    "the release is larger than {} (limit --artifact-max)",
                    shipyard_core::size::text(limit)
                )));
            }
            Ok(Err(e)) => return Err(Failure::new(format!("the artifact could not be measured: {e}"))),
            Err(e) => return Err(Failure::new(format!("the artifact could not be measured: {e}"))),
        };
        let used = self.runtime.workspaces().used(inputs.scope.tenant_id().as_str());
        match used {
            Some(used) if used.saturating_add(bytes) > inputs.storage_limit => Err(Failure::new(format!(
                "the release takes {}, more than its workspace has left: {}",
                shipyard_core::size::text(bytes),
                full_workspace(used, inputs.storage_limit)
            ))),
            _ => Ok(()),
        }
    }
}

/// The sentence for a workspace at its `storageGbLimit`.
fn full_workspace(used: u64, limit: u64) -> String {
    format!(
        "the workspace's disk holds {} of its {} (storageGbLimit): releases, build caches and \
         instances' HOMEs count; delete projects you no longer need, or ask a platform admin to \
         raise the limit",
        shipyard_core::size::text(used),
        shipyard_core::size::text(limit)
    )
}

/// A directory only the server writes and sandbox users may pass through.
fn prepare_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new().recursive(true).mode(0o711).create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o711))
}
