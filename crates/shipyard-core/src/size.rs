//! Sizes in the words limits are given in (`10 GiB`, `512 MiB`), for messages that name a limit.

/// `bytes` in the largest binary unit that keeps it at least 1, with one decimal when it is not
/// whole (`10 GiB`, `1.5 MiB`, `900 B`).
pub fn text(bytes: u64) -> String {
    const UNITS: [(&str, u64); 4] = [("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in UNITS {
        if bytes >= size {
            return if bytes.is_multiple_of(size) {
                format!("{} {unit}", bytes / size)
            } else {
                // Rounded down: a limit is never said to be larger than it is.
                let tenths = bytes.saturating_mul(10) / size;
                format!("{}.{} {unit}", tenths / 10, tenths % 10)
            };
        }
    }
    format!("{bytes} B")
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn sizes_read_as_limits_are_written() {
        assert_eq!(text(10 << 30), "10 GiB");
        assert_eq!(text(64 << 20), "64 MiB");
        assert_eq!(text(3 << 19), "1.5 MiB");
        assert_eq!(text(900), "900 B");
        assert_eq!(text(0), "0 B");
    }
}
