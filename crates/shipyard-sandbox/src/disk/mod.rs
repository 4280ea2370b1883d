//! Hard disk limits: a disk per workspace (everything of it that lasts: `workspace.rs`), a build
//! disk per project (its builds' workspaces and its cache) and a disk per instance (its HOME) are
//! each an ext4 image mounted through a loop device, so a writer past the image's size gets
//! ENOSPC from the kernel, never the host's disk. The root filesystem has no
//! project quotas on these machines (and the kernel no quota support), so images it is. Images
//! are sparse and mounted with `discard`: the host pays for what is written and gets back what
//! is removed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use thiserror::Error;

mod image;
mod mounts;
mod usage;
mod workspace;

pub use mounts::{ensure_tmpfs, remove_empty_dirs, unmount_below, unmount_if_mounted};
pub use usage::{free_bytes, usage};
pub use workspace::Workspaces;

use image::mount;
use mounts::unmount;

/// Why a disk could not be made or mounted.
#[derive(Debug, Error)]
pub enum DiskError {
    /// A file or directory of the disk could not be made.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The server is stopping: no disk is mounted any more.
    #[error("the server is stopping")]
    Closed,
    /// A workspace's disk is not mounted (its image does not exist yet, or could not be mounted).
    #[error("the workspace's disk is not mounted")]
    NotMounted,
    /// A workspace already holds more than the limit asked for.
    #[error("the workspace already uses {}", shipyard_core::size::text(*.used))]
    Full {
        /// Bytes it holds now.
        used: u64,
    },
    /// `mkfs.ext4`, `mount` or `umount` failed.
    #[error("{command} failed: {output}")]
    Tool {
        /// The command line.
        command: String,
        /// What it said.
        output: String,
    },
}

pub(super) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DiskError + '_ {
    move |source| DiskError::Io {
        path: path.to_owned(),
        source,
    }
}

pub(super) fn run(program: &str, args: &[&std::ffi::OsStr]) -> Result<(), DiskError> {
    let line = || {
        let args: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        format!("{program} {}", args.join(" "))
    };
    let out = Command::new(program).args(args).output().map_err(|e| DiskError::Tool {
        command: line(),
        output: e.to_string(),
    })?;
    if out.status.success() {
        return Ok(());
    }
    let mut output = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    if output.is_empty() {
        output = out.status.to_string();
    }
    Err(DiskError::Tool {
        command: line(),
        output,
    })
}

/// The disks of one server: which images are mounted, and by how many holders (two builds of
/// one project share its build disk; an image mounted twice would be corrupted). A disk that is
/// not scratch stays mounted once its last holder lets it go.
#[derive(Debug, Clone)]
pub struct Disks {
    /// Mounted shared disks and their holders; `None` once closed.
    mounted: Arc<Mutex<Option<HashMap<PathBuf, usize>>>>,
    /// Images need root; an unconfined server (`--insecure-no-sandbox`) has plain directories.
    images: bool,
}

/// One disk a caller holds; the last holder's `release` (or drop) unmounts a scratch one.
#[derive(Debug)]
pub struct Disk {
    disks: Disks,
    image: PathBuf,
    at: PathBuf,
    kind: DiskKind,
    /// This holder mounted it: nobody else in this server was using it.
    first: bool,
    released: bool,
}

/// What a disk is made of.
#[derive(Debug, Clone)]
pub struct DiskSpec<'a> {
    /// The image file.
    pub image: &'a Path,
    /// Where it is mounted.
    pub at: &'a Path,
    /// Its size in bytes.
    pub bytes: u64,
    /// The owner of its root directory (mode 0700 then), or root's (0711).
    pub owner: Option<(u32, u32)>,
    /// What happens to its files.
    pub kind: DiskKind,
}

/// What a disk's files are worth, which decides when its image is made again or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskKind {
    /// Fresh at every attach, removed when its holder lets it go (an instance process's HOME).
    Scratch,
    /// Kept mounted between holders; made again when unreadable or of another size (a build
    /// disk: its cache is only ever a speed-up).
    Cache,
    /// Kept mounted between holders and never made again (a workspace's disk: its releases).
    Kept,
}

impl Disks {
    /// The disks of a server; with `images` false each disk is a plain directory, unlimited.
    pub fn new(images: bool) -> Self {
        Self {
            mounted: Arc::new(Mutex::new(Some(HashMap::new()))),
            images,
        }
    }

