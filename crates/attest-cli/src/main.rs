//! `attest`: verify where release artifacts came from.
//!
//! A thin shell over the `attest` library: clap definitions, one file per
//! subcommand, output routing and exit codes.

#![forbid(unsafe_code)]

mod digest;
mod output;
mod progress;
mod release;
mod verify;

use clap::{Parser, Subcommand};

/// Verify and produce build provenance (SLSA, in-toto, Sigstore) for release artifacts.
#[derive(Debug, Parser)]
#[command(name = "attest", version, about, long_about = None)]
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
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Verify(args) => verify::run(*args),
        Command::Digest(args) => digest::run(args),
    };
    std::process::exit(code);
}
