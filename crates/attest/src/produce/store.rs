//! Storing bundles: GitHub's attestations API
//! (`POST /repos/{owner}/{repo}/attestations` with `{"bundle": …}`), as
//! actions/attest does. OCI referrers are pushed by `source::oci`.

use crate::source::github::GitHubApi;
use crate::source::http::{self, block_on, HttpError};
use crate::text::remote_text;

/// Longest owner or repository name accepted. GitHub caps repository names
/// at 100 characters and user and organisation names at 39; managed users
/// (`name_shortcode`) can be longer, so owners get the repository limit.
const MAX_NAME: usize = 100;

/// Most of the upload's answer read: GitHub answers `{"id": N}`.
const MAX_ANSWER_BYTES: u64 = 64 * 1024;

/// A repository the upload may go to: `OWNER/REPO`, both GitHub names.
///
/// The token is sent to `POST /repos/OWNER/REPO/attestations` and nowhere
/// else, so the two segments are checked against GitHub's naming rules
/// (ASCII letters, digits, `-`, `_`, and `.` in repository names, never `.`
/// or `..`): a `/`, `?`, `#` or `..` in either would move the request, and
/// the token with it, to another endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubRepo {
    owner: String,
    name: String,
}

impl GitHubRepo {
    /// Parse `OWNER/REPO`; the error says what is wrong and what is expected.
    pub fn parse(value: &str) -> Result<Self, String> {
        let shown = remote_text(value);
        let (owner, name) = value
            .split_once('/')
            .ok_or_else(|| format!("{shown:?} is not OWNER/REPO"))?;
        let bad = |what: &str, segment: &str, allowed: &str| {
            format!(
                "{shown:?} is not OWNER/REPO: the {what} {:?} is not a GitHub name (1 to {MAX_NAME} of {allowed})",
                remote_text(segment)
            )
        };
        let owner_ok = !owner.is_empty()
            && owner.len() <= MAX_NAME
            && owner
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !owner_ok {
            return Err(bad("owner", owner, "ASCII letters, digits, '-' and '_'"));
        }
        let name_ok = !name.is_empty()
            && name.len() <= MAX_NAME
            && name != "."
            && name != ".."
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        if !name_ok {
            return Err(bad(
                "repository",
                name,
                "ASCII letters, digits, '-', '_' and '.'; not . or ..",
            ));
        }
        Ok(Self {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }

    /// The owner (user or organisation).
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The repository name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Display for GitHubRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

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
    repo: &GitHubRepo,
    bundle_json: &[u8],
) -> Result<u64, StoreError> {
    let token = api.token.as_ref().ok_or(StoreError::NoToken)?;
    // Both segments are GitHub names (no '/', '?', '#', '%' or ".."), so the
    // path is exactly /repos/OWNER/REPO/attestations under the API base.
    let url = format!(
        "{}/repos/{}/{}/attestations",
        api.base,
        repo.owner(),
        repo.name()
    );
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
            // actions/attest retries the upload; so do we, on 5xx and 429,
            // by the retry policy of every HTTP client of ours: the server's
            // Retry-After (a wait over a minute is an error at once), else
            // a backoff from 250 ms, three retries.
            if http::wait_to_retry(&url, status, resp.headers(), &mut attempt).await? {
                continue;
            }
            // The answer is a small JSON object; an error body is only quoted.
            let mut resp = resp;
            let text = http::read_limited(&mut resp, MAX_ANSWER_BYTES, !status.is_success())
                .await
                .map_err(|e| HttpError::Transport {
                    url: url.clone(),
                    detail: e.to_string(),
                })?
                .ok_or_else(|| HttpError::TooLarge {
                    url: url.clone(),
                    limit: MAX_ANSWER_BYTES,
                })?;
            if !status.is_success() {
                return Err(HttpError::Status {
                    url: url.clone(),
                    status: status.as_u16(),
                    detail: format!(": {}", remote_text(&String::from_utf8_lossy(&text))),
                });
            }
            return Ok(text);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(responses: Vec<Vec<u8>>) -> (Result<u64, StoreError>, Vec<String>) {
        use crate::source::test_server::serve;
        let (base, heads) = serve(responses);
        let api = GitHubApi {
            base,
            token: Some("t0ken".into()),
            token_source: None,
        };
        let repo = GitHubRepo::parse("o/r").unwrap();
        let result = upload_to_github(&api, &repo, br#"{"mediaType":"m"}"#);
        (result, heads.try_iter().collect())
    }

    /// 5xx and 429 are retried (four times, as actions/attest), anything
    /// else is answered; the ID comes from the answer.
    #[test]
    fn uploads_retry_server_errors_and_rate_limits_then_read_the_id() {
        use crate::source::test_server::response;
        let (result, heads) = upload(vec![
            response("503 Service Unavailable", "", b""),
            response("429 Too Many Requests", "retry-after: 0\r\n", b""),
            response("201 Created", "", br#"{"id":42}"#),
        ]);
        assert_eq!(result.unwrap(), 42);
        assert_eq!(heads.len(), 3);
        assert!(
            heads[0].starts_with("POST /repos/o/r/attestations "),
            "{}",
            heads[0]
        );
        assert!(
            heads[0].contains("authorization: token t0ken"),
            "{}",
            heads[0]
        );

        // An answer may be up to 64 KiB; more is refused.
        let padded = |n: usize| format!(r#"{{"id":7,"pad":"{}"}}"#, "x".repeat(n)).into_bytes();
        let (result, _) = upload(vec![response("201 Created", "", &padded(60_000))]);
        assert_eq!(result.unwrap(), 7);
        let (result, _) = upload(vec![response("201 Created", "", &padded(70_000))]);
        assert!(result.is_err());

        // After the third retry the fourth error is the answer.
        let (result, heads) = upload(vec![response("502 Bad Gateway", "", b"down"); 6]);
        let e = result.unwrap_err().to_string();
        assert!(e.contains("502"), "{e}");
        assert_eq!(heads.len(), 4);

        // The server's Retry-After is read: over a minute, the rate limit
        // is the answer at once, not a wait.
        let (result, heads) = upload(vec![
            response(
                "429 Too Many Requests",
                "retry-after: 3600\r\n",
                b""
            );
            2
        ]);
        let e = result.unwrap_err().to_string();
        assert!(e.contains("rate limit"), "{e}");
        assert!(e.contains("3600"), "{e}");
        assert_eq!(heads.len(), 1);

        // A client error is not retried, and its body is quoted even when
        // longer than an answer may be.
        let long = vec![b'x'; MAX_ANSWER_BYTES as usize + 10];
        let (result, heads) = upload(vec![response("400 Bad Request", "", &long)]);
        let e = result.unwrap_err().to_string();
        assert!(e.contains("400"), "{e}");
        assert_eq!(heads.len(), 1);
    }

    #[test]
    fn repositories_are_github_names() {
        let r = GitHubRepo::parse("octo-org/octo.repo_2").unwrap();
        assert_eq!((r.owner(), r.name()), ("octo-org", "octo.repo_2"));
        assert_eq!(r.to_string(), "octo-org/octo.repo_2");
        for bad in [
            "o/r/../../../user/keys?x=",
            "../../../orgs/victim/hooks?",
            "o/..",
            "o/.",
            "o/r?x=1",
            "o/r#frag",
            "o/r%2f..",
            "o./r",
            "/r",
            "o/",
            "or",
            "o/r/",
            "o/r\u{1b}[2J",
        ] {
            let e = GitHubRepo::parse(bad).unwrap_err();
            assert!(e.contains("is not OWNER/REPO"), "{bad}: {e}");
            assert!(!e.contains('\u{1b}'), "{e:?}");
        }
        assert!(GitHubRepo::parse(&format!("o/{}", "r".repeat(MAX_NAME))).is_ok());
        assert!(GitHubRepo::parse(&format!("o/{}", "r".repeat(MAX_NAME + 1))).is_err());
    }
}
