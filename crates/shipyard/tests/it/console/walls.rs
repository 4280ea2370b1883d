//! The console's walls: a tenant's log text (HTML, ANSI and OSC escapes) renders as text, and a
//! form without its token or from another origin is refused and changes nothing. Each refusal
//! has its positive control: the same form, with the token, from the site, goes through.

use crate::support::TestServer;
use crate::support::console::{Browserless, action, csrf, new_project, press_deploy, settled, signed_up};
use crate::support::git::make_repo;
use reqwest::StatusCode;

/// A build whose output is hostile markup and terminal escapes.
const HOSTILE: &str = r"printf '\033[1;31mred\033[0m <script>alert(1)</script> \033]0;pwned\007<img src=x onerror=alert(2)>\n'; mkdir -p dist; cp index.html dist/";

#[tokio::test]
async fn logs_render_as_text_and_forged_forms_change_nothing() {
    let server = TestServer::start(&["--allow-signup"]);
    let (b, dashboard) = signed_up(&server.base, "ada@example.com", "Acme").await;
    let url = make_repo(&server.dir.path().join("repos/site"), &[("index.html", "ok")]);
    let project = new_project(&b, &dashboard, &url, "site", HOSTILE, "dist").await;
    let deployment = press_deploy(&b, &project).await;
    let page = settled(&b, &deployment, 120).await;
    assert!(page.contains("class=\"status ready\""), "{page}");

    // The log line is there, as text: colours as classes, markup escaped, escapes gone.
    assert!(page.contains("<span class=\"fg1 b\">red</span>"), "{page}");
    assert!(page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "{page}");
    assert!(page.contains("&#60;img src=x onerror=alert(2)&#62;"), "{page}");
    assert!(
        !page.contains("<script>alert") && !page.contains("<img src=x"),
        "{page}"
    );
    // The OSC title sequence went whole (its text too): the script tag is followed directly by
    // the image in the output line (the command's own echo above it shows `\033]0;pwned` as
    // the literal text it is).
    assert!(
        page.contains("&#60;/script&#62; &#60;img src=x onerror=alert(2)&#62;</span>"),
        "OSC title dropped: {page}"
    );
    assert!(!page.contains('\u{1b}'), "{page}");

    // Every page is sent with a policy that forbids inline script and framing, and not kept.
    let fetched = b.get(&deployment).await;
    let csp = fetched.headers["content-security-policy"].to_str().expect("csp");
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(fetched.headers["cache-control"], "no-store");
    assert!(!fetched.html.contains("style=\""), "no inline styles");
    assert!(!fetched.html.contains("<script>"), "no inline script");

    // Forged deploys: without the token, with another session's token, from another origin.
    let count = || async {
        b.api(&format!(
            "/tenants/{}/projects/{}/deployments",
            dashboard.trim_start_matches("/app/"),
            project.rsplit('/').next().expect("id")
        ))
        .await["total"]
            .as_i64()
            .expect("total")
    };
    let before = count().await;
    let form_page = b.get(&project).await.html;
    let deploy = action(&form_page, "/deploy").expect("Deploy");
    let token = csrf(&form_page);
    let (mallory, elsewhere) = signed_up(&server.base, "mallory@example.com", "Evil").await;
    let mallory_token = csrf(&mallory.get(&elsewhere).await.html);
    for (what, fields, origin) in [
        ("no token", vec![], Some(server.base.as_str())),
        (
            "a wrong token",
            vec![("csrf", "0".repeat(64))],
            Some(server.base.as_str()),
        ),
        (
            "another session's token",
            vec![("csrf", mallory_token.clone())],
            Some(server.base.as_str()),
        ),
        (
            "a foreign origin",
            vec![("csrf", token.clone())],
            Some("http://evil.example"),
        ),
        (
            "an app's origin",
            vec![("csrf", token.clone())],
            Some("http://site-production.acme.localhost"),
        ),
    ] {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let refused = b.post_from(&deploy, origin, &fields).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{what}: {}", refused.html);
        assert_eq!(count().await, before, "{what}: nothing was deployed");
    }
    // The positive control: the same form, with its token, from the site.
    let ok = b.post(&deploy, &[("csrf", token.as_str())]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.html);
    assert_eq!(count().await, before + 1);

    // Ids in console paths go into API paths: an encoded `/` or `?` is not an id.
    for sneaky in ["x%2F..%2F..%2Fauth%2Fme", "dep_1%3Fafter=0", "..%2Fprojects"] {
        let page = b.get(&format!("{dashboard}/deployments/{sneaky}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{sneaky}: {}", page.html);
    }
    // The console is for sessions: a bearer token with a junk cookie is sent to sign in.
    let token = server
        .client()
        .login("ada@example.com", "correct horse battery")
        .await
        .expect("login")
        .create_token("console")
        .await
        .expect("token");
    let with_token = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(format!("{}{dashboard}", server.base))
        .header("authorization", format!("Bearer {token}"))
        .header("cookie", "shipyard_session=junk")
        .header("accept", "text/html")
        .send()
        .await
        .expect("GET");
    assert_eq!(with_token.status(), StatusCode::SEE_OTHER);
    assert_eq!(with_token.headers()["location"], "/login");

    // Sign-in forms need the token of their own cookie too.
    let anon = Browserless::new(&server.base);
    let login = anon.get("/login").await;
    let fields = [("email", "ada@example.com"), ("password", "correct horse battery")];
    let forged = anon.post("/login", &fields).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.html);
    assert!(forged.headers.get("set-cookie").is_none(), "no session was started");
    let mut with_token = fields.to_vec();
    let login_token = csrf(&login.html);
    with_token.push(("csrf", login_token.as_str()));
    let foreign = anon.post_from("/login", Some("http://evil.example"), &with_token).await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN, "{}", foreign.html);
    let signed_in = anon.post("/login", &with_token).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "{}", signed_in.html);
    assert_eq!(signed_in.location.as_deref(), Some("/app"));
}
