//! What lasts on disk, taken in hand when the server starts: every workspace's disk mounted and
//! held to its `storageGbLimit`, releases' files of older versions moved onto their workspace's
//! disk, and files nobody owns any more (a crash between writing them and committing their row,
//! a project deleted while a build held its disk) removed.

use shipyard_build::ArtifactStore;
use shipyard_core::ReleaseId;
use shipyard_sandbox::Workspaces;
use shipyard_store::layout::Legacy;
use shipyard_store::{Backend, Jobs, SqliteStore, StorageOwners};
use std::path::Path;

/// Mounts every workspace's disk and tidies what is on them; runs before anything serves or
/// builds. `legacy` names what older versions kept outside them.
pub async fn open(store: &SqliteStore, workspaces: &Workspaces, legacy: Legacy) -> shipyard_store::Result<()> {
    let owners = store.read().await?.storage_owners().await?;
    let workspaces = workspaces.clone();
    let opened = tokio::task::spawn_blocking(move || {
        mount_all(&workspaces, &owners);
        adopt_old_artifacts(&workspaces, &owners, &legacy.artifacts);
        // Versions before workspaces' disks kept build disks (caches only) in the work root.
        remove_logged(&legacy.disks, "build disks of an older version");
        for tenant in workspaces.on_disk() {
            sweep(&workspaces, &owners, &tenant);
        }
    })
    .await;
    if let Err(e) = opened {
        tracing::error!(error = %e, "workspaces' disks could not be opened");
    }
    Ok(())
}

fn limit_bytes(owners: &StorageOwners, tenant: &str) -> Option<u64> {
    let gib = owners.limits.get(tenant)?;
    Some(u64::try_from(*gib).unwrap_or(0) << 30)
}

fn mount_all(workspaces: &Workspaces, owners: &StorageOwners) {
    for tenant in workspaces.on_disk() {
        let Some(limit) = limit_bytes(owners, &tenant) else {
            tracing::warn!(tenant, "a disk of a workspace that no longer exists was left as it is");
            continue;
        };
        if let Err(e) = workspaces.attach(&tenant, limit) {
            tracing::error!(tenant, error = %e, "a workspace's disk could not be mounted; its sites cannot serve until it is");
        }
    }
}

/// Moves each release's files from `<data>/artifacts` (versions before workspaces' disks) onto
/// its workspace's disk; a directory no release owns goes.
fn adopt_old_artifacts(workspaces: &Workspaces, owners: &StorageOwners, old: &Path) {
    let Ok(entries) = std::fs::read_dir(old) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let owner = owners.releases.get(&name).zip(ReleaseId::parse(&name).ok());
        let Some((tenant, release)) = owner else {
            remove_logged(&entry.path(), "an artifact no release owns");
            continue;
        };
        let moved = limit_bytes(owners, tenant)
            .ok_or_else(|| "its workspace is gone".to_owned())
            .and_then(|limit| workspaces.attach(tenant, limit).map_err(|e| e.to_string()))
            .and_then(|_| ArtifactStore::writable(workspaces, tenant).map_err(|e| e.to_string()))
            .and_then(|store| store.store(&entry.path(), &release).map_err(|e| e.to_string()));
        match moved {
            Ok(_) => tracing::info!(%release, tenant, "a release's files moved onto its workspace's disk"),
            Err(e) => {
                tracing::error!(%release, error = %e, "a release's files could not move onto its workspace's disk")
            }
        }
    }
    let _ = std::fs::remove_dir(old);
}

/// Removes from `tenant`'s disk the build disks of projects it no longer has, releases' files
/// no release of it owns, and HOMEs (each made fresh when its process starts).
fn sweep(workspaces: &Workspaces, owners: &StorageOwners, tenant: &str) {
    if workspaces.mounted(tenant).is_err() {
        return;
    }
    let images = workspaces.build_disk_images(tenant);
    for entry in std::fs::read_dir(&images).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(project) = name.strip_suffix(".img")
            && owners.projects.get(project).map(String::as_str) != Some(tenant)
        {
            remove_logged(&entry.path(), "the build disk of a deleted project");
        }
    }
    let releases = ArtifactStore::of(workspaces, tenant);
    match releases.sweep_unowned(|id| owners.releases.get(id).map(String::as_str) == Some(tenant)) {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            artifacts = n,
            tenant,
            "artifact directories no release owns were removed"
        ),
        Err(e) => tracing::warn!(tenant, error = %e, "artifact directories could not be swept"),
    }
    // HOMEs are made fresh for each process: any here were left by a server that did not stop.
    let homes = workspaces.homes(tenant);
    for left in std::fs::read_dir(&homes).into_iter().flatten().flatten() {
        remove_logged(&left.path(), "a HOME a previous run left");
    }
}

/// Removes a file or a tree, saying what went (or why not) in the log.
fn remove_logged(path: &Path, what: &str) {
    let removed = match std::fs::symlink_metadata(path) {
        Err(_) => return,
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
    };
    match removed {
        Ok(()) => tracing::warn!(path = %path.display(), "{what} was removed"),
        Err(e) => tracing::warn!(path = %path.display(), error = %e, "{what} could not be removed"),
    }
}
