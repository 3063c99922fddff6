//! `attest verify-signature oci://IMAGE`: cosign's image signatures (the
//! `sha256-<hex>.sig` tag), verified as Sigstore bundles by the same core,
//! with cosign's identity flags or gh's.

use std::path::PathBuf;

use attest::artifact::ArtifactDigest;
use attest::outcome::{Outcome, Status};
use attest::policy::{Policy, PolicyFlags};
use attest::source::oci::{fetch_cosign_signatures, parse_oci_ref, resolve_digest};
use attest::verifier::Verifier;
use attest::verify::ArtifactInput;
use clap::builder::NonEmptyStringValueParser;
use clap::Args;
use serde_json::{json, Value};

use crate::error::CliError;
use crate::exit;

/// `attest verify-signature`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("san").multiple(false)))]
pub struct SignatureArgs {
    /// The image, oci://IMAGE[:TAG|@DIGEST]; a tag is resolved by the registry.
    #[arg(value_name = "oci://IMAGE")]
    image: String,

    /// Exact certificate identity (SAN), as cosign's --certificate-identity.
    #[arg(long, alias = "certificate-identity", group = "san", value_name = "SAN",
          value_parser = NonEmptyStringValueParser::new())]
    cert_identity: Option<String>,

    /// Regular expression (RE2) the identity must match, as cosign's
    /// --certificate-identity-regexp.
    #[arg(long, alias = "certificate-identity-regexp", group = "san", value_name = "REGEX",
          value_parser = NonEmptyStringValueParser::new())]
    cert_identity_regex: Option<String>,

    /// OIDC issuer the certificate must name (cosign's --certificate-oidc-issuer).
    #[arg(long, alias = "certificate-oidc-issuer", value_name = "URL",
          value_parser = NonEmptyStringValueParser::new())]
    cert_oidc_issuer: Option<String>,

    /// GitHub repository owner (gh's semantics; with --repo, the repository).
    #[arg(short = 'o', long, value_name = "OWNER", conflicts_with = "repo",
          value_parser = NonEmptyStringValueParser::new())]
    owner: Option<String>,

    /// GitHub repository, OWNER/REPO.
    #[arg(short = 'R', long, value_name = "OWNER/REPO", value_parser = NonEmptyStringValueParser::new())]
    repo: Option<String>,

    /// Workflow that signed, [HOST/]OWNER/REPO/PATH[@REF] (with --owner or --repo).
    #[arg(long, value_name = "WORKFLOW", value_parser = NonEmptyStringValueParser::new())]
    signer_workflow: Option<String>,

    /// Verify signatures made with this public key (PEM) instead.
    #[arg(long, value_name = "PUB.pem",
          conflicts_with_all = ["cert_identity", "cert_identity_regex", "cert_oidc_issuer", "owner", "repo", "signer_workflow"])]
    key: Option<PathBuf>,

    /// Read the signatures from this file (`ALG:HEX.sig.jsonl`, as `attest
    /// download` writes it) instead of the registry; with a pinned digest
    /// this works --offline.
    #[arg(short = 'b', long, value_name = "FILE")]
    bundle: Option<PathBuf>,

    /// Signatures read at most.
    #[arg(short = 'L', long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,

    /// Print JSON (one object per signature) on stdout.
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<crate::args::Format>,

    #[command(flatten)]
    trust: crate::args::TrustArgs,
}

/// Run `attest verify-signature`; returns the exit code.
pub fn run(args: SignatureArgs) -> i32 {
    run_checked(args).unwrap_or_else(|e| e.report())
}

fn policy(args: &SignatureArgs) -> Result<Option<Policy>, CliError> {
    if args.key.is_some() {
        return Ok(None);
    }
    // With --owner/--repo, gh's rules; without, cosign's identity flags.
    let mut policy = Policy::from_flags(&PolicyFlags {
        owner: args.owner.clone(),
        repo: args.repo.clone(),
        signer_workflow: args.signer_workflow.clone(),
        cert_identity: args.cert_identity.clone(),
        cert_identity_regex: args.cert_identity_regex.clone(),
        cert_oidc_issuer: args.cert_oidc_issuer.clone(),
        ..PolicyFlags::default()
    })
    .map_err(|e| CliError::usage(e.to_string()))?;
    // A signature has no statement: any predicate type, i.e. none.
    policy.predicate_type = String::new();
    Ok(Some(policy))
}

