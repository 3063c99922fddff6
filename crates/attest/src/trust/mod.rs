//! Trusted roots: which Sigstore instance may vouch for a bundle.
//!
//! A [`TrustStore`] holds trusted roots registered under the organisation
//! (`O=`) of the certificate authorities they contain, exactly as gh selects
//! them: the leaf certificate's issuer organisation picks the root, and the
//! organisation also decides the instance's verification requirements
//! (`sigstore.dev` is the public-good instance, `GitHub, Inc.` GitHub's own).
//! Roots come from the binary itself (embedded snapshots) or from a
//! `--custom-trusted-root` file of one JSON object or JSON Lines.

use std::fmt;
use std::path::Path;
use std::sync::OnceLock;

use sigstore_trust_root::TrustedRoot;
use sigstore_verify::Verifier;

use crate::bundle::skip_ws;

pub mod tuf;

use tuf::{FetchOptions, TufError, TufRepository};

/// When the embedded trusted roots were taken from their TUF repositories.
pub const EMBEDDED_ROOTS_DATE: &str = "2026-11-27";

/// The issuer organisation of Sigstore's public-good Fulcio.
pub const PUBLIC_GOOD_ORG: &str = "sigstore.dev";
/// The issuer organisation of GitHub's Fulcio.
pub const GITHUB_ORG: &str = "GitHub, Inc.";

/// Largest trusted-root file we read; real ones are tens of kilobytes.
pub const MAX_TRUSTED_ROOT_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The public-good production trusted root, embedded (TUF target
/// `trusted_root.json` of tuf-repo-cdn.sigstore.dev).
pub const EMBEDDED_PUBLIC_GOOD: &str = include_str!("../../trust/production_trusted_root.json");
/// GitHub's trusted root, embedded (TUF target of tuf-repo.github.com).
pub const EMBEDDED_GITHUB: &str = include_str!("../../trust/github_trusted_root.json");
/// The public-good staging trusted root, embedded (for `--staging`).
pub const EMBEDDED_STAGING: &str = include_str!("../../trust/staging_trusted_root.json");

/// Which verification requirements apply to a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceKind {
    /// Sigstore public good: a transparency-log entry with an inclusion proof
    /// and an SCT are required.
    PublicGood,
    /// GitHub's instance: an RFC 3161 timestamp from GitHub's TSA is required;
    /// it has no transparency log and no CT log.
    GitHub,
    /// Any other instance (custom roots only): a verified time is required, a
    /// log entry if the root has logs, an SCT if it has CT logs.
    Custom,
}

impl InstanceKind {
    /// The instance an issuer organisation belongs to.
    pub fn for_organization(org: &str) -> Self {
        match org {
            PUBLIC_GOOD_ORG => Self::PublicGood,
            GITHUB_ORG => Self::GitHub,
            _ => Self::Custom,
        }
    }

    /// A short human name.
    pub fn name(self) -> &'static str {
        match self {
            Self::PublicGood => "Sigstore public good",
            Self::GitHub => "GitHub",
            Self::Custom => "custom",
        }
    }
}

/// Where a trusted root came from, for reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootSource {
    /// Compiled into the binary.
    Embedded,
    /// A line of a `--custom-trusted-root` file.
    File {
        /// The file.
        path: String,
        /// 1-based line where the root's JSON starts.
        line: usize,
    },
    /// A TUF repository, verified in this run (from the network or the cache).
    Tuf {
        /// The repository.
        url: String,
        /// Fetched from the network in this run (else from the verified cache).
        from_network: bool,
        /// When the cache was last refreshed online.
        refreshed_at: Option<jiff::Timestamp>,
    },
}

impl fmt::Display for RootSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Embedded => write!(f, "embedded root (snapshot of {EMBEDDED_ROOTS_DATE})"),
            Self::File { path, line } => write!(f, "{path}:{line}"),
            Self::Tuf {
                url,
                from_network: true,
                ..
            } => write!(f, "TUF {url} (refreshed now)"),
            Self::Tuf {
                url,
                from_network: false,
                refreshed_at,
            } => match refreshed_at {
                Some(at) => write!(
                    f,
                    "TUF {url} (verified cache, refreshed {})",
                    tuf::describe_age(*at, jiff::Timestamp::now())
                ),
                None => write!(f, "TUF {url} (verified cache)"),
            },
        }
    }
}

