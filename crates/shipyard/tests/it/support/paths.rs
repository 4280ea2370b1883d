//! Where a test server keeps things on the host: its data directory, its work root, and the
//! disks, releases' files and build workspaces under them.

use super::TestServer;
use shipyard_store::Layout;
use std::path::PathBuf;

impl TestServer {
    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Where build workspaces and caches live: the data directory, or the directory outside
    /// it that `serve` names at start when the data directory is not reachable by builds.
    pub fn work_root(&self) -> PathBuf {
        self.stdout()
            .lines()
            .find_map(|l| l.strip_prefix("build workspaces and caches: "))
            .and_then(|rest| rest.split_whitespace().next())
            .map_or_else(|| self.data_dir(), PathBuf::from)
    }

    /// Where the server keeps everything, as it computes it.
    pub fn layout(&self) -> Layout {
        Layout::new(self.data_dir(), self.work_root())
    }

    /// Where a workspace's disk is mounted (its releases' files, build disks' and HOMEs' images).
    pub fn workspace_disk(&self, tenant: &str) -> PathBuf {
        self.layout().workspaces().join(tenant)
    }

    /// The files of `release`, on whichever workspace's disk holds them (a path that does not
    /// exist when none does).
    pub fn artifact(&self, release: &str) -> PathBuf {
        let workspaces = std::fs::read_dir(self.layout().workspaces())
            .into_iter()
            .flatten()
            .flatten();
        workspaces
            .map(|w| w.path().join("artifacts").join(release))
            .find(|p| p.exists())
            .unwrap_or_else(|| self.layout().workspaces().join("none/artifacts").join(release))
    }

    /// The image of a project's build disk, on its workspace's disk.
    pub fn build_disk_image(&self, tenant: &str, project: &str) -> PathBuf {
        self.workspace_disk(tenant).join("disks").join(format!("{project}.img"))
    }

    /// Where a project's build disk is mounted while it builds: its workspaces under
    /// `builds/`, its cache under `cache/`.
    pub fn build_disk(&self, project: &str) -> PathBuf {
        self.layout().project_mounts().join(project)
    }

    /// The workspace of a deployment's `attempt`-th build (there while it builds).
    pub fn workspace(&self, project: &str, deployment: &str, attempt: u32) -> PathBuf {
        self.build_disk(project)
            .join("builds")
            .join(format!("{deployment}-attempt{attempt}"))
    }
}
