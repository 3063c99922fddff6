//! Signing statements into Sigstore bundles (v0.3, DSSE).
//!
//! Keyless: an OIDC token buys a short-lived Fulcio certificate for an
//! ephemeral key; the DSSE signature is logged in Rekor (v1 or v2) and/or
//! timestamped by a TSA, as the instance requires. Flows with a log go
//! through `sigstore-sign`; GitHub's instance (Fulcio + TSA, no log) is
//! composed from `sigstore-fulcio`, `sigstore-tsa` and `sigstore-bundle`.
//! With a key: a local ECDSA P-256 key signs, the bundle names the key by a
//! hint, and verification needs the public key.

use sigstore_bundle::BundleV03;
use sigstore_crypto::KeyPair;
use sigstore_oidc::IdentityToken;
use sigstore_rekor::RekorApiVersion;
use sigstore_trust_root::SigningConfig;
use sigstore_types::{DsseEnvelope, DsseSignature, KeyId, PayloadBytes};

use crate::bundle::IN_TOTO_PAYLOAD_TYPE;
use crate::source::http::{block_on, request_timeout};
use crate::text::remote_text;

/// Where to get a certificate, log the signature and timestamp it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Fulcio's base URL.
    pub fulcio: String,
    /// Rekor's base URL and API version, if the instance has a log.
    pub rekor: Option<(String, u32)>,
    /// The TSA's URL, if the instance has one.
    pub tsa: Option<String>,
}

/// Why signing failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SignError {
    /// The signing configuration is unusable.
    #[error("signing configuration: {0}")]
    Config(String),
    /// The OIDC token is unusable (malformed, expired).
    #[error("OIDC token: {0}")]
    Token(String),
    /// Fulcio, Rekor or the TSA failed.
    #[error("{service}: {detail}")]
    Service {
        /// Which service.
        service: &'static str,
        /// What happened.
        detail: String,
    },
    /// The signing key is unusable.
    #[error("signing key: {0}")]
    Key(String),
}

impl Endpoints {
    /// The public-good instance (embedded signing config: Fulcio, Rekor, TSA).
    pub fn public_good() -> Result<Self, SignError> {
        Self::from_signing_config(sigstore_trust_root::SIGSTORE_PRODUCTION_SIGNING_CONFIG)
    }

    /// GitHub's instance for `server_url` (`https://github.com` →
    /// `fulcio.githubapp.com` and `timestamp.githubapp.com`; GHE.com tenants
    /// use their own host), as actions/attest derives it.
    pub fn github(server_url: &str) -> Self {
        let host = server_url
            .trim_end_matches('/')
            .trim_start_matches("https://")
            .trim_start_matches("http://");
        let host = if host == "github.com" {
            "githubapp.com"
        } else {
            host
        };
        Self {
            fulcio: format!("https://fulcio.{host}"),
            rekor: None,
            tsa: Some(format!("https://timestamp.{host}/api/v1/timestamp")),
        }
    }

    /// The services of a Sigstore signing config (v0.2 JSON).
    pub fn from_signing_config(json: &str) -> Result<Self, SignError> {
        let config =
            SigningConfig::from_json(json).map_err(|e| SignError::Config(e.to_string()))?;
        let fulcio = config
            .fulcio_url()
            .map(|e| e.url.clone())
            .ok_or_else(|| SignError::Config("no valid Fulcio (caUrls) entry".into()))?;
        let rekor = config
            .rekor_url(None)
            .map(|e| (e.url.clone(), e.major_api_version));
        let tsa = config.tsa_url().map(|e| e.url.clone());
        if rekor.is_none() && tsa.is_none() {
            return Err(SignError::Config(
                "neither a Rekor log nor a timestamp authority: nothing could vouch for the signing time".into(),
            ));
        }
        if matches!(rekor, Some((_, 2))) && tsa.is_none() {
            return Err(SignError::Config(
                "Rekor v2 needs a timestamp authority (tsaUrls)".into(),
            ));
        }
        Ok(Self {
            fulcio: fulcio.trim_end_matches('/').to_string(),
            rekor: rekor.map(|(u, v)| (u.trim_end_matches('/').to_string(), v)),
            tsa,
        })
    }
}

