//! Attestations from GitHub's REST API.
//!
//! `GET /repos/{owner}/{repo}/attestations/{alg}:{hex}` (or `/orgs/{owner}/…`),
//! following `Link: rel="next"` pages up to `--limit`, filtered server-side
//! by `predicate_type`. Each attestation carries its bundle inline, or
//! (since July 2026) `bundle: null` and a `bundle_url` to a snappy-compressed
//! bundle, which is fetched with a client that never sends the GitHub token.

use std::path::PathBuf;

use serde::Deserialize;

use crate::artifact::ArtifactDigest;
use crate::bundle::{parse_bundle, BundleError, BundleOrigin, LoadedBundle};
use crate::source::http::{self, HttpError};

/// Largest API page we read.
const MAX_PAGE_BYTES: u64 = 64 * 1024 * 1024;
/// Largest compressed bundle blob we read.
const MAX_BLOB_BYTES: u64 = 32 * 1024 * 1024;
/// Largest decompressed bundle we accept.
const MAX_BUNDLE_BYTES: usize = crate::bundle::MAX_BUNDLE_BYTES;
/// Bundle blobs fetched at once.
const CONCURRENT_BLOBS: usize = 8;

/// Where the API is and who we are.
#[derive(Clone)]
pub struct GitHubApi {
    /// API base URL, e.g. `https://api.github.com`.
    pub base: String,
    /// A token, if one was found.
    pub token: Option<String>,
    /// Where the token came from (for messages), never the token itself.
    pub token_source: Option<String>,
}

impl std::fmt::Debug for GitHubApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubApi")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("token_source", &self.token_source)
            .finish()
    }
}

impl GitHubApi {
    /// The API for `hostname` (github.com if `None`): `GITHUB_API_URL` if set
    /// (as GitHub Actions sets it), else `https://api.github.com`,
    /// `https://api.<tenant>.ghe.com`, or `https://<host>/api/v3` (GHES). The
    /// token comes from `GH_TOKEN`, `GITHUB_TOKEN` (or the `_ENTERPRISE_`
    /// variants for other hosts), else gh's `hosts.yml`.
    pub fn from_env(hostname: Option<&str>) -> Self {
        let host = hostname.unwrap_or("github.com").trim().to_ascii_lowercase();
        let base = match std::env::var("GITHUB_API_URL")
            .ok()
            .filter(|v| !v.is_empty())
        {
            Some(url) => url.trim_end_matches('/').to_string(),
            None if host == "github.com" => "https://api.github.com".to_string(),
            None if host.ends_with(".ghe.com") => format!("https://api.{host}"),
            None => format!("https://{host}/api/v3"),
        };
        let (token, token_source) = find_token(&host);
        Self {
            base,
            token,
            token_source,
        }
    }
}

fn find_token(host: &str) -> (Option<String>, Option<String>) {
    let vars: &[&str] = if host == "github.com" || host.ends_with(".ghe.com") {
        &["GH_TOKEN", "GITHUB_TOKEN"]
    } else {
        &["GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"]
    };
    for var in vars {
        if let Ok(v) = std::env::var(var) {
            if !v.trim().is_empty() {
                return (Some(v.trim().to_string()), Some(format!("${var}")));
            }
        }
    }
    if let Some(path) = gh_hosts_file() {
        if let Ok(text) = std::fs::read_to_string(&path) {
            if let Some(t) = token_from_hosts_yml(&text, host) {
                return (Some(t), Some(path.display().to_string()));
            }
        }
    }
    (None, None)
}

fn gh_hosts_file() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("GH_CONFIG_DIR").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir).join("hosts.yml"));
    }
    if let Some(dir) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir).join("gh/hosts.yml"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/gh/hosts.yml"))
}

