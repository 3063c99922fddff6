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
    #[arg(
        short = 'o',
        long,
        value_name = "OWNER",
        required_unless_present = "repo"
    )]
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

    /// Read the attestations from the image's OCI referrers instead of GitHub.
    #[arg(long)]
    pub bundle_from_oci: bool,

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
    let resolved =
        match fetch::resolve_artifact(&args.artifact, args.digest_alg.into(), args.bundle_from_oci)
        {
            Ok(r) => r,
            Err(code) => return code,
        };
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
    let source = if args.bundle_from_oci {
        Evidence::Oci {
            limit: args.limit as usize,
            kinds: crate::fetch::OciKinds::ALL,
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
    let (bundles, _) = match fetch::load(&source, std::slice::from_ref(&resolved)) {
        Ok(b) => b,
        Err(code) => return code,
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
