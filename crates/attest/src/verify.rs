//! The one adapter over the Sigstore verification core (`sigstore-verify`).
//!
//! [`verify_bundle`] takes a parsed bundle, the artifact's digest and the
//! run's trusted roots, picks the root by the leaf certificate's issuer
//! organisation, applies that instance's requirements, and returns a
//! [`VerifiedAttestation`]: the certificate's claims, the verified
//! timestamps and the statement. It knows nothing of gh's flags; identity
//! policy is applied afterwards by `policy`.
//!
//! Requirements by instance, never relaxed for public good:
//!
//! | instance | chain at signing time | SCT | tlog inclusion proof + checkpoint | verified time |
//! |---|---|---|---|---|
//! | public good | yes | yes | yes, at least one entry, every entry proven | SET or TSA |
//! | GitHub | yes | – (no CT log) | – (no log) | at least one RFC 3161 timestamp |
//! | custom | yes | if the root has CT logs | if the root has logs (every entry proven) | SET or TSA |

use std::fmt;

use sigstore_trust_root::{TrustedRoot, TsaAuthority};
use sigstore_types::{KindVersion, SignatureContent};

/// A DER SubjectPublicKeyInfo, for key-signed bundles (`--key`).
pub use sigstore_types::DerPublicKey;
use sigstore_verify::{
    CertificateError as CoreCertError, Error as CoreError, PublicKeyVerificationPolicy,
    TimestampError as CoreTimestampError, TransparencyLogError as CoreTlogError,
    VerificationPolicy,
};

use crate::artifact::{ArtifactDigest, DigestAlgorithm};
use crate::bundle::{LoadedBundle, Statement};
use crate::certificate::{certificate_names, CertificateSummary};
use crate::trust::{InstanceKind, RootSource, TrustError, TrustStore, TrustedInstance};

/// What is verified against: a digest (the usual case) or the artifact's
/// bytes (needed for message signatures with keys that cannot prehash).
#[derive(Debug, Clone, Copy)]
pub enum ArtifactInput<'a> {
    /// A digest of the artifact.
    Digest(&'a ArtifactDigest),
    /// The artifact itself.
    Bytes(&'a [u8]),
}

/// The kind of a verified timestamp, as gh names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampKind {
    /// A transparency log's SET-authenticated integrated time.
    Tlog,
    /// An RFC 3161 timestamp.
    TimestampAuthority,
}

impl TimestampKind {
    /// gh's `type` string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tlog => "Tlog",
            Self::TimestampAuthority => "TimestampAuthority",
        }
    }
}

/// A time the core authenticated and used to check the certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTimestamp {
    /// Log or TSA.
    pub kind: TimestampKind,
    /// The log's base URL or the TSA's URI from the trusted root.
    pub uri: String,
    /// The time.
    pub time: jiff::Timestamp,
}

/// Options of a keyless verification that are not about identity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyOptions {
    /// Refuse a log entry that carries only a signed entry timestamp (an
    /// inclusion promise, which bundle v0.1 allows): every entry must then be
    /// proven by an inclusion proof and a signed checkpoint.
    pub require_inclusion_proof: bool,
}

impl VerifyOptions {
    /// Whether every log entry must carry an inclusion proof.
    pub fn require_inclusion_proof(mut self, yes: bool) -> Self {
        self.require_inclusion_proof = yes;
        self
    }
}

/// How the bundle's presence in the transparency log was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inclusion {
    /// Every log entry was proven: an inclusion proof up to a checkpoint the
    /// log signed.
    Proven,
    /// At least one entry is only promised: the log signed an entry
    /// timestamp (SET) saying it would include the entry, and attest
    /// verified that signature, but no inclusion proof was checked.
    Promised,
    /// No log entry was verified (an instance without a log).
    NotLogged,
}

impl Inclusion {
    /// `proven`, `promised` or `none`, as printed and in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proven => "proven",
            Self::Promised => "promised",
            Self::NotLogged => "none",
        }
    }
}

/// A bundle whose signature, certificate, log and timestamps verified, and
/// whose statement covers the artifact. Identity policy is not yet applied.
#[derive(Debug, Clone)]
pub struct VerifiedAttestation {
    /// The instance whose root verified it.
    pub instance: InstanceKind,
    /// The issuer organisation that selected the root.
    pub organization: String,
    /// Where that root came from.
    pub root_source: RootSource,
    /// The signing certificate's claims (`None` for key-signed bundles).
    pub certificate: Option<CertificateSummary>,
    /// Authenticated times, logs first then TSAs (gh's order).
    pub timestamps: Vec<VerifiedTimestamp>,
    /// Number of transparency-log entries whose inclusion proof was verified.
    pub tlog_entries_verified: usize,
    /// How the log inclusion was established.
    pub inclusion: Inclusion,
    /// Whether the certificate's SCT was verified.
    pub sct_verified: bool,
    /// The in-toto statement, if the bundle carries one: shared with the
    /// [`LoadedBundle`] it came from (no copy per verification).
    pub statement: Option<std::sync::Arc<Statement>>,
    /// For a key-signed bundle, the [`key_fingerprint`] of the public key
    /// that verified it (the signer, where a certificate would name one).
    pub key_fingerprint: Option<String>,
}

impl VerifiedAttestation {
    /// Who signed: the build signer's workflow URI, else the certificate's
    /// identity (SAN), else `key FINGERPRINT` for a key-signed bundle.
    pub fn signer(&self) -> Option<String> {
        match &self.certificate {
            Some(c) => c
                .build_signer_uri
                .clone()
                .or_else(|| c.subject_alternative_name.clone()),
            None => self.key_fingerprint.as_ref().map(|f| format!("key {f}")),
        }
    }

