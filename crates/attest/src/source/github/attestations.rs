//! The attestations API itself: the query's URL, pages and their
//! `Link: rel="next"` chain (kept on the API's origin, bounded, never
//! looping), each page checked for duplicate keys and parsed, inline bundles
//! and `bundle_url` (snappy) blobs fetched without the token.

use std::collections::HashSet;

use serde::Deserialize;

use super::{GitHubApi, GitHubError, MAX_PAGE_BYTES};
use crate::artifact::ArtifactDigest;
use crate::bundle::{parse_bundle, BundleError, BundleOrigin, LoadedBundle};
use crate::json::{check_unique_keys, StrictJsonError};
use crate::source::http::{self, HttpError};

/// Largest compressed bundle blob we read.
const MAX_BLOB_BYTES: u64 = 32 * 1024 * 1024;
/// Largest decompressed bundle we accept.
const MAX_BUNDLE_BYTES: usize = crate::bundle::MAX_BUNDLE_BYTES;
/// Bundle blobs fetched at once.
const CONCURRENT_BLOBS: usize = 8;
/// Most pages one query follows, whatever `--limit` asks: ten times what
/// full pages of 100 need for the largest limit (1000).
const MAX_PAGES: usize = 100;
/// Most bundle JSON one query keeps, inline and downloaded together: what a
/// `--bundle` file may hold, so that what `download` writes can be read back.
const MAX_TOTAL_BUNDLE_BYTES: u64 = crate::source::MAX_BUNDLE_FILE_BYTES;

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

