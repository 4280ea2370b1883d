//! Live URLs (#12): the edge serves what a deploy built, from the release's files, on the
//! environment's host (127.0.0.1 with the `Host` header): types, validators, ranges,
//! precompressed siblings, cache policy, SPA fallback, the site's 404 page, and nothing
//! outside the artifact.

use crate::support::TestServer;
use crate::support::deploy::Deployable;
use crate::support::edge::{fetch, raw_status};
use crate::support::fixtures::vite_react_app_files;
use serde_json::{Value, json};

const SITE: &[(&str, &str)] = &[
    ("site/index.html", "<!doctype html><h1>Home</h1>"),
    ("site/about.html", "<!doctype html><h1>About us</h1>"),
    ("site/404.html", "<!doctype html><h1>Our own 404</h1>"),
    ("site/plain.txt", "0123456789abcdefghij"),
    ("site/assets/app-4f9a1c7e.js", "console.log('hashed');"),
    ("site/style.css", "body { color: red }"),
    ("site/style.css.br", "BROTLI-BYTES"),
    ("private.txt", "PRIVATE-NOT-SERVED"),
];

/// Copies `site/` to `dist/` and adds links: one inside the site, and two that stay in the
/// repository (so the release accepts them) but leave the served directory.
const BUILD: &str = "cp -r site/. dist && ln -s index.html dist/home.html \
    && ln -s ../private.txt dist/leak.txt && mkdir dist/deep && ln -s ../../private.txt dist/deep/climb.txt \
    && cp site/plain.txt dist/old.txt && touch -d 1969-07-20 dist/old.txt";

async fn deployed_site(server: &TestServer) -> (crate::support::Tenant, Deployable, String) {
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(
            server,
            "web",
            "static",
            SITE,
            json!({ "build": { "buildCommand": BUILD, "outputDirectory": "dist" } }),
        )
        .await;
    let done = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 120)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
    let host = ada.live_host_of(&app).await;
    (ada, app, host)
}

