//! Object identifiers used by the fixtures.

use der::oid::ObjectIdentifier;

const fn oid(s: &str) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(s)
}

/// ecdsa-with-SHA256.
pub(crate) const ECDSA_WITH_SHA256: ObjectIdentifier = oid("1.2.840.10045.4.3.2");
/// ecdsa-with-SHA384.
pub(crate) const ECDSA_WITH_SHA384: ObjectIdentifier = oid("1.2.840.10045.4.3.3");
/// id-sha256.
pub(crate) const SHA256: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.1");
/// id-sha384.
pub(crate) const SHA384: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.2");
/// id-sha512.
pub(crate) const SHA512: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.3");

/// organizationName.
pub(crate) const AT_ORGANIZATION: ObjectIdentifier = oid("2.5.4.10");
/// commonName.
pub(crate) const AT_COMMON_NAME: ObjectIdentifier = oid("2.5.4.3");

/// id-kp-codeSigning.
pub(crate) const KP_CODE_SIGNING: ObjectIdentifier = oid("1.3.6.1.5.5.7.3.3");
/// id-kp-timeStamping.
pub(crate) const KP_TIME_STAMPING: ObjectIdentifier = oid("1.3.6.1.5.5.7.3.8");

/// The RFC 6962 embedded SCT list extension.
pub(crate) const CT_PRECERT_SCTS: ObjectIdentifier = oid("1.3.6.1.4.1.11129.2.4.2");

/// id-contentType (CMS attribute).
pub(crate) const CONTENT_TYPE: ObjectIdentifier = oid("1.2.840.113549.1.9.3");
/// id-messageDigest (CMS attribute).
pub(crate) const MESSAGE_DIGEST: ObjectIdentifier = oid("1.2.840.113549.1.9.4");
/// id-signingTime (CMS attribute).
pub(crate) const SIGNING_TIME: ObjectIdentifier = oid("1.2.840.113549.1.9.5");
/// id-signedData.
pub(crate) const SIGNED_DATA: ObjectIdentifier = oid("1.2.840.113549.1.7.2");
/// id-ct-TSTInfo.
pub(crate) const TST_INFO: ObjectIdentifier = oid("1.2.840.113549.1.9.16.1.4");
/// A made-up TSA policy under Sigstore's arc.
pub(crate) const TSA_POLICY: ObjectIdentifier = oid("1.3.6.1.4.1.57264.2");

/// The Fulcio extension arc `1.3.6.1.4.1.57264.1.<n>`.
pub(crate) fn fulcio(n: u32) -> ObjectIdentifier {
    ObjectIdentifier::new(&format!("1.3.6.1.4.1.57264.1.{n}")).expect("a valid Fulcio OID")
}