    /// The checks that were applied and passed, in the order the core runs
    /// them.
    pub fn checks_applied(&self) -> Vec<Check> {
        let mut checks = Vec::new();
        if self
            .timestamps
            .iter()
            .any(|t| t.kind == TimestampKind::TimestampAuthority)
        {
            checks.push(Check::Rfc3161Timestamp);
        }
        if self
            .timestamps
            .iter()
            .any(|t| t.kind == TimestampKind::Tlog)
        {
            checks.push(Check::SignedEntryTimestamp);
        }
        if self.certificate.is_some() {
            checks.push(Check::CertificateChain);
            checks.push(Check::CertificateValidity);
        }
        if self.sct_verified {
            checks.push(Check::Sct);
        }
        if self.tlog_entries_verified > 0 && self.inclusion == Inclusion::Proven {
            checks.push(Check::InclusionProof);
            checks.push(Check::Checkpoint);
        }
        checks.push(Check::Signature);
        if self.statement.is_some() {
            checks.push(Check::SubjectDigest);
        }
        checks.push(Check::LogEntryConsistency);
        checks
    }
}

/// A verification check, as reports and errors name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Check {
    /// The signature over the artifact or the DSSE envelope.
    Signature,
    /// The statement's subject (or the message digest) covers the artifact.
    SubjectDigest,
    /// The artifact's digest is usable (algorithm, length).
    ArtifactDigest,
    /// The certificate's identity (SAN) against an expected one.
    Identity,
    /// The certificate's OIDC issuer against an expected one.
    Issuer,
    /// The signing certificate could be read at all.
    Certificate,
    /// The certificate was valid at the verified time.
    CertificateValidity,
    /// The certificate's signed certificate timestamp from a CT log.
    Sct,
    /// A certificate authority of the root was valid at the verified time.
    CertificateAuthorityValidity,
    /// The certificate chains to a certificate authority of the root.
    CertificateChain,
    /// The log entries' logs are in the root, and an entry is present where
    /// the instance requires one.
    TransparencyLog,
    /// A log entry's inclusion proof.
    InclusionProof,
    /// The signed checkpoint an inclusion proof leads to.
    Checkpoint,
    /// A log entry's signed entry timestamp (inclusion promise).
    SignedEntryTimestamp,
    /// A log entry's body agrees with the bundle's content.
    LogEntryConsistency,
    /// A log entry's integrated time.
    IntegratedTime,
    /// Anything else about a log entry (a malformed entry).
    LogEntry,
    /// At least one time was verified (by a log or a TSA).
    VerifiedTimestamp,
    /// An RFC 3161 timestamp from a timestamp authority.
    Rfc3161Timestamp,
    /// The bundle's structure and version.
    BundleStructure,
    /// A trusted root that fits the bundle.
    TrustedRoot,
    /// The predicate type filter (the statement was not considered).
    PredicateType,
    /// PEP 740's rules for a PyPI attestation's statement: one subject,
    /// named as the distribution file, a predicate type PyPI publishes.
    Pep740Statement,
    /// A failure of the verification core that names no check.
    Verification,
}

impl Check {
    /// The check's name as printed and in the JSON (`checks[].check`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Signature => "signature",
            Self::SubjectDigest => "subject digest",
            Self::ArtifactDigest => "artifact digest",
            Self::Identity => "identity",
            Self::Issuer => "issuer",
            Self::Certificate => "certificate",
            Self::CertificateValidity => "certificate validity",
            Self::Sct => "SCT",
            Self::CertificateAuthorityValidity => "certificate authority validity",
            Self::CertificateChain => "certificate chain",
            Self::TransparencyLog => "transparency log",
            Self::InclusionProof => "inclusion proof",
            Self::Checkpoint => "checkpoint",
            Self::SignedEntryTimestamp => "SET",
            Self::LogEntryConsistency => "log entry consistency",
            Self::IntegratedTime => "integrated time",
            Self::LogEntry => "log entry",
            Self::VerifiedTimestamp => "verified timestamp",
            Self::Rfc3161Timestamp => "RFC 3161 timestamp",
            Self::BundleStructure => "bundle structure",
            Self::TrustedRoot => "trusted root",
            Self::PredicateType => "predicate type",
            Self::Pep740Statement => "PEP 740 statement",
            Self::Verification => "verification",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the user could change to get past a failure, as data: the library
/// knows the cause, the caller (the CLI) knows its flags and renders it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hint {
    /// The statement's subjects carry digests of this algorithm only:
    /// digest the artifact with it.
    DigestAlgorithm(DigestAlgorithm),
    /// The bundle is signed with a key, not a certificate: verify it with
    /// the public key.
    PublicKey,
    /// The trust store excludes the Sigstore public good instance, as the
    /// caller asked.
    NoPublicGood,
    /// Inclusion proofs are required, so a v0.1 inclusion promise (a signed
    /// entry timestamp alone) was refused, as the caller asked.
    RequireInclusionProof,
}

/// A named verification check that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// No usable root for this bundle.
    Trust(TrustError),
    /// The bundle (or its statement) is malformed.
    Bundle(String),
    /// The statement names no subject with the artifact's digest.
    NoMatchingSubject {
        /// The artifact's digest.
        digest: String,
        /// The subject digests the statement has, for the message.
        available: Vec<String>,
    },
    /// The bundle carries no signing certificate (it is signed with a key)
    /// and was verified without a public key.
    NoCertificate,
    /// A cryptographic or trust check failed.
    Check {
        /// Which check.
        check: Check,
        /// What the core reported.
        detail: String,
        /// What the caller could change, when the failure is due to an
        /// option rather than to the bundle.
        hint: Option<Hint>,
    },
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Trust(e) => write!(f, "trusted root: {e}"),
            Self::Bundle(e) => write!(f, "{e}"),
            Self::NoMatchingSubject { digest, available } => {
                write!(f, "no subject of the statement has digest {digest}")?;
                let alg = digest.split(':').next().unwrap_or("");
                if !available.is_empty() && !available.iter().any(|a| a == alg) {
                    write!(f, " (the subjects have {} digests only)", available.join(" and "))?;
                }
                Ok(())
            }
            Self::NoCertificate => f.write_str(
                "the bundle has no signing certificate (a key-signed bundle needs a public key to verify it)",
            ),
            Self::Check { check, detail, .. } => write!(f, "{check}: {detail}"),
        }
    }
}

