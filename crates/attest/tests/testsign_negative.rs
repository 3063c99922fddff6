//! Bundles from a throwaway Sigstore (`attest-testsign`) against the attest
//! library: a positive control, then one negative per check, each flipping
//! exactly one thing. Every negative first verifies the same setup without
//! the flip, so it fails only because of the flipped thing.

use attest::artifact::{digest_bytes, DigestAlgorithm};
use attest::outcome::{evaluate_bundles, ArtifactVerdict, Outcome, Status};
use attest::policy::{Policy, PolicyFlags};
use attest::source::bundles_from_bytes;
use attest::trust::TrustStore;
use attest::verify::{verify_bundle, ArtifactInput, VerifyError};
use attest_testsign::{
    provenance_predicate, sha256_hex, statement, FulcioClaims, SignFault, SignOptions,
    TestSigstore, TestSigstoreConfig, ValidFor, DEFAULT_COMMIT, SLSA_PROVENANCE_V1,
};
use serde_json::Value;

const ARTIFACT: &[u8] = b"octo-repo release artifact v1.0.0\n";
const OTHER_ARTIFACT: &[u8] = b"some other file\n";

fn flags() -> PolicyFlags {
    PolicyFlags {
        repo: Some("octo-org/octo-repo".into()),
        ..Default::default()
    }
}

fn policy(flags: PolicyFlags) -> Policy {
    Policy::from_flags(&flags).expect("a valid policy")
}

fn repo_policy() -> Policy {
    policy(flags())
}

/// A SLSA provenance statement about `artifact`.
fn provenance(artifact: &[u8]) -> Vec<u8> {
    statement(
        &[("octo-repo-1.0.0.tar.gz", "sha256", &sha256_hex(artifact))],
        SLSA_PROVENANCE_V1,
        provenance_predicate(&FulcioClaims::default()),
    )
}

fn evaluate(bundle: &Value, root_json: &str, artifact: &[u8], policy: &Policy) -> ArtifactVerdict {
    evaluate_with(bundle, root_json, artifact, DigestAlgorithm::Sha256, policy)
}

fn evaluate_with(
    bundle: &Value,
    root_json: &str,
    artifact: &[u8],
    algorithm: DigestAlgorithm,
    policy: &Policy,
) -> ArtifactVerdict {
    let bytes = serde_json::to_vec(bundle).expect("bundle serializes");
    let bundles = bundles_from_bytes(&bytes, "bundle.jsonl").expect("bundle text");
    assert!(bundles[0].is_ok(), "bundle parses: {:?}", bundles[0]);
    let trust = TrustStore::from_jsonl(root_json, "trusted_root.jsonl", false)
        .expect("trusted root parses");
    evaluate_bundles(&bundles, &digest_bytes(artifact, algorithm), &trust, policy)
}

fn reason(v: &ArtifactVerdict) -> String {
    v.best().map(|r| r.outcome.reason()).unwrap_or_default()
}

#[track_caller]
fn assert_verified(v: &ArtifactVerdict) {
    assert!(v.verified(), "expected verified, got: {}", reason(v));
    assert_eq!(v.status(), Status::Verified);
}

/// A failure with `status` whose reason contains `needle`. For a failed
/// verification `needle` is the exact name of the check the failure
/// is attributed to, so a failure at another check does not pass.
#[track_caller]
fn assert_fails(v: &ArtifactVerdict, status: Status, needle: &str) {
    let why = reason(v);
    assert!(!v.verified(), "expected a failure naming {needle:?}");
    assert_eq!(v.status(), status, "status; reason: {why}");
    if status == Status::Verification {
        assert_eq!(failed_check(v), Some(needle), "reason: {why}");
    }
    assert!(
        why.contains(needle),
        "reason should name {needle:?}, got: {why}"
    );
}

/// The name of the check the best outcome failed at, if it is a failed
/// check.
fn failed_check(v: &ArtifactVerdict) -> Option<&'static str> {
    match v.best().map(|r| &r.outcome) {
        Some(Outcome::Failed(VerifyError::Check { check, .. })) => Some(check.name()),
        _ => None,
    }
}

/// A failure at the check named `check` whose detail contains `detail`.
#[track_caller]
fn assert_check(v: &ArtifactVerdict, check: &str, detail: &str) {
    assert_fails(v, Status::Verification, check);
    let why = reason(v);
    assert!(why.contains(detail), "expected {detail:?} in: {why}");
}

