//! `attest verify FILE...` and `attest verify --manifest`: a whole release in
//! one run, one line per artifact.

use std::path::{Path, PathBuf};

use attest::artifact::{digest_files, ArtifactRef, DigestAlgorithm};
use attest::manifest::{check_release_name, parse_manifest};
use attest::release::ReleaseArtifact;
use attest::report;
use attest::verifier::Verifier;

use attest::source::oci::parse_oci_ref;

use crate::error::CliError;
use crate::exit;
use crate::fetch::Evidence;
use crate::fetch::Resolved;
use crate::plan::{Plan, Platforms, Subjects};
use crate::progress::HashProgress;

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
pub fn run(plan: &Plan, verifier: &Verifier) -> i32 {
    run_checked(plan, verifier).unwrap_or_else(|e| e.report())
}

/// The artifacts of a run, hashed, with the images among them and the
/// number of manifest problems already reported.
pub struct Collected {
    /// Every artifact, in order.
    pub artifacts: Vec<ReleaseArtifact>,
    /// The `oci://` artifacts, resolved.
    pub images: Vec<Resolved>,
    /// Manifest lines that were malformed or repeated.
    pub problems: usize,
}

/// Read the subjects of a run (arguments or a manifest) and hash every file
/// in parallel.
pub fn collect(plan: &Plan) -> Result<Collected, CliError> {
    let mut problems = 0usize;
    let mut images = Vec::new();
    let pending = match &plan.subjects {
        Subjects::Manifest {
            path,
            dir,
            digests_only,
        } => from_manifest(plan, path, dir.as_deref(), *digests_only, &mut problems)?,
        Subjects::Args(list) => from_args(plan, list, &mut images)?,
    };

    // Hash every file in parallel, streaming, then put results back in order.
    let jobs: Vec<(&Path, DigestAlgorithm)> = pending
        .iter()
        .filter_map(|p| match p {
            Pending::Hash { path, alg, .. } => Some((path.as_path(), *alg)),
            Pending::Ready(_) => None,
        })
        .collect();
    let progress = HashProgress::for_files(&jobs);
    let mut digests = digest_files(&jobs, &|n| progress.add(n)).into_iter();
    progress.finish();
    drop(jobs);
    let mut artifacts: Vec<ReleaseArtifact> = Vec::with_capacity(pending.len());
    for p in pending {
        artifacts.push(match p {
            Pending::Ready(a) => a,
            Pending::Hash { name, listed, .. } => {
                let computed = digests.next().ok_or_else(|| {
                    CliError::new(
                        exit::INTERNAL,
                        "a file was not hashed (one digest per file)",
                    )
                })?;
                ReleaseArtifact {
                    name,
                    listed,
                    computed: Some(computed.map_err(|e| e.to_string())),
                }
            }
        });
    }
    Ok(Collected {
        artifacts,
        images,
        problems,
    })
}

/// The artifacts whose evidence is fetched: the images themselves for
/// `--bundle-from-oci`, else every artifact with a digest.
pub fn evidence_targets(plan: &Plan, collected: &mut Collected) -> Vec<Resolved> {
    match plan.evidence {
        Evidence::Oci { .. } => std::mem::take(&mut collected.images),
        _ => collected
            .artifacts
            .iter()
            .filter_map(|a| {
                a.digest().map(|d| Resolved {
                    digest: d.clone(),
                    display: a.name.clone(),
                    name: a.name.clone(),
                    oci: None,
                })
            })
            .collect(),
    }
}

