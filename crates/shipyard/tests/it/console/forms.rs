//! The everyday loop without JavaScript: every page fetched and every form posted by a plain
//! HTTP client with cookies and the pages' form tokens.

use crate::support::TestServer;
use crate::support::console::{Browserless, csrf, link, new_project, press_deploy, settled, signed_up};
use crate::support::edge::fetch;
use crate::support::git::{commit, make_repo};
use reqwest::StatusCode;

const BUILD: &str = "mkdir -p dist && cp index.html dist/";

#[tokio::test]
async fn the_everyday_loop_works_without_javascript() {
    let server = TestServer::start(&[]);
    let anon = Browserless::new(&server.base);
    // A browser at `/` gets the console; a JSON client what it got before.
    let home = anon.get("/").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.location.as_deref(), Some("/login"));
    let json = server.client().get("/").await.expect("GET /");
    assert_eq!(json.status, 404);
    assert_eq!(json.body["message"], "no route for GET /");
    assert_eq!(anon.get("/app").await.location.as_deref(), Some("/login"));

    let (b, dashboard) = signed_up(&server.base, "ada@example.com", "Acme").await;
    assert!(b.get(&dashboard).await.html.contains("No projects yet"));

    let repo = server.dir.path().join("repos/site");
    let url = make_repo(&repo, &[("index.html", "<h1>first</h1>")]);
    let project = new_project(&b, &dashboard, &url, "site", BUILD, "dist").await;

    // First deploy: ready, live, and the live URL serves it.
    let first = settled(&b, &press_deploy(&b, &project).await, 120).await;
    assert!(first.contains("class=\"status ready\""), "{first}");
    let live = link(&first, ".localhost:").expect("the live URL is shown");
    let host = live
        .trim_start_matches("http://")
        .split(':')
        .next()
        .expect("host")
        .to_owned();
    assert!(fetch(&server, &host, "/", &[]).await.text().contains("first"));

    // A second release, then a failing change: the failing step and its exit code are shown
    // at the top of its page, and the dashboard says it needs attention.
    commit(&repo, &[("index.html", "<h1>second</h1>")], "second");
    let second = settled(&b, &press_deploy(&b, &project).await, 120).await;
    assert!(second.contains("class=\"status ready\""), "{second}");
    assert!(fetch(&server, &host, "/", &[]).await.text().contains("second"));
    std::fs::remove_file(repo.join("index.html")).expect("rm");
    commit(&repo, &[("README", "no page")], "break the build");
    let failing = press_deploy(&b, &project).await;
    let failed = settled(&b, &failing, 120).await;
    assert!(failed.contains("class=\"status failed\""), "{failed}");
    let why = failed
        .split("Why it failed:</strong>")
        .nth(1)
        .expect("the reason is at the top");
    assert!(why.contains("exit"), "names the exit code: {why}");
    assert!(
        failed.contains("cp: cannot stat"),
        "the log shows the failing command's output"
    );
    let board = b.get(&dashboard).await.html;
    assert!(
        board.contains("Needs attention") && board.contains("deploy failed"),
        "{board}"
    );
    assert!(board.contains(failing.rsplit('/').next().expect("id")));

    // Roll back to v1 through its confirmation page; v1 serves again.
    let page = b.get(&project).await.html;
    let confirm = link(&page, "/rollback").expect("a Rollback button");
    let asked = b.get(&confirm).await;
    assert!(asked.html.contains("Roll back Production to v1?"), "{}", asked.html);
    let done = b
        .post(
            &confirm,
            &[("csrf", csrf(&asked.html).as_str()), ("reason", "bad build")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert_eq!(done.location.as_deref(), Some(project.as_str()));
    assert!(fetch(&server, &host, "/", &[]).await.text().contains("first"));
    let after = b.get(&project).await.html;
    assert!(after.contains("(rollback)"), "the new release is marked as a rollback");

    // Sign out: the session ends, the console asks for a sign-in again.
    let out = b.post("/app/logout", &[("csrf", csrf(&after).as_str())]).await;
    assert_eq!(out.location.as_deref(), Some("/login"));
    assert_eq!(b.get(&dashboard).await.location.as_deref(), Some("/login"));
}