/// The host-level `oauth_token` of gh's `hosts.yml` (plain-text storage; a
/// token in the system keyring is not readable here).
pub fn token_from_hosts_yml(text: &str, host: &str) -> Option<String> {
    let mut in_host = false;
    for line in text.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if indent == 0 {
            in_host = line
                .trim_end()
                .trim_end_matches(':')
                .trim_matches('"')
                .eq_ignore_ascii_case(host);
            continue;
        }
        if in_host && indent <= 4 {
            if let Some(v) = line.trim().strip_prefix("oauth_token:") {
                let v = v.trim().trim_matches('"').trim_matches('\'');
                if !v.is_empty() {
                    return Some(v.to_string());
                }
            }
        }
    }
    None
}

/// The artifact-attestation trust domain of a GHE.com tenant, from
/// `GET /meta` (`domains.artifact_attestations.trust_domain`): the tenant's
/// trusted root is the TUF target `<trust_domain>.trusted_root.json`.
pub fn trust_domain(api: &GitHubApi) -> Result<String, GitHubError> {
    let url = format!("{}/meta", api.base);
    let auth = api.token.as_ref().map(|t| format!("token {t}"));
    let page = http::block_on(async {
        let client = http::client()?;
        http::get(
            &client,
            &url,
            auth.as_deref(),
            &[("accept", "application/vnd.github+json".to_string())],
            MAX_PAGE_BYTES,
        )
        .await
    })
    .map_err(GitHubError::Http)?
    .map_err(|e| match e {
        HttpError::Status {
            url,
            status: 401 | 403,
            detail,
        } => GitHubError::AuthRequired {
            url,
            detail: format!("HTTP 401/403{detail}"),
        },
        other => GitHubError::Http(other),
    })?;
    let v: serde_json::Value =
        serde_json::from_slice(&page.body).map_err(|e| GitHubError::Response {
            url: url.clone(),
            detail: format!("not JSON: {e}"),
        })?;
    v["domains"]["artifact_attestations"]["trust_domain"]
        .as_str()
        .filter(|d| {
            !d.is_empty()
                && d.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        })
        .map(str::to_string)
        .ok_or_else(|| GitHubError::Response {
            url,
            detail: "no domains.artifact_attestations.trust_domain (or not a plain name)".into(),
        })
}

/// What to ask the API for.
#[derive(Debug, Clone)]
pub struct AttestationQuery {
    /// The owner (organisation or user).
    pub owner: String,
    /// `OWNER/REPO`, to scope to one repository.
    pub repo: Option<String>,
    /// The artifact digest.
    pub digest: ArtifactDigest,
    /// Server-side predicate-type filter.
    pub predicate_type: Option<String>,
    /// Most attestations to return (1–1000).
    pub limit: usize,
}

/// Why fetching attestations failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum GitHubError {
    /// GitHub wants a token (401, or 403/404 without one where it hides repositories).
    #[error("{url}: GitHub requires authentication for this request ({detail}); set GH_TOKEN or GITHUB_TOKEN, or log in with `gh auth login`")]
    AuthRequired {
        /// The URL.
        url: String,
        /// GitHub's status and message.
        detail: String,
    },
    /// No attestations for this digest (GitHub answers 404).
    #[error("no attestations found for {digest} in {scope} (GitHub answered 404 at {url})")]
    NotFound {
        /// The digest.
        digest: String,
        /// `owner` or `owner/repo`.
        scope: String,
        /// The URL.
        url: String,
    },
    /// Any other HTTP failure.
    #[error("{0}")]
    Http(HttpError),
    /// The API answered, but not with what the attestations API returns.
    #[error("{url}: unexpected response: {detail}")]
    Response {
        /// The URL.
        url: String,
        /// What was wrong and what was expected.
        detail: String,
    },
}

/// Parse one page of the attestations API: `{"attestations": [...]}`.
fn parse_page(body: &[u8]) -> Result<Vec<ApiAttestation>, String> {
    serde_json::from_slice::<Page>(body)
        .map(|p| p.attestations)
        .map_err(|e| format!("expected {{\"attestations\": [...]}}: {e}"))
}

