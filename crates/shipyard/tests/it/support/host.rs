//! What the host knows of an instance that its runtime view never tells its tenant (its host pid
//! and port), read from `/proc`, for tests that act on an instance from the host.

/// Every process's pid, parent pid, command line (arguments) and cgroup text.
fn processes() -> Vec<(u32, u32, Vec<String>, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let read = |file: &str| std::fs::read(entry.path().join(file)).unwrap_or_default();
        let stat = String::from_utf8_lossy(&read("stat")).into_owned();
        // `pid (comm) state ppid …`: the parent is the second field after the command.
        let parent = stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let args = read("cmdline")
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        found.push((pid, parent, args, String::from_utf8_lossy(&read("cgroup")).into_owned()));
    }
    found
}

/// The host port the edge reaches instance `number` of `release` on: the port pasta forwards
/// into its namespace (`-t 127.0.0.1/<host>:<own>`), or on the kernel path the port the host
/// table's `forwards` map sends to the namespace's address.
pub fn instance_host_port(release: &str, number: u32) -> u16 {
    let name = format!("{release}-{number}-");
    let relayed = processes().into_iter().find_map(|(_, _, args, _)| {
        let netns = args.iter().position(|a| a == "--netns")?;
        if !args.get(netns + 1)?.contains(&name) {
            return None;
        }
        let forward = args.get(args.iter().position(|a| a == "-t")? + 1)?;
        forward.strip_prefix("127.0.0.1/")?.split(':').next()?.parse().ok()
    });
    relayed
        .or_else(|| kernel_forward(&name))
        .unwrap_or_else(|| panic!("nothing forwards into instance {number} of {release}"))
}

/// The host port the host table forwards to the namespace whose name contains `name`.
fn kernel_forward(name: &str) -> Option<u16> {
    let netns = std::fs::read_dir(shipyard_sandbox::network::NETNS_DIR)
        .ok()?
        .flatten()
        .find(|e| e.file_name().to_string_lossy().contains(name))?
        .path();
    let inside = namespace_address(&netns)?;
    kernel_forwards()
        .into_iter()
        .find(|(_, a)| *a == inside)
        .map(|(port, _)| port)
}

/// What `program args…` prints, when it succeeds.
fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The IPv4 address of `eth0` in the namespace whose file is `netns` (the kernel path's).
pub fn namespace_address(netns: &std::path::Path) -> Option<String> {
    let enter = format!("--net={}", netns.display());
    let addrs = output("nsenter", &[&enter, "ip", "-o", "-4", "addr", "show", "dev", "eth0"])?;
    let cidr = addrs.split_whitespace().skip_while(|w| *w != "inet").nth(1)?;
    Some(cidr.split('/').next()?.to_owned())
}

/// The host table's forwards on the kernel path: (host port, namespace address).
pub fn kernel_forwards() -> Vec<(u16, String)> {
    let map = output("nft", &["list", "map", "inet", "shipyard_host", "forwards"]).unwrap_or_default();
    map.split(['{', '}', ','])
        .filter_map(|e| {
            let (port, to) = e.split_once(':')?;
            let addr = to.split('.').take(4).collect::<Vec<_>>().join(".");
            Some((port.trim().parse().ok()?, addr.trim().to_owned()))
        })
        .collect()
}

/// The host pid of instance `number` of `release`: the server's child in the instance's limit
/// group (the sandbox's outer process).
pub fn instance_host_pid(server_pid: u32, release: &str, number: u32) -> u32 {
    let name = format!("{release}-{number}-");
    processes()
        .into_iter()
        .find(|(_, parent, _, cgroup)| *parent == server_pid && cgroup.contains(&name))
        .map(|(pid, ..)| pid)
        .unwrap_or_else(|| panic!("no process of instance {number} of {release}"))
}

/// Whether process `pid` runs (a zombie waiting for its reaper does not).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next())
                .map(|s| s != "Z")
        })
        .unwrap_or(false)
}

/// Live processes whose command line contains `text`.
pub fn processes_naming(text: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .filter(|pid| {
            alive(*pid)
                && std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains(text))
        })
        .collect()
}
