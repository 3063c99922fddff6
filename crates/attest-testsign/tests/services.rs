//! The loopback Sigstore against the real sigstore-rust clients (and, when
//! installed, sigstore-python and gh).

use std::path::Path;
use std::process::Command;

use attest_testsign::services::{default_actions_claims, Fault, LoopbackSigstore};
use attest_testsign::{sha256_hex, statement, SLSA_PROVENANCE_V1};
use serde_json::{json, Value};
use sigstore_sign::crypto::KeyPair;
use sigstore_sign::oidc::IdentityToken;
use sigstore_sign::reqwest;
use sigstore_sign::trust_root::SigningConfig;
use sigstore_sign::types::Bundle;
use sigstore_sign::{SigningContext, SigningServices};
use sigstore_verify::trust_root::TrustedRoot;
use sigstore_verify::{VerificationPolicy, VerificationResult, Verifier};

/// The SAN of certificates issued for [`default_actions_claims`].
const IDENTITY: &str =
    "https://github.com/octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main";

const ARTIFACT: &[u8] = b"octo-repo 1.0.0 release tarball";

fn start() -> LoopbackSigstore {
    LoopbackSigstore::start().expect("the loopback Sigstore starts")
}

fn context(sigstore: &LoopbackSigstore) -> SigningContext {
    SigningContext::new(
        SigningServices::new(sigstore.fulcio_url(), sigstore.rekor_url())
            .with_tsa_url(sigstore.tsa_url()),
    )
}

fn token(sigstore: &LoopbackSigstore) -> IdentityToken {
    IdentityToken::from_jwt(&sigstore.mint_token(&default_actions_claims(), "sigstore"))
        .expect("the minted token parses")
}

fn provenance() -> Vec<u8> {
    statement(
        &[("octo-repo-1.0.0.tar.gz", "sha256", &sha256_hex(ARTIFACT))],
        SLSA_PROVENANCE_V1,
        json!({ "buildDefinition": { "buildType": "https://example.com/test" } }),
    )
}

fn verify(
    sigstore: &LoopbackSigstore,
    artifact: &[u8],
    bundle: &Bundle,
) -> sigstore_verify::Result<VerificationResult> {
    let root = TrustedRoot::from_json(&sigstore.trusted_root_json()).expect("the root parses");
    let policy = VerificationPolicy::new(IDENTITY, sigstore.oidc_issuer());
    Verifier::new(&root)
        .expect("the root is usable")
        .verify(artifact, bundle, &policy)
}

/// Round trip through JSON, as a bundle file would.
fn reparse(bundle: &Bundle) -> Bundle {
    Bundle::from_json(&bundle.to_json().expect("serializes")).expect("parses")
}

fn assert_fully_verified(result: &VerificationResult) {
    assert!(result.certificate_verified(), "{result:?}");
    assert!(result.sct_verified(), "{result:?}");
    assert!(result.tlog_verified(), "{result:?}");
    assert_eq!(result.verified_timestamps().len(), 2, "{result:?}");
}

#[tokio::test]
async fn dsse_bundle_from_the_real_clients_verifies() {
    let sigstore = start();
    let size_before = sigstore.log_size();
    let bundle = context(&sigstore)
        .signer(token(&sigstore))
        .sign_raw_statement(&provenance())
        .await
        .expect("sigstore-sign signs through the loopback services");
    let bundle = reparse(&bundle);
    let result = verify(&sigstore, ARTIFACT, &bundle).expect("the DSSE bundle verifies");
    assert_fully_verified(&result);
    assert_eq!(result.issuer(), Some(sigstore.oidc_issuer().as_str()));
    assert_eq!(sigstore.log_size(), size_before + 1);

    // Another artifact is not covered by the statement.
    assert!(verify(&sigstore, b"something else", &bundle).is_err());

    let calls: Vec<(String, String, bool, u16)> = sigstore
        .requests()
        .into_iter()
        .map(|r| (r.method, r.path, r.authorization, r.status))
        .collect();
    assert_eq!(
        calls,
        [
            ("POST", "/fulcio/api/v2/signingCert", false, 201),
            ("POST", "/rekor/api/v1/log/entries", false, 201),
            ("POST", "/tsa/api/v1/timestamp", false, 200),
        ]
        .map(|(m, p, a, s)| (m.to_string(), p.to_string(), a, s))
    );
}

