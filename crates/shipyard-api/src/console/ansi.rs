//! A log line's ANSI colours as CSS classes. Logs are a tenant's untrusted text: every escape
//! sequence is consumed here (colours become classes, anything else — cursor moves, OSC titles
//! and links — is dropped), other control characters are dropped, and the template escapes the
//! text that is left. `assets/console.js` does the same for lines that arrive live.

/// A run of text with one set of classes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Space-separated classes (`fg1 b`), empty for none.
    pub class: String,
    /// The text, not yet escaped.
    pub text: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Style {
    fg: Option<u8>,
    bg: Option<u8>,
    bold: bool,
    italic: bool,
    underline: bool,
}

impl Style {
    fn class(self) -> String {
        let mut parts = Vec::new();
        if let Some(fg) = self.fg {
            parts.push(format!("fg{fg}"));
        }
        if let Some(bg) = self.bg {
            parts.push(format!("bg{bg}"));
        }
        for (on, name) in [(self.bold, "b"), (self.italic, "i"), (self.underline, "u")] {
            if on {
                parts.push(name.to_owned());
            }
        }
        parts.join(" ")
    }

    /// Applies one SGR sequence's parameters (`1;31`); extended colours are skipped whole.
    fn apply(&mut self, params: &str) {
        let codes: Vec<u16> = params.split([';', ':']).map(|p| p.parse().unwrap_or(0)).collect();
        let mut i = 0;
        while i < codes.len() {
            match codes[i] {
                0 => *self = Style::default(),
                1 => self.bold = true,
                3 => self.italic = true,
                4 => self.underline = true,
                22 => self.bold = false,
                23 => self.italic = false,
                24 => self.underline = false,
                c @ 30..=37 => self.fg = u8::try_from(c - 30).ok(),
                c @ 90..=97 => self.fg = u8::try_from(c - 90 + 8).ok(),
                39 => self.fg = None,
                c @ 40..=47 => self.bg = u8::try_from(c - 40).ok(),
                c @ 100..=107 => self.bg = u8::try_from(c - 100 + 8).ok(),
                49 => self.bg = None,
                38 | 48 => {
                    // 38;5;n and 38;2;r;g;b: a palette the console does not draw.
                    i += if codes.get(i + 1) == Some(&2) { 4 } else { 2 };
                }
                _ => {}
            }
            i += 1;
        }
    }
}

/// Segments one line may have: past this, colour changes are ignored (the text stays), so a line
/// of escapes cannot cost two strings per character.
const MAX_SEGMENTS: usize = 64;

/// Splits `line` into styled segments, dropping every escape sequence and control character.
pub fn segments(line: &str) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mut style = Style::default();
    let mut text = String::new();
    let mut chars = line.chars().peekable();
    let flush = |text: &mut String, style: Style, out: &mut Vec<Segment>| {
        if !text.is_empty() {
            out.push(Segment {
                class: style.class(),
                text: std::mem::take(text),
            });
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' | '\u{9b}' => {
                let kind = if c == '\u{9b}' { Some('[') } else { chars.next() };
                match kind {
                    Some('[') => {
                        let mut params = String::new();
                        let mut last = None;
                        for c in chars.by_ref() {
                            if ('\u{40}'..='\u{7e}').contains(&c) {
                                last = Some(c);
                                break;
                            }
                            params.push(c);
                        }
                        if last == Some('m') && out.len() < MAX_SEGMENTS {
                            flush(&mut text, style, &mut out);
                            style.apply(&params);
                        }
                    }
                    // OSC, DCS, PM, APC: a string up to BEL or ESC \ (ST).
                    Some(']' | 'P' | '^' | '_') => {
                        while let Some(c) = chars.next() {
                            if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                                break;
                            }
                        }
                    }
                    _ => {}
                }
            }
            '\t' => text.push(c),
            c if c.is_control() => {}
            c => text.push(c),
        }
    }
    flush(&mut text, style, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(class: &str, text: &str) -> Segment {
        Segment {
            class: class.to_owned(),
            text: text.to_owned(),
        }
    }

    #[test]
    fn colours_become_classes_and_reset_ends_them() {
        assert_eq!(
            segments("a\u{1b}[1;31mred\u{1b}[0m b"),
            vec![seg("", "a"), seg("fg1 b", "red"), seg("", " b")]
        );
        assert_eq!(segments("\u{1b}[92;44mx"), vec![seg("fg10 bg4", "x")]);
        assert_eq!(segments("\u{1b}[38;2;1;2;3;4mx"), vec![seg("u", "x")]);
    }

    #[test]
    fn other_escapes_and_controls_are_dropped() {
        assert_eq!(
            segments("\u{1b}]8;;https://evil.example\u{7}link\u{1b}]8;;\u{1b}\\ \u{1b}[2Jdone\r\u{8}"),
            vec![seg("", "link done")]
        );
        assert_eq!(segments("\u{1b}]0;title"), Vec::<Segment>::new());
        assert_eq!(segments("<script>"), vec![seg("", "<script>")]);
    }

    #[test]
    fn a_line_of_escapes_has_a_bounded_number_of_segments() {
        let line = "\u{1b}[1ma\u{1b}[0m".repeat(10_000);
        let out = segments(&line);
        assert!(out.len() <= MAX_SEGMENTS + 1, "{}", out.len());
        assert_eq!(out.iter().map(|s| s.text.len()).sum::<usize>(), 10_000, "no text lost");
    }
}
