//! The files a cluster is started with, written anew before every start so a change of
//! limits applies and nothing the tenant wrote survives (its role cannot write them anyway).

/// The platform's own superuser: reached over the unix socket only.
pub const SUPERUSER: &str = "shipyard";
/// The port inside the database's network namespace (the host's port is forwarded to it).
pub const INNER_PORT: u16 = 5432;
/// Where the data disk is mounted inside the sandbox.
pub const ROOT_INSIDE: &str = "/db";
/// The cluster's data directory, on the data disk.
pub const PGDATA: &str = "pgdata";
/// Where the control directory (root's: the server's configuration, written by the platform)
/// is mounted inside the sandbox, read-only.
pub const CONTROL_INSIDE: &str = "/control";
/// The unix socket's directory, in the control directory (0700: only root and the database's
/// uid), mounted writable.
pub const SOCKET_DIR: &str = "socket";

/// Connections the server accepts at `memory_mb`: about one per 8 MiB, 10 to 100.
pub fn max_connections(memory_mb: u32) -> u32 {
    (memory_mb / 8).clamp(10, 100)
}

/// `postgresql.conf` for a cluster limited to `memory_mb` on a data disk of `disk_mb`. Its
/// write-ahead log is held to a quarter of the disk (PostgreSQL keeps 80 MiB to 1 GiB by
/// default, more than a small disk holds beside its data and a backup's proof copy).
pub fn postgresql_conf(memory_mb: u32, disk_mb: u32) -> String {
    let shared_buffers = (memory_mb / 8).max(16);
    let work_mem = (memory_mb / 64).clamp(1, 64);
    let max_wal = (disk_mb / 4).clamp(48, 1024);
    format!(
        "# Written by Shipyard before every start; changes here are lost.\n\
         listen_addresses = '*'\n\
         port = {INNER_PORT}\n\
         hba_file = '{CONTROL_INSIDE}/pg_hba.conf'\n\
         unix_socket_directories = '{CONTROL_INSIDE}/{SOCKET_DIR}'\n\
         unix_socket_permissions = 0700\n\
         max_connections = {}\n\
         shared_buffers = {shared_buffers}MB\n\
         work_mem = {work_mem}MB\n\
         maintenance_work_mem = {work_mem}MB\n\
         max_locks_per_transaction = 256\n\
         min_wal_size = 32MB\n\
         max_wal_size = {max_wal}MB\n\
         dynamic_shared_memory_type = mmap\n\
         password_encryption = scram-sha-256\n\
         logging_collector = off\n\
         log_destination = 'stderr'\n\
         log_min_messages = warning\n\
         datestyle = 'iso, mdy'\n\
         timezone = 'UTC'\n\
         lc_messages = 'C.UTF-8'\n\
         default_text_search_config = 'pg_catalog.english'\n",
        max_connections(memory_mb)
    )
}

/// `pg_hba.conf`: the platform's superuser over the unix socket with its password, never over
/// TCP; the tenant's role over TCP with its password, to its database; the tenant's role over
/// the unix socket (which only the platform's tools in the cluster's sandbox reach) to any
/// database it may connect to, so a restore into a scratch copy runs as the tenant; nobody
/// else. Names are quoted, so one
/// that spells a keyword (`replication`, `sameuser`) is only ever itself.
/// Both of the tenant's logins (the owner role and the one it takes turns with on a password
/// rotation) have these lines.
pub fn pg_hba_conf(owner: &str, database: &str) -> String {
    let mut hba = format!(
        "# Written by Shipyard before every start; changes here are lost.\n\
         local all \"{SUPERUSER}\" scram-sha-256\n\
         host all \"{SUPERUSER}\" all reject\n"
    );
    for login in [owner.to_owned(), second_login(owner)] {
        hba.push_str(&format!(
            "host \"{database}\" \"{login}\" all scram-sha-256\n\
             local all \"{login}\" scram-sha-256\n"
        ));
    }
    hba
}

/// The login the tenant's owner role takes turns with when its password is rotated: a member
/// of the owner that acts as it.
pub fn second_login(owner: &str) -> String {
    format!("{owner}2")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_follow_memory() {
        assert_eq!(max_connections(256), 32);
        assert_eq!(max_connections(64), 10);
        assert_eq!(max_connections(8192), 100);
        assert!(postgresql_conf(256, 1024).contains("shared_buffers = 32MB"));
        assert!(postgresql_conf(256, 96).contains("max_wal_size = 48MB"));
        assert!(postgresql_conf(256, 1024).contains("max_wal_size = 256MB"));
    }

    #[test]
    fn the_superuser_never_logs_in_over_tcp() {
        let hba = pg_hba_conf("app_role", "app");
        let lines: Vec<&str> = hba.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(lines[1], "host all \"shipyard\" all reject");
        assert_eq!(lines[2], "host \"app\" \"app_role\" all scram-sha-256");
        assert!(lines.iter().all(|l| !l.contains("trust")), "{hba}");
    }
}
