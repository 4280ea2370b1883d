//! The redactor: replaces every known secret value in text with `****`, including the forms
//! a value takes when a program prints it encoded (standalone base64 and URL encoding) and
//! each line of a multi-line value. Pure text in, text out; built once per log stream.

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use std::borrow::Cow;

/// What stands in for a secret.
pub const MASK: &str = "****";

/// Values shorter than this are not redacted: masking every `on` or `42` in a log would
/// destroy the log and protect nothing a guess could not find.
pub const MIN_SECRET_LEN: usize = 4;

/// Masks known values in text.
#[derive(Debug, Clone)]
pub struct Redactor {
    matcher: Option<AhoCorasick>,
    longest: usize,
}

/// Every form of `value` to look for.
fn forms(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |s: String| {
        if s.len() >= MIN_SECRET_LEN && !out.contains(&s) {
            out.push(s);
        }
    };
    push(value.to_owned());
    if value.contains('\n') {
        for line in value.lines() {
            push(line.trim_end_matches('\r').to_owned());
        }
    }
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        push(engine.encode(value));
    }
    push(utf8_percent_encode(value, NON_ALPHANUMERIC).to_string());
    out
}

impl Redactor {
    /// A redactor for `values`; those shorter than `MIN_SECRET_LEN` are skipped.
    pub fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut patterns: Vec<String> = values
            .into_iter()
            .filter(|v| v.trim().len() >= MIN_SECRET_LEN)
            .flat_map(forms)
            .collect();
        patterns.sort();
        patterns.dedup();
        let longest = patterns.iter().map(String::len).max().unwrap_or(0);
        // Leftmost-longest: of two values where one contains the other, the longer is masked whole.
        let matcher = (!patterns.is_empty())
            .then(|| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&patterns)
                    .ok()
            })
            .flatten();
        Self { matcher, longest }
    }

    /// A redactor that masks nothing.
    pub fn none() -> Self {
        Self {
            matcher: None,
            longest: 0,
        }
    }

    /// `text` with every known value masked.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        match &self.matcher {
            Some(m) if m.is_match(text) => Cow::Owned(m.replace_all(text, &vec![MASK; m.patterns_len()])),
            _ => Cow::Borrowed(text),
        }
    }

    /// Length of the longest pattern (a stream must hold back this much minus one).
    pub fn longest_pattern(&self) -> usize {
        self.longest
    }
}

/// Redacts a byte stream that arrives in arbitrary chunks, line by line: a value split across
/// two chunks is still one line when it is redacted.
#[derive(Debug)]
pub struct LineRedactor {
    redactor: Redactor,
    pending: Vec<u8>,
    max_line: usize,
}

impl LineRedactor {
    /// Splits overlong lines at `max_line` bytes so one line can never grow without bound.
    pub fn new(redactor: Redactor, max_line: usize) -> Self {
        Self {
            redactor,
            pending: Vec::new(),
            max_line: max_line.max(1),
        }
    }

