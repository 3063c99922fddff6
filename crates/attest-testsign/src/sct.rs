//! RFC 6962 embedded Signed Certificate Timestamps.
//!
//! The CT log signs the `digitally-signed` precertificate structure: version
//! v1, signature type certificate_timestamp, the timestamp in milliseconds,
//! entry type precert_entry, SHA-256 of the issuer's SubjectPublicKeyInfo,
//! the TBSCertificate without the SCT extension (24-bit length prefix) and
//! empty extensions. The verifier rebuilds that TBS by decoding the final
//! certificate and dropping the SCT extension, so the precert TBS here is the
//! final TBS minus that one extension, encoded by the same DER encoder.

use der::asn1::OctetString;
use der::Encode;
use x509_cert::ext::Extension;

use crate::keys::{sha256, EcKey};
use crate::oids;

/// TLS SignatureAndHashAlgorithm: sha256(4), ecdsa(3).
const ECDSA_SHA256: [u8; 2] = [4, 3];

/// Build the SCT extension (non-critical) for a precertificate TBS.
pub(crate) fn sct_extension(
    ct_key: &EcKey,
    precert_tbs_der: &[u8],
    issuer_spki_der: &[u8],
    timestamp_ms: u64,
) -> Extension {
    let issuer_key_hash = sha256(issuer_spki_der);
    let tbs_len = u32::try_from(precert_tbs_der.len()).expect("a TBS under 16 MiB");
    assert!(tbs_len < (1 << 24), "a TBS under 16 MiB");

    // digitally-signed struct
    let mut signed = Vec::new();
    signed.push(0); // version v1
    signed.push(0); // signature_type certificate_timestamp
    signed.extend_from_slice(&timestamp_ms.to_be_bytes());
    signed.extend_from_slice(&1u16.to_be_bytes()); // precert_entry
    signed.extend_from_slice(&issuer_key_hash);
    signed.extend_from_slice(&tbs_len.to_be_bytes()[1..]);
    signed.extend_from_slice(precert_tbs_der);
    signed.extend_from_slice(&0u16.to_be_bytes()); // no extensions
    let signature = ct_key.sign(&signed);

    // SignedCertificateTimestamp
    let mut sct = Vec::new();
    sct.push(0); // v1
    sct.extend_from_slice(&ct_key.key_id());
    sct.extend_from_slice(&timestamp_ms.to_be_bytes());
    sct.extend_from_slice(&0u16.to_be_bytes()); // no extensions
    sct.extend_from_slice(&ECDSA_SHA256);
    sct.extend_from_slice(&u16_len(signature.len()));
    sct.extend_from_slice(&signature);

    // SignedCertificateTimestampList: one SerializedSCT
    let mut list = Vec::new();
    list.extend_from_slice(&u16_len(sct.len() + 2));
    list.extend_from_slice(&u16_len(sct.len()));
    list.extend_from_slice(&sct);

    let value = OctetString::new(list)
        .and_then(|o| o.to_der())
        .expect("the SCT list encodes");
    Extension {
        extn_id: oids::CT_PRECERT_SCTS,
        critical: false,
        extn_value: OctetString::new(value).expect("the SCT extension value encodes"),
    }
}

fn u16_len(n: usize) -> [u8; 2] {
    u16::try_from(n)
        .expect("an SCT field under 64 KiB")
        .to_be_bytes()
}
