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
}

/// A flag value or combination gh would refuse.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    /// A usage error with gh's message.
    #[error("{0}")]
    Usage(String),
}

fn usage(msg: impl Into<String>) -> PolicyError {
    PolicyError::Usage(msg.into())
}

/// Escape regex metacharacters as Go's `regexp.QuoteMeta` does, so the
/// patterns we print are byte-identical to gh's (Rust's `regex::escape`
/// escapes more characters, e.g. `-`).
pub fn go_quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A regular expression in Go's RE2 syntax, as gh takes it, matched with
/// Rust's `regex`. The two differ at the edges: Go has `\Q…\E` literals,
/// Rust does not; Rust has the flags `x`, `R` and `u` and class set
/// operations (`&&`, `--`, `~~`, nested `[`), which Go reads as literal
/// characters or refuses. The pattern is translated so that it matches what
/// Go's would, and shown as the user wrote it.
#[derive(Debug, Clone)]
pub struct GoRegex {
    source: String,
    regex: Regex,
}

impl GoRegex {
    /// Compile a Go RE2 pattern; an error names what is wrong with it.
    pub fn new(pattern: &str) -> Result<Self, PolicyError> {
        let invalid = |why: String| usage(format!("invalid regular expression {pattern:?}: {why}"));
        let translated = go_to_rust_regex(pattern).map_err(invalid)?;
        let regex = Regex::new(&translated).map_err(|e| invalid(e.to_string()))?;
        Ok(Self {
            source: pattern.to_string(),
            regex,
        })
    }

    /// The pattern as given (Go syntax), for messages and JSON.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern matches somewhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

/// Rewrite a Go RE2 pattern into Rust `regex` syntax with the same meaning.
fn go_to_rust_regex(pattern: &str) -> Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len());
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            match chars.get(i + 1) {
                Some('Q') => {
                    // A literal up to `\E` or the end of the pattern.
                    let rest: String = chars[i + 2..].iter().collect();
                    let (literal, after) = match rest.find("\\E") {
                        Some(end) => (&rest[..end], end + 2),
                        None => (rest.as_str(), rest.len()),
                    };
                    out.push_str(&regex::escape(literal));
                    i += 2 + rest[..after].chars().count();
                    continue;
                }
                Some(&next @ ('<' | '>')) => {
                    // Word-boundary assertions in Rust, an error in Go.
                    return Err(format!("invalid escape sequence `\\{next}`"));
                }
                Some(&next) => {
                    out.push(c);
                    out.push(next);
                    i += 2;
                    continue;
                }
                None => return Err("trailing backslash".into()),
            }
        }
        if in_class {
            match c {
                ']' => in_class = false,
                '[' if chars.get(i + 1) == Some(&':') => {
                    // A POSIX class, `[:alpha:]`, which both read alike.
                    let rest: String = chars[i..].iter().collect();
                    if let Some(end) = rest.find(":]") {
                        out.push_str(&rest[..end + 2]);
                        i += rest[..end + 2].chars().count();
                        continue;
                    }
                    out.push_str("\\[");
                    i += 1;
                    continue;
                }
                '[' => {
                    out.push_str("\\[");
                    i += 1;
                    continue;
                }
                '&' | '-' | '~' if chars.get(i + 1) == Some(&c) => {
                    // Rust's set operators; in Go, two literal characters
                    // (for `--`, a range ending in `-` would be a Go error
                    // too, so escaping both keeps the meaning of the rest).
                    out.push('\\');
                    out.push(c);
                    out.push('\\');
                    out.push(c);
                    i += 2;
                    continue;
                }
                _ => {}
            }
            out.push(c);
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                out.push(c);
                i += 1;
                // `]` right after `[` or `[^` is a literal in both.
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
                continue;
            }
            '(' if chars.get(i + 1) == Some(&'?') => {
                // A flag group, `(?flags)` or `(?flags:…)`: Go knows i, m, s, U.
                let flags: String = chars[i + 2..]
                    .iter()
                    .take_while(|f| f.is_ascii_alphabetic() || **f == '-')
                    .collect();
                let end = chars.get(i + 2 + flags.chars().count());
                if matches!(end, Some(':') | Some(')')) {
                    if let Some(bad) = flags.chars().find(|f| !"imsU-".contains(*f)) {
                        return Err(format!(
                            "flag `{bad}` in `(?{flags}…`: Go's RE2, which gh uses, knows only i, m, s and U"
                        ));
                    }
                }
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    Ok(out)
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
            (None, None) => {
                return Err(usage(
                    "one of --owner or --repo is required (or --cert-identity with --key-less checks via attest-conformance)",
                ))
            }
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
            SanMatcher::Regex(compile(&format!(
                "(?i)^{}",
                go_quote_meta(&format!("{server}/{o}/{n}/"))
            ))?)
        } else if let Some(w) = &flags.signer_workflow {
            SanMatcher::Regex(compile(&signer_workflow_pattern(w, &host)?)?)
        } else if let Some(nwo) = &repo_nwo {
            SanMatcher::Regex(compile(&format!(
                "(?i)^{}",
                go_quote_meta(&format!("{server}/{nwo}/"))
            ))?)
        } else {
            SanMatcher::Regex(compile(&format!(
                "(?i)^{}",
                go_quote_meta(&format!("{server}/{owner}/"))
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
        })
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
        checks
    }
}

