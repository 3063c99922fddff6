//! `attest verify`: gh's flags, gh's output, attest's explanations.

use std::path::PathBuf;

use attest::outcome::{exit, ArtifactVerdict};
use attest::policy::Policy;
use attest::report;
use attest::trust::tuf::FetchOptions;
use attest::trust::TrustStore;

use crate::error::CliError;
use crate::fetch;
use crate::output::Terminal;
use crate::plan::{Evidence, Plan};

pub use crate::args::{Alg, VerifyArgs};

/// TUF options from `--offline` and `--cache-dir`.
pub fn fetch_options(offline: bool, cache_dir: Option<PathBuf>) -> FetchOptions {
    let mut opts = FetchOptions::online(crate::settings::cache_root(cache_dir));
    opts.offline = offline;
    opts
}

/// Print warnings about how trust material was chosen.
pub fn print_trust_notes(trust: &TrustStore) {
    for note in trust.notes() {
        eprintln!("Warning: {note}");
    }
}

/// With `--offline`, refuse a GHE.com tenant host before anything asks its
/// API for the trust domain (`GET /meta`): offline means no network, and
/// the trust domain is known only from there. `remedy` says what to do
/// instead. Exit 2, as for conflicting flags.
pub fn refuse_offline_tenant(
    hostname: Option<&str>,
    offline: bool,
    remedy: &str,
) -> Result<(), i32> {
    let Some(host) = hostname.map(|h| h.trim().to_ascii_lowercase()) else {
        return Ok(());
    };
    if offline && host.ends_with(".ghe.com") {
        return Err(usage_error(&format!(
            "--offline: the trusted root of the GHE.com tenant {host} depends on its trust domain, which only its API tells (GET /meta); {remedy}"
        )));
    }
    Ok(())
}

/// Print a usage error (exit 2).
pub fn usage_error(msg: &str) -> i32 {
    eprintln!("Error: {msg}");
    exit::USAGE
}

/// Print gh's JSON on stdout, through the `--jq` filter when there is one
/// (indented on a terminal, as gh does), else as `text` produces it.
/// Returns the exit code: OK, USAGE when the filter fails on this input (the
/// expression is the user's, and the exit code must not claim a
/// verification result), INTERNAL when the JSON cannot be encoded. A failed
/// write ends the run in [`crate::output::out`].
pub fn print_json(
    value: &serde_json::Value,
    jq: Option<&str>,
    tty: bool,
    text: impl FnOnce(&serde_json::Value) -> serde_json::Result<String>,
) -> i32 {
    use crate::output::out;
    match jq {
        // The filter runs on its own thread, which needs a `Send` handle;
        // `Stdout` flushes each line, so results stream as in gh.
        Some(expr) => match crate::jq::run(expr, value, tty, &mut std::io::stdout()) {
            Ok(()) => out::flush(),
            Err(crate::jq::RunError::Jq(e)) => {
                eprintln!("Error: --jq: {e}");
                return exit::USAGE;
            }
            Err(crate::jq::RunError::Write(e)) => out::fail(&e),
        },
        None => match text(value) {
            Ok(t) => out::line(&t),
            Err(e) => {
                eprintln!("Error: could not encode the JSON output: {e}");
                return exit::INTERNAL;
            }
        },
    }
    exit::OK
}

/// Run `attest verify`; returns the exit code.
pub fn run(args: VerifyArgs) -> i32 {
    let term = Terminal::detect();
    let plan = match crate::plan::resolve(args, term) {
        Ok(p) => p,
        Err(e) => return e.report(),
    };
    match plan.single() {
        Some(arg) => run_one(&plan, arg).unwrap_or_else(|e| e.report()),
        None => crate::release::run(&plan),
    }
}

/// One artifact: gh's report.
fn run_one(plan: &Plan, arg: &str) -> Result<i32, CliError> {
    let term = plan.term;
    let resolved = fetch::resolve_artifact(
        arg,
        plan.file_alg(),
        matches!(plan.evidence, Evidence::Oci { .. }),
    )
    .map_err(CliError::printed)?;
    let digest = resolved.digest.clone();
    if term.tty {
        eprintln!(
            "Loaded digest {digest} for {}",
            report::printable_name(&resolved.display)
        );
    }
    let (mut bundles, from) =
        fetch::load(&plan.evidence, std::slice::from_ref(&resolved)).map_err(CliError::printed)?;
    fetch::complete_inclusion_proofs(&mut bundles, plan.verifier.trust(), plan.offline);
    let policy = plan.verifier.policy();
    if term.tty {
        eprintln!(
            "Loaded {} from {from}",
            report::plural(bundles.len(), "attestation")
        );
        eprintln!("\n{}", report::criteria_block(policy));
    }
    let verdict = plan.verifier.verify_artifact(&bundles, &digest);
    print_trust_notes(plan.verifier.trust());
    let json = plan.json.then_some(plan.jq.as_deref());
    Ok(print_verdict(&verdict, policy, &resolved.name, term, json))
}

fn print_verdict(
    verdict: &ArtifactVerdict,
    policy: &Policy,
    name: &str,
    term: Terminal,
    // `Some` with --format json, holding the --jq expression if any.
    json: Option<Option<&str>>,
) -> i32 {
    let style = term.style;
    if verdict.verified() {
        if term.tty {
            eprintln!("{}", style.ok("✓ Verification succeeded!"));
            eprintln!();
            if json.is_none() {
                eprint!("{}", report::matched_block(verdict));
            }
            let others = verdict.results.len() - verdict.matched().count();
            if others > 0 {
                eprintln!(
                    "\n{} did not match:\n{}",
                    report::plural(others, "other attestation"),
                    report::reasons_block(verdict)
                );
            }
        } else {
            eprintln!("{}", report::summary_line(name, verdict, policy));
        }
        if let Some(jq) = json {
            let value = report::gh_json(verdict, policy);
            return print_json(&value, jq, term.tty, |v| {
                if term.tty {
                    serde_json::to_string_pretty(v)
                } else {
                    serde_json::to_string(v)
                }
            });
        }
        return exit::OK;
    }
    let (stage, message) = report::failure_headline(verdict, policy);
    if term.tty {
        eprintln!("{}", style.bad(&format!("✗ {stage} failed")));
    }
    eprintln!("\nError: {message}");
    crate::error::print_hints(verdict.hint());
    if verdict.results.len() > 1 {
        eprintln!(
            "\nNone of {} matched:\n{}",
            report::plural(verdict.results.len(), "attestation"),
            report::reasons_block(verdict)
        );
    }
    verdict.exit_code()
}