impl std::error::Error for VerifyError {}

impl VerifyError {
    /// Whether this is "not about this artifact" rather than a failed check.
    pub fn is_no_match(&self) -> bool {
        matches!(self, Self::NoMatchingSubject { .. })
    }

    /// The check this error is about (`bundle structure` for a malformed
    /// bundle, `trusted root` when no root fits).
    pub fn failed_check(&self) -> Check {
        match self {
            Self::Check { check, .. } => *check,
            Self::Trust(_) => Check::TrustedRoot,
            Self::Bundle(_) | Self::NoCertificate => Check::BundleStructure,
            Self::NoMatchingSubject { .. } => Check::SubjectDigest,
        }
    }

    /// What the caller could change to get past this failure, if anything.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            Self::Check { hint, .. } => *hint,
            Self::NoCertificate => Some(Hint::PublicKey),
            Self::Trust(TrustError::PublicGoodRefused) => Some(Hint::NoPublicGood),
            Self::NoMatchingSubject { digest, available } => {
                let alg = digest.split(':').next().unwrap_or("");
                if available.iter().any(|a| a == alg) {
                    return None;
                }
                // Suggest only an algorithm that can be verified with.
                available
                    .iter()
                    .find_map(|a| a.parse::<DigestAlgorithm>().ok())
                    .map(Hint::DigestAlgorithm)
            }
            Self::Trust(_) | Self::Bundle(_) => None,
        }
    }

    /// A failed check without a hint.
    pub fn check(check: Check, detail: impl Into<String>) -> Self {
        Self::Check {
            check,
            detail: detail.into(),
            hint: None,
        }
    }

    /// This error with a hint (for a failed check; other kinds derive theirs).
    pub fn with_hint(mut self, new: Hint) -> Self {
        if let Self::Check { hint, .. } = &mut self {
            *hint = Some(new);
        }
        self
    }
}

/// Name the check a core error belongs to, keeping its message.
fn classify(err: CoreError) -> VerifyError {
    let detail = err.to_string();
    let check = match &err {
        CoreError::SignatureInvalid(_) => Check::Signature,
        CoreError::ArtifactMismatch(_) => Check::SubjectDigest,
        CoreError::UnsupportedArtifact(_) => Check::ArtifactDigest,
        CoreError::IdentityMismatch { .. } => Check::Identity,
        CoreError::IssuerMismatch { .. } => Check::Issuer,
        CoreError::Certificate(c) => match c {
            CoreCertError::NotYetValid { .. } | CoreCertError::Expired { .. } => {
                Check::CertificateValidity
            }
            CoreCertError::Sct(_) => Check::Sct,
            CoreCertError::NoValidAuthority { .. } => Check::CertificateAuthorityValidity,
            _ => Check::CertificateChain,
        },
        CoreError::TransparencyLog(t) => match t {
            CoreTlogError::UnknownLog { .. } => Check::TransparencyLog,
            CoreTlogError::InclusionProof(_) => Check::InclusionProof,
            CoreTlogError::Checkpoint(_) => Check::Checkpoint,
            CoreTlogError::InclusionPromise(_) => Check::SignedEntryTimestamp,
            CoreTlogError::EntryMismatch(_) => Check::LogEntryConsistency,
            CoreTlogError::IntegratedTime(_) => Check::IntegratedTime,
            _ => Check::LogEntry,
        },
        CoreError::Timestamp(t) => match t {
            CoreTimestampError::NoVerifiedTimestamp(_) => Check::VerifiedTimestamp,
            _ => Check::Rfc3161Timestamp,
        },
        CoreError::InvalidBundle(_) | CoreError::UnsupportedBundle(_) | CoreError::Bundle(_) => {
            Check::BundleStructure
        }
        CoreError::InvalidTrustRoot(_)
        | CoreError::TrustRoot(_)
        | CoreError::TrustedCertificate(_) => Check::TrustedRoot,
        _ => Check::Verification,
    };
    VerifyError::check(check, detail)
}

/// Check that the statement has a subject with this digest, before any
/// cryptography, so "this attestation is about something else" is told
/// apart from "this attestation is forged". The core checks the binding again.
pub fn check_subject(statement: &Statement, digest: &ArtifactDigest) -> Result<(), VerifyError> {
    if statement
        .subjects_matching(digest.algorithm().name(), &digest.hex())
        .next()
        .is_some()
    {
        return Ok(());
    }
    let available = statement
        .subject_algorithms()
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>();
    Err(VerifyError::NoMatchingSubject {
        digest: digest.to_string(),
        available,
    })
}

/// Verify one keyless (certificate-signed) bundle against the artifact,
/// with the default options (a v0.1 inclusion promise is accepted).
pub fn verify_bundle(
    loaded: &LoadedBundle,
    artifact: ArtifactInput<'_>,
    trust: &TrustStore,
) -> Result<VerifiedAttestation, VerifyError> {
    verify_bundle_with(loaded, artifact, trust, VerifyOptions::default())
}