#[tokio::test]
async fn message_signature_bundle_verifies() {
    let sigstore = start();
    let bundle = context(&sigstore)
        .signer(token(&sigstore))
        .sign(ARTIFACT)
        .await
        .expect("sigstore-sign signs a blob");
    let bundle = reparse(&bundle);
    let result = verify(&sigstore, ARTIFACT, &bundle).expect("the message signature verifies");
    assert_fully_verified(&result);
    assert!(verify(&sigstore, b"tampered", &bundle).is_err());
}

#[tokio::test]
async fn certificates_carry_the_github_actions_extensions() {
    let sigstore = start();
    let bundle = context(&sigstore)
        .signer(token(&sigstore))
        .sign(ARTIFACT)
        .await
        .expect("signs");
    let result = verify(&sigstore, ARTIFACT, &bundle).expect("verifies");
    let info = format!("{:?}", result.certificate().expect("certificate info"));
    let issuer = sigstore.oidc_issuer();
    let repo = "https://github.com/octo-org/octo-repo";
    for expected in [
        IDENTITY,
        issuer.as_str(),
        "github-hosted",
        repo,
        "https://github.com/octo-org\"",
        "123456789",
        "987654",
        "refs/heads/main",
        attest_testsign::DEFAULT_COMMIT,
        "push",
        "https://github.com/octo-org/octo-repo/actions/runs/4242/attempts/1",
        "public",
    ] {
        assert!(info.contains(expected), "{expected} not in {info}");
    }
}

#[tokio::test]
async fn signing_config_selects_the_loopback_services() {
    let sigstore = start();
    let config = SigningConfig::from_json(&sigstore.signing_config_json()).expect("parses");
    let services = SigningServices::from_signing_config(&config).expect("usable");
    assert_eq!(services.fulcio_url(), sigstore.fulcio_url());
    assert_eq!(services.rekor_url(), sigstore.rekor_url());
    assert_eq!(services.tsa_url(), Some(sigstore.tsa_url().as_str()));
    assert_eq!(services.oidc_url(), Some(sigstore.oidc_issuer().as_str()));
    let bundle = SigningContext::new(services)
        .signer(token(&sigstore))
        .sign_raw_statement(&provenance())
        .await
        .expect("signs");
    verify(&sigstore, ARTIFACT, &bundle).expect("verifies");

    let trust: Value = serde_json::from_str(&sigstore.client_trust_config_json()).expect("JSON");
    assert_eq!(
        trust["mediaType"],
        "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"
    );
    assert_eq!(
        trust["trustedRoot"]["tlogs"][0]["baseUrl"],
        sigstore.rekor_url()
    );
}

#[tokio::test]
async fn oidc_discovery_and_jwks() {
    let sigstore = start();
    let http = reqwest::Client::new();
    let discovery: Value = http
        .get(format!(
            "{}/.well-known/openid-configuration",
            sigstore.oidc_issuer()
        ))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    assert_eq!(discovery["issuer"], sigstore.oidc_issuer());
    let jwks: Value = http
        .get(discovery["jwks_uri"].as_str().expect("jwks_uri"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    let key = &jwks["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str()),
        (Some("EC"), Some("P-256"))
    );
    let jwt = sigstore.mint_token(&default_actions_claims(), "sigstore");
    let header: Value =
        serde_json::from_slice(&base64_url_decode(jwt.split('.').next().expect("header")))
            .expect("JSON header");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], key["kid"]);
}

fn base64_url_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64url")
}

#[tokio::test]
async fn actions_token_endpoint_mints_tokens_for_the_configured_claims() {
    let sigstore = start();
    let mut claims = default_actions_claims();
    claims["run_id"] = json!("777");
    sigstore.set_actions_claims(claims);
    let http = reqwest::Client::new();
    // As actions/toolkit and ambient-id call it: the URL already has a query.
    let response = http
        .get(sigstore.actions_token_url())
        .query(&[("audience", "sigstore")])
        .bearer_auth(sigstore.actions_request_token())
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 200);
    let value: Value = response.json().await.expect("JSON");
    let token = IdentityToken::from_jwt(value["value"].as_str().expect("value")).expect("JWT");
    assert_eq!(token.issuer(), sigstore.oidc_issuer());
    assert!(token.claims().aud.contains("sigstore"));
    assert_eq!(
        token.subject(),
        "repo:octo-org/octo-repo:ref:refs/heads/main"
    );

    let bundle = context(&sigstore)
        .signer(token)
        .sign(ARTIFACT)
        .await
        .expect("the Actions token is accepted by Fulcio");
    let result = verify(&sigstore, ARTIFACT, &bundle).expect("verifies");
    let info = format!("{:?}", result.certificate().expect("certificate info"));
    assert!(info.contains("/actions/runs/777/attempts/1"), "{info}");

    let last = sigstore
        .requests()
        .into_iter()
        .find(|r| r.path == "/actions/token");
    let last = last.expect("recorded");
    assert!(last.authorization);
    assert_eq!(
        last.query.as_deref(),
        Some("api-version=2.0&audience=sigstore")
    );
}

