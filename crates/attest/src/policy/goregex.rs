//! gh takes regular expressions in Go's RE2 syntax; attest matches them
//! with Rust's `regex`. This module translates one into the other so that a
//! pattern matches what it would in gh, and quotes literals as Go does.

use std::sync::OnceLock;

use regex::Regex;

use super::{usage, PolicyError};

/// Escape regex metacharacters as Go's `regexp.QuoteMeta` does, so the
/// patterns we print are byte-identical to gh's (Rust's `regex::escape`
/// escapes more characters, e.g. `-`).
pub fn go_quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A regular expression in Go's RE2 syntax, as gh takes it, matched with
/// Rust's `regex`. The two differ at the edges: Go has `\Q…\E` literals,
/// Rust does not; Rust has the flags `x`, `R` and `u` and class set
/// operations (`&&`, `--`, `~~`, nested `[`), which Go reads as literal
/// characters or refuses. The pattern is translated so that it matches what
/// Go's would, and shown as the user wrote it.
#[derive(Debug, Clone)]
pub struct GoRegex {
    source: String,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    Compiled(Regex),
    /// `(?i)^` and a quoted ASCII literal: what `--owner`, `--repo` and
    /// `--signer-repo` ask of the SAN in every verify. Building the regex
    /// was a tenth of a one-artifact run (the case-folding compiler fills
    /// large tables), and for an ASCII subject a case-blind comparison of
    /// the prefix is the same test. A subject with other characters gets
    /// the regex, built then: Go's `(?i)` also lets `ſ` match `s` and the
    /// Kelvin sign `k`.
    PrefixIgnoringCase {
        literal: String,
        regex: OnceLock<Option<Regex>>,
    },
}

impl GoRegex {
    /// Compile a Go RE2 pattern; an error names what is wrong with it.
    pub fn new(pattern: &str) -> Result<Self, PolicyError> {
        let regex = build(pattern)
            .map_err(|why| usage(format!("invalid regular expression {pattern:?}: {why}")))?;
        Ok(Self {
            source: pattern.to_string(),
            matcher: Matcher::Compiled(regex),
        })
    }

    /// `(?i)^` followed by `literal` quoted as Go quotes it: text that
    /// starts with `literal`, ignoring case.
    pub fn prefix_ignoring_case(literal: &str) -> Result<Self, PolicyError> {
        let pattern = format!("(?i)^{}", go_quote_meta(literal));
        if !literal.is_ascii() {
            return Self::new(&pattern);
        }
        Ok(Self {
            source: pattern,
            matcher: Matcher::PrefixIgnoringCase {
                literal: literal.to_string(),
                regex: OnceLock::new(),
            },
        })
    }

    /// The pattern as given (Go syntax), for messages and JSON.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern matches somewhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        match &self.matcher {
            Matcher::Compiled(regex) => regex.is_match(text),
            Matcher::PrefixIgnoringCase { literal, .. } if text.is_ascii() => text
                .as_bytes()
                .get(..literal.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(literal.as_bytes())),
            Matcher::PrefixIgnoringCase { regex, .. } => {
                // Only a pattern over the regex crate's size limit fails to
                // build (an owner name of about 100,000 characters): then
                // nothing matches.
                let regex = regex.get_or_init(|| build(&self.source).ok());
                regex.as_ref().is_some_and(|r| r.is_match(text))
            }
        }
    }
}

/// Translate a Go RE2 pattern and compile it; an error is one line.
fn build(pattern: &str) -> Result<Regex, String> {
    let translated = go_to_rust_regex(pattern)?;
    // The regex crate draws the pattern and a caret over several lines.
    Regex::new(&translated).map_err(|e| {
        let text = e.to_string();
        let last = text.lines().map(str::trim).rfind(|l| !l.is_empty());
        last.unwrap_or("invalid").to_string()
    })
}

