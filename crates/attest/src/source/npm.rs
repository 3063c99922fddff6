//! The npm registry's attestations endpoint
//! (`GET /-/npm/v1/attestations/NAME@VERSION`): the Sigstore bundles npm
//! publishes for a package version (SLSA provenance from the build, and
//! npm's publish attestation). Anonymous; 404 is "no attestations".

use serde_json::Value;

use super::http::{self, HttpError};
use crate::bundle::{parse_bundle, BundleError, BundleOrigin, LoadedBundle};

/// npm's public registry.
pub const DEFAULT_REGISTRY: &str = "https://registry.npmjs.org";

/// The largest attestations answer read.
pub const MAX_ATTESTATIONS_BYTES: u64 = 16 * 1024 * 1024;

/// npm's publish attestation predicate type (signed with the registry's
/// key, not a Fulcio certificate).
pub const PUBLISH_V01: &str = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1";

/// The TUF target (in Sigstore's public-good repository) with npm's
/// registry keys, as sigstore-js and `npm audit signatures` read them.
pub const KEYS_TARGET: &str = "registry.npmjs.org/keys.json";

/// One of npm's registry keys.
#[derive(Debug, Clone)]
pub struct NpmKey {
    /// `SHA256:` and the unpadded base64 SHA-256 of the key (the bundle's
    /// `publicKey.hint`).
    pub key_id: String,
    /// `npm:attestations` or `npm:signatures`.
    pub usage: String,
    /// The key (DER SubjectPublicKeyInfo).
    pub key: crate::verify::DerPublicKey,
    /// When it became valid.
    pub valid_from: Option<jiff::Timestamp>,
    /// When it stopped being valid.
    pub valid_until: Option<jiff::Timestamp>,
}

/// Parse npm's keys (`{"keys": [{"keyId", "keyUsage", "publicKey":
/// {"rawBytes", "keyDetails", "validFor": {"start", "end"}}}]}`). A key
/// whose ID is not its own fingerprint is refused.
pub fn parse_keys(bytes: &[u8], origin: &str) -> Result<Vec<NpmKey>, String> {
    use base64::Engine;
    crate::json::check_unique_keys(bytes).map_err(|e| format!("{origin}: {e}"))?;
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("{origin}: expected npm's keys.json: {e}"))?;
    let list = v
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{origin}: expected \"keys\", an array"))?;
    let time = |v: &Value| v.as_str().and_then(|t| t.parse::<jiff::Timestamp>().ok());
    let mut out = Vec::new();
    for (i, k) in list.iter().enumerate() {
        let here = |what: &str| format!("{origin}: keys[{i}]: {what}");
        let key_id = k
            .get("keyId")
            .and_then(Value::as_str)
            .ok_or_else(|| here("expected \"keyId\""))?;
        let raw = k["publicKey"]["rawBytes"]
            .as_str()
            .ok_or_else(|| here("expected publicKey.rawBytes"))?;
        let der = base64::engine::general_purpose::STANDARD
            .decode(raw)
            .map_err(|e| here(&format!("publicKey.rawBytes: not base64: {e}")))?;
        let fingerprint = ssh_fingerprint(&der).map_err(|e| here(&e))?;
        if fingerprint != key_id {
            return Err(here(&format!(
                "the key's fingerprint is {fingerprint}, not its keyId {key_id}"
            )));
        }
        out.push(NpmKey {
            key_id: key_id.to_string(),
            usage: k
                .get("keyUsage")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            key: crate::verify::DerPublicKey::new(der),
            valid_from: time(&k["publicKey"]["validFor"]["start"]),
            valid_until: time(&k["publicKey"]["validFor"]["end"]),
        });
    }
    Ok(out)
}

