//! `attest.toml`: OpenMed's example policy on bundles the test Sigstore signs
//! with OpenMed's identities and predicates, one negative case per
//! constraint; the SLSA cross-check field by field; the real gh bundles
//! under a policy equivalent to gh's flags; counting, Rego, the lock, and
//! every policy error before verification.

#[path = "support/shared.rs"]
mod shared;

use std::path::Path;

use attest::artifact::{digest_bytes, DigestAlgorithm};
use attest::bundle::{split_bundles, BundleError, LoadedBundle};
use attest::policy_file::lock::{Lock, LockCheck};
use attest::policy_file::{PolicyFile, PolicyVerifier, Subject, SubjectReport};
use attest::trust::TrustStore;
use attest::verify::VerifyOptions;
use attest_testsign::{statement, FulcioClaims, SignOptions, TestSigstore, TestSigstoreConfig};
use serde_json::{json, Value};

const REPO: &str = "https://github.com/maziyarpanahi/openmed";
const WHEEL: &str = "openmed-1.2.0-py3-none-any.whl";
const IMAGE_REPO: &str = "ghcr.io/maziyarpanahi/openmed";
const SLSA: &str = "https://slsa.dev/provenance/v1";
const CYCLONEDX: &str = "https://cyclonedx.org/bom";

fn claims(workflow: &str, git_ref: &str) -> FulcioClaims {
    let san = format!("{REPO}/.github/workflows/{workflow}@{git_ref}");
    FulcioClaims {
        subject_alternative_name: san.clone(),
        build_signer_uri: san.clone(),
        build_config_uri: san,
        source_repository_uri: REPO.into(),
        source_repository_ref: git_ref.into(),
        source_repository_owner_uri: "https://github.com/maziyarpanahi".into(),
        run_invocation_uri: format!("{REPO}/actions/runs/77/attempts/1"),
        ..FulcioClaims::default()
    }
}

/// actions/attest's predicate for these claims, every field the
/// certificate also states.
fn github_provenance(c: &FulcioClaims, workflow: &str) -> Value {
    json!({
        "buildDefinition": {
            "buildType": "https://actions.github.io/buildtypes/workflow/v1",
            "externalParameters": { "workflow": {
                "ref": c.source_repository_ref,
                "repository": c.source_repository_uri,
                "path": format!(".github/workflows/{workflow}"),
            }},
            "internalParameters": { "github": {
                "event_name": c.build_trigger,
                "repository_id": c.source_repository_identifier,
                "repository_owner_id": c.source_repository_owner_identifier,
                "runner_environment": c.runner_environment,
            }},
            "resolvedDependencies": [{
                "uri": format!("git+{}@{}", c.source_repository_uri, c.source_repository_ref),
                "digest": { "gitCommit": c.source_repository_digest },
            }],
        },
        "runDetails": {
            "builder": { "id": c.build_signer_uri },
            "metadata": { "invocationId": c.run_invocation_uri },
        },
    })
}

struct World {
    sigstore: TestSigstore,
    trust_json: String,
}

impl World {
    fn new() -> Self {
        let sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
        let trust_json = sigstore.trusted_root_json();
        Self {
            sigstore,
            trust_json,
        }
    }

    fn sign(
        &mut self,
        subject: &(&str, String),
        predicate_type: &str,
        predicate: Value,
        c: &FulcioClaims,
    ) -> Value {
        let st = statement(
            &[(subject.0, "sha256", &subject.1)],
            predicate_type,
            predicate,
        );
        self.sigstore
            .sign_statement(&st, c, &SignOptions::tlog_only())
    }

    fn verifier(&self, policy: PolicyFile) -> PolicyVerifier {
        let trust = TrustStore::from_jsonl(&self.trust_json, "test", false).unwrap();
        PolicyVerifier::new(policy, trust, VerifyOptions::default())
    }
}

fn bundles(list: &[&Value]) -> Vec<Result<LoadedBundle, BundleError>> {
    let text: Vec<String> = list.iter().map(|b| b.to_string()).collect();
    split_bundles(&text.join("\n"), "bundles.jsonl")
}

fn openmed_policy() -> PolicyFile {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/openmed/attest.toml");
    PolicyFile::load(&path).unwrap()
}

fn failed_checks(r: &SubjectReport) -> Vec<String> {
    r.rules
        .iter()
        .flat_map(|x| x.requirements.iter())
        .flat_map(|q| q.attestations.iter())
        .flat_map(|a| a.checks.iter())
        .filter(|c| !c.passed)
        .map(|c| c.name.clone())
        .collect()
}

