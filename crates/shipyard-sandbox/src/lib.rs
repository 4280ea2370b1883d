//! Untrusted code and the files it writes. Every repository, build and app is written by
//! someone who read our source: it runs only through `Sandbox::command` (a `Spec` in, a
//! bubblewrap command out, as the project's own user, in a network namespace of its own, with
//! limits from the `Limiter`), the server reads its files only
//! through `files` (no link is followed, nothing but a regular file is read, never more than a
//! cap), and an artifact is released only when `links` finds no link into the platform's files.
#![forbid(unsafe_code)]

pub mod bwrap;
pub mod command;
pub mod copy;
pub mod disk;
pub mod files;
pub mod identity;
pub mod limiter;
pub mod links;
pub mod network;
pub mod open_files;
pub mod spec;
pub mod uid_range;

pub use bwrap::{Sandbox, SandboxConfig, SandboxError};
pub use command::SandboxedCommand;
pub use disk::{Disk, DiskError, DiskKind, DiskSpec, Disks, Workspaces};
pub use files::{FileError, read_capped, sha256_file};
pub use identity::{Identity, SANDBOX_USER};
pub use limiter::{LimitGroup, Limiter, Limits};
pub use links::{LinkError, check_links, stays_inside};
pub use network::{Forward, Network, NetworkError, NetworkPolicy, Uplink, UplinkChoice};
pub use spec::{Bind, Spec, inherited_host_settings};
pub use uid_range::{UidRangeError, UidReservation};
