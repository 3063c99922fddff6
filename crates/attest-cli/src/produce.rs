//! `attest provenance`, `attest sign` and `attest attest`: the release side.
//!
//! Every bundle is verified with attest's own verifier before it is written:
//! the Sigstore checks under the instance's trusted root, the identity the
//! claims name (repository, workflow, ref, commit, issuer), every subject,
//! and the provenance predicate against the certificate. Nothing is written,
//! uploaded or pushed unless that passes.

use std::path::PathBuf;

use attest::artifact::ArtifactDigest;
use attest::outcome::{evaluate_one, exit, Outcome};
use attest::policy::{provenance_checks, Policy, PolicyFlags};
use attest::produce::provenance::{
    provenance_predicate, statement_bytes, subjects_from_files, subjects_from_manifest,
    ActionsClaims, SubjectSpec,
};
use attest::produce::sign::{read_private_key, sign_keyless, sign_with_key, Endpoints};
use attest::source::bundles_from_bytes;
use attest::source::github::GitHubApi;
use attest::source::oci::{parse_oci_ref, push_bundle_referrer, registry_auth};
use attest::trust::TrustStore;
use attest::verify::{verify_bundle_with_key, ArtifactInput};
use clap::{Args, ValueEnum};

/// A signing service failed (Fulcio, Rekor, TSA, upload, push).
pub const EXIT_SERVICE: i32 = 8;

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

    /// The GitHub server (default: $GITHUB_SERVER_URL, else https://github.com).
    #[arg(
        long,
        env = "GITHUB_SERVER_URL",
        value_name = "URL",
        default_value = "https://github.com"
    )]
    pub server_url: String,
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

    /// Upload the bundle: `github` posts it to the repository's attestations.
    #[arg(long, value_name = "TARGET", value_parser = ["github"])]
    pub upload: Option<String>,

    /// The repository to upload to (default: the claims' repository).
    #[arg(long, value_name = "OWNER/REPO")]
    pub repo: Option<String>,

    /// Attach the bundle to this image (oci://REGISTRY/NAME) as an OCI
    /// referrer of each subject digest.
    #[arg(long, value_name = "oci://IMAGE")]
    pub push_to_registry: Option<String>,
}

/// `attest provenance`.
#[derive(Debug, Args)]
pub struct ProvenanceCmd {
    #[command(flatten)]
    pub provenance: ProvenanceArgs,
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
}

/// `attest attest`.
#[derive(Debug, Args)]
pub struct AttestCmd {
    #[command(flatten)]
    pub provenance: ProvenanceArgs,
    #[command(flatten)]
    pub sign: SignArgs,
}

fn fail(code: i32, msg: impl std::fmt::Display) -> i32 {
    eprintln!("Error: {msg}");
    code
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
            let text = std::fs::read_to_string(path)
                .map_err(|e| fail(exit::UNREADABLE, format!("{}: {e}", path.display())))?;
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
        let bytes = std::fs::read(path)
            .map_err(|e| fail(exit::UNREADABLE, format!("{}: {e}", path.display())))?;
        return subjects_from_manifest(&bytes, &path.display().to_string())
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
    token: Option<&str>,
) -> Result<(Vec<u8>, Option<ActionsClaims>), i32> {
    let subjects = load_subjects(args)?;
    let claims = load_claims(args, token)?;
    let predicate = provenance_predicate(&claims, &args.server_url);
    Ok((
        statement_bytes(&subjects, attest::bundle::SLSA_PROVENANCE_V1, &predicate),
        Some(claims),
    ))
}

/// Run `attest provenance`.
pub fn run_provenance(cmd: ProvenanceCmd) -> i32 {
    let (statement, _) = match build_statement(&cmd.provenance, None) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match &cmd.output {
        Some(path) => match std::fs::write(path, &statement) {
            Ok(()) => exit::OK,
            Err(e) => fail(exit::UNREADABLE, format!("{}: {e}", path.display())),
        },
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&statement);
            let _ = out.write_all(b"\n");
            exit::OK
        }
    }
}

/// Run `attest sign`.
pub fn run_sign(cmd: SignCmd) -> i32 {
    let statement = match std::fs::read(&cmd.statement) {
        Ok(s) => s,
        Err(e) => {
            return fail(
                exit::UNREADABLE,
                format!("{}: {e}", cmd.statement.display()),
            )
        }
    };
    if let Err(e) = attest::bundle::Statement::from_payload(&statement) {
        return fail(
            exit::UNREADABLE,
            format!("{}: {e}", cmd.statement.display()),
        );
    }
    sign_and_store(&statement, None, &cmd.sign)
}

