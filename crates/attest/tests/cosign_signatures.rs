//! cosign's legacy image signatures (`sha256-<hex>.sig`), real ones from
//! public repositories' test data (tests/data/cosign/README.md says where
//! each came from), verified as the Sigstore bundles they are equivalent
//! to, under the trust root cosign's own tests use; and one flip at a time
//! of what must make them fail.

use std::path::{Path, PathBuf};

use attest::artifact::{digest_bytes, ArtifactDigest, DigestAlgorithm};
use attest::cosign::{
    from_containers_image, CosignSignature, BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION,
    SIGNATURE_ANNOTATION,
};
use attest::outcome::Outcome;
use attest::policy::Policy;
use attest::trust::TrustStore;
use attest::verifier::Verifier;
use attest::verify::{parse_public_key_pem, ArtifactInput};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cosign")
}

fn trust() -> TrustStore {
    TrustStore::from_file(&data().join("trusted_root_pgi.json"), false).unwrap()
}

fn containers_image(set: &str) -> (CosignSignature, ArtifactDigest) {
    let dir = data().join("containers-image").join(set);
    let sig = from_containers_image(set, &std::fs::read(dir.join("signature-1")).unwrap()).unwrap();
    let image = digest_bytes(
        &std::fs::read(dir.join("manifest.json")).unwrap(),
        DigestAlgorithm::Sha256,
    );
    (sig, image)
}

/// Any predicate type (a signature has no statement), this identity.
fn identity(san: &str, issuer: &str) -> Policy {
    Policy::identity_only(Some(san.into()), Some(issuer.into()))
}

fn keyless(
    sig: &CosignSignature,
    image: &ArtifactDigest,
    policy: Policy,
) -> Result<Outcome, String> {
    sig.check_payload(image).map_err(|e| e.to_string())?;
    let bundle = sig.to_bundle().map_err(|e| e.to_string())?;
    let v = Verifier::keyless(trust(), policy);
    Ok(v.evaluate(&bundle, ArtifactInput::Digest(&sig.payload_digest())))
}

fn key(sig: &CosignSignature, image: &ArtifactDigest, pem: &str) -> Result<Outcome, String> {
    sig.check_payload(image).map_err(|e| e.to_string())?;
    let bundle = sig.to_bundle().map_err(|e| e.to_string())?;
    let key = parse_public_key_pem(
        &std::fs::read_to_string(data().join("containers-image").join(pem)).unwrap(),
    )
    .unwrap();
    let v = Verifier::with_key(trust(), key, Policy::statement_only(String::new())).unwrap();
    Ok(v.evaluate(&bundle, ArtifactInput::Digest(&sig.payload_digest())))
}

fn matched(o: &Outcome) -> bool {
    matches!(o, Outcome::Matched { .. })
}

/// Failed, by the named check.
fn matched_check(o: &Outcome, check: &str) -> bool {
    matches!(o, Outcome::Failed(e) if e.failed_check().name() == check)
}

const MITR: (&str, &str) = ("mitr@redhat.com", "https://github.com/login/oauth");

#[test]
fn real_keyless_and_key_signed_signatures_verify() {
    let (sig, image) = containers_image("dir-img-cosign-fulcio-rekor-valid");
    let o = keyless(&sig, &image, identity(MITR.0, MITR.1)).unwrap();
    assert!(matched(&o), "{}", o.reason());
    let att = o.attestation().unwrap();
    // A legacy signature's entry carries a SET, no inclusion proof: the
    // log's promise, verified, and its time used for the certificate.
    assert_eq!(att.tlog_entries_verified, 0);
    assert!(att
        .timestamps
        .iter()
        .any(|t| t.kind == attest::verify::TimestampKind::Tlog));
    assert!(att.sct_verified);
    assert_eq!(att.inclusion, attest::verify::Inclusion::Promised);
    // The payload names the image and where it was pushed.
    let p = sig.check_payload(&image).unwrap();
    assert_eq!(
        p.docker_reference,
        "192.168.64.2:5000/cosign-signed/fulcio-rekor-1"
    );

    let (sig, image) = containers_image("dir-img-cosign-key-rekor-valid");
    assert!(matched(&key(&sig, &image, "cosign2.pub").unwrap()));
    // The other key does not verify it.
    assert!(!matched(&key(&sig, &image, "cosign.pub").unwrap()));

    // A key signature with no Rekor entry has no verified time: refused, as
    // cosign refuses it unless told --insecure-ignore-tlog.
    let (sig, image) = containers_image("dir-img-cosign-valid");
    let o = key(&sig, &image, "cosign.pub").unwrap();
    assert!(matched_check(&o, "bundle structure"), "{}", o.reason());
}

