//! The front door: one [`Verifier`], configured once, applied everywhere.
//!
//! A verifier is built from trust material and a verification mode (a
//! keyless identity policy, or a public key) and then applied to one
//! artifact, to many, or to a manifest's entries, whatever the bundles'
//! source. Every path of the command line goes through it, so a flag that
//! changes the verdict is decided once, here, and no mode can forget it.
//!
//! ```
//! use attest::verifier::Verifier;
//! use attest::policy::{Policy, PolicyFlags};
//! use attest::trust::TrustStore;
//! use attest::artifact::{ArtifactRef, DigestAlgorithm};
//!
//! let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
//! let policy = Policy::from_flags(&PolicyFlags {
//!     owner: Some("sigstore".into()),
//!     ..PolicyFlags::default()
//! })
//! .unwrap();
//! let verifier = Verifier::keyless(TrustStore::embedded(false), policy);
//!
//! let artifact = ArtifactRef::from_arg(&format!("{examples}/sigstore-js-2.1.0.tgz")).unwrap();
//! let digest = artifact.digest(DigestAlgorithm::Sha512).unwrap();
//! let bundles = attest::source::read_bundle_file(std::path::Path::new(&format!(
//!     "{examples}/sigstore-js-2.1.0-bundle.json"
//! )))
//! .unwrap();
//! let verdict = verifier.verify_artifact(&bundles, &digest);
//! assert!(verdict.verified());
//! ```

use crate::artifact::ArtifactDigest;
use crate::bundle::{BundleError, LoadedBundle};
use crate::outcome::{
    evaluate_bundles_by, evaluate_one_with, evaluate_one_with_key, ArtifactVerdict, Outcome,
};
use crate::policy::Policy;
use crate::release::{ReleaseArtifact, ReleaseVerdict};
use crate::trust::TrustStore;
use crate::verify::{
    ArtifactInput, Check, DerPublicKey, Hint, Inclusion, VerifiedAttestation, VerifyError,
    VerifyOptions,
};

/// How a bundle's signature is tied to someone.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Mode {
    /// A Fulcio certificate whose identity the policy constrains.
    Keyless,
    /// A public key: the bundle must be signed by it (no certificate, so the
    /// policy can only constrain the statement, e.g. its predicate type).
    Key(DerPublicKey),
}

/// Why a verifier cannot be built.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifierError {
    /// Key mode needs a trusted root for the bundle's log and timestamps.
    #[error("no trusted root to verify key-signed bundles against")]
    NoTrustedRoot,
}

/// Trust material, a mode and a policy: everything that decides a verdict.
#[derive(Debug)]
pub struct Verifier {
    trust: TrustStore,
    mode: Mode,
    policy: Policy,
    options: VerifyOptions,
}

impl Verifier {
    /// Keyless verification under `trust` with `policy`.
    pub fn keyless(trust: TrustStore, policy: Policy) -> Self {
        Self {
            trust,
            mode: Mode::Keyless,
            policy,
            options: VerifyOptions::default(),
        }
    }

    /// Verification of bundles signed by `key`. The policy constrains the
    /// statement only (a key has no identity); the trust store's first
    /// instance supplies the log and timestamp roots.
    pub fn with_key(
        trust: TrustStore,
        key: DerPublicKey,
        policy: Policy,
    ) -> Result<Self, VerifierError> {
        if trust.first().is_none() {
            return Err(VerifierError::NoTrustedRoot);
        }
        Ok(Self {
            trust,
            mode: Mode::Key(key),
            policy,
            options: VerifyOptions::default(),
        })
    }

    /// Verification options (e.g. requiring inclusion proofs), for every
    /// mode.
    pub fn with_options(mut self, options: VerifyOptions) -> Self {
        self.options = options;
        self
    }

    /// The verification options.
    pub fn options(&self) -> VerifyOptions {
        self.options
    }

    /// The policy every verified attestation must match.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The trust material.
    pub fn trust(&self) -> &TrustStore {
        &self.trust
    }

    /// The mode.
    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// Verify one bundle for one artifact and apply the policy.
    pub fn evaluate(&self, bundle: &LoadedBundle, artifact: ArtifactInput<'_>) -> Outcome {
        let outcome = self.evaluate_in_mode(bundle, artifact);
        // Whatever the mode, an entry that is only promised fails when
        // proofs are required (the keyless path refuses it earlier).
        match outcome.attestation() {
            Some(att) => match require_proof(self.options, att) {
                Ok(()) => outcome,
                Err(e) => Outcome::Failed(e),
            },
            None => outcome,
        }
    }

    fn evaluate_in_mode(&self, bundle: &LoadedBundle, artifact: ArtifactInput<'_>) -> Outcome {
        match &self.mode {
            Mode::Keyless => {
                evaluate_one_with(bundle, artifact, &self.trust, &self.policy, self.options)
            }
            Mode::Key(key) => match self.trust.first() {
                Some(instance) => {
                    evaluate_one_with_key(bundle, artifact, instance, key, &self.policy)
                }
                // `with_key` refuses a store without instances; fail closed anyway.
                None => Outcome::Failed(VerifyError::check(
                    Check::TrustedRoot,
                    VerifierError::NoTrustedRoot.to_string(),
                )),
            },
        }
    }

    /// Every bundle's outcome for one artifact.
    pub fn verify_artifact(
        &self,
        bundles: &[Result<LoadedBundle, BundleError>],
        digest: &ArtifactDigest,
    ) -> ArtifactVerdict {
        evaluate_bundles_by(bundles, digest, |b, input| self.evaluate(b, input))
    }

    /// A whole release: each distinct bundle verified once, every artifact
    /// matched against the verified statements.
    pub fn verify_release(
        &self,
        artifacts: Vec<ReleaseArtifact>,
        bundles: &[Result<LoadedBundle, BundleError>],
    ) -> ReleaseVerdict {
        crate::release::verify_release_with(artifacts, bundles, &self.policy, |b, input| {
            self.evaluate(b, input)
        })
    }

    /// [`Verifier::verify_release`] for bundles read as a stream, such as a
    /// [`crate::bundle_stream::BundleStream`] over a JSON Lines file: a
    /// chunk at a time, in parallel, keeping per artifact only what its
    /// verdict needs. Memory follows the artifacts, not the bundles, so the
    /// verdict has no `attestations` (and no `covering` lists); the
    /// decisions are [`Verifier::verify_release`]'s. `prepare` sees each
    /// chunk's parsed bundles before they are verified (to add an inclusion
    /// proof, say).
    pub fn verify_release_stream(
        &self,
        artifacts: Vec<ReleaseArtifact>,
        bundles: impl Iterator<Item = Result<crate::bundle_stream::RawBundle, BundleError>>,
        prepare: &mut dyn FnMut(&mut crate::release::BundleChunk),
    ) -> ReleaseVerdict {
        crate::release::verify_release_stream_with(
            artifacts,
            bundles,
            &self.policy,
            prepare,
            |b, input| self.evaluate(b, input),
        )
    }
}

/// Refuse an attestation whose log entry is only promised (a signed entry
/// timestamp without an inclusion proof) when the options require proofs.
pub(crate) fn require_proof(
    options: VerifyOptions,
    att: &VerifiedAttestation,
) -> Result<(), VerifyError> {
    if options.require_inclusion_proof && att.inclusion == Inclusion::Promised {
        return Err(VerifyError::check(
            Check::InclusionProof,
            "a log entry has only a signed entry timestamp (a promise), and this \
             verifier requires an inclusion proof",
        )
        .with_hint(Hint::RequireInclusionProof));
    }
    Ok(())
}
