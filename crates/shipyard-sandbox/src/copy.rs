//! Copying into a directory tenants write, as the sandbox user inside the sandbox.

use crate::bwrap::{Isolation, Sandbox, SandboxError};
use crate::command::{SandboxedCommand, nul_joined};
use crate::limiter::LimitGroup;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

impl Sandbox {
    /// The command that copies `source` (read-only) to `dest_dir/name` as the sandbox's user
    /// inside the sandbox, then refreshes the timestamp of `dest_dir/touch`. `dest_dir` is a
    /// directory tenants write (a project's cache), so the copy runs in `group`'s limits: a link they planted there resolves inside
    /// the sandbox's view (the host read-only, their own cache), so the copy can never write
    /// through it into the host, as a root `cp` would.
    pub fn copy_command(
        &self,
        source: &Path,
        dest_dir: &Path,
        name: &str,
        touch: Option<&str>,
        group: Option<&LimitGroup>,
    ) -> Result<SandboxedCommand, SandboxError> {
        let (from, to) = match self.isolation {
            Isolation::Bubblewrap => (PathBuf::from("/srv/source"), PathBuf::from("/srv/dest")),
            Isolation::None => (source.to_owned(), dest_dir.to_owned()),
        };
        let mut script = String::from("cp -a \"$1\" \"$2/$3\"");
        if touch.is_some() {
            // The name comes from a link the tenant controls: a touch that fails is no failure.
            script.push_str(" && { touch -c \"$2/$4\" 2>/dev/null || true; }");
        }
        let mut cmd = self.base_command(Path::new("/"), group);
        cmd.env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("LANG", "C.UTF-8");
        let mut tail: Vec<OsString> = vec!["sh".into(), "-c".into(), script.into(), "copy".into()];
        tail.extend([
            from.clone().into(),
            to.clone().into(),
            name.into(),
            touch.unwrap_or("").into(),
        ]);
        let Isolation::Bubblewrap = self.isolation else {
            cmd.args(tail);
            return Ok(SandboxedCommand {
                command: cmd,
                stdin_args: None,
            });
        };
        cmd.args(["--args", "0", "--"]).args(tail);
        let mut inner: Vec<OsString> = vec![
            "--clearenv".into(),
            "--setenv".into(),
            "PATH".into(),
            "/usr/bin:/bin".into(),
        ];
        inner.extend(self.base_view());
        inner.extend(["--ro-bind".into(), source.into(), from.into()]);
        inner.extend(["--bind".into(), dest_dir.into(), to.into()]);
        Ok(SandboxedCommand {
            command: cmd,
            stdin_args: Some(nul_joined(inner)?),
        })
    }
}
