//! in-toto statements and SLSA predicates: decoding, subject matching, and
//! the predicate/certificate cross-check.
#![no_main]

use attest::certificate::CertificateSummary;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(st) = attest::bundle::Statement::from_payload(data) {
        let _ = st.subject_algorithms();
        for s in &st.subjects {
            for (alg, hex) in &s.digest {
                assert!(st.subjects_matching(alg, hex).count() >= 1);
            }
        }
        let cert = CertificateSummary {
            build_signer_uri: Some(
                "https://github.com/o/r/.github/workflows/w.yml@refs/heads/main".into(),
            ),
            source_repository_uri: Some("https://github.com/o/r".into()),
            ..Default::default()
        };
        let _ = attest::policy::provenance_checks(&st.value["predicate"], &cert);
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = attest::policy::provenance_checks(&v, &CertificateSummary::default());
    }
});
