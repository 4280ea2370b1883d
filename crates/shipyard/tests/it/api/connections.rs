//! Repository connections against real git: local repositories, a private repository behind
//! a token-checking smart-HTTP server, an unreachable ssh host, and the credential never
//! leaking anywhere.

use crate::support::fixtures::vite_react_files;
use crate::support::git::{PrivateGitServer, branch_with, make_repo};
use crate::support::{TestServer, assert_error, files_under};
use serde_json::json;
use std::os::unix::fs::PermissionsExt;

#[tokio::test]
async fn local_repositories_connect_and_list_branches() {
    let server = TestServer::in_process(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let repo = server.dir.path().join("web");
    let url = make_repo(&repo, &vite_react_files());
    branch_with(&repo, "dev", &[("NOTES.md", "dev")]);
    let path = format!("/tenants/{}/repository-connections", ada.tenant_id);

    let made = ada
        .token
        .post(&path, &json!({ "provider": "git", "url": url }))
        .await
        .expect("request");
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(
        (made.body["name"].as_str(), made.body["defaultBranch"].as_str()),
        (Some("web"), Some("main"))
    );
    assert_eq!(made.body["authType"], "none");
    assert!(
        made.body["webhookSecret"]
            .as_str()
            .is_some_and(|s| s.starts_with("whsec_")),
        "shown once at creation"
    );
    let id = made.body["id"].as_str().expect("id");
    assert!(id.starts_with("rc_"));

    let one = ada
        .token
        .get(&format!("{path}/{id}"))
        .await
        .expect("request")
        .ok()
        .expect("detail");
    assert!(one.get("webhookSecret").is_none(), "never shown again: {one}");
    assert_eq!(
        ada.token.get(&path).await.expect("request").ok().expect("list")["total"],
        1
    );
    let branches = ada
        .token
        .get(&format!("{path}/{id}/branches"))
        .await
        .expect("request")
        .ok()
        .expect("branches");
    let names: Vec<_> = branches["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|b| b["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("dev"), json!("main")]);
    assert_eq!(branches["items"][0]["commitSha"].as_str().map(str::len), Some(40));

    let dev = ada
        .token
        .post(
            &path,
            &json!({ "provider": "git", "url": url, "defaultBranch": "dev", "name": "Web (dev)" }),
        )
        .await;
    assert_eq!(dev.expect("request").body["defaultBranch"], "dev");
    let missing = ada
        .token
        .post(
            &path,
            &json!({ "provider": "git", "url": url, "defaultBranch": "nope" }),
        )
        .await
        .expect("request");
    assert_error(&missing, 422);
    assert!(
        missing.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("nope") && m.contains("dev, main")),
        "{}",
        missing.body
    );

    assert_eq!(
        ada.token.delete(&format!("{path}/{id}")).await.expect("request").status,
        204
    );
    assert_error(&ada.token.get(&format!("{path}/{id}")).await.expect("request"), 404);
}

