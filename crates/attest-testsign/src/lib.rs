//! A throwaway Sigstore for tests.
//!
//! [`TestSigstore`] owns freshly generated keys for every service a Sigstore
//! instance runs and signs in-toto statements into v0.3 bundles that verify
//! against the trusted root it prints:
//!
//! - a Fulcio-like CA: a P-384 root and intermediate (both `O=<org>`), issuing
//!   P-256 leaf certificates with the Fulcio GitHub Actions extensions and,
//!   when the instance has a CT log, an embedded RFC 6962 SCT;
//! - a Rekor-v1-style log: a P-256 key, a real RFC 6962 Merkle tree pre-filled
//!   with dummy entries, `dsse`/`0.0.1` (and `hashedrekord`/`0.0.1`) entries
//!   with inclusion proofs, signed checkpoints and SETs;
//! - an RFC 3161 TSA: a P-256 leaf (critical EKU timeStamping) under a P-384
//!   root, answering with `TimeStampResp` DER.
//!
//! A [`SignFault`] in [`SignOptions`] corrupts exactly one thing at signing
//! time (a signature, a checkpoint, a SET, a proof hash, ...) so that
//! everything else in the bundle stays consistent and a verifier must fail
//! on that one check.
//!
//! ```
//! use attest_testsign::{statement, FulcioClaims, TestSigstore, TestSigstoreConfig};
//!
//! let mut sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
//! let st = statement(
//!     &[("a.tar.gz", "sha256", &attest_testsign::sha256_hex(b"artifact"))],
//!     attest_testsign::SLSA_PROVENANCE_V1,
//!     serde_json::json!({}),
//! );
//! let opts = sigstore.default_sign_options();
//! let bundle = sigstore.sign_statement(&st, &FulcioClaims::default(), &opts);
//! let root = sigstore.trusted_root_json();
//! assert!(bundle["verificationMaterial"]["tlogEntries"].is_array());
//! assert!(root.starts_with('{') && !root.contains('\n'));
//! ```
//!
//! Signing times must lie in the past of the real clock: verifiers reject
//! log integration times in the future. The default is 2025-06-01T12:00:00Z.
//!
//! [`services::LoopbackSigstore`] serves the same instance over HTTP on
//! 127.0.0.1 (Fulcio, Rekor v1 and v2, a TSA, an OIDC issuer and the
//! GitHub Actions ID-token endpoint) for signing clients, on the real clock;
//! [`TestSigstoreConfig::rekor_version`] says which Rekor its signing config
//! names. The
//! lower-level steps it uses are public: [`TestSigstore::issue_certificate`],
//! [`TestSigstore::append_to_log`], [`TestSigstore::timestamp_request`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod claims;
mod config;
mod keys;
mod log;
mod oids;
mod options;
mod sct;
pub mod services;
mod tsa;
mod x509;

pub use crate::claims::{FulcioClaims, LeafCertificateSpec, LeafIdentity, DEFAULT_COMMIT};
pub use crate::config::{RekorVersion, ServiceUrls, TestSigstoreConfig, ValidFor};
pub use crate::log::{InclusionProof, LoggedEntry};
pub use crate::options::{SignFault, SignOptions};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use der::Encode;
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};

use crate::keys::{sha256, Curve, EcKey};
use crate::log::{LogFaults, RekorLog};
use crate::x509::{org_name, Cert, CertSpec};
use x509_cert::ext::Extension;
use x509_cert::spki::SubjectPublicKeyInfoOwned;

/// Media type of the bundles produced.
pub const BUNDLE_V03_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// Media type of the trusted root produced.
pub const TRUSTED_ROOT_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
/// DSSE payload type of in-toto statements.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The in-toto v1 statement type.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// The SLSA provenance v1 predicate type.
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
/// The default signing time (in the past, as verifiers require).
pub const DEFAULT_SIGNING_TIME: &str = "2025-06-01T12:00:00Z";

/// The Rekor log's base URL in the trusted root (and checkpoint signer name).
pub const REKOR_URL: &str = "https://rekor.test";
/// The Rekor v2 log's base URL in the trusted root; its host is the v2
/// checkpoint origin.
pub const REKOR_V2_URL: &str = "https://rekor2.test";
/// The CT log's base URL in the trusted root.
pub const CTFE_URL: &str = "https://ctfe.test";
/// The CA's URI in the trusted root.
pub const FULCIO_URL: &str = "https://fulcio.test";
/// The TSA's URI in the trusted root.
pub const TSA_URL: &str = "https://tsa.test";

pub(crate) const YEAR: SignedDuration = SignedDuration::from_hours(24 * 365);

