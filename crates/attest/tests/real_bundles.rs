//! Real bundles from other Sigstore clients' test data that attest must
//! accept (see `tests/data/sigstore-go/README.md` for where each came from).

use std::path::{Path, PathBuf};

use attest::artifact::ArtifactDigest;
use attest::outcome::Outcome;
use attest::policy::Policy;
use attest::source::read_bundle_file;
use attest::trust::TrustStore;
use attest::verifier::Verifier;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sigstore-go")
        .join(name)
}

/// sigstore-go's `othername.sigstore.json`: a message signature by a
/// certificate whose only SAN is a Fulcio OtherName (`foo!oidc.local`).
fn othername(identity: &str) -> Outcome {
    let trust = TrustStore::from_file(&data("scaffolding.json"), false).unwrap();
    let verifier = Verifier::keyless(
        trust,
        Policy::identity_only(
            Some(identity.to_string()),
            Some("http://oidc.local:8080".into()),
        ),
    );
    let bundles = read_bundle_file(&data("othername.sigstore.json")).unwrap();
    let digest = ArtifactDigest::parse(
        "sha256:bc103b4a84971ef6459b294a2b98568a2bfb72cded09d4acd1e16366a401f95b",
    )
    .unwrap();
    let verdict = verifier.verify_artifact(&bundles, &digest);
    verdict.results.into_iter().next().unwrap().outcome
}

#[test]
fn an_othername_san_is_the_identity() {
    match othername("foo!oidc.local") {
        Outcome::Matched { attestation, .. } => assert_eq!(
            attestation
                .certificate
                .as_ref()
                .and_then(|c| c.subject_alternative_name.as_deref()),
            Some("foo!oidc.local")
        ),
        other => panic!("expected a match, got {}", other.reason()),
    }
    // And it is compared like any identity: another one does not match.
    match othername("bar!oidc.local") {
        Outcome::PolicyMismatch { checks, .. } => {
            let failed: Vec<_> = checks.iter().filter(|c| !c.passed).collect();
            assert_eq!(failed.len(), 1, "{failed:?}");
            assert!(failed[0].message.contains("foo!oidc.local"), "{failed:?}");
        }
        other => panic!("expected a policy mismatch, got {}", other.reason()),
    }
}

/// sigstore-go's `bundle-provenance.json`: npm's provenance for
/// sigstore@1.3.0 (2023), a v0.1 bundle whose Rekor entry carries only a
/// signed entry timestamp. The promise is accepted (and reported); required
/// proofs refuse it offline.
#[test]
fn real_npm_provenance_with_only_a_promise() {
    use attest::verify::{Inclusion, VerifyOptions};
    let digest = ArtifactDigest::parse("sha512:76176ffa33808b54602c7c35de5c6e9a4deb96066dba6533f50ac234f4f1f4c6b3527515dc17c06fbe2860030f410eee69ea20079bd3a2c6f3dcf3b329b10751").unwrap();
    let bundles = read_bundle_file(&data("bundle-provenance.json")).unwrap();
    let policy = || {
        let mut p = Policy::identity_only(
            Some(
                "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
                    .into(),
            ),
            Some("https://token.actions.githubusercontent.com".into()),
        );
        p.predicate_type = "https://slsa.dev/provenance/v0.2".into();
        p
    };
    let verifier = Verifier::keyless(TrustStore::embedded(false), policy());
    match verifier
        .verify_artifact(&bundles, &digest)
        .results
        .remove(0)
        .outcome
    {
        Outcome::Matched { attestation, .. } => {
            assert_eq!(attestation.inclusion, Inclusion::Promised);
            assert_eq!(attestation.tlog_entries_verified, 0);
        }
        other => panic!("expected a match, got {}", other.reason()),
    }
    let strict = Verifier::keyless(TrustStore::embedded(false), policy())
        .with_options(VerifyOptions::default().require_inclusion_proof(true));
    match strict
        .verify_artifact(&bundles, &digest)
        .results
        .remove(0)
        .outcome
    {
        Outcome::Failed(e) => assert!(e.to_string().contains("inclusion proof"), "{e}"),
        other => panic!("expected a failure, got {}", other.reason()),
    }
}
