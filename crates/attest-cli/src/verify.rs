//! `attest verify`: gh's flags, gh's output, attest's explanations.

use std::path::PathBuf;

use attest::artifact::DigestAlgorithm;
use attest::outcome::{
    evaluate_bundles, evaluate_bundles_by, evaluate_one_with_key, exit, ArtifactVerdict,
};
use attest::policy::{Policy, PolicyFlags};
use attest::report;
use attest::trust::tuf::FetchOptions;
use attest::trust::TrustStore;
use clap::{Args, ValueEnum};

use crate::fetch;
use crate::output::Terminal;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// gh's JSON array of verification results.
    Json,
}

/// `-d/--digest-alg` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Alg {
    /// SHA-256.
    Sha256,
    /// SHA-512.
    Sha512,
}

impl From<Alg> for DigestAlgorithm {
    fn from(a: Alg) -> Self {
        match a {
            Alg::Sha256 => DigestAlgorithm::Sha256,
            Alg::Sha512 => DigestAlgorithm::Sha512,
        }
    }
}

/// Verify an artifact's attestations: the signature, the certificate chain,
/// the transparency log or timestamp, the subject digest, then the policy.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("identity").multiple(false)))]
#[command(
    after_help = "Exit codes: 0 verified, 2 usage error, 3 unreadable input, \
5 no attestation for this artifact, 6 cryptographic or trust failure, 7 policy mismatch."
)]
pub struct VerifyArgs {
    /// The artifacts: file paths, or digests as sha256:HEX / sha512:HEX.
    /// One artifact gives gh's report; several give one line per artifact.
    #[arg(value_name = "FILE | DIGEST", required_unless_present = "manifest")]
    pub artifacts: Vec<String>,

    /// Bundle file: one Sigstore bundle (JSON) or several (JSON Lines). Repeatable.
    #[arg(short = 'b', long, value_name = "FILE")]
    pub bundle: Vec<PathBuf>,

    /// Read the bundles from the image's OCI referrers (oci:// artifacts only).
    #[arg(long, conflicts_with = "bundle")]
    pub bundle_from_oci: bool,

    /// Verify every artifact listed in this digest manifest (sha256sum format).
    #[arg(long, value_name = "MANIFEST", conflicts_with = "artifacts")]
    pub manifest: Option<PathBuf>,

    /// Directory holding the manifest's files (default: the manifest's directory).
    #[arg(long, value_name = "DIR", requires = "manifest")]
    pub dir: Option<PathBuf>,

    /// Verify the manifest's listed digests without reading the files.
    #[arg(long, requires = "manifest", conflicts_with = "dir")]
    pub digests_only: bool,

    /// Trusted roots (JSON, or JSON Lines of several) instead of the embedded ones.
    #[arg(long, value_name = "FILE")]
    pub custom_trusted_root: Option<PathBuf>,

