//! `attest verify FILE...` and `attest verify --manifest`: a whole release in
//! one run, one line per artifact.

use std::path::{Path, PathBuf};

use attest::artifact::{digest_files, ArtifactRef, DigestAlgorithm};
use attest::manifest::{check_release_name, parse_manifest};
use attest::outcome::exit;
use attest::policy::Policy;
use attest::release::{verify_release, ReleaseArtifact};
use attest::report;
use attest::trust::TrustStore;

use crate::fetch::load_bundles;
use crate::output::Terminal;
use crate::progress::HashProgress;
use crate::verify::VerifyArgs;

/// An artifact to hash, or one already decided.
enum Pending {
    Hash {
        name: String,
        path: PathBuf,
        listed: Option<attest::artifact::ArtifactDigest>,
        alg: DigestAlgorithm,
    },
    Ready(ReleaseArtifact),
}

/// Run release verification; returns the exit code.
pub fn run(
    args: &VerifyArgs,
    trust: &TrustStore,
    policy: &Policy,
    alg: DigestAlgorithm,
    term: Terminal,
) -> i32 {
    let mut problems = 0usize;
    let pending = match &args.manifest {
        Some(manifest) => match from_manifest(manifest, args, &mut problems) {
            Ok(p) => p,
            Err(code) => return code,
        },
        None => match from_args(&args.artifacts, alg) {
            Ok(p) => p,
            Err(code) => return code,
        },
    };

    // Hash every file in parallel, streaming, then put results back in order.
    let jobs: Vec<(PathBuf, DigestAlgorithm)> = pending
        .iter()
        .filter_map(|p| match p {
            Pending::Hash { path, alg, .. } => Some((path.clone(), *alg)),
            Pending::Ready(_) => None,
        })
        .collect();
    let progress = HashProgress::for_files(&jobs);
    let mut digests = digest_files(&jobs, &|n| progress.add(n)).into_iter();
    progress.finish();
    let artifacts: Vec<ReleaseArtifact> = pending
        .into_iter()
        .map(|p| match p {
            Pending::Ready(a) => a,
            Pending::Hash { name, listed, .. } => ReleaseArtifact {
                name,
                listed,
                computed: Some(
                    digests
                        .next()
                        .expect("one digest per job")
                        .map_err(|e| e.to_string()),
                ),
            },
        })
        .collect();

    let bundles = if args.bundle.is_empty() {
        match fetch_from_github(args, &artifacts) {
            Ok(b) => b,
            Err(code) => return code,
        }
    } else {
        match load_bundles(&args.bundle) {
            Ok(b) => b,
            Err(code) => return code,
        }
    };
    let verdict = verify_release(artifacts, &bundles, trust, policy);
    crate::verify::print_trust_notes(trust);

    // The JSON is printed whatever the verdict (it says which artifacts
    // failed); a failing --jq filter only decides the exit code when
    // verification itself succeeded.
    let mut output_code = exit::OK;
    if args.format.is_some() {
        output_code = crate::verify::print_json(
            &report::release_json(&verdict, policy),
            crate::verify::jq_filter(args),
            term.tty,
            serde_json::to_string,
        );
    } else {
        print!("{}", report::release_lines(&verdict, term.style));
    }
    let unmatched: Vec<_> = verdict
        .attestations
        .iter()
        .filter(|r| r.outcome.exit_code() != exit::OK)
        .collect();
    if term.tty && !unmatched.is_empty() {
        eprintln!(
            "\n{} did not match:",
            report::plural(unmatched.len(), "attestation")
        );
        for r in unmatched.iter().take(report::MAX_LISTED) {
            eprintln!(
                "  - attestation #{} ({}): {}",
                r.origin.index,
                r.origin,
                r.outcome.reason()
            );
        }
        if unmatched.len() > report::MAX_LISTED {
            eprintln!("  … and {} more", unmatched.len() - report::MAX_LISTED);
        }
    }
    eprintln!("{}", report::release_summary(&verdict));
    let code = verdict.exit_code();
    if code == exit::OK && output_code != exit::OK {
        return output_code;
    }
    if code == exit::OK && problems > 0 {
        eprintln!(
            "Error: the manifest has {}",
            report::plural(problems, "problem")
        );
        return exit::UNREADABLE;
    }
    code
}