#[test]
fn a_real_github_actions_signature_from_a_registry_verifies() {
    // salrashid123/go-bazel-github-workflow's .sig manifest and payload.
    let dir = data().join("salrashid123-sig");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("sig-manifest.json")).unwrap()).unwrap();
    let layer = &manifest["layers"][0];
    let payload = std::fs::read(dir.join(format!(
        "{}.json",
        layer["digest"].as_str().unwrap().replace(':', "-")
    )))
    .unwrap();
    let annotations = layer["annotations"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    let sig = CosignSignature {
        origin: "salrashid123".into(),
        payload,
        annotations,
    };
    let image = ArtifactDigest::parse(
        "sha256:c05263d2ff654c3a94243662440913f045075d59c436e2c69e9145ec2b87a321",
    )
    .unwrap();
    let san = "https://github.com/salrashid123/go-bazel-github-workflow/.github/workflows/release.yaml@refs/tags/v0.0.30";
    let o = keyless(
        &sig,
        &image,
        identity(san, "https://token.actions.githubusercontent.com"),
    )
    .unwrap();
    assert!(matched(&o), "{}", o.reason());
    let cert = o.attestation().unwrap().certificate.clone().unwrap();
    assert_eq!(
        cert.source_repository_uri.as_deref(),
        Some("https://github.com/salrashid123/go-bazel-github-workflow")
    );
    // gh-style flags work on it as on any GitHub Actions certificate.
    let flags = attest::PolicyFlags {
        repo: Some("salrashid123/go-bazel-github-workflow".into()),
        ..Default::default()
    };
    let mut policy = Policy::from_flags(&flags).unwrap();
    policy.predicate_type = String::new();
    assert!(matched(&keyless(&sig, &image, policy).unwrap()));
}

