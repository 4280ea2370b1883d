//! What the edge serves, read across every workspace: one row per environment with its
//! active release. The route table is derived from these rows, never the other way round.

use crate::Result;
use crate::model::LiveRoute;
use shipyard_core::EnvironmentId;
use std::future::Future;

/// The environments' live routes.
pub trait LiveRoutes {
    /// Every environment (or just `environment`) with its workspace, project and active
    /// release, as the edge needs them.
    fn live_routes(
        &mut self,
        environment: Option<&EnvironmentId>,
    ) -> impl Future<Output = Result<Vec<LiveRoute>>> + Send;
}
