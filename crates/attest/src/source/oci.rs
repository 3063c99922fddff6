//! Container images: `oci://REGISTRY/NAME[:TAG|@DIGEST]`.
//!
//! The digest attestations name is the manifest's, or the index's for a
//! multi-arch image (a HEAD request, else the manifest hashed); a digest
//! pinned in the reference is used as written, once the registry confirms
//! it. `--bundle-from-oci` reads Sigstore bundles stored as OCI referrers of
//! that digest: the referrers API, else (404, 406 or 400) the `sha256-<hex>`
//! tag schema; each referrer whose artifact type starts with
//! `application/vnd.dev.sigstore.bundle` holds the bundle as its first layer.
//!
//! Reads use our own HTTP client (`Puller`) because `oci-client` buffers
//! whole bodies: every manifest, index, token and layer is read against a
//! byte limit, every request against `ATTEST_HTTP_TIMEOUT`, and every
//! operation against a total deadline. Authentication follows the registry's
//! challenge: the anonymous bearer-token flow, Docker config credentials or
//! basic auth. Pushing referrers (and plain images, for tests) lives here
//! too and uses `oci-client` for the writes.

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
pub use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use crate::artifact::{digest_bytes, ArtifactDigest, DigestAlgorithm};
use crate::bundle::{parse_bundle, BundleError, BundleOrigin, LoadedBundle};
use crate::source::http::{block_on, request_timeout};

/// The artifact-type prefix of Sigstore bundle referrers.
pub const BUNDLE_ARTIFACT_TYPE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
/// The media type we push bundles with.
pub const BUNDLE_V03_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// OCI 1.1's empty config.
pub const EMPTY_CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// OCI image manifest media type.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index media type.
pub const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// Largest bundle layer we download.
const MAX_LAYER_BYTES: u64 = 32 * 1024 * 1024;

/// Why an OCI operation failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum OciError {
    /// The reference does not parse.
    #[error("invalid image reference {reference:?}: {detail}")]
    Reference {
        /// What was given.
        reference: String,
        /// Why.
        detail: String,
    },
    /// The registry wants credentials we do not have, or refused them.
    #[error("{registry}: registry authorization failed ({detail}); log in with `docker login {registry}` or check the credentials in the Docker config")]
    Unauthorized {
        /// The registry.
        registry: String,
        /// What it said.
        detail: String,
    },
    /// The image (or tag) does not exist.
    #[error("{reference}: not found in the registry ({detail})")]
    NotFound {
        /// The reference.
        reference: String,
        /// What the registry said.
        detail: String,
    },
    /// No Sigstore bundle referrers.
    #[error("no attestations found in the OCI registry for {reference}; retry without --bundle-from-oci to check GitHub for the attestation")]
    NoReferrers {
        /// The reference.
        reference: String,
    },
    /// The registry settings of the environment cannot be used (a usage
    /// error: nothing was sent).
    #[error("{detail}")]
    Settings {
        /// What is wrong and what was expected.
        detail: String,
    },
    /// Anything else the registry or the network did.
    #[error("{reference}: {detail}")]
    Registry {
        /// The reference.
        reference: String,
        /// What happened.
        detail: String,
    },
}

/// Parse `oci://…` into a reference; `None` if `arg` is not an OCI reference.
/// The registry settings of the environment are checked here too
/// ([`check_registry_settings`]), so that every command naming an image
/// refuses them before it does anything else.
pub fn parse_oci_ref(arg: &str) -> Option<Result<Reference, OciError>> {
    let rest = arg.strip_prefix("oci://")?;
    Some(
        rest.parse::<Reference>()
            .map_err(|e| OciError::Reference {
                reference: arg.to_string(),
                detail: e.to_string(),
            })
            .and_then(|r| check_registry_settings().map(|()| r)),
    )
}

fn is_loopback(registry: &str) -> bool {
    let host = registry
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(registry);
    crate::source::http::is_loopback_host(host)
}

/// A registry client: plain HTTP only for loopback registries (as Docker
/// allows for localhost), HTTPS everywhere else, our timeouts.
pub fn client_for(reference: &Reference) -> Client {
    let registry = reference.resolve_registry().to_string();
    let protocol = if is_loopback(&registry) {
        ClientProtocol::HttpsExcept(vec![registry])
    } else {
        ClientProtocol::Https
    };
    let timeout = request_timeout();
    Client::new(ClientConfig {
        protocol,
        read_timeout: Some(timeout),
        connect_timeout: Some(timeout.min(std::time::Duration::from_secs(10))),
        ..Default::default()
    })
}

/// The registry that `ATTEST_REGISTRY_USERNAME`/`_PASSWORD` are for.
pub const REGISTRY_ENV: &str = "ATTEST_REGISTRY";
/// The user name for the registry [`REGISTRY_ENV`] names.
pub const USERNAME_ENV: &str = "ATTEST_REGISTRY_USERNAME";
/// The password or token for the registry [`REGISTRY_ENV`] names.
pub const PASSWORD_ENV: &str = "ATTEST_REGISTRY_PASSWORD";

/// Credentials from the environment, bound to one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct EnvCredentials {
    /// The registry they are for, as [`registry_key`] spells it.
    registry: String,
    user: String,
    password: String,
}

