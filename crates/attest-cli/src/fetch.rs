//! Naming the artifact and getting its attestations: shared by `verify`
//! and `download`. Errors are printed here and turned into exit codes.

use std::path::PathBuf;

use attest::artifact::{ArtifactDigest, ArtifactRef, DigestAlgorithm};
use attest::bundle::{BundleError, LoadedBundle};
use attest::source::github::{fetch_attestations, AttestationQuery, GitHubError};
use attest::source::oci::{
    fetch_referrer_bundles_limited, parse_oci_ref, resolve_digest, OciError, RegistryAuth,
};
use attest::source::read_bundle_file;
use oci_client::Reference;

use crate::exit;

/// Where the attestations come from.
#[derive(Debug, Clone)]
pub enum Evidence {
    /// `--bundle` files.
    Files(Vec<std::path::PathBuf>),
    /// Each image's registry (`--source registry|referrers|cosign`,
    /// `--bundle-from-oci`).
    Oci {
        /// `--limit`.
        limit: usize,
        /// Which of the registry's storage kinds to read.
        kinds: OciKinds,
    },
    /// PEP 740 provenance files (`--provenance-file`), for distribution files.
    Pep740Files(Vec<PathBuf>),
    /// A Python package index's Integrity API (`--source pypi`, `pypi:`).
    PyPi {
        /// The index base URL, checked.
        index: String,
    },
    /// GitHub's attestations API.
    GitHub {
        /// Where to ask: (owner, repository) pairs; `--owner`/`--repo`, or
        /// every one a policy file names.
        scopes: Vec<(String, Option<String>)>,
        /// `--predicate-type`, sent as the API's filter (`None`: no filter).
        predicate_type: Option<String>,
        /// `--limit`.
        limit: usize,
        /// `--hostname`.
        hostname: Option<String>,
    },
}

/// The storage kinds of attestations in a registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OciKinds {
    /// OCI 1.1 referrers (and the referrers tag fallback): GitHub's and
    /// cosign 3's Sigstore bundles.
    pub referrers: bool,
    /// cosign's `sha256-<hex>.att` tag (and, under a policy file, `.sig`).
    pub cosign: bool,
}

impl OciKinds {
    /// Every kind: `--source registry`, `--bundle-from-oci`.
    pub const ALL: Self = Self {
        referrers: true,
        cosign: true,
    };
}

/// A resolved artifact.
pub struct Resolved {
    /// Its digest.
    pub digest: ArtifactDigest,
    /// How gh names it (`file://x`, `oci://…`, `sha256:…`).
    pub display: String,
    /// A short name for one-line output.
    pub name: String,
    /// The image reference, for `oci://` artifacts.
    pub oci: Option<Reference>,
}

/// Resolve a command-line artifact: a file (hashed with `alg`), a digest,
/// or `oci://…` (the registry is asked unless the reference pins a digest
/// and `need_registry` is false).
pub fn resolve_artifact(
    arg: &str,
    alg: DigestAlgorithm,
    need_registry: bool,
) -> Result<Resolved, i32> {
    if let Some(parsed) = parse_oci_ref(arg) {
        let reference = parsed.map_err(|e| crate::error::usage_error(&e.to_string()))?;
        // Misconfigured registry settings are a usage error before any request.
        let credentials = crate::settings::registry_credentials()
            .map_err(|e| crate::error::usage_error(&e.to_string()))?;
        let failed = |e: OciError| {
            eprintln!("Error: failed to load the digest of {arg}: {e}");
            oci_exit(&e)
        };
        // A pinned digest is the artifact's digest whatever the registry
        // says: `resolve_digest` returns it once the registry confirms it
        // (and fails if the registry reports another), and without the
        // registry it is used as written. One that does not parse is an
        // error, never a reason to take the registry's digest instead.
        let digest = match reference.digest() {
            Some(d) if !need_registry => ArtifactDigest::parse(d).map_err(|e| {
                crate::error::usage_error(&format!(
                    "{arg}: expected a sha256 or sha512 digest after '@': {e}"
                ))
            })?,
            _ => resolve_digest(
                &reference,
                &credentials.auth_for(reference.resolve_registry()),
            )
            .map_err(failed)?,
        };
        return Ok(Resolved {
            digest,
            display: arg.to_string(),
            name: arg.to_string(),
            oci: Some(reference),
        });
    }
    let artifact =
        ArtifactRef::from_arg(arg).map_err(|e| crate::error::usage_error(&e.to_string()))?;
    // A digest given on the command line names its own algorithm.
    let alg = match &artifact {
        ArtifactRef::Digest(d) => d.algorithm(),
        ArtifactRef::File(_) => alg,
    };
    let digest = artifact.digest(alg).map_err(|e| {
        eprintln!("Error: failed to read the artifact: {e}");
        exit::UNREADABLE
    })?;
    let name = match &artifact {
        ArtifactRef::File(p) => p.display().to_string(),
        ArtifactRef::Digest(d) => d.to_string(),
    };
    Ok(Resolved {
        digest,
        display: artifact.display_name(),
        name,
        oci: None,
    })
}

