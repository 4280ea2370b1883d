//! Git repositories made by the tests, and a token-protected smart-HTTP server in front of
//! `git http-backend` (a private repository on loopback, standing in for a git host).

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=Shipyard Tests",
            "-c",
            "user.email=tests@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes a repository at `dir` with `files` committed on `main`; returns its `file://` URL.
/// The server reads local repositories as `nobody`, so every directory above it lets others
/// through (a test's temporary directory is private otherwise).
pub fn make_repo(dir: &Path, files: &[(&str, &str)]) -> String {
    std::fs::create_dir_all(dir).expect("repo dir");
    open_to_others(dir);
    git(dir, &["init", "--quiet", "-b", "main"]);
    commit(dir, files, "initial commit");
    format!("file://{}", dir.display())
}

/// Lets every user read `dir` and pass through the directories above it, as a repository any
/// user may read must be.
pub fn open_to_others(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for (i, above) in dir.ancestors().enumerate() {
        let Ok(meta) = std::fs::metadata(above) else { continue };
        let (mode, wanted) = (meta.permissions().mode(), if i == 0 { 0o055 } else { 0o011 });
        if mode & wanted != wanted {
            std::fs::set_permissions(above, std::fs::Permissions::from_mode(mode | wanted))
                .unwrap_or_else(|e| panic!("{}: {e}", above.display()));
        }
    }
}

/// Writes `files` and commits them on the current branch.
pub fn commit(dir: &Path, files: &[(&str, &str)], message: &str) {
    for (path, text) in files {
        let full = dir.join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, text).expect("write file");
    }
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "--quiet", "--allow-empty", "-m", message]);
}

/// Creates `branch` at the current commit and commits `files` on it, then returns to main.
pub fn branch_with(dir: &Path, branch: &str, files: &[(&str, &str)]) {
    git(dir, &["checkout", "--quiet", "-b", branch]);
    commit(dir, files, &format!("work on {branch}"));
    git(dir, &["checkout", "--quiet", "main"]);
}

struct Backend {
    root: PathBuf,
    token: String,
}

/// A smart-HTTP git server that demands `token` as the Basic-auth password.
pub struct PrivateGitServer {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for PrivateGitServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PrivateGitServer {
    /// Serves the repositories under `root` (each `<root>/<name>`) on a free loopback port.
    pub async fn start(root: &Path, token: &str) -> Self {
        let state = Arc::new(Backend {
            root: root.to_owned(),
            token: token.to_owned(),
        });
        let app = axum::Router::new().fallback(serve_git).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { base, task }
    }
}

fn authorized(headers: &HeaderMap, token: &str) -> bool {
    let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    else {
        return false;
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(basic)
        .unwrap_or_default();
    String::from_utf8_lossy(&decoded)
        .split_once(':')
        .is_some_and(|(_, password)| password == token)
}

async fn serve_git(State(backend): State<Arc<Backend>>, request: Request) -> Response {
    if !authorized(request.headers(), &backend.token) {
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header(header::WWW_AUTHENTICATE, "Basic realm=\"git\"")
            .body(Body::from("authentication required"))
            .expect("response");
    }
    let (parts, body) = request.into_parts();
    let body: Bytes = axum::body::to_bytes(body, 64 * 1024 * 1024).await.unwrap_or_default();
    let header_value = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut child = tokio::process::Command::new("git")
        .arg("http-backend")
        .env("GIT_PROJECT_ROOT", &backend.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", parts.method.as_str())
        .env("PATH_INFO", parts.uri.path())
        .env("QUERY_STRING", parts.uri.query().unwrap_or_default())
        .env("CONTENT_TYPE", header_value(header::CONTENT_TYPE))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("HTTP_CONTENT_ENCODING", header_value(header::CONTENT_ENCODING))
        .env(
            "GIT_PROTOCOL",
            parts
                .headers
                .get("git-protocol")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default(),
        )
        .env("REMOTE_USER", "tests")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn git http-backend");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = tokio::spawn(async move {
        let _ = tokio::io::AsyncWriteExt::write_all(&mut stdin, &body).await;
    });
    let out = child.wait_with_output().await.expect("http-backend output");
    let _ = writer.await;
    let split = out.stdout.windows(4).position(|w| w == b"\r\n\r\n").map(|i| (i, 4));
    let split = split.or_else(|| out.stdout.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let (head_end, sep) = split.unwrap_or((out.stdout.len(), 0));
    let head = String::from_utf8_lossy(&out.stdout[..head_end]).into_owned();
    let mut response = Response::builder();
    for line in head.lines() {
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("status") {
                let code = value
                    .split_whitespace()
                    .next()
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(500);
                response = response.status(code);
            } else {
                response = response.header(name.trim(), value.trim());
            }
        }
    }
    response
        .body(Body::from(out.stdout[head_end + sep..].to_vec()))
        .expect("response")
}
