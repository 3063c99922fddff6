//! `attest provenance`, `attest sign` and `attest attest`: the release side.
//!
//! Every bundle is verified with attest's own verifier before it is written:
//! the Sigstore checks under the instance's trusted root, the identity the
//! claims name (repository, workflow, ref, commit, issuer), every subject,
//! and the provenance predicate against the certificate. Nothing is written,
//! uploaded or pushed unless that passes.

use std::path::{Path, PathBuf};

use attest::artifact::{read_text_file, ArtifactDigest, DigestAlgorithm};
use attest::outcome::{evaluate_one, Outcome};
use attest::policy::{provenance_checks, Policy, PolicyFlags};
use attest::produce::provenance::{
    provenance_predicate, statement_bytes, subjects_from_files, subjects_from_manifest,
    ActionsClaims, SubjectSpec,
};
use attest::produce::sign::{read_private_key, sign_keyless, sign_with_key, Endpoints};
use attest::produce::store::GitHubRepo;
use attest::source::bundles_from_bytes;
use attest::source::github::GitHubApi;
use attest::source::oci::{parse_oci_ref, push_bundle_referrer};
use attest::trust::TrustStore;
use attest::verify::{verify_bundle_with_key, ArtifactInput};
use clap::{Args, ValueEnum};
use oci_client::Reference;

use crate::exit;
use crate::output::PendingOutput;

/// Largest `--claims` file read (an OIDC token's claims are about 1 KiB).
const MAX_CLAIMS_BYTES: u64 = 1024 * 1024;
/// Largest `--subject-checksums` file read: actions/attest's limit.
const MAX_CHECKSUMS_BYTES: u64 = 512 * 1024;
/// Largest STATEMENT read: twice the 16 MiB SBOM actions/attest-sbom accepts.
const MAX_STATEMENT_BYTES: u64 = 32 * 1024 * 1024;
/// Largest `--key` file read (a PEM key is a few hundred bytes).
const MAX_KEY_BYTES: u64 = 64 * 1024;
/// Largest `--signing-config` read (the public-good one is about 2 KiB).
const MAX_SIGNING_CONFIG_BYTES: u64 = 1024 * 1024;

/// The GitHub server the workflow runs on, read once by the CLI and passed
/// to everything that depends on it (the predicate, the identity checked
/// before writing, GitHub's Sigstore endpoints, the upload API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    /// The URL as given, without a trailing `/` (what the predicate holds).
    pub url: String,
    /// Its host, lower-case (`github.com`, `acme.ghe.com`).
    pub host: String,
}

fn parse_server_url(value: &str) -> Result<ServerUrl, String> {
    let url = value.trim().trim_end_matches('/');
    let expected = "expected https://HOST, such as https://github.com or https://acme.ghe.com";
    let host = url
        .strip_prefix("https://")
        .ok_or_else(|| expected.to_string())?;
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b':')
    {
        return Err(expected.to_string());
    }
    Ok(ServerUrl {
        url: url.to_string(),
        host: host.to_ascii_lowercase(),
    })
}

/// The GitHub server flag, shared by `provenance`, `sign` and `attest`.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The GitHub server the workflow runs on (default: $GITHUB_SERVER_URL,
    /// else https://github.com): the predicate's URLs, the identity checked
    /// before writing, `--instance github`'s services and the upload API.
    #[arg(
        long,
        env = "GITHUB_SERVER_URL",
        value_name = "URL",
        default_value = "https://github.com",
        value_parser = parse_server_url
    )]
    pub server_url: ServerUrl,
}

fn parse_push_target(value: &str) -> Result<Reference, String> {
    // Misconfigured registry settings are refused with the flag, before
    // anything is signed.
    crate::settings::registry_credentials().map_err(|e| e.to_string())?;
    match parse_oci_ref(value) {
        Some(Ok(r)) => Ok(r),
        Some(Err(e)) => Err(e.to_string()),
        None => Err("expected oci://REGISTRY/NAME".into()),
    }
}

