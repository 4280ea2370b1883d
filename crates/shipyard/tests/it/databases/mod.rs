//! Managed PostgreSQL (#33): real clusters made, walled, supervised, stopped and deleted.

mod lifecycle;
mod restarts;
mod validation;
mod walls;
