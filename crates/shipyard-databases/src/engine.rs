//! Which PostgreSQL majors this host can run: the directories of Debian's `postgresql`
//! packages (`/usr/lib/postgresql/<major>/bin`) that hold both `initdb` and `postgres`.

use crate::error::DatabaseError;
use std::path::{Path, PathBuf};

/// The only engine there is.
pub const POSTGRES: &str = "postgres";

/// One installed major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    /// The major version (`15`).
    pub version: String,
    /// Its `bin/` directory.
    pub bin: PathBuf,
}

/// The installed majors, newest first.
#[derive(Debug, Clone, Default)]
pub struct Engines {
    installed: Vec<Engine>,
}

impl Engines {
    /// Reads the majors installed under `root` (`/usr/lib/postgresql` on Debian).
    pub fn discover(root: &Path) -> Self {
        let mut installed: Vec<Engine> = std::fs::read_dir(root)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let version = entry.file_name().to_str()?.to_owned();
                let bin = entry.path().join("bin");
                (version.chars().all(|c| c.is_ascii_digit())
                    && bin.join("initdb").is_file()
                    && bin.join("postgres").is_file())
                .then_some(Engine { version, bin })
            })
            .collect();
        installed.sort_by_key(|e| std::cmp::Reverse(e.version.parse::<u32>().unwrap_or(0)));
        Self { installed }
    }

    /// The majors, newest first.
    pub fn versions(&self) -> Vec<&str> {
        self.installed.iter().map(|e| e.version.as_str()).collect()
    }

    /// The engine a request asks for: `postgres` at `version` (a major, `15` or `15.x`), or
    /// the newest installed.
    pub fn choose(&self, engine: &str, version: Option<&str>) -> Result<&Engine, DatabaseError> {
        if engine != POSTGRES {
            return Err(DatabaseError::UnknownEngine(engine.to_owned()));
        }
        let newest = self.installed.first().ok_or(DatabaseError::NoServer)?;
        let Some(asked) = version else {
            return Ok(newest);
        };
        let major = asked.split('.').next().unwrap_or(asked);
        self.installed
            .iter()
            .find(|e| e.version == major)
            .ok_or_else(|| DatabaseError::UnknownVersion {
                asked: asked.to_owned(),
                offered: self.versions().join(", "),
            })
    }

    /// The installed engine of `version` exactly (a stored database's).
    pub fn installed(&self, version: &str) -> Result<&Engine, DatabaseError> {
        self.installed
            .iter()
            .find(|e| e.version == version)
            .ok_or_else(|| DatabaseError::UnknownVersion {
                asked: version.to_owned(),
                offered: self.versions().join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn install(root: &Path, major: &str, files: &[&str]) {
        let bin = root.join(major).join("bin");
        std::fs::create_dir_all(&bin).expect("bin");
        for f in files {
            std::fs::write(bin.join(f), "").expect("file");
        }
    }

    #[test]
    fn majors_with_both_binaries_are_offered_newest_first() {
        let root = tempfile::tempdir().expect("tempdir");
        install(root.path(), "15", &["initdb", "postgres"]);
        install(root.path(), "16", &["initdb", "postgres"]);
        install(root.path(), "14", &["psql"]);
        let engines = Engines::discover(root.path());
        assert_eq!(engines.versions(), ["16", "15"]);
        assert_eq!(
            engines.choose("postgres", None).map(|e| e.version.as_str()).ok(),
            Some("16")
        );
        assert_eq!(
            engines
                .choose("postgres", Some("15.4"))
                .map(|e| e.version.as_str())
                .ok(),
            Some("15")
        );
        let refused = engines
            .choose("postgres", Some("14"))
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(refused.contains("14") && refused.contains("16, 15"), "{refused}");
        let mysql = engines.choose("mysql", None).map(|_| ()).unwrap_err().to_string();
        assert!(mysql.contains("mysql"), "{mysql}");
    }

    #[test]
    fn a_host_without_servers_names_the_package() {
        let root = tempfile::tempdir().expect("tempdir");
        let missing = Engines::discover(root.path())
            .choose("postgres", None)
            .map(|_| ())
            .unwrap_err();
        assert!(missing.to_string().contains("apt-get install postgresql"), "{missing}");
    }
}
