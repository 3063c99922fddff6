//! Every input either counts or is refused: empty values, duplicate JSON
//! keys, network sources under `--offline`, and flags that cannot apply to
//! the mode are usage or input errors, never a silent change of verdict.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use base64::Engine;
use common::{gh_dir, run, verify_sigstore_js};
use serde_json::Value;

/// The reusable-workflow case: without `--signer-repo` gh refuses it
/// (exit 7 here), because the signer is another organisation's workflow.
fn reusable(extra: &[&str]) -> (i32, String, String) {
    run(common::attest()
        .current_dir(gh_dir())
        .args([
            "verify",
            "reusable-workflow-artifact",
            "--owner",
            "malancas",
            "--bundle",
            "reusable-workflow-attestation.sigstore.json",
            "--custom-trusted-root",
            "trusted_root.json",
        ])
        .args(extra))
}

#[test]
fn an_empty_identity_regex_is_a_usage_error_not_no_constraint() {
    let (code, _, err) = reusable(&[]);
    assert_eq!(
        code, 7,
        "control: the other organisation's signer is refused: {err}"
    );
    let (code, _, err) = reusable(&["--cert-identity-regex", ""]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--cert-identity-regex"), "{err}");
}

#[test]
fn every_constraining_flag_refuses_an_empty_value() {
    for flag in [
        "--cert-identity",
        "--cert-identity-regex",
        "--cert-oidc-issuer",
        "--source-ref",
        "--source-digest",
        "--signer-digest",
        "--signer-workflow",
        "--signer-repo",
        "--predicate-type",
        "--hostname",
    ] {
        let (code, _, err) = run(verify_sigstore_js()
            .args(["--bundle", "sigstore-js-2.1.0-bundle.json"])
            .args([flag, ""]));
        assert_eq!(code, 2, "{flag} '': {err}");
        assert!(
            err.contains(flag),
            "{flag}: the message names the flag: {err}"
        );
    }
    for flag in ["--owner", "--repo"] {
        let (code, _, err) = run(common::attest().current_dir(gh_dir()).args([
            "verify",
            "sigstore-js-2.1.0.tgz",
            "-d",
            "sha512",
            "--bundle",
            "sigstore-js-2.1.0-bundle.json",
            flag,
            "",
        ]));
        assert_eq!(code, 2, "{flag} '': {err}");
    }
}

/// The sigstore-js bundle's members written out in order, with `dup`
/// (a member name and its value) inserted right before or after the
/// original member of that name, at the given JSON pointer's object.
fn with_duplicate(pointer: &str, key: &str, value: &Value, before: bool) -> String {
    let bundle: Value = serde_json::from_slice(
        &std::fs::read(gh_dir().join("sigstore-js-2.1.0-bundle.json")).unwrap(),
    )
    .unwrap();
    fn write(v: &Value, path: &str, target: &str, key: &str, dup: &Value, before: bool) -> String {
        match v {
            Value::Object(map) => {
                let mut parts = Vec::new();
                for (k, val) in map {
                    let here = format!("{path}/{k}");
                    let member = |val: &Value| {
                        format!(
                            "{}:{}",
                            serde_json::to_string(k).unwrap(),
                            write(val, &here, target, key, dup, before)
                        )
                    };
                    if path == target && k == key {
                        let extra = format!("{}:{}", serde_json::to_string(k).unwrap(), dup);
                        if before {
                            parts.push(extra);
                            parts.push(member(val));
                        } else {
                            parts.push(member(val));
                            parts.push(extra);
                        }
                    } else {
                        parts.push(member(val));
                    }
                }
                format!("{{{}}}", parts.join(","))
            }
            other => other.to_string(),
        }
    }
    write(&bundle, "", pointer, key, value, before)
}

fn verify_bundle_text(text: &str, extra: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dup.json");
    std::fs::write(&path, text).unwrap();
    run(verify_sigstore_js().arg("--bundle").arg(&path).args(extra))
}

#[test]
fn duplicate_keys_in_a_bundle_are_refused_in_both_orders() {
    let bundle: Value = serde_json::from_slice(
        &std::fs::read(gh_dir().join("sigstore-js-2.1.0-bundle.json")).unwrap(),
    )
    .unwrap();
    // The evil envelope: the real one with a statement about another package.
    let mut evil = bundle["dsseEnvelope"].clone();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut st: Value =
        serde_json::from_slice(&b64.decode(evil["payload"].as_str().unwrap()).unwrap()).unwrap();
    st["subject"][0]["name"] = "pkg:npm/evil@6.6.6".into();
    evil["payload"] = b64.encode(st.to_string()).into();

    // Control: written out without a duplicate, the bundle verifies.
    let plain = with_duplicate("", "no-such-key", &Value::Null, false);
    let (code, _, err) = verify_bundle_text(&plain, &[]);
    assert_eq!(code, 0, "control: {err}");

    for before in [false, true] {
        let text = with_duplicate("", "dsseEnvelope", &evil, before);
        let (code, out, err) = verify_bundle_text(&text, &["--format", "json"]);
        assert_eq!(
            code, 3,
            "duplicate dsseEnvelope (evil first: {before}): {out}{err}"
        );
        assert!(err.contains("duplicate key \"dsseEnvelope\""), "{err}");
        assert!(
            err.contains("dup.json"),
            "the message names the file: {err}"
        );
        assert!(
            out.is_empty(),
            "no JSON verdict for a refused bundle: {out}"
        );
    }

    let cert = bundle["verificationMaterial"]["certificate"].clone();
    let text = with_duplicate("/verificationMaterial", "certificate", &cert, false);
    let (code, _, err) = verify_bundle_text(&text, &[]);
    assert_eq!(code, 3, "duplicate certificate: {err}");
    assert!(
        err.contains("duplicate key \"certificate\" in verificationMaterial"),
        "{err}"
    );
}

#[test]
fn a_statement_that_names_its_subject_twice_is_refused() {
    let bundle: Value = serde_json::from_slice(
        &std::fs::read(gh_dir().join("sigstore-js-2.1.0-bundle.json")).unwrap(),
    )
    .unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = String::from_utf8(
        b64.decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let dup = payload.replacen(
        "\"subject\":",
        "\"subject\":[{\"name\":\"pkg:npm/evil@6.6.6\",\"digest\":{\"sha512\":\"00\"}}],\"subject\":",
        1,
    );
    assert_ne!(dup, payload, "the payload has a subject member");
    let mut tampered = bundle.clone();
    tampered["dsseEnvelope"]["payload"] = b64.encode(dup).into();
    let (code, _, err) = verify_bundle_text(&tampered.to_string(), &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("duplicate key \"subject\""), "{err}");
}

/// A loopback listener that counts connections, for proxies and API URLs
/// that an offline run must never use.
struct Tripwire {
    addr: String,
    hits: Arc<AtomicUsize>,
}

fn tripwire() -> Tripwire {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            h.fetch_add(1, Ordering::SeqCst);
            let mut c = conn;
            let mut buf = [0u8; 1024];
            let _ = c.set_read_timeout(Some(std::time::Duration::from_millis(200)));
            let _ = c.read(&mut buf);
        }
    });
    Tripwire { addr, hits }
}