fn http_client() -> Result<sigstore_sign::reqwest::Client, SignError> {
    let t = request_timeout();
    sigstore_sign::reqwest::Client::builder()
        .connect_timeout(t.min(std::time::Duration::from_secs(10)))
        .timeout(t)
        .user_agent(concat!("attest/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| SignError::Config(format!("cannot build the HTTP client: {e}")))
}

/// Check a token before spending a Fulcio request on it.
pub fn check_token(jwt: &str) -> Result<IdentityToken, SignError> {
    let token = IdentityToken::from_jwt(jwt.trim()).map_err(|e| SignError::Token(e.to_string()))?;
    if token.is_expired() {
        return Err(SignError::Token(format!(
            "expired at {} (issuer {}); request a fresh token",
            token.expiration(),
            token.issuer()
        )));
    }
    Ok(token)
}

/// Sign an in-toto statement keylessly. Returns the bundle JSON.
pub fn sign_keyless(
    statement: &[u8],
    jwt: &str,
    endpoints: &Endpoints,
) -> Result<Vec<u8>, SignError> {
    let token = check_token(jwt)?;
    let http = http_client()?;
    let bundle = block_on(async {
        match &endpoints.rekor {
            Some((rekor, version)) => {
                let version = RekorApiVersion::from_major(*version).ok_or_else(|| {
                    SignError::Config(format!("unsupported Rekor API version {version}"))
                })?;
                let mut services = sigstore_sign::SigningServices::new(&endpoints.fulcio, rekor)
                    .with_rekor(rekor, version);
                if let Some(tsa) = &endpoints.tsa {
                    services = services.with_tsa_url(tsa);
                }
                let signer = sigstore_sign::SigningContext::new(services)
                    .with_http_client(http)
                    .signer(token);
                signer
                    .sign_raw_statement(statement)
                    .await
                    .map_err(|e| SignError::Service {
                        service: service_of(&e),
                        detail: remote_text(&crate::error_chain(&e)),
                    })
            }
            None => sign_with_tsa_only(statement, &token, endpoints, http).await,
        }
    })
    .map_err(|e| SignError::Config(e.to_string()))??;
    bundle
        .to_json()
        .map(String::into_bytes)
        .map_err(|e| SignError::Config(format!("cannot serialise the bundle: {e}")))
}

fn service_of(e: &sigstore_sign::Error) -> &'static str {
    let text = format!("{e:?}").to_ascii_lowercase();
    if text.contains("fulcio") {
        "Fulcio"
    } else if text.contains("rekor") {
        "Rekor"
    } else if text.contains("tsa") || text.contains("timestamp") {
        "timestamp authority"
    } else {
        "signing"
    }
}

async fn sign_with_tsa_only(
    statement: &[u8],
    token: &IdentityToken,
    endpoints: &Endpoints,
    http: sigstore_sign::reqwest::Client,
) -> Result<sigstore_types::Bundle, SignError> {
    let tsa_url = endpoints
        .tsa
        .as_ref()
        .ok_or_else(|| SignError::Config("no timestamp authority and no log".into()))?;
    let key = KeyPair::generate_ecdsa_p256().map_err(|e| SignError::Key(e.to_string()))?;
    let fulcio = sigstore_fulcio::FulcioClient::builder(&endpoints.fulcio)
        .with_http_client(http.clone())
        .build()
        .map_err(|e| SignError::Service {
            service: "Fulcio",
            detail: remote_text(&crate::error_chain(&e)),
        })?;
    let cert = fulcio
        .create_signing_certificate(token, &key)
        .await
        .map_err(|e| SignError::Service {
            service: "Fulcio",
            detail: remote_text(&crate::error_chain(&e)),
        })?;
    let envelope = dsse_envelope(statement, &key)?;
    let tsa = sigstore_tsa::TimestampClient::builder(tsa_url)
        .with_http_client(http)
        .build()
        .map_err(|e| SignError::Service {
            service: "timestamp authority",
            detail: remote_text(&crate::error_chain(&e)),
        })?;
    let ts = tsa
        .timestamp_signature(&envelope.signature.sig)
        .await
        .map_err(|e| SignError::Service {
            service: "timestamp authority",
            detail: remote_text(&crate::error_chain(&e)),
        })?;
    Ok(
        BundleV03::with_certificate_and_dsse(cert.leaf_certificate().clone(), envelope)
            .with_rfc3161_timestamp(ts)
            .into_bundle(),
    )
}

fn dsse_envelope(statement: &[u8], key: &KeyPair) -> Result<DsseEnvelope, SignError> {
    let pae = sigstore_types::pae(IN_TOTO_PAYLOAD_TYPE, statement);
    let sig = key.sign(&pae).map_err(|e| SignError::Key(e.to_string()))?;
    Ok(DsseEnvelope::new(
        IN_TOTO_PAYLOAD_TYPE,
        PayloadBytes::from_bytes(statement),
        DsseSignature::new(sig, KeyId::default()),
    ))
}

/// The key types `--key` signs with, for messages.
pub const SUPPORTED_KEYS: &str =
    "ECDSA P-256 (PEM \"PRIVATE KEY\" PKCS#8 or \"EC PRIVATE KEY\" SEC1)";

/// Read an ECDSA P-256 private key from PEM text: the first private-key
/// block, PKCS#8 (`PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`). Other blocks
/// (`EC PARAMETERS`, which `openssl ecparam -genkey` writes first, a
/// certificate, a public key) are skipped. Keys of other algorithms and
/// encrypted keys are refused with a message that says what is supported.
pub fn read_private_key(pem: &str) -> Result<KeyPair, SignError> {
    let mut seen = Vec::new();
    for block in pem_blocks(pem) {
        let (label, headers, der) = block?;
        match label.as_str() {
            "PRIVATE KEY" => return pkcs8_key(&der),
            "EC PRIVATE KEY" if headers.contains("ENCRYPTED") => return Err(encrypted()),
            "EC PRIVATE KEY" => return sec1_key(&der),
            "ENCRYPTED PRIVATE KEY" => return Err(encrypted()),
            "RSA PRIVATE KEY" => return Err(unsupported("an RSA key")),
            "OPENSSH PRIVATE KEY" => return Err(unsupported("an OpenSSH key")),
            _ => seen.push(label),
        }
    }
    Err(SignError::Key(if seen.is_empty() {
        format!("no PEM block; expected {SUPPORTED_KEYS}")
    } else {
        format!(
            "no private key among the PEM blocks ({}); expected {SUPPORTED_KEYS}",
            seen.join(", ")
        )
    }))
}

fn encrypted() -> SignError {
    SignError::Key("encrypted keys are not supported; decrypt with openssl pkey".into())
}

fn unsupported(what: &str) -> SignError {
    SignError::Key(format!("{what}; attest signs with {SUPPORTED_KEYS}"))
}

fn pkcs8_key(der: &[u8]) -> Result<KeyPair, SignError> {
    use aws_lc_rs::signature as sig;
    if sig::EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, der).is_ok() {
        return KeyPair::from_pkcs8_der(der).map_err(|e| SignError::Key(format!("PKCS#8: {e}")));
    }
    // Name what the key is, so the message says why it is refused.
    if sig::EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P384_SHA384_ASN1_SIGNING, der).is_ok() {
        return Err(unsupported("an ECDSA P-384 key"));
    }
    if sig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).is_ok() {
        return Err(unsupported("an Ed25519 key"));
    }
    if sig::RsaKeyPair::from_pkcs8(der).is_ok() {
        return Err(unsupported("an RSA key"));
    }
    Err(unsupported("a PKCS#8 key that is not ECDSA P-256"))
}