#[tokio::test]
async fn actions_token_endpoint_rejects_a_wrong_request_token() {
    let sigstore = start();
    let http = reqwest::Client::new();
    for auth in [Some("bearer wrong"), Some("Basic Zm9vOmJhcg=="), None] {
        let mut request = http
            .get(sigstore.actions_token_url())
            .query(&[("audience", "sigstore")]);
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        let response = request.send().await.expect("GET");
        assert_eq!(response.status(), 401, "{auth:?}");
    }
    let recorded: Vec<bool> = sigstore
        .requests()
        .iter()
        .map(|r| r.authorization)
        .collect();
    assert_eq!(recorded, [true, true, false]);
}

#[tokio::test]
async fn ambient_detection_fetches_the_actions_token() {
    let sigstore = start();
    // The only test in this binary that reads these variables.
    std::env::set_var("GITHUB_ACTIONS", "true");
    std::env::set_var("ACTIONS_ID_TOKEN_REQUEST_URL", sigstore.actions_token_url());
    std::env::set_var(
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        sigstore.actions_request_token(),
    );
    let token = IdentityToken::detect_ambient()
        .await
        .expect("detection succeeds")
        .expect("a GitHub Actions token");
    assert!(token.claims().aud.contains("sigstore"));
    context(&sigstore)
        .signer(token)
        .sign(ARTIFACT)
        .await
        .expect("signs with the ambient token");
}

fn fulcio_status(err: &sigstore_sign::Error) -> Option<u16> {
    match err {
        sigstore_sign::Error::Fulcio(sigstore_sign::fulcio::Error::Status { status, .. }) => {
            Some(*status)
        }
        _ => None,
    }
}

#[tokio::test]
async fn fulcio_rejects_a_token_signed_by_another_key() {
    let sigstore = start();
    let forged = sigstore.mint_forged_token(&default_actions_claims(), "sigstore");
    let err = context(&sigstore)
        .signer(IdentityToken::from_jwt(&forged).expect("parses"))
        .sign(ARTIFACT)
        .await
        .expect_err("Fulcio rejects a forged token");
    assert_eq!(fulcio_status(&err), Some(401), "{err}");
}

#[tokio::test]
async fn fulcio_rejects_expired_tokens_and_wrong_audiences() {
    let sigstore = start();
    let now = jiff::Timestamp::now().as_second();
    let mut expired = default_actions_claims();
    expired["iat"] = json!(now - 600);
    expired["nbf"] = json!(now - 600);
    expired["exp"] = json!(now - 300);
    for (claims, audience) in [
        (expired, "sigstore"),
        (default_actions_claims(), "https://github.com/octo-org"),
    ] {
        let jwt = sigstore.mint_token(&claims, audience);
        let err = context(&sigstore)
            .signer(IdentityToken::from_jwt(&jwt).expect("parses"))
            .sign(ARTIFACT)
            .await
            .expect_err("Fulcio rejects the token");
        assert_eq!(fulcio_status(&err), Some(401), "{err}");
    }
}

#[tokio::test]
async fn fulcio_rejects_a_wrong_proof_of_possession() {
    let sigstore = start();
    let jwt = sigstore.mint_token(&default_actions_claims(), "sigstore");
    let key = KeyPair::generate_ecdsa_p256().expect("a key");
    let pem = key.public_key_der().expect("SPKI").to_pem();
    let http = reqwest::Client::new();
    for (challenge, expected) in [
        ("repo:octo-org/octo-repo:ref:refs/heads/main", 201),
        ("someone else", 400),
    ] {
        let proof = key.sign(challenge.as_bytes()).expect("signs");
        let response = http
            .post(format!("{}/api/v2/signingCert", sigstore.fulcio_url()))
            .json(&json!({
                "credentials": { "oidcIdentityToken": jwt },
                "publicKeyRequest": {
                    "publicKey": { "algorithm": "", "content": pem },
                    "proofOfPossession": proof,
                },
            }))
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), expected, "{challenge}");
        let body: Value = response.json().await.expect("JSON");
        if expected == 400 {
            assert_eq!(body["code"], 3, "{body}");
        } else {
            let chain = &body["signedCertificateEmbeddedSct"]["chain"]["certificates"];
            assert_eq!(chain.as_array().map(Vec::len), Some(3), "{body}");
        }
    }
}

