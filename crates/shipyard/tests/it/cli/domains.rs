//! `shipyard domains …`: add prints the records to create, verify exits 1 saying why until the
//! TXT record is right, list shows the reason a domain is not live, remove stops it.

use crate::support::TestServer;
use crate::support::cli::{json_of, logged_in};
use crate::support::dns::DnsServer;
use serde_json::Value;

#[tokio::test]
async fn a_domain_is_added_verified_listed_and_removed_from_the_command_line() {
    let dns = DnsServer::start().await;
    let server = TestServer::in_process(&["--dns-resolver", &dns.dns, "--public-address", "192.0.2.10"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let shell = logged_in(&server, &ada).await;
    ada.deployable(&server, "web", "static", &[("index.html", "x")], Value::Null)
        .await;

    let added = shell
        .run(&["domains", "add", "Bücher.example", "--project", "web"])
        .await;
    assert_eq!(added.code, 0, "{}", added.stderr);
    assert!(
        added.stdout.contains("Added bücher.example to production"),
        "{}",
        added.stdout
    );
    assert!(
        added
            .stdout
            .contains("TXT    _shipyard-challenge.xn--bcher-kva.example  \"shipyard-"),
        "{}",
        added.stdout
    );
    assert!(
        added.stdout.contains("A      xn--bcher-kva.example → 192.0.2.10"),
        "{}",
        added.stdout
    );
    assert!(
        added
            .stdout
            .contains("CNAME  xn--bcher-kva.example → web-production.acme.localhost")
    );

    let listed = json_of(&shell.run(&["domains", "list", "--project", "web", "--json"]).await);
    let value = listed[0]["verification"]["value"].as_str().expect("value").to_owned();

    let unproven = shell
        .run(&["domains", "verify", "bücher.example", "--project", "web"])
        .await;
    assert_eq!(unproven.code, 1, "{}", unproven.stdout);
    assert!(
        unproven.stdout.contains("bücher.example: failed"),
        "{}",
        unproven.stdout
    );
    assert!(
        unproven
            .stdout
            .contains("no TXT record at _shipyard-challenge.xn--bcher-kva.example")
    );
    assert!(unproven.stderr.contains("is not verified"), "{}", unproven.stderr);
    let table = shell.run(&["domains", "list", "--project", "web"]).await;
    assert!(
        table
            .stdout
            .contains("DNS does not point here (found no CNAME, A or AAAA record"),
        "{}",
        table.stdout
    );

    dns.set_txt("_shipyard-challenge.xn--bcher-kva.example", &value).await;
    dns.add_a("xn--bcher-kva.example", &["192.0.2.10"]).await;
    let proven = shell
        .run(&["domains", "verify", "xn--bcher-kva.example", "--project", "web"])
        .await;
    assert_eq!(proven.code, 0, "{}{}", proven.stdout, proven.stderr);
    assert!(proven.stdout.contains("bücher.example: verified"), "{}", proven.stdout);
    let table = shell.run(&["domains", "list", "--project", "web"]).await;
    let row = table
        .stdout
        .lines()
        .find(|l| l.contains("bücher.example"))
        .expect("row");
    assert!(row.contains("verified") && row.contains("yes"), "{row}");

    let removed = shell
        .run(&["domains", "remove", "bücher.example", "--project", "web"])
        .await;
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    let gone = shell
        .run(&["domains", "verify", "bücher.example", "--project", "web"])
        .await;
    assert_eq!(gone.code, 1, "{}", gone.stdout);
    assert!(
        gone.stderr.contains("has no domain `bücher.example`"),
        "{}",
        gone.stderr
    );
}
