//! Multi-arch images: the platform manifests an index lists.
//!
//! What OpenMed (and `docker buildx`) attest is the index digest; each
//! platform manifest may carry evidence of its own (cosign signs each, and
//! buildx attaches per-platform provenance). The index is always read by
//! the digest that was resolved, never by tag, and its bytes must hash to
//! that digest: a tag that moved after it was resolved, or a registry that
//! serves other content, is refused, never followed.

use std::fmt;

use oci_client::Reference;
use serde_json::Value;

use super::{run_bounded, OciError, Puller, MANIFEST_ACCEPT};
use crate::artifact::{digest_bytes, ArtifactDigest};

/// The most platform manifests one index may list: real indexes list a
/// handful (Docker Hub's largest official images about 10), and every
/// entry may cost requests.
pub const MAX_PLATFORMS: usize = 64;

/// One platform manifest of an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformManifest {
    /// Its digest (what its own evidence names).
    pub digest: ArtifactDigest,
    /// `os`.
    pub os: String,
    /// `architecture`.
    pub architecture: String,
    /// `variant` (`v8` for `linux/arm64/v8`), when given.
    pub variant: Option<String>,
}

impl fmt::Display for PlatformManifest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl PlatformManifest {
    /// Whether this manifest is for `platform` (`os/arch` or
    /// `os/arch/variant`; without a variant any variant matches, as
    /// `docker pull --platform` does).
    pub fn matches(&self, platform: &str) -> bool {
        let mut parts = platform.split('/');
        let (Some(os), Some(arch)) = (parts.next(), parts.next()) else {
            return false;
        };
        let variant = parts.next();
        if parts.next().is_some() {
            return false;
        }
        self.os == os
            && self.architecture == arch
            && variant.is_none_or(|v| self.variant.as_deref() == Some(v))
    }
}

/// Check a `--platform` value: `os/arch` or `os/arch/variant`, each part
/// non-empty.
pub fn parse_platform(text: &str) -> Result<String, String> {
    let parts: Vec<&str> = text.split('/').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty()) {
        return Err(format!(
            "expected a platform as OS/ARCH or OS/ARCH/VARIANT (linux/arm64), got {text:?}"
        ));
    }
    Ok(text.to_string())
}

/// The platform manifests of the image `digest` in `reference`'s
/// repository: empty for a single-platform image (a manifest, not an
/// index). Entries without a platform, and buildx's attestation manifests
/// (`unknown/unknown`), are not platforms and are left out.
pub fn platform_manifests(
    reference: &Reference,
    digest: &ArtifactDigest,
    auth: &oci_client::secrets::RegistryAuth,
) -> Result<Vec<PlatformManifest>, OciError> {
    let text = format!(
        "{}/{}@{digest}",
        reference.registry(),
        reference.repository()
    );
    let body = run_bounded(&text, async {
        let mut puller = Puller::new(reference, auth, &text)?;
        puller
            .manifest(&digest.to_string(), MANIFEST_ACCEPT)
            .await?
            .ok_or_else(|| OciError::NotFound {
                reference: text.clone(),
                detail: "the manifest is gone (it was there when the digest was resolved)".into(),
            })
    })?;
    platforms_of(&text, digest, &body)
}

fn registry_error(reference: &str, detail: String) -> OciError {
    OciError::Registry {
        reference: reference.to_string(),
        detail,
    }
}

/// [`platform_manifests`] of the bytes `body` the registry sent for `digest`.
pub fn platforms_of(
    text: &str,
    digest: &ArtifactDigest,
    body: &[u8],
) -> Result<Vec<PlatformManifest>, OciError> {
    let fail = |detail: String| registry_error(text, detail);
    let served = digest_bytes(body, digest.algorithm());
    if &served != digest {
        return Err(fail(format!(
            "the registry served a manifest whose digest is {served} for {digest}; the tag moved or the registry is not serving what it resolved, so nothing is verified"
        )));
    }
    entries_of(text, digest, body)
}

