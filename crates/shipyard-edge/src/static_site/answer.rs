//! Turning one variant of a file (its headers, and its bytes on disk or in memory) into the
//! answer a request gets: 304 when the client's copy is current, 206/416 for a range, headers
//! alone for HEAD, else the bytes.

use super::headers::{self, Encoding};
use super::range;
use axum::body::{Body, Bytes};
use axum::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, LAST_MODIFIED,
    RANGE, VARY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::fs::File;
use std::time::SystemTime;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// What a variant's headers say, worked out once per file (and kept with a cached one).
#[derive(Debug)]
pub(super) struct Meta {
    /// 200, or 404 for the site's own `404.html`.
    pub status: StatusCode,
    /// Its size in bytes.
    pub len: u64,
    /// Its modification time, when an HTTP date can carry it.
    pub modified: Option<SystemTime>,
    /// Its strong validator.
    pub etag: HeaderValue,
    /// `Content-Type`.
    pub content_type: HeaderValue,
    /// `Cache-Control`.
    pub cache_control: &'static str,
    /// `Last-Modified`, from `modified`.
    pub last_modified: Option<HeaderValue>,
    /// The precompressed encoding sent, if any.
    pub encoding: Option<Encoding>,
}

impl Meta {
    /// A plain 200 variant of `len` bytes (unit tests).
    #[cfg(test)]
    pub fn for_tests(len: u64) -> Self {
        Self {
            status: StatusCode::OK,
            len,
            modified: None,
            etag: HeaderValue::from_static("\"t\""),
            content_type: HeaderValue::from_static("text/plain"),
            cache_control: "no-cache",
            last_modified: None,
            encoding: None,
        }
    }
}

/// Where a variant's bytes are.
pub(super) enum Source {
    /// An open file.
    File(File),
    /// All of them, in memory.
    Memory(Bytes),
}

/// Answers up to this size are read whole, right away, and sent with their headers in one
/// write: the file was just opened (so its pages are almost always cached) and a positional
/// read of this much costs less than handing chunks to the blocking pool and back.
const SMALL: u64 = 256 * 1024;

/// The answer to a GET (or, with `head`, a HEAD) with `request`'s headers.
pub(super) async fn answer(meta: &Meta, source: Source, head: bool, request: &HeaderMap) -> Response {
    let etag = meta.etag.to_str().unwrap_or_default();
    let mut response = Response::builder()
        .header(CONTENT_TYPE, meta.content_type.clone())
        .header(ETAG, meta.etag.clone())
        .header(CACHE_CONTROL, meta.cache_control)
        .header(VARY, "Accept-Encoding")
        .header(ACCEPT_RANGES, "bytes")
        .header(X_CONTENT_TYPE_OPTIONS, "nosniff");
    if let Some(modified) = &meta.last_modified {
        response = response.header(LAST_MODIFIED, modified.clone());
    }
    if let Some(encoding) = meta.encoding {
        response = response.header(CONTENT_ENCODING, encoding.name());
    }
    let ok = meta.status == StatusCode::OK;
    if ok && headers::not_modified(request, etag, meta.modified) {
        return finish(response.status(StatusCode::NOT_MODIFIED), Body::empty());
    }
    let len = meta.len;
    let wanted = match request.get(RANGE).and_then(|v| v.to_str().ok()) {
        Some(range) if ok && headers::range_applies(request, etag, meta.modified) => range::wanted(range, len),
        _ => range::Wanted::Whole,
    };
    let (status, start, count) = match wanted {
        range::Wanted::Whole => (meta.status, 0, len),
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
    match source {
        Source::Memory(bytes) => {
            let part = usize::try_from(start)
                .ok()
                .zip(usize::try_from(start + count).ok())
                .filter(|&(_, end)| end <= bytes.len());
            match part {
                Some((from, to)) => finish(response, Body::from(bytes.slice(from..to))),
                None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
        Source::File(file) if count <= SMALL => match read_part(&file, start, count) {
            Ok(bytes) => finish(response, Body::from(bytes)),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
        Source::File(file) => {
            let mut file = tokio::fs::File::from_std(file);
            if start > 0 && file.seek(std::io::SeekFrom::Start(start)).await.is_err() {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
            let stream = tokio_util::io::ReaderStream::with_capacity(file.take(count), 64 * 1024);
            finish(response, Body::from_stream(stream))
        }
    }
}

/// `count` bytes of `file` from `start`, read in one go.
pub(super) fn read_part(file: &File, start: u64, count: u64) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0; usize::try_from(count).map_err(std::io::Error::other)?];
    std::os::unix::fs::FileExt::read_exact_at(file, &mut buf, start)?;
    Ok(buf)
}

fn finish(builder: axum::http::response::Builder, body: Body) -> Response {
    builder
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
