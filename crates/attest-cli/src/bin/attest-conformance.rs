//! `attest-conformance`: the sigstore-conformance client protocol over the
//! same verification path as `attest verify`.
//!
//! ```text
//! attest-conformance verify-bundle [--staging] --bundle FILE
//!     (--certificate-identity SAN --certificate-oidc-issuer URL | --key KEY.pem)
//!     [--trusted-root FILE] FILE_OR_DIGEST
//! ```
//!
//! Exit 0 when the bundle verifies, non-zero otherwise (the reason on stderr).

#![forbid(unsafe_code)]

use std::path::PathBuf;

use attest::artifact::{ArtifactDigest, ArtifactRef, DigestAlgorithm};
use attest::outcome::Outcome;
use attest::policy::Policy;
use attest::source::read_bundle_file;
use attest::trust::TrustStore;
use attest::verifier::Verifier;
use attest::verify::ArtifactInput;
use clap::{Parser, Subcommand};

// The same codes as `attest`, from the one file that defines them; this
// binary uses only some of them.
#[allow(dead_code)]
#[path = "../exit.rs"]
mod exit;

#[derive(Debug, Parser)]
#[command(
    name = "attest-conformance",
    version,
    about = "sigstore-conformance client for attest"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify a bundle against an artifact or a sha256 digest.
    VerifyBundle(VerifyBundle),
}

#[derive(Debug, clap::Args)]
struct VerifyBundle {
    /// Use the staging instance's trusted root.
    #[arg(long)]
    staging: bool,
    /// The bundle.
    #[arg(long)]
    bundle: PathBuf,
    /// Expected certificate identity (exact SAN).
    #[arg(long, required_unless_present = "key")]
    certificate_identity: Option<String>,
    /// Expected OIDC issuer.
    #[arg(long, required_unless_present = "key")]
    certificate_oidc_issuer: Option<String>,
    /// A PEM public key, for managed-key bundles.
    #[arg(long, conflicts_with_all = ["certificate_identity", "certificate_oidc_issuer"])]
    key: Option<PathBuf>,
    /// A trusted root JSON file (else the embedded production or staging root).
    #[arg(long)]
    trusted_root: Option<PathBuf>,
    /// The artifact path, or sha256:HEX.
    file_or_digest: String,
}

fn fail(code: i32, msg: impl std::fmt::Display) -> i32 {
    eprintln!("attest-conformance: {msg}");
    code
}

fn run(args: VerifyBundle) -> i32 {
    let trust = match (&args.trusted_root, args.staging) {
        (Some(path), _) => TrustStore::from_file(path, false),
        (None, true) => Ok(TrustStore::embedded_staging()),
        (None, false) => Ok(TrustStore::embedded(false)),
    };
    let trust = match trust {
        Ok(t) => t,
        Err(e) => return fail(exit::UNREADABLE, e),
    };
    let bundles = match read_bundle_file(&args.bundle) {
        Ok(b) => b,
        Err(e) => return fail(exit::UNREADABLE, e),
    };
    let bundle = match bundles.as_slice() {
        [Ok(b)] => b,
        [Err(e)] => return fail(exit::UNREADABLE, e),
        other => {
            return fail(
                exit::UNREADABLE,
                format!("expected one bundle, found {}", other.len()),
            )
        }
    };
    // A file is verified from its bytes (some signature schemes cannot be
    // checked from a digest); a digest is verified as given.
    let artifact = match ArtifactRef::from_arg(&args.file_or_digest) {
        Ok(a) => a,
        Err(e) => return fail(exit::USAGE, e),
    };
    let bytes;
    let digest: ArtifactDigest;
    let input = match &artifact {
        ArtifactRef::File(path) => {
            bytes = match attest::artifact::open_regular_file(path).and_then(|f| {
                read_all(f).map_err(|source| attest::artifact::ArtifactError::Io {
                    path: path.clone(),
                    source,
                })
            }) {
                Ok(b) => b,
                Err(e) => return fail(exit::UNREADABLE, e),
            };
            ArtifactInput::Bytes(&bytes)
        }
        ArtifactRef::Digest(d) => {
            if d.algorithm() != DigestAlgorithm::Sha256 {
                return fail(exit::USAGE, "the protocol passes sha256 digests only");
            }
            digest = d.clone();
            ArtifactInput::Digest(&digest)
        }
    };
    // The same front door as `attest verify`: one verifier per mode.
    let verifier = match &args.key {
        Some(key_path) => {
            let pem =
                match attest::artifact::read_text_file(key_path, 64 * 1024, "a PEM public key") {
                    Ok(p) => p,
                    Err(e) => {
                        return fail(exit::UNREADABLE, format!("{}: {e}", key_path.display()))
                    }
                };
            let key = match attest::verify::parse_public_key_pem(&pem) {
                Ok(k) => k,
                Err(e) => return fail(exit::UNREADABLE, format!("{}: {e}", key_path.display())),
            };
            match Verifier::with_key(trust, key, Policy::identity_only(None, None)) {
                Ok(v) => v,
                Err(e) => return fail(exit::UNREADABLE, e),
            }
        }
        None => Verifier::keyless(
            trust,
            Policy::identity_only(args.certificate_identity, args.certificate_oidc_issuer),
        ),
    };
    let outcome = verifier.evaluate(bundle, input);
    match outcome {
        Outcome::Matched { .. } => exit::OK,
        other => fail(exit::code(other.status()), other.reason()),
    }
}

fn read_all(mut f: std::fs::File) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut v = Vec::new();
    f.read_to_end(&mut v)?;
    Ok(v)
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::VerifyBundle(args) => run(args),
    };
    std::process::exit(code);
}
