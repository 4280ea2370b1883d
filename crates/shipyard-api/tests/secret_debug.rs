//! No request type that carries a password, a secret value or a repository credential shows
//! it through `Debug` (a stray `tracing::debug!(?req)` must not leak one).

use serde::de::DeserializeOwned;
use shipyard_api::api::admin::CreateUserRequest;
use shipyard_api::api::auth::{LoginRequest, SignupRequest};
use shipyard_api::api::connections::CreateConnectionRequest;
use shipyard_api::api::secrets::{CreateSecretRequest, UpdateSecretRequest};

const SENTINEL: &str = "sentinel-Zq8v1WvKp3";

/// Parses `json` as `T` and returns its `Debug` text.
fn debug_of<T: DeserializeOwned + std::fmt::Debug>(json: &str) -> String {
    assert!(json.contains(SENTINEL), "the probe carries the value");
    let parsed: T = serde_json::from_str(json).expect("the request parses");
    format!("{parsed:?}")
}

#[test]
fn debug_of_each_request_with_a_secret_prints_no_value() {
    let cases = [
        (
            "signup",
            debug_of::<SignupRequest>(&format!(r#"{{"email":"a@example.com","password":"{SENTINEL}"}}"#)),
        ),
        (
            "login",
            debug_of::<LoginRequest>(&format!(r#"{{"email":"a@example.com","password":"{SENTINEL}"}}"#)),
        ),
        (
            "admin user",
            debug_of::<CreateUserRequest>(&format!(r#"{{"email":"a@example.com","password":"{SENTINEL}"}}"#)),
        ),
        (
            "secret",
            debug_of::<CreateSecretRequest>(&format!(
                r#"{{"name":"API_KEY","value":"{SENTINEL}","scope":"workspace"}}"#
            )),
        ),
        (
            "secret update",
            debug_of::<UpdateSecretRequest>(&format!(r#"{{"value":"{SENTINEL}"}}"#)),
        ),
        (
            "token connection",
            debug_of::<CreateConnectionRequest>(&format!(
                r#"{{"provider":"git","url":"https://git.example.com/r.git","auth":{{"type":"token","token":"{SENTINEL}"}}}}"#
            )),
        ),
        (
            "ssh connection",
            debug_of::<CreateConnectionRequest>(&format!(
                r#"{{"provider":"git","url":"ssh://git.example.com/r.git","auth":{{"type":"ssh-key","privateKey":"{SENTINEL}"}}}}"#
            )),
        ),
    ];
    for (what, text) in cases {
        assert!(!text.contains(SENTINEL), "{what}: {text}");
        // Positive control: the rest of the request is still shown.
        assert!(text.contains("REDACTED"), "{what}: {text}");
    }
}
