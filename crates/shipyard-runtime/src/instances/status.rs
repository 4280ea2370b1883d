//! Where an instance is in its life, as the runtime view shows it.

/// An instance's state: it starts, answers its health check (healthy) or stops answering it
/// (unhealthy), crashes past its restart budget, drains once replaced, and stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceStatus {
    /// Started (or restarted), not yet answering.
    Starting,
    /// Answers its health check; the edge sends it requests.
    Healthy,
    /// Answered, then failed enough checks in a row; the edge stops sending it requests.
    Unhealthy,
    /// Exited too often to be started again.
    Crashed,
    /// Replaced: finishing its requests before it stops.
    Draining,
    /// Its process is gone for good.
    Stopped,
}

impl InstanceStatus {
    /// The name the API shows.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Healthy => "healthy",
            Self::Unhealthy => "unhealthy",
            Self::Crashed => "crashed",
            Self::Draining => "draining",
            Self::Stopped => "stopped",
        }
    }

    /// Whether its process runs (or is about to) and it has not been replaced.
    pub fn is_live(self) -> bool {
        matches!(self, Self::Starting | Self::Healthy | Self::Unhealthy)
    }
}
