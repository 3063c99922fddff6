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

    use crate::source::test_server::{response, serve};

    /// A real bundle (sigstore-go's provenance test bundle), as the API
    /// would carry it inline.
    fn bundle_json() -> String {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/sigstore-go/bundle-provenance.json"),
        )
        .unwrap()
        .trim()
        .to_string()
    }

    /// `bundle_json` padded with spaces inside its object to `len` bytes.
    fn padded_bundle(len: usize) -> String {
        let b = bundle_json();
        format!("{{{}{}", " ".repeat(len - b.len()), &b[1..])
    }

    /// Snappy's raw format with the whole input as one literal: the blob
    /// is as large as what it decompresses to (plus 9 bytes).
    fn snappy_literal(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut n = data.len() as u64;
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                break;
            }
            out.push(b | 0x80);
        }
        out.push(63 << 2);
        out.extend_from_slice(&((data.len() - 1) as u32).to_le_bytes());
        out.extend_from_slice(data);
        out
    }

    fn digest() -> ArtifactDigest {
        ArtifactDigest::parse(
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        )
        .unwrap()
    }

    fn query(limit: usize) -> AttestationQuery {
        AttestationQuery {
            owner: "o".into(),
            repo: Some("o/r".into()),
            digest: digest(),
            predicate_type: None,
            limit,
        }
    }

    fn api(base: &str, token: Option<&str>) -> GitHubApi {
        GitHubApi {
            base: base.into(),
            token: token.map(str::to_string),
            token_source: None,
        }
    }

    fn json_page(body: &str, extra_headers: &str) -> Vec<u8> {
        response(
            "200 OK",
            &format!("content-type: application/json; charset=utf-8\r\n{extra_headers}"),
            body.as_bytes(),
        )
    }

    #[test]
    fn link_headers_need_rel_next_and_an_angle_bracketed_target() {
        assert_eq!(
            next_link("<https://a/p2>; rel=next").as_deref(),
            Some("https://a/p2")
        );
        assert_eq!(
            next_link(r#"<https://a/p0>; rel="prev", <https://a/p2>; rel=next"#).as_deref(),
            Some("https://a/p2")
        );
        assert_eq!(next_link(r#"https://a/p2; rel="next""#), None);
        assert_eq!(next_link(r#"<https://a/p2; rel="next""#), None);
        assert_eq!(next_link(r#"https://a/p2>; rel="next""#), None);
        assert_eq!(next_link("<https://a/p2>"), None);
    }

    #[test]
    fn a_page_gives_each_attestation_s_bundle_or_its_url_in_order() {
        let b = bundle_json();
        let page = format!(
            r#"{{"attestations":[{{"bundle":{b}}},{{"bundle":null,"bundle_url":"https://blob/x"}},{{"bundle":null}},{{"bundle_url":"","bundle":{b}}},{{}}]}}"#
        );
        let got = parse_page_bundles(page.as_bytes(), "src").unwrap();
        assert_eq!(got.len(), 5);
        let first = got[0].as_ref().unwrap();
        assert_eq!(
            (
                first.origin.source.as_str(),
                first.origin.line,
                first.origin.index
            ),
            ("src", 1, 1)
        );
        assert_eq!(got[1].as_ref().unwrap_err(), "bundle_url https://blob/x");
        assert_eq!(got[2].as_ref().unwrap_err(), "no bundle and no bundle_url");
        assert_eq!(got[3].as_ref().unwrap().origin.index, 4);
        assert_eq!(got[4].as_ref().unwrap_err(), "no bundle and no bundle_url");
        assert_eq!(
            parse_page_bundles(br#"{"attestations":[]}"#, "s")
                .unwrap()
                .len(),
            0
        );

        let e = parse_page_bundles(br#"{"attestations":[],"attestations":[]}"#, "s")
            .err()
            .unwrap();
        assert_eq!(
            e,
            r#"duplicate key "attestations" in the top-level object; expected each JSON member once"#
        );
        let e = parse_page_bundles(br#"{"items":[]}"#, "s").err().unwrap();
        assert!(
            e.starts_with(r#"expected {"attestations": [...]}: missing field `attestations`"#),
            "{e}"
        );
    }

    #[test]
    fn pages_are_followed_up_to_the_limit_and_blobs_fetched_without_the_token() {
        let b = bundle_json();
        let (blobs, blob_requests) = serve(vec![response(
            "200 OK",
            "content-type: application/octet-stream\r\n",
            &snap::raw::Encoder::new()
                .compress_vec(b.as_bytes())
                .unwrap(),
        )]);
        let page1 = format!(
            r#"{{"attestations":[{{"bundle":{b},"initiator":"user"}},{{"bundle":null,"bundle_url":"{blobs}/blob/1","initiator":"github-actions"}},{{"bundle_url":"","bundle":{b}}}]}}"#
        );
        let page2 =
            format!(r#"{{"attestations":[{{"bundle":null}},{{"bundle":{b}}},{{"bundle":{b}}}]}}"#);
        let (base, requests) = serve(vec![
            json_page(
                &page1,
                "link: </repos/o/r/attestations/x?after=2>; rel=\"next\"\r\n",
            ),
            json_page(
                &page2,
                "link: </repos/o/r/attestations/x?after=5>; rel=\"next\"\r\n",
            ),
        ]);
        let got = fetch_attestations(&api(&base, Some("sekrit")), &query(5)).unwrap();
        assert_eq!(got.len(), 5, "{got:?}");
        let first = got[0].as_ref().unwrap();
        let page1_url = format!("{base}/repos/o/r/attestations/{}?per_page=5", digest());
        assert_eq!(first.origin.source, format!("{page1_url}#1"));
        assert_eq!(first.origin.index, 1);
        assert_eq!(first.initiator, "user");
        assert_eq!(first.bundle_url, "");
        let blob = got[1].as_ref().unwrap();
        assert_eq!(blob.bundle_url, format!("{blobs}/blob/1"));
        assert_eq!(blob.initiator, "github-actions");
        assert_eq!(blob.origin.source, format!("{blobs}/blob/1"));
        let third = got[2].as_ref().unwrap();
        assert_eq!(third.origin.source, format!("{page1_url}#3"));
        assert_eq!(third.origin.index, 3);
        assert_eq!(third.bundle_url, "");
        let page2_url = format!("{base}/repos/o/r/attestations/x?after=2");
        assert_eq!(
            got[3].as_ref().unwrap_err(),
            &BundleError::Shape {
                origin: format!("{page2_url}#1:1"),
                detail: "attestation has no bundle and no bundle_url".into(),
            }
        );
        let fifth = got[4].as_ref().unwrap();
        assert_eq!(fifth.origin.source, format!("{page2_url}#2"));
        assert_eq!(fifth.origin.index, 5);

        // Two pages asked for, with the token and gh's headers; the limit
        // was reached on the second, so its next link was not followed.
        let first_request = requests.recv().unwrap();
        assert!(
            first_request.starts_with(&format!(
                "GET /repos/o/r/attestations/{}?per_page=5 HTTP/1.1\r\n",
                digest()
            )),
            "{first_request}"
        );
        let lower = first_request.to_ascii_lowercase();
        assert!(
            lower.contains("authorization: token sekrit\r\n"),
            "{first_request}"
        );
        assert!(
            lower.contains("accept: application/vnd.github+json\r\n"),
            "{first_request}"
        );
        assert!(
            lower.contains("x-github-api-version: 2022-11-28\r\n"),
            "{first_request}"
        );
        let second = requests.recv().unwrap();
        assert!(
            second.starts_with("GET /repos/o/r/attestations/x?after=2 HTTP/1.1\r\n"),
            "{second}"
        );
        assert!(requests.try_recv().is_err());
        let blob_request = blob_requests.recv().unwrap();
        assert!(
            blob_request.starts_with("GET /blob/1 HTTP/1.1\r\n"),
            "{blob_request}"
        );
        assert!(
            !blob_request.to_ascii_lowercase().contains("authorization"),
            "{blob_request}"
        );
    }

    #[test]
    fn an_empty_page_or_a_page_without_a_link_ends_the_list() {
        let b = bundle_json();
        let (base, requests) = serve(vec![
            json_page(
                &format!(r#"{{"attestations":[{{"bundle":{b}}}]}}"#),
                "link: </p2>; rel=\"next\"\r\n",
            ),
            json_page(r#"{"attestations":[]}"#, "link: </p3>; rel=\"next\"\r\n"),
        ]);
        let got = fetch_attestations(&api(&base, None), &query(30)).unwrap();
        assert_eq!(got.len(), 1);
        assert!(got[0].is_ok());
        let first = requests.recv().unwrap();
        assert!(
            !first.to_ascii_lowercase().contains("authorization"),
            "{first}"
        );
        assert!(requests.recv().unwrap().starts_with("GET /p2 HTTP/1.1\r\n"));

        let (base, _) = serve(vec![json_page(
            &format!(r#"{{"attestations":[{{"bundle":{b}}},{{"bundle":{b}}}]}}"#),
            "",
        )]);
        assert_eq!(
            fetch_attestations(&api(&base, None), &query(30))
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn a_page_that_is_not_json_or_links_on_for_ever_is_refused() {
        let (base, _) = serve(vec![response(
            "200 OK",
            "content-type: text/html\r\n",
            br#"{"attestations":[]}"#,
        )]);
        let e = fetch_attestations(&api(&base, None), &query(30)).unwrap_err();
        assert_eq!(
            e,
            GitHubError::Response {
                url: format!("{base}/repos/o/r/attestations/{}?per_page=30", digest()),
                detail: r#"expected JSON, got content type "text/html""#.into(),
            }
        );

        // --limit 100: a budget of 10 pages. Each page holds one entry and
        // links to another, so the limit is never reached.
        let pages: Vec<Vec<u8>> = (0..10)
            .map(|i| {
                json_page(
                    r#"{"attestations":[{"bundle":null}]}"#,
                    &format!("link: </p{}>; rel=\"next\"\r\n", i + 1),
                )
            })
            .collect();
        let (base, requests) = serve(pages);
        let e = fetch_attestations(&api(&base, None), &query(100)).unwrap_err();
        assert_eq!(
            e,
            GitHubError::Response {
                url: format!("{base}/p10"),
                detail: "still linking to more pages after 10 pages (10 of --limit 100 attestations); expected the last page to have no rel=\"next\" link".into(),
            }
        );
        assert_eq!(requests.try_iter().count(), 10);
    }

    #[test]
    fn api_errors_are_classified_by_status_and_token() {
        let status = |status: u16| HttpError::Status {
            url: "u".into(),
            status,
            detail: ": msg".into(),
        };
        let q = query(30);
        let anonymous = api("https://api.github.com", None);
        let with_token = api("https://api.github.com", Some("t"));
        for api in [&anonymous, &with_token] {
            assert_eq!(
                classify(status(401), api, &q, "o/r"),
                GitHubError::AuthRequired {
                    url: "u".into(),
                    detail: "HTTP 401: msg".into(),
                }
            );
        }
        for code in [403, 404] {
            assert_eq!(
                classify(status(code), &anonymous, &q, "o/r"),
                GitHubError::AuthRequired {
                    url: "u".into(),
                    detail: format!(
                        "HTTP {code}: msg; without a token GitHub shows public repositories only"
                    ),
                }
            );
        }
        assert_eq!(
            classify(status(404), &with_token, &q, "o/r"),
            GitHubError::NotFound {
                digest: digest().to_string(),
                scope: "o/r".into(),
                url: "u".into(),
            }
        );
        assert_eq!(
            classify(status(403), &with_token, &q, "o/r"),
            GitHubError::Http(status(403))
        );
        assert_eq!(
            classify(status(500), &anonymous, &q, "o/r"),
            GitHubError::Http(status(500))
        );
    }

    #[test]
    fn a_blob_of_a_megabyte_and_more_is_read() {
        // Stored uncompressed: the blob itself is 2 MB, well under the
        // 32 MiB blob limit.
        let big = padded_bundle(2_000_000);
        let blob = snappy_literal(big.as_bytes());
        assert_eq!(decompress_bundle(&blob).unwrap(), big.as_bytes());
        let (blobs, _) = serve(vec![response("200 OK", "", &blob)]);
        let (base, _) = serve(vec![json_page(
            &format!(r#"{{"attestations":[{{"bundle_url":"{blobs}/b"}}]}}"#),
            "",
        )]);
        let got = fetch_attestations(&api(&base, None), &query(30)).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].as_ref().unwrap().bundle_url, format!("{blobs}/b"));
    }

    #[test]
    fn bundles_kept_inline_and_from_blobs_count_together() {
        // 9 bundles of 32 MB: 288 MB, over the 256 MiB a query may keep;
        // 8 of them (256 MB) are not. One inline, eight from blobs: the
        // limit is passed only if the inline one counts as well.
        const SIZE: usize = 32_000_000;
        let big = padded_bundle(SIZE);
        let blob = snap::raw::Encoder::new()
            .compress_vec(big.as_bytes())
            .unwrap();
        let (blobs, _) = serve(vec![response("200 OK", "", &blob); 8]);
        let urls: Vec<String> = (0..8)
            .map(|i| format!(r#"{{"bundle_url":"{blobs}/b{i}"}}"#))
            .collect();
        let page = format!(
            r#"{{"attestations":[{{"bundle":{big}}},{}]}}"#,
            urls.join(",")
        );
        let (base, _) = serve(vec![json_page(&page, "")]);
        let e = fetch_attestations(&api(&base, None), &query(30)).unwrap_err();
        let GitHubError::Response { url, detail } = e else {
            panic!("{e:?}")
        };
        assert!(url.starts_with(&format!("{blobs}/b")), "{url}");
        assert_eq!(
            detail,
            format!("the attestations' bundles exceed {MAX_TOTAL_BUNDLE_BYTES} bytes in total; expected at most that much (lower --limit)")
        );
    }

    #[test]
    fn a_blob_of_exactly_the_bundle_limit_decompresses() {
        let exact = vec![b' '; MAX_BUNDLE_BYTES];
        let compressed = snap::raw::Encoder::new().compress_vec(&exact).unwrap();
        assert_eq!(
            decompress_bundle(&compressed).unwrap().len(),
            MAX_BUNDLE_BYTES
        );
    }
}