/// A Fulcio certificate (PEM) and its key, through the Fulcio client.
async fn certificate(sigstore: &LoopbackSigstore) -> (String, KeyPair) {
    let key = KeyPair::generate_ecdsa_p256().expect("a key");
    let fulcio = sigstore_sign::fulcio::FulcioClient::new(sigstore.fulcio_url()).expect("client");
    let cert = fulcio
        .create_signing_certificate(&token(sigstore), &key)
        .await
        .expect("a certificate");
    (cert.leaf_certificate().to_pem(), key)
}

fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    sigstore_sign::types::pae(payload_type, payload)
}

fn b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn b64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}

#[tokio::test]
async fn rekor_validates_dsse_entries_and_answers_duplicates_with_409() {
    let sigstore = start();
    let (cert_pem, key) = certificate(&sigstore).await;
    let payload = provenance();
    let payload_type = "application/vnd.in-toto+json";
    let entry = |signature: &[u8]| {
        let envelope = json!({
            "payloadType": payload_type,
            "payload": b64(&payload),
            "signatures": [{ "sig": b64(signature), "keyid": "" }],
        });
        json!({
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": { "proposedContent": {
                "envelope": envelope.to_string(),
                "verifiers": [b64(cert_pem.as_bytes())],
            } },
        })
    };
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/log/entries", sigstore.rekor_url());
    let size = sigstore.log_size();

    // Signed over another payload: Rekor refuses it.
    let bad = key.sign(&pae(payload_type, b"{}")).expect("signs");
    let response = http
        .post(&url)
        .json(&entry(bad.as_bytes()))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 400);
    assert_eq!(sigstore.log_size(), size);

    let good = key.sign(&pae(payload_type, &payload)).expect("signs");
    let response = http
        .post(&url)
        .json(&entry(good.as_bytes()))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 201);
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .expect("a Location");
    let created: Value = response.json().await.expect("JSON");
    let (entry_id, logged) = created
        .as_object()
        .and_then(|m| m.iter().next())
        .expect("one entry");
    assert_eq!(entry_id.len(), 80);
    assert_eq!(logged["logIndex"], size);
    let body: Value = serde_json::from_slice(&b64_decode(logged["body"].as_str().expect("body")))
        .expect("a JSON body");
    assert_eq!(body["kind"], "dsse");
    assert_eq!(body["spec"]["payloadHash"]["value"], sha256_hex(&payload));
    assert_eq!(
        body["spec"]["signatures"][0]["signature"],
        b64(good.as_bytes())
    );
    // sigstore-rust writes PEM with CRLF line ends; Rekor logs its own
    // canonical PEM (LF, 64 columns), which is what sigstore-python
    // compares against.
    assert!(cert_pem.contains("\r\n"));
    assert_eq!(
        body["spec"]["signatures"][0]["verifier"],
        b64(cert_pem.replace("\r\n", "\n").as_bytes())
    );

    // The same entry again: 409 pointing at the existing one.
    let response = http
        .post(&url)
        .json(&entry(good.as_bytes()))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 409);
    assert_eq!(
        response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok()),
        Some(location.as_str())
    );
    assert_eq!(sigstore.log_size(), size + 1);

    // Reading it back, by UUID and by index, with a proof in the current tree.
    for url in [
        location.clone(),
        format!(
            "{}/api/v1/log/entries?logIndex={size}",
            sigstore.rekor_url()
        ),
    ] {
        let read: Value = http
            .get(&url)
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON");
        assert_eq!(read[entry_id]["body"], logged["body"], "{url}");
        assert_eq!(
            read[entry_id]["verification"]["signedEntryTimestamp"],
            logged["verification"]["signedEntryTimestamp"]
        );
    }
    let client = sigstore_sign::rekor::RekorClient::new(sigstore.rekor_url()).expect("client");
    let by_index = client
        .get_entry_by_index(sigstore_sign::types::LogIndex::new(size).expect("an index"))
        .await
        .expect("the Rekor client reads the entry");
    assert_eq!(by_index.uuid.to_string(), *entry_id);
}

