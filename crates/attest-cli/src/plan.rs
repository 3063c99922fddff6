//! `attest verify`'s arguments resolved once into a [`Plan`]: the verifier
//! (trust, mode, policy), the subjects, where the evidence comes from, and
//! how to print. Every mode (one artifact, several, a manifest, images, any
//! source) runs from the same plan, so no mode can forget a flag; a flag
//! that cannot apply to the mode at hand is refused here, before any
//! network or file access beyond the flags' own files.

use std::path::PathBuf;

use attest::artifact::{ArtifactDigest, ArtifactRef, DigestAlgorithm};
use attest::policy::{Policy, PolicyFlags};
use attest::policy_file::lock::Lock;
use attest::policy_file::{PolicyFile, PolicyVerifier};
use attest::source::oci::parse_oci_ref;
use attest::trust::TrustStore;
use attest::verifier::Verifier;
use attest::verify::VerifyOptions;

use crate::args::{Format, Source, VerifyArgs};
use crate::error::CliError;
use crate::fetch::{Evidence, OciKinds};
use crate::output::Terminal;

/// What is verified.
#[derive(Debug)]
pub enum Subjects {
    /// Positional artifacts: files, `sha256:`/`sha512:` digests, `oci://` images.
    Args(Vec<String>),
    /// The entries of a digest manifest.
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// Where its files are (default: the manifest's directory).
        dir: Option<PathBuf>,
        /// Check the listed digests only, without reading files.
        digests_only: bool,
    },
}

/// What decides the verdict: gh's flags, or a policy file.
pub enum Judge {
    /// Identity flags (or a key): one policy for every artifact.
    Flags(Box<Verifier>),
    /// `--policy`: rules per artifact, and `--locked`.
    PolicyFile(Box<PolicyRun>),
}

/// A policy file, its trust material and the lock to hold artifacts to.
pub struct PolicyRun {
    /// The policy with its trust store.
    pub verifier: PolicyVerifier,
    /// `--locked`: the lock file and its contents.
    pub lock: Option<(PathBuf, Lock)>,
}

/// Everything a verify run needs, decided once.
pub struct Plan {
    /// Trust material, mode and policy.
    pub judge: Judge,
    /// What to verify.
    pub subjects: Subjects,
    /// Where attestations come from.
    pub evidence: Evidence,
    /// `-d`, when given; `None` means sha256 for files.
    pub alg: Option<DigestAlgorithm>,
    /// `--format json`.
    pub json: bool,
    /// `--format junit`.
    pub junit: bool,
    /// The `--jq` expression (gh treats an empty one as none).
    pub jq: Option<String>,
    /// Terminal facts.
    pub term: Terminal,
    /// `--offline`: no network at all.
    pub offline: bool,
    /// `--platform` / `--all-platforms`: the platform manifests of each
    /// multi-arch image verified beside it.
    pub platforms: Platforms,
}

/// Which platform manifests of a multi-arch image are verified too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Platforms {
    /// None: the image's own digest (an index's) only.
    None,
    /// These platforms (`--platform`), each of which must be in the index.
    Listed(Vec<String>),
    /// Every platform the index lists (`--all-platforms`).
    All,
}

impl Plan {
    /// The one artifact of a single-artifact run (gh's report), if it is one.
    pub fn single(&self) -> Option<&str> {
        if self.platforms != Platforms::None {
            // Platform manifests are artifacts of their own: several.
            return None;
        }
        match &self.subjects {
            // A PyPI release is its files: several.
            Subjects::Args(a) if a.len() == 1 && !a[0].starts_with("pypi:") => Some(&a[0]),
            _ => None,
        }
    }

    /// The algorithm to hash files with.
    pub fn file_alg(&self) -> DigestAlgorithm {
        self.alg.unwrap_or(DigestAlgorithm::Sha256)
    }

    /// An explicit `-d` must agree with a digest that names its own
    /// algorithm (a `sha512:` argument, a manifest line): a mismatch is a
    /// usage error, never silently ignored.
    pub fn check_alg(&self, what: &str, digest: &ArtifactDigest) -> Result<(), CliError> {
        check_alg(self.alg, what, digest)
    }
}