/// Read the environment credentials through `get`: none, or all three
/// variables. A user name and password without the registry they are for
/// are refused, so a password meant for one registry is never offered to
/// whichever registry an `oci://` argument names.
fn env_credentials(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<EnvCredentials>, OciError> {
    // An empty variable counts as unset: CI fills missing secrets with "".
    let var = |name: &str| get(name).filter(|v| !v.is_empty());
    let (user, password) = match (var(USERNAME_ENV), var(PASSWORD_ENV)) {
        (None, None) => return Ok(None),
        (Some(u), Some(p)) => (u, p),
        (Some(_), None) => {
            return Err(OciError::Settings {
                detail: format!(
                    "{USERNAME_ENV} is set but {PASSWORD_ENV} is not; expected both or neither"
                ),
            })
        }
        (None, Some(_)) => {
            return Err(OciError::Settings {
                detail: format!(
                    "{PASSWORD_ENV} is set but {USERNAME_ENV} is not; expected both or neither"
                ),
            })
        }
    };
    let Some(registry) = var(REGISTRY_ENV) else {
        return Err(OciError::Settings {
            detail: format!(
                "{USERNAME_ENV} and {PASSWORD_ENV} are set but {REGISTRY_ENV} is not; expected {REGISTRY_ENV}=host[:port] naming the one registry they are for (every other registry's credentials come from the Docker config)"
            ),
        });
    };
    let plain = !registry.is_empty()
        && registry
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !plain {
        return Err(OciError::Settings {
            detail: format!(
                "{REGISTRY_ENV}={:?}: expected host[:port], with no scheme or path (e.g. ghcr.io or 127.0.0.1:5000)",
                crate::text::remote_text(&registry)
            ),
        });
    }
    Ok(Some(EnvCredentials {
        registry: registry_key(&registry),
        user,
        password,
    }))
}

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// A registry name as credentials are looked up by: lower case, with
/// Docker Hub's several names as one.
fn registry_key(registry: &str) -> String {
    let lower = registry.trim().to_ascii_lowercase();
    match lower.as_str() {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => "docker.io".into(),
        _ => lower,
    }
}

/// Check the registry settings of the environment without using them:
/// `ATTEST_REGISTRY_USERNAME`/`_PASSWORD` need `ATTEST_REGISTRY=host[:port]`.
/// [`parse_oci_ref`] and every registry operation call it, so a
/// misconfiguration is a usage error before any request.
pub fn check_registry_settings() -> Result<(), OciError> {
    env_credentials(&process_env).map(|_| ())
}

/// Credentials for `registry`: `ATTEST_REGISTRY_USERNAME`/`_PASSWORD` when
/// `ATTEST_REGISTRY` names this registry, else the Docker config
/// (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`: `credHelpers`,
/// `credsStore`, `auths`, looked up by the registry's host), else anonymous
/// (the registry's bearer-token flow still runs).
pub fn registry_credentials(registry: &str) -> Result<RegistryAuth, OciError> {
    credentials_for(registry, &process_env, &docker_config_auth)
}

fn credentials_for(
    registry: &str,
    get: &dyn Fn(&str) -> Option<String>,
    docker: &dyn Fn(&str) -> Option<RegistryAuth>,
) -> Result<RegistryAuth, OciError> {
    if let Some(env) = env_credentials(get)? {
        if env.registry == registry_key(registry) {
            return Ok(RegistryAuth::Basic(env.user, env.password));
        }
    }
    Ok(docker(registry).unwrap_or(RegistryAuth::Anonymous))
}

/// [`registry_credentials`], with a misconfigured environment read as no
/// credentials: [`parse_oci_ref`] and every operation report that
/// misconfiguration themselves, before any request.
pub fn registry_auth(registry: &str) -> RegistryAuth {
    registry_credentials(registry).unwrap_or(RegistryAuth::Anonymous)
}

fn docker_config_auth(registry: &str) -> Option<RegistryAuth> {
    let dir = std::env::var_os("DOCKER_CONFIG")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".docker"))
        })?;
    let text = std::fs::read_to_string(dir.join("config.json")).ok()?;
    docker_config_credentials(&text, registry, true)
}

/// The host a Docker config key names: `https://host:port/v1/` and
/// `host:port` both name `host:port`, as Docker reads its keys.
fn config_key_host(key: &str) -> String {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    registry_key(rest.split('/').next().unwrap_or_default())
}

/// The value under the key of `map` (a JSON object) naming `registry`'s
/// host; an exact key wins over one that differs only in spelling.
fn config_entry<'a>(map: &'a serde_json::Value, registry: &str) -> Option<&'a serde_json::Value> {
    let map = map.as_object()?;
    let wanted = registry_key(registry);
    map.get(registry).or_else(|| {
        map.iter()
            .find(|(k, _)| config_key_host(k) == wanted)
            .map(|(_, v)| v)
    })
}

/// The credentials a Docker `config.json` holds for `registry`: a credential
/// helper's answer (when `run_helpers`: `credHelpers` for this host, else
/// `credsStore`), else the `auths` entry for this host. Only the entry for
/// `registry`'s own host is ever used.
pub fn docker_config_credentials(
    text: &str,
    registry: &str,
    run_helpers: bool,
) -> Option<RegistryAuth> {
    let config: serde_json::Value = serde_json::from_str(text).ok()?;
    // Docker Hub's helpers and `auths` know it by its legacy index URL.
    let helper_name = if registry_key(registry) == "docker.io" {
        "https://index.docker.io/v1/"
    } else {
        registry
    };
    if let Some(helper) = config_entry(&config["credHelpers"], registry)
        .and_then(|h| h.as_str())
        .or_else(|| config["credsStore"].as_str())
        .filter(|_| run_helpers)
    {
        if let Some(auth) = credential_helper(helper, helper_name) {
            return Some(auth);
        }
    }
    let entry = config_entry(&config["auths"], registry)?;
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(entry["auth"].as_str()?)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some(RegistryAuth::Basic(user.to_string(), pass.to_string()))
}

fn credential_helper(helper: &str, registry: &str) -> Option<RegistryAuth> {
    use std::io::Write;
    if !helper
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return None;
    }
    let mut child = std::process::Command::new(format!("docker-credential-{helper}"))
        .arg("get")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(registry.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    Some(RegistryAuth::Basic(
        v["Username"].as_str()?.to_string(),
        v["Secret"].as_str()?.to_string(),
    ))
}

fn classify(reference: &str, registry: &str, e: OciDistributionError) -> OciError {
    // oci-client's errors quote the registry's answers.
    let detail = crate::text::remote_text(&crate::error_chain(&e));
    let upper = detail.to_ascii_uppercase();
    let unauthorized = matches!(
        e,
        OciDistributionError::AuthenticationFailure(_)
            | OciDistributionError::UnauthorizedError { .. }
    ) || matches!(
        e,
        OciDistributionError::ServerError {
            code: 401 | 403,
            ..
        }
    ) || upper.contains("UNAUTHORIZED")
        || upper.contains("DENIED");
    if unauthorized {
        return OciError::Unauthorized {
            registry: registry.to_string(),
            detail,
        };
    }
    let not_found = matches!(e, OciDistributionError::ImageManifestNotFoundError(_))
        || matches!(e, OciDistributionError::ServerError { code: 404, .. })
        || upper.contains("MANIFEST_UNKNOWN")
        || upper.contains("NAME_UNKNOWN");
    if not_found {
        return OciError::NotFound {
            reference: reference.to_string(),
            detail,
        };
    }
    OciError::Registry {
        reference: reference.to_string(),
        detail,
    }
}

fn flatten<T>(
    r: Result<Result<T, OciError>, crate::source::http::HttpError>,
    reference: &str,
) -> Result<T, OciError> {
    r.map_err(|e| OciError::Registry {
        reference: reference.to_string(),
        detail: e.to_string(),
    })?
}

/// Accept header for manifest reads: OCI and Docker manifests and indexes.
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";
/// Largest manifest, referrers index or token answer we read: the 4 MiB the
/// OCI distribution spec tells registries to accept, so no real one is larger.
const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
/// Most of an error body we read, only to quote the registry's message.
const MAX_ERROR_BYTES: u64 = 64 * 1024;
/// Most bundle bytes one image's referrers may make us hold: each layer is
/// bounded, this bounds a registry listing thousands of them.
const MAX_TOTAL_BUNDLE_BYTES: u64 = 256 * 1024 * 1024;
/// A whole read (resolving a digest, or fetching every referrer) may last
/// this many request timeouts: each request is bounded on its own, this
/// bounds how many slow answers a registry can chain.
const OPERATION_TIMEOUTS: u32 = 10;

/// The deadline of one whole OCI operation.
fn operation_deadline() -> std::time::Duration {
    request_timeout() * OPERATION_TIMEOUTS
}

