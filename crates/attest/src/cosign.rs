//! cosign's image signatures as it stores them under the legacy tag scheme
//! (`sha256-<hex>.sig`): a simplesigning payload per layer, with the
//! signature, certificate and Rekor entry in the layer's annotations.
//!
//! Each signature becomes the Sigstore bundle it is equivalent to (v0.1: a
//! message signature over the payload's SHA-256, the leaf certificate or a
//! key, the Rekor entry with its signed entry timestamp, any RFC 3161
//! timestamp), so the same core verifies it with the same checks as any
//! bundle: chain at signing time, SCT, SET, log entry consistency with the
//! signature and payload, signature. What a bundle cannot say is checked
//! here: the payload must be a cosign container image signature whose
//! `critical.image.docker-manifest-digest` is the image's digest.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{json, Value};

use crate::artifact::{digest_bytes, ArtifactDigest, DigestAlgorithm};
use crate::bundle::{parse_bundle, BundleError, BundleOrigin, LoadedBundle};

/// The layer media type of a cosign signature.
pub const SIMPLESIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The signature (base64) annotation.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The signing certificate (PEM) annotation.
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// The certificate chain (PEM) annotation.
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// The Rekor bundle (signed entry timestamp and entry) annotation.
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// The RFC 3161 timestamp annotation.
pub const RFC3161_ANNOTATION: &str = "dev.sigstore.cosign/rfc3161timestamp";
/// `critical.type` of an image signature.
pub const IMAGE_SIGNATURE_TYPE: &str = "cosign container image signature";

/// The layer media type of a cosign attestation (a DSSE envelope).
pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// The annotation naming an attestation's predicate type.
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";

/// The media type of one line of the cosign signature file `attest
/// download` writes (`ALG:HEX.sig.jsonl`): an object with the simplesigning
/// `payload` (base64) and the Sigstore `bundle` equivalent to cosign's
/// annotations. A messageSignature bundle carries only the payload's
/// digest, so the payload travels beside it for the offline check of the
/// image digest it names.
pub const SAVED_SIGNATURE_MEDIA_TYPE: &str = "application/vnd.dev.attest.cosign-signature.v1+json";

/// The largest simplesigning payload read (cosign's are a few hundred bytes
/// plus optional annotations).
pub const MAX_PAYLOAD_BYTES: u64 = 1024 * 1024;

/// One signature as cosign stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignSignature {
    /// Where it came from (`REGISTRY/REPO:sha256-HEX.sig layer N`).
    pub origin: String,
    /// The simplesigning payload: what was signed.
    pub payload: Vec<u8>,
    /// The layer's annotations.
    pub annotations: BTreeMap<String, String>,
}

/// Why a stored signature is no signature of the image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {detail}")]
pub struct CosignError {
    /// The signature.
    pub origin: String,
    /// What is wrong, one line.
    pub detail: String,
}

/// What the payload says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleSigning {
    /// `critical.identity.docker-reference`.
    pub docker_reference: String,
    /// `critical.image.docker-manifest-digest`.
    pub manifest_digest: String,
    /// `optional`, as given (cosign's `-a key=value` annotations).
    pub optional: Value,
}

impl CosignSignature {
    fn err(&self, detail: impl Into<String>) -> CosignError {
        CosignError {
            origin: self.origin.clone(),
            detail: detail.into(),
        }
    }

    /// The digest the signature is over: the payload's SHA-256.
    pub fn payload_digest(&self) -> ArtifactDigest {
        digest_bytes(&self.payload, DigestAlgorithm::Sha256)
    }

    /// The payload must be a cosign image signature of `image`: its type,
    /// and its manifest digest equal to the image's.
    pub fn check_payload(&self, image: &ArtifactDigest) -> Result<SimpleSigning, CosignError> {
        check_simplesigning(&self.origin, &self.payload, image)
    }