/// The credentials for `reference`'s registry; misconfigured registry
/// settings are a usage error (exit 2), printed here.
pub fn registry_auth(reference: &Reference) -> Result<RegistryAuth, i32> {
    crate::settings::registry_credentials()
        .map(|c| c.auth_for(reference.resolve_registry()))
        .map_err(|e| crate::error::usage_error(&e.to_string()))
}

/// The exit code for an OCI failure.
pub fn oci_exit(e: &OciError) -> i32 {
    match e {
        OciError::Unauthorized { .. } => exit::AUTH,
        OciError::NoReferrers { .. } => exit::NO_ATTESTATION,
        OciError::Reference { .. } | OciError::Settings { .. } => exit::USAGE,
        _ => exit::UNREADABLE,
    }
}

/// The exit code for a package-index failure: an index URL that cannot
/// be used is a usage error, anything else unreadable input.
pub fn pypi_exit(e: &attest::source::pypi::PypiError) -> i32 {
    match e {
        attest::source::pypi::PypiError::Index { .. } => exit::USAGE,
        _ => exit::UNREADABLE,
    }
}

/// The exit code for a GitHub API failure.
pub fn github_exit(e: &GitHubError) -> i32 {
    match e {
        GitHubError::AuthRequired { .. } => exit::AUTH,
        GitHubError::NotFound { .. } => exit::NO_ATTESTATION,
        _ => exit::UNREADABLE,
    }
}

/// Bundles plus where they came from ("file.jsonl", "GitHub API", "OCI registry").
pub type Loaded = (Vec<Result<LoadedBundle, BundleError>>, String);

/// Fetch the attestations for resolved artifacts, from the plan's source:
/// the `--bundle` files once; each image's OCI referrers; GitHub's API once
/// per distinct digest (a digest GitHub has none for contributes none when
/// there are several artifacts, and is "no attestation" for one).
pub fn load(evidence: &Evidence, artifacts: &[Resolved]) -> Result<Loaded, i32> {
    load_with(evidence, artifacts, false)
}