/// Sign the provenance of ARTIFACT twice with the same instance, once with
/// `base` and once with `base` changed by `flip`; the first must verify and
/// the second fail with `status` and a reason containing `needle`.
#[track_caller]
fn control_and_flip(
    config: TestSigstoreConfig,
    base: impl Fn(&TestSigstore) -> SignOptions,
    flip: impl Fn(&mut SignOptions),
    status: Status,
    needle: &str,
) {
    let mut sigstore = TestSigstore::new(config);
    let root = sigstore.trusted_root_json();
    let claims = FulcioClaims::default();
    let opts = base(&sigstore);
    let good = sigstore.sign_statement(&provenance(ARTIFACT), &claims, &opts);
    assert_verified(&evaluate(&good, &root, ARTIFACT, &repo_policy()));

    let mut flipped = opts.clone();
    flip(&mut flipped);
    assert_ne!(flipped, opts, "the flip must change something");
    let bad = sigstore.sign_statement(&provenance(ARTIFACT), &claims, &flipped);
    assert_fails(
        &evaluate(&bad, &root, ARTIFACT, &repo_policy()),
        status,
        needle,
    );
}

fn public_good() -> TestSigstoreConfig {
    TestSigstoreConfig::public_good_like()
}

fn github() -> TestSigstoreConfig {
    TestSigstoreConfig::github_like()
}

fn defaults(s: &TestSigstore) -> SignOptions {
    s.default_sign_options()
}

fn tlog_only(_: &TestSigstore) -> SignOptions {
    SignOptions::tlog_only()
}

// ---------------------------------------------------------------------------
// Public-good-like instance: O=sigstore.dev, tlog + SCT required.
// ---------------------------------------------------------------------------

#[test]
fn public_good_positive_control() {
    let mut sigstore = TestSigstore::new(public_good());
    let root = sigstore.trusted_root_json();
    for opts in [SignOptions::tlog_only(), sigstore.default_sign_options()] {
        let bundle =
            sigstore.sign_statement(&provenance(ARTIFACT), &FulcioClaims::default(), &opts);
        let v = evaluate(&bundle, &root, ARTIFACT, &repo_policy());
        assert_verified(&v);
        let att = v.results[0].outcome.attestation().expect("verified");
        assert_eq!(att.instance, attest::trust::InstanceKind::PublicGood);
        assert!(att.sct_verified);
        assert_eq!(att.tlog_entries_verified, 1);
        let checks: Vec<&str> = att.checks_applied().into_iter().map(|c| c.name()).collect();
        for c in ["SET", "SCT", "inclusion proof", "checkpoint", "signature"] {
            assert!(checks.contains(&c), "{c} missing from {checks:?}");
        }
        assert_eq!(
            att.certificate
                .as_ref()
                .and_then(|c| c.source_repository_uri.as_deref()),
            Some("https://github.com/octo-org/octo-repo")
        );
    }
    // With a log entry and a timestamp, both times are reported, log first.
    let opts = sigstore.default_sign_options();
    assert!(opts.tlog && opts.tsa);
    let bundle = sigstore.sign_statement(&provenance(ARTIFACT), &FulcioClaims::default(), &opts);
    let v = evaluate(&bundle, &root, ARTIFACT, &repo_policy());
    let att = v.results[0].outcome.attestation().expect("verified");
    let labels: Vec<(&str, &str)> = att
        .timestamps
        .iter()
        .map(|t| (t.kind.as_str(), t.uri.as_str()))
        .collect();
    assert_eq!(
        labels,
        [
            ("Tlog", attest_testsign::REKOR_URL),
            ("TimestampAuthority", attest_testsign::TSA_URL)
        ]
    );
    assert!(att
        .timestamps
        .iter()
        .all(|t| t.time == sigstore.config().signing_time));
    // Several signatures into the same log: proofs against a growing tree.
    assert!(sigstore.log_size() >= 7);
}

