//! Paths inside a repository (`rootDirectory`, `outputDirectory`): relative, normalised, and
//! unable to climb out.

use crate::DomainError;

/// Normalises a user-given relative directory: `./apps/web/` becomes `apps/web`, `.` or an
/// empty string the repository root (`""`). Absolute paths and `..` are refused.
pub fn relative_dir(raw: &str) -> Result<String, DomainError> {
    let bad = |why: &str| DomainError::InvalidPath(why.to_owned());
    if raw.len() > 255 {
        return Err(bad("must be at most 255 characters"));
    }
    if raw.starts_with('/') {
        return Err(bad("must be relative to the repository root (no leading `/`)"));
    }
    if raw.chars().any(|c| c.is_control() || c == '\\') {
        return Err(bad("must not contain control characters or `\\`"));
    }
    let mut parts = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(bad("must not contain `..`")),
            other => parts.push(other),
        }
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_refuses_escapes() {
        assert_eq!(relative_dir("./apps/web/").as_deref(), Ok("apps/web"));
        assert_eq!(relative_dir(".").as_deref(), Ok(""));
        assert_eq!(relative_dir("").as_deref(), Ok(""));
        assert_eq!(relative_dir("dist").as_deref(), Ok("dist"));
        for bad in ["/etc", "../x", "a/../../b", "a\\b"] {
            assert!(relative_dir(bad).is_err(), "{bad}");
        }
    }
}
