//! Container images in a real registry (Debian's docker-registry on
//! 127.0.0.1), pushed by attest's own code: digests of single and multi-arch
//! images, Sigstore bundles as OCI referrers (the registry has no referrers
//! API, so the `sha256-<hex>` tag schema is used), basic auth, and a
//! registry that never answers.

mod common;
#[path = "support/registry.rs"]
mod registry;

use attest::artifact::ArtifactDigest;
use attest::source::oci::{parse_oci_ref, push_bundle_referrer, push_image, RegistryAuth};
use attest_testsign::{
    provenance_predicate, statement, FulcioClaims, TestSigstore, TestSigstoreConfig,
    SLSA_PROVENANCE_V1,
};
use common::run;
use registry::{image, Registry};

struct Signer {
    sigstore: TestSigstore,
    root: tempfile::NamedTempFile,
}

impl Signer {
    fn new() -> Self {
        let sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
        let root = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(root.path(), sigstore.trusted_root_json() + "\n").unwrap();
        Self { sigstore, root }
    }
    /// A bundle attesting `name` at `digest`.
    fn attest(&mut self, name: &str, digest: &ArtifactDigest) -> Vec<u8> {
        let st = statement(
            &[(name, "sha256", &digest.hex())],
            SLSA_PROVENANCE_V1,
            provenance_predicate(&FulcioClaims::default()),
        );
        let opts = self.sigstore.default_sign_options();
        let bundle = self
            .sigstore
            .sign_statement(&st, &FulcioClaims::default(), &opts);
        serde_json::to_vec(&bundle).unwrap()
    }
}

fn verify(image: &str, root: &std::path::Path, extra: &[&str]) -> (i32, String, String) {
    run(common::attest()
        // Online: `--offline` (the tests' default) refuses registries.
        .env_remove("ATTEST_OFFLINE")
        .args([
            "verify",
            image,
            "--bundle-from-oci",
            "--repo",
            "octo-org/octo-repo",
            "--custom-trusted-root",
        ])
        .arg(root)
        .args(extra))
}

