//! Tests of `release.rs`: which bundles cover which
//! artifacts, how often each bundle is verified, and how every artifact's
//! verdict and the run's status are decided.

use attest::artifact::{digest_bytes, ArtifactDigest, DigestAlgorithm};
use attest::bundle::{BundleError, LoadedBundle};
use attest::bundle_stream::RawBundle;
use attest::outcome::{Outcome, Status};
use attest::policy::{Policy, PolicyFlags};
use attest::release::{
    verify_release, verify_release_stream, ArtifactReport, ReleaseArtifact, ReleaseVerdict,
};
use attest::source::bundles_from_bytes;
use attest::trust::TrustStore;
use attest_testsign::{
    sha256_hex, statement, FulcioClaims, SignFault, SignOptions, TestSigstore, TestSigstoreConfig,
    SLSA_PROVENANCE_V1,
};
use serde_json::{json, Value};

fn policy() -> Policy {
    Policy::from_flags(&PolicyFlags {
        repo: Some("octo-org/octo-repo".into()),
        ..Default::default()
    })
    .expect("a valid policy")
}

fn load(bundle: &Value) -> Result<LoadedBundle, BundleError> {
    let bytes = serde_json::to_vec(bundle).expect("JSON");
    bundles_from_bytes(&bytes, "bundles.jsonl")
        .expect("text")
        .remove(0)
}

/// The verdict of [`verify_release`], after checking that the streamed
/// form reaches the same verdict on every artifact from the same bundles.
fn verify_both(
    artifacts: Vec<ReleaseArtifact>,
    bundles: &[Result<LoadedBundle, BundleError>],
    trust: &TrustStore,
    policy: &Policy,
) -> ReleaseVerdict {
    let full = verify_release(artifacts.clone(), bundles, trust, policy);
    let raws = bundles.iter().map(|b| match b {
        Ok(b) => Ok(RawBundle {
            text: b.raw.to_string(),
            origin: b.origin.clone(),
        }),
        Err(e) => Err(e.clone()),
    });
    let streamed = verify_release_stream(artifacts, raws, trust, policy);
    let view = |v: &ReleaseVerdict| {
        let per_artifact: Vec<_> = v
            .artifacts
            .iter()
            .map(|a| {
                (
                    a.artifact.name.clone(),
                    a.verified,
                    a.status,
                    a.error.clone(),
                    a.hint,
                    a.matched,
                    a.signer.clone(),
                    a.signer_uri.clone(),
                )
            })
            .collect();
        (
            per_artifact,
            v.status(),
            v.bundles_verified,
            v.bundles_read,
            v.attestations_matched,
            v.unmatched.count,
        )
    };
    assert_eq!(view(&full), view(&streamed), "the streamed verdict differs");
    assert!(streamed.attestations.is_empty());
    full
}

fn sha256(data: &[u8]) -> ArtifactDigest {
    digest_bytes(data, DigestAlgorithm::Sha256)
}

fn sha512(data: &[u8]) -> ArtifactDigest {
    digest_bytes(data, DigestAlgorithm::Sha512)
}

fn computed(name: &str, digest: ArtifactDigest) -> ReleaseArtifact {
    ReleaseArtifact {
        name: name.into(),
        listed: None,
        computed: Some(Ok(digest)),
    }
}

struct Fixture {
    sigstore: TestSigstore,
    trust: TrustStore,
}

fn fixture() -> Fixture {
    let sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let trust =
        TrustStore::from_jsonl(&sigstore.trusted_root_json(), "root.jsonl", false).expect("root");
    Fixture { sigstore, trust }
}

impl Fixture {
    fn sign(&mut self, subjects: &[(&str, &str, &str)], opts: SignOptions) -> Value {
        self.sign_claims(subjects, &FulcioClaims::default(), opts)
    }

    fn sign_claims(
        &mut self,
        subjects: &[(&str, &str, &str)],
        claims: &FulcioClaims,
        opts: SignOptions,
    ) -> Value {
        let st = statement(subjects, SLSA_PROVENANCE_V1, json!({}));
        self.sigstore.sign_statement(&st, claims, &opts)
    }
}

