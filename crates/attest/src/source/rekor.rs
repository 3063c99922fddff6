//! Turning a v0.1 bundle's inclusion promise into a proof, online.
//!
//! Bundle v0.1 lets a Rekor entry carry only a signed entry timestamp (a
//! promise that the log will include it). Online, attest asks the log that
//! signed the promise for the entry by its index (`GET
//! /api/v1/log/entries?logIndex=N`, Rekor v1's API) and puts the inclusion
//! proof it returns into the bundle, which is then verified as any other:
//! the proof up to a checkpoint, and the checkpoint's signature under the
//! trusted root's log key. Nothing the log answers is trusted on its own: an
//! entry whose body differs from the bundle's, or a proof that does not
//! verify, fails verification.

use base64::Engine;
use serde_json::{json, Value};

use crate::bundle::{parse_bundle, LoadedBundle};
use crate::source::http::{self, HttpError};
use crate::trust::TrustStore;

/// The largest log entry response read.
const MAX_ENTRY_BYTES: u64 = 4 * 1024 * 1024;

/// Why a proof could not be fetched.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RekorError {
    /// The trusted root lists no log with the entry's log ID.
    #[error("log entry {index}: no log in the trusted root has its log ID")]
    UnknownLog {
        /// The entry's log index.
        index: String,
    },
    /// The request failed.
    #[error("log entry {index}: {detail}")]
    Fetch {
        /// The entry's log index.
        index: String,
        /// What went wrong.
        detail: String,
    },
    /// The log's answer is not what was asked for.
    #[error("log entry {index} from {url}: {detail}")]
    Answer {
        /// The entry's log index.
        index: String,
        /// Where it came from.
        url: String,
        /// What is wrong with it.
        detail: String,
    },
}

/// Whether the bundle has a log entry with a promise and no proof.
pub fn needs_proof(bundle: &LoadedBundle) -> bool {
    bundle
        .bundle
        .verification_material
        .tlog_entries
        .iter()
        .any(|e| e.inclusion_proof.is_none() && e.inclusion_promise.is_some())
}

/// A copy of `bundle` whose promise-only log entries carry the inclusion
/// proofs their logs return (the raw JSON, as read, is kept for output).
pub fn with_inclusion_proofs(
    bundle: &LoadedBundle,
    trust: &TrustStore,
) -> Result<LoadedBundle, RekorError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut raw = bundle.raw.value().clone();
    let entries = bundle.bundle.verification_material.tlog_entries.clone();
    for (i, entry) in entries.iter().enumerate() {
        if entry.inclusion_proof.is_some() || entry.inclusion_promise.is_none() {
            continue;
        }
        let index = entry.log_index.to_string();
        let base = trust
            .instances()
            .iter()
            .filter_map(|inst| inst.prepared().ok())
            .flat_map(|p| p.root.tlogs.iter())
            .find(|t| t.log_id.key_id == entry.log_id.key_id)
            .map(|t| t.base_url.trim_end_matches('/').to_string())
            .ok_or_else(|| RekorError::UnknownLog {
                index: index.clone(),
            })?;
        let url = format!("{base}/api/v1/log/entries?logIndex={index}");
        let fetched = fetch(&url).map_err(|e| RekorError::Fetch {
            index: index.clone(),
            detail: e.to_string(),
        })?;
        let answer = |detail: String| RekorError::Answer {
            index: index.clone(),
            url: url.clone(),
            detail,
        };
        crate::json::check_unique_keys(&fetched).map_err(|e| answer(e.to_string()))?;
        let value: Value =
            serde_json::from_slice(&fetched).map_err(|e| answer(format!("not JSON: {e}")))?;
        let Some((_, found)) =
            value
                .as_object()
                .and_then(|m| if m.len() == 1 { m.iter().next() } else { None })
        else {
            return Err(answer("expected an object with exactly one entry".into()));
        };
        // The body the log holds must be the body the bundle logged: the
        // proof is then about this entry (the leaf hash is over the body).
        let body = found["body"].as_str().unwrap_or_default();
        let ours = b64.encode(entry.canonicalized_body.as_bytes());
        if body != ours {
            return Err(answer(
                "its body is not the bundle's canonicalized body".into(),
            ));
        }
        let proof = &found["verification"]["inclusionProof"];
        let hashes: Result<Vec<String>, String> = proof["hashes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|h| hex_to_b64(h.as_str().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_else(|| Ok(Vec::new()));
        let hashes = hashes.map_err(|e| answer(format!("inclusionProof.hashes: {e}")))?;
        let root_hash = hex_to_b64(proof["rootHash"].as_str().unwrap_or_default())
            .map_err(|e| answer(format!("inclusionProof.rootHash: {e}")))?;
        let (Some(log_index), Some(tree_size), Some(checkpoint)) = (
            proof["logIndex"].as_u64(),
            proof["treeSize"].as_u64(),
            proof["checkpoint"].as_str(),
        ) else {
            return Err(answer(
                "inclusionProof needs logIndex, treeSize and checkpoint".into(),
            ));
        };
        raw["verificationMaterial"]["tlogEntries"][i]["inclusionProof"] = json!({
            "logIndex": log_index.to_string(),
            "rootHash": root_hash,
            "treeSize": tree_size.to_string(),
            "hashes": hashes,
            "checkpoint": { "envelope": checkpoint },
        });
    }
    let mut patched =
        parse_bundle(&raw.to_string(), bundle.origin.clone()).map_err(|e| RekorError::Answer {
            index: String::new(),
            url: String::new(),
            detail: format!("the bundle with the fetched proofs does not parse: {e}"),
        })?;
    // Output repeats the bundle as it was read.
    patched.raw = bundle.raw.clone();
    patched.bundle_url = bundle.bundle_url.clone();
    patched.initiator = bundle.initiator.clone();
    Ok(patched)
}

