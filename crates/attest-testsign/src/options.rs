//! What to put in a bundle, and which faults to sign into it.

use std::collections::BTreeSet;

/// One thing to get wrong while signing.
///
/// Each fault is applied at signing time so that everything else in the
/// bundle stays consistent, and a verifier must fail on exactly that check.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SignFault {
    /// Sign the PAE of other payload bytes (the signature is still logged and
    /// timestamped, so only the signature check can catch it).
    BadSignature,
    /// Sign a different checkpoint note than the one shipped.
    BadCheckpointSignature,
    /// Ship a correctly signed checkpoint for another root (the tree before
    /// this entry) than the one the inclusion proof leads to.
    CheckpointWrongRoot,
    /// Sign a SET payload for another log index.
    BadSet,
    /// Flip a bit of one audit-path hash (needs at least one prefilled log
    /// entry, [`crate::TestSigstoreConfig::prefill_log_entries`]).
    BadInclusionProof,
    /// Leave the SCT out of the leaf certificate even though the instance
    /// has a CT log.
    NoSct,
    /// Embed an SCT that the CT log signed over the wrong issuer key hash
    /// (the CA root's instead of the intermediate's), so it does not verify.
    BadSct,
    /// Issue the leaf with a validity window that ended 10 minutes before
    /// the signing time.
    LeafExpired,
    /// Timestamp other bytes than the signature (the message imprint does
    /// not match).
    TsaWrongImprint,
    /// Sign the timestamp with a key that is not the TSA's (the token still
    /// names the TSA's certificate as signer).
    TsaForeignKey,
}

/// What to put in a bundle, and which faults (usually none, or one) to sign
/// into it.
///
/// ```
/// use attest_testsign::{SignFault, SignOptions};
///
/// let opts = SignOptions::tlog_only().with(SignFault::BadSet);
/// assert!(opts.tlog && !opts.tsa && opts.has(SignFault::BadSet));
/// assert!(!opts.has(SignFault::BadSignature));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignOptions {
    /// Add a transparency-log entry (inclusion proof, checkpoint, SET).
    pub tlog: bool,
    /// Add an RFC 3161 timestamp of the signature.
    pub tsa: bool,
    /// The faults to sign into the bundle. A set, so that options compare
    /// equal whatever order their faults were added in.
    pub faults: BTreeSet<SignFault>,
    /// Seconds added to the signing time for the TSA's genTime.
    pub tsa_time_offset_secs: i64,
}

impl SignOptions {
    /// A log entry, no timestamp.
    pub fn tlog_only() -> Self {
        Self {
            tlog: true,
            ..Self::default()
        }
    }

    /// A timestamp, no log entry.
    pub fn tsa_only() -> Self {
        Self {
            tsa: true,
            ..Self::default()
        }
    }

    /// These options with `fault` added.
    #[must_use]
    pub fn with(mut self, fault: SignFault) -> Self {
        self.fault(fault);
        self
    }

    /// Add `fault` to these options (returns nothing, so that it fits a
    /// `Fn(&mut SignOptions)` callback).
    pub fn fault(&mut self, fault: SignFault) {
        self.faults.insert(fault);
    }

    /// Whether `fault` is to be signed in.
    pub fn has(&self, fault: SignFault) -> bool {
        self.faults.contains(&fault)
    }
}