/// [`load`], where an image with no attestation in its registry contributes
/// none instead of ending the run: a policy file judges it (it may require
/// only cosign signatures, or nothing of an image no rule matches).
pub fn load_with(
    evidence: &Evidence,
    artifacts: &[Resolved],
    none_is_empty: bool,
) -> Result<Loaded, i32> {
    match evidence {
        Evidence::Files(paths) => {
            let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            Ok((load_bundles(paths)?, names.join(", ")))
        }
        Evidence::Oci { limit, kinds } => {
            let mut all = Vec::new();
            let mut notes = Vec::new();
            for artifact in artifacts {
                let Some(reference) = &artifact.oci else {
                    return Err(crate::error::usage_error(&format!(
                        "--bundle-from-oci can only be used with oci:// artifacts, not {}",
                        artifact.name
                    )));
                };
                // `--limit` bounds each image's attestations, as it bounds
                // each digest's on GitHub: referrers past it are not fetched.
                let fetched = oci_evidence(
                    reference,
                    &artifact.digest,
                    &registry_auth(reference)?,
                    *limit,
                    *kinds,
                );
                let bundles = match fetched {
                    Ok((bundles, note)) => {
                        notes.push(note);
                        bundles
                    }
                    // Of several images, one with none has its own line
                    // ("no attestation"), as a digest GitHub has none for.
                    Err(OciError::NoReferrers { .. }) if none_is_empty || artifacts.len() > 1 => {
                        Vec::new()
                    }
                    Err(e) => {
                        eprintln!("Error: failed to load attestations from the OCI registry: {e}");
                        return Err(oci_exit(&e));
                    }
                };
                all.extend(bundles);
            }
            // Say which storage kinds supplied them, one note per image
            // (the same note when they agree).
            notes.dedup();
            let from = match notes.as_slice() {
                [one] => format!("the OCI registry ({one})"),
                _ => format!("the OCI registry ({} images)", artifacts.len()),
            };
            Ok((all, from))
        }
        Evidence::Pep740Files(paths) => {
            let mut provenances = Vec::new();
            for path in paths {
                let shown = path.display().to_string();
                let text = attest::artifact::read_text_file(
                    path,
                    attest::pep740::MAX_PROVENANCE_BYTES as u64,
                    "a PEP 740 provenance object or attestation (JSON)",
                )
                .map_err(|e| {
                    eprintln!("Error: failed to read the provenance: {shown}: {e}");
                    exit::UNREADABLE
                })?;
                provenances.push(attest::pep740::parse(text.as_bytes(), &shown).map_err(|e| {
                    eprintln!("Error: {e}");
                    exit::UNREADABLE
                })?);
            }
            let mut all = Vec::new();
            for artifact in artifacts {
                let file = distribution_name(artifact)?;
                for p in &provenances {
                    all.extend(attest::pep740::bundles_for(p, &file));
                }
            }
            let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            Ok((all, format!("PEP 740 provenance {}", names.join(", "))))
        }
        Evidence::PyPi { index } => {
            let mut all = Vec::new();
            for artifact in artifacts {
                let file = distribution_name(artifact)?;
                match attest::source::pypi::fetch_provenance(index, &file) {
                    Ok(Some(p)) => all.extend(attest::pep740::bundles_for(&p, &file)),
                    // Of several files, one without provenance has its own
                    // line ("no attestation"); for one, that is the answer.
                    Ok(None) if artifacts.len() > 1 || none_is_empty => {}
                    Ok(None) => {
                        eprintln!(
                            "Error: {index} has no PEP 740 provenance for {file} (the Integrity API answered 404)"
                        );
                        return Err(exit::NO_ATTESTATION);
                    }
                    Err(e) => {
                        eprintln!("Error: failed to fetch the provenance of {file}: {e}");
                        return Err(pypi_exit(&e));
                    }
                }
            }
            Ok((all, format!("{index} (Integrity API, PEP 740)")))
        }
        Evidence::GitHub {
            scopes,
            predicate_type,
            limit,
            hostname,
        } => {
            let api = crate::settings::github_api(hostname.as_deref());
            let mut seen = std::collections::HashSet::new();
            let mut all = Vec::new();
            // One artifact under one scope keeps gh's "no attestation"
            // error; otherwise a scope with none contributes none.
            let several = artifacts.len() > 1 || scopes.len() > 1;
            for artifact in artifacts {
                if !seen.insert(artifact.digest.to_string()) {
                    continue;
                }
                for (owner, repo) in scopes {
                    let query = AttestationQuery {
                        owner: owner.clone(),
                        repo: repo.clone(),
                        digest: artifact.digest.clone(),
                        predicate_type: predicate_type.clone(),
                        limit: *limit,
                    };
                    match fetch_attestations(&api, &query) {
                        Ok(b) => all.extend(b),
                        Err(GitHubError::NotFound { .. }) if several => {}
                        Err(e) => {
                            eprintln!("Error: failed to fetch attestations from GitHub: {e}");
                            return Err(github_exit(&e));
                        }
                    }
                }
            }
            Ok((all, "GitHub API".to_string()))
        }
    }
}