#[tokio::test]
async fn bad_urls_and_policies_are_refused_with_reasons() {
    let server = TestServer::in_process(&["--allow-signup"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let path = format!("/tenants/{}/repository-connections", ada.tenant_id);
    let post = |body: serde_json::Value| {
        let (client, path) = (ada.token.clone(), path.clone());
        async move { client.post(&path, &body).await }
    };

    for (url, status, words) in [
        ("https://user:hunter2@example.com/acme/web.git", 400, "credentials"),
        ("ftp://example.com/repo", 400, "url"),
        ("--upload-pack=touch /tmp/pwned", 400, "url"),
        ("file:///definitely/not/here", 422, "cannot be opened"),
    ] {
        let response = post(json!({ "provider": "git", "url": url })).await.expect("request");
        assert_error(&response, status);
        assert!(
            response.body["message"].as_str().is_some_and(|m| m.contains(words)),
            "{url}: {}",
            response.body
        );
    }
    let not_a_repo = tempfile::tempdir().expect("tempdir");
    let response = post(json!({ "provider": "git", "url": format!("file://{}", not_a_repo.path().display()) })).await;
    let response = response.expect("request");
    assert_error(&response, 422);
    assert!(
        response.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("git said")),
        "{}",
        response.body
    );

    let inside = format!("file://{}", server.data_dir().display());
    assert_error(
        &post(json!({ "provider": "git", "url": inside }))
            .await
            .expect("request"),
        422,
    );
    let repo = make_repo(&server.dir.path().join("r"), &vite_react_files());
    let token_on_file =
        post(json!({ "provider": "git", "url": repo, "auth": { "type": "token", "token": "abc" } })).await;
    assert_error(&token_on_file.expect("request"), 422);
    let bad_auth =
        post(json!({ "provider": "git", "url": repo, "auth": { "type": "password", "password": "x" } })).await;
    assert_error(&bad_auth.expect("request"), 400);
    assert_error(
        &post(json!({ "provider": "svn", "url": repo })).await.expect("request"),
        400,
    );

    let strict = TestServer::in_process(&["--allow-local-repos=false"]);
    let bob = strict.tenant("bob@example.com", "Bobco").await;
    let refused = bob
        .token
        .post(
            &format!("/tenants/{}/repository-connections", bob.tenant_id),
            &json!({ "provider": "git", "url": repo }),
        )
        .await
        .expect("request");
    assert_error(&refused, 422);
    assert!(
        refused.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("--allow-local-repos"))
    );
}

#[tokio::test]
async fn unreachable_ssh_hosts_fail_cleanly() {
    let server = TestServer::in_process(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    // A syntactically valid key is not needed to learn that nothing listens on port 1.
    let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
    let response = ada
        .token
        .post(
            &format!("/tenants/{}/repository-connections", ada.tenant_id),
            &json!({ "provider": "git", "url": "ssh://git@127.0.0.1:1/acme/web.git", "auth": { "type": "ssh-key", "privateKey": key } }),
        )
        .await
        .expect("request");
    assert_error(&response, 422);
    let message = response.body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("git said") && message.contains("127.0.0.1"),
        "{message}"
    );
    assert!(!message.contains("AAAA"), "the key never appears: {message}");
}

#[tokio::test]
async fn private_repositories_need_the_right_token_which_never_leaks() {
    const PLANTED: &str = "plantedToken-7f3a9c2e51b84d06";
    let git_root = tempfile::tempdir().expect("tempdir");
    let work = git_root.path().join("work");
    make_repo(&work, &vite_react_files());
    let bare = git_root.path().join("site.git");
    let cloned = std::process::Command::new("git")
        .args(["clone", "--quiet", "--bare"])
        .arg(&work)
        .arg(&bare)
        .status()
        .expect("git clone --bare");
    assert!(cloned.success());
    let git_server = PrivateGitServer::start(git_root.path(), PLANTED).await;
    let url = format!("{}/site.git", git_server.base);

    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let path = format!("/tenants/{}/repository-connections", ada.tenant_id);
    let wrong = ada
        .token
        .post(
            &path,
            &json!({ "provider": "git", "url": url, "auth": { "type": "token", "token": "wrong-token" } }),
        )
        .await
        .expect("request");
    assert_error(&wrong, 422);
    assert!(
        wrong.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("Authentication failed")),
        "{}",
        wrong.body
    );
    let anonymous = ada
        .token
        .post(&path, &json!({ "provider": "git", "url": url }))
        .await
        .expect("request");
    assert_error(&anonymous, 422);

    let made = ada
        .token
        .post(
            &path,
            &json!({ "provider": "git", "url": url, "auth": { "type": "token", "token": PLANTED } }),
        )
        .await
        .expect("request");
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.body["authType"], "token");
    let id = made.body["id"].as_str().expect("id").to_owned();
    // Use the credential for a fetch too (detection), so the mirror exists.
    let detected = ada
        .token
        .post(
            &format!("/tenants/{}/projects/detect", ada.tenant_id),
            &json!({ "repositoryConnectionId": id }),
        )
        .await
        .expect("request");
    assert_eq!(detected.status, 200, "{}", detected.body);
    assert_eq!(detected.body["type"], "react");
    let branches = ada.token.get(&format!("{path}/{id}/branches")).await.expect("request");
    assert_eq!(branches.status, 200);

    let mut seen = vec![
        made.body.to_string(),
        detected.body.to_string(),
        branches.body.to_string(),
    ];
    seen.push(
        ada.token
            .get(&format!("{path}/{id}"))
            .await
            .expect("request")
            .body
            .to_string(),
    );
    seen.push(ada.token.get(&path).await.expect("request").body.to_string());
    for body in &seen {
        assert!(!body.contains(PLANTED), "credential in a response: {body}");
    }
    assert!(
        !(server.stderr() + &server.stdout()).contains(PLANTED),
        "credential in the server output"
    );
    let mirror_config = server
        .data_dir()
        .join("repos")
        .join(&id)
        .join("mirror.git")
        .join("config");
    let config = std::fs::read_to_string(&mirror_config).expect("mirror exists");
    assert!(
        !config.contains(PLANTED) && !config.contains(&git_server.base),
        "mirror config keeps no remote: {config}"
    );
    for file in files_under(&server.data_dir()) {
        let bytes = std::fs::read(&file).expect("read");
        assert!(
            !bytes.windows(PLANTED.len()).any(|w| w == PLANTED.as_bytes()),
            "credential in clear in {}",
            file.display()
        );
    }
    assert!(
        files_under(&server.data_dir())
            .iter()
            .any(|f| f.ends_with("shipyard.db-wal")),
        "the WAL was checked too"
    );
}

