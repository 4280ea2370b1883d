//! Making an image and mounting it: `mkfs.ext4` with what each kind of disk needs, `e2fsck -p`
//! before a workspace's disk is mounted, and the mount options.

use super::mounts::unmount;
use super::{DiskError, DiskKind, DiskSpec, io_err, run};
use std::path::Path;
use std::process::Command;

pub(super) fn mount(spec: &DiskSpec<'_>) -> Result<(), DiskError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(spec.at).map_err(io_err(spec.at))?;
    let fresh = match std::fs::metadata(spec.image) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        // A workspace's disk is never made again over one that is there, whatever went wrong.
        Err(e) if spec.kind == DiskKind::Kept => return Err(io_err(spec.image)(e)),
        Err(_) => true,
        Ok(_) if spec.kind == DiskKind::Kept => false,
        Ok(m) => m.len() != spec.bytes,
    };
    if fresh {
        make_image(spec)?;
    } else if spec.kind == DiskKind::Kept {
        check(spec.image)?;
    }
    let mount_image = || {
        // A disk inside a workspace's disk need not flush the host's: `barrier=0` keeps a
        // `sync` of it (see `Workspaces::settle`) a copy into the workspace's disk's cache.
        let options = if spec.kind == DiskKind::Kept {
            "loop,discard,noinit_itable,nosuid,nodev"
        } else {
            "loop,discard,noinit_itable,nosuid,nodev,barrier=0"
        };
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
        if fresh || spec.kind == DiskKind::Kept {
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
    // No reserved blocks, and inode tables left for the kernel to fill lazily: a 10 GiB image
    // costs 4 MiB of host disk when made.
    let extended = format!("nodiscard,lazy_itable_init=1,root_owner={uid}:{gid}");
    let os = |s: &'static str| std::ffi::OsStr::new(s);
    let mut args: Vec<&std::ffi::OsStr> = vec![os("-q"), os("-F"), os("-m"), os("0")];
    if spec.kind == DiskKind::Kept {
        // A workspace's disk holds releases through crashes and a full host: a small journal
        // (16 MiB) keeps it consistent. As large as the host's disk, it gets one inode per
        // 64 KiB (not 16), which keeps its inode tables — written as inodes are first used,
        // counted by no limit — under 0.4 % of it.
        args.extend([os("-J"), os("size=16"), os("-i"), os("65536")]);
    } else {
        // Caches and HOMEs outlive no crash they matter for: no journal.
        args.extend([os("-O"), os("^has_journal")]);
    }
    args.push(os("-E"));
    args.extend([std::ffi::OsStr::new(&extended), spec.image.as_os_str()]);
    run("mkfs.ext4", &args)
}

/// Checks a workspace's disk before it is mounted, repairing what is safe to (`e2fsck -p`:
/// nothing to do on a clean one); a disk it cannot repair is not mounted.
fn check(image: &Path) -> Result<(), DiskError> {
    let out = Command::new("e2fsck")
        .arg("-p")
        .arg(image)
        .output()
        .map_err(|e| DiskError::Tool {
            command: format!("e2fsck -p {}", image.display()),
            output: e.to_string(),
        })?;
    // 0: clean; 1: repaired; 2: repaired, reboot advised (not for an unmounted image).
    match out.status.code() {
        Some(0..=2) => Ok(()),
        _ => Err(DiskError::Tool {
            command: format!("e2fsck -p {}", image.display()),
            output: String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        }),
    }
}
