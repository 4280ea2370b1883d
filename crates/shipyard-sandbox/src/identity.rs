//! The user a project's sandboxed processes run as, and the `/etc/passwd` and `/etc/group`
//! they see, so `id`, `whoami`, `os.userInfo()` and `getpass` name it. The uid is the
//! project's own (allocated by the store from the configured range); the host needs no
//! account for it.

use crate::bwrap::write_root_file;
use std::path::{Path, PathBuf};

/// The account name every sandbox user has inside its sandbox.
pub const SANDBOX_USER: &str = "app";

/// A uid and gid with no other members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// The uid.
    pub uid: u32,
    /// The gid (the same number: every project has a group of its own).
    pub gid: u32,
}

impl Identity {
    /// `nobody`: what processes not tied to a project (the start-up probe) run as.
    pub const NOBODY: Identity = Identity { uid: 65534, gid: 65534 };

    /// The identity of a project's sandboxes, from its allocated uid.
    pub fn project(uid: u32) -> Self {
        Identity { uid, gid: uid }
    }

    /// The `/etc/passwd` a sandbox of this identity sees, its home at `home`.
    pub fn passwd(&self, home: &Path) -> String {
        format!(
            "root:x:0:0:root:/root:/usr/sbin/nologin\n\
             {SANDBOX_USER}:x:{}:{}:{SANDBOX_USER}:{}:/bin/sh\n\
             nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
            self.uid,
            self.gid,
            home.display()
        )
    }

    /// The `/etc/group` a sandbox of this identity sees.
    pub fn group(&self) -> String {
        format!("root:x:0:\n{SANDBOX_USER}:x:{}:\nnogroup:x:65534:\n", self.gid)
    }

    /// Writes the two files under `dir/<uid>/`; returns their paths.
    pub(crate) fn write_files(&self, dir: &Path, home: &Path) -> std::io::Result<(PathBuf, PathBuf)> {
        let own = dir.join(self.uid.to_string());
        Ok((
            write_root_file(&own, "passwd", &self.passwd(home))?,
            write_root_file(&own, "group", &self.group())?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_name_the_project_user_and_its_home() {
        let me = Identity::project(200_007);
        assert!(
            me.passwd(Path::new("/home/build"))
                .contains("app:x:200007:200007:app:/home/build:/bin/sh\n")
        );
        assert!(me.group().contains("app:x:200007:\n"));
        let dir = tempfile::tempdir().expect("tempdir");
        let (passwd, group) = me.write_files(dir.path(), Path::new("/home/build")).expect("write");
        assert_eq!(
            std::fs::read_to_string(passwd).expect("read"),
            me.passwd(Path::new("/home/build"))
        );
        assert_eq!(std::fs::read_to_string(group).expect("read"), me.group());
    }
}
