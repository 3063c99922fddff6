//! `attest verify --policy attest.toml`: every artifact against the rules
//! that match it, with each rule, requirement and check in the report; and
//! `--locked` against `attest.lock`.

use attest::artifact::ArtifactRef;
use attest::outcome::Status;
use attest::policy_file::lock::{Lock, LockCheck, LockedIdentity};
use attest::policy_file::{Subject, SubjectReport};
use attest::release::ReleaseArtifact;
use attest::report::{self, Style};
use attest::source::oci::parse_oci_ref;
use serde_json::{json, Value};

use crate::error::CliError;
use crate::exit;
use crate::plan::{Plan, PolicyRun};

/// The version of the JSON report (`schemaVersion`); docs/policy.md
/// describes it.
pub const REPORT_VERSION: u32 = 1;

/// Run `verify --policy`; returns the exit code.
pub fn run(plan: &Plan, run: &PolicyRun) -> i32 {
    run_checked(plan, run).unwrap_or_else(|e| e.report())
}

/// One subject's verdict, with the lock's.
pub struct Judged {
    /// The policy's report.
    pub report: SubjectReport,
    /// `--locked`: what the lock says.
    pub lock: Option<LockCheck>,
    /// The subject checked.
    pub subject: Option<Subject>,
}

impl Judged {
    fn passed(&self) -> bool {
        self.report.passed && self.lock.as_ref().is_none_or(LockCheck::passed)
    }

    fn status(&self) -> Status {
        if self.report.passed && !self.passed() {
            Status::Policy
        } else {
            self.report.status
        }
    }
}

/// Verify and judge every subject of the plan.
pub fn judge_all(plan: &Plan, run: &PolicyRun) -> Result<(Vec<Judged>, usize), CliError> {
    let mut collected = crate::release::collect(plan)?;
    let targets = crate::release::evidence_targets(plan, &mut collected);
    let (mut bundles, _) =
        crate::fetch::load_with(&plan.evidence, &targets, true).map_err(CliError::printed)?;
    let verifier = &run.verifier;
    crate::fetch::complete_inclusion_proofs(&mut bundles, verifier.trust(), plan.offline);
    let mut judged = Vec::with_capacity(collected.artifacts.len());
    for artifact in &collected.artifacts {
        let subject = match subject_of(artifact) {
            Ok(s) => s,
            Err((why, status)) => {
                judged.push(Judged {
                    report: unjudged(artifact, verifier.policy().digest(), why, status),
                    lock: None,
                    subject: None,
                });
                continue;
            }
        };
        // From the registry, an image's cosign signatures (its `.sig` tag)
        // are evidence too (a `signature = true` requirement), unless
        // `--source referrers` excludes cosign's tags.
        let signatures = match (&plan.evidence, parse_oci_ref(&artifact.name)) {
            (crate::fetch::Evidence::Oci { limit, kinds }, Some(Ok(reference))) if kinds.cosign => {
                let auth = crate::fetch::registry_auth(&reference).map_err(CliError::printed)?;
                attest::source::oci::fetch_cosign_signatures(
                    &reference,
                    &subject.digest,
                    &auth,
                    *limit,
                )
                .map_err(|e| {
                    eprintln!("Error: failed to load cosign signatures from the registry: {e}");
                    CliError::printed(crate::fetch::oci_exit(&e))
                })?
            }
            _ => Vec::new(),
        };
        let report = verifier.verify_subject_with_signatures(&subject, &bundles, &signatures);
        let lock = run
            .lock
            .as_ref()
            .map(|(_, lock)| lock.check(&subject, &signers(&report)));
        judged.push(Judged {
            report,
            lock,
            subject: Some(subject),
        });
    }
    crate::output::print_trust_notes(verifier.trust());
    crate::output::detail_trust(verifier.trust());
    Ok((judged, collected.problems))
}