/// Cross-check an actions/attest SLSA provenance predicate against the
/// signing certificate's claims (provenance-formats.md §4.1): the predicate
/// is signer-supplied, the certificate is Fulcio's record of the same job.
/// Older-generation predicates (npm, actions/attest before 1.3) name the
/// runner as the builder; for those the builder check compares the runner
/// environment instead.
pub fn provenance_checks(
    predicate: &serde_json::Value,
    cert: &crate::certificate::CertificateSummary,
) -> Vec<PolicyCheck> {
    let s = |v: &serde_json::Value| v.as_str().map(str::to_string);
    let bd = &predicate["buildDefinition"];
    let wf = &bd["externalParameters"]["workflow"];
    let gh = &bd["internalParameters"]["github"];
    let dep = &bd["resolvedDependencies"][0];
    let builder = s(&predicate["runDetails"]["builder"]["id"]);
    let mut checks = Vec::new();
    let mut eq =
        |name: &'static str, pred: Option<String>, cert_value: &Option<String>, optional: bool| {
            if optional && pred.is_none() {
                return;
            }
            let expected = cert_value.clone().unwrap_or_default();
            let passed = pred.is_some() && pred == *cert_value;
            checks.push(PolicyCheck::new(
                name,
                &expected,
                pred.clone(),
                passed,
                format!(
                    "the provenance says {name} is {}, the certificate says {}",
                    pred.as_deref().unwrap_or("(nothing)"),
                    cert_value.as_deref().unwrap_or("(nothing)")
                ),
            ));
        };
    let legacy_builder = builder
        .as_deref()
        .and_then(|b| b.strip_prefix("https://github.com/actions/runner/"))
        .map(str::to_string);
    match legacy_builder {
        Some(env) => eq(
            "builder.id runner",
            Some(env),
            &cert.runner_environment,
            false,
        ),
        None => eq("builder.id", builder, &cert.build_signer_uri, false),
    }
    eq(
        "workflow.repository",
        s(&wf["repository"]),
        &cert.source_repository_uri,
        false,
    );
    eq(
        "workflow.ref",
        s(&wf["ref"]),
        &cert.source_repository_ref,
        false,
    );
    let config_uri = match (s(&wf["repository"]), s(&wf["path"]), s(&wf["ref"])) {
        (Some(r), Some(p), Some(rf)) => Some(format!("{r}/{p}@{rf}")),
        _ => None,
    };
    eq("workflow.path", config_uri, &cert.build_config_uri, false);
    eq(
        "resolvedDependencies[0].digest.gitCommit",
        s(&dep["digest"]["gitCommit"]),
        &cert.source_repository_digest,
        false,
    );
    let dep_uri = match (&cert.source_repository_uri, &cert.source_repository_ref) {
        (Some(u), Some(r)) => Some(format!("git+{u}@{r}")),
        _ => None,
    };
    eq(
        "resolvedDependencies[0].uri",
        s(&dep["uri"]),
        &dep_uri,
        false,
    );
    eq(
        "github.event_name",
        s(&gh["event_name"]),
        &cert.build_trigger,
        false,
    );
    eq(
        "github.repository_id",
        s(&gh["repository_id"]),
        &cert.source_repository_identifier,
        false,
    );
    eq(
        "github.repository_owner_id",
        s(&gh["repository_owner_id"]),
        &cert.source_repository_owner_identifier,
        false,
    );
    eq(
        "github.runner_environment",
        s(&gh["runner_environment"]),
        &cert.runner_environment,
        true,
    );
    eq(
        "metadata.invocationId",
        s(&predicate["runDetails"]["metadata"]["invocationId"]),
        &cert.run_invocation_uri,
        false,
    );
    checks
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
        let setters: [(&str, fn(&mut PolicyFlags)); 10] = [
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
    fn regexes_are_read_as_go_reads_them() {
        let re = |p: &str| GoRegex::new(p);
        // `\Q…\E` is a literal, to `\E` or the end.
        let r = re(r"^\Qhttps://x.y/a+b\E/.*$").unwrap();
        assert!(r.is_match("https://x.y/a+b/c"));
        assert!(!r.is_match("https://xzy/aab/c"));
        assert_eq!(r.as_str(), r"^\Qhttps://x.y/a+b\E/.*$");
        assert!(re(r"\Q(a|b").unwrap().is_match("x(a|b"));
        assert!(re(r"\Q<a>").unwrap().is_match("<a>"));
        // Flags Go lacks, and Rust-only escapes, are refused.
        for bad in ["(?x) a", "(?R)a", "(?u:a)", "(?i-x:a)", r"\<a", "a\\"] {
            assert!(re(bad).is_err(), "{bad}");
        }
        for good in ["(?i)A", "(?s:a.b)", "(?U)a+", "(?im-s:a)", "(?P<n>a)"] {
            assert!(re(good).is_ok(), "{good}");
        }
        assert!(re("(?i)SIGSTORE").unwrap().is_match("sigstore"));
        // Class set operators and nested `[` are literals in Go.
        let r = re("^[a&&b]$").unwrap();
        assert!(r.is_match("&") && r.is_match("a") && !r.is_match("c"));
        let r = re("^[a~~]$").unwrap();
        assert!(r.is_match("~"));
        let r = re("^[[]$").unwrap();
        assert!(r.is_match("["));
        let r = re("^[]a]$").unwrap();
        assert!(r.is_match("]") && r.is_match("a"));
        let r = re("^[^]a]$").unwrap();
        assert!(!r.is_match("]") && r.is_match("b"));
        let r = re("^[[:digit:]x]+$").unwrap();
        assert!(r.is_match("12x") && !r.is_match("y"));
        assert!(re(r"^[\]]$").unwrap().is_match("]"));
        // What follows `\E` is read as a pattern again.
        let r = re(r"^\Qa.b\E/c$").unwrap();
        assert!(r.is_match("a.b/c") && !r.is_match("a.b/cd") && !r.is_match("axb/c"));
        // A class ends at its `]`; what follows is outside it.
        let r = re("^[a][b]$").unwrap();
        assert!(r.is_match("ab") && !r.is_match("a[b]"));
        // `[` followed by `:` but no `:]`, and `[` in a class: literals.
        let r = re("^[[:a]$").unwrap();
        assert!(r.is_match("[") && r.is_match(":") && r.is_match("a"));
        let r = re("^[[x:]]$").unwrap();
        assert!(r.is_match("[]") && r.is_match("x]") && !r.is_match("x"));
        // Ranges still work: only doubled `&`, `-`, `~` are escaped.
        let r = re("^[a-c]$").unwrap();
        assert!(r.is_match("b") && !r.is_match("-"));
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
