//! `attest trusted-root` against a real TUF repository (python-tuf) on
//! loopback: the output is the target compacted to one line, as gh prints it,
//! and it is what `--custom-trusted-root` takes. `--verify-only` fails when
//! nothing could be cached and does not claim an update offline; a target
//! longer than signed is a verification failure; and `verify` refuses a
//! tampered TUF cache instead of falling back to the embedded roots.

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

    // --verify-only online prints gh's line.
    let (code, out, err) = run(trusted_root_cmd(&server.base, "happy", &repos, &cache)
        .env_remove("ATTEST_OFFLINE")
        .arg("--verify-only"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!(
            "Local TUF repository for {}/happy updated and verified\n",
            server.base
        )
    );

    // --offline reads the verified cache and says it did not update it.
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
            "Local TUF repository for {}/happy verified from the cache (offline: not updated)\n",
            server.base
        )
    );
}

/// `attest trusted-root --tuf-url BASE/SCENARIO --tuf-root initial_root.json
/// --cache-dir CACHE` (offline unless the caller removes ATTEST_OFFLINE).
fn trusted_root_cmd(
    base: &str,
    scenario: &str,
    repos: &Path,
    cache: &Path,
) -> std::process::Command {
    let mut c = attest();
    c.args([
        "trusted-root",
        "--tuf-url",
        &format!("{base}/{scenario}"),
        "--tuf-root",
    ])
    .arg(repos.join("initial_root.json"))
    .arg("--cache-dir")
    .arg(cache);
    c
}

#[test]
fn verify_only_fails_when_nothing_could_be_cached() {
    let dir = tempfile::tempdir().unwrap();
    let repos = dir.path().join("repos");
    make_repos(&repos);
    let server = static_server::StaticServer::start(&repos);

    // The cache directory is a file: nothing can be written under it.
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let (code, out, err) = run(trusted_root_cmd(&server.base, "happy", &repos, &file)
        .env_remove("ATTEST_OFFLINE")
        .arg("--verify-only"));
    assert_eq!(code, 3, "{err}");
    assert!(!out.contains("updated"), "{out}");
    assert!(
        err.starts_with(&format!("Error: {}/happy: the TUF cache in ", server.base))
            && err.contains("was not updated: cannot create")
            && err.contains("not-a-dir"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    // A cache that exists but can no longer be written (here a file where the
    // root history goes; a read-only file system fails the same writes): an
    // older verified copy is there, but it was not updated.
    let cache = dir.path().join("cache");
    let (code, _, err) = run(trusted_root_cmd(&server.base, "happy", &repos, &cache)
        .env_remove("ATTEST_OFFLINE")
        .arg("--verify-only"));
    assert_eq!(code, 0, "{err}");
    let repo_dir = std::fs::read_dir(cache.join("tuf"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::remove_dir_all(repo_dir.join("root_history")).unwrap();
    std::fs::write(repo_dir.join("root_history"), "x").unwrap();
    let (code, out, err) = run(trusted_root_cmd(&server.base, "happy", &repos, &cache)
        .env_remove("ATTEST_OFFLINE")
        .arg("--verify-only"));
    assert_eq!(code, 3, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("was not updated: creating") && err.contains("root_history"),
        "{err}"
    );

    // Printing the roots still works, with a warning.
    let (code, out, err) =
        run(trusted_root_cmd(&server.base, "happy", &repos, &file).env_remove("ATTEST_OFFLINE"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1);
    assert!(
        err.starts_with("Warning: ") && err.contains("was not updated"),
        "{err}"
    );
}

#[test]
fn a_target_longer_than_signed_is_exit_6_not_a_network_error() {
    let dir = tempfile::tempdir().unwrap();
    let repos = dir.path().join("repos");
    make_repos(&repos);
    let server = static_server::StaticServer::start(&repos);
    let (code, out, err) = run(trusted_root_cmd(
        &server.base,
        "oversize-target",
        &repos,
        &dir.path().join("cache"),
    )
    .env_remove("ATTEST_OFFLINE"));
    assert_eq!(code, 6, "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("TUF verification failed") && err.contains("exceeds max"),
        "{err}"
    );
}

#[test]
fn a_tampered_public_good_cache_is_refused_not_replaced_by_the_embedded_root() {
    // The reproduction: before the fix the embedded TUF root's own
    // expiry (2026-06-22) made this cache "expired", and verify fell back to
    // the embedded trusted root and exited 0.
    let dir = tempfile::tempdir().unwrap();
    let repo_dir = dir
        .path()
        .join("bc/tuf/https%3A%2F%2Ftuf-repo-cdn.sigstore.dev");
    std::fs::create_dir_all(&repo_dir).unwrap();
    std::fs::write(repo_dir.join("timestamp.json"), "{\"tampered\":1}\n").unwrap();
    let (code, out, err) = run(verify_sigstore_js()
        .args(["--bundle", "sigstore-js-2.1.0-bundle.json", "--cache-dir"])
        .arg(dir.path().join("bc")));
    assert_eq!(code, 6, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("does not verify: timestamp.json: malformed metadata")
            && err.contains("attest trusted-root --verify-only")
            && err.contains("will not fall back"),
        "{err}"
    );
    assert!(!err.contains("using the embedded"), "{err}");
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