    /// Takes a chunk and returns the complete lines it finished, redacted, without newlines;
    /// a line longer than the limit comes out in pieces, whether or not its end has arrived.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(chunk);
        // Enough of a cut line's tail is kept unsent that a value straddling the cut is still
        // seen whole in the next piece.
        let overlap = self.redactor.longest_pattern().saturating_sub(1);
        let mut lines = Vec::new();
        loop {
            let newline = self.pending.iter().position(|b| *b == b'\n');
            let end = newline.unwrap_or(self.pending.len());
            // An unfinished line waits for its overlap to arrive; a finished one is cut now.
            let room = if newline.is_some() { 0 } else { overlap };
            if end > self.max_line + room {
                let ahead = overlap.min(end - self.max_line);
                lines.push(self.cut(ahead));
            } else if let Some(pos) = newline {
                let line: Vec<u8> = self.pending.drain(..=pos).collect();
                lines.push(self.finish(&line[..line.len() - 1]));
            } else {
                return lines;
            }
        }
    }

    /// Cuts the first `max_line` bytes off the pending line, looking `ahead` bytes past the cut
    /// for a value that straddles it.
    fn cut(&mut self, ahead: usize) -> String {
        let piece: Vec<u8> = self.pending.drain(..self.max_line).collect();
        let mut joined = piece.clone();
        joined.extend_from_slice(&self.pending[..ahead]);
        let redacted = self.finish(&joined);
        if redacted.len() == joined.len() || !redacted.contains(MASK) {
            self.finish(&piece)
        } else {
            // The value straddled the cut: emit the masked join and drop what it consumed.
            self.pending.drain(..ahead);
            redacted
        }
    }

    /// The last, unterminated line, if any.
    pub fn flush(&mut self) -> Option<String> {
        if self.pending.is_empty() {
            return None;
        }
        let rest = std::mem::take(&mut self.pending);
        Some(self.finish(&rest))
    }

    fn finish(&self, bytes: &[u8]) -> String {
        let text = String::from_utf8_lossy(bytes);
        let text = text.strip_suffix('\r').unwrap_or(&text);
        self.redactor.redact(text).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_values_and_their_encoded_forms() {
        let r = Redactor::new(["s3cr3t-value", "p@ss word/+?"]);
        assert_eq!(r.redact("token=s3cr3t-value;"), "token=****;");
        assert_eq!(
            r.redact(&format!("b64 {}", STANDARD.encode("s3cr3t-value"))),
            "b64 ****"
        );
        assert_eq!(
            r.redact(&format!("url {}", URL_SAFE_NO_PAD.encode("p@ss word/+?"))),
            "url ****"
        );
        let encoded = utf8_percent_encode("p@ss word/+?", NON_ALPHANUMERIC).to_string();
        assert_eq!(r.redact(&format!("q={encoded}&x=1")), "q=****&x=1");
        assert_eq!(r.redact("nothing here"), "nothing here");
        assert!(
            matches!(r.redact("nothing here"), Cow::Borrowed(_)),
            "no allocation without a match"
        );
    }

    #[test]
    fn short_values_are_left_alone_and_containing_values_mask_whole() {
        let r = Redactor::new(["abc", "   ", "hunter2", "hunter2-extended"]);
        assert_eq!(r.redact("abc hunter2-extended hunter2"), "abc **** ****");
        assert_eq!(r.redact("xhunter2-extendedx"), "x****x");
        assert!(Redactor::none().redact("hunter2").contains("hunter2"));
    }

    #[test]
    fn multi_line_values_are_masked_line_by_line() {
        let key = "-----BEGIN KEY-----\nAAAAB3NzaC1yc2E\nQABAAABAQC7\n-----END KEY-----";
        let r = Redactor::new([key]);
        assert_eq!(r.redact("line: AAAAB3NzaC1yc2E"), "line: ****");
        assert_eq!(r.redact(key), "****");
    }

    #[test]
    fn a_value_split_across_chunks_is_still_masked() {
        let mut stream = LineRedactor::new(Redactor::new(["correct-horse"]), 16 * 1024);
        assert!(stream.push(b"connecting with correct-").is_empty());
        assert_eq!(
            stream.push(b"horse done\nnext "),
            vec!["connecting with **** done".to_owned()]
        );
        assert_eq!(stream.push(b"line\r\n"), vec!["next line".to_owned()]);
        assert_eq!(stream.push(b"tail correct-horse"), Vec::<String>::new());
        assert_eq!(stream.flush().as_deref(), Some("tail ****"));
        assert_eq!(stream.flush(), None);
    }

    #[test]
    fn overlong_lines_are_split_without_leaking_a_straddling_value() {
        let mut stream = LineRedactor::new(Redactor::new(["0123456789"]), 8);
        let mut out = stream.push(b"aaaaaa0123456789bbbbbbbbbbbbbbbbbb");
        out.extend(stream.flush());
        let joined = out.concat();
        assert!(!joined.contains("0123456789"), "{out:?}");
        assert!(joined.contains(MASK), "{out:?}");
        assert!(out.iter().all(|l| l.len() <= 8 + 9), "lines stay bounded: {out:?}");
    }

    #[test]
    fn a_long_line_whose_end_arrives_with_its_tail_is_split_too() {
        let mut stream = LineRedactor::new(Redactor::new(["secret"]), 8);
        assert!(stream.push(b"aaaa").is_empty());
        let out = stream.push(b"bbbbccccdddde\nnext\n");
        assert_eq!(out, ["aaaabbbb", "ccccdddd", "e", "next"], "{out:?}");
        let mut masked = LineRedactor::new(Redactor::new(["secret"]), 8);
        let out = masked.push(b"aaaaaasecretbb\n");
        assert!(out.iter().all(|l| !l.contains("secret")), "{out:?}");
        assert!(out.concat().contains(MASK), "{out:?}");
    }
}
