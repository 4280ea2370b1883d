//! A bare mirror per connection: fetched by URL (so no remote, and no credential, is ever
//! written to its config), then read without a checkout.

use super::{Git, GitAuth, GitError, Invocation};
use crate::child_output::bounded_output;
use crate::detect::{FileTree, MAX_READ_BYTES, is_interesting};
use shipyard_core::GitUrl;
use std::ffi::OsString;
use std::path::Path;

/// Most paths listed from one tree; beyond this the listing is cut (huge monorepos).
const MAX_PATHS: usize = 100_000;

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

impl Git {
    /// Creates the mirror if needed and fetches every branch into it.
    pub async fn fetch(
        &self,
        url: &GitUrl,
        auth: &GitAuth,
        known_hosts: Option<&Path>,
        mirror: &Path,
    ) -> Result<(), GitError> {
        if !mirror.join("HEAD").exists() {
            std::fs::create_dir_all(mirror)?;
            let mut args = os(&["init", "--bare", "--quiet"]);
            args.push(mirror.into());
            self.run(Invocation {
                args,
                auth: &GitAuth::None,
                known_hosts: None,
            })
            .await?;
        }
        let mut args = os(&["-C"]);
        args.push(mirror.into());
        args.extend(os(&[
            "fetch",
            "--quiet",
            "--prune",
            "--no-tags",
            "--no-write-fetch-head",
        ]));
        args.extend(super::upload_pack_args(url));
        args.push(url.as_str().into());
        args.push("+refs/heads/*:refs/heads/*".into());
        self.run(Invocation {
            args,
            auth,
            known_hosts,
        })
        .await
        .map_err(|e| super::explain_local(url, e))?;
        Ok(())
    }

    async fn local(&self, mirror: &Path, rest: &[&str]) -> Result<Vec<u8>, GitError> {
        let mut args = os(&["-C"]);
        args.push(mirror.into());
        args.extend(os(rest));
        self.run(Invocation {
            args,
            auth: &GitAuth::None,
            known_hosts: None,
        })
        .await
    }

    /// The commit a branch of the mirror points at.
    pub async fn branch_commit(&self, mirror: &Path, branch: &str) -> Result<String, GitError> {
        let spec = format!("refs/heads/{branch}^{{commit}}");
        match self.local(mirror, &["rev-parse", "--verify", "--quiet", &spec]).await {
            Ok(out) => Ok(String::from_utf8_lossy(&out).trim().to_owned()),
            Err(GitError::Remote(_)) => Err(GitError::UnknownBranch(branch.to_owned())),
            Err(e) => Err(e),
        }
    }

    /// Whether `commit` exists in the mirror, as a commit.
    pub async fn has_commit(&self, mirror: &Path, commit: &str) -> Result<bool, GitError> {
        let spec = format!("{commit}^{{commit}}");
        match self.local(mirror, &["rev-parse", "--verify", "--quiet", &spec]).await {
            Ok(_) => Ok(true),
            Err(GitError::Remote(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The subject line of `commit`.
    pub async fn commit_subject(&self, mirror: &Path, commit: &str) -> Result<String, GitError> {
        let out = self.local(mirror, &["log", "-1", "--format=%s", commit]).await?;
        Ok(String::from_utf8_lossy(&out).trim().to_owned())
    }

    /// Writes the tree of `commit` into `dest` (which must exist), streaming `git archive`
    /// into `tar` so a large repository never sits in memory.
    pub async fn export(&self, mirror: &Path, commit: &str, dest: &Path) -> Result<(), GitError> {
        let out = tokio::process::Command::new("bash")
            .arg("-c")
            .arg("set -o pipefail; git -C \"$1\" archive --format=tar \"$2\" | tar -x -C \"$3\"")
            .arg("export")
            .arg(mirror)
            .arg(commit)
            .arg(dest)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("LC_ALL", "C")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let out = bounded_output(out, 0, super::STDERR_CAP).await?;
        if !out.status.success() {
            return Err(GitError::Remote(format!(
                "export failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(())
    }

    /// The files under `root` at `commit`, with the contents detection reads.
    pub async fn read_tree(&self, mirror: &Path, commit: &str, root: &str) -> Result<FileTree, GitError> {
        let listing = self
            .local(mirror, &["ls-tree", "-r", "-z", "-l", "--full-tree", commit])
            .await?;
        let prefix = if root.is_empty() {
            String::new()
        } else {
            format!("{root}/")
        };
        let mut tree = FileTree::new();
        let mut wanted = Vec::new();
        let mut any = false;
        for entry in listing.split(|b| *b == 0).filter(|e| !e.is_empty()).take(MAX_PATHS) {
            let entry = String::from_utf8_lossy(entry);
            let Some((meta, path)) = entry.split_once('\t') else {
                continue;
            };
            let Some(rel) = path.strip_prefix(&prefix) else {
                continue;
            };
            let mut fields = meta.split_whitespace();
            let (kind, size) = (fields.nth(1), fields.nth(1).and_then(|s| s.parse::<usize>().ok()));
            if kind != Some("blob") {
                continue;
            }
            any = true;
            if is_interesting(rel) && size.is_some_and(|s| s <= MAX_READ_BYTES) {
                wanted.push((rel.to_owned(), path.to_owned()));
            } else {
                tree.add_path(rel);
            }
        }
        if !any && !root.is_empty() {
            return Err(GitError::RootNotFound(root.to_owned()));
        }
        for (rel, full) in wanted {
            let blob = self
                .local(mirror, &["cat-file", "blob", &format!("{commit}:{full}")])
                .await?;
            tree.add_file(rel, String::from_utf8_lossy(&blob).into_owned());
        }
        Ok(tree)
    }
}
