//! A request path as a path inside an artifact: percent-decoded segment by segment, and
//! refused outright when a segment could climb (`..`), hide a separator (`%2f`, `\`) or hold
//! a NUL. What is left can only name something beneath the site's root (and `open_served`
//! checks that again on disk, links included).

use percent_encoding::percent_decode_str;
use std::path::PathBuf;

/// A request path that names a place in the site.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct SitePath {
    /// Relative to the site's root; empty for `/`.
    pub rel: PathBuf,
    /// The path ended in `/` (a directory's index is meant).
    pub dir: bool,
}

/// `uri_path` as a place in the site, or None when it is malformed or tries to leave.
pub(crate) fn parse(uri_path: &str) -> Option<SitePath> {
    let mut rel = PathBuf::new();
    for raw in uri_path.split('/') {
        if raw.is_empty() {
            continue;
        }
        let segment = percent_decode_str(raw).decode_utf8().ok()?;
        if segment == "." {
            continue;
        }
        if segment == ".." || segment.contains(['/', '\\', '\0']) {
            return None;
        }
        rel.push(segment.as_ref());
    }
    Some(SitePath {
        dir: uri_path.ends_with('/') || rel.as_os_str().is_empty(),
        rel,
    })
}

/// Whether the last segment names a file type (`app.js`), not a page (`/settings/profile`).
pub(crate) fn has_extension(rel: &std::path::Path) -> bool {
    rel.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.rfind('.').is_some_and(|i| i > 0 && i + 1 < n.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn climbing_hidden_separators_and_nul_are_refused() {
        for bad in [
            "/../master.key",
            "/%2e%2e/master.key",
            "/a/%2E%2E/%2e%2e/x",
            "/a%2fb",
            "/a%5c..%5cb",
            "/x%00.html",
            "/%ff",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn ordinary_paths_become_relative_ones() {
        assert_eq!(
            parse("/assets/index-abc123.js"),
            Some(SitePath {
                rel: PathBuf::from("assets/index-abc123.js"),
                dir: false
            })
        );
        assert_eq!(parse("/").map(|p| p.dir), Some(true));
        assert_eq!(
            parse("//docs/./a%20b/").map(|p| (p.rel, p.dir)),
            Some((PathBuf::from("docs/a b"), true))
        );
        assert!(has_extension(std::path::Path::new("assets/app.js")));
        assert!(!has_extension(std::path::Path::new("settings/profile")));
        assert!(!has_extension(std::path::Path::new(".well-known")));
    }
}
