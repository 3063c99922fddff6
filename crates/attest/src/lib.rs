//! attest: build provenance for release artifacts.
//!
//! The library behind the `attest` command. Every command is one pass along
//! the same road, each stage a plain function over plain data:
//!
//! ```text
//! artifact ─► digest ─► bundles ─► cryptographic check ─► policy ─► report
//! (artifact)  (artifact) (bundle)   (trust + verify)        (policy)  (report)
//! ```
//!
//! The Sigstore cryptographic core (the `sigstore-*` crates, pinned exactly)
//! is only used from [`verify`], [`trust`], [`bundle`] and [`certificate`],
//! so it can be swapped without touching the rest.
//!
//! # The front door
//!
//! Build one [`Verifier`] from trust material and a mode (a keyless
//! identity [`Policy`], or a public key), then apply it to one artifact
//! ([`Verifier::verify_artifact`]) or a whole release
//! ([`Verifier::verify_release`]), with bundles from any source:
//!
//! ```
//! use attest::{ArtifactRef, DigestAlgorithm, Policy, PolicyFlags, TrustStore, Verifier};
//!
//! let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
//! // gh's `--owner sigstore`, with the Sigstore roots embedded in the binary.
//! let policy = Policy::from_flags(&PolicyFlags {
//!     owner: Some("sigstore".into()),
//!     ..PolicyFlags::default()
//! })?;
//! let verifier = Verifier::keyless(TrustStore::embedded(false), policy);
//!
//! let tarball = ArtifactRef::from_arg(&format!("{examples}/sigstore-js-2.1.0.tgz"))?;
//! let digest = tarball.digest(DigestAlgorithm::Sha512)?;
//! let bundles = attest::read_bundle_file(std::path::Path::new(&format!(
//!     "{examples}/sigstore-js-2.1.0-bundle.json"
//! )))?;
//!
//! let verdict = verifier.verify_artifact(&bundles, &digest);
//! assert!(verdict.verified());
//! let signer = verdict.matched().next().and_then(|r| r.outcome.attestation());
//! assert_eq!(
//!     signer.and_then(|a| a.certificate.as_ref()?.source_repository_uri.as_deref()),
//!     Some("https://github.com/sigstore/sigstore-js")
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use artifact::{ArtifactDigest, ArtifactRef, DigestAlgorithm};
pub use bundle::{BundleError, LoadedBundle};
pub use outcome::{ArtifactVerdict, AttestationResult, Outcome, Status};
pub use policy::{Policy, PolicyFlags};
pub use policy_file::{PolicyFile, PolicyVerifier, Subject, SubjectReport};
pub use release::{ReleaseArtifact, ReleaseVerdict};
pub use source::read_bundle_file;
pub use trust::TrustStore;
pub use verifier::{Mode, Verifier, VerifierError};
pub use verify::{Inclusion, VerifiedAttestation, VerifyError, VerifyOptions};

pub mod admission;
pub mod artifact;
pub mod bundle;
pub mod bundle_stream;
pub mod certificate;
pub mod cosign;
pub mod json;
pub mod lockfile;
pub mod manifest;
pub mod outcome;
pub mod pep740;
pub mod policy;
pub mod policy_file;
pub mod produce;
pub mod release;
pub mod report;
pub mod source;
pub mod text;
pub mod trust;
pub mod verifier;
pub mod verify;
mod verify_memo;

pub use verify_memo::{signature_stats, SignatureStats};

/// An error with its causes, one line: `outer: cause: root cause` (each
/// cause once, as libraries often repeat their source in their message).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let text = c.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cur = c.source();
    }
    s
}
