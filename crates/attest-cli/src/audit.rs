//! `attest audit LOCKFILE`: the provenance of a whole dependency set.
//!
//! Every file a lock pins (uv.lock, pylock.toml, requirements.txt with
//! hashes, package-lock.json) is asked for its attestations (PyPI's
//! Integrity API, PEP 740; npm's attestations endpoint), in parallel and
//! bounded, through an on-disk cache keyed by the file's digest, and
//! verified by the same core as everything else: signature, certificate
//! chain, transparency log, timestamps, the digest the lock pins, and for
//! PyPI PEP 740's statement rules. Who published is then held to what the
//! user trusts: pylock.toml's `attestation-identities`, and `attest.lock`
//! (trust on first use) with `--locked`. A package without provenance is
//! counted, and fails only with `--require-provenance`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use attest::artifact::ArtifactDigest;
use attest::bundle::{BundleError, LoadedBundle};
use attest::lockfile::{self, Ecosystem, LockKind, LockedFile};
use attest::outcome::{ArtifactVerdict, Status};
use attest::policy::Policy;
use attest::policy_file::lock::{Lock, LockedIdentity};
use attest::report;
use attest::source::{npm, pypi};
use attest::verifier::Verifier;
use clap::Args;
use serde_json::{json, Value};

use crate::error::CliError;
use crate::exit;

/// `attest audit`.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 every attestation found verified (and, with --require-provenance, every package has one), 3 the lock file or an answer could not be read, 5 a package has no provenance (--require-provenance), 6 an attestation failed verification, 7 a publisher is not the one pylock.toml or attest.lock names."
)]
pub struct AuditArgs {
    /// The lock file: uv.lock, pylock.toml, requirements.txt (hash-checking
    /// mode), package-lock.json.
    #[arg(value_name = "LOCKFILE")]
    lockfile: PathBuf,

    /// Fail when a package has no provenance (by default it is counted and
    /// reported).
    #[arg(long)]
    require_provenance: bool,

    /// Hold each package to the publisher attest.lock records for it
    /// (trust on first use; `attest audit --update-lock` records them).
    #[arg(long, conflicts_with = "update_lock")]
    locked: bool,

    /// Record the publishers of verified packages in the lock (new
    /// packages added, changed ones replaced: review the diff).
    #[arg(long)]
    update_lock: bool,

    /// The lock of publishers (default: attest.lock beside the lock file).
    #[arg(long, value_name = "attest.lock")]
    lock: Option<PathBuf>,

    /// The Python package index (PyPI by default).
    #[arg(long, env = "ATTEST_INDEX_URL", value_name = "URL")]
    index_url: Option<String>,

    /// The npm registry (registry.npmjs.org by default).
    #[arg(long, env = "ATTEST_NPM_REGISTRY", value_name = "URL")]
    registry: Option<String>,

    /// Hold each package to this policy file (attest.toml): its `pypi` and
    /// `npm` rules name packages, `all` rules every one; `unmatched` says
    /// what becomes of packages no rule names. Without it, any signer the
    /// trusted roots vouch for passes the cryptographic checks.
    #[arg(long = "policy", value_name = "attest.toml")]
    policy_file: Option<PathBuf>,

    /// npm's registry keys (keys.json as Sigstore's TUF repository ships
    /// the target registry.npmjs.org/keys.json), to verify npm's publish
    /// attestations; by default fetched over TUF, not at all --offline.
    #[arg(long, value_name = "keys.json")]
    npm_keys: Option<PathBuf>,

    /// Requests in flight at most.
    #[arg(short = 'j', long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: u16,

    /// Do not read or write the provenance cache.
    #[arg(long)]
    no_cache: bool,

    /// Output format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<crate::args::Format>,

    #[command(flatten)]
    trust: crate::args::TrustArgs,
}

/// What became of one locked file.
#[derive(Debug, Clone)]
enum FileResult {
    /// Verified: the signer's identity and certificate.
    Verified(
        Box<(
            LockedIdentity,
            Option<attest::certificate::CertificateSummary>,
        )>,
    ),
    /// The index or registry has no attestation for it.
    NoProvenance,
    /// Attestations exist; none verified (status and why).
    Failed(Status, String),
}

