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
pub fn parse_oci_ref(arg: &str) -> Option<Result<Reference, OciError>> {
    let rest = arg.strip_prefix("oci://")?;
    Some(rest.parse::<Reference>().map_err(|e| OciError::Reference {
        reference: arg.to_string(),
        detail: e.to_string(),
    }))
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

/// Credentials for a registry: `ATTEST_REGISTRY_USERNAME`/`_PASSWORD`, else
/// the Docker config (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`:
/// `auths`, `credHelpers`, `credsStore`), else anonymous (the registry's
/// bearer-token flow still runs).
pub fn registry_auth(registry: &str) -> RegistryAuth {
    if let (Ok(u), Ok(p)) = (
        std::env::var("ATTEST_REGISTRY_USERNAME"),
        std::env::var("ATTEST_REGISTRY_PASSWORD"),
    ) {
        return RegistryAuth::Basic(u, p);
    }
    docker_config_auth(registry).unwrap_or(RegistryAuth::Anonymous)
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

/// The credentials a Docker `config.json` holds for `registry`: a credential
/// helper's answer (when `run_helpers`), else the `auths` entry.
pub fn docker_config_credentials(
    text: &str,
    registry: &str,
    run_helpers: bool,
) -> Option<RegistryAuth> {
    let config: serde_json::Value = serde_json::from_str(text).ok()?;
    // Docker Hub is stored under its legacy index URL.
    let keys: Vec<String> = if registry == "docker.io" || registry == "index.docker.io" {
        vec![
            "https://index.docker.io/v1/".into(),
            "docker.io".into(),
            "index.docker.io".into(),
        ]
    } else {
        vec![
            registry.to_string(),
            format!("https://{registry}"),
            format!("http://{registry}"),
        ]
    };
    if let Some(helper) = keys
        .iter()
        .find_map(|k| config["credHelpers"][k].as_str())
        .or_else(|| config["credsStore"].as_str())
        .filter(|_| run_helpers)
    {
        if let Some(auth) = credential_helper(helper, registry) {
            return Some(auth);
        }
    }
    let entry = keys.iter().find_map(|k| config["auths"].get(k))?;
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
    let detail = crate::error_chain(&e);
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
/// time.
pub fn fetch_referrer_bundles(
    reference: &Reference,
    digest: &ArtifactDigest,
    auth: &RegistryAuth,
) -> Result<Vec<Result<LoadedBundle, BundleError>>, OciError> {
    let subject = with_digest(reference, digest);
    let text = subject.whole();
    run_bounded(&text, async {
        let mut puller = Puller::new(reference, auth, &text)?;
        let index = puller.referrers(digest).await?;
        let mut out = Vec::new();
        let mut total: u64 = 0;
        for entry in index.iter().filter(|m| {
            m["artifactType"]
                .as_str()
                .is_some_and(|t| t.starts_with(BUNDLE_ARTIFACT_TYPE_PREFIX))
        }) {
            let entry_digest = entry["digest"].as_str().unwrap_or_default();
            let referrer_digest = match ArtifactDigest::parse(entry_digest) {
                Ok(d) => d,
                Err(e) => {
                    out.push(Err(BundleError::Shape {
                        origin: format!("{text} referrer {entry_digest:?}"),
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
                .referrer_bundle(&referrer_digest, origin, &mut total)
                .await;
            if total > MAX_TOTAL_BUNDLE_BYTES {
                return Err(OciError::Registry {
                    reference: text.clone(),
                    detail: format!(
                        "the referrers' bundles exceed {MAX_TOTAL_BUNDLE_BYTES} bytes in total"
                    ),
                });
            }
            out.push(loaded);
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
struct Puller {
    http: reqwest::Client,
    /// `SCHEME://REGISTRY/v2/REPOSITORY`.
    base: String,
    registry: String,
    repository: String,
    auth: RegistryAuth,
    authorization: Option<reqwest::header::HeaderValue>,
    /// The reference errors name.
    text: String,
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
        let http = crate::source::http::client().map_err(|e| OciError::Registry {
            reference: text.to_string(),
            detail: e.to_string(),
        })?;
        let authorization = match auth {
            RegistryAuth::Bearer(token) => Some(sensitive(&format!("Bearer {token}"))),
            _ => None,
        };
        Ok(Self {
            http,
            base: format!("{scheme}://{registry}/v2/{}", reference.repository()),
            registry,
            repository: reference.repository().to_string(),
            auth: auth.clone(),
            authorization,
            text: text.to_string(),
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
        let detail = format!("{url}: HTTP {}{message}", answer.status.as_u16());
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

    /// One request, authenticating once if the registry challenges it;
    /// a success body past `limit` bytes is refused without reading the
    /// rest, an error body is cut at [`MAX_ERROR_BYTES`].
    async fn request(
        &mut self,
        method: reqwest::Method,
        url: &str,
        accept: &str,
        limit: u64,
    ) -> Result<Answer, Failed> {
        let mut challenged = false;
        loop {
            let mut req = self
                .http
                .request(method.clone(), url)
                .header(reqwest::header::ACCEPT, accept);
            if let Some(a) = &self.authorization {
                req = req.header(reqwest::header::AUTHORIZATION, a.clone());
            }
            let mut resp = req
                .send()
                .await
                .map_err(|e| Failed::Oci(self.transport(url, e)))?;
            let status = resp.status();
            if status == reqwest::StatusCode::UNAUTHORIZED && !challenged {
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
            });
        }
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
                printable(&scheme)
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
                printable(realm)
            )))
        })?;
        // Credentials go to the token service only over HTTPS (or to loopback).
        let host = url.host_str().unwrap_or_default();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|a| a.is_loopback());
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err(Failed::Oci(self.unauthorized(format!(
                "expected an https token service, got {:?}",
                printable(realm)
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
        let mut req = self.http.get(url.clone());
        if let RegistryAuth::Basic(user, password) = &self.auth {
            req = req.basic_auth(user, Some(password));
        }
        let shown = format!("{}://{}{}", url.scheme(), url.authority(), url.path());
        let mut resp = req
            .send()
            .await
            .map_err(|e| Failed::Oci(self.transport(&shown, e)))?;
        let status = resp.status();
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| Failed::Oci(self.transport(&shown, e)))?
        {
            if body.len() as u64 + chunk.len() as u64 > MAX_MANIFEST_BYTES {
                return Err(Failed::Oci(self.unauthorized(format!(
                    "{shown}: the token answer is larger than the {MAX_MANIFEST_BYTES}-byte limit"
                ))));
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            return Err(Failed::Oci(self.unauthorized(format!(
                "{shown}: the token service answered HTTP {}{}",
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
                    "{shown}: expected JSON with a \"token\" from the token service"
                )))
            })?;
        reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
            .map(|mut v| {
                v.set_sensitive(true);
                v
            })
            .map_err(|_| {
                Failed::Oci(self.unauthorized(format!(
                    "{shown}: the token service sent a token that is not a header value"
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
                    printable(&header)
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
                printable(&reported)
            ))),
            None => ArtifactDigest::parse(&reported).map_err(|e| {
                self.registry_error(format!(
                    "{url}: expected a sha256 or sha512 manifest digest, got {:?}: {e}",
                    printable(&reported)
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
    /// counts the bundle bytes read so far.
    async fn referrer_bundle(
        &mut self,
        digest: &ArtifactDigest,
        origin: BundleOrigin,
        total: &mut u64,
    ) -> Result<LoadedBundle, BundleError> {
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
        parse_bundle(text, origin.clone())
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

/// `Docker-Content-Digest`, if present and text.
fn content_digest(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
}

/// Text from a registry, safe for a one-line message: control characters
/// blanked, at most 200 characters.
fn printable(text: &str) -> String {
    text.chars()
        .take(200)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
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
    format!(": {}", printable(&parts.join(": ")))
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
            registry_message(br#"{"errors":[{"code":"DENIED","message":"no\nway"}]}"#),
            ": DENIED: no way"
        );
        assert_eq!(registry_message(b"<html>"), "");
        assert_eq!(registry_message(br#"{"errors":[]}"#), "");
    }
}