/// The image's evidence: GitHub provenance by container-multiarch.yml, a
/// CycloneDX SBOM and a hand-written SLSA predicate by image-signing.yml.
fn image_evidence(
    w: &mut World,
    digest: &str,
    edit: impl Fn(&mut Value, &mut FulcioClaims),
) -> Vec<Value> {
    let subject = (IMAGE_REPO, digest.to_string());
    let multiarch = claims("container-multiarch.yml", "refs/tags/v1.2.0");
    let provenance = github_provenance(&multiarch, "container-multiarch.yml");
    let mut signing = claims("image-signing.yml", "refs/tags/v1.2.0");
    let mut custom = json!({
        "buildDefinition": {
            "buildType": "https://github.com/maziyarpanahi/openmed/image-signing@v1",
            "externalParameters": {
                "image": format!("ghcr.io/maziyarpanahi/openmed@sha256:{digest}"),
                "publishingWorkflow": ".github/workflows/container-multiarch.yml",
            },
        },
        "runDetails": { "builder": { "id": signing.build_signer_uri } },
    });
    edit(&mut custom, &mut signing);
    vec![
        w.sign(&subject, SLSA, provenance, &multiarch),
        w.sign(
            &subject,
            CYCLONEDX,
            json!({"bomFormat": "CycloneDX", "specVersion": "1.5"}),
            &signing,
        ),
        w.sign(&subject, SLSA, custom, &signing),
    ]
}

#[test]
fn openmed_policy_passes_its_release_and_fails_each_broken_constraint() {
    let mut w = World::new();
    let wheel_digest = digest_bytes(b"openmed wheel", DigestAlgorithm::Sha256);
    let image_digest = digest_bytes(b"openmed image manifest", DigestAlgorithm::Sha256);
    let verifier = w.verifier(openmed_policy());

    // The wheel, signed by provenance.yml.
    let c = claims("provenance.yml", "refs/tags/v1.2.0");
    let wheel_bundle = w.sign(
        &(WHEEL, wheel_digest.hex()),
        SLSA,
        github_provenance(&c, "provenance.yml"),
        &c,
    );
    let wheel = Subject::file(format!("dist/{WHEEL}"), wheel_digest.clone());
    let r = verifier.verify_subject(&wheel, &bundles(&[&wheel_bundle]));
    assert!(r.passed, "{r:#?}");
    assert_eq!(r.policy_digest, verifier.policy().digest());
    // Signed by another workflow of the same repository: refused.
    let c = claims("ci.yml", "refs/tags/v1.2.0");
    let other = w.sign(
        &(WHEEL, wheel_digest.hex()),
        SLSA,
        github_provenance(&c, "ci.yml"),
        &c,
    );
    let r = verifier.verify_subject(&wheel, &bundles(&[&other]));
    assert!(!r.passed);
    assert_eq!(failed_checks(&r), ["SubjectAlternativeName"]);

    // The image: all three pieces of evidence pass.
    let image = Subject::image(
        format!("oci://{IMAGE_REPO}@sha256:{}", image_digest.hex()),
        IMAGE_REPO,
        image_digest.clone(),
    );
    let good = image_evidence(&mut w, &image_digest.hex(), |_, _| {});
    let refs: Vec<&Value> = good.iter().collect();
    let r = verifier.verify_subject(&image, &bundles(&refs));
    assert!(r.passed, "{:#?}", r.reason);
    assert_eq!(r.rules.len(), 1);
    assert_eq!(r.rules[0].requirements.len(), 3);

    // One negative case per constraint of the CUE policy and per identity.
    type Edit = fn(&mut Value, &mut FulcioClaims);
    let cases: [(&str, Edit, &str); 4] = [
        (
            "image not pinned by digest",
            |p, _| {
                p["buildDefinition"]["externalParameters"]["image"] =
                    json!("ghcr.io/maziyarpanahi/openmed:latest")
            },
            "predicate /buildDefinition/externalParameters/image",
        ),
        (
            "another publishing workflow",
            |p, _| {
                p["buildDefinition"]["externalParameters"]["publishingWorkflow"] =
                    json!(".github/workflows/other.yml")
            },
            "predicate /buildDefinition/externalParameters/publishingWorkflow",
        ),
        (
            "publishing workflow missing",
            |p, _| {
                p["buildDefinition"]["externalParameters"]
                    .as_object_mut()
                    .unwrap()
                    .remove("publishingWorkflow");
            },
            "predicate /buildDefinition/externalParameters/publishingWorkflow",
        ),
        (
            "signed from a branch the regex does not allow",
            |_, c| {
                let san = format!("{REPO}/.github/workflows/image-signing.yml@refs/heads/dev");
                c.subject_alternative_name = san.clone();
                c.build_signer_uri = san;
                c.source_repository_ref = "refs/heads/dev".into();
            },
            "SubjectAlternativeName",
        ),
    ];
    for (what, edit, check) in cases {
        let evidence = image_evidence(&mut w, &image_digest.hex(), edit);
        let refs: Vec<&Value> = evidence.iter().collect();
        let r = verifier.verify_subject(&image, &bundles(&refs));
        assert!(!r.passed, "{what}: passed");
        assert!(
            failed_checks(&r).iter().any(|c| c == check),
            "{what}: {:?}",
            failed_checks(&r)
        );
        assert_eq!(r.status, attest::Status::Policy, "{what}");
    }
    // Without the SBOM, the rule fails on that requirement alone.
    let r = verifier.verify_subject(&image, &bundles(&[&good[0], &good[2]]));
    assert!(!r.passed);
    let failed: Vec<&str> = r.rules[0]
        .requirements
        .iter()
        .filter(|q| !q.passed)
        .map(|q| q.predicate_type.as_str())
        .collect();
    assert_eq!(failed, [CYCLONEDX]);

    // An artifact no rule matches fails, named.
    let stray = Subject::file("dist/notes.txt", wheel_digest.clone());
    let r = verifier.verify_subject(&stray, &bundles(&[&wheel_bundle]));
    assert!(!r.passed);
    assert!(
        r.reason.as_deref().unwrap().contains("no rule"),
        "{:?}",
        r.reason
    );
    // Another image repository is not matched by the exact repository.
    let other = Subject::image(
        "oci://ghcr.io/maziyarpanahi/openmed-evil@sha256:00",
        "ghcr.io/maziyarpanahi/openmed-evil",
        image_digest,
    );
    assert!(verifier.policy().rules_for(&other).next().is_none());
}

