//! The README's "Deploy from CI" snippets: their shell lines run as written, against a real
//! server, from a checkout whose shipyard.toml names the project.

use crate::support::TestServer;
use crate::support::deploy::static_build;
use crate::support::edge::fetch;
use std::process::Stdio;
use std::time::Duration;

/// The shell lines of the README's CI snippets: GitHub's `run: |` block and GitLab's `script:` list.
fn snippets() -> Vec<(&'static str, String)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).expect("README");
    let section = readme
        .split("\n## Deploy from CI\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("a Deploy from CI section");
    let blocks: Vec<&str> = section
        .split("```yaml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .collect();
    assert_eq!(blocks.len(), 2, "a GitHub and a GitLab snippet");
    let github: Vec<&str> = blocks[0]
        .lines()
        .skip_while(|l| !l.trim_end().ends_with("run: |"))
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let gitlab: Vec<&str> = blocks[1]
        .lines()
        .skip_while(|l| l.trim() != "script:")
        .skip(1)
        .filter_map(|l| l.trim().strip_prefix("- "))
        .collect();
    assert!(github.len() >= 2 && gitlab.len() >= 2, "{github:?} {gitlab:?}");
    vec![("GITHUB_SHA", github.join("\n")), ("CI_COMMIT_SHA", gitlab.join("\n"))]
}

#[tokio::test]
async fn the_readme_ci_snippets_deploy_as_written() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    ada.deployable(
        &server,
        "web",
        "static",
        &[("README.md", "hello")],
        static_build("mkdir -p dist && echo deployed-from-ci > dist/index.html"),
    )
    .await;
    let checkout = tempfile::tempdir().expect("checkout");
    std::fs::create_dir(checkout.path().join(".git")).expect(".git");
    std::fs::write(checkout.path().join("shipyard.toml"), "project = \"web\"\n").expect("manifest");
    let bin_dir = std::path::Path::new(crate::support::binary())
        .parent()
        .expect("bin dir")
        .to_owned();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    for (sha_var, script) in snippets() {
        let config = tempfile::tempdir().expect("config");
        let child = tokio::process::Command::new("bash")
            .args(["-euo", "pipefail", "-c", &script])
            .current_dir(checkout.path())
            .env("PATH", &path)
            .env("CI", "true")
            .env("SHIPYARD_CONFIG_DIR", config.path())
            .env("SHIPYARD_URL", &server.base)
            .env("SHIPYARD_TOKEN", &ada.token_secret)
            .env(sha_var, "0123abcd")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("bash");
        let output = tokio::time::timeout(Duration::from_secs(300), child.wait_with_output())
            .await
            .expect("the snippet finished within 300 s")
            .expect("output");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
        assert!(
            output.status.success(),
            "{sha_var} snippet:\n{script}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        let url = stdout
            .lines()
            .find_map(|l| l.strip_prefix("Live at "))
            .unwrap_or_else(|| panic!("the snippet printed the live URL:\n{stdout}"));
        let host = url.trim_start_matches("http://").split(':').next().expect("host");
        assert_eq!(fetch(&server, host, "/", &[]).await.text().trim(), "deployed-from-ci");
    }
    let notes = ada
        .token
        .get(&format!("/tenants/{}/deployments/DEP-0002", ada.tenant_id))
        .await
        .expect("deployment")
        .ok()
        .expect("DEP-0002");
    assert_eq!(
        notes["note"], "commit 0123abcd",
        "the snippet's note reached the deployment"
    );
}
