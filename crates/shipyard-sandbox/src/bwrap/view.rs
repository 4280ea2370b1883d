//! What every sandbox sees of the host: its base view, before the binds of its own spec.

use super::Sandbox;
use std::ffi::{OsStr, OsString};
use std::path::Path;

/// The host's paths a sandbox sees (read-only), where the host has them.
const SHOWN: [&str; 10] = [
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt", "/sys",
];

impl Sandbox {
    /// What every sandbox sees before its own binds: only what builds and instances need of
    /// the host, read-only (the system and its toolchains under `/usr` and `/opt`, `/etc` for
    /// its configuration and CA certificates, `/sys`), fresh `/dev`, `/proc`, `/tmp`, `/var/tmp`
    /// and `/run`, and nothing else: no host socket (D-Bus, journald, `/run/postgresql`, a
    /// root-owned one in `/var/tmp`), home, `/srv` or data directory. Paths a spec binds
    /// (`/srv/app`, `/home/…`) are made in the sandbox's own root.
    pub(crate) fn base_view(&self) -> Vec<OsString> {
        let mut view: Vec<OsString> = Vec::new();
        let mut add = |args: &[&OsStr]| view.extend(args.iter().map(|a| a.to_os_string()));
        for root in SHOWN {
            let path = Path::new(root);
            match std::fs::symlink_metadata(path) {
                // Merged /usr: `/bin` is a link to `usr/bin`, made again inside.
                Ok(meta) if meta.file_type().is_symlink() => {
                    if let Ok(target) = std::fs::read_link(path) {
                        add(&["--symlink".as_ref(), target.as_os_str(), path.as_os_str()]);
                    }
                }
                Ok(meta) if meta.is_dir() => add(&["--ro-bind".as_ref(), path.as_os_str(), path.as_os_str()]),
                _ => {}
            }
        }
        for fresh in ["/tmp", "/var/tmp", "/run"] {
            add(&["--tmpfs".as_ref(), fresh.as_ref()]);
        }
        add(&["--symlink".as_ref(), "../run".as_ref(), "/var/run".as_ref()]);
        add(&["--dev".as_ref(), "/dev".as_ref(), "--proc".as_ref(), "/proc".as_ref()]);
        // The data directory and work root, where they lie under what is shown (a data
        // directory in /opt): hidden under an empty tmpfs.
        for hidden in self
            .hidden
            .iter()
            .filter(|p| SHOWN.iter().any(|root| p.starts_with(root)) && p.symlink_metadata().is_ok())
        {
            view.extend(["--tmpfs".into(), hidden.clone().into_os_string()]);
        }
        if let (Some(resolv), Some(_)) = (&self.resolv_conf, &self.netns) {
            view.extend([
                "--ro-bind".into(),
                resolv.clone().into_os_string(),
                "/etc/resolv.conf".into(),
            ]);
        }
        if let Some((passwd, group)) = &self.user_files {
            view.extend([
                "--ro-bind".into(),
                passwd.clone().into_os_string(),
                "/etc/passwd".into(),
                "--ro-bind".into(),
                group.clone().into_os_string(),
                "/etc/group".into(),
            ]);
        }
        view
    }
}