const POLICY_HEAD: &str = "version = 1\n[[rule]]\nfiles = [\"*.whl\"]\n[[rule.require]]\npredicate-type = \"slsa-provenance-v1\"\nrepo = \"maziyarpanahi/openmed\"\n";

fn policy(extra: &str) -> PolicyFile {
    PolicyFile::parse(
        &format!("{POLICY_HEAD}{extra}"),
        "attest.toml",
        Path::new("."),
    )
    .unwrap()
}

#[test]
fn the_slsa_cross_check_fails_each_field_that_disagrees_with_the_certificate() {
    let mut w = World::new();
    let digest = digest_bytes(b"wheel", DigestAlgorithm::Sha256);
    let subject = Subject::file(WHEEL, digest.clone());
    let c = claims("provenance.yml", "refs/tags/v1");
    let verifier = w.verifier(policy(""));
    let control = w.sign(
        &(WHEEL, digest.hex()),
        SLSA,
        github_provenance(&c, "provenance.yml"),
        &c,
    );
    let r = verifier.verify_subject(&subject, &bundles(&[&control]));
    assert!(r.passed, "{:?}", failed_checks(&r));
    let cases: [(&str, Value, &str); 11] = [
        (
            "/runDetails/builder/id",
            json!("https://github.com/evil/x/.github/workflows/a.yml@refs/tags/v1"),
            "provenance builder.id",
        ),
        (
            "/buildDefinition/externalParameters/workflow/repository",
            json!("https://github.com/evil/openmed"),
            "provenance workflow.repository",
        ),
        (
            "/buildDefinition/externalParameters/workflow/ref",
            json!("refs/tags/v2"),
            "provenance workflow.ref",
        ),
        (
            "/buildDefinition/externalParameters/workflow/path",
            json!(".github/workflows/other.yml"),
            "provenance workflow.path",
        ),
        (
            "/buildDefinition/resolvedDependencies/0/digest/gitCommit",
            json!("0000000000000000000000000000000000000000"),
            "provenance resolvedDependencies[0].digest.gitCommit",
        ),
        (
            "/buildDefinition/resolvedDependencies/0/uri",
            json!("git+https://github.com/evil/openmed@refs/tags/v1"),
            "provenance resolvedDependencies[0].uri",
        ),
        (
            "/buildDefinition/internalParameters/github/event_name",
            json!("workflow_dispatch"),
            "provenance github.event_name",
        ),
        (
            "/buildDefinition/internalParameters/github/repository_id",
            json!("1"),
            "provenance github.repository_id",
        ),
        (
            "/buildDefinition/internalParameters/github/repository_owner_id",
            json!("2"),
            "provenance github.repository_owner_id",
        ),
        (
            "/buildDefinition/internalParameters/github/runner_environment",
            json!("self-hosted"),
            "provenance github.runner_environment",
        ),
        (
            "/runDetails/metadata/invocationId",
            json!("https://github.com/maziyarpanahi/openmed/actions/runs/1/attempts/9"),
            "provenance metadata.invocationId",
        ),
    ];
    for (pointer, value, check) in cases {
        let mut p = github_provenance(&c, "provenance.yml");
        *p.pointer_mut(pointer).unwrap() = value;
        let b = w.sign(&(WHEEL, digest.hex()), SLSA, p.clone(), &c);
        let r = verifier.verify_subject(&subject, &bundles(&[&b]));
        assert!(!r.passed, "{pointer}");
        // The field's own check fails first; workflow.path is derived from
        // the repository and ref, so it fails with them.
        let failed = failed_checks(&r);
        assert_eq!(
            failed.first().map(String::as_str),
            Some(check),
            "{pointer}: {failed:?}"
        );
        assert!(
            failed
                .iter()
                .all(|f| f == check || f == "provenance workflow.path"),
            "{pointer}: {failed:?}"
        );
        // Off for this requirement: the same bundle passes.
        let off = w.verifier(policy("check-provenance = false\n"));
        assert!(
            off.verify_subject(&subject, &bundles(&[&b])).passed,
            "{pointer}"
        );
    }
    // An unrecognised externalParameter fails (SLSA: SHOULD fail).
    let mut p = github_provenance(&c, "provenance.yml");
    p["buildDefinition"]["externalParameters"]["inputs"] = json!({"debug": "true"});
    let b = w.sign(&(WHEEL, digest.hex()), SLSA, p, &c);
    let r = verifier.verify_subject(&subject, &bundles(&[&b]));
    assert_eq!(failed_checks(&r), ["provenance externalParameters"]);
}

