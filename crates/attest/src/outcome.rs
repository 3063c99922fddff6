//! The verdict on one artifact: what happened to each attestation, and the
//! run's status.
//!
//! gh keeps only the attestations that pass and reports the last error when
//! none does. attest keeps every attestation's outcome, so the report can say
//! how many matched and why each other one did not, and the status can
//! say how far the best attempt got.

use crate::artifact::ArtifactDigest;
use crate::bundle::{BundleError, BundleOrigin, LoadedBundle, IN_TOTO_PAYLOAD_TYPE};
use crate::policy::{Policy, PolicyCheck};
use crate::trust::TrustStore;
use crate::verify::{
    verify_bundle_with, ArtifactInput, Hint, VerifiedAttestation, VerifyError, VerifyOptions,
};

/// How far verification got, as a verdict: what a caller (the CLI's exit
/// code, a server's response) decides on. The library gives no numbers; the
/// CLI maps each status to its documented exit code.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// At least one attestation verified and matched the policy.
    Verified,
    /// An input (artifact, bundle) could not be read or parsed.
    Unreadable,
    /// No attestation is about this artifact (no subject with its digest, or
    /// none with the requested predicate type).
    NoAttestation,
    /// An attestation for the artifact failed a cryptographic or trust check.
    Verification,
    /// An attestation verified but did not match the policy.
    Policy,
}

/// What happened to one attestation.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Verified and matched the policy.
    Matched {
        /// The verified attestation.
        attestation: Box<VerifiedAttestation>,
        /// The checks, all passed.
        checks: Vec<PolicyCheck>,
    },
    /// Verified but a policy check failed.
    PolicyMismatch {
        /// The verified attestation.
        attestation: Box<VerifiedAttestation>,
        /// All checks; at least one failed.
        checks: Vec<PolicyCheck>,
    },
    /// A cryptographic or trust check failed.
    Failed(VerifyError),
    /// About another artifact.
    NotForArtifact(VerifyError),
    /// Left out by the predicate-type filter (not verified).
    Skipped(String),
    /// The bundle could not be parsed.
    Unreadable(BundleError),
}

impl Outcome {
    fn rank(&self) -> u8 {
        match self {
            Self::Matched { .. } => 6,
            Self::PolicyMismatch { .. } => 5,
            Self::Failed(_) => 4,
            Self::NotForArtifact(_) => 3,
            Self::Skipped(_) => 2,
            Self::Unreadable(_) => 1,
        }
    }

    /// The status this outcome alone would give.
    pub fn status(&self) -> Status {
        match self {
            Self::Matched { .. } => Status::Verified,
            Self::PolicyMismatch { .. } => Status::Policy,
            Self::Failed(_) => Status::Verification,
            Self::NotForArtifact(_) | Self::Skipped(_) => Status::NoAttestation,
            Self::Unreadable(_) => Status::Unreadable,
        }
    }

    /// One line saying why (for anything but a match).
    pub fn reason(&self) -> String {
        match self {
            Self::Matched { .. } => "matched the policy".into(),
            Self::PolicyMismatch { checks, .. } => checks
                .iter()
                .filter(|c| !c.passed)
                .map(|c| c.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
            Self::Failed(e) => format!("verification failed: {e}"),
            Self::NotForArtifact(e) => format!("not an attestation of this artifact: {e}"),
            Self::Skipped(why) => format!("skipped: {why}"),
            Self::Unreadable(e) => e.to_string(),
        }
    }

    /// What the caller could change to get past this outcome, if anything.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            Self::Failed(e) | Self::NotForArtifact(e) => e.hint(),
            _ => None,
        }
    }

    /// The verified attestation, if it got that far.
    pub fn attestation(&self) -> Option<&VerifiedAttestation> {
        match self {
            Self::Matched { attestation, .. } | Self::PolicyMismatch { attestation, .. } => {
                Some(attestation)
            }
            _ => None,
        }
    }
}

/// One attestation's result, with where it came from.
#[derive(Debug, Clone)]
pub struct AttestationResult {
    /// Which bundle (file and line, or URL).
    pub origin: BundleOrigin,
    /// The bundle itself, when it could be parsed.
    pub bundle: Option<LoadedBundle>,
    /// What happened.
    pub outcome: Outcome,
}

/// The verdict on one artifact.
#[derive(Debug, Clone)]
pub struct ArtifactVerdict {
    /// The artifact's digest.
    pub digest: ArtifactDigest,
    /// Every attestation considered, in input order.
    pub results: Vec<AttestationResult>,
}

impl ArtifactVerdict {
    /// The attestations that matched.
    pub fn matched(&self) -> impl Iterator<Item = &AttestationResult> {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Matched { .. }))
    }

    /// Whether the artifact is verified.
    pub fn verified(&self) -> bool {
        self.matched().next().is_some()
    }

    /// The attestation that got furthest, for the headline of a failure.
    pub fn best(&self) -> Option<&AttestationResult> {
        self.results.iter().rev().max_by_key(|r| r.outcome.rank())
    }

    /// The hint of the attestation that got furthest, for a failure.
    pub fn hint(&self) -> Option<Hint> {
        if self.verified() {
            return None;
        }
        self.best().and_then(|r| r.outcome.hint())
    }

    /// The status of this artifact: that of the attestation that got
    /// furthest, or [`Status::NoAttestation`] when there is none.
    pub fn status(&self) -> Status {
        match self.best() {
            None => Status::NoAttestation,
            Some(r) => r.outcome.status(),
        }
    }
}

