//! `attest`: verify where release artifacts came from.
//!
//! A thin shell over the `attest` library: clap definitions, one file per
//! subcommand, output routing and exit codes.

#![forbid(unsafe_code)]

/// A line of information on stderr (what was loaded, written, summed up):
/// printed unless `--quiet`. Errors and warnings use `eprintln!` directly.
macro_rules! info {
    ($($t:tt)*) => {
        if !$crate::output::verbosity::quiet() {
            eprintln!($($t)*)
        }
    };
}

/// A line on stderr that only `--verbose` prints.
macro_rules! detail {
    ($($t:tt)*) => {
        if $crate::output::verbosity::verbose() {
            eprintln!($($t)*)
        }
    };
}

mod args;
mod audit;
mod completions;
mod digest;
mod download;
mod error;
mod exit;
mod fetch;
mod jq;
mod junit;
mod output;
mod plan;
mod policy_cmd;
mod policy_run;
mod produce;
mod progress;
mod release;
mod serve;
mod settings;
mod signature;
mod summary;
mod trusted_root;
mod verify;

use clap::{Parser, Subcommand};
use std::sync::atomic::{AtomicBool, Ordering};

/// The exit codes, for `attest --help`: one code per cause, the same in
/// every command (the README's table, plus 1, 9 and 141).
const EXIT_CODES: &str = "\
Exit codes (one per cause, the same in every command):
    0  verified: an attestation passed every check and the policy (else: success)
    1  digest --check: a file did not match or could not be read, as sha256sum;
       elsewhere an unexpected internal error
    2  usage error: a bad, empty or conflicting flag, a flag that cannot apply,
       a --jq filter that fails
    3  an input could not be read: artifact, bundle file, trusted root
       (missing, not a regular file, malformed)
    4  authentication required (GitHub API or registry), as gh's 4
    5  no attestation for this artifact: no subject has its digest, or none
       has the predicate type
    6  an attestation failed a cryptographic or trust check (signature,
       certificate chain, SCT, log inclusion, checkpoint, SET, timestamp,
       trusted root)
    7  an attestation verified but did not match the policy (owner, repo,
       signer, ref, digest, runner, issuer)
    8  sign/attest: a signing service failed (Fulcio, Rekor, TSA, upload, push)
    9  the output could not be written (standard output, a -o file); stderr
       says why
  141  standard output was a pipe its reader closed (`| head`): the run ends
       quietly, as a command killed by SIGPIPE does
When attestations or artifacts fail in different ways, the one that got
furthest decides (for a release: 6, then 7, then 5, then 3).";

/// Verify and produce build provenance (SLSA, in-toto, Sigstore) for release artifacts.
#[derive(Debug, Parser)]
#[command(
    name = "attest",
    version,
    about = "Verify and produce build provenance (SLSA, in-toto, Sigstore) for release artifacts",
    long_about = None,
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,

    /// Print only errors and warnings on stderr: no progress, no summary.
    /// Standard output and the exit code are unchanged.
    #[arg(long, global = true, conflicts_with = "verbose")]
    quiet: bool,

    /// Say more on stderr: where the trusted roots and attestations came
    /// from, each attestation's result, timings.
    #[arg(short = 'v', long, global = true)]
    verbose: bool,
}

// Each payload is wrapped in `Sub`: a run builds the arguments of the one
// subcommand it runs (see there).
#[derive(Debug, Subcommand)]
enum Command {
    /// Verify an artifact's attestations (a drop-in for `gh attestation verify`).
    Verify(Sub<Box<args::VerifyArgs>>),
    /// Write a digest manifest (sha256sum format) or check one.
    Digest(Sub<digest::DigestArgs>),
    /// Print an SLSA provenance v1 statement, as actions/attest builds it.
    Provenance(Sub<produce::ProvenanceCmd>),
    /// Sign an in-toto statement into a Sigstore bundle (verified before it is written).
    Sign(Sub<Box<produce::SignCmd>>),
    /// Build SLSA provenance and sign it in one step.
    Attest(Sub<Box<produce::AttestCmd>>),
    /// Download an artifact's attestations for offline verification.
    Download(Sub<download::DownloadArgs>),
    /// Print the trusted roots (JSONL), verified over TUF, for --custom-trusted-root.
    TrustedRoot(Sub<trusted_root::TrustedRootArgs>),
    /// Policy files (attest.toml): write a starting one from what verifies.
    Policy(Sub<policy_cmd::PolicyCmd>),
    /// attest.lock: record the signers of artifacts that meet the policy.
    Lock(Sub<Box<policy_cmd::LockCmd>>),
    /// Print a shell completion script (bash, zsh, fish, powershell).
    Completions(Sub<completions::CompletionsArgs>),
    /// Print the man page (roff), or write every page with --dir.
    Man(Sub<completions::ManArgs>),
    /// Serve the policy: a verification API and a Kubernetes admission webhook.
    Serve(Sub<Box<serve::ServeArgs>>),
    /// Verify an image's cosign signatures (the sha256-<hex>.sig tag).
    VerifySignature(Sub<Box<signature::SignatureArgs>>),
    /// Verify every package a lock file pins (uv.lock, pylock, requirements, npm).
    Audit(Sub<Box<audit::AuditArgs>>),
}

/// A subcommand's arguments, added to its `clap::Command` only when clap
/// builds that subcommand (`Command::defer`): to parse the one that runs, or
/// to print its help. Building every subcommand's arguments was a fifth of
/// `attest --version`'s page faults and 0.3 ms of each run.
#[derive(Debug)]
struct Sub<T>(T);