#[test]
fn count_needs_distinct_attestations_and_the_same_one_twice_is_one() {
    let mut w = World::new();
    let digest = digest_bytes(b"wheel", DigestAlgorithm::Sha256);
    let subject = Subject::file(WHEEL, digest.clone());
    let c = claims("provenance.yml", "refs/tags/v1");
    let verifier = w.verifier(policy("count = 2\n"));
    let a = w.sign(
        &(WHEEL, digest.hex()),
        SLSA,
        github_provenance(&c, "provenance.yml"),
        &c,
    );
    let r = verifier.verify_subject(&subject, &bundles(&[&a, &a]));
    assert!(!r.passed);
    assert_eq!(r.rules[0].requirements[0].met, 1);
    // The same statement re-signed by the same identity is still one.
    let again = w.sign(
        &(WHEEL, digest.hex()),
        SLSA,
        github_provenance(&c, "provenance.yml"),
        &c,
    );
    assert!(
        !verifier
            .verify_subject(&subject, &bundles(&[&a, &again]))
            .passed
    );
    // A second, different statement makes two.
    let c2 = FulcioClaims {
        run_invocation_uri: format!("{REPO}/actions/runs/78/attempts/1"),
        ..c.clone()
    };
    let b = w.sign(
        &(WHEEL, digest.hex()),
        SLSA,
        github_provenance(&c2, "provenance.yml"),
        &c2,
    );
    let r = verifier.verify_subject(&subject, &bundles(&[&a, &b]));
    assert!(r.passed, "{:?}", r.reason);
}

