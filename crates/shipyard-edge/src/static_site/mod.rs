//! Serving a release's built files: content types, validators and 304s, single ranges (206),
//! precompressed `.br`/`.gz` siblings, cache policy by name, `index.html` for directories,
//! clean URLs (`/about` → `about.html`), the SPA fallback for React sites and the site's own
//! `404.html`. Every file is opened beneath the artifact's root directory (`open_served`),
//! so nothing outside the artifact is ever served, through a link or otherwise. Small files
//! found at the path asked for are then kept in memory with their headers (`cache`).

mod answer;
mod cache;
mod headers;
mod path;
mod range;

use crate::pages;
use answer::{Meta, Source, answer};
use axum::http::header::ALLOW;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use cache::{Cache, Entry, Key};
use headers::Encoding;
use shipyard_sandbox::FileError;
use shipyard_sandbox::files::open_served;
use std::fs::{File, Metadata};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A built site: its root directory, held open, and whether unknown pages fall back to
/// `index.html` (React and other single-page apps).
#[derive(Debug)]
pub struct Site {
    root: File,
    spa: bool,
    cache: Arc<Cache>,
}

/// A file found for a request.
struct Found {
    rel: PathBuf,
    file: File,
    meta: Metadata,
    status: StatusCode,
    /// Found at the path asked for, not as a fallback (so it may be cached under that path).
    direct: bool,
}

impl Site {
    /// The site whose files are in the directory `root` (already opened).
    pub fn new(root: File, spa: bool) -> Self {
        Self {
            root,
            spa,
            cache: Cache::new(),
        }
    }

    fn open_file(&self, rel: &Path) -> Result<(File, Metadata), FileError> {
        open_served(&self.root, rel)
    }

    /// The file `rel` names: itself, its directory's `index.html`, or `<rel>.html`.
    fn find(&self, wanted: &path::SitePath) -> Option<(PathBuf, File, Metadata)> {
        let index = wanted.rel.join("index.html");
        if wanted.dir {
            return self.open_file(&index).ok().map(|(f, m)| (index, f, m));
        }
        match self.open_file(&wanted.rel) {
            Ok((f, m)) => Some((wanted.rel.clone(), f, m)),
            Err(FileError::NotRegular(_)) => self.open_file(&index).ok().map(|(f, m)| (index, f, m)),
            Err(FileError::Missing(_)) if !path::has_extension(&wanted.rel) => {
                let mut html = wanted.rel.clone().into_os_string();
                html.push(".html");
                let html = PathBuf::from(html);
                self.open_file(&html).ok().map(|(f, m)| (html, f, m))
            }
            Err(_) => None,
        }
    }

    /// What to send for `wanted`: the file, the SPA's `index.html`, or the site's `404.html`.
    fn resolve(&self, wanted: &path::SitePath) -> Option<Found> {
        if let Some((rel, file, meta)) = self.find(wanted) {
            return Some(Found {
                rel,
                file,
                meta,
                status: StatusCode::OK,
                direct: true,
            });
        }
        let fallback = |name: &str, status| {
            self.open_file(Path::new(name)).ok().map(|(file, meta)| Found {
                rel: PathBuf::from(name),
                file,
                meta,
                status,
                direct: false,
            })
        };
        if self.spa
            && !path::has_extension(&wanted.rel)
            && let Some(found) = fallback("index.html", StatusCode::OK)
        {
            return Some(found);
        }
        fallback("404.html", StatusCode::NOT_FOUND)
    }

