//! `attest policy init` (a starting attest.toml from what verified: trust on
//! first use) and `attest lock --update` (record reviewed signers).

use std::collections::BTreeMap;
use std::path::PathBuf;

use attest::policy::go_quote_meta;
use attest::policy_file::lock::{Lock, LockedIdentity};
use attest::policy_file::Subject;
use clap::{Args, Subcommand};

use crate::args::VerifyArgs;
use crate::error::CliError;
use crate::exit;
use crate::output::Terminal;
use crate::plan::{Judge, Plan};

/// `attest policy …`.
#[derive(Debug, Args)]
pub struct PolicyCmd {
    #[command(subcommand)]
    command: PolicySub,
}

#[derive(Debug, Subcommand)]
enum PolicySub {
    /// Write a starting attest.toml (and attest.lock) from the attestations
    /// that verify for these artifacts under the identity flags given
    /// (at least --owner or --repo): review it before use.
    Init(Box<InitArgs>),
}

/// `attest policy init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the policy (the lock goes beside it as attest.lock).
    // No `-o`: that is `--owner`'s short form, as in `verify`.
    #[arg(long, value_name = "FILE", default_value = "attest.toml")]
    output: PathBuf,

    /// Replace an existing policy or lock file.
    #[arg(long)]
    force: bool,

    #[command(flatten)]
    verify: VerifyArgs,
}

/// `attest lock`.
#[derive(Debug, Args)]
pub struct LockCmd {
    /// Record the signers of every artifact given that meets the policy
    /// (--policy), replacing what attest.lock says of their names.
    #[arg(long, required = true)]
    update: bool,

    #[command(flatten)]
    verify: VerifyArgs,
}

/// Run `attest policy`.
pub fn run_policy(cmd: PolicyCmd) -> i32 {
    match cmd.command {
        PolicySub::Init(args) => init(*args).unwrap_or_else(|e| e.report()),
    }
}

/// Run `attest lock --update`.
pub fn run_lock(mut cmd: LockCmd) -> i32 {
    // `--update` is required: the only thing `attest lock` does.
    let _ = cmd.update;
    (|| {
        let Some(policy) = cmd.verify.policy_file.clone() else {
            return Err(CliError::usage(
                "attest lock --update needs --policy attest.toml",
            ));
        };
        if cmd.verify.locked {
            return Err(CliError::usage(
                "--locked checks a lock; attest lock --update writes one",
            ));
        }
        let path = cmd.verify.lock.take().unwrap_or_else(|| {
            policy
                .parent()
                .unwrap_or(std::path::Path::new(""))
                .join("attest.lock")
        });
        let lock = if path.exists() {
            Lock::load(&path).map_err(|e| CliError::new(exit::UNREADABLE, e))?
        } else {
            Lock::default()
        };
        let plan = crate::plan::resolve(cmd.verify, Terminal::detect())?;
        let Judge::PolicyFile(run) = &plan.judge else {
            return Err(CliError::usage(
                "attest lock --update needs --policy attest.toml",
            ));
        };
        crate::policy_run::update_lock(&plan, run, &path, lock)
    })()
    .unwrap_or_else(|e| e.report())
}

/// What one signer was seen doing.
#[derive(Default)]
struct Seen {
    predicate_types: Vec<String>,
    refs: Vec<String>,
    runners: Vec<String>,
    pypi: Vec<String>,
    images: Vec<String>,
    files: Vec<String>,
    lock: Vec<(String, LockedIdentity)>,
}

fn push<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