/// See [`Plan::check_alg`]; also used before the plan exists.
fn check_alg(
    alg: Option<DigestAlgorithm>,
    what: &str,
    digest: &ArtifactDigest,
) -> Result<(), CliError> {
    match alg {
        Some(alg) if alg != digest.algorithm() => Err(CliError::usage(format!(
            "-d {alg} does not apply to {what}, a {} digest; drop -d or pass -d {}",
            digest.algorithm(),
            digest.algorithm()
        ))),
        _ => Ok(()),
    }
}

/// Resolve the arguments. Flag checks come first; then the policy, the key
/// and the trust material.
pub fn resolve(args: VerifyArgs, term: Terminal) -> Result<Plan, CliError> {
    check_output_flags(&args)?;
    if args.lock.is_some() && !args.locked {
        return Err(CliError::usage(
            "--lock names the lock file for --locked; add --locked (or use `attest lock --update` to write it)",
        ));
    }
    let alg = args.digest_alg.map(DigestAlgorithm::from);
    let subjects = match &args.manifest {
        Some(path) => Subjects::Manifest {
            path: path.clone(),
            dir: args.dir.clone(),
            digests_only: args.digests_only,
        },
        None => Subjects::Args(args.artifacts.clone()),
    };
    check_subjects(&args, &subjects, alg)?;

    let policy_file = match &args.policy_file {
        Some(path) => Some(PolicyFile::load(path).map_err(|e| CliError::usage(e.to_string()))?),
        None => None,
    };
    let evidence = evidence_of(&args, &subjects, policy_file.as_ref())?;
    if args.trust.offline {
        check_offline(&subjects, &evidence)?;
    }

    let flags = PolicyFlags {
        owner: args.policy.owner.clone(),
        repo: args.policy.repo.clone(),
        signer_repo: args.policy.signer_repo.clone(),
        signer_workflow: args.policy.signer_workflow.clone(),
        cert_identity: args.policy.cert_identity.clone(),
        cert_identity_regex: args.policy.cert_identity_regex.clone(),
        cert_oidc_issuer: args.policy.cert_oidc_issuer.clone(),
        deny_self_hosted_runners: args.policy.deny_self_hosted_runners,
        predicate_type: Some(predicate_type(&args)),
        signer_digest: args.policy.signer_digest.clone(),
        source_digest: args.policy.source_digest.clone(),
        source_ref: args.policy.source_ref.clone(),
        hostname: args.policy.hostname.clone(),
    };
    let key = match &args.key {
        Some(path) => Some(read_key(path)?),
        None => None,
    };
    let options =
        VerifyOptions::default().require_inclusion_proof(args.trust.require_inclusion_proof);
    if let Some(policy) = policy_file {
        let trust = trust_store(&args)?;
        let lock = if args.locked {
            let path = args.lock.clone().unwrap_or_else(|| {
                args.policy_file
                    .as_deref()
                    .and_then(std::path::Path::parent)
                    .unwrap_or(std::path::Path::new(""))
                    .join("attest.lock")
            });
            let lock = Lock::load(&path).map_err(|e| CliError::new(crate::exit::UNREADABLE, e))?;
            Some((path, lock))
        } else {
            None
        };
        return Ok(plan(
            &args,
            Judge::PolicyFile(Box::new(PolicyRun {
                verifier: PolicyVerifier::new(policy, trust, options),
                lock,
            })),
            subjects,
            evidence,
            alg,
            term,
        ));
    }
    let mut policy = if key.is_some() {
        Policy::statement_only(predicate_type(&args))
    } else {
        Policy::from_flags(&flags)
            .map_err(|e| CliError::usage(e.to_string()))?
            .with_provenance_check(args.policy.check_provenance)
    };
    // PEP 740 attestations carry PyPI's publish attestation or SLSA
    // provenance (the verifier enforces one of the two); gh's default of
    // SLSA alone would skip the publish attestations PyPI serves.
    if matches!(evidence, Evidence::Pep740Files(_) | Evidence::PyPi { .. })
        && args.policy.predicate_type.is_none()
    {
        policy.predicate_type = String::new();
    }
    let trust = trust_store(&args)?;
    let verifier = match key {
        Some(key) => Verifier::with_key(trust, key, policy)
            .map_err(|e| CliError::new(crate::exit::UNREADABLE, e.to_string()))?,
        None => Verifier::keyless(trust, policy),
    }
    .with_options(options);
    Ok(plan(
        &args,
        Judge::Flags(Box::new(verifier)),
        subjects,
        evidence,
        alg,
        term,
    ))
}

