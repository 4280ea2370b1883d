//! Detection: what a repository is, how to build and start it, and why we think so. Pure
//! functions over a `FileTree`; repository code is never executed.

mod monorepo;
mod node;
mod package_manager;
mod python;
mod tree;
mod versions;

pub use shipyard_core::detection::Detection;
pub use tree::{FileTree, MAX_READ_BYTES, is_interesting};

use shipyard_core::ProjectType;

/// Running tally of how sure detection is; every adjustment is tied to a piece of evidence.
struct Confidence(f64);

impl Confidence {
    /// A manifest was found: we know the ecosystem, not yet the app.
    const MANIFEST: f64 = 0.5;
    /// A framework was recognised.
    const FRAMEWORK: f64 = 0.3;
    /// The package manager is pinned or implied by a lockfile.
    const LOCKFILE: f64 = 0.1;
    /// Build/start commands came from the repository's own scripts.
    const OWN_COMMANDS: f64 = 0.05;
    /// Two signals disagree.
    const CONFLICT: f64 = -0.25;
    /// Something needed to run was not found and had to be guessed.
    const GUESS: f64 = -0.2;

    fn finish(self) -> f64 {
        (self.0.clamp(0.05, 0.99) * 100.0).round() / 100.0
    }
}

/// Detects the app at the root of `tree`.
pub fn detect(tree: &FileTree) -> Detection {
    let mut found = detect_here(tree);
    if found.project_type.is_none() {
        monorepo::suggest(tree, &mut found);
    }
    for why in &tree.unreadable {
        found.say(format!("Not read: {why}."));
    }
    found
}

/// Detection of the directory itself, without looking for sub-projects.
fn detect_here(tree: &FileTree) -> Detection {
    let mut d = Detection::unknown();
    if tree.is_empty() {
        d.say("The directory is empty: there is nothing to build or serve.");
        return d;
    }
    let mut score = Confidence(0.0);
    let python_manifest = tree.first_existing(&["requirements.txt", "pyproject.toml", "Pipfile"]);
    if tree.exists("package.json") {
        node::detect(tree, &mut d, &mut score);
        if let (Some(manifest), Some(ProjectType::Node)) = (python_manifest, d.project_type) {
            d.say(format!(
                "{manifest} exists too, but package.json decides: this is treated as a Node.js app."
            ));
            score.0 += Confidence::CONFLICT;
        }
    }
    if d.project_type.is_none() && python_manifest.is_some() {
        d = Detection::unknown();
        score = Confidence(0.0);
        python::detect(tree, &mut d, &mut score);
    }
    if d.project_type.is_none() && !tree.exists("package.json") && tree.exists("index.html") {
        d.classify(ProjectType::Static, "Static HTML");
        d.output_directory = Some(".".into());
        d.say(
            "index.html is at the root and there is no package.json: the files are served as they are, with no build.",
        );
        score.0 = Confidence::MANIFEST + Confidence::FRAMEWORK + Confidence::LOCKFILE;
    }
    if d.project_type.is_none() {
        if d.evidence.is_empty() {
            d.say(
                "No package.json, requirements.txt, pyproject.toml, Pipfile or index.html at the root: \
                 the project type cannot be told.",
            );
        }
        d.confidence = 0.0;
        return d;
    }
    d.confidence = score.finish();
    d
}