/// The host of `url` (`https://h:1/p` -> `h`), as Go's `url.Hostname()`.
fn url_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or("").to_string(),
        None => host_port.split(':').next().unwrap_or("").to_string(),
    }
}

/// An error from the lower-level service APIs (a request that a real
/// Sigstore service would reject).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// A throwaway Sigstore instance: CA, CT log, transparency log and TSA, with
/// freshly generated keys.
#[derive(Debug)]
pub struct TestSigstore {
    config: TestSigstoreConfig,
    ca_root: Cert,
    intermediate_key: EcKey,
    intermediate: Cert,
    log: RekorLog,
    log_v2: RekorLog,
    ct_key: EcKey,
    tsa_root: Cert,
    tsa_leaf_key: EcKey,
    tsa_leaf: Cert,
    urls: ServiceUrls,
}

impl TestSigstore {
    /// Generate the keys and certificates of a new instance.
    pub fn new(config: TestSigstoreConfig) -> Self {
        let org = config.organization.as_str();
        let t = config.signing_time;
        let (ca_from, ca_to) = (t - YEAR, t + 10 * YEAR);

        let ca_root_key = EcKey::generate(Curve::P384);
        let root_name = org_name(org, &format!("{org} test root"));
        let ca_root = x509::issue(
            &CertSpec {
                issuer: root_name.clone(),
                subject: root_name.clone(),
                not_before: ca_from,
                not_after: ca_to,
                spki: ca_root_key.spki(),
                extensions: x509::ca_extensions(1),
            },
            &ca_root_key,
        );
        let intermediate_key = EcKey::generate(Curve::P384);
        let intermediate = x509::issue(
            &CertSpec {
                issuer: root_name,
                subject: org_name(org, &format!("{org} test intermediate")),
                not_before: ca_from,
                not_after: ca_to,
                spki: intermediate_key.spki(),
                extensions: x509::ca_extensions(0),
            },
            &ca_root_key,
        );

        let tsa_root_key = EcKey::generate(Curve::P384);
        let tsa_root_name = org_name(org, &format!("{org} test TSA root"));
        let tsa_root = x509::issue(
            &CertSpec {
                issuer: tsa_root_name.clone(),
                subject: tsa_root_name.clone(),
                not_before: ca_from,
                not_after: ca_to,
                spki: tsa_root_key.spki(),
                extensions: x509::ca_extensions(0),
            },
            &tsa_root_key,
        );
        let tsa_leaf_key = EcKey::generate(Curve::P256);
        let tsa_leaf = x509::issue(
            &CertSpec {
                issuer: tsa_root_name,
                subject: org_name(org, &format!("{org} test TSA")),
                not_before: ca_from,
                not_after: ca_to,
                spki: tsa_leaf_key.spki(),
                extensions: vec![
                    x509::digital_signature(),
                    x509::eku(oids::KP_TIME_STAMPING, true),
                ],
            },
            &tsa_root_key,
        );

        let log = RekorLog::new("rekor.test", config.prefill_log_entries);
        let urls = ServiceUrls::default();
        let log_v2 = RekorLog::new_v2(&url_host(&urls.rekor_v2), config.prefill_log_entries);
        Self {
            config,
            ca_root,
            intermediate_key,
            intermediate,
            log,
            log_v2,
            ct_key: EcKey::generate(Curve::P256),
            tsa_root,
            tsa_leaf_key,
            tsa_leaf,
            urls,
        }
    }

    /// Change the service URLs the trusted root names (keys and
    /// certificates stay the same).
    pub fn set_service_urls(&mut self, urls: ServiceUrls) {
        // Verifiers take the v2 checkpoint origin from the host of the log's
        // URL in the trusted root, so the log follows its URL.
        self.log_v2.set_origin(&url_host(&urls.rekor_v2));
        self.urls = urls;
    }

    /// The configuration.
    pub fn config(&self) -> &TestSigstoreConfig {
        &self.config
    }

    /// Change the certificate authority's `validFor` in the trusted root
    /// printed from now on (certificates and keys stay the same).
    pub fn set_ca_valid_for(&mut self, valid_for: ValidFor) {
        self.config.ca_valid_for = valid_for;
    }

    /// The options that make a valid bundle for this instance: a log entry
    /// if the trusted root has a log, a timestamp if it has a TSA.
    pub fn default_sign_options(&self) -> SignOptions {
        SignOptions {
            tlog: self.config.tlog,
            tsa: self.config.tsa,
            ..SignOptions::default()
        }
    }

