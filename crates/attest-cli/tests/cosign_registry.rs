//! `attest verify-signature`: real cosign signatures (containers/image's
//! test data, tests/data/cosign) pushed as cosign pushes them, a
//! `sha256-<hex>.sig` manifest with one simplesigning layer and its
//! annotations, into Debian's registry on loopback, then verified under
//! cosign's own test trust root.

mod common;
#[path = "support/cosign_push.rs"]
mod cosign_push;
#[path = "support/registry.rs"]
mod registry;

use std::path::{Path, PathBuf};

use attest::artifact::{digest_bytes, DigestAlgorithm};
use cosign_push::{push_sig, push_tag};
use registry::Registry;
use serde_json::{json, Value};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../attest/tests/data/cosign")
}

/// containers/image's stored signature: payload and annotations.
fn stored(set: &str) -> (Vec<u8>, Value, String) {
    let dir = data().join("containers-image").join(set);
    let sig = attest::cosign::from_containers_image(
        set,
        &std::fs::read(dir.join("signature-1")).unwrap(),
    )
    .unwrap();
    let image = digest_bytes(
        &std::fs::read(dir.join("manifest.json")).unwrap(),
        DigestAlgorithm::Sha256,
    )
    .to_string();
    (
        sig.payload,
        serde_json::to_value(&sig.annotations).unwrap(),
        image,
    )
}

fn verify(args: &[&str]) -> (i32, String, String) {
    let root = data().join("trusted_root_pgi.json").display().to_string();
    // The registry is on loopback: online (the trust root is a file).
    common::run(
        common::attest()
            .env_remove("ATTEST_OFFLINE")
            .arg("verify-signature")
            .args(args)
            .args(["--custom-trusted-root", &root]),
    )
}

const MITR: [&str; 4] = [
    "--cert-identity",
    "mitr@redhat.com",
    "--cert-oidc-issuer",
    "https://github.com/login/oauth",
];

