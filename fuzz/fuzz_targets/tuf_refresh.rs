//! The TUF refresh path as attest runs it offline: a cache directory of
//! metadata and target written from the input, re-verified from a trusted
//! starting root by `attest::trust::tuf::fetch_target` (signatures, root
//! chain, versions, lengths, hashes, expiry, and the expired-vs-broken
//! classification). The starting root is a python-tuf repository of ours
//! (fuzz/tuf-repo, made by crates/attest/tests/tuf/make_repos.py) so seeds
//! carry valid signatures and the fuzzer gets past them.
//!
//! Input: the cache files separated by "\n--\n" (never inside JSON text), in
//! the order of `SLOTS`; an empty or missing part is an absent file.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use attest::trust::tuf::{fetch_target, FetchOptions, TufError, TufRepository};
use libfuzzer_sys::fuzz_target;

/// Where each part of the input goes in the cache directory; the names are
/// those the updater writes (and the offline reader falls back to).
const SLOTS: [&str; 6] = [
    "timestamp.json",
    "snapshot.json",
    "targets.json",
    "root_history/2.root.json",
    "root_history/3.root.json",
    "targets/trusted_root.json",
];
const SEPARATOR: &[u8] = b"\n--\n";
const INITIAL_ROOT: &[u8] = include_bytes!("../tuf-repo/initial_root.json");
/// The repository's metadata expires one hour after this file's time.
const FREEZE_EXPIRY: &str = include_str!("../tuf-repo/freeze-expiry.txt");

fn repo() -> TufRepository {
    TufRepository {
        url: "https://tuf.fuzz.invalid".into(),
        initial_root: INITIAL_ROOT.to_vec(),
        target: "trusted_root.json".into(),
    }
}

/// One cache root per process (libFuzzer may run several, with -fork).
fn cache_root() -> &'static PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        std::env::temp_dir().join(format!("attest-fuzz-tuf-{}", std::process::id()))
    })
}

fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while parts.len() + 1 < SLOTS.len() {
        match rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
            Some(at) => {
                parts.push(&rest[..at]);
                rest = &rest[at + SEPARATOR.len()..];
            }
            None => break,
        }
    }
    parts.push(rest);
    parts
}

fn options(now: jiff::Timestamp) -> FetchOptions {
    FetchOptions {
        cache_root: Some(cache_root().clone()),
        offline: true,
        use_fresh_cache: true,
        timeout: Duration::from_secs(1),
        now,
    }
}

fuzz_target!(|data: &[u8]| {
    let repo = repo();
    let root = cache_root();
    let dir = repo.cache_dir(root);
    let _ = std::fs::remove_dir_all(root);
    std::fs::create_dir_all(dir.join("root_history")).expect("temp dir");
    std::fs::create_dir_all(dir.join("targets")).expect("temp dir");
    let parts = split(data);
    for (slot, part) in SLOTS.iter().zip(&parts) {
        if !part.is_empty() {
            std::fs::write(dir.join(slot), part).expect("temp file");
        }
    }
    let frozen: jiff::Timestamp = FREEZE_EXPIRY.trim().parse().expect("freeze-expiry.txt");
    // Within every seed's validity: the happy seeds verify.
    let now = frozen - jiff::SignedDuration::from_mins(30);
    match fetch_target(&repo, &options(now)) {
        Ok(target) => {
            // The target is the cached file, byte for byte (its hashes were
            // checked against the signed targets metadata).
            let file = parts.get(5).copied().unwrap_or_default();
            assert_eq!(target.bytes, file);
            assert!(!target.from_network);
            if let Ok(text) = std::str::from_utf8(&target.bytes) {
                let _ = attest::trust::TrustStore::from_jsonl(text, "fuzz-target", false);
            }
            // The same sound cache two years on (past the root's expiry
            // too) is reported as expired, never as broken and never as
            // usable: the classification `verify` falls back on.
            let later = now + jiff::SignedDuration::from_hours(2 * 366 * 24);
            match fetch_target(&repo, &options(later)) {
                Err(TufError::CacheInvalid { expired: true, .. }) => {}
                other => panic!("a verified cache, expired: {other:?}"),
            }
        }
        Err(e) => {
            // Offline, a cache problem is never a network failure (that
            // class falls back to other roots), and a missing timestamp is
            // the only "no cache".
            match &e {
                TufError::NoCache { .. } => assert!(parts[0].is_empty(), "{e}"),
                TufError::CacheInvalid { .. } => assert!(!parts[0].is_empty(), "{e}"),
                other => panic!("offline cache check gave {other:?}"),
            }
            // Errors are one line.
            assert!(!e.to_string().contains('\n'), "{e}");
        }
    }
});
