//! The CLI's one error type: an exit code, a message and hints, printed in
//! one place ([`CliError::report`]).

use attest::verify::Hint;

use crate::exit;

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

/// A library hint in the CLI's own terms: the flag that changes the outcome.
pub fn render_hint(hint: Hint) -> String {
    match hint {
        Hint::DigestAlgorithm(alg) => format!("pass -d {alg}"),
        Hint::PublicKey => "a key-signed bundle needs --key: pass --key PUBLIC_KEY.pem".to_string(),
        Hint::NoPublicGood => {
            "--no-public-good was given; leave it out to accept public-good bundles".to_string()
        }
        Hint::RequireInclusionProof => "--require-inclusion-proof asks for an inclusion proof; \
             leave it out to accept a v0.1 signed entry timestamp as a promise"
            .to_string(),
        // A hint this CLI does not know yet is not worth a wrong flag.
        _ => String::new(),
    }
}

/// Print each distinct hint once on stderr, as [`CliError::report`] does.
pub fn print_hints(hints: impl IntoIterator<Item = Hint>) {
    let mut seen = Vec::new();
    for h in hints {
        if seen.contains(&h) {
            continue;
        }
        seen.push(h);
        let text = render_hint(h);
        if !text.is_empty() {
            eprintln!("  hint: {text}");
        }
    }
}

/// Print a usage error (exit 2) where a function reports by exit code.
pub fn usage_error(msg: &str) -> i32 {
    CliError::usage(msg).report()
}

#[cfg(test)]
mod tests {
    use super::*;
    use attest::DigestAlgorithm;

    /// The flags the library no longer names are named here, once each.
    #[test]
    fn hints_name_the_flag() {
        assert_eq!(
            render_hint(Hint::DigestAlgorithm(DigestAlgorithm::Sha512)),
            "pass -d sha512"
        );
        assert!(render_hint(Hint::PublicKey).contains("--key"));
        assert!(render_hint(Hint::NoPublicGood).contains("--no-public-good"));
        assert!(render_hint(Hint::RequireInclusionProof).contains("--require-inclusion-proof"));
    }
}
