//! A sandbox's network namespace, made for real (these tests run as root, as the server does):
//! its nftables rules are read back from the kernel. The 169.254.0.0/16 rule is checked at the
//! ruleset level only: no test sends traffic there.

use shipyard_sandbox::NetworkPolicy;
use shipyard_sandbox::network::NETNS_DIR;
use std::path::Path;
use std::process::Command;

fn as_root() {
    let uid = std::process::Command::new("id").arg("-u").output().expect("id");
    assert_eq!(
        String::from_utf8_lossy(&uid.stdout).trim(),
        "0",
        "network namespaces are made by root: run the tests as root, as the test command does"
    );
}

#[test]
fn the_namespace_refuses_loopback_link_local_and_the_hosts_addresses() {
    as_root();
    let policy = NetworkPolicy::detect().expect("host addresses");
    assert!(
        policy.host_addresses().iter().any(|a| a.is_loopback()),
        "the host's addresses include loopback: {:?}",
        policy.host_addresses()
    );
    let name = format!("shipyard-test-rules-{}", std::process::id());
    let net = policy.create(&name, &[]).expect("a namespace");
    assert!(Path::new(NETNS_DIR).join(&name).exists());
    // Read back from the kernel, not from the text we loaded.
    let rules = net.rules().expect("nft list");
    let refused = rules
        .lines()
        .find(|l| l.contains("ip daddr") && l.contains("reject"))
        .unwrap_or_else(|| panic!("a reject rule: {rules}"));
    assert!(refused.contains("127.0.0.0/8"), "{rules}");
    assert!(refused.contains("169.254.0.0/16"), "{rules}");
    for addr in policy
        .host_addresses()
        .iter()
        .filter(|a| a.is_ipv4() && !a.is_loopback())
    {
        assert!(
            refused.contains(&addr.to_string()),
            "host address {addr} refused: {rules}"
        );
    }
    assert!(
        rules.contains("oifname \"lo\" accept"),
        "the namespace's own loopback works: {rules}"
    );
    assert!(rules.contains("meta nfproto ipv6 reject"), "{rules}");
    assert!(
        refused.contains("168.63.129.16"),
        "metadata outside link-local too: {rules}"
    );
    let pasta = policy.pasta_args(Path::new("/run/netns/x"), &[]).join(" ");
    let dns = pasta
        .split("--dns-forward ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .expect("a DNS address");
    assert!(
        rules.contains(&format!("ip daddr {dns} udp dport 53 accept")),
        "DNS to the address pasta answers, and nothing else of the gateway: {rules}"
    );
    drop(net);
    assert!(
        !Path::new(NETNS_DIR).join(&name).exists(),
        "dropping removes the namespace"
    );
}

#[test]
fn pasta_maps_no_gateway_forwards_no_port_and_answers_dns_at_the_gateway() {
    let policy = NetworkPolicy::detect().expect("host addresses");
    let args = policy.pasta_args(Path::new("/run/netns/x"), &[]).join(" ");
    assert!(args.contains("--no-map-gw"), "{args}");
    for flag in ["-t none", "-u none", "-T none", "-U none"] {
        assert!(args.contains(flag), "{flag} in {args}");
    }
    let resolv = policy
        .resolv_conf("# made by a tool\nnameserver 127.0.0.53\nsearch corp.example\noptions edns0\n")
        .expect("this host has a default gateway");
    let dns = resolv
        .lines()
        .find_map(|l| l.strip_prefix("nameserver "))
        .expect("one nameserver");
    assert_eq!(resolv.matches("nameserver").count(), 1, "{resolv}");
    assert!(
        !dns.starts_with("127."),
        "a loopback resolver is reached through pasta: {resolv}"
    );
    assert!(args.contains(&format!("--dns-forward {dns}")), "{args}");
    assert!(resolv.contains("search corp.example\noptions edns0\n"), "{resolv}");
}

/// A network namespace the test made, deleted when dropped.
struct TestNamespace(String);

impl TestNamespace {
    fn new(name: String) -> Self {
        let _ = Command::new("ip").args(["netns", "del", &name]).status();
        let made = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .expect("ip netns add");
        assert!(made.success(), "ip netns add {name}");
        Self(name)
    }

    /// What `ip args…` prints inside the namespace (asserting it succeeded).
    fn ip(&self, args: &[&str]) -> String {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.0, "ip"])
            .args(args)
            .output()
            .expect("ip netns exec");
        assert!(
            out.status.success(),
            "ip {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[test]
fn what_is_routed_through_another_interface_is_refused_and_the_default_routes_network_is_not() {
    as_root();
    // A host of the test's own: its uplink carries the default route, and a VPN-like link
    // carries 100.64.0.0/10 (as Tailscale's does) and one more host route, with no address of
    // its own on that network.
    let ns = TestNamespace::new(format!("shipyard-routes-{}", std::process::id()));
    for args in [
        &["link", "add", "up0", "type", "veth", "peer", "name", "up1"][..],
        &["link", "set", "up0", "up"],
        &["link", "set", "up1", "up"],
        &["addr", "add", "192.0.2.10/24", "dev", "up0"],
        &["route", "add", "default", "via", "192.0.2.1", "dev", "up0"],
        &["link", "add", "wg0", "type", "veth", "peer", "name", "wg1"],
        &["link", "set", "wg0", "up"],
        &["link", "set", "wg1", "up"],
        &["route", "add", "100.64.0.0/10", "dev", "wg0"],
        &["route", "add", "198.51.100.7", "dev", "wg0"],
    ] {
        ns.ip(args);
    }
    let policy = NetworkPolicy::from_listings(
        &ns.ip(&["-4", "route", "show", "default"]),
        &ns.ip(&["-o", "addr", "show"]),
        &ns.ip(&["-4", "route", "show", "table", "all"]),
    );
    let rules = policy.ruleset(&[]);
    let refused = rules
        .lines()
        .find(|l| l.contains("reject") && l.contains("ip daddr"))
        .expect("the refused set");
    assert!(refused.contains("100.64.0.0/10"), "the VPN's routed prefix: {rules}");
    assert!(refused.contains("198.51.100.7/32"), "a host route through it: {rules}");
    assert!(refused.contains("192.0.2.10"), "the host's own address: {rules}");
    // Positive control: the default route's network (proxies, registry mirrors) stays reachable.
    assert!(!refused.contains("192.0.2.0/24"), "{rules}");
}

/// A listener on 127.0.0.1:`port` inside the namespace at `netns` that answers one
/// connection with `word`; its process, to wait for.
fn answer_once_inside(netns: &Path, port: u16, word: &str) -> std::process::Child {
    let script = format!(
        "import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n\
         s.bind(('127.0.0.1',{port}))\ns.listen()\nprint('ready',flush=True)\n\
         c,_=s.accept()\nc.sendall(b'{word}')\nc.close()\n"
    );
    let mut child = Command::new("nsenter")
        .arg(format!("--net={}", netns.display()))
        .args(["python3", "-c", &script])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 inside");
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().expect("stdout")),
        &mut ready,
    )
    .expect("ready line");
    assert_eq!(ready.trim(), "ready");
    child
}

