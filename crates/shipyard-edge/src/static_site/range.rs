//! The one `Range` form the edge honours: a single `bytes=` range (`a-b`, `a-`, `-n`). Several
//! ranges, another unit or bad syntax mean the header is ignored and the whole file is sent
//! (RFC 9110 allows that, and it keeps a header of thousands of ranges from costing anything).

/// What a `Range` header asks of a file of `len` bytes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Wanted {
    /// Send the whole file.
    Whole,
    /// Send bytes `first..=last`.
    Part(u64, u64),
    /// Nothing of the file can be sent: 416.
    Unsatisfiable,
}

/// Parses `value` for a file of `len` bytes.
pub(crate) fn wanted(value: &str, len: u64) -> Wanted {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Wanted::Whole;
    };
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.trim().is_empty(), number(first), number(last)) {
        // `-n`: the last n bytes (all of a shorter file).
        (true, _, Some(n)) => match (n, len) {
            (0, _) | (_, 0) => Wanted::Unsatisfiable,
            (n, len) if n >= len => Wanted::Whole,
            (n, len) => Wanted::Part(len - n, len - 1),
        },
        (false, Some(a), None) if last.trim().is_empty() => {
            if a >= len {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part(a, len - 1)
            }
        }
        (false, Some(a), Some(b)) if a <= b => {
            if a >= len {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part(a, b.min(len - 1))
            }
        }
        _ => Wanted::Whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_byte_ranges_only_and_the_rest_ignored() {
        assert_eq!(wanted("bytes=0-9", 20), Wanted::Part(0, 9));
        assert_eq!(wanted("bytes=5-", 20), Wanted::Part(5, 19));
        assert_eq!(wanted("bytes=-5", 20), Wanted::Part(15, 19));
        assert_eq!(
            wanted("bytes=-500", 100),
            Wanted::Whole,
            "a suffix longer than the file"
        );
        assert_eq!(wanted("bytes=10-500", 20), Wanted::Part(10, 19));
        assert_eq!(wanted("bytes=50-60", 20), Wanted::Unsatisfiable);
        assert_eq!(wanted("bytes=0-", 0), Wanted::Unsatisfiable, "nothing of an empty file");
        assert_eq!(wanted("bytes=0-5", 0), Wanted::Unsatisfiable);
        for ignored in [
            "items=0-1",
            "bytes=abc",
            "bytes=5-2",
            "bytes=0-0,2-2",
            "bytes=",
            "bytes=--1",
        ] {
            assert_eq!(wanted(ignored, 20), Wanted::Whole, "{ignored}");
        }
        let huge = format!(
            "bytes={}",
            (0..35_000)
                .map(|i| format!("{}-{}", 2 * i, 2 * i))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(wanted(&huge, 100_000), Wanted::Whole, "many ranges cost one scan");
    }
}
