//! Rekor v1: `dsse`/`0.0.1` and `hashedrekord`/`0.0.1` entries.
//!
//! A proposed entry is validated as Rekor does (every DSSE signature must
//! verify with one of the verifiers and every verifier must verify one; a
//! hashedrekord signature must verify over the digest), turned into Rekor's
//! canonical body (JCS; verifiers as base64 of their canonical PEM; DSSE
//! signatures sorted), and appended to the Merkle tree. The response is
//! Rekor's `{entryID: LogEntry}` map with an inclusion proof, a checkpoint
//! and a SET; a body already in the log gets `409 Conflict` with the
//! existing entry's URL in `Location`, as from Rekor.

use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE as B64URL};
use base64::Engine;
use jiff::Timestamp;
use serde_json::{json, Value};

use super::crypto::{self, verify_digest, verify_message, Verifier};
use super::http::{Request, Response};
use super::{b64, method_not_allowed, not_found, Fault, Shared, StoredEntry};
use crate::keys::sha256;

/// Rekor's error shape (grpc-gateway's, for v2 too).
pub(super) fn error(status: u16, message: &str) -> Response {
    Response::json(status, &json!({ "code": status, "message": message }))
}

pub(super) fn route(shared: &Shared, request: &Request, rest: &str) -> Response {
    if shared.fault(Fault::RekorUnavailable) {
        return error(503, "Rekor is unavailable (injected fault)");
    }
    let get = request.method == "GET" || request.method == "HEAD";
    match rest {
        "/api/v1/log/entries" if request.method == "POST" => create_entry(shared, request),
        "/api/v1/log/entries" if get => {
            let Some(index) = request
                .query_param("logIndex")
                .and_then(|i| i.parse::<u64>().ok())
            else {
                return error(400, "logIndex query parameter is required");
            };
            let state = shared.state();
            match state.entries.iter().find(|e| e.log_index == index) {
                Some(entry) => Response::json(200, &entry_response(&state, entry)),
                None => error(404, &format!("no entry at log index {index}")),
            }
        }
        "/api/v1/log" if get => {
            let state = shared.state();
            let (size, root, checkpoint) = state.sigstore.log_head();
            Response::json(
                200,
                &json!({
                    "rootHash": hex::encode(root),
                    "treeSize": size,
                    "signedTreeHead": checkpoint,
                    "treeID": state.sigstore.log_tree_id().to_string(),
                    "inactiveShards": [],
                }),
            )
        }
        "/api/v1/log/publicKey" if get => {
            let pem = crypto::pem("PUBLIC KEY", shared.state().sigstore.log_public_key_der());
            Response::bytes(200, "application/x-pem-file", pem.into_bytes())
        }
        "/api/v1/log/entries" | "/api/v1/log" | "/api/v1/log/publicKey" => {
            method_not_allowed(request)
        }
        _ => match rest.strip_prefix("/api/v1/log/entries/") {
            Some(id) if get => {
                let uuid = id.get(id.len().saturating_sub(64)..).unwrap_or(id);
                let state = shared.state();
                match state.by_uuid.get(&uuid.to_ascii_lowercase()) {
                    Some(&i) => Response::json(200, &entry_response(&state, &state.entries[i])),
                    None => error(404, &format!("no entry with UUID {id}")),
                }
            }
            Some(_) => method_not_allowed(request),
            None => not_found(request),
        },
    }
}

/// `{entryID: LogEntry}` with an inclusion proof in the current tree.
fn entry_response(state: &super::State, entry: &StoredEntry) -> Value {
    let proof = state
        .sigstore
        .log_inclusion_proof(entry.log_index)
        .expect("a stored entry is in the log");
    log_entry_json(
        state,
        entry,
        proof.tree_size,
        &proof.root_hash,
        &proof.hashes,
        &proof.checkpoint,
    )
}

fn log_entry_json(
    state: &super::State,
    entry: &StoredEntry,
    tree_size: u64,
    root: &[u8; 32],
    hashes: &[[u8; 32]],
    checkpoint: &str,
) -> Value {
    let mut map = serde_json::Map::new();
    map.insert(
        entry.entry_id.clone(),
        json!({
            "body": b64(&entry.body),
            "integratedTime": entry.integrated_time,
            "logID": hex::encode(state.sigstore.log_id()),
            "logIndex": entry.log_index,
            "verification": {
                "inclusionProof": {
                    "checkpoint": checkpoint,
                    "hashes": hashes.iter().map(hex::encode).collect::<Vec<_>>(),
                    "logIndex": entry.log_index,
                    "rootHash": hex::encode(root),
                    "treeSize": tree_size,
                },
                "signedEntryTimestamp": b64(&entry.set),
            },
        }),
    );
    Value::Object(map)
}

