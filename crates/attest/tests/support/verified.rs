//! A verified attestation made up for tests of what is done with one
//! (ranking, reports), without a bundle behind it.

use attest::certificate::CertificateSummary;
use attest::trust::{InstanceKind, RootSource};
use attest::verify::{Inclusion, VerifiedAttestation};

/// A public-good attestation with an empty certificate summary, one log
/// entry of the given inclusion, an SCT and no timestamps.
pub fn verified(inclusion: Inclusion) -> VerifiedAttestation {
    VerifiedAttestation {
        instance: InstanceKind::PublicGood,
        organization: "sigstore.dev".into(),
        root_source: RootSource::Embedded,
        certificate: Some(CertificateSummary::default()),
        timestamps: Vec::new(),
        tlog_entries_verified: 1,
        inclusion,
        sct_verified: true,
        statement: None,
        key_fingerprint: None,
    }
}