#[test]
fn real_cosign_signatures_in_a_registry_verify_and_flips_fail() {
    let registry = Registry::start(false);
    let host = &registry.host;
    let tmp = tempfile::tempdir().unwrap();
    let (payload, annotations, image) = stored("dir-img-cosign-fulcio-rekor-valid");
    push_sig(
        host,
        "cosign-signed/fulcio-rekor-1",
        &image,
        &[(payload.clone(), annotations.clone())],
        tmp.path(),
    );
    let target = format!("oci://{host}/cosign-signed/fulcio-rekor-1@{image}");

    let (code, out, err) = verify(&[&target, MITR[0], MITR[1], MITR[2], MITR[3]]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("OK ")
            && out.contains("signed by mitr@redhat.com (https://github.com/login/oauth)"),
        "{out}"
    );
    // cosign's spelling of the flags works too.
    let (code, _, err) = verify(&[
        &target,
        "--certificate-identity-regexp",
        "^mitr@",
        "--certificate-oidc-issuer",
        MITR[3],
    ]);
    assert_eq!(code, 0, "{err}");
    // JSON.
    let (code, out, _) = verify(&[
        &target, MITR[0], MITR[1], MITR[2], MITR[3], "--format", "json",
    ]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verified"], true);
    assert_eq!(
        v["signatures"][0]["dockerReference"],
        "192.168.64.2:5000/cosign-signed/fulcio-rekor-1"
    );

    // Another identity: the signature verifies, the policy refuses (7).
    let (code, out, _) = verify(&[
        &target,
        "--cert-identity",
        "someone@example.com",
        MITR[2],
        MITR[3],
    ]);
    assert_eq!(code, 7, "{out}");
    assert!(out.contains("SubjectAlternativeName"), "{out}");

    // The same signature stored for another image: its payload names the
    // first image, so it is no signature of this one (6).
    let other = digest_bytes(b"another image", DigestAlgorithm::Sha256).to_string();
    push_sig(
        host,
        "cosign-signed/fulcio-rekor-1",
        &other,
        &[(payload.clone(), annotations.clone())],
        tmp.path(),
    );
    let (code, out, _) = verify(&[
        &format!("oci://{host}/cosign-signed/fulcio-rekor-1@{other}"),
        MITR[0],
        MITR[1],
        MITR[2],
        MITR[3],
    ]);
    assert_eq!(code, 6, "{out}");
    assert!(out.contains("docker-manifest-digest"), "{out}");

    // A certificate annotation that did not sign (6).
    let mut recert = annotations.clone();
    let (_, key_annotations, _) = stored("dir-img-cosign-key-rekor-valid");
    recert["dev.cosignproject.cosign/signature"] =
        key_annotations["dev.cosignproject.cosign/signature"].clone();
    push_sig(
        host,
        "cosign-signed/swapped",
        &image,
        &[(payload.clone(), recert)],
        tmp.path(),
    );
    let (code, out, _) = verify(&[
        &format!("oci://{host}/cosign-signed/swapped@{image}"),
        MITR[0],
        MITR[1],
        MITR[2],
        MITR[3],
    ]);
    assert_eq!(code, 6, "{out}");

    // No .sig tag: no signature (5).
    let (code, _, err) = verify(&[
        &format!("oci://{host}/cosign-signed/none@{image}"),
        MITR[0],
        MITR[1],
        MITR[2],
        MITR[3],
    ]);
    assert_eq!(code, 5, "{err}");

    // A key signature with its Rekor entry, verified with the key.
    let (payload, annotations, image) = stored("dir-img-cosign-key-rekor-valid");
    push_sig(
        host,
        "cosign-signed/key-1",
        &image,
        &[(payload, annotations)],
        tmp.path(),
    );
    let key = data()
        .join("containers-image/cosign2.pub")
        .display()
        .to_string();
    let (code, out, err) = verify(&[
        &format!("oci://{host}/cosign-signed/key-1@{image}"),
        "--key",
        &key,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("signed by key "), "{out}");
    let wrong = data()
        .join("containers-image/cosign.pub")
        .display()
        .to_string();
    let (code, _, _) = verify(&[
        &format!("oci://{host}/cosign-signed/key-1@{image}"),
        "--key",
        &wrong,
    ]);
    assert_eq!(code, 6);

    // Whose signature to accept must be said.
    let (code, _, err) = verify(&[&target]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = verify(&[&target, "--cert-identity", "x"]);
    assert_eq!(code, 2);
}

/// An attestation stored as cosign 2 stores it (`.att` tag: a DSSE layer
/// with the certificate and Rekor entry as annotations), found by
/// `verify --bundle-from-oci` beside OCI referrers and verified as any
/// bundle; one whose annotation names another predicate type is refused.
#[test]
fn cosign_att_attestations_are_found_by_bundle_from_oci() {
    use attest::source::oci::{parse_oci_ref, push_image, ImageSpec, RegistryAuth};
    use attest_testsign::{
        provenance_predicate, statement, FulcioClaims, SignOptions, TestSigstore,
        TestSigstoreConfig, SLSA_PROVENANCE_V1,
    };
    let registry = Registry::start(false);
    let host = &registry.host;
    let tmp = tempfile::tempdir().unwrap();
    let r = parse_oci_ref(&format!("oci://{host}/octo/app:1.0"))
        .unwrap()
        .unwrap();
    let spec = ImageSpec {
        platform: ("linux".into(), "amd64".into()),
        config:
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#
                .to_vec(),
        layers: vec![b"cosign att layer".to_vec()],
    };
    let image = push_image(&r, &[spec], &RegistryAuth::Anonymous).unwrap();
    let mut sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let claims = FulcioClaims::default();
    let st = statement(
        &[("octo/app", "sha256", &image.hex())],
        SLSA_PROVENANCE_V1,
        provenance_predicate(&claims),
    );
    let bundle = sigstore.sign_statement(&st, &claims, &SignOptions::tlog_only());
    let annotations = |predicate_type: &str| {
        let mut a = serde_json::to_value(attest_testsign::cosign_annotations(&bundle)).unwrap();
        a["predicateType"] = predicate_type.into();
        a
    };
    let envelope = serde_json::to_vec(&bundle["dsseEnvelope"]).unwrap();
    let tag = format!("{}.att", image.to_string().replace(':', "-"));
    push_tag(
        host,
        "octo/app",
        &tag,
        "application/vnd.dsse.envelope.v1+json",
        &[(envelope.clone(), annotations(SLSA_PROVENANCE_V1))],
        tmp.path(),
    );
    let root = tmp.path().join("root.json");
    std::fs::write(&root, sigstore.trusted_root_json() + "\n").unwrap();
    let target = format!("oci://{host}/octo/app@{image}");
    let run = || {
        common::run(
            common::attest()
                .env_remove("ATTEST_OFFLINE")
                .args([
                    "verify",
                    &target,
                    "--bundle-from-oci",
                    "--repo",
                    "octo-org/octo-repo",
                    "--custom-trusted-root",
                ])
                .arg(&root),
        )
    };
    let (code, out, err) = run();
    assert_eq!(code, 0, "{out}{err}");
    // A lying predicateType annotation: the only attestation is unreadable (3).
    push_tag(
        host,
        "octo/app",
        &tag,
        "application/vnd.dsse.envelope.v1+json",
        &[(envelope, annotations("https://cyclonedx.org/bom"))],
        tmp.path(),
    );
    let (code, out, err) = run();
    assert_eq!(code, 3, "{out}{err}");
    assert!(
        err.contains("the predicateType annotation says https://cyclonedx.org/bom"),
        "{err}"
    );
}

/// A policy file that requires a cosign signature (and provenance): an
/// image pushed to the registry, signed by the test Sigstore as cosign
/// signs (a simplesigning payload naming the image's digest, stored under
/// the `.sig` tag), meets it through `verify --policy … --bundle-from-oci`;
/// another identity fails (7), no evidence at all (5), naming the requirement.
#[test]
fn a_policy_can_require_a_cosign_signature() {
    use attest::source::oci::{
        parse_oci_ref, push_bundle_referrer, push_image, ImageSpec, RegistryAuth,
    };
    use attest_testsign::{
        provenance_predicate, statement, FulcioClaims, SignOptions, TestSigstore,
        TestSigstoreConfig, SLSA_PROVENANCE_V1,
    };
    let registry = Registry::start(false);
    let host = &registry.host;
    let tmp = tempfile::tempdir().unwrap();
    let mut sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let claims = FulcioClaims::default();
    let push = |name: &str| {
        let r = parse_oci_ref(&format!("oci://{host}/octo/{name}:1.0"))
            .unwrap()
            .unwrap();
        let spec = ImageSpec {
            platform: ("linux".into(), "amd64".into()),
            config:
                br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#
                    .to_vec(),
            layers: vec![format!("layer {name}").into_bytes()],
        };
        (
            r.clone(),
            push_image(&r, &[spec], &RegistryAuth::Anonymous).unwrap(),
        )
    };
    let (signed_ref, signed) = push("signed");
    let (_, unsigned) = push("unsigned");
    // cosign's payload for the image, signed as a blob; the bundle's
    // material becomes cosign's annotations.
    let payload = format!(
        "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"{host}/octo/signed\"}},\"image\":{{\"docker-manifest-digest\":\"{signed}\"}},\"type\":\"cosign container image signature\"}},\"optional\":null}}"
    );
    let bundle = sigstore.sign_blob(payload.as_bytes(), &claims, &SignOptions::tlog_only());
    let annotations = serde_json::to_value(attest_testsign::cosign_annotations(&bundle)).unwrap();
    push_sig(
        host,
        "octo/signed",
        &signed.to_string(),
        &[(payload.into_bytes(), annotations)],
        tmp.path(),
    );
    // Provenance as a referrer, for the AND of both requirements.
    let st = statement(
        &[("octo/signed", "sha256", &signed.hex())],
        SLSA_PROVENANCE_V1,
        provenance_predicate(&claims),
    );
    let prov = sigstore.sign_statement(&st, &claims, &sigstore.default_sign_options());
    push_bundle_referrer(
        &signed_ref,
        &signed,
        &serde_json::to_vec(&prov).unwrap(),
        &RegistryAuth::Anonymous,
    )
    .unwrap();
    let root = tmp.path().join("root.json");
    std::fs::write(&root, sigstore.trusted_root_json() + "\n").unwrap();

    let policy = |repo: &str| {
        let p = tmp.path().join(format!("{}.toml", repo.replace('/', "-")));
        std::fs::write(
            &p,
            format!("version = 1\n[[rule]]\nimages = [\"{host}/octo/*\"]\n[[rule.require]]\nsignature = true\nrepo = \"{repo}\"\n[[rule.require]]\npredicate-type = \"slsa-provenance-v1\"\nrepo = \"{repo}\"\ncheck-provenance = false\n"),
        )
        .unwrap();
        p.display().to_string()
    };
    let run = |p: &str, target: &str| {
        common::run(
            common::attest()
                .env_remove("ATTEST_OFFLINE")
                .args([
                    "verify",
                    "--policy",
                    p,
                    target,
                    "--bundle-from-oci",
                    "--custom-trusted-root",
                ])
                .arg(&root),
        )
    };
    let target = format!("oci://{host}/octo/signed@{signed}");
    let (code, out, err) = run(&policy("octo-org/octo-repo"), &target);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("cosign container image signature signed by"),
        "{out}"
    );
    // Another repository: the signature verifies, the identity does not match.
    let (code, out, _) = run(&policy("octo-org/other"), &target);
    assert_eq!(code, 7, "{out}");
    assert!(out.contains("SourceRepositoryURI"), "{out}");
    // An image without a signature or provenance: neither requirement is
    // met, and there is no evidence at all (5).
    let (code, out, _) = run(
        &policy("octo-org/octo-repo"),
        &format!("oci://{host}/octo/unsigned@{unsigned}"),
    );
    assert_eq!(code, 5, "{out}");
    assert!(out.contains("0 of 1 met"), "{out}");
}

/// One image with provenance as an OCI referrer and a CycloneDX SBOM
/// attestation under cosign's `.att` tag, verified as a cosign user does
/// (`--cert-identity-regex` and `--cert-oidc-issuer`, no GitHub owner): the
/// tag is resolved by the registry and the digest printed, both storage
/// kinds are read and the run says how many came from each, `--source`
/// picks one, and the SBOM is verified and reported with its type.
#[test]
fn every_storage_kind_is_found_and_source_picks_one() {
    use attest::source::oci::{
        parse_oci_ref, push_bundle_referrer, push_image, ImageSpec, RegistryAuth,
    };
    use attest_testsign::{
        provenance_predicate, statement, FulcioClaims, SignOptions, TestSigstore,
        TestSigstoreConfig, SLSA_PROVENANCE_V1,
    };
    const CYCLONEDX: &str = "https://cyclonedx.org/bom";
    let registry = Registry::start(false);
    let host = &registry.host;
    let tmp = tempfile::tempdir().unwrap();
    let tagged = format!("oci://{host}/octo/app:1.0");
    let r = parse_oci_ref(&tagged).unwrap().unwrap();
    let spec = ImageSpec {
        platform: ("linux".into(), "amd64".into()),
        config:
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#
                .to_vec(),
        layers: vec![b"sources layer".to_vec()],
    };
    let image = push_image(&r, &[spec], &RegistryAuth::Anonymous).unwrap();
    let mut sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let claims = FulcioClaims::default();
    let subject = [("octo/app", "sha256", image.hex())];
    let subject: Vec<(&str, &str, &str)> = subject
        .iter()
        .map(|(a, b, c)| (*a, *b, c.as_str()))
        .collect();
    let provenance = sigstore.sign_statement(
        &statement(&subject, SLSA_PROVENANCE_V1, provenance_predicate(&claims)),
        &claims,
        &SignOptions::tlog_only(),
    );
    push_bundle_referrer(
        &r,
        &image,
        &serde_json::to_vec(&provenance).unwrap(),
        &RegistryAuth::Anonymous,
    )
    .unwrap();
    let sbom = json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "components": [{"type": "library", "name": "openssl", "version": "3.0.13"}]
    });
    let sbom_bundle = sigstore.sign_statement(
        &statement(&subject, CYCLONEDX, sbom),
        &claims,
        &SignOptions::tlog_only(),
    );
    let mut annotations =
        serde_json::to_value(attest_testsign::cosign_annotations(&sbom_bundle)).unwrap();
    annotations["predicateType"] = CYCLONEDX.into();
    push_tag(
        host,
        "octo/app",
        &format!("{}.att", image.to_string().replace(':', "-")),
        "application/vnd.dsse.envelope.v1+json",
        &[(
            serde_json::to_vec(&sbom_bundle["dsseEnvelope"]).unwrap(),
            annotations,
        )],
        tmp.path(),
    );
    let root = tmp.path().join("root.json");
    std::fs::write(&root, sigstore.trusted_root_json() + "\n").unwrap();
    let verify = |extra: &[&str]| {
        common::run(
            common::attest()
                .env_remove("ATTEST_OFFLINE")
                .args([
                    "verify",
                    &tagged,
                    "--cert-identity-regex",
                    "^https://github\\.com/octo-org/",
                    "--cert-oidc-issuer",
                    "https://token.actions.githubusercontent.com",
                    "--custom-trusted-root",
                ])
                .arg(&root)
                .args(extra),
        )
    };

    // Provenance (the default type): both kinds read, the tag resolved.
    let (code, out, err) = verify(&["-v"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("Loaded 2 attestations from the OCI registry (1 from OCI referrers, 1 from cosign's .att tag)"),
        "{err}"
    );
    assert!(
        err.contains(&format!("verified {tagged} ({image})")),
        "{err}"
    );
    // The SBOM: verified and reported with its type.
    let (code, out, err) = verify(&[
        "--predicate-type",
        CYCLONEDX,
        "--format",
        "json",
        "--jq",
        ".[0].verificationResult.statement.predicateType",
    ]);
    assert_eq!((code, out.trim()), (0, CYCLONEDX), "{err}");
    // --source picks one kind.
    for (source, predicate, want) in [
        ("referrers", SLSA_PROVENANCE_V1, 0),
        ("referrers", CYCLONEDX, 5),
        ("cosign", CYCLONEDX, 0),
        ("cosign", SLSA_PROVENANCE_V1, 5),
        ("registry", CYCLONEDX, 0),
    ] {
        let (code, out, err) = verify(&["--source", source, "--predicate-type", predicate, "-v"]);
        assert_eq!(code, want, "--source {source} {predicate}: {out}{err}");
        let said = match source {
            "referrers" => "(1 from OCI referrers)",
            "cosign" => "(1 from cosign's .att tag)",
            _ => "(1 from OCI referrers, 1 from cosign's .att tag)",
        };
        assert!(err.contains(said), "--source {source}: {err}");
    }
    // Another identity: a policy failure; the identity needs its issuer;
    // GitHub's API needs an owner to ask under.
    let (code, _, err) = common::run(
        common::attest()
            .env_remove("ATTEST_OFFLINE")
            .args([
                "verify",
                &tagged,
                "--cert-identity-regex",
                "^https://github\\.com/evil/",
                "--cert-oidc-issuer",
                "https://token.actions.githubusercontent.com",
                "--custom-trusted-root",
            ])
            .arg(&root),
    );
    assert_eq!(code, 7, "{err}");
    let (code, _, err) = common::run(common::attest().env_remove("ATTEST_OFFLINE").args([
        "verify",
        &tagged,
        "--cert-identity-regex",
        "^https://github\\.com/octo-org/",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("need --cert-oidc-issuer"), "{err}");
    let (code, _, err) = verify(&["--source", "github"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("GitHub's API is asked by --owner or --repo"),
        "{err}"
    );
}

/// `attest download --source registry` saves cosign's image signatures
/// beside the attestations (an image in the real registry, signed as cosign
/// signs by the test Sigstore), and `verify-signature --bundle` checks the
/// saved file with no network. Real signatures (containers/image's test
/// data) saved the same way verify offline under their own root; a saved
/// payload that names another image, or a line that is not a saved
/// signature, is refused by name.
#[test]
fn downloaded_cosign_signatures_verify_offline() {
    use attest::source::oci::{parse_oci_ref, push_image, ImageSpec, RegistryAuth};
    use attest_testsign::{FulcioClaims, SignOptions, TestSigstore, TestSigstoreConfig};
    use base64::Engine;
    let registry = Registry::start(false);
    let host = &registry.host;
    let tmp = tempfile::tempdir().unwrap();
    let r = parse_oci_ref(&format!("oci://{host}/octo/signed:1.0"))
        .unwrap()
        .unwrap();
    let spec = ImageSpec {
        platform: ("linux".into(), "amd64".into()),
        config:
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#
                .to_vec(),
        layers: vec![b"signed layer".to_vec()],
    };
    let image = push_image(&r, &[spec], &RegistryAuth::Anonymous).unwrap();
    let mut sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let payload = format!(
        "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"{host}/octo/signed\"}},\"image\":{{\"docker-manifest-digest\":\"{image}\"}},\"type\":\"cosign container image signature\"}},\"optional\":null}}"
    );
    let bundle = sigstore.sign_blob(
        payload.as_bytes(),
        &FulcioClaims::default(),
        &SignOptions::tlog_only(),
    );
    let annotations = serde_json::to_value(attest_testsign::cosign_annotations(&bundle)).unwrap();
    push_sig(
        host,
        "octo/signed",
        &image.to_string(),
        &[(payload.into_bytes(), annotations)],
        tmp.path(),
    );
    let root = tmp.path().join("root.json");
    std::fs::write(&root, sigstore.trusted_root_json() + "\n").unwrap();

    let target = format!("oci://{host}/octo/signed@{image}");
    let out_dir = tempfile::tempdir().unwrap();
    let (code, out, err) = common::run(
        common::attest()
            .current_dir(out_dir.path())
            .env_remove("ATTEST_OFFLINE")
            .args(["download", &target, "--source", "registry"]),
    );
    assert_eq!(code, 0, "{out}{err}");
    let sig_file = format!("{image}.sig.jsonl");
    assert!(
        out.contains(&format!("Wrote 1 cosign signature to file {sig_file}")),
        "{out}"
    );
    // No attestation in the registry: the signatures alone are saved.
    assert!(out.contains("No attestations found"), "{out}");
    let saved = out_dir.path().join(&sig_file);
    let identity = [
        "--cert-identity",
        "https://github.com/octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main",
        "--cert-oidc-issuer",
        "https://token.actions.githubusercontent.com",
    ];
    let offline = |image: &str, file: &Path, identity: &[&str], root: &Path| {
        common::run(
            common::attest()
                .args(["verify-signature", image, "--offline", "--bundle"])
                .arg(file)
                .args(identity)
                .arg("--custom-trusted-root")
                .arg(root),
        )
    };
    let (code, out, err) = offline(&target, &saved, &identity, &root);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with(&format!(
            "OK {}:1: signed by https://github.com/octo-org/",
            saved.display()
        )),
        "{out}"
    );

    // Real signatures, saved by the library as download saves them.
    let (real_payload, real_annotations, real_image) = stored("dir-img-cosign-fulcio-rekor-valid");
    let sig = attest::cosign::CosignSignature {
        origin: "real".into(),
        payload: real_payload,
        annotations: serde_json::from_value(real_annotations).unwrap(),
    };
    let line = sig.to_saved_line().unwrap();
    let real_file = out_dir.path().join("real.sig.jsonl");
    std::fs::write(&real_file, format!("{line}\n")).unwrap();
    let real_target = format!("oci://registry.invalid/cosign-signed/offline@{real_image}");
    let real_root = data().join("trusted_root_pgi.json");
    let (code, out, err) = offline(&real_target, &real_file, &MITR, &real_root);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("signed by mitr@redhat.com"), "{out}");

    // The same payload re-encoded to name another image: a failed signature.
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        v["mediaType"],
        "application/vnd.dev.attest.cosign-signature.v1+json"
    );
    let b64 = base64::engine::general_purpose::STANDARD;
    let text = String::from_utf8(b64.decode(v["payload"].as_str().unwrap()).unwrap()).unwrap();
    let other = format!("sha256:{}", "0".repeat(64));
    let mut flipped = v.clone();
    flipped["payload"] = b64.encode(text.replace(&real_image, &other)).into();
    let flipped_file = out_dir.path().join("flipped.jsonl");
    std::fs::write(&flipped_file, flipped.to_string() + "\n").unwrap();
    let (code, out, err) = offline(&real_target, &flipped_file, &MITR, &real_root);
    assert_eq!(code, 6, "{out}{err}");
    assert!(
        out.contains(&format!(
            "the payload signs image {other}, not {real_image}"
        )),
        "{out}"
    );
    // A Sigstore bundle alone is not a saved signature (no payload).
    let bare = out_dir.path().join("bare.jsonl");
    std::fs::write(&bare, v["bundle"].to_string() + "\n").unwrap();
    let (code, out, err) = offline(&real_target, &bare, &MITR, &real_root);
    assert_eq!(code, 3, "{out}{err}");
    assert!(out.contains("unknown member"), "{out}");
    // Offline with a tag: refused before anything is read.
    let (code, _, err) = offline(
        &format!("oci://{host}/octo/signed:1.0"),
        &saved,
        &identity,
        &root,
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("names a tag"), "{err}");
}
