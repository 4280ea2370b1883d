//! Shipyard's HTTP API: the routes of the seed reference and CONTRACT.md, their auth, errors
//! and OpenAPI document.
#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod client_addr;
pub mod console;
pub mod error;
pub mod extract;
pub mod middleware;
pub mod openapi;
pub mod paging;
pub mod paths;
pub mod rate_limit;
pub mod router;
pub mod state;

pub use error::{ApiError, ErrorBody};
pub use router::{api_router, openapi_router};
pub use state::{ApiSettings, AppState, Services};