/// The platform entries of an index whose bytes were checked against
/// `digest`. Content addressing makes a self-listing index impossible to
/// serve under its own digest; the check stays for the day the content check
/// above is changed, and is tested on its own.
fn entries_of(
    text: &str,
    digest: &ArtifactDigest,
    body: &[u8],
) -> Result<Vec<PlatformManifest>, OciError> {
    let fail = |detail: String| registry_error(text, detail);
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| fail(format!("expected the manifest to be JSON: {e}")))?;
    crate::json::check_unique_keys(body).map_err(|e| fail(format!("the manifest: {e}")))?;
    let Some(entries) = value.get("manifests") else {
        // A single-platform manifest.
        return Ok(Vec::new());
    };
    let entries = entries
        .as_array()
        .ok_or_else(|| fail("expected the index's \"manifests\" to be an array".into()))?;
    let mut out: Vec<PlatformManifest> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let field = |name: &str| e.get(name).and_then(Value::as_str);
        let entry_digest = field("digest")
            .ok_or_else(|| fail(format!("index entry {i}: expected a \"digest\" string")))
            .and_then(|d| {
                ArtifactDigest::parse(d).map_err(|err| {
                    fail(format!(
                        "index entry {i}: expected a sha256 or sha512 digest, got {:?}: {err}",
                        crate::text::remote_text(d)
                    ))
                })
            })?;
        if &entry_digest == digest {
            return Err(fail(format!(
                "index entry {i} is the index itself ({digest}); an index that lists itself is refused"
            )));
        }
        let Some(platform) = e.get("platform") else {
            continue;
        };
        let part = |name: &str| {
            platform
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let (Some(os), Some(architecture)) = (part("os"), part("architecture")) else {
            return Err(fail(format!(
                "index entry {i}: expected \"platform\" with \"os\" and \"architecture\" strings"
            )));
        };
        if os == "unknown" && architecture == "unknown" {
            continue;
        }
        let m = PlatformManifest {
            digest: entry_digest,
            os: crate::text::remote_text(&os),
            architecture: crate::text::remote_text(&architecture),
            variant: part("variant").map(|v| crate::text::remote_text(&v)),
        };
        if !out.iter().any(|o| o.digest == m.digest) {
            out.push(m);
        }
        if out.len() > MAX_PLATFORMS {
            return Err(fail(format!(
                "the index lists more than {MAX_PLATFORMS} platform manifests"
            )));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::DigestAlgorithm;

    fn index(entries: &str) -> Vec<u8> {
        format!(r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{entries}]}}"#).into_bytes()
    }

    fn entry(hex: char, platform: &str) -> String {
        format!(
            r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"sha256:{}"{platform}}}"#,
            hex.to_string().repeat(64)
        )
    }

    #[test]
    fn platforms_are_listed_and_attestation_manifests_left_out() {
        let body = index(
            &[
                entry('a', r#","platform":{"os":"linux","architecture":"amd64"}"#),
                entry(
                    'b',
                    r#","platform":{"os":"linux","architecture":"arm64","variant":"v8"}"#,
                ),
                entry(
                    'c',
                    r#","platform":{"os":"unknown","architecture":"unknown"}"#,
                ),
                entry('d', ""),
            ]
            .join(","),
        );
        let d = digest_bytes(&body, DigestAlgorithm::Sha256);
        let p = platforms_of("x", &d, &body).unwrap();
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(p[1].to_string(), "linux/arm64/v8");
        assert!(p[1].matches("linux/arm64") && p[1].matches("linux/arm64/v8"));
        assert!(!p[1].matches("linux/arm64/v7") && !p[0].matches("linux/arm64"));
        assert!(!p[0].matches("linux") && !p[0].matches("linux/amd64/x/y"));
    }

    #[test]
    fn other_content_and_self_listing_are_refused() {
        let body = index(&entry(
            'a',
            r#","platform":{"os":"linux","architecture":"amd64"}"#,
        ));
        let other = digest_bytes(b"another manifest", DigestAlgorithm::Sha256);
        let e = platforms_of("x", &other, &body).unwrap_err().to_string();
        assert!(
            e.contains("the tag moved or the registry is not serving what it resolved"),
            "{e}"
        );
        // An index cannot name its own digest inside itself (the digest
        // covers its bytes), so the entry check is exercised directly.
        let looping = index(&entry('a', ""));
        let listed = ArtifactDigest::parse(&format!("sha256:{}", "a".repeat(64))).unwrap();
        let e = platforms_of_unchecked(&listed, &looping)
            .unwrap_err()
            .to_string();
        assert!(e.contains("is the index itself"), "{e}");
        // A single-platform manifest has no platforms.
        let manifest = br#"{"schemaVersion":2,"config":{},"layers":[]}"#;
        let d = digest_bytes(manifest, DigestAlgorithm::Sha256);
        assert!(platforms_of("x", &d, manifest).unwrap().is_empty());
        assert!(parse_platform("linux/arm64").is_ok() && parse_platform("linux").is_err());
        assert!(parse_platform("linux//v8").is_err() && parse_platform("a/b/c/d").is_err());
    }

    fn hex_entry(n: usize, platform: &str) -> String {
        format!(
            r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"sha256:{n:064x}"{platform}}}"#
        )
    }

    #[test]
    fn platforms_keep_their_parts_and_come_once_each() {
        let body = index(
            &[
                entry('a', r#","platform":{"os":"linux","architecture":"amd64"}"#),
                entry('a', r#","platform":{"os":"linux","architecture":"amd64"}"#),
                entry(
                    'b',
                    r#","platform":{"os":"unknown","architecture":"amd64"}"#,
                ),
                entry(
                    'c',
                    r#","platform":{"os":"linux","architecture":"unknown"}"#,
                ),
                entry(
                    'd',
                    r#","platform":{"os":"windows","architecture":"amd64"}"#,
                ),
            ]
            .join(","),
        );
        let d = digest_bytes(&body, DigestAlgorithm::Sha256);
        let p = platforms_of("x", &d, &body).unwrap();
        let shown: Vec<String> = p.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "linux/amd64",
                "unknown/amd64",
                "linux/unknown",
                "windows/amd64"
            ]
        );
        assert_eq!(p[0].digest.hex(), "a".repeat(64));
        assert_eq!(p[0].variant, None);
        assert!(p[3].matches("windows/amd64") && !p[3].matches("linux/amd64"));
        assert!(!p[0].matches("windows/amd64") && !p[0].matches("linux/arm64"));
        assert_eq!(parse_platform("linux/arm64/v8").unwrap(), "linux/arm64/v8");
        assert_eq!(parse_platform("linux/arm64").unwrap(), "linux/arm64");
        assert_eq!(
            parse_platform("/arm64").unwrap_err(),
            r#"expected a platform as OS/ARCH or OS/ARCH/VARIANT (linux/arm64), got "/arm64""#
        );
    }

    #[test]
    fn an_index_may_list_64_platforms_and_no_more() {
        let platforms = |n: usize| {
            index(
                &(1..=n)
                    .map(|i| hex_entry(i, r#","platform":{"os":"linux","architecture":"amd64"}"#))
                    .collect::<Vec<_>>()
                    .join(","),
            )
        };
        let body = platforms(MAX_PLATFORMS);
        let d = digest_bytes(&body, DigestAlgorithm::Sha256);
        assert_eq!(platforms_of("x", &d, &body).unwrap().len(), MAX_PLATFORMS);
        let body = platforms(MAX_PLATFORMS + 1);
        let d = digest_bytes(&body, DigestAlgorithm::Sha256);
        assert_eq!(
            platforms_of("x", &d, &body).unwrap_err(),
            OciError::Registry {
                reference: "x".into(),
                detail: "the index lists more than 64 platform manifests".into(),
            }
        );
    }

    #[test]
    fn the_index_is_read_by_its_digest_from_the_registry() {
        use crate::source::test_server::{response, serve};
        let body = index(&entry(
            'a',
            r#","platform":{"os":"linux","architecture":"arm64","variant":"v8"}"#,
        ));
        let d = digest_bytes(&body, DigestAlgorithm::Sha256);
        let (base, requests) = serve(vec![response("200 OK", "", &body)]);
        let host = base.trim_start_matches("http://");
        let reference: Reference = format!("{host}/o/r:latest").parse().unwrap();
        let anonymous = oci_client::secrets::RegistryAuth::Anonymous;
        let p = platform_manifests(&reference, &d, &anonymous).unwrap();
        assert_eq!(
            p,
            [PlatformManifest {
                digest: ArtifactDigest::parse(&format!("sha256:{}", "a".repeat(64))).unwrap(),
                os: "linux".into(),
                architecture: "arm64".into(),
                variant: Some("v8".into()),
            }]
        );
        assert!(requests
            .recv()
            .unwrap()
            .starts_with(&format!("GET /v2/o/r/manifests/{d} HTTP/1.1\r\n")));

        let (base, _) = serve(vec![response("404 Not Found", "", b"")]);
        let host = base.trim_start_matches("http://");
        let reference: Reference = format!("{host}/o/r:latest").parse().unwrap();
        assert_eq!(
            platform_manifests(&reference, &d, &anonymous).unwrap_err(),
            OciError::NotFound {
                reference: format!("{host}/o/r@{d}"),
                detail: "the manifest is gone (it was there when the digest was resolved)".into(),
            }
        );
    }

    /// The entry checks without the content check (which a self-listing
    /// index cannot pass by construction: its digest covers its own bytes).
    fn platforms_of_unchecked(
        digest: &ArtifactDigest,
        body: &[u8],
    ) -> Result<Vec<PlatformManifest>, OciError> {
        entries_of("x", digest, body)
    }
}