/// Ask GitHub for each distinct digest's attestations; a digest GitHub has
/// none for (404) simply contributes none.
fn fetch_from_github(
    args: &VerifyArgs,
    artifacts: &[ReleaseArtifact],
) -> Result<Vec<Result<attest::bundle::LoadedBundle, attest::bundle::BundleError>>, i32> {
    use attest::source::github::{fetch_attestations, AttestationQuery, GitHubApi, GitHubError};
    let api = GitHubApi::from_env(args.hostname.as_deref());
    let owner = crate::fetch::owner_of(&args.owner, &args.repo);
    let mut seen = std::collections::HashSet::new();
    let mut all = Vec::new();
    for a in artifacts {
        let Some(digest) = a.digest() else { continue };
        if !seen.insert(digest.to_string()) {
            continue;
        }
        let query = AttestationQuery {
            owner: owner.clone(),
            repo: args.repo.clone(),
            digest: digest.clone(),
            predicate_type: Some(args.predicate_type.clone()),
            limit: args.limit as usize,
        };
        match fetch_attestations(&api, &query) {
            Ok(b) => all.extend(b),
            Err(GitHubError::NotFound { .. }) => {}
            Err(e) => {
                eprintln!("Error: failed to fetch attestations from GitHub: {e}");
                return Err(crate::fetch::github_exit(&e));
            }
        }
    }
    Ok(all)
}

fn from_args(args: &[String], alg: DigestAlgorithm) -> Result<Vec<Pending>, i32> {
    args.iter()
        .map(|arg| match ArtifactRef::from_arg(arg) {
            Ok(ArtifactRef::File(path)) => Ok(Pending::Hash {
                name: arg.clone(),
                path,
                listed: None,
                alg,
            }),
            Ok(ArtifactRef::Digest(d)) => Ok(Pending::Ready(ReleaseArtifact {
                name: arg.clone(),
                listed: Some(d),
                computed: None,
            })),
            Err(e) => Err(crate::verify::usage_error(&format!("{arg}: {e}"))),
        })
        .collect()
}

fn from_manifest(
    manifest: &Path,
    args: &VerifyArgs,
    problems: &mut usize,
) -> Result<Vec<Pending>, i32> {
    let label = manifest.display().to_string();
    let file = match attest::artifact::open_regular_file(manifest) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("Error: failed to read the manifest: {e}");
            return Err(exit::UNREADABLE);
        }
    };
    let mut bytes = Vec::new();
    if let Err(e) =
        std::io::Read::read_to_end(&mut std::io::Read::take(file, 64 * 1024 * 1024), &mut bytes)
    {
        eprintln!("Error: failed to read the manifest: {label}: {e}");
        return Err(exit::UNREADABLE);
    }
    let parsed = parse_manifest(&bytes, None);
    for e in &parsed.errors {
        eprintln!("{label}: {e}");
        *problems += 1;
    }
    if parsed.entries.is_empty() {
        eprintln!("Error: {label}: no properly formatted digest lines");
        return Err(exit::UNREADABLE);
    }
    let dups: Vec<usize> = parsed
        .duplicates()
        .into_iter()
        .map(|(entry, first)| {
            eprintln!(
                "{label}: line {}: {:?} is listed again (first on line {first}); the later line is ignored",
                entry.line, entry.name
            );
            entry.line
        })
        .collect();
    *problems += dups.len();
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => manifest.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let pending = parsed
        .entries
        .into_iter()
        .filter(|e| !dups.contains(&e.line))
        .map(|e| {
            if args.digests_only {
                return Pending::Ready(ReleaseArtifact {
                    name: e.name,
                    listed: Some(e.digest),
                    computed: None,
                });
            }
            if let Err(why) = check_release_name(&e.name) {
                return Pending::Ready(ReleaseArtifact {
                    name: e.name,
                    listed: Some(e.digest),
                    computed: Some(Err(format!("{label}: line {}: unsafe name: {why}", e.line))),
                });
            }
            // A name may be a symlink; what it resolves to must stay inside
            // the release directory.
            let path = dir.join(&e.name);
            if let (Ok(real), Ok(root)) =
                (std::fs::canonicalize(&path), std::fs::canonicalize(&dir))
            {
                if !real.starts_with(&root) {
                    return Pending::Ready(ReleaseArtifact {
                        name: e.name,
                        listed: Some(e.digest),
                        computed: Some(Err(format!(
                            "{}: resolves to {}, outside the release directory {}",
                            path.display(),
                            real.display(),
                            root.display()
                        ))),
                    });
                }
            }
            let alg = e.digest.algorithm();
            Pending::Hash {
                path,
                name: e.name,
                listed: Some(e.digest),
                alg,
            }
        })
        .collect();
    Ok(pending)
}
