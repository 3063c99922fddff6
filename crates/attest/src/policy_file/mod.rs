//! `attest.toml`: what each artifact of a release must carry, in one file
//! that the shell, CI and the admission webhook read the same way.
//!
//! A [`PolicyFile`] is parsed and compiled once (every glob, regex, key and
//! Rego module checked before any verification, each error naming
//! `file:line:column`), then evaluated as a pure function of a [`Subject`]
//! and the [`Evidence`] verified for it ([`PolicyFile::evaluate`]). The
//! impure half, verifying bundles under trust material, is
//! [`PolicyVerifier`]. Every verdict carries the policy's digest, so a
//! cache can key on it.
//!
//! ```toml
//! version = 1
//!
//! [[rule]]
//! name = "wheels and sdists"
//! pypi = ["openmed"]
//!
//! [[rule.require]]
//! predicate-type = "slsa-provenance-v1"
//! repo = "maziyarpanahi/openmed"
//! signer-workflow = "maziyarpanahi/openmed/.github/workflows/provenance.yml"
//! source-ref = { glob = "refs/tags/v*" }
//! ```
//!
//! The reference of every key is `docs/policy.md`.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};
use serde_json::Value;

use crate::bundle::SLSA_PROVENANCE_V1;
use crate::policy::{GoRegex, Policy, PolicyCheck, PolicyFlags, SanMatcher};
use crate::verify::{DerPublicKey, VerifiedAttestation};

mod evaluate;
pub mod lock;
mod rego;
mod schema;
mod subject;

pub use evaluate::{
    AttestationReport, Evidence, EvidenceFailure, PolicyVerifier, RequirementReport, RuleCheck,
    RuleReport, SubjectReport,
};
pub use rego::{RegoPolicy, RegoVerdict};
pub use subject::{normalize_pypi, Subject, SubjectKind};

/// The version of the file format this build reads.
pub const POLICY_VERSION: i64 = 1;

/// The largest policy (or Rego, or key) file read.
const MAX_POLICY_BYTES: u64 = 1024 * 1024;

/// Predicate-type shortcuts and the URIs they stand for.
pub const PREDICATE_SHORTCUTS: &[(&str, &str)] = &[
    ("slsa-provenance-v1", SLSA_PROVENANCE_V1),
    ("slsa-provenance-v0.2", "https://slsa.dev/provenance/v0.2"),
    ("slsa-vsa-v1", "https://slsa.dev/verification_summary/v1"),
    ("cyclonedx", "https://cyclonedx.org/bom"),
    ("spdx", "https://spdx.dev/Document"),
    (
        "cosign-vuln",
        "https://cosign.sigstore.dev/attestation/vuln/v1",
    ),
    (
        "in-toto-release",
        "https://in-toto.io/attestation/release/v0.1",
    ),
    (
        "in-toto-test-result",
        "https://in-toto.io/attestation/test-result/v0.1",
    ),
];

pub use crate::policy::GITHUB_BUILD_TYPES;

/// A policy file that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct PolicyFileError {
    /// `file:line:column`, or the file alone.
    pub location: String,
    /// What is wrong and what was expected.
    pub message: String,
}

/// A parsed, compiled policy file.
#[derive(Debug, Clone)]
pub struct PolicyFile {
    origin: String,
    digest: String,
    unmatched_allowed: bool,
    fail_open: bool,
    rules: Vec<Rule>,
    keys: Vec<DerPublicKey>,
}

/// One rule: which subjects it applies to and what they must carry.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Its name (given, or `rule N`).
    pub name: String,
    /// The line it starts on.
    pub line: usize,
    matchers: Matchers,
    /// What must be present; all of it.
    pub requirements: Vec<Requirement>,
}

#[derive(Debug, Clone, Default)]
struct Matchers {
    files: Vec<(String, GlobMatcher)>,
    images: Vec<(String, GlobMatcher)>,
    pypi: Vec<String>,
    npm: Vec<String>,
    all: bool,
}

/// One required attestation.
#[derive(Debug, Clone)]
pub struct Requirement {
    /// A short description: predicate type and signer.
    pub label: String,
    /// The line it starts on.
    pub line: usize,
    /// The predicate type attestations must carry.
    pub predicate_type: String,
    /// How many distinct attestations must meet it.
    pub count: usize,
    /// A cosign image signature (`signature = true`), not an attestation.
    pub signature: bool,
    identity: Identity,
    github: Option<(String, Option<String>)>,
    hostname: Option<String>,
    source_ref: Option<ValueMatcher>,
    self_hosted: bool,
    check_provenance: bool,
    constraints: Vec<Constraint>,
    rego: Option<RegoPolicy>,
}

#[derive(Debug, Clone)]
enum Identity {
    /// A certificate identity, as gh's flags build it.
    Certificate(Box<Policy>),
    /// A key: index into [`PolicyFile::keys`].
    Key { index: usize, path: String },
}

#[derive(Debug, Clone)]
enum ValueMatcher {
    Glob(String, GlobMatcher),
    Regex(GoRegex),
}

impl ValueMatcher {
    fn describe(&self) -> String {
        match self {
            Self::Glob(g, _) => format!("glob {g}"),
            Self::Regex(r) => format!("regex {}", r.as_str()),
        }
    }

    fn matches(&self, value: &str) -> bool {
        match self {
            Self::Glob(_, g) => g.is_match(value),
            Self::Regex(r) => r.is_match(value),
        }
    }
}

#[derive(Debug, Clone)]
struct Constraint {
    path: String,
    op: Op,
}