    /// [`Self::check_payload`] of a payload held elsewhere (a saved
    /// signature's), named `origin` in errors.
    pub fn check_payload_bytes(
        origin: &str,
        payload: &[u8],
        image: &ArtifactDigest,
    ) -> Result<SimpleSigning, CosignError> {
        check_simplesigning(origin, payload, image)
    }

    /// This signature as one line of `attest download`'s signature file:
    /// the payload and the Sigstore bundle equivalent to the annotations
    /// (see [`SAVED_SIGNATURE_MEDIA_TYPE`]).
    pub fn to_saved_line(&self) -> Result<String, CosignError> {
        let bundle = self.to_bundle()?;
        let b64 = base64::engine::general_purpose::STANDARD;
        Ok(json!({
            "mediaType": SAVED_SIGNATURE_MEDIA_TYPE,
            "payload": b64.encode(&self.payload),
            "bundle": bundle.raw,
        })
        .to_string())
    }
}

/// The checks of [`CosignSignature::check_payload`], for a payload from a
/// registry or from a saved signature.
fn check_simplesigning(
    origin: &str,
    payload: &[u8],
    image: &ArtifactDigest,
) -> Result<SimpleSigning, CosignError> {
    let err = |detail: String| CosignError {
        origin: origin.to_string(),
        detail,
    };
    crate::json::check_unique_keys(payload).map_err(|e| err(format!("payload: {e}")))?;
    let v: Value =
        serde_json::from_slice(payload).map_err(|e| err(format!("payload: not JSON: {e}")))?;
    let critical = &v["critical"];
    let kind = critical["type"].as_str().unwrap_or_default();
    if kind != IMAGE_SIGNATURE_TYPE {
        return Err(err(format!(
            "payload critical.type is {kind:?}, expected {IMAGE_SIGNATURE_TYPE:?}"
        )));
    }
    let manifest_digest = critical["image"]["docker-manifest-digest"]
        .as_str()
        .ok_or_else(|| err("payload: critical.image.docker-manifest-digest is missing".into()))?;
    let named = ArtifactDigest::parse(manifest_digest).map_err(|e| {
        err(format!(
            "payload: critical.image.docker-manifest-digest {:?}: {e}",
            crate::text::remote_text(manifest_digest)
        ))
    })?;
    if named != *image {
        return Err(err(format!(
            "the payload signs image {named}, not {image} (critical.image.docker-manifest-digest)"
        )));
    }
    Ok(SimpleSigning {
        docker_reference: critical["identity"]["docker-reference"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        manifest_digest: manifest_digest.to_string(),
        optional: v["optional"].clone(),
    })
}

impl CosignSignature {
    /// The equivalent Sigstore bundle (v0.1). With a certificate annotation
    /// the bundle carries that leaf; without one it is key-signed (a key
    /// given by the user verifies it). The chain annotation is not used:
    /// the trusted root supplies the chain.
    pub fn to_bundle(&self) -> Result<LoadedBundle, CosignError> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let signature = self
            .annotations
            .get(SIGNATURE_ANNOTATION)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| self.err(format!("no {SIGNATURE_ANNOTATION} annotation")))?;
        b64.decode(signature.trim())
            .map_err(|e| self.err(format!("{SIGNATURE_ANNOTATION}: not base64: {e}")))?;
        let material = self.material()?;
        let bundle = json!({
            "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
            "verificationMaterial": Value::Object(material),
            "messageSignature": {
                "messageDigest": {
                    "algorithm": "SHA2_256",
                    "digest": b64.encode(self.payload_digest().as_bytes()),
                },
                "signature": signature.trim(),
            },
        });
        parse_bundle(
            &bundle.to_string(),
            BundleOrigin {
                source: self.origin.clone(),
                line: 0,
                index: 1,
            },
        )
        .map_err(|e: BundleError| self.err(e.to_string()))
    }

    /// The bundle's verification material from cosign's annotations: the
    /// leaf certificate (or a key hint), the Rekor entry with its SET, and
    /// any RFC 3161 timestamp. The chain annotation is not used: the
    /// trusted root supplies the chain.
    fn material(&self) -> Result<serde_json::Map<String, Value>, CosignError> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut material = serde_json::Map::new();
        match self
            .annotations
            .get(CERTIFICATE_ANNOTATION)
            .filter(|c| !c.trim().is_empty())
        {
            Some(pem) => {
                let der = pem_certificate(pem)
                    .map_err(|e| self.err(format!("{CERTIFICATE_ANNOTATION}: {e}")))?;
                material.insert(
                    "x509CertificateChain".into(),
                    json!({ "certificates": [{ "rawBytes": b64.encode(der) }] }),
                );
            }
            None => {
                material.insert("publicKey".into(), json!({ "hint": "" }));
            }
        }
        let mut entries = Vec::new();
        if let Some(rekor) = self.annotations.get(BUNDLE_ANNOTATION) {
            entries.push(self.tlog_entry(rekor)?);
        }
        material.insert("tlogEntries".into(), Value::Array(entries));
        if let Some(ts) = self.annotations.get(RFC3161_ANNOTATION) {
            let v: Value = serde_json::from_str(ts)
                .map_err(|e| self.err(format!("{RFC3161_ANNOTATION}: not JSON: {e}")))?;
            let token = v["SignedRFC3161Timestamp"].as_str().ok_or_else(|| {
                self.err(format!("{RFC3161_ANNOTATION}: no SignedRFC3161Timestamp"))
            })?;
            material.insert(
                "timestampVerificationData".into(),
                json!({ "rfc3161Timestamps": [{ "signedTimestamp": token }] }),
            );
        }
        Ok(material)
    }

    /// cosign's Rekor bundle annotation as a bundle's log entry: the body,
    /// time, index and log ID the signed entry timestamp covers.
    fn tlog_entry(&self, annotation: &str) -> Result<Value, CosignError> {
        let bad = |what: &str| self.err(format!("{BUNDLE_ANNOTATION}: {what}"));
        crate::json::check_unique_keys(annotation.as_bytes()).map_err(|e| bad(&e.to_string()))?;
        let v: Value =
            serde_json::from_str(annotation).map_err(|e| bad(&format!("not JSON: {e}")))?;
        let set = v["SignedEntryTimestamp"]
            .as_str()
            .ok_or_else(|| bad("no SignedEntryTimestamp"))?;
        let p = &v["Payload"];
        let body = p["body"].as_str().ok_or_else(|| bad("no Payload.body"))?;
        let time = p["integratedTime"]
            .as_i64()
            .ok_or_else(|| bad("no Payload.integratedTime"))?;
        let index = p["logIndex"]
            .as_i64()
            .ok_or_else(|| bad("no Payload.logIndex"))?;
        let log_id = p["logID"].as_str().ok_or_else(|| bad("no Payload.logID"))?;
        let log_id = hex::decode(log_id).map_err(|_| bad("Payload.logID is not hex"))?;
        let b64 = base64::engine::general_purpose::STANDARD;
        let decoded = b64
            .decode(body)
            .map_err(|_| bad("Payload.body is not base64"))?;
        let entry: Value = serde_json::from_slice(&decoded)
            .map_err(|_| bad("Payload.body is not a Rekor entry"))?;
        let (Some(kind), Some(version)) = (entry["kind"].as_str(), entry["apiVersion"].as_str())
        else {
            return Err(bad("the Rekor entry has no kind and apiVersion"));
        };
        Ok(json!({
            "logIndex": index.to_string(),
            "logId": { "keyId": b64.encode(log_id) },
            "kindVersion": { "kind": kind, "version": version },
            "integratedTime": time.to_string(),
            "inclusionPromise": { "signedEntryTimestamp": set },
            "canonicalizedBody": body,
        }))
    }
}

