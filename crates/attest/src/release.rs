//! Verifying a whole release at once: many artifacts, one pass.
//!
//! Each distinct bundle is verified once, against the first artifact its
//! statement covers, and its policy is evaluated once; then every artifact is
//! matched against the verified statements' subjects. An artifact passes
//! when at least one bundle that verified and matched the policy lists its
//! digest. A bundle that covers none of the artifacts is not verified at all.
//!
//! Two ways in, one decision: [`verify_release`] keeps every bundle and its
//! outcome (what gh's JSON prints), and the streamed form
//! ([`crate::verifier::Verifier::verify_release_stream`]) reads bundles a
//! chunk at a time and keeps, per artifact, only what its verdict needs, so
//! memory follows the artifacts and the bundles in flight, not the bundle
//! file. Both feed each outcome to the same per-artifact tally.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::artifact::{ArtifactDigest, DigestAlgorithm};
use crate::bundle::{BundleError, BundleOrigin, LoadedBundle};
use crate::bundle_stream::RawBundle;
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
    /// Indices into [`ReleaseVerdict::attestations`] of bundles listing its
    /// digest; empty in a streamed verdict, which keeps no bundles.
    pub covering: Vec<usize>,
    /// Whether it is verified.
    pub verified: bool,
    /// Why not, if not.
    pub error: Option<String>,
    /// What the caller could change, if the failure is due to an option.
    pub hint: Option<Hint>,
    /// The status its failure alone would give ([`Status::Verified`] if verified).
    pub status: Status,
    /// How many attestations listing it verified and matched the policy.
    pub matched: usize,
    /// Who signed the first of those: the certificate's build signer URI,
    /// else its subject alternative name, else `key FINGERPRINT`.
    pub signer: Option<Arc<str>>,
    /// The build signer URI of that certificate, if it has one.
    pub signer_uri: Option<Arc<str>>,
}

/// The attestations that did not match the policy for any artifact.
#[derive(Debug, Clone, Default)]
pub struct Unmatched {
    /// How many.
    pub count: usize,
    /// The first [`Unmatched::LISTED`] of them: where from, and why.
    pub first: Vec<(BundleOrigin, String)>,
}

impl Unmatched {
    /// How many are listed by name (as everywhere a report lists them).
    pub const LISTED: usize = crate::report::MAX_LISTED;

    fn add(&mut self, origin: &BundleOrigin, reason: impl FnOnce() -> String) {
        self.count += 1;
        if self.first.len() < Self::LISTED {
            self.first.push((origin.clone(), reason()));
        }
    }
}

/// The verdict on a whole release.
#[derive(Debug, Clone)]
pub struct ReleaseVerdict {
    /// One report per artifact, in input order.
    pub artifacts: Vec<ArtifactReport>,
    /// Every bundle's outcome, in input order; empty in a streamed verdict.
    pub attestations: Vec<AttestationResult>,
    /// How many distinct bundles went through cryptographic verification.
    pub bundles_verified: usize,
    /// How many bundles were read (copies included).
    pub bundles_read: usize,
    /// How many attestations verified and matched the policy (copies included).
    pub attestations_matched: usize,
    /// The attestations that did not.
    pub unmatched: Unmatched,
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

/// The bundles of one chunk of a stream, parsed, as the caller's `prepare`
/// step sees them before they are verified.
pub type BundleChunk = [Result<LoadedBundle, BundleError>];

/// [`verify_release`] for bundles read as a stream: each chunk parsed and
/// verified in parallel, nothing of a bundle kept past its chunk but its
/// effect on the artifacts it covers (see
/// [`crate::verifier::Verifier::verify_release_stream`], the front door).
pub fn verify_release_stream(
    artifacts: Vec<ReleaseArtifact>,
    bundles: impl Iterator<Item = Result<RawBundle, BundleError>>,
    trust: &TrustStore,
    policy: &Policy,
) -> ReleaseVerdict {
    verify_release_stream_with(artifacts, bundles, policy, &mut |_| {}, |b, input| {
        evaluate_one(b, input, trust, policy)
    })
}

/// The artifacts' digests, sorted for lookup: the positions of the
/// artifacts with a digest, ordered by it (four bytes per artifact).
struct DigestIndex {
    sorted: Vec<u32>,
}

fn digest_of(reports: &[ArtifactReport], i: u32) -> (DigestAlgorithm, &[u8]) {
    match reports[i as usize].artifact.digest() {
        Some(d) => (d.algorithm(), d.as_bytes()),
        // Only artifacts with a digest are indexed.
        None => (DigestAlgorithm::Sha256, &[]),
    }
}

impl DigestIndex {
    fn new(reports: &[ArtifactReport]) -> Self {
        let mut sorted: Vec<u32> = (0..reports.len() as u32)
            .filter(|&i| reports[i as usize].artifact.digest().is_some())
            .collect();
        sorted.sort_by(|&a, &b| digest_of(reports, a).cmp(&digest_of(reports, b)));
        Self { sorted }
    }