fn init(args: InitArgs) -> Result<i32, CliError> {
    if args.verify.policy_file.is_some() || args.verify.locked {
        return Err(CliError::usage(
            "attest policy init writes a policy: give identity flags (--owner or --repo), not --policy",
        ));
    }
    let lock_path = args
        .output
        .parent()
        .unwrap_or(std::path::Path::new(""))
        .join("attest.lock");
    for p in [&args.output, &lock_path] {
        if p.exists() && !args.force {
            return Err(CliError::usage(format!(
                "{} exists; review it, or pass --force to replace it",
                p.display()
            )));
        }
    }
    let plan: Plan = crate::plan::resolve(args.verify, Terminal::detect())?;
    let Judge::Flags(verifier) = &plan.judge else {
        return Err(CliError::usage(
            "attest policy init needs --owner or --repo",
        ));
    };
    let mut collected = crate::release::collect(&plan)?;
    let targets = crate::release::evidence_targets(&plan, &mut collected);
    let (mut bundles, _) =
        crate::fetch::load(&plan.evidence, &targets).map_err(CliError::printed)?;
    crate::fetch::complete_inclusion_proofs(&mut bundles, verifier.trust(), plan.offline);

    // Group by (repository, signer workflow, issuer).
    let mut groups: BTreeMap<(String, String, String), Seen> = BTreeMap::new();
    let mut failed = 0usize;
    for a in &collected.artifacts {
        let Some(digest) = a.digest() else {
            eprintln!("{}: no digest, left out", a.name);
            failed += 1;
            continue;
        };
        let verdict = verifier.verify_artifact(&bundles, digest);
        if !verdict.verified() {
            let reason = verdict
                .best()
                .map(|r| r.outcome.reason())
                .unwrap_or_else(|| "no attestation".into());
            eprintln!(
                "{}: left out: {}",
                attest::report::printable_name(&a.name),
                attest::report::printable_name(&reason)
            );
            failed += 1;
            continue;
        }
        let subject = match attest::source::oci::parse_oci_ref(&a.name) {
            Some(Ok(r)) => Subject::image(
                a.name.clone(),
                format!("{}/{}", r.registry(), r.repository()),
                digest.clone(),
            ),
            _ => Subject::file(a.name.clone(), digest.clone()),
        };
        for m in verdict.matched() {
            let Some(att) = m.outcome.attestation() else {
                continue;
            };
            let Some(cert) = &att.certificate else {
                continue;
            };
            let (Some(repo), Some(san), Some(issuer)) = (
                &cert.source_repository_uri,
                &cert.subject_alternative_name,
                &cert.issuer,
            ) else {
                continue;
            };
            let nwo = repo.splitn(4, '/').nth(3).unwrap_or(repo).to_string();
            let workflow = san.split_once("://").map_or(san.as_str(), |(_, r)| r);
            let workflow = workflow.split_once('/').map_or(workflow, |(_, r)| r);
            let workflow = workflow.split('@').next().unwrap_or(workflow).to_string();
            let seen = groups.entry((nwo, workflow, issuer.clone())).or_default();
            if let Some(st) = &att.statement {
                push(&mut seen.predicate_types, st.predicate_type.clone());
            }
            if let Some(r) = &cert.source_repository_ref {
                push(&mut seen.refs, r.clone());
            }
            push(
                &mut seen.runners,
                cert.runner_environment.clone().unwrap_or_default(),
            );
            match (&subject.kind, subject.pypi_name()) {
                (attest::policy_file::SubjectKind::Image { repository }, _) => {
                    push(&mut seen.images, repository.clone())
                }
                (_, Some(n)) => push(&mut seen.pypi, n),
                _ => push(
                    &mut seen.files,
                    subject.file_name().unwrap_or(&a.name).to_string(),
                ),
            }
            if let (Some(name), Some(id)) = (subject.lock_name(), LockedIdentity::of(att)) {
                push(&mut seen.lock, (name, id));
            }
        }
    }
    if groups.is_empty() {
        eprintln!("Error: nothing verified, so there is nothing to write a policy from");
        return Ok(exit::NO_ATTESTATION);
    }
    let mut text = String::from(
        "# attest.toml written by `attest policy init` from what verified on first use.\n\
         # Review every rule before relying on it: it trusts what was seen, nothing more.\n\
         version = 1\n",
    );
    let mut lock = Lock::default();
    let mut lock_entries: BTreeMap<String, Vec<LockedIdentity>> = BTreeMap::new();
    for ((nwo, workflow, issuer), seen) in &groups {
        text.push_str(&format!(
            "\n[[rule]]\nname = {}\n",
            toml_str(&format!("built by {workflow}"))
        ));
        let list = |v: &[String]| v.iter().map(|s| toml_str(s)).collect::<Vec<_>>().join(", ");
        if !seen.pypi.is_empty() {
            text.push_str(&format!("pypi = [{}]\n", list(&seen.pypi)));
        }
        if !seen.images.is_empty() {
            text.push_str(&format!("images = [{}]\n", list(&seen.images)));
        }
        if !seen.files.is_empty() {
            let escaped: Vec<String> = seen.files.iter().map(|f| glob_escape(f)).collect();
            text.push_str(&format!("files = [{}]\n", list(&escaped)));
        }
        for pt in &seen.predicate_types {
            text.push_str("\n[[rule.require]]\n");
            text.push_str(&format!("predicate-type = {}\n", toml_str(pt)));
            text.push_str(&format!("repo = {}\n", toml_str(nwo)));
            text.push_str(&format!("signer-workflow = {}\n", toml_str(workflow)));
            if issuer != attest::policy::GITHUB_ACTIONS_ISSUER {
                text.push_str(&format!("issuer = {}\n", toml_str(issuer)));
            }
            match seen.refs.as_slice() {
                [one] => text.push_str(&format!("source-ref = {}\n", toml_str(one))),
                refs if !refs.is_empty() && refs.iter().all(|r| r.starts_with("refs/tags/")) => {
                    text.push_str("source-ref = { glob = \"refs/tags/*\" }\n")
                }
                refs if !refs.is_empty() => {
                    let alts: Vec<String> = refs.iter().map(|r| go_quote_meta(r)).collect();
                    text.push_str(&format!(
                        "source-ref = {{ regex = {} }}\n",
                        toml_str(&format!("^({})$", alts.join("|")))
                    ));
                }
                _ => {}
            }
            if seen.runners.iter().all(|r| r == "github-hosted") {
                text.push_str("runner = \"github-hosted\"\n");
            }
        }
        for (name, id) in &seen.lock {
            lock_entries
                .entry(name.clone())
                .or_default()
                .push(id.clone());
        }
    }
    for (name, ids) in lock_entries {
        lock.set(name, ids);
    }
    // The policy must read back as written.
    attest::policy_file::PolicyFile::parse(
        &text,
        &args.output.display().to_string(),
        std::path::Path::new("."),
    )
    .map_err(|e| {
        CliError::new(
            exit::INTERNAL,
            format!("the written policy does not parse: {e}"),
        )
    })?;
    for (path, bytes) in [
        (&args.output, text.into_bytes()),
        (&lock_path, lock.to_toml().into_bytes()),
    ] {
        crate::output::PendingOutput::create(path)
            .and_then(|p| p.commit(&bytes))
            .map_err(|e| CliError::new(exit::OUTPUT, e))?;
        info!("Wrote {}", path.display());
    }
    Ok(if failed > 0 {
        exit::NO_ATTESTATION
    } else {
        exit::OK
    })
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A file name as a glob that matches only itself.
fn glob_escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
