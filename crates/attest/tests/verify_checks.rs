//! Tests of `verify.rs`: which check a failure is
//! attributed to (by exact name), the requirements of each kind of instance
//! (public good, GitHub, custom with and without logs), the labelling of
//! verified times, and key-signed bundles. Bundles come from the test
//! Sigstore (`attest-testsign`) and the offline conformance cases; each
//! failing case changes one thing of a case that verifies.

#[path = "support/shared.rs"]
mod shared;
use attest::artifact::{digest_bytes, ArtifactDigest, DigestAlgorithm};
use attest::bundle::{BundleError, LoadedBundle, Statement};
use attest::certificate::CertificateSummary;
use attest::source::bundles_from_bytes;
use attest::trust::{InstanceKind, RootSource, TrustStore};
use attest::verify::{
    check_subject, parse_public_key_pem, verify_bundle, verify_bundle_with_key, ArtifactInput,
    Check, Hint, TimestampKind, VerifiedAttestation, VerifiedTimestamp, VerifyError,
};
use attest_testsign::{
    sha256_hex, statement, FulcioClaims, SignFault, SignOptions, TestSigstore, TestSigstoreConfig,
    SLSA_PROVENANCE_V1,
};
use serde_json::{json, Value};

const ARTIFACT: &[u8] = b"octo-repo release artifact v1.0.0\n";
static CONFORMANCE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| shared::shared("testdata/conformance/cases"));

fn load(bundle: &Value) -> LoadedBundle {
    bundles_from_bytes(&serde_json::to_vec(bundle).expect("JSON"), "b.json")
        .expect("text")
        .remove(0)
        .expect("the bundle parses")
}

fn digest() -> ArtifactDigest {
    digest_bytes(ARTIFACT, DigestAlgorithm::Sha256)
}

fn provenance() -> Vec<u8> {
    statement(
        &[("a.tgz", "sha256", &sha256_hex(ARTIFACT))],
        SLSA_PROVENANCE_V1,
        json!({}),
    )
}

fn both() -> SignOptions {
    SignOptions {
        tlog: true,
        tsa: true,
        ..SignOptions::default()
    }
}

fn pg() -> TestSigstoreConfig {
    TestSigstoreConfig::public_good_like()
}

fn gh() -> TestSigstoreConfig {
    TestSigstoreConfig::github_like()
}

fn custom(tlog: bool, ctlog: bool) -> TestSigstoreConfig {
    TestSigstoreConfig {
        tlog,
        ctlog,
        ..TestSigstoreConfig::custom("Example Corp")
    }
}

/// Sign the provenance with `opts`, edit the bundle and the trusted root,
/// and verify against ARTIFACT's digest.
fn verify_edited(
    config: TestSigstoreConfig,
    opts: SignOptions,
    edit_bundle: impl Fn(&mut Value),
    edit_root: impl Fn(&mut Value),
) -> Result<VerifiedAttestation, VerifyError> {
    let mut sigstore = TestSigstore::new(config);
    let mut bundle = sigstore.sign_statement(&provenance(), &FulcioClaims::default(), &opts);
    edit_bundle(&mut bundle);
    let mut root = sigstore.trusted_root();
    edit_root(&mut root);
    let trust = TrustStore::from_jsonl(&root.to_string(), "root.jsonl", false).expect("root");
    verify_bundle(&load(&bundle), ArtifactInput::Digest(&digest()), &trust)
}

fn verify(
    config: TestSigstoreConfig,
    opts: SignOptions,
) -> Result<VerifiedAttestation, VerifyError> {
    verify_edited(config, opts, |_| {}, |_| {})
}

#[track_caller]
fn assert_check(result: Result<VerifiedAttestation, VerifyError>, expected: &str) {
    match result {
        Err(VerifyError::Check { check, detail, .. }) => {
            assert_eq!(check.name(), expected, "detail: {detail}")
        }
        Err(e) => panic!("expected a failed {expected} check, got {e:?}"),
        Ok(a) => panic!(
            "expected a failed {expected} check, verified with {:?}",
            a.checks_applied()
        ),
    }
}

