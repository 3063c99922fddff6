//! What the user expects of an attestation, with gh's semantics.
//!
//! A [`Policy`] is built from gh-style flags ([`PolicyFlags`]) and evaluated
//! against a [`VerifiedAttestation`] into named [`PolicyCheck`]s, each with
//! the expected and the actual value, so a failure says exactly which claim
//! differed. Comparison rules follow gh 2.103.3: owner, repository, issuer and
//! digests ignore case, the source ref does not, `--cert-identity` is exact
//! and case-sensitive, regexes are unanchored unless the pattern anchors them.

use regex::Regex;

use crate::bundle::SLSA_PROVENANCE_V1;
use crate::verify::VerifiedAttestation;

mod goregex;
mod provenance;

pub use goregex::{go_quote_meta, GoRegex};
pub use provenance::{github_provenance_checks, provenance_checks, GITHUB_BUILD_TYPES};

/// GitHub Actions' OIDC issuer on github.com.
pub const GITHUB_ACTIONS_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The flags, as gh spells them.
#[derive(Debug, Clone, Default)]
pub struct PolicyFlags {
    /// `--owner`.
    pub owner: Option<String>,
    /// `--repo` (`OWNER/REPO`).
    pub repo: Option<String>,
    /// `--signer-repo` (`OWNER/REPO`).
    pub signer_repo: Option<String>,
    /// `--signer-workflow`.
    pub signer_workflow: Option<String>,
    /// `--cert-identity`.
    pub cert_identity: Option<String>,
    /// `--cert-identity-regex`.
    pub cert_identity_regex: Option<String>,
    /// `--cert-oidc-issuer`; `None` means the default for the host.
    pub cert_oidc_issuer: Option<String>,
    /// `--deny-self-hosted-runners`.
    pub deny_self_hosted_runners: bool,
    /// `--predicate-type`; `None` means SLSA provenance v1.
    pub predicate_type: Option<String>,
    /// `--signer-digest`.
    pub signer_digest: Option<String>,
    /// `--source-digest`.
    pub source_digest: Option<String>,
    /// `--source-ref`.
    pub source_ref: Option<String>,
    /// `--hostname`; `None` means github.com.
    pub hostname: Option<String>,
}

impl PolicyFlags {
    /// An empty value is refused, never read as "no constraint": an empty
    /// `--cert-identity-regex` would otherwise match every identity and
    /// drop the default owner check.
    pub fn check_non_empty(&self) -> Result<(), PolicyError> {
        let values = [
            ("--owner", &self.owner),
            ("--repo", &self.repo),
            ("--signer-repo", &self.signer_repo),
            ("--signer-workflow", &self.signer_workflow),
            ("--cert-identity", &self.cert_identity),
            ("--cert-identity-regex", &self.cert_identity_regex),
            ("--cert-oidc-issuer", &self.cert_oidc_issuer),
            ("--predicate-type", &self.predicate_type),
            ("--signer-digest", &self.signer_digest),
            ("--source-digest", &self.source_digest),
            ("--source-ref", &self.source_ref),
            ("--hostname", &self.hostname),
        ];
        for (flag, value) in values {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return Err(usage(format!(
                    "{flag}: empty value; give a value or leave the flag out"
                )));
            }
        }
        Ok(())
    }
}

/// How the certificate's SAN must look.
#[derive(Debug, Clone)]
pub enum SanMatcher {
    /// Equal, case-sensitive (`--cert-identity`).
    Exact(String),
    /// Matches the regex somewhere (unanchored unless anchored).
    Regex(GoRegex),
    /// No SAN requirement (conformance `--key` runs only).
    Any,
}

impl SanMatcher {
    fn matches(&self, san: &str) -> bool {
        match self {
            Self::Exact(s) => s == san,
            Self::Regex(r) => r.is_match(san),
            Self::Any => true,
        }
    }
}

