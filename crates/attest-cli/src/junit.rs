//! `--format junit`: the verdicts as a JUnit XML report, the format CI
//! systems (GitLab, Jenkins, Azure Pipelines, Buildkite, GitHub test
//! reporters) read to show tests. One test case per artifact (per signature
//! for `verify-signature`), built from the same rows as the GitHub step
//! summary, so the two always agree.
//!
//! A case that failed a cryptographic, policy or no-attestation check is a
//! `<failure>`; an input that could not be read is an `<error>` (the check
//! never ran). Every piece of text is escaped for XML, after control
//! characters are made visible as on the terminal, since XML 1.0 cannot carry
//! them at all, even as character references.

use attest::outcome::Status;
use attest::report;

use crate::summary::Row;

/// The report for `rows` from the command `suite` (`attest verify`), as one
/// XML document ending in a newline.
pub fn xml(suite: &str, rows: &[Row]) -> String {
    let failures = rows
        .iter()
        .filter(|r| !matches!(r.status, Status::Verified | Status::Unreadable))
        .count();
    let errors = rows
        .iter()
        .filter(|r| r.status == Status::Unreadable)
        .count();
    let suite = escape(suite);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"{suite}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">\n",
        rows.len()
    ));
    out.push_str(&format!(
        "  <testsuite name=\"{suite}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\">\n",
        rows.len()
    ));
    for r in rows {
        let name = escape(&r.artifact);
        let detail = escape(&r.detail);
        match r.status {
            Status::Verified => out.push_str(&format!(
                "    <testcase classname=\"{suite}\" name=\"{name}\">\n      <system-out>{detail}</system-out>\n    </testcase>\n"
            )),
            status => {
                let (element, kind) = match status {
                    Status::Unreadable => ("error", "unreadable"),
                    Status::Verification => ("failure", "verification"),
                    Status::Policy => ("failure", "policy"),
                    Status::NoAttestation => ("failure", "no-attestation"),
                    _ => ("failure", "not-verified"),
                };
                out.push_str(&format!(
                    "    <testcase classname=\"{suite}\" name=\"{name}\">\n      <{element} type=\"{kind}\" message=\"{detail}\">{detail}</{element}>\n    </testcase>\n"
                ));
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// `text` on one line with control characters visible, then XML-escaped
/// for both element content and attribute values.
fn escape(text: &str) -> String {
    let visible = report::printable_name(text);
    let mut out = String::with_capacity(visible.len());
    for c in visible.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Not allowed in XML 1.0 even as a reference; printable_name
            // already escapes C0 and C1 controls, and a `char` is never a
            // surrogate, so these two are the rest.
            '\u{FFFE}' | '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(artifact: &str, status: Status, detail: &str) -> Row {
        Row {
            artifact: artifact.into(),
            status,
            detail: detail.into(),
        }
    }

    #[test]
    fn counts_failures_and_errors_apart() {
        let x = xml(
            "attest verify",
            &[
                row(
                    "a.whl",
                    Status::Verified,
                    "https://github.com/o/r/.github/workflows/r.yml@refs/tags/v1",
                ),
                row("b.whl", Status::Policy, "policy failed: repo"),
                row("c.whl", Status::Unreadable, "no such file"),
                row("d.whl", Status::NoAttestation, "none"),
            ],
        );
        assert!(
            x.contains(
                "<testsuites name=\"attest verify\" tests=\"4\" failures=\"2\" errors=\"1\">"
            ),
            "{x}"
        );
        assert!(
            x.contains("<failure type=\"policy\" message=\"policy failed: repo\">"),
            "{x}"
        );
        assert!(x.contains("<error type=\"unreadable\""), "{x}");
        assert!(x.contains("<failure type=\"no-attestation\""), "{x}");
        assert_eq!(x.matches("<testcase ").count(), 4);
    }

    #[test]
    fn hostile_text_cannot_add_markup() {
        let x = xml(
            "attest verify",
            &[row(
                "x\"/><testcase name=\"fake",
                Status::Verification,
                "<b>&\u{1b}[2J\0",
            )],
        );
        assert_eq!(x.matches("<testcase ").count(), 1, "{x}");
        assert!(!x.contains('\u{1b}') && !x.contains('\0'), "{x}");
        assert!(
            x.contains("x&quot;/&gt;&lt;testcase name=&quot;fake"),
            "{x}"
        );
        assert!(x.contains("&lt;b&gt;&amp;"), "{x}");
    }
}
