//! Redaction throughput on a workspace with 100 secrets: lines per second through
//! `Redactor::redact`, beside a naive reference (one `str::replace` per pattern per line).
//! Run with `bench/redact.sh`.

use shipyard_core::Redactor;
use std::hint::black_box;
use std::time::Instant;

const SECRETS: usize = 100;
const LINES: usize = 200_000;
const REFERENCE_LINES: usize = 20_000;

fn secrets() -> Vec<String> {
    (0..SECRETS)
        .map(|i| format!("sk_live_{i:04}_{:016x}", (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)))
        .collect()
}

fn lines(secrets: &[String]) -> Vec<String> {
    (0..LINES)
        .map(|i| {
            if i % 50 == 0 {
                format!(
                    "npm info using token {} for registry https://registry.example/ step {i}",
                    secrets[i % SECRETS]
                )
            } else {
                format!(
                    "added {} packages, and audited {} packages in {}ms; step {i} of the build is running",
                    i % 900,
                    i % 1300,
                    i % 97
                )
            }
        })
        .collect()
}

fn main() {
    let secrets = secrets();
    let lines = lines(&secrets);
    let redactor = Redactor::new(secrets.iter().map(String::as_str));

    let start = Instant::now();
    let mut masked = 0usize;
    for line in &lines {
        masked += usize::from(black_box(redactor.redact(line)).contains("****"));
    }
    let ours = start.elapsed().as_secs_f64();
    assert_eq!(masked, LINES / 50, "every line with a secret is masked");

    // The reference masks the same forms the slow way.
    let patterns: Vec<String> = secrets
        .iter()
        .flat_map(|s| {
            use base64::Engine;
            [s.clone(), base64::engine::general_purpose::STANDARD.encode(s)]
        })
        .collect();
    let start = Instant::now();
    for line in &lines[..REFERENCE_LINES] {
        let mut out = line.clone();
        for p in &patterns {
            if out.contains(p.as_str()) {
                out = out.replace(p.as_str(), "****");
            }
        }
        black_box(out);
    }
    let reference = start.elapsed().as_secs_f64();

    let ours_rate = LINES as f64 / ours;
    let reference_rate = REFERENCE_LINES as f64 / reference;
    println!("redaction, {SECRETS} secrets, ~90-byte log lines");
    println!(
        "{:<38} {:>10} {:>10} {:>14}",
        "implementation", "lines", "seconds", "lines/s"
    );
    println!(
        "{:<38} {:>10} {:>10.3} {:>14.0}",
        "Redactor (aho-corasick, all forms)", LINES, ours, ours_rate
    );
    println!(
        "{:<38} {:>10} {:>10.3} {:>14.0}",
        "reference: str::replace per pattern", REFERENCE_LINES, reference, reference_rate
    );
    println!("ratio (ours / reference): {:.1}x", ours_rate / reference_rate);
}
