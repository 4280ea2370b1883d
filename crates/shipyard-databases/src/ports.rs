//! The loopback ports databases listen on.

use crate::error::DatabaseError;
use std::hash::{BuildHasher, Hasher};
use std::ops::RangeInclusive;

/// Databases' ports: below the kernel's ephemeral range (32768–60999 unless the host changed
/// it), so while a database is stopped its port is never handed to an outgoing connection or
/// to an instance (whose ports are the kernel's choice) and it can always start again.
pub const PORTS: RangeInclusive<u16> = 15000..=19999;

/// A port of `PORTS` that no database holds (`taken`) and nothing listens on now, from a
/// random place in the range, so servers sharing a host rarely reach for the same one.
pub fn free_port(taken: &[u16]) -> Result<u16, DatabaseError> {
    let (first, last) = (u32::from(*PORTS.start()), u32::from(*PORTS.end()));
    let span = last - first + 1;
    let offset =
        u32::try_from(std::collections::hash_map::RandomState::new().build_hasher().finish() % u64::from(span))
            .unwrap_or(0);
    let mut last_error = String::from("every port of the range is held by a database");
    for step in 0..span {
        let Ok(port) = u16::try_from(first + (offset + step) % span) else {
            continue;
        };
        if taken.contains(&port) {
            continue;
        }
        match std::net::TcpListener::bind(("127.0.0.1", port)) {
            Ok(_) => return Ok(port),
            Err(e) => last_error = format!("port {port}: {e}"),
        }
    }
    Err(DatabaseError::NoPort(format!(
        "{}–{}: {last_error}",
        PORTS.start(),
        PORTS.end()
    )))
}
