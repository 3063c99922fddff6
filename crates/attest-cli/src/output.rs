//! Where output goes: gh's rules for terminals, plus attest's one-liner.
//!
//! Human text goes to stderr, in full only when stdout is a terminal (or
//! `GH_FORCE_TTY` is set, as gh honours); machine output (JSON) goes to
//! stdout. Colour only on a terminal and never with `NO_COLOR`.

use std::io::IsTerminal;

use attest::report::Style;

/// Terminal facts for one run.
#[derive(Debug, Clone, Copy)]
pub struct Terminal {
    /// Whether to print gh's full human output.
    pub tty: bool,
    /// Colours for that output.
    pub style: Style,
}

impl Terminal {
    /// Detect from the environment.
    pub fn detect() -> Self {
        let forced = std::env::var("GH_FORCE_TTY")
            .map(|v| !v.is_empty() && v != "0" && v != "false")
            .unwrap_or(false);
        let tty = forced || std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = tty && !no_color && std::io::stderr().is_terminal();
        Self {
            tty,
            style: Style { color },
        }
    }
}
