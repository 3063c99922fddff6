//! Text from outside (registries, APIs, signing services) made safe to print.
//!
//! A server's error message ends up on the user's terminal. Control
//! characters in it could move the cursor, clear the screen or forge a line
//! of our own output ("Uploaded to …"), so every piece of remote text goes
//! through [`remote_text`] before it is put in an error or printed.

/// The longest piece of remote text kept, in characters.
pub const REMOTE_TEXT_MAX: usize = 200;

/// `text` cut to [`REMOTE_TEXT_MAX`] characters with every control character
/// escaped (`\n`, `\r`, `\t`, else `\xNN` / `\u{NNNN}`), so it prints as one
/// inert line. A cut is marked with `…`.
pub fn remote_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(REMOTE_TEXT_MAX * 2));
    for (i, c) in text.chars().enumerate() {
        if i == REMOTE_TEXT_MAX {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x100 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() || is_bidi_control(c) => {
                out.push_str(&format!("\\u{{{:04x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// An I/O error as a user reads it: the system's message without Rust's
/// `(os error N)` suffix (`No such file or directory`, not `No such file or
/// directory (os error 2)`); the number says nothing the words do not.
/// Errors that are not from the OS print as they are.
pub fn io_error(e: &std::io::Error) -> String {
    let text = e.to_string();
    match e.raw_os_error() {
        Some(code) => text
            .strip_suffix(&format!(" (os error {code})"))
            .map(str::to_string)
            .unwrap_or(text),
        None => text,
    }
}

/// Unicode bidirectional overrides and isolates, which reorder what a
/// terminal shows (a "Trojan Source" line) without being control characters.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_inert() {
        let forged = "\u{1b}[2J\u{1b}[HUploaded to octo-org/octo-repo: attestation 42";
        let shown = remote_text(forged);
        assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
        assert_eq!(
            shown,
            "\\x1b[2J\\x1b[HUploaded to octo-org/octo-repo: attestation 42"
        );
        assert_eq!(remote_text("a\nb\r\tc\u{7f}"), "a\\nb\\r\\tc\\x7f");
        assert_eq!(remote_text("x\u{202e}y\u{85}"), "x\\u{202e}y\\x85");
    }

    #[test]
    fn io_errors_lose_the_os_error_number() {
        let e = std::io::Error::from_raw_os_error(2);
        assert_eq!(io_error(&e), "No such file or directory");
        let e = std::fs::File::open("/nonexistent/attest-io-error").unwrap_err();
        assert_eq!(io_error(&e), "No such file or directory");
        let e = std::io::Error::other("grew past the limit");
        assert_eq!(io_error(&e), "grew past the limit");
    }

    #[test]
    fn long_text_is_cut_and_marked() {
        let long = "é".repeat(REMOTE_TEXT_MAX + 50);
        let shown = remote_text(&long);
        assert_eq!(shown.chars().count(), REMOTE_TEXT_MAX + 1);
        assert!(shown.ends_with('…'));
        assert_eq!(remote_text("short"), "short");
    }
}
