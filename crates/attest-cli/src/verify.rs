//! `attest verify`: gh's flags, gh's output, attest's explanations.

use attest::outcome::ArtifactVerdict;
use attest::policy::Policy;
use attest::report;

use crate::error::CliError;
use crate::exit;
use crate::fetch;
use crate::fetch::Evidence;
use crate::output::Terminal;
use crate::plan::{Judge, Plan};
use attest::verifier::Verifier;

use crate::args::VerifyArgs;
use crate::output::{print_json, print_trust_notes};

/// Run `attest verify`; returns the exit code.
pub fn run(args: VerifyArgs) -> i32 {
    let term = Terminal::detect();
    let plan = match crate::plan::resolve(args, term) {
        Ok(p) => p,
        Err(e) => return e.report(),
    };
    let verifier = match &plan.judge {
        Judge::Flags(v) => v,
        Judge::PolicyFile(run) => return crate::policy_run::run(&plan, run),
    };
    match plan.single() {
        Some(arg) => run_one(&plan, verifier, arg).unwrap_or_else(|e| e.report()),
        None => crate::release::run(&plan, verifier),
    }
}

/// One artifact: gh's report.
fn run_one(plan: &Plan, verifier: &Verifier, arg: &str) -> Result<i32, CliError> {
    let term = plan.term;
    let resolved = fetch::resolve_artifact(
        arg,
        plan.file_alg(),
        matches!(plan.evidence, Evidence::Oci { .. }),
    )
    .map_err(CliError::printed)?;
    let digest = resolved.digest.clone();
    if term.tty {
        info!(
            "Loaded digest {digest} for {}",
            report::printable_name(&resolved.display)
        );
    }
    let (mut bundles, from) =
        fetch::load(&plan.evidence, std::slice::from_ref(&resolved)).map_err(CliError::printed)?;
    fetch::complete_inclusion_proofs(&mut bundles, verifier.trust(), plan.offline);
    let policy = verifier.policy();
    if term.tty {
        info!(
            "Loaded {} from {from}",
            report::plural(bundles.len(), "attestation")
        );
        info!("\n{}", report::criteria_block(policy));
    } else {
        detail!(
            "Loaded {} from {from}",
            report::plural(bundles.len(), "attestation")
        );
    }
    let verdict = verifier.verify_artifact(&bundles, &digest);
    print_publishers(&verdict.results);
    print_trust_notes(verifier.trust());
    crate::output::detail_trust(verifier.trust());
    detail_results(&verdict);
    if !policy.check_provenance {
        warn_provenance(&verdict);
    }
    let rows = crate::summary::record_artifact(&resolved.name, &verdict, policy);
    if plan.junit {
        crate::output::out::write_all(crate::junit::xml("attest verify", &rows).as_bytes());
    }
    let json = plan.json.then_some(plan.jq.as_deref());
    Ok(print_verdict(&verdict, policy, &resolved.name, term, json))
}

/// Without `--check-provenance` the SLSA cross-check keeps gh's verdict but
/// is reported: a provenance that disagrees with its certificate is named.
fn warn_provenance(verdict: &ArtifactVerdict) {
    for r in verdict.matched() {
        let Some(att) = r.outcome.attestation() else {
            continue;
        };
        let (Some(st), Some(cert)) = (&att.statement, &att.certificate) else {
            continue;
        };
        for c in attest::policy::github_provenance_checks(&st.value, cert)
            .iter()
            .filter(|c| !c.passed)
        {
            eprintln!(
                "Warning: {}: {} (--check-provenance makes this fail)",
                report::printable_name(&r.origin.to_string()),
                report::printable_name(&c.message)
            );
        }
    }
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
        if term.tty && !crate::output::verbosity::quiet() {
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
            info!("{}", report::summary_line(name, verdict, policy));
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
        info!("{}", style.bad(&format!("✗ {stage} failed")));
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
    exit::code(verdict.status())
}

/// With `--verbose`: every attestation considered and what became of it.
pub fn detail_results(verdict: &ArtifactVerdict) {
    if !crate::output::verbosity::verbose() {
        return;
    }
    for r in &verdict.results {
        let what = match r.outcome.status() {
            attest::outcome::Status::Verified => "verified".to_string(),
            _ => r.outcome.reason(),
        };
        eprintln!(
            "{}: {}",
            report::attestation_label(&r.origin),
            report::printable_name(&what)
        );
    }
}

/// For PEP 740 attestations: PyPI's record of the publisher (unsigned)
/// beside what the certificate proves, for each attestation that verified.
pub fn print_publishers(results: &[attest::outcome::AttestationResult]) {
    for r in results {
        let (Some(bundle), Some(att)) = (&r.bundle, r.outcome.attestation()) else {
            continue;
        };
        let Some(publisher) = &bundle.publisher else {
            continue;
        };
        let proven = att
            .certificate
            .as_ref()
            .map(|c| {
                format!(
                    "{} ({})",
                    c.subject_alternative_name.as_deref().unwrap_or("?"),
                    c.issuer.as_deref().unwrap_or("?")
                )
            })
            .unwrap_or_else(|| "no certificate".into());
        info!(
            "{}: PyPI's publisher record (unsigned): {}; the certificate proves {}",
            report::printable_name(bundle.distribution.as_deref().unwrap_or("?")),
            report::printable_name(publisher),
            report::printable_name(&proven)
        );
    }
}