/// A built policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The predicate type attestations must carry.
    pub predicate_type: String,
    /// Expected SourceRepositoryOwnerURI, e.g. `https://github.com/sigstore`.
    pub owner_uri: Option<String>,
    /// Expected SourceRepositoryURI, e.g. `https://github.com/sigstore/sigstore-js`.
    pub repo_uri: Option<String>,
    /// The SAN rule.
    pub san: SanMatcher,
    /// Expected OIDC issuer (compared ignoring case).
    pub issuer: Option<String>,
    /// Expected BuildSignerDigest.
    pub signer_digest: Option<String>,
    /// Expected SourceRepositoryDigest.
    pub source_digest: Option<String>,
    /// Expected SourceRepositoryRef (case-sensitive).
    pub source_ref: Option<String>,
    /// Expected RunnerEnvironment (`github-hosted` under `--deny-self-hosted-runners`).
    pub runner_environment: Option<String>,
    /// Fail on the SLSA cross-check of GitHub Actions provenance against
    /// its certificate (`--check-provenance`); otherwise it is only reported.
    pub check_provenance: bool,
}

/// A flag value or combination gh would refuse.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyError {
    /// A usage error with gh's message.
    #[error("{0}")]
    Usage(String),
}

fn usage(msg: impl Into<String>) -> PolicyError {
    PolicyError::Usage(msg.into())
}

fn compile(pattern: &str) -> Result<GoRegex, PolicyError> {
    GoRegex::new(pattern)
}

fn split_nwo(flag: &str, value: &str) -> Result<(String, String), PolicyError> {
    let parts: Vec<&str> = value.split('/').collect();
    match parts.as_slice() {
        [owner, repo] if !owner.is_empty() && !repo.is_empty() => {
            Ok((owner.to_string(), repo.to_string()))
        }
        _ => Err(usage(format!(
            "invalid value provided for {flag}: {value} (expected OWNER/REPO)"
        ))),
    }
}

/// The host's web origin and default OIDC issuer: github.com, or a GHE.com
/// tenant (`*.ghe.com`); gh refuses anything else.
fn host_urls(hostname: Option<&str>) -> Result<(String, String), PolicyError> {
    let host = hostname.unwrap_or("github.com").trim().to_ascii_lowercase();
    if host == "github.com" {
        return Ok(("https://github.com".into(), GITHUB_ACTIONS_ISSUER.into()));
    }
    if let Some(tenant) = host.strip_suffix(".ghe.com") {
        if !tenant.is_empty() && !tenant.contains('.') {
            return Ok((
                format!("https://{host}"),
                format!("https://token.actions.{tenant}.ghe.com"),
            ));
        }
    }
    Err(usage(format!(
        "An unsupported host was detected ({host}). Note that attestations exist on github.com and GHE.com (*.ghe.com) only"
    )))
}

impl Policy {
    /// Build the policy gh would enforce for these flags.
    pub fn from_flags(flags: &PolicyFlags) -> Result<Self, PolicyError> {
        flags.check_non_empty()?;
        let (server, default_issuer) = host_urls(flags.hostname.as_deref())?;
        let host = server.trim_start_matches("https://").to_string();

        let (owner, repo_nwo) = match (&flags.owner, &flags.repo) {
            (Some(_), Some(_)) => {
                return Err(usage(
                    "specify only one of --owner or --repo (the owner is taken from --repo)",
                ))
            }
            // cosign's identity: a SAN (exact or regex) and an issuer, both
            // said by the user; any CI, not only GitHub Actions.
            (None, None) => return Self::from_identity_flags(flags),
            (Some(o), None) => (o.clone(), None),
            (None, Some(r)) => {
                let (o, n) = split_nwo("repo", r)?;
                (o.clone(), Some(format!("{o}/{n}")))
            }
        };
        if owner.is_empty() {
            return Err(usage("--owner must not be empty"));
        }

        let identity_flags = [
            flags.cert_identity.is_some(),
            flags.cert_identity_regex.is_some(),
            flags.signer_repo.is_some(),
            flags.signer_workflow.is_some(),
        ];
        if identity_flags.iter().filter(|&&b| b).count() > 1 {
            return Err(usage(
                "if any flags in the group [cert-identity cert-identity-regex signer-repo signer-workflow] are set none of the others can be",
            ));
        }

        let san = if let Some(id) = &flags.cert_identity {
            SanMatcher::Exact(id.clone())
        } else if let Some(re) = &flags.cert_identity_regex {
            SanMatcher::Regex(compile(re)?)
        } else if let Some(sr) = &flags.signer_repo {
            let (o, n) = split_nwo("signer-repo", sr)?;
            SanMatcher::Regex(GoRegex::prefix_ignoring_case(&format!(
                "{server}/{o}/{n}/"
            ))?)
        } else if let Some(w) = &flags.signer_workflow {
            SanMatcher::Regex(compile(&signer_workflow_pattern(w, &host)?)?)
        } else if let Some(nwo) = &repo_nwo {
            SanMatcher::Regex(GoRegex::prefix_ignoring_case(&format!("{server}/{nwo}/"))?)
        } else {
            SanMatcher::Regex(GoRegex::prefix_ignoring_case(&format!(
                "{server}/{owner}/"
            ))?)
        };

        let predicate_type = flags
            .predicate_type
            .clone()
            .unwrap_or_else(|| SLSA_PROVENANCE_V1.to_string());
        if predicate_type.is_empty() {
            return Err(usage("PredicateType must be set"));
        }

        Ok(Self {
            predicate_type,
            owner_uri: Some(format!("{server}/{owner}")),
            repo_uri: repo_nwo.map(|nwo| format!("{server}/{nwo}")),
            san,
            // As gh does: on a tenant host, github.com's issuer, whether
            // defaulted or typed, stands for the tenant's own issuer.
            issuer: Some(match &flags.cert_oidc_issuer {
                Some(issuer) if issuer != GITHUB_ACTIONS_ISSUER => issuer.clone(),
                _ => default_issuer,
            }),
            signer_digest: flags.signer_digest.clone(),
            source_digest: flags.source_digest.clone(),
            source_ref: flags.source_ref.clone(),
            runner_environment: flags
                .deny_self_hosted_runners
                .then(|| "github-hosted".to_string()),
            check_provenance: false,
        })
    }

