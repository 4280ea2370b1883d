//! The `node_modules` snapshot a project's next build restores instead of installing. Each
//! snapshot is a complete, never-changed generation directory in the project's cache, and
//! `node_modules` there is a link to the current one, replaced by one rename: a restore that
//! runs while another environment's deployment swaps in a new snapshot copies the old
//! generation or the new one, whole. A generation is kept for `KEEP_RETIRED` after it stops
//! being current, so a restore that started just before the swap can finish reading it.

use crate::cache::BuildCache;
use shipyard_build::build::Sandbox;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a successful build leaves for its project's cache, done after the deployment is
/// ready so it never delays one.
pub(super) struct CacheUpdate {
    /// The project's sandbox, without a network: the copy needs none.
    pub sandbox: Sandbox,
    /// The release's artifact and the app's directory in it, whose `node_modules` becomes the
    /// snapshot, for node projects.
    pub snapshot: Option<(PathBuf, PathBuf)>,
    /// The cache the build used.
    pub cache: BuildCache,
    /// The generation name of the snapshot (the deployment's id).
    pub tag: String,
}

impl CacheUpdate {
    /// Swaps the snapshot in, then records the key it was made for: a build that sees the
    /// key as a hit always finds the snapshot that goes with it.
    pub(super) async fn apply(self) {
        if let Some((artifact, app)) = self.snapshot {
            take(&self.sandbox, &artifact, &app, self.cache.dir.clone(), self.tag).await;
        }
        if let Err(e) = self.cache.commit() {
            tracing::warn!(error = %e, "the build cache key could not be written");
        }
    }
}

/// How long a retired generation stays for restores still reading it (longer than a build).
const KEEP_RETIRED: Duration = Duration::from_secs(30 * 60);
/// Names of generation directories (and of the previous scheme's staging copies).
const GENERATION_PREFIXES: [&str; 2] = ["node_modules.snap-", "node_modules.new-"];

/// The shell command that restores the current snapshot into the build's `node_modules`;
/// `dir` is the cache directory as the sandbox sees it.
pub(super) fn restore_command(dir: &str) -> String {
    format!(
        "test -d {dir}/node_modules/ && snapshot=\"$(readlink -f {dir}/node_modules)\" \
         && rm -rf node_modules && cp -a \"$snapshot\" node_modules"
    )
}

/// How long copying a snapshot may take.
const COPY_WITHIN: std::time::Duration = std::time::Duration::from_secs(600);

/// Copies a released app's `node_modules` into `cache` as generation `tag` and makes it the
/// current one. Runs after the deployment is ready, so it never delays one. The cache is the
/// tenant's to write: the copy runs as the project's user inside the sandbox, and the server
/// itself only creates a link and renames it, neither of which follows a link.
pub(super) async fn take(sandbox: &Sandbox, artifact: &Path, app: &Path, cache: PathBuf, tag: String) {
    // The artifact's files are the tenant's: `node_modules` must be reached without a link in
    // any component (the app's directory included), or bubblewrap would bind what it names.
    let rel = app.join("node_modules");
    if shipyard_sandbox::files::check_dir_beneath(artifact, &rel).is_err() {
        return;
    }
    let source = artifact.join(&rel);
    let generation = format!("{}{tag}", GENERATION_PREFIXES[0]);
    let current = cache.join("node_modules");
    // Its retirement starts the grace period of the restores still reading it.
    let retired = std::fs::read_link(&current)
        .ok()
        .map(|r| r.to_string_lossy().into_owned());
    // The tree is the tenant's: the copy gets the build's limits and a deadline.
    let group = match sandbox.limit_group(&format!("snapshot-{tag}")) {
        Ok(group) => group,
        Err(e) => {
            tracing::warn!(error = %e, "node_modules snapshot not taken: no limit group");
            return;
        }
    };
    let copied = match sandbox.copy_command(&source, &cache, &generation, retired.as_deref(), group.as_ref()) {
        Ok(command) => command.succeeds_within(COPY_WITHIN).await,
        Err(e) => {
            tracing::warn!(error = %e, "node_modules snapshot not taken");
            false
        }
    };
    if let Some(group) = group {
        // A copy that timed out may have left members (cgroup v1 has no `cgroup.kill`).
        group.kill_everyone().await;
        group.remove();
    }
    if !copied {
        tracing::warn!(path = %source.display(), "node_modules could not be copied into the cache");
        let _ = tokio::fs::remove_dir_all(cache.join(&generation)).await;
        return;
    }
    if let Err(e) = point_at(&cache, &generation, &tag) {
        tracing::warn!(error = %e, "node_modules snapshot not swapped in");
        let _ = tokio::fs::remove_dir_all(cache.join(&generation)).await;
        return;
    }
    sweep(&cache, &generation);
}