/// Which subjects, and which claims, a provenance statement is about.
#[derive(Debug, Args)]
pub struct ProvenanceArgs {
    /// Files to attest (their base names and sha256 digests).
    #[arg(value_name = "FILE", conflicts_with_all = ["subject_checksums", "subject_name"])]
    pub files: Vec<PathBuf>,

    /// A sha256sum/sha512sum-format manifest listing the subjects.
    #[arg(long, value_name = "MANIFEST", conflicts_with = "subject_name")]
    pub subject_checksums: Option<PathBuf>,

    /// One subject by name (with --subject-digest).
    #[arg(long, value_name = "NAME", requires = "subject_digest")]
    pub subject_name: Option<String>,

    /// The digest of --subject-name, sha256:HEX or sha512:HEX.
    #[arg(long, value_name = "DIGEST", requires = "subject_name")]
    pub subject_digest: Option<String>,

    /// A JSON file of GitHub Actions OIDC token claims (default: the token
    /// of the running GitHub Actions job).
    #[arg(long, value_name = "FILE")]
    pub claims: Option<PathBuf>,
}

/// The Sigstore instance to sign with.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Instance {
    /// Sigstore public good (Fulcio, Rekor, TSA).
    PublicGood,
    /// GitHub's instance (Fulcio and TSA; for private repositories).
    Github,
}

/// How to sign and where to store.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// Where to write the bundle.
    #[arg(short = 'o', long, value_name = "BUNDLE")]
    pub output: PathBuf,

    /// An OIDC token (default: the GitHub Actions job's token, requested with
    /// ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN).
    #[arg(
        long,
        env = "ATTEST_IDENTITY_TOKEN",
        value_name = "JWT",
        hide_env_values = true
    )]
    pub identity_token: Option<String>,

    /// The Sigstore instance (ignored with --signing-config).
    #[arg(long, value_enum, default_value = "public-good")]
    pub instance: Instance,

    /// A Sigstore signing config (v0.2 JSON) naming Fulcio, Rekor and TSA endpoints.
    #[arg(long, value_name = "FILE")]
    pub signing_config: Option<PathBuf>,

    /// The trusted root the bundle is verified against before it is written
    /// (required with --signing-config; default: the instance's).
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,

    /// Sign with a local ECDSA P-256 key (PEM) instead of keyless signing;
    /// the signature is timestamped by the instance's (or signing config's) TSA.
    #[arg(long, value_name = "KEY.pem", conflicts_with = "identity_token")]
    pub key: Option<PathBuf>,

    /// With --key: no timestamp and no log entry, so no network at all (as
    /// cosign's --tlog-upload=false). The bundle proves only that the key's
    /// holder signed the statement, at an unknown time; `attest verify --key`
    /// says so.
    #[arg(long, conflicts_with_all = ["signing_config", "trusted_root"])]
    pub no_timestamp: bool,

    /// Upload the bundle: `github` posts it to the repository's attestations.
    #[arg(long, value_name = "TARGET", value_parser = ["github"])]
    pub upload: Option<String>,

    /// The repository to upload to (default: the claims' repository).
    #[arg(long, value_name = "OWNER/REPO")]
    pub repo: Option<String>,

    /// Attach the bundle to this image (oci://REGISTRY/NAME) as an OCI
    /// referrer of each sha256 subject digest.
    #[arg(long, value_name = "oci://IMAGE", value_parser = parse_push_target)]
    pub push_to_registry: Option<Reference>,
}

