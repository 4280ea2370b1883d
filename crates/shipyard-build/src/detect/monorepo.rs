//! Repositories whose app lives in a sub-directory: list the candidates for `rootDirectory`.

use super::{Detection, FileTree, detect_here};
use std::collections::BTreeSet;

/// Manifests that mark a directory as a possible app.
const MARKERS: &[&str] = &[
    "package.json",
    "requirements.txt",
    "pyproject.toml",
    "Pipfile",
    "index.html",
];

/// Adds the sub-directories (up to two levels deep) that hold a recognisable app.
pub fn suggest(tree: &FileTree, d: &mut Detection) {
    let dirs: BTreeSet<&str> = tree
        .paths()
        .filter_map(|p| {
            let (dir, name) = p.rsplit_once('/')?;
            let depth = dir.matches('/').count();
            (depth <= 1
                && MARKERS.contains(&name)
                && !dir.split('/').any(|s| s == "node_modules" || s.starts_with('.')))
            .then_some(dir)
        })
        .collect();
    let candidates: Vec<String> = dirs
        .into_iter()
        .filter_map(|dir| {
            let found = detect_here(&tree.subtree(dir));
            let ty = found.project_type?;
            Some(format!(
                "{dir} ({}: {})",
                ty.as_str(),
                found.framework.unwrap_or_default()
            ))
        })
        .collect();
    if !candidates.is_empty() {
        d.say(format!(
            "No app at the repository root, but {} sub-director{} hold{} one; set rootDirectory to one of: {}.",
            candidates.len(),
            if candidates.len() == 1 { "y" } else { "ies" },
            if candidates.len() == 1 { "s" } else { "" },
            candidates.join(", ")
        ));
    }
}
