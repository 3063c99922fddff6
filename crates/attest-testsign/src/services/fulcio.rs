//! Fulcio v2: `signingCert`, `configuration`, `trustBundle`.
//!
//! Errors are grpc-gateway JSON (`{"code": <gRPC code>, "message": ...}`)
//! with the HTTP status Fulcio maps the code to: 401 for a bad token, 400
//! for a bad request or proof of possession, 503 when unavailable.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use der::{Decode, Encode};
use jiff::Timestamp;
use serde_json::{json, Map, Value};
use x509_cert::request::CertReq;

use super::crypto::{self, verify_message};
use super::http::{Request, Response};
use super::jwt::audience_contains;
use super::{bearer, method_not_allowed, not_found, Fault, Shared, CERTIFICATE_LIFETIME};
use super::{GITHUB_SERVER_URL, SIGSTORE_AUDIENCE};
use crate::{LeafCertificateSpec, LeafIdentity};

/// gRPC codes Fulcio answers with.
const INVALID_ARGUMENT: u16 = 3;
const UNAVAILABLE: u16 = 14;
const UNAUTHENTICATED: u16 = 16;

fn error(status: u16, code: u16, message: &str) -> Response {
    Response::json(
        status,
        &json!({ "code": code, "message": message, "details": [] }),
    )
}

pub(super) fn route(shared: &Shared, request: &Request, rest: &str) -> Response {
    if shared.fault(Fault::FulcioUnavailable) {
        return error(503, UNAVAILABLE, "Fulcio is unavailable (injected fault)");
    }
    let get = request.method == "GET" || request.method == "HEAD";
    match rest {
        "/api/v2/signingCert" if request.method == "POST" => signing_cert(shared, request),
        "/api/v2/configuration" if get => Response::json(
            200,
            &json!({
                "issuers": [{
                    "issuerUrl": shared.issuer,
                    "audience": SIGSTORE_AUDIENCE,
                    "challengeClaim": "sub",
                    "issuerType": "github-workflow",
                }],
            }),
        ),
        "/api/v2/trustBundle" if get => {
            let state = shared.state();
            let chain: Vec<String> = [
                state.sigstore.ca_intermediate_der(),
                state.sigstore.ca_root_der(),
            ]
            .iter()
            .map(|der| crypto::pem("CERTIFICATE", der))
            .collect();
            Response::json(200, &json!({ "chains": [{ "certificates": chain }] }))
        }
        "/api/v2/signingCert" | "/api/v2/configuration" | "/api/v2/trustBundle" => {
            method_not_allowed(request)
        }
        _ => not_found(request),
    }
}

/// A claim as a string (GitHub sends strings; numbers are accepted).
fn claim(claims: &Map<String, Value>, name: &str) -> String {
    match claims.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// Check a token as Fulcio does: the issuer's signature, `iss`, `exp`,
/// `nbf` and the `sigstore` audience.
fn authenticate(shared: &Shared, token: &str) -> Result<Map<String, Value>, String> {
    let claims = shared.issuer_key.verify(token)?;
    let iss = claim(&claims, "iss");
    if iss != shared.issuer {
        return Err(format!("unknown issuer {iss:?}"));
    }
    let now = Timestamp::now().as_second();
    match claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp > now => {}
        Some(exp) => return Err(format!("the token expired at {exp} (now {now})")),
        None => return Err("the token has no exp claim".into()),
    }
    if let Some(nbf) = claims.get("nbf").and_then(Value::as_i64) {
        // go-oidc allows clock skew on nbf only.
        if nbf > now + 300 {
            return Err(format!("the token is not valid before {nbf}"));
        }
    }
    if !audience_contains(&claims, SIGSTORE_AUDIENCE) {
        return Err(format!(
            "expected audience {SIGSTORE_AUDIENCE:?}, got {}",
            claims.get("aud").unwrap_or(&Value::Null)
        ));
    }
    Ok(claims)
}

