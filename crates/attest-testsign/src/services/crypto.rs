//! PEM, public keys and signature checks for the services.

use aws_lc_rs::digest::{Digest, SHA256, SHA384, SHA512};
use aws_lc_rs::signature::{
    UnparsedPublicKey, VerificationAlgorithm, ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA384_ASN1,
    ECDSA_P384_SHA256_ASN1, ECDSA_P384_SHA384_ASN1, ED25519, RSA_PKCS1_2048_8192_SHA256,
    RSA_PKCS1_2048_8192_SHA384, RSA_PKCS1_2048_8192_SHA512,
};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use der::{Decode, Encode};
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;

const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const P256: &str = "1.2.840.10045.3.1.7";
const P384: &str = "1.3.132.0.34";
const ED25519_OID: &str = "1.3.101.112";
const RSA: &str = "1.2.840.113549.1.1.1";

/// Every PEM block in `text` as `(label, DER)`.
pub(crate) fn pem_blocks(text: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let label_end = after.find("-----").ok_or("unterminated PEM BEGIN line")?;
        let label = after[..label_end].to_string();
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let end = body_start
            .find(&end_marker)
            .ok_or_else(|| format!("no {end_marker} line"))?;
        let b64: String = body_start[..end]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let der = B64
            .decode(b64)
            .map_err(|e| format!("bad base64 in PEM {label}: {e}"))?;
        blocks.push((label, der));
        rest = &body_start[end + end_marker.len()..];
    }
    if blocks.is_empty() {
        return Err("no PEM block".into());
    }
    Ok(blocks)
}

/// PEM text with 64-column base64 (as Go's `pem.Encode` and Python's
/// `cryptography` write it).
pub(crate) fn pem(label: &str, der: &[u8]) -> String {
    let b64 = B64.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Verification material from a PEM document: a certificate or a public key.
#[derive(Debug, Clone)]
pub(crate) enum Verifier {
    /// An X.509 certificate (DER).
    Certificate(Vec<u8>),
    /// A SubjectPublicKeyInfo (DER).
    PublicKey(Vec<u8>),
}

impl Verifier {
    /// Parse the first PEM block of `pem_text` (a `CERTIFICATE` or a
    /// `PUBLIC KEY`).
    pub(crate) fn from_pem(pem_text: &[u8]) -> Result<Self, String> {
        let text = std::str::from_utf8(pem_text).map_err(|_| "PEM is not UTF-8".to_string())?;
        let (label, der) = pem_blocks(text)?.remove(0);
        match label.as_str() {
            "CERTIFICATE" => {
                Certificate::from_der(&der).map_err(|e| format!("invalid certificate: {e}"))?;
                Ok(Self::Certificate(der))
            }
            "PUBLIC KEY" => {
                SubjectPublicKeyInfoOwned::from_der(&der)
                    .map_err(|e| format!("invalid public key: {e}"))?;
                Ok(Self::PublicKey(der))
            }
            other => Err(format!("unsupported PEM type {other:?}")),
        }
    }

    /// The canonical PEM (Rekor's canonical form of the verifier).
    pub(crate) fn canonical_pem(&self) -> String {
        match self {
            Self::Certificate(der) => pem("CERTIFICATE", der),
            Self::PublicKey(der) => pem("PUBLIC KEY", der),
        }
    }

    /// The public key, DER SubjectPublicKeyInfo.
    pub(crate) fn spki_der(&self) -> Result<Vec<u8>, String> {
        match self {
            Self::PublicKey(der) => Ok(der.clone()),
            Self::Certificate(der) => {
                let cert =
                    Certificate::from_der(der).map_err(|e| format!("invalid certificate: {e}"))?;
                cert.tbs_certificate
                    .subject_public_key_info
                    .to_der()
                    .map_err(|e| format!("certificate SPKI: {e}"))
            }
        }
    }
}

/// The kinds of public key the services check signatures with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    P256,
    P384,
    Ed25519,
    Rsa,
}

