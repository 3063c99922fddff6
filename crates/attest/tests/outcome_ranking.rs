//! Tests of `outcome.rs`: the ranking of attestation
//! outcomes, their statuses, the predicate filter and the evaluation of
//! keyless and key-signed bundles.

#[path = "support/shared.rs"]
mod shared;
#[path = "support/verified.rs"]
mod verified;
use attest::artifact::{digest_bytes, ArtifactDigest, DigestAlgorithm};
use attest::bundle::{BundleError, BundleOrigin, LoadedBundle, Statement};
use attest::certificate::CertificateSummary;
use attest::outcome::{
    evaluate_bundles, evaluate_bundles_by, evaluate_one, evaluate_one_with_key, policy_outcome,
    predicate_filter, ArtifactVerdict, AttestationResult, Outcome, Status,
};
use attest::policy::{Policy, PolicyCheck, PolicyFlags};
use attest::source::bundles_from_bytes;
use attest::trust::TrustStore;
use attest::verify::{
    parse_public_key_pem, ArtifactInput, Check, VerifiedAttestation, VerifyError,
};
use attest_testsign::{
    provenance_predicate, sha256_hex, statement, FulcioClaims, SignFault, SignOptions,
    TestSigstore, TestSigstoreConfig, SLSA_PROVENANCE_V1,
};
use serde_json::Value;

const ARTIFACT: &[u8] = b"octo-repo release artifact v1.0.0\n";
static CONFORMANCE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| shared::shared("testdata/conformance/cases"));

fn repo_policy() -> Policy {
    Policy::from_flags(&PolicyFlags {
        repo: Some("octo-org/octo-repo".into()),
        ..Default::default()
    })
    .expect("a valid policy")
}

fn provenance(artifact: &[u8]) -> Vec<u8> {
    statement(
        &[("octo-repo-1.0.0.tar.gz", "sha256", &sha256_hex(artifact))],
        SLSA_PROVENANCE_V1,
        provenance_predicate(&FulcioClaims::default()),
    )
}

fn load(bundle: &Value) -> LoadedBundle {
    let bytes = serde_json::to_vec(bundle).expect("JSON");
    bundles_from_bytes(&bytes, "bundle.json")
        .expect("text")
        .remove(0)
        .expect("bundle parses")
}

fn attestation() -> VerifiedAttestation {
    verified::verified(attest::verify::Inclusion::Proven)
}

fn pcheck(name: &'static str, passed: bool, message: &str) -> PolicyCheck {
    PolicyCheck {
        name,
        expected: "e".into(),
        actual: Some("a".into()),
        passed,
        message: message.into(),
    }
}

fn check_err(check: Check) -> VerifyError {
    VerifyError::check(check, "detail")
}

/// One outcome of every kind, from furthest to least far.
fn outcomes() -> Vec<Outcome> {
    vec![
        Outcome::Matched {
            attestation: Box::new(attestation()),
            checks: vec![pcheck("A", true, "fine")],
        },
        Outcome::PolicyMismatch {
            attestation: Box::new(attestation()),
            checks: vec![
                pcheck("A", false, "first wrong"),
                pcheck("B", true, "fine"),
                pcheck("C", false, "second wrong"),
            ],
        },
        Outcome::Failed(check_err(Check::Sct)),
        Outcome::NotForArtifact(VerifyError::NoMatchingSubject {
            digest: "sha256:00".into(),
            available: vec!["sha256".into()],
        }),
        Outcome::Skipped("predicate type is x, not y".into()),
        Outcome::Unreadable(BundleError::Statement("broken".into())),
    ]
}

fn result(index: usize, outcome: Outcome) -> AttestationResult {
    AttestationResult {
        origin: BundleOrigin {
            source: "b.jsonl".into(),
            line: index,
            index,
        },
        bundle: None,
        outcome,
    }
}

fn verdict(outcomes: Vec<Outcome>) -> ArtifactVerdict {
    ArtifactVerdict {
        digest: digest_bytes(ARTIFACT, DigestAlgorithm::Sha256),
        results: outcomes
            .into_iter()
            .enumerate()
            .map(|(i, o)| result(i + 1, o))
            .collect(),
    }
}