fn sec1_key(der: &[u8]) -> Result<KeyPair, SignError> {
    use aws_lc_rs::signature as sig;
    let kp =
        match sig::EcdsaKeyPair::from_private_key_der(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, der) {
            Ok(kp) => kp,
            Err(_) => {
                if sig::EcdsaKeyPair::from_private_key_der(
                    &sig::ECDSA_P384_SHA384_ASN1_SIGNING,
                    der,
                )
                .is_ok()
                {
                    return Err(unsupported("an ECDSA P-384 key"));
                }
                return Err(unsupported("a SEC1 key that is not ECDSA P-256"));
            }
        };
    let pkcs8 = kp
        .to_pkcs8v1()
        .map_err(|e| SignError::Key(format!("cannot re-encode the key: {e}")))?;
    KeyPair::from_pkcs8_der(pkcs8.as_ref()).map_err(|e| SignError::Key(e.to_string()))
}

/// Every PEM block in `pem`: its label, its RFC 1421 headers (`Proc-Type:
/// 4,ENCRYPTED`, …) and its decoded body. Text between blocks is ignored.
fn pem_blocks(
    pem: &str,
) -> impl Iterator<Item = Result<(String, String, Vec<u8>), SignError>> + '_ {
    let mut rest = pem;
    std::iter::from_fn(move || {
        use base64::Engine;
        let start = rest.find("-----BEGIN ")?;
        let after = &rest[start + 11..];
        let Some(label_end) = after.find("-----") else {
            rest = "";
            return Some(Err(SignError::Key(
                "a PEM BEGIN line without its closing dashes".into(),
            )));
        };
        let label = after[..label_end].to_string();
        let body = &after[label_end + 5..];
        let end_line = format!("-----END {label}-----");
        let Some(end) = body.find(&end_line) else {
            rest = "";
            return Some(Err(SignError::Key(format!(
                "a PEM {label:?} block without its END line"
            ))));
        };
        rest = &body[end + end_line.len()..];
        let (headers, b64): (Vec<&str>, Vec<&str>) = body[..end]
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .partition(|l| l.contains(':'));
        let b64: String = b64.concat();
        Some(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map(|der| (label.clone(), headers.join("\n"), der))
                .map_err(|e| SignError::Key(format!("PEM {label:?} block: not base64: {e}"))),
        )
    })
}