#[tokio::test]
async fn rekor_validates_hashedrekord_signatures() {
    let sigstore = start();
    let (cert_pem, key) = certificate(&sigstore).await;
    let digest = sigstore_sign::crypto::sha256(ARTIFACT);
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/log/entries", sigstore.rekor_url());
    for (signed, expected) in [(&b"other"[..], 400), (ARTIFACT, 201)] {
        let signature = key.sign(signed).expect("signs");
        let response = http
            .post(&url)
            .json(&json!({
                "apiVersion": "0.0.1",
                "kind": "hashedrekord",
                "spec": {
                    "data": { "hash": { "algorithm": "sha256", "value": digest.to_hex() } },
                    "signature": {
                        "content": b64(signature.as_bytes()),
                        "publicKey": { "content": b64(cert_pem.as_bytes()) },
                    },
                },
            }))
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), expected);
    }
}

#[tokio::test]
async fn rekor_entry_for_another_artifact_fails_verification() {
    let sigstore = start();
    sigstore.set_fault(Fault::RekorWrongArtifact);
    let signer = context(&sigstore).signer(token(&sigstore));
    let dsse = signer
        .sign_raw_statement(&provenance())
        .await
        .expect("the client accepts the entry (it does not check the body)");
    let err = verify(&sigstore, ARTIFACT, &dsse).expect_err("the DSSE bundle is rejected");
    assert!(err.to_string().contains("hash"), "{err}");
    let blob = signer.sign(ARTIFACT).await.expect("signs");
    verify(&sigstore, ARTIFACT, &blob).expect_err("the message signature bundle is rejected");

    sigstore.clear_faults();
    let dsse = signer
        .sign_raw_statement(&provenance())
        .await
        .expect("signs");
    verify(&sigstore, ARTIFACT, &dsse).expect("verifies once the fault is cleared");
}

#[tokio::test]
async fn unavailable_services_fail_signing() {
    let sigstore = start();
    let signer = context(&sigstore).signer(token(&sigstore));

    sigstore.set_fault(Fault::FulcioUnavailable);
    let err = signer.sign(ARTIFACT).await.expect_err("no certificate");
    assert_eq!(fulcio_status(&err), Some(503), "{err}");
    sigstore.clear_faults();

    sigstore.set_fault(Fault::TsaError);
    let err = signer.sign(ARTIFACT).await.expect_err("no timestamp");
    assert!(matches!(err, sigstore_sign::Error::Tsa(_)), "{err}");
    assert!(err.to_string().contains("500"), "{err}");
    sigstore.clear_faults();

    sigstore.set_fault(Fault::RekorUnavailable);
    let err = signer.sign(ARTIFACT).await.expect_err("no log entry");
    assert!(matches!(err, sigstore_sign::Error::Rekor(_)), "{err}");
    sigstore.clear_faults();

    signer
        .sign(ARTIFACT)
        .await
        .expect("signs once the faults are cleared");
}

#[tokio::test]
async fn organisation_is_configurable() {
    let sigstore =
        LoopbackSigstore::start_with(attest_testsign::TestSigstoreConfig::custom("Example Corp"))
            .expect("starts");
    let root: Value = serde_json::from_str(&sigstore.trusted_root_json()).expect("JSON");
    assert_eq!(
        root["certificateAuthorities"][0]["subject"]["organization"],
        "Example Corp"
    );
    let bundle = context(&sigstore)
        .signer(token(&sigstore))
        .sign_raw_statement(&provenance())
        .await
        .expect("signs");
    verify(&sigstore, ARTIFACT, &bundle).expect("verifies");
}

/// Sign a DSSE bundle through the services and write the bundle, the
/// artifact, the trusted root and the client trust config to `dir`.
async fn write_fixtures(sigstore: &LoopbackSigstore, dir: &Path) {
    let bundle = context(sigstore)
        .signer(token(sigstore))
        .sign_raw_statement(&provenance())
        .await
        .expect("signs");
    std::fs::write(dir.join("bundle.json"), bundle.to_json().expect("JSON")).expect("write");
    std::fs::write(dir.join("octo-repo-1.0.0.tar.gz"), ARTIFACT).expect("write");
    std::fs::write(
        dir.join("trusted_root.jsonl"),
        sigstore.trusted_root_json() + "\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("trust_config.json"),
        sigstore.client_trust_config_json(),
    )
    .expect("write");
}

/// Whether `program` runs (`PROGRAM --version` succeeds). When it does not:
/// under `CI=true` the test fails, since a CI run must not pass by skipping;
/// elsewhere the skip is printed and the test returns early.
fn require_tool(program: &str, install: &str) -> bool {
    let runs = Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !runs {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{program} is not installed, and CI=true: {install}"
        );
        eprintln!("SKIPPED: {program} is not installed ({install}); under CI=true this fails");
    }
    runs
}

