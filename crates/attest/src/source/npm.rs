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

/// The bundles of an attestations answer, each named `ORIGIN#N`.
pub fn bundles_of(
    body: &[u8],
    origin: &str,
) -> Result<Vec<Result<LoadedBundle, BundleError>>, NpmError> {
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
            let bundle = a.get("bundle").ok_or_else(|| BundleError::Shape {
                origin: format!("{origin}#{}", i + 1),
                detail: "expected \"bundle\"".into(),
            })?;
            parse_bundle(
                &bundle.to_string(),
                BundleOrigin {
                    source: origin.to_string(),
                    line: 0,
                    index: i + 1,
                },
            )
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
}
