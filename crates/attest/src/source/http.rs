//! HTTP for sources: one client configuration, bounded bodies, bounded time,
//! retries only where they help (429 with `Retry-After`, 5xx), and errors
//! that name the URL and say what was expected.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, RETRY_AFTER};
use reqwest::{Client, StatusCode};

/// Environment variable overriding the per-request timeout, in seconds.
pub const TIMEOUT_ENV: &str = "ATTEST_HTTP_TIMEOUT";

/// Longest `Retry-After` we are willing to wait before giving up with a message.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Retries after the first attempt (429 or 5xx only).
pub(crate) const RETRIES: u32 = 3;

/// The per-request timeout: `ATTEST_HTTP_TIMEOUT` seconds, else 30.
pub fn request_timeout() -> Duration {
    std::env::var(TIMEOUT_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| *s > 0.0 && s.is_finite())
        .map(Duration::from_secs_f64)
        .unwrap_or(Duration::from_secs(30))
}

/// Why an HTTP fetch failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum HttpError {
    /// Could not connect, or timed out.
    #[error("{url}: {detail}")]
    Transport {
        /// The URL.
        url: String,
        /// What happened.
        detail: String,
    },
    /// The server answered with an error status (after retries).
    #[error("{url}: HTTP {status}{detail}")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
        /// A message from the body, if any.
        detail: String,
    },
    /// The body is larger than allowed.
    #[error("{url}: the response is larger than the {limit}-byte limit")]
    TooLarge {
        /// The URL.
        url: String,
        /// The limit.
        limit: u64,
    },
    /// Rate limited for longer than we wait.
    #[error("{url}: rate limited; the server asks to retry after {seconds} s")]
    RateLimited {
        /// The URL.
        url: String,
        /// How long the server asked for.
        seconds: u64,
    },
}

/// A client with our timeouts and user agent. Redirects are followed (at
/// most 10, so a loop ends in an error); reqwest drops `Authorization` when a
/// redirect leaves the original host.
pub fn client() -> Result<Client, HttpError> {
    build(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
}

/// Most redirects one request follows, so that a loop ends in an error.
pub(crate) const MAX_REDIRECTS: usize = 10;

/// A client like [`client`] that follows no redirect: for callers that must
/// decide per hop which credentials go where (the registry client).
pub(crate) fn client_without_redirects() -> Result<Client, HttpError> {
    build(reqwest::redirect::Policy::none())
}

fn build(redirects: reqwest::redirect::Policy) -> Result<Client, HttpError> {
    let timeout = request_timeout();
    Client::builder()
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .timeout(timeout)
        .redirect(redirects)
        .user_agent(concat!("attest/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| HttpError::Transport {
            url: String::new(),
            detail: format!("cannot build the HTTP client: {e}"),
        })
}

/// What the shared retry policy says to do after an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Not retried: a final answer (success, a client error, or retries used up).
    No,
    /// Wait this long, then ask again.
    After(Duration),
    /// The server asks for a wait longer than we are willing to make.
    TooLong(Duration),
}

/// The one retry policy of every HTTP client of ours: 429 and 5xx are
/// retried up to [`RETRIES`] times, after the server's `Retry-After` (at most
/// [`MAX_RETRY_AFTER`]) or else an exponential backoff from 250 ms;
/// `attempt` counts the retries already made.
pub(crate) fn retry_decision(status: StatusCode, headers: &HeaderMap, attempt: u32) -> Retry {
    let retryable = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
    if !retryable || attempt >= RETRIES {
        return Retry::No;
    }
    let wait = retry_after(headers).unwrap_or_else(|| Duration::from_millis(250 << attempt));
    if wait > MAX_RETRY_AFTER {
        Retry::TooLong(wait)
    } else {
        Retry::After(wait)
    }
}

/// A fetched response: status, headers and the (bounded) body.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Final URL (after redirects).
    pub url: String,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Vec<u8>,
}

