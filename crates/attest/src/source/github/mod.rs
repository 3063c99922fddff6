//! Attestations from GitHub's REST API.
//!
//! `GET /repos/{owner}/{repo}/attestations/{alg}:{hex}` (or `/orgs/{owner}/…`),
//! following `Link: rel="next"` pages up to `--limit`, filtered server-side
//! by `predicate_type`. Each attestation carries its bundle inline, or
//! (since July 2026) `bundle: null` and a `bundle_url` to a snappy-compressed
//! bundle, which is fetched with a client that never sends the GitHub token.
//!
//! The token only ever goes to the API's own origin: a `next` link to any
//! other scheme, host or port is refused. Pagination is bounded (an empty
//! page ends it, a page is never fetched twice, and there is a page budget),
//! and so is the bundle JSON kept while paging.

//!
//! The module is split by concept: [`token`] decides which API and which
//! token (the origin rules), [`attestations`] pages through the API and
//! loads the bundles. The blocking functions run on the process-wide runtime
//! ([`crate::source::http::block_on`]); async callers use
//! [`fetch_attestations_async`].

mod attestations;
mod token;

pub use attestations::{
    decompress_bundle, fetch_attestations, fetch_attestations_async, next_link, next_page_url,
    parse_page_bundles, AttestationQuery,
};
pub use token::{token_from_hosts_yml, ApiSettings, ApiTarget, TOKEN_VARS};

use crate::source::http::{self, HttpError};
use token::find_token;

/// Largest API page we read.
pub(super) const MAX_PAGE_BYTES: u64 = 64 * 1024 * 1024;

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
    /// The API for `settings.hostname` (github.com if `None`):
    /// `https://api.github.com`, `https://api.<tenant>.ghe.com`, or
    /// `https://<host>/api/v3` (GHES), or `settings.api_url` (the value of
    /// `GITHUB_API_URL`, as GitHub Actions sets it) when no hostname is given,
    /// when it is that hostname's API, or when it is a loopback address (a
    /// local stand-in, which Actions never sets). An API URL for some other
    /// host is ignored when a hostname is given: it would otherwise receive
    /// that host's token.
    ///
    /// The token is the first of `settings.env_tokens` that this host's
    /// rules name (`GH_TOKEN`, `GITHUB_TOKEN`, or the `_ENTERPRISE_` variants
    /// for other hosts), else the one in gh's `hosts.yml` at
    /// `settings.hosts_yml`. A `hosts.yml` token belongs to one host, so it is
    /// only used when the API contacted is that host's own. Nothing here
    /// reads the environment: the caller passes the values.
    pub fn new(settings: &ApiSettings) -> Self {
        let target = ApiTarget::resolve(settings.hostname.as_deref(), settings.api_url.as_deref());
        let (token, token_source) = find_token(&target.host, target.hosts_yml_token, settings);
        Self {
            base: target.base,
            token,
            token_source,
        }
    }
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
    if let Err(crate::json::StrictJsonError::DuplicateKey { key, path }) =
        crate::json::check_unique_keys(&page.body)
    {
        return Err(GitHubError::Response {
            url,
            detail: format!(
                "duplicate key {:?} in {}; expected each JSON member once",
                crate::text::remote_text(&key),
                crate::text::remote_text(&path)
            ),
        });
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::test_server::{response, serve};

    fn api(base: &str, token: Option<&str>) -> GitHubApi {
        GitHubApi {
            base: base.to_string(),
            token: token.map(str::to_string),
            token_source: token.map(|_| "GH_TOKEN".to_string()),
        }
    }

    fn meta(domain: serde_json::Value) -> Vec<u8> {
        let body = serde_json::json!({ "domains": { "artifact_attestations": { "trust_domain": domain } } });
        response(
            "200 OK",
            "content-type: application/json\r\n",
            body.to_string().as_bytes(),
        )
    }

    #[test]
    fn the_trust_domain_is_read_from_meta_with_the_token() {
        let (url, requests) = serve(vec![meta(serde_json::json!("octo-corp.ghe.com"))]);
        assert_eq!(
            trust_domain(&api(&url, Some("sekrit"))).unwrap(),
            "octo-corp.ghe.com"
        );
        let head = requests.recv().unwrap().to_ascii_lowercase();
        assert!(head.starts_with("get /meta http/1.1\r\n"), "{head}");
        assert!(head.contains("authorization: token sekrit\r\n"), "{head}");
        assert!(
            head.contains("accept: application/vnd.github+json\r\n"),
            "{head}"
        );

        let (url, requests) = serve(vec![meta(serde_json::json!("a1"))]);
        assert_eq!(trust_domain(&api(&url, None)).unwrap(), "a1");
        let head = requests.recv().unwrap().to_ascii_lowercase();
        assert!(!head.contains("authorization"), "{head}");
    }

    #[test]
    fn only_a_plain_trust_domain_is_taken() {
        for bad in [
            serde_json::json!(""),
            serde_json::json!("a/b"),
            serde_json::json!("a b"),
            serde_json::json!("a_b"),
            serde_json::json!("../x"),
            serde_json::json!(7),
            serde_json::Value::Null,
        ] {
            let (url, _) = serve(vec![meta(bad.clone())]);
            let e = trust_domain(&api(&url, None)).unwrap_err();
            assert!(matches!(e, GitHubError::Response { .. }), "{bad}: {e}");
            assert!(
                e.to_string()
                    .contains("no domains.artifact_attestations.trust_domain"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn meta_answers_that_are_not_the_meta_document_are_refused() {
        let json = "content-type: application/json\r\n";
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (
                response("200 OK", json, br#"{"domains": {}, "domains": {}}"#),
                "duplicate key \"domains\"",
            ),
            (
                response("200 OK", json, b"<html>"),
                "expected value at line 1 column 1",
            ),
        ];
        for (answer, want) in cases {
            let (url, _) = serve(vec![answer]);
            let e = trust_domain(&api(&url, None)).unwrap_err();
            assert!(matches!(e, GitHubError::Response { .. }), "{want}: {e}");
            assert!(e.to_string().contains(want), "{want}: {e}");
            assert!(e.to_string().starts_with(&format!("{url}/meta: ")), "{e}");
        }
        for status in ["401 Unauthorized", "403 Forbidden"] {
            let (url, _) = serve(vec![response(
                status,
                json,
                br#"{"message":"Bad credentials"}"#,
            )]);
            let e = trust_domain(&api(&url, Some("t"))).unwrap_err();
            assert!(
                matches!(e, GitHubError::AuthRequired { .. }),
                "{status}: {e}"
            );
            assert!(e.to_string().contains("set GH_TOKEN"), "{e}");
        }
        let (url, _) = serve(vec![response("404 Not Found", json, b"{}")]);
        let e = trust_domain(&api(&url, None)).unwrap_err();
        assert!(matches!(e, GitHubError::Http(_)), "{e}");
    }

    #[test]
    fn debug_never_shows_the_token() {
        let text = format!("{:?}", api("https://api.github.com", Some("ghp_sekrit")));
        assert!(!text.contains("ghp_sekrit"), "{text}");
        assert!(
            text.contains("<redacted>") && text.contains("GH_TOKEN"),
            "{text}"
        );
        assert!(format!("{:?}", api("x", None)).contains("token: None"));
    }
}