#[tokio::test]
async fn with_a_local_repos_root_only_repositories_below_it_connect() {
    let allowed = tempfile::tempdir().expect("tempdir");
    let root = allowed.path().to_str().expect("path").to_owned();
    let server = TestServer::in_process(&["--local-repos-root", &root]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let path = format!("/tenants/{}/repository-connections", ada.tenant_id);
    // Positive control: a repository below the root connects.
    let inside = make_repo(&allowed.path().join("web"), &vite_react_files());
    let made = ada
        .token
        .post(&path, &json!({ "provider": "git", "url": inside }))
        .await
        .expect("request");
    assert_eq!(made.status, 201, "{}", made.body);
    // One elsewhere, and a link below the root that leads elsewhere, are refused naming the flag.
    let outside = make_repo(&server.dir.path().join("elsewhere"), &vite_react_files());
    std::os::unix::fs::symlink(server.dir.path().join("elsewhere"), allowed.path().join("link")).expect("link");
    let through_link = format!("file://{}", allowed.path().join("link").display());
    for url in [outside, through_link] {
        let refused = ada
            .token
            .post(&path, &json!({ "provider": "git", "url": url }))
            .await
            .expect("request");
        assert_error(&refused, 422);
        let message = refused.body["message"].as_str().unwrap_or_default();
        assert!(message.contains("--local-repos-root"), "{message}");
    }
}

#[tokio::test]
async fn a_local_repository_is_read_as_nobody_so_a_private_one_does_not_connect() {
    let server = TestServer::in_process(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let path = format!("/tenants/{}/repository-connections", ada.tenant_id);
    // A root-owned repository in a directory only root may enter, as etckeeper's `/etc/.git` is.
    let private = tempfile::tempdir().expect("tempdir");
    let repo = private.path().join("secrets");
    let url = make_repo(&repo, &[("passwords.txt", "hunter2")]);
    std::fs::set_permissions(private.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod 700");
    let refused = ada
        .token
        .post(&path, &json!({ "provider": "git", "url": url }))
        .await
        .expect("request");
    assert_error(&refused, 422);
    // The same words as for a path that does not exist: nothing about the host is told.
    let message = refused.body["message"].as_str().unwrap_or_default();
    assert!(message.contains("does not appear to be a git repository"), "{message}");
    assert!(message.contains("read as the unprivileged user nobody"), "{message}");
    // Positive control: the same repository once every user may read it.
    std::fs::set_permissions(private.path(), std::fs::Permissions::from_mode(0o711)).expect("chmod 711");
    let made = ada
        .token
        .post(&path, &json!({ "provider": "git", "url": url }))
        .await
        .expect("request");
    assert_eq!(made.status, 201, "{}", made.body);
}