/// One package: its files and what became of them.
struct Package {
    name: String,
    version: String,
    files: Vec<(String, FileResult)>,
    /// Set when the publisher is not the one required (pylock, attest.lock).
    policy: Option<String>,
}

impl Package {
    fn status(&self) -> Status {
        if self.policy.is_some() {
            return Status::Policy;
        }
        let statuses: Vec<Status> = self
            .files
            .iter()
            .filter_map(|(_, r)| match r {
                FileResult::Failed(s, _) => Some(*s),
                _ => None,
            })
            .collect();
        if let Some(s) = exit::furthest_status(&statuses) {
            return s;
        }
        if self.has_provenance() {
            Status::Verified
        } else {
            Status::NoAttestation
        }
    }

    fn has_provenance(&self) -> bool {
        self.files
            .iter()
            .any(|(_, r)| !matches!(r, FileResult::NoProvenance))
    }

    fn signers(&self) -> Vec<LockedIdentity> {
        let mut out: Vec<LockedIdentity> = self
            .files
            .iter()
            .filter_map(|(_, r)| match r {
                FileResult::Verified(v) => Some(v.0.clone()),
                _ => None,
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    fn lock_name(&self, eco: Ecosystem) -> String {
        match eco {
            Ecosystem::Pypi => format!("pypi:{}", self.name),
            Ecosystem::Npm => format!("npm:{}", self.name),
        }
    }

    fn reason(&self) -> String {
        if let Some(p) = &self.policy {
            return p.clone();
        }
        self.files
            .iter()
            .find_map(|(f, r)| match r {
                FileResult::Failed(_, why) => Some(format!("{f}: {why}")),
                _ => None,
            })
            .unwrap_or_else(|| "no provenance".into())
    }
}

/// Run `attest audit`; returns the exit code.
pub fn run(args: AuditArgs) -> i32 {
    run_checked(args).unwrap_or_else(|e| e.report())
}

fn run_checked(args: AuditArgs) -> Result<i32, CliError> {
    let shown = args.lockfile.display().to_string();
    let file_name = args
        .lockfile
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let kind = LockKind::of(&file_name).ok_or_else(|| {
        CliError::usage(format!(
            "{shown}: expected uv.lock, pylock.toml (pylock.*.toml), requirements.txt or package-lock.json"
        ))
    })?;
    let text = attest::artifact::read_text_file(
        &args.lockfile,
        lockfile::MAX_LOCKFILE_BYTES,
        "a lock file",
    )
    .map_err(|e| CliError::new(exit::UNREADABLE, format!("{shown}: {e}")))?;
    let locked = lockfile::parse(kind, &text)
        .map_err(|e| CliError::new(exit::UNREADABLE, format!("{shown}: {e}")))?;
    for p in &locked.problems {
        eprintln!("{shown}: {p}");
    }
    let eco = kind.ecosystem();
    // A flag that cannot apply to this lock is refused, never ignored.
    // (A value from the environment configures the other ecosystem too,
    // and is not a flag given for this lock.)
    let given =
        |value: &Option<String>, env: &str| value.is_some() && std::env::var(env).ok() != *value;
    let misplaced = match eco {
        Ecosystem::Pypi if given(&args.registry, "ATTEST_NPM_REGISTRY") => {
            Some("--registry (npm's registry)")
        }
        Ecosystem::Pypi if args.npm_keys.is_some() => Some("--npm-keys (npm's registry keys)"),
        Ecosystem::Npm if given(&args.index_url, "ATTEST_INDEX_URL") => {
            Some("--index-url (a Python package index)")
        }
        _ => None,
    };
    if let Some(flag) = misplaced {
        return Err(CliError::usage(format!(
            "{flag} does not apply to {shown}, a {} lock",
            match eco {
                Ecosystem::Pypi => "Python",
                Ecosystem::Npm => "npm",
            }
        )));
    }
    if args.lock.is_some() && !args.locked && !args.update_lock {
        return Err(CliError::usage(
            "--lock names the publisher lock for --locked or --update-lock; add one of them",
        ));
    }
    let service = match eco {
        Ecosystem::Pypi => {
            pypi::index_base(args.index_url.as_deref().unwrap_or(pypi::DEFAULT_INDEX))
                .map_err(|e| CliError::usage(e.to_string()))?
        }
        Ecosystem::Npm => attest::source::http::base_url(
            args.registry.as_deref().unwrap_or(npm::DEFAULT_REGISTRY),
        )
        .map_err(|e| CliError::usage(format!("--registry: {e}")))?,
    };
    let lock_path = args.lock.clone().unwrap_or_else(|| {
        args.lockfile
            .parent()
            .unwrap_or(std::path::Path::new(""))
            .join("attest.lock")
    });
    let publisher_lock = if args.locked {
        Some(Lock::load(&lock_path).map_err(|e| CliError::new(exit::UNREADABLE, e))?)
    } else {
        None
    };
    let cache = if args.no_cache {
        None
    } else {
        crate::settings::cache_root(args.trust.cache_dir.clone()).map(|r| r.join("provenance"))
    };
    let trust = crate::plan::trust_store_of(&args.trust, None)?;
    // Any signer the trusted roots vouch for: who published is judged
    // afterwards, against pylock.toml and attest.lock.
    let mut policy = Policy::identity_only(None, None);
    // PEP 740 names its own two types (the verifier enforces them); npm's
    // build provenance is SLSA v0.2 (2023) or v1.
    policy.predicate_type = String::new();
    let options = attest::verify::VerifyOptions::default()
        .require_inclusion_proof(args.trust.require_inclusion_proof);
    let policy_verifier = match &args.policy_file {
        Some(path) => Some(attest::policy_file::PolicyVerifier::new(
            attest::policy_file::PolicyFile::load(path)
                .map_err(|e| CliError::usage(e.to_string()))?,
            crate::plan::trust_store_of(&args.trust, None)?,
            options,
        )),
        None => None,
    };
    let verifier = Verifier::keyless(trust, policy).with_options(options);

    let npm_keys = match (eco, &args.npm_keys) {
        (Ecosystem::Pypi, _) => None,
        (Ecosystem::Npm, Some(path)) => {
            let bytes = attest::artifact::read_text_file(path, 1024 * 1024, "npm's keys.json")
                .map_err(|e| CliError::new(exit::UNREADABLE, format!("{}: {e}", path.display())))?;
            Some(
                npm::parse_keys(bytes.as_bytes(), &path.display().to_string())
                    .map_err(|e| CliError::new(exit::UNREADABLE, e))?,
            )
        }
        (Ecosystem::Npm, None) => {
            let mut repo = attest::trust::tuf::TufRepository::public_good();
            repo.target = npm::KEYS_TARGET.into();
            let opts =
                crate::settings::fetch_options(args.trust.offline, args.trust.cache_dir.clone());
            match attest::trust::tuf::fetch_target(&repo, &opts)
                .map_err(|e| e.to_string())
                .and_then(|t| npm::parse_keys(&t.bytes, npm::KEYS_TARGET))
            {
                Ok(k) => Some(k),
                Err(e) => {
                    eprintln!(
                        "Warning: npm's registry keys ({}) could not be loaded over TUF, so publish attestations are not verified: {e}; pass --npm-keys",
                        npm::KEYS_TARGET
                    );
                    None
                }
            }
        }
    };
    let packages = lockfile::packages(&locked.files, eco);
    let ctx = Ctx {
        eco,
        service: &service,
        cache: cache.as_deref(),
        offline: args.trust.offline,
        verifier: &verifier,
        policy: policy_verifier.as_ref(),
        npm_keys: npm_keys.as_deref(),
        publish_verified: AtomicUsize::new(0),
        requests: AtomicUsize::new(0),
        cache_hits: AtomicUsize::new(0),
    };
    let bar = progress(packages.len());
    let results: Mutex<Vec<(usize, Result<Package, String>)>> = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..args.jobs.min(packages.len().max(1) as u16) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((name, version, files)) = packages.get(i) else {
                    break;
                };
                let r = ctx.audit_package(name, version, files);
                if let Some(b) = &bar {
                    b.inc(1);
                }
                results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((i, r));
            });
        }
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _)| *i);

    let mut audited: Vec<Package> = Vec::new();
    let mut errors = Vec::new();
    for ((name, version, _), (_, r)) in packages.iter().zip(results) {
        match r {
            Ok(p) => audited.push(p),
            Err(e) => errors.push(format!("{name} {version}: {e}")),
        }
    }
    // Who published, against what the user trusts.
    for p in &mut audited {
        let required: Vec<&attest::pep740::Publisher> = locked
            .files
            .iter()
            .filter(|f| lockfile::package_name(f, eco) == p.name && f.version == p.version)
            .flat_map(|f| f.identities.iter())
            .collect();
        if !required.is_empty() && p.has_provenance() {
            if let Some(why) = check_identities(p, &required) {
                p.policy = Some(why);
            }
        }
        if let Some(lock) = &publisher_lock {
            if p.has_provenance() {
                let check = lock.check_name(&p.lock_name(eco), &p.signers());
                if !check.passed() {
                    p.policy = Some(check.message());
                }
            }
        }
    }
    if args.update_lock {
        let mut lock = if lock_path.exists() {
            Lock::load(&lock_path).map_err(|e| CliError::new(exit::UNREADABLE, e))?
        } else {
            Lock::default()
        };
        for p in audited.iter().filter(|p| p.status() == Status::Verified) {
            lock.set(p.lock_name(eco), p.signers());
        }
        crate::output::PendingOutput::create(&lock_path)
            .and_then(|o| o.commit(lock.to_toml().as_bytes()))
            .map_err(|e| CliError::new(exit::OUTPUT, e))?;
        info!("Wrote {}", lock_path.display());
    }

    print_report(&args, &shown, &audited, &errors, &ctx);

    // A package with attestations that do not verify fails (its bytes may
    // not be the release's); one without any fails only when required.
    let mut statuses: Vec<Status> = audited
        .iter()
        .filter(|p| p.has_provenance() || args.require_provenance)
        .map(Package::status)
        .filter(|s| *s != Status::Verified)
        .collect();
    if !errors.is_empty() || !locked.problems.is_empty() {
        statuses.push(Status::Unreadable);
    }
    Ok(exit::furthest(&statuses).unwrap_or(exit::OK))
}

