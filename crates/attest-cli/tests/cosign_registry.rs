//! `attest verify-signature`: real cosign signatures (containers/image's
//! test data, tests/data/cosign) pushed as cosign pushes them, a
//! `sha256-<hex>.sig` manifest with one simplesigning layer and its
//! annotations, into Debian's registry on loopback, then verified under
//! cosign's own test trust root.

mod common;
#[path = "support/registry.rs"]
mod registry;

use std::path::{Path, PathBuf};
use std::process::Command;

use attest::artifact::{digest_bytes, DigestAlgorithm};
use registry::Registry;
use serde_json::{json, Value};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../attest/tests/data/cosign")
}

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .arg("-sS")
        .args(args)
        .output()
        .expect("curl");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Push a blob with the registry API's monolithic upload.
fn push_blob(host: &str, repo: &str, bytes: &[u8], dir: &Path) -> String {
    let digest = digest_bytes(bytes, DigestAlgorithm::Sha256).to_string();
    let headers = curl(&[
        "-X",
        "POST",
        "-D",
        "-",
        "-o",
        "/dev/null",
        &format!("http://{host}/v2/{repo}/blobs/uploads/"),
    ]);
    let location = headers
        .lines()
        .find_map(|l| {
            l.strip_prefix("Location: ")
                .or_else(|| l.strip_prefix("location: "))
        })
        .expect("an upload location")
        .trim()
        .to_string();
    let location = if location.starts_with("http") {
        location
    } else {
        format!("http://{host}{location}")
    };
    let sep = if location.contains('?') { '&' } else { '?' };
    let file = dir.join("blob");
    std::fs::write(&file, bytes).unwrap();
    curl(&[
        "-f",
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/octet-stream",
        "--data-binary",
        &format!("@{}", file.display()),
        &format!("{location}{sep}digest={digest}"),
    ]);
    digest
}

/// Push a `.sig` manifest for `image_digest` with one layer per signature
/// (payload, annotations), as cosign writes it.
fn push_sig(host: &str, repo: &str, image_digest: &str, sigs: &[(Vec<u8>, Value)], dir: &Path) {
    let mut layers = Vec::new();
    let mut diff_ids = Vec::new();
    for (payload, annotations) in sigs {
        let d = push_blob(host, repo, payload, dir);
        diff_ids.push(d.clone());
        layers.push(json!({
            "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
            "size": payload.len(),
            "digest": d,
            "annotations": annotations,
        }));
    }
    let config = serde_json::to_vec(&json!({
        "architecture": "", "created": "0001-01-01T00:00:00Z", "history": [{"created": "0001-01-01T00:00:00Z"}],
        "os": "", "rootfs": {"type": "layers", "diff_ids": diff_ids}, "config": {}
    }))
    .unwrap();
    let config_digest = push_blob(host, repo, &config, dir);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": config.len(), "digest": config_digest},
        "layers": layers,
    });
    let file = dir.join("manifest.json");
    std::fs::write(&file, manifest.to_string()).unwrap();
    let tag = image_digest.replace(':', "-") + ".sig";
    curl(&[
        "-f",
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/vnd.oci.image.manifest.v1+json",
        "--data-binary",
        &format!("@{}", file.display()),
        &format!("http://{host}/v2/{repo}/manifests/{tag}"),
    ]);
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
