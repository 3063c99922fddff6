//! Verifying a whole release at once: many artifacts, one pass.
//!
//! Each distinct bundle is verified once, against the first artifact its
//! statement covers, and its policy is evaluated once; then every artifact is
//! matched against the verified statements' subjects. An artifact passes
//! when at least one bundle that verified and matched the policy lists its
//! digest. A bundle that covers none of the artifacts is not verified at all.

use std::collections::HashMap;

use crate::artifact::ArtifactDigest;
use crate::bundle::{BundleError, BundleOrigin, LoadedBundle};
use crate::outcome::{evaluate_one, predicate_filter, AttestationResult, Outcome, Status};
use crate::policy::Policy;
use crate::trust::TrustStore;
use crate::verify::{ArtifactInput, Check, Hint, VerifyError};

/// One artifact of a release, as given.
#[derive(Debug, Clone)]
pub struct ReleaseArtifact {
    /// Its name (a path on the command line, or a manifest name).
    pub name: String,
    /// The digest listed for it in the manifest, if any.
    pub listed: Option<ArtifactDigest>,
    /// The digest actually computed from the file, or why there is none.
    /// `None` when only the listed digest is checked (`--digests-only`).
    pub computed: Option<Result<ArtifactDigest, String>>,
}

impl ReleaseArtifact {
    /// The digest attestations are matched against: the file's, else the
    /// listed one.
    pub fn digest(&self) -> Option<&ArtifactDigest> {
        match &self.computed {
            Some(Ok(d)) => Some(d),
            Some(Err(_)) => None,
            None => self.listed.as_ref(),
        }
    }
}

/// What was decided for one artifact.
#[derive(Debug, Clone)]
pub struct ArtifactReport {
    /// The artifact.
    pub artifact: ReleaseArtifact,
    /// Indices into [`ReleaseVerdict::attestations`] of bundles listing its digest.
    pub covering: Vec<usize>,
    /// Whether it is verified.
    pub verified: bool,
    /// Why not, if not.
    pub error: Option<String>,
    /// What the caller could change, if the failure is due to an option.
    pub hint: Option<Hint>,
    /// The status its failure alone would give ([`Status::Verified`] if verified).
    pub status: Status,
}

/// The verdict on a whole release.
#[derive(Debug, Clone)]
pub struct ReleaseVerdict {
    /// One report per artifact, in input order.
    pub artifacts: Vec<ArtifactReport>,
    /// Every bundle's outcome, in input order.
    pub attestations: Vec<AttestationResult>,
    /// How many distinct bundles went through cryptographic verification.
    pub bundles_verified: usize,
}

impl ReleaseVerdict {
    /// Whether every artifact verified.
    pub fn all_verified(&self) -> bool {
        self.artifacts.iter().all(|a| a.verified)
    }

    /// The run's status: [`Status::Verified`], else the most serious
    /// failure (verification, then policy, then no attestation, then
    /// unreadable).
    pub fn status(&self) -> Status {
        let order = [
            Status::Verification,
            Status::Policy,
            Status::NoAttestation,
            Status::Unreadable,
        ];
        order
            .into_iter()
            .find(|status| self.artifacts.iter().any(|a| a.status == *status))
            // Only a hand-built verdict can say "not verified" without a
            // failing status; it must not pass, so it counts as the most
            // serious failure.
            .unwrap_or(if self.all_verified() {
                Status::Verified
            } else {
                Status::Verification
            })
    }
}

/// Verify every artifact against every bundle, each bundle once, keylessly.
/// [`crate::verifier::Verifier::verify_release`] is the front door (it also
/// covers key-signed bundles).
pub fn verify_release(
    artifacts: Vec<ReleaseArtifact>,
    bundles: &[Result<LoadedBundle, BundleError>],
    trust: &TrustStore,
    policy: &Policy,
) -> ReleaseVerdict {
    verify_release_with(artifacts, bundles, policy, |b, input| {
        evaluate_one(b, input, trust, policy)
    })
}