fn run_checked(plan: &Plan, verifier: &Verifier) -> Result<i32, CliError> {
    let term = plan.term;
    let mut collected = collect(plan)?;

    // The evidence for every artifact: images are asked for their own
    // referrers; GitHub once per distinct digest.
    let policy = verifier.policy();
    let problems = collected.problems;
    let verdict = match &plan.evidence {
        // gh's JSON prints every bundle back: only then are they all kept.
        Evidence::Files(paths) if !plan.json => {
            stream_files(paths, collected.artifacts, verifier, plan.offline)?
        }
        _ => {
            let targets = evidence_targets(plan, &mut collected);
            let (mut bundles, _) =
                crate::fetch::load(&plan.evidence, &targets).map_err(CliError::printed)?;
            crate::fetch::complete_inclusion_proofs(&mut bundles, verifier.trust(), plan.offline);
            verifier.verify_release(collected.artifacts, &bundles)
        }
    };
    crate::verify::print_publishers(&verdict.attestations);
    crate::output::print_trust_notes(verifier.trust());
    crate::output::detail_trust(verifier.trust());
    let rows = if plan.junit || crate::summary::wanted() {
        crate::summary::record_release(&verdict)
    } else {
        Vec::new()
    };

    // The JSON is printed whatever the verdict (it says which artifacts
    // failed); a failing --jq filter only decides the exit code when
    // verification itself succeeded.
    let mut output_code = exit::OK;
    if plan.json {
        output_code = crate::output::print_json(
            &report::release_json(&verdict, policy, exit::code),
            plan.jq.as_deref(),
            term.tty,
            serde_json::to_string,
        );
    } else if plan.junit {
        crate::output::out::write_all(crate::junit::xml("attest verify", &rows).as_bytes());
    } else {
        crate::output::out::write_with(|mut out| {
            report::write_release_lines(&verdict, term.style, &mut out)
        });
    }
    let unmatched = &verdict.unmatched;
    if (term.tty && !crate::output::verbosity::quiet() || crate::output::verbosity::verbose())
        && unmatched.count > 0
    {
        eprintln!(
            "\n{} did not match:",
            report::plural(unmatched.count, "attestation")
        );
        for (origin, reason) in &unmatched.first {
            eprintln!(
                "  - {}: {}",
                report::attestation_label(origin),
                report::printable_name(reason)
            );
        }
        if unmatched.count > unmatched.first.len() {
            eprintln!("  … and {} more", unmatched.count - unmatched.first.len());
        }
    }
    info!("{}", report::release_summary(&verdict));
    crate::error::print_hints(verdict.artifacts.iter().filter_map(|a| a.hint));
    let code = exit::code(verdict.status());
    if code == exit::OK && output_code != exit::OK {
        return Ok(output_code);
    }
    if code == exit::OK && problems > 0 {
        eprintln!(
            "Error: the manifest has {}",
            report::plural(problems, "problem")
        );
        return Ok(exit::UNREADABLE);
    }
    Ok(code)
}

/// Verify a release against `--bundle` files read as streams: memory holds
/// the artifacts and the bundles in flight, whatever the files' size. A
/// file that cannot be read, is empty or stops being UTF-8 ends the run as
/// [`crate::fetch::load_bundles`] would.
fn stream_files(
    paths: &[PathBuf],
    artifacts: Vec<ReleaseArtifact>,
    verifier: &Verifier,
    offline: bool,
) -> Result<attest::release::ReleaseVerdict, CliError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        eprintln!("Error: failed to read the bundle: {e}");
        CliError::printed(exit::UNREADABLE)
    };
    let mut streams = Vec::with_capacity(paths.len());
    for path in paths {
        streams.push((
            path.display().to_string(),
            attest::source::open_bundle_stream(path).map_err(|e| unreadable(&e))?,
        ));
    }
    let failure: std::cell::RefCell<Option<String>> = std::cell::RefCell::new(None);
    let mut streams = streams.into_iter();
    let mut current = streams.next().map(|(name, s)| (name, s, 0usize));
    let bundles = std::iter::from_fn(|| loop {
        let (name, stream, count) = current.as_mut()?;
        match stream.next() {
            Some(Ok(item)) => {
                *count += 1;
                return Some(item);
            }
            Some(Err(e)) => {
                *failure.borrow_mut() = Some(e.to_string());
                current = None;
                return None;
            }
            None if *count == 0 => {
                *failure.borrow_mut() = Some(format!("{name}: the bundle file is empty"));
                current = None;
                return None;
            }
            None => current = streams.next().map(|(name, s)| (name, s, 0)),
        }
    });
    let verdict = verifier.verify_release_stream(artifacts, bundles, &mut |chunk| {
        crate::fetch::complete_inclusion_proofs(chunk, verifier.trust(), offline)
    });
    if let Some(e) = failure.into_inner() {
        return Err(unreadable(&e));
    }
    Ok(verdict)
}

