//! Freshly generated ECDSA keys and the few hashes the fixtures need.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING,
};
use der::Decode;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::oids;

/// The two curves the fixtures use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Curve {
    /// NIST P-256, signing with SHA-256.
    P256,
    /// NIST P-384, signing with SHA-384.
    P384,
}

/// An ECDSA key pair with its SubjectPublicKeyInfo.
pub(crate) struct EcKey {
    pair: EcdsaKeyPair,
    spki_der: Vec<u8>,
    curve: Curve,
}

impl std::fmt::Debug for EcKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcKey")
            .field("curve", &self.curve)
            .field("key_id", &hex::encode(self.key_id()))
            .finish()
    }
}

impl EcKey {
    /// Generate a fresh key on `curve`.
    pub(crate) fn generate(curve: Curve) -> Self {
        let alg = match curve {
            Curve::P256 => &ECDSA_P256_SHA256_ASN1_SIGNING,
            Curve::P384 => &ECDSA_P384_SHA384_ASN1_SIGNING,
        };
        let pair = EcdsaKeyPair::generate(alg).expect("aws-lc-rs generates an ECDSA key");
        let spki_der = pair
            .public_key()
            .as_der()
            .expect("aws-lc-rs encodes an ECDSA public key as SPKI")
            .as_ref()
            .to_vec();
        Self {
            pair,
            spki_der,
            curve,
        }
    }

    /// An ASN.1 DER ECDSA signature over `message` (SHA-256 for P-256,
    /// SHA-384 for P-384).
    pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair
            .sign(&SystemRandom::new(), message)
            .expect("aws-lc-rs signs with an ECDSA key")
            .as_ref()
            .to_vec()
    }

    /// The DER SubjectPublicKeyInfo.
    pub(crate) fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The SubjectPublicKeyInfo as an x509-cert value.
    pub(crate) fn spki(&self) -> SubjectPublicKeyInfoOwned {
        SubjectPublicKeyInfoOwned::from_der(&self.spki_der).expect("aws-lc-rs SPKI is valid DER")
    }

    /// SHA-256 of the DER SubjectPublicKeyInfo: a Rekor log ID, a CT log ID.
    pub(crate) fn key_id(&self) -> [u8; 32] {
        sha256(&self.spki_der)
    }

    /// The X.509 signature algorithm this key signs certificates with.
    pub(crate) fn signature_algorithm(&self) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: match self.curve {
                Curve::P256 => oids::ECDSA_WITH_SHA256,
                Curve::P384 => oids::ECDSA_WITH_SHA384,
            },
            parameters: None,
        }
    }
}

/// SHA-256.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// `n` random bytes.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    aws_lc_rs::rand::fill(&mut out).expect("aws-lc-rs has a random source");
    out
}