/// One attestation as cosign stored it under the `.att` tag: a DSSE
/// envelope layer with the signing material in its annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignAttestation {
    /// Where it came from.
    pub origin: String,
    /// The DSSE envelope (JSON), as stored.
    pub envelope: Vec<u8>,
    /// The layer's annotations.
    pub annotations: BTreeMap<String, String>,
}

impl CosignAttestation {
    fn err(&self, detail: impl Into<String>) -> CosignError {
        CosignError {
            origin: self.origin.clone(),
            detail: detail.into(),
        }
    }

    /// The equivalent Sigstore bundle (v0.1, a DSSE envelope with the leaf
    /// certificate and the Rekor entry), verified like any other. The
    /// `predicateType` annotation, which cosign uses to find attestations,
    /// must name the statement's own predicate type.
    pub fn to_bundle(&self) -> Result<LoadedBundle, CosignError> {
        crate::json::check_unique_keys(&self.envelope)
            .map_err(|e| self.err(format!("envelope: {e}")))?;
        let envelope: Value = serde_json::from_slice(&self.envelope)
            .map_err(|e| self.err(format!("envelope: not JSON: {e}")))?;
        // The material cosign keeps in annotations, as a signature's.
        let as_signature = CosignSignature {
            origin: self.origin.clone(),
            payload: Vec::new(),
            annotations: self.annotations.clone(),
        };
        let material = as_signature.material()?;
        let bundle = json!({
            "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
            "verificationMaterial": Value::Object(material),
            "dsseEnvelope": envelope,
        });
        let loaded = parse_bundle(
            &bundle.to_string(),
            BundleOrigin {
                source: self.origin.clone(),
                line: 0,
                index: 1,
            },
        )
        .map_err(|e| self.err(e.to_string()))?;
        if let Some(annotated) = self.annotations.get(PREDICATE_TYPE_ANNOTATION) {
            match &loaded.statement {
                Some(Ok(st)) if st.predicate_type == *annotated => {}
                Some(Ok(st)) => {
                    return Err(self.err(format!(
                        "the {PREDICATE_TYPE_ANNOTATION} annotation says {}, the statement says {}",
                        crate::text::remote_text(annotated),
                        crate::text::remote_text(&st.predicate_type)
                    )))
                }
                Some(Err(e)) => return Err(self.err(e.to_string())),
                None => return Err(self.err("the envelope holds no in-toto statement")),
            }
        }
        Ok(loaded)
    }
}

