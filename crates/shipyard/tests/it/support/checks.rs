//! Checks many tests share: the contract's error shape, and every file under a directory.

use std::path::{Path, PathBuf};

/// Asserts an error answer has the contract's shape and the given status.
pub fn assert_error(response: &shipyard_client::ApiResponse, status: u16) {
    assert_eq!(response.status, status, "unexpected status; body: {}", response.body);
    assert_error_shape(response);
}

/// Asserts a non-2xx answer is `{ statusCode, error, message }` with a matching code.
pub fn assert_error_shape(response: &shipyard_client::ApiResponse) {
    let body = &response.body;
    assert_eq!(
        body["statusCode"].as_u64(),
        Some(u64::from(response.status)),
        "statusCode in {body}"
    );
    assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "error in {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message in {body}"
    );
}

/// Every file under `root`, for leak checks.
pub fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}