    /// Repository owner the artifact must come from (SourceRepositoryOwnerURI).
    #[arg(
        short = 'o',
        long,
        value_name = "OWNER",
        required_unless_present_any = ["repo", "key"]
    )]
    pub owner: Option<String>,

    /// Repository the artifact must come from, OWNER/REPO (SourceRepositoryURI).
    #[arg(short = 'R', long, value_name = "OWNER/REPO", conflicts_with = "owner")]
    pub repo: Option<String>,

    /// Repository of the workflow that signed (reusable workflows), OWNER/REPO.
    #[arg(long, value_name = "OWNER/REPO", group = "identity")]
    pub signer_repo: Option<String>,

    /// Workflow that signed, [HOST/]OWNER/REPO/PATH[@REF].
    #[arg(long, value_name = "WORKFLOW", group = "identity")]
    pub signer_workflow: Option<String>,

    /// Exact certificate identity (SAN), case-sensitive.
    #[arg(long, value_name = "SAN", group = "identity")]
    pub cert_identity: Option<String>,

    /// Regular expression the certificate identity (SAN) must match.
    #[arg(short = 'i', long, value_name = "REGEX", group = "identity")]
    pub cert_identity_regex: Option<String>,

    /// OIDC issuer the certificate must name.
    #[arg(long, value_name = "URL")]
    pub cert_oidc_issuer: Option<String>,

    /// Reject attestations built on self-hosted runners.
    #[arg(long)]
    pub deny_self_hosted_runners: bool,

    /// Predicate type the attestation must carry.
    #[arg(long, value_name = "URI", default_value = attest::bundle::SLSA_PROVENANCE_V1)]
    pub predicate_type: String,

    /// Commit the signing workflow was taken from (BuildSignerDigest).
    #[arg(long, value_name = "DIGEST")]
    pub signer_digest: Option<String>,

    /// Commit the artifact was built from (SourceRepositoryDigest).
    #[arg(long, value_name = "DIGEST")]
    pub source_digest: Option<String>,

    /// Ref the artifact was built from, e.g. refs/heads/main (SourceRepositoryRef).
    #[arg(long, value_name = "REF")]
    pub source_ref: Option<String>,

    /// Digest algorithm for a file artifact.
    #[arg(short = 'd', long, value_enum, default_value = "sha256")]
    pub digest_alg: Alg,

    /// GitHub host (github.com or a GHE.com tenant).
    #[arg(long, env = "GH_HOST", value_name = "HOST")]
    pub hostname: Option<String>,

    /// Use no network for trust material: the verified TUF cache, else the
    /// embedded roots.
    #[arg(long, env = "ATTEST_OFFLINE", value_parser = clap::builder::FalseyValueParser::new())]
    pub offline: bool,

    /// Cache directory for TUF metadata (default: the platform cache directory).
    #[arg(long, env = "ATTEST_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Verify key-signed bundles with this public key (PEM) instead of a
    /// certificate identity.
    #[arg(long, value_name = "PUB.pem", conflicts_with_all = ["owner", "repo", "identity"])]
    pub key: Option<PathBuf>,

    /// Refuse attestations signed by the Sigstore public-good instance.
    #[arg(long)]
    pub no_public_good: bool,

    /// Output format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,

    /// Maximum number of attestations to fetch (online only; ignored with --bundle).
    #[arg(short = 'L', long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,

    /// Filter the --format json output with a jq expression, as gh does
    /// (strings raw, one result per line).
    #[arg(short = 'q', long, value_name = "EXPRESSION")]
    pub jq: Option<String>,

    /// Go templates are not supported: use --jq.
    #[arg(short = 't', long, value_name = "STRING")]
    pub template: Option<String>,
}

/// TUF options from `--offline` and `--cache-dir`.
pub fn fetch_options(offline: bool, cache_dir: Option<PathBuf>) -> FetchOptions {
    let mut opts = FetchOptions::online();
    opts.offline = offline;
    if cache_dir.is_some() {
        opts.cache_root = cache_dir;
    }
    opts
}

/// Print warnings about how trust material was chosen.
pub fn print_trust_notes(trust: &TrustStore) {
    for note in trust.notes() {
        eprintln!("Warning: {note}");
    }
}

/// With `--offline`, refuse a GHE.com tenant host before anything asks its
/// API for the trust domain (`GET /meta`): offline means no network, and
/// the trust domain is known only from there. `remedy` says what to do
/// instead. Exit 2, as for conflicting flags.
pub fn refuse_offline_tenant(
    hostname: Option<&str>,
    offline: bool,
    remedy: &str,
) -> Result<(), i32> {
    let Some(host) = hostname.map(|h| h.trim().to_ascii_lowercase()) else {
        return Ok(());
    };
    if offline && host.ends_with(".ghe.com") {
        return Err(usage_error(&format!(
            "--offline: the trusted root of the GHE.com tenant {host} depends on its trust domain, which only its API tells (GET /meta); {remedy}"
        )));
    }
    Ok(())
}

/// Print a usage error (exit 2).
pub fn usage_error(msg: &str) -> i32 {
    eprintln!("Error: {msg}");
    exit::USAGE
}

/// gh's rules for `--jq` and `--template`, checked before any work: both
/// need `--format json` (gh's message), templates are not implemented, and a
/// `--jq` expression must compile.
fn check_output_flags(args: &VerifyArgs) -> Result<(), i32> {
    if args.template.is_some() {
        return Err(usage_error(
            "--template (Go templates) is not supported; use --format json with --jq EXPRESSION instead",
        ));
    }
    if args.jq.is_some() && args.format.is_none() {
        return Err(usage_error(
            "cannot use `--jq` without specifying `--format json`",
        ));
    }
    if let Some(expr) = jq_filter(args) {
        if let Err(e) = crate::jq::check(expr) {
            return Err(usage_error(&format!("--jq: {e}")));
        }
    }
    Ok(())
}

