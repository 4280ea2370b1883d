//! A workspace's disk: one ext4 image per workspace holding everything of it that lasts (its
//! releases' files, its projects' build disks as images inside it, its instances' HOMEs), so the
//! kernel holds a workspace to its `storageGbLimit` however its space is spread.
//!
//! The image is as large as the host's filesystem (sparse: the host pays for what is written)
//! and the limit is a file of reserved, never-written blocks taking the rest: it moves both ways
//! while everything runs. Growing a mounted ext4 instead needs `CAP_SYS_RESOURCE`, which these
//! hosts do not give even to root.

use super::{DiskError, DiskKind, DiskSpec, Disks, io_err};
use std::collections::{HashMap, HashSet};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The file of reserved blocks at the root of a workspace's disk.
const RESERVE: &str = ".storage-limit";

/// The largest workspace's disk: ext4 files (the reserved one) end at 16 TiB, and the metadata
/// a disk costs when made grows with its size (about 60 MiB at this size).
const LARGEST: u64 = 4 << 40;

/// The disks of every workspace of one server, under `<data>/workspaces`.
#[derive(Debug, Clone)]
pub struct Workspaces {
    root: PathBuf,
    disks: Disks,
    /// Held while a disk is mounted or its limit moved, so nobody uses a disk not yet held to
    /// its limit, nor makes files under one being unmounted.
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    /// Workspaces whose disk is mounted and held to its limit.
    held: HashSet<String>,
    /// The limit last set for a workspace while this server runs: it overrules the one a
    /// build read before it was set.
    wanted: HashMap<String, u64>,
    /// Set by `close`: nothing is mounted after.
    closed: bool,
}

impl Workspaces {
    /// The workspaces' disks under `root`; with `images` false each is a plain directory.
    pub fn new(root: PathBuf, images: bool) -> Self {
        Self {
            root,
            disks: Disks::new(images),
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Where `tenant`'s disk is mounted.
    pub fn path(&self, tenant: &str) -> PathBuf {
        self.root.join(tenant)
    }

    /// Where `tenant`'s releases' files are.
    pub fn artifacts(&self, tenant: &str) -> PathBuf {
        self.path(tenant).join("artifacts")
    }

    /// The image of `project`'s build disk.
    pub fn build_disk_image(&self, tenant: &str, project: &str) -> PathBuf {
        self.build_disk_images(tenant).join(format!("{project}.img"))
    }

    /// The directory of `tenant`'s build disk images.
    pub fn build_disk_images(&self, tenant: &str) -> PathBuf {
        self.path(tenant).join("disks")
    }

    /// The image of a managed database's data disk (in the workspace's disk, so it counts
    /// toward the workspace's storage limit).
    pub fn database_image(&self, tenant: &str, database: &str) -> PathBuf {
        self.path(tenant).join("databases").join(format!("{database}.img"))
    }

    /// The directory of a managed database's backups (in the workspace's disk, so they count
    /// toward the workspace's storage limit).
    pub fn backups(&self, tenant: &str, database: &str) -> PathBuf {
        self.path(tenant).join("backups").join(database)
    }

    /// The directory of `tenant`'s instances' HOME images.
    pub fn homes(&self, tenant: &str) -> PathBuf {
        self.path(tenant).join("homes")
    }

    /// The image of one instance process's HOME.
    pub fn home_image(&self, tenant: &str, name: &str) -> PathBuf {
        self.homes(tenant).join(format!("{name}.img"))
    }

    fn image(&self, tenant: &str) -> PathBuf {
        self.root.join(format!("{tenant}.img"))
    }

    /// The workspaces that have a disk on the host, mounted or not (an unconfined server's:
    /// a plain directory each).
    pub fn on_disk(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return Vec::new();
        };
        let images = self.disks.images();
        entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                if images {
                    name.strip_suffix(".img").map(str::to_owned)
                } else {
                    e.file_type().ok()?.is_dir().then_some(name)
                }
            })
            .collect()
    }

    /// Mounts `tenant`'s disk (made at the first call) held to `limit` bytes — or to the limit
    /// last set for it, when one was — unless it is mounted already; returns where it is. A
    /// disk holding more than the limit is mounted all the same (its releases must serve) and
    /// keeps the limit it had.
    pub fn attach(&self, tenant: &str, limit: u64) -> Result<PathBuf, DiskError> {
        let mut state = self.state();
        let at = self.path(tenant);
        if state.closed {
            return Err(DiskError::Closed);
        }
        if state.held.contains(tenant) {
            return Ok(at);
        }
        let limit = state.wanted.get(tenant).copied().unwrap_or(limit);
        let total = super::usage::total_bytes(&self.root).ok_or_else(|| DiskError::Io {
            path: self.root.clone(),
            source: std::io::Error::other("the filesystem's size is unknown"),
        })?;
        std::fs::create_dir_all(&self.root).map_err(io_err(&self.root))?;
        let image = self.image(tenant);
        self.disks.attach(&DiskSpec {
            image: &image,
            at: &at,
            bytes: total.min(LARGEST),
            owner: None,
            kind: DiskKind::Kept,
        })?;
        if self.disks.images() {
            match hold_to(&at, limit) {
                Ok(()) => {}
                Err(DiskError::Full { used }) => {
                    tracing::warn!(
                        tenant,
                        used,
                        limit,
                        "a workspace's disk holds more than its limit; the limit applies once it has room"
                    );
                }
                Err(e) => {
                    // Never used unheld: a disk without its limit would take the host's disk.
                    self.disks.detach(&at);
                    return Err(e);
                }
            }
        }
        state.held.insert(tenant.to_owned());
        Ok(at)
    }

    /// Where `tenant`'s disk is, when it is mounted and held to its limit (an unconfined
    /// server's always is).
    pub fn mounted(&self, tenant: &str) -> Result<PathBuf, DiskError> {
        self.while_mounted(tenant, |at| Ok(at.to_owned()))
    }

    /// Runs `f` with where `tenant`'s disk is mounted, and keeps it mounted until `f` returns:
    /// what `f` makes there is never made on the host's disk under an unmounted one.
    pub fn while_mounted<T>(
        &self,
        tenant: &str,
        f: impl FnOnce(&Path) -> Result<T, DiskError>,
    ) -> Result<T, DiskError> {
        let state = self.state();
        let at = self.path(tenant);
        if self.disks.images() && !(state.held.contains(tenant) && self.disks.is_mounted(&at)) {
            return Err(DiskError::NotMounted);
        }
        f(&at)
    }

    /// Holds `tenant`'s disk to `limit` bytes from now on; [`DiskError::Full`] (and nothing
    /// changed) when it holds more already. A workspace without a disk yet gets the limit when
    /// its disk is made.
    pub fn set_limit(&self, tenant: &str, limit: u64) -> Result<(), DiskError> {
        if !self.disks.images() {
            return Ok(());
        }
        {
            let mut state = self.state();
            if !state.held.contains(tenant) && !self.image(tenant).exists() {
                state.wanted.insert(tenant.to_owned(), limit);
                return Ok(());
            }
        }
        self.attach(tenant, limit)?;
        let mut state = self.state();
        hold_to(&self.path(tenant), limit)?;
        state.wanted.insert(tenant.to_owned(), limit);
        Ok(())
    }

    /// Makes sure what the page cache holds for the disk mounted at `inner` (a build disk on
    /// `tenant`'s disk, opened as `opened` before it was written) is on `tenant`'s disk, when
    /// that one might not have room for it: a write past a workspace's disk fails only once it
    /// reaches it, long after `write` said yes. An error means some of `inner`'s files did not
    /// fit.
    pub fn settle(&self, tenant: &str, inner: &Path, opened: &std::fs::File) -> std::io::Result<()> {
        let Ok(outer) = self.mounted(tenant) else {
            return Ok(());
        };
        let stat = rustix::fs::statvfs(inner)?;
        // What `inner` holds, cached writes included (ext4 counts blocks it has promised).
        let held = stat.f_blocks.saturating_sub(stat.f_bfree).saturating_mul(stat.f_frsize);
        let room = super::usage::free_bytes(&outer).unwrap_or(0);
        if !self.disks.images() || room > held.saturating_add(64 << 20) {
            return Ok(());
        }
        // Reports every failed write since `opened` was opened (the kernel's per-file record).
        rustix::fs::syncfs(opened)?;
        Ok(())
    }

    /// Unmounts every workspace's disk and mounts none after; called once the disks inside them
    /// (build disks, HOMEs) are gone.
    pub fn close(&self) {
        let mut state = self.state();
        state.closed = true;
        state.held.clear();
        self.disks.close();
    }

    /// Bytes `tenant`'s files take on its disk (None without a mounted disk, or unconfined:
    /// then there is no disk of its own to count).
    pub fn used(&self, tenant: &str) -> Option<u64> {
        if !self.disks.images() {
            return None;
        }
        let at = self.mounted(tenant).ok()?;
        used_bytes(&at).ok()
    }
}

