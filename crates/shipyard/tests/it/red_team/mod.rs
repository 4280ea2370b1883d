//! Attacks through the public API on every wall and shared resource, each with a positive control.

mod disk;
mod files;
mod leftovers;
mod leftovers_kernel;
mod logs;
mod memory;
mod network;
mod sockets;
mod views;
