//! Untrusted code and the files it writes. Every repository, build and app is written by
//! someone who read our source: the server reads their files only through `files` (no link
//! is followed, nothing but a regular file is read, and never more than a cap), and an
//! artifact is released only when `links` finds no link into the platform's own files.
//! Running untrusted code (the bubblewrap command line, the limiters) moves here next (#10).
#![forbid(unsafe_code)]

pub mod files;
pub mod links;

pub use files::{FileError, read_capped, sha256_file};
pub use links::{LinkError, check_links, stays_inside};
