//! GitHub API responses: attestation pages (both shapes), Link headers,
//! next-page URLs (which carry the token), snappy bundle blobs, and gh's
//! hosts.yml.
#![no_main]

use attest::source::github::{
    decompress_bundle, next_link, next_page_url, parse_page_bundles, token_from_hosts_yml,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_page_bundles(data, "https://api.github.com/x");
    if let Ok(json) = decompress_bundle(data) {
        let _ = parse_page_bundles(&json, "blob");
        assert!(json.len() <= attest::bundle::MAX_BUNDLE_BYTES);
    }
    let text = String::from_utf8_lossy(data);
    let _ = next_link(&text);
    // A next link the token would follow never leaves the API's origin.
    let api = "https://api.github.com";
    let page = "https://api.github.com/orgs/o/attestations/sha256:00?per_page=30";
    let visited = std::collections::HashSet::from([page.to_string()]);
    if let Ok(url) = next_page_url(page, &text, api, &visited) {
        let authority = url
            .strip_prefix("https://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default();
        let host = authority.rsplit('@').next().unwrap_or_default();
        assert_eq!(host, "api.github.com", "{url}");
        assert!(!visited.contains(&url));
    }
    let _ = token_from_hosts_yml(&text, "github.com");
});
