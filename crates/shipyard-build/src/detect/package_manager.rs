//! Which JavaScript package manager a repository uses, at which major version, and the
//! commands that follow from it.

use super::{Confidence, Detection, FileTree};
use serde_json::Value;
use shipyard_core::PackageManager;

/// The package manager chosen and its version when known.
pub struct Choice {
    /// The tool.
    pub manager: PackageManager,
    /// Yarn 2+ (berry) rather than classic.
    pub berry: bool,
}

impl Choice {
    /// The command that runs a package.json script.
    pub fn run(&self, script: &str) -> String {
        match self.manager {
            PackageManager::Yarn => format!("yarn {script}"),
            PackageManager::Pnpm => format!("pnpm run {script}"),
            PackageManager::Bun => format!("bun run {script}"),
            _ => format!("npm run {script}"),
        }
    }

    /// The install command for a reproducible install from the lockfile (when there is one).
    pub fn install(&self, tree: &FileTree) -> String {
        match self.manager {
            PackageManager::Yarn if self.berry => "yarn install --immutable".into(),
            PackageManager::Yarn => "yarn install --frozen-lockfile".into(),
            PackageManager::Pnpm => "pnpm install --frozen-lockfile".into(),
            PackageManager::Bun => "bun install --frozen-lockfile".into(),
            _ if tree.exists("package-lock.json") => "npm ci".into(),
            _ => "npm install".into(),
        }
    }
}

/// `lockfileVersion` of pnpm-lock.yaml → the pnpm major that writes it.
fn pnpm_major_for_lockfile(version: &str) -> Option<&'static str> {
    let v = version.trim().trim_matches(['\'', '"']);
    match v.split('.').next()? {
        "9" => Some("9"),
        "6" => Some("8"),
        "5" => Some("7"),
        _ => None,
    }
}

/// Picks the package manager from `packageManager`, then lockfiles, then npm by default.
pub fn choose(tree: &FileTree, pkg: &Value, d: &mut Detection, score: &mut Confidence) -> Choice {
    if let Some(field) = pkg["packageManager"].as_str() {
        let (name, version) = field.split_once('@').unwrap_or((field, ""));
        let version = version.split('+').next().unwrap_or_default();
        let manager = match name {
            "pnpm" => Some(PackageManager::Pnpm),
            "yarn" => Some(PackageManager::Yarn),
            "bun" => Some(PackageManager::Bun),
            "npm" => Some(PackageManager::Npm),
            _ => None,
        };
        if let Some(manager) = manager {
            let berry = manager == PackageManager::Yarn && !version.starts_with('1');
            d.say(format!("package.json pins \"packageManager\": \"{field}\"."));
            d.package_manager = Some(manager);
            d.package_manager_version = (!version.is_empty()).then(|| version.to_owned());
            score.0 += Confidence::LOCKFILE;
            return Choice { manager, berry };
        }
        d.say(format!(
            "package.json names an unknown packageManager \"{field}\"; using npm."
        ));
    }
    let (manager, version, berry) = if let Some(lock) = tree
        .read("pnpm-lock.yaml")
        .or(tree.exists("pnpm-lock.yaml").then_some(""))
    {
        let lockfile_version = lock
            .lines()
            .find_map(|l| l.strip_prefix("lockfileVersion:"))
            .unwrap_or_default();
        let major = pnpm_major_for_lockfile(lockfile_version);
        match major {
            Some(major) => d.say(format!(
                "pnpm-lock.yaml has lockfileVersion {}, which pnpm {major} writes.",
                lockfile_version.trim().trim_matches(['\'', '"'])
            )),
            None => d.say("pnpm-lock.yaml is present."),
        }
        (PackageManager::Pnpm, major.map(str::to_owned), false)
    } else if tree.exists("yarn.lock") {
        let berry = tree.read("yarn.lock").is_some_and(|l| l.contains("__metadata:")) || tree.exists(".yarnrc.yml");
        if berry {
            d.say("yarn.lock is in the Yarn 2+ (berry) format.");
        } else {
            d.say("yarn.lock is in the Yarn 1 (classic) format.");
        }
        (
            PackageManager::Yarn,
            Some(if berry { "berry" } else { "1" }.to_owned()),
            berry,
        )
    } else if tree.exists("bun.lockb") || tree.exists("bun.lock") {
        d.say("A bun lockfile is present.");
        (PackageManager::Bun, None, false)
    } else if tree.exists("package-lock.json") {
        let lockfile_version = tree
            .read("package-lock.json")
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
            .and_then(|v| v["lockfileVersion"].as_u64());
        match lockfile_version {
            Some(v) => d.say(format!(
                "package-lock.json (lockfileVersion {v}) is present: npm installs from it."
            )),
            None => d.say("package-lock.json is present: npm installs from it."),
        }
        (PackageManager::Npm, None, false)
    } else {
        d.say("No lockfile was found: npm installs the latest versions the ranges allow.");
        d.package_manager = Some(PackageManager::Npm);
        return Choice {
            manager: PackageManager::Npm,
            berry: false,
        };
    };
    score.0 += Confidence::LOCKFILE;
    d.package_manager = Some(manager);
    d.package_manager_version = version;
    Choice { manager, berry }
}
