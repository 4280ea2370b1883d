//! Shipyard's domain values: typed ids, parsed names, roles, the secret box, password hashing
//! and opaque tokens. Pure computation only; nothing here touches the disk or the network.
#![forbid(unsafe_code)]

pub mod email;
pub mod error;
pub mod ids;
pub mod password;
pub mod role;
pub mod secret_box;
pub mod slug;
pub mod token;

pub use email::Email;
pub use error::DomainError;
pub use ids::{TenantId, TokenId, UserId};
pub use password::{Password, PasswordHash};
pub use role::Role;
pub use secret_box::{SecretBox, SecretBoxError};
pub use slug::Slug;
pub use token::OpaqueToken;
