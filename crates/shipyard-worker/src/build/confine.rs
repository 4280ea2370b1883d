//! Confining a build: the project's sandbox user and network namespace, and handing the
//! checked-out workspace to that user before any of the project's code runs.

use super::{Failure, Inputs};
use crate::context::Worker;
use shipyard_build::build::{HOME_DIR, Sandbox};
use shipyard_sandbox::network::Opened;
use shipyard_sandbox::{Identity, Network};
use shipyard_store::{Backend, Jobs, SqliteStore};
use std::path::Path;

/// Gives `path` and everything under it to `uid:gid` (the project's sandbox user). It runs
/// before any of the project's code does, on a tree only the server has written.
pub(super) fn chown_tree(path: &Path, owner: Option<(u32, u32)>) -> std::io::Result<()> {
    let Some((uid, gid)) = owner else { return Ok(()) };
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))?;
    if path.is_dir() && !path.is_symlink() {
        for entry in std::fs::read_dir(path)? {
            chown_tree(&entry?.path(), owner)?;
        }
    }
    Ok(())
}

/// The identity a project-bound sandbox runs as (`nobody` when unconfined, where it is unused).
pub(super) fn sandbox_identity(sandbox: &Sandbox) -> Identity {
    sandbox
        .user()
        .map_or(Identity::NOBODY, |(uid, gid)| Identity { uid, gid })
}

impl Worker {
    /// The sandbox of this build: the project's own user, a network namespace of its own (set
    /// up before any step, removed when the network is dropped) and the doors to its databases.
    pub(super) async fn project_sandbox(
        &self,
        inputs: &Inputs,
    ) -> Result<(Sandbox, Option<Network>, Option<Opened>), Failure> {
        let mut tx = self.store.write().await?;
        let uid = tx
            .sandbox_uid(&inputs.project.id, self.settings.sandbox_uids.clone())
            .await?;
        SqliteStore::commit(tx).await?;
        let name = format!("{}-{}", inputs.deployment.id, inputs.deployment.attempt);
        let sandbox = self.sandbox.clone();
        let network = tokio::task::spawn_blocking(move || sandbox.network(&name))
            .await
            .map_err(|e| Failure::new(format!("the build's network could not be set up: {e}")))?
            .map_err(|e| Failure::new(e.to_string()))?;
        let bound = self
            .sandbox
            .for_project(Identity::project(uid), Path::new(HOME_DIR), network.as_ref())
            .map_err(|e| Failure::new(e.to_string()))?;
        // Its attached databases, reachable from inside while it builds (the migrations of a
        // build step may need them).
        let grants =
            shipyard_runtime::doors::grants(&inputs.project.id, &inputs.deployment.environment_id, &inputs.attached);
        let doors = match (&network, self.runtime.doors()) {
            (Some(net), Some(doors)) if !grants.is_empty() => Some(
                doors
                    .open(net.path(), &grants)
                    .await
                    .map_err(|e| Failure::new(format!("the build's way to its databases could not be opened: {e}")))?,
            ),
            _ => None,
        };
        Ok((bound, network, doors))
    }
}
