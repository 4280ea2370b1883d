//! Reading a remote's branches without fetching it (`git ls-remote`).

use super::{Git, GitAuth, GitError, Invocation};
use serde::Serialize;
use shipyard_core::GitUrl;
use std::path::Path;

/// A branch and the commit it points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Branch {
    /// Branch name, e.g. `main`.
    pub name: String,
    /// Commit SHA.
    pub commit_sha: String,
}

/// What `ls-remote` tells about a repository.
#[derive(Debug, Clone, Default)]
pub struct RemoteRefs {
    /// The branch HEAD points at, when the server says.
    pub head: Option<String>,
    /// Every branch.
    pub branches: Vec<Branch>,
}

impl RemoteRefs {
    /// Whether `name` is a branch of the remote.
    pub fn has_branch(&self, name: &str) -> bool {
        self.branches.iter().any(|b| b.name == name)
    }
}

fn parse(out: &str) -> RemoteRefs {
    let mut refs = RemoteRefs::default();
    for line in out.lines() {
        let Some((left, right)) = line.split_once('\t') else {
            continue;
        };
        if let Some(target) = left.strip_prefix("ref: ") {
            if right == "HEAD" {
                refs.head = target.strip_prefix("refs/heads/").map(str::to_owned);
            }
        } else if let Some(name) = right.strip_prefix("refs/heads/") {
            refs.branches.push(Branch {
                name: name.to_owned(),
                commit_sha: left.to_owned(),
            });
        }
    }
    refs.branches.sort_by(|a, b| a.name.cmp(&b.name));
    refs
}

impl Git {
    /// Lists the remote's branches and HEAD: proves the URL and credentials work.
    pub async fn ls_remote(
        &self,
        url: &GitUrl,
        auth: &GitAuth,
        known_hosts: Option<&Path>,
    ) -> Result<RemoteRefs, GitError> {
        let mut args = vec!["ls-remote".into(), "--symref".into()];
        args.extend(super::upload_pack_args(url));
        args.extend([url.as_str().into(), "HEAD".into(), "refs/heads/*".into()]);
        let out = self
            .run(Invocation {
                args,
                auth,
                known_hosts,
            })
            .await
            .map_err(|e| super::explain_local(url, e))?;
        Ok(parse(&String::from_utf8_lossy(&out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_symref_head_and_branches() {
        let out = "ref: refs/heads/main\tHEAD\nabc\tHEAD\ndef\trefs/heads/main\n123\trefs/heads/dev\n";
        let refs = parse(out);
        assert_eq!(refs.head.as_deref(), Some("main"));
        assert_eq!(
            refs.branches.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(),
            ["dev", "main"]
        );
        assert!(refs.has_branch("dev") && !refs.has_branch("HEAD"));
    }
}
