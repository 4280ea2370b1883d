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
    let wrong = anon.post_from("/", None, &[]).await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        wrong.html.contains("\"statusCode\":405"),
        "the contract's error shape: {}",
        wrong.html
    );

    let (b, dashboard) = signed_up(&server.base, "ada@example.com", "Acme").await;
    assert!(b.get(&dashboard).await.html.contains("No projects yet"));
    // The workspace switcher without JavaScript: a GET form that goes only to the visitor's own.
    let tenant = dashboard.trim_start_matches("/app/");
    let switched = b.get(&format!("/app/switch?tenant={tenant}")).await;
    assert_eq!(switched.location.as_deref(), Some(dashboard.as_str()));
    let elsewhere = b.get("/app/switch?tenant=https://evil.example").await;
    assert_eq!(elsewhere.location.as_deref(), Some("/app"));

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

/// A server app's runtime log on its project page: the active release's newest lines, with a
/// tenant's markup escaped and colours as classes.
#[tokio::test]
async fn a_servers_runtime_log_shows_on_its_project_page() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let js = r"require('http').createServer((q, r) => { console.log('hit <b>bold</b> \x1b[32mgreen\x1b[0m'); r.end('ok'); }).listen(process.env.PORT);";
    let (app, _) = ada.node_app_ready(&server, "api", js, serde_json::json!({})).await;
    let host = crate::support::edge::live_host(&ada.project_view(&app).await);
    assert_eq!(fetch(&server, &host, "/", &[]).await.text(), "ok");

    let b = Browserless::new(&server.base);
    let login = b.get("/login").await;
    let token = csrf(&login.html);
    let fields = [
        ("csrf", token.as_str()),
        ("email", "ada@example.com"),
        ("password", crate::support::PASSWORD),
    ];
    assert_eq!(b.post("/login", &fields).await.status, StatusCode::SEE_OTHER);
    let project = format!("/app/{}/projects/{}", ada.tenant_id, app.project_id);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let page = b.get(&project).await.html;
        assert!(page.contains("Runtime log"), "{page}");
        if page.contains("hit &#60;b&#62;bold&#60;/b&#62; <span class=\"fg2\">green</span>") {
            assert!(page.contains("data-stream=\"/tenants/"), "the script follows it live");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no runtime line on the page: {page}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}