impl RootSource {
    /// A short machine-readable kind: `embedded`, `custom`, `tuf`, `tuf-cache`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Embedded => "embedded",
            Self::File { .. } => "custom",
            Self::Tuf {
                from_network: true, ..
            } => "tuf",
            Self::Tuf { .. } => "tuf-cache",
        }
    }
}

/// One trusted root, registered under an organisation, with a verifier
/// built on first use (so a run only parses the roots its bundles need).
pub struct TrustedInstance {
    /// The issuer organisation this root serves.
    pub organization: String,
    /// Its verification requirements.
    pub kind: InstanceKind,
    json: RootJson,
    prepared: OnceLock<Result<PreparedRoot, TrustError>>,
}

enum RootJson {
    /// An embedded snapshot.
    Static(&'static str),
    /// Parsed from a custom file.
    Parsed(Box<TrustedRoot>, RootSource),
    /// Fetched through TUF when first needed, with the embedded snapshot as
    /// the fallback when the network is unreachable.
    Tuf {
        repo: Box<TufRepository>,
        opts: Box<FetchOptions>,
        embedded: Option<&'static str>,
    },
}

/// A parsed root and the core's verifier built from it.
pub struct PreparedRoot {
    /// The parsed trusted root.
    pub root: TrustedRoot,
    /// The core verifier configured with it.
    pub verifier: Verifier,
    /// Where the root came from.
    pub source: RootSource,
    /// A warning about how it was chosen (a fallback), if any.
    pub note: Option<String>,
}

impl fmt::Debug for TrustedInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustedInstance")
            .field("organization", &self.organization)
            .field("kind", &self.kind)
            .finish()
    }
}

impl TrustedInstance {
    fn embedded(organization: &str, json: &'static str) -> Self {
        Self {
            organization: organization.to_string(),
            kind: InstanceKind::for_organization(organization),
            json: RootJson::Static(json),
            prepared: OnceLock::new(),
        }
    }

    fn tuf(
        organization: &str,
        repo: TufRepository,
        opts: FetchOptions,
        embedded: Option<&'static str>,
    ) -> Self {
        Self {
            organization: organization.to_string(),
            kind: InstanceKind::for_organization(organization),
            json: RootJson::Tuf {
                repo: Box::new(repo),
                opts: Box::new(opts),
                embedded,
            },
            prepared: OnceLock::new(),
        }
    }

    /// Build an instance from an already-parsed root.
    pub fn from_root(organization: &str, root: TrustedRoot, source: RootSource) -> Self {
        Self {
            organization: organization.to_string(),
            kind: InstanceKind::for_organization(organization),
            json: RootJson::Parsed(Box::new(root), source),
            prepared: OnceLock::new(),
        }
    }

