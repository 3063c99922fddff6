//! Rekor v2: `hashedrekord`/`0.0.2` and `dsse`/`0.0.2` entries, in a log of
//! their own.
//!
//! A request (`hashedRekordRequestV002` or `dsseRequestV002`) is validated
//! as rekor-tiles does: the verifier's `keyDetails` must name its key, a
//! hashedrekord signature must verify over the digest, and every DSSE
//! signature must verify over the PAE with one of the verifiers (and every
//! verifier verify one). The entry body (the protobuf `Entry` as JSON,
//! canonicalized with JCS) is appended to the v2 log's Merkle tree, and the
//! answer is the bundle's `TransparencyLogEntry` as protobuf JSON: log
//! index, log ID, kind and version, the canonicalized body and an inclusion
//! proof with a signed checkpoint. As in Rekor v2 there is no SET and no
//! integrated time (clients need an RFC 3161 timestamp). Unlike Tessera,
//! the log does not deduplicate: the same request is appended again.
//!
//! sigstore-rust and sigstore-python log a DSSE envelope as a
//! `hashedrekord`/`0.0.2` entry over SHA-256 of its PAE, which is the kind
//! bundle verifiers accept for DSSE; `dsse`/`0.0.2` is served for
//! completeness.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};

use super::crypto::{self, verify_digest, verify_message, Verifier};
use super::http::{Request, Response};
use super::rekor::error;
use super::{b64, method_not_allowed, not_found, Fault, Shared};
use crate::keys::sha256;

pub(super) fn route(shared: &Shared, request: &Request, rest: &str) -> Response {
    if shared.fault(Fault::RekorUnavailable) {
        return error(503, "Rekor is unavailable (injected fault)");
    }
    let get = request.method == "GET" || request.method == "HEAD";
    match rest {
        "/api/v2/log/entries" if request.method == "POST" => create_entry(shared, request),
        "/api/v2/checkpoint" if get => {
            let (_, _, checkpoint) = shared.state().sigstore.v2_log_head();
            Response::bytes(200, "text/plain; charset=utf-8", checkpoint.into_bytes())
        }
        "/api/v2/log/entries" | "/api/v2/checkpoint" => method_not_allowed(request),
        _ => not_found(request),
    }
}

/// A verifier of a request: its key (DER SPKI), the digest algorithm its
/// `keyDetails` implies, and its JSON as logged.
struct V2Verifier {
    spki: Vec<u8>,
    digest_algorithm: &'static str,
    json: Value,
}

fn decode_b64(text: Option<&str>, what: &str) -> Result<Vec<u8>, String> {
    B64.decode(text.ok_or_else(|| format!("{what} is required"))?)
        .map_err(|e| format!("{what} is not base64: {e}"))
}

/// Parse `{keyDetails, x509Certificate|publicKey: {rawBytes}}`.
fn parse_verifier(value: &Value) -> Result<V2Verifier, String> {
    let key_details = value["keyDetails"]
        .as_str()
        .ok_or("verifier.keyDetails is required")?;
    let (field, verifier) = match (value.get("x509Certificate"), value.get("publicKey")) {
        (Some(cert), None) => {
            let der = decode_b64(cert["rawBytes"].as_str(), "x509Certificate.rawBytes")?;
            ("x509Certificate", Verifier::Certificate(der))
        }
        (None, Some(key)) => {
            let der = decode_b64(key["rawBytes"].as_str(), "publicKey.rawBytes")?;
            ("publicKey", Verifier::PublicKey(der))
        }
        _ => return Err("a verifier has exactly one of x509Certificate and publicKey".into()),
    };
    let spki = verifier.spki_der()?;
    let (actual, digest_algorithm) = crypto::v2_key_details(&spki)?;
    if actual != key_details {
        return Err(format!(
            "keyDetails {key_details} does not describe the verifier's key ({actual})"
        ));
    }
    let der = match &verifier {
        Verifier::Certificate(der) | Verifier::PublicKey(der) => der,
    };
    Ok(V2Verifier {
        spki,
        digest_algorithm,
        json: json!({ "keyDetails": key_details, field: { "rawBytes": b64(der) } }),
    })
}

/// The protobuf `HashAlgorithm` name of a digest algorithm.
fn hash_algorithm(digest_algorithm: &str) -> &'static str {
    match digest_algorithm {
        "sha384" => "SHA2_384",
        "sha512" => "SHA2_512",
        _ => "SHA2_256",
    }
}