/// A PEP 740 attestation (a bundle that carries the distribution file it
/// was served for) must follow PEP 740's statement rules for that file;
/// checked here, where every path (flags, policy files, the server)
/// verifies a bundle, so none can skip it.
fn check_distribution(
    loaded: &LoadedBundle,
    statement: Option<&crate::bundle::Statement>,
) -> Result<(), VerifyError> {
    let Some(file) = &loaded.distribution else {
        return Ok(());
    };
    let checked = match statement {
        Some(st) => crate::pep740::check_statement(st, file),
        None => Err("the attestation has no in-toto statement".to_string()),
    };
    checked.map_err(|e| VerifyError::check(Check::Pep740Statement, e))
}

/// Bundle v0.1's media type, the only one whose log entries may carry a
/// promise instead of a proof.
const BUNDLE_V01: &str = "application/vnd.dev.sigstore.bundle+json;version=0.1";

/// Verify one keyless (certificate-signed) bundle against the artifact.
pub fn verify_bundle_with(
    loaded: &LoadedBundle,
    artifact: ArtifactInput<'_>,
    trust: &TrustStore,
    options: VerifyOptions,
) -> Result<VerifiedAttestation, VerifyError> {
    crate::verify_memo::install();
    let statement = statement_of(loaded)?;
    if let (Some(st), ArtifactInput::Digest(d)) = (&statement, artifact) {
        check_subject(st, d)?;
    }
    check_distribution(loaded, statement.as_deref())?;
    let bundle = &loaded.bundle;
    let leaf = bundle
        .signing_certificate()
        .ok_or(VerifyError::NoCertificate)?;
    let names = certificate_names(leaf)
        .map_err(|e| VerifyError::check(Check::Certificate, e.to_string()))?;
    let instance = trust
        .select(&names.issuer, &names.issuer_organizations)
        .map_err(VerifyError::Trust)?;
    let prepared = instance.prepared().map_err(VerifyError::Trust)?;
    let root = &prepared.root;

    let tlog_count = bundle.verification_material.tlog_entries.len();
    // Public good needs a log entry; a custom root with logs does too.
    // GitHub's instance has no log, but if its root lists one, entries the
    // bundle carries are verified rather than ignored.
    let require_tlog = match instance.kind {
        InstanceKind::PublicGood => true,
        InstanceKind::GitHub => false,
        InstanceKind::Custom => !root.tlogs.is_empty(),
    };
    let verify_tlog = require_tlog || (!root.tlogs.is_empty() && tlog_count > 0);
    let require_sct = match instance.kind {
        InstanceKind::PublicGood => true,
        InstanceKind::GitHub => false,
        InstanceKind::Custom => !root.ctlogs.is_empty(),
    };
    let tsa_count = bundle
        .verification_material
        .timestamp_verification_data
        .rfc3161_timestamps
        .len();
    if require_tlog && tlog_count == 0 {
        return Err(VerifyError::check(
            Check::TransparencyLog,
            format!(
                "the {} instance requires a transparency log entry; the bundle has none",
                instance.kind.name()
            ),
        ));
    }
    if instance.kind == InstanceKind::GitHub && tsa_count == 0 {
        return Err(VerifyError::check(
            Check::Rfc3161Timestamp,
            "GitHub's instance requires a signed timestamp from its timestamp authority; the bundle has none",
        ));
    }
    let mut promised = false;
    if verify_tlog {
        // Bundle v0.1 lets an entry carry only a SET, a promise of
        // inclusion, which the core verifies for v0.1 (as the bundle spec
        // and sigstore-go accept it). Any other version, an entry without
        // even a promise, or --require-inclusion-proof needs a proof.
        let entries = &bundle.verification_material.tlog_entries;
        let v01 = loaded.media_type() == BUNDLE_V01;
        for (n, e) in entries.iter().enumerate() {
            if e.inclusion_proof.is_some() {
                continue;
            }
            let promise_ok =
                v01 && e.inclusion_promise.is_some() && !options.require_inclusion_proof;
            if !promise_ok {
                let why = if !v01 {
                    "bundles after v0.1 must carry one"
                } else if e.inclusion_promise.is_none() {
                    "nor a signed entry timestamp"
                } else {
                    "a signed entry timestamp alone is a promise, and this verifier requires proofs"
                };
                let err = VerifyError::check(
                    Check::InclusionProof,
                    format!(
                        "log entry {} of {} has no inclusion proof ({why}); every log entry must be \
                         proven by an inclusion proof and a signed checkpoint",
                        n + 1,
                        entries.len()
                    ),
                );
                // Only the option stands between a v0.1 promise and a pass.
                return Err(if v01 && e.inclusion_promise.is_some() {
                    err.with_hint(Hint::RequireInclusionProof)
                } else {
                    err
                });
            }
            promised = true;
        }
    }

    let mut policy = VerificationPolicy::any_identity();
    if !verify_tlog {
        // Only an instance that needs no log gets here (GitHub's, or a
        // custom root without logs), and only when there is nothing it could
        // check: its root lists no log, or the bundle carries no entry. Any
        // SET present is still verified by the core (and fails without a
        // log key), as is every entry's consistency with the bundle.
        policy = policy.skip_tlog_unsafe();
    }
    if !require_sct {
        policy = policy.skip_sct();
    }
    let result = run_core(&prepared.verifier, artifact, bundle, &policy)?;
    if !core_applied_required_checks(
        result.certificate_verified(),
        result.sct_verified(),
        result.tlog_verified(),
        require_sct,
        verify_tlog,
    ) {
        // The core reports what it checked; a policy we asked for that it
        // did not apply is a failure, not a pass.
        return Err(VerifyError::check(
            Check::Verification,
            "the verification core did not apply every required check",
        ));
    }
    let info = result
        .certificate()
        .ok_or_else(|| VerifyError::check(Check::Certificate, "no certificate in the result"))?;
    let timestamps = label_timestamps(loaded, root, Some(result.verified_timestamps()))?;
    if instance.kind == InstanceKind::GitHub
        && !timestamps
            .iter()
            .any(|t| t.kind == TimestampKind::TimestampAuthority)
    {
        return Err(VerifyError::check(
            Check::Rfc3161Timestamp,
            "no timestamp from GitHub's timestamp authority verified",
        ));
    }
    Ok(VerifiedAttestation {
        instance: instance.kind,
        organization: instance.organization.clone(),
        root_source: prepared.source.clone(),
        certificate: Some({
            let mut summary = CertificateSummary::new(info, Some(names.issuer));
            if summary.subject_alternative_name.is_none() {
                summary.subject_alternative_name = names.other_name_identity;
            }
            summary
        }),
        timestamps,
        tlog_entries_verified: if result.tlog_verified() {
            bundle
                .verification_material
                .tlog_entries
                .iter()
                .filter(|e| e.inclusion_proof.is_some())
                .count()
        } else {
            0
        },
        inclusion: if !result.tlog_verified() || tlog_count == 0 {
            Inclusion::NotLogged
        } else if promised {
            Inclusion::Promised
        } else {
            Inclusion::Proven
        },
        sct_verified: result.sct_verified(),
        statement,
        key_fingerprint: None,
    })
}