#[derive(Debug, Clone)]
enum Op {
    Equals(Value),
    Matches(GoRegex),
    OneOf(Vec<Value>),
    Present(bool),
}

/// Turns byte offsets into `file:line:column`.
struct Locator<'a> {
    origin: &'a str,
    text: &'a str,
}

impl Locator<'_> {
    fn line(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        self.text.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn at(&self, span: std::ops::Range<usize>, message: impl Into<String>) -> PolicyFileError {
        let offset = span.start.min(self.text.len());
        let line_start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let column = self.text[line_start..offset].chars().count() + 1;
        PolicyFileError {
            location: format!("{}:{}:{column}", self.origin, self.line(offset)),
            message: message.into(),
        }
    }
}

fn whole(origin: &str, message: impl Into<String>) -> PolicyFileError {
    PolicyFileError {
        location: origin.to_string(),
        message: message.into(),
    }
}

fn read_limited(path: &Path, what: &str) -> Result<String, String> {
    crate::artifact::read_text_file(path, MAX_POLICY_BYTES, what)
}

impl PolicyFile {
    /// Read and compile a policy file; Rego modules and keys it names are
    /// read relative to its directory.
    pub fn load(path: &Path) -> Result<Self, PolicyFileError> {
        let origin = path.display().to_string();
        let text = read_limited(path, "a TOML policy file").map_err(|e| whole(&origin, e))?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::parse(&text, &origin, &base)
    }

    /// Compile policy `text` read from `origin`, resolving relative paths
    /// against `base`.
    pub fn parse(text: &str, origin: &str, base: &Path) -> Result<Self, PolicyFileError> {
        let loc = Locator { origin, text };
        let wire: schema::FileWire = toml::from_str(text).map_err(|e| {
            let message = e.message().trim().replace('\n', " ");
            match e.span() {
                Some(span) => loc.at(span, message),
                None => whole(origin, message),
            }
        })?;
        if *wire.version.get_ref() != POLICY_VERSION {
            return Err(loc.at(
                wire.version.span(),
                format!(
                    "version {} is not supported; this attest reads version = {POLICY_VERSION}",
                    wire.version.get_ref()
                ),
            ));
        }
        let unmatched_allowed = match &wire.unmatched {
            None => false,
            Some(v) => match v.get_ref().as_str() {
                "deny" => false,
                "allow" => true,
                other => {
                    return Err(loc.at(
                        v.span(),
                        format!("unmatched: {other:?}; expected \"deny\" or \"allow\""),
                    ))
                }
            },
        };
        let fail_open = wire.admission.as_ref().is_some_and(|a| a.fail_open);
        if wire.rule.is_empty() {
            return Err(whole(
                origin,
                "no [[rule]]: the policy would match nothing, so every artifact would fail",
            ));
        }
        let mut digest_input = Vec::new();
        hash_part(&mut digest_input, text.as_bytes());
        let mut keys = Vec::new();
        let mut rules = Vec::new();
        for (i, rule) in wire.rule.into_iter().enumerate() {
            let span = rule.span();
            let rule = rule.into_inner();
            rules.push(compile_rule(
                &loc,
                span,
                rule,
                i + 1,
                base,
                &mut keys,
                &mut digest_input,
            )?);
        }
        let digest =
            crate::artifact::digest_bytes(&digest_input, crate::artifact::DigestAlgorithm::Sha256);
        Ok(Self {
            origin: origin.to_string(),
            digest: format!("sha256:{}", digest.hex()),
            unmatched_allowed,
            fail_open,
            rules,
            keys,
        })
    }

    /// Where the policy was read from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The policy's digest: SHA-256 over the file and every Rego module and
    /// key it names, so a change to any of them changes it.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Whether a subject that no rule matches passes (`unmatched = "allow"`);
    /// by default it fails.
    pub fn unmatched_allowed(&self) -> bool {
        self.unmatched_allowed
    }

    /// Whether the admission webhook allows what it cannot decide
    /// (`[admission] fail-open = true`); by default it denies.
    pub fn fail_open(&self) -> bool {
        self.fail_open
    }

    /// The rules, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The public keys the policy names, in first-use order.
    pub fn keys(&self) -> &[DerPublicKey] {
        &self.keys
    }

    /// The rules that apply to `subject`.
    pub fn rules_for<'a>(&'a self, subject: &'a Subject) -> impl Iterator<Item = &'a Rule> {
        self.rules.iter().filter(move |r| r.matches(subject))
    }
}

/// Length-prefixed, so that moving bytes between parts changes the digest.
fn hash_part(out: &mut Vec<u8>, part: &[u8]) {
    out.extend_from_slice(&(part.len() as u64).to_be_bytes());
    out.extend_from_slice(part);
}

impl Rule {
    /// Whether the rule applies to `subject`.
    pub fn matches(&self, subject: &Subject) -> bool {
        let m = &self.matchers;
        if m.all {
            return true;
        }
        match &subject.kind {
            SubjectKind::File { path } => {
                let name = subject.file_name().unwrap_or(path);
                let path = path.replace('\\', "/");
                let path = path.trim_start_matches("./");
                m.files.iter().any(|(pattern, glob)| {
                    if pattern.contains('/') {
                        glob.is_match(path)
                    } else {
                        glob.is_match(name)
                    }
                }) || subject.pypi_name().is_some_and(|n| m.pypi.contains(&n))
                    || m.npm.iter().any(|p| subject.is_npm_package(p))
            }
            SubjectKind::Image { repository } => {
                m.images.iter().any(|(_, glob)| glob.is_match(repository))
            }
            SubjectKind::Digest => false,
        }
    }
}

