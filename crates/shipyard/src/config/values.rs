//! The values settings take: durations, sizes, CIDRs, uid ranges and hostnames, each refused
//! with the flag's name and an example of what it takes.

use anyhow::bail;
use ipnet::IpNet;
use std::time::Duration;

/// `10.0.0.0/8,192.168.1.5` (a bare address is one host).
pub(super) fn cidrs(text: &str) -> anyhow::Result<Vec<IpNet>> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<IpNet>()
                .or_else(|_| part.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| anyhow::anyhow!("--trusted-proxy `{part}` is not a CIDR like 10.0.0.0/8 or an address"))
        })
        .collect()
}

/// `192.0.2.10, 2001:db8::10`: addresses, no networks.
pub(super) fn addresses(text: &str) -> anyhow::Result<Vec<std::net::IpAddr>> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse()
                .map_err(|_| anyhow::anyhow!("--public-address `{part}` is not an IP address like 192.0.2.10"))
        })
        .collect()
}

/// `1500000-1599999`: uids no host account uses (the root and system ranges are refused; the
/// default stays below 2^21, the most a plain tar header holds).
pub(super) fn uid_range(text: &str) -> anyhow::Result<std::ops::RangeInclusive<u32>> {
    let wrong = || anyhow::anyhow!("--sandbox-uids `{text}` is not a range of uids like 1500000-1599999");
    let (first, last) = text.trim().split_once('-').ok_or_else(wrong)?;
    let first: u32 = first.trim().parse().map_err(|_| wrong())?;
    let last: u32 = last.trim().parse().map_err(|_| wrong())?;
    if first < 65536 || last < first || last >= u32::MAX - 1 {
        bail!(
            "--sandbox-uids `{text}` must start at 65536 or above (below that live the host's own accounts) and not end before it starts"
        );
    }
    Ok(first..=last)
}

/// `90s`, `15m`, `1h`, `30d` (a bare number is seconds).
pub(crate) fn duration(setting: &str, text: &str) -> anyhow::Result<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| anyhow::anyhow!("--{setting} `{text}` is not a duration like 90s, 15m or 1h"))?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => bail!("--{setting} `{text}` is not a duration like 90s, 15m or 1h"),
    };
    if secs == 0 {
        bail!("--{setting} must be more than zero");
    }
    Ok(Duration::from_secs(secs))
}

/// A duration (as `duration` reads it) of at most `most` (written the same way, e.g. `10m`).
pub(super) fn duration_at_most(setting: &str, text: &str, most: &str) -> anyhow::Result<Duration> {
    let value = duration(setting, text)?;
    if value > duration(setting, most)? {
        bail!("--{setting} must be between 1s and {most}");
    }
    Ok(value)
}

/// A size setting, `512MiB`, `2GiB`, `1G` (a bare number is bytes), of at least `least`.
pub(super) fn bytes(setting: &str, text: &str, least: &str) -> anyhow::Result<u64> {
    let total =
        size(text).ok_or_else(|| anyhow::anyhow!("--{setting} `{}` is not a size like 512MiB or 2GiB", text.trim()))?;
    if total < size(least).unwrap_or(0) {
        bail!("--{setting} must be at least {least}");
    }
    Ok(total)
}

/// `text` (`512MiB`, `2GiB`, `64KiB`, a number of bytes) in bytes.
fn size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let factor = match unit.trim() {
        "" | "B" => 1,
        "K" | "KiB" | "k" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        _ => return None,
    };
    Some(n.saturating_mul(factor))
}

/// A host setting: lower-cased, dot-separated labels of letters, digits and `-`.
pub(super) fn hostname(setting: &str, value: Option<String>) -> anyhow::Result<String> {
    let host = value
        .unwrap_or_else(|| "localhost".into())
        .trim()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let valid_label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if host.len() > 253 || !host.split('.').all(valid_label) {
        bail!("--{setting} `{host}` is not a hostname (labels of letters, digits and `-`, joined by dots)");
    }
    Ok(host)
}

/// The go-live watch: a duration of at most an hour, or `0` for none.
pub(super) fn watch_window(text: &str) -> anyhow::Result<Duration> {
    if text.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    match duration("go-live-watch", text)? {
        d if d.as_secs() <= 3600 => Ok(d),
        _ => bail!("--go-live-watch must be at most 1h (or 0 to turn it off)"),
    }
}

/// `--renew-before`: `0` (off: a third of the lifetime decides alone) or a duration of at most a
/// year (`30d`).
pub(super) fn renew_before(text: &str) -> anyhow::Result<Duration> {
    if text.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    match duration("renew-before", text)? {
        d if d.as_secs() <= 366 * 86_400 => Ok(d),
        _ => bail!("--renew-before must be at most 366d (or 0)"),
    }
}