/// Run one OCI operation on its own runtime, bounded by [`operation_deadline`].
fn run_bounded<T>(
    reference: &str,
    fut: impl std::future::Future<Output = Result<T, OciError>>,
) -> Result<T, OciError> {
    let deadline = operation_deadline();
    flatten(
        block_on(async {
            tokio::time::timeout(deadline, fut)
                .await
                .unwrap_or_else(|_| {
                    Err(OciError::Registry {
                        reference: reference.to_string(),
                        detail: format!(
                            "the registry did not finish answering within {} s (timed out)",
                            deadline.as_secs_f64()
                        ),
                    })
                })
        }),
        reference,
    )
}

/// A digest pinned in the reference (`…@sha256:…`), if any; one we cannot
/// use is an error, never a reason to ask the registry which digest to use.
fn pinned_digest(reference: &Reference) -> Result<Option<ArtifactDigest>, OciError> {
    reference
        .digest()
        .map(|d| {
            ArtifactDigest::parse(d).map_err(|e| OciError::Reference {
                reference: reference.whole(),
                detail: format!("expected a sha256 or sha512 digest after '@': {e}"),
            })
        })
        .transpose()
}

/// The digest of the image's manifest, or of its index for a multi-arch
/// image: what attestations of the image name. A digest pinned in the
/// reference is the answer itself: the registry is only asked to confirm it
/// holds that manifest, and a registry reporting any other digest (of any
/// algorithm) is an error.
pub fn resolve_digest(
    reference: &Reference,
    auth: &RegistryAuth,
) -> Result<ArtifactDigest, OciError> {
    let text = reference.whole();
    let pinned = pinned_digest(reference)?;
    run_bounded(&text, async {
        let mut puller = Puller::new(reference, auth, &text)?;
        let name = match &pinned {
            Some(d) => d.to_string(),
            None => reference.tag().unwrap_or("latest").to_string(),
        };
        puller.manifest_digest(&name, pinned.as_ref()).await
    })
}

fn with_digest(reference: &Reference, digest: &ArtifactDigest) -> Reference {
    Reference::with_digest(
        reference.resolve_registry().to_string(),
        reference.repository().to_string(),
        digest.to_string(),
    )
}

/// The Sigstore bundles stored as referrers of `digest` in `reference`'s
/// repository: the referrers API, else (404, 406 or 400, as gh treats a 406
/// like a 404) the `ALG-HEX` tag schema. Every read is bounded in size and
/// time; a referrer listed twice, or two referrers holding the same bundle
/// layer, give one bundle.
pub fn fetch_referrer_bundles(
    reference: &Reference,
    digest: &ArtifactDigest,
    auth: &RegistryAuth,
) -> Result<Vec<Result<LoadedBundle, BundleError>>, OciError> {
    fetch_referrer_bundles_limited(reference, digest, auth, usize::MAX)
}

/// [`fetch_referrer_bundles`], loading at most `limit` distinct bundle
/// referrers (`--limit`), in the order the registry lists them.
pub fn fetch_referrer_bundles_limited(
    reference: &Reference,
    digest: &ArtifactDigest,
    auth: &RegistryAuth,
    limit: usize,
) -> Result<Vec<Result<LoadedBundle, BundleError>>, OciError> {
    let subject = with_digest(reference, digest);
    let text = subject.whole();
    run_bounded(&text, async {
        let mut puller = Puller::new(reference, auth, &text)?;
        let index = puller.referrers(digest).await?;
        let mut out = Vec::new();
        let mut total: u64 = 0;
        // A registry may list one referrer many times (or a hostile one,
        // thousands): each is fetched, and its bundle verified, once.
        let mut seen_referrers = std::collections::HashSet::new();
        let mut seen_layers = std::collections::HashSet::new();
        for entry in index.iter().filter(|m| {
            m["artifactType"]
                .as_str()
                .is_some_and(|t| t.starts_with(BUNDLE_ARTIFACT_TYPE_PREFIX))
        }) {
            if out.len() >= limit {
                break;
            }
            let entry_digest = entry["digest"].as_str().unwrap_or_default();
            if !seen_referrers.insert(entry_digest.to_ascii_lowercase()) {
                continue;
            }
            let referrer_digest = match ArtifactDigest::parse(entry_digest) {
                Ok(d) => d,
                Err(e) => {
                    out.push(Err(BundleError::Shape {
                        origin: format!(
                            "{text} referrer {:?}",
                            crate::text::remote_text(entry_digest)
                        ),
                        detail: e.to_string(),
                    }));
                    continue;
                }
            };
            let origin = BundleOrigin {
                source: with_digest(reference, &referrer_digest).whole(),
                line: 1,
                index: out.len() + 1,
            };
            let loaded = puller
                .referrer_bundle(&referrer_digest, origin, &mut total, &mut seen_layers)
                .await;
            if total > MAX_TOTAL_BUNDLE_BYTES {
                return Err(OciError::Registry {
                    reference: text.clone(),
                    detail: format!(
                        "the referrers' bundles exceed {MAX_TOTAL_BUNDLE_BYTES} bytes in total"
                    ),
                });
            }
            match loaded {
                Ok(None) => {}
                Ok(Some(bundle)) => out.push(Ok(bundle)),
                Err(e) => out.push(Err(e)),
            }
        }
        if out.is_empty() {
            return Err(OciError::NoReferrers {
                reference: text.clone(),
            });
        }
        Ok(out)
    })
}

/// A bounded answer: status, headers, and at most the byte limit of body.
struct Answer {
    status: reqwest::StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
    /// How many times a 429 or 5xx was retried before this answer.
    retries: u32,
}

/// Why one bounded request failed, before it is given its meaning.
enum Failed {
    /// A whole `OciError` already.
    Oci(OciError),
    /// The body went past the limit: what the caller wanted, and the limit.
    TooLarge(u64),
}

/// Reads from one repository of one registry with our own HTTP client, so
/// that every body is read against a byte limit and every request against
/// the request timeout (`oci-client` buffers whole bodies and bounds only
/// each socket read). Authentication follows the registry's challenge: the
/// anonymous or credentialed bearer-token flow, or basic auth.
///
/// Where credentials go: redirects are followed here, not by reqwest, and
/// the registry's Authorization header (its password or token) is sent only
/// to the registry's own origin; the password also goes to the token service
/// the registry's own challenge names, and nowhere else. A 401 from any other
/// origin (a CDN a blob GET was redirected to) is never answered: its realm
/// is not the registry's word.
struct Puller {
    http: reqwest::Client,
    /// `SCHEME://REGISTRY/v2/REPOSITORY`.
    base: String,
    /// [`Self::base`] parsed: its origin is the only one credentials go to.
    origin: reqwest::Url,
    registry: String,
    repository: String,
    auth: RegistryAuth,
    authorization: Option<reqwest::header::HeaderValue>,
    /// The reference errors name.
    text: String,
    /// When the whole operation must be over: no retry waits past it.
    deadline: std::time::Instant,
}