fn run_checked(args: SignatureArgs) -> Result<i32, CliError> {
    let reference = match parse_oci_ref(&args.image) {
        Some(Ok(r)) => r,
        Some(Err(e)) => return Err(CliError::usage(e.to_string())),
        None => {
            return Err(CliError::usage(format!(
                "{}: expected an image, oci://IMAGE[:TAG|@DIGEST]",
                args.image
            )))
        }
    };
    if args.trust.offline && args.bundle.is_none() {
        return Err(CliError::usage(
            "--offline: cosign signatures are read from the registry, which needs the network",
        )
        .hint("pass --bundle ALG:HEX.sig.jsonl; `attest download oci://IMAGE --source registry` writes it on a connected machine"));
    }
    if args.trust.offline && reference.digest().is_none() {
        return Err(CliError::usage(format!(
            "--offline: {} names a tag, and only the registry can say which digest it points to",
            args.image
        ))
        .hint("pin the digest: oci://IMAGE@sha256:HEX"));
    }
    let policy = policy(&args)?;
    let credentials =
        crate::settings::registry_credentials().map_err(|e| CliError::usage(e.to_string()))?;
    let auth = credentials.auth_for(reference.resolve_registry());
    let trust = crate::plan::trust_store_of(&args.trust, None)?;
    let options = attest::verify::VerifyOptions::default()
        .require_inclusion_proof(args.trust.require_inclusion_proof);
    let verifier = match (policy, &args.key) {
        (Some(p), _) => Verifier::keyless(trust, p),
        (None, Some(path)) => {
            let key = crate::plan::read_key(path)?;
            Verifier::with_key(trust, key, Policy::statement_only(String::new()))
                .map_err(|e| CliError::new(exit::UNREADABLE, e.to_string()))?
        }
        (None, None) => return Err(CliError::usage("no identity and no key")),
    }
    .with_options(options);

    let registry_failed = |e: attest::source::oci::OciError| {
        eprintln!("Error: {e}");
        CliError::printed(crate::fetch::oci_exit(&e))
    };
    let digest: ArtifactDigest = match reference.digest() {
        Some(d) => {
            ArtifactDigest::parse(d).map_err(|e| CliError::usage(format!("{}: {e}", args.image)))?
        }
        None => resolve_digest(&reference, &auth).map_err(registry_failed)?,
    };
    info!(
        "Image {}/{}@{digest}",
        reference.registry(),
        reference.repository()
    );
    // Each signature as (origin, its payload and bundle, or why not).
    let signatures: Vec<Result<Saved, (String, String)>> = match &args.bundle {
        Some(path) => {
            let text = attest::artifact::read_text_file(
                path,
                64 * 1024 * 1024,
                "a cosign signature file (ALG:HEX.sig.jsonl)",
            )
            .map_err(|e| CliError::new(exit::UNREADABLE, format!("{}: {e}", path.display())))?;
            attest::cosign::saved_signatures(&text, &path.display().to_string())
                .into_iter()
                .take(args.limit as usize)
                .map(|r| {
                    r.map(|s| Saved {
                        origin: s.origin.clone(),
                        payload: s.payload.clone(),
                        payload_digest: s.payload_digest(),
                        bundle: Ok(s.bundle),
                    })
                    .map_err(|e| (e.origin, e.detail))
                })
                .collect()
        }
        None => fetch_cosign_signatures(&reference, &digest, &auth, args.limit as usize)
            .map_err(registry_failed)?
            .into_iter()
            .map(|r| {
                r.map(|sig| Saved {
                    origin: sig.origin.clone(),
                    payload_digest: sig.payload_digest(),
                    bundle: sig.to_bundle().map_err(|e| e.detail),
                    payload: sig.payload,
                })
                .map_err(|e| (e.origin, e.detail))
            })
            .collect(),
    };
    crate::output::print_trust_notes(verifier.trust());
    crate::output::detail_trust(verifier.trust());

    let mut results = Vec::new();
    for sig in &signatures {
        results.push(match sig {
            Err((origin, detail)) => (
                origin.clone(),
                Err((Status::Unreadable, detail.clone())),
                None,
            ),
            Ok(sig) => judge(&verifier, sig, &digest),
        });
    }

    let verified = results.iter().filter(|(_, r, _)| r.is_ok()).count();
    if matches!(args.format, Some(crate::args::Format::Junit)) {
        let image = format!(
            "{}/{}@{digest}",
            reference.registry(),
            reference.repository()
        );
        let rows: Vec<crate::summary::Row> = results
            .iter()
            .map(|(origin, r, _)| crate::summary::Row {
                artifact: format!("{image} {origin}"),
                status: r.as_ref().map_or_else(|(s, _)| *s, |_| Status::Verified),
                detail: match r {
                    Ok(signer) => signer["signer"].as_str().unwrap_or_default().to_string(),
                    Err((_, why)) => why.clone(),
                },
            })
            .collect();
        crate::output::out::write_all(
            crate::junit::xml("attest verify-signature", &rows).as_bytes(),
        );
    } else if args.format.is_some() {
        let items: Vec<Value> = results
            .iter()
            .map(|(origin, r, reference)| match r {
                Ok(signer) => json!({"origin": origin, "verified": true, "signer": signer, "dockerReference": reference}),
                Err((_, why)) => json!({"origin": origin, "verified": false, "reason": why}),
            })
            .collect();
        let doc = json!({
            "image": format!("{}/{}", reference.registry(), reference.repository()),
            "digest": digest.to_string(),
            "verified": verified > 0,
            "signatures": items,
        });
        crate::output::out::write_all(format!("{doc}\n").as_bytes());
    } else {
        let mut text = String::new();
        for (origin, r, _) in &results {
            let origin = attest::report::printable_name(origin);
            match r {
                Ok(signer) => text.push_str(&format!(
                    "OK {origin}: signed by {}\n",
                    attest::report::printable_name(signer["signer"].as_str().unwrap_or_default())
                )),
                Err((_, why)) => text.push_str(&format!(
                    "FAILED {origin}: {}\n",
                    attest::report::printable_name(why)
                )),
            }
        }
        crate::output::out::write_all(text.as_bytes());
    }
    info!(
        "{verified} of {} verified",
        attest::report::plural(results.len(), "cosign signature")
    );
    if verified > 0 {
        return Ok(exit::OK);
    }
    if results.is_empty() {
        eprintln!(
            "Error: no cosign signature (no {}-{}.sig tag) for this image",
            digest.algorithm(),
            digest.hex()
        );
        return Ok(exit::NO_ATTESTATION);
    }
    let statuses: Vec<Status> = results
        .iter()
        .filter_map(|(_, r, _)| r.as_ref().err().map(|(s, _)| *s))
        .collect();
    Ok(exit::furthest(&statuses).unwrap_or(exit::VERIFICATION))
}

