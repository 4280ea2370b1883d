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

/// Checks every symlink under `root`: one that resolves, lexically or on disk, into any of
/// `forbidden` (and not back inside `root`, which may itself lie in a forbidden tree) is
/// refused. Walks without following links.
pub fn check_links(root: &Path, forbidden: &[PathBuf]) -> Result<(), LinkError> {
    let inside = std::fs::canonicalize(root).unwrap_or_else(|_| normalize(root));
    let forbidden: Vec<PathBuf> = forbidden
        .iter()
        .map(|f| std::fs::canonicalize(f).unwrap_or_else(|_| normalize(f)))
        .collect();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else { continue };
            let path = entry.path();
            if kind.is_dir() {
                pending.push(path);
                continue;
            }
            if !kind.is_symlink() {
                continue;
            }
            let Ok(target) = std::fs::read_link(&path) else {
                continue;
            };
            let lexical = normalize(&dir.join(&target));
            // On disk too: a chain of links, or `/proc/self/root/…`, ends elsewhere than it reads.
            let on_disk = std::fs::canonicalize(&path).ok();
            let lands = |f: &Path| {
                let here = |p: &Path| p.starts_with(f) && !p.starts_with(&inside);
                here(&lexical) || on_disk.as_deref().is_some_and(here)
            };
            let bad = forbidden.iter().any(|f| lands(f));
            if bad {
                let rel = path.strip_prefix(root).unwrap_or(&path);
                return Err(LinkError {
                    link: rel.display().to_string(),
                    target: on_disk.unwrap_or(lexical).display().to_string(),
                });
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
    }
}