impl Puller {
    fn new(reference: &Reference, auth: &RegistryAuth, text: &str) -> Result<Self, OciError> {
        check_registry_settings()?;
        let registry = reference.resolve_registry().to_string();
        // Plain HTTP only for loopback registries, as Docker allows for localhost.
        let scheme = if is_loopback(&registry) {
            "http"
        } else {
            "https"
        };
        let http =
            crate::source::http::client_without_redirects().map_err(|e| OciError::Registry {
                reference: text.to_string(),
                detail: e.to_string(),
            })?;
        let authorization = match auth {
            RegistryAuth::Bearer(token) => Some(sensitive(&format!("Bearer {token}"))),
            _ => None,
        };
        let base = format!("{scheme}://{registry}/v2/{}", reference.repository());
        let origin = reqwest::Url::parse(&base).map_err(|e| OciError::Reference {
            reference: text.to_string(),
            detail: format!("expected a registry host[:port], got {registry:?}: {e}"),
        })?;
        Ok(Self {
            http,
            base,
            origin,
            registry,
            repository: reference.repository().to_string(),
            auth: auth.clone(),
            authorization,
            text: text.to_string(),
            deadline: std::time::Instant::now() + operation_deadline(),
        })
    }

    fn registry_error(&self, detail: String) -> OciError {
        OciError::Registry {
            reference: self.text.clone(),
            detail,
        }
    }

    fn unauthorized(&self, detail: String) -> OciError {
        OciError::Unauthorized {
            registry: self.registry.clone(),
            detail,
        }
    }

    fn transport(&self, url: &str, e: reqwest::Error) -> OciError {
        let detail = if e.is_timeout() {
            format!(
                "{url}: no answer within {} s (timed out)",
                request_timeout().as_secs_f64()
            )
        } else {
            format!("{url}: {}", crate::error_chain(&e))
        };
        self.registry_error(detail)
    }

    /// An error status, classified: 401/403 (or the registry's UNAUTHORIZED
    /// and DENIED codes) ask for credentials, 404 is a missing image.
    fn status_error(&self, url: &str, answer: &Answer) -> OciError {
        let message = registry_message(&answer.body);
        let retried = match answer.retries {
            0 => String::new(),
            n => format!(" (after {n} retries)"),
        };
        let detail = format!("{url}: HTTP {}{message}{retried}", answer.status.as_u16());
        let upper = message.to_ascii_uppercase();
        if matches!(answer.status.as_u16(), 401 | 403)
            || upper.contains("UNAUTHORIZED")
            || upper.contains("DENIED")
        {
            return self.unauthorized(detail);
        }
        if answer.status == reqwest::StatusCode::NOT_FOUND
            || upper.contains("MANIFEST_UNKNOWN")
            || upper.contains("NAME_UNKNOWN")
        {
            return OciError::NotFound {
                reference: self.text.clone(),
                detail,
            };
        }
        self.registry_error(detail)
    }

    /// One request, authenticating once if the registry itself challenges
    /// it and retrying 429 and 5xx by the shared policy; a success body past
    /// `limit` bytes is refused without reading the rest, an error body is
    /// cut at [`MAX_ERROR_BYTES`].
    async fn request(
        &mut self,
        method: reqwest::Method,
        url: &str,
        accept: &str,
        limit: u64,
    ) -> Result<Answer, Failed> {
        let mut challenged = false;
        let mut retries = 0;
        loop {
            let authorization = self.authorization.clone();
            let (mut resp, answered_by) = self
                .send(&method, url, accept, authorization.as_ref(), &self.origin)
                .await
                .map_err(Failed::Oci)?;
            let status = resp.status();
            if status == reqwest::StatusCode::UNAUTHORIZED {
                if answered_by.origin() != self.origin.origin() {
                    return Err(Failed::Oci(self.unauthorized(format!(
                        "{url}: the registry redirected to {}, which answered HTTP 401; credentials go only to the registry and the token service it names, so attest does not answer that challenge",
                        shown(&answered_by)
                    ))));
                }
                if !challenged {
                    if let Some(challenge) = resp
                        .headers()
                        .get(reqwest::header::WWW_AUTHENTICATE)
                        .and_then(|v| v.to_str().ok())
                    {
                        challenged = true;
                        let challenge = challenge.to_string();
                        self.authorization = Some(self.authorize(&challenge).await?);
                        continue;
                    }
                }
            }
            if let Some(wait) = self
                .retry_wait(url, status, resp.headers(), retries)
                .map_err(Failed::Oci)?
            {
                retries += 1;
                tokio::time::sleep(wait).await;
                continue;
            }
            let headers = resp.headers().clone();
            // Enough of an error body to quote; the rest is noise.
            let (limit, truncate) = if status.is_success() {
                (limit, false)
            } else {
                (MAX_ERROR_BYTES, true)
            };
            let body = crate::source::http::read_limited(&mut resp, limit, truncate)
                .await
                .map_err(|e| Failed::Oci(self.transport(url, e)))?
                .ok_or(Failed::TooLarge(limit))?;
            return Ok(Answer {
                status,
                headers,
                body,
                retries,
            });
        }
    }

    /// Whether to ask again after `status`, and after how long: the shared
    /// retry policy ([`crate::source::http::retry_decision`]), and never a
    /// wait past the operation's deadline.
    fn retry_wait(
        &self,
        url: &str,
        status: reqwest::StatusCode,
        headers: &reqwest::header::HeaderMap,
        retries: u32,
    ) -> Result<Option<std::time::Duration>, OciError> {
        use crate::source::http::{retry_decision, Retry};
        let wait = match retry_decision(status, headers, retries) {
            Retry::No => return Ok(None),
            Retry::After(wait) if std::time::Instant::now() + wait <= self.deadline => {
                return Ok(Some(wait))
            }
            Retry::After(wait) | Retry::TooLong(wait) => wait,
        };
        Err(self.registry_error(format!(
            "{url}: HTTP {}; the registry asks to retry after {} s, longer than attest waits (at most 60 s per retry, {} s for the whole operation)",
            status.as_u16(),
            wait.as_secs_f64(),
            operation_deadline().as_secs_f64()
        )))
    }

    /// Send one request, following redirects here rather than in reqwest
    /// (at most [`MAX_REDIRECTS`](crate::source::http::MAX_REDIRECTS)) so
    /// that `authorization` goes only to `trusted`'s origin, never to a host
    /// a redirect names. Returns the response and the URL that gave it.
    async fn send(
        &self,
        method: &reqwest::Method,
        url: &str,
        accept: &str,
        authorization: Option<&reqwest::header::HeaderValue>,
        trusted: &reqwest::Url,
    ) -> Result<(reqwest::Response, reqwest::Url), OciError> {
        let max = crate::source::http::MAX_REDIRECTS;
        let mut current = reqwest::Url::parse(url)
            .map_err(|e| self.registry_error(format!("{url}: not a URL: {e}")))?;
        let mut method = method.clone();
        for _ in 0..=max {
            let mut req = self
                .http
                .request(method.clone(), current.clone())
                .header(reqwest::header::ACCEPT, accept);
            if let Some(a) = authorization.filter(|_| current.origin() == trusted.origin()) {
                req = req.header(reqwest::header::AUTHORIZATION, a.clone());
            }
            let resp = req
                .send()
                .await
                .map_err(|e| self.transport(&shown(&current), e))?;
            let location = resp.headers().get(reqwest::header::LOCATION);
            let (true, Some(location)) = (resp.status().is_redirection(), location) else {
                return Ok((resp, current));
            };
            let next = location
                .to_str()
                .ok()
                .and_then(|l| current.join(l).ok())
                .ok_or_else(|| {
                    self.registry_error(format!(
                        "{}: expected a URL in the redirect's Location header, got {:?}",
                        shown(&current),
                        crate::text::remote_text(&String::from_utf8_lossy(location.as_bytes()))
                    ))
                })?;
            if !(next.scheme() == "https" || next.scheme() == "http" && is_loopback_url(&next)) {
                return Err(self.registry_error(format!(
                    "{}: redirected to {}; expected an https URL",
                    shown(&current),
                    shown(&next)
                )));
            }
            if resp.status() == reqwest::StatusCode::SEE_OTHER && method != reqwest::Method::HEAD {
                method = reqwest::Method::GET;
            }
            current = next;
        }
        Err(self.registry_error(format!("{url}: more than {max} redirects")))
    }

