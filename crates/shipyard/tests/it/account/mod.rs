//! Accounts: signup, login, sessions, API tokens, members and the admin area.

mod accounts;
mod admin;
mod bootstrap;
mod members;
mod project_tokens;
mod token_scopes;
mod tokens;
