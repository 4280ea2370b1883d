//! The server's own log (#32): one deployment's story reads from it. Every line of a
//! deployment's stages carries its id (and its workspace and project), even while another
//! deployment builds beside it.

use crate::support::TestServer;
use crate::support::deploy::static_build;

/// What a deployment's stages say in the server's log, in order.
const STORY: [&str; 5] = [
    "build started",
    "commit fetched",
    "build prepared",
    "release recorded",
    "went live",
];

#[tokio::test]
async fn each_deployments_stages_are_logged_with_its_ids() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let build = static_build("mkdir -p dist && echo ok > dist/index.html");
    let (one, two) = tokio::join!(
        ada.deployable(&server, "one", "static", &[("index.html", "x")], build.clone()),
        ada.deployable(&server, "two", "static", &[("index.html", "x")], build.clone()),
    );
    let (first, second) = tokio::join!(ada.deploy(&one), ada.deploy(&two));
    let ids = [&first, &second].map(|d| d["id"].as_str().expect("id").to_owned());
    for id in &ids {
        assert_eq!(ada.finished(id, 120).await["status"], "ready");
    }

    let log = server.stderr();
    for (id, project) in ids.iter().zip([&one.project_id, &two.project_id]) {
        let mine: Vec<&str> = log
            .lines()
            .filter(|l| l.contains(&format!("deployment={id}")))
            .collect();
        let told: Vec<&str> = STORY
            .iter()
            .copied()
            .filter(|event| mine.iter().any(|l| l.contains(event)))
            .collect();
        assert_eq!(told, STORY, "{id}'s story in the server's log:\n{}", mine.join("\n"));
        for line in &mine {
            assert!(
                line.contains(&format!("tenant={}", ada.tenant_id)),
                "a stage line without the workspace: {line}"
            );
            assert!(
                !ids.iter().any(|other| other != id && line.contains(other.as_str())),
                "a line of two deployments: {line}"
            );
        }
        let went_live = mine.iter().find(|l| l.contains("went live")).expect("went live");
        assert!(went_live.contains(&format!("project={project}")), "{went_live}");
    }
    // Positive control: the story's lines are the deployments' own, not every line.
    let every_story_line = log.lines().filter(|l| STORY.iter().any(|e| l.contains(e))).count();
    assert_eq!(every_story_line, 2 * STORY.len(), "{log}");
}