/// The distribution file name of an artifact whose PEP 740 provenance is
/// asked for: the last component of its path (or the index's file name).
fn distribution_name(artifact: &Resolved) -> Result<String, i32> {
    let file = std::path::Path::new(&artifact.name)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    attest::pep740::DistName::parse(&file)
        .map(|_| file)
        .map_err(|e| {
            crate::error::usage_error(&format!(
                "PEP 740 attestations are of wheels and sdists, named as their files: {e}"
            ))
        })
}

/// An image's attestations from its registry, of the storage `kinds` asked
/// for: OCI 1.1 referrers (GitHub's and cosign 3's bundles) and cosign's
/// `.att` tag, at most `limit` in all; with a note of how many came from
/// each. None at all is [`OciError::NoReferrers`].
pub fn oci_evidence(
    reference: &Reference,
    digest: &ArtifactDigest,
    auth: &RegistryAuth,
    limit: usize,
    kinds: OciKinds,
) -> Result<(Vec<Result<LoadedBundle, BundleError>>, String), OciError> {
    let mut all = if kinds.referrers {
        match fetch_referrer_bundles_limited(reference, digest, auth, limit) {
            Ok(b) => b,
            Err(OciError::NoReferrers { .. }) => Vec::new(),
            Err(e) => return Err(e),
        }
    } else {
        Vec::new()
    };
    let referrers = all.len();
    if kinds.cosign && all.len() < limit {
        all.extend(attest::source::oci::fetch_cosign_attestations(
            reference,
            digest,
            auth,
            limit - all.len(),
        )?);
    }
    if all.is_empty() {
        return Err(OciError::NoReferrers {
            reference: format!(
                "{}/{}@{digest}",
                reference.registry(),
                reference.repository()
            ),
        });
    }
    let note = match (kinds.referrers, kinds.cosign) {
        (true, true) => format!(
            "{referrers} from OCI referrers, {} from cosign's .att tag",
            all.len() - referrers
        ),
        (true, false) => format!("{referrers} from OCI referrers"),
        _ => format!("{} from cosign's .att tag", all.len()),
    };
    Ok((all, note))
}

/// Read every `--bundle` file; an unreadable file ends the run (exit 3).
pub fn load_bundles(paths: &[PathBuf]) -> Result<Vec<Result<LoadedBundle, BundleError>>, i32> {
    let mut all = Vec::new();
    for path in paths {
        match read_bundle_file(path) {
            Ok(b) => all.extend(b),
            Err(e) => {
                eprintln!("Error: failed to read the bundle: {e}");
                return Err(exit::UNREADABLE);
            }
        }
    }
    Ok(all)
}

/// For a GHE.com tenant (`--hostname NAME.ghe.com`), its artifact
/// attestation trust domain, from the tenant's API (`GET /meta`), as gh
/// does; `None` for github.com.
pub fn tenant_trust_domain(hostname: Option<&str>) -> Result<Option<String>, i32> {
    let Some(host) = hostname.map(|h| h.trim().to_ascii_lowercase()) else {
        return Ok(None);
    };
    if !host.ends_with(".ghe.com") {
        return Ok(None);
    }
    let api = crate::settings::github_api(Some(&host));
    attest::source::github::trust_domain(&api)
        .map(Some)
        .map_err(|e| {
            eprintln!("Error: the trust domain of {host}: {e}");
            github_exit(&e)
        })
}

/// Online, a v0.1 bundle's log entries that carry only a promise (a signed
/// entry timestamp) get their inclusion proofs from the log, so they are
/// verified as proven; a proof that cannot be fetched leaves the promise
/// (which `--require-inclusion-proof` then refuses), with a warning.
pub fn complete_inclusion_proofs(
    bundles: &mut [Result<LoadedBundle, BundleError>],
    trust: &attest::trust::TrustStore,
    offline: bool,
) {
    use attest::source::rekor;
    if offline {
        return;
    }
    for b in bundles.iter_mut().flatten() {
        if !rekor::needs_proof(b) {
            continue;
        }
        match rekor::with_inclusion_proofs(b, trust) {
            Ok(patched) => *b = patched,
            Err(e) => eprintln!(
                "Warning: {}: could not fetch the inclusion proof ({e}); the log entry stays promised",
                b.origin
            ),
        }
    }
}