    /// The artifacts with this digest, in input order.
    fn lookup<'s>(
        &'s self,
        reports: &'s [ArtifactReport],
        alg: DigestAlgorithm,
        bytes: &'s [u8],
    ) -> impl Iterator<Item = usize> + 's {
        let from = self
            .sorted
            .partition_point(|&i| digest_of(reports, i) < (alg, bytes));
        self.sorted[from..]
            .iter()
            .take_while(move |&&i| digest_of(reports, i) == (alg, bytes))
            .map(|&i| i as usize)
    }
}

/// The artifacts a bundle's subjects name by digest; a PEP 740 attestation
/// served for one distribution file covers only an artifact of that file
/// name (the same bytes under another name are not what it attests).
fn covered_artifacts(
    bundle: &LoadedBundle,
    index: &DigestIndex,
    reports: &[ArtifactReport],
) -> Vec<u32> {
    let Some(Ok(statement)) = &bundle.statement else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for subject in &statement.subjects {
        for (alg, hex) in &subject.digest {
            let alg = match alg.as_str() {
                "sha256" => DigestAlgorithm::Sha256,
                "sha512" => DigestAlgorithm::Sha512,
                _ => continue,
            };
            // Digests are compared as bytes: hex of either case names them.
            let Ok(bytes) = hex::decode(hex) else {
                continue;
            };
            for i in index.lookup(reports, alg, &bytes) {
                if let Some(file) = &bundle.distribution {
                    let name = std::path::Path::new(&reports[i].artifact.name)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned());
                    if name.as_deref() != Some(file.as_str()) {
                        continue;
                    }
                }
                if !out.contains(&(i as u32)) {
                    out.push(i as u32);
                }
            }
        }
    }
    out
}

/// [`covered_artifacts`] of every bundle, in parallel (none for one that
/// could not be read).
fn covered_by_each(
    bundles: &[Result<LoadedBundle, BundleError>],
    index: &DigestIndex,
    reports: &[ArtifactReport],
) -> Vec<Vec<u32>> {
    use rayon::prelude::*;
    bundles
        .par_iter()
        .map(|b| match b {
            Ok(b) => covered_artifacts(b, index, reports),
            Err(_) => Vec::new(),
        })
        .collect()
}