/// Whether the core applied every check attest asked of it. The core returns
/// `Ok` only after each requested check passed, so this holds today; it is
/// kept as defence against a core that silently skips a check, and is a
/// function of plain values so that it can be tested on its own.
fn core_applied_required_checks(
    certificate: bool,
    sct: bool,
    tlog: bool,
    require_sct: bool,
    verify_tlog: bool,
) -> bool {
    certificate && (!require_sct || sct) && (!verify_tlog || tlog)
}

/// Verify a managed-key bundle with a public key (PEM or DER SPKI).
pub fn verify_bundle_with_key(
    loaded: &LoadedBundle,
    artifact: ArtifactInput<'_>,
    instance: &TrustedInstance,
    key: &DerPublicKey,
) -> Result<VerifiedAttestation, VerifyError> {
    crate::verify_memo::install();
    let statement = statement_of(loaded)?;
    if let (Some(st), ArtifactInput::Digest(d)) = (&statement, artifact) {
        check_subject(st, d)?;
    }
    check_distribution(loaded, statement.as_deref())?;
    let prepared = instance.prepared().map_err(VerifyError::Trust)?;
    let bundle = &loaded.bundle;
    let material = &bundle.verification_material;
    if material.tlog_entries.is_empty()
        && material
            .timestamp_verification_data
            .rfc3161_timestamps
            .is_empty()
    {
        return verify_untimed_key_bundle(loaded, statement, artifact, instance, prepared, key);
    }
    // A key-signed bundle's log entries are verified whenever there are any
    // and the root lists logs; a private setup may rely on a TSA timestamp
    // alone (the core still requires one or the other).
    let mut policy = PublicKeyVerificationPolicy::new(key.clone());
    if prepared.root.tlogs.is_empty() || bundle.verification_material.tlog_entries.is_empty() {
        policy = policy.skip_tlog_unsafe();
    }
    let result = run_core(&prepared.verifier, artifact, bundle, &policy)?;
    // The key path lists log times before TSA times: no shortcut there.
    let timestamps = label_timestamps(loaded, &prepared.root, None)?;
    let entries = &bundle.verification_material.tlog_entries;
    let proven = entries
        .iter()
        .filter(|e| e.inclusion_proof.is_some())
        .count();
    Ok(VerifiedAttestation {
        instance: instance.kind,
        organization: instance.organization.clone(),
        root_source: prepared.source.clone(),
        certificate: None,
        timestamps,
        tlog_entries_verified: if result.tlog_verified() { proven } else { 0 },
        inclusion: if !result.tlog_verified() || entries.is_empty() {
            Inclusion::NotLogged
        } else if proven < entries.len() {
            Inclusion::Promised
        } else {
            Inclusion::Proven
        },
        sct_verified: false,
        statement,
        key_fingerprint: Some(key_fingerprint(key)),
    })
}

/// The one allowance for a bundle with neither a log entry nor a timestamp:
/// a key-signed in-toto DSSE bundle (`attest sign --key --no-timestamp`, as
/// cosign's `--tlog-upload=false`). The core refuses its structure because a
/// certificate must be checked at a verified time; a caller-supplied key has
/// no validity window, so the key's signature over the envelope and the
/// subject digest are all there is to check. Such a bundle proves only that
/// the key's holder signed the statement, at an unknown time: the result has
/// no timestamps, and reports say so. Keyless bundles never reach this (they
/// go through `verify_bundle_with`, which still requires a log or a TSA).
fn verify_untimed_key_bundle(
    loaded: &LoadedBundle,
    statement: Option<std::sync::Arc<Statement>>,
    artifact: ArtifactInput<'_>,
    instance: &TrustedInstance,
    prepared: &crate::trust::PreparedRoot,
    key: &DerPublicKey,
) -> Result<VerifiedAttestation, VerifyError> {
    let bundle = &loaded.bundle;
    let untimed = "a bundle with neither a log entry nor a timestamp";
    if !matches!(
        bundle.verification_material.content,
        sigstore_types::bundle::VerificationMaterialContent::PublicKey(_)
    ) {
        return Err(VerifyError::check(
            Check::BundleStructure,
            format!("{untimed} verifies only with a key, and this one carries a certificate"),
        ));
    }
    let (SignatureContent::DsseEnvelope(envelope), Some(st)) = (&bundle.content, &statement) else {
        return Err(VerifyError::check(
            Check::BundleStructure,
            format!("{untimed} verifies only as an in-toto DSSE envelope"),
        ));
    };
    let scheme = sigstore_crypto::KeyAlgorithm::from_spki(key)
        .map_err(|e| VerifyError::check(Check::Signature, format!("the public key: {e}")))?
        .default_signing_scheme();
    sigstore_crypto::verify_signature(key, &envelope.pae(), &envelope.signature.sig, scheme)
        .map_err(|e| {
            VerifyError::check(
                Check::Signature,
                format!("DSSE signature verification failed: {e}"),
            )
        })?;
    match artifact {
        ArtifactInput::Digest(d) => check_subject(st, d)?,
        ArtifactInput::Bytes(bytes) => {
            let digest = |alg, hash: &'static aws_lc_rs::digest::Algorithm| {
                ArtifactDigest::new(
                    alg,
                    aws_lc_rs::digest::digest(hash, bytes).as_ref().to_vec(),
                )
                .map_err(|e| VerifyError::check(Check::ArtifactDigest, e.to_string()))
            };
            let sha256 = digest(DigestAlgorithm::Sha256, &aws_lc_rs::digest::SHA256)?;
            let sha512 = digest(DigestAlgorithm::Sha512, &aws_lc_rs::digest::SHA512)?;
            check_subject(st, &sha512).or_else(|_| check_subject(st, &sha256))?;
        }
    }
    Ok(VerifiedAttestation {
        instance: instance.kind,
        organization: instance.organization.clone(),
        root_source: prepared.source.clone(),
        certificate: None,
        timestamps: Vec::new(),
        tlog_entries_verified: 0,
        inclusion: Inclusion::NotLogged,
        sct_verified: false,
        statement,
        key_fingerprint: Some(key_fingerprint(key)),
    })
}