#[track_caller]
fn assert_ok(result: Result<VerifiedAttestation, VerifyError>) -> VerifiedAttestation {
    match result {
        Ok(a) => a,
        Err(e) => panic!("expected to verify, got {e:?}"),
    }
}

/// The applied checks by name, as printed.
fn names(att: &VerifiedAttestation) -> Vec<&'static str> {
    att.checks_applied().into_iter().map(|c| c.name()).collect()
}

fn kinds(att: &VerifiedAttestation) -> Vec<TimestampKind> {
    att.timestamps.iter().map(|t| t.kind).collect()
}

fn strip_promise(b: &mut Value) {
    b["verificationMaterial"]["tlogEntries"][0]
        .as_object_mut()
        .expect("an entry")
        .remove("inclusionPromise");
}

// ---------------------------------------------------------------------------
// checks_applied and the error helpers, on synthetic values.
// ---------------------------------------------------------------------------

fn synthetic(
    timestamps: &[TimestampKind],
    cert: bool,
    sct: bool,
    tlog_entries: usize,
    statement: bool,
) -> VerifiedAttestation {
    VerifiedAttestation {
        instance: InstanceKind::Custom,
        organization: String::new(),
        root_source: RootSource::Embedded,
        certificate: cert.then(CertificateSummary::default),
        timestamps: timestamps
            .iter()
            .map(|&kind| VerifiedTimestamp {
                kind,
                uri: String::new(),
                time: jiff::Timestamp::UNIX_EPOCH,
            })
            .collect(),
        tlog_entries_verified: tlog_entries,
        inclusion: if tlog_entries > 0 {
            attest::verify::Inclusion::Proven
        } else {
            attest::verify::Inclusion::NotLogged
        },
        sct_verified: sct,
        statement: statement.then(|| {
            std::sync::Arc::new(Statement::from_payload(&provenance()).expect("a statement"))
        }),
        key_fingerprint: None,
    }
}

#[test]
fn checks_applied_lists_what_was_checked_in_core_order() {
    use TimestampKind::{TimestampAuthority as Tsa, Tlog};
    assert_eq!(
        names(&synthetic(&[Tlog, Tsa], true, true, 1, true)),
        [
            "RFC 3161 timestamp",
            "SET",
            "certificate chain",
            "certificate validity",
            "SCT",
            "inclusion proof",
            "checkpoint",
            "signature",
            "subject digest",
            "log entry consistency"
        ]
    );
    assert_eq!(
        names(&synthetic(&[], false, false, 0, false)),
        ["signature", "log entry consistency"]
    );
    assert_eq!(
        names(&synthetic(&[Tsa], true, false, 0, false)),
        [
            "RFC 3161 timestamp",
            "certificate chain",
            "certificate validity",
            "signature",
            "log entry consistency"
        ]
    );
    assert_eq!(
        names(&synthetic(&[Tlog], false, false, 2, false)),
        [
            "SET",
            "inclusion proof",
            "checkpoint",
            "signature",
            "log entry consistency"
        ]
    );
    // One entry proven and another only promised (two log entries, or a
    // key-signed bundle's): the inclusion proof is not claimed.
    let mut partly = synthetic(&[Tlog], false, false, 1, false);
    partly.inclusion = attest::verify::Inclusion::Promised;
    assert_eq!(
        names(&partly),
        ["SET", "signature", "log entry consistency"]
    );
    assert_eq!(TimestampKind::Tlog.as_str(), "Tlog");
    assert_eq!(
        TimestampKind::TimestampAuthority.as_str(),
        "TimestampAuthority"
    );
}