fn report<'a>(v: &'a ReleaseVerdict, name: &str) -> &'a ArtifactReport {
    v.artifacts
        .iter()
        .find(|a| a.artifact.name == name)
        .unwrap_or_else(|| panic!("no report for {name}"))
}

#[test]
fn sha256_and_sha512_subjects_cover_their_artifacts() {
    let mut f = fixture();
    let a256 = b"artifact one\n";
    let a512 = b"artifact two\n";
    let hex512 = sha512(a512).hex();
    // Upper-case hex in the statement still covers the artifact.
    let upper = sha256_hex(a256).to_uppercase();
    let bundle = f.sign(
        &[("one", "sha256", &upper), ("two", "sha512", &hex512)],
        SignOptions::tlog_only(),
    );
    let artifacts = vec![
        computed("one", sha256(a256)),
        computed("two", sha512(a512)),
        computed("three", sha256(b"not attested\n")),
    ];
    let v = verify_both(artifacts, &[load(&bundle)], &f.trust, &policy());
    assert_eq!(v.bundles_verified, 1);
    for name in ["one", "two"] {
        let r = report(&v, name);
        assert!(r.verified, "{name}: {:?}", r.error);
        assert_eq!(r.covering, [0]);
        assert_eq!(r.status, Status::Verified);
        assert_eq!(r.error, None);
    }
    let r = report(&v, "three");
    assert!(!r.verified);
    assert!(r.covering.is_empty());
    assert_eq!(r.status, Status::NoAttestation);
    assert_eq!(
        r.error.as_deref(),
        Some(
            format!(
                "no attestation lists {} as a subject",
                sha256(b"not attested\n")
            )
            .as_str()
        )
    );
    assert!(!v.all_verified());
    assert_eq!(v.status(), Status::NoAttestation);
}

#[test]
fn a_bundle_covering_an_artifact_twice_lists_it_once() {
    let mut f = fixture();
    let a = b"twice\n";
    let hex = sha256_hex(a);
    let bundle = f.sign(
        &[("a", "sha256", &hex), ("a-again", "sha256", &hex)],
        SignOptions::tlog_only(),
    );
    // Two artifacts with the same digest are both covered.
    let artifacts = vec![computed("a", sha256(a)), computed("copy-of-a", sha256(a))];
    let v = verify_both(artifacts, &[load(&bundle)], &f.trust, &policy());
    assert_eq!(report(&v, "a").covering, [0]);
    assert_eq!(report(&v, "copy-of-a").covering, [0]);
    assert!(v.all_verified());
    assert_eq!(v.status(), Status::Verified);
}

#[test]
fn second_artifact_only_is_still_covered() {
    // The bundle covers only the second artifact: a constant "first
    // artifact" would pick the wrong one.
    let mut f = fixture();
    let bundle = f.sign(
        &[("b", "sha256", &sha256_hex(b"b\n"))],
        SignOptions::tlog_only(),
    );
    let artifacts = vec![
        computed("a", sha256(b"a\n")),
        computed("b", sha256(b"b\n")),
        computed("c", sha256(b"c\n")),
    ];
    let v = verify_both(artifacts, &[load(&bundle)], &f.trust, &policy());
    assert!(!report(&v, "a").verified);
    assert!(report(&v, "a").covering.is_empty());
    assert!(report(&v, "b").verified);
    assert!(!report(&v, "c").verified);
    assert!(report(&v, "c").covering.is_empty());
}

