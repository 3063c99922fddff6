//! `attest verify`'s flags, declared once in groups (policy, trust, output)
//! and resolved once into a plan by the plan (`plan.rs`).

use std::path::PathBuf;

use attest::artifact::DigestAlgorithm;
use clap::builder::NonEmptyStringValueParser;
use clap::{Args, ValueEnum};

/// `--format` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// gh's JSON array of verification results.
    Json,
    /// A JUnit XML report, one test case per artifact, for CI systems.
    Junit,
}

/// `--source` values: where `attest verify` reads attestations.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Source {
    /// GitHub's attestations API, asked by --owner or --repo (gh's default).
    Github,
    /// The image's registry: OCI 1.1 referrers, then cosign's .att tag
    /// (the same as --bundle-from-oci).
    Registry,
    /// The image's OCI 1.1 referrers only (GitHub's and cosign 3's bundles).
    Referrers,
    /// cosign's sha256-<hex>.att tag only (cosign 2's attestations).
    Cosign,
    /// A Python package index's Integrity API: the PEP 740 attestations of
    /// wheels and sdists (PyPI, or --index-url).
    Pypi,
}

/// `-d/--digest-alg` values.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
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
#[command(
    after_help = "Exit codes: 0 verified, 2 usage error, 3 unreadable input, 4 authentication \
required (GitHub API or registry), 5 no attestation for this artifact, 6 cryptographic or trust \
failure, 7 policy mismatch."
)]
pub struct VerifyArgs {
    /// The artifacts: file paths, digests as sha256:HEX / sha512:HEX,
    /// images as oci://IMAGE[:TAG|@DIGEST], or every file of a PyPI release
    /// as pypi:PROJECT==VERSION. One artifact gives gh's report; several
    /// give one line per artifact.
    #[arg(
        value_name = "FILE | DIGEST | oci://IMAGE | pypi:PROJECT==VERSION",
        required_unless_present = "manifest"
    )]
    pub artifacts: Vec<String>,

    /// Bundle file: one Sigstore bundle (JSON) or several (JSON Lines). Repeatable.
    #[arg(short = 'b', long, value_name = "FILE")]
    pub bundle: Vec<PathBuf>,

    /// For a multi-arch image: also verify the manifest of this platform
    /// (OS/ARCH or OS/ARCH/VARIANT), with its own attestations. Repeatable.
    #[arg(long, value_name = "OS/ARCH", value_parser = parse_platform_arg,
          conflicts_with = "all_platforms")]
    pub platform: Vec<String>,

    /// For a multi-arch image: also verify every platform manifest its
    /// index lists, each with its own attestations.
    #[arg(long)]
    pub all_platforms: bool,

    /// Read the bundles from the images' registry: OCI referrers and
    /// cosign's .att tag (oci:// artifacts only); --source registry.
    #[arg(long, conflicts_with = "bundle")]
    pub bundle_from_oci: bool,

    /// Where to read attestations: github (the API, by --owner/--repo),
    /// registry (referrers and cosign's .att tag), referrers, cosign. The
    /// default: --bundle files if given; else GitHub's API when --owner or
    /// --repo names where to ask; else, for images, their registry.
    #[arg(long, alias = "from", value_enum, value_name = "SOURCE",
          conflicts_with_all = ["bundle", "bundle_from_oci"])]
    pub source: Option<Source>,

    /// PEP 740 provenance for the distribution files (wheels, sdists): a
    /// provenance object as PyPI's Integrity API serves it, or one
    /// attestation (`.publish.attestation`). Repeatable; works --offline.
    #[arg(long, value_name = "FILE",
          conflicts_with_all = ["bundle", "bundle_from_oci", "source"])]
    pub provenance_file: Vec<PathBuf>,

    /// The Python package index for `pypi:` subjects and --source pypi
    /// (PyPI by default; pip's .../simple/ form is accepted).
    #[arg(long, env = "ATTEST_INDEX_URL", value_name = "URL")]
    pub index_url: Option<String>,

    /// Verify every artifact listed in this digest manifest (sha256sum format).
    #[arg(long, value_name = "MANIFEST", conflicts_with = "artifacts")]
    pub manifest: Option<PathBuf>,

    /// Directory holding the manifest's files (default: the manifest's directory).
    #[arg(long, value_name = "DIR", requires = "manifest")]
    pub dir: Option<PathBuf>,

    /// Verify the manifest's listed digests without reading the files.
    #[arg(long, requires = "manifest", conflicts_with = "dir")]
    pub digests_only: bool,

    /// Digest algorithm for file artifacts (default sha256). A digest or a
    /// manifest line names its own; a different -d for it is refused.
    #[arg(short = 'd', long, value_enum)]
    pub digest_alg: Option<Alg>,

    /// Verify key-signed bundles with this public key (PEM) instead of a
    /// certificate identity. Needs --bundle or --bundle-from-oci; the
    /// certificate-claim flags do not apply and are refused.
    #[arg(
        long,
        value_name = "PUB.pem",
        conflicts_with_all = [
            "owner", "repo", "identity", "cert_oidc_issuer", "signer_digest",
            "source_digest", "source_ref", "deny_self_hosted_runners", "hostname"
        ]
    )]
    pub key: Option<PathBuf>,

    /// Maximum number of attestations to fetch (online only; ignored with --bundle, as in gh).
    #[arg(short = 'L', long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,

    /// Check the artifacts against this policy file (attest.toml) instead of
    /// identity flags: every artifact must match a rule, and every rule that
    /// matches must be met. The identity and claim flags are refused with it.
    #[arg(
        long = "policy",
        value_name = "attest.toml",
        conflicts_with_all = [
            "owner", "repo", "identity", "cert_oidc_issuer", "signer_digest", "source_digest",
            "source_ref", "deny_self_hosted_runners", "predicate_type", "key", "check_provenance"
        ]
    )]
    pub policy_file: Option<PathBuf>,

    /// With --policy: fail when a package or image is signed by another
    /// identity than the one attest.lock records for its name.
    #[arg(long, requires = "policy_file")]
    pub locked: bool,

    /// The lock file for --locked (default: attest.lock beside the policy).
    #[arg(long, value_name = "attest.lock", requires = "policy_file")]
    pub lock: Option<PathBuf>,

    #[command(flatten)]
    pub policy: PolicyArgs,

    #[command(flatten)]
    pub trust: TrustArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// The identity and claim flags, gh's names. Every value that constrains
