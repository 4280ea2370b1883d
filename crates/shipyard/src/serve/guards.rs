//! What `serve` leaves behind however it ends: its cgroups and its mounts go with it.

use shipyard_build::build::Sandbox;
use shipyard_store::Layout;

/// Removes the server's cgroup directories however `run` ends, a start that fails after the
/// sandbox is set up included; declared before everything that runs in them, it goes last.
pub(super) struct GroupsRemovedOnExit(pub(super) Sandbox);

impl Drop for GroupsRemovedOnExit {
    fn drop(&mut self) {
        self.0.remove_own_groups();
    }
}

/// Unmounts the server's disks however `run` ends (a panic on a closed stdout included): build
/// disks and instances' HOMEs (waiting for one being mounted, and refusing any after), then the
/// workspaces' disks that held both, and the sandboxes' tmpfs; a work root of its own outside
/// the data directory goes too, once empty. Declared after the groups' guard, it goes before it.
pub(super) struct MountsRemovedOnExit {
    pub(super) layout: Layout,
    pub(super) build_disks: shipyard_sandbox::Disks,
    pub(super) home_disks: shipyard_sandbox::Disks,
    pub(super) database_disks: shipyard_sandbox::Disks,
    pub(super) workspaces: shipyard_sandbox::Workspaces,
}

impl MountsRemovedOnExit {
    /// Unmounts the disks inside workspaces' disks (build disks, HOMEs); returns how many.
    pub(super) fn unmount_inner(&self) -> usize {
        [
            self.layout.project_mounts(),
            self.layout.instances(),
            self.layout.database_mounts(),
        ]
        .iter()
        .map(|dir| shipyard_sandbox::disk::unmount_below(dir))
        .sum()
    }
}

impl Drop for MountsRemovedOnExit {
    fn drop(&mut self) {
        self.build_disks.close();
        self.home_disks.close();
        self.database_disks.close();
        self.unmount_inner();
        self.workspaces.close();
        shipyard_sandbox::disk::unmount_below(&self.layout.workspaces());
        shipyard_sandbox::disk::unmount_if_mounted(&self.layout.sandbox_state());
        if self.layout.work_is_own() {
            shipyard_sandbox::disk::remove_empty_dirs(self.layout.work());
        }
    }
}