/// The DER of the first `CERTIFICATE` in a PEM text.
fn pem_certificate(pem: &str) -> Result<Vec<u8>, String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let start = pem.find(BEGIN).ok_or("no PEM CERTIFICATE block")? + BEGIN.len();
    let end = pem[start..].find(END).ok_or("an unterminated PEM block")? + start;
    let body: String = pem[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| format!("PEM body is not base64: {e}"))
}

/// Read containers/image's `dir:` signature format (`\0sigstore-json\n`
/// then `{"mimeType", "payload", "annotations"}`), in which some tools keep
/// cosign signatures next to an image.
pub fn from_containers_image(origin: &str, data: &[u8]) -> Result<CosignSignature, CosignError> {
    let err = |d: String| CosignError {
        origin: origin.to_string(),
        detail: d,
    };
    let json = data
        .strip_prefix(b"\x00sigstore-json\n")
        .ok_or_else(|| err("not a sigstore-json signature (no \\0sigstore-json header)".into()))?;
    crate::json::check_unique_keys(json).map_err(|e| err(e.to_string()))?;
    let v: Value = serde_json::from_slice(json).map_err(|e| err(format!("not JSON: {e}")))?;
    if v["mimeType"] != SIMPLESIGNING_MEDIA_TYPE {
        return Err(err(format!("mimeType is not {SIMPLESIGNING_MEDIA_TYPE}")));
    }
    let payload = base64::engine::general_purpose::STANDARD
        .decode(v["payload"].as_str().unwrap_or_default())
        .map_err(|e| err(format!("payload is not base64: {e}")))?;
    let mut annotations = BTreeMap::new();
    if let Some(map) = v["annotations"].as_object() {
        for (k, val) in map {
            let s = val
                .as_str()
                .ok_or_else(|| err(format!("annotation {k} is not a string")))?;
            annotations.insert(k.clone(), s.to_string());
        }
    }
    Ok(CosignSignature {
        origin: origin.to_string(),
        payload,
        annotations,
    })
}