/// The principal a token authenticates: the SAN, the Fulcio extensions and
/// the string the proof of possession signs.
struct Principal {
    identity: LeafIdentity,
    extensions: Vec<(u32, String)>,
    challenge: String,
}

/// Map claims to a principal as Fulcio does: a GitHub workflow when the
/// token has `job_workflow_ref`, else an email identity (verified email),
/// else the subject as a URI identity.
fn principal(issuer: &str, claims: &Map<String, Value>) -> Result<Principal, String> {
    let c = |name: &str| claim(claims, name);
    let url = |path: String| {
        if path.is_empty() {
            String::new()
        } else {
            format!("{GITHUB_SERVER_URL}/{path}")
        }
    };
    let job_workflow_ref = c("job_workflow_ref");
    if !job_workflow_ref.is_empty() {
        let repository = c("repository");
        let run_invocation = if repository.is_empty() || c("run_id").is_empty() {
            String::new()
        } else {
            format!(
                "{GITHUB_SERVER_URL}/{repository}/actions/runs/{}/attempts/{}",
                c("run_id"),
                c("run_attempt")
            )
        };
        let san = url(job_workflow_ref.clone());
        let extensions = vec![
            // Deprecated extensions, raw strings, as Fulcio still writes them.
            (1, issuer.to_string()),
            (2, c("event_name")),
            (3, c("sha")),
            (4, c("workflow")),
            (5, repository.clone()),
            (6, c("ref")),
            // DER UTF8String extensions.
            (8, issuer.to_string()),
            (9, san.clone()),
            (10, c("job_workflow_sha")),
            (11, c("runner_environment")),
            (12, url(repository)),
            (13, c("sha")),
            (14, c("ref")),
            (15, c("repository_id")),
            (16, url(c("repository_owner"))),
            (17, c("repository_owner_id")),
            (18, url(c("workflow_ref"))),
            (19, c("workflow_sha")),
            (20, c("event_name")),
            (21, run_invocation),
            (22, c("repository_visibility")),
        ];
        return Ok(Principal {
            identity: LeafIdentity::Uri(san),
            extensions,
            challenge: c("sub"),
        });
    }
    let issuer_extensions = vec![(1, issuer.to_string()), (8, issuer.to_string())];
    let email = c("email");
    if !email.is_empty() {
        if claims.get("email_verified") != Some(&Value::Bool(true)) {
            return Err("the email in the token is not verified".into());
        }
        return Ok(Principal {
            identity: LeafIdentity::Email(email.clone()),
            extensions: issuer_extensions,
            challenge: email,
        });
    }
    let sub = c("sub");
    if sub.is_empty() {
        return Err("the token has neither job_workflow_ref, email nor sub".into());
    }
    Ok(Principal {
        identity: LeafIdentity::Uri(sub.clone()),
        extensions: issuer_extensions,
        challenge: sub,
    })
}