#[tokio::test]
async fn a_static_site_is_served_with_types_validators_ranges_and_siblings() {
    let server = TestServer::start(&[]);
    let (_ada, _app, host) = deployed_site(&server).await;

    let home = fetch(&server, &host, "/", &[]).await;
    assert_eq!(
        (home.status, home.text().as_str()),
        (200, "<!doctype html><h1>Home</h1>")
    );
    assert_eq!(home.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(home.header("cache-control"), "no-cache", "HTML is revalidated");
    let etag = home.header("etag");
    assert!(etag.starts_with('"'), "a strong ETag: {etag}");
    assert!(!home.header("last-modified").is_empty());
    let again = fetch(&server, &host, "/", &[("if-none-match", &etag)]).await;
    assert_eq!((again.status, again.body.len()), (304, 0), "the ETag answers 304");
    let since = fetch(
        &server,
        &host,
        "/",
        &[("if-modified-since", &home.header("last-modified"))],
    )
    .await;
    assert_eq!(since.status, 304);
    let other = fetch(&server, &host, "/", &[("if-none-match", "\"something-else\"")]).await;
    assert_eq!(other.status, 200, "control: another tag gets the page");

    let part = fetch(&server, &host, "/plain.txt", &[("range", "bytes=0-9")]).await;
    assert_eq!((part.status, part.text().as_str()), (206, "0123456789"));
    assert_eq!(part.header("content-range"), "bytes 0-9/20");
    let beyond = fetch(&server, &host, "/plain.txt", &[("range", "bytes=50-60")]).await;
    assert_eq!(
        (beyond.status, beyond.header("content-range").as_str()),
        (416, "bytes */20")
    );

    let br = fetch(&server, &host, "/style.css", &[("accept-encoding", "gzip, br")]).await;
    assert_eq!((br.status, br.text().as_str()), (200, "BROTLI-BYTES"));
    assert_eq!(br.header("content-encoding"), "br");
    assert_eq!(br.header("content-type"), "text/css; charset=utf-8");
    assert!(br.header("vary").contains("Accept-Encoding"));
    let plain = fetch(&server, &host, "/style.css", &[]).await;
    assert_eq!(
        (plain.text().as_str(), plain.header("content-encoding").as_str()),
        ("body { color: red }", "")
    );
    assert_ne!(
        plain.header("etag"),
        br.header("etag"),
        "each variant has its own validator"
    );

    let hashed = fetch(&server, &host, "/assets/app-4f9a1c7e.js", &[]).await;
    assert_eq!(hashed.status, 200);
    assert_eq!(hashed.header("cache-control"), "public, max-age=31536000, immutable");
    assert!(
        hashed.header("content-type").starts_with("text/javascript"),
        "{}",
        hashed.header("content-type")
    );

    let clean = fetch(&server, &host, "/about", &[]).await;
    assert_eq!(
        (clean.status, clean.text().as_str()),
        (200, "<!doctype html><h1>About us</h1>")
    );
    let missing = fetch(&server, &host, "/no/such/page", &[]).await;
    assert_eq!(
        (missing.status, missing.text().as_str()),
        (404, "<!doctype html><h1>Our own 404</h1>")
    );
    let head = crate::support::edge::fetch_with(
        &crate::support::edge::edge_client(),
        &server,
        reqwest::Method::HEAD,
        &host,
        "/plain.txt",
        &[],
    )
    .await;
    assert_eq!(
        (head.status, head.body.len(), head.header("content-length").as_str()),
        (200, 0, "20")
    );
    let post = crate::support::edge::fetch_with(
        &crate::support::edge::edge_client(),
        &server,
        reqwest::Method::POST,
        &host,
        "/",
        &[],
    )
    .await;
    assert_eq!((post.status, post.header("allow").as_str()), (405, "GET, HEAD"));

    // Asked again (small files now answer from memory), every answer is the same.
    for (path, headers, first) in [
        ("/", vec![], &home),
        ("/style.css", vec![("accept-encoding", "gzip, br")], &br),
        ("/style.css", vec![], &plain),
        ("/about", vec![], &clean),
        ("/no/such/page", vec![], &missing),
        ("/plain.txt", vec![("range", "bytes=0-9")], &part),
    ] {
        let again = fetch(&server, &host, path, &headers).await;
        assert_eq!((again.status, &again.body), (first.status, &first.body), "{path}");
        for name in [
            "etag",
            "content-type",
            "content-encoding",
            "last-modified",
            "content-range",
        ] {
            assert_eq!(again.header(name), first.header(name), "{path} {name}");
        }
    }
}

#[tokio::test]
async fn nothing_outside_the_artifact_is_ever_served() {
    let server = TestServer::start(&[]);
    let (_ada, _app, host) = deployed_site(&server).await;
    // Control: a link that stays inside the site is served.
    let inside = fetch(&server, &host, "/home.html", &[]).await;
    assert_eq!(
        (inside.status, inside.text().as_str()),
        (200, "<!doctype html><h1>Home</h1>")
    );
    for path in ["/leak.txt", "/deep/climb.txt"] {
        let out = fetch(&server, &host, path, &[]).await;
        assert_eq!(out.status, 404, "{path}: a link out of the served directory is a 404");
        assert!(!out.text().contains("PRIVATE-NOT-SERVED"), "{path}");
    }
    for raw in [
        "/../master.key",
        "/%2e%2e/master.key",
        "/%2E%2E/%2e%2e/data/master.key",
        "/assets/..%2f..%2fmaster.key",
        "/..%5c..%5cmaster.key",
        "/x%00.html",
    ] {
        let (status, text) = raw_status(&server, &host, raw).await;
        assert!(status == 400 || status == 404, "{raw}: {status}");
        assert!(!text.contains("BEGIN") && text.len() < 4096, "{raw}: {text}");
    }
    let key = std::fs::read(server.data_dir().join("master.key")).expect("master.key");
    let probe = fetch(&server, &host, "/master.key", &[]).await;
    assert_ne!(probe.body, key, "the master key is never served");
}

#[tokio::test]
async fn a_vite_react_site_serves_its_assets_and_falls_back_to_index_html() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let files = vite_react_app_files();
    let app = ada.deployable(&server, "spa", "react", &files, Value::Null).await;
    let done = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 400)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
    let host = ada.live_host_of(&app).await;
    let index = fetch(&server, &host, "/", &[]).await;
    assert_eq!(index.status, 200);
    let html = index.text();
    let script = html
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("a built script in {html}"))
        .to_owned();
    assert!(script.starts_with("/assets/") && script.ends_with(".js"), "{script}");
    let asset = fetch(&server, &host, &script, &[]).await;
    assert_eq!(asset.status, 200);
    assert!(asset.text().contains("Hello from Vite"));
    assert_eq!(asset.header("cache-control"), "public, max-age=31536000, immutable");
    let route = fetch(&server, &host, "/settings/profile", &[]).await;
    assert_eq!(
        (route.status, route.text()),
        (200, html),
        "a client-side route gets index.html"
    );
    let gone = fetch(&server, &host, "/assets/missing-1234abcd.js", &[]).await;
    assert_eq!(gone.status, 404, "a missing asset is not papered over with index.html");
}