    /// The policy of cosign's identity flags, without a GitHub owner or
    /// repository: `--cert-identity` or `--cert-identity-regex`, and
    /// `--cert-oidc-issuer`, all required (an identity without its issuer
    /// would accept the same name from any OIDC provider the CA trusts).
    /// The certificate-extension flags (`--source-ref`, `--source-digest`,
    /// `--signer-digest`, `--deny-self-hosted-runners`) apply as with an owner.
    fn from_identity_flags(flags: &PolicyFlags) -> Result<Self, PolicyError> {
        if flags.signer_repo.is_some() || flags.signer_workflow.is_some() {
            return Err(usage(
                "--signer-repo and --signer-workflow name GitHub repositories: add --owner or --repo",
            ));
        }
        let san = match (&flags.cert_identity, &flags.cert_identity_regex) {
            (Some(_), Some(_)) => {
                return Err(usage(
                    "specify only one of --cert-identity or --cert-identity-regex",
                ))
            }
            (Some(id), None) => SanMatcher::Exact(id.clone()),
            (None, Some(re)) => SanMatcher::Regex(compile(re)?),
            (None, None) => {
                return Err(usage(
                    "say whose attestations to accept: --owner or --repo (GitHub Actions), or --cert-identity / --cert-identity-regex with --cert-oidc-issuer (any CI, as cosign)",
                ))
            }
        };
        let Some(issuer) = &flags.cert_oidc_issuer else {
            return Err(usage(
                "--cert-identity and --cert-identity-regex need --cert-oidc-issuer: an identity means nothing without the issuer that vouched for it",
            ));
        };
        if flags.hostname.is_some() {
            return Err(usage(
                "--hostname selects a GitHub host for --owner or --repo; with cosign's identity flags, name the issuer with --cert-oidc-issuer",
            ));
        }
        let predicate_type = flags
            .predicate_type
            .clone()
            .unwrap_or_else(|| SLSA_PROVENANCE_V1.to_string());
        Ok(Self {
            predicate_type,
            owner_uri: None,
            repo_uri: None,
            san,
            issuer: Some(issuer.clone()),
            signer_digest: flags.signer_digest.clone(),
            source_digest: flags.source_digest.clone(),
            source_ref: flags.source_ref.clone(),
            runner_environment: flags
                .deny_self_hosted_runners
                .then(|| "github-hosted".to_string()),
            check_provenance: false,
        })
    }

    /// The same policy, failing (`true`) or only reporting (`false`) when a
    /// GitHub Actions provenance disagrees with its certificate.
    pub fn with_provenance_check(mut self, enforce: bool) -> Self {
        self.check_provenance = enforce;
        self
    }

    /// The policy for key-signed bundles: a key has no identity, so only
    /// the statement's predicate type is constrained.
    pub fn statement_only(predicate_type: String) -> Self {
        let mut p = Self::identity_only(None, None);
        p.predicate_type = predicate_type;
        p
    }