fn statement_of(loaded: &LoadedBundle) -> Result<Option<std::sync::Arc<Statement>>, VerifyError> {
    match &loaded.statement {
        None => Ok(None),
        Some(Ok(st)) => Ok(Some(std::sync::Arc::clone(st))),
        Some(Err(e)) => Err(VerifyError::Bundle(e.to_string())),
    }
}

fn run_core(
    verifier: &sigstore_verify::Verifier,
    artifact: ArtifactInput<'_>,
    bundle: &sigstore_types::Bundle,
    policy: &(impl sigstore_verify::Policy + ?Sized),
) -> Result<sigstore_verify::VerificationResult, VerifyError> {
    match artifact {
        ArtifactInput::Bytes(bytes) => verifier.verify(bytes, bundle, policy),
        ArtifactInput::Digest(d) => {
            let algorithm = match d.algorithm() {
                DigestAlgorithm::Sha256 => sigstore_types::HashAlgorithm::Sha2256,
                DigestAlgorithm::Sha512 => sigstore_types::HashAlgorithm::Sha2512,
            };
            let digest = sigstore_types::ArtifactDigest::new(algorithm, d.as_bytes().to_vec())
                .map_err(|e| VerifyError::check(Check::ArtifactDigest, e.to_string()))?;
            verifier.verify(digest, bundle, policy)
        }
    }
    .map_err(classify)
}

/// Label the times the core authenticated with their source, as gh reports
/// them: log integrated times (entries with a SET) first, then TSA times with
/// the URI of the authority that signed them.
///
/// `core_times` is the core's [`sigstore_verify::VerificationResult::verified_timestamps`]
/// for a keyless bundle: the time of each RFC 3161 timestamp, in the
/// bundle's order, each from the first authority of the root that verified
/// it, then the log times. When the root has one timestamp authority, that
/// is the authority of every one of them, so the times are taken from there
/// instead of parsing and verifying every token a second time (a tenth of
/// the CPU of a bundle past the signatures). Otherwise, or when the list is
/// not in that order, each token is verified again here to find its
/// authority.
fn label_timestamps(
    loaded: &LoadedBundle,
    root: &TrustedRoot,
    core_times: Option<&[jiff::Timestamp]>,
) -> Result<Vec<VerifiedTimestamp>, VerifyError> {
    let bundle = &loaded.bundle;
    let mut out = Vec::new();
    for entry in &bundle.verification_material.tlog_entries {
        let v1 = matches!(
            entry.kind_version,
            KindVersion::HashedRekordV001 | KindVersion::DsseV001 | KindVersion::IntotoV002
        );
        if !v1 || entry.inclusion_promise.is_none() {
            continue;
        }
        if let Some(time) = entry.integrated_time {
            let uri = root
                .tlogs
                .iter()
                .find(|t| t.log_id.key_id == entry.log_id.key_id)
                .map(|t| t.base_url.clone())
                .unwrap_or_default();
            out.push(VerifiedTimestamp {
                kind: TimestampKind::Tlog,
                uri,
                time,
            });
        }
    }
    let tokens = &bundle
        .verification_material
        .timestamp_verification_data
        .rfc3161_timestamps;
    if let ([only], Some(times)) = (root.timestamp_authorities.as_slice(), core_times) {
        // The shortcut holds only while the core's list is in the order it
        // is read in: the TSA times, then exactly the log times found above.
        let in_order = times.len() == tokens.len() + out.len()
            && times[tokens.len()..].iter().eq(out.iter().map(|t| &t.time));
        if !tokens.is_empty() && in_order {
            let uri = only.uri.clone().unwrap_or_default();
            out.extend(times[..tokens.len()].iter().map(|&time| VerifiedTimestamp {
                kind: TimestampKind::TimestampAuthority,
                uri: uri.clone(),
                time,
            }));
            return Ok(out);
        }
    }
    let signature = match &bundle.content {
        SignatureContent::MessageSignature(m) => m.signature.clone(),
        SignatureContent::DsseEnvelope(e) => e.signature.sig.clone(),
        _ => return Ok(out),
    };
    for ts in tokens {
        let found = root.timestamp_authorities.iter().find_map(|tsa| {
            let (leaf, intermediates, top) = match tsa.cert_chain.certificates.as_slice() {
                [] => return None,
                [only] => (only, &[][..], only),
                [leaf, mid @ .., top] => (leaf, mid, top),
            };
            let authority = TsaAuthority::new(
                leaf.raw_bytes.clone(),
                mid_certs(intermediates),
                top.raw_bytes.clone(),
                tsa.valid_for,
            );
            sigstore_tsa::verify_timestamp_for_authority(
                &ts.signed_timestamp,
                &signature,
                &authority,
            )
            .ok()
            .map(|time| (tsa.uri.clone().unwrap_or_default(), time))
        });
        // The core verified every timestamp already; one we cannot attribute
        // here means the two disagree, so fail closed.
        let (uri, time) = found.ok_or_else(|| {
            VerifyError::check(
                Check::Rfc3161Timestamp,
                "a timestamp the core accepted matches no timestamp authority of the trusted root",
            )
        })?;
        out.push(VerifiedTimestamp {
            kind: TimestampKind::TimestampAuthority,
            uri,
            time,
        });
    }
    Ok(out)
}

