//! The filter's one error type and the one-line form of every message it
//! carries (jaq's messages may quote a whole input value, over many lines).

/// An expression that does not parse or compile, or a filter that failed
/// while running, described on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JqError(pub String);

impl std::fmt::Display for JqError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Longest error text we print: a failing filter's message may embed a whole
/// input value (the entire verification result), which would bury the
/// reason; gojq abbreviates the same way.
const MAX_ERROR_CHARS: usize = 300;

/// `msg` on one line (controls as spaces), cut at [`MAX_ERROR_CHARS`].
pub(super) fn one_line(msg: &str) -> String {
    let flat: String = msg
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() > MAX_ERROR_CHARS {
        let cut: String = flat.chars().take(MAX_ERROR_CHARS).collect();
        format!("{cut} …")
    } else {
        flat
    }
}