    /// Entries in the transparency log so far (dummy entries included).
    pub fn log_size(&self) -> u64 {
        self.log.size()
    }

    /// The CA root certificate, DER.
    pub fn ca_root_der(&self) -> &[u8] {
        &self.ca_root.der
    }

    /// The CA intermediate certificate, DER.
    pub fn ca_intermediate_der(&self) -> &[u8] {
        &self.intermediate.der
    }

    /// The trusted root as a JSON value.
    pub fn trusted_root(&self) -> Value {
        let org = &self.config.organization;
        let key_window = ValidFor::from(self.config.signing_time - YEAR).json();
        let raw = |der: &[u8]| json!({ "rawBytes": B64.encode(der) });
        let mut root = json!({ "mediaType": TRUSTED_ROOT_MEDIA_TYPE });
        if self.config.tlog {
            root["tlogs"] = json!([{
                "baseUrl": self.urls.rekor,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": B64.encode(self.log.key.spki_der()),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": key_window,
                },
                "logId": { "keyId": B64.encode(self.log.log_id()) },
            }]);
            if self.config.rekor_version == RekorVersion::V2 {
                // For an ECDSA key, Rekor v2's log ID (and so the checkpoint
                // key hint) is SHA-256 of the key's SPKI, as for v1.
                root["tlogs"]
                    .as_array_mut()
                    .expect("tlogs is an array")
                    .push(json!({
                        "baseUrl": self.urls.rekor_v2,
                        "hashAlgorithm": "SHA2_256",
                        "publicKey": {
                            "rawBytes": B64.encode(self.log_v2.key.spki_der()),
                            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                            "validFor": key_window,
                        },
                        "logId": { "keyId": B64.encode(self.log_v2.log_id()) },
                    }));
            }
        }
        root["certificateAuthorities"] = json!([{
            "subject": { "organization": org, "commonName": format!("{org} test root") },
            "uri": self.urls.fulcio,
            "certChain": { "certificates": [raw(&self.intermediate.der), raw(&self.ca_root.der)] },
            "validFor": self.config.ca_valid_for.json(),
        }]);
        if self.config.ctlog {
            root["ctlogs"] = json!([{
                "baseUrl": self.urls.ctfe,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": B64.encode(self.ct_key.spki_der()),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": key_window,
                },
                "logId": { "keyId": B64.encode(self.ct_key.key_id()) },
            }]);
        }
        if self.config.tsa {
            root["timestampAuthorities"] = json!([{
                "subject": { "organization": org, "commonName": format!("{org} test TSA") },
                "uri": self.urls.tsa,
                "certChain": { "certificates": [raw(&self.tsa_leaf.der), raw(&self.tsa_root.der)] },
                "validFor": key_window,
            }]);
        }
        root
    }

    /// The trusted root as one compact line of JSON (a JSON Lines row).
    pub fn trusted_root_json(&self) -> String {
        serde_json::to_string(&self.trusted_root()).expect("a JSON value serializes")
    }

    /// Issue a leaf certificate for `claims`, with an SCT when the instance
    /// has a CT log and `opts` does not ask for [`SignFault::NoSct`].
    fn issue_leaf(&self, claims: &FulcioClaims, opts: &SignOptions) -> (Cert, EcKey) {
        let t = self.config.signing_time;
        let five = SignedDuration::from_mins(5);
        let (not_before, not_after) = if opts.has(SignFault::LeafExpired) {
            (t - 4 * five, t - 2 * five)
        } else {
            (t - five, t + five)
        };
        let key = EcKey::generate(Curve::P256);
        let mut extensions = vec![x509::san_uri(&claims.subject_alternative_name)];
        for (n, value) in claims.extensions() {
            if !value.is_empty() {
                extensions.push(x509::raw_extension(
                    oids::fulcio(n),
                    false,
                    x509::utf8_der(value),
                ));
            }
        }
        let sct = (self.config.ctlog && !opts.has(SignFault::NoSct))
            .then_some((t, opts.has(SignFault::BadSct)));
        let leaf = self.sign_leaf(key.spki(), extensions, not_before, not_after, sct);
        (leaf, key)
    }

    /// Sign a leaf for `spki` with code-signing key usages, the given SAN and
    /// Fulcio extensions, and an SCT at `sct.0` (over the wrong issuer key
    /// when `sct.1`).
    fn sign_leaf(
        &self,
        spki: SubjectPublicKeyInfoOwned,
        identity_extensions: Vec<Extension>,
        not_before: Timestamp,
        not_after: Timestamp,
        sct: Option<(Timestamp, bool)>,
    ) -> Cert {
        let mut extensions = vec![
            x509::digital_signature(),
            x509::eku(oids::KP_CODE_SIGNING, false),
        ];
        extensions.extend(identity_extensions);
        let spec = CertSpec {
            issuer: self.intermediate.cert.tbs_certificate.subject.clone(),
            subject: Default::default(),
            not_before,
            not_after,
            spki,
            extensions,
        };
        let mut tbs = spec.tbs(x509::random_serial(), &self.intermediate_key);
        if let Some((sct_time, bad_sct)) = sct {
            let precert = tbs.to_der().expect("the precertificate TBS encodes");
            let ms = u64::try_from(sct_time.as_millisecond()).expect("after 1970");
            let root_spki;
            let issuer_spki = if bad_sct {
                root_spki = self
                    .ca_root
                    .cert
                    .tbs_certificate
                    .subject_public_key_info
                    .to_der()
                    .expect("an SPKI encodes");
                &root_spki[..]
            } else {
                self.intermediate_key.spki_der()
            };
            let ext = sct::sct_extension(&self.ct_key, &precert, issuer_spki, ms);
            tbs.extensions.get_or_insert_with(Vec::new).push(ext);
        }
        Cert::new(x509::sign_tbs(tbs, &self.intermediate_key))
    }

    /// Issue a leaf certificate (DER) for the public key `spki_der` (a DER
    /// SubjectPublicKeyInfo), signed by the CA intermediate, with an
    /// embedded SCT (timestamped `spec.not_before`) when the instance has a
    /// CT log. This is Fulcio's issuance step; checking the identity and the
    /// proof of possession is the caller's job.
    pub fn issue_certificate(
        &self,
        spki_der: &[u8],
        spec: &LeafCertificateSpec,
    ) -> Result<Vec<u8>, Error> {
        use der::Decode;
        let spki = SubjectPublicKeyInfoOwned::from_der(spki_der)
            .map_err(|e| Error::new(format!("not a DER SubjectPublicKeyInfo: {e}")))?;
        let mut extensions = vec![match &spec.identity {
            LeafIdentity::Uri(uri) => {
                if !uri.is_ascii() {
                    return Err(Error::new("the SAN URI is not ASCII"));
                }
                x509::san_uri(uri)
            }
            LeafIdentity::Email(email) => {
                if !email.is_ascii() {
                    return Err(Error::new("the SAN email is not ASCII"));
                }
                x509::san_email(email)
            }
        }];
        for (n, value) in &spec.extensions {
            if value.is_empty() {
                continue;
            }
            let der_value = if *n < 8 {
                value.as_bytes().to_vec()
            } else {
                x509::utf8_der(value)
            };
            extensions.push(x509::raw_extension(oids::fulcio(*n), false, der_value));
        }
        let sct = self.config.ctlog.then_some((spec.not_before, false));
        Ok(self
            .sign_leaf(spki, extensions, spec.not_before, spec.not_after, sct)
            .der)
    }

    /// Append a canonicalized entry body to the transparency log at
    /// `integrated_time` (Unix seconds): the inclusion proof for the new
    /// tree size, a signed checkpoint and the SET.
    pub fn append_to_log(&mut self, canonical_body: &[u8], integrated_time: i64) -> LoggedEntry {
        self.log
            .append(canonical_body, integrated_time, LogFaults::default())
    }

    /// The inclusion proof of entry `log_index` in the current tree, with a
    /// checkpoint for the current size (what Rekor answers when an entry is
    /// read back), or `None` past the end of the log.
    pub fn log_inclusion_proof(&self, log_index: u64) -> Option<InclusionProof> {
        self.log.prove(log_index)
    }

    /// The log's current `(tree size, root hash, signed checkpoint)`.
    pub fn log_head(&self) -> (u64, [u8; 32], String) {
        self.log.head()
    }

    /// The log ID: SHA-256 of the log key's DER SubjectPublicKeyInfo.
    pub fn log_id(&self) -> [u8; 32] {
        self.log.log_id()
    }

    /// The tree ID in the checkpoint origin (`rekor.test - <tree id>`).
    pub fn log_tree_id(&self) -> u64 {
        self.log.tree_id
    }

    /// The log's public key, DER SubjectPublicKeyInfo.
    pub fn log_public_key_der(&self) -> &[u8] {
        self.log.key.spki_der()
    }

    /// Append a canonicalized `0.0.2` entry body to the Rekor v2 log: the
    /// inclusion proof for the new tree size and a signed checkpoint (the
    /// returned `set` and `integrated_time` are not part of a v2 entry).
    pub fn append_to_v2_log(&mut self, canonical_body: &[u8]) -> LoggedEntry {
        self.log_v2.append(canonical_body, 0, LogFaults::default())
    }

    /// Entries in the Rekor v2 log so far (dummy entries included).
    pub fn v2_log_size(&self) -> u64 {
        self.log_v2.size()
    }

    /// The Rekor v2 log's ID: SHA-256 of its key's DER SubjectPublicKeyInfo.
    pub fn v2_log_id(&self) -> [u8; 32] {
        self.log_v2.log_id()
    }

    /// The Rekor v2 log's current `(tree size, root hash, signed checkpoint)`.
    pub fn v2_log_head(&self) -> (u64, [u8; 32], String) {
        self.log_v2.head()
    }

    /// The Rekor v2 log's checkpoint origin (the host of its URL).
    pub fn v2_log_origin(&self) -> &str {
        &self.log_v2.origin
    }

    /// The Rekor v2 log's public key, DER SubjectPublicKeyInfo.
    pub fn v2_log_public_key_der(&self) -> &[u8] {
        self.log_v2.key.spki_der()
    }

    /// Answer a DER RFC 3161 `TimeStampReq` with a DER `TimeStampResp`
    /// timestamped `gen_time`: the request's message imprint (SHA-256,
    /// SHA-384 or SHA-512) and nonce, the TSA certificate when the request
    /// asks for it.
    pub fn timestamp_request(
        &self,
        request_der: &[u8],
        gen_time: Timestamp,
    ) -> Result<Vec<u8>, Error> {
        let request = tsa::TimestampRequest::from_der(request_der).map_err(Error::new)?;
        Ok(tsa::timestamp_response(
            &self.tsa_leaf,
            &self.tsa_leaf_key,
            &request,
            gen_time,
            tsa::TsaFaults::default(),
        ))
    }

    /// The TSA's certificate chain, DER, leaf first.
    pub fn tsa_chain_der(&self) -> [&[u8]; 2] {
        [&self.tsa_leaf.der, &self.tsa_root.der]
    }

    /// Log `body` and return the bundle's `tlogEntries[]` element.
    fn log_entry(&mut self, kind: &str, body: &[u8], opts: &SignOptions) -> Value {
        let faults = LogFaults {
            bad_checkpoint_signature: opts.has(SignFault::BadCheckpointSignature),
            checkpoint_wrong_root: opts.has(SignFault::CheckpointWrongRoot),
            bad_set: opts.has(SignFault::BadSet),
            bad_inclusion_proof: opts.has(SignFault::BadInclusionProof),
        };
        let integrated_time = self.config.signing_time.as_second();
        let e = self.log.append(body, integrated_time, faults);
        json!({
            "logIndex": e.log_index.to_string(),
            "logId": { "keyId": B64.encode(self.log.log_id()) },
            "kindVersion": { "kind": kind, "version": "0.0.1" },
            "integratedTime": integrated_time.to_string(),
            "inclusionPromise": { "signedEntryTimestamp": B64.encode(&e.set) },
            "inclusionProof": {
                "logIndex": e.log_index.to_string(),
                "rootHash": B64.encode(e.root_hash),
                "treeSize": e.tree_size.to_string(),
                "hashes": e.hashes.iter().map(|h| B64.encode(h)).collect::<Vec<_>>(),
                "checkpoint": { "envelope": e.checkpoint },
            },
            "canonicalizedBody": B64.encode(body),
        })
    }

    /// An RFC 3161 timestamp of `signature`, as a bundle
    /// `rfc3161Timestamps[]` element.
    fn timestamp(&self, signature: &[u8], opts: &SignOptions) -> Value {
        let other;
        let imprint_of = if opts.has(SignFault::TsaWrongImprint) {
            other = [signature, b"other"].concat();
            &other[..]
        } else {
            signature
        };
        let gen_time =
            self.config.signing_time + SignedDuration::from_secs(opts.tsa_time_offset_secs);
        let der = tsa::timestamp_response(
            &self.tsa_leaf,
            &self.tsa_leaf_key,
            &tsa::TimestampRequest::sha256_of(imprint_of),
            gen_time,
            tsa::TsaFaults {
                foreign_key: opts.has(SignFault::TsaForeignKey),
            },
        );
        json!({ "signedTimestamp": B64.encode(der) })
    }

    fn bundle(
        &self,
        leaf: &Cert,
        tlog_entries: Vec<Value>,
        timestamps: Vec<Value>,
        content_key: &str,
        content: Value,
    ) -> Value {
        let mut material = json!({ "certificate": { "rawBytes": B64.encode(&leaf.der) } });
        material["tlogEntries"] = Value::Array(tlog_entries);
        material["timestampVerificationData"] = if timestamps.is_empty() {
            json!({})
        } else {
            json!({ "rfc3161Timestamps": timestamps })
        };
        let mut bundle = json!({
            "mediaType": BUNDLE_V03_MEDIA_TYPE,
            "verificationMaterial": material,
        });
        bundle[content_key] = content;
        bundle
    }

    /// Sign an in-toto statement into a v0.3 bundle with a DSSE envelope,
    /// logged as `dsse`/`0.0.1` when `opts.tlog`, timestamped when `opts.tsa`.
    pub fn sign_statement(
        &mut self,
        statement_json: &[u8],
        claims: &FulcioClaims,
        opts: &SignOptions,
    ) -> Value {
        let (leaf, key) = self.issue_leaf(claims, opts);
        let signed_payload = if opts.has(SignFault::BadSignature) {
            [statement_json, b" "].concat()
        } else {
            statement_json.to_vec()
        };
        let signature = key.sign(&sigstore_types::pae(IN_TOTO_PAYLOAD_TYPE, &signed_payload));
        let envelope = json!({
            "payload": B64.encode(statement_json),
            "payloadType": IN_TOTO_PAYLOAD_TYPE,
            "signatures": [{ "sig": B64.encode(&signature), "keyid": "" }],
        });

        let mut entries = Vec::new();
        if opts.tlog {
            let envelope_text = serde_json::to_string(&envelope).expect("JSON serializes");
            let body = json!({
                "apiVersion": "0.0.1",
                "kind": "dsse",
                "spec": {
                    "envelopeHash": {
                        "algorithm": "sha256",
                        "value": hex::encode(sha256(envelope_text.as_bytes())),
                    },
                    "payloadHash": {
                        "algorithm": "sha256",
                        "value": hex::encode(sha256(statement_json)),
                    },
                    "signatures": [{
                        "signature": B64.encode(&signature),
                        "verifier": B64.encode(leaf.pem()),
                    }],
                },
            });
            let canonical = serde_json_canonicalizer::to_vec(&body).expect("JCS of a JSON value");
            entries.push(self.log_entry("dsse", &canonical, opts));
        }
        let mut timestamps = Vec::new();
        if opts.tsa {
            timestamps.push(self.timestamp(&signature, opts));
        }
        self.bundle(&leaf, entries, timestamps, "dsseEnvelope", envelope)
    }

    /// Sign bytes into a v0.3 bundle with a message signature (SHA-256
    /// digest), logged as `hashedrekord`/`0.0.1` when `opts.tlog`.
    pub fn sign_blob(&mut self, blob: &[u8], claims: &FulcioClaims, opts: &SignOptions) -> Value {
        let (leaf, key) = self.issue_leaf(claims, opts);
        let signed = if opts.has(SignFault::BadSignature) {
            [blob, b" "].concat()
        } else {
            blob.to_vec()
        };
        let signature = key.sign(&signed);
        let digest = sha256(blob);
        let content = json!({
            "messageDigest": { "algorithm": "SHA2_256", "digest": B64.encode(digest) },
            "signature": B64.encode(&signature),
        });
        let mut entries = Vec::new();
        if opts.tlog {
            let body = json!({
                "apiVersion": "0.0.1",
                "kind": "hashedrekord",
                "spec": {
                    "data": { "hash": { "algorithm": "sha256", "value": hex::encode(digest) } },
                    "signature": {
                        "content": B64.encode(&signature),
                        "publicKey": { "content": B64.encode(leaf.pem()) },
                    },
                },
            });
            let canonical = serde_json_canonicalizer::to_vec(&body).expect("JCS of a JSON value");
            entries.push(self.log_entry("hashedrekord", &canonical, opts));
        }
        let mut timestamps = Vec::new();
        if opts.tsa {
            timestamps.push(self.timestamp(&signature, opts));
        }
        self.bundle(&leaf, entries, timestamps, "messageSignature", content)
    }
}