/// What a page of the attestations API yields, without the network: each
/// attestation's inline bundle parsed, or its `bundle_url`. For fuzzing and
/// tests of the response handling.
pub fn parse_page_bundles(
    body: &[u8],
    source: &str,
) -> Result<Vec<Result<LoadedBundle, String>>, String> {
    Ok(parse_page(body)?
        .into_iter()
        .enumerate()
        .map(
            |(i, a)| match (a.bundle_url.filter(|u| !u.is_empty()), a.bundle) {
                (Some(url), _) => Err(format!("bundle_url {url}")),
                (None, Some(raw)) if raw.get() != "null" => parse_bundle(
                    raw.get(),
                    BundleOrigin {
                        source: source.to_string(),
                        line: 1,
                        index: i + 1,
                    },
                )
                .map_err(|e| e.to_string()),
                (None, _) => Err("no bundle and no bundle_url".to_string()),
            },
        )
        .collect())
}

#[derive(Deserialize)]
struct Page {
    attestations: Vec<ApiAttestation>,
}

#[derive(Deserialize)]
struct ApiAttestation {
    #[serde(default)]
    bundle: Option<Box<serde_json::value::RawValue>>,
    #[serde(default)]
    bundle_url: Option<String>,
    #[serde(default)]
    initiator: Option<String>,
}

fn encode_component(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The first URL of the query.
pub fn first_page_url(api: &GitHubApi, q: &AttestationQuery) -> String {
    let path = match &q.repo {
        Some(nwo) => {
            let (o, r) = nwo.split_once('/').unwrap_or((nwo, ""));
            format!("/repos/{}/{}", encode_component(o), encode_component(r))
        }
        None => format!("/orgs/{}", encode_component(&q.owner)),
    };
    let mut url = format!(
        "{}{path}/attestations/{}?per_page={}",
        api.base,
        q.digest,
        q.limit.clamp(1, 100)
    );
    if let Some(pt) = &q.predicate_type {
        url.push_str("&predicate_type=");
        url.push_str(&encode_component(pt));
    }
    url
}

/// The `rel="next"` target of a `Link` header.
pub fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let mut pieces = part.split(';');
        let target = pieces.next()?.trim();
        let is_next = pieces.any(|p| {
            let p = p.trim();
            p == "rel=\"next\"" || p == "rel=next"
        });
        (is_next && target.starts_with('<') && target.ends_with('>'))
            .then(|| target[1..target.len() - 1].to_string())
    })
}

/// Fetch every attestation for the query (up to its limit), with their
/// bundles parsed. Bundles that fail to parse are returned as errors in
/// place; failures of the API itself end the fetch.
pub fn fetch_attestations(
    api: &GitHubApi,
    q: &AttestationQuery,
) -> Result<Vec<Result<LoadedBundle, BundleError>>, GitHubError> {
    http::block_on(fetch_async(api, q)).map_err(GitHubError::Http)?
}