    /// `request`, with an over-limit body described as `what`.
    async fn get(
        &mut self,
        method: reqwest::Method,
        url: &str,
        accept: &str,
        limit: u64,
        what: &str,
    ) -> Result<Answer, OciError> {
        match self.request(method, url, accept, limit).await {
            Ok(a) => Ok(a),
            Err(Failed::Oci(e)) => Err(e),
            Err(Failed::TooLarge(limit)) => Err(self.registry_error(format!(
                "{url}: {what} is larger than the {limit}-byte limit"
            ))),
        }
    }

    /// The Authorization header a `WWW-Authenticate` challenge asks for.
    async fn authorize(&self, challenge: &str) -> Result<reqwest::header::HeaderValue, Failed> {
        let (scheme, params) = parse_challenge(challenge);
        if scheme.eq_ignore_ascii_case("basic") {
            return match &self.auth {
                RegistryAuth::Basic(user, password) => {
                    use base64::Engine;
                    let pair = base64::engine::general_purpose::STANDARD
                        .encode(format!("{user}:{password}"));
                    Ok(sensitive(&format!("Basic {pair}")))
                }
                _ => Err(Failed::Oci(self.unauthorized(
                    "the registry asks for a user name and password".into(),
                ))),
            };
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(Failed::Oci(self.unauthorized(format!(
                "expected a Basic or Bearer challenge, got {:?}",
                crate::text::remote_text(&scheme)
            ))));
        }
        let realm = params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("realm"))
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        let mut url = reqwest::Url::parse(realm).map_err(|e| {
            Failed::Oci(self.unauthorized(format!(
                "expected a token service URL in the bearer challenge, got {:?}: {e}",
                crate::text::remote_text(realm)
            )))
        })?;
        // Credentials go to the token service only over HTTPS (or to loopback).
        if url.scheme() != "https" && !(url.scheme() == "http" && is_loopback_url(&url)) {
            return Err(Failed::Oci(self.unauthorized(format!(
                "expected an https token service, got {:?}",
                crate::text::remote_text(realm)
            ))));
        }
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("scope", &format!("repository:{}:pull", self.repository));
            if let Some((_, service)) = params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("service"))
            {
                query.append_pair("service", service);
            }
        }
        // The password goes to the realm's origin only: a redirect away from
        // it is followed without credentials.
        let basic = match &self.auth {
            RegistryAuth::Basic(user, password) => {
                use base64::Engine;
                let pair =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                Some(sensitive(&format!("Basic {pair}")))
            }
            _ => None,
        };
        let shown_url = shown(&url);
        let mut retries = 0;
        let (status, body) = loop {
            let (mut resp, _) = self
                .send(
                    &reqwest::Method::GET,
                    url.as_str(),
                    "application/json",
                    basic.as_ref(),
                    &url,
                )
                .await
                .map_err(Failed::Oci)?;
            let status = resp.status();
            if let Some(wait) = self
                .retry_wait(&shown_url, status, resp.headers(), retries)
                .map_err(Failed::Oci)?
            {
                retries += 1;
                tokio::time::sleep(wait).await;
                continue;
            }
            let (limit, truncate) = if status.is_success() {
                (MAX_MANIFEST_BYTES, false)
            } else {
                (MAX_ERROR_BYTES, true)
            };
            let body = crate::source::http::read_limited(&mut resp, limit, truncate)
                .await
                .map_err(|e| Failed::Oci(self.transport(&shown_url, e)))?
                .ok_or_else(|| {
                    Failed::Oci(self.unauthorized(format!(
                        "{shown_url}: the token answer is larger than the {MAX_MANIFEST_BYTES}-byte limit"
                    )))
                })?;
            break (status, body);
        };
        if !status.is_success() {
            return Err(Failed::Oci(self.unauthorized(format!(
                "{shown_url}: the token service answered HTTP {}{}",
                status.as_u16(),
                registry_message(&body)
            ))));
        }
        let token = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| {
                v["token"]
                    .as_str()
                    .or_else(|| v["access_token"].as_str())
                    .map(str::to_string)
            })
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Failed::Oci(self.unauthorized(format!(
                    "{shown_url}: expected JSON with a \"token\" from the token service"
                )))
            })?;
        reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
            .map(|mut v| {
                v.set_sensitive(true);
                v
            })
            .map_err(|_| {
                Failed::Oci(self.unauthorized(format!(
                    "{shown_url}: the token service sent a token that is not a header value"
                )))
            })
    }

    /// The digest of manifest `name` (a tag or a digest). With `pinned`, the
    /// answer is `pinned`, once the registry has confirmed it.
    async fn manifest_digest(
        &mut self,
        name: &str,
        pinned: Option<&ArtifactDigest>,
    ) -> Result<ArtifactDigest, OciError> {
        let url = format!("{}/manifests/{name}", self.base);
        // HEAD first: the digest header without the body, as gh does.
        let head = self
            .get(
                reqwest::Method::HEAD,
                &url,
                MANIFEST_ACCEPT,
                MAX_MANIFEST_BYTES,
                "the manifest",
            )
            .await?;
        if head.status.is_success() {
            if let Some(header) = content_digest(&head.headers) {
                return self.settle(&url, header, pinned);
            }
        }
        // No usable HEAD answer: read the manifest and hash it.
        let answer = self
            .get(
                reqwest::Method::GET,
                &url,
                MANIFEST_ACCEPT,
                MAX_MANIFEST_BYTES,
                "the manifest",
            )
            .await?;
        if !answer.status.is_success() {
            return Err(self.status_error(&url, &answer));
        }
        let alg = pinned
            .map(ArtifactDigest::algorithm)
            .unwrap_or(DigestAlgorithm::Sha256);
        let computed = digest_bytes(&answer.body, alg);
        if let Some(header) = content_digest(&answer.headers) {
            // The header must describe the body we got.
            let ok = ArtifactDigest::parse(&header)
                .is_ok_and(|h| digest_bytes(&answer.body, h.algorithm()) == h);
            if !ok {
                return Err(self.registry_error(format!(
                    "{url}: expected the manifest to match its Docker-Content-Digest {:?}, it does not",
                    crate::text::remote_text(&header)
                )));
            }
        }
        self.settle(&url, computed.to_string(), pinned)
    }

    /// The digest the registry reported, checked against a pinned one.
    fn settle(
        &self,
        url: &str,
        reported: String,
        pinned: Option<&ArtifactDigest>,
    ) -> Result<ArtifactDigest, OciError> {
        match pinned {
            Some(p) if p.to_string() == reported.to_ascii_lowercase() => Ok(p.clone()),
            Some(p) => Err(self.registry_error(format!(
                "{url}: expected the pinned digest {p}, the registry reports {:?}",
                crate::text::remote_text(&reported)
            ))),
            None => ArtifactDigest::parse(&reported).map_err(|e| {
                self.registry_error(format!(
                    "{url}: expected a sha256 or sha512 manifest digest, got {:?}: {e}",
                    crate::text::remote_text(&reported)
                ))
            }),
        }
    }

    /// Manifest `name` (a tag or digest) as the registry sends it, bounded;
    /// `None` if the registry has no such manifest.
    async fn manifest(&mut self, name: &str, accept: &str) -> Result<Option<Vec<u8>>, OciError> {
        let url = format!("{}/manifests/{name}", self.base);
        let answer = self
            .get(
                reqwest::Method::GET,
                &url,
                accept,
                MAX_MANIFEST_BYTES,
                "the manifest",
            )
            .await?;
        if answer.status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !answer.status.is_success() {
            return Err(self.status_error(&url, &answer));
        }
        Ok(Some(answer.body))
    }

    /// The entries of the referrers index of `subject`.
    async fn referrers(
        &mut self,
        subject: &ArtifactDigest,
    ) -> Result<Vec<serde_json::Value>, OciError> {
        let url = format!("{}/referrers/{subject}", self.base);
        let answer = self
            .get(
                reqwest::Method::GET,
                &url,
                INDEX_MEDIA_TYPE,
                MAX_MANIFEST_BYTES,
                "the referrers index",
            )
            .await?;
        let (url, answer) = match answer.status.as_u16() {
            // No referrers API: gh rewrites a 406 to a 404 and then, like the
            // OCI spec, falls back to the tag schema; some registries say 400.
            400 | 404 | 406 => {
                let tag_url = format!(
                    "{}/manifests/{}-{}",
                    self.base,
                    subject.algorithm(),
                    subject.hex()
                );
                let tagged = self
                    .get(
                        reqwest::Method::GET,
                        &tag_url,
                        MANIFEST_ACCEPT,
                        MAX_MANIFEST_BYTES,
                        "the referrers tag index",
                    )
                    .await?;
                if tagged.status == reqwest::StatusCode::NOT_FOUND {
                    return Ok(Vec::new());
                }
                (tag_url, tagged)
            }
            _ => (url, answer),
        };
        if !answer.status.is_success() {
            return Err(self.status_error(&url, &answer));
        }
        serde_json::from_slice::<serde_json::Value>(&answer.body)
            .ok()
            .and_then(|v| v.get("manifests").and_then(|m| m.as_array()).cloned())
            .ok_or_else(|| {
                self.registry_error(format!(
                    "{url}: expected an image index with a \"manifests\" list"
                ))
            })
    }

    /// The bundle in the first layer of referrer manifest `digest`; `total`
    /// counts the bundle bytes read so far. `None` when the layer is one of
    /// `seen_layers` (a bundle already loaded through another referrer).
    async fn referrer_bundle(
        &mut self,
        digest: &ArtifactDigest,
        origin: BundleOrigin,
        total: &mut u64,
        seen_layers: &mut std::collections::HashSet<ArtifactDigest>,
    ) -> Result<Option<LoadedBundle>, BundleError> {
        let shape = |detail: String| BundleError::Shape {
            origin: origin.to_string(),
            detail,
        };
        let url = format!("{}/manifests/{digest}", self.base);
        let answer = self
            .get(
                reqwest::Method::GET,
                &url,
                MANIFEST_ACCEPT,
                MAX_MANIFEST_BYTES,
                "the referrer manifest",
            )
            .await
            .map_err(|e| shape(format!("cannot read the referrer manifest: {e}")))?;
        if !answer.status.is_success() {
            let e = self.status_error(&url, &answer);
            return Err(shape(format!("cannot read the referrer manifest: {e}")));
        }
        if digest_bytes(&answer.body, digest.algorithm()) != *digest {
            return Err(shape(format!(
                "expected the referrer manifest to have digest {digest}, it does not"
            )));
        }
        let manifest: serde_json::Value = serde_json::from_slice(&answer.body)
            .map_err(|e| shape(format!("the referrer manifest is not JSON: {e}")))?;
        let layer = manifest["layers"]
            .as_array()
            .and_then(|l| l.first())
            .ok_or_else(|| shape("the referrer has no layers".into()))?;
        let layer_digest = layer["digest"]
            .as_str()
            .and_then(|d| ArtifactDigest::parse(d).ok())
            .ok_or_else(|| {
                shape("expected a sha256 or sha512 digest for the bundle layer".into())
            })?;
        let size = layer["size"]
            .as_u64()
            .ok_or_else(|| shape("expected a byte count as the bundle layer's size".into()))?;
        if size > MAX_LAYER_BYTES {
            return Err(shape(format!(
                "the bundle layer is {size} bytes, over the {MAX_LAYER_BYTES}-byte limit"
            )));
        }
        if !seen_layers.insert(layer_digest.clone()) {
            return Ok(None);
        }
        let blob_url = format!("{}/blobs/{layer_digest}", self.base);
        // Never more than the manifest declares: a registry streaming past
        // it is not sending the layer the manifest names.
        let data = match self
            .request(reqwest::Method::GET, &blob_url, "*/*", size)
            .await
        {
            Ok(a) if a.status.is_success() => a.body,
            Ok(a) => {
                let e = self.status_error(&blob_url, &a);
                return Err(shape(format!("cannot download the bundle layer: {e}")));
            }
            Err(Failed::Oci(e)) => {
                return Err(shape(format!("cannot download the bundle layer: {e}")))
            }
            Err(Failed::TooLarge(_)) => {
                return Err(shape(format!(
                    "the bundle layer is larger than the {size} bytes its manifest declares"
                )))
            }
        };
        *total += data.len() as u64;
        if digest_bytes(&data, layer_digest.algorithm()) != layer_digest {
            return Err(shape(format!(
                "expected the bundle layer to have digest {layer_digest}, it does not"
            )));
        }
        let text = std::str::from_utf8(&data)
            .map_err(|e| shape(format!("the bundle is not UTF-8: {e}")))?;
        parse_bundle(text, origin.clone()).map(Some)
    }
}

