//! What a sandboxed process gets, and the command that gives it exactly that: the base view,
//! the binds of the spec, its environment and nothing else. Under bubblewrap the host-side
//! processes (the limit-group `sh`, `bwrap`) get a fixed minimal environment, and the spec's
//! environment and binds reach bwrap only through `--args 0` on a pipe, so no secret is in a
//! host-side process's argv or environ.

use crate::bwrap::{Sandbox, SandboxError};
use crate::command::{SandboxedCommand, nul_joined};
use crate::limiter::LimitGroup;
use shipyard_core::{ExposeSecret, SecretString};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// A host path that appears inside the sandbox.
#[derive(Debug, Clone)]
pub struct Bind {
    /// On the host.
    pub host: PathBuf,
    /// Inside.
    pub inside: PathBuf,
    /// Writable (else read-only).
    pub writable: bool,
}

/// One sandboxed process.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Paths it sees besides the base view.
    pub binds: Vec<Bind>,
    /// Its whole environment.
    pub env: Vec<(String, SecretString)>,
    /// Its working directory (inside).
    pub chdir: PathBuf,
    /// The program and its arguments.
    pub program: Vec<OsString>,
}

/// Host settings every sandboxed process inherits: trust anchors and proxies. A host behind a
/// TLS-inspecting proxy or a private registry mirror must hand these on, or every install
/// fails on certificates.
const INHERITED: &[&str] = &[
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "REQUESTS_CA_BUNDLE",
    "PIP_CERT",
    "CURL_CA_BUNDLE",
    "GIT_SSL_CAINFO",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
];

/// The host's trust-anchor and proxy settings that are set, by name.
pub fn inherited_host_settings() -> Vec<(String, String)> {
    INHERITED
        .iter()
        .filter_map(|key| std::env::var(key).ok().map(|v| ((*key).to_owned(), v)))
        .collect()
}

impl Sandbox {
    /// The command that runs `spec`, joining `group` first.
    pub fn command(&self, spec: &Spec, group: Option<&LimitGroup>) -> Result<SandboxedCommand, SandboxError> {
        let mut cmd = self.base_command(Path::new("/"), group);
        cmd.env_clear();
        if !self.is_confined() {
            // Unconfined (--insecure-no-sandbox): there is no inside, so the spec's environment
            // is the process's own, as that mode announces.
            cmd.current_dir(&spec.chdir);
            cmd.args(&spec.program);
            cmd.envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.expose_secret())));
            return Ok(SandboxedCommand {
                command: cmd,
                stdin_args: None,
            });
        }
        cmd.env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").env("LANG", "C.UTF-8");
        let mut inner: Vec<OsString> = vec!["--clearenv".into()];
        for (key, value) in &spec.env {
            inner.extend(["--setenv".into(), key.into(), value.expose_secret().into()]);
        }
        inner.extend(self.base_view());
        // Its own cgroups only, in a cgroup namespace of its own: `/proc/self/cgroup` says `/`.
        inner.extend(["--unshare-cgroup".into(), "--tmpfs".into(), "/sys/fs/cgroup".into()]);
        for (host, inside) in group.map(LimitGroup::inside_views).unwrap_or_default() {
            inner.extend(["--ro-bind".into(), host.into(), inside.into()]);
        }
        for bind in &spec.binds {
            let flag = if bind.writable { "--bind" } else { "--ro-bind" };
            inner.extend([flag.into(), bind.host.clone().into(), bind.inside.clone().into()]);
        }
        inner.extend(["--chdir".into(), spec.chdir.clone().into()]);
        // bwrap takes the program only from its real argv: it is configuration (a build
        // command members read through the API), never a secret.
        cmd.args(["--args", "0", "--"]).args(&spec.program);
        Ok(SandboxedCommand {
            command: cmd,
            stdin_args: Some(nul_joined(inner)?),
        })
    }
}
