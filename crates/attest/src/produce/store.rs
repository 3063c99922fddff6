//! Storing bundles: GitHub's attestations API
//! (`POST /repos/{owner}/{repo}/attestations` with `{"bundle": …}`), as
//! actions/attest does. OCI referrers are pushed by `source::oci`.

use crate::source::github::GitHubApi;
use crate::source::http::{self, block_on, HttpError};

/// Why the upload failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// No token to authenticate with.
    #[error("uploading to GitHub needs a token: set GH_TOKEN or GITHUB_TOKEN (in Actions: permissions attestations: write)")]
    NoToken,
    /// The request failed.
    #[error("{0}")]
    Http(String),
    /// The answer was not what the API returns.
    #[error("{url}: unexpected response: {detail}")]
    Response {
        /// The URL.
        url: String,
        /// What was wrong.
        detail: String,
    },
}

/// Upload a bundle to `OWNER/REPO`'s attestations; returns the attestation ID.
pub fn upload_to_github(
    api: &GitHubApi,
    repo: &str,
    bundle_json: &[u8],
) -> Result<u64, StoreError> {
    let token = api.token.as_ref().ok_or(StoreError::NoToken)?;
    let (owner, name) = repo.split_once('/').ok_or_else(|| {
        StoreError::Http(format!("invalid repository {repo:?}: expected OWNER/REPO"))
    })?;
    let url = format!("{}/repos/{owner}/{name}/attestations", api.base);
    let bundle: serde_json::Value = serde_json::from_slice(bundle_json)
        .map_err(|e| StoreError::Http(format!("the bundle is not JSON: {e}")))?;
    let body = serde_json::to_vec(&serde_json::json!({ "bundle": bundle }))
        .map_err(|e| StoreError::Http(e.to_string()))?;
    let auth = format!("token {token}");
    let result = block_on(async {
        let client = http::client()?;
        let mut attempt = 0u32;
        loop {
            let resp = client
                .post(&url)
                .header("authorization", &auth)
                .header("accept", "application/vnd.github+json")
                .header("x-github-api-version", "2022-11-28")
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .map_err(|e| HttpError::Transport {
                    url: url.clone(),
                    detail: e.to_string(),
                })?;
            let status = resp.status();
            // actions/attest retries the upload; so do we, on 5xx and 429.
            if (status.is_server_error() || status.as_u16() == 429) && attempt < 4 {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(250 << attempt)).await;
                continue;
            }
            let text = resp.bytes().await.map_err(|e| HttpError::Transport {
                url: url.clone(),
                detail: e.to_string(),
            })?;
            if !status.is_success() {
                return Err(HttpError::Status {
                    url: url.clone(),
                    status: status.as_u16(),
                    detail: String::from_utf8_lossy(&text)
                        .chars()
                        .take(200)
                        .collect::<String>(),
                });
            }
            return Ok(text.to_vec());
        }
    })
    .map_err(|e| StoreError::Http(e.to_string()))?
    .map_err(|e| StoreError::Http(e.to_string()))?;
    let v: serde_json::Value =
        serde_json::from_slice(&result).map_err(|e| StoreError::Response {
            url: url.clone(),
            detail: format!("not JSON: {e}"),
        })?;
    v["id"].as_u64().ok_or_else(|| StoreError::Response {
        url,
        detail: "no numeric \"id\" in the answer".into(),
    })
}
