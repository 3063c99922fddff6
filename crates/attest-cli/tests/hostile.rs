//! Hostile inputs: each gets a clear error or a correct result, bounded in
//! time and memory; none panics (exit 101) or hangs. (The 100 MB bundle and
//! the directory/FIFO cases are in bad_input.rs; a file that changes while it
//! is hashed is a unit test of `artifact::digest_path`.)

mod common;

use common::{attest, gh_dir, run, verify_sigstore_js};
use serde_json::Value;
use std::path::Path;

fn verify(bundle: &Path) -> (i32, String) {
    let (code, _, err) = run(verify_sigstore_js().arg("--bundle").arg(bundle));
    assert_ne!(code, 101, "panic: {err}");
    (code, err)
}

fn good_bundle() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(gh_dir().join("sigstore-js-2.1.0-bundle.json")).unwrap(),
    )
    .unwrap()
}

#[test]
fn json_nested_100000_deep() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.json");
    std::fs::write(
        &path,
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
    )
    .unwrap();
    let (code, err) = verify(&path);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("deep.json:1") && err.contains("recursion limit"),
        "{err}"
    );
    // Deeply nested objects, too.
    std::fs::write(
        &path,
        format!(
            "{{\"x\":{}1{}}}",
            "{\"a\":".repeat(100_000),
            "}".repeat(100_000)
        ),
    )
    .unwrap();
    let (code, err) = verify(&path);
    assert_eq!(code, 3, "{err}");
}

#[test]
fn jsonl_of_100000_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.jsonl");
    let mut text = "{}\n".repeat(99_999);
    text.push_str(&good_bundle().to_string());
    text.push('\n');
    std::fs::write(&path, text).unwrap();
    let (code, err) = verify(&path);
    // The one good bundle on the last line verifies; the rest are reported,
    // but not one line each.
    assert_eq!(code, 0, "{}", &err[..err.len().min(2000)]);
    let (code, _, err) = run(verify_sigstore_js()
        .env("GH_FORCE_TTY", "1")
        .arg("--bundle")
        .arg(&path));
    assert_eq!(code, 0);
    assert!(
        err.contains("99999 other attestations did not match"),
        "{}",
        &err[..err.len().min(2000)]
    );
    assert!(
        err.contains("… and 99979 more"),
        "{}",
        &err[..err.len().min(2000)]
    );
    assert!(
        err.contains("many.jsonl:100000"),
        "the good bundle's line is named"
    );
    assert!(err.lines().count() < 100, "{} lines", err.lines().count());
}

#[test]
fn a_bundle_with_10000_tlog_entries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tlogs.json");
    let mut b = good_bundle();
    // Small entries, so the count (not the size limit) is what is hit.
    let entry = serde_json::json!({"logIndex": "1", "logId": {"keyId": "wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="}, "kindVersion": {"kind": "intoto", "version": "0.0.2"}, "integratedTime": "1693323623", "canonicalizedBody": "e30="});
    b["verificationMaterial"]["tlogEntries"] = Value::Array(vec![entry; 10_000]);
    std::fs::write(&path, b.to_string()).unwrap();
    let (code, err) = verify(&path);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("tlogEntries: 10000 entries, more than the 32"),
        "{err}"
    );
}

#[test]
fn a_certificate_chain_of_100_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.json");
    let mut b: Value = serde_json::from_str(
        &std::fs::read_to_string(gh_dir().join("sigstore-js-2.1.0-bundle-v0.1.json")).unwrap(),
    )
    .unwrap();
    let certs = b["verificationMaterial"]["x509CertificateChain"]["certificates"]
        .as_array()
        .unwrap()
        .clone();
    let hundred: Vec<Value> = certs.iter().cycle().take(100).cloned().collect();
    b["verificationMaterial"]["x509CertificateChain"]["certificates"] = Value::Array(hundred);
    std::fs::write(&path, b.to_string()).unwrap();
    let (code, err) = verify(&path);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("certificates: 100 entries, more than the 10"),
        "{err}"
    );
}

#[test]
fn nul_bytes_and_invalid_utf8_in_manifest_names() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ok.txt"), b"ok").unwrap();
    let hex = "2689367b205c16ce32ed4200942b8b8b1e262dfc70d9bc9fbc77c49699a4f1df";
    let mut manifest = format!("{hex}  ok.txt\n").into_bytes();
    manifest.extend_from_slice(format!("{hex}  nul\0name\n").as_bytes());
    manifest.extend_from_slice(format!("{hex}  bad").as_bytes());
    manifest.extend_from_slice(&[0xff, 0xfe, b'\n']);
    std::fs::write(dir.path().join("m.txt"), &manifest).unwrap();
    let (code, out, err) = run(attest()
        .current_dir(dir.path())
        .args(["digest", "--check", "m.txt"]));
    assert_ne!(code, 101);
    assert_eq!(out, "ok.txt: OK\n");
    assert!(
        err.contains("m.txt: 2: improperly formatted") && err.contains("NUL"),
        "{err}"
    );
    assert!(
        err.contains("m.txt: 3: improperly formatted") && err.contains("not UTF-8"),
        "{err}"
    );
}

#[test]
fn symlinks_out_of_the_release_directory_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let release = dir.path().join("release");
    std::fs::create_dir(&release).unwrap();
    std::fs::write(dir.path().join("secret.txt"), b"outside").unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret.txt"), release.join("pkg.tar.gz")).unwrap();
    // The manifest lists the symlink with the digest of its target.
    let hex = {
        let d =
            attest::artifact::digest_bytes(b"outside", attest::artifact::DigestAlgorithm::Sha256);
        d.hex()
    };
    std::fs::write(release.join("m.txt"), format!("{hex}  pkg.tar.gz\n")).unwrap();
    let (code, out, err) = run(attest()
        .args(["verify", "--manifest"])
        .arg(release.join("m.txt"))
        .args(["--owner", "o", "--bundle"])
        .arg(gh_dir().join("sigstore-js-2.1.0-bundle.json")));
    assert_eq!(code, 3, "{out}{err}");
    assert!(
        out.contains("FAILED") && out.contains("outside the release directory"),
        "{out}"
    );
}
