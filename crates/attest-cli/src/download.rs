//! `attest download`: save an artifact's attestations for offline
//! verification, as `gh attestation download` does (`<alg>:<hex>.jsonl` in
//! the current directory, `<alg>-<hex>.jsonl` on Windows).

use clap::Args;

use crate::args::Alg;
use crate::exit;
use crate::fetch;
use crate::fetch::Evidence;

/// Download an artifact's attestations (one bundle per line) for offline use.
#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// The artifact: a file, a digest (sha256:HEX), or an image,
    /// oci://REGISTRY/NAME[:TAG|@DIGEST], named by its manifest (or
    /// multi-arch index) digest; with --bundle-from-oci its attestations are
    /// read from the registry's referrers. Registry credentials: the Docker
    /// config, or ATTEST_REGISTRY_USERNAME/_PASSWORD for the one registry
    /// ATTEST_REGISTRY=host[:port] names.
    #[arg(value_name = "FILE | DIGEST | oci://IMAGE")]
    pub artifact: String,

    /// Repository owner to look under.
    #[arg(short = 'o', long, value_name = "OWNER")]
    pub owner: Option<String>,

    /// Repository to look under, OWNER/REPO.
    #[arg(short = 'R', long, value_name = "OWNER/REPO", conflicts_with = "owner")]
    pub repo: Option<String>,

    /// Only keep attestations with this predicate type (no filter by default).
    #[arg(long, value_name = "URI")]
    pub predicate_type: Option<String>,

    /// Maximum number of attestations.
    #[arg(short = 'L', long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,

    /// Digest algorithm for a file artifact.
    #[arg(short = 'd', long, value_enum, default_value = "sha256")]
    pub digest_alg: Alg,

    /// Read the attestations from the image's registry (OCI referrers and
    /// cosign's .att tag) instead of GitHub; --source registry.
    #[arg(long)]
    pub bundle_from_oci: bool,

    /// Where to read attestations: github, registry (referrers and
    /// cosign's tags), referrers, cosign. From the registry, cosign's image
    /// signatures (the .sig tag) are saved too, to ALG:HEX.sig.jsonl, for
    /// `attest verify-signature --bundle`.
    #[arg(
        long,
        value_enum,
        value_name = "SOURCE",
        conflicts_with = "bundle_from_oci"
    )]
    pub source: Option<crate::args::Source>,

    /// The Python package index for --source pypi (PyPI by default).
    #[arg(long, env = "ATTEST_INDEX_URL", value_name = "URL")]
    pub index_url: Option<String>,

    /// GitHub host.
    #[arg(long, env = "GH_HOST", value_name = "HOST")]
    pub hostname: Option<String>,
}

