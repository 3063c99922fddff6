//! Hostile OCI registries (a fake one on 127.0.0.1, tests/support/
//! fake_registry.rs): a bundle layer that never ends, answers trickled one
//! byte at a time, a digest header contradicting the pinned digest, and a
//! referrers API answering 406 or 400 (gh then falls back to the tag schema).
//! Each run is bounded: a hang is a failure after 60 s, not a stuck test.

mod common;
#[path = "support/fake_registry.rs"]
mod fake_registry;

use std::sync::atomic::Ordering;
use std::time::Duration;

use attest::artifact::{digest_bytes, ArtifactDigest, DigestAlgorithm};
use attest_testsign::{
    provenance_predicate, statement, FulcioClaims, TestSigstore, TestSigstoreConfig,
    SLSA_PROVENANCE_V1,
};
use fake_registry::{FakeRegistry, Reply, Request};

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";
const BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// Longest any run may take; every case here should end in a few seconds.
const BOUND: Duration = Duration::from_secs(60);

/// `attest ARGS` with `env`, killed after [`BOUND`]: exit code (None if
/// killed), stderr, and how long it ran.
fn run_bounded(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, Duration) {
    let mut cmd = common::attest();
    // Online: `--offline` (the tests' default) refuses registries.
    cmd.env_remove("ATTEST_OFFLINE").args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    common::run_bounded_stderr(&mut cmd, BOUND)
}

/// A trusted root file for the test Sigstore (no bundle here needs it to
/// verify unless it is signed by `sigstore`).
fn root_file(sigstore: &TestSigstore) -> tempfile::NamedTempFile {
    let root = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(root.path(), sigstore.trusted_root_json() + "\n").unwrap();
    root
}

fn verify_args<'a>(image: &'a str, root: &'a tempfile::NamedTempFile) -> Vec<&'a str> {
    vec![
        "verify",
        image,
        "--bundle-from-oci",
        "--repo",
        "octo-org/octo-repo",
        "--custom-trusted-root",
        root.path().to_str().unwrap(),
    ]
}

/// The image of every case: a one-layer manifest under `octo/app:1.0`.
fn image_manifest() -> (Vec<u8>, ArtifactDigest) {
    let body = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": format!("sha256:{}", "a".repeat(64)), "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": format!("sha256:{}", "b".repeat(64)), "size": 3}],
    }))
    .unwrap();
    let digest = digest_bytes(&body, DigestAlgorithm::Sha256);
    (body, digest)
}

/// A referrer manifest whose first layer is `layer_digest` of `layer_size`
/// bytes, and the index listing it.
fn referrer(subject: &ArtifactDigest, layer_digest: &str, layer_size: u64) -> (Vec<u8>, Vec<u8>) {
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "artifactType": BUNDLE,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": digest_bytes(b"{}", DigestAlgorithm::Sha256).to_string(), "size": 2},
        "layers": [{"mediaType": BUNDLE, "digest": layer_digest, "size": layer_size}],
        "subject": {"mediaType": MANIFEST, "digest": subject.to_string(), "size": 1},
    }))
    .unwrap();
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": INDEX,
        "manifests": [{
            "mediaType": MANIFEST,
            "digest": digest_bytes(&manifest, DigestAlgorithm::Sha256).to_string(),
            "size": manifest.len(),
            "artifactType": BUNDLE,
        }],
    }))
    .unwrap();
    (manifest, index)
}

/// A registry holding `octo/app:1.0` and one bundle referrer, whose
/// referrers API answers `referrers_status` (200 serves the index there,
/// anything else serves it under the `sha256-<hex>` tag instead) and whose
/// blob is answered by `blob`.
fn registry_with_referrer(
    layer_digest: String,
    layer_size: u64,
    referrers_status: u16,
    blob: impl Fn() -> Reply + Send + Sync + 'static,
) -> (FakeRegistry, ArtifactDigest) {
    let (image, digest) = image_manifest();
    let (manifest, index) = referrer(&digest, &layer_digest, layer_size);
    let manifest_digest = digest_bytes(&manifest, DigestAlgorithm::Sha256).to_string();
    let d = digest.clone();
    let reg = FakeRegistry::start(move |req: &Request| {
        let base = "/v2/octo/app";
        let p = req.path.as_str();
        if p == format!("{base}/manifests/1.0") || p == format!("{base}/manifests/{d}") {
            Reply::json(MANIFEST, &image, Some(&d.to_string()))
        } else if p == format!("{base}/referrers/{d}") {
            if referrers_status == 200 {
                Reply::json(INDEX, &index, None)
            } else {
                Reply::error(referrers_status, "UNSUPPORTED")
            }
        } else if p == format!("{base}/manifests/sha256-{}", d.hex()) && referrers_status != 200 {
            Reply::json(INDEX, &index, None)
        } else if p == format!("{base}/manifests/{manifest_digest}") {
            Reply::json(MANIFEST, &manifest, Some(&manifest_digest))
        } else if p == format!("{base}/blobs/{layer_digest}") {
            blob()
        } else {
            Reply::error(404, "MANIFEST_UNKNOWN")
        }
    });
    (reg, digest)
}

