//! The mount table of the server's own mount namespace: what is mounted where (for a restart to
//! unmount what a killed server left), unmounting, and the tmpfs for the sandboxes' files.

use super::{DiskError, io_err, run};
use std::path::{Path, PathBuf};

/// Unmounts `at` (lazily when busy).
pub(super) fn unmount(at: &Path) {
    if run("umount", &[at.as_os_str()]).is_err() {
        // Busy (a process a crash left behind still has a file open): detach it now; the kernel
        // frees the loop device when the last file closes.
        let _ = run("umount", &["--lazy".as_ref(), at.as_os_str()]);
    }
}

/// Removes `dir` and the directories below it that are empty, deepest first: mount points a
/// stopped server no longer needs. A file, or a filesystem still mounted there, keeps its
/// directory (nothing is ever removed from inside one).
pub fn remove_empty_dirs(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            remove_empty_dirs(&entry.path());
        }
    }
    let _ = std::fs::remove_dir(dir);
}

/// Unmounts what is mounted at `at`, if anything is.
pub fn unmount_if_mounted(at: &Path) {
    if mount_points().iter().any(|p| p == at) {
        unmount(at);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_are_undone() {
        assert_eq!(unescape(r"/a\040b\011c\134d"), "/a b\tc\\d");
        assert_eq!(unescape(r"/plain"), "/plain");
        assert_eq!(unescape(r"/bad\09"), r"/bad\09");
    }
}
