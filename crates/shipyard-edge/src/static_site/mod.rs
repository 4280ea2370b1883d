//! Serving a release's built files: content types, validators and 304s, single ranges (206),
//! precompressed `.br`/`.gz` siblings, cache policy by name, `index.html` for directories,
//! clean URLs (`/about` → `about.html`), the SPA fallback for React sites and the site's own
//! `404.html`. Every file is opened beneath the artifact's root directory (`open_served`),
//! so nothing outside the artifact is ever served, through a link or otherwise.

mod headers;
mod path;
mod range;

use crate::pages;
use axum::body::Body;
use axum::http::header::{
    ACCEPT_RANGES, ALLOW, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG,
    LAST_MODIFIED, RANGE, VARY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use headers::Encoding;
use shipyard_sandbox::FileError;
use shipyard_sandbox::files::open_served;
use std::fs::{File, Metadata};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// A built site: its root directory, held open, and whether unknown pages fall back to
/// `index.html` (React and other single-page apps).
#[derive(Debug)]
pub struct Site {
    root: File,
    spa: bool,
}

/// A file found for a request.
struct Found {
    rel: PathBuf,
    file: File,
    meta: Metadata,
    status: StatusCode,
}

impl Site {
    /// The site whose files are in the directory `root` (already opened).
    pub fn new(root: File, spa: bool) -> Self {
        Self { root, spa }
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
            });
        }
        let fallback = |name: &str, status| {
            self.open_file(Path::new(name)).ok().map(|(file, meta)| Found {
                rel: PathBuf::from(name),
                file,
                meta,
                status,
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
        let Some(found) = self.resolve(&wanted) else {
            return pages::not_in_site(uri_path);
        };
        self.send(found, method == Method::HEAD, headers).await
    }

    /// The precompressed sibling of `rel` the client takes, when there is one.
    fn sibling(&self, rel: &Path, headers: &HeaderMap) -> Option<(File, Metadata, Encoding)> {
        headers::accepted(headers).into_iter().find_map(|encoding| {
            let mut name = rel.as_os_str().to_owned();
            name.push(".");
            name.push(encoding.suffix());
            self.open_file(Path::new(&name)).ok().map(|(f, m)| (f, m, encoding))
        })
    }

    async fn send(&self, found: Found, head: bool, request: &HeaderMap) -> Response {
        let content_type = content_type(&found.rel);
        let (file, meta, encoding) = match self.sibling(&found.rel, request) {
            Some((file, meta, encoding)) => (file, meta, Some(encoding)),
            None => (found.file, found.meta, None),
        };
        let len = meta.len();
        let modified = headers::usable_mtime(&meta);
        let etag = headers::etag(len, modified, std::os::unix::fs::MetadataExt::ino(&meta), encoding);
        let mut response = Response::builder()
            .header(CONTENT_TYPE, content_type.as_str())
            .header(ETAG, etag.as_str())
            .header(CACHE_CONTROL, headers::cache_control(&found.rel, &content_type))
            .header(VARY, "Accept-Encoding")
            .header(ACCEPT_RANGES, "bytes")
            .header(X_CONTENT_TYPE_OPTIONS, "nosniff");
        if let Some(modified) = modified {
            response = response.header(LAST_MODIFIED, httpdate::fmt_http_date(modified));
        }
        if let Some(encoding) = encoding {
            response = response.header(CONTENT_ENCODING, encoding.name());
        }
        let ok = found.status == StatusCode::OK;
        if ok && headers::not_modified(request, &etag, modified) {
            return finish(response.status(StatusCode::NOT_MODIFIED), Body::empty());
        }
        let wanted = match request.get(RANGE).and_then(|v| v.to_str().ok()) {
            Some(range) if ok && headers::range_applies(request, &etag, modified) => range::wanted(range, len),
            _ => range::Wanted::Whole,
        };
        let (status, start, count) = match wanted {
            range::Wanted::Whole => (found.status, 0, len),
            range::Wanted::Part(first, last) => {
                response = response.header(CONTENT_RANGE, format!("bytes {first}-{last}/{len}"));
                (StatusCode::PARTIAL_CONTENT, first, last - first + 1)
            }
            range::Wanted::Unsatisfiable => {
                return finish(
                    response
                        .status(StatusCode::RANGE_NOT_SATISFIABLE)
                        .header(CONTENT_RANGE, format!("bytes */{len}"))
                        .header(CONTENT_LENGTH, 0),
                    Body::empty(),
                );
            }
        };
        response = response.status(status).header(CONTENT_LENGTH, count);
        if head {
            return finish(response, Body::empty());
        }
        if count <= SMALL {
            return match read_part(&file, start, count) {
                Ok(bytes) => finish(response, Body::from(bytes)),
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            };
        }
        let mut file = tokio::fs::File::from_std(file);
        if start > 0 && file.seek(std::io::SeekFrom::Start(start)).await.is_err() {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        let stream = tokio_util::io::ReaderStream::with_capacity(file.take(count), 64 * 1024);
        finish(response, Body::from_stream(stream))
    }
}

/// Answers up to this size are read whole, right away, and sent with their headers in one
/// write: the file was just opened (so its pages are almost always cached) and a positional
/// read of this much costs less than handing chunks to the blocking pool and back.
const SMALL: u64 = 256 * 1024;

/// `count` bytes of `file` from `start`, read in one go.
fn read_part(file: &File, start: u64, count: u64) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0; usize::try_from(count).map_err(std::io::Error::other)?];
    std::os::unix::fs::FileExt::read_exact_at(file, &mut buf, start)?;
    Ok(buf)
}

fn finish(builder: axum::http::response::Builder, body: Body) -> Response {
    builder
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
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
