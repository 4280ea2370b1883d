//! What a restore of a backup into a database's server needs, opened once: the cluster, the
//! platform's and the tenant's credentials, the backup's key and file; and whether the
//! database's disk has room for a proof's copy.

use super::{On, Sealed};
use crate::cluster::Cluster;
use crate::error::DatabaseError;
use crate::manager::Clusters;
use crate::tools::Login;
use shipyard_sandbox::Sandbox;
use shipyard_store::{Backup, Database};
use std::path::PathBuf;

/// What a restore of `backup` into `db`'s server needs, opened.
pub(crate) struct Opened {
    pub(crate) cluster: Cluster,
    pub(crate) superuser: String,
    role: String,
    owner: String,
    password: String,
    pub(crate) key: Vec<u8>,
    file: PathBuf,
    id: String,
}

impl Opened {
    /// Where its tools run.
    pub(crate) fn on<'a>(&'a self, sandbox: &'a Sandbox) -> On<'a> {
        On {
            cluster: &self.cluster,
            sandbox,
            superuser: &self.superuser,
            tenant: Login {
                user: &self.role,
                password: &self.password,
            },
            owner: &self.owner,
        }
    }

    /// The backup's sealed file.
    pub(crate) fn sealed(&self) -> Sealed<'_> {
        Sealed {
            file: &self.file,
            key: &self.key,
            backup: &self.id,
        }
    }
}

impl Clusters {
    /// A proof restores a copy of the database on its own disk: refused (rather than filling the
    /// disk under the live server, whose log writes would then fail) without room for it.
    pub(crate) async fn check_room(&self, db: &Database, opened: &Opened) -> Result<(), DatabaseError> {
        let size: i64 = async {
            let mut admin = opened.cluster.admin(&opened.superuser).await?;
            sqlx::query_scalar("SELECT pg_catalog.pg_database_size($1)")
                .bind(&db.database_name)
                .fetch_one(&mut admin)
                .await
        }
        .await
        .map_err(|e| DatabaseError::step("preparing the proof", e))?;
        let mount = opened.cluster.mount.clone();
        let free = tokio::task::spawn_blocking(move || shipyard_sandbox::disk::free_bytes(&mount))
            .await
            .ok()
            .flatten()
            .unwrap_or(0);
        // The copy, a tenth more, and a log segment (16 MiB) or so for what its restore writes.
        let size = u64::try_from(size).unwrap_or(0);
        let need = size + size / 10 + (24 << 20);
        if free < need {
            return Err(DatabaseError::NoRoomForProof {
                need_mb: need >> 20,
                free_mb: free >> 20,
            });
        }
        Ok(())
    }

    /// Opens what restoring `backup` into `db`'s server needs.
    pub(crate) fn opened(&self, db: &Database, backup: &Backup) -> Result<Opened, DatabaseError> {
        Ok(Opened {
            cluster: self.cluster(db)?,
            superuser: self.open(db, &db.superuser_password_sealed, "superuser")?,
            role: db.username.clone(),
            owner: db.owner_role.clone(),
            password: self.open(db, &db.password_sealed, "password")?,
            key: self.backup_key(backup)?,
            file: self.backup_file(backup),
            id: backup.id.to_string(),
        })
    }
}