#[test]
fn single_and_multi_arch_images_with_referrer_bundles() {
    let reg = Registry::start(false);
    let mut signer = Signer::new();
    let anon = RegistryAuth::Anonymous;

    // Single-platform image: attested by its manifest digest.
    let app = format!("oci://{}/octo/app:1.0", reg.host);
    let r = parse_oci_ref(&app).unwrap().unwrap();
    let digest = push_image(&r, &[image("amd64")], &anon).unwrap();
    let bundle = signer.attest(&format!("{}/octo/app", reg.host), &digest);
    push_bundle_referrer(&r, &digest, &bundle, &anon).unwrap();
    let (code, out, err) = verify(&app, signer.root.path(), &["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["attestation"]["bundle_url"], "");
    // By digest too, and a second referrer adds a second attestation.
    let by_digest = format!("oci://{}/octo/app@{digest}", reg.host);
    let bundle2 = signer.attest(&format!("{}/octo/app", reg.host), &digest);
    push_bundle_referrer(&r, &digest, &bundle2, &anon).unwrap();
    let (code, out, err) = verify(&by_digest, signer.root.path(), &["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Multi-arch index: attested by the index digest, which the tag resolves to.
    let multi = format!("oci://{}/octo/multi:2.0", reg.host);
    let rm = parse_oci_ref(&multi).unwrap().unwrap();
    let index = push_image(&rm, &[image("amd64"), image("arm64")], &anon).unwrap();
    let b = signer.attest(&format!("{}/octo/multi", reg.host), &index);
    push_bundle_referrer(&rm, &index, &b, &anon).unwrap();
    let (code, _, err) = verify(&multi, signer.root.path(), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&index.to_string()),
        "the summary names the index digest: {err}"
    );

    // An image with no referrers: exit 5 with gh's message.
    let bare = format!("oci://{}/octo/bare:0.1", reg.host);
    push_image(
        &parse_oci_ref(&bare).unwrap().unwrap(),
        &[image("amd64")],
        &anon,
    )
    .unwrap();
    let (code, _, err) = verify(&bare, signer.root.path(), &[]);
    assert_eq!(code, 5, "{err}");
    assert!(
        err.contains("no attestations found in the OCI registry"),
        "{err}"
    );

    // A referrer attesting another image does not verify this one.
    let other = format!("oci://{}/octo/other:1", reg.host);
    let ro = parse_oci_ref(&other).unwrap().unwrap();
    let od = push_image(&ro, &[image("riscv64")], &anon).unwrap();
    let wrong = signer.attest("octo/other", &digest);
    push_bundle_referrer(&ro, &od, &wrong, &anon).unwrap();
    let (code, _, err) = verify(&other, signer.root.path(), &[]);
    assert_eq!(code, 5, "{err}");

    // A missing tag is an unreadable input.
    let (code, _, err) = verify(
        &format!("oci://{}/octo/app:nope", reg.host),
        signer.root.path(),
        &[],
    );
    assert_eq!(code, 3, "{err}");
}

#[test]
fn basic_auth_registry() {
    let reg = Registry::start(true);
    let mut signer = Signer::new();
    let creds = RegistryAuth::Basic(registry::USER.into(), registry::PASSWORD.into());
    let app = format!("oci://{}/octo/private:1.0", reg.host);
    let r = parse_oci_ref(&app).unwrap().unwrap();
    // Pushing without credentials is refused.
    assert!(push_image(&r, &[image("amd64")], &RegistryAuth::Anonymous).is_err());
    let digest = push_image(&r, &[image("amd64")], &creds).unwrap();
    let bundle = signer.attest("octo/private", &digest);
    push_bundle_referrer(&r, &digest, &bundle, &creds).unwrap();

    // No credentials: exit 4 and a message saying how to log in.
    let (code, _, err) = verify(&app, signer.root.path(), &[]);
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("registry authorization failed") && err.contains("docker login"),
        "{err}"
    );

    // Credentials from the Docker config file.
    let docker = tempfile::tempdir().unwrap();
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        registry::USER,
        registry::PASSWORD
    ));
    std::fs::write(
        docker.path().join("config.json"),
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.host),
    )
    .unwrap();
    let (code, _, err) = run(common::attest()
        // Online: `--offline` (the tests' default) refuses registries.
        .env_remove("ATTEST_OFFLINE")
        .env("DOCKER_CONFIG", docker.path())
        .args([
            "verify",
            &app,
            "--bundle-from-oci",
            "--repo",
            "octo-org/octo-repo",
            "--custom-trusted-root",
        ])
        .arg(signer.root.path()));
    assert_eq!(code, 0, "{err}");

    // Credentials from the environment, for the registry ATTEST_REGISTRY
    // names: the right password verifies, a wrong one is exit 4, and
    // credentials for another registry are not offered to this one.
    let with_env = |registry: &str, password: &str| {
        run(common::attest()
            // Online: `--offline` (the tests' default) refuses registries.
            .env_remove("ATTEST_OFFLINE")
            .env("ATTEST_REGISTRY", registry)
            .env("ATTEST_REGISTRY_USERNAME", registry::USER)
            .env("ATTEST_REGISTRY_PASSWORD", password)
            .args([
                "verify",
                &app,
                "--bundle-from-oci",
                "--repo",
                "octo-org/octo-repo",
                "--custom-trusted-root",
            ])
            .arg(signer.root.path()))
    };
    let (code, _, err) = with_env(&reg.host, registry::PASSWORD);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = with_env(&reg.host, "wrong");
    assert_eq!(code, 4, "{err}");
    let (code, _, err) = with_env("registry.example:5000", registry::PASSWORD);
    assert_eq!(code, 4, "{err}");
}

#[test]
fn a_registry_that_never_answers_times_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    // Accept connections and hold them open without a byte of reply.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let root = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        root.path(),
        TestSigstore::new(TestSigstoreConfig::public_good_like()).trusted_root_json(),
    )
    .unwrap();
    let (code, _, err) = run(common::attest()
        // Online: `--offline` (the tests' default) refuses registries.
        .env_remove("ATTEST_OFFLINE")
        .env("ATTEST_HTTP_TIMEOUT", "1")
        .args([
            "verify",
            &format!("oci://{host}/octo/app:1"),
            "--bundle-from-oci",
            "--repo",
            "octo-org/octo-repo",
            "--custom-trusted-root",
        ])
        .arg(root.path()));
    assert_eq!(code, 3, "{err}");
    assert!(
        err.to_lowercase().contains("timed out") || err.contains("no answer"),
        "{err}"
    );
}