/// A package's certificates must name one of the publishers pylock.toml
/// lists for it; `Some(why)` when a verified file's does not.
fn check_identities(p: &Package, required: &[&attest::pep740::Publisher]) -> Option<String> {
    let mut why = Vec::new();
    for (file, r) in &p.files {
        let FileResult::Verified(v) = r else { continue };
        let Some(cert) = &v.1 else {
            why.push(format!(
                "{file}: attestation-identities: signed with a key, not a certificate"
            ));
            continue;
        };
        if let Some(Err(first)) =
            (!required.iter().any(|r| r.matches(cert).is_ok())).then(|| required[0].matches(cert))
        {
            why.push(format!("{file}: attestation-identities: {first}"));
        }
    }
    (!why.is_empty()).then(|| why.join("; "))
}

/// What every package's audit shares.
struct Ctx<'a> {
    eco: Ecosystem,
    service: &'a str,
    cache: Option<&'a std::path::Path>,
    offline: bool,
    verifier: &'a Verifier,
    /// `--policy`: the policy file judges each file instead.
    policy: Option<&'a attest::policy_file::PolicyVerifier>,
    /// npm's registry keys, for publish attestations.
    npm_keys: Option<&'a [npm::NpmKey]>,
    publish_verified: AtomicUsize,
    requests: AtomicUsize,
    cache_hits: AtomicUsize,
}