/// The plan for `judge`, with the output and network settings of `args`.
fn plan(
    args: &VerifyArgs,
    judge: Judge,
    subjects: Subjects,
    evidence: Evidence,
    alg: Option<DigestAlgorithm>,
    term: Terminal,
) -> Plan {
    Plan {
        judge,
        subjects,
        evidence,
        alg,
        json: matches!(args.output.format, Some(Format::Json)),
        junit: matches!(args.output.format, Some(Format::Junit)),
        jq: args.output.jq.clone().filter(|e| !e.is_empty()),
        term,
        offline: args.trust.offline,
        platforms: if args.all_platforms {
            Platforms::All
        } else if args.platform.is_empty() {
            Platforms::None
        } else {
            Platforms::Listed(args.platform.clone())
        },
    }
}

/// gh's rules for `--jq` and `--template`: both need `--format json`,
/// templates are not implemented, and a `--jq` expression must compile.
fn check_output_flags(args: &VerifyArgs) -> Result<(), CliError> {
    if args.output.template.is_some() {
        return Err(CliError::usage(
            "--template (Go templates) is not supported; use --format json with --jq EXPRESSION instead",
        ));
    }
    if args.output.jq.is_some() && matches!(args.output.format, Some(Format::Junit)) {
        return Err(CliError::usage(
            "--jq filters the JSON output; it does not apply to --format junit",
        ));
    }
    if args.output.jq.is_some() && args.output.format.is_none() {
        return Err(CliError::usage(
            "cannot use `--jq` without specifying `--format json`",
        ));
    }
    if let Some(expr) = args.output.jq.as_deref().filter(|e| !e.is_empty()) {
        crate::jq::check(expr).map_err(|e| CliError::usage(format!("--jq: {e}")))?;
    }
    Ok(())
}

/// Flags that depend on what the subjects are.
fn check_subjects(
    args: &VerifyArgs,
    subjects: &Subjects,
    alg: Option<DigestAlgorithm>,
) -> Result<(), CliError> {
    if args.manifest.is_none() {
        // Enforced here: clap's `requires` did not fire for these.
        if args.dir.is_some() {
            return Err(CliError::usage(
                "--dir applies to --manifest (the directory of its files); give the files as arguments instead",
            ));
        }
        if args.digests_only {
            return Err(CliError::usage(
                "--digests-only applies to --manifest (check its listed digests without the files)",
            ));
        }
    }
    let platform_flag = if args.all_platforms {
        Some("--all-platforms")
    } else if !args.platform.is_empty() {
        Some("--platform")
    } else {
        None
    };
    if let Some(flag) = platform_flag {
        let not_image = match subjects {
            Subjects::Manifest { .. } => Some("--manifest entries"),
            Subjects::Args(list) => list
                .iter()
                .find(|a| parse_oci_ref(a).is_none())
                .map(String::as_str),
        };
        if let Some(what) = not_image {
            return Err(CliError::usage(format!(
                "{flag} selects platform manifests of multi-arch images (oci://), not {what}"
            )));
        }
        if args.trust.offline {
            return Err(CliError::usage(format!(
                "--offline: {flag} reads each image's index from the registry, which needs the network"
            )));
        }
    }
    let Subjects::Args(list) = subjects else {
        if let Some(flag) = registry_flag(args) {
            return Err(CliError::usage(format!(
                "{flag} applies to oci:// artifacts, not to --manifest entries"
            )));
        }
        return Ok(());
    };
    for arg in list {
        if let Some(parsed) = attest::source::pypi::parse_subject(arg) {
            parsed.map_err(CliError::usage)?;
            if let Some(alg) = alg {
                return Err(CliError::usage(format!(
                    "-d {alg} does not apply to {arg}: the index names each file by its sha256"
                )));
            }
            continue;
        }
        if let Ok(ArtifactRef::Digest(d)) = ArtifactRef::from_arg(arg) {
            check_alg(alg, arg, &d)?;
        }
        match parse_oci_ref(arg) {
            Some(parsed) => {
                parsed.map_err(|e| CliError::usage(e.to_string()))?;
                // An image may need the registry: its settings are refused
                // here, before anything else is done.
                crate::settings::registry_credentials()
                    .map_err(|e| CliError::usage(e.to_string()))?;
                if let Some(alg) = alg {
                    return Err(CliError::usage(format!(
                        "-d {alg} does not apply to {arg}: an image is named by its registry digest"
                    )));
                }
            }
            None if registry_flag(args).is_some() => {
                return Err(CliError::usage(format!(
                    "{} can only be used with oci:// artifacts, not {arg}",
                    registry_flag(args).unwrap_or_default()
                )));
            }
            None => {}
        }
    }
    Ok(())
}