#[test]
fn rego_decides_what_data_cannot_and_the_lock_catches_drift() {
    let mut w = World::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tags.rego"),
        "package attest\ndefault allow := false\nallow if startswith(input.certificate.sourceRepositoryRef, \"refs/tags/\")\n",
    )
    .unwrap();
    let text = format!("{POLICY_HEAD}rego = \"tags.rego\"\n");
    let p = PolicyFile::parse(&text, "attest.toml", dir.path()).unwrap();
    let verifier = w.verifier(p);
    let digest = digest_bytes(b"wheel", DigestAlgorithm::Sha256);
    let subject = Subject::file(WHEEL, digest.clone());
    let tag = claims("provenance.yml", "refs/tags/v1");
    let branch = claims("provenance.yml", "refs/heads/main");
    let on_tag = w.sign(
        &(WHEEL, digest.hex()),
        SLSA,
        github_provenance(&tag, "provenance.yml"),
        &tag,
    );
    let on_branch = w.sign(
        &(WHEEL, digest.hex()),
        SLSA,
        github_provenance(&branch, "provenance.yml"),
        &branch,
    );
    let passed = verifier.verify_subject(&subject, &bundles(&[&on_tag]));
    assert!(passed.passed, "{:?}", passed.reason);
    let r = verifier.verify_subject(&subject, &bundles(&[&on_branch]));
    assert_eq!(failed_checks(&r), ["rego"]);
    // A change to the Rego module changes the policy's digest.
    std::fs::write(
        dir.path().join("tags.rego"),
        "package attest\nallow := true\n",
    )
    .unwrap();
    let p2 = PolicyFile::parse(&text, "attest.toml", dir.path()).unwrap();
    assert_ne!(p2.digest(), verifier.policy().digest());

    // The lock: the signer of the passing wheel, then another signer.
    let signers: Vec<_> = passed.rules[0].requirements[0]
        .attestations
        .iter()
        .filter_map(|a| a.signer.clone())
        .collect();
    assert_eq!(
        signers[0].signer,
        format!("{REPO}/.github/workflows/provenance.yml")
    );
    let mut lock = Lock::default();
    lock.set("pypi:openmed".into(), signers.clone());
    let lock = Lock::parse(&lock.to_toml()).unwrap();
    assert!(lock.check(&subject, &signers).passed());
    let mut other = signers[0].clone();
    other.signer = format!("{REPO}/.github/workflows/evil.yml");
    assert!(matches!(
        lock.check(&subject, &[other]),
        LockCheck::Drift { .. }
    ));
    let unknown = Subject::file("dist/other-1.0-py3-none-any.whl", digest.clone());
    assert!(matches!(
        lock.check(&unknown, &signers),
        LockCheck::Missing(_)
    ));
    assert!(matches!(
        lock.check(&Subject::file("notes.txt", digest), &signers),
        LockCheck::Unnamed
    ));
}

#[test]
fn real_gh_bundles_get_the_verdicts_of_the_equivalent_flags() {
    let gh = shared::shared("testdata/gh");
    let gh = Path::new(&gh);
    let trust = || TrustStore::from_file(&gh.join("combined_trusted_root.jsonl"), false).unwrap();
    let data = std::fs::read(gh.join("sigstore-js-2.1.0.tgz")).unwrap();
    let digest = digest_bytes(&data, DigestAlgorithm::Sha512);
    let bundles = attest::read_bundle_file(&gh.join("sigstore-js-2.1.0-bundle.json")).unwrap();
    let subject = Subject::file("sigstore-js-2.1.0.tgz", digest.clone());
    for (repo, extra, gh_passes) in [
        ("sigstore/sigstore-js", "", true),
        (
            "sigstore/sigstore-js",
            "source-ref = \"refs/heads/main\"\n",
            true,
        ),
        (
            "sigstore/sigstore-js",
            "source-ref = \"refs/heads/other\"\n",
            false,
        ),
        ("sigstore/other", "", false),
        (
            "sigstore/sigstore-js",
            "signer-workflow = \"sigstore/sigstore-js/.github/workflows/release.yml\"\n",
            true,
        ),
        (
            "sigstore/sigstore-js",
            "signer-workflow = \"sigstore/sigstore-js/.github/workflows/other.yml\"\n",
            false,
        ),
    ] {
        let text = format!("version = 1\n[[rule]]\nfiles = [\"*.tgz\"]\n[[rule.require]]\npredicate-type = \"slsa-provenance-v1\"\nrepo = \"{repo}\"\n{extra}");
        let p = PolicyFile::parse(&text, "attest.toml", Path::new(".")).unwrap();
        let r = PolicyVerifier::new(p, trust(), VerifyOptions::default())
            .verify_subject(&subject, &bundles);
        assert_eq!(r.passed, gh_passes, "{repo} {extra}: {:?}", r.reason);
        // The flags say the same.
        let flags = attest::PolicyFlags {
            repo: Some(repo.into()),
            source_ref: extra
                .strip_prefix("source-ref = \"")
                .map(|s| s.trim_end().trim_end_matches('"').to_string()),
            signer_workflow: extra
                .strip_prefix("signer-workflow = \"")
                .map(|s| s.trim_end().trim_end_matches('"').to_string()),
            ..Default::default()
        };
        let v = attest::Verifier::keyless(trust(), attest::Policy::from_flags(&flags).unwrap());
        assert_eq!(
            v.verify_artifact(&bundles, &digest).verified(),
            gh_passes,
            "flags {repo} {extra}"
        );
    }
}

