//! Resolving `serve`'s settings: precedence, units, bounds.
use super::*;
use std::io::Write;
use std::time::Duration;

#[test]
fn flags_win_over_file_which_wins_over_defaults() {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    writeln!(
        file,
        "listen = \"127.0.0.1:9000\"\napps-domain = \"apps.example.com\"\nallow-signup = true"
    )
    .expect("write");
    let args = ServeArgs {
        config: Some(file.path().to_owned()),
        listen: Some(SocketAddr::from(([127, 0, 0, 1], 9100))),
        ..ServeArgs::default()
    };
    let settings = args.resolve().expect("valid");
    assert_eq!(settings.listen.port(), 9100, "flag wins over file");
    assert_eq!(settings.apps_domain, "apps.example.com", "file wins over default");
    assert!(settings.allow_signup);
    assert_eq!(settings.platform_host, "localhost", "default fills the rest");
    assert_eq!(settings.data_dir, PathBuf::from("./shipyard-data"));
}

#[test]
fn bad_file_keys_and_hosts_are_refused_with_the_name() {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    writeln!(file, "listne = \"127.0.0.1:9000\"").expect("write");
    let err = ServeArgs {
        config: Some(file.path().to_owned()),
        ..ServeArgs::default()
    }
    .resolve();
    assert!(format!("{:#}", err.expect_err("typo refused")).contains("listne"));
    let err = ServeArgs {
        platform_host: Some("bad host".into()),
        ..ServeArgs::default()
    }
    .resolve();
    assert!(format!("{:#}", err.expect_err("bad host refused")).contains("--platform-host"));
    for (timeout, memory) in [("soon", "2GiB"), ("15m", "lots"), ("0s", "2GiB"), ("15m", "1MiB")] {
        let args = ServeArgs {
            build_timeout: Some(timeout.into()),
            build_memory: Some(memory.into()),
            ..ServeArgs::default()
        };
        assert!(args.resolve().is_err(), "{timeout} / {memory} should be refused");
    }
}

#[test]
fn build_limits_parse_with_units() {
    let args = ServeArgs {
        build_timeout: Some("90s".into()),
        build_memory: Some("512MiB".into()),
        ..ServeArgs::default()
    };
    let settings = args.resolve().expect("valid");
    assert_eq!(settings.build_timeout, Duration::from_secs(90));
    assert_eq!(settings.build_memory, 512 << 20);
    let defaults = ServeArgs::default().resolve().expect("defaults");
    assert_eq!(
        (
            defaults.build_timeout.as_secs(),
            defaults.build_memory,
            defaults.build_pids
        ),
        (900, 2 << 30, 512)
    );
    assert_eq!(defaults.sandbox_uids, 1_500_000..=1_599_999);
    assert_eq!(defaults.cgroup_root, PathBuf::from("/sys/fs/cgroup"));
    assert_eq!(defaults.go_live_watch, Duration::from_secs(120));
    assert_eq!(defaults.access_log_buffer, 16 << 20);
    assert_eq!(
        (defaults.max_connections, defaults.max_connections_per_client),
        (16_384, 256)
    );
    let args = ServeArgs {
        max_connections_per_client: Some(0),
        ..ServeArgs::default()
    };
    assert!(format!("{:#}", args.resolve().expect_err("0")).contains("--max-connections-per-client"));
    for (text, buffer) in [
        ("64KiB", Some(64 << 10)),
        ("1MiB", Some(1 << 20)),
        ("1KiB", None),
        ("lots", None),
    ] {
        let args = ServeArgs {
            access_log_buffer: Some(text.into()),
            ..ServeArgs::default()
        };
        assert_eq!(args.resolve().ok().map(|s| s.access_log_buffer), buffer, "{text}");
    }
    for (text, watch) in [("0", Some(0)), ("30s", Some(30)), ("2h", None), ("soon", None)] {
        let args = ServeArgs {
            go_live_watch: Some(text.into()),
            ..ServeArgs::default()
        };
        assert_eq!(args.resolve().ok().map(|s| s.go_live_watch.as_secs()), watch, "{text}");
    }
    for bad in ["1000-2000", "300000-200000", "lots", "200000"] {
        let args = ServeArgs {
            sandbox_uids: Some(bad.into()),
            ..ServeArgs::default()
        };
        let err = format!("{:#}", args.resolve().expect_err(bad));
        assert!(err.contains("--sandbox-uids"), "{err}");
    }
}

#[test]
fn edge_workers_default_to_the_cores_and_are_bounded() {
    let defaults = ServeArgs::default().resolve().expect("defaults");
    let cores = std::thread::available_parallelism().expect("cores");
    assert_eq!(defaults.edge_workers, cores);
    let two = ServeArgs {
        edge_workers: Some(2),
        ..ServeArgs::default()
    };
    assert_eq!(two.resolve().expect("valid").edge_workers.get(), 2);
    for bad in [0, 257] {
        let args = ServeArgs {
            edge_workers: Some(bad),
            ..ServeArgs::default()
        };
        let err = args.resolve().expect_err("out of bounds");
        assert!(format!("{err:#}").contains("--edge-workers"), "{err:#}");
    }
}

