//! Runtime versions the repository asks for.

use super::{Detection, FileTree};
use serde_json::Value;

/// Node.js version from `engines.node`, `.nvmrc` or `.node-version`.
pub fn node(tree: &FileTree, pkg: &Value, d: &mut Detection) {
    if let Some(range) = pkg["engines"]["node"].as_str() {
        d.node_version = Some(range.trim().to_owned());
        d.say(format!(
            "package.json asks for Node.js {} (engines.node).",
            range.trim()
        ));
    } else if let Some((file, text)) = [".nvmrc", ".node-version"]
        .iter()
        .find_map(|f| tree.read(f).map(|t| (f, t)))
    {
        let version = text.trim().trim_start_matches('v');
        if !version.is_empty() {
            d.node_version = Some(version.to_owned());
            d.say(format!("{file} asks for Node.js {version}."));
        }
    }
}

/// Python version from `.python-version`, `runtime.txt` or `requires-python`.
pub fn python(tree: &FileTree, pyproject: Option<&toml::Table>, d: &mut Detection) {
    if let Some(text) = tree.read(".python-version") {
        let version = text.lines().next().unwrap_or_default().trim();
        if !version.is_empty() {
            d.python_version = Some(version.to_owned());
            d.say(format!(".python-version asks for Python {version}."));
            return;
        }
    }
    if let Some(text) = tree.read("runtime.txt") {
        let version = text.trim().trim_start_matches("python-");
        if !version.is_empty() {
            d.python_version = Some(version.to_owned());
            d.say(format!("runtime.txt asks for Python {version}."));
            return;
        }
    }
    let requires = pyproject
        .and_then(|p| p.get("project"))
        .and_then(|p| p.get("requires-python"))
        .and_then(|v| v.as_str());
    if let Some(requires) = requires {
        d.python_version = Some(requires.to_owned());
        d.say(format!("pyproject.toml requires Python {requires}."));
    }
}