/// A compiled Go RE2 pattern; an empty one (which matches everything) is
/// refused, as gh refuses empty flag values.
fn regex(pattern: &str) -> Result<GoRegex, String> {
    if pattern.trim().is_empty() {
        return Err(
            "an empty pattern matches everything; give a pattern or leave the key out".into(),
        );
    }
    GoRegex::new(pattern).map_err(|e| e.to_string())
}

/// `*` stays within one `/`-separated part (as in policy-controller's
/// globs); `**` crosses parts.
fn glob(pattern: &str) -> Result<GlobMatcher, String> {
    if pattern.trim().is_empty() {
        return Err("an empty glob matches nothing; give a pattern".into());
    }
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| format!("invalid glob {pattern:?}: {}", e.kind()))
}

/// An image repository as registries name it: Docker Hub's short forms
/// (`alpine`, `user/app`) get their registry and `library/`, as
/// `oci://alpine` does.
fn normalize_image(value: &str) -> String {
    let first = value.split('/').next().unwrap_or_default();
    let has_registry =
        value.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    if has_registry {
        value.to_string()
    } else if value.contains('/') {
        format!("docker.io/{value}")
    } else {
        format!("docker.io/library/{value}")
    }
}

fn compile_rule(
    loc: &Locator<'_>,
    span: std::ops::Range<usize>,
    rule: schema::RuleWire,
    number: usize,
    base: &Path,
    keys: &mut Vec<DerPublicKey>,
    digest_input: &mut Vec<u8>,
) -> Result<Rule, PolicyFileError> {
    let name = rule
        .name
        .clone()
        .unwrap_or_else(|| format!("rule {number}"));
    let mut matchers = Matchers {
        all: rule.all,
        ..Matchers::default()
    };
    for p in &rule.files {
        let g = glob(p.get_ref()).map_err(|e| loc.at(p.span(), e))?;
        matchers.files.push((p.get_ref().clone(), g));
    }
    for p in &rule.images {
        let value = p.get_ref().trim_start_matches("oci://");
        if value.contains('@') || value.rsplit('/').next().is_some_and(|l| l.contains(':')) {
            return Err(loc.at(
                p.span(),
                format!("images: {value:?} names a tag or digest; give the repository (REGISTRY/REPOSITORY, globs allowed)"),
            ));
        }
        let value = normalize_image(value);
        let g = glob(&value).map_err(|e| loc.at(p.span(), e))?;
        matchers.images.push((value, g));
    }
    for p in &rule.pypi {
        let n = normalize_pypi(p.get_ref());
        if n.is_empty() || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(loc.at(
                p.span(),
                format!("pypi: {:?} is not a PyPI project name", p.get_ref()),
            ));
        }
        matchers.pypi.push(n);
    }
    for p in &rule.npm {
        let v = p.get_ref();
        let bare = v
            .strip_prefix('@')
            .and_then(|s| s.split_once('/'))
            .map_or(v.as_str(), |(_, n)| n);
        if bare.is_empty()
            || v.chars().any(|c| c.is_whitespace())
            || v.matches('/').count() > usize::from(v.starts_with('@'))
        {
            return Err(loc.at(
                p.span(),
                format!("npm: {v:?} is not an npm package name (name or @scope/name)"),
            ));
        }
        matchers.npm.push(v.clone());
    }
    if !matchers.all
        && matchers.files.is_empty()
        && matchers.images.is_empty()
        && matchers.pypi.is_empty()
        && matchers.npm.is_empty()
    {
        return Err(loc.at(
            span,
            format!("{name}: matches nothing; give files, images, pypi, npm or all = true"),
        ));
    }
    if rule.require.is_empty() {
        return Err(loc.at(
            span,
            format!("{name}: no [[rule.require]]; a rule must require at least one attestation"),
        ));
    }
    let mut requirements = Vec::new();
    for req in rule.require {
        let req_span = req.span();
        requirements.push(compile_requirement(
            loc,
            req_span,
            req.into_inner(),
            base,
            keys,
            digest_input,
        )?);
    }
    Ok(Rule {
        name,
        line: loc.line(span.start),
        matchers,
        requirements,
    })
}

