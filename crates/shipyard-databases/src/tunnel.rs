//! A tunnel to a database: one connection of a user's machine, carried through the platform's
//! one listener (an HTTP upgrade) to the database's loopback port, byte for byte, for as long
//! as either side keeps it open. The database's port is never exposed.

use crate::error::DatabaseError;
use crate::manager::Clusters;
use shipyard_core::{DATABASE_HOST, DatabaseStatus};
use shipyard_store::Database;
use std::future::Future;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// How long opening the database's end may take.
const CONNECT_WITHIN: Duration = Duration::from_secs(10);

/// Who opened a tunnel, for its log line.
#[derive(Debug, Clone)]
pub struct TunnelCaller {
    /// `usr_…`
    pub user: String,
    /// How they proved it: `session` or `token`.
    pub via: &'static str,
    /// The client's address.
    pub client: Option<String>,
}

impl Clusters {
    /// The database's end of a tunnel: a connection to its port, made before the caller is
    /// told the tunnel is open.
    pub async fn open_tunnel(&self, db: &Database) -> Result<TcpStream, DatabaseError> {
        if db.status != DatabaseStatus::Running {
            return Err(DatabaseError::NotRunning(db.id.to_string()));
        }
        let connected = tokio::time::timeout(CONNECT_WITHIN, TcpStream::connect((DATABASE_HOST, db.port))).await;
        match connected {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(e)) => Err(DatabaseError::step(
                "opening the tunnel",
                format!("its server refused: {e}"),
            )),
            Err(_) => Err(DatabaseError::step(
                "opening the tunnel",
                format!("its server did not answer within {} s", CONNECT_WITHIN.as_secs()),
            )),
        }
    }

    /// Joins `client` (once its upgrade completes) and `server` until either closes or the
    /// platform stops; logs who, for how long and how many bytes.
    pub fn carry<S>(
        &self,
        db: &Database,
        caller: TunnelCaller,
        client: impl Future<Output = Option<S>> + Send + 'static,
        mut server: TcpStream,
    ) where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (database, tenant) = (db.id.clone(), db.tenant_id.clone());
        let span = tracing::info_span!("tunnel", %database, %tenant, user = %caller.user);
        self.config.tasks.spawn_until_stopping(
            "database tunnel",
            tracing::Instrument::instrument(
                async move {
                    let began = tokio::time::Instant::now();
                    tracing::info!(via = caller.via, client = ?caller.client, "database tunnel opened");
                    let Some(mut client) = client.await else {
                        tracing::info!("database tunnel never opened: the client's upgrade failed");
                        return;
                    };
                    let carried = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    let (up, down) = carried.as_ref().map_or((0, 0), |(up, down)| (*up, *down));
                    tracing::info!(
                        seconds = began.elapsed().as_secs(),
                        bytes_to_database = up,
                        bytes_from_database = down,
                        ended = ?carried.err().map(|e| e.to_string()),
                        "database tunnel closed"
                    );
                },
                span,
            ),
        );
    }
}