    /// The parsed root and its verifier, built once.
    pub fn prepared(&self) -> Result<&PreparedRoot, TrustError> {
        self.prepared
            .get_or_init(|| {
                let (root, source, note) = self.load()?;
                let verifier = Verifier::new(&root).map_err(|e| TrustError::Root {
                    origin: source.to_string(),
                    detail: e.to_string(),
                })?;
                Ok(PreparedRoot {
                    root,
                    verifier,
                    source,
                    note,
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The prepared root, if it has been built (for reports).
    pub fn prepared_if_built(&self) -> Option<&PreparedRoot> {
        self.prepared.get().and_then(|r| r.as_ref().ok())
    }

    fn load(&self) -> Result<(TrustedRoot, RootSource, Option<String>), TrustError> {
        let parse_embedded = |json: &str| {
            let origin = format!("embedded {} root", self.kind.name());
            strict(json, &origin)?;
            TrustedRoot::from_json(json).map_err(|e| TrustError::Root {
                origin,
                detail: e.to_string(),
            })
        };
        match &self.json {
            RootJson::Static(json) => Ok((parse_embedded(json)?, RootSource::Embedded, None)),
            RootJson::Parsed(root, source) => Ok(((**root).clone(), source.clone(), None)),
            RootJson::Tuf {
                repo,
                opts,
                embedded,
            } => {
                let from_tuf = |t: tuf::TufTarget| -> Result<_, TrustError> {
                    let text = String::from_utf8(t.bytes).map_err(|_| TrustError::Root {
                        origin: repo.url.clone(),
                        detail: "the trusted_root.json target is not UTF-8".into(),
                    })?;
                    // TUF vouches for the bytes, not for how they parse: a
                    // duplicate key is refused here as in a custom root.
                    strict(&text, &format!("{} (TUF target {})", repo.url, repo.target))?;
                    let root = TrustedRoot::from_json(&text).map_err(|e| TrustError::Root {
                        origin: repo.url.clone(),
                        detail: e.to_string(),
                    })?;
                    let source = RootSource::Tuf {
                        url: repo.url.clone(),
                        from_network: t.from_network,
                        refreshed_at: t.refreshed_at,
                    };
                    Ok((root, source))
                };
                let embedded_with = |note: String| -> Result<_, TrustError> {
                    match embedded {
                        Some(json) => Ok((parse_embedded(json)?, RootSource::Embedded, Some(note))),
                        // No snapshot of this root ships with attest (a GHE.com
                        // tenant's): without TUF there is nothing to trust.
                        None => Err(TrustError::Tuf(format!(
                            "{}: no trusted root available ({note}); attest embeds none for this instance: pass --custom-trusted-root",
                            repo.target
                        ))),
                    }
                };
                let offline_opts = FetchOptions {
                    offline: true,
                    ..(**opts).clone()
                };
                let mut online: Option<Result<tuf::TufTarget, TufError>> = None;
                let mut cache: Option<Result<tuf::TufTarget, TufError>> = None;
                loop {
                    let step = next_root_step(
                        opts.offline,
                        online.as_ref().map(online_refresh),
                        cache.as_ref().map(cache_check),
                    );
                    // The arms below that take `online` or `cache` apart run only
                    // after `next_root_step` saw that outcome; a mismatch would be
                    // a bug here, reported rather than panicking.
                    let internal = || {
                        TrustError::Tuf(format!(
                            "{}: internal error while choosing the trusted root source",
                            repo.url
                        ))
                    };
                    let unreachable_detail = || match &online {
                        Some(Err(TufError::Network { detail, .. })) => detail.clone(),
                        _ => String::new(),
                    };
                    match step {
                        RootStep::RefreshOnline => {
                            online = Some(tuf::fetch_target(repo, opts));
                        }
                        RootStep::CheckCache => {
                            cache = Some(tuf::fetch_target(repo, &offline_opts));
                        }
                        RootStep::UseNetwork => {
                            let Some(Ok(t)) = online else {
                                return Err(internal());
                            };
                            let (root, source) = from_tuf(t)?;
                            return Ok((root, source, None));
                        }
                        RootStep::UseCache => {
                            let detail = unreachable_detail();
                            let Some(Ok(t)) = cache else {
                                return Err(internal());
                            };
                            let (root, source) = from_tuf(t)?;
                            let note = (!opts.offline).then(|| {
                                format!(
                                    "could not reach {} ({detail}); using the verified TUF cache",
                                    repo.url
                                )
                            });
                            return Ok((root, source, note));
                        }
                        RootStep::UseEmbedded => {
                            let why = match &cache {
                                Some(Err(e)) => e.to_string(),
                                _ => String::new(),
                            };
                            if embedded.is_none() {
                                // Nothing to fall back to: say what failed first.
                                let reach = if opts.offline {
                                    "offline, ".to_string()
                                } else {
                                    format!(
                                        "could not reach {} ({}), ",
                                        repo.url,
                                        unreachable_detail()
                                    )
                                };
                                return Err(TrustError::Tuf(format!(
                                    "{}: {reach}no verified cache{}; attest embeds no root for this repository: make it reachable or pass --custom-trusted-root",
                                    repo.target,
                                    if why.is_empty() { String::new() } else { format!(" ({why})") }
                                )));
                            }
                            let note = if opts.offline {
                                format!(
                                    "offline: using the embedded {} root (snapshot of {EMBEDDED_ROOTS_DATE}); {why}",
                                    self.kind.name()
                                )
                            } else {
                                format!(
                                    "using the embedded {} root (snapshot of {EMBEDDED_ROOTS_DATE}): could not reach {} ({}), and {why}",
                                    self.kind.name(),
                                    repo.url,
                                    unreachable_detail(),
                                )
                            };
                            return embedded_with(note);
                        }
                        RootStep::RefuseRepository => {
                            let Some(Err(e)) = online else {
                                return Err(internal());
                            };
                            return Err(fail_closed(e));
                        }
                        RootStep::RefuseCache => {
                            let Some(Err(e)) = cache else {
                                return Err(internal());
                            };
                            return Err(refuse_cache(e));
                        }
                    }
                }
            }
        }
    }
}

/// What the online TUF refresh of a repository gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnlineRefresh {
    /// The target verified (fetched now, or from a cache refreshed less than
    /// [`tuf::CACHE_FRESH_FOR`] ago).
    Verified,
    /// The repository could not be reached: nothing was learned from it.
    Unreachable,
    /// The repository answered and failed a TUF check, or the client could
    /// not be set up.
    Failed,
}

/// What re-verifying the TUF cache from the embedded TUF root gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheCheck {
    /// The cache verifies now.
    Verified,
    /// There is no cache for the repository.
    Missing,
    /// The cache verifies in every respect but its metadata has expired.
    Expired,
    /// The cache is malformed, mis-signed or inconsistent (or unreadable).
    Invalid,
}

/// The next step in choosing where a TUF-backed root comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootStep {
    /// Refresh from the repository.
    RefreshOnline,
    /// Re-verify the cache.
    CheckCache,
    /// Use the target just refreshed (or the fresh verified cache).
    UseNetwork,
    /// Use the verified cache.
    UseCache,
    /// Use the root embedded in the binary (and say why).
    UseEmbedded,
    /// Fail: the repository failed a TUF check.
    RefuseRepository,
    /// Fail: the cache failed a TUF check other than expiry.
    RefuseCache,
}

/// The fallback order, as a pure function of what is known so far: the
/// repository first (unless `offline`), the verified cache if the repository
/// could not be reached, the embedded roots if there is no cache or it has
/// only expired. A repository or cache that fails any other check is an
/// error, never a fallback. `None` means "not tried yet"; the caller performs
/// the step returned and asks again.
pub fn next_root_step(
    offline: bool,
    online: Option<OnlineRefresh>,
    cache: Option<CacheCheck>,
) -> RootStep {
    // Offline, the repository's outcome is never consulted: it is not asked.
    if !offline {
        match online {
            None => return RootStep::RefreshOnline,
            Some(OnlineRefresh::Verified) => return RootStep::UseNetwork,
            Some(OnlineRefresh::Failed) => return RootStep::RefuseRepository,
            Some(OnlineRefresh::Unreachable) => {}
        }
    }
    match cache {
        None => RootStep::CheckCache,
        Some(CacheCheck::Verified) => RootStep::UseCache,
        Some(CacheCheck::Missing | CacheCheck::Expired) => RootStep::UseEmbedded,
        Some(CacheCheck::Invalid) => RootStep::RefuseCache,
    }
}

fn online_refresh(r: &Result<tuf::TufTarget, TufError>) -> OnlineRefresh {
    match r {
        Ok(_) => OnlineRefresh::Verified,
        Err(TufError::Network { .. }) => OnlineRefresh::Unreachable,
        Err(_) => OnlineRefresh::Failed,
    }
}

fn cache_check(r: &Result<tuf::TufTarget, TufError>) -> CacheCheck {
    match r {
        Ok(_) => CacheCheck::Verified,
        Err(TufError::NoCache { .. }) => CacheCheck::Missing,
        Err(TufError::CacheInvalid { expired: true, .. }) => CacheCheck::Expired,
        Err(_) => CacheCheck::Invalid,
    }
}

fn refuse_cache(e: TufError) -> TrustError {
    TrustError::Tuf(format!(
        "{e}. attest will not fall back to other trust material after a failed check"
    ))
}

fn fail_closed(e: TufError) -> TrustError {
    TrustError::Tuf(format!(
        "{e}. attest will not fall back to other trust material after a failed check; \
         pass --custom-trusted-root FILE, or, to use the embedded roots deliberately, \
         run with --offline and an empty --cache-dir (a failing cache is not skipped)"
    ))
}

/// Why trust material could not be used, or no root fits a bundle.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum TrustError {
    /// The trusted-root file could not be read.
    #[error("{0}")]
    Read(String),
    /// A trusted root is malformed or unusable.
    #[error("{origin}: invalid trusted root: {detail}")]
    Root {
        /// File and line, or "embedded".
        origin: String,
        /// What is wrong.
        detail: String,
    },
    /// A trusted root names a member twice in one object. Parsers disagree on
    /// which one counts (serde_json keeps the last, protojson refuses), so a
    /// root that could be read two ways is not read at all.
    #[error("{origin}: invalid trusted root: {error}")]
    DuplicateKey {
        /// File and line, a TUF repository's target, or "embedded".
        origin: String,
        /// The key and where it is.
        error: crate::json::StrictJsonError,
    },
    /// `--no-public-good` with a custom root that contains the public-good CA.
    #[error("{origin}: detected public good instance but requested verification without public good instance")]
    PublicGoodInCustomRoot {
        /// File and line.
        origin: String,
    },
    /// A public-good bundle under `--no-public-good`.
    #[error("the bundle was signed by the Sigstore public good instance, but --no-public-good was given")]
    PublicGoodRefused,
    /// A TUF repository or the TUF cache failed verification.
    #[error("{0}")]
    Tuf(String),
    /// The leaf certificate's issuer has no single organisation.
    #[error(
        "leaf certificate issuer {issuer:?} must have exactly one organization (O=), has {count}"
    )]
    IssuerOrganization {
        /// The issuer DN.
        issuer: String,
        /// How many O= it has.
        count: usize,
    },
    /// No trusted root serves the bundle's issuer organisation.
    #[error("no trusted root for certificate issuer organization {organization:?}{hint}")]
    NoRootForIssuer {
        /// The organisation.
        organization: String,
        /// What to do about it.
        hint: String,
    },
}

