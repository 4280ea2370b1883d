//! The run command's set-up step (`scripts/setup`) on a host made up for it: a PATH holding the
//! real tools minus the ones a test takes away, and a fake `apt-get` first on it that only
//! records its arguments (the fake stands in for installing packages, which a test must not
//! do to this machine), and a fake PostgreSQL directory.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Tools the script looks for, and the ones it runs.
const TOOLS: &[&str] = &[
    "bash", "git", "bwrap", "pasta", "nft", "ip", "nsenter", "node", "npm", "id", "cat",
];

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/setup")
}

/// The real interpreter behind `python3` (on these machines a pyenv shim that needs pyenv).
fn real_python() -> PathBuf {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// A bin directory with every tool but `without`, `extra` scripts, and a recording `apt-get`.
fn host(dir: &Path, without: &[&str], extra: &[(&str, &str)]) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    for tool in TOOLS.iter().filter(|t| !without.contains(t)) {
        let real = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .expect("which");
        let real = String::from_utf8_lossy(&real.stdout).trim().to_owned();
        assert!(!real.is_empty(), "this machine has {tool}");
        symlink(real, bin.join(tool)).expect("link");
    }
    symlink(real_python(), bin.join("python3")).expect("python3");
    let log = dir.join("apt-get.log");
    let mut scripts = vec![(
        "apt-get".to_owned(),
        format!("#!/bin/sh\necho \"$@\" >> {}\n", log.display()),
    )];
    scripts.extend(extra.iter().map(|(n, s)| ((*n).to_owned(), (*s).to_owned())));
    for (name, text) in scripts {
        let path = bin.join(name);
        std::fs::write(&path, text).expect("script");
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    }
    bin
}

fn run(dir: &Path, bin: &Path) -> (Output, String) {
    // PostgreSQL's server binaries, as the script looks for them (a fake `initdb`).
    let pg = dir.join("postgresql");
    std::fs::create_dir_all(pg.join("15/bin")).expect("pg");
    std::fs::write(pg.join("15/bin/initdb"), "").expect("initdb");
    let out = Command::new("bash")
        .arg(script())
        .env_clear()
        .env("PATH", bin)
        .env("SHIPYARD_POSTGRES_ROOT", &pg)
        .output()
        .expect("scripts/setup runs");
    let log = std::fs::read_to_string(dir.join("apt-get.log")).unwrap_or_default();
    (out, log)
}

#[test]
fn a_host_without_bubblewrap_gets_bubblewrap_installed_and_nothing_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = host(dir.path(), &["bwrap"], &[]);
    let (out, log) = run(dir.path(), &bin);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let install = log
        .lines()
        .find(|l| l.starts_with("install"))
        .unwrap_or_else(|| panic!("apt-get install ran: {log:?}"));
    assert_eq!(install, "install -y -qq bubblewrap", "only what is missing");
    assert!(log.lines().any(|l| l.starts_with("update")), "{log}");
}

#[test]
fn a_host_with_everything_installs_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = host(dir.path(), &[], &[]);
    let (out, log) = run(dir.path(), &bin);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(log, "", "apt-get was not called");
}

#[test]
fn without_root_every_missing_package_is_named_in_one_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Not root, and no sudo on PATH.
    let bin = host(
        dir.path(),
        &["bwrap", "pasta", "id"],
        &[("id", "#!/bin/sh\necho 1000\n")],
    );
    let (out, log) = run(dir.path(), &bin);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.contains("bubblewrap") && first.contains("passt"), "{stderr}");
    assert!(stderr.contains("apt-get install -y bubblewrap passt"), "{stderr}");
    assert_eq!(log, "", "nothing was installed");
}