/// Decode base64 that may be standard or URL-safe, padded or not.
fn decode_b64(text: &str) -> Result<Vec<u8>, String> {
    let padded = {
        let mut t = text.trim().to_string();
        while t.len() % 4 != 0 {
            t.push('=');
        }
        t
    };
    B64.decode(&padded)
        .or_else(|_| B64URL.decode(&padded))
        .map_err(|e| format!("invalid base64: {e}"))
}

/// A canonical `dsse`/`0.0.1` body for a proposed envelope and verifiers.
fn dsse_body(spec: &Value, wrong_artifact: bool) -> Result<Value, String> {
    let proposed = spec
        .get("proposedContent")
        .ok_or("dsse entries must have spec.proposedContent")?;
    let envelope_text = proposed["envelope"]
        .as_str()
        .ok_or("spec.proposedContent.envelope must be a string")?;
    let verifiers = proposed["verifiers"]
        .as_array()
        .filter(|v| !v.is_empty())
        .ok_or("spec.proposedContent.verifiers must be a non-empty array")?;
    let envelope: Value =
        serde_json::from_str(envelope_text).map_err(|e| format!("invalid DSSE envelope: {e}"))?;
    let payload_type = envelope["payloadType"]
        .as_str()
        .ok_or("the envelope has no payloadType")?;
    let payload = decode_b64(
        envelope["payload"]
            .as_str()
            .ok_or("the envelope has no payload")?,
    )
    .map_err(|e| format!("envelope payload: {e}"))?;
    let signatures: Vec<Vec<u8>> = envelope["signatures"]
        .as_array()
        .filter(|s| !s.is_empty())
        .ok_or("the envelope has no signatures")?
        .iter()
        .map(|s| decode_b64(s["sig"].as_str().unwrap_or("")))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("envelope signature: {e}"))?;
    let verifiers: Vec<Verifier> = verifiers
        .iter()
        .map(|v| {
            let pem = B64
                .decode(v.as_str().ok_or("verifiers must be strings")?)
                .map_err(|e| format!("verifier is not base64: {e}"))?;
            Verifier::from_pem(&pem)
        })
        .collect::<Result<_, String>>()?;

    let pae = sigstore_types::pae(payload_type, &payload);
    let mut verified = vec![false; signatures.len()];
    let mut logged = Vec::new();
    for verifier in &verifiers {
        let spki = verifier.spki_der()?;
        let mut any = false;
        for (i, sig) in signatures.iter().enumerate() {
            if verify_message(&spki, &pae, sig).is_ok() {
                verified[i] = true;
                any = true;
                logged.push(json!({
                    "signature": b64(sig),
                    "verifier": b64(verifier.canonical_pem().as_bytes()),
                }));
            }
        }
        if !any {
            return Err("a verifier verifies none of the envelope's signatures".into());
        }
    }
    if verified.contains(&false) {
        return Err("all signatures must have a key that verifies it".into());
    }
    logged.sort_by(|a, b| a["signature"].as_str().cmp(&b["signature"].as_str()));
    logged.dedup();

    let payload_hash = if wrong_artifact {
        sha256(&[&payload[..], b"\nanother artifact"].concat())
    } else {
        sha256(&payload)
    };
    Ok(json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "envelopeHash": { "algorithm": "sha256", "value": hex::encode(sha256(envelope_text.as_bytes())) },
            "payloadHash": { "algorithm": "sha256", "value": hex::encode(payload_hash) },
            "signatures": logged,
        },
    }))
}

