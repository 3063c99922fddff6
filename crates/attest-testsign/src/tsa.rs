//! An RFC 3161 timestamp authority producing `TimeStampResp` DER.
//!
//! The token is CMS SignedData over a TSTInfo whose message imprint is the
//! request's (for the bundle fixtures, SHA-256 of the signature being
//! timestamped), echoing the request's nonce. The signer is identified by
//! issuer and serial number; the signed attributes are contentType,
//! signingTime and messageDigest (SHA-256 of the TSTInfo DER); the signature
//! is ECDSA P-256 with SHA-256 over the DER SET OF those attributes.

use std::time::Duration;

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{GeneralizedTime, Int, OctetString, SetOfVec, UtcTime};
use der::{Any, Decode, Encode, Sequence, Tag};
use x509_cert::attr::Attribute;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::keys::{random_bytes, sha256, EcKey};
use crate::oids;
use crate::x509::Cert;

/// RFC 3161 MessageImprint.
#[derive(Clone, Debug, Sequence)]
struct MessageImprint {
    hash_algorithm: AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

/// RFC 3161 TSTInfo, without the optional fields the fixtures leave out
/// (accuracy, ordering = FALSE, tsa, extensions).
#[derive(Clone, Debug, Sequence)]
struct TstInfo {
    version: u8,
    policy: der::oid::ObjectIdentifier,
    message_imprint: MessageImprint,
    serial_number: Int,
    gen_time: GeneralizedTime,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
}

/// RFC 3161 TimeStampReq (extensions, `[0] IMPLICIT`, are accepted and
/// ignored).
#[derive(Clone, Debug, Sequence)]
struct TimeStampReq {
    version: u8,
    message_imprint: MessageImprint,
    #[asn1(optional = "true")]
    req_policy: Option<der::oid::ObjectIdentifier>,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(default = "default_false")]
    cert_req: bool,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<x509_cert::ext::Extensions>,
}

fn default_false() -> bool {
    false
}

/// What a timestamp request asks for: the message imprint, the nonce to
/// echo and whether to include the TSA's certificate.
#[derive(Clone, Debug)]
pub(crate) struct TimestampRequest {
    hash_algorithm: der::oid::ObjectIdentifier,
    hashed_message: Vec<u8>,
    nonce: Option<Int>,
    cert_req: bool,
}

impl TimestampRequest {
    /// SHA-256 of `data`, no nonce, certificate included (what the bundle
    /// fixtures timestamp).
    pub(crate) fn sha256_of(data: &[u8]) -> Self {
        Self {
            hash_algorithm: oids::SHA256,
            hashed_message: sha256(data).to_vec(),
            nonce: None,
            cert_req: true,
        }
    }

    /// Parse a DER `TimeStampReq`, accepting SHA-256, SHA-384 and SHA-512
    /// imprints of the right length.
    pub(crate) fn from_der(der_bytes: &[u8]) -> Result<Self, String> {
        let req =
            TimeStampReq::from_der(der_bytes).map_err(|e| format!("not a TimeStampReq: {e}"))?;
        if req.version != 1 {
            return Err(format!("unsupported TimeStampReq version {}", req.version));
        }
        let oid = req.message_imprint.hash_algorithm.oid;
        let len = if oid == oids::SHA256 {
            32
        } else if oid == oids::SHA384 {
            48
        } else if oid == oids::SHA512 {
            64
        } else {
            return Err(format!("unsupported message imprint hash algorithm {oid}"));
        };
        let hashed = req.message_imprint.hashed_message.as_bytes().to_vec();
        if hashed.len() != len {
            return Err(format!(
                "message imprint is {} bytes, {oid} digests are {len}",
                hashed.len()
            ));
        }
        Ok(Self {
            hash_algorithm: oid,
            hashed_message: hashed,
            nonce: req.nonce,
            cert_req: req.cert_req,
        })
    }
}

/// RFC 3161 PKIStatusInfo without statusString and failInfo.
#[derive(Clone, Debug, Sequence)]
struct PkiStatusInfo {
    status: u8,
}

