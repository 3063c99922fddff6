//! `attest`: verify where release artifacts came from.
//!
//! A thin shell over the `attest` library: clap definitions, one file per
//! subcommand, output routing and exit codes.

#![forbid(unsafe_code)]

mod args;
mod digest;
mod download;
mod error;
mod fetch;
mod jq;
mod output;
mod plan;
mod produce;
mod progress;
mod release;
mod trusted_root;
mod verify;

use clap::{Parser, Subcommand};

/// Verify and produce build provenance (SLSA, in-toto, Sigstore) for release artifacts.
#[derive(Debug, Parser)]
#[command(
    name = "attest",
    version,
    about = "Verify and produce build provenance (SLSA, in-toto, Sigstore) for release artifacts",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify an artifact's attestations (a drop-in for `gh attestation verify`).
    Verify(Box<verify::VerifyArgs>),
    /// Write a digest manifest (sha256sum format) or check one.
    Digest(digest::DigestArgs),
    /// Print an SLSA provenance v1 statement, as actions/attest builds it.
    Provenance(produce::ProvenanceCmd),
    /// Sign an in-toto statement into a Sigstore bundle (verified before it is written).
    Sign(Box<produce::SignCmd>),
    /// Build SLSA provenance and sign it in one step.
    Attest(Box<produce::AttestCmd>),
    /// Download an artifact's attestations for offline verification.
    Download(download::DownloadArgs),
    /// Print the trusted roots (JSONL), verified over TUF, for --custom-trusted-root.
    TrustedRoot(trusted_root::TrustedRootArgs),
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Verify(args) => verify::run(*args),
        Command::Digest(args) => digest::run(args),
        Command::TrustedRoot(args) => trusted_root::run(args),
        Command::Download(args) => download::run(args),
        Command::Provenance(args) => produce::run_provenance(args),
        Command::Sign(args) => produce::run_sign(*args),
        Command::Attest(args) => produce::run_attest(*args),
    };
    std::process::exit(code);
}