fn offline_cmd(t: &Tripwire) -> std::process::Command {
    let url = format!("http://{}", t.addr);
    let mut c = common::attest();
    c.current_dir(gh_dir())
        .env("GITHUB_API_URL", &url)
        .env("HTTPS_PROXY", &url)
        .env("HTTP_PROXY", &url)
        .env("ALL_PROXY", &url)
        .env("https_proxy", &url)
        .env("http_proxy", &url)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy");
    c
}

#[test]
fn offline_opens_no_socket() {
    let t = tripwire();
    // Without --bundle the attestations would come from GitHub's API.
    let (code, _, err) = run(offline_cmd(&t).args([
        "verify",
        "--offline",
        "sigstore-js-2.1.0.tgz",
        "-d",
        "sha512",
        "--owner",
        "sigstore",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--bundle"),
        "says which flag supplies the evidence: {err}"
    );
    // A tag needs the registry to resolve it.
    let tag = format!("oci://{}/octo/app:1.0", t.addr);
    let (code, _, err) = run(offline_cmd(&t).args([
        "verify",
        "--offline",
        &tag,
        "--owner",
        "sigstore",
        "--bundle",
        "sigstore-js-2.1.0-bundle.json",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("oci://IMAGE@sha256:"), "{err}");
    let (code, _, err) = run(offline_cmd(&t).args([
        "verify",
        "--offline",
        &tag,
        "--owner",
        "sigstore",
        "--bundle-from-oci",
    ]));
    assert_eq!(code, 2, "{err}");
    // Control: the same run with evidence from a file verifies, offline,
    // with the embedded roots and no connection anywhere.
    let (code, _, err) = run(offline_cmd(&t).args([
        "verify",
        "--offline",
        "sigstore-js-2.1.0.tgz",
        "-d",
        "sha512",
        "--owner",
        "sigstore",
        "--bundle",
        "sigstore-js-2.1.0-bundle.json",
    ]));
    assert_eq!(code, 0, "{err}");
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(t.hits.load(Ordering::SeqCst), 0, "an offline run connected");
}

#[test]
fn flags_that_cannot_apply_are_refused() {
    let hex512 = {
        let data = std::fs::read(gh_dir().join("sigstore-js-2.1.0.tgz")).unwrap();
        attest::artifact::digest_bytes(&data, attest::artifact::DigestAlgorithm::Sha512)
    };
    let bundle = [
        "--bundle",
        "sigstore-js-2.1.0-bundle.json",
        "--owner",
        "sigstore",
    ];
    // Control: the digest alone verifies.
    let (code, _, err) = run(common::attest()
        .current_dir(gh_dir())
        .args(["verify", &hex512.to_string()])
        .args(bundle));
    assert_eq!(code, 0, "{err}");
    // -d sha256 for a sha512 digest was silently ignored.
    let (code, _, err) = run(common::attest()
        .current_dir(gh_dir())
        .args(["verify", &hex512.to_string(), "-d", "sha256"])
        .args(bundle));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("-d sha256"), "{err}");
    // -d with an image.
    let hex256 = {
        let data = std::fs::read(gh_dir().join("sigstore-js-2.1.0.tgz")).unwrap();
        attest::artifact::digest_bytes(&data, attest::artifact::DigestAlgorithm::Sha256)
    };
    let image = format!("oci://127.0.0.1:1/octo/app@{hex256}");
    let (code, _, err) = run(common::attest()
        .current_dir(gh_dir())
        .args(["verify", &image, "-d", "sha512"])
        .args(bundle));
    assert_eq!(code, 2, "{err}");
    // --dir and --digests-only need --manifest.
    for extra in [&["--dir", "."][..], &["--digests-only"][..]] {
        let (code, _, err) = run(verify_sigstore_js()
            .args(["--bundle", "sigstore-js-2.1.0-bundle.json"])
            .args(extra));
        assert_eq!(code, 2, "{extra:?}: {err}");
    }
    // --key with GitHub's API (which is asked by owner or repo).
    let (code, _, err) = run(common::attest().current_dir(gh_dir()).args([
        "verify",
        "sigstore-js-2.1.0.tgz",
        "--key",
        "trusted_root.json",
    ]));
    assert_eq!(code, 2, "{err}");
}

#[test]
fn refusing_public_good_is_one_exit_code_whatever_the_root() {
    let embedded = run(verify_sigstore_js().args([
        "--bundle",
        "sigstore-js-2.1.0-bundle.json",
        "--no-public-good",
    ]));
    let custom = run(verify_sigstore_js().args([
        "--bundle",
        "sigstore-js-2.1.0-bundle.json",
        "--no-public-good",
        "--custom-trusted-root",
        "trusted_root.json",
    ]));
    assert_eq!(embedded.0, 6, "{}", embedded.2);
    assert_eq!(custom.0, 6, "{}", custom.2);
    assert!(custom.2.contains("public good"), "{}", custom.2);
}