/// RFC 3161 TimeStampResp.
#[derive(Clone, Debug, Sequence)]
struct TimeStampResp {
    status: PkiStatusInfo,
    time_stamp_token: Any,
}

/// How to corrupt one thing about a timestamp.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TsaFaults {
    /// Sign the CMS attributes with a key that is not the TSA's.
    pub(crate) foreign_key: bool,
}

/// Produce a DER `TimeStampResp` answering `request` at `gen_time`.
pub(crate) fn timestamp_response(
    leaf: &Cert,
    leaf_key: &EcKey,
    request: &TimestampRequest,
    gen_time: jiff::Timestamp,
    faults: TsaFaults,
) -> Vec<u8> {
    let secs = u64::try_from(gen_time.as_second()).expect("fixture times are after 1970");
    let mut serial = random_bytes::<8>();
    serial[0] = (serial[0] & 0x7f) | 0x01;
    let tst = TstInfo {
        version: 1,
        policy: oids::TSA_POLICY,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: request.hash_algorithm,
                parameters: None,
            },
            hashed_message: OctetString::new(request.hashed_message.clone()).expect("a digest"),
        },
        serial_number: Int::new(&serial).expect("a positive serial"),
        gen_time: GeneralizedTime::from_unix_duration(Duration::from_secs(secs))
            .expect("a GeneralizedTime"),
        nonce: request.nonce.clone(),
    };
    let tst_der = tst.to_der().expect("TSTInfo encodes");

    let attribute = |oid, value: Any| Attribute {
        oid,
        values: SetOfVec::try_from(vec![value]).expect("a one-value attribute"),
    };
    let signed_attrs = SetOfVec::try_from(vec![
        attribute(
            oids::CONTENT_TYPE,
            Any::new(Tag::ObjectIdentifier, oids::TST_INFO.as_bytes()).expect("an OID value"),
        ),
        attribute(
            oids::SIGNING_TIME,
            Any::encode_from(
                &UtcTime::from_unix_duration(Duration::from_secs(secs)).expect("a UTCTime"),
            )
            .expect("a UTCTime value"),
        ),
        attribute(
            oids::MESSAGE_DIGEST,
            Any::new(Tag::OctetString, sha256(&tst_der).to_vec()).expect("a digest value"),
        ),
    ])
    .expect("distinct signed attributes");
    let to_sign = signed_attrs.to_der().expect("signed attributes encode");
    let signature = if faults.foreign_key {
        EcKey::generate(crate::keys::Curve::P256).sign(&to_sign)
    } else {
        leaf_key.sign(&to_sign)
    };

    let sha256_alg = AlgorithmIdentifierOwned {
        oid: oids::SHA256,
        parameters: None,
    };
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: leaf.cert.tbs_certificate.issuer.clone(),
            serial_number: leaf.cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256_alg.clone(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: leaf_key.signature_algorithm(),
        signature: OctetString::new(signature).expect("a signature"),
        unsigned_attrs: None,
    };
    let signed_data = SignedData {
        version: CmsVersion::V3,
        digest_algorithms: SetOfVec::try_from(vec![sha256_alg]).expect("one digest algorithm"),
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: oids::TST_INFO,
            econtent: Some(Any::new(Tag::OctetString, tst_der).expect("TSTInfo content")),
        },
        certificates: request.cert_req.then(|| {
            CertificateSet(
                SetOfVec::try_from(vec![CertificateChoices::Certificate(leaf.cert.clone())])
                    .expect("one certificate"),
            )
        }),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info]).expect("one signer")),
    };
    let content_info = ContentInfo {
        content_type: oids::SIGNED_DATA,
        content: Any::from_der(&signed_data.to_der().expect("SignedData encodes"))
            .expect("SignedData re-reads"),
    };
    let response = TimeStampResp {
        status: PkiStatusInfo { status: 0 },
        time_stamp_token: Any::from_der(&content_info.to_der().expect("ContentInfo encodes"))
            .expect("ContentInfo re-reads"),
    };
    response.to_der().expect("TimeStampResp encodes")
}