#[test]
fn identical_bundles_are_verified_once_and_share_the_outcome() {
    let mut f = fixture();
    let a = b"release file\n";
    let good = f.sign(&[("a", "sha256", &sha256_hex(a))], SignOptions::tlog_only());
    let unrelated = f.sign(
        &[("x", "sha256", &sha256_hex(b"x\n"))],
        SignOptions::tlog_only(),
    );
    let other_type = {
        let st = statement(
            &[("a", "sha256", &sha256_hex(a))],
            "https://example.com/p",
            json!({}),
        );
        f.sigstore
            .sign_statement(&st, &FulcioClaims::default(), &SignOptions::tlog_only())
    };
    let bundles = vec![
        load(&good),
        Err(BundleError::Statement("unreadable".into())),
        load(&good),
        load(&unrelated),
        load(&other_type),
    ];
    let v = verify_both(
        vec![computed("a", sha256(a))],
        &bundles,
        &f.trust,
        &policy(),
    );
    // Only the first copy of `good` is verified: the unreadable, the
    // unrelated and the skipped ones are not counted. All five were read.
    assert_eq!(v.bundles_verified, 1);
    assert_eq!(v.bundles_read, 5);
    // Both copies of `good` matched.
    assert_eq!(v.attestations_matched, 2);
    assert_eq!(v.attestations.len(), 5);
    assert!(matches!(v.attestations[0].outcome, Outcome::Matched { .. }));
    assert!(matches!(v.attestations[2].outcome, Outcome::Matched { .. }));
    assert!(matches!(v.attestations[1].outcome, Outcome::Unreadable(_)));
    assert_eq!(v.attestations[1].origin.index, 2);
    assert_eq!(v.attestations[1].origin.line, 0);
    assert!(v.attestations[1].bundle.is_none());
    assert!(v.attestations[2].bundle.is_some());
    match &v.attestations[3].outcome {
        Outcome::NotForArtifact(e) => assert!(
            e.to_string()
                .contains("none of its subjects is an artifact of this release"),
            "{e}"
        ),
        o => panic!("{o:?}"),
    }
    assert!(matches!(v.attestations[4].outcome, Outcome::Skipped(_)));
    let r = report(&v, "a");
    assert_eq!(r.covering, [0, 2, 4]);
    assert!(r.verified);
    assert_eq!(r.matched, 2);

    // Two different bundles that both verify are both counted.
    let again = f.sign(&[("a", "sha256", &sha256_hex(a))], SignOptions::tlog_only());
    let v = verify_both(
        vec![computed("a", sha256(a))],
        &[load(&good), load(&again)],
        &f.trust,
        &policy(),
    );
    assert_eq!(v.bundles_verified, 2);
}

#[test]
fn each_artifact_names_its_own_signer() {
    // Certificates without a Build Signer URI: the signer is the SAN, and
    // both have no signer URI. The streamed verdict shares one effect
    // between consecutive matches only when both names are the same.
    let mut f = fixture();
    let workflow = |file: &str| FulcioClaims {
        subject_alternative_name: format!(
            "https://github.com/octo-org/octo-repo/.github/workflows/{file}@refs/heads/main"
        ),
        build_signer_uri: String::new(),
        ..FulcioClaims::default()
    };
    let (a, b) = (b"first file\n", b"second file\n");
    let for_a = f.sign_claims(
        &[("a", "sha256", &sha256_hex(a))],
        &workflow("release.yml"),
        SignOptions::tlog_only(),
    );
    let for_b = f.sign_claims(
        &[("b", "sha256", &sha256_hex(b))],
        &workflow("nightly.yml"),
        SignOptions::tlog_only(),
    );
    let v = verify_both(
        vec![computed("a", sha256(a)), computed("b", sha256(b))],
        &[load(&for_a), load(&for_b)],
        &f.trust,
        &policy(),
    );
    for (name, file) in [("a", "release.yml"), ("b", "nightly.yml")] {
        let r = report(&v, name);
        assert!(r.verified, "{name}: {:?}", r.error);
        assert_eq!(r.signer_uri, None, "{name}");
        assert_eq!(
            r.signer.as_deref(),
            Some(workflow(file).subject_alternative_name.as_str()),
            "{name}"
        );
    }
}

#[test]
fn a_copy_in_a_later_chunk_of_the_stream_is_not_verified_again() {
    // The streamed form reads bundles 32 at a time: a copy of a bundle
    // read in an earlier chunk shares its outcome instead of being
    // verified again (and counted twice).
    let mut f = fixture();
    let a = b"release file\n";
    let good = f.sign(&[("a", "sha256", &sha256_hex(a))], SignOptions::tlog_only());
    let mut bundles = vec![load(&good)];
    bundles.extend((0..40).map(|i| Err(BundleError::Statement(format!("filler {i}")))));
    bundles.push(load(&good));
    let v = verify_both(
        vec![computed("a", sha256(a))],
        &bundles,
        &f.trust,
        &policy(),
    );
    assert_eq!(v.bundles_verified, 1);
    assert_eq!(v.bundles_read, 42);
    assert_eq!(v.attestations_matched, 2);
    assert_eq!(report(&v, "a").matched, 2);
}

