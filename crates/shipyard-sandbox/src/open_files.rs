//! The open-files limit: the server raises its own soft limit to the hard one (its listener
//! holds a descriptor per connection, and its caps, not this limit, are what a flood should
//! meet), while everything it runs in a sandbox keeps the limits the server was started with,
//! so a tenant cannot hold more of the host's file table than before.

use std::sync::OnceLock;

/// The limits (soft, hard; None: unlimited) the server was started with.
static STARTED_WITH: OnceLock<(Option<u64>, Option<u64>)> = OnceLock::new();

/// Raises this process's soft limit of open files to its hard limit, remembering what it was
/// for sandboxed commands; the soft limit in force after.
pub fn raise_open_files_limit() -> std::io::Result<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let _ = STARTED_WITH.set((limit.current, limit.maximum));
    if limit.current != limit.maximum {
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        )?;
    }
    Ok(getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX))
}

/// `prlimit` arguments that give a command the limits the server was started with (none when
/// it never raised its own).
pub(crate) fn as_started() -> Option<[String; 2]> {
    let (soft, hard) = STARTED_WITH.get()?;
    let text = |n: &Option<u64>| n.map_or_else(|| "unlimited".to_owned(), |n| n.to_string());
    Some(["prlimit".to_owned(), format!("--nofile={}:{}", text(soft), text(hard))])
}
