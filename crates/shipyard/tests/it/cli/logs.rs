//! `shipyard logs --follow` across a dropped stream, and what a build's log can do to a terminal.

use crate::support::TestServer;
use crate::support::cli::{CuttingProxy, Shell, logged_in, run};
use crate::support::deploy::static_build;
use serde_json::Value;
use std::sync::atomic::Ordering;

#[tokio::test]
async fn logs_follow_survives_a_cut_stream_with_no_line_lost_or_repeated() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(
            &server,
            "chatty",
            "static",
            &[("README.md", "hello")],
            static_build("mkdir -p dist && echo ok > dist/index.html && for i in $(seq 1 400); do echo line-$i; done"),
        )
        .await;
    let deployment = ada.deploy(&app).await;
    let done = ada.finished(deployment["id"].as_str().expect("id"), 120).await;
    assert_eq!(done["status"], "ready", "{done}");

    let proxy = CuttingProxy::start(&server.base, 8_000).await;
    let shell = Shell::new();
    let followed = run(
        shell.config.path(),
        shell.cwd.path(),
        &["logs", "DEP-0001", "--follow", "--json", "--server", &proxy.base],
        "",
        &[("SHIPYARD_TOKEN", &ada.token_secret)],
    )
    .await;
    assert_eq!(followed.code, 0, "{}", followed.stderr);
    assert!(proxy.cut.load(Ordering::SeqCst), "the proxy cut the stream once");
    assert!(
        proxy.connections.load(Ordering::SeqCst) >= 2,
        "the client connected again"
    );
    let lines: Vec<Value> = followed
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON lines"))
        .collect();
    let numbered: Vec<String> = lines
        .iter()
        .filter_map(|l| l["line"].as_str())
        .filter(|l| l.starts_with("line-"))
        .map(str::to_owned)
        .collect();
    let expected: Vec<String> = (1..=400).map(|i| format!("line-{i}")).collect();
    assert_eq!(numbered, expected, "every line once, in order");
    let seqs: Vec<u64> = lines.iter().filter_map(|l| l["seq"].as_u64()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "seq grows by one: {seqs:?}");

    // Control: the same command straight to the server sees the same lines.
    let direct = run(
        shell.config.path(),
        shell.cwd.path(),
        &["logs", "DEP-0001", "--json", "--server", &server.base],
        "",
        &[("SHIPYARD_TOKEN", &ada.token_secret)],
    )
    .await;
    assert_eq!(direct.stdout.lines().count(), lines.len(), "{}", direct.stderr);
}

#[tokio::test]
async fn a_build_log_cannot_send_terminal_control_sequences() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(
            &server,
            "sly",
            "static",
            &[("README.md", "hello")],
            static_build("mkdir -p dist && echo ok > dist/index.html && printf 'evil-\\033]52;c;aGk=\\007-end\\n'"),
        )
        .await;
    let done = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 120)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
    let shell = logged_in(&server, &ada).await;
    let shown = shell.run(&["logs", "DEP-0001"]).await;
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let line = shown
        .stdout
        .lines()
        .find(|l| l.starts_with("evil-"))
        .expect("the line is shown");
    assert!(line.ends_with("-end"), "{line}");
    assert!(
        !shown.stdout.contains(['\u{1b}', '\u{7}']),
        "no raw control character reaches the terminal: {line:?}"
    );
    // Control: the build really printed them; machine output keeps the line exactly.
    let items: Vec<Value> = shell
        .run(&["logs", "DEP-0001", "--json"])
        .await
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON lines"))
        .collect();
    assert!(
        items.iter().any(|i| i["line"] == "evil-\u{1b}]52;c;aGk=\u{7}-end"),
        "the escape was in the log: {items:?}"
    );
}