/// A canonical `hashedrekord`/`0.0.1` body.
fn hashedrekord_body(spec: &Value, wrong_artifact: bool) -> Result<Value, String> {
    let algorithm = spec["data"]["hash"]["algorithm"]
        .as_str()
        .ok_or("spec.data.hash.algorithm is required")?;
    let value = spec["data"]["hash"]["value"]
        .as_str()
        .ok_or("spec.data.hash.value is required")?;
    let digest = hex::decode(value).map_err(|e| format!("spec.data.hash.value: {e}"))?;
    let expected_len = match algorithm {
        "sha256" => 32,
        "sha384" => 48,
        "sha512" => 64,
        other => return Err(format!("unsupported hash algorithm {other:?}")),
    };
    if digest.len() != expected_len {
        return Err(format!(
            "a {algorithm} digest is {expected_len} bytes, got {}",
            digest.len()
        ));
    }
    let signature = decode_b64(
        spec["signature"]["content"]
            .as_str()
            .ok_or("spec.signature.content is required")?,
    )
    .map_err(|e| format!("spec.signature.content: {e}"))?;
    let pem = B64
        .decode(
            spec["signature"]["publicKey"]["content"]
                .as_str()
                .ok_or("spec.signature.publicKey.content is required")?,
        )
        .map_err(|e| format!("spec.signature.publicKey.content is not base64: {e}"))?;
    let verifier = Verifier::from_pem(&pem)?;
    verify_digest(&verifier.spki_der()?, algorithm, &digest, &signature)?;
    let (algorithm, digest) = if wrong_artifact {
        (
            "sha256",
            sha256(&[b"another artifact ".as_slice(), &digest].concat()).to_vec(),
        )
    } else {
        (algorithm, digest)
    };
    Ok(json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": { "hash": { "algorithm": algorithm, "value": hex::encode(digest) } },
            "signature": {
                "content": b64(&signature),
                "publicKey": { "content": b64(verifier.canonical_pem().as_bytes()) },
            },
        },
    }))
}

/// `POST /api/v1/log/entries`.
fn create_entry(shared: &Shared, request: &Request) -> Response {
    let proposed: Value = match serde_json::from_slice(&request.body) {
        Ok(v) => v,
        Err(e) => return error(400, &format!("invalid JSON body: {e}")),
    };
    let kind = proposed["kind"].as_str().unwrap_or("");
    let version = proposed["apiVersion"].as_str().unwrap_or("");
    let wrong_artifact = shared.fault(Fault::RekorWrongArtifact);
    let body = match (kind, version) {
        ("dsse", "0.0.1") => dsse_body(&proposed["spec"], wrong_artifact),
        ("hashedrekord", "0.0.1") => hashedrekord_body(&proposed["spec"], wrong_artifact),
        _ => Err(format!(
            "unsupported entry kind/version {kind:?}/{version:?} (dsse/0.0.1 and hashedrekord/0.0.1 are)"
        )),
    };
    let body = match body {
        Ok(body) => body,
        Err(e) => return error(400, &format!("error processing entry: {e}")),
    };
    let canonical = serde_json_canonicalizer::to_vec(&body).expect("JCS of a JSON value");
    let uuid = hex::encode(sigstore_merkle::hash_leaf(&canonical).as_bytes());

    let mut state = shared.state();
    if let Some(&i) = state.by_uuid.get(&uuid) {
        let existing = &state.entries[i];
        return error(
            409,
            &format!(
                "An equivalent entry already exists in the transparency log with UUID {}",
                existing.entry_id
            ),
        )
        .with_header(
            "Location",
            &format!(
                "{}/api/v1/log/entries/{}",
                shared.rekor_url(),
                existing.entry_id
            ),
        );
    }
    let integrated_time = Timestamp::now().as_second();
    let logged = state.sigstore.append_to_log(&canonical, integrated_time);
    let entry = StoredEntry {
        entry_id: format!("{:016x}{uuid}", state.sigstore.log_tree_id()),
        log_index: logged.log_index,
        body: canonical,
        integrated_time,
        set: logged.set.clone(),
    };
    let response = log_entry_json(
        &state,
        &entry,
        logged.tree_size,
        &logged.root_hash,
        &logged.hashes,
        &logged.checkpoint,
    );
    let location = format!(
        "{}/api/v1/log/entries/{}",
        shared.rekor_url(),
        entry.entry_id
    );
    let etag = entry.entry_id.clone();
    let position = state.entries.len();
    state.by_uuid.insert(uuid, position);
    state.entries.push(entry);
    Response::json(201, &response)
        .with_header("Location", &location)
        .with_header("ETag", &etag)
}
