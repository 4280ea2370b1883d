//! How answers are printed: JSON for machines, aligned tables and relative times for people.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::io::IsTerminal;

/// Prints `value` as one JSON document on stdout.
pub fn json(value: &impl Serialize) {
    let value = serde_json::to_value(value).unwrap_or(Value::Null);
    println!(
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string())
    );
}

/// Prints `items` as one JSON array (`json`), else as a table of `row(item)` under `header`.
pub fn list<T: Serialize>(json: bool, items: &[T], header: &[&str], row: impl Fn(&T) -> Vec<String>) {
    if json {
        self::json(&items);
    } else {
        table(header, &items.iter().map(row).collect::<Vec<_>>());
    }
}

/// Prints rows under a header, each column as wide as its widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// A field as text, as the API names it (`-` when null or missing), safe to print (see
/// `printable`).
pub fn text(value: &impl Serialize) -> String {
    match serde_json::to_value(value).unwrap_or(Value::Null) {
        Value::Null => "-".into(),
        Value::String(s) => printable(&s),
        other => other.to_string(),
    }
}

/// `text` with control characters other than tab written as `\u{…}` escapes: build and app
/// output, names and request paths are written by tenants and strangers, and raw they could
/// move the cursor, retitle the terminal or set its clipboard (OSC 52).
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A time as "3m ago" (`-` when there is none; the text itself when it is not a time).
pub fn ago(value: &impl Serialize) -> String {
    let value = serde_json::to_value(value).unwrap_or(Value::Null);
    let Some(at) = value.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()) else {
        return text(&value);
    };
    let secs = (Utc::now() - at.with_timezone(&Utc)).num_seconds().max(0);
    match secs {
        0..60 => format!("{secs}s ago"),
        60..3600 => format!("{}m ago", secs / 60),
        3600..86400 => format!("{}h ago", secs / 3600),
        _ => format!("{}d ago", secs / 86400),
    }
}

/// Whether people are watching stderr (progress lines only then; never in CI).
pub fn interactive() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times_read_as_ages_and_fields_as_text() {
        let earlier = (Utc::now() - chrono::Duration::seconds(130)).to_rfc3339();
        assert_eq!(ago(&json!(earlier)), "2m ago");
        assert_eq!(ago(&Value::Null), "-");
        assert_eq!(text(&json!(3)), "3");
        assert_eq!(text(&json!("ready")), "ready");
        assert_eq!(printable("a\u{1b}]52;c;eA==\u{7}\tb"), "a\\u{1b}]52;c;eA==\\u{7}\tb");
    }
}
