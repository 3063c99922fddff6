//! The CLI's one error type: an exit code, a message and hints, printed in
//! one place ([`CliError::report`]).

use attest::outcome::exit;

/// A failure that ends a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    /// The process exit code.
    pub code: i32,
    /// One line: what failed.
    pub message: String,
    /// What the user can do about it, one line each.
    pub hints: Vec<String>,
}

impl CliError {
    /// A failure with this exit code.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            hints: Vec::new(),
        }
    }

    /// A usage error (exit 2): bad or conflicting flags.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(exit::USAGE, message)
    }

    /// A failure already printed where it happened (code only).
    pub fn printed(code: i32) -> Self {
        Self::new(code, String::new())
    }

    /// Add a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// Print the error (and its hints) on stderr; returns the exit code.
    pub fn report(&self) -> i32 {
        if !self.message.is_empty() {
            eprintln!("Error: {}", self.message);
        }
        for h in &self.hints {
            eprintln!("  hint: {h}");
        }
        self.code
    }
}
