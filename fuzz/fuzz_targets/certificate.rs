//! Certificates: issuer-name decoding (Go's formatting) and the Fulcio
//! extension claims read as typed values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigstore_types::DerCertificate;

fuzz_target!(|data: &[u8]| {
    let der = DerCertificate::from(data.to_vec());
    let names = attest::certificate::certificate_names(&der);
    let _ = attest::certificate::subject_organizations(data);
    if let Ok(info) = sigstore_crypto::parse_certificate_info(&der) {
        let summary =
            attest::certificate::CertificateSummary::new(&info, names.ok().map(|n| n.issuer));
        let _ = serde_json::to_string(&summary);
    }
});