/// [`verify_release`] with the verification of one bundle supplied by the
/// caller (the verifier's mode decides keyless or key).
pub(crate) fn verify_release_with(
    artifacts: Vec<ReleaseArtifact>,
    bundles: &[Result<LoadedBundle, BundleError>],
    policy: &Policy,
    evaluate: impl Fn(&LoadedBundle, ArtifactInput<'_>) -> Outcome + Sync,
) -> ReleaseVerdict {
    use rayon::prelude::*;

    let mut by_digest: HashMap<(&'static str, String), Vec<usize>> = HashMap::new();
    for (i, a) in artifacts.iter().enumerate() {
        if let Some(d) = a.digest() {
            by_digest
                .entry((d.algorithm().name(), d.hex()))
                .or_default()
                .push(i);
        }
    }

    // Identical bundles (the same JSON, for the same PEP 740 distribution
    // file if any) are verified once and share the result.
    let mut first_of: HashMap<String, usize> = HashMap::new();
    let mut same_as: Vec<Option<usize>> = Vec::with_capacity(bundles.len());
    for (i, b) in bundles.iter().enumerate() {
        let key = b.as_ref().ok().map(|b| {
            format!(
                "{}\n{}",
                b.distribution.as_deref().unwrap_or_default(),
                b.raw
            )
        });
        same_as.push(key.and_then(|k| match first_of.get(&k) {
            Some(&j) => Some(j),
            None => {
                first_of.insert(k, i);
                None
            }
        }));
    }

    let covered: Vec<Vec<usize>> = bundles
        .iter()
        .map(|b| match b {
            Ok(b) => covered_artifacts(b, &by_digest, &artifacts),
            Err(_) => Vec::new(),
        })
        .collect();

    let outcomes: Vec<Option<Outcome>> = bundles
        .par_iter()
        .enumerate()
        .map(|(i, b)| {
            if same_as[i].is_some() {
                return None;
            }
            Some(match b {
                Err(e) => Outcome::Unreadable(e.clone()),
                Ok(bundle) => match covered[i].first() {
                    None => {
                        // Let the predicate filter speak first, as in gh.
                        match predicate_filter(bundle, &policy.predicate_type) {
                            Err(skip) => skip,
                            Ok(()) => Outcome::NotForArtifact(VerifyError::check(
                                Check::SubjectDigest,
                                "none of its subjects is an artifact of this release",
                            )),
                        }
                    }
                    Some(&first) => {
                        let digest = artifacts[first]
                            .digest()
                            .expect("covered artifacts have a digest");
                        evaluate(bundle, ArtifactInput::Digest(digest))
                    }
                },
            })
        })
        .collect();
    let bundles_verified = outcomes
        .iter()
        .flatten()
        .filter(|o| {
            !matches!(
                o,
                Outcome::Unreadable(_) | Outcome::Skipped(_) | Outcome::NotForArtifact(_)
            )
        })
        .count();

    let attestations: Vec<AttestationResult> = bundles
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let outcome = match same_as[i] {
                Some(j) => outcomes[j].clone().expect("first copy was evaluated"),
                None => outcomes[i].clone().expect("evaluated"),
            };
            AttestationResult {
                origin: match b {
                    Ok(b) => b.origin.clone(),
                    Err(_) => BundleOrigin {
                        source: String::new(),
                        line: 0,
                        index: i + 1,
                    },
                },
                bundle: b.as_ref().ok().cloned(),
                outcome,
            }
        })
        .collect();

    let reports = artifacts
        .into_iter()
        .enumerate()
        .map(|(ai, artifact)| {
            let covering: Vec<usize> = covered
                .iter()
                .enumerate()
                .filter(|(_, c)| c.contains(&ai))
                .map(|(bi, _)| bi)
                .collect();
            report_for(artifact, covering, &attestations)
        })
        .collect();
    ReleaseVerdict {
        artifacts: reports,
        attestations,
        bundles_verified,
    }
}

/// The artifacts a bundle's subjects name by digest; a PEP 740 attestation
/// served for one distribution file covers only an artifact of that file
/// name (the same bytes under another name are not what it attests).
fn covered_artifacts(
    bundle: &LoadedBundle,
    by_digest: &HashMap<(&'static str, String), Vec<usize>>,
    artifacts: &[ReleaseArtifact],
) -> Vec<usize> {
    let Some(Ok(statement)) = &bundle.statement else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for subject in &statement.subjects {
        for (alg, hex) in &subject.digest {
            let alg = match alg.as_str() {
                "sha256" => "sha256",
                "sha512" => "sha512",
                _ => continue,
            };
            if let Some(ids) = by_digest.get(&(alg, hex.to_ascii_lowercase())) {
                for &i in ids {
                    if let Some(file) = &bundle.distribution {
                        let name = std::path::Path::new(&artifacts[i].name)
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned());
                        if name.as_deref() != Some(file.as_str()) {
                            continue;
                        }
                    }
                    if !out.contains(&i) {
                        out.push(i);
                    }
                }
            }
        }
    }
    out
}

fn report_for(
    artifact: ReleaseArtifact,
    covering: Vec<usize>,
    attestations: &[AttestationResult],
) -> ArtifactReport {
    let fail = |artifact: ReleaseArtifact,
                covering: Vec<usize>,
                status: Status,
                error: String,
                hint: Option<Hint>| {
        ArtifactReport {
            artifact,
            covering,
            verified: false,
            error: Some(error),
            hint,
            status,
        }
    };
    if let Some(Err(e)) = &artifact.computed {
        let e = e.clone();
        return fail(artifact, covering, Status::Unreadable, e, None);
    }
    if let (Some(listed), Some(Ok(actual))) = (&artifact.listed, &artifact.computed) {
        if listed != actual {
            let msg = format!("the file's digest {actual} does not match the manifest's {listed}");
            return fail(artifact, covering, Status::Verification, msg, None);
        }
    }
    if covering
        .iter()
        .any(|&i| matches!(attestations[i].outcome, Outcome::Matched { .. }))
    {
        return ArtifactReport {
            artifact,
            covering,
            verified: true,
            error: None,
            hint: None,
            status: Status::Verified,
        };
    }
    let best = covering
        .iter()
        .map(|&i| &attestations[i])
        .max_by_key(|r| match r.outcome {
            Outcome::PolicyMismatch { .. } => 3,
            Outcome::Failed(_) => 2,
            _ => 1,
        });
    match best {
        None => {
            let digest = artifact.digest().map(|d| d.to_string()).unwrap_or_default();
            fail(
                artifact,
                covering,
                Status::NoAttestation,
                format!("no attestation lists {digest} as a subject"),
                None,
            )
        }
        Some(r) => {
            let msg = format!("{}: {}", r.origin, r.outcome.reason());
            fail(
                artifact,
                covering,
                r.outcome.status(),
                msg,
                r.outcome.hint(),
            )
        }
    }
}