#[test]
fn each_flip_fails_for_its_own_reason() {
    let (good, image) = containers_image("dir-img-cosign-fulcio-rekor-valid");
    let (key_sig, _) = containers_image("dir-img-cosign-key-rekor-valid");
    let failed = |sig: &CosignSignature, policy: Policy| -> String {
        match keyless(sig, &image, policy) {
            Err(e) => e,
            Ok(o) => {
                assert!(!matched(&o), "passed");
                o.reason()
            }
        }
    };
    let check = |sig: &CosignSignature| -> &'static str {
        match keyless(sig, &image, identity(MITR.0, MITR.1)).unwrap() {
            Outcome::Failed(e) => e.failed_check().name(),
            o => panic!("expected a failed check, got {}", o.reason()),
        }
    };

    // The payload signs another image.
    let other = digest_bytes(b"another image", DigestAlgorithm::Sha256);
    let e = good.check_payload(&other).unwrap_err().to_string();
    assert!(e.contains("docker-manifest-digest"), "{e}");

    // The payload is not an image signature (the type is checked before
    // anything is verified).
    let mut typed = good.clone();
    typed.payload = String::from_utf8(good.payload.clone())
        .unwrap()
        .replace("cosign container image signature", "something else")
        .into_bytes();
    let e = typed.check_payload(&image).unwrap_err().to_string();
    assert!(e.contains("critical.type"), "{e}");

    // Another identity: verified, then refused by the policy.
    let r = failed(&good, identity("someone@example.com", MITR.1));
    assert!(r.contains("SubjectAlternativeName"), "{r}");

    // A signature that is not over this payload.
    let mut flipped = good.clone();
    let s = flipped.annotations[SIGNATURE_ANNOTATION].clone();
    let mut bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &s).unwrap();
    let n = bytes.len() - 2;
    bytes[n] ^= 1;
    flipped.annotations.insert(
        SIGNATURE_ANNOTATION.into(),
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes),
    );
    assert_eq!(check(&flipped), "signature");

    // The Rekor entry (and its SET) of another signature.
    let mut swapped = good.clone();
    swapped.annotations.insert(
        BUNDLE_ANNOTATION.into(),
        key_sig.annotations[BUNDLE_ANNOTATION].clone(),
    );
    // (its time is outside this certificate's validity, which is checked
    // first; the SET's own check is the flip below).
    assert_eq!(check(&swapped), "certificate chain");
    // A signed entry timestamp that is not the log's.
    let mut set = good.clone();
    let mut rekor: serde_json::Value =
        serde_json::from_str(&good.annotations[BUNDLE_ANNOTATION]).unwrap();
    let sig_b64 = rekor["SignedEntryTimestamp"].as_str().unwrap().to_string();
    let mut raw =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &sig_b64).unwrap();
    let n = raw.len() - 3;
    raw[n] ^= 1;
    rekor["SignedEntryTimestamp"] =
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, raw).into();
    set.annotations
        .insert(BUNDLE_ANNOTATION.into(), rekor.to_string());
    assert_eq!(check(&set), "SET");
    // The entry's body changed (another signature's hash): the SET no
    // longer covers it.
    let mut body = good.clone();
    let mut rekor: serde_json::Value =
        serde_json::from_str(&good.annotations[BUNDLE_ANNOTATION]).unwrap();
    rekor["Payload"]["body"] =
        serde_json::from_str::<serde_json::Value>(&key_sig.annotations[BUNDLE_ANNOTATION]).unwrap()
            ["Payload"]["body"]
            .clone();
    body.annotations
        .insert(BUNDLE_ANNOTATION.into(), rekor.to_string());
    let c = check(&body);
    assert!(c == "SET" || c == "log entry consistency", "{c}");

    // A certificate annotation that did not sign: the salrashid123 leaf.
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(data().join("salrashid123-sig/sig-manifest.json")).unwrap(),
    )
    .unwrap();
    let other_cert = manifest["layers"][0]["annotations"][CERTIFICATE_ANNOTATION]
        .as_str()
        .unwrap();
    let mut recert = good.clone();
    recert
        .annotations
        .insert(CERTIFICATE_ANNOTATION.into(), other_cert.into());
    assert_eq!(check(&recert), "certificate chain");

    // No signature at all, and a Rekor annotation that is not one.
    let mut unsigned = good.clone();
    unsigned.annotations.remove(SIGNATURE_ANNOTATION);
    assert!(unsigned
        .to_bundle()
        .unwrap_err()
        .to_string()
        .contains(SIGNATURE_ANNOTATION));
    let mut junk = good.clone();
    junk.annotations
        .insert(BUNDLE_ANNOTATION.into(), "{\"Payload\":{}}".into());
    assert!(junk
        .to_bundle()
        .unwrap_err()
        .to_string()
        .contains("SignedEntryTimestamp"));
    // Without its Rekor entry the keyless signature has no verified time.
    let mut untimed = good.clone();
    untimed.annotations.remove(BUNDLE_ANNOTATION);
    assert_eq!(check(&untimed), "transparency log");
}

/// zlabjp/slsa-provenance-test's `.att`: slsa-github-generator's SLSA v0.2
/// provenance, stored by cosign as a DSSE layer with its Rekor (intoto)
/// entry in the annotations.
fn zlabjp() -> attest::cosign::CosignAttestation {
    let dir = data().join("zlabjp-slsa-att");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("att-manifest.json")).unwrap()).unwrap();
    let layer = &manifest["layers"][0];
    let envelope = std::fs::read(dir.join(format!(
        "{}.json",
        layer["digest"].as_str().unwrap().replace(':', "-")
    )))
    .unwrap();
    attest::cosign::CosignAttestation {
        origin: "zlabjp .att".into(),
        envelope,
        annotations: layer["annotations"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect(),
    }
}