#[test]
fn a_bundle_that_fails_verification_is_counted_as_verified() {
    let mut f = fixture();
    let a = b"forged\n";
    let bad = f.sign(
        &[("a", "sha256", &sha256_hex(a))],
        SignOptions::tlog_only().with(SignFault::BadSignature),
    );
    let v = verify_both(
        vec![computed("a", sha256(a))],
        &[load(&bad)],
        &f.trust,
        &policy(),
    );
    assert_eq!(v.bundles_verified, 1);
    let r = report(&v, "a");
    assert_eq!(r.status, Status::Verification);
    assert!(
        r.error
            .as_deref()
            .unwrap()
            .starts_with("bundles.jsonl:1: verification failed"),
        "{:?}",
        r.error
    );
    assert_eq!(v.status(), Status::Verification);
}

#[test]
fn the_furthest_covering_bundle_explains_a_failure() {
    let mut f = fixture();
    let a = b"artifact\n";
    let hex = sha256_hex(a);
    let forged = f.sign(
        &[("a", "sha256", &hex)],
        SignOptions::tlog_only().with(SignFault::BadSignature),
    );
    let elsewhere = FulcioClaims {
        source_repository_uri: "https://github.com/octo-org/other".into(),
        ..FulcioClaims::default()
    };
    let mismatch = f.sign_claims(
        &[("a", "sha256", &hex)],
        &elsewhere,
        SignOptions::tlog_only(),
    );
    let skipped = {
        let st = statement(&[("a", "sha256", &hex)], "https://example.com/p", json!({}));
        f.sigstore
            .sign_statement(&st, &FulcioClaims::default(), &SignOptions::tlog_only())
    };
    let run = |bundles: &[&Value]| {
        let bundles: Vec<_> = bundles.iter().map(|b| load(b)).collect();
        verify_both(
            vec![computed("a", sha256(a))],
            &bundles,
            &f.trust,
            &policy(),
        )
    };
    // A policy mismatch beats a failed verification, in either order.
    for order in [[&mismatch, &forged], [&forged, &mismatch]] {
        let v = run(&order);
        let r = report(&v, "a");
        assert_eq!(r.status, Status::Policy, "{:?}", r.error);
        assert!(r.error.as_deref().unwrap().contains("SourceRepositoryURI"));
        assert_eq!(v.status(), Status::Policy);
    }
    // A failed verification beats a skipped bundle, in either order.
    for order in [[&forged, &skipped], [&skipped, &forged]] {
        let v = run(&order);
        let r = report(&v, "a");
        assert_eq!(r.status, Status::Verification, "{:?}", r.error);
    }
    // Only skipped: no attestation.
    let v = run(&[&skipped]);
    assert_eq!(report(&v, "a").status, Status::NoAttestation);
    assert!(report(&v, "a")
        .error
        .as_deref()
        .unwrap()
        .contains("skipped: predicate type"));
}

#[test]
fn listed_and_computed_digests_must_agree() {
    let mut f = fixture();
    let a = b"the file\n";
    let bundle = f.sign(&[("a", "sha256", &sha256_hex(a))], SignOptions::tlog_only());
    let agree = ReleaseArtifact {
        name: "agree".into(),
        listed: Some(sha256(a)),
        computed: Some(Ok(sha256(a))),
    };
    let differ = ReleaseArtifact {
        name: "differ".into(),
        listed: Some(sha256(b"what the manifest says\n")),
        computed: Some(Ok(sha256(a))),
    };
    let only_listed = ReleaseArtifact {
        name: "listed".into(),
        listed: Some(sha256(a)),
        computed: None,
    };
    let unreadable = ReleaseArtifact {
        name: "gone".into(),
        listed: Some(sha256(a)),
        computed: Some(Err("No such file or directory".into())),
    };
    assert_eq!(agree.digest(), Some(&sha256(a)));
    assert_eq!(differ.digest(), Some(&sha256(a)));
    assert_eq!(only_listed.digest(), Some(&sha256(a)));
    assert_eq!(unreadable.digest(), None);
    let v = verify_both(
        vec![agree, differ, only_listed, unreadable],
        &[load(&bundle)],
        &f.trust,
        &policy(),
    );
    assert!(report(&v, "agree").verified);
    assert!(report(&v, "listed").verified);
    let d = report(&v, "differ");
    assert!(!d.verified);
    assert_eq!(d.status, Status::Verification);
    assert!(d
        .error
        .as_deref()
        .unwrap()
        .contains("does not match the manifest"));
    let g = report(&v, "gone");
    assert!(!g.verified);
    assert_eq!(g.status, Status::Unreadable);
    assert_eq!(g.error.as_deref(), Some("No such file or directory"));
    assert!(g.covering.is_empty());
    assert_eq!(v.status(), Status::Verification);
}

