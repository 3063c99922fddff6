//! PEP 740 attestations as PyPI serves them: real provenance objects and
//! attestations from public repositories' test data (tests/data/pep740,
//! README.md says where each came from), with the distribution files they
//! attest, verified offline under the trusted roots they were made with,
//! for every Trusted Publisher kind; and, from the test Sigstore, one flip
//! at a time of what must make them fail, each by the check's name.

use std::path::{Path, PathBuf};

use attest::artifact::{digest_bytes, ArtifactDigest, DigestAlgorithm};
use attest::outcome::{ArtifactVerdict, Status};
use attest::pep740::{self, Publisher};
use attest::policy::{Policy, PolicyFlags};
use attest::trust::TrustStore;
use attest::verifier::Verifier;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pep740")
}

fn root(instance: &str) -> TrustStore {
    TrustStore::from_file(&data().join(format!("trusted_root.{instance}.json")), false).unwrap()
}

fn flags(f: PolicyFlags) -> Policy {
    let mut p = Policy::from_flags(&f).unwrap();
    // PEP 740 names its own predicate types; the policy takes any.
    p.predicate_type = String::new();
    p
}

fn identity(san: &str, issuer: &str) -> Policy {
    flags(PolicyFlags {
        cert_identity: Some(san.into()),
        cert_oidc_issuer: Some(issuer.into()),
        ..Default::default()
    })
}

fn repo(r: &str) -> Policy {
    flags(PolicyFlags {
        repo: Some(r.into()),
        ..Default::default()
    })
}

/// Verify the file `dist` (its bytes from the data directory, or `bytes`
/// under that name) against `provenance` (a file of the data directory).
fn verify(
    instance: &str,
    policy: Policy,
    provenance: &str,
    dist: &str,
    bytes: Option<&[u8]>,
) -> (ArtifactVerdict, pep740::Provenance) {
    let text = std::fs::read(data().join(provenance)).unwrap();
    let prov = pep740::parse(&text, provenance).unwrap();
    let content = match bytes {
        Some(b) => b.to_vec(),
        None => std::fs::read(data().join(dist)).unwrap(),
    };
    let digest = digest_bytes(&content, DigestAlgorithm::Sha256);
    let verifier = Verifier::keyless(root(instance), policy);
    let verdict = pep740::verify_distribution(&verifier, &prov, dist, &digest);
    (verdict, prov)
}

fn assert_verified(v: &ArtifactVerdict) {
    assert!(
        v.verified(),
        "{:?}",
        v.results
            .iter()
            .map(|r| r.outcome.reason())
            .collect::<Vec<_>>()
    );
}

fn reasons(v: &ArtifactVerdict) -> String {
    v.results
        .iter()
        .map(|r| r.outcome.reason())
        .collect::<Vec<_>>()
        .join("; ")
}