/// GET `url` with optional bearer/token authorization and extra headers,
/// retrying 429 (honouring `Retry-After`) and 5xx with backoff; bodies over
/// `limit` bytes are refused without being read to the end.
pub async fn get(
    client: &Client,
    url: &str,
    auth: Option<&str>,
    headers: &[(&'static str, String)],
    limit: u64,
) -> Result<Fetched, HttpError> {
    let mut attempt = 0;
    loop {
        let mut req = client.get(url);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        if let Some(a) = auth {
            if let Ok(mut v) = HeaderValue::from_str(a) {
                v.set_sensitive(true);
                req = req.header(AUTHORIZATION, v);
            }
        }
        let transport = |e: reqwest::Error| HttpError::Transport {
            url: url.to_string(),
            detail: if e.is_timeout() {
                format!(
                    "no answer within {} s ({})",
                    request_timeout().as_secs_f64(),
                    crate::error_chain(&e)
                )
            } else if e.is_redirect() {
                format!("too many redirects ({})", crate::error_chain(&e))
            } else {
                crate::error_chain(&e)
            },
        };
        let mut resp = req.send().await.map_err(transport)?;
        let status = resp.status();
        match retry_decision(status, resp.headers(), attempt) {
            Retry::No => {}
            Retry::After(wait) => {
                attempt += 1;
                tokio::time::sleep(wait).await;
                continue;
            }
            Retry::TooLong(wait) => {
                return Err(HttpError::RateLimited {
                    url: url.to_string(),
                    seconds: wait.as_secs(),
                })
            }
        }
        let final_url = resp.url().to_string();
        let headers = resp.headers().clone();
        let Some(body) = read_limited(&mut resp, limit, false)
            .await
            .map_err(transport)?
        else {
            return Err(HttpError::TooLarge {
                url: url.to_string(),
                limit,
            });
        };
        if !status.is_success() {
            if status == StatusCode::TOO_MANY_REQUESTS {
                let seconds = retry_after(&headers).map(|d| d.as_secs()).unwrap_or(0);
                return Err(HttpError::RateLimited {
                    url: url.to_string(),
                    seconds,
                });
            }
            return Err(HttpError::Status {
                url: url.to_string(),
                status: status.as_u16(),
                detail: error_message(&body),
            });
        }
        return Ok(Fetched {
            url: final_url,
            headers,
            body,
        });
    }
}

/// Whether a URL host (`host_str`, brackets kept for IPv6) names this
/// machine in one of the spellings local stand-ins use.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// A response body of at most `limit` bytes, never read past the limit:
/// `None` when the body is longer (or its `Content-Length` says so), or,
/// with `truncate`, its first `limit` bytes (enough of an error to quote).
pub(crate) async fn read_limited(
    resp: &mut reqwest::Response,
    limit: u64,
    truncate: bool,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    if !truncate && resp.content_length().is_some_and(|n| n > limit) {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = usize::try_from(limit)
            .unwrap_or(usize::MAX)
            .saturating_sub(body.len());
        if chunk.len() > room {
            if !truncate {
                return Ok(None);
            }
            body.extend_from_slice(&chunk[..room]);
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// `Retry-After` in seconds, or GitHub's `x-ratelimit-reset` epoch when the
/// remaining quota is 0.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(v) = headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()) {
        if let Ok(secs) = v.trim().parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
    }
    let remaining = headers.get("x-ratelimit-remaining")?.to_str().ok()?;
    if remaining.trim() != "0" {
        return None;
    }
    let reset: i64 = headers
        .get("x-ratelimit-reset")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let now = jiff::Timestamp::now().as_second();
    Some(Duration::from_secs(reset.saturating_sub(now).max(1) as u64))
}

/// The `message` of a GitHub-style JSON error body, as `: message`.
fn error_message(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .map(|m| format!(": {}", crate::text::remote_text(&m)))
        .unwrap_or_default()
}

/// Run a future to completion on a small runtime of its own.
pub fn block_on<F: std::future::Future>(f: F) -> Result<F::Output, HttpError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| HttpError::Transport {
            url: String::new(),
            detail: format!("cannot start the async runtime: {e}"),
        })?;
    Ok(rt.block_on(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_retry_policy_for_429_and_5xx() {
        let none = HeaderMap::new();
        let mut after = HeaderMap::new();
        after.insert(RETRY_AFTER, HeaderValue::from_static("1"));
        let mut long = HeaderMap::new();
        long.insert(RETRY_AFTER, HeaderValue::from_static("61"));
        let s = |c: u16| StatusCode::from_u16(c).unwrap();
        assert_eq!(
            retry_decision(s(503), &none, 0),
            Retry::After(Duration::from_millis(250))
        );
        assert_eq!(
            retry_decision(s(500), &none, 2),
            Retry::After(Duration::from_secs(1))
        );
        assert_eq!(retry_decision(s(503), &none, RETRIES), Retry::No);
        assert_eq!(
            retry_decision(s(429), &after, 0),
            Retry::After(Duration::from_secs(1))
        );
        assert_eq!(
            retry_decision(s(429), &long, 0),
            Retry::TooLong(Duration::from_secs(61))
        );
        for ok in [200, 401, 404, 406] {
            assert_eq!(retry_decision(s(ok), &after, 0), Retry::No, "{ok}");
        }
    }
}