/// A public-good-like bundle over `provenance(ARTIFACT)` with the default claims.
fn signed_provenance(sigstore: &mut TestSigstore) -> LoadedBundle {
    load(&sigstore.sign_statement(
        &provenance(ARTIFACT),
        &FulcioClaims::default(),
        &SignOptions::tlog_only(),
    ))
}

#[test]
fn each_outcome_has_its_status_reason_and_attestation() {
    let expected = [
        (Status::Verified, "matched the policy", true),
        (Status::Policy, "first wrong; second wrong", true),
        (
            Status::Verification,
            "verification failed: SCT: detail",
            false,
        ),
        (
            Status::NoAttestation,
            "not an attestation of this artifact: no subject of the statement has digest sha256:00",
            false,
        ),
        (
            Status::NoAttestation,
            "skipped: predicate type is x, not y",
            false,
        ),
        (Status::Unreadable, "in-toto statement: broken", false),
    ];
    for (o, (status, reason, has_attestation)) in outcomes().iter().zip(expected) {
        assert_eq!(o.status(), status, "{o:?}");
        assert_eq!(o.reason(), reason, "{o:?}");
        assert_eq!(o.attestation().is_some(), has_attestation, "{o:?}");
        if let Some(att) = o.attestation() {
            assert_eq!(att.organization, "sigstore.dev");
        }
    }
}

#[test]
fn the_furthest_outcome_decides_whatever_the_order() {
    let all = outcomes();
    let n = all.len();
    // Every pair, in both orders: the one that got further is the best.
    for i in 0..n {
        for j in 0..n {
            if i == j {
                continue;
            }
            let v = verdict(vec![all[i].clone(), all[j].clone()]);
            let best = v.best().expect("two results");
            let want = i.min(j);
            assert_eq!(best.outcome.status(), all[want].status(), "{i} vs {j}");
            assert_eq!(best.outcome.reason(), all[want].reason(), "{i} vs {j}");
            assert_eq!(v.status(), all[want].status(), "{i} vs {j}");
            assert_eq!(v.verified(), want == 0, "{i} vs {j}");
        }
    }
    // Equal rank: the first one in input order is reported.
    let v = verdict(vec![
        Outcome::Failed(check_err(Check::Sct)),
        Outcome::Failed(check_err(Check::Checkpoint)),
    ]);
    assert_eq!(v.best().unwrap().origin.index, 1);
}

#[test]
fn an_empty_verdict_is_no_attestation() {
    let v = verdict(Vec::new());
    assert!(v.best().is_none());
    assert!(!v.verified());
    assert_eq!(v.matched().count(), 0);
    assert_eq!(v.status(), Status::NoAttestation);
}

#[test]
fn matched_lists_exactly_the_matches() {
    let all = outcomes();
    let v = verdict(vec![
        all[2].clone(),
        all[0].clone(),
        all[1].clone(),
        all[0].clone(),
    ]);
    let idx: Vec<usize> = v.matched().map(|r| r.origin.index).collect();
    assert_eq!(idx, [2, 4]);
    assert!(v.verified());
    assert_eq!(v.status(), Status::Verified);
    let v = verdict(vec![all[1].clone(), all[2].clone()]);
    assert_eq!(v.matched().count(), 0);
    assert!(!v.verified());
}