/// Run `attest attest`.
pub fn run_attest(cmd: AttestCmd) -> i32 {
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
    let (statement, claims) = match build_statement(&cmd.provenance, token.as_deref()) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut sign = cmd.sign;
    if sign.identity_token.is_none() {
        sign.identity_token = token;
    }
    sign_and_store(&statement, claims.as_ref(), &sign)
}

fn sign_and_store(statement: &[u8], claims: Option<&ActionsClaims>, args: &SignArgs) -> i32 {
    let bundle = match &args.key {
        Some(key_path) => {
            let pem = match std::fs::read_to_string(key_path) {
                Ok(p) => p,
                Err(e) => return fail(exit::UNREADABLE, format!("{}: {e}", key_path.display())),
            };
            let key = match read_private_key(&pem) {
                Ok(k) => k,
                Err(e) => return fail(exit::UNREADABLE, format!("{}: {e}", key_path.display())),
            };
            let endpoints = match endpoints_for(args) {
                Ok(e) => e,
                Err(code) => return code,
            };
            let Some(tsa) = endpoints.tsa.clone() else {
                return fail(
                    exit::USAGE,
                    "a key-signed bundle needs a timestamp: the signing config has no TSA",
                );
            };
            let bundle = match sign_with_key(statement, &key, &tsa) {
                Ok(b) => b,
                Err(e) => return fail(EXIT_SERVICE, e),
            };
            let public = match key.public_key_der() {
                Ok(p) => p,
                Err(e) => return fail(exit::INTERNAL, e),
            };
            if let Err(e) = check_key_bundle(&bundle, statement, &public, args) {
                return fail(
                    exit::VERIFICATION,
                    format!("the new bundle does not verify, nothing written: {e}"),
                );
            }
            bundle
        }
        None => {
            let jwt = match &args.identity_token {
                Some(t) => t.clone(),
                None => match actions_token("sigstore") {
                    Ok(t) => t,
                    Err(e) => return fail(exit::UNREADABLE, e),
                },
            };
            let endpoints = match endpoints_for(args) {
                Ok(e) => e,
                Err(code) => return code,
            };
            if args.signing_config.is_some() && args.trusted_root.is_none() {
                return fail(exit::USAGE, "--signing-config needs --trusted-root: the bundle is verified before it is written");
            }
            let bundle = match sign_keyless(statement, &jwt, &endpoints) {
                Ok(b) => b,
                Err(e @ attest::produce::sign::SignError::Token(_)) => {
                    return fail(exit::UNREADABLE, e)
                }
                Err(e) => return fail(EXIT_SERVICE, e),
            };
            let claims = match claims {
                Some(c) => Some(c.clone()),
                None => ActionsClaims::from_jwt(&jwt, "the OIDC token").ok(),
            };
            if let Err(e) = check_keyless_bundle(&bundle, statement, claims.as_ref(), args) {
                return fail(
                    exit::VERIFICATION,
                    format!("the new bundle does not verify, nothing written: {e}"),
                );
            }
            bundle
        }
    };
    if let Err(e) = std::fs::write(&args.output, &bundle) {
        return fail(exit::UNREADABLE, format!("{}: {e}", args.output.display()));
    }
    eprintln!("Wrote a verified bundle to {}", args.output.display());
    if args.upload.as_deref() == Some("github") {
        let Some(repo) = args
            .repo
            .clone()
            .or_else(|| claims.map(|c| c.get("repository").to_string()))
        else {
            return fail(
                exit::USAGE,
                "--upload github needs --repo OWNER/REPO (or claims naming the repository)",
            );
        };
        let api = GitHubApi::from_env(None);
        match attest::produce::store::upload_to_github(&api, &repo, &bundle) {
            Ok(id) => eprintln!("Uploaded to {repo}: attestation {id}"),
            Err(e) => return fail(EXIT_SERVICE, e),
        }
    }
    if let Some(image) = &args.push_to_registry {
        let reference = match parse_oci_ref(image) {
            Some(Ok(r)) => r,
            Some(Err(e)) => return fail(exit::USAGE, e),
            None => {
                return fail(
                    exit::USAGE,
                    format!("--push-to-registry {image}: expected oci://REGISTRY/NAME"),
                )
            }
        };
        let Ok(st) = attest::bundle::Statement::from_payload(statement) else {
            return fail(exit::INTERNAL, "the statement no longer parses");
        };
        let auth = registry_auth(reference.resolve_registry());
        for subject in &st.subjects {
            let Some(hex) = subject.digest.get("sha256") else {
                continue;
            };
            let Ok(digest) = ArtifactDigest::parse(&format!("sha256:{hex}")) else {
                continue;
            };
            match push_bundle_referrer(&reference, &digest, &bundle, &auth) {
                Ok(d) => eprintln!("Pushed to {image} as a referrer of {digest} ({d})"),
                Err(e) => return fail(EXIT_SERVICE, e),
            }
        }
    }
    exit::OK
}