fn mid_certs(
    certs: &[sigstore_trust_root::trusted_root::CertificateEntry],
) -> Vec<sigstore_types::DerCertificate> {
    certs.iter().map(|c| c.raw_bytes.clone()).collect()
}

/// A public key's fingerprint: the base64 SHA-256 of its DER
/// SubjectPublicKeyInfo, as cosign and Sigstore bundles' key hints write it,
/// so a user can tell which of their keys verified a bundle.
pub fn key_fingerprint(key: &DerPublicKey) -> String {
    use base64::Engine;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
}

/// Parse a PEM (`PUBLIC KEY`) SubjectPublicKeyInfo, for `--key`.
pub fn parse_public_key_pem(pem: &str) -> Result<DerPublicKey, VerifyError> {
    let key = DerPublicKey::from_pem(pem)
        .map_err(|e| VerifyError::Bundle(format!("not a PEM public key: {e}")))?;
    // A PEM block whose body is not a SubjectPublicKeyInfo of a supported
    // algorithm is unreadable input, not a failed verification: say so now.
    sigstore_crypto::KeyAlgorithm::from_spki(&key)
        .map_err(|e| VerifyError::Bundle(format!("not a usable public key: {e}")))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigstore_verify::{IdentityMatcher, TimestampError, TransparencyLogError};

    /// A TSA timestamp that no authority of the root vouches for fails
    /// closed. `verify_bundle` cannot reach this (the core refuses such a
    /// timestamp first), so the labelling step is tested on its own: the
    /// same timestamp is attributed under its own instance's root (control)
    /// and refused under another instance's.
    #[test]
    fn a_timestamp_no_authority_vouches_for_fails_closed() {
        use attest_testsign::{
            provenance_predicate, statement, FulcioClaims, TestSigstore, TestSigstoreConfig,
            SLSA_PROVENANCE_V1,
        };
        let mut signer = TestSigstore::new(TestSigstoreConfig::github_like());
        let claims = FulcioClaims::default();
        let st = statement(
            &[("a", "sha256", &"ab".repeat(32))],
            SLSA_PROVENANCE_V1,
            provenance_predicate(&claims),
        );
        let opts = signer.default_sign_options();
        let bundle = signer.sign_statement(&st, &claims, &opts);
        let loaded = crate::bundle::parse_bundle(
            &bundle.to_string(),
            crate::bundle::BundleOrigin {
                source: "b.json".into(),
                line: 1,
                index: 1,
            },
        )
        .unwrap();
        let own = TrustedRoot::from_json(&signer.trusted_root_json()).unwrap();
        let labelled = label_timestamps(&loaded, &own, None).unwrap();
        assert_eq!(labelled.len(), 1);
        assert_eq!(labelled[0].kind, TimestampKind::TimestampAuthority);

        // The core's list, in its order, is taken as it is: a time that is
        // not the token's shows it was not read from the token again.
        let core_time = jiff::Timestamp::from_second(1_700_000_000).unwrap();
        let taken = label_timestamps(&loaded, &own, Some(&[core_time])).unwrap();
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].time, core_time);
        assert_eq!(taken[0].uri, labelled[0].uri);
        // A list not in that order (one time too many, none) is not used:
        // every token is verified again.
        for times in [&[core_time, core_time][..], &[][..]] {
            let again = label_timestamps(&loaded, &own, Some(times)).unwrap();
            assert_eq!(again[0].time, labelled[0].time, "{times:?}");
        }

        let other = TestSigstore::new(TestSigstoreConfig::github_like());
        let foreign = TrustedRoot::from_json(&other.trusted_root_json()).unwrap();
        let out_of_order = [core_time, core_time];
        for times in [None, Some(&out_of_order[..])] {
            assert!(label_timestamps(&loaded, &foreign, times).is_err());
        }
        match label_timestamps(&loaded, &foreign, None) {
            Err(VerifyError::Check { check, detail, .. }) => {
                assert_eq!(check, Check::Rfc3161Timestamp);
                assert!(
                    detail.contains("matches no timestamp authority"),
                    "{detail}"
                );
            }
            other => panic!("expected a timestamp failure, got {other:?}"),
        }
    }

    /// Log times are labelled with the log of the root that has the entry's
    /// key, only for entries with a promise; a message signature's
    /// timestamps are attributed like an envelope's; and the core's list is
    /// taken in its order, TSA times first.
    #[test]
    fn timestamps_are_labelled_by_source_for_both_kinds_of_content() {
        use attest_testsign::{FulcioClaims, SignOptions, TestSigstore, TestSigstoreConfig};
        let mut signer = TestSigstore::new(TestSigstoreConfig::public_good_like());
        let opts = SignOptions {
            tlog: true,
            tsa: true,
            ..SignOptions::default()
        };
        let bundle = signer.sign_blob(b"blob", &FulcioClaims::default(), &opts);
        let origin = crate::bundle::BundleOrigin {
            source: "b.json".into(),
            line: 1,
            index: 1,
        };
        let loaded = crate::bundle::parse_bundle(&bundle.to_string(), origin.clone()).unwrap();
        assert!(matches!(
            loaded.bundle.content,
            SignatureContent::MessageSignature(_)
        ));
        let root = TrustedRoot::from_json(&signer.trusted_root_json()).unwrap();
        let labelled = label_timestamps(&loaded, &root, None).unwrap();
        let kinds: Vec<TimestampKind> = labelled.iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            [TimestampKind::Tlog, TimestampKind::TimestampAuthority]
        );
        assert_eq!(labelled[0].uri, root.tlogs[0].base_url);
        assert!(!labelled[0].uri.is_empty());
        assert_eq!(
            labelled[1].uri,
            root.timestamp_authorities[0]
                .uri
                .clone()
                .unwrap_or_default()
        );
        // The core's order: the TSA time, then the log time.
        let core = [labelled[1].time, labelled[0].time];
        assert_eq!(
            label_timestamps(&loaded, &root, Some(&core)).unwrap(),
            labelled
        );

        // Without its promise, an entry's time is not a verified time.
        let mut no_promise = bundle.clone();
        no_promise["verificationMaterial"]["tlogEntries"][0]
            .as_object_mut()
            .unwrap()
            .remove("inclusionPromise");
        let loaded = crate::bundle::parse_bundle(&no_promise.to_string(), origin).unwrap();
        let labelled = label_timestamps(&loaded, &root, None).unwrap();
        assert_eq!(labelled.len(), 1);
        assert_eq!(labelled[0].kind, TimestampKind::TimestampAuthority);
    }

    fn name(err: CoreError) -> &'static str {
        match classify(err) {
            VerifyError::Check { check, .. } => check.name(),
            other => panic!("classify returned {other:?}"),
        }
    }

    /// Every core error is attributed to its check; several cannot be
    /// produced through `verify_bundle` (an any-identity policy never
    /// mismatches; the chain check reports expiry before the validity check).
    #[test]
    fn classify_names_every_core_error() {
        let t = jiff::Timestamp::UNIX_EPOCH;
        let s = || "x".to_string();
        let cases: Vec<(CoreError, &str)> = vec![
            (CoreError::SignatureInvalid(s()), "signature"),
            (CoreError::ArtifactMismatch(s()), "subject digest"),
            (CoreError::UnsupportedArtifact(s()), "artifact digest"),
            (
                CoreError::IdentityMismatch {
                    expected: IdentityMatcher::Exact(s()),
                    actual: None,
                },
                "identity",
            ),
            (
                CoreError::IssuerMismatch {
                    expected: s(),
                    actual: None,
                },
                "issuer",
            ),
            (
                CoreCertError::NotYetValid {
                    time: t,
                    not_before: t,
                }
                .into(),
                "certificate validity",
            ),
            (
                CoreCertError::Expired {
                    time: t,
                    not_after: t,
                }
                .into(),
                "certificate validity",
            ),
            (CoreCertError::Sct(s()).into(), "SCT"),
            (
                CoreCertError::NoValidAuthority { time: t }.into(),
                "certificate authority validity",
            ),
            (CoreCertError::ChainInvalid(s()).into(), "certificate chain"),
            (
                TransparencyLogError::UnknownLog { log_id: s() }.into(),
                "transparency log",
            ),
            (
                TransparencyLogError::InclusionProof(s()).into(),
                "inclusion proof",
            ),
            (TransparencyLogError::Checkpoint(s()).into(), "checkpoint"),
            (TransparencyLogError::InclusionPromise(s()).into(), "SET"),
            (
                TransparencyLogError::EntryMismatch(s()).into(),
                "log entry consistency",
            ),
            (
                TransparencyLogError::IntegratedTime(s()).into(),
                "integrated time",
            ),
            (
                TransparencyLogError::MalformedEntry(s()).into(),
                "log entry",
            ),
            (
                TimestampError::NoVerifiedTimestamp(s()).into(),
                "verified timestamp",
            ),
            (TimestampError::Invalid(s()).into(), "RFC 3161 timestamp"),
            (CoreError::InvalidBundle(s()), "bundle structure"),
            (CoreError::UnsupportedBundle(s()), "bundle structure"),
            (CoreError::InvalidTrustRoot(s()), "trusted root"),
            (CoreError::TrustedCertificate(s().into()), "trusted root"),
            (
                CoreError::ArtifactRead(std::io::Error::other("x")),
                "verification",
            ),
        ];
        for (err, want) in cases {
            let shown = format!("{err:?}");
            assert_eq!(name(err), want, "{shown}");
        }
    }

    /// A check the core was asked for and did not apply fails, each one alone.
    #[test]
    fn every_required_check_must_have_been_applied() {
        assert!(core_applied_required_checks(true, true, true, true, true));
        assert!(core_applied_required_checks(
            true, false, false, false, false
        ));
        assert!(!core_applied_required_checks(false, true, true, true, true));
        assert!(!core_applied_required_checks(true, false, true, true, true));
        assert!(!core_applied_required_checks(true, true, false, true, true));
    }

    /// A PEM block that is not a SubjectPublicKeyInfo is unreadable input.
    #[test]
    fn public_key_pem_must_hold_an_spki() {
        let err =
            parse_public_key_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
                .unwrap_err();
        assert!(matches!(err, VerifyError::Bundle(_)), "{err:?}");
        assert!(err.to_string().contains("not a usable public key"), "{err}");
    }
}