async fn fetch_async(
    api: &GitHubApi,
    q: &AttestationQuery,
) -> Result<Vec<Result<LoadedBundle, BundleError>>, GitHubError> {
    let client = http::client().map_err(GitHubError::Http)?;
    // The blob host never sees the token: a separate client, no auth header.
    let blob_client = http::client().map_err(GitHubError::Http)?;
    let auth = api.token.as_ref().map(|t| format!("token {t}"));
    let headers = vec![
        ("accept", "application/vnd.github+json".to_string()),
        ("x-github-api-version", "2022-11-28".to_string()),
    ];
    let scope = q.repo.clone().unwrap_or_else(|| q.owner.clone());
    let mut url = Some(first_page_url(api, q));
    let mut found: Vec<(String, usize, ApiAttestation)> = Vec::new();
    while let Some(page_url) = url.take() {
        if found.len() >= q.limit {
            break;
        }
        let page = http::get(
            &client,
            &page_url,
            auth.as_deref(),
            &headers,
            MAX_PAGE_BYTES,
        )
        .await
        .map_err(|e| classify(e, api, q, &scope))?;
        let content_type = page
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !content_type.contains("json") {
            return Err(GitHubError::Response {
                url: page_url,
                detail: format!("expected JSON, got content type {content_type:?}"),
            });
        }
        let parsed = parse_page(&page.body).map_err(|detail| GitHubError::Response {
            url: page_url.clone(),
            detail,
        })?;
        for (i, a) in parsed.into_iter().enumerate() {
            found.push((page_url.clone(), i + 1, a));
        }
        url = page
            .headers
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(next_link);
    }
    found.truncate(q.limit);

    let mut out = Vec::with_capacity(found.len());
    let mut pending: Vec<(usize, String, String, String)> = Vec::new();
    for (index, (page_url, pos, a)) in found.into_iter().enumerate() {
        let origin = BundleOrigin {
            source: format!("{page_url}#{pos}"),
            line: 1,
            index: index + 1,
        };
        let initiator = a.initiator.unwrap_or_default();
        match (a.bundle_url.filter(|u| !u.is_empty()), a.bundle) {
            (Some(blob_url), _) => {
                out.push(None);
                pending.push((index, blob_url, initiator, origin.source));
            }
            (None, Some(raw)) if raw.get() != "null" => {
                let mut b = parse_bundle(raw.get(), origin);
                if let Ok(b) = &mut b {
                    b.initiator = initiator;
                }
                out.push(Some(b));
            }
            (None, _) => out.push(Some(Err(BundleError::Shape {
                origin: origin.to_string(),
                detail: "attestation has no bundle and no bundle_url".into(),
            }))),
        }
    }
    // Fetch bundle blobs concurrently, a few at a time.
    for chunk in pending.chunks(CONCURRENT_BLOBS) {
        let mut set = tokio::task::JoinSet::new();
        for (index, blob_url, initiator, _) in chunk.iter().cloned() {
            let c = blob_client.clone();
            set.spawn(async move {
                let r = fetch_blob(&c, &blob_url, &initiator).await;
                (index, r)
            });
        }
        while let Some(joined) = set.join_next().await {
            let (index, r) = joined.map_err(|e| GitHubError::Response {
                url: String::new(),
                detail: format!("bundle download task failed: {e}"),
            })?;
            out[index] = Some(r);
        }
    }
    Ok(out.into_iter().flatten().collect())
}

async fn fetch_blob(
    client: &reqwest::Client,
    url: &str,
    initiator: &str,
) -> Result<LoadedBundle, BundleError> {
    let origin = BundleOrigin {
        source: url.to_string(),
        line: 1,
        index: 0,
    };
    let fetched = http::get(client, url, None, &[], MAX_BLOB_BYTES)
        .await
        .map_err(|e| BundleError::Shape {
            origin: url.to_string(),
            detail: format!("could not download the bundle: {e}"),
        })?;
    let json = decompress_bundle(&fetched.body).map_err(|detail| BundleError::Shape {
        origin: url.to_string(),
        detail,
    })?;
    let text = std::str::from_utf8(&json).map_err(|e| BundleError::Shape {
        origin: url.to_string(),
        detail: format!("the decompressed bundle is not UTF-8: {e}"),
    })?;
    let mut b = parse_bundle(text, origin)?;
    b.bundle_url = url.to_string();
    b.initiator = initiator.to_string();
    Ok(b)
}