fn endpoints_for(args: &SignArgs) -> Result<Endpoints, i32> {
    let endpoints = match &args.signing_config {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => Endpoints::from_signing_config(&text),
            Err(e) => return Err(fail(exit::UNREADABLE, format!("{}: {e}", path.display()))),
        },
        None => match args.instance {
            Instance::PublicGood => Endpoints::public_good(),
            Instance::Github => Ok(Endpoints::github(
                &std::env::var("GITHUB_SERVER_URL").unwrap_or_else(|_| "https://github.com".into()),
            )),
        },
    };
    endpoints.map_err(|e| fail(exit::UNREADABLE, e))
}

fn trust_for(args: &SignArgs) -> Result<TrustStore, String> {
    match &args.trusted_root {
        Some(path) => TrustStore::from_file(path, false).map_err(|e| e.to_string()),
        None => Ok(TrustStore::tuf(
            false,
            attest::trust::tuf::FetchOptions::online(),
        )),
    }
}

fn first_subject_digest(statement: &[u8]) -> Result<ArtifactDigest, String> {
    let st = attest::bundle::Statement::from_payload(statement).map_err(|e| e.to_string())?;
    st.subjects
        .iter()
        .find_map(|s| {
            s.digest
                .iter()
                .find_map(|(alg, hex)| ArtifactDigest::parse(&format!("{alg}:{hex}")).ok())
        })
        .ok_or_else(|| "the statement has no sha256 or sha512 subject".to_string())
}

fn check_key_bundle(
    bundle: &[u8],
    statement: &[u8],
    key: &attest::verify::DerPublicKey,
    args: &SignArgs,
) -> Result<(), String> {
    let parsed = bundles_from_bytes(bundle, "new bundle").map_err(|e| e.to_string())?;
    let loaded = parsed
        .into_iter()
        .next()
        .ok_or("no bundle")?
        .map_err(|e| e.to_string())?;
    let digest = first_subject_digest(statement)?;
    let store = trust_for(args)?;
    let instance = store
        .instances()
        .first()
        .ok_or("the trusted root is empty")?;
    verify_bundle_with_key(&loaded, ArtifactInput::Digest(&digest), instance, key)
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn check_keyless_bundle(
    bundle: &[u8],
    statement: &[u8],
    claims: Option<&ActionsClaims>,
    args: &SignArgs,
) -> Result<(), String> {
    let trust = trust_for(args)?;
    let parsed = bundles_from_bytes(bundle, "new bundle").map_err(|e| e.to_string())?;
    let loaded = parsed
        .into_iter()
        .next()
        .ok_or("no bundle")?
        .map_err(|e| e.to_string())?;
    let st = attest::bundle::Statement::from_payload(statement).map_err(|e| e.to_string())?;
    let policy = match claims {
        Some(c) => {
            let server =
                std::env::var("GITHUB_SERVER_URL").unwrap_or_else(|_| "https://github.com".into());
            let host = server
                .trim_end_matches('/')
                .trim_start_matches("https://")
                .to_string();
            Policy::from_flags(&PolicyFlags {
                repo: Some(c.get("repository").to_string()),
                cert_identity: Some(format!(
                    "{}/{}",
                    server.trim_end_matches('/'),
                    c.get("job_workflow_ref")
                )),
                cert_oidc_issuer: Some(c.get("iss").to_string()),
                source_ref: Some(c.get("ref").to_string()),
                source_digest: Some(c.get("sha").to_string()),
                predicate_type: Some(st.predicate_type.clone()),
                hostname: Some(host),
                ..Default::default()
            })
            .map_err(|e| e.to_string())?
        }
        None => Policy::identity_only(None, None),
    };
    // Every subject must verify, not just one.
    for subject in &st.subjects {
        for (alg, hex) in &subject.digest {
            let Ok(digest) = ArtifactDigest::parse(&format!("{alg}:{hex}")) else {
                continue;
            };
            match evaluate_one(&loaded, ArtifactInput::Digest(&digest), &trust, &policy) {
                Outcome::Matched { attestation, .. } => {
                    if claims.is_some() && st.predicate_type == attest::bundle::SLSA_PROVENANCE_V1 {
                        if let Some(cert) = &attestation.certificate {
                            let failed: Vec<String> =
                                provenance_checks(&st.value["predicate"], cert)
                                    .into_iter()
                                    .filter(|c| !c.passed)
                                    .map(|c| c.message)
                                    .collect();
                            if !failed.is_empty() {
                                return Err(failed.join("; "));
                            }
                        }
                    }
                }
                other => return Err(format!("subject {}: {}", subject.name, other.reason())),
            }
        }
    }
    Ok(())
}