/// The `hashedrekord`/`0.0.2` entry of a `hashedRekordRequestV002`.
fn hashedrekord_entry(request: &Value) -> Result<Value, String> {
    let digest = decode_b64(request["digest"].as_str(), "digest")?;
    let signature = decode_b64(
        request["signature"]["content"].as_str(),
        "signature.content",
    )?;
    let verifier = parse_verifier(&request["signature"]["verifier"])?;
    verify_digest(
        &verifier.spki,
        verifier.digest_algorithm,
        &digest,
        &signature,
    )?;
    Ok(json!({
        "apiVersion": "0.0.2",
        "kind": "hashedrekord",
        "spec": { "hashedRekordV002": {
            "data": {
                "algorithm": hash_algorithm(verifier.digest_algorithm),
                "digest": b64(&digest),
            },
            "signature": { "content": b64(&signature), "verifier": verifier.json },
        } },
    }))
}

/// The `dsse`/`0.0.2` entry of a `dsseRequestV002`.
fn dsse_entry(request: &Value) -> Result<Value, String> {
    let envelope = &request["envelope"];
    let payload_type = envelope["payloadType"]
        .as_str()
        .ok_or("envelope.payloadType is required")?;
    let payload = decode_b64(envelope["payload"].as_str(), "envelope.payload")?;
    let signatures: Vec<Vec<u8>> = envelope["signatures"]
        .as_array()
        .filter(|s| !s.is_empty())
        .ok_or("the envelope has no signatures")?
        .iter()
        .map(|s| decode_b64(s["sig"].as_str(), "envelope.signatures[].sig"))
        .collect::<Result<_, _>>()?;
    let verifiers: Vec<V2Verifier> = request["verifiers"]
        .as_array()
        .filter(|v| !v.is_empty())
        .ok_or("verifiers must be a non-empty array")?
        .iter()
        .map(parse_verifier)
        .collect::<Result<_, _>>()?;

    let pae = sigstore_types::pae(payload_type, &payload);
    let mut logged = Vec::new();
    for signature in &signatures {
        let verifier = verifiers
            .iter()
            .find(|v| verify_message(&v.spki, &pae, signature).is_ok())
            .ok_or("an envelope signature verifies with none of the verifiers")?;
        logged.push(json!({ "content": b64(signature), "verifier": verifier.json }));
    }
    if let Some(unused) = verifiers.iter().find(|v| {
        !signatures
            .iter()
            .any(|s| verify_message(&v.spki, &pae, s).is_ok())
    }) {
        return Err(format!(
            "the verifier {} verifies none of the envelope's signatures",
            unused.json
        ));
    }
    // The logged order must not depend on the request's.
    logged.sort_by(|a, b| a["content"].as_str().cmp(&b["content"].as_str()));
    Ok(json!({
        "apiVersion": "0.0.2",
        "kind": "dsse",
        "spec": { "dsseV002": {
            "payloadHash": { "algorithm": "SHA2_256", "digest": b64(&sha256(&payload)) },
            "signatures": logged,
        } },
    }))
}

/// `POST /api/v2/log/entries`.
fn create_entry(shared: &Shared, request: &Request) -> Response {
    let proposed: Value = match serde_json::from_slice(&request.body) {
        Ok(v) => v,
        Err(e) => return error(400, &format!("invalid JSON body: {e}")),
    };
    let entry = if let Some(r) = proposed.get("hashedRekordRequestV002") {
        hashedrekord_entry(r)
    } else if let Some(r) = proposed.get("dsseRequestV002") {
        dsse_entry(r)
    } else {
        Err("the request is neither a hashedRekordRequestV002 nor a dsseRequestV002".into())
    };
    let entry = match entry {
        Ok(entry) => entry,
        Err(e) => return error(400, &format!("invalid entry: {e}")),
    };
    let kind = entry["kind"].as_str().expect("set above").to_string();
    let canonical = serde_json_canonicalizer::to_vec(&entry).expect("JCS of a JSON value");

    let mut state = shared.state();
    let logged = state.sigstore.append_to_v2_log(&canonical);
    // Protobuf JSON: 64-bit integers as strings, bytes as base64, zero
    // values (integratedTime) left out.
    let response = json!({
        "logIndex": logged.log_index.to_string(),
        "logId": { "keyId": b64(&state.sigstore.v2_log_id()) },
        "kindVersion": { "kind": kind, "version": "0.0.2" },
        "inclusionProof": {
            "logIndex": logged.log_index.to_string(),
            "rootHash": b64(&logged.root_hash),
            "treeSize": logged.tree_size.to_string(),
            "hashes": logged.hashes.iter().map(|h| b64(h)).collect::<Vec<_>>(),
            "checkpoint": { "envelope": logged.checkpoint },
        },
        "canonicalizedBody": b64(&canonical),
    });
    Response::json(201, &response)
}
