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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::DigestAlgorithm;
    use crate::source::test_server::{response, serve};

    fn data(path: &str) -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/cosign")
                .join(path),
        )
        .unwrap()
    }

    /// The image digest the tag is named after (any digest will do: the
    /// fetch only names the tag after it).
    fn image() -> ArtifactDigest {
        ArtifactDigest::parse(&format!("sha256:{}", "c0".repeat(32))).unwrap()
    }

    fn reference(base: &str) -> Reference {
        format!("{}/o/r", base.trim_start_matches("http://"))
            .parse()
            .unwrap()
    }

    fn ok(body: &[u8]) -> Vec<u8> {
        response("200 OK", "", body)
    }

    const SIG_PAYLOAD: &str =
        "salrashid123-sig/sha256-d8a030716080e45139ff0d6d8de7649cc500dc34ff2b9d699200c0a5d550464b.json";

    #[test]
    fn signatures_are_read_from_the_sig_tag_with_their_annotations() {
        let manifest = data("salrashid123-sig/sig-manifest.json");
        let payload = data(SIG_PAYLOAD);
        let (base, requests) = serve(vec![ok(&manifest), ok(&payload)]);
        let r = reference(&base);
        let got = fetch_cosign_signatures(&r, &image(), &RegistryAuth::Anonymous, 10).unwrap();
        assert_eq!(got.len(), 1);
        let sig = got[0].as_ref().unwrap();
        let host = base.trim_start_matches("http://");
        assert_eq!(
            sig.origin,
            format!("{host}/o/r:sha256-{}.sig layer 1", "c0".repeat(32))
        );
        assert_eq!(sig.payload, payload);
        assert_eq!(
            sig.annotations.keys().collect::<Vec<_>>(),
            [
                "dev.cosignproject.cosign/signature",
                "dev.sigstore.cosign/bundle",
                "dev.sigstore.cosign/certificate",
                "dev.sigstore.cosign/chain"
            ]
        );
        assert!(sig.annotations["dev.cosignproject.cosign/signature"].starts_with("MEUCIFxT63"));
        assert!(requests.recv().unwrap().starts_with(&format!(
            "GET /v2/o/r/manifests/sha256-{}.sig HTTP/1.1\r\n",
            "c0".repeat(32)
        )));
        assert!(requests.recv().unwrap().starts_with(
            "GET /v2/o/r/blobs/sha256:d8a030716080e45139ff0d6d8de7649cc500dc34ff2b9d699200c0a5d550464b HTTP/1.1\r\n"
        ));

        // No .sig tag: no signatures, not an error.
        let (base, _) = serve(vec![response("404 Not Found", "", b"")]);
        let got =
            fetch_cosign_signatures(&reference(&base), &image(), &RegistryAuth::Anonymous, 10)
                .unwrap();
        assert!(got.is_empty());
    }

    fn layer(media_type: &str, digest: &str, size: &str, annotations: &str) -> String {
        format!(r#"{{"mediaType":"{media_type}","digest":"{digest}","size":{size}{annotations}}}"#)
    }

    #[test]
    fn each_layer_is_checked_before_and_after_it_is_read() {
        let sig = SIMPLESIGNING_MEDIA_TYPE;
        let max = vec![b'x'; MAX_PAYLOAD_BYTES as usize];
        let max_digest = digest_bytes(&max, DigestAlgorithm::Sha256).to_string();
        let payload = data(SIG_PAYLOAD);
        let payload_digest = digest_bytes(&payload, DigestAlgorithm::Sha256).to_string();
        let other = digest_bytes(b"other", DigestAlgorithm::Sha256).to_string();
        let layers = [
            layer("application/x", &payload_digest, "257", ""),
            layer(sig, "md5:00", "257", ""),
            layer(sig, &payload_digest, "\"257\"", ""),
            layer(sig, &max_digest, &(MAX_PAYLOAD_BYTES + 1).to_string(), ""),
            layer(sig, &payload_digest, "257", r#","annotations":{"k":1}"#),
            // Read: exactly the limit; a 404; more than declared; other bytes.
            layer(sig, &max_digest, &MAX_PAYLOAD_BYTES.to_string(), ""),
            layer(sig, &payload_digest, "257", ""),
            layer(sig, &payload_digest, "200", ""),
            layer(sig, &other, "257", ""),
            // Past the limit of 9: never looked at.
            layer("application/x", &payload_digest, "257", ""),
        ];
        let manifest = format!(r#"{{"schemaVersion":2,"layers":[{}]}}"#, layers.join(","));
        let (base, requests) = serve(vec![
            ok(manifest.as_bytes()),
            ok(&max),
            response(
                "404 Not Found",
                "",
                br#"{"errors":[{"code":"BLOB_UNKNOWN"}]}"#,
            ),
            ok(&payload),
            ok(&payload),
        ]);
        let r = reference(&base);
        let got = fetch_cosign_signatures(&r, &image(), &RegistryAuth::Anonymous, 9).unwrap();
        let host = base.trim_start_matches("http://");
        let origin = |n: usize| format!("{host}/o/r:sha256-{}.sig layer {n}", "c0".repeat(32));
        let err = |n: usize, detail: String| {
            Err::<CosignSignature, _>(CosignError {
                origin: origin(n),
                detail,
            })
        };
        assert_eq!(got.len(), 9);
        assert_eq!(
            got[0],
            err(1, format!("media type \"application/x\", expected {sig}"))
        );
        assert_eq!(
            got[1],
            err(2, "expected a sha256 or sha512 layer digest".into())
        );
        assert_eq!(
            got[2],
            err(3, "expected a byte count as the layer's size".into())
        );
        assert_eq!(
            got[3],
            err(
                4,
                format!(
                    "the layer is {} bytes, over the {MAX_PAYLOAD_BYTES}-byte limit",
                    MAX_PAYLOAD_BYTES + 1
                )
            )
        );
        assert_eq!(got[4], err(5, "annotation k is not a string".into()));
        assert_eq!(got[5].as_ref().unwrap().payload, max);
        let e = got[6].as_ref().unwrap_err();
        assert_eq!(e.origin, origin(7));
        assert!(
            e.detail.starts_with("cannot download the payload: ")
                && e.detail.contains(&format!(
                    "/v2/o/r/blobs/{payload_digest}: HTTP 404: BLOB_UNKNOWN"
                )),
            "{e}"
        );
        assert_eq!(
            got[7],
            err(
                8,
                "the payload is larger than the 200 bytes its manifest declares".into()
            )
        );
        assert_eq!(
            got[8],
            err(
                9,
                format!("expected the payload to have digest {other}, it does not")
            )
        );
        // The manifest and the four blobs read, nothing else.
        assert_eq!(requests.try_iter().count(), 5);
    }

    #[test]
    fn attestations_are_read_from_the_att_tag_as_bundles() {
        let manifest = data("zlabjp-slsa-att/att-manifest.json");
        let envelope = data(
            "zlabjp-slsa-att/sha256-f8cf8a16b23744aa2ff562b4251c026f2218f9871b7b2834d39d8baba9778e4b.json",
        );
        let (base, requests) = serve(vec![ok(&manifest), ok(&envelope)]);
        let got =
            fetch_cosign_attestations(&reference(&base), &image(), &RegistryAuth::Anonymous, 10)
                .unwrap();
        assert_eq!(got.len(), 1);
        // Read and converted: the conversion refuses its Rekor entry kind
        // (intoto 0.0.1), an error in place named after the layer.
        let host = base.trim_start_matches("http://");
        let first = format!("{host}/o/r:sha256-{}.att layer 1", "c0".repeat(32));
        let BundleError::Shape { origin, detail } = got[0].as_ref().unwrap_err() else {
            panic!("{:?}", got[0])
        };
        assert_eq!(origin, &first);
        assert_eq!(
            detail,
            &format!("{first}: not a Sigstore bundle: field verificationMaterial.tlogEntries[0].kindVersion: unsupported Rekor entry format: intoto/0.0.1")
        );

        assert!(requests.recv().unwrap().starts_with(&format!(
            "GET /v2/o/r/manifests/sha256-{}.att HTTP/1.1\r\n",
            "c0".repeat(32)
        )));

        // A simplesigning layer under .att is not an attestation; an
        // envelope that is not one is an error in place.
        let payload = data(SIG_PAYLOAD);
        let payload_digest = digest_bytes(&payload, DigestAlgorithm::Sha256).to_string();
        let manifest = format!(
            r#"{{"layers":[{},{}]}}"#,
            layer(SIMPLESIGNING_MEDIA_TYPE, &payload_digest, "257", ""),
            layer(DSSE_MEDIA_TYPE, &payload_digest, "257", ""),
        );
        let (base, _) = serve(vec![ok(manifest.as_bytes()), ok(&payload)]);
        let got =
            fetch_cosign_attestations(&reference(&base), &image(), &RegistryAuth::Anonymous, 10)
                .unwrap();
        let host = base.trim_start_matches("http://");
        let origin = |n: usize| format!("{host}/o/r:sha256-{}.att layer {n}", "c0".repeat(32));
        assert_eq!(
            got[0].as_ref().unwrap_err(),
            &BundleError::Shape {
                origin: origin(1),
                detail: format!(
                    "media type \"{SIMPLESIGNING_MEDIA_TYPE}\", expected {DSSE_MEDIA_TYPE}"
                ),
            }
        );
        let BundleError::Shape { origin: o, .. } = got[1].as_ref().unwrap_err() else {
            panic!("{:?}", got[1])
        };
        assert_eq!(o, &origin(2));
        assert_eq!(got.len(), 2);
    }
}