fn show(output: &std::process::Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn sigstore_python_verifies_a_dsse_bundle() {
    if !require_tool("sigstore", "pip install sigstore") {
        return;
    }
    let sigstore = start();
    let dir = tempfile::tempdir().expect("a temp dir");
    write_fixtures(&sigstore, dir.path()).await;
    let output = Command::new("sigstore")
        .arg("--trust-config")
        .arg(dir.path().join("trust_config.json"))
        .args(["verify", "identity", "--bundle"])
        .arg(dir.path().join("bundle.json"))
        .args(["--cert-identity", IDENTITY, "--cert-oidc-issuer"])
        .arg(sigstore.oidc_issuer())
        .arg(dir.path().join("octo-repo-1.0.0.tar.gz"))
        .output()
        .expect("runs sigstore");
    assert!(output.status.success(), "{}", show(&output));
}

#[tokio::test]
async fn sigstore_python_signs_through_the_services() {
    if !require_tool("sigstore", "pip install sigstore") {
        return;
    }
    let sigstore = start();
    let dir = tempfile::tempdir().expect("a temp dir");
    let trust_config = dir.path().join("trust_config.json");
    std::fs::write(&trust_config, sigstore.client_trust_config_json()).expect("write");
    let artifact = dir.path().join("octo-repo-1.0.0.tar.gz");
    std::fs::write(&artifact, ARTIFACT).expect("write");
    let predicate = dir.path().join("predicate.json");
    std::fs::write(
        &predicate,
        json!({
            "buildDefinition": {
                "buildType": "https://example.com/test",
                "externalParameters": {},
                "internalParameters": {},
                "resolvedDependencies": [],
            },
            "runDetails": { "builder": { "id": "https://example.com/builder" }, "metadata": {} },
        })
        .to_string(),
    )
    .expect("write");
    let jwt = sigstore.mint_token(&default_actions_claims(), "sigstore");
    let blob_bundle = dir.path().join("blob.sigstore.json");
    let dsse_bundle = dir.path().join("dsse.sigstore.json");
    let sign = |args: &[&std::ffi::OsStr]| {
        let output = Command::new("sigstore")
            .arg("--trust-config")
            .arg(&trust_config)
            .args(args)
            .output()
            .expect("runs sigstore");
        assert!(output.status.success(), "{}", show(&output));
    };
    sign(&[
        "sign".as_ref(),
        "--identity-token".as_ref(),
        jwt.as_ref(),
        "--bundle".as_ref(),
        blob_bundle.as_os_str(),
        artifact.as_os_str(),
    ]);
    sign(&[
        "attest".as_ref(),
        "--identity-token".as_ref(),
        jwt.as_ref(),
        "--predicate-type".as_ref(),
        SLSA_PROVENANCE_V1.as_ref(),
        "--predicate".as_ref(),
        predicate.as_os_str(),
        "--bundle".as_ref(),
        dsse_bundle.as_os_str(),
        artifact.as_os_str(),
    ]);
    for path in [&blob_bundle, &dsse_bundle] {
        let text = std::fs::read_to_string(path).expect("read");
        let bundle = Bundle::from_json(&text).expect("sigstore-python's bundle parses");
        let result = verify(&sigstore, ARTIFACT, &bundle)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_fully_verified(&result);
    }
    // sigstore-python asks Fulcio at the root of the CA URL's host
    // (`urljoin(url, "/api/v2/signingCert")`) with only a CSR in the body
    // and the token in an `Authorization: Bearer` header.
    let fulcio = sigstore
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/signingCert"))
        .expect("a Fulcio request");
    assert_eq!(
        (fulcio.path.as_str(), fulcio.authorization, fulcio.status),
        ("/api/v2/signingCert", true, 201)
    );
}

#[tokio::test]
async fn gh_verifies_a_dsse_bundle() {
    if !require_tool("gh", "scripts/install-test-deps.sh installs it") {
        return;
    }
    let sigstore = start();
    let dir = tempfile::tempdir().expect("a temp dir");
    write_fixtures(&sigstore, dir.path()).await;
    let output = Command::new("gh")
        .current_dir(dir.path())
        .env("GH_TOKEN", "dummy")
        .args(["attestation", "verify", "octo-repo-1.0.0.tar.gz"])
        .args(["--bundle", "bundle.json"])
        .args(["--custom-trusted-root", "trusted_root.jsonl"])
        .args(["--owner", "octo-org", "--cert-oidc-issuer"])
        .arg(sigstore.oidc_issuer())
        .args(["--format", "json"])
        .output()
        .expect("runs gh");
    assert!(output.status.success(), "{}", show(&output));
    let report: Value = serde_json::from_slice(&output.stdout).expect("gh's JSON");
    let cert = &report[0]["verificationResult"]["signature"]["certificate"];
    assert_eq!(cert["subjectAlternativeName"], IDENTITY, "{report}");
    assert_eq!(cert["issuer"], sigstore.oidc_issuer(), "{report}");
}

/// A public-good-like instance whose signing config names its Rekor v2 log.
fn start_v2() -> LoopbackSigstore {
    let now = jiff::Timestamp::now();
    let mut config = attest_testsign::TestSigstoreConfig::public_good_like();
    config.signing_time = now;
    config.ca_valid_for =
        attest_testsign::ValidFor::from(now - jiff::SignedDuration::from_hours(24));
    config.rekor_version = attest_testsign::RekorVersion::V2;
    LoopbackSigstore::start_with(config).expect("the loopback Sigstore starts")
}

/// The DER of a PEM certificate.
fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    b64_decode(&body)
}