/// cosign before 2.0 logged attestations as intoto v0.0.1 entries, which
/// the pinned core does not check: refused by name, never accepted
/// unchecked.
#[test]
fn a_real_cosign_v1_attestation_is_refused_with_its_entry_format_named() {
    let e = zlabjp().to_bundle().unwrap_err().to_string();
    assert!(
        e.contains("unsupported Rekor entry format: intoto/0.0.1"),
        "{e}"
    );
}

/// The `.att` form of an attestation the test Sigstore signs (the DSSE
/// envelope as the layer; certificate and Rekor entry as cosign's
/// annotations): verified as a bundle; an annotation that names another
/// predicate type is refused.
#[test]
fn a_cosign_attestation_verifies_as_a_bundle_and_its_annotation_must_agree() {
    use attest_testsign::{
        provenance_predicate, statement, FulcioClaims, SignOptions, TestSigstore,
        TestSigstoreConfig, SLSA_PROVENANCE_V1,
    };
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let claims = FulcioClaims::default();
    let image = digest_bytes(b"image manifest", DigestAlgorithm::Sha256);
    let st = statement(
        &[("octo/app", "sha256", &image.hex())],
        SLSA_PROVENANCE_V1,
        provenance_predicate(&claims),
    );
    let bundle = sigstore.sign_statement(&st, &claims, &SignOptions::tlog_only());
    let mut annotations = attest_testsign::cosign_annotations(&bundle);
    annotations.insert(
        attest::cosign::PREDICATE_TYPE_ANNOTATION.into(),
        SLSA_PROVENANCE_V1.to_string(),
    );
    let att = attest::cosign::CosignAttestation {
        origin: "octo/app:sha256-….att layer 1".into(),
        envelope: serde_json::to_vec(&bundle["dsseEnvelope"]).unwrap(),
        annotations,
    };
    let root = TrustStore::from_jsonl(&sigstore.trusted_root_json(), "test", false).unwrap();
    let policy = Policy::from_flags(&attest::PolicyFlags {
        repo: Some("octo-org/octo-repo".into()),
        ..Default::default()
    })
    .unwrap();
    let v = Verifier::keyless(root, policy);
    let o = v.evaluate(&att.to_bundle().unwrap(), ArtifactInput::Digest(&image));
    assert!(matched(&o), "{}", o.reason());
    assert_eq!(
        o.attestation().unwrap().inclusion,
        attest::verify::Inclusion::Promised
    );
    // The annotation cosign finds attestations by must not lie.
    let mut lying = att.clone();
    lying.annotations.insert(
        attest::cosign::PREDICATE_TYPE_ANNOTATION.into(),
        "https://cyclonedx.org/bom".into(),
    );
    let e = lying.to_bundle().unwrap_err().to_string();
    assert!(e.contains("the predicateType annotation says https://cyclonedx.org/bom, the statement says https://slsa.dev/provenance/v1"), "{e}");
    // An envelope that is not the one logged and signed.
    let mut env = bundle["dsseEnvelope"].clone();
    env["payload"] = b64
        .encode(statement(
            &[("octo/app", "sha256", &image.hex())],
            SLSA_PROVENANCE_V1,
            serde_json::json!({"x": 1}),
        ))
        .into();
    let mut swapped = att.clone();
    swapped.envelope = serde_json::to_vec(&env).unwrap();
    let o = v.evaluate(&swapped.to_bundle().unwrap(), ArtifactInput::Digest(&image));
    let name = match &o {
        Outcome::Failed(e) => e.failed_check().name(),
        o => panic!("{}", o.reason()),
    };
    assert!(
        name == "signature" || name == "log entry consistency",
        "{name}"
    );
}
