//! Trusted roots (one JSON object or JSONL of several): parsing, registration
//! by issuer organisation, and building the core's verifier from each.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for no_public_good in [false, true] {
        if let Ok(store) = attest::trust::TrustStore::from_jsonl(text, "fuzz.jsonl", no_public_good)
        {
            for i in store.instances() {
                let _ = i.prepared();
                let _ = store.select("CN=x", std::slice::from_ref(&i.organization));
            }
        }
    }
});