/// Bundle v0.1 lets a log entry carry only a SET, a promise of inclusion:
/// accepted by default (as the bundle spec and sigstore-go accept it) and
/// reported as promised, refused when inclusion proofs are required; a
/// v0.1 entry with neither proof nor promise, and a v0.3 entry without a
/// proof, are refused either way. Control: the same v0.1 bundle with its
/// inclusion proof verifies as proven.
#[test]
fn public_good_v01_entry_without_inclusion_proof_is_only_a_promise() {
    use attest::verifier::Verifier;
    use attest::verify::{Inclusion, VerifyOptions};
    let mut sigstore = TestSigstore::new(public_good());
    let root = sigstore.trusted_root_json();
    let bundle = sigstore.sign_statement(
        &provenance(ARTIFACT),
        &FulcioClaims::default(),
        &SignOptions::tlog_only(),
    );
    let v01 = attest_testsign::as_bundle_v01(&bundle);
    assert!(v01["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"].is_object());
    let inclusion = |v: &ArtifactVerdict| {
        v.matched()
            .next()
            .and_then(|r| r.outcome.attestation())
            .map(|a| a.inclusion)
    };
    let proven = evaluate(&v01, &root, ARTIFACT, &repo_policy());
    assert_verified(&proven);
    assert_eq!(inclusion(&proven), Some(Inclusion::Proven));

    let strip = |b: &Value, key: &str| {
        let mut b = b.clone();
        b["verificationMaterial"]["tlogEntries"][0]
            .as_object_mut()
            .expect("entry")
            .remove(key)
            .expect("the member");
        b
    };
    let promise_only = strip(&v01, "inclusionProof");
    let promised = evaluate(&promise_only, &root, ARTIFACT, &repo_policy());
    assert_verified(&promised);
    assert_eq!(inclusion(&promised), Some(Inclusion::Promised));

    // Required proofs: the promise fails, naming the check.
    let bytes = serde_json::to_vec(&promise_only).unwrap();
    let bundles = bundles_from_bytes(&bytes, "bundle.jsonl").unwrap();
    let trust = TrustStore::from_jsonl(&root, "trusted_root.jsonl", false).unwrap();
    let strict = Verifier::keyless(trust, repo_policy())
        .with_options(VerifyOptions::default().require_inclusion_proof(true));
    let refused =
        strict.verify_artifact(&bundles, &digest_bytes(ARTIFACT, DigestAlgorithm::Sha256));
    assert_fails(&refused, Status::Verification, "inclusion proof");
    // Only the option refused it: the hint says so, the message names no flag.
    assert_eq!(
        refused.hint(),
        Some(attest::verify::Hint::RequireInclusionProof)
    );
    assert!(!reason(&refused).contains("--"), "{}", reason(&refused));
    // Neither proof nor promise: refused by default too, and no option helps.
    let neither = evaluate(
        &strip(&promise_only, "inclusionPromise"),
        &root,
        ARTIFACT,
        &repo_policy(),
    );
    assert_fails(&neither, Status::Verification, "inclusion proof");
    assert_eq!(neither.hint(), None);
    // A v0.3 bundle may not trade its proof for a promise.
    assert_fails(
        &evaluate(
            &strip(&bundle, "inclusionProof"),
            &root,
            ARTIFACT,
            &repo_policy(),
        ),
        Status::Verification,
        "inclusion proof",
    );
}

#[test]
fn public_good_bad_signature() {
    control_and_flip(
        public_good(),
        tlog_only,
        |o| o.fault(SignFault::BadSignature),
        Status::Verification,
        "signature",
    );
}

#[test]
fn public_good_bad_signature_with_timestamp_too() {
    control_and_flip(
        public_good(),
        defaults,
        |o| o.fault(SignFault::BadSignature),
        Status::Verification,
        "signature",
    );
}

#[test]
fn public_good_bad_checkpoint_signature() {
    control_and_flip(
        public_good(),
        tlog_only,
        |o| o.fault(SignFault::BadCheckpointSignature),
        Status::Verification,
        "checkpoint",
    );
}

/// The core reports a checkpoint for another tree as a bundle-structure
/// error ("inclusion proof root hash does not match checkpoint root hash").
#[test]
fn public_good_checkpoint_root_mismatch() {
    control_and_flip(
        public_good(),
        tlog_only,
        |o| o.fault(SignFault::CheckpointWrongRoot),
        Status::Verification,
        "bundle structure",
    );
}

#[test]
fn public_good_bad_set() {
    control_and_flip(
        public_good(),
        tlog_only,
        |o| o.fault(SignFault::BadSet),
        Status::Verification,
        "SET",
    );
}

#[test]
fn public_good_bad_inclusion_proof() {
    control_and_flip(
        public_good(),
        tlog_only,
        |o| o.fault(SignFault::BadInclusionProof),
        Status::Verification,
        "inclusion proof",
    );
}

#[test]
fn public_good_no_sct() {
    control_and_flip(
        public_good(),
        tlog_only,
        |o| o.fault(SignFault::NoSct),
        Status::Verification,
        "SCT",
    );
}

#[test]
fn public_good_bad_sct() {
    control_and_flip(
        public_good(),
        tlog_only,
        |o| o.fault(SignFault::BadSct),
        Status::Verification,
        "SCT",
    );
}

