//! Reading files in a directory a tenant can write, without ever following a link: each path
//! is opened relative to its root with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`, so a
//! link in any component, a `..` out of the root, a device or a FIFO is refused, and a file's
//! size is checked before a byte is read.

use rustix::fs::{Mode, OFlags, ResolveFlags, openat2};
use rustix::io::Errno;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::Read;
use std::path::Path;
use thiserror::Error;

/// Why a tenant's file was not read.
#[derive(Debug, Error)]
pub enum FileError {
    /// The path is a symbolic link or passes through one (or leaves its root).
    #[error("`{0}` is a symbolic link or passes through one; Shipyard does not follow links in a repository")]
    Link(String),
    /// Something other than a regular file (a directory, a FIFO, a device).
    #[error("`{0}` is not a regular file")]
    NotRegular(String),
    /// Larger than the reader allows.
    #[error("`{0}` is larger than {1} bytes")]
    TooLarge(String, u64),
    /// Not there.
    #[error("`{0}` does not exist")]
    Missing(String),
    /// The system refused for another reason.
    #[error("`{0}` could not be read: {1}")]
    Io(String, std::io::Error),
}

/// The opened `fd` with its metadata, when it is a regular file.
fn regular(fd: rustix::fd::OwnedFd, name: String) -> Result<(File, std::fs::Metadata), FileError> {
    let file = File::from(fd);
    let meta = file.metadata().map_err(|e| FileError::Io(name.clone(), e))?;
    if !meta.is_file() {
        return Err(FileError::NotRegular(name));
    }
    Ok((file, meta))
}

/// Opens `rel` under `root` as a regular file without following any link; returns it with
/// its size.
pub fn open_beneath(root: &Path, rel: &Path) -> Result<(File, u64), FileError> {
    let name = rel.display().to_string();
    let dir = File::open(root).map_err(|e| FileError::Io(name.clone(), e))?;
    let fd = openat2(
        &dir,
        rel,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY,
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
    )
    .map_err(|e| match e {
        Errno::LOOP | Errno::XDEV => FileError::Link(name.clone()),
        Errno::NOENT | Errno::NOTDIR => FileError::Missing(name.clone()),
        other => FileError::Io(name.clone(), other.into()),
    })?;
    let (file, meta) = regular(fd, name)?;
    Ok((file, meta.len()))
}

/// Opens `rel` inside the directory `root` (an artifact being served) as a regular file. Links
/// inside the tree are followed as long as every step stays beneath `root`: one that leaves it
/// (an absolute target, a `..` past the root, `/proc` magic links) is refused, like a missing
/// file. Returns it with its metadata.
pub fn open_served(root: &File, rel: &Path) -> Result<(File, std::fs::Metadata), FileError> {
    let name = rel.display().to_string();
    let fd = openat2(
        root,
        rel,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY,
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
    )
    .map_err(|e| match e {
        Errno::LOOP | Errno::XDEV => FileError::Link(name.clone()),
        Errno::NOENT | Errno::NOTDIR | Errno::NAMETOOLONG => FileError::Missing(name.clone()),
        other => FileError::Io(name.clone(), other.into()),
    })?;
    regular(fd, name)
}

/// Opens the directory `rel` inside `root` (an artifact's served directory), following links
/// only while they stay beneath `root`, as `open_served` does for files.
pub fn open_dir_served(root: &Path, rel: &Path) -> Result<File, FileError> {
    let name = rel.display().to_string();
    let dir = File::open(root).map_err(|e| FileError::Io(name.clone(), e))?;
    let fd = openat2(
        &dir,
        rel,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
    )
    .map_err(|e| match e {
        Errno::LOOP | Errno::XDEV => FileError::Link(name.clone()),
        Errno::NOENT => FileError::Missing(name.clone()),
        Errno::NOTDIR => FileError::NotRegular(name.clone()),
        other => FileError::Io(name.clone(), other.into()),
    })?;
    Ok(File::from(fd))
}

/// The bytes of `rel` under `root`, refused before reading when over `cap`.
pub fn read_capped(root: &Path, rel: &Path, cap: u64) -> Result<Vec<u8>, FileError> {
    let (file, len) = open_beneath(root, rel)?;
    let name = || rel.display().to_string();
    if len > cap {
        return Err(FileError::TooLarge(name(), cap));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    // The size was checked, but a file can grow while it is read: never past the cap.
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| FileError::Io(name(), e))?;
    if bytes.len() as u64 > cap {
        return Err(FileError::TooLarge(name(), cap));
    }
    Ok(bytes)
}

/// The hex SHA-256 of `rel` under `root`, streamed (a lockfile of any size costs a buffer).
pub fn sha256_file(root: &Path, rel: &Path) -> Result<String, FileError> {
    let (mut file, _) = open_beneath(root, rel)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| FileError::Io(rel.display().to_string(), e))?;
    Ok(hex::encode(hasher.finalize()))
}

/// Checks that `rel` under `root` is a directory reached without a link (a `rootDirectory`).
pub fn check_dir_beneath(root: &Path, rel: &Path) -> Result<(), FileError> {
    let name = rel.display().to_string();
    let dir = File::open(root).map_err(|e| FileError::Io(name.clone(), e))?;
    openat2(
        &dir,
        rel,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
    )
    .map(drop)
    .map_err(|e| match e {
        Errno::LOOP | Errno::XDEV => FileError::Link(name.clone()),
        Errno::NOENT => FileError::Missing(name.clone()),
        Errno::NOTDIR if std::fs::symlink_metadata(root.join(rel)).is_ok_and(|m| m.is_symlink()) => {
            FileError::Link(name.clone())
        }
        Errno::NOTDIR => FileError::NotRegular(name.clone()),
        other => FileError::Io(name.clone(), other.into()),
    })
}