/// Replaces the `node_modules` link with one to `generation`, in one rename.
fn point_at(cache: &Path, generation: &str, tag: &str) -> std::io::Result<()> {
    let link = cache.join(format!("node_modules.link-{tag}"));
    let current = cache.join("node_modules");
    std::os::unix::fs::symlink(generation, &link)?;
    let swapped = std::fs::rename(&link, &current).or_else(|e| {
        // A cache from before generations holds a directory there: replace it once.
        if std::fs::symlink_metadata(&current).is_ok_and(|m| m.is_dir()) {
            std::fs::remove_dir_all(&current)?;
            std::fs::rename(&link, &current)
        } else {
            Err(e)
        }
    });
    if swapped.is_err() {
        let _ = std::fs::remove_file(&link);
    }
    swapped
}

/// Removes generations other than `current` retired longer than `KEEP_RETIRED` ago.
fn sweep(cache: &Path, current: &str) {
    let Ok(entries) = std::fs::read_dir(cache) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == current || !GENERATION_PREFIXES.iter().any(|p| name.starts_with(p)) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        let old = meta
            .modified()
            .ok()
            .and_then(|at| at.elapsed().ok())
            .is_some_and(|age| age > KEEP_RETIRED);
        if meta.is_dir()
            && old
            && let Err(e) = std::fs::remove_dir_all(entry.path())
        {
            tracing::warn!(path = %entry.path().display(), error = %e, "old node_modules snapshot not removed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unconfined() -> Sandbox {
        let limits = shipyard_build::build::Limits {
            memory_bytes: 1 << 30,
            pids: 512,
            cpu_millis: None,
        };
        Sandbox::detect(shipyard_build::build::SandboxConfig {
            hidden: Vec::new(),
            insecure: true,
            limits,
            cgroup_root: PathBuf::from("/nonexistent"),
            state_dir: PathBuf::from("/nonexistent"),
            network: shipyard_sandbox::UplinkChoice::Pasta,
        })
        .expect("the unconfined sandbox always works")
    }

    #[tokio::test]
    async fn a_new_snapshot_replaces_the_link_and_keeps_the_retired_generation() {
        let sandbox = unconfined();
        let dir = tempfile::tempdir().expect("tempdir");
        let (app, cache) = (dir.path().join("app"), dir.path().join("cache"));
        std::fs::create_dir_all(app.join("node_modules/left-pad")).expect("mkdir");
        std::fs::write(app.join("node_modules/left-pad/index.js"), "v1").expect("write");
        std::fs::create_dir_all(cache.join("node_modules")).expect("a directory from the old scheme");
        take(&sandbox, &app, Path::new(""), cache.clone(), "dep_a".into()).await;
        let link = std::fs::read_link(cache.join("node_modules")).expect("a link now");
        assert_eq!(link, Path::new("node_modules.snap-dep_a"));
        std::fs::write(app.join("node_modules/left-pad/index.js"), "v2").expect("write");
        take(&sandbox, &app, Path::new(""), cache.clone(), "dep_b".into()).await;
        assert_eq!(
            std::fs::read_to_string(cache.join("node_modules/left-pad/index.js")).expect("read"),
            "v2"
        );
        assert_eq!(
            std::fs::read_to_string(cache.join("node_modules.snap-dep_a/left-pad/index.js")).expect("read"),
            "v1",
            "the retired generation stays for restores still reading it"
        );
        assert!(!cache.join("node_modules.link-dep_b").exists());

        // An app whose node_modules is a link (to anywhere) is not snapshotted through it.
        let linked = dir.path().join("linked");
        std::fs::create_dir_all(&linked).expect("mkdir");
        std::os::unix::fs::symlink("/etc", linked.join("node_modules")).expect("link");
        take(&sandbox, &linked, Path::new(""), cache.clone(), "dep_c".into()).await;
        assert!(!cache.join("node_modules.snap-dep_c").exists());
        assert_eq!(
            std::fs::read_link(cache.join("node_modules")).expect("link"),
            Path::new("node_modules.snap-dep_b")
        );
    }
}