#[test]
fn policy_outcome_is_a_match_only_when_every_check_passes() {
    let policy = repo_policy();
    let mut att = attestation();
    let mut cert = CertificateSummary {
        subject_alternative_name: Some(
            "https://github.com/octo-org/octo-repo/.github/workflows/r.yml@refs/heads/main".into(),
        ),
        issuer: Some("https://token.actions.githubusercontent.com".into()),
        source_repository_uri: Some("https://github.com/octo-org/octo-repo".into()),
        source_repository_owner_uri: Some("https://github.com/octo-org".into()),
        ..CertificateSummary::default()
    };
    att.certificate = Some(cert.clone());
    match policy_outcome(att.clone(), &policy) {
        Outcome::Matched {
            checks,
            attestation,
        } => {
            assert_eq!(checks.len(), 4);
            assert_eq!(attestation.certificate.as_ref(), Some(&cert));
        }
        other => panic!("expected a match, got {other:?}"),
    }
    cert.source_repository_uri = Some("https://github.com/octo-org/other".into());
    att.certificate = Some(cert);
    match policy_outcome(att, &policy) {
        Outcome::PolicyMismatch { checks, .. } => {
            assert_eq!(checks.iter().filter(|c| !c.passed).count(), 1);
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

#[test]
fn evaluate_bundles_by_keeps_order_and_numbers_unreadable_bundles() {
    let mut sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let bundle = signed_provenance(&mut sigstore);
    let digest = digest_bytes(ARTIFACT, DigestAlgorithm::Sha256);
    let bundles = vec![
        Err(BundleError::Statement("one".into())),
        Ok(bundle.clone()),
        Err(BundleError::Statement("three".into())),
    ];
    let seen = std::cell::RefCell::new(Vec::new());
    let v = evaluate_bundles_by(&bundles, &digest, |b, input| {
        let ArtifactInput::Digest(d) = input else {
            panic!("a digest input")
        };
        seen.borrow_mut().push((b.origin.clone(), d.clone()));
        Outcome::Skipped("test".into())
    });
    assert_eq!(v.digest, digest);
    assert_eq!(*seen.borrow(), [(bundle.origin.clone(), digest.clone())]);
    let idx: Vec<usize> = v.results.iter().map(|r| r.origin.index).collect();
    assert_eq!(idx, [1, 1, 3]);
    assert_eq!(v.results[1].origin, bundle.origin);
    assert!(v.results[0].bundle.is_none() && v.results[1].bundle.is_some());
    assert_eq!(v.results[2].outcome.reason(), "in-toto statement: three");
    assert_eq!(v.results[1].outcome.reason(), "skipped: test");
}

#[test]
fn evaluate_bundles_verifies_with_the_trust_store_and_policy() {
    let mut sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let root = sigstore.trusted_root_json();
    let trust = TrustStore::from_jsonl(&root, "root.jsonl", false).expect("root");
    let good = signed_provenance(&mut sigstore);
    let digest = digest_bytes(ARTIFACT, DigestAlgorithm::Sha256);
    let v = evaluate_bundles(&[Ok(good.clone())], &digest, &trust, &repo_policy());
    assert!(v.verified(), "{:?}", v.results[0].outcome.reason());
    assert_eq!(v.results.len(), 1);
    // The same bundle about another digest: not for this artifact.
    let other = digest_bytes(b"other", DigestAlgorithm::Sha256);
    let v = evaluate_bundles(&[Ok(good)], &other, &trust, &repo_policy());
    assert!(matches!(v.results[0].outcome, Outcome::NotForArtifact(_)));
}

#[test]
fn evaluate_one_tells_not_for_this_artifact_from_failed() {
    let mut sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let trust =
        TrustStore::from_jsonl(&sigstore.trusted_root_json(), "root.jsonl", false).expect("root");
    let policy = repo_policy();
    let digest = digest_bytes(ARTIFACT, DigestAlgorithm::Sha256);
    let good = signed_provenance(&mut sigstore);
    let forged = load(&sigstore.sign_statement(
        &provenance(ARTIFACT),
        &FulcioClaims::default(),
        &SignOptions::tlog_only().with(SignFault::BadSignature),
    ));
    assert!(matches!(
        evaluate_one(&good, ArtifactInput::Digest(&digest), &trust, &policy),
        Outcome::Matched { .. }
    ));
    let other = digest_bytes(b"other", DigestAlgorithm::Sha256);
    match evaluate_one(&good, ArtifactInput::Digest(&other), &trust, &policy) {
        Outcome::NotForArtifact(e) => assert!(e.is_no_match()),
        o => panic!("expected not-for-artifact, got {o:?}"),
    }
    match evaluate_one(&forged, ArtifactInput::Digest(&digest), &trust, &policy) {
        Outcome::Failed(e) => assert!(!e.is_no_match(), "{e}"),
        o => panic!("expected a failure, got {o:?}"),
    }
    // The predicate filter comes first: an unverifiable bundle of another
    // predicate type is skipped, not failed.
    let other_type = Policy::from_flags(&PolicyFlags {
        repo: Some("octo-org/octo-repo".into()),
        predicate_type: Some("https://example.com/p".into()),
        ..Default::default()
    })
    .unwrap();
    assert!(matches!(
        evaluate_one(&forged, ArtifactInput::Digest(&digest), &trust, &other_type),
        Outcome::Skipped(_)
    ));
}

// ---------------------------------------------------------------------------
// The predicate filter.
// ---------------------------------------------------------------------------

#[test]
fn predicate_filter_accepts_only_the_wanted_in_toto_predicate() {
    let mut sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let dsse = signed_provenance(&mut sigstore);
    assert!(predicate_filter(&dsse, SLSA_PROVENANCE_V1).is_ok());
    assert!(predicate_filter(&dsse, "").is_ok());
    match predicate_filter(&dsse, "https://example.com/p") {
        Err(Outcome::Skipped(why)) => assert_eq!(
            why,
            format!("predicate type is {SLSA_PROVENANCE_V1}, not https://example.com/p")
        ),
        other => panic!("{other:?}"),
    }

    // A message signature: no statement at all.
    let blob =
        load(&sigstore.sign_blob(b"blob", &FulcioClaims::default(), &SignOptions::tlog_only()));
    assert!(blob.payload_type().is_none());
    assert!(predicate_filter(&blob, "").is_ok());
    match predicate_filter(&blob, SLSA_PROVENANCE_V1) {
        Err(Outcome::Skipped(why)) => assert!(why.contains("message signature"), "{why}"),
        other => panic!("{other:?}"),
    }

    // A DSSE envelope of another payload type.
    let mut raw = sigstore.sign_statement(
        &provenance(ARTIFACT),
        &FulcioClaims::default(),
        &SignOptions::tlog_only(),
    );
    raw["dsseEnvelope"]["payloadType"] = Value::String("application/json".into());
    let other_payload = load(&raw);
    assert_eq!(other_payload.payload_type(), Some("application/json"));
    assert!(other_payload.statement.is_none());
    match predicate_filter(&other_payload, SLSA_PROVENANCE_V1) {
        Err(Outcome::Skipped(why)) => assert!(why.contains("DSSE payload type"), "{why}"),
        other => panic!("{other:?}"),
    }

    // In-toto, but the statement does not decode: unreadable.
    let mut broken = dsse.clone();
    broken.statement = Some(Err(BundleError::Statement("bad".into())));
    match predicate_filter(&broken, SLSA_PROVENANCE_V1) {
        Err(Outcome::Unreadable(e)) => assert_eq!(e, BundleError::Statement("bad".into())),
        other => panic!("{other:?}"),
    }
    // In-toto payload type but no statement.
    let mut none = dsse;
    none.statement = None;
    match predicate_filter(&none, SLSA_PROVENANCE_V1) {
        Err(Outcome::Skipped(why)) => assert_eq!(why, "no in-toto statement"),
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Key-signed bundles (the conformance managed-key cases).
// ---------------------------------------------------------------------------

struct KeyCase {
    bundle: LoadedBundle,
    trust: TrustStore,
    digest: ArtifactDigest,
    key: attest::verify::DerPublicKey,
}

fn key_case(name: &str) -> KeyCase {
    let dir = std::path::Path::new(CONFORMANCE.as_str()).join(name);
    let bytes = std::fs::read(dir.join("bundle.sigstore.json")).expect("bundle");
    let bundle = bundles_from_bytes(&bytes, "bundle.sigstore.json")
        .expect("text")
        .remove(0)
        .expect("parses");
    let trust = TrustStore::from_file(&dir.join("trusted_root.json"), false).expect("root");
    let digest = digest_bytes(
        &std::fs::read(dir.join("artifact")).expect("artifact"),
        DigestAlgorithm::Sha256,
    );
    let pem = std::fs::read_to_string(dir.join("key.pub")).expect("key");
    let key = parse_public_key_pem(&pem).expect("a PEM key");
    KeyCase {
        bundle,
        trust,
        digest,
        key,
    }
}

#[test]
fn key_signed_bundles_match_fail_or_are_not_for_the_artifact() {
    let policy = Policy::identity_only(None, None);
    let ok = key_case("managed-key-happy-path");
    let instance = ok.trust.first().expect("a root");
    match evaluate_one_with_key(
        &ok.bundle,
        ArtifactInput::Digest(&ok.digest),
        instance,
        &ok.key,
        &policy,
    ) {
        Outcome::Matched { attestation, .. } => {
            assert!(attestation.certificate.is_none());
            assert!(!attestation.sct_verified);
        }
        o => panic!("expected a match, got {o:?}"),
    }

    // The wrong-key case's key is not even a valid PEM key.
    let dir = std::path::Path::new(CONFORMANCE.as_str()).join("managed-key-wrong-key_fail");
    let pem = std::fs::read_to_string(dir.join("key.pub")).expect("key");
    assert!(parse_public_key_pem(&pem).is_err());
    // A tampered signature fails verification.
    let mut raw: Value = serde_json::from_slice(
        &std::fs::read(
            std::path::Path::new(CONFORMANCE.as_str())
                .join("managed-key-happy-path")
                .join("bundle.sigstore.json"),
        )
        .expect("bundle"),
    )
    .expect("JSON");
    let sig = raw["messageSignature"]["signature"]
        .as_str()
        .expect("a signature")
        .to_string();
    let flipped = if sig.starts_with('M') { "N" } else { "M" };
    raw["messageSignature"]["signature"] = Value::String(format!("{flipped}{}", &sig[1..]));
    let tampered = load(&raw);
    let instance = ok.trust.first().expect("a root");
    match evaluate_one_with_key(
        &tampered,
        ArtifactInput::Digest(&ok.digest),
        instance,
        &ok.key,
        &policy,
    ) {
        Outcome::Failed(e) => assert!(!e.is_no_match(), "{e}"),
        o => panic!("expected a failure, got {o:?}"),
    }

    // A statement about another artifact: not for this one, before any
    // cryptography.
    let mut about_other = ok.bundle.clone();
    about_other.statement = Some(Ok(std::sync::Arc::new(
        Statement::from_payload(&statement(
            &[("x", "sha256", &sha256_hex(b"x"))],
            SLSA_PROVENANCE_V1,
            serde_json::json!({}),
        ))
        .expect("statement"),
    )));
    let instance = ok.trust.first().expect("a root");
    match evaluate_one_with_key(
        &about_other,
        ArtifactInput::Digest(&ok.digest),
        instance,
        &ok.key,
        &policy,
    ) {
        Outcome::NotForArtifact(e) => assert!(e.is_no_match()),
        o => panic!("expected not-for-artifact, got {o:?}"),
    }
    // The predicate filter applies to key-signed bundles too.
    let slsa = Policy {
        predicate_type: SLSA_PROVENANCE_V1.into(),
        ..Policy::identity_only(None, None)
    };
    assert!(matches!(
        evaluate_one_with_key(
            &ok.bundle,
            ArtifactInput::Digest(&ok.digest),
            instance,
            &ok.key,
            &slsa,
        ),
        Outcome::Skipped(_)
    ));
    // A keyless policy on a key-signed bundle: verified, policy mismatch.
    let id = Policy::identity_only(Some("me@example.com".into()), None);
    assert!(matches!(
        evaluate_one_with_key(
            &ok.bundle,
            ArtifactInput::Digest(&ok.digest),
            instance,
            &ok.key,
            &id,
        ),
        Outcome::PolicyMismatch { .. }
    ));
}