/// Run `attest download`; returns the exit code.
pub fn run(args: DownloadArgs) -> i32 {
    if let Some(repo) = &args.repo {
        let parts: Vec<&str> = repo.split('/').collect();
        if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
            return crate::error::usage_error(&format!("invalid value provided for repo: {repo}"));
        }
    }
    use crate::args::Source;
    let source = match (args.source, args.bundle_from_oci) {
        (Some(s), _) => s,
        (None, true) => Source::Registry,
        (None, false) => Source::Github,
    };
    if source == Source::Pypi || args.artifact.starts_with("pypi:") {
        return download_pep740(&args);
    }
    let kinds = match source {
        Source::Github | Source::Pypi => None,
        Source::Registry => Some(crate::fetch::OciKinds::ALL),
        Source::Referrers => Some(crate::fetch::OciKinds {
            referrers: true,
            cosign: false,
        }),
        Source::Cosign => Some(crate::fetch::OciKinds {
            referrers: false,
            cosign: true,
        }),
    };
    if kinds.is_none() && args.owner.is_none() && args.repo.is_none() {
        return crate::error::usage_error(
            "GitHub's API is asked by --owner or --repo; pass one (or --source registry for an image, --source pypi for a wheel or sdist)",
        );
    }
    let resolved =
        match fetch::resolve_artifact(&args.artifact, args.digest_alg.into(), kinds.is_some()) {
            Ok(r) => r,
            Err(code) => return code,
        };
    if kinds.is_some() && resolved.oci.is_none() {
        return crate::error::usage_error(&format!(
            "{}: the registry is read for images (oci://) only",
            args.artifact
        ));
    }
    // The output file is prepared before anything is fetched and written
    // whole or not at all: a failed write leaves an earlier download intact.
    let sep = if cfg!(windows) { "-" } else { ":" };
    let file = format!(
        "{}{sep}{}.jsonl",
        resolved.digest.algorithm(),
        resolved.digest.hex()
    );
    let pending = match crate::output::PendingOutput::create(std::path::Path::new(&file)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("Error: {e}");
            return exit::OUTPUT;
        }
    };
    let source = if let Some(kinds) = kinds {
        Evidence::Oci {
            limit: args.limit as usize,
            kinds,
        }
    } else {
        let owner = crate::plan::owner_of(&args.owner, &args.repo);
        Evidence::GitHub {
            scopes: vec![(owner, args.repo.clone())],
            // gh filters client-side for download and sends no query parameter.
            predicate_type: None,
            limit: args.limit as usize,
            hostname: args.hostname.clone(),
        }
    };
    // From the registry an image may carry only signatures: no
    // attestation there is not yet "nothing to save".
    let (bundles, _) =
        match fetch::load_with(&source, std::slice::from_ref(&resolved), kinds.is_some()) {
            Ok(b) => b,
            Err(code) => return code,
        };
    let signatures = match (kinds, &resolved.oci) {
        (Some(k), Some(reference)) if k.cosign => {
            match saved_signatures(reference, &resolved, args.limit as usize) {
                Ok(s) => s,
                Err(code) => return code,
            }
        }
        _ => Vec::new(),
    };
    // gh fails the whole download when any attestation cannot be fetched or
    // parsed, and writes nothing: a partial file would look complete to the
    // offline verify that reads it. "No attestations found" (exit 0) is only
    // for an empty list.
    let failed: Vec<String> = bundles
        .iter()
        .filter_map(|b| b.as_ref().err().map(ToString::to_string))
        .collect();
    if !failed.is_empty() {
        eprintln!(
            "Error: {} of {} attestations for {} could not be loaded, so nothing was written (expected every one to load, as gh does):",
            failed.len(),
            bundles.len(),
            resolved.display
        );
        for f in &failed {
            eprintln!("  - {f}");
        }
        return exit::UNREADABLE;
    }
    let mut lines = Vec::new();
    for b in bundles.iter().flatten() {
        let keep = args.predicate_type.as_ref().is_none_or(|pt| {
            b.statement
                .as_ref()
                .and_then(|s| s.as_ref().ok())
                .is_some_and(|s| &s.predicate_type == pt)
        });
        if keep {
            lines.push(b.raw.to_string());
        }
    }
    if !signatures.is_empty() {
        let sig_file = format!(
            "{}{sep}{}.sig.jsonl",
            resolved.digest.algorithm(),
            resolved.digest.hex()
        );
        let mut text = signatures.join("\n");
        text.push('\n');
        let written = crate::output::PendingOutput::create(std::path::Path::new(&sig_file))
            .and_then(|p| p.commit(text.as_bytes()));
        if let Err(e) = written {
            eprintln!("Error: {e}");
            return exit::OUTPUT;
        }
        crate::output::out::line(&format!(
            "Wrote {} to file {sig_file}, for `attest verify-signature --bundle {sig_file}`.",
            attest::report::plural(signatures.len(), "cosign signature")
        ));
    }
    if lines.is_empty() {
        crate::output::out::line(&format!("No attestations found for {}", resolved.display));
        return exit::OK;
    }
    let mut text = lines.join("\n");
    text.push('\n');
    if let Err(e) = pending.commit(text.as_bytes()) {
        // The output could not be written: its own exit code, as for -o.
        eprintln!("Error: {e}");
        return exit::OUTPUT;
    }
    crate::output::out::line(&format!(
        "Wrote attestations to file {file}.\nAny previous content has been overwritten\n\nThe trusted metadata is now available at {file}"
    ));
    exit::OK
}

