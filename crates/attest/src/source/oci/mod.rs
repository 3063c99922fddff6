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
//! byte limit, every request against the request timeout
//! ([`crate::source::http::request_timeout`]), and every operation against a
//! total deadline. Authentication ([`auth`]) follows the registry's
//! challenge: the anonymous bearer-token flow, the caller's
//! [`RegistryCredentials`] or basic auth. Pushing referrers (and plain
//! images, for tests) is in [`push`] and uses `oci-client` for the writes.
//!
//! The blocking functions here run on the process-wide runtime
//! ([`crate::source::http::block_on`]); nothing reads the environment.

mod auth;
mod cosign;
mod index;
mod push;

pub use cosign::{fetch_cosign_attestations, fetch_cosign_signatures};
pub use index::{
    parse_platform, platform_manifests, platforms_of, PlatformManifest, MAX_PLATFORMS,
};

pub use auth::{
    docker_config_credentials, parse_challenge, RegistryCredentials, PASSWORD_ENV, REGISTRY_ENV,
    USERNAME_ENV,
};
pub use push::{push_bundle_referrer, push_image, ImageSpec};

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
pub use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use crate::artifact::{digest_bytes, ArtifactDigest, DigestAlgorithm};
use crate::bundle::{parse_bundle, BundleError, BundleOrigin, LoadedBundle};
use crate::source::http::{block_on, request_timeout};
use auth::sensitive;

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
pub(super) const MAX_LAYER_BYTES: u64 = 32 * 1024 * 1024;

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
/// Only the text is parsed: the caller's registry settings are checked when
/// it builds its [`RegistryCredentials`].
pub fn parse_oci_ref(arg: &str) -> Option<Result<Reference, OciError>> {
    let rest = arg.strip_prefix("oci://")?;
    Some(rest.parse::<Reference>().map_err(|e| OciError::Reference {
        reference: arg.to_string(),
        detail: e.to_string(),
    }))
}

pub(super) fn is_loopback(registry: &str) -> bool {
    let host = registry
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(registry);
    crate::source::http::is_loopback_host(host)
}

/// A registry client: plain HTTP only for loopback registries (as Docker
/// allows for localhost), HTTPS everywhere else, our timeouts.
pub fn client_for(reference: &Reference) -> Client {
    client_with_timeout(reference, request_timeout())
}

/// [`client_for`] with `timeout` for each request (connecting: at most
/// 10 s of it): a registry that stalls one request fails it, well before
/// the whole operation's deadline.
fn client_with_timeout(reference: &Reference, timeout: std::time::Duration) -> Client {
    let registry = reference.resolve_registry().to_string();
    let protocol = if is_loopback(&registry) {
        ClientProtocol::HttpsExcept(vec![registry])
    } else {
        ClientProtocol::Https
    };
    Client::new(ClientConfig {
        protocol,
        read_timeout: Some(timeout),
        connect_timeout: Some(timeout.min(std::time::Duration::from_secs(10))),
        ..Default::default()
    })
}