/// The key kind and the raw key bits of a DER SubjectPublicKeyInfo.
fn parse_spki(spki_der: &[u8]) -> Result<(KeyKind, Vec<u8>), String> {
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der)
        .map_err(|e| format!("invalid SubjectPublicKeyInfo: {e}"))?;
    let raw = spki.subject_public_key.raw_bytes().to_vec();
    let kind = match spki.algorithm.oid.to_string().as_str() {
        EC_PUBLIC_KEY => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<der::oid::ObjectIdentifier>().ok())
                .map(|oid| oid.to_string())
                .unwrap_or_default();
            match curve.as_str() {
                P256 => KeyKind::P256,
                P384 => KeyKind::P384,
                other => return Err(format!("unsupported elliptic curve {other:?}")),
            }
        }
        ED25519_OID => KeyKind::Ed25519,
        RSA => KeyKind::Rsa,
        other => return Err(format!("unsupported public key algorithm {other}")),
    };
    Ok((kind, raw))
}

/// The Rekor v2 `keyDetails` for the key in `spki_der` and the digest
/// algorithm its signatures are over. Only the ECDSA keys whose digest a
/// `hashedrekord`/`0.0.2` entry can carry are supported.
pub(crate) fn v2_key_details(spki_der: &[u8]) -> Result<(&'static str, &'static str), String> {
    match parse_spki(spki_der)?.0 {
        KeyKind::P256 => Ok(("PKIX_ECDSA_P256_SHA_256", "sha256")),
        KeyKind::P384 => Ok(("PKIX_ECDSA_P384_SHA_384", "sha384")),
        other => Err(format!("no Rekor v2 key details for a {other:?} key here")),
    }
}

/// Verify `signature` over `message` with the key in `spki_der`, hashing
/// with SHA-256 for every ECDSA curve and RSA (as Fulcio checks a proof of
/// possession and Rekor a DSSE signature: `LoadVerifier(key, crypto.SHA256)`),
/// SHA-384 for P-384 as a fallback.
pub(crate) fn verify_message(
    spki_der: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let (kind, raw) = parse_spki(spki_der)?;
    let algorithms: &[&'static dyn VerificationAlgorithm] = match kind {
        KeyKind::P256 => &[&ECDSA_P256_SHA256_ASN1],
        KeyKind::P384 => &[&ECDSA_P384_SHA256_ASN1, &ECDSA_P384_SHA384_ASN1],
        KeyKind::Ed25519 => &[&ED25519],
        KeyKind::Rsa => &[&RSA_PKCS1_2048_8192_SHA256],
    };
    if algorithms.iter().any(|alg| {
        UnparsedPublicKey::new(*alg, &raw)
            .verify(message, signature)
            .is_ok()
    }) {
        Ok(())
    } else {
        Err("the signature does not verify with the public key".into())
    }
}

/// Verify `signature` over a precomputed digest (`algorithm` is `sha256`,
/// `sha384` or `sha512`), as Rekor checks a hashedrekord entry.
pub(crate) fn verify_digest(
    spki_der: &[u8],
    algorithm: &str,
    digest: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let (kind, raw) = parse_spki(spki_der)?;
    let (digest_alg, alg): (_, &'static dyn VerificationAlgorithm) = match (kind, algorithm) {
        (KeyKind::P256, "sha256") => (&SHA256, &ECDSA_P256_SHA256_ASN1),
        (KeyKind::P256, "sha384") => (&SHA384, &ECDSA_P256_SHA384_ASN1),
        (KeyKind::P384, "sha256") => (&SHA256, &ECDSA_P384_SHA256_ASN1),
        (KeyKind::P384, "sha384") => (&SHA384, &ECDSA_P384_SHA384_ASN1),
        (KeyKind::Rsa, "sha256") => (&SHA256, &RSA_PKCS1_2048_8192_SHA256),
        (KeyKind::Rsa, "sha384") => (&SHA384, &RSA_PKCS1_2048_8192_SHA384),
        (KeyKind::Rsa, "sha512") => (&SHA512, &RSA_PKCS1_2048_8192_SHA512),
        (kind, alg) => {
            return Err(format!(
                "cannot verify a {kind:?} signature over a {alg} digest"
            ))
        }
    };
    let digest = Digest::import_less_safe(digest, digest_alg)
        .map_err(|_| format!("a {algorithm} digest has another length"))?;
    UnparsedPublicKey::new(alg, &raw)
        .verify_digest(&digest, signature)
        .map_err(|_| "the signature does not verify with the public key over the digest".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trips() {
        let text = pem("CERTIFICATE", &[1, 2, 3]);
        assert_eq!(
            pem_blocks(&text).expect("parses"),
            vec![("CERTIFICATE".to_string(), vec![1, 2, 3])]
        );
        assert!(pem_blocks("nothing").is_err());
    }
}