/// The signers of the attestations that met the policy.
pub fn signers(report: &SubjectReport) -> Vec<LockedIdentity> {
    let mut out: Vec<LockedIdentity> = report
        .rules
        .iter()
        .flat_map(|r| r.requirements.iter())
        .flat_map(|q| q.attestations.iter())
        .filter(|a| a.passed)
        .filter_map(|a| a.signer.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

fn run_checked(plan: &Plan, run: &PolicyRun) -> Result<i32, CliError> {
    let (judged, problems) = judge_all(plan, run)?;
    let policy = run.verifier.policy();
    let passed = judged.iter().filter(|j| j.passed()).count();
    let mut output_code = exit::OK;
    if plan.json {
        let value = json!({
            "schemaVersion": REPORT_VERSION,
            "policy": { "path": policy.origin(), "digest": policy.digest() },
            "passed": passed == judged.len() && problems == 0,
            "subjects": judged.iter().map(subject_json).collect::<Vec<_>>(),
        });
        output_code = crate::output::print_json(&value, plan.jq.as_deref(), plan.term.tty, |v| {
            serde_json::to_string_pretty(v)
        });
    } else if !plan.junit {
        let mut text = String::new();
        for j in &judged {
            text.push_str(&subject_text(j, plan.term.style));
        }
        crate::output::out::write_all(text.as_bytes());
    }
    // In GitHub Actions, the verdicts go to the step summary too.
    let rows: Vec<crate::summary::Row> = judged
        .iter()
        .map(|j| crate::summary::Row {
            artifact: j.report.subject.clone(),
            status: if j.passed() {
                Status::Verified
            } else {
                j.status()
            },
            detail: if j.passed() {
                signers(&j.report)
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            } else {
                j.report
                    .reason
                    .clone()
                    .or_else(|| j.lock.as_ref().map(LockCheck::message))
                    .unwrap_or_default()
            },
        })
        .collect();
    crate::summary::append(&rows);
    if plan.junit {
        crate::output::out::write_all(crate::junit::xml("attest verify", &rows).as_bytes());
    }
    info!(
        "{passed} of {} passed the policy {} ({})",
        report::plural(judged.len(), "artifact"),
        policy.origin(),
        policy.digest()
    );
    // The furthest failure decides, as for a release: 6, 7, 5, 3.
    let statuses: Vec<Status> = judged
        .iter()
        .filter(|j| !j.passed())
        .map(Judged::status)
        .collect();
    let code = exit::furthest(&statuses).unwrap_or(exit::OK);
    if code == exit::OK && problems > 0 {
        eprintln!(
            "Error: the manifest has {}",
            report::plural(problems, "problem")
        );
        return Ok(exit::UNREADABLE);
    }
    if code == exit::OK {
        return Ok(output_code);
    }
    Ok(code)
}

/// A subject from a release artifact: an image, a bare digest or a file.
fn subject_of(a: &ReleaseArtifact) -> Result<Subject, (String, Status)> {
    let digest = match (&a.listed, &a.computed) {
        (_, Some(Err(e))) => return Err((e.clone(), Status::Unreadable)),
        (Some(listed), Some(Ok(computed))) if listed != computed => {
            return Err((
                format!("the file's digest is {computed}, the manifest lists {listed}"),
                Status::Verification,
            ))
        }
        (_, Some(Ok(d))) => d.clone(),
        (Some(d), None) => d.clone(),
        (None, None) => return Err(("no digest".into(), Status::Unreadable)),
    };
    if let Some(Ok(reference)) = parse_oci_ref(&a.name) {
        let repository = format!("{}/{}", reference.registry(), reference.repository());
        return Ok(Subject::image(a.name.clone(), repository, digest));
    }
    if a.computed.is_none() && matches!(ArtifactRef::from_arg(&a.name), Ok(ArtifactRef::Digest(_)))
    {
        return Ok(Subject::digest(a.name.clone(), digest));
    }
    Ok(Subject::file(a.name.clone(), digest))
}

fn unjudged(
    a: &ReleaseArtifact,
    policy_digest: &str,
    why: String,
    status: Status,
) -> SubjectReport {
    SubjectReport {
        subject: a.name.clone(),
        digest: a.digest().map(ToString::to_string).unwrap_or_default(),
        policy_digest: policy_digest.to_string(),
        passed: false,
        rules: Vec::new(),
        rejected: Vec::new(),
        reason: Some(why),
        status,
    }
}

fn subject_json(j: &Judged) -> Value {
    let mut v = serde_json::to_value(&j.report).unwrap_or(Value::Null);
    v["passed"] = Value::Bool(j.passed());
    if let Some(lock) = &j.lock {
        v["lock"] = json!({ "passed": lock.passed(), "message": lock.message() });
        if !lock.passed() && v["reason"].is_null() {
            v["reason"] = Value::String(lock.message());
        }
    }
    v
}

fn mark(style: Style, passed: bool) -> String {
    if passed {
        style.ok("✓")
    } else {
        style.bad("✗")
    }
}

/// The text report of one subject: a headline, then every rule,
/// requirement, attestation and check with expected and actual values.
pub fn subject_text(j: &Judged, style: Style) -> String {
    let r = &j.report;
    let name = report::printable_name(&r.subject);
    let mut out = format!("{} {name}", mark(style, j.passed()));
    if let Some(reason) = r.reason.as_deref() {
        out.push_str(&format!(": {}", report::printable_name(reason)));
    }
    out.push('\n');
    for rule in &r.rules {
        out.push_str(&format!(
            "    {} rule {:?} (line {})\n",
            mark(style, rule.passed),
            rule.rule,
            rule.line
        ));
        for q in &rule.requirements {
            out.push_str(&format!(
                "      {} {} (line {}): {} of {} met\n",
                mark(style, q.passed),
                report::printable_name(&q.requirement),
                q.line,
                q.met,
                q.required
            ));
            for a in &q.attestations {
                out.push_str(&format!(
                    "        {} {}\n",
                    mark(style, a.passed),
                    report::printable_name(&a.origin)
                ));
                for c in &a.checks {
                    out.push_str(&format!(
                        "            {} {}: expected {}, got {}\n",
                        mark(style, c.passed),
                        c.name,
                        report::printable_name(&c.expected),
                        report::printable_name(c.actual.as_deref().unwrap_or("nothing"))
                    ));
                }
            }
        }
    }
    for b in &r.rejected {
        let why = match &b.failure {
            attest::policy_file::EvidenceFailure::Unreadable(w) => format!("unreadable: {w}"),
            attest::policy_file::EvidenceFailure::NotForArtifact(w) => {
                format!("not for this artifact: {w}")
            }
            attest::policy_file::EvidenceFailure::Failed(w) => format!("verification failed: {w}"),
        };
        // Bundles about other artifacts are the normal case in a release.
        if matches!(
            b.failure,
            attest::policy_file::EvidenceFailure::NotForArtifact(_)
        ) {
            continue;
        }
        out.push_str(&format!(
            "    {} {}: {}\n",
            style.dim("-"),
            report::printable_name(&b.origin),
            report::printable_name(&why)
        ));
    }
    if let Some(lock) = &j.lock {
        out.push_str(&format!(
            "    {} {}\n",
            mark(style, lock.passed()),
            report::printable_name(&lock.message())
        ));
    }
    out
}

/// `attest lock --update`: record the signers of every artifact that meets
/// the policy.
pub fn update_lock(
    plan: &Plan,
    run: &PolicyRun,
    path: &std::path::Path,
    mut lock: Lock,
) -> Result<i32, CliError> {
    let (judged, _) = judge_all(plan, run)?;
    let mut failed = 0;
    for j in &judged {
        let Some(subject) = &j.subject else {
            failed += 1;
            continue;
        };
        if !j.report.passed {
            eprintln!(
                "{}: not recorded: {}",
                report::printable_name(&j.report.subject),
                report::printable_name(j.report.reason.as_deref().unwrap_or("failed the policy"))
            );
            failed += 1;
            continue;
        }
        let Some(name) = subject.lock_name() else {
            eprintln!(
                "{}: not recorded: {}",
                report::printable_name(&j.report.subject),
                LockCheck::Unnamed.message()
            );
            continue;
        };
        let seen = signers(&j.report);
        let before = lock.set(name.clone(), seen.clone());
        match before {
            Some(old) if old == seen => info!("{name}: unchanged"),
            Some(old) => eprintln!(
                "{name}: {} -> {}",
                old.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                seen.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => info!(
                "{name}: recorded {}",
                seen.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    let pending =
        crate::output::PendingOutput::create(path).map_err(|e| CliError::new(exit::OUTPUT, e))?;
    pending
        .commit(lock.to_toml().as_bytes())
        .map_err(|e| CliError::new(exit::OUTPUT, e))?;
    info!("Wrote {}", path.display());
    Ok(if failed > 0 { exit::POLICY } else { exit::OK })
}