/// Sign an in-toto statement with a local key. With `tsa_url` the signature
/// is timestamped by that TSA (the time the signature is checked at); it
/// then verifies with the public key (`attest verify --key`) under a root
/// listing that TSA. Without one (`--no-timestamp`, no network at all) the
/// bundle carries neither a timestamp nor a log entry, as cosign's
/// `--tlog-upload=false` bundles: it proves only that the key's holder signed
/// the statement, at an unknown time.
pub fn sign_with_key(
    statement: &[u8],
    key: &KeyPair,
    tsa_url: Option<&str>,
) -> Result<Vec<u8>, SignError> {
    let envelope = dsse_envelope(statement, key)?;
    let ts = match tsa_url {
        Some(url) => Some(timestamp(url, &envelope)?),
        None => None,
    };
    let public = key
        .public_key_der()
        .map_err(|e| SignError::Key(e.to_string()))?;
    let hint = {
        use base64::Engine;
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, public.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
    };
    let mut bundle = BundleV03::new(
        sigstore_bundle::VerificationMaterialV03::PublicKey { hint },
        sigstore_types::SignatureContent::DsseEnvelope(envelope),
    );
    if let Some(ts) = ts {
        bundle = bundle.with_rfc3161_timestamp(ts);
    }
    bundle
        .into_bundle()
        .to_json()
        .map(String::into_bytes)
        .map_err(|e| SignError::Config(format!("cannot serialise the bundle: {e}")))
}