pub(super) fn classify(reference: &str, registry: &str, e: OciDistributionError) -> OciError {
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
pub(super) const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";
/// Largest manifest, referrers index or token answer we read: the 4 MiB the
/// OCI distribution spec tells registries to accept, so no real one is larger.
pub(super) const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
/// Most of an error body we read, only to quote the registry's message.
pub(super) const MAX_ERROR_BYTES: u64 = 64 * 1024;
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
pub(super) fn run_bounded<T>(
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

pub(super) fn with_digest(reference: &Reference, digest: &ArtifactDigest) -> Reference {
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
pub(super) enum Failed {
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
pub(super) struct Puller {
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

/// A URL as errors show it: scheme, host and path, without the query
/// (a CDN's redirect carries signed, secret-like parameters there).
pub(super) fn shown(url: &reqwest::Url) -> String {
    format!("{}://{}{}", url.scheme(), url.authority(), url.path())
}

/// Whether a URL's host is this machine (plain HTTP is allowed only there).
pub(super) fn is_loopback_url(url: &reqwest::Url) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_messages_are_one_line() {
        assert_eq!(
            registry_message(br#"{"errors":[{"code":"DENIED","message":"no\nway\u001b[2J"}]}"#),
            ": DENIED: no\\nway\\x1b[2J"
        );
        assert_eq!(registry_message(b"<html>"), "");
        assert_eq!(registry_message(br#"{"errors":[]}"#), "");
    }

    use crate::source::test_server::{response, serve};

    fn sha256(data: &[u8]) -> ArtifactDigest {
        digest_bytes(data, DigestAlgorithm::Sha256)
    }

    /// A real bundle (sigstore-go's provenance test bundle) with `pad`
    /// spaces inside its object, so that bundles of any size can be made
    /// and two paddings give two different layers.
    fn bundle(pad: usize) -> Vec<u8> {
        let b = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/sigstore-go/bundle-provenance.json"),
        )
        .unwrap();
        format!("{{{}{}", " ".repeat(pad), &b.trim()[1..]).into_bytes()
    }

    fn ok(body: &[u8]) -> Vec<u8> {
        response("200 OK", "", body)
    }

    /// A registry at `base` (`http://127.0.0.1:PORT`), repository `o/r`.
    fn reference(base: &str) -> Reference {
        format!("{}/o/r", base.trim_start_matches("http://"))
            .parse()
            .unwrap()
    }

    fn puller(base: &str, auth: RegistryAuth) -> Puller {
        Puller::new(&reference(base), &auth, "the reference").unwrap()
    }

    fn get(p: &mut Puller, url: &str) -> Result<Answer, OciError> {
        block_on(p.get(reqwest::Method::GET, url, "*/*", 1000, "the thing")).unwrap()
    }

    fn head_of(requests: &crate::source::test_server::Requests) -> String {
        requests.recv().unwrap().to_ascii_lowercase()
    }

    fn answer(status: u16, body: &[u8], retries: u32) -> Answer {
        Answer {
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            headers: reqwest::header::HeaderMap::new(),
            body: body.to_vec(),
            retries,
        }
    }

    #[test]
    fn references_loopback_registries_and_pinned_digests() {
        let r = parse_oci_ref("oci://registry.example/o/r:t")
            .unwrap()
            .unwrap();
        assert_eq!(r.whole(), "registry.example/o/r:t");
        assert!(parse_oci_ref("docker://registry.example/o/r").is_none());
        assert!(matches!(
            parse_oci_ref("oci://Registry.example/O/R:t"),
            Some(Err(OciError::Reference { reference, .. })) if reference == "oci://Registry.example/O/R:t"
        ));
        for host in ["127.0.0.1:5000", "localhost:5000", "localhost", "127.0.0.1"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["registry.example:5000", "registry.example", "10.0.0.1:5000"] {
            assert!(!is_loopback(host), "{host}");
        }
        let d = format!("sha256:{}", "ab".repeat(32));
        let pinned: Reference = format!("registry.example/o/r@{d}").parse().unwrap();
        assert_eq!(
            pinned_digest(&pinned).unwrap(),
            Some(ArtifactDigest::parse(&d).unwrap())
        );
        assert_eq!(pinned_digest(&r).unwrap(), None);
        // The whole operation may last ten request timeouts.
        assert!(operation_deadline() > request_timeout());
        assert_eq!(operation_deadline(), request_timeout() * 10);
    }

    #[test]
    fn oci_client_errors_are_classified() {
        use OciDistributionError as E;
        let server = |code: u16| E::ServerError {
            code,
            url: "u".into(),
            message: "m".into(),
        };
        let generic = |m: &str| E::GenericError(Some(m.into()));
        for e in [
            E::AuthenticationFailure("x".into()),
            E::UnauthorizedError { url: "u".into() },
            server(401),
            server(403),
            generic("code unauthorized"),
            generic("access denied"),
        ] {
            let shown = e.to_string();
            assert!(
                matches!(classify("ref", "reg", e), OciError::Unauthorized { registry, .. } if registry == "reg"),
                "{shown}"
            );
        }
        for e in [
            E::ImageManifestNotFoundError("x".into()),
            server(404),
            generic("manifest_unknown"),
            generic("NAME_UNKNOWN"),
        ] {
            let shown = e.to_string();
            assert!(
                matches!(classify("ref", "reg", e), OciError::NotFound { reference, .. } if reference == "ref"),
                "{shown}"
            );
        }
        assert_eq!(
            classify("ref", "reg", server(500)),
            OciError::Registry {
                reference: "ref".into(),
                detail: "Server error: url u, code: 500, message: m".into(),
            }
        );
    }

    #[test]
    fn status_errors_are_classified_by_status_and_registry_code() {
        let p = puller("http://127.0.0.1:1", RegistryAuth::Anonymous);
        let error = |status: u16, body: &str, retries: u32| {
            p.status_error("u", &answer(status, body.as_bytes(), retries))
        };
        let code = |c: &str| format!(r#"{{"errors":[{{"code":"{c}"}}]}}"#);
        assert_eq!(
            error(403, "", 0),
            OciError::Unauthorized {
                registry: "127.0.0.1:1".into(),
                detail: "u: HTTP 403".into(),
            }
        );
        for body in [code("UNAUTHORIZED"), code("DENIED")] {
            assert!(
                matches!(error(500, &body, 0), OciError::Unauthorized { .. }),
                "{body}"
            );
        }
        assert!(matches!(error(401, "", 0), OciError::Unauthorized { .. }));
        assert_eq!(
            error(404, "", 2),
            OciError::NotFound {
                reference: "the reference".into(),
                detail: "u: HTTP 404 (after 2 retries)".into(),
            }
        );
        for body in [code("MANIFEST_UNKNOWN"), code("NAME_UNKNOWN")] {
            assert!(
                matches!(error(500, &body, 0), OciError::NotFound { .. }),
                "{body}"
            );
        }
        assert_eq!(
            error(500, &code("BUSY"), 1),
            OciError::Registry {
                reference: "the reference".into(),
                detail: "u: HTTP 500: BUSY (after 1 retries)".into(),
            }
        );
    }

    #[test]
    fn a_registry_challenge_is_answered_once() {
        let challenge = "www-authenticate: Basic realm=\"r\"\r\n";
        let basic = RegistryAuth::Basic("u".into(), "p".into());
        let (base, requests) = serve(vec![
            response("401 Unauthorized", challenge, b""),
            ok(b"yes"),
        ]);
        let mut p = puller(&base, basic.clone());
        let a = get(&mut p, &format!("{base}/v2/o/r/x")).unwrap();
        assert_eq!((a.status.as_u16(), a.body.as_slice()), (200, &b"yes"[..]));
        assert!(!head_of(&requests).contains("authorization"));
        assert!(head_of(&requests).contains("authorization: basic dtpw\r\n"));

        // Challenged again after answering: the 401 is the answer.
        let (base, requests) = serve(vec![
            response("401 Unauthorized", challenge, b""),
            response("401 Unauthorized", challenge, b""),
            ok(b"never asked"),
        ]);
        let mut p = puller(&base, basic);
        let a = get(&mut p, &format!("{base}/v2/o/r/x")).unwrap();
        assert_eq!(a.status.as_u16(), 401);
        assert_eq!(requests.try_iter().count(), 2);
    }

    #[test]
    fn a_401_from_another_origin_is_not_answered_and_gets_no_credentials() {
        let (cdn, cdn_requests) = serve(vec![response(
            "401 Unauthorized",
            "www-authenticate: Basic realm=\"cdn\"\r\n",
            b"",
        )]);
        let (base, _) = serve(vec![response(
            "307 Temporary Redirect",
            &format!("location: {cdn}/blob?sig=secret\r\n"),
            b"",
        )]);
        let mut p = puller(&base, RegistryAuth::Bearer("t0k".into()));
        let url = format!("{base}/v2/o/r/blobs/x");
        let e = get(&mut p, &url).err().unwrap();
        assert_eq!(
            e,
            OciError::Unauthorized {
                registry: base.trim_start_matches("http://").into(),
                detail: format!("{url}: the registry redirected to {cdn}/blob, which answered HTTP 401; credentials go only to the registry and the token service it names, so attest does not answer that challenge"),
            }
        );
        assert!(!head_of(&cdn_requests).contains("authorization"));
    }

    #[test]
    fn redirects_go_to_https_or_loopback_only_and_303_keeps_head() {
        for target in ["http://registry.example/x?q=1", "ftp://127.0.0.1/x"] {
            let (base, requests) = serve(vec![response(
                "302 Found",
                &format!("location: {target}\r\n"),
                b"",
            )]);
            let mut p = puller(&base, RegistryAuth::Anonymous);
            let url = format!("{base}/v2/o/r/x");
            let e = get(&mut p, &url).err().unwrap();
            let shown_target = target.split('?').next().unwrap();
            assert_eq!(
                e,
                OciError::Registry {
                    reference: "the reference".into(),
                    detail: format!("{url}: redirected to {shown_target}; expected an https URL"),
                }
            );
            assert_eq!(requests.try_iter().count(), 1);
        }
        // Loopback over http is followed; a 303 keeps a HEAD a HEAD.
        let (next, next_requests) = serve(vec![ok(b"")]);
        let (base, _) = serve(vec![response(
            "303 See Other",
            &format!("location: {next}/there\r\n"),
            b"",
        )]);
        let mut p = puller(&base, RegistryAuth::Anonymous);
        let a = block_on(p.get(
            reqwest::Method::HEAD,
            &format!("{base}/v2/o/r/x"),
            "*/*",
            10,
            "x",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(a.status.as_u16(), 200);
        assert!(head_of(&next_requests).starts_with("head /there http/1.1\r\n"));
    }

    #[test]
    fn retries_are_counted_and_never_wait_past_the_deadline() {
        let busy = response("503 Busy", "retry-after: 0\r\n", b"");
        let (base, _) = serve(vec![busy.clone(), busy, response("404 Not Found", "", b"")]);
        let mut p = puller(&base, RegistryAuth::Anonymous);
        let url = format!("{base}/v2/o/r/x");
        let a = get(&mut p, &url).unwrap();
        assert_eq!((a.status.as_u16(), a.retries), (404, 2));
        assert_eq!(
            p.status_error(&url, &a).to_string(),
            format!("the reference: not found in the registry ({url}: HTTP 404 (after 2 retries))")
        );

        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after", "5".parse().unwrap());
        let status = reqwest::StatusCode::TOO_MANY_REQUESTS;
        assert_eq!(
            p.retry_wait("u", status, &headers, 0).unwrap(),
            Some(std::time::Duration::from_secs(5))
        );
        p.deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        let e = p.retry_wait("u", status, &headers, 0).unwrap_err();
        assert_eq!(
            e,
            OciError::Registry {
                reference: "the reference".into(),
                detail: format!(
                    "u: HTTP 429; the registry asks to retry after 5 s, longer than attest waits (at most 60 s per retry, {} s for the whole operation)",
                    operation_deadline().as_secs_f64()
                ),
            }
        );
    }

    #[test]
    fn error_bodies_are_cut_at_64_kib_and_kept_whole_below() {
        let message = "m".repeat(2000);
        let body = format!(r#"{{"errors":[{{"code":"DENIED","message":"{message}"}}]}}"#);
        let long = vec![b'x'; MAX_ERROR_BYTES as usize + 10];
        let (base, _) = serve(vec![
            response("403 Forbidden", "", body.as_bytes()),
            response("403 Forbidden", "", &long),
        ]);
        let mut p = puller(&base, RegistryAuth::Anonymous);
        let url = format!("{base}/v2/o/r/x");
        let a = get(&mut p, &url).unwrap();
        assert_eq!(a.body, body.as_bytes());
        let e = p.status_error(&url, &a).to_string();
        assert!(
            e.contains(&format!("({url}: HTTP 403: DENIED: mmmm")),
            "{e}"
        );
        let a = get(&mut p, &url).unwrap();
        assert_eq!(a.body.len(), MAX_ERROR_BYTES as usize);
    }

    #[test]
    fn digests_come_from_head_else_from_the_manifest_and_pinned_ones_must_match() {
        let manifest = br#"{"schemaVersion":2,"layers":[]}"#;
        let d = sha256(manifest);
        let digest_header = |d: &str| format!("docker-content-digest: {d}\r\n");
        let head_ok = |d: &str| response("200 OK", &digest_header(d), b"");
        let tagged = |base: &str| -> Reference {
            format!("{}/o/r:v1", base.trim_start_matches("http://"))
                .parse()
                .unwrap()
        };
        let pinned = |base: &str, d: &ArtifactDigest| -> Reference {
            format!("{}/o/r@{d}", base.trim_start_matches("http://"))
                .parse()
                .unwrap()
        };
        let anonymous = RegistryAuth::Anonymous;

        // HEAD's header, upper-case hex allowed for a pinned digest.
        let (base, requests) = serve(vec![head_ok(&d.to_string())]);
        assert_eq!(resolve_digest(&tagged(&base), &anonymous).unwrap(), d);
        assert!(head_of(&requests).starts_with("head /v2/o/r/manifests/v1 http/1.1\r\n"));
        let upper = format!("sha256:{}", d.hex().to_ascii_uppercase());
        let (base, _) = serve(vec![head_ok(&upper)]);
        assert_eq!(resolve_digest(&pinned(&base, &d), &anonymous).unwrap(), d);
        let other = sha256(b"other");
        let (base, _) = serve(vec![head_ok(&other.to_string())]);
        let e = resolve_digest(&pinned(&base, &d), &anonymous).unwrap_err();
        assert!(
            e.to_string().ends_with(&format!(
                "/v2/o/r/manifests/{d}: expected the pinned digest {d}, the registry reports \"{other}\""
            )),
            "{e}"
        );

        // A HEAD that fails, or has no header: the manifest is hashed, and
        // a header on it must describe it.
        let (base, requests) = serve(vec![
            response("404 Not Found", &digest_header(&other.to_string()), b""),
            ok(manifest),
        ]);
        assert_eq!(resolve_digest(&tagged(&base), &anonymous).unwrap(), d);
        assert!(head_of(&requests).starts_with("head "));
        assert!(head_of(&requests).starts_with("get /v2/o/r/manifests/v1 http/1.1\r\n"));
        let (base, _) = serve(vec![
            ok(b""),
            response("200 OK", &digest_header(&d.to_string()), manifest),
        ]);
        assert_eq!(resolve_digest(&tagged(&base), &anonymous).unwrap(), d);
        let (base, _) = serve(vec![
            ok(b""),
            response("200 OK", &digest_header(&other.to_string()), manifest),
        ]);
        let e = resolve_digest(&tagged(&base), &anonymous).unwrap_err();
        assert!(
            e.to_string().ends_with(&format!(
                "expected the manifest to match its Docker-Content-Digest \"{other}\", it does not"
            )),
            "{e}"
        );
        let (base, _) = serve(vec![ok(b""), response("404 Not Found", "", b"")]);
        assert!(matches!(
            resolve_digest(&tagged(&base), &anonymous),
            Err(OciError::NotFound { .. })
        ));
    }

    /// A referrer manifest whose first layer is `layer`.
    fn referrer_manifest(layer: &[u8]) -> Vec<u8> {
        format!(
            r#"{{"schemaVersion":2,"artifactType":"{BUNDLE_V03_MEDIA_TYPE}","layers":[{{"mediaType":"{BUNDLE_V03_MEDIA_TYPE}","digest":"{}","size":{}}}]}}"#,
            sha256(layer),
            layer.len()
        )
        .into_bytes()
    }

    fn referrers_index(entries: &[(&str, String)], pad: usize) -> Vec<u8> {
        let entries: Vec<String> = entries
            .iter()
            .map(|(t, d)| format!(r#"{{"artifactType":"{t}","digest":"{d}"}}"#))
            .collect();
        format!(
            r#"{{"schemaVersion":2,{}"manifests":[{}]}}"#,
            " ".repeat(pad),
            entries.join(",")
        )
        .into_bytes()
    }

    #[test]
    fn referrers_give_each_bundle_once_up_to_the_limit() {
        let subject = sha256(b"the image");
        let small = bundle(0);
        // 2 MB: a layer (and a total) over a megabyte is read.
        let large = bundle(2_000_000);
        let m1 = referrer_manifest(&small);
        // Another referrer with the same layer: loaded once.
        let m2 = format!("{} ", String::from_utf8(m1.clone()).unwrap()).into_bytes();
        let m3 = referrer_manifest(&large);
        let t = BUNDLE_V03_MEDIA_TYPE;
        let upper = format!("sha256:{}", sha256(&m1).hex().to_ascii_uppercase());
        // A 2 MB index: manifests over a megabyte are read.
        let index = referrers_index(
            &[
                (t, sha256(&m1).to_string()),
                ("application/other", sha256(b"x").to_string()),
                (t, upper),
                (t, "md5:zz".into()),
                (t, sha256(&m2).to_string()),
                (t, sha256(&m3).to_string()),
            ],
            2_000_000,
        );
        let responses = vec![
            ok(&index),
            ok(&m1),
            ok(&small),
            ok(&m2),
            ok(&m3),
            ok(&large),
        ];
        let (base, requests) = serve(responses.clone());
        let r = reference(&base);
        let host = base.trim_start_matches("http://");
        let got = fetch_referrer_bundles(&r, &subject, &RegistryAuth::Anonymous).unwrap();
        assert_eq!(got.len(), 3, "{got:?}");
        let first = got[0].as_ref().unwrap();
        assert_eq!(first.origin.source, format!("{host}/o/r@{}", sha256(&m1)));
        assert_eq!(first.origin.index, 1);
        assert_eq!(
            got[1].as_ref().unwrap_err(),
            &BundleError::Shape {
                origin: format!("{host}/o/r@{subject} referrer \"md5:zz\""),
                detail: ArtifactDigest::parse("md5:zz").unwrap_err().to_string(),
            }
        );
        let third = got[2].as_ref().unwrap();
        assert_eq!(third.origin.source, format!("{host}/o/r@{}", sha256(&m3)));
        assert_eq!(third.origin.index, 3);
        assert!(head_of(&requests)
            .starts_with(&format!("get /v2/o/r/referrers/{subject} http/1.1\r\n")));
        assert_eq!(requests.try_iter().count(), 5);

        // --limit 2: the third referrer is not read.
        let (base, requests) = serve(responses);
        let got = fetch_referrer_bundles_limited(
            &reference(&base),
            &subject,
            &RegistryAuth::Anonymous,
            2,
        )
        .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(requests.try_iter().count(), 3);
    }

    #[test]
    fn without_a_referrers_api_the_tag_schema_is_read() {
        let subject = sha256(b"the image");
        let small = bundle(0);
        let m1 = referrer_manifest(&small);
        let index = referrers_index(&[(BUNDLE_V03_MEDIA_TYPE, sha256(&m1).to_string())], 0);
        for status in ["400 Bad Request", "404 Not Found", "406 Not Acceptable"] {
            let (base, requests) = serve(vec![
                response(status, "", b""),
                ok(&index),
                ok(&m1),
                ok(&small),
            ]);
            let got = fetch_referrer_bundles(&reference(&base), &subject, &RegistryAuth::Anonymous)
                .unwrap();
            assert_eq!(got.len(), 1, "{status}");
            assert!(got[0].is_ok(), "{status}");
            head_of(&requests);
            assert!(head_of(&requests).starts_with(&format!(
                "get /v2/o/r/manifests/sha256-{} http/1.1\r\n",
                subject.hex()
            )));
        }
        // No tag either: no referrers.
        let (base, _) = serve(vec![
            response("404 Not Found", "", b""),
            response("404 Not Found", "", b""),
        ]);
        let host = base.trim_start_matches("http://");
        assert_eq!(
            fetch_referrer_bundles(&reference(&base), &subject, &RegistryAuth::Anonymous)
                .unwrap_err(),
            OciError::NoReferrers {
                reference: format!("{host}/o/r@{subject}"),
            }
        );
        // Another status is an error, not a fallback.
        let (base, _) = serve(vec![response("403 Forbidden", "", b"")]);
        assert!(matches!(
            fetch_referrer_bundles(&reference(&base), &subject, &RegistryAuth::Anonymous),
            Err(OciError::Unauthorized { .. })
        ));
    }

    #[test]
    fn referrer_manifests_and_layers_are_checked() {
        let subject = sha256(b"the image");
        let small = bundle(0);
        let layer_with = |digest: &ArtifactDigest, size: u64| {
            format!(
                r#"{{"layers":[{{"mediaType":"{BUNDLE_V03_MEDIA_TYPE}","digest":"{digest}","size":{size}}}]}}"#
            )
            .into_bytes()
        };
        let served_a = b"{}".to_vec();
        let named_a = sha256(b"not what is served");
        let m_b = layer_with(&sha256(b"big"), MAX_LAYER_BYTES + 1);
        let m_c = referrer_manifest(&bundle(1));
        let m_d = referrer_manifest(&bundle(2));
        // As long as the layer m_d names, not the same bytes.
        let mut other_d = bundle(2);
        other_d[1] = b'\n';
        let m_e = layer_with(&sha256(&small), 10);
        let t = BUNDLE_V03_MEDIA_TYPE;
        let index = referrers_index(
            &[
                (t, named_a.to_string()),
                (t, sha256(&m_b).to_string()),
                (t, sha256(&m_c).to_string()),
                (t, sha256(&m_d).to_string()),
                (t, sha256(&m_e).to_string()),
            ],
            0,
        );
        let (base, requests) = serve(vec![
            ok(&index),
            ok(&served_a),
            ok(&m_b),
            ok(&m_c),
            response("404 Not Found", "", b""),
            ok(&m_d),
            ok(&other_d),
            ok(&m_e),
            ok(&small),
        ]);
        let got =
            fetch_referrer_bundles(&reference(&base), &subject, &RegistryAuth::Anonymous).unwrap();
        let host = base.trim_start_matches("http://");
        let detail = |i: usize| match got[i].as_ref().unwrap_err() {
            BundleError::Shape { origin, detail } => (origin.clone(), detail.clone()),
            e => panic!("{e:?}"),
        };
        assert_eq!(got.len(), 5);
        assert_eq!(
            detail(0),
            (
                format!("{host}/o/r@{named_a}:1"),
                format!("expected the referrer manifest to have digest {named_a}, it does not")
            )
        );
        assert_eq!(
            detail(1).1,
            format!(
                "the bundle layer is {} bytes, over the {MAX_LAYER_BYTES}-byte limit",
                MAX_LAYER_BYTES + 1
            )
        );
        let (_, d) = detail(2);
        assert!(
            d.starts_with("cannot download the bundle layer: ") && d.contains("HTTP 404"),
            "{d}"
        );
        assert_eq!(
            detail(3).1,
            format!(
                "expected the bundle layer to have digest {}, it does not",
                sha256(&bundle(2))
            )
        );
        assert_eq!(
            detail(4).1,
            "the bundle layer is larger than the 10 bytes its manifest declares"
        );
        assert_eq!(requests.try_iter().count(), 9);
    }

    #[test]
    fn referrers_may_hold_256_mib_of_bundles_and_no_more() {
        // Nine referrers, each with a layer of exactly the 32 MiB limit:
        // eight are exactly the total limit, nine are over it.
        let subject = sha256(b"the image");
        let size = MAX_LAYER_BYTES as usize;
        let base_len = bundle(0).len();
        let layers: Vec<Vec<u8>> = (0..9)
            .map(|i| {
                // Padding before the bundle's members, one newline moved along
                // so that no two layers are the same.
                let mut b = bundle(size - base_len);
                b[1 + i] = b'\n';
                b
            })
            .collect();
        let manifests: Vec<Vec<u8>> = layers.iter().map(|l| referrer_manifest(l)).collect();
        let entries: Vec<(&str, String)> = manifests
            .iter()
            .map(|m| (BUNDLE_V03_MEDIA_TYPE, sha256(m).to_string()))
            .collect();
        let index = referrers_index(&entries, 0);
        let responses = |n: usize| {
            let mut r = vec![ok(&index)];
            for (m, l) in manifests.iter().zip(&layers).take(n) {
                r.push(ok(m));
                r.push(ok(l));
            }
            r
        };
        let (base, _) = serve(responses(8));
        let got = fetch_referrer_bundles_limited(
            &reference(&base),
            &subject,
            &RegistryAuth::Anonymous,
            8,
        )
        .unwrap();
        assert_eq!(got.len(), 8);
        assert!(got.iter().all(Result::is_ok));
        drop(got);
        let (base, _) = serve(responses(9));
        let host = base.trim_start_matches("http://");
        assert_eq!(
            fetch_referrer_bundles(&reference(&base), &subject, &RegistryAuth::Anonymous)
                .unwrap_err(),
            OciError::Registry {
                reference: format!("{host}/o/r@{subject}"),
                detail: format!(
                    "the referrers' bundles exceed {MAX_TOTAL_BUNDLE_BYTES} bytes in total"
                ),
            }
        );
    }

    /// `client`'s `fetch_manifest_digest` of `r`, bounded at 10 s (`None`
    /// if that bound ended it), so that a test of a stalling registry fails
    /// rather than hangs.
    fn fetch_digest_within_10s(client: &Client, r: &Reference) -> Option<Result<String, String>> {
        block_on(async {
            tokio::time::timeout(
                std::time::Duration::from_secs(10),
                client.fetch_manifest_digest(r, &RegistryAuth::Anonymous),
            )
            .await
        })
        .unwrap()
        .ok()
        .map(|got| got.map_err(|e| e.to_string()))
    }

    /// [`fetch_digest_within_10s`] by a client with a 300 ms request
    /// timeout, and how long it took; a panic if nothing but the 10 s bound
    /// ended the request.
    fn fetch_digest_within_300ms(base: &str) -> (Result<String, String>, std::time::Duration) {
        let r = reference(base);
        let client = client_with_timeout(&r, std::time::Duration::from_millis(300));
        let started = std::time::Instant::now();
        let got = fetch_digest_within_10s(&client, &r)
            .expect("the request timeout ends a stalled request, not the 10 s bound");
        (got, started.elapsed())
    }

    #[test]
    fn the_push_client_gives_up_on_a_registry_that_stops_answering() {
        // The ping is answered; the manifest request is read, never answered.
        let (base, requests) = serve(vec![ok(b"{}"), Vec::new()]);
        let (got, took) = fetch_digest_within_300ms(&base);
        assert!(got.is_err(), "{got:?}");
        assert!(took < std::time::Duration::from_secs(5), "{took:?}");
        assert!(head_of(&requests).starts_with("get /v2/ "));
        assert!(head_of(&requests).starts_with("head /v2/o/r/manifests/latest "));
    }

    #[test]
    fn the_push_client_gives_up_on_a_registry_that_never_accepts() {
        // A listener whose accept queue (one connection, for a backlog of 0)
        // is full and never accepted: the kernel drops further SYNs, so a
        // connection attempt hangs. The request timeout covers connecting
        // (the separate connect timeout only caps that part at 10 s, for
        // request timeouts above it: not tested, it would take 10 s).
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket
            .bind(
                &"127.0.0.1:0"
                    .parse::<std::net::SocketAddr>()
                    .unwrap()
                    .into(),
            )
            .unwrap();
        socket.listen(0).unwrap();
        let addr = socket.local_addr().unwrap().as_socket().unwrap();
        // Fills the queue; if a kernel had no room even for it, the queue
        // is full already.
        let _queued =
            std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(2));
        let (got, took) = fetch_digest_within_300ms(&format!("http://{addr}"));
        assert!(got.is_err(), "{got:?}");
        assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    }

    #[test]
    fn the_push_client_speaks_plain_http_to_a_loopback_registry() {
        let d = sha256(b"manifest");
        let answer = response("200 OK", &format!("docker-content-digest: {d}\r\n"), b"");
        let (base, requests) = serve(vec![answer.clone(), answer]);
        let r = reference(&base);
        let client = client_for(&r);
        // Over https (the default), the loopback server would get a TLS
        // handshake and never answer: bounded here, so that fails fast.
        let got = fetch_digest_within_10s(&client, &r)
            .expect("an answer within 10 s")
            .unwrap();
        assert_eq!(got, d.to_string());
        // oci-client's ping, then the manifest.
        assert!(head_of(&requests).starts_with("get /v2/ http/1.1\r\n"));
        let head = head_of(&requests);
        assert!(
            head.starts_with("head /v2/o/r/manifests/latest http/1.1\r\n"),
            "{head}"
        );
    }
}
