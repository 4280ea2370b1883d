//! Secrets that would steer a program before it runs the app's own code: the dynamic
//! loader's variables, shells' and interpreters' start-up hooks, and `NODE_OPTIONS` that
//! preloads a file by absolute path. A build or app gets its secrets only inside the sandbox,
//! so this is defense in depth: no secret name or value may turn a process into the tenant's.

use crate::DomainError;

/// Variables interpreters and shells read to run extra code at start.
const HOOKS: &[&str] = &["GCONV_PATH", "BASH_ENV", "ENV", "PYTHONSTARTUP", "PERL5OPT", "RUBYOPT"];
/// `NODE_OPTIONS` flags that load a module before the app.
const NODE_PRELOADS: &[&str] = &["--require", "-r", "--import", "--loader", "--experimental-loader"];

/// Refuses a secret name that steers the loader or an interpreter.
pub fn check_secret_name(name: &str) -> Result<(), DomainError> {
    if name.starts_with("LD_") || name.starts_with("BASH_FUNC_") || HOOKS.contains(&name) {
        return Err(DomainError::InvalidEnvVarName(format!(
            "`{name}` is not allowed as a secret: LD_*, BASH_FUNC_*, {} change how programs start",
            HOOKS.join(", ")
        )));
    }
    Ok(())
}

/// Refuses a `NODE_OPTIONS` value that preloads a file from outside the app (an absolute
/// path, a `file:`/`data:` URL, a path that climbs with `..`).
pub fn check_secret_value(name: &str, value: &str) -> Result<(), DomainError> {
    if name != "NODE_OPTIONS" {
        return Ok(());
    }
    // Node reads quotes in NODE_OPTIONS: `"--require=/x.js"` is `--require=/x.js`.
    let unquoted = value.replace(['"', '\''], "");
    let mut words = unquoted.split_whitespace();
    while let Some(word) = words.next() {
        let (flag, inline) = match word.split_once('=') {
            Some((flag, path)) => (flag, Some(path)),
            None => (word, None),
        };
        if !NODE_PRELOADS.contains(&flag) {
            continue;
        }
        let path = inline.or_else(|| words.next()).unwrap_or_default();
        let outside = path.starts_with('/') || path.starts_with("file:") || path.starts_with("data:");
        if outside || path.split('/').any(|part| part == "..") {
            return Err(DomainError::InvalidEnvVarName(format!(
                "NODE_OPTIONS may not preload a file outside the app (`{flag} {path}`): require it from the app instead"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loader_and_interpreter_hooks_are_refused() {
        for bad in [
            "LD_PRELOAD",
            "LD_LIBRARY_PATH",
            "LD_AUDIT",
            "BASH_ENV",
            "PYTHONSTARTUP",
            "GCONV_PATH",
        ] {
            assert!(check_secret_name(bad).is_err(), "{bad}");
        }
        for fine in ["DATABASE_URL", "OLD_PRELOAD", "NODE_OPTIONS", "ENVIRONMENT"] {
            assert!(check_secret_name(fine).is_ok(), "{fine}");
        }
        for bad in [
            "--require /x.js",
            "--require=/x.js",
            "-r /tmp/a.js",
            "--max-old-space-size=512 --import=file:///x.mjs",
        ] {
            assert!(check_secret_value("NODE_OPTIONS", bad).is_err(), "{bad}");
        }
        for fine in [
            "--max-old-space-size=512",
            "--require ./tracing.js",
            "--enable-source-maps",
        ] {
            assert!(check_secret_value("NODE_OPTIONS", fine).is_ok(), "{fine}");
        }
        assert!(check_secret_value("OTHER", "--require /x.js").is_ok());
    }
}
