//! Bundle files (JSON or JSONL) all the way through verification: parsing,
//! the JSONL splitter, the verification core under the embedded roots, the
//! policy, and gh's JSON report. Nothing may panic.
#![no_main]

use std::sync::OnceLock;

use attest::artifact::ArtifactDigest;
use attest::outcome::evaluate_bundles;
use attest::policy::{Policy, PolicyFlags};
use attest::trust::TrustStore;
use libfuzzer_sys::fuzz_target;

fn trust() -> &'static TrustStore {
    static T: OnceLock<TrustStore> = OnceLock::new();
    T.get_or_init(|| TrustStore::embedded(false))
}

fuzz_target!(|data: &[u8]| {
    let Ok(bundles) = attest::source::bundles_from_bytes(data, "fuzz.jsonl") else {
        return;
    };
    let policy = Policy::from_flags(&PolicyFlags {
        owner: Some("sigstore".into()),
        ..Default::default()
    })
    .unwrap();
    // Verify against each subject digest the statements name (so the
    // cryptographic checks are reached), and against an unrelated digest.
    let mut digests = vec![attest::artifact::digest_bytes(
        data,
        attest::artifact::DigestAlgorithm::Sha256,
    )];
    for b in bundles.iter().flatten() {
        if let Some(Ok(st)) = &b.statement {
            for s in st.subjects.iter().take(4) {
                for (alg, hex) in &s.digest {
                    if let Ok(d) = ArtifactDigest::parse(&format!("{alg}:{hex}")) {
                        digests.push(d);
                    }
                }
            }
        }
    }
    for d in digests.iter().take(8) {
        let verdict = evaluate_bundles(&bundles, d, trust(), &policy);
        let _ = attest::report::gh_json(&verdict, &policy);
        let _ = attest::report::reasons_block(&verdict);
        let _ = attest::report::failure_headline(&verdict, &policy);
    }
});