#[test]
fn a_layer_declared_small_but_streamed_endlessly_is_cut_at_its_size() {
    let sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let root = root_file(&sigstore);
    let layer = format!("sha256:{}", "c".repeat(64));
    let (reg, _) = registry_with_referrer(layer, 100, 200, || {
        Reply::Endless(vec![("Content-Type".into(), BUNDLE.into())])
    });
    let image = format!("oci://{}/octo/app:1.0", reg.host);
    let (code, err, elapsed) = run_bounded(&verify_args(&image, &root), &[]);
    assert!(code.is_some(), "still running after {elapsed:?}: {err}");
    assert_ne!(code, Some(0), "{err}");
    assert!(
        err.contains("larger than the 100 bytes its manifest declares"),
        "{err}"
    );
    // attest hung up long before the registry's cap: it kept at most a few
    // socket buffers' worth, not the stream.
    let sent = reg.streamed.load(Ordering::SeqCst);
    assert!(sent < 64 * 1024 * 1024, "the registry sent {sent} bytes");
}

#[test]
fn a_registry_trickling_bytes_is_cut_off_at_the_timeout() {
    let sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let root = root_file(&sigstore);
    let timeout = [("ATTEST_HTTP_TIMEOUT", "3")];
    // Every answer: complete headers, then one body byte every 2 s, so no
    // single read ever waits as long as the 3 s timeout.
    let reg = FakeRegistry::start(|_: &Request| Reply::TrickleBody(Duration::from_secs(2)));
    let image = format!("oci://{}/octo/app:1.0", reg.host);
    let (code, err, elapsed) = run_bounded(&verify_args(&image, &root), &timeout);
    assert_eq!(code, Some(3), "after {elapsed:?}: {err}");
    assert!(err.contains("timed out"), "{err}");

    // Headers trickled a byte at a time.
    let reg = FakeRegistry::start(|_: &Request| Reply::TrickleHeaders(Duration::from_secs(2)));
    let image = format!("oci://{}/octo/app:1.0", reg.host);
    let (code, err, elapsed) = run_bounded(&verify_args(&image, &root), &timeout);
    assert_eq!(code, Some(3), "after {elapsed:?}: {err}");
    assert!(err.contains("timed out"), "{err}");

    // A layer whose body trickles, once everything before it answered (the
    // manifest declares the megabyte the blob's headers announce).
    let layer = format!("sha256:{}", "d".repeat(64));
    let (reg, _) = registry_with_referrer(layer, 1024 * 1024, 200, || {
        Reply::TrickleBody(Duration::from_secs(2))
    });
    let image = format!("oci://{}/octo/app:1.0", reg.host);
    let (code, err, elapsed) = run_bounded(&verify_args(&image, &root), &timeout);
    assert!(code.is_some(), "still running after {elapsed:?}: {err}");
    assert_ne!(code, Some(0), "{err}");
    assert!(
        err.contains("cannot download the bundle layer") && err.contains("timed out"),
        "{err}"
    );
}

#[test]
fn a_pinned_digest_is_never_replaced_by_the_registrys() {
    let sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let root = root_file(&sigstore);
    let (image, pinned) = image_manifest();
    let other = format!("sha512:{}", "e".repeat(128));
    let header = other.clone();
    let reg = FakeRegistry::start(move |req: &Request| {
        if req.path.contains("/manifests/") {
            // The registry names the manifest by another algorithm's digest.
            Reply::json(MANIFEST, &image, Some(&header))
        } else {
            Reply::error(404, "MANIFEST_UNKNOWN")
        }
    });
    let reference = format!("oci://{}/octo/app@{pinned}", reg.host);
    let (code, err, _) = run_bounded(&verify_args(&reference, &root), &[]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains(&format!("expected the pinned digest {pinned}")) && err.contains(&other),
        "{err}"
    );
    // attest never looked for attestations of the registry's digest.
    let hex512 = "e".repeat(128);
    assert!(
        reg.requests().iter().all(|r| !r.contains(&hex512)),
        "{:?}",
        reg.requests()
    );

    // With no digest header, the manifest itself must hash to the pin.
    let reg = FakeRegistry::start(|req: &Request| {
        if req.path.contains("/manifests/") {
            Reply::json(MANIFEST, b"{\"schemaVersion\":2}", None)
        } else {
            Reply::error(404, "MANIFEST_UNKNOWN")
        }
    });
    let reference = format!("oci://{}/octo/app@{pinned}", reg.host);
    let (code, err, _) = run_bounded(&verify_args(&reference, &root), &[]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains(&format!("expected the pinned digest {pinned}")),
        "{err}"
    );
}

#[test]
fn a_referrers_api_answering_406_or_400_falls_back_to_the_tag_schema() {
    let mut sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let root = root_file(&sigstore);
    for status in [406, 400] {
        // A bundle attesting the image's manifest digest.
        let (_, digest) = image_manifest();
        let claims = FulcioClaims::default();
        let st = statement(
            &[("octo/app", "sha256", &digest.hex())],
            SLSA_PROVENANCE_V1,
            provenance_predicate(&claims),
        );
        let opts = sigstore.default_sign_options();
        let bundle = serde_json::to_vec(&sigstore.sign_statement(&st, &claims, &opts)).unwrap();
        let layer = digest_bytes(&bundle, DigestAlgorithm::Sha256).to_string();
        let size = bundle.len() as u64;
        let (reg, _) = registry_with_referrer(layer, size, status, move || {
            Reply::json(BUNDLE, &bundle, None)
        });
        let image = format!("oci://{}/octo/app:1.0", reg.host);
        let (code, err, _) = run_bounded(&verify_args(&image, &root), &[]);
        assert_eq!(code, Some(0), "referrers API {status}: {err}");
        let tag = format!("GET /v2/octo/app/manifests/sha256-{}", digest.hex());
        assert!(
            reg.requests().contains(&tag),
            "referrers API {status}: {:?}",
            reg.requests()
        );
    }
}