#[test]
fn only_a_missing_subject_is_no_match() {
    let no_match = VerifyError::NoMatchingSubject {
        digest: "sha256:00".into(),
        available: vec![],
    };
    assert!(no_match.is_no_match());
    for e in [
        VerifyError::Bundle("x".into()),
        VerifyError::check(Check::Sct, "x"),
        VerifyError::Trust(attest::trust::TrustError::PublicGoodRefused),
    ] {
        assert!(!e.is_no_match(), "{e:?}");
    }
}

/// Hints are data: a digest algorithm the subjects have (only one that can
/// be verified with), the public-good refusal; messages quote no flag.
#[test]
fn errors_carry_hints_and_quote_no_flag() {
    let only = |available: &[&str]| VerifyError::NoMatchingSubject {
        digest: "sha256:00".into(),
        available: available.iter().map(|s| s.to_string()).collect(),
    };
    let e = only(&["sha512"]);
    assert_eq!(
        e.hint(),
        Some(Hint::DigestAlgorithm(DigestAlgorithm::Sha512))
    );
    assert_eq!(
        e.to_string(),
        "no subject of the statement has digest sha256:00 (the subjects have sha512 digests only)"
    );
    // The old message suggested `-d sha1`, which attest cannot verify with.
    assert_eq!(only(&["sha1"]).hint(), None);
    assert_eq!(
        only(&["sha1", "sha512"]).hint(),
        Some(Hint::DigestAlgorithm(DigestAlgorithm::Sha512))
    );
    // The artifact's algorithm is there: another digest, not another algorithm.
    assert_eq!(only(&["sha256"]).hint(), None);
    let refused = VerifyError::Trust(attest::trust::TrustError::PublicGoodRefused);
    assert_eq!(refused.hint(), Some(Hint::NoPublicGood));
    assert_eq!(refused.failed_check(), Check::TrustedRoot);
    assert_eq!(VerifyError::check(Check::Sct, "x").hint(), None);
    assert_eq!(
        VerifyError::check(Check::InclusionProof, "x")
            .with_hint(Hint::RequireInclusionProof)
            .hint(),
        Some(Hint::RequireInclusionProof)
    );
    for e in [only(&["sha512"]), VerifyError::NoCertificate] {
        assert!(
            !e.to_string().contains("-d ") && !e.to_string().contains("--"),
            "{e}"
        );
    }
}

#[test]
fn check_subject_names_the_algorithms_the_subjects_have() {
    let st = Statement::from_payload(&provenance()).unwrap();
    assert_eq!(check_subject(&st, &digest()), Ok(()));
    let e = check_subject(&st, &digest_bytes(ARTIFACT, DigestAlgorithm::Sha512)).unwrap_err();
    assert_eq!(
        e,
        VerifyError::NoMatchingSubject {
            digest: digest_bytes(ARTIFACT, DigestAlgorithm::Sha512).to_string(),
            available: vec!["sha256".into()],
        }
    );
}