#[test]
fn public_good_requires_a_tlog_entry() {
    // The trusted root has a TSA, so a timestamp alone is a verified time;
    // public good still requires the log entry.
    control_and_flip(
        public_good(),
        |_| SignOptions {
            tlog: true,
            tsa: true,
            ..SignOptions::default()
        },
        |o| o.tlog = false,
        Status::Verification,
        "transparency log",
    );
}

#[test]
fn public_good_leaf_expired() {
    control_and_flip(
        public_good(),
        tlog_only,
        |o| o.fault(SignFault::LeafExpired),
        Status::Verification,
        "certificate chain",
    );
}

#[test]
fn public_good_leaf_expired_with_timestamp_too() {
    control_and_flip(
        public_good(),
        defaults,
        |o| o.fault(SignFault::LeafExpired),
        Status::Verification,
        "certificate chain",
    );
}

#[test]
fn public_good_subject_digest() {
    let mut sigstore = TestSigstore::new(public_good());
    let root = sigstore.trusted_root_json();
    let bundle = sigstore.sign_statement(
        &provenance(ARTIFACT),
        &FulcioClaims::default(),
        &SignOptions::tlog_only(),
    );
    assert_verified(&evaluate(&bundle, &root, ARTIFACT, &repo_policy()));
    let v = evaluate(&bundle, &root, OTHER_ARTIFACT, &repo_policy());
    assert_fails(
        &v,
        Status::NoAttestation,
        "no subject of the statement has digest",
    );
}

#[test]
fn public_good_ca_validity_window_ends_before_signing() {
    let mut sigstore = TestSigstore::new(public_good());
    let t = sigstore.config().signing_time;
    let bundle = sigstore.sign_statement(
        &provenance(ARTIFACT),
        &FulcioClaims::default(),
        &SignOptions::tlog_only(),
    );
    assert_verified(&evaluate(
        &bundle,
        &sigstore.trusted_root_json(),
        ARTIFACT,
        &repo_policy(),
    ));

    let day = jiff::SignedDuration::from_hours(24);
    sigstore.set_ca_valid_for(ValidFor::between(t - 400 * day, t - day));
    let v = evaluate(
        &bundle,
        &sigstore.trusted_root_json(),
        ARTIFACT,
        &repo_policy(),
    );
    assert_fails(&v, Status::Verification, "certificate authority validity");

    // A window that starts after the signing time fails the same way.
    sigstore.set_ca_valid_for(ValidFor::from(t + day));
    let v = evaluate(
        &bundle,
        &sigstore.trusted_root_json(),
        ARTIFACT,
        &repo_policy(),
    );
    assert_fails(&v, Status::Verification, "certificate authority validity");
}

#[test]
fn public_good_trusted_root_of_another_instance() {
    // Every key differs; the first check to run (the SET, which dates the
    // signature) already fails.
    let mut sigstore = TestSigstore::new(public_good());
    let other = TestSigstore::new(public_good());
    let bundle = sigstore.sign_statement(
        &provenance(ARTIFACT),
        &FulcioClaims::default(),
        &SignOptions::tlog_only(),
    );
    let root = sigstore.trusted_root_json();
    assert_verified(&evaluate(&bundle, &root, ARTIFACT, &repo_policy()));
    let v = evaluate(
        &bundle,
        &other.trusted_root_json(),
        ARTIFACT,
        &repo_policy(),
    );
    assert_fails(&v, Status::Verification, "SET");
}

#[test]
fn public_good_certificate_chain_of_another_instance() {
    // Only the CA differs: our trusted root with the certificate authority
    // of another instance (same organisation, different keys).
    let mut sigstore = TestSigstore::new(public_good());
    let other = TestSigstore::new(public_good());
    let bundle = sigstore.sign_statement(
        &provenance(ARTIFACT),
        &FulcioClaims::default(),
        &SignOptions::tlog_only(),
    );
    let mut root = sigstore.trusted_root();
    assert_verified(&evaluate(
        &bundle,
        &root.to_string(),
        ARTIFACT,
        &repo_policy(),
    ));
    root["certificateAuthorities"] = other.trusted_root()["certificateAuthorities"].clone();
    let v = evaluate(&bundle, &root.to_string(), ARTIFACT, &repo_policy());
    assert_fails(&v, Status::Verification, "certificate chain");
}

// ---------------------------------------------------------------------------
// GitHub-like instance: O=GitHub, Inc., TSA only.
// ---------------------------------------------------------------------------

