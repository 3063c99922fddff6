//! The GitHub Actions step summary: when `GITHUB_STEP_SUMMARY` names a file
//! (as the runner sets it for every step), `attest verify` appends a
//! markdown table of its verdicts, one row per artifact, so a release's
//! provenance shows on the run's page without anyone reading the log.
//!
//! The summary is a courtesy: a summary that cannot be written is a warning
//! on stderr and never changes the exit code, which belongs to the verdict.

use std::io::Write;

use attest::outcome::{ArtifactVerdict, Status};
use attest::policy::Policy;
use attest::release::ReleaseVerdict;
use attest::report;
use attest::verify::VerifiedAttestation;

/// The variable the Actions runner sets to the step's summary file.
pub const ENV: &str = "GITHUB_STEP_SUMMARY";

/// One row of the table: an artifact and what was decided for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The artifact as the user named it (path, digest, image, manifest name).
    pub artifact: String,
    /// Its status ([`Status::Verified`] when it passed).
    pub status: Status,
    /// The signer when verified (workflow URI, identity or key), else why not.
    pub detail: String,
}

/// Append the row of one artifact verified on its own (`attest verify
/// FILE`); returns the rows (for `--format junit`).
pub fn record_artifact(name: &str, verdict: &ArtifactVerdict, policy: &Policy) -> Vec<Row> {
    let (status, detail) = if verdict.verified() {
        let signer = verdict
            .matched()
            .find_map(|r| r.outcome.attestation())
            .and_then(VerifiedAttestation::signer)
            .unwrap_or_default();
        (Status::Verified, signer)
    } else {
        let (stage, message) = report::failure_headline(verdict, policy);
        (verdict.status(), format!("{stage} failed: {message}"))
    };
    let rows = vec![Row {
        artifact: name.to_string(),
        status,
        detail,
    }];
    append(&rows);
    rows
}

/// Append one row per artifact of a release (`attest verify A B …`,
/// `--manifest`); returns the rows.
pub fn record_release(verdict: &ReleaseVerdict) -> Vec<Row> {
    let rows: Vec<Row> = verdict
        .artifacts
        .iter()
        .map(|a| Row {
            artifact: a.artifact.name.clone(),
            status: a.status,
            detail: if a.verified {
                // The signer of a bundle that matched for this artifact.
                a.signer.as_deref().unwrap_or_default().to_string()
            } else {
                a.error.clone().unwrap_or_else(|| "not verified".into())
            },
        })
        .collect();
    append(&rows);
    rows
}

/// Whether a step summary is asked for (`GITHUB_STEP_SUMMARY` names a file):
/// a release's rows are built only then, or for JUnit, since a hundred
/// thousand of them are memory the text output does not need.
pub fn wanted() -> bool {
    path().is_some()
}

/// The file `GITHUB_STEP_SUMMARY` names, if set and not empty.
fn path() -> Option<std::ffi::OsString> {
    std::env::var_os(ENV).filter(|p| !p.is_empty())
}

/// Append `rows` as a table to the file `GITHUB_STEP_SUMMARY` names; nothing
/// when it is unset or empty (outside Actions) or there are no rows.
pub fn append(rows: &[Row]) {
    let Some(path) = path() else {
        return;
    };
    if rows.is_empty() {
        return;
    }
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        // One write, so steps running in parallel cannot interleave lines.
        .and_then(|mut f| f.write_all(markdown(rows).as_bytes()));
    if let Err(e) = written {
        eprintln!(
            "Warning: {ENV} ({}): the step summary was not written: {}",
            report::printable_name(&path.to_string_lossy()),
            attest::text::io_error(&e)
        );
    }
}

/// The markdown for `rows`: a heading, the table and a count.
pub fn markdown(rows: &[Row]) -> String {
    let ok = rows.iter().filter(|r| r.status == Status::Verified).count();
    let mut out = String::from(
        "### attest verify\n\n| Artifact | Result | Signer or reason |\n| --- | --- | --- |\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            cell(&r.artifact),
            result(r.status),
            cell(&r.detail)
        ));
    }
    out.push_str(&format!(
        "\n{ok} of {} verified.\n\n",
        report::plural(rows.len(), "artifact")
    ));
    out
}

/// The result column: a mark GitHub renders as an emoji, and the cause in
/// the words of the exit-code table.
fn result(status: Status) -> &'static str {
    match status {
        Status::Verified => "✅ verified",
        Status::Verification => "❌ verification failed",
        Status::Policy => "❌ policy not met",
        Status::NoAttestation => "❌ no attestation",
        Status::Unreadable => "❌ unreadable input",
        _ => "❌ not verified",
    }
}

/// A table cell: on one line (control characters escaped as on the
/// terminal) and with markdown and HTML punctuation escaped, so an artifact
/// name or a remote error message cannot end the cell, add rows, links or
/// markup to the page.
fn cell(text: &str) -> String {
    let one_line = report::printable_name(text);
    let mut out = String::with_capacity(one_line.len());
    for c in one_line.chars() {
        if matches!(
            c,
            '\\' | '|' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '!' | '#' | '~' | '&'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table() {
        let md = markdown(&[Row {
            artifact: "a|b\n| x | y |<img src=x>".into(),
            status: Status::Policy,
            detail: "[link](http://127.0.0.1/)".into(),
        }]);
        let lines: Vec<&str> = md.trim_end().lines().collect();
        // Heading, blank, header, rule, one row, blank, count.
        assert_eq!(lines.len(), 7, "{md}");
        assert_eq!(
            lines[4],
            r"| a\|b\\n\| x \| y \|\<img src=x\> | ❌ policy not met | \[link\](http://127.0.0.1/) |"
        );
        assert_eq!(lines[6], "0 of 1 artifact verified.");
    }
}