#[test]
fn every_policy_error_is_one_line_with_its_place_before_any_verification() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.rego"), "package attest\nallow if {{\n").unwrap();
    std::fs::write(
        dir.path().join("other.rego"),
        "package other\nallow := true\n",
    )
    .unwrap();
    let cases: [(&str, &str); 14] = [
        ("version = 2\n", "attest.toml:1:11: version 2 is not supported"),
        ("version = 1\n", "no [[rule]]"),
        ("version = 1\nfoo = 1\n", "attest.toml:2:1: unknown field `foo`"),
        ("version = 1\n[[rule]]\nfiles = [\"*.whl\"]\n", "attest.toml:2:1: rule 1: no [[rule.require]]"),
        ("version = 1\n[[rule]]\nname = \"x\"\n[[rule.require]]\npredicate-type = \"slsa-provenance-v1\"\nrepo = \"a/b\"\n", "x: matches nothing"),
        (&format!("{POLICY_HEAD}signer-workflw = \"x\"\n"), "attest.toml:7:1: unknown field `signer-workflw`"),
        ("version = 1\n[[rule]]\nfiles = [\"*.whl\"]\n[[rule.require]]\npredicate-type = \"slsa-v1\"\nrepo = \"a/b\"\n", "attest.toml:5:18: predicate-type: unknown shortcut \"slsa-v1\""),
        ("version = 1\n[[rule]]\nfiles = [\"*.whl\"]\n[[rule.require]]\npredicate-type = \"slsa-provenance-v1\"\n", "no identity"),
        ("version = 1\n[[rule]]\nfiles = [\"*.whl\"]\n[[rule.require]]\npredicate-type = \"slsa-provenance-v1\"\nissuer = \"https://gitlab.com\"\nsan-regex = \"\"\n", "attest.toml:7:13: san-regex: an empty pattern matches everything"),
        ("version = 1\n[[rule]]\nfiles = [\"*.whl\"]\n[[rule.require]]\npredicate-type = \"slsa-provenance-v1\"\nissuer = \"https://gitlab.com\"\nsan-regex = \"(\"\n", "attest.toml:7:13: san-regex: invalid regular expression"),
        (&format!("{POLICY_HEAD}[[rule.require.predicate]]\npath = \"buildDefinition\"\npresent = true\n"), "a JSON pointer into the predicate starts with /"),
        (&format!("{POLICY_HEAD}[[rule.require.predicate]]\npath = \"/a\"\nequals = 1\nmatches = \"x\"\n"), "give exactly one of equals, matches, one-of, present"),
        (&format!("{POLICY_HEAD}rego = \"bad.rego\"\n"), "attest.toml:7:8: rego:"),
        (&format!("{POLICY_HEAD}rego = \"other.rego\"\n"), "expected `package attest`"),
    ];
    for (text, want) in cases {
        let e = PolicyFile::parse(text, "attest.toml", dir.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{text:?}\n got: {e}\nwant: {want}");
        assert!(!e.contains('\n'), "{e}");
    }
    // A generic identity needs a SAN; gh-style keys need a repository.
    let generic = "version = 1\n[[rule]]\nall = true\n[[rule.require]]\npredicate-type = \"slsa-provenance-v1\"\nissuer = \"https://gitlab.com\"\n";
    assert!(PolicyFile::parse(generic, "p", dir.path())
        .unwrap_err()
        .to_string()
        .contains("needs san or san-regex"));
    let relative = format!("{generic}san = \"x\"\nsigner-workflow = \"a/b/c.yml\"\n");
    assert!(PolicyFile::parse(&relative, "p", dir.path())
        .unwrap_err()
        .to_string()
        .contains("give repo or owner too"));
}
