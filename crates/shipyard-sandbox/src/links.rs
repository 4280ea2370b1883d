//! Links in an artifact. A release keeps the symlinks its build made (a venv's `bin/python3`
//! points at the host's interpreter, which every sandbox sees read-only anyway), but never one
//! into the platform's own files (the data directory, the work root with its caches, other
//! releases): the server, which runs as root, would follow it when it serves or copies the
//! artifact. `stays_inside` is the question a server asks before it serves a path.

use std::path::{Component, Path, PathBuf};
use thiserror::Error;

/// A link that may not be released.
#[derive(Debug, Error)]
#[error("`{link}` is a symlink to {target}, outside the repository")]
pub struct LinkError {
    /// The link, relative to the artifact.
    pub link: String,
    /// Where it points.
    pub target: String,
}

/// `path` with `.` and `..` resolved lexically (no link is followed).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Checks every symlink under `root` (the artifact where it will be served from: a relative
/// link means something else after a move). Refused: a relative link that climbs out of
/// `root`; an absolute one into `/proc` or `/dev/fd` (it means whatever the reader's process
/// holds); one that resolves, lexically or on disk, into any of `forbidden` and not back inside
/// `root`; and anything the walk cannot read. Walks without following links.
pub fn check_links(root: &Path, forbidden: &[PathBuf]) -> Result<(), LinkError> {
    let inside = std::fs::canonicalize(root).unwrap_or_else(|_| normalize(root));
    let forbidden: Vec<PathBuf> = forbidden
        .iter()
        .map(|f| std::fs::canonicalize(f).unwrap_or_else(|_| normalize(f)))
        .collect();
    let refuse = |path: &Path, target: String| LinkError {
        link: path.strip_prefix(root).unwrap_or(path).display().to_string(),
        target,
    };
    let unreadable = |path: &Path, e: std::io::Error| refuse(path, format!("something unreadable ({e})"));
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| unreadable(&dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| unreadable(&dir, e))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| unreadable(&path, e))?;
            if kind.is_dir() {
                pending.push(path);
                continue;
            }
            if !kind.is_symlink() {
                continue;
            }
            let target = std::fs::read_link(&path).map_err(|e| unreadable(&path, e))?;
            let lexical = normalize(&dir.join(&target));
            if target.is_relative() && !lexical.starts_with(&inside) && !lexical.starts_with(root) {
                return Err(refuse(&path, lexical.display().to_string()));
            }
            if target.starts_with("/proc") || target.starts_with("/dev/fd") {
                return Err(refuse(&path, target.display().to_string()));
            }
            // On disk too: a chain of links ends elsewhere than it reads.
            let on_disk = std::fs::canonicalize(&path).ok();
            let lands = |f: &Path| {
                let here = |p: &Path| p.starts_with(f) && !p.starts_with(&inside);
                here(&lexical) || on_disk.as_deref().is_some_and(here)
            };
            if forbidden.iter().any(|f| lands(f)) {
                return Err(refuse(&path, on_disk.unwrap_or(lexical).display().to_string()));
            }
        }
    }
    Ok(())
}

/// Whether `rel` under `root`, with every link followed, is still inside `root`.
pub fn stays_inside(root: &Path, rel: &Path) -> bool {
    match (std::fs::canonicalize(root), std::fs::canonicalize(root.join(rel))) {
        (Ok(root), Ok(path)) => path.starts_with(root),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_into_the_platform_are_refused_and_host_paths_stay() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (data, app) = (dir.path().join("data"), dir.path().join("app"));
        std::fs::create_dir_all(data.join("artifacts")).expect("mkdir");
        std::fs::write(data.join("master.key"), "k").expect("write");
        std::fs::create_dir_all(app.join(".venv/bin")).expect("mkdir");
        std::fs::write(app.join("index.html"), "hi").expect("write");
        symlink("/usr/bin/python3", app.join(".venv/bin/python3")).expect("link");
        symlink("index.html", app.join("home.html")).expect("link");
        symlink("/etc/passwd", app.join("passwd.txt")).expect("link");
        assert!(
            check_links(&app, std::slice::from_ref(&data)).is_ok(),
            "control: host and inner links stay"
        );
        assert!(stays_inside(&app, Path::new("home.html")));
        assert!(
            !stays_inside(&app, Path::new("passwd.txt")),
            "a host file is not served"
        );

        symlink(&data, app.join("dist")).expect("link");
        let err = check_links(&app, std::slice::from_ref(&data)).expect_err("into the data dir");
        assert_eq!(err.link, "dist");
        std::fs::remove_file(app.join("dist")).expect("rm");

        let sneaky = format!("/proc/self/root{}", data.join("master.key").display());
        symlink(&sneaky, app.join("key")).expect("link");
        assert!(
            check_links(&app, std::slice::from_ref(&data)).is_err(),
            "resolved on disk too"
        );
        std::fs::remove_file(app.join("key")).expect("rm");
        symlink("../data/master.key", app.join(".venv/../key")).expect("link");
        assert!(
            check_links(&app, std::slice::from_ref(&data)).is_err(),
            "relative escapes too"
        );
        std::fs::remove_file(app.join("key")).expect("rm");

        // The app itself may live in a forbidden tree (the work root): links inside it stay.
        assert!(check_links(&app, &[dir.path().to_path_buf()]).is_ok());

        // A relative link that climbs out means something else once the artifact moves, even
        // when it points at nothing forbidden (or nothing at all) where it is checked.
        symlink("../../../../elsewhere/master.key", app.join("moved")).expect("link");
        assert!(
            check_links(&app, &[]).is_err(),
            "a climb out of the artifact is refused"
        );
    }
}