#[test]
fn github_positive_control() {
    let mut sigstore = TestSigstore::new(github());
    let root = sigstore.trusted_root_json();
    let root_value: Value = serde_json::from_str(&root).expect("JSON");
    assert!(root_value.get("tlogs").is_none() && root_value.get("ctlogs").is_none());
    let opts = sigstore.default_sign_options();
    assert_eq!(opts, SignOptions::tsa_only());
    let bundle = sigstore.sign_statement(&provenance(ARTIFACT), &FulcioClaims::default(), &opts);
    let v = evaluate(&bundle, &root, ARTIFACT, &repo_policy());
    assert_verified(&v);
    let att = v.results[0].outcome.attestation().expect("verified");
    assert_eq!(att.instance, attest::trust::InstanceKind::GitHub);
    assert_eq!(att.timestamps.len(), 1);
    assert_eq!(att.timestamps[0].uri, attest_testsign::TSA_URL);
    assert_eq!(att.timestamps[0].time, sigstore.config().signing_time);
    assert!(!att.sct_verified);
}

#[test]
fn github_requires_a_timestamp() {
    control_and_flip(
        github(),
        defaults,
        |o| o.tsa = false,
        Status::Verification,
        "RFC 3161 timestamp",
    );
}

/// A GitHub-organisation root that does list a log: the entries a bundle
/// carries are verified, not ignored because GitHub's instance needs none.
#[test]
fn github_root_with_a_log_verifies_the_entries_it_gets() {
    let config = TestSigstoreConfig {
        tlog: true,
        ..github()
    };
    control_and_flip(
        config,
        |_| SignOptions {
            tlog: true,
            tsa: true,
            ..SignOptions::tsa_only()
        },
        |o| o.fault(SignFault::BadInclusionProof),
        Status::Verification,
        "inclusion proof",
    );
}