/// Parse one page of the attestations API: `{"attestations": [...]}`, in
/// which no object names a member twice. serde keeps one of two members it
/// ignores (and words a repeated known one its own way), while another
/// reader of the same page may take the other: such a page is refused
/// before it is parsed, naming the key.
fn parse_page(body: &[u8]) -> Result<Vec<ApiAttestation>, String> {
    if let Err(StrictJsonError::DuplicateKey { key, path }) = check_unique_keys(body) {
        return Err(format!(
            "duplicate key {:?} in {}; expected each JSON member once",
            crate::text::remote_text(&key),
            crate::text::remote_text(&path)
        ));
    }
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
pub(crate) fn first_page_url(api: &GitHubApi, q: &AttestationQuery) -> String {
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
        per_page(q.limit)
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
    http::block_on(fetch_attestations_async(api, q)).map_err(GitHubError::Http)?
}

/// [`fetch_attestations`] for a caller already inside a tokio runtime.
pub async fn fetch_attestations_async(
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
    let max_pages = page_budget(q.limit);
    let mut visited: HashSet<String> = HashSet::new();
    // Bundle JSON kept so far; bounded so that a long run of pages cannot
    // pile up gigabytes before the limit is reached.
    let mut kept_bytes: u64 = 0;
    // One slot per attestation, in API order; `None` until its blob arrives.
    let mut out: Vec<Option<Result<LoadedBundle, BundleError>>> = Vec::new();
    let mut pending: Vec<(usize, String, String)> = Vec::new();
    let mut url = Some(first_page_url(api, q));
    while let Some(page_url) = url.take() {
        if out.len() >= q.limit {
            break;
        }
        if visited.len() >= max_pages {
            return Err(GitHubError::Response {
                url: page_url,
                detail: format!(
                    "still linking to more pages after {max_pages} pages ({} of --limit {} attestations); expected the last page to have no rel=\"next\" link",
                    out.len(),
                    q.limit
                ),
            });
        }
        // Kept as `next_page_url` spells URLs, so a link back to the first
        // page is recognised however it is written.
        visited
            .insert(reqwest::Url::parse(&page_url).map_or_else(|_| page_url.clone(), String::from));
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
        // An empty page ends the list whatever its Link header says (gh
        // would follow it): a server that keeps linking onwards from empty
        // pages would otherwise be followed for ever, with the token.
        if parsed.is_empty() {
            break;
        }
        let link = page
            .headers
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(next_link);
        drop(page);
        for (pos, a) in parsed.into_iter().enumerate() {
            // Attestations past the limit are dropped unread, as gh truncates.
            if out.len() >= q.limit {
                break;
            }
            let index = out.len();
            let origin = BundleOrigin {
                source: format!("{page_url}#{}", pos + 1),
                line: 1,
                index: index + 1,
            };
            let initiator = a.initiator.unwrap_or_default();
            match (a.bundle_url.filter(|u| !u.is_empty()), a.bundle) {
                (Some(blob_url), _) => {
                    out.push(None);
                    pending.push((index, blob_url, initiator));
                }
                (None, Some(raw)) if raw.get() != "null" => {
                    // Parsed as its page arrives: an oversized bundle is
                    // refused here (parse_bundle's size check comes first)
                    // and its JSON freed with the page.
                    let mut b = parse_bundle(raw.get(), origin);
                    if let Ok(b) = &mut b {
                        b.initiator = initiator;
                        kept_bytes += raw.get().len() as u64;
                        check_kept(kept_bytes, &page_url)?;
                    }
                    out.push(Some(b));
                }
                (None, _) => out.push(Some(Err(BundleError::Shape {
                    origin: origin.to_string(),
                    detail: "attestation has no bundle and no bundle_url".into(),
                }))),
            }
        }
        url = match link {
            Some(next) => Some(next_page_url(&page_url, &next, &api.base, &visited)?),
            None => None,
        };
    }

    // Fetch bundle blobs concurrently, a few at a time.
    for chunk in pending.chunks(CONCURRENT_BLOBS) {
        let mut set = tokio::task::JoinSet::new();
        for (index, blob_url, initiator) in chunk.iter().cloned() {
            let c = blob_client.clone();
            set.spawn(async move {
                let r = fetch_blob(&c, &blob_url, &initiator).await;
                (index, blob_url, r)
            });
        }
        while let Some(joined) = set.join_next().await {
            let (index, blob_url, r) = joined.map_err(|e| GitHubError::Response {
                url: String::new(),
                detail: format!("bundle download task failed: {e}"),
            })?;
            if let Ok((_, len)) = &r {
                kept_bytes += *len as u64;
                check_kept(kept_bytes, &blob_url)?;
            }
            out[index] = Some(r.map(|(b, _)| b));
        }
    }
    Ok(out.into_iter().flatten().collect())
}

/// Pages one query may fetch: ten times what full pages need for `limit`
/// (GitHub fills every page but the last; the slack is for short pages),
/// never more than [`MAX_PAGES`].
fn page_budget(limit: usize) -> usize {
    (limit.div_ceil(per_page(limit)) * 10).clamp(1, MAX_PAGES)
}

/// The `per_page` gh asks for: the limit, at most 100.
fn per_page(limit: usize) -> usize {
    limit.clamp(1, 100)
}

/// Refuse to keep more bundle JSON than [`MAX_TOTAL_BUNDLE_BYTES`].
fn check_kept(kept: u64, url: &str) -> Result<(), GitHubError> {
    if kept > MAX_TOTAL_BUNDLE_BYTES {
        return Err(GitHubError::Response {
            url: url.to_string(),
            detail: format!(
                "the attestations' bundles exceed {MAX_TOTAL_BUNDLE_BYTES} bytes in total; expected at most that much (lower --limit)"
            ),
        });
    }
    Ok(())
}

/// The page a `Link: rel="next"` target names, resolved against the page
/// that linked to it, if it is a page we may fetch: on the API's own origin
/// (scheme, host and port of `base`), since every page request carries the
/// token, and not one already fetched, which would loop.
pub fn next_page_url(
    page_url: &str,
    next: &str,
    base: &str,
    visited: &HashSet<String>,
) -> Result<String, GitHubError> {
    let refuse = |detail: String| GitHubError::Response {
        url: page_url.to_string(),
        detail,
    };
    let resolved = reqwest::Url::parse(page_url)
        .and_then(|u| u.join(next))
        .map_err(|e| {
            refuse(format!(
                "Link rel=\"next\" target {next:?} is not a URL ({e}); expected a page of {base}"
            ))
        })?;
    let api = reqwest::Url::parse(base)
        .map_err(|e| refuse(format!("the API base {base:?} is not a URL ({e})")))?;
    if resolved.origin() != api.origin() {
        return Err(refuse(format!(
            "Link rel=\"next\" points to {resolved}, outside the API {base}; expected a page of the same scheme, host and port (the token is sent only there)"
        )));
    }
    let resolved = resolved.to_string();
    if visited.contains(&resolved) {
        return Err(refuse(format!(
            "Link rel=\"next\" points back to {resolved}, a page already fetched; expected a new page"
        )));
    }
    Ok(resolved)
}

/// Download, decompress and parse one `bundle_url` blob (without the token);
/// with the bundle, its decompressed size.
async fn fetch_blob(
    client: &reqwest::Client,
    url: &str,
    initiator: &str,
) -> Result<(LoadedBundle, usize), BundleError> {
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
    Ok((b, text.len()))
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
    fn next_links_stay_on_the_api_origin_and_never_repeat() {
        let base = "http://127.0.0.1:8000";
        let page = "http://127.0.0.1:8000/orgs/o/attestations/x?per_page=30";
        let mut seen = HashSet::new();
        seen.insert(page.to_string());
        let ok = |next: &str, seen: &HashSet<String>| next_page_url(page, next, base, seen);
        assert_eq!(
            ok("http://127.0.0.1:8000/orgs/o/attestations/x?after=b", &seen).unwrap(),
            "http://127.0.0.1:8000/orgs/o/attestations/x?after=b"
        );
        // Relative targets resolve against the page.
        assert_eq!(
            ok("x?after=c", &seen).unwrap(),
            "http://127.0.0.1:8000/orgs/o/attestations/x?after=c"
        );
        for other in [
            "http://127.0.0.1:8001/orgs/o/attestations/x?after=b",
            "https://127.0.0.1:8000/x",
            "http://localhost:8000/x",
            "http://evil.example/x",
            "//evil.example:8000/x",
            "file:///etc/passwd",
        ] {
            let e = ok(other, &seen).unwrap_err().to_string();
            assert!(e.contains("outside the API"), "{other}: {e}");
        }
        let e = ok(page, &seen).unwrap_err().to_string();
        assert!(e.contains("already fetched"), "{e}");
        assert!(next_page_url(page, "http://[bad", base, &seen).is_err());
        assert!(next_page_url(page, "/x", "not a url", &seen).is_err());
        // Default ports count as written.
        assert!(next_page_url(
            "https://api.github.com/a",
            "https://api.github.com:443/b",
            "https://api.github.com",
            &HashSet::new()
        )
        .is_ok());
    }

    #[test]
    fn page_budget_follows_the_limit() {
        assert_eq!(page_budget(1), 10);
        assert_eq!(page_budget(30), 10);
        assert_eq!(page_budget(100), 10);
        assert_eq!(page_budget(101), 20);
        assert_eq!(page_budget(1000), MAX_PAGES);
        assert_eq!(page_budget(0), 1);
        assert!(check_kept(MAX_TOTAL_BUNDLE_BYTES, "u").is_ok());
        assert!(check_kept(MAX_TOTAL_BUNDLE_BYTES + 1, "u").is_err());
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