    /// The answer to `method uri_path` with `headers`.
    pub async fn respond(&self, method: &Method, uri_path: &str, headers: &HeaderMap) -> Response {
        if method != Method::GET && method != Method::HEAD {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                [(ALLOW, HeaderValue::from_static("GET, HEAD"))],
            )
                .into_response();
        }
        let Some(wanted) = path::parse(uri_path) else {
            return pages::bad_path();
        };
        let encodings = headers::accepted(headers);
        let key = Key::new(wanted, &encodings);
        let head = method == Method::HEAD;
        if let Some(entry) = self.cache.get(&key) {
            return answer(&entry.meta, Source::Memory(entry.bytes.clone()), head, headers).await;
        }
        let Some(found) = self.resolve(&key.wanted) else {
            return pages::not_in_site(uri_path);
        };
        let direct = found.direct;
        let (meta, file) = self.variant(found, &encodings);
        if direct && meta.len <= cache::MOST_PER_FILE {
            let Ok(bytes) = answer::read_part(&file, 0, meta.len) else {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            };
            let entry = self.cache.put(
                key,
                Entry {
                    meta,
                    bytes: bytes.into(),
                },
            );
            return answer(&entry.meta, Source::Memory(entry.bytes.clone()), head, headers).await;
        }
        answer(&meta, Source::File(file), head, headers).await
    }

    /// The precompressed sibling of `rel` the client takes, when there is one.
    fn sibling(&self, rel: &Path, encodings: &[Encoding]) -> Option<(File, Metadata, Encoding)> {
        encodings.iter().find_map(|&encoding| {
            let mut name = rel.as_os_str().to_owned();
            name.push(".");
            name.push(encoding.suffix());
            self.open_file(Path::new(&name)).ok().map(|(f, m)| (f, m, encoding))
        })
    }

    /// The variant of `found` to send (its precompressed sibling when the client takes one),
    /// with what its headers say.
    fn variant(&self, found: Found, encodings: &[Encoding]) -> (Meta, File) {
        let content_type = content_type(&found.rel);
        let (file, meta, encoding) = match self.sibling(&found.rel, encodings) {
            Some((file, meta, encoding)) => (file, meta, Some(encoding)),
            None => (found.file, found.meta, None),
        };
        let modified = headers::usable_mtime(&meta);
        let etag = headers::etag(
            meta.len(),
            modified,
            std::os::unix::fs::MetadataExt::ino(&meta),
            encoding,
        );
        let meta = Meta {
            status: found.status,
            len: meta.len(),
            modified,
            etag: HeaderValue::from_str(&etag).unwrap_or_else(|_| HeaderValue::from_static("\"\"")),
            cache_control: headers::cache_control(&found.rel, &content_type),
            content_type: HeaderValue::from_str(&content_type)
                .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")),
            last_modified: modified.and_then(|m| HeaderValue::from_str(&httpdate::fmt_http_date(m)).ok()),
            encoding,
        };
        (meta, file)
    }
}

/// The `Content-Type` of `rel` by its name (text types in UTF-8).
fn content_type(rel: &Path) -> String {
    let mime = mime_guess::from_path(rel).first_or_octet_stream();
    let text = mime.type_() == mime_guess::mime::TEXT
        || matches!(mime.subtype().as_str(), "javascript" | "json" | "xml" | "svg");
    if text && mime.get_param("charset").is_none() {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn made_up_paths_and_fallbacks_are_not_kept_but_found_files_are() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("index.html"), "<h1>app</h1>").expect("index");
        std::fs::write(dir.path().join("app.js"), "console.log(1)").expect("js");
        let site = Site::new(File::open(dir.path()).expect("root"), true);
        let none = HeaderMap::new();
        for n in 0..200 {
            let answer = site.respond(&Method::GET, &format!("/made/up/{n}"), &none).await;
            assert_eq!(answer.status(), StatusCode::OK, "the SPA fallback answers");
            let missing = site.respond(&Method::GET, &format!("/nope-{n}.js"), &none).await;
            assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        }
        assert_eq!(site.cache.len(), 0, "no fallback and no miss is kept");
        // Control: a file found at its own path is kept, once.
        for _ in 0..3 {
            let answer = site.respond(&Method::GET, "/app.js", &none).await;
            assert_eq!(answer.status(), StatusCode::OK);
        }
        assert_eq!(site.cache.len(), 1);
    }
}