/// Whether a bundle passes gh's predicate filter: an in-toto DSSE envelope
/// whose statement has exactly this predicate type. An empty `wanted`
/// accepts any bundle (the sigstore-conformance protocol has no filter).
pub fn predicate_filter(bundle: &LoadedBundle, wanted: &str) -> Result<(), Outcome> {
    if wanted.is_empty() {
        return Ok(());
    }
    match bundle.payload_type() {
        None => Err(Outcome::Skipped(
            "a message signature, not an in-toto attestation".into(),
        )),
        Some(pt) if pt != IN_TOTO_PAYLOAD_TYPE => Err(Outcome::Skipped(format!(
            "DSSE payload type is {pt:?}, not {IN_TOTO_PAYLOAD_TYPE}"
        ))),
        Some(_) => match &bundle.statement {
            Some(Ok(st)) if st.predicate_type == wanted => Ok(()),
            Some(Ok(st)) => Err(Outcome::Skipped(format!(
                "predicate type is {}, not {wanted}",
                st.predicate_type
            ))),
            Some(Err(e)) => Err(Outcome::Unreadable(e.clone())),
            None => Err(Outcome::Skipped("no in-toto statement".into())),
        },
    }
}

/// Verify every bundle against the artifact's digest and the policy.
pub fn evaluate_bundles(
    bundles: &[Result<LoadedBundle, BundleError>],
    digest: &ArtifactDigest,
    trust: &TrustStore,
    policy: &Policy,
) -> ArtifactVerdict {
    evaluate_bundles_by(bundles, digest, |b, input| {
        evaluate_one(b, input, trust, policy)
    })
}

/// Evaluate every bundle with `evaluate` (keyless or key-signed checks).
pub fn evaluate_bundles_by(
    bundles: &[Result<LoadedBundle, BundleError>],
    digest: &ArtifactDigest,
    evaluate: impl Fn(&LoadedBundle, ArtifactInput<'_>) -> Outcome,
) -> ArtifactVerdict {
    let results = bundles
        .iter()
        .enumerate()
        .map(|(i, parsed)| match parsed {
            Err(e) => AttestationResult {
                origin: BundleOrigin::unread(i + 1),
                bundle: None,
                outcome: Outcome::Unreadable(e.clone()),
            },
            Ok(bundle) => AttestationResult {
                origin: bundle.origin.clone(),
                bundle: Some(bundle.clone()),
                outcome: evaluate(bundle, ArtifactInput::Digest(digest)),
            },
        })
        .collect();
    ArtifactVerdict {
        digest: digest.clone(),
        results,
    }
}

/// Verify one bundle and apply the policy.
pub fn evaluate_one(
    bundle: &LoadedBundle,
    artifact: ArtifactInput<'_>,
    trust: &TrustStore,
    policy: &Policy,
) -> Outcome {
    evaluate_one_with(bundle, artifact, trust, policy, VerifyOptions::default())
}

/// [`evaluate_one`] with verification options.
pub fn evaluate_one_with(
    bundle: &LoadedBundle,
    artifact: ArtifactInput<'_>,
    trust: &TrustStore,
    policy: &Policy,
    options: VerifyOptions,
) -> Outcome {
    if let Err(skip) = predicate_filter(bundle, &policy.predicate_type) {
        return skip;
    }
    match verify_bundle_with(bundle, artifact, trust, options) {
        Err(e) if e.is_no_match() => Outcome::NotForArtifact(e),
        Err(e) => Outcome::Failed(e),
        Ok(att) => policy_outcome(att, policy),
    }
}

/// Verify one key-signed bundle with `key` under `instance`'s root and apply
/// the policy (which can only be about the statement: there is no identity).
pub fn evaluate_one_with_key(
    bundle: &LoadedBundle,
    artifact: ArtifactInput<'_>,
    instance: &crate::trust::TrustedInstance,
    key: &crate::verify::DerPublicKey,
    policy: &Policy,
) -> Outcome {
    if let Err(skip) = predicate_filter(bundle, &policy.predicate_type) {
        return skip;
    }
    match crate::verify::verify_bundle_with_key(bundle, artifact, instance, key) {
        Err(e) if e.is_no_match() => Outcome::NotForArtifact(e),
        Err(e) => Outcome::Failed(e),
        Ok(att) => policy_outcome(att, policy),
    }
}

/// Apply the policy to a verified attestation.
pub fn policy_outcome(att: VerifiedAttestation, policy: &Policy) -> Outcome {
    let checks = policy.evaluate(&att);
    if checks.iter().all(|c| c.passed) {
        Outcome::Matched {
            attestation: Box::new(att),
            checks,
        }
    } else {
        Outcome::PolicyMismatch {
            attestation: Box::new(att),
            checks,
        }
    }
}
