//! The SLSA predicate ↔ certificate cross-check holds for every real GitHub
//! bundle in the shared data (both generations of actions/attest and npm's),
//! and fails for a predicate edited after the fact.

#[path = "support/shared.rs"]
mod shared;
use attest::artifact::{digest_bytes, DigestAlgorithm};
use attest::policy::provenance_checks;
use attest::source::read_bundle_file;
use attest::trust::TrustStore;
use attest::verify::{verify_bundle, ArtifactInput};
use std::path::Path;

static GH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| shared::shared("testdata/gh"));

fn verified(
    artifact: &str,
    bundle: &str,
    alg: DigestAlgorithm,
) -> attest::verify::VerifiedAttestation {
    let gh = Path::new(GH.as_str());
    let data = std::fs::read(gh.join(artifact)).unwrap();
    let digest = digest_bytes(&data, alg);
    let b = read_bundle_file(&gh.join(bundle))
        .unwrap()
        .remove(0)
        .unwrap();
    let trust = TrustStore::from_file(&gh.join("combined_trusted_root.jsonl"), false).unwrap();
    verify_bundle(&b, ArtifactInput::Digest(&digest), &trust).unwrap()
}

#[test]
fn real_bundles_pass_every_check() {
    for (artifact, bundle, alg) in [
        (
            "sigstore-js-2.1.0.tgz",
            "sigstore-js-2.1.0-bundle.json",
            DigestAlgorithm::Sha512,
        ),
        (
            "github_provenance_demo-0.0.12-py3-none-any.whl",
            "github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl",
            DigestAlgorithm::Sha256,
        ),
        (
            "reusable-workflow-artifact",
            "reusable-workflow-attestation.sigstore.json",
            DigestAlgorithm::Sha256,
        ),
        (
            "custom-issuer-artifact",
            "custom-issuer.sigstore.json",
            DigestAlgorithm::Sha256,
        ),
    ] {
        let att = verified(artifact, bundle, alg);
        let st = att.statement.as_ref().unwrap();
        let checks = provenance_checks(&st.value["predicate"], att.certificate.as_ref().unwrap());
        let failed: Vec<_> = checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.message.clone())
            .collect();
        assert!(failed.is_empty(), "{bundle}: {failed:#?}");
        assert!(checks.len() >= 10, "{bundle}: {} checks", checks.len());
    }
}

#[test]
fn an_edited_predicate_fails_the_cross_check() {
    let att = verified(
        "reusable-workflow-artifact",
        "reusable-workflow-attestation.sigstore.json",
        DigestAlgorithm::Sha256,
    );
    let cert = att.certificate.as_ref().unwrap();
    let original = att.statement.as_ref().unwrap().value["predicate"].clone();
    for (pointer, value) in [
        (
            "/runDetails/builder/id",
            "https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main",
        ),
        (
            "/buildDefinition/externalParameters/workflow/ref",
            "refs/heads/evil",
        ),
        (
            "/buildDefinition/resolvedDependencies/0/digest/gitCommit",
            "0000000000000000000000000000000000000000",
        ),
        (
            "/runDetails/metadata/invocationId",
            "https://github.com/x/y/actions/runs/1/attempts/1",
        ),
    ] {
        let mut p = original.clone();
        *p.pointer_mut(pointer).unwrap() = serde_json::Value::String(value.into());
        let failed = provenance_checks(&p, cert)
            .into_iter()
            .filter(|c| !c.passed)
            .count();
        assert!(failed >= 1, "{pointer}");
    }
}