/// The public key a request certifies and whether its proof of possession
/// holds: `publicKeyRequest` (PEM key + signature over the challenge) or
/// `certificateSigningRequest` (base64 of a PEM CSR, self-signed).
fn requested_key(body: &Value, challenge: &str) -> Result<Vec<u8>, Response> {
    let bad = |message: String| error(400, INVALID_ARGUMENT, &message);
    if let Some(csr_b64) = body
        .get("certificateSigningRequest")
        .and_then(Value::as_str)
    {
        let pem = B64
            .decode(csr_b64)
            .map_err(|e| bad(format!("certificateSigningRequest is not base64: {e}")))?;
        let text = String::from_utf8(pem)
            .map_err(|_| bad("certificateSigningRequest is not PEM".into()))?;
        let (label, der) = crypto::pem_blocks(&text).map_err(bad)?.remove(0);
        if label != "CERTIFICATE REQUEST" {
            return Err(bad(format!("unexpected PEM type {label:?} for a CSR")));
        }
        let csr = CertReq::from_der(&der).map_err(|e| bad(format!("invalid CSR: {e}")))?;
        let spki = csr
            .info
            .public_key
            .to_der()
            .map_err(|e| bad(format!("invalid CSR key: {e}")))?;
        let info = csr
            .info
            .to_der()
            .map_err(|e| bad(format!("invalid CSR: {e}")))?;
        verify_message(&spki, &info, csr.signature.raw_bytes()).map_err(|_| {
            error(
                400,
                INVALID_ARGUMENT,
                "The signature supplied in the request could not be verified",
            )
        })?;
        return Ok(spki);
    }
    let Some(request) = body.get("publicKeyRequest") else {
        return Err(bad(
            "the request has neither publicKeyRequest nor certificateSigningRequest".into(),
        ));
    };
    let content = request["publicKey"]["content"]
        .as_str()
        .ok_or_else(|| bad("publicKeyRequest.publicKey.content is missing".into()))?;
    let spki = crypto::Verifier::from_pem(content.as_bytes())
        .and_then(|v| match v {
            crypto::Verifier::PublicKey(der) => Ok(der),
            crypto::Verifier::Certificate(_) => Err("expected a PUBLIC KEY PEM".into()),
        })
        .map_err(|e| bad(format!("invalid public key: {e}")))?;
    let proof = request["proofOfPossession"]
        .as_str()
        .ok_or_else(|| bad("publicKeyRequest.proofOfPossession is missing".into()))?;
    let proof = B64
        .decode(proof)
        .map_err(|e| bad(format!("proofOfPossession is not base64: {e}")))?;
    verify_message(&spki, challenge.as_bytes(), &proof).map_err(|_| {
        error(
            400,
            INVALID_ARGUMENT,
            "The signature supplied in the request could not be verified",
        )
    })?;
    Ok(spki)
}

/// `POST /api/v2/signingCert`.
fn signing_cert(shared: &Shared, request: &Request) -> Response {
    let body: Value = match serde_json::from_slice(&request.body) {
        Ok(v) => v,
        Err(e) => return error(400, INVALID_ARGUMENT, &format!("invalid JSON body: {e}")),
    };
    let token = body["credentials"]["oidcIdentityToken"]
        .as_str()
        .or_else(|| bearer(request));
    let Some(token) = token else {
        return error(
            401,
            UNAUTHENTICATED,
            "There was an error processing the identity token: no token",
        );
    };
    let claims = match authenticate(shared, token) {
        Ok(claims) => claims,
        Err(e) => {
            return error(
                401,
                UNAUTHENTICATED,
                &format!("There was an error processing the identity token: {e}"),
            )
        }
    };
    let principal = match principal(&shared.issuer, &claims) {
        Ok(p) => p,
        Err(e) => {
            return error(
                400,
                INVALID_ARGUMENT,
                &format!("There was an error processing the identity token: {e}"),
            )
        }
    };
    let spki = match requested_key(&body, &principal.challenge) {
        Ok(spki) => spki,
        Err(response) => return response,
    };
    let now = Timestamp::now();
    let spec = LeafCertificateSpec {
        identity: principal.identity,
        extensions: principal.extensions,
        not_before: now,
        not_after: now + CERTIFICATE_LIFETIME,
    };
    let state = shared.state();
    let leaf = match state.sigstore.issue_certificate(&spki, &spec) {
        Ok(der) => der,
        Err(e) => return error(400, INVALID_ARGUMENT, &format!("cannot issue: {e}")),
    };
    let chain: Vec<String> = [
        &leaf[..],
        state.sigstore.ca_intermediate_der(),
        state.sigstore.ca_root_der(),
    ]
    .iter()
    .map(|der| crypto::pem("CERTIFICATE", der))
    .collect();
    Response::json(
        201,
        &json!({ "signedCertificateEmbeddedSct": { "chain": { "certificates": chain } } }),
    )
}
