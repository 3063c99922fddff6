//! Rendering verdicts: gh-compatible JSON, gh-style terminal text, and the
//! one-line summary attest prints when stdout is not a terminal.
//!
//! Nothing here decides pass or fail; it only describes an
//! [`ArtifactVerdict`].

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::artifact::ArtifactDigest;
use crate::bundle::BundleOrigin;
use crate::outcome::{ArtifactVerdict, AttestationResult, Outcome, Status};
use crate::policy::Policy;
use crate::release::ReleaseVerdict;
use crate::verify::{Check, VerifiedAttestation};

/// The media type gh gives its verification results.
pub(crate) const VERIFICATION_RESULT_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.verificationresult+json;version=0.1";

/// Terminal styling: colour only on a terminal and without `NO_COLOR`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// Whether to emit ANSI colours.
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    /// Green, for success.
    pub fn ok(self, text: &str) -> String {
        self.paint("32", text)
    }
    /// Red, for failure.
    pub fn bad(self, text: &str) -> String {
        self.paint("31", text)
    }
    /// Dim, for detail.
    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }
}

/// gh's `--format json` array: one element per matching attestation.
pub fn gh_json(verdict: &ArtifactVerdict, policy: &Policy) -> Value {
    Value::Array(
        verdict
            .matched()
            .filter_map(|r| {
                let bundle = r.bundle.as_ref()?;
                let att = r.outcome.attestation()?;
                Some(json!({
                    "attestation": {
                        "bundle": bundle.raw,
                        "bundle_url": bundle.bundle_url,
                        "initiator": bundle.initiator,
                    },
                    "verificationResult": verification_result_json(att, policy),
                }))
            })
            .collect(),
    )
}

/// gh's `verificationResult` object for one attestation.
pub(crate) fn verification_result_json(att: &VerifiedAttestation, policy: &Policy) -> Value {
    let signature = match &att.certificate {
        Some(cert) => json!({ "certificate": cert }),
        None => json!({}),
    };
    let timestamps: Vec<Value> = att
        .timestamps
        .iter()
        .map(|t| {
            json!({
                "type": t.kind.as_str(),
                "uri": t.uri,
                "timestamp": rfc3339(t.time),
            })
        })
        .collect();
    let mut v = json!({
        "mediaType": VERIFICATION_RESULT_MEDIA_TYPE,
        "signature": signature,
        "verifiedTimestamps": timestamps,
        "verifiedIdentity": policy.verified_identity_json(),
    });
    // An attest addition to gh's schema: which trusted root verified it.
    v["trustedRoot"] = json!({
        "source": att.root_source.kind(),
        "description": att.root_source.to_string(),
    });
    // Another attest addition: how the log inclusion was established
    // (`proven`, `promised` for a v0.1 signed entry timestamp alone, or
    // `none` without a log).
    v["inclusion"] = json!(att.inclusion.as_str());
    if let Some(st) = &att.statement {
        v["statement"] = st.value.clone();
    }
    v
}

