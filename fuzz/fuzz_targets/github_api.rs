//! GitHub API responses: attestation pages (both shapes), Link headers,
//! snappy bundle blobs, and gh's hosts.yml.
#![no_main]

use attest::source::github::{decompress_bundle, next_link, parse_page_bundles, token_from_hosts_yml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_page_bundles(data, "https://api.github.com/x");
    if let Ok(json) = decompress_bundle(data) {
        let _ = parse_page_bundles(&json, "blob");
        assert!(json.len() <= attest::bundle::MAX_BUNDLE_BYTES);
    }
    let text = String::from_utf8_lossy(data);
    let _ = next_link(&text);
    let _ = token_from_hosts_yml(&text, "github.com");
});
