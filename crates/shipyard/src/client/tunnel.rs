//! `databases connect`: a local port whose every connection is carried to the database
//! through the platform's tunnel route, until Ctrl-C.

use super::context::Context;
use super::failure::Failure;
use shipyard_client::types::databases::DatabaseView;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// Listens on 127.0.0.1:`port` and joins each connection to a new tunnel.
pub async fn connect(ctx: &Context, db: &DatabaseView, port: Option<u16>) -> Result<(), Failure> {
    let listener = TcpListener::bind(("127.0.0.1", port.unwrap_or(0)))
        .await
        .map_err(|e| Failure::Usage(format!("cannot listen on 127.0.0.1:{}: {e}", port.unwrap_or(0))))?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::Other(format!("cannot read the local port: {e}")))?;
    // Proves the tunnel opens (and the caller may open it) before anyone connects.
    drop(ctx.ws.tunnel(&db.id).await?);
    println!(
        "Forwarding 127.0.0.1:{} to database {} ({}); Ctrl-C to stop.",
        local.port(),
        db.name,
        db.id
    );
    println!(
        "Connect with: psql \"postgres://{}:PASSWORD@127.0.0.1:{}/{}\" (shipyard databases url {} --show-password has the password)",
        db.username,
        local.port(),
        db.database_name,
        db.name
    );
    let mut carried = JoinSet::new();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            accepted = listener.accept() => {
                let Ok((mut local, _)) = accepted else { continue };
                let (ws, id) = (ctx.ws.clone(), db.id.clone());
                carried.spawn(async move {
                    match ws.tunnel(&id).await {
                        Ok(remote) => {
                            let mut remote = remote;
                            let _ = tokio::io::copy_bidirectional(&mut local, &mut remote).await;
                        }
                        Err(e) => eprintln!("a connection could not be carried: {e}"),
                    }
                });
            }
            Some(_) = carried.join_next(), if !carried.is_empty() => {}
        }
    }
    carried.shutdown().await;
    Ok(())
}