#[test]
fn garbage_is_not_a_public_key() {
    assert!(parse_public_key_pem("not a key").is_err());
    let e = parse_public_key_pem("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
        .unwrap_err();
    assert!(e.to_string().starts_with("not a PEM public key"), "{e}");
}

// ---------------------------------------------------------------------------
// Which check a failure is attributed to.
// ---------------------------------------------------------------------------

#[test]
fn each_failure_names_its_check() {
    let tlog = SignOptions::tlog_only;
    assert_check(
        verify(pg(), tlog().with(SignFault::BadSignature)),
        "signature",
    );
    assert_check(
        verify(pg(), tlog().with(SignFault::BadCheckpointSignature)),
        "checkpoint",
    );
    assert_check(
        verify(pg(), tlog().with(SignFault::CheckpointWrongRoot)),
        "bundle structure",
    );
    assert_check(verify(pg(), tlog().with(SignFault::BadSet)), "SET");
    assert_check(
        verify(pg(), tlog().with(SignFault::BadInclusionProof)),
        "inclusion proof",
    );
    for opts in [
        tlog().with(SignFault::NoSct),
        tlog().with(SignFault::BadSct),
    ] {
        assert_check(verify(pg(), opts), "SCT");
    }
    assert_check(
        verify(pg(), tlog().with(SignFault::LeafExpired)),
        "certificate chain",
    );
    assert_check(
        verify(
            gh(),
            SignOptions::tsa_only().with(SignFault::TsaWrongImprint),
        ),
        "RFC 3161 timestamp",
    );
    // A log entry without a SET and no timestamp: no verified time.
    assert_check(
        verify_edited(pg(), tlog(), strip_promise, |_| {}),
        "verified timestamp",
    );
    // Public good needs CT logs in the root to check the SCT.
    assert_check(
        verify_edited(
            pg(),
            tlog(),
            |_| {},
            |r| {
                r.as_object_mut().unwrap().remove("ctlogs");
            },
        ),
        "trusted root",
    );
    // The CA's validity window ends before the signing time.
    let mut sigstore = TestSigstore::new(pg());
    let bundle = sigstore.sign_statement(&provenance(), &FulcioClaims::default(), &tlog());
    let t = sigstore.config().signing_time;
    let day = jiff::SignedDuration::from_hours(24);
    sigstore.set_ca_valid_for(attest_testsign::ValidFor::between(t - 400 * day, t - day));
    let trust = TrustStore::from_jsonl(&sigstore.trusted_root_json(), "r.jsonl", false).unwrap();
    assert_check(
        verify_bundle(&load(&bundle), ArtifactInput::Digest(&digest()), &trust),
        "certificate authority validity",
    );
}

#[test]
fn message_signature_digest_failures_name_their_check() {
    let mut sigstore = TestSigstore::new(pg());
    let blob = b"a blob\n";
    let bundle = load(&sigstore.sign_blob(blob, &FulcioClaims::default(), &both()));
    let trust = TrustStore::from_jsonl(&sigstore.trusted_root_json(), "r.jsonl", false).unwrap();
    let right = digest_bytes(blob, DigestAlgorithm::Sha256);
    let att = assert_ok(verify_bundle(
        &bundle,
        ArtifactInput::Digest(&right),
        &trust,
    ));
    // Both times are labelled, the log's first, for a message signature too.
    assert_eq!(
        att.timestamps
            .iter()
            .map(|t| (t.kind, t.uri.as_str()))
            .collect::<Vec<_>>(),
        [
            (TimestampKind::Tlog, attest_testsign::REKOR_URL),
            (TimestampKind::TimestampAuthority, attest_testsign::TSA_URL)
        ]
    );
    assert!(att.statement.is_none());
    assert!(!names(&att).contains(&"subject digest"));
    assert_ok(verify_bundle(&bundle, ArtifactInput::Bytes(blob), &trust));
    assert_check(
        verify_bundle(
            &bundle,
            ArtifactInput::Digest(&digest_bytes(b"other", DigestAlgorithm::Sha256)),
            &trust,
        ),
        "subject digest",
    );
    assert_check(
        verify_bundle(&bundle, ArtifactInput::Bytes(b"other"), &trust),
        "subject digest",
    );
    assert_check(
        verify_bundle(
            &bundle,
            ArtifactInput::Digest(&digest_bytes(blob, DigestAlgorithm::Sha512)),
            &trust,
        ),
        "artifact digest",
    );
}

#[test]
fn conformance_failures_name_their_check() {
    for (case, check) in [
        ("dsse-mismatch-sig_fail", "log entry consistency"),
        (
            "wrong-hashedrekord-cert-and-sig_fail",
            "log entry consistency",
        ),
        ("checkpoint-bad-keyhint_fail", "checkpoint"),
        ("intoto-missing-inclusion-proof_fail", "inclusion proof"),
        ("message-digest-mismatch_fail", "subject digest"),
        ("set-invalid-signature_fail", "SET"),
        ("invalid-ct-key_fail", "SCT"),
        ("rekor2-dsse-invalid-sig_fail", "signature"),
        (
            "rekor2-timestamp-payload-mismatch_fail",
            "RFC 3161 timestamp",
        ),
    ] {
        let dir = std::path::Path::new(CONFORMANCE.as_str()).join(case);
        let bytes = std::fs::read(dir.join("bundle.sigstore.json")).unwrap();
        let bundle = bundles_from_bytes(&bytes, case).unwrap().remove(0).unwrap();
        let trust = TrustStore::from_file(&dir.join("trusted_root.json"), false).unwrap();
        let d = digest_bytes(
            &std::fs::read(dir.join("artifact")).unwrap(),
            DigestAlgorithm::Sha256,
        );
        match verify_bundle(&bundle, ArtifactInput::Digest(&d), &trust) {
            Err(VerifyError::Check {
                check: c, detail, ..
            }) => {
                assert_eq!(c.name(), check, "{case}: {detail}")
            }
            other => panic!("{case}: {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Requirements by instance.
// ---------------------------------------------------------------------------

#[test]
fn public_good_requirements() {
    let att = assert_ok(verify(pg(), SignOptions::tlog_only()));
    assert_eq!(att.instance, InstanceKind::PublicGood);
    assert!(att.sct_verified);
    assert_eq!(att.tlog_entries_verified, 1);
    assert_eq!(kinds(&att), [TimestampKind::Tlog]);
    assert!(att.statement.is_some());
    assert!(names(&att).contains(&"subject digest"));
    assert_check(verify(pg(), SignOptions::tsa_only()), "transparency log");
    // A v1 entry without a SET is no verified time, even with a timestamp.
    let att = assert_ok(verify_edited(pg(), both(), strip_promise, |_| {}));
    assert_eq!(kinds(&att), [TimestampKind::TimestampAuthority]);
    assert_eq!(att.tlog_entries_verified, 1);
}

#[test]
fn github_requirements() {
    let att = assert_ok(verify(gh(), SignOptions::tsa_only()));
    assert_eq!(att.instance, InstanceKind::GitHub);
    assert!(!att.sct_verified);
    assert_eq!(att.tlog_entries_verified, 0);
    assert_eq!(kinds(&att), [TimestampKind::TimestampAuthority]);
    assert_eq!(att.timestamps[0].uri, attest_testsign::TSA_URL);
    let no_tsa = verify(
        gh(),
        SignOptions {
            tsa: false,
            ..SignOptions::tsa_only()
        },
    );
    assert_check(no_tsa, "RFC 3161 timestamp");
    // A GitHub root that lists a log: a bundle without entries still
    // verifies (GitHub's instance needs none) ...
    let with_log = || TestSigstoreConfig { tlog: true, ..gh() };
    let att = assert_ok(verify(with_log(), SignOptions::tsa_only()));
    assert_eq!(att.tlog_entries_verified, 0);
    assert!(!names(&att).contains(&"inclusion proof"));
    // ... and one with an entry has it verified.
    let att = assert_ok(verify(with_log(), both()));
    assert_eq!(att.tlog_entries_verified, 1);
    assert_eq!(
        kinds(&att),
        [TimestampKind::Tlog, TimestampKind::TimestampAuthority]
    );
    assert!(names(&att).contains(&"inclusion proof"));
}

#[test]
fn custom_requirements_follow_the_root() {
    // Logs and CT logs: both required.
    let att = assert_ok(verify(custom(true, true), SignOptions::tlog_only()));
    assert_eq!(att.instance, InstanceKind::Custom);
    assert!(att.sct_verified);
    assert_eq!(att.tlog_entries_verified, 1);
    assert_check(
        verify(custom(true, true), SignOptions::tsa_only()),
        "transparency log",
    );
    assert_check(
        verify(
            custom(true, true),
            SignOptions::tlog_only().with(SignFault::NoSct),
        ),
        "SCT",
    );
    // Logs, no CT logs: no SCT needed.
    let att = assert_ok(verify(
        custom(true, false),
        SignOptions::tlog_only().with(SignFault::NoSct),
    ));
    assert!(!att.sct_verified);
    assert_check(
        verify(custom(true, false), SignOptions::tsa_only()),
        "transparency log",
    );
    // CT logs, no logs: an SCT, no log entry.
    let att = assert_ok(verify(custom(false, true), SignOptions::tsa_only()));
    assert!(att.sct_verified);
    assert_eq!(att.tlog_entries_verified, 0);
    assert_check(
        verify(
            custom(false, true),
            SignOptions::tsa_only().with(SignFault::NoSct),
        ),
        "SCT",
    );
    // Neither: a timestamp alone.
    let att = assert_ok(verify(
        custom(false, false),
        SignOptions::tsa_only().with(SignFault::NoSct),
    ));
    assert!(!att.sct_verified);
    assert_eq!(kinds(&att), [TimestampKind::TimestampAuthority]);
}

#[test]
fn an_undecodable_statement_is_a_bundle_error() {
    let mut sigstore = TestSigstore::new(pg());
    let trust = TrustStore::from_jsonl(&sigstore.trusted_root_json(), "r.jsonl", false).unwrap();
    let mut bundle = load(&sigstore.sign_statement(
        &provenance(),
        &FulcioClaims::default(),
        &SignOptions::tlog_only(),
    ));
    bundle.statement = Some(Err(BundleError::Statement("no subjects".into())));
    assert_eq!(
        verify_bundle(&bundle, ArtifactInput::Digest(&digest()), &trust).unwrap_err(),
        VerifyError::Bundle("in-toto statement: no subjects".into())
    );
}

// ---------------------------------------------------------------------------
// Key-signed bundles.
// ---------------------------------------------------------------------------

fn key_case() -> (Value, Value, ArtifactDigest, attest::verify::DerPublicKey) {
    let dir = std::path::Path::new(CONFORMANCE.as_str()).join("managed-key-happy-path");
    let read_json = |name: &str| -> Value {
        serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap()
    };
    let d = digest_bytes(
        &std::fs::read(dir.join("artifact")).unwrap(),
        DigestAlgorithm::Sha256,
    );
    let key = parse_public_key_pem(&std::fs::read_to_string(dir.join("key.pub")).unwrap()).unwrap();
    (
        read_json("bundle.sigstore.json"),
        read_json("trusted_root.json"),
        d,
        key,
    )
}

fn verify_key(
    bundle: &Value,
    root: &Value,
    d: &ArtifactDigest,
    key: &attest::verify::DerPublicKey,
) -> Result<VerifiedAttestation, VerifyError> {
    let trust = TrustStore::from_jsonl(&root.to_string(), "r.jsonl", false).unwrap();
    verify_bundle_with_key(
        &load(bundle),
        ArtifactInput::Digest(d),
        trust.first().unwrap(),
        key,
    )
}

/// A key-signed bundle verified keylessly is refused as such; what to pass
/// instead is a hint, not a flag in the library's message.
#[test]
fn a_key_signed_bundle_without_a_key_hints_at_a_public_key() {
    let (bundle, root, d, _) = key_case();
    let trust = TrustStore::from_jsonl(&root.to_string(), "r.jsonl", false).unwrap();
    let err = verify_bundle(&load(&bundle), ArtifactInput::Digest(&d), &trust).unwrap_err();
    assert_eq!(err, VerifyError::NoCertificate);
    assert_eq!(err.hint(), Some(Hint::PublicKey));
    assert_eq!(err.failed_check(), Check::BundleStructure);
    let text = err.to_string();
    assert!(text.contains("no signing certificate"), "{text}");
    assert!(!text.contains("--"), "{text}");
}

#[test]
fn key_signed_bundles_verify_their_log_entries_when_they_have_some() {
    let (bundle, root, d, key) = key_case();
    let att = assert_ok(verify_key(&bundle, &root, &d, &key));
    assert!(att.certificate.is_none());
    assert_eq!(att.tlog_entries_verified, 1);
    assert_eq!(
        kinds(&att),
        [TimestampKind::Tlog, TimestampKind::TimestampAuthority]
    );
    // Without log entries, the timestamp alone is enough.
    let mut no_entries = bundle.clone();
    no_entries["verificationMaterial"]["tlogEntries"] = json!([]);
    let att = assert_ok(verify_key(&no_entries, &root, &d, &key));
    assert_eq!(att.tlog_entries_verified, 0);
    assert_eq!(kinds(&att), [TimestampKind::TimestampAuthority]);
}

/// Required inclusion proofs apply to key-signed bundles too. The keyless
/// path refuses a promise-only entry itself; the key path relies on the
/// verifier's check, which this pins: the conformance key-signed bundle,
/// rewritten as v0.1 with only its signed entry timestamp, verifies as
/// promised by default and fails under `require_inclusion_proof`.
#[test]
fn required_proofs_apply_to_key_signed_bundles() {
    use attest::verify::{Inclusion, VerifyOptions};
    use attest::{Outcome, Policy, Verifier};
    let (mut bundle, root, d, key) = key_case();
    let store = || TrustStore::from_jsonl(&root.to_string(), "r.jsonl", false).unwrap();
    let strict_verifier = || {
        Verifier::with_key(store(), key.clone(), Policy::statement_only(String::new()))
            .unwrap()
            .with_options(VerifyOptions::default().require_inclusion_proof(true))
    };
    // With its inclusion proof the entry is proven, and a verifier that
    // requires proofs takes it.
    let proven = verify_key(&bundle, &root, &d, &key).expect("the case verifies");
    assert_eq!(proven.inclusion, Inclusion::Proven);
    assert!(strict_verifier()
        .verify_artifact(&[Ok(load(&bundle))], &d)
        .verified());
    // A root that lists no log cannot check an entry that has neither
    // proof nor promise: the verdict claims nothing of it.
    let mut unlogged = bundle.clone();
    let entry = unlogged["verificationMaterial"]["tlogEntries"][0]
        .as_object_mut()
        .unwrap();
    entry.remove("inclusionProof");
    entry.remove("inclusionPromise");
    let mut no_log = root.clone();
    no_log.as_object_mut().unwrap().remove("tlogs");
    let att = verify_key(&unlogged, &no_log, &d, &key).expect("no log to check it with");
    assert_eq!(att.inclusion, Inclusion::NotLogged);
    bundle["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.1".into();
    bundle["verificationMaterial"]["tlogEntries"][0]
        .as_object_mut()
        .unwrap()
        .remove("inclusionProof")
        .expect("the case has an inclusion proof");
    let att = verify_key(&bundle, &root, &d, &key).expect("a promise verifies");
    assert_eq!(att.inclusion, Inclusion::Promised);

    let bundles = vec![Ok(load(&bundle))];
    let lenient =
        Verifier::with_key(store(), key.clone(), Policy::statement_only(String::new())).unwrap();
    assert!(!lenient.options().require_inclusion_proof);
    assert!(lenient.verify_artifact(&bundles, &d).verified());

    let strict = strict_verifier();
    assert!(strict.options().require_inclusion_proof);
    assert_eq!(strict.trust().instances().len(), store().instances().len());
    match &strict.verify_artifact(&bundles, &d).results[0].outcome {
        Outcome::Failed(e) => assert!(e.to_string().contains("inclusion proof"), "{e}"),
        other => panic!("expected the promise refused, got {}", other.reason()),
    }
}