impl Ctx<'_> {
    /// One package: each file's attestations, verified.
    fn audit_package(
        &self,
        name: &str,
        version: &str,
        files: &[&LockedFile],
    ) -> Result<Package, String> {
        // requirements.txt pins digests without names: the index says which
        // file each digest is.
        let listed = if self.eco == Ecosystem::Pypi && files.iter().any(|f| f.filename.is_none()) {
            if self.offline {
                return Err(
                    "--offline: the index must name the files of hash-pinned requirements".into(),
                );
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            pypi::release_files(self.service, name, version).map_err(|e| e.to_string())?
        } else {
            Vec::new()
        };
        let mut out = Vec::new();
        for f in files {
            let file = match &f.filename {
                Some(n) => n.clone(),
                // npm's attestations are asked by name@version; the lock
                // need not name the tarball.
                None if self.eco == Ecosystem::Npm => format!("{name}-{version}.tgz"),
                None => match listed.iter().find(|l| l.sha256 == f.digest) {
                    Some(l) => l.filename.clone(),
                    None => {
                        out.push((
                            f.digest.to_string(),
                            FileResult::Failed(
                                Status::NoAttestation,
                                format!(
                                    "{} lists no file of {name} {version} with this sha256",
                                    self.service
                                ),
                            ),
                        ));
                        continue;
                    }
                },
            };
            // The simple API says which files have provenance (PEP 740's
            // `provenance` key): one it lists without any is not asked for.
            let listed_none = listed
                .iter()
                .any(|l| l.filename == file && !l.has_provenance);
            let result = if listed_none && self.policy.is_none() {
                FileResult::NoProvenance
            } else {
                self.audit_file(name, version, &file, &f.digest)?
            };
            out.push((file, result));
        }
        Ok(Package {
            name: name.to_string(),
            version: version.to_string(),
            files: out,
            policy: None,
        })
    }

    fn audit_file(
        &self,
        name: &str,
        version: &str,
        file: &str,
        digest: &ArtifactDigest,
    ) -> Result<FileResult, String> {
        let Some(body) = self.answer(name, version, file, digest)? else {
            // A policy may still require nothing of this package, or say
            // what an unmatched one becomes.
            if let Some(pv) = self.policy {
                return Ok(policy_result(
                    pv,
                    &self.subject(name, version, file, digest),
                    &[],
                    true,
                ));
            }
            return Ok(FileResult::NoProvenance);
        };
        let bundles: Vec<Result<LoadedBundle, BundleError>> = match self.eco {
            Ecosystem::Pypi => {
                let origin = format!("{file} provenance");
                let prov = attest::pep740::parse(&body, &origin).map_err(|e| e.to_string())?;
                attest::pep740::bundles_for(&prov, file)
            }
            // npm's publish attestation is signed with the registry's key,
            // not a certificate, and says the registry published exactly
            // this tarball: verified with npm's keys, apart from the build's
            // provenance.
            Ecosystem::Npm => {
                let all = npm::bundles_of(&body, &format!("{name}@{version} attestations"))
                    .map_err(|e| e.to_string())?;
                let (publish, provenance): (Vec<_>, Vec<_>) = all
                    .into_iter()
                    .partition(|(listed, _)| listed == npm::PUBLISH_V01);
                if let Some(keys) = self.npm_keys {
                    // As npm does: a signature that names a key ID must name
                    // one of the registry's keys.
                    for (_, b) in publish.iter().chain(&provenance) {
                        if let Ok(Err(e)) = b.as_ref().map(|b| npm::check_key_ids(b, keys)) {
                            return Ok(FileResult::Failed(Status::Verification, e));
                        }
                    }
                }
                if let (Some(keys), Some(instance)) = (self.npm_keys, self.verifier.trust().first())
                {
                    for (_, b) in &publish {
                        let checked = b.as_ref().map_err(ToString::to_string).and_then(|b| {
                            npm::verify_publish(b, name, version, digest, keys, instance)
                        });
                        if let Err(e) = checked {
                            return Ok(FileResult::Failed(
                                Status::Verification,
                                format!("npm's publish attestation: {e}"),
                            ));
                        }
                        self.publish_verified.fetch_add(1, Ordering::Relaxed);
                    }
                }
                provenance.into_iter().map(|(_, b)| b).collect()
            }
        };
        if let Some(pv) = self.policy {
            return Ok(policy_result(
                pv,
                &self.subject(name, version, file, digest),
                &bundles,
                false,
            ));
        }
        let verdict = self.verifier.verify_artifact(&bundles, digest);
        Ok(file_result(&verdict))
    }

    /// The policy subject of a locked file: its distribution file name for
    /// PyPI (so `pypi = [...]` rules match), `npm pack`'s name for npm.
    fn subject(
        &self,
        name: &str,
        version: &str,
        file: &str,
        digest: &ArtifactDigest,
    ) -> attest::policy_file::Subject {
        let shown = match self.eco {
            Ecosystem::Pypi => file.to_string(),
            Ecosystem::Npm => format!(
                "{}-{version}.tgz",
                name.trim_start_matches('@').replacen('/', "-", 1)
            ),
        };
        attest::policy_file::Subject::file(shown, digest.clone())
    }

    /// The index's or registry's answer for one file, from the cache when
    /// it has it (a file's attestations never change: its digest is the
    /// key); `None` when there is none.
    fn answer(
        &self,
        name: &str,
        version: &str,
        file: &str,
        digest: &ArtifactDigest,
    ) -> Result<Option<Vec<u8>>, String> {
        let cached = self
            .cache
            .map(|dir| dir.join(format!("{}-{}.json", digest.algorithm(), digest.hex())));
        if let Some(path) = &cached {
            if let Ok(bytes) = std::fs::read(path) {
                self.cache_hits.fetch_add(1, Ordering::Relaxed);
                return Ok(Some(bytes));
            }
        }
        if self.offline {
            return Err(format!(
                "--offline: not in the provenance cache ({})",
                cached.map_or("no cache".into(), |p| p.display().to_string())
            ));
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        let body = match self.eco {
            Ecosystem::Pypi => pypi::fetch_provenance_bytes(self.service, file)
                .map(|o| o.map(|(b, _)| b))
                .map_err(|e| e.to_string())?,
            Ecosystem::Npm => {
                npm::fetch_attestations(self.service, name, version).map_err(|e| e.to_string())?
            }
        };
        if let (Some(path), Some(bytes)) = (&cached, &body) {
            // Written whole under a temporary name, then renamed: a reader
            // never sees half a file; a cache that cannot be written only
            // costs the next run a request.
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = crate::output::PendingOutput::create(path).and_then(|p| p.commit(bytes));
        }
        Ok(body)
    }
}

/// A file judged by the policy file: passed (its signer), or why not. A
/// file without provenance that the policy lets pass stays "no provenance".
fn policy_result(
    pv: &attest::policy_file::PolicyVerifier,
    subject: &attest::policy_file::Subject,
    bundles: &[Result<LoadedBundle, BundleError>],
    none: bool,
) -> FileResult {
    let evidence = pv.verify_evidence(subject, bundles);
    let report = pv.policy().evaluate(subject, &evidence);
    if !report.passed {
        return FileResult::Failed(
            report.status,
            report
                .reason
                .unwrap_or_else(|| "the policy is not met".into()),
        );
    }
    if none {
        return FileResult::NoProvenance;
    }
    let signers = crate::policy_run::signers(&report);
    let cert = evidence
        .iter()
        .filter_map(|e| e.verified.as_ref().ok())
        .find(|a| LockedIdentity::of(a).is_some_and(|id| signers.contains(&id)))
        .and_then(|a| a.certificate.clone());
    match signers.into_iter().next() {
        Some(id) => FileResult::Verified(Box::new((id, cert))),
        // The rules that matched require no attestation.
        None => FileResult::NoProvenance,
    }
}

fn file_result(verdict: &ArtifactVerdict) -> FileResult {
    if verdict.verified() {
        let att = verdict.matched().find_map(|r| r.outcome.attestation());
        let id = att.and_then(LockedIdentity::of);
        return match (id, att) {
            (Some(id), Some(att)) => FileResult::Verified(Box::new((id, att.certificate.clone()))),
            _ => FileResult::Failed(
                Status::Verification,
                "a verified attestation names no signer".into(),
            ),
        };
    }
    if verdict.results.is_empty() {
        return FileResult::NoProvenance;
    }
    let (_, message) = report::failure_headline(verdict, &Policy::identity_only(None, None));
    FileResult::Failed(verdict.status(), message)
}

fn progress(len: usize) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() || crate::output::verbosity::quiet() || len < 2 {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("auditing {bar:30} {pos}/{len} packages {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(bar)
}

fn signer_text(p: &Package) -> String {
    p.signers()
        .iter()
        .map(|s| s.repository.clone().unwrap_or_else(|| s.signer.clone()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_report(
    args: &AuditArgs,
    shown: &str,
    audited: &[Package],
    errors: &[String],
    ctx: &Ctx<'_>,
) {
    let with = audited.iter().filter(|p| p.has_provenance()).count();
    let verified = audited
        .iter()
        .filter(|p| p.status() == Status::Verified)
        .count();
    let failed = audited
        .iter()
        .filter(|p| p.has_provenance() && p.status() != Status::Verified)
        .count();
    let mut repos: Vec<String> = audited
        .iter()
        .flat_map(|p| p.signers())
        .filter_map(|s| s.repository)
        .collect();
    repos.sort();
    repos.dedup();
    let rows: Vec<crate::summary::Row> = audited
        .iter()
        .map(|p| crate::summary::Row {
            artifact: format!("{} {}", p.name, p.version),
            status: p.status(),
            detail: if p.status() == Status::Verified {
                signer_text(p)
            } else {
                p.reason()
            },
        })
        .collect();
    crate::summary::append(&rows);
    match args.format {
        Some(crate::args::Format::Junit) => {
            crate::output::out::write_all(crate::junit::xml("attest audit", &rows).as_bytes())
        }
        Some(crate::args::Format::Json) => {
            let packages: Vec<Value> = audited
                .iter()
                .map(|p| {
                    json!({
                        "name": p.name,
                        "version": p.version,
                        "status": status_word(p),
                        "publishers": p.signers().iter().map(|s| json!({"signer": s.signer, "issuer": s.issuer, "repository": s.repository})).collect::<Vec<_>>(),
                        "reason": (p.status() != Status::Verified).then(|| p.reason()),
                        "files": p.files.iter().map(|(f, r)| json!({
                            "file": f,
                            "status": match r { FileResult::Verified(_) => "verified", FileResult::NoProvenance => "no-provenance", FileResult::Failed(..) => "failed" },
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let doc = json!({
                "schemaVersion": 1,
                "lockfile": shown,
                "packages": packages,
                "errors": errors,
                "summary": {
                    "packages": audited.len(),
                    "withProvenance": with,
                    "verified": verified,
                    "failed": failed,
                    "withoutProvenance": audited.len() - with,
                    "repositories": repos,
                },
            });
            crate::output::out::line(&doc.to_string());
        }
        None => {
            let width = audited
                .iter()
                .map(|p| p.name.len() + p.version.len() + 1)
                .max()
                .unwrap_or(0);
            let mut text = String::new();
            for p in audited {
                let what = format!("{} {}", p.name, p.version);
                let detail = if p.status() == Status::Verified {
                    format!("published by {}", signer_text(p))
                } else {
                    p.reason()
                };
                text.push_str(&format!(
                    "{:<6} {:<width$}  {}
",
                    status_word(p).to_ascii_uppercase(),
                    report::printable_name(&what),
                    report::printable_name(&detail),
                ));
            }
            crate::output::out::write_all(text.as_bytes());
        }
    }
    for e in errors {
        eprintln!("Error: {}", report::printable_name(e));
    }
    info!(
        "{}: {} with provenance ({verified} verified, {failed} failed), {} without; from {}",
        report::plural(audited.len(), "package"),
        with,
        audited.len() - with,
        match repos.len() {
            1 => "1 repository".to_string(),
            n => format!("{n} repositories"),
        }
    );
    if ctx.eco == Ecosystem::Npm {
        info!(
            "{} verified with npm's registry keys",
            report::plural(
                ctx.publish_verified.load(Ordering::Relaxed),
                "publish attestation"
            )
        );
    }
    detail!(
        "{} to {}, {} from the cache",
        report::plural(ctx.requests.load(Ordering::Relaxed), "request"),
        ctx.service,
        ctx.cache_hits.load(Ordering::Relaxed)
    );
}

fn status_word(p: &Package) -> &'static str {
    match p.status() {
        Status::Verified => "ok",
        Status::NoAttestation if !p.has_provenance() => "none",
        Status::Policy => "policy",
        _ => "fail",
    }
}