/// Sets the reserved file of the disk at `at` so that `limit` bytes are left for everything else.
fn hold_to(at: &Path, limit: u64) -> Result<(), DiskError> {
    let usable = super::usage::total_bytes(at).ok_or_else(|| DiskError::Io {
        path: at.to_owned(),
        source: std::io::Error::other("the filesystem's size is unknown"),
    })?;
    let want = usable.saturating_sub(limit);
    let path = at.join(RESERVE);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(io_err(&path))?;
    let had = file.metadata().map_err(io_err(&path))?.len();
    if want <= had {
        return file.set_len(want).map_err(io_err(&path));
    }
    let reserve = || rustix::fs::fallocate(&file, rustix::fs::FallocateFlags::empty(), 0, want);
    let reserved = match reserve() {
        // Blocks freed since the journal's last commit (a project just deleted) are reusable
        // only once it commits: commit, then try again.
        Err(rustix::io::Errno::NOSPC) => rustix::fs::syncfs(&file).and_then(|()| reserve()),
        other => other,
    };
    match reserved {
        Ok(()) => Ok(()),
        Err(e) => {
            // Blocks a failed call took past the old end go back.
            let _ = file.set_len(had);
            if e == rustix::io::Errno::NOSPC {
                Err(DiskError::Full {
                    used: used_bytes(at).unwrap_or(0),
                })
            } else {
                Err(io_err(&path)(e.into()))
            }
        }
    }
}

/// Bytes in use on the disk at `at`, its reserved file not counted.
fn used_bytes(at: &Path) -> std::io::Result<u64> {
    let stat = rustix::fs::statvfs(at)?;
    let in_use = stat.f_blocks.saturating_sub(stat.f_bfree).saturating_mul(stat.f_frsize);
    let reserved = std::fs::metadata(at.join(RESERVE)).map_or(0, |m| m.blocks().saturating_mul(512));
    Ok(in_use.saturating_sub(reserved))
}