#[test]
fn the_sandbox_network_is_auto_unless_kernel_or_pasta_is_named() {
    use shipyard_sandbox::UplinkChoice;
    let defaults = ServeArgs::default().resolve().expect("defaults");
    assert_eq!(defaults.sandbox_network, UplinkChoice::Auto);
    for (named, choice) in [
        ("auto", UplinkChoice::Auto),
        ("kernel", UplinkChoice::Kernel),
        ("pasta", UplinkChoice::Pasta),
    ] {
        let args = ServeArgs {
            sandbox_network: Some(named.into()),
            ..ServeArgs::default()
        };
        assert_eq!(args.resolve().expect(named).sandbox_network, choice);
    }
    let args = ServeArgs {
        sandbox_network: Some("slirp".into()),
        ..ServeArgs::default()
    };
    let err = format!("{:#}", args.resolve().expect_err("unknown"));
    assert!(err.contains("--sandbox-network") && err.contains("slirp"), "{err}");
}

#[test]
fn https_settings_go_together_and_hsts_is_bounded() {
    let resolved = |listen: bool, cert: bool, key: bool, hsts: Option<u64>| {
        ServeArgs {
            listen_tls: listen.then(|| SocketAddr::from(([127, 0, 0, 1], 8443))),
            tls_cert: cert.then(|| PathBuf::from("/etc/shipyard/cert.pem")),
            tls_key: key.then(|| PathBuf::from("/etc/shipyard/key.pem")),
            hsts_max_age: hsts,
            ..ServeArgs::default()
        }
        .resolve()
        .map(|s| s.tls)
        .map_err(|e| format!("{e:#}"))
    };
    let off = resolved(false, false, false, None).expect("no HTTPS");
    assert_eq!(off.listen, None);
    assert_eq!(off.hsts_max_age, 31_536_000, "a year by default");
    let on = resolved(true, true, true, Some(0)).expect("HTTPS with a certificate, no HSTS");
    assert_eq!(
        on.given.map(|(cert, _)| cert),
        Some(PathBuf::from("/etc/shipyard/cert.pem"))
    );
    assert_eq!(on.hsts_max_age, 0);
    assert!(
        resolved(true, false, false, None).is_ok(),
        "a listener may wait for ACME's certificates"
    );
    for (listen, cert, key, hsts, says) in [
        (true, true, false, None, "--tls-cert needs --tls-key"),
        (true, false, true, None, "--tls-key needs --tls-cert"),
        (false, true, true, None, "set --listen-tls too"),
        (true, true, true, Some(63_072_001), "--hsts-max-age must be between"),
    ] {
        let err = resolved(listen, cert, key, hsts).expect_err(says);
        assert!(err.contains(says), "{err}");
    }
}

#[test]
fn acme_settings_default_to_lets_encrypt_and_refuse_what_cannot_work() {
    let defaults = ServeArgs::default().resolve().expect("defaults");
    assert_eq!(
        defaults.acme.directory,
        "https://acme-v02.api.letsencrypt.org/directory"
    );
    assert_eq!(defaults.acme.renew_before, Duration::ZERO);
    assert!(!defaults.acme.live_hosts);
    let set = ServeArgs {
        renew_before: Some("30d".into()),
        acme_email: Some("ops@example.com".into()),
        acme_live_hosts: Some(true),
        ..ServeArgs::default()
    }
    .resolve()
    .expect("valid");
    assert_eq!(set.acme.renew_before, Duration::from_secs(30 * 86_400));
    assert!(set.acme.live_hosts);
    for (args, says) in [
        (
            ServeArgs {
                acme_directory: Some("http://ca.example/dir".into()),
                ..ServeArgs::default()
            },
            "https:// URL",
        ),
        (
            ServeArgs {
                acme_directory: Some("not a url".into()),
                ..ServeArgs::default()
            },
            "is not a URL",
        ),
        (
            ServeArgs {
                acme_email: Some("ops".into()),
                ..ServeArgs::default()
            },
            "--acme-email",
        ),
        (
            ServeArgs {
                acme_ca_root: Some("/nonexistent/ca.pem".into()),
                ..ServeArgs::default()
            },
            "cannot be read",
        ),
        (
            ServeArgs {
                renew_before: Some("400d".into()),
                ..ServeArgs::default()
            },
            "at most 366d",
        ),
    ] {
        let err = format!("{:#}", args.resolve().expect_err(says));
        assert!(err.contains(says), "{err}");
    }
}
