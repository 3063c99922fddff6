//! Certificates built from `x509-cert` types and signed with aws-lc-rs.

use std::time::Duration;

use der::asn1::{BitString, Ia5String, OctetString, SetOfVec, UtcTime};
use der::{Any, Encode, Tag};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName,
};
use x509_cert::ext::Extension;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate, Version};

use crate::keys::{random_bytes, EcKey};
use crate::oids;

/// A distinguished name `O=<org>, CN=<cn>` with UTF8String values.
pub(crate) fn org_name(organization: &str, common_name: &str) -> Name {
    let rdn = |oid, value: &str| {
        let atv = AttributeTypeAndValue {
            oid,
            value: Any::new(Tag::Utf8String, value.as_bytes()).expect("a UTF8String value"),
        };
        RelativeDistinguishedName(SetOfVec::try_from(vec![atv]).expect("a one-element RDN"))
    };
    RdnSequence(vec![
        rdn(oids::AT_ORGANIZATION, organization),
        rdn(oids::AT_COMMON_NAME, common_name),
    ])
}

/// A fresh positive 16-byte serial number.
pub(crate) fn random_serial() -> SerialNumber {
    let mut bytes = random_bytes::<16>();
    bytes[0] = (bytes[0] & 0x7f) | 0x10;
    SerialNumber::new(&bytes).expect("a 16-byte positive serial")
}

/// An X.509 time (UTCTime; the fixtures stay before 2050).
pub(crate) fn x509_time(t: jiff::Timestamp) -> Time {
    let secs = u64::try_from(t.as_second()).expect("fixture times are after 1970");
    Time::UtcTime(UtcTime::from_unix_duration(Duration::from_secs(secs)).expect("a UTCTime"))
}

/// An extension from raw DER content.
pub(crate) fn raw_extension(
    oid: der::oid::ObjectIdentifier,
    critical: bool,
    der_value: Vec<u8>,
) -> Extension {
    Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(der_value).expect("an extension value"),
    }
}

/// A DER UTF8String (the value of the Fulcio extensions from `.8` on).
pub(crate) fn utf8_der(value: &str) -> Vec<u8> {
    Any::new(Tag::Utf8String, value.as_bytes())
        .and_then(|a| a.to_der())
        .expect("a UTF8String encodes")
}

/// Extensions of a CA certificate: critical basicConstraints CA with a path
/// length, critical keyUsage certSign and cRLSign.
pub(crate) fn ca_extensions(path_len: u8) -> Vec<Extension> {
    let bc = BasicConstraints {
        ca: true,
        path_len_constraint: Some(path_len),
    }
    .to_der()
    .expect("basicConstraints encodes");
    let ku = KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)
        .to_der()
        .expect("keyUsage encodes");
    vec![
        raw_extension(oid("2.5.29.19"), true, bc),
        raw_extension(oid("2.5.29.15"), true, ku),
    ]
}

/// Critical keyUsage digitalSignature.
pub(crate) fn digital_signature() -> Extension {
    let ku = KeyUsage(KeyUsages::DigitalSignature.into())
        .to_der()
        .expect("keyUsage encodes");
    raw_extension(oid("2.5.29.15"), true, ku)
}

fn oid(s: &str) -> der::oid::ObjectIdentifier {
    der::oid::ObjectIdentifier::new_unwrap(s)
}

/// An extended key usage extension.
pub(crate) fn eku(purpose: der::oid::ObjectIdentifier, critical: bool) -> Extension {
    let value = ExtendedKeyUsage(vec![purpose])
        .to_der()
        .expect("an EKU encodes");
    raw_extension(oid("2.5.29.37"), critical, value)
}

/// A critical SAN with one URI.
pub(crate) fn san_uri(uri: &str) -> Extension {
    let value = SubjectAltName(vec![GeneralName::UniformResourceIdentifier(
        Ia5String::new(uri).expect("the SAN URI is ASCII"),
    )])
    .to_der()
    .expect("a SAN encodes");
    raw_extension(oid("2.5.29.17"), true, value)
}