fn hex_to_b64(h: &str) -> Result<String, String> {
    let bytes = hex::decode(h).map_err(|e| format!("{h:?} is not hex: {e}"))?;
    if bytes.len() != 32 {
        return Err(format!("{h:?} is not a SHA-256 hash"));
    }
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn fetch(url: &str) -> Result<Vec<u8>, HttpError> {
    let client = http::client()?;
    let url = url.to_string();
    http::block_on(async move {
        http::get(&client, &url, None, &[], MAX_ENTRY_BYTES)
            .await
            .map(|f| f.body)
    })?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::test_server::{response, serve};
    use attest_testsign::{
        FulcioClaims, ServiceUrls, SignOptions, TestSigstore, TestSigstoreConfig,
    };

    /// A v0.1 bundle whose log entry has only its promise, the signer (whose
    /// log holds the entry) and the answer Rekor gives for that entry.
    fn promised() -> (TestSigstore, LoadedBundle, Value) {
        let mut signer = TestSigstore::new(TestSigstoreConfig::public_good_like());
        let opts = SignOptions {
            tlog: true,
            ..SignOptions::default()
        };
        let signed = signer.sign_blob(b"promised", &FulcioClaims::default(), &opts);
        let v01 = attest_testsign::promise_only(&attest_testsign::as_bundle_v01(&signed));
        let entry = &v01["verificationMaterial"]["tlogEntries"][0];
        let index: u64 = entry["logIndex"].as_str().unwrap().parse().unwrap();
        let proof = signer.log_inclusion_proof(index).unwrap();
        let answer = json!({ "24296fb24b8ad77a0001": {
            "body": entry["canonicalizedBody"],
            "logIndex": index,
            "verification": { "inclusionProof": {
                "logIndex": index,
                "treeSize": proof.tree_size,
                "rootHash": hex::encode(proof.root_hash),
                "hashes": proof.hashes.iter().map(hex::encode).collect::<Vec<_>>(),
                "checkpoint": proof.checkpoint,
            }},
        }});
        let loaded = crate::source::bundles_from_bytes(v01.to_string().as_bytes(), "v01.json")
            .unwrap()
            .remove(0)
            .unwrap();
        (signer, loaded, answer)
    }

    /// The signer's trusted root with its log at `url`.
    fn trust_at(signer: &mut TestSigstore, url: &str) -> TrustStore {
        signer.set_service_urls(ServiceUrls {
            rekor: url.to_string(),
            ..ServiceUrls::default()
        });
        TrustStore::from_jsonl(&signer.trusted_root_json(), "root.json", false).unwrap()
    }

    fn json_response(body: &[u8]) -> Vec<u8> {
        response("200 OK", "content-type: application/json\r\n", body)
    }

    #[test]
    fn a_promise_becomes_the_proof_the_log_returns() {
        let (mut signer, loaded, answer) = promised();
        assert!(needs_proof(&loaded));
        let (url, requests) = serve(vec![json_response(answer.to_string().as_bytes())]);
        let trust = trust_at(&mut signer, &format!("{url}/"));
        let patched = with_inclusion_proofs(&loaded, &trust).unwrap();
        let index = loaded.bundle.verification_material.tlog_entries[0]
            .log_index
            .to_string();
        let head = requests.recv().unwrap();
        assert!(
            head.starts_with(&format!(
                "GET /api/v1/log/entries?logIndex={index} HTTP/1.1\r\n"
            )),
            "{head}"
        );
        assert!(!needs_proof(&patched));
        let proof = answer["24296fb24b8ad77a0001"]["verification"]["inclusionProof"].clone();
        let got = patched.bundle.verification_material.tlog_entries[0]
            .inclusion_proof
            .clone()
            .unwrap();
        let got = serde_json::to_value(&got).unwrap();
        let b64 = |h: &Value| {
            base64::engine::general_purpose::STANDARD
                .encode(hex::decode(h.as_str().unwrap()).unwrap())
        };
        assert_eq!(got["logIndex"], json!(index));
        assert_eq!(
            got["treeSize"],
            json!(proof["treeSize"].as_u64().unwrap().to_string())
        );
        assert_eq!(got["rootHash"], json!(b64(&proof["rootHash"])));
        let hashes: Vec<String> = proof["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(b64)
            .collect();
        assert!(!hashes.is_empty());
        assert_eq!(got["hashes"], json!(hashes));
        assert_eq!(got["checkpoint"]["envelope"], proof["checkpoint"]);
        // Output repeats the bundle as it was read.
        assert_eq!(patched.raw.text(), loaded.raw.text());
        assert_eq!(patched.origin, loaded.origin);
    }

    #[test]
    fn an_entry_with_a_proof_or_without_a_promise_asks_nothing() {
        let (mut signer, loaded, answer) = promised();
        // No server: a request would fail.
        let (url, _) = serve(Vec::new());
        let trust = trust_at(&mut signer, &url);
        let mut with_proof = loaded.clone();
        let mut raw = loaded.raw.value().clone();
        raw["verificationMaterial"]["tlogEntries"][0]
            .as_object_mut()
            .unwrap()
            .remove("inclusionPromise");
        let no_promise = parse_bundle(&raw.to_string(), loaded.origin.clone()).unwrap();
        assert!(!needs_proof(&no_promise));
        let kept = with_inclusion_proofs(&no_promise, &trust).unwrap();
        assert!(kept.bundle.verification_material.tlog_entries[0]
            .inclusion_proof
            .is_none());
        let proof = &answer["24296fb24b8ad77a0001"]["verification"]["inclusionProof"];
        with_proof.bundle.verification_material.tlog_entries[0].inclusion_proof = Some(
            serde_json::from_value(json!({
                "logIndex": proof["logIndex"].to_string(),
                "rootHash": hex_to_b64(proof["rootHash"].as_str().unwrap()).unwrap(),
                "treeSize": proof["treeSize"].to_string(),
                "hashes": [],
                "checkpoint": {"envelope": proof["checkpoint"]},
            }))
            .unwrap(),
        );
        assert!(!needs_proof(&with_proof));
        assert!(with_inclusion_proofs(&with_proof, &trust).is_ok());
    }

    #[test]
    fn a_log_the_trusted_root_does_not_list_is_not_asked() {
        let (_, loaded, _) = promised();
        let mut other = TestSigstore::new(TestSigstoreConfig::public_good_like());
        let (url, _) = serve(Vec::new());
        let trust = trust_at(&mut other, &url);
        let e = with_inclusion_proofs(&loaded, &trust).unwrap_err();
        assert!(matches!(e, RekorError::UnknownLog { .. }), "{e}");
    }

    #[test]
    fn the_log_s_answer_is_checked_before_it_is_used() {
        let (mut signer, loaded, answer) = promised();
        let key = "24296fb24b8ad77a0001";
        let changed = |f: &dyn Fn(&mut Value)| {
            let mut a = answer.clone();
            f(&mut a[key]);
            a.to_string().into_bytes()
        };
        let proof = |f: &'static dyn Fn(&mut Value)| {
            move |e: &mut Value| f(&mut e["verification"]["inclusionProof"])
        };
        let entry = answer[key].to_string();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (
                format!("{{\"{key}\": {entry}, \"{key}\": {entry}}}").into_bytes(),
                "duplicate key",
            ),
            (b"<html>".to_vec(), "expected value at line 1 column 1"),
            (b"[]".to_vec(), "expected an object with exactly one entry"),
            (b"{}".to_vec(), "expected an object with exactly one entry"),
            (
                format!("{{\"{key}\": {entry}, \"other\": {entry}}}").into_bytes(),
                "expected an object with exactly one entry",
            ),
            (
                changed(&|e| e["body"] = json!("b3RoZXI=")),
                "its body is not the bundle's canonicalized body",
            ),
            (
                changed(&|e| {
                    e.as_object_mut().unwrap().remove("body");
                }),
                "its body is not the bundle's canonicalized body",
            ),
            (
                changed(&proof(&|p| p["hashes"][0] = json!("zz"))),
                "inclusionProof.hashes: \"zz\" is not hex",
            ),
            (
                changed(&proof(&|p| p["hashes"][0] = json!("00".repeat(31)))),
                "is not a SHA-256 hash",
            ),
            (
                changed(&proof(&|p| p["rootHash"] = json!("00".repeat(33)))),
                "inclusionProof.rootHash",
            ),
            (
                changed(&proof(&|p| {
                    p.as_object_mut().unwrap().remove("checkpoint");
                })),
                "inclusionProof needs logIndex, treeSize and checkpoint",
            ),
            (
                changed(&proof(&|p| {
                    p.as_object_mut().unwrap().remove("treeSize");
                })),
                "inclusionProof needs logIndex, treeSize and checkpoint",
            ),
            (
                changed(&proof(&|p| p["logIndex"] = json!("7"))),
                "inclusionProof needs logIndex, treeSize and checkpoint",
            ),
        ];
        for (body, want) in cases {
            let (url, _) = serve(vec![json_response(&body)]);
            let trust = trust_at(&mut signer, &url);
            let e = with_inclusion_proofs(&loaded, &trust).unwrap_err();
            assert!(matches!(e, RekorError::Answer { .. }), "{want}: {e}");
            let text = e.to_string();
            assert!(text.contains(want), "{want}: {text}");
            assert!(
                text.contains(&format!("{url}/api/v1/log/entries?logIndex=")),
                "{text}"
            );
        }
        // Answers are read up to 4 MiB (an entry with a large body), not past it.
        let padded = |len: usize| {
            let text = answer.to_string();
            let pad = len - text.len();
            let mut body = text.into_bytes();
            body.splice(1..1, std::iter::repeat_n(b' ', pad));
            body
        };
        let (url, _) = serve(vec![json_response(&padded(2 * 1024 * 1024))]);
        let trust = trust_at(&mut signer, &url);
        assert!(with_inclusion_proofs(&loaded, &trust).is_ok());
        let (url, _) = serve(vec![json_response(&padded(4 * 1024 * 1024 + 1))]);
        let trust = trust_at(&mut signer, &url);
        let e = with_inclusion_proofs(&loaded, &trust).unwrap_err();
        assert!(matches!(e, RekorError::Fetch { .. }), "{e}");
        // An error status is a failed fetch, not an answer.
        let (url, _) = serve(vec![response(
            "404 Not Found",
            "",
            b"{\"message\":\"no entry\"}",
        )]);
        let trust = trust_at(&mut signer, &url);
        let e = with_inclusion_proofs(&loaded, &trust).unwrap_err();
        assert!(matches!(e, RekorError::Fetch { .. }), "{e}");
        assert!(e.to_string().contains("404"), "{e}");
    }
}
