//! The part of a repository detection reads: every path, and the text of the files that can
//! carry a signal. Detection never runs repository code; it only reads these.

use std::collections::{BTreeMap, BTreeSet};

/// Largest file detection reads; bigger files are listed but not read.
pub const MAX_READ_BYTES: usize = 256 * 1024;

/// Paths (relative to the directory being detected) and the contents of the interesting ones.
#[derive(Debug, Default, Clone)]
pub struct FileTree {
    paths: BTreeSet<String>,
    contents: BTreeMap<String, String>,
    /// Manifests that were not read, and why (a link, a FIFO): detection says so.
    pub unreadable: Vec<String>,
}

/// Whether detection wants to read a file at `path` (relative, `/`-separated).
pub fn is_interesting(path: &str) -> bool {
    let depth = path.matches('/').count();
    let name = path.rsplit('/').next().unwrap_or(path);
    let manifest = matches!(
        name,
        "package.json"
            | "requirements.txt"
            | "pyproject.toml"
            | "Pipfile"
            | "pnpm-lock.yaml"
            | "package-lock.json"
            | ".yarnrc.yml"
            | ".nvmrc"
            | ".node-version"
            | ".python-version"
            | "runtime.txt"
            | "manage.py"
            | "index.html"
    );
    // Lockfiles can be huge; their head carries the format version, read within the cap.
    let python_source = depth == 0 && name.ends_with(".py");
    (manifest && depth <= 2) || python_source || (name == "yarn.lock" && depth == 0)
}

impl FileTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a path that exists (contents unknown or not needed).
    pub fn add_path(&mut self, path: impl Into<String>) {
        self.paths.insert(path.into());
    }

    /// Adds a file with its contents.
    pub fn add_file(&mut self, path: impl Into<String>, contents: impl Into<String>) {
        let path = path.into();
        self.paths.insert(path.clone());
        self.contents.insert(path, contents.into());
    }

    /// Whether `path` exists.
    pub fn exists(&self, path: &str) -> bool {
        self.paths.contains(path)
    }

    /// The text of `path`, if it was read.
    pub fn read(&self, path: &str) -> Option<&str> {
        self.contents.get(path).map(String::as_str)
    }

    /// Whether the tree has no files at all.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Reads the interesting files of a checked-out directory (two levels deep, skipping
    /// `node_modules` and dot-directories), as detection would see them in git. The tree is
    /// the tenant's: no link is followed, only regular files are read, and none past
    /// `MAX_READ_BYTES`; a manifest that is a link or not a file is named in `unreadable`.
    pub fn from_dir(root: &std::path::Path) -> FileTree {
        fn walk(tree: &mut FileTree, root: &std::path::Path, dir: &std::path::Path, depth: usize) {
            let Ok(entries) = std::fs::read_dir(dir) else { return };
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(rel) = path.strip_prefix(root) else { continue };
                let rel_path = rel.to_owned();
                let rel = rel.to_string_lossy().into_owned();
                let name = entry.file_name().to_string_lossy().into_owned();
                let Ok(kind) = entry.file_type() else { continue };
                if kind.is_dir() {
                    if depth < 2 && name != "node_modules" && !name.starts_with('.') {
                        walk(tree, root, &path, depth + 1);
                    }
                    continue;
                }
                if !is_interesting(&rel) {
                    tree.add_path(rel);
                    continue;
                }
                let read = shipyard_sandbox::read_capped(root, &rel_path, MAX_READ_BYTES as u64)
                    .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
                match read {
                    Ok(text) => tree.add_file(rel, text),
                    Err(shipyard_sandbox::FileError::TooLarge(..)) => tree.add_path(rel),
                    Err(e) => {
                        tree.unreadable.push(e.to_string());
                        tree.add_path(rel);
                    }
                }
            }
        }
        let mut tree = FileTree::new();
        walk(&mut tree, root, root, 0);
        tree
    }

    /// Every path.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.paths.iter().map(String::as_str)
    }

    /// The first of `names` that exists.
    pub fn first_existing<'a>(&self, names: &[&'a str]) -> Option<&'a str> {
        names.iter().copied().find(|n| self.exists(n))
    }

    /// The subtree under `dir` (paths made relative to it).
    pub fn subtree(&self, dir: &str) -> FileTree {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        let mut sub = FileTree::new();
        for path in &self.paths {
            if let Some(rel) = path.strip_prefix(&prefix) {
                match self.contents.get(path) {
                    Some(text) => sub.add_file(rel, text.clone()),
                    None => sub.add_path(rel),
                }
            }
        }
        sub
    }
}
