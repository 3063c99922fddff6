//! `attest trusted-root` against a real TUF repository (python-tuf) on
//! loopback: the output is the target compacted to one line, as gh prints it,
//! and it is what `--custom-trusted-root` takes.

mod common;
#[path = "../../attest/tests/support/static_server.rs"]
mod static_server;

use common::{attest, run, shared_dir, verify_sigstore_js};
use std::path::Path;

fn make_repos(out: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../attest/tests/tuf/make_repos.py");
    let target = shared_dir().join("testdata/trust/production_trusted_root.json");
    let status = std::process::Command::new("python3")
        .arg(script)
        .arg(out)
        .arg(target)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "make_repos.py failed: is python-tuf installed (pip install tuf)?"
    );
}

#[test]
fn prints_the_target_compacted_and_it_verifies_offline() {
    let dir = tempfile::tempdir().unwrap();
    let repos = dir.path().join("repos");
    make_repos(&repos);
    let server = static_server::StaticServer::start(&repos);
    let cache = dir.path().join("cache");
    let (code, out, err) = run(attest()
        .env_remove("ATTEST_OFFLINE")
        .args([
            "trusted-root",
            "--tuf-url",
            &format!("{}/happy", server.base),
            "--tuf-root",
        ])
        .arg(repos.join("initial_root.json"))
        .arg("--cache-dir")
        .arg(&cache));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1);
    let published =
        std::fs::read_to_string(shared_dir().join("testdata/trust/production_trusted_root.json"))
            .unwrap();
    let a: serde_json::Value = serde_json::from_str(&out).unwrap();
    let b: serde_json::Value = serde_json::from_str(&published).unwrap();
    assert_eq!(a, b);
    assert!(!out.trim_end().contains('\n') && !out.contains("  "));

    // The printed line is a --custom-trusted-root for offline verification.
    let root = dir.path().join("root.jsonl");
    std::fs::write(&root, &out).unwrap();
    let (code, _, err) = run(verify_sigstore_js()
        .args([
            "--bundle",
            "sigstore-js-2.1.0-bundle.json",
            "--custom-trusted-root",
        ])
        .arg(&root));
    assert_eq!(code, 0, "{err}");

    // --verify-only prints gh's line; --offline reads the verified cache.
    let (code, out, _) = run(attest()
        .args([
            "trusted-root",
            "--verify-only",
            "--offline",
            "--tuf-url",
            &format!("{}/happy", server.base),
            "--tuf-root",
        ])
        .arg(repos.join("initial_root.json"))
        .arg("--cache-dir")
        .arg(&cache));
    assert_eq!(code, 0);
    assert_eq!(
        out,
        format!(
            "Local TUF repository for {}/happy updated and verified\n",
            server.base
        )
    );
}

#[test]
fn a_tampered_repository_fails_with_exit_6() {
    let dir = tempfile::tempdir().unwrap();
    let repos = dir.path().join("repos");
    make_repos(&repos);
    let server = static_server::StaticServer::start(&repos);
    let (code, out, err) = run(attest()
        .env_remove("ATTEST_OFFLINE")
        .args([
            "trusted-root",
            "--tuf-url",
            &format!("{}/tampered-target", server.base),
            "--tuf-root",
        ])
        .arg(repos.join("initial_root.json"))
        .arg("--cache-dir")
        .arg(dir.path().join("cache")));
    assert_eq!(code, 6, "{err}");
    assert!(out.is_empty());
    assert!(
        err.starts_with("Failed to verify the TUF repository:")
            && err.contains("TUF verification failed"),
        "{err}"
    );
}

#[test]
fn offline_verify_says_which_root_it_used() {
    // One run: the note on stderr and the JSON on stdout.
    let (code, out, err) = run(verify_sigstore_js().args([
        "--bundle",
        "sigstore-js-2.1.0-bundle.json",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("offline: using the embedded Sigstore public good root (snapshot of"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v[0]["verificationResult"]["trustedRoot"]["source"],
        "embedded"
    );
}