/// A cosign signature read back from `attest download`'s signature file.
#[derive(Debug, Clone)]
pub struct SavedSignature {
    /// Where it came from (`FILE:LINE`).
    pub origin: String,
    /// The simplesigning payload.
    pub payload: Vec<u8>,
    /// The Sigstore bundle over the payload.
    pub bundle: LoadedBundle,
}

impl SavedSignature {
    /// Parse one line: exactly `mediaType`, `payload` and `bundle`.
    pub fn parse(line: &str, origin: &str) -> Result<Self, CosignError> {
        let err = |detail: String| CosignError {
            origin: origin.to_string(),
            detail,
        };
        crate::json::check_unique_keys(line.as_bytes()).map_err(|e| err(e.to_string()))?;
        let v: Value = serde_json::from_str(line)
            .map_err(|e| err(format!("expected a saved cosign signature (JSON): {e}")))?;
        let obj = v
            .as_object()
            .ok_or_else(|| err("expected a JSON object".into()))?;
        if let Some(k) = obj
            .keys()
            .find(|k| !matches!(k.as_str(), "mediaType" | "payload" | "bundle"))
        {
            return Err(err(format!(
                "unknown member {:?}; expected mediaType, payload and bundle",
                crate::text::remote_text(k)
            )));
        }
        if obj.get("mediaType").and_then(Value::as_str) != Some(SAVED_SIGNATURE_MEDIA_TYPE) {
            return Err(err(format!(
                "expected mediaType {SAVED_SIGNATURE_MEDIA_TYPE:?} (a file `attest download` wrote)"
            )));
        }
        let payload = obj
            .get("payload")
            .and_then(Value::as_str)
            .ok_or_else(|| err("expected \"payload\", a base64 string".into()))?;
        if payload.len() as u64 > MAX_PAYLOAD_BYTES * 4 / 3 + 4 {
            return Err(err(format!(
                "payload: larger than {MAX_PAYLOAD_BYTES} bytes"
            )));
        }
        let payload = base64::engine::general_purpose::STANDARD
            .decode(payload)
            .map_err(|e| err(format!("payload: not base64: {e}")))?;
        let bundle = obj
            .get("bundle")
            .ok_or_else(|| err("expected \"bundle\", a Sigstore bundle".into()))?;
        let bundle = parse_bundle(
            &bundle.to_string(),
            BundleOrigin {
                source: origin.to_string(),
                line: 0,
                index: 1,
            },
        )
        .map_err(|e| err(e.to_string()))?;
        Ok(Self {
            origin: origin.to_string(),
            payload,
            bundle,
        })
    }

    /// The digest the bundle's signature must be over.
    pub fn payload_digest(&self) -> ArtifactDigest {
        digest_bytes(&self.payload, DigestAlgorithm::Sha256)
    }

    /// The payload must be a cosign signature of `image` (as
    /// [`CosignSignature::check_payload`]).
    pub fn check_payload(&self, image: &ArtifactDigest) -> Result<SimpleSigning, CosignError> {
        check_simplesigning(&self.origin, &self.payload, image)
    }
}

/// Every saved signature in `text` (one per non-blank line), named
/// `NAME:LINE`.
pub fn saved_signatures(text: &str, name: &str) -> Vec<Result<SavedSignature, CosignError>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| SavedSignature::parse(l, &format!("{name}:{}", i + 1)))
        .collect()
}
