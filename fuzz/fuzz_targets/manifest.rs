//! Digest manifests (sha256sum format): parsing never panics, and every
//! entry written back with `format_line` parses to the same name and digest.
#![no_main]

use attest::artifact::DigestAlgorithm;
use attest::manifest::{check_release_name, format_line, parse_manifest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for alg in [
        None,
        Some(DigestAlgorithm::Sha256),
        Some(DigestAlgorithm::Sha512),
    ] {
        let m = parse_manifest(data, alg);
        let _ = m.duplicates();
        for e in &m.entries {
            let _ = check_release_name(&e.name);
            let line = format_line(&e.digest, &e.name);
            let again = parse_manifest(line.as_bytes(), None);
            assert_eq!(again.entries.len(), 1, "{line:?}");
            assert_eq!(again.entries[0].name, e.name);
            assert_eq!(again.entries[0].digest, e.digest);
        }
    }
});
