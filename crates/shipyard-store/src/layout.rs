//! Where everything the server keeps lives: the one home of every path under the data
//! directory and the work root, so no caller joins a directory name of its own.

use std::path::{Path, PathBuf};

/// The main database, in the data directory.
pub(crate) const DATABASE: &str = "shipyard.db";
/// The master key, in the data directory.
pub(crate) const MASTER_KEY: &str = "master.key";
/// The lock one server holds, in the data directory.
pub(crate) const LOCK: &str = "shipyard.lock";
/// Where build disks are mounted (`<project>/`), in the work root.
pub(crate) const PROJECTS: &str = "projects";
/// Where workspaces' disks are, in the data directory.
pub(crate) const WORKSPACES: &str = "workspaces";
/// Directories only the server's user may enter, in the data directory.
pub(crate) const PRIVATE: [&str; 2] = [REPOS, GIT];
const REPOS: &str = "repos";
const GIT: &str = "git";

/// The data directory and the work root of one server, and every path inside them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    data: PathBuf,
    work: PathBuf,
}

impl Layout {
    /// The layout of data directory `data` whose build disks and instances live under `work`
    /// (the data directory itself when sandbox users can reach into it).
    pub fn new(data: PathBuf, work: PathBuf) -> Self {
        Self { data, work }
    }

    /// The data directory.
    pub fn data(&self) -> &Path {
        &self.data
    }

    /// The work root: where build disks, instances' HOMEs and sandbox state are mounted.
    pub fn work(&self) -> &Path {
        &self.work
    }

    /// Whether the work root is a directory of its own outside the data directory (under
    /// `/var/tmp`), made for it because sandbox users cannot reach into the data directory.
    pub fn work_is_own(&self) -> bool {
        self.work != self.data
    }

    /// Directories no sandbox may see and no release may link into.
    pub fn private_roots(&self) -> Vec<PathBuf> {
        if self.work_is_own() {
            vec![self.data.clone(), self.work.clone()]
        } else {
            vec![self.data.clone()]
        }
    }

    /// The main database.
    pub fn database(&self) -> PathBuf {
        self.data.join(DATABASE)
    }

    /// The log database (build, runtime and access logs).
    pub fn logs_database(&self) -> PathBuf {
        self.data.join("logs.db")
    }

    /// Mirrors of connected repositories, one directory per connection.
    pub fn repos(&self) -> PathBuf {
        self.data.join(REPOS)
    }

    /// Git's own files (its config and askpass helper).
    pub fn git_home(&self) -> PathBuf {
        self.data.join(GIT)
    }

    /// Workspaces' disk images and where they are mounted.
    pub fn workspaces(&self) -> PathBuf {
        self.data.join(WORKSPACES)
    }

    /// Where projects' build disks are mounted, one directory per project.
    pub fn project_mounts(&self) -> PathBuf {
        self.work.join(PROJECTS)
    }

    /// Where instances' HOMEs are mounted.
    pub fn instances(&self) -> PathBuf {
        self.work.join("instances")
    }

    /// Where managed databases' data disks are mounted, one directory per database (in the
    /// work root: the database's own uid must reach it).
    pub fn database_mounts(&self) -> PathBuf {
        self.work.join("databases")
    }

    /// Managed databases' control directories (root's: their configuration and sockets).
    pub fn database_control(&self) -> PathBuf {
        self.work.join("database-control")
    }

    /// The sandboxes' own state (relays, namespaces, a tmpfs).
    pub fn sandbox_state(&self) -> PathBuf {
        self.work.join("sandbox")
    }

    /// Directories older versions kept and this one removes or adopts at start: releases'
    /// files before workspaces' disks (`artifacts`), and build disks, workspaces and caches
    /// before build disks lived in workspaces' disks.
    pub fn legacy(&self) -> Legacy {
        Legacy {
            artifacts: self.data.join("artifacts"),
            disks: self.work.join("disks"),
            builds: self.work.join("builds"),
            cache: self.work.join("cache"),
        }
    }
}

/// What older versions kept where this one keeps nothing.
#[derive(Debug, Clone)]
pub struct Legacy {
    /// Releases' files, adopted into their workspaces' disks.
    pub artifacts: PathBuf,
    /// Build disks' images, removed (caches are only ever a speed-up).
    pub disks: PathBuf,
    /// Build workspaces, removed.
    pub builds: PathBuf,
    /// Package caches, removed.
    pub cache: PathBuf,
}