/// The outcome of one bundle evaluated before anything is known of it:
/// the predicate filter first (as gh), then "covers nothing here", else the
/// verification against the first artifact it covers.
fn evaluate_covering(
    bundle: &LoadedBundle,
    covered: &[u32],
    reports: &[ArtifactReport],
    policy: &Policy,
    evaluate: &(impl Fn(&LoadedBundle, ArtifactInput<'_>) -> Outcome + Sync),
) -> Outcome {
    match covered.first() {
        None => match predicate_filter(bundle, &policy.predicate_type) {
            Err(skip) => skip,
            Ok(()) => Outcome::NotForArtifact(VerifyError::check(
                Check::SubjectDigest,
                "none of its subjects is an artifact of this release",
            )),
        },
        Some(&first) => match reports[first as usize].artifact.digest() {
            Some(digest) => evaluate(bundle, ArtifactInput::Digest(digest)),
            // Covered artifacts were found by their digest.
            None => Outcome::NotForArtifact(VerifyError::check(
                Check::SubjectDigest,
                "the artifact it covers has no digest",
            )),
        },
    }
}

/// Whether an outcome went through cryptographic verification.
fn was_verified(outcome: &Outcome) -> bool {
    !matches!(
        outcome,
        Outcome::Unreadable(_) | Outcome::Skipped(_) | Outcome::NotForArtifact(_)
    )
}

/// What one outcome does to the artifacts its bundle covers: all an
/// artifact's verdict needs of it, without the bundle.
#[derive(Debug, Clone)]
enum Effect {
    Matched {
        signer: Option<Arc<str>>,
        signer_uri: Option<Arc<str>>,
    },
    Failed {
        /// Which failure explains an artifact best: a policy mismatch, then
        /// a verification failure, then anything else; later ties win.
        rank: u8,
        status: Status,
        reason: Arc<str>,
        hint: Option<Hint>,
    },
}

/// Whether two effects are matches for the same signer (names are
/// interned, so the same name is the same allocation).
fn same_match(a: &Effect, b: &Effect) -> bool {
    let same = |x: &Option<Arc<str>>, y: &Option<Arc<str>>| match (x, y) {
        (Some(x), Some(y)) => Arc::ptr_eq(x, y),
        (None, None) => true,
        _ => false,
    };
    match (a, b) {
        (
            Effect::Matched {
                signer: s1,
                signer_uri: u1,
            },
            Effect::Matched {
                signer: s2,
                signer_uri: u2,
            },
        ) => same(s1, s2) && same(u1, u2),
        _ => false,
    }
}

/// The verdict of every artifact so far, and the run's counts. Each
/// artifact's report is filled in as outcomes arrive (matches, signer, the
/// best failure so far) and settled by [`Tally::finish`].
struct Tally {
    reports: Vec<ArtifactReport>,
    /// The rank of the failure each report holds (0: none yet).
    ranks: Vec<u8>,
    /// Signer names are the same for most bundles of a release: one copy.
    names: HashSet<Arc<str>>,
    bundles_read: usize,
    bundles_verified: usize,
    attestations_matched: usize,
    unmatched: Unmatched,
}

impl Tally {
    fn new(artifacts: Vec<ReleaseArtifact>) -> Self {
        let ranks = vec![0; artifacts.len()];
        let reports = artifacts
            .into_iter()
            .map(|artifact| ArtifactReport {
                artifact,
                covering: Vec::new(),
                verified: false,
                error: None,
                hint: None,
                status: Status::NoAttestation,
                matched: 0,
                signer: None,
                signer_uri: None,
            })
            .collect();
        Self {
            reports,
            ranks,
            names: HashSet::new(),
            bundles_read: 0,
            bundles_verified: 0,
            attestations_matched: 0,
            unmatched: Unmatched::default(),
        }
    }

    fn name(&mut self, text: String) -> Arc<str> {
        if let Some(n) = self.names.get(text.as_str()) {
            return n.clone();
        }
        let n: Arc<str> = Arc::from(text);
        self.names.insert(n.clone());
        n
    }

    fn effect_of(&mut self, outcome: &Outcome) -> Effect {
        match outcome {
            Outcome::Matched { attestation, .. } => {
                let uri = attestation
                    .certificate
                    .as_ref()
                    .and_then(|c| c.build_signer_uri.clone());
                Effect::Matched {
                    signer: attestation.signer().map(|s| self.name(s)),
                    signer_uri: uri.map(|s| self.name(s)),
                }
            }
            other => Effect::Failed {
                rank: match other {
                    Outcome::PolicyMismatch { .. } => 3,
                    Outcome::Failed(_) => 2,
                    _ => 1,
                },
                status: other.status(),
                reason: Arc::from(other.reason()),
                hint: other.hint(),
            },
        }
    }

    /// Count one bundle (in input order) and apply its effect to the
    /// artifacts it covers.
    fn apply(&mut self, origin: &BundleOrigin, covered: &[u32], effect: &Effect) {
        self.bundles_read += 1;
        match effect {
            Effect::Matched { signer, signer_uri } => {
                self.attestations_matched += 1;
                for &i in covered {
                    let r = &mut self.reports[i as usize];
                    r.matched += 1;
                    if r.matched == 1 {
                        r.signer = signer.clone();
                        r.signer_uri = signer_uri.clone();
                    }
                }
            }
            Effect::Failed {
                rank,
                status,
                reason,
                hint,
            } => {
                self.unmatched.add(origin, || reason.to_string());
                for &i in covered {
                    let i = i as usize;
                    if *rank >= self.ranks[i] {
                        self.ranks[i] = *rank;
                        let r = &mut self.reports[i];
                        r.status = *status;
                        r.error = Some(format!("{origin}: {reason}"));
                        r.hint = *hint;
                    }
                }
            }
        }
    }

    /// Count a bundle that could not be read.
    fn unreadable(&mut self, origin: &BundleOrigin, error: &BundleError) {
        self.bundles_read += 1;
        self.unmatched.add(origin, || error.to_string());
    }

    /// Settle every report: unreadable or mismatched files first, then a
    /// match, then the best failure, else "no attestation".
    fn finish(
        mut self,
        mut covering: Vec<Vec<usize>>,
        attestations: Vec<AttestationResult>,
    ) -> ReleaseVerdict {
        covering.resize_with(self.reports.len(), Vec::new);
        for ((report, rank), covering) in self.reports.iter_mut().zip(&self.ranks).zip(covering) {
            report.covering = covering;
            settle(report, *rank);
        }
        ReleaseVerdict {
            artifacts: self.reports,
            attestations,
            bundles_verified: self.bundles_verified,
            bundles_read: self.bundles_read,
            attestations_matched: self.attestations_matched,
            unmatched: self.unmatched,
        }
    }
}

/// The key under which identical bundles (the same JSON, however it is
/// laid out, for the same PEP 740 distribution file if any) share one
/// verification.
fn copy_key(distribution: Option<&str>, raw: &crate::bundle::RawJson) -> [u8; 32] {
    let mut h = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    h.update(distribution.unwrap_or_default().as_bytes());
    h.update(b"\n");
    match raw.text() {
        Some(text) => crate::json::without_layout(text.as_bytes(), |part| h.update(part)),
        None => h.update(raw.value().to_string().as_bytes()),
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(h.finish().as_ref());
    key
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

    let mut tally = Tally::new(artifacts);
    let index = DigestIndex::new(&tally.reports);
    let mut first_of: HashMap<[u8; 32], usize> = HashMap::new();
    let same_as: Vec<Option<usize>> = bundles
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let b = b.as_ref().ok()?;
            let key = copy_key(b.distribution.as_deref(), &b.raw);
            match first_of.get(&key) {
                Some(&j) => Some(j),
                None => {
                    first_of.insert(key, i);
                    None
                }
            }
        })
        .collect();
    let covered = covered_by_each(bundles, &index, &tally.reports);
    let outcomes: Vec<Option<Outcome>> = bundles
        .par_iter()
        .enumerate()
        .map(|(i, b)| {
            if same_as[i].is_some() {
                return None;
            }
            Some(match b {
                Err(e) => Outcome::Unreadable(e.clone()),
                Ok(bundle) => {
                    evaluate_covering(bundle, &covered[i], &tally.reports, policy, &evaluate)
                }
            })
        })
        .collect();
    drop(index);

    tally.bundles_verified = outcomes
        .iter()
        .flatten()
        .filter(|o| was_verified(o))
        .count();
    let mut covering: Vec<Vec<usize>> = vec![Vec::new(); tally.reports.len()];
    let mut attestations = Vec::with_capacity(bundles.len());
    for (i, b) in bundles.iter().enumerate() {
        let first = same_as[i].unwrap_or(i);
        let outcome = outcomes[first].clone().unwrap_or_else(|| {
            // Only the first copy is evaluated; `same_as` points at it.
            Outcome::Failed(VerifyError::check(Check::SubjectDigest, "not evaluated"))
        });
        let origin = match b {
            Ok(b) => b.origin.clone(),
            Err(_) => BundleOrigin::unread(i + 1),
        };
        match b {
            Err(e) => tally.unreadable(&origin, e),
            Ok(_) => {
                // A copy's outcome is its first's, so is its effect.
                let effect = tally.effect_of(&outcome);
                tally.apply(&origin, &covered[i], &effect);
            }
        }
        for &a in &covered[i] {
            covering[a as usize].push(i);
        }
        attestations.push(AttestationResult {
            origin,
            bundle: b.as_ref().ok().cloned(),
            outcome,
        });
    }
    tally.finish(covering, attestations)
}

/// How many bundles are parsed and verified together: enough to keep every
/// core busy (a few per thread), few enough that the bundles in flight (a
/// parsed bundle is about ten times its JSON) stay a few megabytes.
const CHUNK: usize = 32;

/// [`verify_release_with`] for bundles read as a stream (see
/// [`crate::bundle_stream::BundleStream`]): each chunk is parsed and
/// verified in parallel, `prepare` sees every parsed bundle of a chunk
/// first (to complete it, say with an inclusion proof), and nothing of a
/// bundle outlives its chunk except its effect on the artifacts it covers.
/// Identical bundles are still verified once. The verdict has no
/// `attestations` and no `covering` lists.
pub(crate) fn verify_release_stream_with(
    artifacts: Vec<ReleaseArtifact>,
    bundles: impl Iterator<Item = Result<RawBundle, BundleError>>,
    policy: &Policy,
    prepare: &mut dyn FnMut(&mut BundleChunk),
    evaluate: impl Fn(&LoadedBundle, ArtifactInput<'_>) -> Outcome + Sync,
) -> ReleaseVerdict {
    use rayon::prelude::*;

    let mut tally = Tally::new(artifacts);
    let index = DigestIndex::new(&tally.reports);
    // The effect of every distinct bundle evaluated so far, by copy key: an
    // index into `effects`, where the bundles that matched for the same
    // signer share one entry (a few dozen bytes per bundle in all).
    let mut seen: HashMap<[u8; 32], u32> = HashMap::new();
    let mut effects: Vec<Effect> = Vec::new();
    let mut bundles = bundles.peekable();
    let mut position = 0usize;
    while bundles.peek().is_some() {
        let chunk: Vec<Result<RawBundle, BundleError>> = bundles.by_ref().take(CHUNK).collect();
        let mut parsed: Vec<Result<LoadedBundle, BundleError>> = chunk
            .into_par_iter()
            .map(|r| r.and_then(|r| r.parse()))
            .collect();
        prepare(&mut parsed);
        // The same JSON, however it is laid out: pretty and compact copies
        // of a bundle are one bundle (as in `verify_release_with`).
        let keys: Vec<Option<[u8; 32]>> = parsed
            .par_iter()
            .map(|b| {
                b.as_ref()
                    .ok()
                    .map(|b| copy_key(b.distribution.as_deref(), &b.raw))
            })
            .collect();
        let covered = covered_by_each(&parsed, &index, &tally.reports);
        // The first copy of a bundle in this chunk, if it is new.
        let mut first_here: HashMap<[u8; 32], usize> = HashMap::new();
        let fresh: Vec<bool> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| match k {
                Some(k) if !seen.contains_key(k) => first_here.insert(*k, i).is_none(),
                _ => false,
            })
            .collect();
        let outcomes: Vec<Option<Outcome>> = parsed
            .par_iter()
            .enumerate()
            .map(|(i, b)| match b {
                Ok(b) if fresh[i] => Some(evaluate_covering(
                    b,
                    &covered[i],
                    &tally.reports,
                    policy,
                    &evaluate,
                )),
                _ => None,
            })
            .collect();
        for (i, (b, outcome)) in parsed.iter().zip(outcomes).enumerate() {
            position += 1;
            match b {
                // The error names the place, as in `verify_release_with`.
                Err(e) => tally.unreadable(&BundleOrigin::unread(position), e),
                Ok(b) => {
                    let key = keys[i].expect("a parsed bundle had text");
                    if let Some(outcome) = outcome {
                        if was_verified(&outcome) {
                            tally.bundles_verified += 1;
                        }
                        let effect = tally.effect_of(&outcome);
                        let same = effects.last().is_some_and(|last| same_match(last, &effect));
                        if !same {
                            effects.push(effect);
                        }
                        seen.insert(key, (effects.len() - 1) as u32);
                    }
                    let effect = &effects[seen[&key] as usize];
                    tally.apply(&b.origin, &covered[i], effect);
                }
            }
        }
    }
    drop(index);
    tally.finish(Vec::new(), Vec::new())
}

/// Settle one report (see [`Tally::finish`]); `rank` says whether it
/// holds a failure.
fn settle(report: &mut ArtifactReport, rank: u8) {
    let fail = |report: &mut ArtifactReport, status: Status, error: String| {
        report.verified = false;
        report.status = status;
        report.error = Some(error);
        report.hint = None;
    };
    if let Some(Err(e)) = &report.artifact.computed {
        let e = e.clone();
        return fail(report, Status::Unreadable, e);
    }
    if let (Some(listed), Some(Ok(actual))) = (&report.artifact.listed, &report.artifact.computed) {
        if listed != actual {
            let e = format!("the file's digest {actual} does not match the manifest's {listed}");
            return fail(report, Status::Verification, e);
        }
    }
    if report.matched > 0 {
        report.verified = true;
        report.status = Status::Verified;
        report.error = None;
        report.hint = None;
        return;
    }
    if rank == 0 {
        let digest = report
            .artifact
            .digest()
            .map(|d| d.to_string())
            .unwrap_or_default();
        return fail(
            report,
            Status::NoAttestation,
            format!("no attestation lists {digest} as a subject"),
        );
    }
    // The best failure is already in place.
    report.verified = false;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_share_a_key_whatever_their_layout() {
        use crate::bundle::RawJson;
        let value = serde_json::json!({"k": ["v", 1]});
        let compact = RawJson::from_checked_text(&value.to_string());
        let pretty = RawJson::from_checked_text(&serde_json::to_string_pretty(&value).unwrap());
        let built = RawJson::from(value.clone());
        assert_eq!(copy_key(None, &compact), copy_key(None, &pretty));
        assert_eq!(copy_key(None, &compact), copy_key(None, &built));
        assert_ne!(copy_key(None, &compact), copy_key(Some("a.whl"), &compact));
        let other = RawJson::from(serde_json::json!({"k": ["v", 2]}));
        assert_ne!(copy_key(None, &compact), copy_key(None, &other));
    }
}
