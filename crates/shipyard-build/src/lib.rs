//! Shipyard's build side: reading repositories through the git CLI (with credentials only in
//! askpass and ssh hooks), and detecting what a repository is from its files.
#![forbid(unsafe_code)]

pub mod artifacts;
pub mod build;
pub mod child_output;
pub mod detect;
pub mod git;
pub mod repos;

pub use artifacts::ArtifactStore;
pub use detect::{Detection, FileTree, detect};
pub use git::{Branch, Git, GitAuth, GitError, RemoteRefs};
pub use repos::{Repositories, Snapshot};