    /// The policy of the sigstore-conformance protocol: an exact identity
    /// and issuer, nothing else (any predicate type, or none).
    pub fn identity_only(identity: Option<String>, issuer: Option<String>) -> Self {
        Self {
            predicate_type: String::new(),
            owner_uri: None,
            repo_uri: None,
            san: identity.map_or(SanMatcher::Any, SanMatcher::Exact),
            issuer,
            signer_digest: None,
            source_digest: None,
            source_ref: None,
            runner_environment: None,
            check_provenance: false,
        }
    }

    /// The criteria block gh prints before verifying: (label, value) rows.
    pub fn criteria(&self) -> Vec<(&'static str, String)> {
        let mut rows = Vec::new();
        if !self.predicate_type.is_empty() {
            rows.push(("Predicate type must match", self.predicate_type.clone()));
        }
        if let Some(v) = &self.owner_uri {
            rows.push(("Source Repository Owner URI must match", v.clone()));
        }
        if let Some(v) = &self.repo_uri {
            rows.push(("Source Repository URI must match", v.clone()));
        }
        if let Some(v) = &self.signer_digest {
            rows.push(("Build signer digest must match", v.clone()));
        }
        if let Some(v) = &self.source_digest {
            rows.push(("Source repo digest digest must match", v.clone()));
        }
        if let Some(v) = &self.source_ref {
            rows.push(("Source repo ref must match", v.clone()));
        }
        match &self.san {
            SanMatcher::Exact(s) => rows.push(("Subject Alternative Name must match", s.clone())),
            SanMatcher::Regex(r) => rows.push((
                "Subject Alternative Name must match regex",
                r.as_str().to_string(),
            )),
            SanMatcher::Any => {}
        }
        if let Some(v) = &self.issuer {
            rows.push(("OIDC Issuer must match", v.clone()));
        }
        if let Some(v) = &self.runner_environment {
            rows.push(("Action workflow Runner Environment must match ", v.clone()));
        }
        rows
    }

    /// gh's `verifiedIdentity` object for the JSON output.
    pub fn verified_identity_json(&self) -> serde_json::Value {
        let san = match &self.san {
            SanMatcher::Exact(s) => serde_json::json!({ "subjectAlternativeName": s }),
            SanMatcher::Regex(r) => {
                serde_json::json!({ "subjectAlternativeName": "", "regexp": r.as_str() })
            }
            SanMatcher::Any => serde_json::json!({ "subjectAlternativeName": "", "regexp": ".*" }),
        };
        let mut v = serde_json::json!({
            "subjectAlternativeName": san,
            "issuer": { "issuer": "", "regexp": ".*" },
        });
        if let Some(env) = &self.runner_environment {
            v["runnerEnvironment"] = serde_json::Value::String(env.clone());
        }
        v
    }