/// The names of the directories directly inside `rel` in `root` (none when `rel` is missing
/// or leaves `root`); links are neither followed nor listed.
pub fn subdirectories_served(root: &Path, rel: &Path) -> Vec<String> {
    let Ok(dir) = open_dir_served(root, rel) else {
        return Vec::new();
    };
    let Ok(entries) = rustix::fs::Dir::read_from(&dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_type() == rustix::fs::FileType::Directory)
        .filter_map(|e| e.file_name().to_str().ok().map(str::to_owned))
        .filter(|name| name != "." && name != "..")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdirectories_are_listed_without_following_a_link_out() {
        let root = tempfile::tempdir().expect("tempdir");
        let outside = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(outside.path().join("secret-dir")).expect("mkdir");
        let app = root.path().join("app");
        std::fs::create_dir_all(app.join(".shipyard/tools/pnpm-9")).expect("mkdir");
        std::fs::write(app.join(".shipyard/tools/not-a-dir"), "x").expect("file");
        std::os::unix::fs::symlink(outside.path(), app.join(".shipyard/tools/link")).expect("symlink");
        // Control: a real directory is listed; a file and a link are not.
        assert_eq!(
            subdirectories_served(root.path(), Path::new("app/.shipyard/tools")),
            ["pnpm-9"]
        );
        // A tenant's link in the path itself leads nowhere.
        std::fs::create_dir(root.path().join("evil")).expect("mkdir");
        std::os::unix::fs::symlink(outside.path(), root.path().join("evil/tools")).expect("symlink");
        assert!(subdirectories_served(root.path(), Path::new("evil/tools")).is_empty());
        assert!(subdirectories_served(root.path(), Path::new("../")).is_empty());
    }

    #[test]
    fn served_files_may_link_inside_the_tree_but_never_out_of_it() {
        let outside = tempfile::tempdir().expect("tempdir");
        std::fs::write(outside.path().join("secret"), "master key").expect("write");
        let site = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(site.path().join("v2")).expect("mkdir");
        std::fs::write(site.path().join("v2/index.html"), "hello").expect("write");
        std::os::unix::fs::symlink("v2/index.html", site.path().join("latest.html")).expect("link");
        std::os::unix::fs::symlink(outside.path().join("secret"), site.path().join("abs")).expect("link");
        std::os::unix::fs::symlink("../../../../../../etc/hostname", site.path().join("climb")).expect("link");
        let root = File::open(site.path()).expect("root");
        let (mut file, meta) = open_served(&root, Path::new("latest.html")).expect("a link inside is followed");
        let mut body = String::new();
        file.read_to_string(&mut body).expect("read");
        assert_eq!((body.as_str(), meta.len()), ("hello", 5));
        for escape in ["abs", "climb", "../x", "/etc/hostname"] {
            assert!(
                matches!(open_served(&root, Path::new(escape)), Err(FileError::Link(_))),
                "{escape} leaves the tree"
            );
        }
        assert!(matches!(
            open_served(&root, Path::new("v2")),
            Err(FileError::NotRegular(_))
        ));
        assert!(matches!(
            open_served(&root, Path::new("nope.css")),
            Err(FileError::Missing(_))
        ));
    }

    #[test]
    fn links_devices_and_big_files_are_refused_before_reading() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::write(root.join("package.json"), "{}").expect("write");
        std::fs::create_dir(root.join("sub")).expect("mkdir");
        std::fs::write(root.join("sub/big"), vec![b'x'; 2048]).expect("write");
        std::os::unix::fs::symlink("/dev/zero", root.join("zero")).expect("link");
        std::os::unix::fs::symlink("/etc", root.join("etc")).expect("link");
        std::os::unix::fs::symlink("package.json", root.join("alias.json")).expect("link");

        assert_eq!(
            read_capped(root, Path::new("package.json"), 100).expect("control"),
            b"{}"
        );
        assert!(matches!(
            read_capped(root, Path::new("zero"), 100),
            Err(FileError::Link(_))
        ));
        assert!(matches!(
            read_capped(root, Path::new("etc/passwd"), 1 << 20),
            Err(FileError::Link(_))
        ));
        assert!(matches!(
            read_capped(root, Path::new("alias.json"), 100),
            Err(FileError::Link(_))
        ));
        assert!(matches!(
            read_capped(root, Path::new("../x"), 100),
            Err(FileError::Link(_))
        ));
        assert!(matches!(
            read_capped(root, Path::new("sub"), 100),
            Err(FileError::NotRegular(_))
        ));
        assert!(matches!(
            read_capped(root, Path::new("sub/big"), 1000),
            Err(FileError::TooLarge(..))
        ));
        assert!(matches!(
            read_capped(root, Path::new("nope"), 100),
            Err(FileError::Missing(_))
        ));
        assert_eq!(
            sha256_file(root, Path::new("package.json")).expect("hash"),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert!(matches!(sha256_file(root, Path::new("zero")), Err(FileError::Link(_))));
        assert!(check_dir_beneath(root, Path::new("sub")).is_ok());
        assert!(matches!(
            check_dir_beneath(root, Path::new("etc")),
            Err(FileError::Link(_))
        ));
    }
}