/// The `--jq` expression to apply; gh treats an empty one as none.
pub fn jq_filter(args: &VerifyArgs) -> Option<&str> {
    args.jq.as_deref().filter(|e| !e.is_empty())
}

/// Print gh's JSON on stdout, through the `--jq` filter when there is one
/// (indented on a terminal, as gh does), else as `text` produces it.
/// Returns the exit code: OK, USAGE when the filter fails on this input (the
/// expression is the user's, and the exit code must not claim a
/// verification result), INTERNAL when stdout cannot be written.
pub fn print_json(
    value: &serde_json::Value,
    jq: Option<&str>,
    tty: bool,
    text: impl FnOnce(&serde_json::Value) -> serde_json::Result<String>,
) -> i32 {
    use std::io::Write;
    let mut stdout = std::io::stdout();
    let written = match jq {
        // The filter runs on its own thread, which needs a `Send` handle;
        // `Stdout` flushes each line, so results stream as in gh.
        Some(expr) => match crate::jq::run(expr, value, tty, &mut std::io::stdout()) {
            Ok(()) => Ok(()),
            Err(crate::jq::RunError::Jq(e)) => {
                eprintln!("Error: --jq: {e}");
                return exit::USAGE;
            }
            Err(crate::jq::RunError::Write(e)) => Err(e.to_string()),
        },
        None => text(value)
            .map_err(|e| e.to_string())
            .and_then(|t| writeln!(stdout, "{t}").map_err(|e| e.to_string())),
    };
    match written.and_then(|()| stdout.flush().map_err(|e| e.to_string())) {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("Error: could not write JSON: {e}");
            exit::INTERNAL
        }
    }
}

