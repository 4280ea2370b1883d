//! Package caches per project: kept between builds in `cache/` on the project's build disk, keyed by
//! the package manager and the lockfile's hash, so an unchanged lockfile installs offline
//! from the cache. The build log says hit or miss, and why.

use std::path::{Path, PathBuf};

/// Lockfiles that pin an install, in the order they are looked for.
const LOCKFILES: &[&str] = &[
    "package-lock.json",
    "npm-shrinkwrap.json",
    "pnpm-lock.yaml",
    "yarn.lock",
    "bun.lock",
    "bun.lockb",
    "uv.lock",
    "poetry.lock",
    "Pipfile.lock",
    "requirements.txt",
];

/// The cache of one build.
pub(crate) struct BuildCache {
    /// Directory mounted into the build.
    pub dir: PathBuf,
    /// Whether the key matched: the lockfile and package manager are unchanged.
    pub hit: bool,
    /// The sentence for the build log.
    pub message: String,
    key: String,
}

/// `sha256` of the app's lockfile, and its name. The lockfile is the tenant's: streamed,
/// never read whole, and not followed when it is a link (then the cache misses).
fn lockfile_hash(app: &Path) -> Option<(String, String)> {
    LOCKFILES.iter().find_map(|name| {
        let hash = shipyard_sandbox::sha256_file(app, Path::new(name)).ok()?;
        Some(((*name).to_owned(), hash))
    })
}

impl BuildCache {
    /// Opens (or, with `clear`, empties) the cache of a project for a build of `app` with
    /// `manager` (e.g. `pnpm 9`).
    pub fn prepare(
        root: &Path,
        manager: &str,
        app: &Path,
        clear: bool,
        owner: Option<(u32, u32)>,
    ) -> std::io::Result<Self> {
        let dir = root.join("files");
        let key_file = root.join("key");
        // A cache another sandbox user filled (the shared build user of older versions) is
        // not handed over: chowning a tree a tenant wrote would be a root file operation on it.
        let foreign = owner.is_some_and(|(uid, _)| {
            use std::os::unix::fs::MetadataExt;
            std::fs::symlink_metadata(&dir).is_ok_and(|m| m.uid() != uid)
        });
        if clear || foreign {
            let _ = std::fs::remove_dir_all(root);
        }
        let fresh = !dir.exists();
        std::fs::create_dir_all(&dir)?;
        if fresh && let Some((uid, gid)) = owner {
            use std::os::unix::fs::PermissionsExt;
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))?;
            // The project's user alone may enter its cache.
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        }
        let lock = lockfile_hash(app);
        let key = format!("{manager}\n{}", lock.as_ref().map_or("", |(_, hash)| hash.as_str()));
        let previous = std::fs::read_to_string(&key_file).ok();
        let (hit, message) = match (&lock, previous) {
            _ if clear => (
                false,
                "cache miss: cleared on request (clearCache: true); installing from scratch".to_owned(),
            ),
            (None, _) => (
                false,
                "cache miss: no lockfile to key the cache on; packages already cached are reused".to_owned(),
            ),
            (Some(_), None) if foreign => (
                false,
                "cache miss: the cache belonged to another sandbox user; starting a new one".to_owned(),
            ),
            (Some(_), None) => (false, "cache miss: first build with this cache".to_owned()),
            (Some((name, _)), Some(previous)) if previous == key => (
                true,
                format!("cache hit: {name} and {manager} unchanged; installing offline from the cache"),
            ),
            (Some(_), Some(previous)) if previous.lines().next() != Some(manager) => (
                false,
                format!(
                    "cache miss: package manager changed ({} → {manager})",
                    previous.lines().next().unwrap_or("none")
                ),
            ),
            (Some((name, _)), Some(_)) => (false, format!("cache miss: {name} changed")),
        };
        Ok(Self { dir, hit, message, key })
    }

    /// Records the key once a build succeeded with this cache.
    pub fn commit(&self) -> std::io::Result<()> {
        let root = self.dir.parent().unwrap_or(&self.dir);
        std::fs::write(root.join("key"), &self.key)
    }
}
