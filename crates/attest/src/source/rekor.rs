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
