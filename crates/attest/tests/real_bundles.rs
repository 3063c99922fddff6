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