/// RFC 3339 in UTC with second precision and a `Z`, as gh prints times.
pub(crate) fn rfc3339(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// gh's policy block: `- label:.... value`, labels padded with dots.
pub fn criteria_block(policy: &Policy) -> String {
    let rows = policy.criteria();
    let mut out = String::from("The following policy criteria will be enforced:\n");
    out.push_str(&aligned_rows(&rows, "- "));
    out
}

fn aligned_rows(rows: &[(&str, String)], prefix: &str) -> String {
    let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (label, value) in rows {
        let _ = writeln!(
            out,
            "{prefix}{label}:{} {value}",
            ".".repeat(width - label.len())
        );
    }
    out
}

/// Split a GitHub workflow URI (`https://host/owner/repo/path@ref`) into
/// `owner/repo` and `path@ref`, as gh's text output shows them.
pub(crate) fn split_workflow_uri(uri: &str) -> (String, String) {
    let rest = uri.split_once("://").map(|(_, r)| r).unwrap_or(uri);
    let mut parts = rest.splitn(4, '/');
    let _host = parts.next();
    let owner = parts.next().unwrap_or("");
    let repo = parts.next().unwrap_or("");
    let path = parts.next().unwrap_or("");
    (format!("{owner}/{repo}"), path.to_string())
}

/// The per-attestation lines gh prints after success.
pub fn matched_block(verdict: &ArtifactVerdict) -> String {
    let matched: Vec<_> = verdict.matched().collect();
    let mut out = format!(
        "The following {} matched the policy criteria\n",
        plural(matched.len(), "attestation")
    );
    for (i, r) in matched.iter().enumerate() {
        let _ = write!(out, "\n- Attestation #{}\n", i + 1);
        let Some(att) = r.outcome.attestation() else {
            continue;
        };
        let mut rows: Vec<(&str, String)> = Vec::new();
        if let Some(cert) = &att.certificate {
            let (build_repo, build_wf) =
                split_workflow_uri(cert.build_config_uri.as_deref().unwrap_or(""));
            let (signer_repo, signer_wf) =
                split_workflow_uri(cert.build_signer_uri.as_deref().unwrap_or(""));
            rows.push(("Build repo", build_repo));
            rows.push(("Build workflow", build_wf));
            rows.push(("Signer repo", signer_repo));
            rows.push(("Signer workflow", signer_wf));
        }
        out.push_str(&aligned_rows(&rows, "  - "));
        let _ = writeln!(out, "  - {}", trust_line(att));
        let _ = writeln!(out, "  - From: {}", printable_name(&r.origin.to_string()));
    }
    out
}

/// What a verified attestation without any verified time proves (a
/// key-signed bundle made with `attest sign --key --no-timestamp`; keyless
/// ones always have a time): possession of the key, at an unknown time.
const UNTIMED: &str = "signed at an unknown time: no timestamp";

/// "Verified by …" with the instance, the root's source and the times.
pub(crate) fn trust_line(att: &VerifiedAttestation) -> String {
    let source = &att.root_source;
    let times: Vec<String> = att
        .timestamps
        .iter()
        .map(|t| format!("{} {} at {}", t.kind.as_str(), t.uri, rfc3339(t.time)))
        .collect();
    format!(
        "Verified by: {} instance ({source}); {}",
        att.instance.name(),
        if times.is_empty() {
            UNTIMED.to_string()
        } else {
            times.join(", ")
        }
    )
}

/// `1 attestation`, `2 attestations`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The headline of a failed verification: gh's stage line and message.
pub fn failure_headline(verdict: &ArtifactVerdict, policy: &Policy) -> (String, String) {
    let Some(best) = verdict.best() else {
        return (
            "Loading attestations".into(),
            "no attestations found".into(),
        );
    };
    match &best.outcome {
        Outcome::PolicyMismatch { checks, .. } => {
            let first = checks.iter().find(|c| !c.passed);
            (
                "Policy verification".into(),
                first.map(|c| c.message.clone()).unwrap_or_default(),
            )
        }
        Outcome::Failed(e) => (
            "Sigstore verification".into(),
            format!("{}: {e}", best.origin),
        ),
        Outcome::NotForArtifact(e) => (
            "Sigstore verification".into(),
            format!("{}: {e}", best.origin),
        ),
        Outcome::Skipped(_) => (
            "Predicate filter".into(),
            format!(
                "no attestations found with predicate type: {}",
                policy.predicate_type
            ),
        ),
        Outcome::Unreadable(e) => ("Loading attestations".into(), e.to_string()),
        Outcome::Matched { .. } => (String::new(), String::new()),
    }
}

/// How many per-attestation reasons text output lists before summarising.
pub const MAX_LISTED: usize = 20;

/// One line per attestation that did not match, saying why (the first
/// [`MAX_LISTED`], then a count).
pub fn reasons_block(verdict: &ArtifactVerdict) -> String {
    let mut out = String::new();
    let unmatched: Vec<_> = verdict
        .results
        .iter()
        .filter(|r| !matches!(r.outcome, Outcome::Matched { .. }))
        .collect();
    for r in unmatched.iter().take(MAX_LISTED) {
        // File names and reasons can carry control characters.
        let _ = writeln!(
            out,
            "  - {}: {}",
            attestation_label(&r.origin),
            printable_name(&r.outcome.reason())
        );
    }
    if unmatched.len() > MAX_LISTED {
        let _ = writeln!(out, "  … and {} more", unmatched.len() - MAX_LISTED);
    }
    out
}

/// `attestation #N (FILE:LINE)`, the name of one attestation in messages,
/// safe to print (the origin escaped as [`printable_name`] escapes);
/// `attestation #N` alone for a bundle that could not be read, whose
/// reason names the place.
pub fn attestation_label(origin: &BundleOrigin) -> String {
    if origin.source.is_empty() {
        format!("attestation #{}", origin.index)
    } else {
        format!(
            "attestation #{} ({})",
            origin.index,
            printable_name(&origin.to_string())
        )
    }
}

/// The one line printed when stdout is not a terminal.
pub fn summary_line(artifact: &str, verdict: &ArtifactVerdict, policy: &Policy) -> String {
    let artifact = &printable_name(artifact);
    let total = verdict.results.len();
    let matched = verdict.matched().count();
    if matched > 0 {
        let signer = verdict
            .matched()
            .find_map(|r| r.outcome.attestation())
            .and_then(VerifiedAttestation::signer)
            .unwrap_or_default();
        let promised = verdict
            .matched()
            .filter_map(|r| r.outcome.attestation())
            .all(|a| a.inclusion == crate::verify::Inclusion::Promised);
        let untimed = verdict
            .matched()
            .filter_map(|r| r.outcome.attestation())
            .all(|a| a.timestamps.is_empty());
        format!(
            "verified {artifact} ({}): {matched} of {} matched the policy; signer {signer}{}{}",
            verdict.digest,
            plural(total, "attestation"),
            if promised {
                " (log inclusion promised by a signed entry timestamp, not proven)"
            } else {
                ""
            },
            if untimed {
                format!("; {UNTIMED}")
            } else {
                String::new()
            }
        )
    } else {
        let (_, msg) = failure_headline(verdict, policy);
        format!(
            "FAILED {artifact} ({}): 0 of {} matched the policy: {msg}",
            verdict.digest,
            plural(total, "attestation")
        )
    }
}

/// A name safe to print on one terminal line: backslash, newline and
/// carriage return escaped as `sha256sum` escapes them, other control
/// characters (escape sequences included) as `\xNN`.
pub fn printable_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// A short digest for text output: `sha256:0123456789ab…`.
pub(crate) fn short_digest(d: &ArtifactDigest) -> String {
    let hex = d.hex();
    format!("{}:{}…", d.algorithm(), &hex[..12.min(hex.len())])
}

/// One line per artifact of a release, aligned.
pub fn release_lines(verdict: &ReleaseVerdict, style: Style) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail.
    let _ = write_release_lines(verdict, style, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// [`release_lines`], written line by line to `out`: a release of a
/// hundred thousand artifacts never holds its whole report in memory.
pub fn write_release_lines(
    verdict: &ReleaseVerdict,
    style: Style,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    // Names are made printable twice (to measure, then to write) rather
    // than kept: one copy of every name is the memory this avoids.
    let width = verdict
        .artifacts
        .iter()
        .map(|a| printable_name(&a.artifact.name).chars().count())
        .max()
        .unwrap_or(0);
    for a in &verdict.artifacts {
        let name = printable_name(&a.artifact.name);
        let digest = a
            .artifact
            .digest()
            .map(short_digest)
            .unwrap_or_else(|| "-".into());
        let pad = " ".repeat(width - name.chars().count());
        if a.verified {
            let n = a.matched;
            let signer = a
                .signer_uri
                .as_deref()
                .map(|u| {
                    let (repo, wf) = split_workflow_uri(u);
                    format!(", signed by {repo} {wf}")
                })
                .unwrap_or_default();
            writeln!(
                out,
                "{} {}{pad}  {digest}  {}{signer}",
                style.ok("OK    "),
                name,
                plural(n, "attestation")
            )?;
        } else {
            writeln!(
                out,
                "{} {}{pad}  {digest}  {}",
                style.bad("FAILED"),
                name,
                a.error.as_deref().unwrap_or("not verified")
            )?;
        }
    }
    Ok(())
}

/// The closing summary of a release run.
pub fn release_summary(verdict: &ReleaseVerdict) -> String {
    let total = verdict.artifacts.len();
    let ok = verdict.artifacts.iter().filter(|a| a.verified).count();
    let matched = verdict.attestations_matched;
    format!(
        "{ok} of {} verified{}; {} verified, {} matched the policy",
        plural(total, "artifact"),
        if ok == total {
            String::new()
        } else {
            format!(", {} failed", total - ok)
        },
        plural(verdict.bundles_verified, "distinct bundle"),
        plural(matched, "attestation"),
    )
}

/// The JSON of one attestation's outcome with every check's result.
pub(crate) fn attestation_json(r: &AttestationResult, policy: &Policy) -> Value {
    let (result, checks) = match &r.outcome {
        Outcome::Matched {
            attestation,
            checks,
        }
        | Outcome::PolicyMismatch {
            attestation,
            checks,
        } => {
            let mut all: Vec<Value> = attestation
                .checks_applied()
                .into_iter()
                .map(|c| json!({ "check": c.name(), "passed": true }))
                .collect();
            all.extend(checks.iter().map(|c| {
                json!({
                    "check": c.name,
                    "expected": c.expected,
                    "actual": c.actual,
                    "passed": c.passed,
                })
            }));
            let result = if matches!(r.outcome, Outcome::Matched { .. }) {
                "matched"
            } else {
                "policy-mismatch"
            };
            (result, all)
        }
        Outcome::Failed(e) | Outcome::NotForArtifact(e) => {
            let check = e.failed_check().name();
            let result = if matches!(r.outcome, Outcome::Failed(_)) {
                "verification-failed"
            } else {
                "not-for-artifact"
            };
            (
                result,
                vec![json!({ "check": check, "passed": false, "detail": e.to_string() })],
            )
        }
        Outcome::Skipped(why) => (
            "skipped",
            vec![json!({ "check": Check::PredicateType.name(), "passed": false, "detail": why })],
        ),
        Outcome::Unreadable(e) => (
            "unreadable",
            vec![
                json!({ "check": Check::BundleStructure.name(), "passed": false, "detail": e.to_string() }),
            ],
        ),
    };
    let mut v = json!({
        "source": r.origin.to_string(),
        "result": result,
        "reason": if matches!(r.outcome, Outcome::Matched { .. }) { Value::Null } else { Value::String(r.outcome.reason()) },
        "checks": checks,
    });
    if let Some(att) = r.outcome.attestation() {
        v["verificationResult"] = verification_result_json(att, policy);
    }
    v
}

/// `--format json` for a release: one object per artifact. `exit_code` maps
/// an artifact's status to the caller's number for it (the library has no
/// exit codes; the CLI does).
pub fn release_json(
    verdict: &ReleaseVerdict,
    policy: &Policy,
    exit_code: impl Fn(Status) -> i32,
) -> Value {
    let attestations: Vec<Value> = verdict
        .attestations
        .iter()
        .map(|r| attestation_json(r, policy))
        .collect();
    Value::Array(
        verdict
            .artifacts
            .iter()
            .map(|a| {
                json!({
                    "name": a.artifact.name,
                    "digest": a.artifact.digest().map(|d| d.to_string()),
                    "listedDigest": a.artifact.listed.as_ref().map(|d| d.to_string()),
                    "verified": a.verified,
                    "exitCode": exit_code(a.status),
                    "error": a.error,
                    "attestations": a.covering.iter().map(|&i| attestations[i].clone()).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_uris_split_like_gh() {
        assert_eq!(
            split_workflow_uri("https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"),
            ("sigstore/sigstore-js".to_string(), ".github/workflows/release.yml@refs/heads/main".to_string())
        );
    }

    #[test]
    fn an_attestation_is_named_by_its_origin_unless_it_could_not_be_read() {
        let at = |source: &str, line| BundleOrigin {
            source: source.into(),
            line,
            index: 3,
        };
        assert_eq!(
            attestation_label(&at("b.jsonl", 7)),
            "attestation #3 (b.jsonl:7)"
        );
        // A registry or an API response has no lines.
        assert_eq!(
            attestation_label(&at("https://registry.npmjs.org/x", 0)),
            "attestation #3 (https://registry.npmjs.org/x)"
        );
        assert_eq!(
            attestation_label(&BundleOrigin::unread(3)),
            "attestation #3"
        );
        assert_eq!(
            attestation_label(&at("a\u{1b}[2J.jsonl", 1)),
            "attestation #3 (a\\x1b[2J.jsonl:1)"
        );
    }

    #[test]
    fn rows_are_dot_aligned() {
        let rows = vec![("ab", "1".to_string()), ("abcd", "2".to_string())];
        assert_eq!(aligned_rows(&rows, "- "), "- ab:.. 1\n- abcd: 2\n");
    }

    #[test]
    fn names_print_on_one_line() {
        assert_eq!(
            printable_name("a\nb\\c\r\x1b[31m"),
            "a\\nb\\\\c\\r\\x1b[31m"
        );
        assert_eq!(printable_name("plain name.whl"), "plain name.whl");
    }

    #[test]
    fn colour_only_when_asked_and_each_kind_its_own() {
        let on = Style { color: true };
        assert_eq!(on.ok("OK"), "\x1b[32mOK\x1b[0m");
        assert_eq!(on.bad("FAIL"), "\x1b[31mFAIL\x1b[0m");
        assert_eq!(on.dim("x"), "\x1b[2mx\x1b[0m");
        let off = Style::default();
        assert_eq!(
            (off.ok("OK"), off.bad("FAIL"), off.dim("x")),
            ("OK".into(), "FAIL".into(), "x".into())
        );
    }

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(plural(0, "file"), "0 files");
        assert_eq!(plural(1, "file"), "1 file");
        assert_eq!(plural(2, "file"), "2 files");
    }

    #[test]
    fn times_are_rfc3339_seconds_z() {
        let t = jiff::Timestamp::from_second(1693323623).unwrap();
        assert_eq!(rfc3339(t), "2023-08-29T15:40:23Z");
    }
}