/// Lowercase hex SHA-256 of `data` (an in-toto subject digest).
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(sha256(data))
}

/// `bundle` (v0.3, as [`TestSigstore::sign_statement`] writes it) as bundle
/// v0.1 writes it: the v0.1 media type, and the signing certificate as a
/// one-certificate `x509CertificateChain`.
pub fn as_bundle_v01(bundle: &Value) -> Value {
    let mut v01 = bundle.clone();
    v01["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.1".into();
    let material = v01["verificationMaterial"]
        .as_object_mut()
        .expect("verification material");
    let cert = material.remove("certificate").expect("a v0.3 certificate");
    material.insert(
        "x509CertificateChain".into(),
        serde_json::json!({ "certificates": [cert] }),
    );
    v01
}

/// The annotations cosign stores beside a `.sig` or `.att` layer for what
/// `bundle` (a v0.3 bundle this test Sigstore signed, with a log entry)
/// holds: the signature (empty for a DSSE envelope, whose signature is in
/// the layer), the leaf certificate as PEM, and the Rekor entry with its
/// signed entry timestamp.
pub fn cosign_annotations(bundle: &Value) -> std::collections::BTreeMap<String, String> {
    let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
    let number = |v: &Value| v.as_str().and_then(|s| s.parse::<i64>().ok());
    let cert = bundle["verificationMaterial"]["certificate"]["rawBytes"]
        .as_str()
        .expect("a certificate");
    let log_id = B64
        .decode(entry["logId"]["keyId"].as_str().expect("a log entry"))
        .expect("a base64 log ID");
    let rekor = json!({
        "SignedEntryTimestamp": entry["inclusionPromise"]["signedEntryTimestamp"],
        "Payload": {
            "body": entry["canonicalizedBody"],
            "integratedTime": number(&entry["integratedTime"]),
            "logIndex": number(&entry["logIndex"]),
            "logID": hex::encode(log_id),
        }
    });
    [
        (
            "dev.cosignproject.cosign/signature",
            bundle["messageSignature"]["signature"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ),
        (
            "dev.sigstore.cosign/certificate",
            format!("-----BEGIN CERTIFICATE-----\n{cert}\n-----END CERTIFICATE-----\n"),
        ),
        ("dev.sigstore.cosign/bundle", rekor.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// `bundle` with its first log entry reduced to a promise of inclusion: the
/// signed entry timestamp stays (asserted), the inclusion proof goes.
pub fn promise_only(bundle: &Value) -> Value {
    let mut b = bundle.clone();
    let entry = b["verificationMaterial"]["tlogEntries"][0]
        .as_object_mut()
        .expect("a log entry");
    assert!(entry.contains_key("inclusionPromise"), "a SET: {entry:?}");
    entry.remove("inclusionProof").expect("an inclusion proof");
    b
}

/// An in-toto v1 statement, compact JSON: `subjects` are
/// `(name, algorithm, hex digest)`.
pub fn statement(
    subjects: &[(&str, &str, &str)],
    predicate_type: &str,
    predicate: Value,
) -> Vec<u8> {
    let subject: Vec<Value> = subjects
        .iter()
        .map(|(name, alg, hex)| {
            let mut digest = serde_json::Map::new();
            digest.insert((*alg).to_string(), Value::String((*hex).to_string()));
            json!({ "name": name, "digest": digest })
        })
        .collect();
    let st = json!({
        "_type": STATEMENT_V1,
        "subject": subject,
        "predicateType": predicate_type,
        "predicate": predicate,
    });
    serde_json::to_vec(&st).expect("a JSON value serializes")
}

/// A small SLSA provenance v1 predicate naming the default workflow.
pub fn provenance_predicate(claims: &FulcioClaims) -> Value {
    json!({
        "buildDefinition": {
            "buildType": "https://actions.github.io/buildtypes/workflow/v1",
            "externalParameters": {
                "workflow": {
                    "ref": claims.source_repository_ref,
                    "repository": claims.source_repository_uri,
                    "path": ".github/workflows/release.yml",
                },
            },
            "resolvedDependencies": [{
                "uri": format!("git+{}@{}", claims.source_repository_uri, claims.source_repository_ref),
                "digest": { "gitCommit": claims.source_repository_digest },
            }],
        },
        "runDetails": {
            "builder": { "id": format!("https://github.com/actions/runner/{}", claims.runner_environment) },
            "metadata": { "invocationId": claims.run_invocation_uri },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigstore_types::{Bundle, DerCertificate, SignatureBytes, TimestampToken, TsaAuthority};

    #[test]
    fn v2_checkpoint_origin_follows_the_host_of_the_log_url() {
        assert_eq!(url_host("https://rekor2.test"), "rekor2.test");
        assert_eq!(url_host("http://127.0.0.1:8080/rekor2"), "127.0.0.1");
        assert_eq!(url_host("http://[::1]:80/x"), "::1");
        let mut s = TestSigstore::new(TestSigstoreConfig {
            rekor_version: RekorVersion::V2,
            ..TestSigstoreConfig::public_good_like()
        });
        assert_eq!(s.v2_log_origin(), "rekor2.test");
        s.set_service_urls(ServiceUrls {
            rekor_v2: "http://127.0.0.1:9/rekor2".into(),
            ..ServiceUrls::default()
        });
        assert!(s.v2_log_head().2.starts_with("127.0.0.1\n"));
        let tlogs = s.trusted_root()["tlogs"].clone();
        assert_eq!(tlogs.as_array().map(Vec::len), Some(2), "{tlogs}");
        assert_eq!(
            tlogs[1]["logId"]["keyId"],
            B64.encode(sha256(s.v2_log_public_key_der()))
        );
        // A v1 instance's root is as before: one log.
        let v1 = TestSigstore::new(TestSigstoreConfig::public_good_like());
        assert_eq!(v1.trusted_root()["tlogs"].as_array().map(Vec::len), Some(1));
    }

    fn signed(opts: &SignOptions) -> (TestSigstore, Bundle) {
        let mut s = TestSigstore::new(TestSigstoreConfig::public_good_like());
        let st = statement(
            &[("a", "sha256", &sha256_hex(b"a"))],
            SLSA_PROVENANCE_V1,
            json!({}),
        );
        let value = s.sign_statement(&st, &FulcioClaims::default(), opts);
        let bundle = Bundle::from_json(&value.to_string()).expect("the bundle parses");
        (s, bundle)
    }

    #[test]
    fn bundles_parse_and_checkpoints_parse() {
        let (s, bundle) = signed(&SignOptions {
            tlog: true,
            tsa: true,
            ..SignOptions::default()
        });
        let entry = &bundle.verification_material.tlog_entries[0];
        let proof = entry.inclusion_proof.as_ref().expect("a proof");
        let checkpoint = proof.checkpoint.checkpoint().expect("a checkpoint");
        assert_eq!(checkpoint.tree_size(), s.log_size());
        assert_eq!(checkpoint.root_hash(), &proof.root_hash);
        // Leaf 5 of 6: its sibling leaf 4, then the root of leaves 0..4.
        assert_eq!(proof.hashes.len(), 2);
        assert_eq!(entry.log_index.get(), 5);
    }

    #[test]
    fn timestamps_verify_with_sigstore_tsa() {
        for (foreign_key, wrong_imprint, ok) in [
            (false, false, true),
            (true, false, false),
            (false, true, false),
        ] {
            let mut opts = SignOptions::tsa_only();
            if foreign_key {
                opts.fault(SignFault::TsaForeignKey);
            }
            if wrong_imprint {
                opts.fault(SignFault::TsaWrongImprint);
            }
            let (s, bundle) = signed(&opts);
            let token: &TimestampToken = &bundle
                .verification_material
                .timestamp_verification_data
                .rfc3161_timestamps[0]
                .signed_timestamp;
            let signature: SignatureBytes = match &bundle.content {
                sigstore_types::SignatureContent::DsseEnvelope(e) => e.signature.sig.clone(),
                _ => panic!("a DSSE bundle"),
            };
            let authority = TsaAuthority::new(
                DerCertificate::new(s.tsa_leaf.der.clone()),
                Vec::new(),
                DerCertificate::new(s.tsa_root.der.clone()),
                None,
            );
            let result =
                sigstore_tsa::verify_timestamp_for_authority(token, &signature, &authority);
            assert_eq!(result.is_ok(), ok, "{result:?}");
            if let Ok(time) = result {
                assert_eq!(time, s.config().signing_time);
            }
        }
    }

    #[test]
    fn trusted_root_lists_only_enabled_services() {
        let s = TestSigstore::new(TestSigstoreConfig::github_like());
        let root = s.trusted_root();
        assert!(root.get("tlogs").is_none());
        assert!(root.get("ctlogs").is_none());
        assert_eq!(root["timestampAuthorities"][0]["uri"], TSA_URL);
        assert_eq!(
            root["certificateAuthorities"][0]["certChain"]["certificates"]
                .as_array()
                .map(Vec::len),
            Some(2)
        );
        assert!(!s.trusted_root_json().contains('\n'));
    }

    #[test]
    fn statements_keep_subjects_in_order() {
        let st = statement(
            &[("x", "sha256", "00"), ("y", "sha512", "11")],
            "https://example.com/p",
            json!({ "k": 1 }),
        );
        let v: Value = serde_json::from_slice(&st).expect("JSON");
        assert_eq!(v["_type"], STATEMENT_V1);
        assert_eq!(v["subject"][1]["digest"]["sha512"], "11");
        assert_eq!(v["predicateType"], "https://example.com/p");
    }
}