fn sensitive(value: &str) -> reqwest::header::HeaderValue {
    // Credentials with bytes a header cannot carry are sent as nothing,
    // which the registry then refuses with a clear 401.
    let mut v = reqwest::header::HeaderValue::from_str(value)
        .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static(""));
    v.set_sensitive(true);
    v
}

/// A URL as errors show it: scheme, host and path, without the query
/// (a CDN's redirect carries signed, secret-like parameters there).
fn shown(url: &reqwest::Url) -> String {
    format!("{}://{}{}", url.scheme(), url.authority(), url.path())
}

/// Whether a URL's host is this machine (plain HTTP is allowed only there).
fn is_loopback_url(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback())
}

/// `Docker-Content-Digest`, if present and text.
fn content_digest(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
}

/// The first `errors[].code`/`message` of a registry's JSON error body, as
/// `: CODE: message`. Public for fuzzing: registry bodies are outside data.
pub fn registry_message(body: &[u8]) -> String {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return String::new();
    };
    let first = &v["errors"][0];
    let parts: Vec<&str> = [first["code"].as_str(), first["message"].as_str()]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect();
    if parts.is_empty() {
        return String::new();
    }
    format!(": {}", crate::text::remote_text(&parts.join(": ")))
}

/// A `WWW-Authenticate` challenge: its scheme and `key=value` parameters
/// (values quoted or not; a quoted value may hold commas, as scopes do).
/// Public for fuzzing: the header comes from the registry.
pub fn parse_challenge(header: &str) -> (String, Vec<(String, String)>) {
    let header = header.trim();
    let (scheme, mut rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', ',']);
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key.trim().to_string();
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &quoted[end..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        params.push((key, value));
        rest = remaining;
    }
    (scheme.to_string(), params)
}
/// Push a blob if the registry lacks it; returns its descriptor digest.
async fn push_blob_bytes(
    client: &Client,
    reference: &Reference,
    data: &[u8],
    registry: &str,
) -> Result<String, OciError> {
    let digest = digest_bytes(data, DigestAlgorithm::Sha256).to_string();
    let exists = client
        .blob_exists(reference, &digest)
        .await
        .unwrap_or(false);
    if !exists {
        client
            .push_blob(reference, data.to_vec(), &digest)
            .await
            .map_err(|e| classify(&reference.whole(), registry, e))?;
    }
    Ok(digest)
}

async fn push_manifest_bytes(
    client: &Client,
    reference: &Reference,
    body: &[u8],
    media_type: &str,
    registry: &str,
) -> Result<ArtifactDigest, OciError> {
    let ct =
        reqwest::header::HeaderValue::from_str(media_type).map_err(|e| OciError::Registry {
            reference: reference.whole(),
            detail: e.to_string(),
        })?;
    client
        .push_manifest_raw(reference, body.to_vec(), ct)
        .await
        .map_err(|e| classify(&reference.whole(), registry, e))?;
    Ok(digest_bytes(body, DigestAlgorithm::Sha256))
}

/// Attach a Sigstore bundle to `subject` (a manifest digest in `reference`'s
/// repository) as an OCI 1.1 referrer, and record it in the `sha256-<hex>`
/// tag-schema index too, for registries without the referrers API.
/// Returns the referrer manifest's digest.
pub fn push_bundle_referrer(
    reference: &Reference,
    subject: &ArtifactDigest,
    bundle_json: &[u8],
    auth: &RegistryAuth,
) -> Result<ArtifactDigest, OciError> {
    check_registry_settings()?;
    let registry = reference.resolve_registry().to_string();
    let text = reference.whole();
    run_bounded(&text, async {
        let client = client_for(reference);
        client.store_auth_if_needed(&registry, auth).await;
        // Reads go through the bounded puller; only writes use oci-client.
        let mut puller = Puller::new(reference, auth, &text)?;
        let subject_bytes = puller
            .manifest(&subject.to_string(), MANIFEST_ACCEPT)
            .await?
            .ok_or_else(|| OciError::NotFound {
                reference: with_digest(reference, subject).whole(),
                detail: "the registry has no manifest with that digest".into(),
            })?;
        let subject_media_type = serde_json::from_slice::<serde_json::Value>(&subject_bytes)
            .ok()
            .and_then(|v| v["mediaType"].as_str().map(str::to_string))
            .unwrap_or_else(|| MANIFEST_MEDIA_TYPE.to_string());
        let empty = b"{}";
        let config_digest = push_blob_bytes(&client, reference, empty, &registry).await?;
        let layer_digest = push_blob_bytes(&client, reference, bundle_json, &registry).await?;
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "artifactType": BUNDLE_V03_MEDIA_TYPE,
            "config": {"mediaType": EMPTY_CONFIG_MEDIA_TYPE, "digest": config_digest, "size": empty.len()},
            "layers": [{"mediaType": BUNDLE_V03_MEDIA_TYPE, "digest": layer_digest, "size": bundle_json.len()}],
            "subject": {"mediaType": subject_media_type, "digest": subject.to_string(), "size": subject_bytes.len()},
            "annotations": {"dev.sigstore.bundle.content": "dsse-envelope", "dev.sigstore.bundle.predicateType": "https://slsa.dev/provenance/v1"},
        });
        let body = serde_json::to_vec(&manifest).map_err(|e| OciError::Registry {
            reference: text.clone(),
            detail: e.to_string(),
        })?;
        let digest = digest_bytes(&body, DigestAlgorithm::Sha256);
        push_manifest_bytes(
            &client,
            &with_digest(reference, &digest),
            &body,
            MANIFEST_MEDIA_TYPE,
            &registry,
        )
        .await?;

        // Tag schema: fetch the index under sha256-<hex> (if any), add us.
        let tag = subject.to_string().replace(':', "-");
        let tag_ref = Reference::with_tag(
            registry.clone(),
            reference.repository().to_string(),
            tag.clone(),
        );
        let mut entries: Vec<serde_json::Value> = puller
            .manifest(&tag, INDEX_MEDIA_TYPE)
            .await?
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .and_then(|v| v["manifests"].as_array().cloned())
            .unwrap_or_default();
        entries.retain(|e| e["digest"] != digest.to_string());
        entries.push(serde_json::json!({
            "mediaType": MANIFEST_MEDIA_TYPE,
            "digest": digest.to_string(),
            "size": body.len(),
            "artifactType": BUNDLE_V03_MEDIA_TYPE,
        }));
        let index = serde_json::json!({"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": entries});
        let index_body = serde_json::to_vec(&index).map_err(|e| OciError::Registry {
            reference: text.clone(),
            detail: e.to_string(),
        })?;
        push_manifest_bytes(&client, &tag_ref, &index_body, INDEX_MEDIA_TYPE, &registry).await?;
        Ok(digest)
    })
}