/// A GitHub-organisation root that lists no log: a log entry the bundle
/// carries is not verified (there is no key to verify it with), and the
/// verdict claims nothing of it.
#[test]
fn github_root_without_a_log_claims_nothing_of_the_entry_it_cannot_check() {
    let mut sigstore = TestSigstore::new(TestSigstoreConfig {
        tlog: true,
        ..github()
    });
    let mut root: Value = serde_json::from_str(&sigstore.trusted_root_json()).expect("JSON");
    root.as_object_mut().expect("an object").remove("tlogs");
    let opts = SignOptions {
        tlog: true,
        tsa: true,
        ..SignOptions::tsa_only()
    };
    let mut bundle =
        sigstore.sign_statement(&provenance(ARTIFACT), &FulcioClaims::default(), &opts);
    // Neither a promise nor a proof: with no log key there is nothing to
    // check of the entry (a promise, the core checks, and refuses).
    let entry = bundle["verificationMaterial"]["tlogEntries"][0]
        .as_object_mut()
        .expect("an entry");
    entry.remove("inclusionPromise");
    entry.remove("inclusionProof");
    assert_eq!(
        bundle["verificationMaterial"]["tlogEntries"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let v = evaluate(&bundle, &root.to_string(), ARTIFACT, &repo_policy());
    assert_verified(&v);
    let att = v.results[0].outcome.attestation().expect("verified");
    assert_eq!(att.instance, attest::trust::InstanceKind::GitHub);
    assert_eq!(att.tlog_entries_verified, 0);
    assert_eq!(att.inclusion, attest::verify::Inclusion::NotLogged);
    let checks: Vec<&str> = att.checks_applied().into_iter().map(|c| c.name()).collect();
    assert!(
        !checks.contains(&"inclusion proof") && !checks.contains(&"SET"),
        "{checks:?}"
    );
}

#[test]
fn github_timestamp_over_other_bytes() {
    control_and_flip(
        github(),
        defaults,
        |o| o.fault(SignFault::TsaWrongImprint),
        Status::Verification,
        "RFC 3161 timestamp",
    );
}

#[test]
fn github_timestamp_from_another_key() {
    control_and_flip(
        github(),
        defaults,
        |o| o.fault(SignFault::TsaForeignKey),
        Status::Verification,
        "RFC 3161 timestamp",
    );
}

#[test]
fn github_timestamp_outside_leaf_validity() {
    control_and_flip(
        github(),
        defaults,
        |o| o.tsa_time_offset_secs = 3600,
        Status::Verification,
        "certificate chain",
    );
}

#[test]
fn github_bad_signature() {
    control_and_flip(
        github(),
        defaults,
        |o| o.fault(SignFault::BadSignature),
        Status::Verification,
        "signature",
    );
}

#[test]
fn github_timestamp_authority_of_another_instance() {
    let mut sigstore = TestSigstore::new(github());
    let other = TestSigstore::new(github());
    let opts = sigstore.default_sign_options();
    let bundle = sigstore.sign_statement(&provenance(ARTIFACT), &FulcioClaims::default(), &opts);
    let mut root = sigstore.trusted_root();
    assert_verified(&evaluate(
        &bundle,
        &root.to_string(),
        ARTIFACT,
        &repo_policy(),
    ));
    root["timestampAuthorities"] = other.trusted_root()["timestampAuthorities"].clone();
    let v = evaluate(&bundle, &root.to_string(), ARTIFACT, &repo_policy());
    assert_fails(&v, Status::Verification, "RFC 3161 timestamp");
}

// ---------------------------------------------------------------------------
// Policy on a valid public-good-like bundle.
// ---------------------------------------------------------------------------

/// Sign the provenance of ARTIFACT with `claims`; verify it with `good`
/// (must match) and with `bad` (must be a policy mismatch naming `needle`).
#[track_caller]
fn policy_control_and_flip(
    claims: &FulcioClaims,
    good: PolicyFlags,
    bad: PolicyFlags,
    needle: &str,
) {
    let mut sigstore = TestSigstore::new(public_good());
    let root = sigstore.trusted_root_json();
    let bundle = sigstore.sign_statement(&provenance(ARTIFACT), claims, &SignOptions::tlog_only());
    assert_verified(&evaluate(&bundle, &root, ARTIFACT, &policy(good)));
    let v = evaluate(&bundle, &root, ARTIFACT, &policy(bad));
    assert_fails(&v, Status::Policy, needle);
}

#[test]
fn policy_owner() {
    policy_control_and_flip(
        &FulcioClaims::default(),
        PolicyFlags {
            owner: Some("octo-org".into()),
            ..Default::default()
        },
        PolicyFlags {
            owner: Some("other-org".into()),
            ..Default::default()
        },
        "SourceRepositoryOwnerURI",
    );
}

#[test]
fn policy_repo() {
    policy_control_and_flip(
        &FulcioClaims::default(),
        flags(),
        PolicyFlags {
            repo: Some("octo-org/other".into()),
            ..Default::default()
        },
        "SourceRepositoryURI",
    );
}

#[test]
fn policy_signer_workflow() {
    policy_control_and_flip(
        &FulcioClaims::default(),
        PolicyFlags {
            signer_workflow: Some("octo-org/octo-repo/.github/workflows/release.yml".into()),
            ..flags()
        },
        PolicyFlags {
            signer_workflow: Some("octo-org/octo-repo/.github/workflows/other.yml".into()),
            ..flags()
        },
        "SubjectAlternativeName",
    );
}

#[test]
fn policy_source_ref() {
    policy_control_and_flip(
        &FulcioClaims::default(),
        PolicyFlags {
            source_ref: Some("refs/heads/main".into()),
            ..flags()
        },
        PolicyFlags {
            source_ref: Some("refs/heads/other".into()),
            ..flags()
        },
        "SourceRepositoryRef",
    );
}

#[test]
fn policy_source_digest() {
    policy_control_and_flip(
        &FulcioClaims::default(),
        PolicyFlags {
            source_digest: Some(DEFAULT_COMMIT.into()),
            ..flags()
        },
        PolicyFlags {
            source_digest: Some("0".repeat(40)),
            ..flags()
        },
        "SourceRepositoryDigest",
    );
}

#[test]
fn policy_signer_digest() {
    policy_control_and_flip(
        &FulcioClaims::default(),
        PolicyFlags {
            signer_digest: Some(DEFAULT_COMMIT.to_uppercase()),
            ..flags()
        },
        PolicyFlags {
            signer_digest: Some("1".repeat(40)),
            ..flags()
        },
        "BuildSignerDigest",
    );
}

#[test]
fn policy_self_hosted_runner() {
    let deny = PolicyFlags {
        deny_self_hosted_runners: true,
        ..flags()
    };
    let mut sigstore = TestSigstore::new(public_good());
    let root = sigstore.trusted_root_json();
    let opts = SignOptions::tlog_only();
    // Control: a github-hosted runner passes the policy.
    let hosted = sigstore.sign_statement(&provenance(ARTIFACT), &FulcioClaims::default(), &opts);
    assert_verified(&evaluate(&hosted, &root, ARTIFACT, &policy(deny.clone())));
    // A self-hosted runner passes without the flag and fails with it.
    let self_hosted = FulcioClaims {
        runner_environment: "self-hosted".into(),
        ..FulcioClaims::default()
    };
    let bundle = sigstore.sign_statement(&provenance(ARTIFACT), &self_hosted, &opts);
    assert_verified(&evaluate(&bundle, &root, ARTIFACT, &repo_policy()));
    let v = evaluate(&bundle, &root, ARTIFACT, &policy(deny));
    assert_fails(&v, Status::Policy, "RunnerEnvironment");
}

#[test]
fn policy_predicate_type() {
    let mut sigstore = TestSigstore::new(public_good());
    let root = sigstore.trusted_root_json();
    let other_type = "https://example.com/other-predicate/v1";
    let st = statement(
        &[("octo-repo-1.0.0.tar.gz", "sha256", &sha256_hex(ARTIFACT))],
        other_type,
        serde_json::json!({}),
    );
    let bundle = sigstore.sign_statement(&st, &FulcioClaims::default(), &SignOptions::tlog_only());
    let asked = policy(PolicyFlags {
        predicate_type: Some(other_type.into()),
        ..flags()
    });
    assert_verified(&evaluate(&bundle, &root, ARTIFACT, &asked));

    let default_policy = repo_policy();
    let v = evaluate(&bundle, &root, ARTIFACT, &default_policy);
    assert_fails(&v, Status::NoAttestation, "predicate type");
    let (_, headline) = attest::report::failure_headline(&v, &default_policy);
    assert!(
        headline.contains("no attestations found with predicate type"),
        "{headline}"
    );
}

#[test]
fn policy_issuer() {
    let enterprise = "https://token.actions.githubusercontent.com/enterprise";
    let claims = FulcioClaims {
        issuer: enterprise.into(),
        ..FulcioClaims::default()
    };
    policy_control_and_flip(
        &claims,
        PolicyFlags {
            cert_oidc_issuer: Some(enterprise.into()),
            ..flags()
        },
        flags(),
        "--cert-oidc-issuer",
    );
}

#[test]
fn multi_subject_statement_verifies_each_subject() {
    let mut sigstore = TestSigstore::new(public_good());
    let root = sigstore.trusted_root_json();
    let artifacts: [&[u8]; 3] = [b"one\n", b"two\n", b"three\n"];
    let hexes: Vec<String> = artifacts.iter().map(|a| sha256_hex(a)).collect();
    let subjects: Vec<(&str, &str, &str)> = ["one", "two", "three"]
        .iter()
        .zip(&hexes)
        .map(|(n, h)| (*n, "sha256", h.as_str()))
        .collect();
    let st = statement(&subjects, SLSA_PROVENANCE_V1, serde_json::json!({}));
    let bundle = sigstore.sign_statement(&st, &FulcioClaims::default(), &SignOptions::tlog_only());
    for artifact in artifacts {
        assert_verified(&evaluate(&bundle, &root, artifact, &repo_policy()));
    }
    let v = evaluate(&bundle, &root, b"four\n", &repo_policy());
    assert_fails(&v, Status::NoAttestation, "no subject");
}

#[test]
fn sha512_subjects_match_sha512_digests_only() {
    let mut sigstore = TestSigstore::new(public_good());
    let root = sigstore.trusted_root_json();
    let hex512 = digest_bytes(ARTIFACT, DigestAlgorithm::Sha512).hex();
    let st = statement(
        &[("pkg.tgz", "sha512", &hex512)],
        SLSA_PROVENANCE_V1,
        serde_json::json!({}),
    );
    let bundle = sigstore.sign_statement(&st, &FulcioClaims::default(), &SignOptions::tlog_only());
    assert_verified(&evaluate_with(
        &bundle,
        &root,
        ARTIFACT,
        DigestAlgorithm::Sha512,
        &repo_policy(),
    ));
    let v = evaluate(&bundle, &root, ARTIFACT, &repo_policy());
    // The reason says why; which algorithm to use instead is a hint (data),
    // which the CLI renders as its flag.
    assert_fails(
        &v,
        Status::NoAttestation,
        "the subjects have sha512 digests only",
    );
    assert_eq!(
        v.hint(),
        Some(attest::verify::Hint::DigestAlgorithm(
            DigestAlgorithm::Sha512
        ))
    );
}

// ---------------------------------------------------------------------------
// A custom instance and message signatures.
// ---------------------------------------------------------------------------

#[test]
fn custom_instance_without_logs_needs_no_log_entry() {
    let config = TestSigstoreConfig {
        tlog: false,
        ctlog: false,
        ..TestSigstoreConfig::custom("Example Corp")
    };
    control_and_flip(
        config,
        defaults,
        |o| o.tsa = false,
        Status::Verification,
        "bundle structure",
    );
}

#[test]
fn message_signature_blob() {
    let mut sigstore = TestSigstore::new(public_good());
    let trust = TrustStore::from_jsonl(&sigstore.trusted_root_json(), "root.jsonl", false)
        .expect("trusted root parses");
    let blob = b"a blob signed without DSSE\n";
    for (bad, ok) in [(false, true), (true, false)] {
        let mut opts = SignOptions::tlog_only();
        if bad {
            opts.fault(SignFault::BadSignature);
        }
        let bundle = sigstore.sign_blob(blob, &FulcioClaims::default(), &opts);
        let bytes = serde_json::to_vec(&bundle).expect("JSON");
        let loaded = bundles_from_bytes(&bytes, "blob.json")
            .expect("text")
            .remove(0)
            .expect("bundle parses");
        let digest = digest_bytes(blob, DigestAlgorithm::Sha256);
        let result = verify_bundle(&loaded, ArtifactInput::Digest(&digest), &trust);
        assert_eq!(result.is_ok(), ok, "bad_signature={bad}: {result:?}");
        if let Err(e) = result {
            assert!(e.to_string().contains("signature"), "{e}");
        }
    }
}

// ---------------------------------------------------------------------------
// Checks pinned by name: each negative fails at exactly this check.
// ---------------------------------------------------------------------------

/// A public-good-like instance whose signatures are made at `time`.
fn public_good_at(time: jiff::Timestamp) -> TestSigstoreConfig {
    TestSigstoreConfig {
        signing_time: time,
        ca_valid_for: ValidFor::from(time - jiff::SignedDuration::from_hours(24 * 365)),
        ..public_good()
    }
}

/// A log entry whose (SET-signed) integrated time is in the future: the
/// leaf is valid then, so only the integrated-time check can refuse it.
/// Control: the same instance an hour in the past verifies.
#[test]
fn public_good_integrated_time_in_the_future() {
    let now = jiff::Timestamp::now();
    let claims = FulcioClaims::default();
    let mut past = TestSigstore::new(public_good_at(now - jiff::SignedDuration::from_hours(1)));
    let good = past.sign_statement(&provenance(ARTIFACT), &claims, &SignOptions::tlog_only());
    assert_verified(&evaluate(
        &good,
        &past.trusted_root_json(),
        ARTIFACT,
        &repo_policy(),
    ));

    let mut future = TestSigstore::new(public_good_at(now + jiff::SignedDuration::from_mins(5)));
    let bad = future.sign_statement(&provenance(ARTIFACT), &claims, &SignOptions::tlog_only());
    assert_check(
        &evaluate(&bad, &future.trusted_root_json(), ARTIFACT, &repo_policy()),
        "integrated time",
        "is in the future",
    );
}

/// A root that lists no transparency log, given a bundle that carries a log
/// entry: the entry cannot be checked, so it is refused rather than
/// ignored. Control: the same instance's timestamp-only bundle verifies.
/// Both a custom root and a GitHub one.
#[test]
fn a_root_without_logs_refuses_a_bundle_with_a_log_entry() {
    for config in [
        TestSigstoreConfig {
            tlog: false,
            ..TestSigstoreConfig::custom("Example Corp")
        },
        github(),
    ] {
        control_and_flip(
            config,
            |_| SignOptions::tsa_only(),
            |o| o.tlog = true,
            Status::Verification,
            "SET",
        );
    }
}

/// GitHub's instance needs a timestamp from its TSA even when its root
/// lists a log and the bundle's log entry gives a verified time. Control:
/// the same entry with a timestamp verifies.
#[test]
fn github_with_a_log_entry_still_requires_a_timestamp() {
    let mut sigstore = TestSigstore::new(TestSigstoreConfig {
        tlog: true,
        ..github()
    });
    let root = sigstore.trusted_root_json();
    let claims = FulcioClaims::default();
    let both = SignOptions {
        tlog: true,
        ..SignOptions::tsa_only()
    };
    let good = sigstore.sign_statement(&provenance(ARTIFACT), &claims, &both);
    assert_verified(&evaluate(&good, &root, ARTIFACT, &repo_policy()));
    let bad = sigstore.sign_statement(&provenance(ARTIFACT), &claims, &SignOptions::tlog_only());
    assert_check(
        &evaluate(&bad, &root, ARTIFACT, &repo_policy()),
        "RFC 3161 timestamp",
        "GitHub's instance requires a signed timestamp from its timestamp authority; the bundle has none",
    );
}