fn synthetic(statuses: &[(bool, Status)]) -> ReleaseVerdict {
    ReleaseVerdict {
        artifacts: statuses
            .iter()
            .enumerate()
            .map(|(i, &(verified, status))| ArtifactReport {
                artifact: computed(&format!("a{i}"), sha256(&[i as u8])),
                covering: Vec::new(),
                verified,
                error: (!verified).then(|| "why".to_string()),
                hint: None,
                status,
                matched: usize::from(verified),
                signer: None,
                signer_uri: None,
            })
            .collect(),
        attestations: Vec::new(),
        bundles_verified: 0,
        bundles_read: 0,
        attestations_matched: 0,
        unmatched: Default::default(),
    }
}

#[test]
fn the_run_status_is_the_most_serious_failure() {
    let ok = (true, Status::Verified);
    let f = |c| (false, c);
    let cases: [(Vec<(bool, Status)>, Status); 8] = [
        (vec![ok, ok], Status::Verified),
        (vec![], Status::Verified),
        (
            vec![
                f(Status::Unreadable),
                f(Status::NoAttestation),
                f(Status::Policy),
                f(Status::Verification),
            ],
            Status::Verification,
        ),
        (
            vec![
                f(Status::Unreadable),
                f(Status::NoAttestation),
                f(Status::Policy),
            ],
            Status::Policy,
        ),
        (
            vec![ok, f(Status::Unreadable), f(Status::NoAttestation)],
            Status::NoAttestation,
        ),
        (vec![ok, f(Status::Unreadable)], Status::Unreadable),
        // A report that says "not verified" without a failing status
        // must not let the run pass.
        (vec![ok, f(Status::Verified)], Status::Verification),
        (vec![f(Status::Policy), ok], Status::Policy),
    ];
    for (statuses, want) in cases {
        let v = synthetic(&statuses);
        assert_eq!(v.status(), want, "{statuses:?}");
        assert_eq!(
            v.all_verified(),
            statuses.iter().all(|(ok, _)| *ok),
            "{statuses:?}"
        );
    }
}

/// Every bundle that matched no artifact is counted, and the first
/// `Unmatched::LISTED` are kept, in input order, with their reasons.
#[test]
fn unmatched_bundles_are_all_counted_and_the_first_ones_listed() {
    let f = fixture();
    let n = attest::release::Unmatched::LISTED + 5;
    let text = "{}\n".repeat(n);
    let bundles = bundles_from_bytes(text.as_bytes(), "many.jsonl").expect("a bundle file");
    assert_eq!(bundles.len(), n);
    let v = verify_both(
        vec![computed("a", sha256(b"a"))],
        &bundles,
        &f.trust,
        &policy(),
    );
    assert_eq!(v.unmatched.count, n);
    assert_eq!(v.unmatched.first.len(), attest::release::Unmatched::LISTED);
    // An unreadable bundle has no origin of its own: its place in the
    // input, and the reason, which names the file and line.
    for (i, (origin, reason)) in v.unmatched.first.iter().enumerate() {
        assert_eq!(origin.index, i + 1);
        assert!(
            reason.starts_with(&format!(
                "many.jsonl:{}: not a Sigstore bundle: missing media type",
                i + 1
            )),
            "{reason}"
        );
    }
}
