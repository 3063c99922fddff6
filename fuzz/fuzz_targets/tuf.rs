//! TUF handling of ours: the byte-level JSON compactor gh's output format
//! needs (idempotent, and value-preserving on valid JSON), and bootstrapping
//! from an untrusted root document.
#![no_main]

use attest::trust::tuf::compact_json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let once = compact_json(data);
    assert_eq!(compact_json(&once), once);
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let w: serde_json::Value =
            serde_json::from_slice(&once).expect("compacting valid JSON keeps it valid");
        assert_eq!(v, w);
    }
    let _ = sigstore_tuf::TrustedMetadataSet::from_root(data);
});