/// Run `attest verify`; returns the exit code.
pub fn run(args: VerifyArgs) -> i32 {
    let term = Terminal::detect();
    if let Err(code) = check_output_flags(&args) {
        return code;
    }
    let flags = PolicyFlags {
        owner: args.owner.clone(),
        repo: args.repo.clone(),
        signer_repo: args.signer_repo.clone(),
        signer_workflow: args.signer_workflow.clone(),
        cert_identity: args.cert_identity.clone(),
        cert_identity_regex: args.cert_identity_regex.clone(),
        cert_oidc_issuer: args.cert_oidc_issuer.clone(),
        deny_self_hosted_runners: args.deny_self_hosted_runners,
        predicate_type: Some(args.predicate_type.clone()),
        signer_digest: args.signer_digest.clone(),
        source_digest: args.source_digest.clone(),
        source_ref: args.source_ref.clone(),
        hostname: args.hostname.clone(),
    };
    let key = match &args.key {
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|pem| attest::verify::parse_public_key_pem(&pem).map_err(|e| e.to_string()))
        {
            Ok(k) => Some(k),
            Err(e) => {
                eprintln!("Error: {}: {e}", path.display());
                return exit::UNREADABLE;
            }
        },
        None => None,
    };
    let policy = if key.is_some() {
        let mut p = Policy::identity_only(None, None);
        p.predicate_type = args.predicate_type.clone();
        p
    } else {
        match Policy::from_flags(&flags) {
            Ok(p) => p,
            Err(e) => return usage_error(&e.to_string()),
        }
    };
    if args.bundle_from_oci
        && !args
            .artifacts
            .first()
            .is_some_and(|a| a.starts_with("oci://"))
    {
        return usage_error("bundle-from-oci flag can only be used with OCI artifact paths");
    }
    let trust = match &args.custom_trusted_root {
        Some(path) => TrustStore::from_file(path, args.no_public_good),
        None => {
            let remedy = format!(
                "pass --custom-trusted-root with the tenant's root (`attest trusted-root --hostname {}` prints it on a connected machine)",
                args.hostname.as_deref().unwrap_or_default().trim()
            );
            if let Err(code) =
                refuse_offline_tenant(args.hostname.as_deref(), args.offline, &remedy)
            {
                return code;
            }
            let td = match fetch::tenant_trust_domain(args.hostname.as_deref()) {
                Ok(td) => td,
                Err(code) => return code,
            };
            Ok(TrustStore::tuf_with_github(
                args.no_public_good,
                fetch_options(args.offline, args.cache_dir.clone()),
                td.as_deref(),
            ))
        }
    };
    let trust = match trust {
        Ok(t) => t,
        Err(e) => {
            eprintln!("Error: {e}");
            return exit::UNREADABLE;
        }
    };
    let alg = match args.digest_alg {
        Alg::Sha256 => DigestAlgorithm::Sha256,
        Alg::Sha512 => DigestAlgorithm::Sha512,
    };
    if args.manifest.is_some() || args.artifacts.len() > 1 {
        return crate::release::run(&args, &trust, &policy, alg, term);
    }

    let resolved = match fetch::resolve_artifact(&args.artifacts[0], alg, args.bundle_from_oci) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let digest = resolved.digest.clone();
    if term.tty {
        eprintln!(
            "Loaded digest {digest} for {}",
            report::printable_name(&resolved.display)
        );
    }
    let source = if !args.bundle.is_empty() {
        fetch::Source::Files(&args.bundle)
    } else if args.bundle_from_oci {
        fetch::Source::Oci
    } else {
        let owner = fetch::owner_of(&args.owner, &args.repo);
        fetch::Source::GitHub {
            owner,
            repo: args.repo.clone(),
            predicate_type: Some(args.predicate_type.clone()),
            limit: args.limit as usize,
            hostname: args.hostname.clone(),
        }
    };
    let (bundles, from) = match fetch::load(source, &resolved) {
        Ok(b) => b,
        Err(code) => return code,
    };
    if term.tty {
        eprintln!(
            "Loaded {} from {from}",
            report::plural(bundles.len(), "attestation")
        );
        eprintln!("\n{}", report::criteria_block(&policy));
    }

    let verdict = match &key {
        Some(key) => {
            let Some(instance) = trust.instances().first() else {
                eprintln!("Error: no trusted root to verify key-signed bundles against");
                return exit::UNREADABLE;
            };
            evaluate_bundles_by(&bundles, &digest, |b, input| {
                evaluate_one_with_key(b, input, instance, key, &policy)
            })
        }
        None => evaluate_bundles(&bundles, &digest, &trust, &policy),
    };
    print_trust_notes(&trust);
    let name = resolved.name.clone();
    let json = args.format.is_some().then(|| jq_filter(&args));
    print_verdict(&verdict, &policy, &name, term, json)
}

fn print_verdict(
    verdict: &ArtifactVerdict,
    policy: &Policy,
    name: &str,
    term: Terminal,
    // `Some` with --format json, holding the --jq expression if any.
    json: Option<Option<&str>>,
) -> i32 {
    let style = term.style;
    if verdict.verified() {
        if term.tty {
            eprintln!("{}", style.ok("✓ Verification succeeded!"));
            eprintln!();
            if json.is_none() {
                eprint!("{}", report::matched_block(verdict));
            }
            let others = verdict.results.len() - verdict.matched().count();
            if others > 0 {
                eprintln!(
                    "\n{} did not match:\n{}",
                    report::plural(others, "other attestation"),
                    report::reasons_block(verdict)
                );
            }
        } else {
            eprintln!("{}", report::summary_line(name, verdict, policy));
        }
        if let Some(jq) = json {
            let value = report::gh_json(verdict, policy);
            return print_json(&value, jq, term.tty, |v| {
                if term.tty {
                    serde_json::to_string_pretty(v)
                } else {
                    serde_json::to_string(v)
                }
            });
        }
        return exit::OK;
    }
    let (stage, message) = report::failure_headline(verdict, policy);
    if term.tty {
        eprintln!("{}", style.bad(&format!("✗ {stage} failed")));
    }
    eprintln!("\nError: {message}");
    if verdict.results.len() > 1 {
        eprintln!(
            "\nNone of {} matched:\n{}",
            report::plural(verdict.results.len(), "attestation"),
            report::reasons_block(verdict)
        );
    }
    verdict.exit_code()
}