#[tokio::test]
async fn rekor_v2_signs_through_the_signing_config_and_the_bundles_verify() {
    let sigstore = start_v2();
    let config = SigningConfig::from_json(&sigstore.signing_config_json()).expect("parses");
    let services = SigningServices::from_signing_config(&config).expect("usable");
    assert_eq!(services.rekor_url(), sigstore.rekor_v2_url());
    assert_eq!(
        services.rekor_api_version(),
        sigstore_sign::rekor::RekorApiVersion::V2
    );
    let root: Value = serde_json::from_str(&sigstore.trusted_root_json()).expect("JSON");
    assert_eq!(
        root["tlogs"][1]["baseUrl"],
        sigstore.rekor_v2_url(),
        "{root}"
    );

    let (v1_size, v2_size) = (sigstore.log_size(), sigstore.v2_log_size());
    let signer = SigningContext::new(services).signer(token(&sigstore));
    let bundle = signer
        .sign_raw_statement(&provenance())
        .await
        .expect("sigstore-sign signs with the v2 log");
    let bundle = reparse(&bundle);
    let result = verify(&sigstore, ARTIFACT, &bundle).expect("the DSSE bundle verifies");
    assert!(result.certificate_verified(), "{result:?}");
    assert!(result.tlog_verified(), "{result:?}");
    // Rekor v2 vouches for no time: the TSA's is the only one.
    assert_eq!(result.verified_timestamps().len(), 1, "{result:?}");

    let json: Value = serde_json::from_str(&bundle.to_json().expect("JSON")).expect("JSON");
    let entry = &json["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(
        entry["kindVersion"],
        json!({ "kind": "hashedrekord", "version": "0.0.2" })
    );
    assert_eq!(entry["logIndex"], v2_size.to_string());
    assert!(entry.get("inclusionPromise").is_none(), "{entry}");
    assert!(entry.get("integratedTime").is_none(), "{entry}");
    assert_eq!(
        entry["logId"]["keyId"],
        b64(&sigstore.with_test_sigstore(|s| s.v2_log_id()))
    );
    let checkpoint = entry["inclusionProof"]["checkpoint"]["envelope"]
        .as_str()
        .expect("a checkpoint");
    // sigstore-go takes the origin from the host of the log's URL.
    assert!(checkpoint.starts_with("127.0.0.1\n"), "{checkpoint}");
    assert!(checkpoint.contains("\n\u{2014} 127.0.0.1 "), "{checkpoint}");

    // A message signature too.
    let blob = reparse(&signer.sign(ARTIFACT).await.expect("signs a blob"));
    verify(&sigstore, ARTIFACT, &blob).expect("the message signature verifies");
    assert!(verify(&sigstore, b"tampered", &blob).is_err());

    assert_eq!(
        (sigstore.log_size(), sigstore.v2_log_size()),
        (v1_size, v2_size + 2)
    );
    let posts: Vec<(String, u16)> = sigstore
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("rekor"))
        .map(|r| (r.path, r.status))
        .collect();
    assert_eq!(
        posts,
        vec![("/rekor2/api/v2/log/entries".to_string(), 201); 2]
    );
}

