//! Container images: `oci://REGISTRY/NAME[:TAG|@DIGEST]`.
//!
//! The digest attestations name is the manifest's, or the index's for a
//! multi-arch image (resolved with a HEAD request, anonymous bearer-token
//! flow, Docker config credentials or basic auth, through `oci-client`).
//! `--bundle-from-oci` reads Sigstore bundles stored as OCI referrers of that
//! digest: the referrers API, else the `sha256-<hex>` tag schema; each
//! referrer whose artifact type starts with `application/vnd.dev.sigstore.bundle`
//! holds the bundle as its first layer. Pushing such referrers (and plain
//! images, for tests) lives here too.

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
const MAX_LAYER_BYTES: i64 = 32 * 1024 * 1024;

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
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
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

/// The digest of the image's manifest, or of its index for a multi-arch
/// image: what attestations of the image name.
pub fn resolve_digest(
    reference: &Reference,
    auth: &RegistryAuth,
) -> Result<ArtifactDigest, OciError> {
    let text = reference.whole();
    let registry = reference.resolve_registry().to_string();
    flatten(
        block_on(async {
            let client = client_for(reference);
            let digest = client
                .fetch_manifest_digest(reference, auth)
                .await
                .map_err(|e| classify(&text, &registry, e))?;
            ArtifactDigest::parse(&digest).map_err(|e| OciError::Registry {
                reference: text.clone(),
                detail: format!("the registry returned an unusable digest {digest:?}: {e}"),
            })
        }),
        &reference.whole(),
    )
}

fn with_digest(reference: &Reference, digest: &ArtifactDigest) -> Reference {
    Reference::with_digest(
        reference.resolve_registry().to_string(),
        reference.repository().to_string(),
        digest.to_string(),
    )
}

/// The Sigstore bundles stored as referrers of `digest` in `reference`'s repository.
pub fn fetch_referrer_bundles(
    reference: &Reference,
    digest: &ArtifactDigest,
    auth: &RegistryAuth,
) -> Result<Vec<Result<LoadedBundle, BundleError>>, OciError> {
    let subject = with_digest(reference, digest);
    let text = subject.whole();
    let registry = reference.resolve_registry().to_string();
    flatten(
        block_on(async {
            let client = client_for(&subject);
            client.store_auth_if_needed(&registry, auth).await;
            let index = client
                .pull_referrers(&subject, None)
                .await
                .map_err(|e| classify(&text, &registry, e))?;
            let mut out = Vec::new();
            for entry in index.manifests.iter().filter(|m| {
                m.artifact_type
                    .as_deref()
                    .is_some_and(|t| t.starts_with(BUNDLE_ARTIFACT_TYPE_PREFIX))
            }) {
                let referrer = with_digest(
                    reference,
                    &match ArtifactDigest::parse(&entry.digest) {
                        Ok(d) => d,
                        Err(e) => {
                            out.push(Err(BundleError::Shape {
                                origin: format!("{text} referrer {}", entry.digest),
                                detail: e.to_string(),
                            }));
                            continue;
                        }
                    },
                );
                let origin = BundleOrigin {
                    source: referrer.whole(),
                    line: 1,
                    index: out.len() + 1,
                };
                out.push(fetch_referrer_layer(&client, &referrer, auth, origin).await);
            }
            if out.is_empty() {
                return Err(OciError::NoReferrers {
                    reference: text.clone(),
                });
            }
            Ok(out)
        }),
        &reference.whole(),
    )
}

async fn fetch_referrer_layer(
    client: &Client,
    referrer: &Reference,
    auth: &RegistryAuth,
    origin: BundleOrigin,
) -> Result<LoadedBundle, BundleError> {
    let shape = |detail: String| BundleError::Shape {
        origin: origin.to_string(),
        detail,
    };
    let (manifest, _) = client
        .pull_image_manifest(referrer, auth)
        .await
        .map_err(|e| shape(format!("cannot read the referrer manifest: {e}")))?;
    let layer = manifest
        .layers
        .first()
        .ok_or_else(|| shape("the referrer has no layers".into()))?;
    if layer.size > MAX_LAYER_BYTES || layer.size < 0 {
        return Err(shape(format!(
            "the bundle layer is {} bytes, over the {MAX_LAYER_BYTES}-byte limit",
            layer.size
        )));
    }
    let mut data: Vec<u8> = Vec::with_capacity(layer.size as usize);
    client
        .pull_blob(referrer, layer, &mut data)
        .await
        .map_err(|e| shape(format!("cannot download the bundle layer: {e}")))?;
    let text =
        std::str::from_utf8(&data).map_err(|e| shape(format!("the bundle is not UTF-8: {e}")))?;
    parse_bundle(text, origin)
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
    flatten(
        block_on(async {
            let client = client_for(reference);
            client.store_auth_if_needed(&registry, auth).await;
            let subject_ref = with_digest(reference, subject);
            let (subject_bytes, _) = client
                .pull_manifest_raw(
                    &subject_ref,
                    auth,
                    &[
                        MANIFEST_MEDIA_TYPE,
                        INDEX_MEDIA_TYPE,
                        "application/vnd.docker.distribution.manifest.v2+json",
                        "application/vnd.docker.distribution.manifest.list.v2+json",
                    ],
                )
                .await
                .map_err(|e| classify(&text, &registry, e))?;
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
            let tag_ref =
                Reference::with_tag(registry.clone(), reference.repository().to_string(), tag);
            let mut entries: Vec<serde_json::Value> = match client
                .pull_manifest_raw(&tag_ref, auth, &[INDEX_MEDIA_TYPE])
                .await
            {
                Ok((bytes, _)) => serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| v["manifests"].as_array().cloned())
                    .unwrap_or_default(),
                Err(_) => Vec::new(),
            };
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
            push_manifest_bytes(&client, &tag_ref, &index_body, INDEX_MEDIA_TYPE, &registry)
                .await?;
            Ok(digest)
        }),
        &reference.whole(),
    )
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
    flatten(
        block_on(async {
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
                let d =
                    push_manifest_bytes(&client, &target, &body, MANIFEST_MEDIA_TYPE, &registry)
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
        }),
        &reference.whole(),
    )
}