/// A critical SAN with one email address (rfc822Name).
pub(crate) fn san_email(email: &str) -> Extension {
    let value = SubjectAltName(vec![GeneralName::Rfc822Name(
        Ia5String::new(email).expect("the SAN email is ASCII"),
    )])
    .to_der()
    .expect("a SAN encodes");
    raw_extension(oid("2.5.29.17"), true, value)
}

/// The unsigned part of a certificate.
pub(crate) struct CertSpec {
    pub(crate) issuer: Name,
    pub(crate) subject: Name,
    pub(crate) not_before: jiff::Timestamp,
    pub(crate) not_after: jiff::Timestamp,
    pub(crate) spki: SubjectPublicKeyInfoOwned,
    pub(crate) extensions: Vec<Extension>,
}

/// A key identifier: SHA-1 of the subjectPublicKey bits (RFC 5280
/// §4.2.1.2 method 1, as Go and Fulcio compute it).
fn key_identifier(spki: &SubjectPublicKeyInfoOwned) -> Vec<u8> {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        spki.subject_public_key.raw_bytes(),
    );
    digest.as_ref().to_vec()
}

/// subjectKeyIdentifier and, unless the certificate is self-issued,
/// authorityKeyIdentifier (key identifier form), both non-critical. Path
/// builders such as Python `cryptography`'s require them.
fn key_identifier_extensions(
    subject: &SubjectPublicKeyInfoOwned,
    issuer: &SubjectPublicKeyInfoOwned,
    self_issued: bool,
) -> Vec<Extension> {
    let ski = OctetString::new(key_identifier(subject))
        .and_then(|o| o.to_der())
        .expect("a subjectKeyIdentifier encodes");
    let mut extensions = vec![raw_extension(oid("2.5.29.14"), false, ski)];
    if !self_issued {
        let aki = AuthorityKeyIdentifier {
            key_identifier: Some(
                OctetString::new(key_identifier(issuer)).expect("a key identifier"),
            ),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        }
        .to_der()
        .expect("an authorityKeyIdentifier encodes");
        extensions.push(raw_extension(oid("2.5.29.35"), false, aki));
    }
    extensions
}

impl CertSpec {
    /// The TBSCertificate this spec describes, to be signed by `issuer_key`,
    /// with key identifier extensions after the spec's own.
    pub(crate) fn tbs(&self, serial: SerialNumber, issuer_key: &EcKey) -> TbsCertificate {
        let mut extensions = self.extensions.clone();
        extensions.extend(key_identifier_extensions(
            &self.spki,
            &issuer_key.spki(),
            self.issuer == self.subject,
        ));
        TbsCertificate {
            version: Version::V3,
            serial_number: serial,
            signature: issuer_key.signature_algorithm(),
            issuer: self.issuer.clone(),
            validity: Validity {
                not_before: x509_time(self.not_before),
                not_after: x509_time(self.not_after),
            },
            subject: self.subject.clone(),
            subject_public_key_info: self.spki.clone(),
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: Some(extensions),
        }
    }
}

/// Sign a TBSCertificate.
pub(crate) fn sign_tbs(tbs: TbsCertificate, issuer_key: &EcKey) -> Certificate {
    let tbs_der = tbs.to_der().expect("the TBSCertificate encodes");
    let signature = issuer_key.sign(&tbs_der);
    Certificate {
        signature_algorithm: tbs.signature.clone(),
        tbs_certificate: tbs,
        signature: BitString::from_bytes(&signature).expect("a signature bit string"),
    }
}

/// A certificate with its DER encoding.
#[derive(Clone, Debug)]
pub(crate) struct Cert {
    pub(crate) cert: Certificate,
    pub(crate) der: Vec<u8>,
}

impl Cert {
    pub(crate) fn new(cert: Certificate) -> Self {
        let der = cert.to_der().expect("the certificate encodes");
        Self { cert, der }
    }

    /// PEM text, 64-column base64.
    pub(crate) fn pem(&self) -> String {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&self.der);
        let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
        out
    }
}

/// Issue a certificate from a spec.
pub(crate) fn issue(spec: &CertSpec, issuer_key: &EcKey) -> Cert {
    Cert::new(sign_tbs(spec.tbs(random_serial(), issuer_key), issuer_key))
}