#[tokio::test]
async fn rekor_v2_validates_signatures_before_logging() {
    let sigstore = start_v2();
    let (cert_pem, key) = certificate(&sigstore).await;
    let cert_der = pem_der(&cert_pem);
    let verifier = json!({
        "keyDetails": "PKIX_ECDSA_P256_SHA_256",
        "x509Certificate": { "rawBytes": b64(&cert_der) },
    });
    let payload = provenance();
    let payload_type = "application/vnd.in-toto+json";
    let dsse = |signature: &[u8], verifier: &Value| {
        json!({ "dsseRequestV002": {
            "envelope": {
                "payloadType": payload_type,
                "payload": b64(&payload),
                "signatures": [{ "sig": b64(signature), "keyid": "" }],
            },
            "verifiers": [verifier],
        } })
    };
    let hashedrekord = |signature: &[u8], verifier: &Value| {
        json!({ "hashedRekordRequestV002": {
            "digest": b64(sigstore_sign::crypto::sha256(ARTIFACT).as_bytes()),
            "signature": { "content": b64(signature), "verifier": verifier },
        } })
    };
    let http = reqwest::Client::new();
    let url = format!("{}/api/v2/log/entries", sigstore.rekor_v2_url());
    let size = sigstore.v2_log_size();

    let bad_dsse = key.sign(&pae(payload_type, b"{}")).expect("signs");
    let bad_blob = key.sign(b"other").expect("signs");
    let good_blob = key.sign(ARTIFACT).expect("signs");
    let p384 = json!({ "keyDetails": "PKIX_ECDSA_P384_SHA_384", "x509Certificate": verifier["x509Certificate"] });
    for (name, request) in [
        (
            "an envelope signed over another payload",
            dsse(bad_dsse.as_bytes(), &verifier),
        ),
        (
            "a signature over another digest",
            hashedrekord(bad_blob.as_bytes(), &verifier),
        ),
        (
            "keyDetails that do not describe the key",
            hashedrekord(good_blob.as_bytes(), &p384),
        ),
        (
            "a v1 request",
            json!({ "kind": "dsse", "apiVersion": "0.0.1" }),
        ),
    ] {
        let response = http.post(&url).json(&request).send().await.expect("POST");
        assert_eq!(response.status(), 400, "{name}");
    }
    assert_eq!(sigstore.v2_log_size(), size, "nothing was logged");

    let good = key.sign(&pae(payload_type, &payload)).expect("signs");
    let response = http
        .post(&url)
        .json(&dsse(good.as_bytes(), &verifier))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 201);
    let entry: Value = response.json().await.expect("JSON");
    assert_eq!(
        entry["kindVersion"],
        json!({ "kind": "dsse", "version": "0.0.2" })
    );
    assert_eq!(entry["logIndex"], size.to_string());
    let body_bytes = b64_decode(entry["canonicalizedBody"].as_str().expect("a body"));
    let body: Value = serde_json::from_slice(&body_bytes).expect("a JSON body");
    let logged = &body["spec"]["dsseV002"];
    assert_eq!(
        logged["payloadHash"]["digest"],
        b64(sigstore_sign::crypto::sha256(&payload).as_bytes())
    );
    assert_eq!(logged["signatures"][0]["content"], b64(good.as_bytes()));
    assert_eq!(logged["signatures"][0]["verifier"], verifier);

    // The proof leads from the body to the root the signed checkpoint names.
    let proof = &entry["inclusionProof"];
    let checkpoint = sigstore_sign::types::Checkpoint::from_text(
        proof["checkpoint"]["envelope"]
            .as_str()
            .expect("a checkpoint"),
    )
    .expect("the checkpoint parses");
    assert_eq!(checkpoint.tree_size(), size + 1);
    let hashes: Vec<sigstore_sign::types::Sha256Hash> = proof["hashes"]
        .as_array()
        .expect("hashes")
        .iter()
        .map(|h| {
            let bytes: [u8; 32] = b64_decode(h.as_str().expect("b64"))
                .try_into()
                .expect("32 bytes");
            sigstore_sign::types::Sha256Hash::new(bytes)
        })
        .collect();
    assert!(!hashes.is_empty());
    sigstore_merkle::verify_inclusion_proof(
        &sigstore_merkle::hash_leaf(&body_bytes),
        size,
        size + 1,
        &hashes,
        checkpoint.root_hash(),
    )
    .expect("the inclusion proof verifies");
    let head: String = http
        .get(format!("{}/api/v2/checkpoint", sigstore.rekor_v2_url()))
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("text");
    assert!(
        head.starts_with(&format!("127.0.0.1\n{}\n", size + 1)),
        "{head}"
    );
}