/// Positional artifacts: files are hashed, digests taken as given, images
/// resolved (by the registry unless the digest is pinned and the bundles
/// come from files); `images` collects the images for their referrers.
fn from_args(
    plan: &Plan,
    list: &[String],
    images: &mut Vec<Resolved>,
) -> Result<Vec<Pending>, CliError> {
    let mut out = Vec::with_capacity(list.len());
    for arg in list {
        if let Some(parsed) = attest::source::pypi::parse_subject(arg) {
            let (project, version) = parsed.map_err(CliError::usage)?;
            let Evidence::PyPi { index } = &plan.evidence else {
                return Err(CliError::usage(format!(
                    "{arg}: the files of a PyPI release are listed by the package index: verify them with --source pypi"
                )));
            };
            let files = attest::source::pypi::release_files(index, &project, &version)
                .map_err(|e| CliError::new(exit::UNREADABLE, e.to_string()))?;
            if files.is_empty() {
                return Err(CliError::new(
                    exit::NO_ATTESTATION,
                    format!("{index} lists no file of {project} {version}"),
                ));
            }
            info!(
                "{arg}: {} listed by {index}; each is verified by the sha256 the index lists",
                report::plural(files.len(), "file")
            );
            for f in files {
                out.push(Pending::Ready(ReleaseArtifact {
                    name: f.filename,
                    listed: Some(f.sha256),
                    computed: None,
                }));
            }
            continue;
        }
        if parse_oci_ref(arg).is_some() {
            let resolved = crate::fetch::resolve_artifact(
                arg,
                plan.file_alg(),
                matches!(plan.evidence, Evidence::Oci { .. }) || plan.platforms != Platforms::None,
            )
            .map_err(CliError::printed)?;
            out.push(Pending::Ready(ReleaseArtifact {
                name: arg.clone(),
                listed: Some(resolved.digest.clone()),
                computed: None,
            }));
            let platforms = platforms_of(plan, &resolved)?;
            images.push(resolved);
            for p in platforms {
                out.push(Pending::Ready(ReleaseArtifact {
                    name: p.name.clone(),
                    listed: Some(p.digest.clone()),
                    computed: None,
                }));
                images.push(p);
            }
            continue;
        }
        match ArtifactRef::from_arg(arg) {
            Ok(ArtifactRef::File(path)) => out.push(Pending::Hash {
                name: arg.clone(),
                path,
                listed: None,
                alg: plan.file_alg(),
            }),
            // `-d` against a digest's own algorithm was checked with the plan.
            Ok(ArtifactRef::Digest(d)) => out.push(Pending::Ready(ReleaseArtifact {
                name: arg.clone(),
                listed: Some(d),
                computed: None,
            })),
            Err(e) => return Err(CliError::usage(format!("{arg}: {e}"))),
        }
    }
    Ok(out)
}

