//! The everyday loop in a real browser (headless Chromium over WebDriver): sign up, a project
//! through the detection screen, Deploy, build-log lines appearing while the build still runs,
//! `ready` and the live URL, a failing change's step, and a rollback. Screenshots of each main
//! page go to `target/console-screenshots/`.

use crate::support::TestServer;
use crate::support::browser::Browser;
use crate::support::git::{commit, make_repo};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A build that prints `line-42`, waits for `go` (which the test creates once it has seen that
/// line on the page), prints `line-55`, waits for `go2`, then builds. Each wait is bounded
/// (60 s). The lines are computed, so the command's own echo in the log never contains them.
const GATED: &str = "echo line-$((40+2)); \
    for i in $(seq 1 600); do [ -e go ] && break; sleep 0.1; done; echo line-$((50+5)); \
    for i in $(seq 1 600); do [ -e go2 ] && break; sleep 0.1; done; \
    mkdir -p dist && cp index.html dist/";

/// The build workspace of deployment `dep`'s first attempt (its checkout), once made.
fn workspace(roots: &[PathBuf], dep: &str) -> Option<PathBuf> {
    fn find(dir: &Path, dep: &str, depth: u32) -> Option<PathBuf> {
        if depth == 0 {
            return None;
        }
        for entry in std::fs::read_dir(dir).ok()?.flatten() {
            let path = entry.path();
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            // `<dep>-attempt<n>`: one workspace per attempt of the build.
            if entry.file_name().to_string_lossy().starts_with(dep) && path.join("src").is_dir() {
                return Some(path.join("src"));
            }
            if let Some(found) = find(&path, dep, depth - 1) {
                return Some(found);
            }
        }
        None
    }
    roots.iter().find_map(|root| find(root, dep, 7))
}

/// Where build workspaces may be: the data directory, or the work root beside it.
fn roots(server: &TestServer) -> Vec<PathBuf> {
    let mut roots = vec![server.dir.path().join("data")];
    if let Ok(entries) = std::fs::read_dir("/var/tmp") {
        roots.extend(
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with("shipyard-work-"))
                .map(|e| e.path()),
        );
    }
    roots
}