/// The image's cosign signatures (its `.sig` tag) as lines of the saved
/// signature file; one that cannot be read or converted fails the whole
/// download, as an attestation does, so the offline check sees all or none.
fn saved_signatures(
    reference: &oci_client::Reference,
    resolved: &fetch::Resolved,
    limit: usize,
) -> Result<Vec<String>, i32> {
    let auth = fetch::registry_auth(reference)?;
    let fetched =
        attest::source::oci::fetch_cosign_signatures(reference, &resolved.digest, &auth, limit)
            .map_err(|e| {
                eprintln!("Error: failed to load cosign signatures from the registry: {e}");
                fetch::oci_exit(&e)
            })?;
    let mut lines = Vec::new();
    for sig in fetched {
        match sig.and_then(|s| s.to_saved_line()) {
            Ok(line) => lines.push(line),
            Err(e) => {
                eprintln!(
                    "Error: a cosign signature of {} could not be saved, so nothing was written: {e}",
                    resolved.display
                );
                return Err(exit::UNREADABLE);
            }
        }
    }
    Ok(lines)
}

/// `attest download FILE|pypi:PROJECT==VERSION --source pypi`: each
/// distribution file's PEP 740 provenance, as the index serves it, to
/// `FILE.provenance` in the current directory (what `verify
/// --provenance-file` reads).
fn download_pep740(args: &DownloadArgs) -> i32 {
    use attest::source::pypi;
    if args.bundle_from_oci || args.source.is_some_and(|s| s != crate::args::Source::Pypi) {
        return crate::error::usage_error(
            "pypi: subjects are read from the package index: drop --source or pass --source pypi",
        );
    }
    let index = match pypi::index_base(args.index_url.as_deref().unwrap_or(pypi::DEFAULT_INDEX)) {
        Ok(i) => i,
        Err(e) => return crate::error::usage_error(&e.to_string()),
    };
    let files: Vec<String> = match pypi::parse_subject(&args.artifact) {
        Some(Ok((project, version))) => match pypi::release_files(&index, &project, &version) {
            Ok(f) if f.is_empty() => {
                eprintln!("Error: {index} lists no file of {project} {version}");
                return exit::NO_ATTESTATION;
            }
            Ok(f) => f.into_iter().map(|f| f.filename).collect(),
            Err(e) => {
                eprintln!("Error: {e}");
                return exit::UNREADABLE;
            }
        },
        Some(Err(e)) => return crate::error::usage_error(&e),
        None => match std::path::Path::new(&args.artifact).file_name() {
            Some(n) => vec![n.to_string_lossy().into_owned()],
            None => return crate::error::usage_error(&format!("{}: names no file", args.artifact)),
        },
    };
    let mut fetched = Vec::new();
    for file in &files {
        match pypi::fetch_provenance_bytes(&index, file) {
            Ok(Some((bytes, _))) => fetched.push((file, bytes)),
            Ok(None) => crate::output::out::line(&format!("No provenance found for {file}")),
            Err(e) => {
                eprintln!("Error: {e}");
                return fetch::pypi_exit(&e);
            }
        }
    }
    // Written only once every file's answer is in: all or nothing.
    for (file, bytes) in fetched {
        let target = format!("{file}.provenance");
        let written = crate::output::PendingOutput::create(std::path::Path::new(&target))
            .and_then(|p| p.commit(&bytes));
        if let Err(e) = written {
            eprintln!("Error: {e}");
            return exit::OUTPUT;
        }
        crate::output::out::line(&format!(
            "Wrote the PEP 740 provenance of {file} to {target}, for `attest verify {file} --provenance-file {target}`."
        ));
    }
    exit::OK
}