/// The platform manifests of `image` that `--platform` / `--all-platforms`
/// select, as artifacts of their own (`oci://REPO@DIGEST (linux/arm64)`).
/// A listed platform the index lacks, or `--platform` for an image that is
/// not an index, is an error naming what the image has.
fn platforms_of(plan: &Plan, image: &Resolved) -> Result<Vec<Resolved>, CliError> {
    let Some(reference) = &image.oci else {
        return Ok(Vec::new());
    };
    if plan.platforms == Platforms::None {
        return Ok(Vec::new());
    }
    let auth = crate::fetch::registry_auth(reference).map_err(CliError::printed)?;
    let listed =
        attest::source::oci::platform_manifests(reference, &image.digest, &auth).map_err(|e| {
            eprintln!(
                "Error: failed to read the image index of {}: {e}",
                image.name
            );
            CliError::printed(crate::fetch::oci_exit(&e))
        })?;
    let chosen: Vec<&attest::source::oci::PlatformManifest> = match &plan.platforms {
        Platforms::None => Vec::new(),
        Platforms::All => listed.iter().collect(),
        Platforms::Listed(wanted) => {
            if listed.is_empty() {
                return Err(CliError::usage(format!(
                    "{}: a single-platform image ({}); --platform selects from a multi-arch index",
                    image.name, image.digest
                )));
            }
            let mut chosen = Vec::new();
            for w in wanted {
                let found: Vec<_> = listed.iter().filter(|m| m.matches(w)).collect();
                if found.is_empty() {
                    let has: Vec<String> = listed.iter().map(ToString::to_string).collect();
                    return Err(CliError::usage(format!(
                        "{}: the index has no {w} manifest; it has {}",
                        image.name,
                        has.join(", ")
                    )));
                }
                for m in found {
                    if !chosen
                        .iter()
                        .any(|c: &&attest::source::oci::PlatformManifest| c.digest == m.digest)
                    {
                        chosen.push(m);
                    }
                }
            }
            chosen
        }
    };
    if listed.is_empty() {
        detail!(
            "{}: a single-platform image; no platform manifests to add",
            image.name
        );
    }
    Ok(chosen
        .into_iter()
        .map(|m| {
            let name = format!(
                "oci://{}/{}@{} ({m})",
                reference.registry(),
                reference.repository(),
                m.digest
            );
            detail!("{}: platform {m} is {}", image.name, m.digest);
            Resolved {
                digest: m.digest.clone(),
                display: name.clone(),
                name,
                oci: Some(oci_client::Reference::with_digest(
                    reference.registry().to_string(),
                    reference.repository().to_string(),
                    m.digest.to_string(),
                )),
            }
        })
        .collect())
}

fn from_manifest(
    plan: &Plan,
    manifest: &Path,
    dir: Option<&Path>,
    digests_only: bool,
    problems: &mut usize,
) -> Result<Vec<Pending>, CliError> {
    let label = manifest.display().to_string();
    let file = match attest::artifact::open_regular_file(manifest) {
        Ok(f) => f,
        Err(e) => {
            return Err(CliError::new(
                exit::UNREADABLE,
                format!("failed to read the manifest: {e}"),
            ))
        }
    };
    let mut bytes = Vec::new();
    if let Err(e) =
        std::io::Read::read_to_end(&mut std::io::Read::take(file, 64 * 1024 * 1024), &mut bytes)
    {
        return Err(CliError::new(
            exit::UNREADABLE,
            format!("failed to read the manifest: {label}: {e}"),
        ));
    }
    let parsed = parse_manifest(&bytes, None);
    // The entries own their text: the file's bytes can go before the
    // artifacts are built (a large manifest is megabytes).
    drop(bytes);
    for e in &parsed.errors {
        eprintln!("{label}: {e}");
        *problems += 1;
    }
    if parsed.entries.is_empty() {
        return Err(CliError::new(
            exit::UNREADABLE,
            format!("{label}: no properly formatted digest lines"),
        ));
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
    for e in &parsed.entries {
        plan.check_alg(&format!("{label}: line {}", e.line), &e.digest)?;
    }
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => manifest.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    // Resolved once: every name is checked against it.
    let root = std::fs::canonicalize(&dir);
    let pending = parsed
        .entries
        .into_iter()
        .filter(|e| !dups.contains(&e.line))
        .map(|e| {
            if digests_only {
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
            if let (Ok(real), Ok(root)) = (std::fs::canonicalize(&path), &root) {
                if !real.starts_with(root) {
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