/// The address of `eth0` in the namespace whose file is `netns`.
fn namespace_address(netns: &Path) -> std::net::Ipv4Addr {
    let out = Command::new("nsenter")
        .arg(format!("--net={}", netns.display()))
        .args(["ip", "-o", "-4", "addr", "show", "dev", "eth0"])
        .output()
        .expect("nsenter ip");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)
        .and_then(|cidr| cidr.split('/').next()?.parse().ok())
        .expect("eth0 has an address")
}

/// What 127.0.0.1:`port` of the host answers (within 5 s).
fn read_from_host(port: u16) -> std::io::Result<String> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        std::time::Duration::from_secs(5),
    )?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let mut text = String::new();
    stream.read_to_string(&mut text)?;
    Ok(text)
}

#[test]
fn the_kernel_path_forwards_the_hosts_port_to_the_namespaces_loopback_again_after_a_restart() {
    as_root();
    let (policy, fallback) = NetworkPolicy::detect_for(shipyard_sandbox::UplinkChoice::Kernel).expect("kernel path");
    assert_eq!(fallback, None);
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let host_port = free.local_addr().expect("addr").port();
    drop(free);
    let forwards = [shipyard_sandbox::Forward { host_port, port: 8099 }];
    // Twice on the same host port, as an instance's restart does.
    for round in ["first", "second"] {
        let name = format!("shipyard-test-kernel-{}-{round}", std::process::id());
        let net = policy.create(&name, &forwards).expect("a namespace");
        let rules = net.rules().expect("nft list");
        assert!(rules.contains("10.251.0.0/16"), "the pool is refused inside: {rules}");
        let mut inside = answer_once_inside(net.path(), 8099, round);
        // The host reaches the namespace only through the forward, not at its address (the
        // listener is there: the forward below is the positive control).
        let address = namespace_address(net.path());
        let direct = std::net::TcpStream::connect_timeout(
            &std::net::SocketAddr::from((address, 8099)),
            std::time::Duration::from_secs(2),
        );
        assert!(direct.is_err(), "{address}:8099 reached from the host directly");
        assert_eq!(read_from_host(host_port).expect("the forward"), round);
        let _ = inside.wait();
        drop(net);
        assert!(
            read_from_host(host_port).is_err(),
            "nothing answers the port once the namespace is gone"
        );
    }
}
