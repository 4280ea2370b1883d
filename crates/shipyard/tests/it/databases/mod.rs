//! Managed PostgreSQL (#33): real clusters made, walled, supervised, stopped and deleted.

mod attachments;
mod backup_walls;
mod backups;
mod floods;
mod lifecycle;
mod pre_deploy;
mod races;
mod reach;
mod restarts;
mod rotation;
mod validation;
mod walls;