    /// Mounts `spec.image` at `spec.at`, making the image first when it is missing or of another
    /// size (a build cache on it is then rebuilt); a disk already mounted is shared.
    pub fn attach(&self, spec: &DiskSpec<'_>) -> Result<Disk, DiskError> {
        let first = if spec.kind == DiskKind::Scratch {
            // A path of its own (one per process of an instance): nobody shares it. Mounted
            // under the lock all the same, so `close` waits for it and none is made after (on
            // a workspace's disk about to go).
            let guard = self.mounted.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if guard.is_none() {
                return Err(DiskError::Closed);
            }
            self.mount(spec)?;
            true
        } else {
            let mut guard = self.mounted.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let mounted = guard.as_mut().ok_or(DiskError::Closed)?;
            let first = !mounted.contains_key(spec.at);
            if first {
                self.mount(spec)?;
            }
            *mounted.entry(spec.at.to_owned()).or_insert(0) += 1;
            first
        };
        Ok(Disk {
            disks: self.clone(),
            image: spec.image.to_owned(),
            at: spec.at.to_owned(),
            kind: spec.kind,
            first,
            released: false,
        })
    }

    /// Unmounts every shared disk, waiting for one being mounted, and mounts none after: what a
    /// build still starting as the server stops would mount must not outlive it.
    pub fn close(&self) {
        let mut guard = self.mounted.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(mounted) = guard.take()
            && self.images
        {
            for at in mounted.keys() {
                unmount(at);
            }
        }
    }

    /// Unmounts the shared disk at `at` at once, whoever holds it, and forgets it: one that
    /// could not be set up as it must be is not used.
    pub fn detach(&self, at: &Path) {
        let mut guard = self.mounted.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(mounted) = guard.as_mut()
            && mounted.remove(at).is_some()
            && self.images
        {
            unmount(at);
        }
    }

    /// Whether a shared disk is mounted at `at` by this server.
    pub fn is_mounted(&self, at: &Path) -> bool {
        let guard = self.mounted.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.as_ref().is_some_and(|m| m.contains_key(at))
    }

    /// Whether disks are images (false: plain directories of an unconfined server).
    pub fn images(&self) -> bool {
        self.images
    }

    fn mount(&self, spec: &DiskSpec<'_>) -> Result<(), DiskError> {
        if self.images {
            mount(spec)
        } else {
            std::fs::create_dir_all(spec.at).map_err(io_err(spec.at))
        }
    }
}

/// Unmounts and removes a disk for good (its project is deleted), whoever holds it: a build
/// still writing there loses its files, and the space comes back when it ends.
pub fn remove(image: &Path, at: &Path) {
    unmount_if_mounted(at);
    remove_quietly(image, at);
}

impl Disk {
    /// Where the disk is mounted.
    pub fn path(&self) -> &Path {
        &self.at
    }

    /// Whether this holder mounted the disk, the first since the server started (so whatever is
    /// on it was left by an earlier server).
    pub fn mounted_now(&self) -> bool {
        self.first
    }

    /// Lets the disk go; the last holder of a scratch disk unmounts and removes it (blocking:
    /// a few milliseconds).
    pub fn release(mut self) {
        self.let_go();
    }

    fn let_go(&mut self) {
        if std::mem::replace(&mut self.released, true) {
            return;
        }
        if self.kind != DiskKind::Scratch {
            // A build disk stays mounted for the project's next build (and for its cache
            // snapshot after this one); the server unmounts it when it stops, or when the
            // project goes.
            let mut guard = self
                .disks
                .mounted
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(holders) = guard.as_mut().and_then(|m| m.get_mut(&self.at)) {
                *holders = holders.saturating_sub(1);
            }
            return;
        }
        if self.disks.images {
            unmount(&self.at);
        }
        remove_quietly(&self.image, &self.at);
        // The directory that held both, when nothing else is in it.
        if let Some(dir) = self.at.parent() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        self.let_go();
    }
}

fn remove_quietly(image: &Path, at: &Path) {
    let _ = std::fs::remove_file(image);
    let _ = std::fs::remove_dir_all(at);
}

/// Makes, mounts and removes a small disk in `dir`: proof at start that this host can limit disks
/// (loop devices, `mkfs.ext4`), rather than a first build that fails for want of them.
pub fn probe(dir: &Path) -> Result<(), DiskError> {
    let (image, at) = (dir.join(".disk-probe.img"), dir.join(".disk-probe"));
    Disks::new(true)
        .attach(&DiskSpec {
            image: &image,
            at: &at,
            bytes: 16 << 20,
            owner: None,
            kind: DiskKind::Scratch,
        })
        .map(Disk::release)
}
