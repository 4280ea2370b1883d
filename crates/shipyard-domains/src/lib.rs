//! Custom domains (#36): what DNS says about a user's hostname, asked of a real resolver, and
//! what that means — proven or not (the TXT record), pointing here or not (CNAME, A, AAAA).

pub mod acme;
pub mod here;
pub mod lookup;
pub mod recheck;
pub mod verdict;

pub use here::{Here, Look, next_check, proof_gone};
pub use lookup::{Dns, DnsConfigError, Observation};
pub use verdict::{expected_records, points_here, proof};
