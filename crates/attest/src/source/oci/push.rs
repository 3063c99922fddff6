//! Writing to a registry: a Sigstore bundle as an OCI 1.1 referrer of an
//! image (and in the `sha256-<hex>` tag-schema index), and plain images for
//! tests. Writes use `oci-client`; the reads they need go through the
//! bounded [`Puller`].

use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use super::{
    classify, client_for, run_bounded, with_digest, OciError, Puller, BUNDLE_V03_MEDIA_TYPE,
    EMPTY_CONFIG_MEDIA_TYPE, INDEX_MEDIA_TYPE, MANIFEST_ACCEPT, MANIFEST_MEDIA_TYPE,
};
use crate::artifact::{digest_bytes, ArtifactDigest, DigestAlgorithm};

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