/// Rewrite a Go RE2 pattern into Rust `regex` syntax with the same meaning.
fn go_to_rust_regex(pattern: &str) -> Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len());
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            match chars.get(i + 1) {
                Some('Q') => {
                    // A literal up to `\E` or the end of the pattern.
                    let rest: String = chars[i + 2..].iter().collect();
                    let (literal, after) = match rest.find("\\E") {
                        Some(end) => (&rest[..end], end + 2),
                        None => (rest.as_str(), rest.len()),
                    };
                    out.push_str(&regex::escape(literal));
                    i += 2 + rest[..after].chars().count();
                    continue;
                }
                Some(&next @ ('<' | '>')) => {
                    // Word-boundary assertions in Rust, an error in Go.
                    return Err(format!("invalid escape sequence `\\{next}`"));
                }
                Some(&next) => {
                    out.push(c);
                    out.push(next);
                    i += 2;
                    continue;
                }
                None => return Err("trailing backslash".into()),
            }
        }
        if in_class {
            match c {
                ']' => in_class = false,
                '[' if chars.get(i + 1) == Some(&':') => {
                    // A POSIX class, `[:alpha:]`, which both read alike.
                    let rest: String = chars[i..].iter().collect();
                    if let Some(end) = rest.find(":]") {
                        out.push_str(&rest[..end + 2]);
                        i += rest[..end + 2].chars().count();
                        continue;
                    }
                    out.push_str("\\[");
                    i += 1;
                    continue;
                }
                '[' => {
                    out.push_str("\\[");
                    i += 1;
                    continue;
                }
                '&' | '-' | '~' if chars.get(i + 1) == Some(&c) => {
                    // Rust's set operators; in Go, two literal characters
                    // (for `--`, a range ending in `-` would be a Go error
                    // too, so escaping both keeps the meaning of the rest).
                    out.push('\\');
                    out.push(c);
                    out.push('\\');
                    out.push(c);
                    i += 2;
                    continue;
                }
                _ => {}
            }
            out.push(c);
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                out.push(c);
                i += 1;
                // `]` right after `[` or `[^` is a literal in both.
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
                continue;
            }
            '(' if chars.get(i + 1) == Some(&'?') => {
                // A flag group, `(?flags)` or `(?flags:…)`: Go knows i, m, s, U.
                let flags: String = chars[i + 2..]
                    .iter()
                    .take_while(|f| f.is_ascii_alphabetic() || **f == '-')
                    .collect();
                let end = chars.get(i + 2 + flags.chars().count());
                if matches!(end, Some(':') | Some(')')) {
                    if let Some(bad) = flags.chars().find(|f| !"imsU-".contains(*f)) {
                        return Err(format!(
                            "flag `{bad}` in `(?{flags}…`: Go's RE2, which gh uses, knows only i, m, s and U"
                        ));
                    }
                }
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexes_are_read_as_go_reads_them() {
        let re = |p: &str| GoRegex::new(p);
        // `\Q…\E` is a literal, to `\E` or the end.
        let r = re(r"^\Qhttps://x.y/a+b\E/.*$").unwrap();
        assert!(r.is_match("https://x.y/a+b/c"));
        assert!(!r.is_match("https://xzy/aab/c"));
        assert_eq!(r.as_str(), r"^\Qhttps://x.y/a+b\E/.*$");
        assert!(re(r"\Q(a|b").unwrap().is_match("x(a|b"));
        assert!(re(r"\Q<a>").unwrap().is_match("<a>"));
        // Flags Go lacks, and Rust-only escapes, are refused.
        for bad in ["(?x) a", "(?R)a", "(?u:a)", "(?i-x:a)", r"\<a", "a\\"] {
            assert!(re(bad).is_err(), "{bad}");
        }
        for good in ["(?i)A", "(?s:a.b)", "(?U)a+", "(?im-s:a)", "(?P<n>a)"] {
            assert!(re(good).is_ok(), "{good}");
        }
        assert!(re("(?i)SIGSTORE").unwrap().is_match("sigstore"));
        // Class set operators and nested `[` are literals in Go.
        let r = re("^[a&&b]$").unwrap();
        assert!(r.is_match("&") && r.is_match("a") && !r.is_match("c"));
        let r = re("^[a~~]$").unwrap();
        assert!(r.is_match("~"));
        let r = re("^[[]$").unwrap();
        assert!(r.is_match("["));
        let r = re("^[]a]$").unwrap();
        assert!(r.is_match("]") && r.is_match("a"));
        let r = re("^[^]a]$").unwrap();
        assert!(!r.is_match("]") && r.is_match("b"));
        let r = re("^[[:digit:]x]+$").unwrap();
        assert!(r.is_match("12x") && !r.is_match("y"));
        assert!(re(r"^[\]]$").unwrap().is_match("]"));
        // What follows `\E` is read as a pattern again.
        let r = re(r"^\Qa.b\E/c$").unwrap();
        assert!(r.is_match("a.b/c") && !r.is_match("a.b/cd") && !r.is_match("axb/c"));
        // A class ends at its `]`; what follows is outside it.
        let r = re("^[a][b]$").unwrap();
        assert!(r.is_match("ab") && !r.is_match("a[b]"));
        // `[` followed by `:` but no `:]`, and `[` in a class: literals.
        let r = re("^[[:a]$").unwrap();
        assert!(r.is_match("[") && r.is_match(":") && r.is_match("a"));
        let r = re("^[[x:]]$").unwrap();
        assert!(r.is_match("[]") && r.is_match("x]") && !r.is_match("x"));
        // Ranges still work: only doubled `&`, `-`, `~` are escaped.
        let r = re("^[a-c]$").unwrap();
        assert!(r.is_match("b") && !r.is_match("-"));
    }

    /// The regex crate draws the pattern and a caret over several lines;
    /// the error keeps its last line, the reason, on the one line it names.
    #[test]
    fn an_invalid_pattern_is_refused_with_the_reason_on_one_line() {
        let err = GoRegex::new("^(a").unwrap_err().to_string();
        assert!(
            err.ends_with(r#"invalid regular expression "^(a": error: unclosed group"#),
            "{err}"
        );
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn a_case_blind_prefix_matches_what_its_regex_matches() {
        let prefixes = [
            "https://github.com/sigstore/",
            "https://github.com/Octo-Org/r.x+y/",
            "ſk/",
            "",
        ];
        let subjects = [
            "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
            "HTTPS://GITHUB.COM/SIGSTORE/x",
            "https://github.com/sigstore",
            "https://github.com/sigstorex/x",
            "https://github.com/ſigstore/x",
            "https://github.com/octo-org/r.x+y/",
            "https://github.com/octo-org/rax+y/",
            "https://github.com/octo-\u{212a}/",
            "sk/",
            "SK/x",
            "",
            "x https://github.com/sigstore/",
        ];
        for prefix in prefixes {
            let fast = GoRegex::prefix_ignoring_case(prefix).unwrap();
            let slow = GoRegex::new(&format!("(?i)^{}", go_quote_meta(prefix))).unwrap();
            assert_eq!(fast.as_str(), slow.as_str());
            assert_eq!(
                matches!(fast.matcher, Matcher::PrefixIgnoringCase { .. }),
                prefix.is_ascii(),
                "{prefix}"
            );
            for subject in subjects {
                assert_eq!(
                    fast.is_match(subject),
                    slow.is_match(subject),
                    "{prefix} / {subject}"
                );
            }
        }
        let owner = GoRegex::prefix_ignoring_case("https://github.com/sigstore/").unwrap();
        assert!(owner.is_match("https://GitHub.com/sigstore/x"));
        assert!(!owner.is_match("https://github.com/sigstor"));
        assert!(!owner.is_match("https://github.com/sigstorf/x"));
        // Go's (?i) folds ſ to s and the Kelvin sign to k; so does the slow path.
        assert!(owner.is_match("https://github.com/ſigstore/x"));
        let k = GoRegex::prefix_ignoring_case("k").unwrap();
        assert!(k.is_match("\u{212a}") && k.is_match("K") && !k.is_match("x"));
    }
}
