//! The request and response bodies of Shipyard's HTTP API: the server answers with them, the
//! OpenAPI document is generated from them, and the client parses them, so the three cannot
//! disagree.
#![forbid(unsafe_code)]

pub mod account;
pub mod admin;
pub mod backups;
pub mod config;
pub mod connections;
pub mod databases;
pub mod deployments;
pub mod domains;
pub mod error;
pub mod health;
pub mod logs;
pub mod members;
pub mod paging;
pub mod projects;
pub mod runs;
pub mod runtime;
pub mod secrets;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use shipyard_core::{ExposeSecret, SecretString};
use std::fmt;

/// A value a request carries that must never be logged (a password, a token, a secret's value):
/// `Debug` hides it, and only sending it serialises it.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    /// Wraps a value for sending.
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }
}

impl ExposeSecret<str> for Secret {
    fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.expose_secret())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        SecretString::deserialize(d).map(Self)
    }
}

/// Reads a field that may be absent (`None`: leave it), `null` (`Some(None)`: unset it) or a
/// value (`Some(Some(v))`).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}
