//! A process of a release placed in its sandbox, ready to start: a fresh HOME, a network
//! namespace of its own (forwarding what it is given in), the doors to its attached databases,
//! its limit group, and the command with the release's files, environment and secrets. An
//! instance and a one-off command (pre-deploy, `shipyard run`) are placed alike.

use super::{APP_DIR, Driver, HOME_DIR, InstanceSpec};
use shipyard_core::{RELEASE_TOOLS_DIR, SecretString};
use shipyard_sandbox::network::Opened;
use shipyard_sandbox::{
    Bind, Disk, DiskKind, DiskSpec, Forward, Identity, LimitGroup, Network, SandboxedCommand, Spec,
    inherited_host_settings,
};
use std::path::{Path, PathBuf};

/// What a placed process holds while it runs; each part goes when dropped (the HOME with
/// `Disk::release`).
pub(super) struct Placed {
    /// Its command, ready to spawn.
    pub(super) command: SandboxedCommand,
    /// Its limit group.
    pub(super) group: Option<LimitGroup>,
    /// Its network namespace.
    pub(super) network: Option<Network>,
    /// The doors to its attached databases.
    pub(super) doors: Option<Opened>,
    /// Its HOME.
    pub(super) home_disk: Disk,
    /// Whether it runs confined (in the sandbox).
    pub(super) confined: bool,
}

impl Driver {
    /// Places a process of `spec`'s release named `name` (unique among the server's runs)
    /// that runs `program` with `sh -c`, given `port` as `PORT`, `forwards` into its namespace.
    pub(super) async fn place(
        &self,
        spec: &InstanceSpec,
        name: &str,
        port: u16,
        forwards: &[Forward],
        program: &str,
    ) -> std::io::Result<Placed> {
        let confined = self.sandbox.is_confined();
        let (sandbox, net_name, forwards) = (self.sandbox.clone(), name.to_owned(), forwards.to_vec());
        // Independent, and each tens of milliseconds of a start's time to its first answer: made
        // at once (whichever fails, the other is dropped, and with it undone).
        let network = async {
            tokio::task::spawn_blocking(move || sandbox.network_forwarding(&net_name, &forwards))
                .await
                .map_err(std::io::Error::other)?
                .map_err(std::io::Error::other)
        };
        let (home_disk, network) = tokio::join!(self.home_disk(name, spec, confined), network);
        let (home_disk, network) = (home_disk?, network?);
        let home = home_disk.path().to_owned();
        // Its attached databases, reachable from inside for as long as it runs (or until a
        // detach closes them).
        let doors = match &network {
            Some(net) if !spec.doors.is_empty() => Some(self.doors.open(net.path(), &spec.doors).await?),
            _ => None,
        };
        let (app, home_in) = if confined {
            (PathBuf::from(APP_DIR), PathBuf::from(HOME_DIR))
        } else {
            (spec.artifact.clone(), home.clone())
        };
        let bound = self
            .sandbox
            .for_project(Identity::project(spec.uid), &home_in, network.as_ref())
            .map_err(std::io::Error::other)?;
        let chdir = if spec.root_directory.is_empty() {
            app.clone()
        } else {
            app.join(&spec.root_directory)
        };
        let mut path = vec![chdir.join("node_modules/.bin"), chdir.join(".venv/bin")];
        // The package manager the build used, when the release carries a copy of it.
        let tools = Path::new(&spec.root_directory).join(RELEASE_TOOLS_DIR);
        for tool in shipyard_sandbox::files::subdirectories_served(&spec.artifact, &tools) {
            path.push(chdir.join(RELEASE_TOOLS_DIR).join(tool).join("node_modules/.bin"));
        }
        let mut env: Vec<(String, SecretString)> = Vec::new();
        let mut put = |k: &str, v: String| env.push((k.to_owned(), SecretString::from(v)));
        let path: Vec<String> = path.iter().map(|p| p.display().to_string()).collect();
        put("PATH", format!("{}:/usr/local/bin:/usr/bin:/bin", path.join(":")));
        put("HOME", home_in.display().to_string());
        put("PORT", port.to_string());
        put("LANG", "C.UTF-8".into());
        put("NODE_ENV", "production".into());
        // `npm start` would otherwise ask the registry for a newer npm first: a third of a
        // second of every start (measured), and traffic the app never asked for.
        put("npm_config_update_notifier", "false".into());
        for (k, v) in inherited_host_settings() {
            put(&k, v);
        }
        env.extend(spec.env.iter().cloned());
        let spec_run = Spec {
            binds: vec![
                Bind {
                    host: spec.artifact.clone(),
                    inside: app.clone(),
                    writable: false,
                },
                Bind {
                    host: home.clone(),
                    inside: home_in.clone(),
                    writable: true,
                },
            ],
            env,
            chdir,
            program: vec!["sh".into(), "-c".into(), program.into()],
        };
        let group = bound.with_limits(spec.limits).limit_group(name)?;
        // pasta's relay (on its path) is the instance's: its memory and sockets count against
        // the instance's limits, not the platform's.
        if let (Some(group), Some(relay)) = (&group, network.as_ref().and_then(|n| n.relay_pid())) {
            group.adopt(relay)?;
        }
        let command = bound
            .command(&spec_run, group.as_ref())
            .map_err(std::io::Error::other)?;
        Ok(Placed {
            command,
            group,
            network,
            doors,
            home_disk,
            confined,
        })
    }

    /// A fresh HOME for one process of a release, `limits.diskMb` in size, that only the
    /// release's user may enter; it goes when the process ends (like a Heroku dyno's files).
    async fn home_disk(&self, name: &str, spec: &InstanceSpec, confined: bool) -> std::io::Result<Disk> {
        let at = self.root.join(name).join("home");
        let (disks, workspaces, bytes, owner) = (
            self.disks.clone(),
            self.workspaces.clone(),
            spec.home_bytes,
            confined.then_some((spec.uid, spec.uid)),
        );
        let (tenant, name) = (spec.tenant.to_string(), name.to_owned());
        tokio::task::spawn_blocking(move || {
            // On the workspace's disk: HOMEs count towards its storageGbLimit.
            workspaces.while_mounted(&tenant, |_| {
                disks.attach(&DiskSpec {
                    image: &workspaces.home_image(&tenant, &name),
                    at: &at,
                    bytes,
                    owner,
                    kind: DiskKind::Scratch,
                })
            })
        })
        .await
        .map_err(std::io::Error::other)?
        .map_err(std::io::Error::other)
    }
}
