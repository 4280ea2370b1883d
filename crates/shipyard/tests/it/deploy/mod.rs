//! Deploying: builds in the sandbox, package managers, failures, restarts, streams and releases.

mod apps;
mod control;
mod failures;
mod package_managers;
mod queue;
mod releases;
mod restarts;
mod sandbox;
mod stream;
