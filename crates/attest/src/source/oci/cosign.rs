//! cosign's legacy signature tag (`sha256-<hex>.sig`): the manifest and its
//! simplesigning layers, read with the same bounded, credential-scoped
//! client as referrers.

use super::{run_bounded, with_digest, Failed, OciError, Puller, MANIFEST_ACCEPT, MAX_LAYER_BYTES};
use crate::artifact::{digest_bytes, ArtifactDigest};
use crate::bundle::{BundleError, LoadedBundle};
use crate::cosign::{
    CosignAttestation, CosignError, CosignSignature, DSSE_MEDIA_TYPE, MAX_PAYLOAD_BYTES,
    SIMPLESIGNING_MEDIA_TYPE,
};
use oci_client::Reference;

use super::RegistryAuth;

/// The cosign signatures stored for `digest` under `reference`'s
/// repository, at most `limit`. No `.sig` tag: none (not an error). A
/// layer that cannot be read is an error entry, reported beside the others.
pub fn fetch_cosign_signatures(
    reference: &Reference,
    digest: &ArtifactDigest,
    auth: &RegistryAuth,
    limit: usize,
) -> Result<Vec<Result<CosignSignature, CosignError>>, OciError> {
    let layers = fetch_tag_layers(
        reference,
        digest,
        auth,
        limit,
        "sig",
        SIMPLESIGNING_MEDIA_TYPE,
        MAX_PAYLOAD_BYTES,
    )?;
    Ok(layers
        .into_iter()
        .map(|l| {
            l.map(|(origin, payload, annotations)| CosignSignature {
                origin,
                payload,
                annotations,
            })
        })
        .collect())
}

/// The attestations cosign stored for `digest` (the `.att` tag), each as
/// its equivalent Sigstore bundle, at most `limit`. No `.att` tag: none.
pub fn fetch_cosign_attestations(
    reference: &Reference,
    digest: &ArtifactDigest,
    auth: &RegistryAuth,
    limit: usize,
) -> Result<Vec<Result<LoadedBundle, BundleError>>, OciError> {
    let layers = fetch_tag_layers(
        reference,
        digest,
        auth,
        limit,
        "att",
        DSSE_MEDIA_TYPE,
        MAX_LAYER_BYTES,
    )?;
    Ok(layers
        .into_iter()
        .map(|l| {
            let as_bundle_error = |e: CosignError| BundleError::Shape {
                origin: e.origin,
                detail: e.detail,
            };
            let (origin, envelope, annotations) = l.map_err(as_bundle_error)?;
            CosignAttestation {
                origin,
                envelope,
                annotations,
            }
            .to_bundle()
            .map_err(as_bundle_error)
        })
        .collect())
}

type Layer = (String, Vec<u8>, std::collections::BTreeMap<String, String>);

/// The layers of cosign's `sha256-<hex>.SUFFIX` manifest, each read and
/// checked against its digest, with its annotations.
fn fetch_tag_layers(
    reference: &Reference,
    digest: &ArtifactDigest,
    auth: &RegistryAuth,
    limit: usize,
    suffix: &str,
    media_type: &'static str,
    max_bytes: u64,
) -> Result<Vec<Result<Layer, CosignError>>, OciError> {
    let text = with_digest(reference, digest).whole();
    run_bounded(&text, async {
        let mut puller = Puller::new(reference, auth, &text)?;
        let tag = format!("{}-{}.{suffix}", digest.algorithm(), digest.hex());
        let Some(body) = puller.manifest(&tag, MANIFEST_ACCEPT).await? else {
            return Ok(Vec::new());
        };
        let where_ = format!(
            "{}/{}:{tag}",
            reference.resolve_registry(),
            reference.repository()
        );
        crate::json::check_unique_keys(&body)
            .map_err(|e| puller.registry_error(format!("{where_}: {e}")))?;
        let manifest: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| puller.registry_error(format!("{where_}: not JSON: {e}")))?;
        let layers = manifest["layers"].as_array().ok_or_else(|| {
            puller.registry_error(format!(
                "{where_}: expected a manifest with a \"layers\" list"
            ))
        })?;
        let mut out = Vec::new();
        for (i, layer) in layers.iter().enumerate().take(limit) {
            let origin = format!("{where_} layer {}", i + 1);
            out.push(read_layer(&mut puller, layer, origin, media_type, max_bytes).await);
        }
        Ok(out)
    })
}

async fn read_layer(
    puller: &mut Puller,
    layer: &serde_json::Value,
    origin: String,
    media_type: &'static str,
    max_bytes: u64,
) -> Result<Layer, CosignError> {
    let err = |d: String| CosignError {
        origin: origin.clone(),
        detail: d,
    };
    if layer["mediaType"] != media_type {
        return Err(err(format!(
            "media type {}, expected {media_type}",
            crate::text::remote_text(&layer["mediaType"].to_string())
        )));
    }
    let digest = layer["digest"]
        .as_str()
        .and_then(|d| ArtifactDigest::parse(d).ok())
        .ok_or_else(|| err("expected a sha256 or sha512 layer digest".into()))?;
    let size = layer["size"]
        .as_u64()
        .ok_or_else(|| err("expected a byte count as the layer's size".into()))?;
    if size > max_bytes {
        return Err(err(format!(
            "the layer is {size} bytes, over the {max_bytes}-byte limit"
        )));
    }
    let mut annotations = std::collections::BTreeMap::new();
    if let Some(map) = layer["annotations"].as_object() {
        for (k, v) in map {
            let v = v
                .as_str()
                .ok_or_else(|| err(format!("annotation {k} is not a string")))?;
            annotations.insert(k.clone(), v.to_string());
        }
    }
    let url = format!("{}/blobs/{digest}", puller.base);
    let payload = match puller
        .request(reqwest::Method::GET, &url, "*/*", size)
        .await
    {
        Ok(a) if a.status.is_success() => a.body,
        Ok(a) => {
            return Err(err(format!(
                "cannot download the payload: {}",
                puller.status_error(&url, &a)
            )))
        }
        Err(Failed::Oci(e)) => return Err(err(format!("cannot download the payload: {e}"))),
        Err(Failed::TooLarge(_)) => {
            return Err(err(format!(
                "the payload is larger than the {size} bytes its manifest declares"
            )))
        }
    };
    if digest_bytes(&payload, digest.algorithm()) != digest {
        return Err(err(format!(
            "expected the payload to have digest {digest}, it does not"
        )));
    }
    Ok((origin, payload, annotations))
}