/// Set by `full_command`: completions and man pages describe the whole tree
/// at once, and clap derives the `help` subcommand's tree and places the
/// global flags from what each subcommand has when its parent is built.
static BUILD_EVERY_SUBCOMMAND: AtomicBool = AtomicBool::new(false);

/// The command tree with every subcommand's arguments in place, for the
/// completion scripts and the man pages.
pub(crate) fn full_command() -> clap::Command {
    BUILD_EVERY_SUBCOMMAND.store(true, Ordering::Relaxed);
    <Cli as clap::CommandFactory>::command()
}

impl<T: clap::Args> clap::Args for Sub<T> {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        if BUILD_EVERY_SUBCOMMAND.load(Ordering::Relaxed) {
            T::augment_args(cmd)
        } else {
            cmd.defer(deferred::<T>)
        }
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        if BUILD_EVERY_SUBCOMMAND.load(Ordering::Relaxed) {
            T::augment_args_for_update(cmd)
        } else {
            // clap's update path adds no help line of the struct's own (the
            // unit test below checks both paths).
            cmd.defer(T::augment_args_for_update)
        }
    }
}

/// A deferred subcommand's arguments. clap has by then applied the variant's
/// help line, which the argument struct's doc comment (or that of a struct
/// flattened into it) would replace in `attest SUB --help` alone: it is put
/// back.
fn deferred<T: clap::Args>(cmd: clap::Command) -> clap::Command {
    let about = cmd.get_about().cloned();
    let long_about = cmd.get_long_about().cloned();
    let cmd = T::augment_args(cmd);
    let cmd = match about {
        Some(about) => cmd.about(about),
        None => cmd.about(None::<&str>),
    };
    match long_about {
        Some(long_about) => cmd.long_about(long_about),
        None => cmd.long_about(None::<&str>),
    }
}

impl<T: clap::FromArgMatches> clap::FromArgMatches for Sub<T> {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(matches).map(Sub)
    }
    fn from_arg_matches_mut(matches: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches_mut(matches).map(Sub)
    }
    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }
    fn update_from_arg_matches_mut(
        &mut self,
        matches: &mut clap::ArgMatches,
    ) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(matches)
    }
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version go to stdout; off a terminal, through the one
        // writer, so `attest --help > /dev/full` fails as every command does.
        Err(e) if !e.use_stderr() && !std::io::IsTerminal::is_terminal(&std::io::stdout()) => {
            output::out::write_all(e.render().to_string().as_bytes());
            std::process::exit(e.exit_code());
        }
        Err(e) => e.exit(),
    };
    output::verbosity::set(if cli.quiet {
        output::verbosity::Level::Quiet
    } else if cli.verbose {
        output::verbosity::Level::Verbose
    } else {
        output::verbosity::Level::Normal
    });
    settings::install_http();
    let code = match cli.command {
        Command::Verify(Sub(args)) => verify::run(*args),
        Command::Digest(Sub(args)) => digest::run(args),
        Command::TrustedRoot(Sub(args)) => trusted_root::run(args),
        Command::Download(Sub(args)) => download::run(args),
        Command::Provenance(Sub(args)) => produce::run_provenance(args),
        Command::Sign(Sub(args)) => produce::run_sign(*args),
        Command::Attest(Sub(args)) => produce::run_attest(*args),
        Command::Policy(Sub(args)) => policy_cmd::run_policy(args),
        Command::Lock(Sub(args)) => policy_cmd::run_lock(*args),
        Command::Serve(Sub(args)) => serve::run(*args),
        Command::VerifySignature(Sub(args)) => signature::run(*args),
        Command::Audit(Sub(args)) => audit::run(*args),
        Command::Completions(Sub(args)) => completions::run_completions(args),
        Command::Man(Sub(args)) => completions::run_man(args),
    };
    std::process::exit(code);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The subcommand's help line as clap has it once it built the
    /// subcommand (the deferred arguments in place).
    fn built_about(mut cmd: clap::Command, sub: &str) -> String {
        let sc = cmd
            .find_subcommand_mut(sub)
            .unwrap_or_else(|| panic!("no {sub}"));
        sc.build();
        sc.get_about().map(|a| a.to_string()).unwrap_or_default()
    }

    /// Both of clap's paths into a deferred subcommand (parsing, and
    /// updating parsed arguments) keep the variant's help line, though
    /// `VerifyArgs` and `DigestArgs` carry doc comments of their own.
    #[test]
    fn deferred_subcommands_keep_their_variants_help_line() {
        use clap::CommandFactory;
        for (sub, about) in [
            (
                "verify",
                "Verify an artifact's attestations (a drop-in for `gh attestation verify`)",
            ),
            (
                "digest",
                "Write a digest manifest (sha256sum format) or check one",
            ),
        ] {
            assert_eq!(built_about(Cli::command(), sub), about);
            assert_eq!(built_about(Cli::command_for_update(), sub), about);
        }
        // Updating parsed arguments goes through the deferred update path.
        let mut cli = Cli::try_parse_from(["attest", "digest", "a.txt"]).unwrap();
        cli.try_update_from(["attest", "digest", "b.txt"]).unwrap();
        let Command::Digest(Sub(args)) = cli.command else {
            panic!("not digest: {:?}", cli.command);
        };
        assert_eq!(args.files, [std::path::PathBuf::from("b.txt")]);
    }
}