/// One platform image to push: its config JSON and layer contents.
#[derive(Debug, Clone)]
pub struct ImageSpec {
    /// `os/arch`, e.g. `linux/amd64` (used in an index).
    pub platform: (String, String),
    /// The config blob (JSON).
    pub config: Vec<u8>,
    /// Layer blobs (pushed as `application/vnd.oci.image.layer.v1.tar`).
    pub layers: Vec<Vec<u8>>,
}

/// Push an image (one platform) or a multi-arch index (several) under
/// `reference`'s tag. Returns the digest of what the tag names.
pub fn push_image(
    reference: &Reference,
    images: &[ImageSpec],
    auth: &RegistryAuth,
) -> Result<ArtifactDigest, OciError> {
    check_registry_settings()?;
    let registry = reference.resolve_registry().to_string();
    let text = reference.whole();
    run_bounded(&text, async {
        let client = client_for(reference);
        client.store_auth_if_needed(&registry, auth).await;
        let mut pushed = Vec::new();
        for image in images {
            let config_digest =
                push_blob_bytes(&client, reference, &image.config, &registry).await?;
            let mut layers = Vec::new();
            for layer in &image.layers {
                let d = push_blob_bytes(&client, reference, layer, &registry).await?;
                layers.push(serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": layer.len()}));
            }
            let manifest = serde_json::json!({
                "schemaVersion": 2,
                "mediaType": MANIFEST_MEDIA_TYPE,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": image.config.len()},
                "layers": layers,
            });
            let body = serde_json::to_vec(&manifest).map_err(|e| OciError::Registry {
                reference: text.clone(),
                detail: e.to_string(),
            })?;
            let target = if images.len() == 1 {
                reference.clone()
            } else {
                with_digest(reference, &digest_bytes(&body, DigestAlgorithm::Sha256))
            };
            let d = push_manifest_bytes(&client, &target, &body, MANIFEST_MEDIA_TYPE, &registry)
                .await?;
            pushed.push((image, d, body.len()));
        }
        if images.len() == 1 {
            return Ok(pushed.remove(0).1);
        }
        let manifests: Vec<serde_json::Value> = pushed
            .iter()
            .map(|(img, d, size)| {
                serde_json::json!({
                    "mediaType": MANIFEST_MEDIA_TYPE,
                    "digest": d.to_string(),
                    "size": size,
                    "platform": {"os": img.platform.0, "architecture": img.platform.1},
                })
            })
            .collect();
        let index = serde_json::json!({"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": manifests});
        let body = serde_json::to_vec(&index).map_err(|e| OciError::Registry {
            reference: text.clone(),
            detail: e.to_string(),
        })?;
        push_manifest_bytes(&client, reference, &body, INDEX_MEDIA_TYPE, &registry).await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse_with_quoted_commas_escapes_and_garbage() {
        let (scheme, params) = parse_challenge(
            r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/r:pull,push""#,
        );
        assert_eq!(scheme, "Bearer");
        assert_eq!(
            params,
            vec![
                ("realm".to_string(), "https://ghcr.io/token".to_string()),
                ("service".to_string(), "ghcr.io".to_string()),
                ("scope".to_string(), "repository:o/r:pull,push".to_string()),
            ]
        );
        let (scheme, params) = parse_challenge(r#"Basic realm="a \"b\"", x=y"#);
        assert_eq!(scheme, "Basic");
        assert_eq!(params[0].1, "a \"b\"");
        assert_eq!(params[1], ("x".to_string(), "y".to_string()));
        // Unterminated quotes, stray separators, multi-byte text: no panic.
        for h in [
            "Bearer realm=\"unterminated",
            "Bearer ,,,=,=\"",
            "",
            "Bearer realm=\"é\\",
            "Bearer é=ü,",
        ] {
            let _ = parse_challenge(h);
        }
    }

    #[test]
    fn registry_messages_are_one_line() {
        assert_eq!(
            registry_message(br#"{"errors":[{"code":"DENIED","message":"no\nway\u001b[2J"}]}"#),
            ": DENIED: no\\nway\\x1b[2J"
        );
        assert_eq!(registry_message(b"<html>"), "");
        assert_eq!(registry_message(br#"{"errors":[]}"#), "");
    }

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    fn basic(user: &str, password: &str) -> RegistryAuth {
        RegistryAuth::Basic(user.into(), password.into())
    }

    #[test]
    fn environment_credentials_go_only_to_the_registry_they_name() {
        let env = vars(&[
            (REGISTRY_ENV, "Registry-B.example:5000"),
            (USERNAME_ENV, "bob"),
            (PASSWORD_ENV, "b-secret"),
        ]);
        let docker = |r: &str| (r == "a.example").then(|| basic("alice", "a-secret"));
        assert_eq!(
            credentials_for("registry-b.example:5000", &env, &docker).unwrap(),
            basic("bob", "b-secret")
        );
        // Registry A gets its own Docker config entry, never B's password;
        // a registry with neither is anonymous.
        assert_eq!(
            credentials_for("a.example", &env, &docker).unwrap(),
            basic("alice", "a-secret")
        );
        assert_eq!(
            credentials_for("registry-b.example", &env, &docker).unwrap(),
            RegistryAuth::Anonymous
        );
        // Docker Hub's names are one registry.
        let hub = vars(&[
            (REGISTRY_ENV, "docker.io"),
            (USERNAME_ENV, "u"),
            (PASSWORD_ENV, "p"),
        ]);
        assert_eq!(
            credentials_for("index.docker.io", &hub, &|_| None).unwrap(),
            basic("u", "p")
        );
    }

    #[test]
    fn environment_credentials_without_their_registry_are_a_usage_error() {
        let none = |_: &str| None;
        let cases: [(&[(&str, &str)], &str); 5] = [
            (
                &[(USERNAME_ENV, "bob"), (PASSWORD_ENV, "pw")],
                "ATTEST_REGISTRY is not; expected ATTEST_REGISTRY=host[:port]",
            ),
            (
                &[(USERNAME_ENV, "bob")],
                "ATTEST_REGISTRY_PASSWORD is not; expected both or neither",
            ),
            (
                &[(PASSWORD_ENV, "pw"), (REGISTRY_ENV, "r.example")],
                "ATTEST_REGISTRY_USERNAME is not; expected both or neither",
            ),
            (
                &[
                    (USERNAME_ENV, "bob"),
                    (PASSWORD_ENV, "pw"),
                    (REGISTRY_ENV, "https://r.example/v2/"),
                ],
                "expected host[:port], with no scheme or path",
            ),
            (
                &[
                    (USERNAME_ENV, "bob"),
                    (PASSWORD_ENV, "pw"),
                    (REGISTRY_ENV, ""),
                ],
                "ATTEST_REGISTRY is not",
            ),
        ];
        for (pairs, expected) in cases {
            let get = |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            };
            let e = credentials_for("r.example", &get, &none).unwrap_err();
            assert!(matches!(e, OciError::Settings { .. }), "{e:?}");
            assert!(e.to_string().contains(expected), "{pairs:?}: {e}");
        }
        // Nothing set (or only empty values, as CI writes missing secrets):
        // anonymous, no error.
        let empty = vars(&[(USERNAME_ENV, ""), (PASSWORD_ENV, "")]);
        assert_eq!(
            credentials_for("r.example", &empty, &none).unwrap(),
            RegistryAuth::Anonymous
        );
    }

    #[test]
    fn docker_config_entries_are_found_by_host_and_only_by_host() {
        use base64::Engine;
        let enc = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let config = format!(
            r#"{{"auths":{{"https://127.0.0.1:5000/v1/":{{"auth":"{}"}},"https://index.docker.io/v1/":{{"auth":"{}"}},"other.example":{{"auth":"{}"}}}}}}"#,
            enc("a:1"),
            enc("hub:2"),
            enc("o:3")
        );
        assert_eq!(
            docker_config_credentials(&config, "127.0.0.1:5000", false),
            Some(basic("a", "1"))
        );
        assert_eq!(
            docker_config_credentials(&config, "index.docker.io", false),
            Some(basic("hub", "2"))
        );
        // Another port, or a host that merely contains a key, is not a match.
        assert_eq!(
            docker_config_credentials(&config, "127.0.0.1:5001", false),
            None
        );
        assert_eq!(
            docker_config_credentials(&config, "other.example.evil", false),
            None
        );
    }
}
