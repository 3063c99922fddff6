//! Tests of `report.rs`'s text output that the CLI prints off a terminal
//! and after a failure: the per-attestation reasons (capped at
//! `MAX_LISTED`) and the one-line summary.

#[path = "support/verified.rs"]
mod verified;

use attest::artifact::{digest_bytes, DigestAlgorithm};
use attest::bundle::BundleOrigin;
use attest::outcome::{ArtifactVerdict, AttestationResult, Outcome};
use attest::policy::{Policy, PolicyFlags};
use attest::report::{reasons_block, summary_line, MAX_LISTED};
use attest::verify::Inclusion;

fn matched(inclusion: Inclusion) -> Outcome {
    Outcome::Matched {
        attestation: Box::new(verified::verified(inclusion)),
        checks: Vec::new(),
    }
}

fn verdict(outcomes: Vec<Outcome>, source: &str) -> ArtifactVerdict {
    ArtifactVerdict {
        digest: digest_bytes(b"artifact", DigestAlgorithm::Sha256),
        results: outcomes
            .into_iter()
            .enumerate()
            .map(|(i, outcome)| AttestationResult {
                origin: BundleOrigin {
                    source: source.into(),
                    line: i + 1,
                    index: i + 1,
                },
                bundle: None,
                outcome,
            })
            .collect(),
    }
}

fn skipped(n: usize) -> Vec<Outcome> {
    (0..n)
        .map(|i| Outcome::Skipped(format!("predicate type is t{i}, not y")))
        .collect()
}

fn policy() -> Policy {
    Policy::from_flags(&PolicyFlags {
        owner: Some("octo-org".into()),
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn reasons_list_each_attestation_that_did_not_match_and_no_other() {
    let mut outcomes = vec![matched(Inclusion::Proven)];
    outcomes.extend(skipped(2));
    let v = verdict(outcomes, "b.jsonl");
    let want: String = v.results[1..]
        .iter()
        .map(|r| {
            format!(
                "  - attestation #{} ({}): {}\n",
                r.origin.index,
                r.origin,
                r.outcome.reason()
            )
        })
        .collect();
    assert_eq!(reasons_block(&v), want);
    assert!(want.contains("attestation #2 (b.jsonl:2): ") && want.contains("attestation #3"));
    // Without a source (an API answer numbered in place), the number alone.
    let v = verdict(skipped(1), "");
    assert_eq!(
        reasons_block(&v),
        format!("  - attestation #1: {}\n", v.results[0].outcome.reason())
    );
    assert_eq!(
        reasons_block(&verdict(vec![matched(Inclusion::Proven)], "b")),
        ""
    );
}

#[test]
fn reasons_stop_at_the_cap_and_count_the_rest() {
    let at_cap = reasons_block(&verdict(skipped(MAX_LISTED), "b.jsonl"));
    assert_eq!(at_cap.lines().count(), MAX_LISTED);
    assert!(!at_cap.contains("more"), "{at_cap}");
    let over = reasons_block(&verdict(skipped(MAX_LISTED + 3), "b.jsonl"));
    assert_eq!(over.lines().count(), MAX_LISTED + 1);
    assert!(over.ends_with("  … and 3 more\n"), "{over}");
    assert!(over.contains(&format!("attestation #{MAX_LISTED} ")));
    assert!(!over.contains(&format!("attestation #{} ", MAX_LISTED + 1)));
}

#[test]
fn the_summary_line_says_verified_or_failed_and_what_was_not_proven() {
    let policy = policy();
    let digest = digest_bytes(b"artifact", DigestAlgorithm::Sha256);
    let mut outcomes = vec![matched(Inclusion::Proven)];
    outcomes.extend(skipped(1));
    let line = summary_line("a.tgz", &verdict(outcomes, "b.jsonl"), &policy);
    assert_eq!(
        line,
        format!(
            "verified a.tgz ({digest}): 1 of 2 attestations matched the policy; signer ; signed at an unknown time: no timestamp"
        )
    );
    let line = summary_line(
        "a.tgz",
        &verdict(vec![matched(Inclusion::Promised)], "b"),
        &policy,
    );
    assert!(
        line.contains("1 of 1 attestation matched the policy; signer  (log inclusion promised by a signed entry timestamp, not proven)"),
        "{line}"
    );
    // One proven entry among promised ones: not called promised.
    let line = summary_line(
        "a.tgz",
        &verdict(
            vec![matched(Inclusion::Promised), matched(Inclusion::Proven)],
            "b",
        ),
        &policy,
    );
    assert!(!line.contains("promised"), "{line}");
    let line = summary_line("a\nb.tgz", &verdict(skipped(2), "b"), &policy);
    assert!(
        line.starts_with(&format!(
            "FAILED a\\nb.tgz ({digest}): 0 of 2 attestations matched the policy: "
        )),
        "{line}"
    );
}

fn artifact(name: &str, verified: bool) -> attest::release::ArtifactReport {
    use attest::outcome::Status;
    attest::release::ArtifactReport {
        artifact: attest::release::ReleaseArtifact {
            name: name.into(),
            listed: None,
            computed: Some(Ok(digest_bytes(name.as_bytes(), DigestAlgorithm::Sha256))),
        },
        covering: Vec::new(),
        verified,
        error: (!verified).then(|| "no attestation lists its digest".to_string()),
        hint: None,
        status: if verified {
            Status::Verified
        } else {
            Status::NoAttestation
        },
        matched: usize::from(verified) * 2,
        signer: None,
        signer_uri: verified.then(|| {
            "https://github.com/octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v1"
                .into()
        }),
    }
}

#[test]
fn release_lines_align_names_and_say_who_signed() {
    let verdict = attest::release::ReleaseVerdict {
        artifacts: vec![
            artifact("a.whl", true),
            artifact("longer-name.tar.gz", false),
        ],
        attestations: Vec::new(),
        bundles_verified: 1,
        bundles_read: 2,
        attestations_matched: 2,
        unmatched: Default::default(),
    };
    let short = |n: &str| {
        let hex = digest_bytes(n.as_bytes(), DigestAlgorithm::Sha256).hex();
        format!("sha256:{}…", &hex[..12])
    };
    let want = format!(
        "OK     a.whl               {}  2 attestations, signed by octo-org/octo-repo .github/workflows/release.yml@refs/tags/v1\n\
         FAILED longer-name.tar.gz  {}  no attestation lists its digest\n",
        short("a.whl"),
        short("longer-name.tar.gz")
    );
    let style = attest::report::Style::default();
    assert_eq!(attest::report::release_lines(&verdict, style), want);
    let mut streamed = Vec::new();
    attest::report::write_release_lines(&verdict, style, &mut streamed).unwrap();
    assert_eq!(String::from_utf8(streamed).unwrap(), want);
    assert_eq!(
        attest::report::release_summary(&verdict),
        "1 of 2 artifacts verified, 1 failed; 1 distinct bundle verified, 2 attestations matched the policy"
    );
}