/// the verdict must be non-empty: an empty value is a usage error, never
/// "no constraint".
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("identity").multiple(false)))]
pub struct PolicyArgs {
    /// Repository owner the artifact must come from (SourceRepositoryOwnerURI).
    #[arg(
        short = 'o',
        long,
        value_name = "OWNER",
        value_parser = NonEmptyStringValueParser::new(),
        required_unless_present_any = ["repo", "key", "policy_file", "cert_identity", "cert_identity_regex"]
    )]
    pub owner: Option<String>,

    /// Repository the artifact must come from, OWNER/REPO (SourceRepositoryURI).
    #[arg(short = 'R', long, value_name = "OWNER/REPO", conflicts_with = "owner",
          value_parser = NonEmptyStringValueParser::new())]
    pub repo: Option<String>,

    /// Repository of the workflow that signed (reusable workflows), OWNER/REPO.
    #[arg(long, value_name = "OWNER/REPO", group = "identity",
          value_parser = NonEmptyStringValueParser::new())]
    pub signer_repo: Option<String>,

    /// Workflow that signed, [HOST/]OWNER/REPO/PATH[@REF].
    #[arg(long, value_name = "WORKFLOW", group = "identity",
          value_parser = NonEmptyStringValueParser::new())]
    pub signer_workflow: Option<String>,

    /// Exact certificate identity (SAN), case-sensitive.
    #[arg(long, value_name = "SAN", group = "identity",
          value_parser = NonEmptyStringValueParser::new())]
    pub cert_identity: Option<String>,

    /// Regular expression the certificate identity (SAN) must match.
    #[arg(short = 'i', long, value_name = "REGEX", group = "identity",
          value_parser = NonEmptyStringValueParser::new())]
    pub cert_identity_regex: Option<String>,

    /// OIDC issuer the certificate must name.
    #[arg(long, value_name = "URL", value_parser = NonEmptyStringValueParser::new())]
    pub cert_oidc_issuer: Option<String>,

    /// Reject attestations built on self-hosted runners.
    #[arg(long)]
    pub deny_self_hosted_runners: bool,

    /// Predicate type the attestation must carry [default: https://slsa.dev/provenance/v1].
    #[arg(long, value_name = "URI", value_parser = NonEmptyStringValueParser::new())]
    pub predicate_type: Option<String>,

    /// Also fail when a GitHub Actions SLSA provenance disagrees with its
    /// certificate (builder, repository, ref, workflow, commit, trigger, ids,
    /// runner, run) or carries unrecognised externalParameters. Without it
    /// the cross-check is reported, as a warning, and gh's verdict kept.
    #[arg(long)]
    pub check_provenance: bool,

    /// Commit the signing workflow was taken from (BuildSignerDigest).
    #[arg(long, value_name = "DIGEST", value_parser = NonEmptyStringValueParser::new())]
    pub signer_digest: Option<String>,

    /// Commit the artifact was built from (SourceRepositoryDigest).
    #[arg(long, value_name = "DIGEST", value_parser = NonEmptyStringValueParser::new())]
    pub source_digest: Option<String>,

    /// Ref the artifact was built from, e.g. refs/heads/main (SourceRepositoryRef).
    #[arg(long, value_name = "REF", value_parser = NonEmptyStringValueParser::new())]
    pub source_ref: Option<String>,

    /// GitHub host (github.com or a GHE.com tenant).
    #[arg(long, env = "GH_HOST", value_name = "HOST", value_parser = NonEmptyStringValueParser::new())]
    pub hostname: Option<String>,
}

/// Where trust material comes from.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// Trusted roots (JSON, or JSON Lines of several) instead of the embedded ones.
    #[arg(long, value_name = "FILE")]
    pub custom_trusted_root: Option<PathBuf>,

    /// Use no network at all: trust material from the verified TUF cache,
    /// else the embedded roots; attestations from --bundle only.
    #[arg(long, env = "ATTEST_OFFLINE", value_parser = clap::builder::FalseyValueParser::new())]
    pub offline: bool,

    /// Cache directory for TUF metadata (default: the platform cache directory).
    #[arg(long, env = "ATTEST_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Refuse attestations signed by the Sigstore public-good instance.
    #[arg(long)]
    pub no_public_good: bool,

    /// Require an inclusion proof for every log entry: a bundle v0.1 entry
    /// with only a signed entry timestamp (a promise) fails, unless the
    /// proof can be fetched from the log (online).
    #[arg(long)]
    pub require_inclusion_proof: bool,
}

/// How results are printed.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,

    /// Filter the --format json output with a jq expression, as gh does
    /// (strings raw, one result per line).
    #[arg(short = 'q', long, value_name = "EXPRESSION")]
    pub jq: Option<String>,

    /// Go templates are not supported: use --jq.
    #[arg(short = 't', long, value_name = "STRING")]
    pub template: Option<String>,
}

fn parse_platform_arg(text: &str) -> Result<String, String> {
    attest::source::oci::parse_platform(text)
}
