//! The headers a served file gets and the request headers that decide its answer: validators
//! (`ETag`, `Last-Modified`) and the conditionals that turn them into 304, the cache policy
//! (hashed assets immutable, HTML revalidated), and which precompressed sibling to send.

use axum::http::HeaderMap;
use axum::http::header::{ACCEPT_ENCODING, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE};
use std::path::Path;
use std::time::SystemTime;

/// A precompressed sibling (`app.js.br`) and the `Content-Encoding` it is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// `.br`
    Brotli,
    /// `.gz`
    Gzip,
}

impl Encoding {
    /// The sibling's suffix.
    pub fn suffix(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gz",
        }
    }

    /// Its bit in a set of encodings.
    pub fn bit(self) -> u8 {
        match self {
            Encoding::Brotli => 1,
            Encoding::Gzip => 2,
        }
    }

    /// The `Content-Encoding` value.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
        }
    }
}

/// The encodings the client accepts, best first (`q=0` excluded).
pub(crate) fn accepted(headers: &HeaderMap) -> Vec<Encoding> {
    let Some(value) = headers.get(ACCEPT_ENCODING).and_then(|v| v.to_str().ok()) else {
        return Vec::new();
    };
    let wants = |name: &str| {
        value.split(',').any(|part| {
            let mut pieces = part.split(';');
            let coding = pieces.next().unwrap_or("").trim();
            let refused = pieces.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
            });
            coding.eq_ignore_ascii_case(name) && !refused
        })
    };
    [Encoding::Brotli, Encoding::Gzip]
        .into_iter()
        .filter(|e| wants(e.name()))
        .collect()
}

/// A file's modification time when HTTP dates can carry it (1970 to 9999): a build may set
/// any time at all, and an HTTP date outside that range cannot be written.
pub(crate) fn usable_mtime(meta: &std::fs::Metadata) -> Option<SystemTime> {
    const YEAR_9999: std::time::Duration = std::time::Duration::from_secs(253_402_300_799);
    meta.modified()
        .ok()
        .filter(|m| m.duration_since(SystemTime::UNIX_EPOCH).is_ok_and(|d| d < YEAR_9999))
}

/// A strong validator from the served variant's size, modification time, inode and
/// encoding (the inode tells apart same-size files with the same time; a rollback's hard
/// links keep it, and their content).
pub(crate) fn etag(len: u64, modified: Option<SystemTime>, inode: u64, encoding: Option<Encoding>) -> String {
    let nanos = modified
        .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    match encoding {
        Some(e) => format!("\"{len:x}-{nanos:x}-{inode:x}-{}\"", e.suffix()),
        None => format!("\"{len:x}-{nanos:x}-{inode:x}\""),
    }
}

/// Whether the client's copy is current (`If-None-Match`, else `If-Modified-Since`).
pub(crate) fn not_modified(headers: &HeaderMap, etag: &str, modified: Option<SystemTime>) -> bool {
    if let Some(tags) = headers.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        // Weak comparison, as RFC 9110 asks for If-None-Match.
        let bare = etag.trim_start_matches("W/");
        return tags
            .split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.trim_start_matches("W/") == bare);
    }
    let since = headers
        .get(IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok());
    match (since, modified) {
        (Some(since), Some(modified)) => httpdate::HttpDate::from(modified) <= httpdate::HttpDate::from(since),
        _ => false,
    }
}

/// Whether a `Range` may be honoured: no `If-Range`, or one naming this very variant.
pub(crate) fn range_applies(headers: &HeaderMap, etag: &str, modified: Option<SystemTime>) -> bool {
    let Some(value) = headers.get(IF_RANGE).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if value.starts_with('"') {
        return value == etag;
    }
    match (httpdate::parse_http_date(value).ok(), modified) {
        (Some(date), Some(modified)) => httpdate::HttpDate::from(date) == httpdate::HttpDate::from(modified),
        _ => false,
    }
}

/// The cache policy of `rel`: HTML is revalidated every time (a deploy must show at once);
/// a name carrying a content hash (`index-BdTq3x9a.js`, `main.3f2a1b9c.css`) never changes,
/// so it is cached for a year; anything else is revalidated.
pub(crate) fn cache_control(rel: &Path, content_type: &str) -> &'static str {
    if content_type.starts_with("text/html") {
        return "no-cache";
    }
    let hashed = rel
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.rsplit_once('.').map(|(stem, _)| stem))
        .is_some_and(|stem| stem.split(['.', '-', '_']).skip(1).any(looks_like_a_hash));
    if hashed {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=0, must-revalidate"
    }
}

/// A content hash as bundlers write them: hex of 8 or more digits (webpack, CRA), or 8
/// characters mixing upper case, lower case and digits (Vite, Rollup). Words with a number in
/// them (`profile1`, `2024final`) are neither.
fn looks_like_a_hash(part: &str) -> bool {
    let b = part.as_bytes();
    let has = |f: fn(&u8) -> bool| b.iter().any(f);
    let hex = b.len() >= 8
        && b.iter().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
        && has(u8::is_ascii_digit)
        && has(u8::is_ascii_lowercase);
    let mixed = b.len() == 8
        && b.iter().all(u8::is_ascii_alphanumeric)
        && has(u8::is_ascii_uppercase)
        && has(u8::is_ascii_lowercase)
        && has(u8::is_ascii_digit);
    hex || mixed
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn hashed_names_are_immutable_html_is_revalidated() {
        let cc = |name: &str, ty: &str| cache_control(Path::new(name), ty);
        assert_eq!(
            cc("assets/index-BdTq3x9a.js", "text/javascript"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(
            cc("static/css/main.3f2a1b9c.css", "text/css"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(cc("index.html", "text/html"), "no-cache");
        for plain in [
            "favicon.ico",
            "analytics2024.js",
            "jquery-3.6.0.min.js",
            "logo192.png",
            "robots.txt",
        ] {
            assert_eq!(cc(plain, "image/png"), "public, max-age=0, must-revalidate", "{plain}");
        }
    }

    #[test]
    fn encodings_follow_accept_encoding_and_q_zero_refuses() {
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(ACCEPT_ENCODING, HeaderValue::from_static(v));
            accepted(&h)
        };
        assert_eq!(with("gzip, deflate, br"), vec![Encoding::Brotli, Encoding::Gzip]);
        assert_eq!(with("br;q=0, gzip"), vec![Encoding::Gzip]);
        assert_eq!(with("identity"), Vec::<Encoding>::new());
        assert_eq!(accepted(&HeaderMap::new()), Vec::<Encoding>::new());
    }

    #[test]
    fn validators_answer_conditionals() {
        let modified = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        let tag = etag(1024, Some(modified), 7, None);
        let mut h = HeaderMap::new();
        h.insert(
            IF_NONE_MATCH,
            HeaderValue::from_str(&format!("\"x\", W/{tag}")).expect("value"),
        );
        assert!(not_modified(&h, &tag, Some(modified)));
        let mut h = HeaderMap::new();
        h.insert(IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
        assert!(
            !not_modified(&h, &tag, Some(modified)),
            "a mismatching tag wins over dates"
        );
        let mut h = HeaderMap::new();
        h.insert(
            IF_MODIFIED_SINCE,
            HeaderValue::from_str(&httpdate::fmt_http_date(modified)).expect("value"),
        );
        assert!(not_modified(&h, &tag, Some(modified)));
        assert_ne!(tag, etag(1024, Some(modified), 7, Some(Encoding::Brotli)));
        assert_ne!(
            tag,
            etag(1024, Some(modified), 8, None),
            "another file of the same size and time"
        );
    }
}