/// An ECDSA P-256 key's OpenSSH fingerprint (`SHA256:` and the unpadded
/// base64 SHA-256 of the key in SSH's wire form), which npm uses as its
/// key IDs, from its DER SubjectPublicKeyInfo.
fn ssh_fingerprint(der: &[u8]) -> Result<String, String> {
    use base64::Engine;
    // A P-256 SPKI ends in its uncompressed point: 0x04, X, Y.
    const P256_SPKI_PREFIX: [u8; 26] = [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    let point = der
        .strip_prefix(&P256_SPKI_PREFIX[..])
        .filter(|p| p.len() == 65 && p[0] == 4)
        .ok_or("expected an ECDSA P-256 public key (npm's key type)")?;
    let mut blob = Vec::new();
    for part in [&b"ecdsa-sha2-nistp256"[..], b"nistp256", point] {
        blob.extend_from_slice(&(part.len() as u32).to_be_bytes());
        blob.extend_from_slice(part);
    }
    Ok(format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD
            .encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &blob).as_ref())
    ))
}

/// npm's rule for every attestation it serves: a DSSE signature that names
/// a key ID names one of the registry's keys (a keyless signature names
/// none).
pub fn check_key_ids(bundle: &LoadedBundle, keys: &[NpmKey]) -> Result<(), String> {
    let Some(sigs) = bundle.raw["dsseEnvelope"]["signatures"].as_array() else {
        return Ok(());
    };
    for sig in sigs {
        let id = sig["keyid"].as_str().unwrap_or_default();
        if !id.is_empty() && !keys.iter().any(|k| k.key_id == id) {
            return Err(format!(
                "a signature names key {}, which is not one of npm's registry keys",
                crate::text::remote_text(id)
            ));
        }
    }
    Ok(())
}

/// Verify npm's publish attestation of `name@version` (the tarball's
/// sha512 `digest`): signed by the registry key its `publicKey.hint` names
/// (an `npm:attestations` key), valid when the log integrated it; its
/// statement's subject `pkg:npm/NAME@VERSION` and predicate `name` and
/// `version` this package's. `instance` supplies the transparency log.
pub fn verify_publish(
    bundle: &LoadedBundle,
    name: &str,
    version: &str,
    digest: &crate::artifact::ArtifactDigest,
    keys: &[NpmKey],
    instance: &crate::trust::TrustedInstance,
) -> Result<crate::verify::VerifiedAttestation, String> {
    let hint = bundle.raw["verificationMaterial"]["publicKey"]["hint"]
        .as_str()
        .ok_or("the publish attestation names no key (publicKey.hint)")?;
    let key = keys
        .iter()
        .find(|k| k.key_id == hint && k.usage == "npm:attestations")
        .ok_or_else(|| {
            format!("signed with key {hint}, which npm's keys do not list for attestations")
        })?;
    let att = crate::verify::verify_bundle_with_key(
        bundle,
        crate::verify::ArtifactInput::Digest(digest),
        instance,
        &key.key,
    )
    .map_err(|e| e.to_string())?;
    for t in &att.timestamps {
        let ok = key.valid_from.is_none_or(|f| t.time >= f)
            && key.valid_until.is_none_or(|u| t.time <= u);
        if !ok {
            return Err(format!(
                "key {hint} was not valid at {} (the signing time)",
                t.time
            ));
        }
    }
    let st = att
        .statement
        .as_ref()
        .ok_or("the publish attestation has no statement")?;
    if st.predicate_type != PUBLISH_V01 {
        return Err(format!(
            "listed as npm's publish attestation, its statement's predicate type is {}",
            crate::text::remote_text(&st.predicate_type)
        ));
    }
    let purl = format!("pkg:npm/{}@{version}", name.replacen('@', "%40", 1));
    if !st.subjects.iter().any(|s| s.name == purl) {
        return Err(format!("the statement's subject is not {purl}"));
    }
    let pred = &st.value["predicate"];
    if pred["name"].as_str() != Some(name) || pred["version"].as_str() != Some(version) {
        return Err(format!(
            "the predicate names {}@{}, not {name}@{version}",
            crate::text::remote_text(pred["name"].as_str().unwrap_or("?")),
            crate::text::remote_text(pred["version"].as_str().unwrap_or("?"))
        ));
    }
    Ok(att)
}

