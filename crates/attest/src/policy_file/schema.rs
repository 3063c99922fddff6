//! The TOML shape of `attest.toml`, version 1, as serde reads it. Every
//! table refuses unknown keys, so a misspelt constraint is an error with its
//! line, never a silently missing check.

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileWire {
    pub version: Spanned<i64>,
    /// What happens to a subject no rule matches: "deny" (default) or "allow".
    pub unmatched: Option<Spanned<String>>,
    pub admission: Option<AdmissionWire>,
    #[serde(default)]
    pub rule: Vec<Spanned<RuleWire>>,
}

/// One `[[rule]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RuleWire {
    pub name: Option<String>,
    /// File-name globs (the base name unless the pattern has a `/`).
    #[serde(default)]
    pub files: Vec<Spanned<String>>,
    /// Image globs over `REGISTRY/REPOSITORY`.
    #[serde(default)]
    pub images: Vec<Spanned<String>>,
    /// PyPI project names (normalised as PEP 503 says).
    #[serde(default)]
    pub pypi: Vec<Spanned<String>>,
    /// npm package names, `name` or `@scope/name`.
    #[serde(default)]
    pub npm: Vec<Spanned<String>>,
    /// Every subject, bare digests included.
    #[serde(default)]
    pub all: bool,
    #[serde(default)]
    pub require: Vec<Spanned<RequireWire>>,
}

/// One `[[rule.require]]`: an attestation that must be present.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RequireWire {
    pub predicate_type: Option<Spanned<String>>,
    /// A cosign image signature instead of an attestation.
    pub signature: Option<Spanned<bool>>,
    pub count: Option<Spanned<i64>>,
    // gh-style identity.
    pub repo: Option<Spanned<String>>,
    pub owner: Option<Spanned<String>>,
    pub signer_workflow: Option<Spanned<String>>,
    pub signer_repo: Option<Spanned<String>>,
    pub source_ref: Option<Spanned<ValueMatchWire>>,
    pub source_digest: Option<Spanned<String>>,
    pub signer_digest: Option<Spanned<String>>,
    pub runner: Option<Spanned<String>>,
    pub hostname: Option<Spanned<String>>,
    // Generic OIDC identity.
    pub issuer: Option<Spanned<String>>,
    pub san: Option<Spanned<String>>,
    pub san_regex: Option<Spanned<String>>,
    // Or a key.
    pub key: Option<Spanned<String>>,
    /// The SLSA cross-check of predicate and certificate (default on).
    pub check_provenance: Option<bool>,
    #[serde(default)]
    pub predicate: Vec<Spanned<PredicateWire>>,
    pub rego: Option<Spanned<String>>,
}

/// A value given exactly, as a glob or as a regex.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum ValueMatchWire {
    Exact(String),
    Pattern(PatternWire),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PatternWire {
    pub glob: Option<String>,
    pub regex: Option<String>,
}

/// One `[[rule.require.predicate]]` constraint.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct PredicateWire {
    pub path: String,
    pub equals: Option<toml::Value>,
    pub matches: Option<String>,
    pub one_of: Option<Vec<toml::Value>>,
    pub present: Option<bool>,
}

/// `[admission]`: how `attest serve` answers Kubernetes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct AdmissionWire {
    /// Allow when the webhook cannot decide (an internal error, a
    /// registry that does not answer in time). Default: deny.
    #[serde(default)]
    pub fail_open: bool,
}