/// `--offline` opens no socket: a source or a subject that needs the
/// network is refused, saying what supplies the evidence instead.
fn check_offline(subjects: &Subjects, evidence: &Evidence) -> Result<(), CliError> {
    match evidence {
        Evidence::GitHub { .. } => {
            return Err(CliError::usage(
                "--offline: without --bundle the attestations come from GitHub's API, which needs the network",
            )
            .hint("pass --bundle FILE; `attest download` writes it on a connected machine"))
        }
        Evidence::Oci { .. } => {
            return Err(CliError::usage(
                "--offline: the attestations would be read from the registry, which needs the network",
            )
            .hint("pass --bundle FILE; `attest download oci://IMAGE` writes it on a connected machine"))
        }
        Evidence::PyPi { .. } => {
            return Err(CliError::usage(
                "--offline: the provenance would be read from the package index, which needs the network",
            )
            .hint("pass --provenance-file FILE; `attest download FILE --source pypi` writes it on a connected machine"))
        }
        Evidence::Files(_) | Evidence::Pep740Files(_) => {}
    }
    if let Subjects::Args(list) = subjects {
        for arg in list {
            if let Some(Ok(reference)) = parse_oci_ref(arg) {
                if reference.digest().is_none() {
                    return Err(CliError::usage(format!(
                        "--offline: {arg} names a tag, and only the registry can say which digest it points to"
                    ))
                    .hint("pin the digest: oci://IMAGE@sha256:HEX"));
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn read_key(path: &std::path::Path) -> Result<attest::verify::DerPublicKey, CliError> {
    let unreadable =
        |e: String| CliError::new(crate::exit::UNREADABLE, format!("{}: {e}", path.display()));
    let pem = attest::artifact::read_text_file(path, 64 * 1024, "a PEM public key")
        .map_err(unreadable)?;
    attest::verify::parse_public_key_pem(&pem).map_err(|e| unreadable(e.to_string()))
}

fn trust_store(args: &VerifyArgs) -> Result<TrustStore, CliError> {
    trust_store_of(&args.trust, args.policy.hostname.as_deref())
}

/// The trusted roots the trust flags select: `--custom-trusted-root`, else
/// the TUF-verified roots (cache, then embedded, as `--offline` allows) of
/// public good and GitHub (or the GHE.com tenant `hostname` names). One
/// builder for every command that verifies.
pub fn trust_store_of(
    trust: &crate::args::TrustArgs,
    hostname: Option<&str>,
) -> Result<TrustStore, CliError> {
    let unreadable = |e: attest::trust::TrustError| {
        // Refusing the public-good instance is a trust decision (exit 6),
        // whether the embedded roots or a custom root supplied it: one
        // cause, one code.
        let code = match e {
            attest::trust::TrustError::PublicGoodInCustomRoot { .. } => crate::exit::VERIFICATION,
            _ => crate::exit::UNREADABLE,
        };
        CliError::new(code, e.to_string())
    };
    if let Some(path) = &trust.custom_trusted_root {
        return TrustStore::from_file(path, trust.no_public_good).map_err(unreadable);
    }
    let remedy = format!(
        "pass --custom-trusted-root with the tenant's root (`attest trusted-root --hostname {}` prints it on a connected machine)",
        hostname.unwrap_or_default().trim()
    );
    crate::settings::refuse_offline_tenant(hostname, trust.offline, &remedy)
        .map_err(CliError::printed)?;
    let td = crate::fetch::tenant_trust_domain(hostname).map_err(CliError::printed)?;
    Ok(TrustStore::tuf_with_github(
        trust.no_public_good,
        crate::settings::fetch_options(trust.offline, trust.cache_dir.clone()),
        td.as_deref(),
    ))
}

/// `--predicate-type`, or SLSA provenance v1 as in gh.
fn predicate_type(args: &VerifyArgs) -> String {
    args.policy
        .predicate_type
        .clone()
        .unwrap_or_else(|| attest::bundle::SLSA_PROVENANCE_V1.to_string())
}

/// The flag that asked for the images' registry as the source, if one did.
fn registry_flag(args: &VerifyArgs) -> Option<&'static str> {
    match (args.source, args.bundle_from_oci) {
        (Some(Source::Registry), _) => Some("--source registry"),
        (Some(Source::Referrers), _) => Some("--source referrers"),
        (Some(Source::Cosign), _) => Some("--source cosign"),
        (_, true) => Some("--bundle-from-oci"),
        _ => None,
    }
}

/// Where the attestations come from: `--bundle` files; the registry
/// (`--source registry|referrers|cosign`, `--bundle-from-oci`); GitHub's
/// API (`--source github`). Without a choice: GitHub's API when there is an
/// owner or repository to ask under (gh's behaviour), else the registry
/// when every subject is an image, else a usage error naming the choices.
fn evidence_of(
    args: &VerifyArgs,
    subjects: &Subjects,
    policy_file: Option<&PolicyFile>,
) -> Result<Evidence, CliError> {
    let limit = args.limit as usize;
    let registry = |kinds| Evidence::Oci { limit, kinds };
    let pypi_subjects = match subjects {
        Subjects::Args(list) => list.iter().any(|a| a.starts_with("pypi:")),
        Subjects::Manifest { .. } => false,
    };
    if pypi_subjects && (!args.bundle.is_empty() || args.source.is_some_and(|s| s != Source::Pypi))
    {
        return Err(CliError::usage(
            "pypi: subjects are the files a package index lists, with the provenance it serves: drop --bundle and --source (or pass --source pypi)",
        ));
    }
    if !args.bundle.is_empty() {
        return Ok(Evidence::Files(args.bundle.clone()));
    }
    if !args.provenance_file.is_empty() {
        return Ok(Evidence::Pep740Files(args.provenance_file.clone()));
    }
    let source = match (args.source, args.bundle_from_oci) {
        (Some(s), _) => Some(s),
        (None, true) => Some(Source::Registry),
        (None, false) => None,
    };
    let all_images = match subjects {
        Subjects::Args(list) => list.iter().all(|a| parse_oci_ref(a).is_some()),
        Subjects::Manifest { .. } => false,
    };
    let github_scope = args.policy.owner.is_some() || args.policy.repo.is_some();
    let source = match source {
        Some(s) => s,
        None if pypi_subjects => Source::Pypi,
        None if policy_file.is_none() && github_scope => Source::Github,
        None if policy_file.is_some_and(|p| {
            p.rules()
                .iter()
                .flat_map(|r| r.requirements.iter())
                .any(|q| q.github_scope().is_some())
        }) =>
        {
            Source::Github
        }
        None if all_images => Source::Registry,
        None => {
            return Err(CliError::usage(if args.key.is_some() {
                "--key needs --bundle FILE, or images (oci://) whose registry holds the attestations: GitHub's API is queried by --owner or --repo, which identify a certificate, not a key"
            } else if policy_file.is_some() {
                "no requirement of the policy names a GitHub repo or owner, so there is nowhere to ask GitHub for attestations; pass --bundle FILE, or verify images (oci://), whose registry is read"
            } else {
                "nowhere to read attestations from: GitHub's API is asked by --owner or --repo; pass one, or --bundle FILE"
            }))
        }
    };
    match source {
        Source::Pypi => Ok(Evidence::PyPi {
            index: index_of(args)?,
        }),
        Source::Registry => Ok(registry(OciKinds::ALL)),
        Source::Referrers => Ok(registry(OciKinds {
            referrers: true,
            cosign: false,
        })),
        Source::Cosign => Ok(registry(OciKinds {
            referrers: false,
            cosign: true,
        })),
        Source::Github => {
            if args.key.is_some() {
                return Err(CliError::usage(
                    "--key needs --bundle FILE or a registry source: GitHub's API is queried by --owner or --repo, which identify a certificate, not a key",
                ));
            }
            match policy_file {
                Some(policy) => github_scopes_of(policy, args),
                None if !github_scope => Err(CliError::usage(
                    "--source github: GitHub's API is asked by --owner or --repo; pass one",
                )),
                None => Ok(Evidence::GitHub {
                    scopes: vec![(
                        owner_of(&args.policy.owner, &args.policy.repo),
                        args.policy.repo.clone(),
                    )],
                    predicate_type: Some(predicate_type(args)),
                    limit,
                    hostname: args.policy.hostname.clone(),
                }),
            }
        }
    }
}

/// The package index (`--index-url`, else PyPI), checked.
pub fn index_of(args: &VerifyArgs) -> Result<String, CliError> {
    attest::source::pypi::index_base(
        args.index_url
            .as_deref()
            .unwrap_or(attest::source::pypi::DEFAULT_INDEX),
    )
    .map_err(|e| CliError::usage(e.to_string()))
}

/// With `--policy` and no `--bundle`: GitHub's API is asked under every
/// owner or repository the policy's requirements name, on the policy's
/// host (a `--hostname` that disagrees is refused).
fn github_scopes_of(policy: &PolicyFile, args: &VerifyArgs) -> Result<Evidence, CliError> {
    let mut scopes: Vec<(String, Option<String>)> = Vec::new();
    let mut hosts: Vec<String> = Vec::new();
    for req in policy.rules().iter().flat_map(|r| r.requirements.iter()) {
        if let Some((owner, repo)) = req.github_scope() {
            if !scopes.contains(&(owner.clone(), repo.clone())) {
                scopes.push((owner, repo));
            }
            let host = req.hostname().unwrap_or("github.com").to_ascii_lowercase();
            if !hosts.contains(&host) {
                hosts.push(host);
            }
        }
    }
    if scopes.is_empty() {
        return Err(CliError::usage(format!(
            "{}: no requirement names a GitHub repo or owner, so there is nowhere to ask GitHub for attestations; pass --bundle FILE or --source registry",
            policy.origin()
        )));
    }
    if hosts.len() > 1 {
        return Err(CliError::usage(format!(
            "{}: requirements name several GitHub hosts ({}); verify one host per run, or pass --bundle FILE",
            policy.origin(),
            hosts.join(", ")
        )));
    }
    let host = hosts.pop().unwrap_or_else(|| "github.com".into());
    if let Some(flag) = &args.policy.hostname {
        if !flag.trim().eq_ignore_ascii_case(&host) {
            return Err(CliError::usage(format!(
                "--hostname {flag} (or GH_HOST) disagrees with the policy, whose requirements are on {host}"
            )));
        }
    }
    Ok(Evidence::GitHub {
        scopes,
        predicate_type: None,
        limit: args.limit as usize,
        hostname: (host != "github.com").then_some(host),
    })
}

/// The owner to query: `--owner`, else the owner part of `--repo`.
pub fn owner_of(owner: &Option<String>, repo: &Option<String>) -> String {
    owner
        .clone()
        .or_else(|| {
            repo.as_ref()
                .and_then(|r| r.split('/').next().map(str::to_string))
        })
        .unwrap_or_default()
}
