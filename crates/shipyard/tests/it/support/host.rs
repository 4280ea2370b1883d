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
/// into its namespace (`-t 127.0.0.1/<host>:<own>`).
pub fn instance_host_port(release: &str, number: u32) -> u16 {
    let name = format!("{release}-{number}-");
    processes()
        .into_iter()
        .find_map(|(_, _, args, _)| {
            let netns = args.iter().position(|a| a == "--netns")?;
            if !args.get(netns + 1)?.contains(&name) {
                return None;
            }
            let forward = args.get(args.iter().position(|a| a == "-t")? + 1)?;
            forward.strip_prefix("127.0.0.1/")?.split(':').next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no relay forwards into instance {number} of {release}"))
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