/// `attest provenance`.
#[derive(Debug, Args)]
pub struct ProvenanceCmd {
    #[command(flatten)]
    pub provenance: ProvenanceArgs,
    #[command(flatten)]
    pub server: ServerArgs,
    /// Write the statement here (default: stdout).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `attest sign`.
#[derive(Debug, Args)]
pub struct SignCmd {
    /// The in-toto statement (JSON) to sign.
    #[arg(value_name = "STATEMENT")]
    pub statement: PathBuf,
    #[command(flatten)]
    pub sign: SignArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `attest attest`.
#[derive(Debug, Args)]
pub struct AttestCmd {
    #[command(flatten)]
    pub provenance: ProvenanceArgs,
    #[command(flatten)]
    pub sign: SignArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

fn fail(code: i32, msg: impl std::fmt::Display) -> i32 {
    eprintln!("Error: {msg}");
    code
}

/// Read a whole input file of at most `limit` bytes (a regular file, UTF-8),
/// as `verify` reads its inputs; the error names the file and the limit.
fn read_input(path: &Path, limit: u64, what: &str) -> Result<String, i32> {
    read_text_file(path, limit, what)
        .map_err(|e| fail(exit::UNREADABLE, format!("{}: {e}", path.display())))
}

fn create_output(path: &Path) -> Result<PendingOutput, i32> {
    PendingOutput::create(path).map_err(|e| fail(exit::OUTPUT, e))
}

/// Request the Actions job's OIDC token for `audience`.
fn actions_token(audience: &str) -> Result<String, String> {
    let url = std::env::var("ACTIONS_ID_TOKEN_REQUEST_URL").map_err(|_| {
        "no OIDC token: pass --identity-token, or run in GitHub Actions with `permissions: id-token: write`".to_string()
    })?;
    let bearer = std::env::var("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
        .map_err(|_| "ACTIONS_ID_TOKEN_REQUEST_TOKEN is not set".to_string())?;
    let sep = if url.contains('?') { '&' } else { '?' };
    let full = format!("{url}{sep}audience={audience}");
    let auth = format!("bearer {bearer}");
    let fetched = attest::source::http::block_on(async {
        let client = attest::source::http::client()?;
        attest::source::http::get(&client, &full, Some(&auth), &[], 1024 * 1024).await
    })
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("requesting the Actions OIDC token: {e}"))?;
    let v: serde_json::Value = serde_json::from_slice(&fetched.body)
        .map_err(|e| format!("the Actions token endpoint answered non-JSON: {e}"))?;
    v["value"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| "the Actions token endpoint's answer has no \"value\"".to_string())
}

fn load_claims(args: &ProvenanceArgs, token: Option<&str>) -> Result<ActionsClaims, i32> {
    match (&args.claims, token) {
        (Some(path), _) => {
            let text = read_input(path, MAX_CLAIMS_BYTES, "a JSON object of OIDC claims")?;
            ActionsClaims::from_json(&text, &path.display().to_string())
                .map_err(|e| fail(exit::UNREADABLE, e))
        }
        (None, Some(jwt)) => {
            ActionsClaims::from_jwt(jwt, "the OIDC token").map_err(|e| fail(exit::UNREADABLE, e))
        }
        (None, None) => {
            // actions/attest reads the claims from a token with audience "nobody".
            let jwt = actions_token("nobody").map_err(|e| fail(exit::UNREADABLE, e))?;
            ActionsClaims::from_jwt(&jwt, "the Actions OIDC token")
                .map_err(|e| fail(exit::UNREADABLE, e))
        }
    }
}

fn load_subjects(args: &ProvenanceArgs) -> Result<Vec<SubjectSpec>, i32> {
    if let Some(path) = &args.subject_checksums {
        let text = read_input(
            path,
            MAX_CHECKSUMS_BYTES,
            "a sha256sum or sha512sum manifest",
        )?;
        return subjects_from_manifest(text.as_bytes(), &path.display().to_string())
            .map_err(|e| fail(exit::UNREADABLE, e));
    }
    if let (Some(name), Some(digest)) = (&args.subject_name, &args.subject_digest) {
        let digest = ArtifactDigest::parse(digest).map_err(|e| fail(exit::USAGE, e))?;
        return Ok(vec![SubjectSpec {
            name: name.clone(),
            digest,
        }]);
    }
    if args.files.is_empty() {
        return Err(fail(exit::USAGE, "name the subjects: FILE..., --subject-checksums, or --subject-name with --subject-digest"));
    }
    subjects_from_files(&args.files).map_err(|e| fail(exit::UNREADABLE, e))
}

fn build_statement(
    args: &ProvenanceArgs,
    server: &ServerUrl,
    token: Option<&str>,
) -> Result<(Vec<u8>, Option<ActionsClaims>), i32> {
    let subjects = load_subjects(args)?;
    let claims = load_claims(args, token)?;
    let predicate = provenance_predicate(&claims, &server.url);
    Ok((
        statement_bytes(&subjects, attest::bundle::SLSA_PROVENANCE_V1, &predicate),
        Some(claims),
    ))
}

/// Run `attest provenance`.
pub fn run_provenance(cmd: ProvenanceCmd) -> i32 {
    let (statement, _) = match build_statement(&cmd.provenance, &cmd.server.server_url, None) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match &cmd.output {
        Some(path) => {
            let output = match create_output(path) {
                Ok(o) => o,
                Err(code) => return code,
            };
            match output.commit(&statement) {
                Ok(()) => exit::OK,
                Err(e) => fail(exit::OUTPUT, e),
            }
        }
        None => {
            let mut text = statement.to_vec();
            text.push(b'\n');
            crate::output::out::write_all(&text);
            exit::OK
        }
    }
}

/// Run `attest sign`.
pub fn run_sign(cmd: SignCmd) -> i32 {
    if let Err(code) = check_sign_flags(&cmd.sign) {
        return code;
    }
    let statement = match read_input(
        &cmd.statement,
        MAX_STATEMENT_BYTES,
        "an in-toto statement (JSON)",
    ) {
        Ok(s) => s.into_bytes(),
        Err(code) => return code,
    };
    let source = cmd.statement.display().to_string();
    sign_and_store(&statement, &source, None, &cmd.sign, &cmd.server.server_url)
}

/// Run `attest attest`.
pub fn run_attest(cmd: AttestCmd) -> i32 {
    if let Err(code) = check_sign_flags(&cmd.sign) {
        return code;
    }
    // One token serves both: its claims build the predicate, Fulcio checks it.
    let token = if cmd.sign.key.is_some() || cmd.provenance.claims.is_some() {
        cmd.sign.identity_token.clone()
    } else {
        match &cmd.sign.identity_token {
            Some(t) => Some(t.clone()),
            None => match actions_token("sigstore") {
                Ok(t) => Some(t),
                Err(e) => return fail(exit::UNREADABLE, e),
            },
        }
    };
    let server = &cmd.server.server_url;
    let (statement, claims) = match build_statement(&cmd.provenance, server, token.as_deref()) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut sign = cmd.sign;
    if sign.identity_token.is_none() {
        sign.identity_token = token;
    }
    let claims = claims.map(|c| (c, claims_source(&cmd.provenance)));
    sign_and_store(&statement, "the statement", claims.as_ref(), &sign, server)
}

/// Where `attest attest`'s claims came from, for messages.
fn claims_source(args: &ProvenanceArgs) -> String {
    match &args.claims {
        Some(path) => path.display().to_string(),
        None => "the OIDC token".to_string(),
    }
}

/// Everything `sign_and_store` settles before anything is signed: a flag,
/// claim or statement that would make the run fail afterwards must fail it
/// before Fulcio, Rekor or the TSA is asked for anything.
struct Plan {
    /// The parsed statement.
    statement: attest::bundle::Statement,
    /// Every subject digest attest can verify the new bundle with.
    digests: Vec<ArtifactDigest>,
    /// Where the bundle goes.
    output: PendingOutput,
    /// `--upload github`: the API (with its token) and the repository.
    upload: Option<(GitHubApi, GitHubRepo)>,
    /// `--push-to-registry`: the image and the sha256 subjects to attach to.
    push: Option<(Reference, Vec<ArtifactDigest>)>,
    /// The roots the new bundle is verified under, read before signing so
    /// that a bad `--trusted-root` costs no certificate or timestamp.
    trust: TrustStore,
}

fn plan(
    statement: &[u8],
    source: &str,
    claims: Option<&(ActionsClaims, String)>,
    args: &SignArgs,
    server: &ServerUrl,
) -> Result<Plan, i32> {
    let st = attest::bundle::Statement::from_payload(statement)
        .map_err(|e| fail(exit::UNREADABLE, format!("{source}: {e}")))?;
    let digests =
        supported_digests(&st).map_err(|e| fail(exit::UNREADABLE, format!("{source}: {e}")))?;
    let upload = match args.upload.as_deref() {
        Some("github") => {
            let (value, from) =
                match (&args.repo, claims) {
                    (Some(r), _) => (r.clone(), "--repo".to_string()),
                    (None, Some((c, name))) => (
                        c.get("repository").to_string(),
                        format!("{name}: the repository claim"),
                    ),
                    (None, None) => return Err(fail(
                        exit::USAGE,
                        "--upload github needs --repo OWNER/REPO (or claims naming the repository)",
                    )),
                };
            let repo =
                GitHubRepo::parse(&value).map_err(|e| fail(exit::USAGE, format!("{from}: {e}")))?;
            let api = crate::settings::github_api(Some(&server.host));
            if api.token.is_none() {
                return Err(fail(
                    exit::AUTH,
                    attest::produce::store::StoreError::NoToken,
                ));
            }
            Some((api, repo))
        }
        _ => None,
    };
    let push = match &args.push_to_registry {
        Some(image) => {
            let sha256: Vec<ArtifactDigest> = digests
                .iter()
                .filter(|d| d.algorithm() == DigestAlgorithm::Sha256)
                .cloned()
                .collect();
            if sha256.is_empty() {
                return Err(fail(
                    exit::USAGE,
                    format!("--push-to-registry: {source} has no sha256 subject digest; OCI referrers attach to sha256 image digests"),
                ));
            }
            Some((image.clone(), sha256))
        }
        None => None,
    };
    // Without a timestamp or log entry nothing in the bundle refers to a
    // trusted root (no TSA, no log): the key alone verifies it, so the
    // embedded root serves and no network is needed.
    let trust = if args.no_timestamp {
        TrustStore::embedded(false)
    } else {
        trust_for(args).map_err(|e| fail(exit::UNREADABLE, e))?
    };
    let output = create_output(&args.output)?;
    Ok(Plan {
        statement: st,
        digests,
        output,
        upload,
        push,
        trust,
    })
}

/// The statement's subject digests attest can verify with (sha256, sha512).
/// A subject may carry others (`sha1`, `gitCommit`), but a statement with
/// none attest can check is refused: its bundle could not be verified
/// before it is written. A supported digest that is malformed is an error.
fn supported_digests(st: &attest::bundle::Statement) -> Result<Vec<ArtifactDigest>, String> {
    let mut digests = Vec::new();
    let mut others = std::collections::BTreeSet::new();
    for subject in &st.subjects {
        for (alg, hex) in &subject.digest {
            if alg.parse::<DigestAlgorithm>().is_err() {
                others.insert(alg.as_str());
                continue;
            }
            let digest = ArtifactDigest::parse(&format!("{alg}:{hex}")).map_err(|e| {
                format!(
                    "subject {:?}: digest {alg}: {e}",
                    attest::text::remote_text(&subject.name)
                )
            })?;
            if !digests.contains(&digest) {
                digests.push(digest);
            }
        }
    }
    if digests.is_empty() {
        let found: Vec<String> = others
            .iter()
            .map(|a| attest::text::remote_text(a))
            .collect();
        return Err(format!(
            "no subject has a sha256 or sha512 digest (found: {}); attest verifies every bundle before writing it and can check only those",
            if found.is_empty() { "none".to_string() } else { found.join(", ") }
        ));
    }
    Ok(digests)
}

/// Refuse sign flags that cannot apply, before any input is read or any
/// service is asked for anything.
fn check_sign_flags(args: &SignArgs) -> Result<(), i32> {
    if args.no_timestamp && args.key.is_none() {
        return Err(fail(
            exit::USAGE,
            "--no-timestamp applies only with --key: a keyless certificate is valid for minutes, \
             so its signature needs a log entry or a timestamp to be verifiable",
        ));
    }
    Ok(())
}

fn sign_and_store(
    statement: &[u8],
    source: &str,
    claims: Option<&(ActionsClaims, String)>,
    args: &SignArgs,
    server: &ServerUrl,
) -> i32 {
    let plan = match plan(statement, source, claims, args, server) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let bundle = match &args.key {
        Some(key_path) => {
            let pem = match read_input(key_path, MAX_KEY_BYTES, "a PEM private key") {
                Ok(p) => p,
                Err(code) => return code,
            };
            let key = match read_private_key(&pem) {
                Ok(k) => k,
                Err(e) => return fail(exit::UNREADABLE, format!("{}: {e}", key_path.display())),
            };
            let tsa = if args.no_timestamp {
                None
            } else {
                let endpoints = match endpoints_for(args, server) {
                    Ok(e) => e,
                    Err(code) => return code,
                };
                match endpoints.tsa {
                    Some(tsa) => Some(tsa),
                    None => return fail(
                        exit::USAGE,
                        "a key-signed bundle needs a timestamp: the signing config has no TSA (or pass --no-timestamp)",
                    ),
                }
            };
            detail!(
                "signing with the key {}, {}",
                key_path.display(),
                tsa.as_deref()
                    .map_or("no timestamp".to_string(), |t| format!("TSA {t}"))
            );
            let bundle = match sign_with_key(statement, &key, tsa.as_deref()) {
                Ok(b) => b,
                Err(e) => return fail(exit::SERVICE, e),
            };
            let public = match key.public_key_der() {
                Ok(p) => p,
                Err(e) => return fail(exit::INTERNAL, e),
            };
            if let Err(e) = check_key_bundle(&bundle, &plan.digests, &public, &plan.trust) {
                return fail(
                    exit::VERIFICATION,
                    format!("the new bundle does not verify, nothing written: {e}"),
                );
            }
            bundle
        }
        None => {
            let endpoints = match endpoints_for(args, server) {
                Ok(e) => e,
                Err(code) => return code,
            };
            if args.signing_config.is_some() && args.trusted_root.is_none() {
                return fail(exit::USAGE, "--signing-config needs --trusted-root: the bundle is verified before it is written");
            }
            let jwt = match &args.identity_token {
                Some(t) => t.clone(),
                None => match actions_token("sigstore") {
                    Ok(t) => t,
                    Err(e) => return fail(exit::UNREADABLE, e),
                },
            };
            detail!(
                "signing with Fulcio {}, {}, {}",
                endpoints.fulcio,
                endpoints
                    .rekor
                    .as_ref()
                    .map_or("no transparency log".to_string(), |(url, v)| format!(
                        "Rekor v{v} {url}"
                    )),
                endpoints
                    .tsa
                    .as_deref()
                    .map_or("no timestamp authority".to_string(), |t| format!("TSA {t}"))
            );
            let bundle = match sign_keyless(statement, &jwt, &endpoints) {
                Ok(b) => b,
                Err(e @ attest::produce::sign::SignError::Token(_)) => {
                    return fail(exit::UNREADABLE, e)
                }
                Err(e) => return fail(exit::SERVICE, e),
            };
            let claims = match claims {
                Some((c, _)) => Some(c.clone()),
                None => ActionsClaims::from_jwt(&jwt, "the OIDC token").ok(),
            };
            if let Err(e) = check_keyless_bundle(&bundle, &plan, claims.as_ref(), server) {
                return fail(
                    exit::VERIFICATION,
                    format!("the new bundle does not verify, nothing written: {e}"),
                );
            }
            bundle
        }
    };
    if let Err(e) = plan.output.commit(&bundle) {
        return fail(exit::OUTPUT, e);
    }
    info!("Wrote a verified bundle to {}", args.output.display());
    if let Some((api, repo)) = &plan.upload {
        match attest::produce::store::upload_to_github(api, repo, &bundle) {
            Ok(id) => info!("Uploaded to {repo}: attestation {id}"),
            Err(e) => return fail(exit::SERVICE, e),
        }
    }
    if let Some((reference, digests)) = &plan.push {
        let auth = match crate::settings::registry_credentials() {
            Ok(c) => c.auth_for(reference.resolve_registry()),
            Err(e) => return fail(exit::USAGE, e),
        };
        let image = format!("oci://{}", reference.whole());
        for digest in digests {
            match push_bundle_referrer(reference, digest, &bundle, &auth) {
                Ok(d) => info!("Pushed to {image} as a referrer of {digest} ({d})"),
                Err(e) => return fail(exit::SERVICE, e),
            }
        }
    }
    exit::OK
}

fn endpoints_for(args: &SignArgs, server: &ServerUrl) -> Result<Endpoints, i32> {
    let endpoints = match &args.signing_config {
        Some(path) => {
            let text = read_input(
                path,
                MAX_SIGNING_CONFIG_BYTES,
                "a Sigstore signing config (JSON)",
            )?;
            Endpoints::from_signing_config(&text)
                .map_err(|e| fail(exit::UNREADABLE, format!("{}: {e}", path.display())))?
        }
        None => match args.instance {
            Instance::PublicGood => {
                Endpoints::public_good().map_err(|e| fail(exit::INTERNAL, e))?
            }
            Instance::Github => Endpoints::github(&server.url),
        },
    };
    Ok(endpoints)
}

fn trust_for(args: &SignArgs) -> Result<TrustStore, String> {
    match &args.trusted_root {
        Some(path) => TrustStore::from_file(path, false).map_err(|e| e.to_string()),
        None => Ok(TrustStore::tuf(
            false,
            attest::trust::tuf::FetchOptions::online(crate::settings::cache_root(None)),
        )),
    }
}

fn load_new_bundle(bundle: &[u8]) -> Result<attest::bundle::LoadedBundle, String> {
    bundles_from_bytes(bundle, "new bundle")
        .map_err(|e| e.to_string())?
        .into_iter()
        .next()
        .ok_or("no bundle")?
        .map_err(|e| e.to_string())
}

/// Verify a key-signed bundle with the public key, once per subject digest.
fn check_key_bundle(
    bundle: &[u8],
    digests: &[ArtifactDigest],
    key: &attest::verify::DerPublicKey,
    trust: &TrustStore,
) -> Result<(), String> {
    let loaded = load_new_bundle(bundle)?;
    let instance = trust
        .instances()
        .first()
        .ok_or("the trusted root is empty")?;
    if digests.is_empty() {
        return Err("no subject digest to verify with".into());
    }
    for digest in digests {
        verify_bundle_with_key(&loaded, ArtifactInput::Digest(digest), instance, key)
            .map_err(|e| format!("subject {digest}: {e}"))?;
    }
    Ok(())
}

/// Verify a keyless bundle under the instance's root, with a policy from the
/// claims, once per subject digest attest supports; never "nothing to check".
fn check_keyless_bundle(
    bundle: &[u8],
    plan: &Plan,
    claims: Option<&ActionsClaims>,
    server: &ServerUrl,
) -> Result<(), String> {
    let trust = &plan.trust;
    let loaded = load_new_bundle(bundle)?;
    let st = &plan.statement;
    let policy = match claims {
        Some(c) => Policy::from_flags(&PolicyFlags {
            repo: Some(c.get("repository").to_string()),
            cert_identity: Some(format!("{}/{}", server.url, c.get("job_workflow_ref"))),
            cert_oidc_issuer: Some(c.get("iss").to_string()),
            source_ref: Some(c.get("ref").to_string()),
            source_digest: Some(c.get("sha").to_string()),
            predicate_type: Some(st.predicate_type.clone()),
            hostname: Some(server.host.clone()),
            ..Default::default()
        })
        .map_err(|e| e.to_string())?,
        None => Policy::identity_only(None, None),
    };
    if plan.digests.is_empty() {
        return Err("no subject digest to verify with".into());
    }
    for digest in &plan.digests {
        match evaluate_one(&loaded, ArtifactInput::Digest(digest), trust, &policy) {
            Outcome::Matched { attestation, .. } => {
                if claims.is_some() && st.predicate_type == attest::bundle::SLSA_PROVENANCE_V1 {
                    let Some(cert) = &attestation.certificate else {
                        return Err("a keyless bundle without a certificate".into());
                    };
                    let failed: Vec<String> = provenance_checks(&st.value["predicate"], cert)
                        .into_iter()
                        .filter(|c| !c.passed)
                        .map(|c| c.message)
                        .collect();
                    if !failed.is_empty() {
                        return Err(failed.join("; "));
                    }
                }
            }
            other => return Err(format!("subject {digest}: {}", other.reason())),
        }
    }
    Ok(())
}
