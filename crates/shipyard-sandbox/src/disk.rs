//! Hard disk limits: a build disk per project (its builds' workspaces and its cache) and a disk
//! per instance (its HOME) are each an ext4 image mounted through a loop device, so a writer past
//! the image's size gets ENOSPC from the kernel, never the host's disk. The root filesystem has no
//! project quotas on these machines (and the kernel no quota support), so images it is. Images
//! are sparse and mounted with `discard`: the host pays for what is written and gets back what
//! is removed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use thiserror::Error;

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
    /// `mkfs.ext4`, `mount` or `umount` failed.
    #[error("{command} failed: {output}")]
    Tool {
        /// The command line.
        command: String,
        /// What it said.
        output: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DiskError + '_ {
    move |source| DiskError::Io {
        path: path.to_owned(),
        source,
    }
}

fn run(program: &str, args: &[&std::ffi::OsStr]) -> Result<(), DiskError> {
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
/// not ephemeral stays mounted once its last holder lets it go.
#[derive(Debug, Clone)]
pub struct Disks {
    /// Mounted shared disks and their holders; `None` once closed.
    mounted: Arc<Mutex<Option<HashMap<PathBuf, usize>>>>,
    /// Images need root; an unconfined server (`--insecure-no-sandbox`) has plain directories.
    images: bool,
}

/// One disk a caller holds; the last holder's `release` (or drop) unmounts an ephemeral one.
#[derive(Debug)]
pub struct Disk {
    disks: Disks,
    image: PathBuf,
    at: PathBuf,
    /// Removed with its image at the end (an instance's HOME), or kept (a build cache).
    ephemeral: bool,
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
    /// Whether the image goes when the last holder releases it.
    pub ephemeral: bool,
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
        let first = if spec.ephemeral {
            // A path of its own (one per process of an instance): nobody shares it, so its
            // mount waits on no other.
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
            ephemeral: spec.ephemeral,
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

/// Unmounts what is mounted at `at`, if anything is.
pub fn unmount_if_mounted(at: &Path) {
    if mount_points().iter().any(|p| p == at) {
        unmount(at);
    }
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

    /// Lets the disk go; the last holder of an ephemeral disk unmounts and removes it (blocking:
    /// a few milliseconds).
    pub fn release(mut self) {
        self.let_go();
    }

    fn let_go(&mut self) {
        if std::mem::replace(&mut self.released, true) {
            return;
        }
        if !self.ephemeral {
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

fn mount(spec: &DiskSpec<'_>) -> Result<(), DiskError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(spec.at).map_err(io_err(spec.at))?;
    let fresh = std::fs::metadata(spec.image).map_or(true, |m| m.len() != spec.bytes);
    if fresh {
        make_image(spec)?;
    }
    let mount_image = || {
        let options = "loop,discard,noinit_itable,nosuid,nodev";
        run(
            "mount",
            &[
                "-t".as_ref(),
                "ext4".as_ref(),
                "-o".as_ref(),
                options.as_ref(),
                spec.image.as_os_str(),
                spec.at.as_os_str(),
            ],
        )
    };
    if let Err(e) = mount_image() {
        if fresh {
            return Err(e);
        }
        // An image a crash left unreadable holds nothing worth more than a working disk.
        tracing::warn!(image = %spec.image.display(), error = %e, "disk image unreadable; made again");
        make_image(spec)?;
        mount_image()?;
    }
    let mode = if spec.owner.is_some() { 0o700 } else { 0o711 };
    let lost = spec.at.join("lost+found");
    let _ = std::fs::remove_dir(&lost);
    std::fs::set_permissions(spec.at, std::fs::Permissions::from_mode(mode)).map_err(|e| {
        // Not left mounted behind a failed attach: the next one would mount it again on top.
        unmount(spec.at);
        io_err(spec.at)(e)
    })
}

fn make_image(spec: &DiskSpec<'_>) -> Result<(), DiskError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    // Only the server may read an image: it holds a tenant's files.
    let parent = spec.image.parent().unwrap_or(Path::new("/"));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(parent)
        .map_err(io_err(parent))?;
    let _ = std::fs::remove_file(spec.image);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(spec.image)
        .map_err(io_err(spec.image))?;
    file.set_len(spec.bytes).map_err(io_err(spec.image))?;
    drop(file);
    let (uid, gid) = spec.owner.unwrap_or((0, 0));
    // No journal (a disk outlives no crash it matters for), no reserved blocks, and inode tables
    // left for the kernel to fill lazily: a 10 GiB image costs 4 MiB of host disk when made.
    let extended = format!("nodiscard,lazy_itable_init=1,root_owner={uid}:{gid}");
    run(
        "mkfs.ext4",
        &[
            "-q".as_ref(),
            "-F".as_ref(),
            "-m".as_ref(),
            "0".as_ref(),
            "-O".as_ref(),
            "^has_journal".as_ref(),
            "-E".as_ref(),
            extended.as_ref(),
            spec.image.as_os_str(),
        ],
    )
}

fn unmount(at: &Path) {
    if run("umount", &[at.as_os_str()]).is_err() {
        // Busy (a process a crash left behind still has a file open): detach it now; the kernel
        // frees the loop device when the last file closes.
        let _ = run("umount", &["--lazy".as_ref(), at.as_os_str()]);
    }
}

fn remove_quietly(image: &Path, at: &Path) {
    let _ = std::fs::remove_file(image);
    let _ = std::fs::remove_dir_all(at);
}

/// Unmounts every filesystem mounted below `root` (what a killed server left mounted), deepest
/// first; returns how many. `root` itself stays: an operator may have mounted a disk there.
pub fn unmount_below(root: &Path) -> usize {
    let mut points: Vec<PathBuf> = mount_points()
        .into_iter()
        .filter(|p| p.starts_with(root) && p != root)
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for point in &points {
        unmount(point);
    }
    points.len()
}

/// The mount points of this mount namespace (`/proc/self/mountinfo`'s fifth field, with the
/// kernel's octal escapes undone).
fn mount_points() -> Vec<PathBuf> {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    info.lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|field| PathBuf::from(unescape(field)))
        .collect()
}

fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The disk space `tree` takes (blocks in use, each file once however many links it has, and
/// every entry at least one 4 KiB block, so a tree of empty files or links is bounded too),
/// counted without following a link; the count stops once past `stop_after`. Memory grows with
/// the tree's depth (one open directory per level), never with a directory's width.
pub fn usage(tree: &Path, stop_after: u64) -> std::io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    const BLOCK: u64 = 4096;
    let cost = |meta: &std::fs::Metadata| meta.blocks().saturating_mul(512).max(BLOCK);
    let root = std::fs::symlink_metadata(tree)?;
    let mut total = cost(&root);
    if !root.is_dir() {
        return Ok(total);
    }
    let mut linked = std::collections::HashSet::new();
    let mut open = vec![std::fs::read_dir(tree)?];
    while let Some(dir) = open.last_mut() {
        let Some(entry) = dir.next() else {
            open.pop();
            continue;
        };
        let entry = entry?;
        // A directory entry's metadata is the link's own, never its target's.
        let meta = entry.metadata()?;
        if meta.is_dir() || meta.nlink() <= 1 || linked.insert((meta.dev(), meta.ino())) {
            total = total.saturating_add(cost(&meta));
        }
        if total > stop_after {
            break;
        }
        if meta.is_dir() {
            open.push(std::fs::read_dir(entry.path())?);
        }
    }
    Ok(total)
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
            ephemeral: true,
        })
        .map(Disk::release)
}

/// Mounts a small tmpfs at `at` for files the server makes for sandboxes (`/etc/passwd`,
/// `resolv.conf`), unless one is there (a killed server's, reused): bound from the host's own
/// disk, a sandbox's mount table would name their host path, and with it the data directory.
pub fn ensure_tmpfs(at: &Path, bytes: u64) -> Result<(), DiskError> {
    if mount_points().iter().any(|p| p == at) {
        return Ok(());
    }
    std::fs::create_dir_all(at).map_err(io_err(at))?;
    let options = format!("size={bytes},mode=0755,nosuid,nodev,noexec");
    run(
        "mount",
        &[
            "-t".as_ref(),
            "tmpfs".as_ref(),
            "-o".as_ref(),
            options.as_ref(),
            "tmpfs".as_ref(),
            at.as_os_str(),
        ],
    )
}

/// How many bytes are still free on the filesystem holding `path`.
pub fn free_bytes(path: &Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(path).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_counts_each_file_once_every_entry_at_least_a_block_and_stops_past_its_bound() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("data"), vec![1u8; 64 << 10]).expect("write");
        std::fs::hard_link(dir.path().join("data"), dir.path().join("again")).expect("link");
        std::fs::create_dir(dir.path().join("empty")).expect("mkdir");
        for i in 0..100 {
            std::fs::write(dir.path().join("empty").join(i.to_string()), b"").expect("touch");
        }
        let used = usage(dir.path(), u64::MAX).expect("usage");
        let least = (64 << 10) + 102 * 4096;
        assert!(used >= least && used < least + (64 << 10), "{used}");
        let stopped = usage(dir.path(), 20_000).expect("usage");
        assert!(stopped > 20_000 && stopped < used, "{stopped}");
    }

    #[test]
    fn mountinfo_escapes_are_undone() {
        assert_eq!(unescape(r"/a\040b\011c\134d"), "/a b\tc\\d");
        assert_eq!(unescape(r"/plain"), "/plain");
        assert_eq!(unescape(r"/bad\09"), r"/bad\09");
    }
}