/// Why the registry could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NpmError {
    /// The registry URL cannot be used.
    #[error("registry URL {url:?}: {detail}")]
    Registry {
        /// The URL.
        url: String,
        /// What is wrong.
        detail: String,
    },
    /// The request failed.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The answer is not the endpoint's shape.
    #[error("{url}: {detail}")]
    Answer {
        /// The URL.
        url: String,
        /// Which field, and what was expected.
        detail: String,
    },
}

/// The endpoint URL for `name@version` (a scoped name's `/` escaped).
pub fn attestations_url(registry: &str, name: &str, version: &str) -> Result<String, NpmError> {
    let base = http::base_url(registry).map_err(|detail| NpmError::Registry {
        url: registry.to_string(),
        detail,
    })?;
    Ok(format!(
        "{base}/-/npm/v1/attestations/{}@{}",
        name.replace('/', "%2f"),
        version
    ))
}

/// The attestations of `name@version`: the answer's bytes (for a cache) and
/// its bundles; `None` when the registry has none (404).
pub fn fetch_attestations(
    registry: &str,
    name: &str,
    version: &str,
) -> Result<Option<Vec<u8>>, NpmError> {
    let url = attestations_url(registry, name, version)?;
    let client = http::client()?;
    match http::block_on(http::get(&client, &url, None, &[], MAX_ATTESTATIONS_BYTES))? {
        Ok(f) => {
            bundles_of(&f.body, &url)?;
            Ok(Some(f.body))
        }
        Err(HttpError::Status { status: 404, .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A bundle the registry lists, with the predicate type it lists it under.
pub type ListedBundle = (String, Result<LoadedBundle, BundleError>);

/// The bundles of an attestations answer, each named `ORIGIN#N`, with the
/// predicate type the answer lists it under (unsigned: for routing only;
/// the verified statement must say the same).
pub fn bundles_of(body: &[u8], origin: &str) -> Result<Vec<ListedBundle>, NpmError> {
    let answer = |detail: String| NpmError::Answer {
        url: origin.to_string(),
        detail,
    };
    crate::json::check_unique_keys(body).map_err(|e| answer(e.to_string()))?;
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| answer(format!("expected {{\"attestations\": [...]}}: {e}")))?;
    let list = v
        .get("attestations")
        .and_then(Value::as_array)
        .ok_or_else(|| answer("expected \"attestations\", an array".into()))?;
    Ok(list
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let listed = a
                .get("predicateType")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let bundle = a
                .get("bundle")
                .ok_or_else(|| BundleError::Shape {
                    origin: format!("{origin}#{}", i + 1),
                    detail: "expected \"bundle\"".into(),
                })
                .and_then(|bundle| {
                    parse_bundle(
                        &bundle.to_string(),
                        BundleOrigin {
                            source: origin.to_string(),
                            line: 0,
                            index: i + 1,
                        },
                    )
                });
            (listed, bundle)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_names_are_escaped_and_http_is_loopback_only() {
        assert_eq!(
            attestations_url("https://registry.npmjs.org/", "@playwright/cli", "0.1.1").unwrap(),
            "https://registry.npmjs.org/-/npm/v1/attestations/@playwright%2fcli@0.1.1"
        );
        assert!(attestations_url("http://registry.npmjs.org", "a", "1").is_err());
        assert!(attestations_url("http://127.0.0.1:9", "a", "1").is_ok());
        let e = bundles_of(br#"{"x":1}"#, "u").unwrap_err().to_string();
        assert!(e.contains("expected \"attestations\""), "{e}");
    }

    use base64::Engine;

    const OLD_KEY: &str = "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA";
    const NEW_KEY: &str = "SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U";

    fn npm_data(name: &str) -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/npm")
                .join(name),
        )
        .unwrap()
    }

    fn keys() -> Vec<NpmKey> {
        parse_keys(&npm_data("registry.npmjs.org-keys.json"), "keys.json").unwrap()
    }

    fn public_good() -> crate::trust::TrustStore {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/pep740/trusted_root.public-good.json");
        crate::trust::TrustStore::from_file(&path, false).unwrap()
    }

    /// The bundle listed under `predicate` in an attestations answer.
    fn listed(file: &str, predicate: &str) -> LoadedBundle {
        bundles_of(&npm_data(file), file)
            .unwrap()
            .into_iter()
            .find(|(p, _)| p == predicate)
            .unwrap()
            .1
            .unwrap()
    }

    fn tgz_digest(file: &str) -> crate::artifact::ArtifactDigest {
        crate::artifact::digest_bytes(&npm_data(file), crate::artifact::DigestAlgorithm::Sha512)
    }

    fn keys_json(raw: &[u8], key_id: &str) -> Vec<u8> {
        serde_json::json!({"keys": [{"keyId": key_id, "keyUsage": "npm:attestations",
            "publicKey": {"rawBytes": base64::engine::general_purpose::STANDARD.encode(raw)}}]})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn npm_keys_are_read_with_usage_and_validity_and_checked_against_their_ids() {
        let k = keys();
        let ids: Vec<_> = k
            .iter()
            .map(|k| (k.key_id.as_str(), k.usage.as_str()))
            .collect();
        assert_eq!(
            ids,
            [
                (OLD_KEY, "npm:signatures"),
                (OLD_KEY, "npm:attestations"),
                (NEW_KEY, "npm:signatures"),
                (NEW_KEY, "npm:attestations"),
            ]
        );
        assert_eq!(
            k[1].valid_from,
            Some("2022-12-01T00:00:00Z".parse().unwrap())
        );
        assert_eq!(
            k[1].valid_until,
            Some("2025-01-29T00:00:00Z".parse().unwrap())
        );
        assert_eq!(k[3].valid_until, None);

        // The old key's DER under the new key's ID.
        let der = base64::engine::general_purpose::STANDARD
            .decode("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1Olb3zMAFFxXKHiIkQO5cJ3Yhl5i6UPp+IhuteBJbuHcA5UogKo0EWtlWwW6KSaKoTNEYL7JlCQiVnkhBktUgg==")
            .unwrap();
        assert_eq!(ssh_fingerprint(&der).unwrap(), OLD_KEY);
        assert_eq!(
            parse_keys(&keys_json(&der, NEW_KEY), "k").unwrap_err(),
            format!("k: keys[0]: the key's fingerprint is {OLD_KEY}, not its keyId {NEW_KEY}")
        );
        // Not an uncompressed P-256 point: too short, or a compressed point's marker.
        let prefix = &der[..26];
        let mut short = prefix.to_vec();
        short.extend_from_slice(&[4; 33]);
        let mut compressed = prefix.to_vec();
        compressed.push(2);
        compressed.extend_from_slice(&der[27..]);
        assert_eq!(compressed.len(), der.len());
        for bad in [short, compressed, der[1..].to_vec()] {
            assert_eq!(
                parse_keys(&keys_json(&bad, OLD_KEY), "k").unwrap_err(),
                "k: keys[0]: expected an ECDSA P-256 public key (npm's key type)"
            );
        }
        assert_eq!(
            parse_keys(br#"{"keys":[{"publicKey":{}}]}"#, "k").unwrap_err(),
            "k: keys[0]: expected \"keyId\""
        );
    }

    #[test]
    fn signatures_must_name_a_registry_key_when_they_name_one() {
        let k = keys();
        for file in [
            "sigstore-1.0.0.attestations.json",
            "playwright-cli-0.1.1-attestations.json",
        ] {
            for (_, b) in bundles_of(&npm_data(file), file).unwrap() {
                assert_eq!(check_key_ids(&b.unwrap(), &k), Ok(()), "{file}");
            }
        }
        let slsa = listed(
            "sigstore-0.4.0.attestations.bad-mismatched-keyid.json",
            "https://slsa.dev/provenance/v0.2",
        );
        assert_eq!(
            check_key_ids(&slsa, &k).unwrap_err(),
            "a signature names key JXkT/aBM9baLZ7dpjJLQhJrj3Ru5s/OSXoZzZsPUyhg, which is not one of npm's registry keys"
        );
        // With no keys, the publish signature's key is unknown; the keyless one is fine.
        let publish = listed("sigstore-1.0.0.attestations.json", PUBLISH_V01);
        assert!(check_key_ids(&publish, &[]).unwrap_err().contains(OLD_KEY));
        let keyless = listed(
            "sigstore-1.0.0.attestations.json",
            "https://slsa.dev/provenance/v0.2",
        );
        assert_eq!(check_key_ids(&keyless, &[]), Ok(()));
    }

    #[test]
    fn publish_attestations_are_verified_with_the_registry_key_for_this_package() {
        let k = keys();
        let store = public_good();
        let inst = &store.instances()[0];
        let b = listed("sigstore-1.0.0.attestations.json", PUBLISH_V01);
        let digest = tgz_digest("sigstore-1.0.0.tgz");
        let att = verify_publish(&b, "sigstore", "1.0.0", &digest, &k, inst).unwrap();
        assert_eq!(att.statement.unwrap().predicate_type, PUBLISH_V01);
        assert!(!att.timestamps.is_empty());

        // Another package's name or version: the subject is not it.
        assert_eq!(
            verify_publish(&b, "sigstore", "1.0.1", &digest, &k, inst).unwrap_err(),
            "the statement's subject is not pkg:npm/sigstore@1.0.1"
        );
        // The key only for signatures (not attestations) is not enough.
        let signatures_only: Vec<NpmKey> = k
            .iter()
            .filter(|k| k.usage == "npm:signatures")
            .cloned()
            .collect();
        assert_eq!(
            verify_publish(&b, "sigstore", "1.0.0", &digest, &signatures_only, inst).unwrap_err(),
            format!("signed with key {OLD_KEY}, which npm's keys do not list for attestations")
        );
        // The key's validity at the signing time, each end alone.
        let ts = att.timestamps[0].time;
        let when = |from: Option<jiff::Timestamp>, until: Option<jiff::Timestamp>| {
            let mut k = k.clone();
            for key in &mut k {
                key.valid_from = from;
                key.valid_until = until;
            }
            verify_publish(&b, "sigstore", "1.0.0", &digest, &k, inst)
        };
        let second = jiff::SignedDuration::from_secs(1);
        assert!(when(Some(ts), Some(ts)).is_ok());
        assert!(when(None, None).is_ok());
        let late = when(Some(ts + second), None).unwrap_err();
        assert_eq!(
            late,
            format!("key {OLD_KEY} was not valid at {ts} (the signing time)")
        );
        assert_eq!(when(None, Some(ts - second)).unwrap_err(), late);
        assert_eq!(
            when(Some(ts - second), Some(ts - second)).unwrap_err(),
            late
        );
        assert_eq!(
            when(Some(ts + second), Some(ts + second)).unwrap_err(),
            late
        );

        // The SLSA provenance is not npm's publish attestation.
        let slsa = listed(
            "sigstore-1.0.0.attestations.json",
            "https://slsa.dev/provenance/v0.2",
        );
        assert_eq!(
            verify_publish(&slsa, "sigstore", "1.0.0", &digest, &k, inst).unwrap_err(),
            "the publish attestation names no key (publicKey.hint)"
        );
    }

    #[test]
    fn attestations_answers_list_bundles_numbered_from_one() {
        let file = "playwright-cli-0.1.1-attestations.json";
        let all = bundles_of(&npm_data(file), "u").unwrap();
        let listed: Vec<_> = all
            .iter()
            .map(|(p, b)| (p.as_str(), b.as_ref().unwrap().origin.index))
            .collect();
        assert_eq!(
            listed,
            [(PUBLISH_V01, 1), ("https://slsa.dev/provenance/v1", 2)]
        );
        let e = bundles_of(
            br#"{"attestations":[{"predicateType":"x"},{"bundle":{}}]}"#,
            "u",
        )
        .unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(
            e[0].1.as_ref().unwrap_err().to_string(),
            "u#1: not a Sigstore bundle: expected \"bundle\""
        );
        assert!(e[1].1.is_err());
        assert_eq!(e[1].0, "");
        assert_eq!(MAX_ATTESTATIONS_BYTES, 16_777_216);
    }

    #[test]
    fn attestations_are_fetched_and_404_is_none() {
        use crate::source::test_server::{response, serve};
        let body = npm_data("sigstore-1.0.0.attestations.json");
        let (url, rx) = serve(vec![
            response("200 OK", "", &body),
            response("404 Not Found", "", b""),
        ]);
        assert_eq!(
            fetch_attestations(&url, "sigstore", "1.0.0").unwrap(),
            Some(body)
        );
        let head = rx.recv().unwrap();
        assert!(
            head.starts_with("GET /-/npm/v1/attestations/sigstore@1.0.0 HTTP/1.1\r\n"),
            "{head}"
        );
        assert_eq!(fetch_attestations(&url, "@s/p", "1.0.0").unwrap(), None);
        assert!(rx
            .recv()
            .unwrap()
            .starts_with("GET /-/npm/v1/attestations/@s%2fp@1.0.0 HTTP/1.1\r\n"));
    }

    /// The statement of a publish attestation must name this package and
    /// this version, both: a key of our own signs publish statements where
    /// one of them differs (npm's real ones always agree with themselves).
    #[test]
    fn a_publish_statement_must_name_this_package_and_this_version() {
        let key = sigstore_crypto::KeyPair::generate_ecdsa_p256().unwrap();
        let public = key.public_key_der().unwrap();
        let tarball = crate::artifact::digest_bytes(
            b"left-pad tarball",
            crate::artifact::DigestAlgorithm::Sha512,
        );
        let trust = crate::trust::TrustStore::embedded(false);
        let instance = trust.first().unwrap();
        let verify = |name: &str, version: &str| {
            let statement = serde_json::json!({
                "_type": "https://in-toto.io/Statement/v1",
                "subject": [{"name": "pkg:npm/left-pad@1.3.0", "digest": {"sha512": tarball.hex()}}],
                "predicateType": PUBLISH_V01,
                "predicate": {"name": name, "version": version, "registry": "https://registry.npmjs.org"},
            });
            let bytes =
                crate::produce::sign::sign_with_key(statement.to_string().as_bytes(), &key, None)
                    .unwrap();
            let bundle = parse_bundle(
                std::str::from_utf8(&bytes).unwrap(),
                BundleOrigin {
                    source: "test".into(),
                    line: 0,
                    index: 1,
                },
            )
            .unwrap();
            let hint = bundle.raw["verificationMaterial"]["publicKey"]["hint"]
                .as_str()
                .unwrap()
                .to_string();
            let keys = [NpmKey {
                key_id: hint,
                usage: "npm:attestations".into(),
                key: public.clone(),
                valid_from: None,
                valid_until: None,
            }];
            verify_publish(&bundle, "left-pad", "1.3.0", &tarball, &keys, instance)
        };
        assert!(verify("left-pad", "1.3.0").is_ok());
        for (name, version) in [("right-pad", "1.3.0"), ("left-pad", "9.9.9")] {
            let e = verify(name, version).unwrap_err();
            assert_eq!(
                e,
                format!("the predicate names {name}@{version}, not left-pad@1.3.0")
            );
        }
    }
}
