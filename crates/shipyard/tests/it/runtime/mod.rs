//! What serves: sites, servers, swaps, go-live, limits, access logs and the edge.

mod access_logs;
mod budget;
mod edge;
mod go_live;
mod idle;
mod instances;
mod lifecycle;
mod limits;
mod reconcile;
mod servers;
mod sites;
mod streaming;
mod swaps;