type Judged = (String, Result<Value, (Status, String)>, Option<String>);

/// A signature from the registry (its annotations made a bundle) or from a
/// saved file (payload and bundle side by side).
struct Saved {
    origin: String,
    payload: Vec<u8>,
    payload_digest: ArtifactDigest,
    /// The bundle, or why cosign's annotations make none.
    bundle: Result<attest::bundle::LoadedBundle, String>,
}

/// One signature: its payload must sign this image, then its bundle must
/// verify over the payload and meet the identity.
fn judge(verifier: &Verifier, sig: &Saved, image: &ArtifactDigest) -> Judged {
    let origin = sig.origin.clone();
    let payload =
        match attest::cosign::CosignSignature::check_payload_bytes(&origin, &sig.payload, image) {
            Ok(p) => p,
            // A signature of another image is a signature that failed.
            Err(e) => return (origin, Err((Status::Verification, e.detail)), None),
        };
    let bundle = match &sig.bundle {
        Ok(b) => b,
        Err(e) => return (origin, Err((Status::Unreadable, e.clone())), None),
    };
    let outcome = verifier.evaluate(bundle, ArtifactInput::Digest(&sig.payload_digest));
    let reference = Some(payload.docker_reference);
    match &outcome {
        Outcome::Matched { attestation, .. } => {
            let signer = match (&attestation.certificate, &attestation.key_fingerprint) {
                (Some(c), _) => format!(
                    "{} ({})",
                    c.subject_alternative_name.as_deref().unwrap_or("?"),
                    c.issuer.as_deref().unwrap_or("?")
                ),
                (None, Some(fp)) => format!("key {fp}"),
                (None, None) => "?".into(),
            };
            let times: Vec<String> = attestation
                .timestamps
                .iter()
                .map(|t| t.time.to_string())
                .collect();
            (
                origin,
                Ok(json!({
                    "signer": signer,
                    "certificate": attestation.certificate,
                    "timestamps": times,
                    "inclusion": attestation.inclusion.as_str(),
                })),
                reference,
            )
        }
        other => (origin, Err((other.status(), other.reason())), reference),
    }
}