/// Decode a snappy (raw block format) bundle blob, refusing one that would
/// decompress past the bundle size limit before allocating for it.
pub fn decompress_bundle(data: &[u8]) -> Result<Vec<u8>, String> {
    let len =
        snap::raw::decompress_len(data).map_err(|e| format!("not snappy-compressed data: {e}"))?;
    if len > MAX_BUNDLE_BYTES {
        return Err(format!(
            "the bundle would decompress to {len} bytes, over the {MAX_BUNDLE_BYTES}-byte limit"
        ));
    }
    snap::raw::Decoder::new()
        .decompress_vec(data)
        .map_err(|e| format!("invalid snappy data: {e}"))
}

fn classify(e: HttpError, api: &GitHubApi, q: &AttestationQuery, scope: &str) -> GitHubError {
    match &e {
        HttpError::Status {
            url,
            status: 401,
            detail,
        } => GitHubError::AuthRequired {
            url: url.clone(),
            detail: format!("HTTP 401{detail}"),
        },
        HttpError::Status {
            url,
            status: 403 | 404,
            detail,
        } if api.token.is_none() => GitHubError::AuthRequired {
            url: url.clone(),
            detail: format!(
                "HTTP {}{detail}; without a token GitHub shows public repositories only",
                if let HttpError::Status { status, .. } = &e {
                    *status
                } else {
                    0
                }
            ),
        },
        HttpError::Status {
            url, status: 404, ..
        } => GitHubError::NotFound {
            digest: q.digest.to_string(),
            scope: scope.to_string(),
            url: url.clone(),
        },
        _ => GitHubError::Http(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_link_headers() {
        let link = r#"<https://api.github.com/x?after=abc&per_page=2>; rel="next", <https://api.github.com/x?before=z>; rel="prev""#;
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/x?after=abc&per_page=2")
        );
        assert_eq!(next_link(r#"<https://a/b>; rel="prev""#), None);
    }

    #[test]
    fn reads_hosts_yml_tokens() {
        let yml = "github.com:\n    users:\n        me:\n            oauth_token: nested\n    oauth_token: gho_top\n    user: me\nacme.ghe.com:\n    oauth_token: \"ghe\"\n";
        assert_eq!(
            token_from_hosts_yml(yml, "github.com").as_deref(),
            Some("gho_top")
        );
        assert_eq!(
            token_from_hosts_yml(yml, "acme.ghe.com").as_deref(),
            Some("ghe")
        );
        assert_eq!(token_from_hosts_yml(yml, "other.com"), None);
    }

    #[test]
    fn urls_follow_gh() {
        let api = GitHubApi {
            base: "https://api.github.com".into(),
            token: None,
            token_source: None,
        };
        let digest = ArtifactDigest::parse(
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        )
        .unwrap();
        let q = AttestationQuery {
            owner: "o".into(),
            repo: Some("o/r".into()),
            digest,
            predicate_type: Some("https://slsa.dev/provenance/v1".into()),
            limit: 30,
        };
        assert_eq!(
            first_page_url(&api, &q),
            "https://api.github.com/repos/o/r/attestations/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855?per_page=30&predicate_type=https%3A%2F%2Fslsa.dev%2Fprovenance%2Fv1"
        );
        let q = AttestationQuery {
            repo: None,
            limit: 500,
            predicate_type: None,
            ..q
        };
        assert!(first_page_url(&api, &q)
            .starts_with("https://api.github.com/orgs/o/attestations/sha256:"));
        assert!(first_page_url(&api, &q).ends_with("?per_page=100"));
    }

    #[test]
    fn snappy_bombs_and_garbage_are_refused() {
        assert!(decompress_bundle(b"\xff\xff\xff\xff\x7fgarbage").is_err());
        let big = vec![b'a'; MAX_BUNDLE_BYTES + 1];
        let compressed = snap::raw::Encoder::new().compress_vec(&big).unwrap();
        assert!(decompress_bundle(&compressed)
            .unwrap_err()
            .contains("limit"));
        let ok = snap::raw::Encoder::new().compress_vec(b"{}").unwrap();
        assert_eq!(decompress_bundle(&ok).unwrap(), b"{}");
    }
}