    /// Evaluate every check against a verified attestation. The checks come
    /// in gh's order: SAN and runner (sigstore-go's identity step), then the
    /// certificate-extension checks.
    pub fn evaluate(&self, att: &VerifiedAttestation) -> Vec<PolicyCheck> {
        let mut checks = Vec::new();
        let Some(cert) = &att.certificate else {
            // A key-signed bundle carries no identity; only the conformance
            // `--key` path asks for no identity at all.
            let passed = matches!(self.san, SanMatcher::Any) && self.issuer.is_none();
            checks.push(PolicyCheck::new(
                "Certificate",
                "a signing certificate",
                None,
                passed,
                "the bundle is signed with a key, not a certificate".into(),
            ));
            return checks;
        };
        let san = cert.subject_alternative_name.clone();
        let san_rule = match &self.san {
            SanMatcher::Any => None,
            SanMatcher::Exact(s) => Some(("be", s.clone())),
            SanMatcher::Regex(r) => Some(("match regex", r.as_str().to_string())),
        };
        if let Some((kind, expected)) = san_rule {
            let passed = san.as_deref().is_some_and(|s| self.san.matches(s));
            let mut msg = format!(
                "expected SubjectAlternativeName to {kind} {expected}, got {}",
                san.as_deref().unwrap_or("none")
            );
            if !passed {
                if let (Some(s), Some(repo)) = (&san, &cert.source_repository_uri) {
                    let inside = s
                        .to_ascii_lowercase()
                        .starts_with(&format!("{}/", repo.to_ascii_lowercase()));
                    if !inside {
                        msg.push_str(
                            " -- the attestation was signed by a workflow outside the source \
                             repository (a reusable workflow); check it with --signer-repo or \
                             --signer-workflow",
                        );
                    }
                }
            }
            checks.push(PolicyCheck::new(
                "SubjectAlternativeName",
                &expected,
                san.clone(),
                passed,
                msg,
            ));
        }
        if let Some(env) = &self.runner_environment {
            let actual = cert.runner_environment.clone();
            let passed = actual.as_deref() == Some(env.as_str());
            checks.push(PolicyCheck::new(
                "RunnerEnvironment",
                env,
                actual.clone(),
                passed,
                format!(
                    "expected RunnerEnvironment to be {env}, got {} (--deny-self-hosted-runners)",
                    actual.as_deref().unwrap_or("none")
                ),
            ));
        }
        let ci = |name: &'static str,
                  expected: &Option<String>,
                  actual: &Option<String>,
                  ignore_case: bool| {
            expected.as_ref().map(|exp| {
                let passed = actual.as_deref().is_some_and(|a| {
                    if ignore_case {
                        a.eq_ignore_ascii_case(exp)
                    } else {
                        a == exp
                    }
                });
                PolicyCheck::new(
                    name,
                    exp,
                    actual.clone(),
                    passed,
                    format!(
                        "expected {name} to be {exp}, got {}",
                        actual.as_deref().unwrap_or("")
                    ),
                )
            })
        };
        checks.extend(ci(
            "SourceRepositoryOwnerURI",
            &self.owner_uri,
            &cert.source_repository_owner_uri,
            true,
        ));
        checks.extend(ci(
            "SourceRepositoryURI",
            &self.repo_uri,
            &cert.source_repository_uri,
            true,
        ));
        if let Some(mut c) = ci("Issuer", &self.issuer, &cert.issuer, true) {
            if !c.passed {
                if let (Some(exp), Some(act)) = (&self.issuer, &cert.issuer) {
                    if act.starts_with(&format!("{exp}/")) {
                        c.message.push_str(" -- if you have a custom OIDC issuer policy for your enterprise, use the --cert-oidc-issuer flag with your expected issuer");
                    }
                }
            }
            checks.push(c);
        }
        checks.extend(ci(
            "BuildSignerDigest",
            &self.signer_digest,
            &cert.build_signer_digest,
            true,
        ));
        checks.extend(ci(
            "SourceRepositoryDigest",
            &self.source_digest,
            &cert.source_repository_digest,
            true,
        ));
        checks.extend(ci(
            "SourceRepositoryRef",
            &self.source_ref,
            &cert.source_repository_ref,
            false,
        ));
        if self.check_provenance {
            if let Some(st) = &att.statement {
                checks.extend(github_provenance_checks(&st.value, cert));
            }
        }
        checks
    }
}

/// The `--signer-workflow` SAN pattern, as gh builds it: host-qualified or
/// not, metacharacters escaped, anchored, case-sensitive, with an optional
/// `@ref` suffix unless the value already names one.
pub fn signer_workflow_pattern(workflow: &str, host: &str) -> Result<String, PolicyError> {
    let starts_with_host = Regex::new(r"^[a-zA-Z0-9-]+\.[a-zA-Z0-9-]+.*$")
        .map(|r| r.is_match(workflow))
        .unwrap_or(false);
    let url = if starts_with_host {
        format!("https://{workflow}")
    } else {
        if host.is_empty() {
            return Err(usage("unknown signer workflow host"));
        }
        format!("https://{host}/{workflow}")
    };
    let has_ref = Regex::new(r"@(refs/.*|[0-9a-fA-F]+)$")
        .map(|r| r.is_match(&url))
        .unwrap_or(false);
    let mut pattern = format!("^{}", go_quote_meta(&url));
    pattern.push_str(if has_ref {
        "$"
    } else {
        "(@(refs/.*|[0-9a-fA-F]+))?$"
    });
    Ok(pattern)
}

/// One evaluated expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyCheck {
    /// The claim, by gh's name (`SourceRepositoryRef`, `Issuer`, …).
    pub name: &'static str,
    /// What the policy expects (a value or a pattern).
    pub expected: String,
    /// What the certificate says.
    pub actual: Option<String>,
    /// Whether it passed.
    pub passed: bool,
    /// A one-line explanation, worded as gh words it where gh has wording.
    pub message: String,
}

