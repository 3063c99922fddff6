//! `attest`: verify where release artifacts came from.
//!
//! A thin shell over the `attest` library: clap definitions, one file per
//! subcommand, output routing and exit codes.

#![forbid(unsafe_code)]

mod output;
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
    Verify(verify::VerifyArgs),
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Verify(args) => verify::run(args),
    };
    std::process::exit(code);
}