/// The trusted roots of a run, keyed by issuer organisation.
#[derive(Debug, Default)]
pub struct TrustStore {
    instances: Vec<TrustedInstance>,
    no_public_good: bool,
    custom: bool,
}

/// The organisation of an operator's single TUF repository: any issuer's.
const ANY_ORGANIZATION: &str = "*";

impl TrustStore {
    /// The roots compiled into the binary: public good and GitHub.
    pub fn embedded(no_public_good: bool) -> Self {
        let mut instances = Vec::new();
        if !no_public_good {
            instances.push(TrustedInstance::embedded(
                PUBLIC_GOOD_ORG,
                EMBEDDED_PUBLIC_GOOD,
            ));
        }
        instances.push(TrustedInstance::embedded(GITHUB_ORG, EMBEDDED_GITHUB));
        Self {
            instances,
            no_public_good,
            custom: false,
        }
    }

    /// The public-good and GitHub roots through TUF (network, cache, or the
    /// embedded snapshots as described in [`TrustedInstance::prepared`]).
    pub fn tuf(no_public_good: bool, opts: FetchOptions) -> Self {
        Self::tuf_with_github(no_public_good, opts, None)
    }

    /// [`TrustStore::tuf`], with a GHE.com tenant's trust domain (from
    /// `source::github::trust_domain`) choosing GitHub's TUF target.
    pub fn tuf_with_github(
        no_public_good: bool,
        opts: FetchOptions,
        tenant_trust_domain: Option<&str>,
    ) -> Self {
        let mut instances = Vec::new();
        if !no_public_good {
            instances.push(TrustedInstance::tuf(
                PUBLIC_GOOD_ORG,
                TufRepository::public_good(),
                opts.clone(),
                Some(EMBEDDED_PUBLIC_GOOD),
            ));
        }
        let (github, embedded) = match tenant_trust_domain {
            Some(td) => (TufRepository::github_tenant(td), None),
            None => (TufRepository::github(), Some(EMBEDDED_GITHUB)),
        };
        instances.push(TrustedInstance::tuf(GITHUB_ORG, github, opts, embedded));
        Self {
            instances,
            no_public_good,
            custom: false,
        }
    }