#[test]
fn real_attestations_of_every_publisher_kind_verify() {
    let sdist = "pypi_attestations-0.0.19.tar.gz";
    for file in [".publish.attestation", ".slsa.attestation", ".provenance"] {
        let (v, _) = verify(
            "public-good",
            repo("trailofbits/pypi-attestations"),
            &format!("{sdist}{file}"),
            sdist,
            None,
        );
        assert_verified(&v);
    }
    // The provenance object carries PyPI's record of the publisher.
    let (_, prov) = verify(
        "public-good",
        repo("trailofbits/pypi-attestations"),
        &format!("{sdist}.provenance"),
        sdist,
        None,
    );
    assert_eq!(
        prov.attestations[0].publisher,
        Some(Publisher::GitHub {
            repository: "trailofbits/pypi-attestations".into(),
            workflow: "release.yml".into(),
            environment: None,
        })
    );
    // A provenance object PyPI serves for sampleproject 4.0.0 (GitHub).
    let (v, prov) = verify(
        "public-good",
        repo("pypa/sampleproject"),
        "sampleproject-4.0.0.tar.gz.provenance",
        "sampleproject-4.0.0.tar.gz",
        None,
    );
    assert_verified(&v);
    assert_eq!(
        prov.attestations[0].publisher.as_ref().unwrap().to_string(),
        "GitHub pypa/sampleproject, workflow release.yml"
    );
    // GitLab, with its `//` in the identity.
    let (v, _) = verify(
        "public-good",
        identity(
            "https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main",
            "https://gitlab.com",
        ),
        "gitlab_oidc_project-0.0.3.tar.gz.publish.attestation",
        "gitlab_oidc_project-0.0.3.tar.gz",
        None,
    );
    assert_verified(&v);
    // Google (Cloud Build's service account), two real files.
    let google = || {
        identity(
            "919436158236-compute@developer.gserviceaccount.com",
            "https://accounts.google.com",
        )
    };
    let (v, prov) = verify(
        "public-good",
        google(),
        "gcb_attestation_test-0.0.0.tar.gz.provenance",
        "gcb_attestation_test-0.0.0.tar.gz",
        None,
    );
    assert_verified(&v);
    assert!(matches!(
        prov.attestations[0].publisher,
        Some(Publisher::Google { .. })
    ));
    let (v, _) = verify(
        "public-good",
        google(),
        "sampleproject-3.0.0.tar.gz.publish.attestation",
        "sampleproject-3.0.0.tar.gz",
        None,
    );
    assert_verified(&v);
    // CircleCI.
    let circle = "https://circleci.com/api/v2/projects/fdd9283f-e619-46af-8f9c-851f7d3e8b2b/pipeline-definitions/8e4f8ab2-8d7c-4827-9f15-de076d6d647f";
    let wheel = "circleci_sign_publish_example-0.0.1.dev137-py3-none-any.whl";
    let (v, prov) = verify(
        "public-good",
        identity(circle, "https://oidc.circleci.com"),
        &format!("{wheel}.provenance"),
        wheel,
        None,
    );
    assert_verified(&v);
    assert!(matches!(
        prov.attestations[0].publisher,
        Some(Publisher::CircleCi { .. })
    ));
    // publish/v1 with a `{}` predicate, and a person's signature with an
    // RFC 3161 timestamp from the public-good TSA.
    let (v, _) = verify(
        "public-good",
        repo("trailofbits/pypi-attestation-models"),
        "pypi_attestation_models-0.0.4a2.tar.gz.attestation",
        "pypi_attestation_models-0.0.4a2.tar.gz",
        None,
    );
    assert_verified(&v);
    let (v, _) = verify(
        "public-good",
        identity("jku@goto.fi", "https://github.com/login/oauth"),
        &format!("{sdist}.publish.attestation.with_timestamp"),
        sdist,
        None,
    );
    assert_verified(&v);
    let tsa = v
        .matched()
        .next()
        .unwrap()
        .outcome
        .attestation()
        .unwrap()
        .timestamps
        .len();
    assert_eq!(tsa, 2, "a log time and a TSA time");
    // Staging-signed: verified under the staging root, refused under public good.
    let rfc = "rfc8785-0.1.2-py3-none-any.whl";
    let (v, _) = verify(
        "staging",
        identity("william@yossarian.net", "https://github.com/login/oauth"),
        &format!("{rfc}.publish.attestation"),
        rfc,
        None,
    );
    assert_verified(&v);
    let (v, _) = verify(
        "public-good",
        identity("william@yossarian.net", "https://github.com/login/oauth"),
        &format!("{rfc}.publish.attestation"),
        rfc,
        None,
    );
    assert_eq!(v.status(), Status::Verification, "{}", reasons(&v));
}

#[test]
fn names_are_compared_after_normalisation_and_tricks_fail_by_name() {
    let sdist = "sampleproject-4.0.0.tar.gz";
    let bytes = std::fs::read(data().join(sdist)).unwrap();
    let prov = "sampleproject-4.0.0.tar.gz.provenance";
    // Case and a version spelled otherwise are the same file.
    for same in ["SampleProject-4.0.0.tar.gz", "sampleproject-4.0.tar.gz"] {
        let (v, _) = verify(
            "public-good",
            repo("pypa/sampleproject"),
            prov,
            same,
            Some(&bytes),
        );
        assert_verified(&v);
    }
    // The same bytes under another project, version or kind: refused by
    // the PEP 740 statement check, although signature and digest pass.
    for other in [
        "sample_project-4.0.0.tar.gz",
        "sampleproject-4.0.1.tar.gz",
        "sampleproject-4.0.0-py3-none-any.whl",
        "notsampleproject-4.0.0.tar.gz",
    ] {
        let (v, _) = verify(
            "public-good",
            repo("pypa/sampleproject"),
            prov,
            other,
            Some(&bytes),
        );
        assert_eq!(v.status(), Status::Verification, "{other}: {}", reasons(&v));
        assert!(
            reasons(&v).contains("PEP 740 statement"),
            "{other}: {}",
            reasons(&v)
        );
        assert!(
            reasons(&v).contains("the subject names sampleproject-4.0.0.tar.gz"),
            "{}",
            reasons(&v)
        );
    }
    // Other bytes: the subject digest check.
    let (v, _) = verify(
        "public-good",
        repo("pypa/sampleproject"),
        prov,
        sdist,
        Some(b"tampered"),
    );
    assert_eq!(v.status(), Status::NoAttestation, "{}", reasons(&v));
    // Another publisher than the one that signed: the policy.
    let (v, _) = verify("public-good", repo("pypa/other"), prov, sdist, None);
    assert_eq!(v.status(), Status::Policy, "{}", reasons(&v));
}