fn predicate_type(
    loc: &Locator<'_>,
    value: &toml::Spanned<String>,
) -> Result<String, PolicyFileError> {
    let v = value.get_ref().trim();
    if v.contains(':') {
        return Ok(v.to_string());
    }
    PREDICATE_SHORTCUTS
        .iter()
        .find(|(s, _)| *s == v)
        .map(|(_, uri)| uri.to_string())
        .ok_or_else(|| {
            loc.at(
                value.span(),
                format!(
                    "predicate-type: unknown shortcut {v:?}; give a URI or one of {}",
                    PREDICATE_SHORTCUTS
                        .iter()
                        .map(|(s, _)| *s)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
}

fn compile_requirement(
    loc: &Locator<'_>,
    span: std::ops::Range<usize>,
    req: schema::RequireWire,
    base: &Path,
    keys: &mut Vec<DerPublicKey>,
    digest_input: &mut Vec<u8>,
) -> Result<Requirement, PolicyFileError> {
    let at = |s: std::ops::Range<usize>, m: String| loc.at(s, m);
    let signature = req.signature.as_ref().is_some_and(|s| *s.get_ref());
    let predicate_type = match (&req.predicate_type, signature) {
        (Some(p), false) => predicate_type(loc, p)?,
        (None, true) => crate::cosign::IMAGE_SIGNATURE_TYPE.to_string(),
        (Some(p), true) => {
            return Err(at(
                p.span(),
                "predicate-type and signature = true: a requirement is an attestation or a cosign signature, not both".into(),
            ))
        }
        (None, false) => {
            return Err(at(
                span.clone(),
                "give predicate-type (an attestation) or signature = true (a cosign image signature)".into(),
            ))
        }
    };
    if signature && (!req.predicate.is_empty() || req.rego.is_some()) {
        return Err(at(
            span.clone(),
            "predicate constraints and rego apply to attestations; a signature has no predicate"
                .into(),
        ));
    }
    let count = match &req.count {
        None => 1,
        Some(c) if *c.get_ref() >= 1 && *c.get_ref() <= 1000 => *c.get_ref() as usize,
        Some(c) => {
            return Err(at(
                c.span(),
                format!("count: {} is out of range; expected 1 to 1000", c.get_ref()),
            ))
        }
    };
    let s = |v: &Option<toml::Spanned<String>>| v.as_ref().map(|x| x.get_ref().clone());
    let gh_style = req.repo.is_some() || req.owner.is_some();
    let generic = req.issuer.is_some() && !gh_style;
    let identity_keys = [
        ("repo", req.repo.as_ref().map(|v| v.span())),
        ("owner", req.owner.as_ref().map(|v| v.span())),
        (
            "signer-workflow",
            req.signer_workflow.as_ref().map(|v| v.span()),
        ),
        ("signer-repo", req.signer_repo.as_ref().map(|v| v.span())),
        ("source-ref", req.source_ref.as_ref().map(|v| v.span())),
        (
            "source-digest",
            req.source_digest.as_ref().map(|v| v.span()),
        ),
        (
            "signer-digest",
            req.signer_digest.as_ref().map(|v| v.span()),
        ),
        ("runner", req.runner.as_ref().map(|v| v.span())),
        ("hostname", req.hostname.as_ref().map(|v| v.span())),
        ("issuer", req.issuer.as_ref().map(|v| v.span())),
        ("san", req.san.as_ref().map(|v| v.span())),
        ("san-regex", req.san_regex.as_ref().map(|v| v.span())),
    ];
    let mut source_ref = None;
    let mut exact_ref = None;
    if let Some(r) = &req.source_ref {
        match r.get_ref() {
            schema::ValueMatchWire::Exact(v) => exact_ref = Some(v.clone()),
            schema::ValueMatchWire::Pattern(p) => match (&p.glob, &p.regex) {
                (Some(g), None) => {
                    source_ref = Some(ValueMatcher::Glob(
                        g.clone(),
                        glob(g).map_err(|e| at(r.span(), format!("source-ref: {e}")))?,
                    ))
                }
                (None, Some(re)) => {
                    source_ref = Some(ValueMatcher::Regex(
                        GoRegex::new(re).map_err(|e| at(r.span(), format!("source-ref: {e}")))?,
                    ))
                }
                _ => {
                    return Err(at(
                        r.span(),
                        "source-ref: give a string, { glob = \"…\" } or { regex = \"…\" }".into(),
                    ))
                }
            },
        }
    }
    let mut self_hosted = false;
    let mut deny_self_hosted = false;
    if let Some(r) = &req.runner {
        match r.get_ref().as_str() {
            "github-hosted" => deny_self_hosted = true,
            "self-hosted" => self_hosted = true,
            "any" => {}
            other => {
                return Err(at(
                    r.span(),
                    format!(
                        "runner: {other:?}; expected \"github-hosted\", \"self-hosted\" or \"any\""
                    ),
                ))
            }
        }
    }

    let identity = if let Some(key) = &req.key {
        if let Some((name, Some(s))) = identity_keys.iter().find(|(_, s)| s.is_some()) {
            return Err(at(s.clone(), format!("{name}: a key-signed requirement has no certificate identity; drop {name} or key")));
        }
        let path = base.join(key.get_ref());
        let pem = read_limited(&path, "a PEM public key")
            .map_err(|e| at(key.span(), format!("key: {}: {e}", path.display())))?;
        let der = crate::verify::parse_public_key_pem(&pem)
            .map_err(|e| at(key.span(), format!("key: {}: {e}", path.display())))?;
        hash_part(digest_input, pem.as_bytes());
        let index = match keys.iter().position(|k| k == &der) {
            Some(i) => i,
            None => {
                keys.push(der);
                keys.len() - 1
            }
        };
        Identity::Key {
            index,
            path: key.get_ref().clone(),
        }
    } else if gh_style {
        let flags = PolicyFlags {
            owner: s(&req.owner),
            repo: s(&req.repo),
            signer_repo: s(&req.signer_repo),
            signer_workflow: s(&req.signer_workflow),
            cert_identity: s(&req.san),
            cert_identity_regex: s(&req.san_regex),
            cert_oidc_issuer: s(&req.issuer),
            deny_self_hosted_runners: deny_self_hosted,
            predicate_type: Some(predicate_type.clone()),
            signer_digest: s(&req.signer_digest),
            source_digest: s(&req.source_digest),
            source_ref: exact_ref,
            hostname: s(&req.hostname),
        };
        let policy = Policy::from_flags(&flags)
            .map_err(|e| at(span.clone(), policy_message(&e.to_string())))?;
        Identity::Certificate(Box::new(policy))
    } else if generic {
        for (name, value) in [
            ("signer-workflow", &req.signer_workflow),
            ("signer-repo", &req.signer_repo),
            ("hostname", &req.hostname),
        ] {
            if let Some(v) = value {
                return Err(at(v.span(), format!("{name} is relative to a GitHub repository: give repo or owner too, or use san / san-regex")));
            }
        }
        let san = match (&req.san, &req.san_regex) {
            (Some(v), None) => SanMatcher::Exact(v.get_ref().clone()),
            (None, Some(v)) => SanMatcher::Regex(regex(v.get_ref()).map_err(|e| at(v.span(), format!("san-regex: {e}")))?),
            (Some(_), Some(v)) => return Err(at(v.span(), "san and san-regex: give one of them".into())),
            (None, None) => return Err(at(span.clone(), "issuer needs san or san-regex: without them any identity of that issuer would pass".into())),
        };
        let mut policy = Policy::identity_only(None, Some(s(&req.issuer).unwrap_or_default()));
        policy.san = san;
        policy.predicate_type = predicate_type.clone();
        policy.source_ref = exact_ref;
        policy.source_digest = s(&req.source_digest);
        policy.signer_digest = s(&req.signer_digest);
        policy.runner_environment = deny_self_hosted.then(|| "github-hosted".to_string());
        for v in [&policy.source_digest, &policy.signer_digest, &policy.issuer] {
            if v.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return Err(at(
                    span.clone(),
                    "an empty value is not a constraint; give a value or leave the key out".into(),
                ));
            }
        }
        if let SanMatcher::Exact(e) = &policy.san {
            if e.is_empty() {
                return Err(at(span.clone(), "san: empty value".into()));
            }
        }
        Identity::Certificate(Box::new(policy))
    } else {
        return Err(at(
            span.clone(),
            "no identity: give repo or owner (GitHub Actions), issuer with san or san-regex (any OIDC CI), or key".into(),
        ));
    };

    let mut constraints = Vec::new();
    for c in req.predicate {
        let c_span = c.span();
        let c = c.into_inner();
        if !(c.path.is_empty() || c.path.starts_with('/')) {
            return Err(at(c_span, format!("path {:?}: a JSON pointer into the predicate starts with / (e.g. /buildDefinition/externalParameters/workflow/ref)", c.path)));
        }
        let ops = [
            c.equals.is_some(),
            c.matches.is_some(),
            c.one_of.is_some(),
            c.present.is_some(),
        ];
        if ops.iter().filter(|&&b| b).count() != 1 {
            return Err(at(
                c_span,
                format!(
                    "path {}: give exactly one of equals, matches, one-of, present",
                    c.path
                ),
            ));
        }
        let json = |v: toml::Value| {
            if contains_datetime(&v) {
                return Err(format!(
                    "path {}: a TOML date is not a JSON value; give it as a string (\"2026-01-01T00:00:00Z\")",
                    c.path
                ));
            }
            serde_json::to_value(v).map_err(|e| e.to_string())
        };
        let op = if let Some(v) = c.equals {
            Op::Equals(json(v).map_err(|e| at(c_span.clone(), e))?)
        } else if let Some(re) = c.matches {
            Op::Matches(regex(&re).map_err(|e| at(c_span.clone(), format!("matches: {e}")))?)
        } else if let Some(list) = c.one_of {
            if list.is_empty() {
                return Err(at(c_span, "one-of: an empty list can never match".into()));
            }
            Op::OneOf(
                list.into_iter()
                    .map(json)
                    .collect::<Result<_, _>>()
                    .map_err(|e| at(c_span.clone(), e))?,
            )
        } else {
            Op::Present(c.present.unwrap_or(true))
        };
        constraints.push(Constraint { path: c.path, op });
    }

    let rego = match &req.rego {
        None => None,
        Some(r) => {
            let path: PathBuf = base.join(r.get_ref());
            let text = read_limited(&path, "a Rego module")
                .map_err(|e| at(r.span(), format!("rego: {}: {e}", path.display())))?;
            hash_part(digest_input, text.as_bytes());
            Some(
                RegoPolicy::parse(&path.display().to_string(), &text)
                    .map_err(|e| at(r.span(), format!("rego: {e}")))?,
            )
        }
    };

    let signer = match &identity {
        Identity::Key { path, .. } => format!("key {path}"),
        Identity::Certificate(p) => match &p.san {
            SanMatcher::Exact(s) => s.clone(),
            SanMatcher::Regex(r) => format!("SAN ~ {}", r.as_str()),
            SanMatcher::Any => "any signer".into(),
        },
    };
    let github = if gh_style {
        match (&req.repo, &req.owner) {
            (Some(r), _) => r
                .get_ref()
                .split_once('/')
                .map(|(o, _)| (o.to_string(), Some(r.get_ref().clone()))),
            (None, Some(o)) => Some((o.get_ref().clone(), None)),
            _ => None,
        }
    } else {
        None
    };
    Ok(Requirement {
        label: format!("{predicate_type} signed by {signer}"),
        line: loc.line(span.start),
        signature,
        github,
        hostname: s(&req.hostname),
        predicate_type,
        count,
        identity,
        source_ref,
        self_hosted,
        check_provenance: req.check_provenance.unwrap_or(true),
        constraints,
        rego,
    })
}

fn contains_datetime(v: &toml::Value) -> bool {
    match v {
        toml::Value::Datetime(_) => true,
        toml::Value::Array(a) => a.iter().any(contains_datetime),
        toml::Value::Table(t) => t.values().any(contains_datetime),
        _ => false,
    }
}

/// JSON equality where numbers compare by value (`1` equals `1.0`, as in
/// JSON itself); everything else structurally.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// gh's flag names in a policy-file message become the file's keys.
fn policy_message(message: &str) -> String {
    message
        .replace("--cert-identity-regex", "san-regex")
        .replace("--cert-identity", "san")
        .replace("--cert-oidc-issuer", "issuer")
        .replace("--signer-workflow", "signer-workflow")
        .replace("--signer-repo", "signer-repo")
        .replace("--source-digest", "source-digest")
        .replace("--signer-digest", "signer-digest")
        .replace("--source-ref", "source-ref")
        .replace("--hostname", "hostname")
        .replace("--owner", "owner")
        .replace("--repo", "repo")
        .replace(
            "if any flags in the group [cert-identity cert-identity-regex signer-repo signer-workflow] are set none of the others can be",
            "give only one of san, san-regex, signer-repo, signer-workflow",
        )
}

impl Requirement {
    /// The GitHub owner and repository (`OWNER/REPO`) this requirement
    /// names, where GitHub's API holds its attestations.
    pub fn github_scope(&self) -> Option<(String, Option<String>)> {
        self.github.clone()
    }

    /// The GitHub host it names (`None`: github.com).
    pub fn hostname(&self) -> Option<&str> {
        self.hostname.as_deref()
    }

    /// The checks of one verified attestation against this requirement
    /// (the predicate type is checked by the caller).
    fn checks(&self, att: &VerifiedAttestation, key: Option<usize>) -> Vec<RuleCheck> {
        let mut checks: Vec<RuleCheck> = Vec::new();
        match &self.identity {
            Identity::Key { index, path } => {
                let passed = key == Some(*index) && att.certificate.is_none();
                checks.push(RuleCheck {
                    name: "Key".into(),
                    expected: path.clone(),
                    actual: att.key_fingerprint.clone(),
                    passed,
                    message: if passed {
                        format!("signed by the key in {path}")
                    } else {
                        format!("expected a signature by the key in {path}")
                    },
                });
                return checks;
            }
            Identity::Certificate(policy) => {
                checks.extend(policy.evaluate(att).into_iter().map(RuleCheck::from));
            }
        }
        let Some(cert) = &att.certificate else {
            return checks;
        };
        if let Some(m) = &self.source_ref {
            let actual = cert.source_repository_ref.clone();
            let passed = actual.as_deref().is_some_and(|a| m.matches(a));
            checks.push(RuleCheck {
                name: "SourceRepositoryRef".into(),
                expected: m.describe(),
                passed,
                message: format!(
                    "expected SourceRepositoryRef to match {}, got {}",
                    m.describe(),
                    actual.as_deref().unwrap_or("none")
                ),
                actual,
            });
        }
        if self.self_hosted {
            let actual = cert.runner_environment.clone();
            let passed = actual.as_deref() == Some("self-hosted");
            checks.push(RuleCheck {
                name: "RunnerEnvironment".into(),
                expected: "self-hosted".into(),
                passed,
                message: format!(
                    "expected RunnerEnvironment to be self-hosted, got {}",
                    actual.as_deref().unwrap_or("none")
                ),
                actual,
            });
        }
        if self.check_provenance {
            if let Some(st) = &att.statement {
                checks.extend(provenance_cross_check(&st.value, cert));
            }
        }
        checks
    }
}

/// SLSA "verifying artifacts" for GitHub Actions provenance, as
/// [`RuleCheck`]s named `provenance …` (see
/// [`crate::policy::github_provenance_checks`]).
pub fn provenance_cross_check(
    statement: &Value,
    cert: &crate::certificate::CertificateSummary,
) -> Vec<RuleCheck> {
    crate::policy::github_provenance_checks(statement, cert)
        .into_iter()
        .map(|c| {
            let mut c = RuleCheck::from(c);
            c.name = format!("provenance {}", c.name);
            c
        })
        .collect()
}

impl From<PolicyCheck> for RuleCheck {
    fn from(c: PolicyCheck) -> Self {
        Self {
            name: c.name.to_string(),
            expected: c.expected,
            actual: c.actual,
            passed: c.passed,
            message: c.message,
        }
    }
}

impl Constraint {
    fn check(&self, predicate: &Value) -> RuleCheck {
        let found = if self.path.is_empty() {
            Some(predicate)
        } else {
            predicate.pointer(&self.path)
        };
        let shown = |v: Option<&Value>| {
            v.map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        };
        let (expected, passed) = match &self.op {
            Op::Equals(v) => (format!("equals {v}"), found.is_some_and(|f| json_eq(f, v))),
            Op::Matches(r) => (
                format!("matches {}", r.as_str()),
                found.and_then(Value::as_str).is_some_and(|s| r.is_match(s)),
            ),
            Op::OneOf(list) => (
                format!("one of {}", Value::Array(list.clone())),
                found.is_some_and(|f| list.iter().any(|v| json_eq(f, v))),
            ),
            Op::Present(true) => ("present".into(), found.is_some()),
            Op::Present(false) => ("absent".into(), found.is_none()),
        };
        let actual = shown(found);
        RuleCheck {
            name: format!(
                "predicate {}",
                if self.path.is_empty() {
                    "/"
                } else {
                    &self.path
                }
            ),
            message: format!(
                "expected predicate {} to be {expected}, got {}",
                if self.path.is_empty() {
                    "/"
                } else {
                    &self.path
                },
                actual.as_deref().unwrap_or("nothing (absent)")
            ),
            expected,
            actual,
            passed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constraint(extra: &str) -> Result<Constraint, PolicyFileError> {
        let text = format!(
            "version = 1\n[[rule]]\nall = true\n[[rule.require]]\npredicate-type = \"slsa-provenance-v1\"\nrepo = \"a/b\"\n[[rule.require.predicate]]\n{extra}"
        );
        let p = PolicyFile::parse(&text, "t.toml", Path::new("."))?;
        Ok(p.rules[0].requirements[0].constraints[0].clone())
    }

    #[test]
    fn constraints_compare_json_values() {
        let pred = serde_json::json!({"n": 1.0, "s": "x", "a": [1, "y"], "o": {"k": 2}});
        let check = |extra: &str| constraint(extra).unwrap().check(&pred).passed;
        assert!(check("path = \"/n\"\nequals = 1\n"));
        assert!(!check("path = \"/n\"\nequals = 2\n"));
        assert!(!check("path = \"/n\"\nequals = \"1\"\n"));
        assert!(check("path = \"/a\"\nequals = [1.0, \"y\"]\n"));
        assert!(check("path = \"/o\"\nequals = { k = 2 }\n"));
        assert!(!check("path = \"/o\"\nequals = { k = 2, j = 1 }\n"));
        assert!(check("path = \"/s\"\none-of = [\"w\", \"x\"]\n"));
        assert!(!check("path = \"/s\"\none-of = [\"w\"]\n"));
        assert!(check("path = \"/s\"\nmatches = \"^x$\"\n"));
        assert!(
            !check("path = \"/n\"\nmatches = \"1\"\n"),
            "matches applies to strings only"
        );
        assert!(check("path = \"/missing\"\npresent = false\n"));
        assert!(!check("path = \"/s\"\npresent = false\n"));
        assert!(!check("path = \"/missing\"\npresent = true\n"));
        assert!(check("path = \"\"\npresent = true\n"));
        let e = constraint("path = \"/d\"\nequals = 2026-01-01T00:00:00Z\n").unwrap_err();
        assert!(e.message.contains("a TOML date is not a JSON value"), "{e}");
        let e = constraint("path = \"/s\"\none-of = []\n").unwrap_err();
        assert!(e.message.contains("an empty list can never match"), "{e}");
        let e = constraint("path = \"/s\"\nmatches = \"\"\n").unwrap_err();
        assert!(e.message.contains("an empty pattern"), "{e}");
    }

    #[test]
    fn source_ref_patterns_describe_and_match_themselves() {
        let g = ValueMatcher::Glob("refs/tags/v*".into(), glob("refs/tags/v*").unwrap());
        assert_eq!(g.describe(), "glob refs/tags/v*");
        assert!(g.matches("refs/tags/v1.2.3"));
        assert!(!g.matches("refs/heads/main"));
        let r = ValueMatcher::Regex(GoRegex::new("^refs/tags/v[0-9]+$").unwrap());
        assert_eq!(r.describe(), "regex ^refs/tags/v[0-9]+$");
        assert!(r.matches("refs/tags/v12"));
        assert!(!r.matches("refs/tags/v1.2"));
    }

    /// Each half of a refusal refuses on its own: a digest without a tag,
    /// a tag without a digest; an empty PyPI name, a name with a bad
    /// character; each of the npm name rules.
    #[test]
    fn subject_patterns_are_refused_for_each_reason_alone() {
        let rule = |line: &str| {
            PolicyFile::parse(
                &format!(
                    "version = 1\n[[rule]]\n{line}\n[[rule.require]]\nrepo = \"a/b\"\nsignature = true\n"
                ),
                "t.toml",
                Path::new("."),
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
        };
        for image in ["ghcr.io/o/app@sha256:00", "ghcr.io/o/app:v1"] {
            let e = rule(&format!("images = [\"{image}\"]")).unwrap_err();
            assert!(e.contains("names a tag or digest"), "{image}: {e}");
        }
        assert!(rule("images = [\"ghcr.io/o/app\"]").is_ok());
        for name in ["", "bad name!"] {
            let e = rule(&format!("pypi = [\"{name}\"]")).unwrap_err();
            assert!(e.contains("is not a PyPI project name"), "{name:?}: {e}");
        }
        assert!(rule("pypi = [\"Good_Name\"]").is_ok());
        // npm: no name after the scope, a space, a slash without a scope,
        // a second slash with one; each alone.
        for name in ["@scope/", "left pad", "a/b", "@s/a/b"] {
            let e = rule(&format!("npm = [\"{name}\"]")).unwrap_err();
            assert!(e.contains("is not an npm package name"), "{name:?}: {e}");
        }
        for name in ["left-pad", "@sigstore/sign"] {
            assert!(rule(&format!("npm = [\"{name}\"]")).is_ok(), "{name}");
        }
    }

    fn file(requires: &str) -> Result<PolicyFile, String> {
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cosign/containers-image");
        PolicyFile::parse(
            &format!("version = 1\n[[rule]]\nall = true\n{requires}"),
            "t.toml",
            &base,
        )
        .map_err(|e| e.to_string())
    }

    /// The same key file twice is one key; another file is the next.
    #[test]
    fn keys_are_numbered_once_each() {
        let p = file(
            "[[rule.require]]\npredicate-type = \"slsa-provenance-v1\"\nkey = \"cosign.pub\"\n\
             [[rule.require]]\npredicate-type = \"https://example.com/p\"\nkey = \"cosign.pub\"\n\
             [[rule.require]]\npredicate-type = \"https://example.com/q\"\nkey = \"cosign2.pub\"\n",
        )
        .unwrap();
        assert_eq!(p.keys().len(), 2);
        let indices: Vec<usize> = p.rules[0]
            .requirements
            .iter()
            .map(|r| match &r.identity {
                Identity::Key { index, .. } => *index,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(indices, [0, 0, 1]);
    }

    #[test]
    fn count_source_ref_and_github_scope_are_read_as_written() {
        let one = |require: &str| {
            file(&format!(
                "[[rule.require]]\npredicate-type = \"slsa-provenance-v1\"\n{require}\n"
            ))
            .map(|p| p.rules[0].requirements[0].clone())
        };
        for bad in [0, 1001] {
            let e = one(&format!("repo = \"o/r\"\ncount = {bad}")).unwrap_err();
            assert!(e.contains("out of range; expected 1 to 1000"), "{bad}: {e}");
        }
        for good in [1, 1000] {
            assert_eq!(
                one(&format!("repo = \"o/r\"\ncount = {good}"))
                    .unwrap()
                    .count,
                good
            );
        }
        let glob = one("repo = \"o/r\"\nsource-ref = { glob = \"refs/tags/*\" }").unwrap();
        assert_eq!(glob.source_ref.unwrap().describe(), "glob refs/tags/*");
        let re = one("repo = \"o/r\"\nsource-ref = { regex = \"^refs/tags/\" }").unwrap();
        assert_eq!(re.source_ref.unwrap().describe(), "regex ^refs/tags/");

        let repo = one("repo = \"o/r\"\nhostname = \"octo.ghe.com\"").unwrap();
        assert_eq!(repo.github_scope(), Some(("o".into(), Some("o/r".into()))));
        assert_eq!(repo.hostname(), Some("octo.ghe.com"));
        let owner = one("owner = \"o\"").unwrap();
        assert_eq!(owner.github_scope(), Some(("o".into(), None)));
        assert_eq!(owner.hostname(), None);
    }

    #[test]
    fn dates_anywhere_in_a_value_are_refused_and_numbers_compare_by_value() {
        for value in [
            "1979-05-27",
            "[1, 1979-05-27]",
            "{ a = { b = 1979-05-27 } }",
        ] {
            let e = constraint(&format!("path = \"/x\"\nequals = {value}")).unwrap_err();
            assert!(
                e.to_string().contains("a TOML date is not a JSON value"),
                "{value}: {e}"
            );
        }
        assert!(constraint("path = \"/x\"\nequals = [1, { a = \"s\" }]").is_ok());

        use serde_json::json;
        let j = |a: Value, b: Value| json_eq(&a, &b);
        assert!(j(json!(1), json!(1.0)) && j(json!(1), json!(1)));
        assert!(!j(json!(1), json!(2)));
        assert!(j(json!([1, 2]), json!([1.0, 2])));
        assert!(!j(json!([1]), json!([1, 2])) && !j(json!([1, 2]), json!([1, 3])));
        assert!(j(json!({"a": 1}), json!({"a": 1.0})));
        assert!(
            !j(json!({"a": 1}), json!({"a": 2})) && !j(json!({"a": 1}), json!({"a": 1, "b": 1}))
        );
    }

    #[test]
    fn gh_flag_names_become_the_file_keys() {
        assert_eq!(
            policy_message(
                "--cert-identity-regex, --cert-identity, --cert-oidc-issuer, --repo, --owner"
            ),
            "san-regex, san, issuer, repo, owner"
        );
    }

    #[test]
    fn image_patterns_are_normalised_and_stars_stay_in_one_part() {
        assert_eq!(normalize_image("alpine"), "docker.io/library/alpine");
        assert_eq!(normalize_image("user/app"), "docker.io/user/app");
        assert_eq!(normalize_image("ghcr.io/o/r"), "ghcr.io/o/r");
        assert_eq!(normalize_image("localhost/r"), "localhost/r");
        assert_eq!(normalize_image("127.0.0.1:5000/r"), "127.0.0.1:5000/r");
        let g = glob("ghcr.io/o/*").unwrap();
        assert!(g.is_match("ghcr.io/o/r"));
        assert!(!g.is_match("ghcr.io/o/r/deeper"));
        assert!(glob("ghcr.io/o/**").unwrap().is_match("ghcr.io/o/r/deeper"));
        assert!(glob("").is_err());
    }
}

#[cfg(test)]
mod signature_tests {
    use super::*;

    fn parse(require: &str) -> Result<PolicyFile, PolicyFileError> {
        PolicyFile::parse(
            &format!(
                "version = 1\n[[rule]]\nall = true\n[[rule.require]]\nrepo = \"a/b\"\n{require}"
            ),
            "t.toml",
            Path::new("."),
        )
    }

    /// The admission webhook admits what it cannot decide only when the
    /// file says so; by default it denies (fail closed).
    #[test]
    fn fail_open_is_off_unless_the_file_turns_it_on() {
        assert!(!parse("signature = true\n").unwrap().fail_open());
        let with = |value: &str| {
            PolicyFile::parse(
                &format!(
                    "version = 1\n[admission]\nfail-open = {value}\n[[rule]]\nall = true\n\
                     [[rule.require]]\nrepo = \"a/b\"\nsignature = true\n"
                ),
                "t.toml",
                Path::new("."),
            )
            .unwrap()
            .fail_open()
        };
        assert!(with("true"));
        assert!(!with("false"));
    }

    #[test]
    fn a_requirement_is_an_attestation_or_a_signature() {
        let p = parse("signature = true\n").unwrap();
        let r = &p.rules()[0].requirements[0];
        assert!(r.signature);
        assert_eq!(r.predicate_type, crate::cosign::IMAGE_SIGNATURE_TYPE);
        let e = parse("signature = true\npredicate-type = \"cyclonedx\"\n").unwrap_err();
        assert!(e.message.contains("not both"), "{e}");
        let e = parse("").unwrap_err();
        assert!(e.message.contains("give predicate-type"), "{e}");
        let e =
            parse("signature = true\n[[rule.require.predicate]]\npath = \"/a\"\npresent = true\n")
                .unwrap_err();
        assert!(e.message.contains("a signature has no predicate"), "{e}");
        // signature = false is an attestation requirement without a type.
        assert!(parse("signature = false\n").is_err());
    }
}