    /// Roots from other TUF repositories: `(organisation, repository,
    /// embedded fallback)` each, resolved like [`TrustStore::tuf`].
    pub fn from_tuf_repositories(
        repos: Vec<(String, TufRepository, &'static str)>,
        opts: FetchOptions,
    ) -> Self {
        Self {
            instances: repos
                .into_iter()
                .map(|(org, repo, embedded)| {
                    TrustedInstance::tuf(&org, repo, opts.clone(), Some(embedded))
                })
                .collect(),
            no_public_good: false,
            custom: false,
        }
    }

    /// One TUF repository of the operator's (a private mirror): its trusted
    /// root, verified over TUF from `repo.initial_root`, with no embedded
    /// fallback. It serves whatever certificate authority its root lists:
    /// the chain to that root is the check, so it stands for any issuer
    /// organisation (there is no other root to choose from).
    pub fn from_tuf_repository(repo: TufRepository, opts: FetchOptions) -> Self {
        Self {
            instances: vec![TrustedInstance::tuf(ANY_ORGANIZATION, repo, opts, None)],
            no_public_good: false,
            custom: true,
        }
    }

    /// Warnings about how the roots used so far were chosen.
    pub fn notes(&self) -> Vec<String> {
        self.instances
            .iter()
            .filter_map(|i| i.prepared_if_built()?.note.clone())
            .collect()
    }

    /// The embedded staging root alone (sigstore-conformance `--staging`).
    pub fn embedded_staging() -> Self {
        Self {
            instances: vec![TrustedInstance::embedded(PUBLIC_GOOD_ORG, EMBEDDED_STAGING)],
            no_public_good: false,
            custom: true,
        }
    }

    /// Read a `--custom-trusted-root` file: one JSON object or JSON Lines
    /// (blank lines, pretty-printed values and a missing final newline are
    /// all fine). Every root must parse; the first root that serves an
    /// organisation is the one used for it, as in gh.
    pub fn from_file(path: &Path, no_public_good: bool) -> Result<Self, TrustError> {
        let name = path.display().to_string();
        let text = crate::artifact::read_text_file(
            path,
            MAX_TRUSTED_ROOT_FILE_BYTES,
            "a trusted root JSON or JSONL file",
        )
        .map_err(|e| TrustError::Read(format!("{name}: {e}")))?;
        Self::from_jsonl(&text, &name, no_public_good)
    }

    /// Parse trusted roots from text (see [`TrustStore::from_file`]).
    pub fn from_jsonl(text: &str, name: &str, no_public_good: bool) -> Result<Self, TrustError> {
        let mut store = Self {
            instances: Vec::new(),
            no_public_good,
            custom: true,
        };
        let mut stream =
            serde_json::Deserializer::from_str(text).into_iter::<&serde_json::value::RawValue>();
        let mut lines = crate::bundle::LineCounter::default();
        loop {
            let start = skip_ws(text, stream.byte_offset());
            let line = lines.line_at(text, start);
            let origin = format!("{name}:{line}");
            let raw = match stream.next() {
                None => break,
                Some(Ok(raw)) => raw,
                Some(Err(e)) => {
                    return Err(TrustError::Root {
                        origin: format!("{name}:{}", e.line().max(1)),
                        detail: format!("not valid JSON: {e}"),
                    })
                }
            };
            strict(raw.get(), &origin)?;
            let mut de = serde_json::Deserializer::from_str(raw.get());
            let root: TrustedRoot =
                serde_path_to_error::deserialize(&mut de).map_err(|e| TrustError::Root {
                    origin: origin.clone(),
                    detail: format!(
                        "field {}: {}",
                        e.path(),
                        strip_position(&e.inner().to_string())
                    ),
                })?;
            store.add_custom_root(root, name, line)?;
        }
        if store.instances.is_empty() {
            return Err(TrustError::Read(format!(
                "{name}: no trusted root found (the file is empty)"
            )));
        }
        Ok(store)
    }

    fn add_custom_root(
        &mut self,
        root: TrustedRoot,
        name: &str,
        line: usize,
    ) -> Result<(), TrustError> {
        let origin = format!("{name}:{line}");
        let mut orgs: Vec<String> = Vec::new();
        for ca in &root.certificate_authorities {
            // gh registers a CA under the issuer organisation of its lowest
            // certificate (the first of the chain).
            let Some(first) = ca.cert_chain.certificates.first() else {
                return Err(TrustError::Root {
                    origin,
                    detail: "a certificate authority has an empty certificate chain".into(),
                });
            };
            let ca_orgs = crate::certificate::subject_organizations(first.raw_bytes.as_bytes())
                .map_err(|e| TrustError::Root {
                    origin: origin.clone(),
                    detail: e.to_string(),
                })?;
            for org in ca_orgs {
                if !orgs.contains(&org) {
                    orgs.push(org);
                }
            }
        }
        if self.no_public_good && orgs.iter().any(|o| o == PUBLIC_GOOD_ORG) {
            return Err(TrustError::PublicGoodInCustomRoot { origin });
        }
        for org in orgs {
            if self.instances.iter().any(|i| i.organization == org) {
                continue;
            }
            self.instances.push(TrustedInstance::from_root(
                &org,
                root.clone(),
                RootSource::File {
                    path: name.to_string(),
                    line,
                },
            ));
        }
        // A root without certificate authorities (a managed-key setup) is
        // still usable with `--key`; keep it under an empty organisation.
        if root.certificate_authorities.is_empty()
            && !self.instances.iter().any(|i| i.organization.is_empty())
        {
            self.instances.push(TrustedInstance::from_root(
                "",
                root,
                RootSource::File {
                    path: name.to_string(),
                    line,
                },
            ));
        }
        Ok(())
    }

    /// Whether the roots came from a custom file.
    pub fn is_custom(&self) -> bool {
        self.custom
    }

    /// All instances, in registration order.
    pub fn instances(&self) -> &[TrustedInstance] {
        &self.instances
    }

    /// The root that serves a leaf certificate whose issuer has these
    /// organisations. gh requires exactly one `O=`.
    pub fn select(
        &self,
        issuer: &str,
        organizations: &[String],
    ) -> Result<&TrustedInstance, TrustError> {
        let [org] = organizations else {
            return Err(TrustError::IssuerOrganization {
                issuer: issuer.to_string(),
                count: organizations.len(),
            });
        };
        if self.no_public_good && org == PUBLIC_GOOD_ORG {
            return Err(TrustError::PublicGoodRefused);
        }
        self.instances
            .iter()
            .find(|i| &i.organization == org || i.organization == ANY_ORGANIZATION)
            .ok_or_else(|| TrustError::NoRootForIssuer {
                organization: org.clone(),
                hint: if self.custom {
                    " in the custom trusted root; add a line with that instance's trusted root \
                     (attest trusted-root prints public good and GitHub)"
                        .to_string()
                } else {
                    "; this is neither the Sigstore public good nor GitHub's instance: \
                     pass its root with --custom-trusted-root"
                        .to_string()
                },
            })
    }

    /// The root to verify a managed-key bundle against: the first one.
    pub fn first(&self) -> Option<&TrustedInstance> {
        self.instances.first()
    }
}

/// Refuse a trusted root that names a member twice (see
/// [`TrustError::DuplicateKey`]); syntax errors are left to the parser, whose
/// message says more.
fn strict(json: &str, origin: &str) -> Result<(), TrustError> {
    match crate::json::check_unique_keys(json.as_bytes()) {
        Err(error @ crate::json::StrictJsonError::DuplicateKey { .. }) => {
            Err(TrustError::DuplicateKey {
                origin: origin.to_string(),
                error,
            })
        }
        _ => Ok(()),
    }
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(pos) => msg[..pos].to_string(),
        None => msg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static GH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        // Chosen when the tests are built: the library reads no environment at run time.
        option_env!("ATTEST_SHARED_DIR")
            .filter(|d| !d.is_empty())
            .map_or_else(
                || concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared").to_string(),
                str::to_string,
            )
            + "/testdata/gh"
    });

    #[test]
    fn embedded_roots_parse_and_build_verifiers() {
        let store = TrustStore::embedded(false);
        for inst in store.instances() {
            inst.prepared().unwrap();
        }
        assert_eq!(store.instances().len(), 2);
        assert!(TrustStore::embedded_staging().instances()[0]
            .prepared()
            .is_ok());
    }

    #[test]
    fn combined_jsonl_registers_both_organisations() {
        let store = TrustStore::from_file(
            Path::new(&format!("{}/combined_trusted_root.jsonl", *GH)),
            false,
        )
        .unwrap();
        let orgs: Vec<_> = store
            .instances()
            .iter()
            .map(|i| i.organization.as_str())
            .collect();
        assert_eq!(orgs, vec![PUBLIC_GOOD_ORG, GITHUB_ORG]);
        assert_eq!(
            store.instances()[1].prepared().unwrap().source,
            RootSource::File {
                path: format!("{}/combined_trusted_root.jsonl", *GH),
                line: 2
            }
        );
    }

    #[test]
    fn no_public_good_rejects_a_root_with_the_public_good_ca() {
        let err = TrustStore::from_file(Path::new(&format!("{}/trusted_root.json", *GH)), true)
            .unwrap_err();
        assert!(matches!(err, TrustError::PublicGoodInCustomRoot { .. }));
        let store = TrustStore::embedded(true);
        assert_eq!(
            store
                .select("O=sigstore.dev", &[PUBLIC_GOOD_ORG.into()])
                .unwrap_err(),
            TrustError::PublicGoodRefused
        );
    }

    #[test]
    fn selection_needs_one_organisation_and_a_root() {
        let store = TrustStore::embedded(false);
        assert!(matches!(
            store.select("CN=x", &[]),
            Err(TrustError::IssuerOrganization { count: 0, .. })
        ));
        assert!(matches!(
            store.select("O=a,O=b", &["a".into(), "b".into()]),
            Err(TrustError::IssuerOrganization { count: 2, .. })
        ));
        assert!(matches!(
            store.select("O=Evil", &["Evil".into()]),
            Err(TrustError::NoRootForIssuer { .. })
        ));
        assert_eq!(
            store.select("O=GitHub", &[GITHUB_ORG.into()]).unwrap().kind,
            InstanceKind::GitHub
        );
    }

    #[test]
    fn bad_files_name_the_line() {
        let err = TrustStore::from_jsonl("{\"mediaType\":1}\n", "r.jsonl", false).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("r.jsonl:1: invalid trusted root"),
            "{err}"
        );
        let good = std::fs::read_to_string(format!("{}/trusted_root.json", *GH)).unwrap();
        let err =
            TrustStore::from_jsonl(&format!("{}\n\n{{oops", good.trim_end()), "r.jsonl", false)
                .unwrap_err();
        assert!(err.to_string().starts_with("r.jsonl:3:"), "{err}");
        assert!(TrustStore::from_jsonl("  \n", "e.jsonl", false).is_err());
    }

    #[test]
    fn a_member_named_twice_is_refused_with_its_line_and_path() {
        let good = std::fs::read_to_string(format!("{}/trusted_root.json", *GH)).unwrap();
        let good = good.trim_end();
        // The real CAs last: serde_json alone would keep them and accept the root.
        let dup = good.replacen(
            "\"certificateAuthorities\":",
            "\"certificateAuthorities\":[],\"certificateAuthorities\":",
            1,
        );
        assert_ne!(dup, good);
        let err =
            TrustStore::from_jsonl(&format!("{good}\n{dup}\n"), "r.jsonl", false).unwrap_err();
        assert!(matches!(err, TrustError::DuplicateKey { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "r.jsonl:2: invalid trusted root: duplicate key \"certificateAuthorities\" in \
             the top-level object (a JSON object must name each member once)"
        );
        let nested = good.replacen(
            "\"hashAlgorithm\":",
            "\"hashAlgorithm\":1,\"hashAlgorithm\":",
            1,
        );
        let err = TrustStore::from_jsonl(&nested, "r.json", false).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "r.json:1: invalid trusted root: duplicate key \"hashAlgorithm\" in tlogs[0] "
            ),
            "{err}"
        );
        // The embedded roots pass the same check (`prepared` runs it).
        for inst in TrustStore::embedded(false).instances() {
            inst.prepared().unwrap();
        }
    }
}