impl PolicyCheck {
    fn new(
        name: &'static str,
        expected: &str,
        actual: Option<String>,
        passed: bool,
        message: String,
    ) -> Self {
        Self {
            name,
            expected: expected.to_string(),
            actual,
            passed,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags() -> PolicyFlags {
        PolicyFlags {
            owner: Some("sigstore".into()),
            ..Default::default()
        }
    }

    #[test]
    fn cosign_identity_needs_san_and_issuer_and_no_github_only_flag() {
        let issuer = "https://token.actions.githubusercontent.com";
        let p = Policy::from_flags(&PolicyFlags {
            cert_identity_regex: Some("^https://github\\.com/octo-org/".into()),
            cert_oidc_issuer: Some(issuer.into()),
            source_ref: Some("refs/tags/v1".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            (p.owner_uri.as_deref(), p.repo_uri.as_deref()),
            (None, None)
        );
        assert_eq!(p.issuer.as_deref(), Some(issuer));
        assert_eq!(p.source_ref.as_deref(), Some("refs/tags/v1"));
        assert_eq!(p.predicate_type, SLSA_PROVENANCE_V1);
        let SanMatcher::Regex(r) = &p.san else {
            panic!("{:?}", p.san)
        };
        assert!(r.is_match("https://github.com/octo-org/x/.github/workflows/r.yml@refs/tags/v1"));
        assert!(!r.is_match("https://github.com/evil/x/.github/workflows/r.yml@refs/tags/v1"));
        let exact = Policy::from_flags(&PolicyFlags {
            cert_identity: Some("release@example.com".into()),
            cert_oidc_issuer: Some("https://accounts.google.com".into()),
            ..Default::default()
        })
        .unwrap();
        assert!(
            matches!(&exact.san, SanMatcher::Exact(s) if s == "release@example.com"),
            "{:?}",
            exact.san
        );
        // Each refusal names what is missing.
        for (flags, needle) in [
            (
                PolicyFlags {
                    cert_identity: Some("x".into()),
                    ..Default::default()
                },
                "need --cert-oidc-issuer",
            ),
            (
                PolicyFlags {
                    cert_oidc_issuer: Some(issuer.into()),
                    ..Default::default()
                },
                "say whose attestations to accept",
            ),
            (
                PolicyFlags {
                    cert_identity: Some("x".into()),
                    cert_oidc_issuer: Some(issuer.into()),
                    signer_workflow: Some("o/r/.github/workflows/w.yml".into()),
                    ..Default::default()
                },
                "add --owner or --repo",
            ),
            (
                PolicyFlags {
                    cert_identity: Some("x".into()),
                    cert_oidc_issuer: Some(issuer.into()),
                    hostname: Some("acme.ghe.com".into()),
                    ..Default::default()
                },
                "--hostname selects a GitHub host",
            ),
        ] {
            let e = Policy::from_flags(&flags).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        }
    }

    #[test]
    fn default_san_regex_is_owner_prefix() {
        let p = Policy::from_flags(&flags()).unwrap();
        let SanMatcher::Regex(r) = &p.san else {
            panic!()
        };
        assert_eq!(r.as_str(), r"(?i)^https://github\.com/sigstore/");
        assert!(r.is_match("https://GitHub.com/sigstore/x/.github/workflows/a.yml@refs/heads/main"));
        assert!(!r.is_match("https://github.com/sigstorex/x"));
        assert_eq!(p.owner_uri.as_deref(), Some("https://github.com/sigstore"));
        assert_eq!(p.issuer.as_deref(), Some(GITHUB_ACTIONS_ISSUER));
    }

    #[test]
    fn repo_sets_owner_and_repo_and_quote_meta_matches_go() {
        let p = Policy::from_flags(&PolicyFlags {
            repo: Some("actions/attest-demo".into()),
            ..Default::default()
        })
        .unwrap();
        let SanMatcher::Regex(r) = &p.san else {
            panic!()
        };
        assert_eq!(r.as_str(), r"(?i)^https://github\.com/actions/attest-demo/");
        assert_eq!(
            p.repo_uri.as_deref(),
            Some("https://github.com/actions/attest-demo")
        );
        assert_eq!(p.owner_uri.as_deref(), Some("https://github.com/actions"));
        for bad in ["a", "a/b/c", "/b", "a/"] {
            let e = Policy::from_flags(&PolicyFlags {
                repo: Some(bad.into()),
                ..Default::default()
            });
            assert!(e.is_err(), "{bad}");
        }
    }

    #[test]
    fn signer_workflow_patterns_follow_gh() {
        assert_eq!(
            signer_workflow_pattern("o/r/.github/workflows/x.yml", "github.com").unwrap(),
            r"^https://github\.com/o/r/\.github/workflows/x\.yml(@(refs/.*|[0-9a-fA-F]+))?$"
        );
        assert_eq!(
            signer_workflow_pattern(
                "github.com/o/r/.github/workflows/x.yml@refs/heads/main",
                "github.com"
            )
            .unwrap(),
            r"^https://github\.com/o/r/\.github/workflows/x\.yml@refs/heads/main$"
        );
        let p = signer_workflow_pattern("o/r/.github/workflows/x.yml@refs/heads/.*", "github.com")
            .unwrap();
        let r = Regex::new(&p).unwrap();
        assert!(!r.is_match("https://github.com/o/r/.github/workflows/x.yml@refs/heads/main"));
    }

    #[test]
    fn identity_flags_are_exclusive_and_owner_or_repo_required() {
        let mut f = flags();
        f.cert_identity = Some("x".into());
        f.signer_repo = Some("a/b".into());
        assert!(Policy::from_flags(&f).is_err());
        assert!(Policy::from_flags(&PolicyFlags::default()).is_err());
        let mut f = flags();
        f.repo = Some("a/b".into());
        assert!(Policy::from_flags(&f).is_err());
        let mut f = flags();
        f.predicate_type = Some(String::new());
        assert_eq!(
            Policy::from_flags(&f).unwrap_err().to_string(),
            "--predicate-type: empty value; give a value or leave the flag out"
        );
    }

    #[test]
    fn an_empty_value_never_means_no_constraint() {
        type Setter = fn(&mut PolicyFlags);
        let setters: [(&str, Setter); 10] = [
            ("--cert-identity", |f| f.cert_identity = Some(String::new())),
            ("--cert-identity-regex", |f| {
                f.cert_identity_regex = Some(String::new())
            }),
            ("--cert-oidc-issuer", |f| {
                f.cert_oidc_issuer = Some(" ".into())
            }),
            ("--signer-repo", |f| f.signer_repo = Some(String::new())),
            ("--signer-workflow", |f| {
                f.signer_workflow = Some(String::new())
            }),
            ("--signer-digest", |f| f.signer_digest = Some(String::new())),
            ("--source-digest", |f| f.source_digest = Some(String::new())),
            ("--source-ref", |f| f.source_ref = Some(String::new())),
            ("--hostname", |f| f.hostname = Some(String::new())),
            ("--owner", |f| f.owner = Some(String::new())),
        ];
        for (flag, set) in setters {
            let mut f = flags();
            set(&mut f);
            let err = Policy::from_flags(&f).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("{flag}: empty value")),
                "{flag}: {err}"
            );
        }
    }

    #[test]
    fn tenancy_hosts_change_server_and_issuer() {
        let mut f = flags();
        f.hostname = Some("acme.ghe.com".into());
        let p = Policy::from_flags(&f).unwrap();
        assert_eq!(
            p.owner_uri.as_deref(),
            Some("https://acme.ghe.com/sigstore")
        );
        assert_eq!(
            p.issuer.as_deref(),
            Some("https://token.actions.acme.ghe.com")
        );
        // github.com's issuer given explicitly means the tenant's, as in gh;
        // any other issuer is kept.
        f.cert_oidc_issuer = Some(GITHUB_ACTIONS_ISSUER.into());
        assert_eq!(
            Policy::from_flags(&f).unwrap().issuer.as_deref(),
            Some("https://token.actions.acme.ghe.com")
        );
        f.cert_oidc_issuer = Some("https://issuer.example".into());
        assert_eq!(
            Policy::from_flags(&f).unwrap().issuer.as_deref(),
            Some("https://issuer.example")
        );
        f.hostname = None;
        f.cert_oidc_issuer = Some(GITHUB_ACTIONS_ISSUER.into());
        assert_eq!(
            Policy::from_flags(&f).unwrap().issuer.as_deref(),
            Some(GITHUB_ACTIONS_ISSUER)
        );
        f.hostname = Some("github.example.com".into());
        assert!(Policy::from_flags(&f).is_err());
    }
}
