//! The read-only shared test data (`../shared` beside the checkout, or
//! `ATTEST_SHARED_DIR`), the one place the library's integration tests find it.
#![allow(dead_code)]

use std::path::PathBuf;

/// `ATTEST_SHARED_DIR`, else `../shared` beside the checkout.
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("ATTEST_SHARED_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")),
    }
}

/// A path inside the shared data, as text (for `format!`).
pub fn shared(rel: &str) -> String {
    shared_dir().join(rel).display().to_string()
}