/// Creates gate `name` in deployment `dep`'s workspace as soon as it exists (bounded).
async fn open_gate(server: &TestServer, dep: &str, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(src) = workspace(&roots(server), dep) {
            std::fs::write(src.join(name), "").expect("gate");
            return;
        }
        assert!(Instant::now() < deadline, "no build workspace for {dep} within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Presses Deploy on the project page; the deployment's id once its page shows.
async fn deploy(browser: &Browser) -> String {
    browser.click("form[action$='/deploy'] button").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let path = browser.path().await;
        if let Some(id) = path.split("/deployments/").nth(1) {
            return id.to_owned();
        }
        assert!(Instant::now() < deadline, "Deploy led to {path}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_everyday_loop_in_a_real_browser() {
    let server = TestServer::start(&[]);
    let repo = server.dir.path().join("repos/site");
    let url = make_repo(&repo, &[("index.html", "<h1>first version</h1>")]);
    let browser = Browser::start().await;
    let base = server.base.clone();

    // Sign up: `/` leads a browser to the sign-in page, and from there to sign-up.
    browser.goto(&format!("{base}/")).await;
    assert_eq!(browser.path().await, "/login");
    browser.shot("login").await;
    browser.click("a[href='/signup']").await;
    browser.fill("name", "Ada").await;
    browser.fill("email", "ada@example.com").await;
    browser.fill("password", "correct horse battery").await;
    browser.fill("workspace", "Acme").await;
    browser.click("form[action='/signup'] button").await;
    browser
        .until(30, "the dashboard", |d| d.contains("No projects yet"))
        .await;

    // A project through the detection screen, its build command corrected there.
    browser.click("a[href$='/new']").await;
    browser.fill("url", &url).await;
    browser.click("form[action$='/new/detect'] button").await;
    let detected = browser
        .until(30, "detection", |d| d.contains("What detection found"))
        .await;
    assert!(
        detected.contains("Static HTML") && detected.contains("Evidence"),
        "{detected}"
    );
    browser.shot("detect").await;
    browser.fill("name", "site").await;
    browser.fill("build", GATED).await;
    browser.fill("output", "dist").await;
    browser.click("form[action$='/new'] button[type=submit]").await;
    browser
        .until(30, "the project page", |d| d.contains("Deploy main"))
        .await;

    // Deploy: lines appear on the page while the build runs.
    let first = deploy(&browser).await;
    browser.until(60, "the first line", |d| d.contains("line-42")).await;
    browser
        .client
        .execute("window.stillThisPage = true; return true;", vec![])
        .await
        .expect("mark the page");
    open_gate(&server, &first, "go").await;
    let live = browser
        .until(60, "a line printed after the gate", |d| d.contains("line-55"))
        .await;
    assert!(
        live.contains("id=\"dep-status\" class=\"status building\""),
        "still building: {live}"
    );
    let same = browser
        .client
        .execute("return window.stillThisPage === true;", vec![])
        .await
        .expect("read the mark");
    assert_eq!(same, serde_json::json!(true), "the line arrived live, not by a reload");
    browser.shot("deployment-live").await;
    open_gate(&server, &first, "go2").await;

    // Ready: the page shows the live URL, and it serves the app.
    let ready = browser.until(120, "ready", |d| d.contains("Live at")).await;
    assert!(ready.contains("class=\"status ready\""), "{ready}");
    let live_url = browser
        .client
        .find(fantoccini::Locator::Css("a.live"))
        .await
        .expect("live link")
        .attr("href")
        .await
        .expect("href")
        .expect("an href");
    browser.shot("deployment-ready").await;
    browser.goto(&live_url).await;
    browser.until(30, "the app", |d| d.contains("first version")).await;
    browser.shot("app").await;

    // A second release, then a failing change: its page shows the failing step.
    let project = format!("{base}{}", {
        browser.goto(&format!("{base}/app")).await;
        browser.until(30, "the dashboard", |d| d.contains(">site</a>")).await;
        browser.shot("dashboard").await;
        browser.click("td a[href*='/projects/']").await;
        browser
            .until(30, "the project page", |d| d.contains("Deploy main"))
            .await;
        browser.path().await
    });
    commit(&repo, &[("index.html", "<h1>second version</h1>")], "second");
    let second = deploy(&browser).await;
    open_gate(&server, &second, "go").await;
    open_gate(&server, &second, "go2").await;
    browser
        .until(120, "the second release", |d| d.contains("Live at"))
        .await;
    std::fs::remove_file(repo.join("index.html")).expect("rm");
    commit(&repo, &[("README", "no page")], "break the build");
    browser.goto(&project).await;
    let third = deploy(&browser).await;
    open_gate(&server, &third, "go").await;
    open_gate(&server, &third, "go2").await;
    let failed = browser.until(120, "the failure", |d| d.contains("Why it failed")).await;
    assert!(
        failed.contains("class=\"status failed\"") && failed.contains("exit"),
        "{failed}"
    );
    browser.shot("deployment-failed").await;

    // Roll back to v1 through its confirmation page: the first version serves again.
    browser.goto(&project).await;
    browser.shot("project").await;
    browser.click("a[href$='/rollback']").await;
    browser
        .until(30, "the confirmation", |d| d.contains("Roll back Production to v1?"))
        .await;
    browser.shot("rollback").await;
    browser.click("form[action$='/rollback'] button").await;
    browser.until(30, "the rollback", |d| d.contains("(rollback)")).await;
    browser.goto(&live_url).await;
    browser
        .until(30, "the first version again", |d| d.contains("first version"))
        .await;
    browser.end().await;
}