/// The test Sigstore signs statements PEP 740 forbids, converted to PEP 740
/// attestations as PyPI would serve them.
#[test]
fn forbidden_statements_and_missing_log_entries_fail_by_name() {
    use attest_testsign::{statement, FulcioClaims, SignOptions, TestSigstore, TestSigstoreConfig};
    let mut sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let claims = FulcioClaims::default();
    let file = "openmed-1.8.0-py3-none-any.whl";
    let content = b"wheel bytes";
    let hex = digest_bytes(content, DigestAlgorithm::Sha256).hex();
    let root_json = sigstore.trusted_root_json();
    let trust = || TrustStore::from_jsonl(&root_json, "test", false).unwrap();
    let check = |att: serde_json::Value, trust: TrustStore| -> ArtifactVerdict {
        let prov = pep740::parse(att.to_string().as_bytes(), "att.json").unwrap();
        let v = Verifier::keyless(trust, repo("octo-org/octo-repo"));
        pep740::verify_distribution(
            &v,
            &prov,
            file,
            &ArtifactDigest::parse(&format!("sha256:{hex}")).unwrap(),
        )
    };
    let sign = |sigstore: &mut TestSigstore, subjects: &[(&str, &str, &str)], pt: &str| {
        let b = sigstore.sign_statement(
            &statement(subjects, pt, serde_json::Value::Null),
            &claims,
            &SignOptions::tlog_only(),
        );
        pep740::attestation_from_bundle(&b).unwrap()
    };
    // The good one, to know the flips below are the only difference.
    let good = sign(&mut sigstore, &[(file, "sha256", &hex)], pep740::PUBLISH_V1);
    assert_verified(&check(good.clone(), trust()));
    // Two subjects (both naming the file).
    let two = sign(
        &mut sigstore,
        &[(file, "sha256", &hex), ("other-1.0.tar.gz", "sha256", &hex)],
        pep740::PUBLISH_V1,
    );
    let v = check(two, trust());
    assert!(
        reasons(&v).contains("PEP 740 statement") && reasons(&v).contains("2 subjects"),
        "{}",
        reasons(&v)
    );
    // A predicate type PyPI does not publish.
    let sbom = sign(
        &mut sigstore,
        &[(file, "sha256", &hex)],
        "https://cyclonedx.org/bom",
    );
    let v = check(sbom, trust());
    assert!(
        reasons(&v).contains("predicate type https://cyclonedx.org/bom is not one PEP 740"),
        "{}",
        reasons(&v)
    );
    // Another project's name (the normalised-name trick of `-` vs `_` passes: same project).
    let renamed = sign(
        &mut sigstore,
        &[("open_med-1.8.0-py3-none-any.whl", "sha256", &hex)],
        pep740::PUBLISH_V1,
    );
    assert!(
        reasons(&check(renamed, trust())).contains("the subject names open_med"),
        "open_med is not openmed"
    );
    let underscored = sign(
        &mut sigstore,
        &[("OpenMed-1.8.0-py3-none-any.whl", "sha256", &hex)],
        pep740::PUBLISH_V1,
    );
    assert_verified(&check(underscored, trust()));
    // No transparency entry: public good needs one (and then no time is verified).
    let mut untimed = good.clone();
    untimed["verification_material"]["transparency_entries"] = serde_json::json!([]);
    let v = check(untimed, trust());
    assert_eq!(v.status(), Status::Verification, "{}", reasons(&v));
    assert!(reasons(&v).contains("transparency log"), "{}", reasons(&v));
    // A second entry that is not this signature's: every entry is checked.
    let other = sign(&mut sigstore, &[(file, "sha256", &hex)], pep740::PUBLISH_V1);
    let mut doubled = good.clone();
    doubled["verification_material"]["transparency_entries"]
        .as_array_mut()
        .unwrap()
        .push(other["verification_material"]["transparency_entries"][0].clone());
    let v = check(doubled, trust());
    assert_eq!(v.status(), Status::Verification, "{}", reasons(&v));
    // A malformed attestation is unreadable, named by its field.
    let mut broken = good;
    broken["envelope"]
        .as_object_mut()
        .unwrap()
        .remove("signature");
    let v = check(broken, trust());
    assert_eq!(v.status(), Status::Unreadable, "{}", reasons(&v));
    assert!(
        reasons(&v).contains("expected envelope.signature"),
        "{}",
        reasons(&v)
    );
}
