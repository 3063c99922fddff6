//! A trusted root served over TUF that names a member twice is refused, not
//! read: TUF vouches for the target's bytes, not for which of two duplicates
//! a parser keeps. The target here is validly signed (python-tuf, loopback),
//! so before the check the root parsed (serde_json keeps the last duplicate)
//! and was used. The refusal fails closed: no fallback to the verified cache
//! or to the embedded root.

#[path = "support/shared.rs"]
mod shared;
#[path = "support/static_server.rs"]
mod static_server;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use attest::trust::tuf::{FetchOptions, TufRepository};
use attest::trust::{TrustError, TrustStore, EMBEDDED_PUBLIC_GOOD, PUBLIC_GOOD_ORG};
use static_server::StaticServer;

static SHARED: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| shared::shared(""));

/// Publish `target` as `trusted_root.json` in a python-tuf repository and
/// load it as the public-good root through a `TrustStore`.
fn load_tuf_target(target: &[u8]) -> Result<(), TrustError> {
    let dir = tempfile::tempdir().unwrap();
    let target_file = dir.path().join("trusted_root.json");
    std::fs::write(&target_file, target).unwrap();
    let out = dir.path().join("repos");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tuf/make_repos.py");
    let status = Command::new("python3")
        .arg(&script)
        .arg(&out)
        .arg(&target_file)
        .status()
        .expect("run python3");
    assert!(
        status.success(),
        "make_repos.py failed: is python-tuf installed (pip install tuf)?"
    );
    let server = StaticServer::start(&out);
    let repo = TufRepository {
        url: format!("{}/happy", server.base),
        initial_root: std::fs::read(out.join("initial_root.json")).unwrap(),
        target: "trusted_root.json".into(),
    };
    let store = TrustStore::from_tuf_repositories(
        vec![(PUBLIC_GOOD_ORG.to_string(), repo, EMBEDDED_PUBLIC_GOOD)],
        FetchOptions {
            cache_root: Some(dir.path().join("cache")),
            offline: false,
            use_fresh_cache: false,
            timeout: Duration::from_secs(10),
            now: jiff::Timestamp::now(),
        },
    );
    store.instances()[0].prepared().map(|_| ())
}

fn published() -> String {
    std::fs::read_to_string(
        Path::new(SHARED.as_str()).join("testdata/trust/production_trusted_root.json"),
    )
    .unwrap()
}

#[test]
fn the_published_target_loads() {
    // The control: the same repository with the untouched target is used.
    load_tuf_target(published().as_bytes()).unwrap();
}

#[test]
fn a_tuf_target_with_a_duplicate_key_is_refused_without_fallback() {
    let text = published();
    let needle = "\"certificateAuthorities\": [";
    assert_eq!(text.matches(needle).count(), 1);
    let dup = text.replacen(
        needle,
        "\"certificateAuthorities\": [],\n  \"certificateAuthorities\": [",
        1,
    );
    let err = load_tuf_target(dup.as_bytes()).unwrap_err();
    let TrustError::DuplicateKey { origin, .. } = &err else {
        panic!("expected a duplicate-key refusal, got {err:?}");
    };
    assert!(
        origin.starts_with("http://127.0.0.1:")
            && origin.ends_with("/happy (TUF target trusted_root.json)"),
        "{origin}"
    );
    assert!(
        err.to_string().ends_with(
            "invalid trusted root: duplicate key \"certificateAuthorities\" in the top-level \
             object (a JSON object must name each member once)"
        ),
        "{err}"
    );

    // A duplicate deeper down is named by its path.
    let dup = text.replacen(
        "\"baseUrl\": \"https://rekor.sigstore.dev\",",
        "\"baseUrl\": \"https://rekor.evil.example\", \"baseUrl\": \"https://rekor.sigstore.dev\",",
        1,
    );
    assert_ne!(dup, text);
    let err = load_tuf_target(dup.as_bytes()).unwrap_err().to_string();
    assert!(
        err.contains("duplicate key \"baseUrl\" in tlogs[0]"),
        "{err}"
    );
}