fn timestamp(
    tsa_url: &str,
    envelope: &DsseEnvelope,
) -> Result<sigstore_types::TimestampToken, SignError> {
    let http = http_client()?;
    block_on(async {
        let tsa = sigstore_tsa::TimestampClient::builder(tsa_url)
            .with_http_client(http)
            .build()
            .map_err(|e| SignError::Service {
                service: "timestamp authority",
                detail: remote_text(&crate::error_chain(&e)),
            })?;
        tsa.timestamp_signature(&envelope.signature.sig)
            .await
            .map_err(|e| SignError::Service {
                service: "timestamp authority",
                detail: remote_text(&crate::error_chain(&e)),
            })
    })
    .map_err(|e| SignError::Config(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keyless signing against the test Sigstore's loopback Fulcio, Rekor
    /// and TSA: the bundle verifies, and a failing service is named as the
    /// one that failed.
    #[test]
    fn keyless_signing_verifies_and_names_the_service_that_failed() {
        use attest_testsign::services::{default_actions_claims, Fault, LoopbackSigstore};
        let sigstore = LoopbackSigstore::start().unwrap();
        let mut claims = default_actions_claims();
        claims["iss"] = serde_json::json!(sigstore.oidc_issuer());
        let token = sigstore.mint_token(&claims, "sigstore");
        let digest =
            crate::artifact::digest_bytes(b"signed", crate::artifact::DigestAlgorithm::Sha256);
        let statement = attest_testsign::statement(
            &[("a.bin", "sha256", &digest.hex())],
            "https://slsa.dev/provenance/v1",
            serde_json::json!({}),
        );
        let endpoints = Endpoints::from_signing_config(&sigstore.signing_config_json()).unwrap();
        let bundle = sign_keyless(&statement, &token, &endpoints).unwrap();
        let loaded = crate::source::bundles_from_bytes(&bundle, "signed.json")
            .unwrap()
            .remove(0)
            .unwrap();
        let trust =
            crate::trust::TrustStore::from_jsonl(&sigstore.trusted_root_json(), "root.json", false)
                .unwrap();
        crate::verify::verify_bundle(
            &loaded,
            crate::verify::ArtifactInput::Digest(&digest),
            &trust,
        )
        .unwrap();
        // Every request came from attest's own client (its user agent; its
        // timeouts are what make a silent service an error, not a hang).
        let requests = sigstore.requests();
        assert!(requests.len() >= 2, "{requests:?}");
        let agent = concat!("attest/", env!("CARGO_PKG_VERSION"));
        assert!(
            requests
                .iter()
                .all(|r| r.user_agent.as_deref() == Some(agent)),
            "{requests:?}"
        );

        for (fault, service) in [
            (Fault::FulcioUnavailable, "Fulcio"),
            (Fault::RekorUnavailable, "Rekor"),
            (Fault::TsaError, "timestamp authority"),
        ] {
            sigstore.clear_faults();
            sigstore.set_fault(fault);
            let e = sign_keyless(&statement, &token, &endpoints).unwrap_err();
            assert!(
                matches!(&e, SignError::Service { service: s, .. } if *s == service),
                "{fault:?}: {e}"
            );
        }
    }

    /// A key the signer cannot use is named, not just refused.
    #[test]
    fn unusable_private_keys_are_named() {
        for (label, name) in [
            ("RSA PRIVATE KEY", "an RSA key"),
            ("OPENSSH PRIVATE KEY", "an OpenSSH key"),
        ] {
            let pem = format!("-----BEGIN {label}-----\nAAAA\n-----END {label}-----\n");
            let Err(e) = read_private_key(&pem) else {
                panic!("{label} accepted")
            };
            let e = e.to_string();
            assert!(e.contains(name), "{label}: {e}");
        }
    }

    /// Something must vouch for the signing time: a log or a timestamp
    /// authority, either one is enough.
    #[test]
    fn a_signing_config_needs_a_log_or_a_timestamp_authority() {
        let production: serde_json::Value =
            serde_json::from_str(sigstore_trust_root::SIGSTORE_PRODUCTION_SIGNING_CONFIG).unwrap();
        assert!(Endpoints::from_signing_config(&production.to_string()).is_ok());
        let without = |keys: &[&str]| {
            let mut c = production.clone();
            for k in keys {
                c.as_object_mut().unwrap().remove(*k);
            }
            Endpoints::from_signing_config(&c.to_string())
        };
        let log_only = without(&["tsaUrls"]);
        match &log_only {
            Ok(e) => assert!(matches!(e.rekor, Some((_, 1))) && e.tsa.is_none()),
            Err(SignError::Config(e)) => assert!(e.contains("Rekor v2 needs"), "{e}"),
            Err(e) => panic!("{e}"),
        }
        assert_eq!(
            log_only.is_ok(),
            Endpoints::from_signing_config(&production.to_string())
                .unwrap()
                .rekor
                .is_some_and(|(_, v)| v == 1)
        );
        let tsa_only = without(&["rekorTlogUrls"]).expect("a TSA alone vouches for the time");
        assert!(tsa_only.rekor.is_none() && tsa_only.tsa.is_some());
        match without(&["rekorTlogUrls", "tsaUrls"]) {
            Err(SignError::Config(e)) => assert!(e.contains("neither a Rekor log nor"), "{e}"),
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn github_endpoints_follow_actions_attest() {
        let e = Endpoints::github("https://github.com");
        assert_eq!(e.fulcio, "https://fulcio.githubapp.com");
        assert_eq!(
            e.tsa.as_deref(),
            Some("https://timestamp.githubapp.com/api/v1/timestamp")
        );
        assert_eq!(
            Endpoints::github("https://acme.ghe.com").fulcio,
            "https://fulcio.acme.ghe.com"
        );
        assert!(Endpoints::public_good().unwrap().rekor.is_some());
    }

    #[test]
    fn tokens_are_checked_before_use() {
        assert!(check_token("nope").is_err());
        use base64::Engine;
        let enc = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let jwt = format!(
            "{}.{}.sig",
            enc(r#"{"alg":"ES256"}"#),
            enc(r#"{"iss":"https://x","sub":"s","exp":1000}"#)
        );
        let e = check_token(&jwt).unwrap_err().to_string();
        assert!(e.contains("expired"), "{e}");
    }

    #[test]
    fn keys_in_both_pem_forms() {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            &rng,
        )
        .unwrap();
        use base64::Engine;
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(pkcs8.as_ref())
        );
        read_private_key(&pem).unwrap();
        assert!(
            read_private_key("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")
                .is_err()
        );
    }

    fn pem(label: &str, der: &[u8]) -> String {
        use base64::Engine;
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            base64::engine::general_purpose::STANDARD.encode(der)
        )
    }

    #[test]
    fn keys_as_openssl_writes_them() {
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::signature as sig;
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let p256 =
            sig::EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let sec1 =
            sig::EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, p256.as_ref())
                .unwrap()
                .private_key()
                .as_der()
                .unwrap();
        // `openssl ecparam -name prime256v1 -genkey` writes EC PARAMETERS first.
        let params = pem(
            "EC PARAMETERS",
            &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
        );
        let k =
            read_private_key(&format!("{params}{}", pem("EC PRIVATE KEY", sec1.as_ref()))).unwrap();
        assert_eq!(k.algorithm(), sigstore_crypto::KeyAlgorithm::EcdsaP256);
        read_private_key(&format!(
            "junk\n{params}{}",
            pem("PRIVATE KEY", p256.as_ref())
        ))
        .unwrap();

        let p384 =
            sig::EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P384_SHA384_ASN1_SIGNING, &rng).unwrap();
        let e = read_private_key(&pem("PRIVATE KEY", p384.as_ref()))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("an ECDSA P-384 key; attest signs with ECDSA P-256"),
            "{e}"
        );
        let ed = sig::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let e = read_private_key(&pem("PRIVATE KEY", ed.as_ref()))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("an Ed25519 key; attest signs with ECDSA P-256"),
            "{e}"
        );

        for encrypted in [
            pem("ENCRYPTED PRIVATE KEY", b"x"),
            "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END EC PRIVATE KEY-----\n".to_string(),
        ] {
            let e = read_private_key(&encrypted).unwrap_err().to_string();
            assert_eq!(e, "signing key: encrypted keys are not supported; decrypt with openssl pkey");
        }
        let e = read_private_key(&pem("PUBLIC KEY", b"x"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no private key among the PEM blocks (PUBLIC KEY)"),
            "{e}"
        );
        let e = read_private_key("-----BEGIN PRIVATE KEY-----\nAAAA\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("without its END line"), "{e}");
    }
}
