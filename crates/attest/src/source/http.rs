//! HTTP for sources: one client configuration, bounded bodies, bounded time,
//! retries only where they help (429 with `Retry-After`, 5xx), and errors
//! that name the URL and say what was expected.
//!
//! Configuration and runtime: the library reads no environment variable.
//! The per-request timeout is an [`HttpSettings`] the program installs once
//! ([`set_settings`]; the CLI parses `ATTEST_HTTP_TIMEOUT` with
//! [`HttpSettings::from_timeout_text`]), 30 s until then. The network work
//! is `async`; each blocking entry point of the library runs it with
//! [`block_on`] on one runtime built the first time it is needed and kept for
//! the life of the process (never one per call). A caller already inside a
//! tokio runtime must not use the blocking entry points (tokio refuses to
//! block inside a runtime): it awaits the async functions instead
//! ([`get`], `github::fetch_attestations_async`, `trust::tuf::fetch_target_async`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, RETRY_AFTER};
use reqwest::{Client, StatusCode};

/// Environment variable overriding the per-request timeout, in seconds (read
/// by the CLI, never by the library).
pub const TIMEOUT_ENV: &str = "ATTEST_HTTP_TIMEOUT";
/// The per-request timeout when none is configured.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest `Retry-After` we are willing to wait before giving up with a message.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Retries after the first attempt (429 or 5xx only).
pub(crate) const RETRIES: u32 = 3;

/// How the library's HTTP clients behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpSettings {
    /// Per-request timeout (connecting takes at most 10 s of it).
    pub timeout: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl HttpSettings {
    /// Settings from the text of a timeout in seconds (as `ATTEST_HTTP_TIMEOUT`
    /// holds it): a positive, finite number, else the default.
    pub fn from_timeout_text(text: Option<&str>) -> Self {
        // `try_from_secs_f64` refuses negative, NaN and infinite values, and
        // the zero check refuses 0, -0 and anything under a nanosecond.
        let timeout = text
            .and_then(|v| v.trim().parse::<f64>().ok())
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .filter(|d| !d.is_zero())
            .unwrap_or(DEFAULT_TIMEOUT);
        Self { timeout }
    }
}

/// The installed timeout in nanoseconds; 0 means none installed.
static TIMEOUT_NANOS: AtomicU64 = AtomicU64::new(0);

/// Install the settings every client of this process uses from now on.
pub fn set_settings(settings: HttpSettings) {
    let nanos = u64::try_from(settings.timeout.as_nanos())
        .unwrap_or(u64::MAX)
        .max(1);
    TIMEOUT_NANOS.store(nanos, Ordering::Relaxed);
}

/// The settings in force: the installed ones, else the defaults.
pub fn settings() -> HttpSettings {
    match TIMEOUT_NANOS.load(Ordering::Relaxed) {
        0 => HttpSettings::default(),
        nanos => HttpSettings {
            timeout: Duration::from_nanos(nanos),
        },
    }
}

/// The per-request timeout in force ([`settings`]).
pub fn request_timeout() -> Duration {
    settings().timeout
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

/// Apply [`retry_decision`] to an answer: `true` after waiting when it is to
/// be asked again (`attempt` counted), `false` when it is final, and the
/// rate limit as the error when the server asks for too long a wait.
pub(crate) async fn wait_to_retry(
    url: &str,
    status: StatusCode,
    headers: &HeaderMap,
    attempt: &mut u32,
) -> Result<bool, HttpError> {
    match retry_decision(status, headers, *attempt) {
        Retry::No => Ok(false),
        Retry::After(wait) => {
            *attempt += 1;
            tokio::time::sleep(wait).await;
            Ok(true)
        }
        Retry::TooLong(wait) => Err(HttpError::RateLimited {
            url: url.to_string(),
            seconds: wait.as_secs(),
        }),
    }
}

/// A service's base URL (a package index, a registry): without a
/// trailing `/`, and HTTPS unless the host is loopback (plain HTTP would let
/// anyone on the path answer for the service).
pub fn base_url(url: &str) -> Result<String, String> {
    let base = url.trim().trim_end_matches('/').to_string();
    let parsed = reqwest::Url::parse(&base).map_err(|e| format!("expected an http(s) URL: {e}"))?;
    let loopback = parsed.host_str().is_some_and(|h| {
        let h = h.trim_start_matches('[').trim_end_matches(']');
        h == "localhost"
            || h.parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    match parsed.scheme() {
        "https" => Ok(base),
        "http" if loopback => Ok(base),
        _ => Err("expected https:// (plain HTTP only for a loopback host)".into()),
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
        if wait_to_retry(url, status, resp.headers(), &mut attempt).await? {
            continue;
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

/// The process-wide runtime, built on first use. A current-thread runtime
/// still lets several threads block on it at once (a release verified in
/// parallel): they take turns driving its I/O and timers.
pub(crate) fn runtime() -> Result<&'static tokio::runtime::Runtime, String> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the async runtime: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Run a future to completion on the process-wide runtime: the one blocking
/// wrapper behind every blocking network entry point of the library. Not for
/// use inside a tokio runtime (await the async function instead).
pub fn block_on<F: std::future::Future>(f: F) -> Result<F::Output, HttpError> {
    let rt = runtime().map_err(|detail| HttpError::Transport {
        url: String::new(),
        detail,
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

    #[test]
    fn the_timeout_is_the_value_given_not_the_environment() {
        // The library must not read ATTEST_HTTP_TIMEOUT itself: with the
        // variable saying 7 s, the value passed in (2.5 s) is what is used.
        std::env::set_var(TIMEOUT_ENV, "7");
        let given = HttpSettings::from_timeout_text(Some(" 2.5 "));
        assert_eq!(given.timeout, Duration::from_millis(2500));
        set_settings(given);
        assert_eq!(request_timeout(), Duration::from_millis(2500));
        set_settings(HttpSettings::default());
        assert_eq!(request_timeout(), DEFAULT_TIMEOUT);
        for bad in [
            None,
            Some(""),
            Some("abc"),
            Some("-1"),
            Some("0"),
            Some("inf"),
            Some("NaN"),
            Some("1e300"),
            Some("-0"),
            Some("1e-300"),
        ] {
            assert_eq!(
                HttpSettings::from_timeout_text(bad).timeout,
                DEFAULT_TIMEOUT,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_wait_of_exactly_the_most_we_wait_is_waited() {
        let mut at_most = HeaderMap::new();
        at_most.insert(RETRY_AFTER, HeaderValue::from_static("60"));
        assert_eq!(
            retry_decision(StatusCode::TOO_MANY_REQUESTS, &at_most, 0),
            Retry::After(MAX_RETRY_AFTER)
        );
    }

    #[test]
    fn github_s_rate_limit_reset_is_a_retry_after_only_when_nothing_remains() {
        let reset = (jiff::Timestamp::now().as_second() + 30).to_string();
        let mut spent = HeaderMap::new();
        spent.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        spent.insert("x-ratelimit-reset", HeaderValue::from_str(&reset).unwrap());
        let wait = retry_after(&spent).expect("a wait until the reset");
        assert!(
            (28..=30).contains(&wait.as_secs()),
            "{wait:?} for a reset 30 s away"
        );
        let mut left = spent.clone();
        left.insert("x-ratelimit-remaining", HeaderValue::from_static("5"));
        assert_eq!(retry_after(&left), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    /// A loopback server that answers its connections, in order, with the
    /// raw responses given (then refuses more: it stops listening), and
    /// counts the requests it read.
    struct Canned {
        url: String,
        requests: crate::source::test_server::Requests,
        served: std::cell::Cell<usize>,
    }

    impl Canned {
        fn start(responses: Vec<Vec<u8>>) -> Self {
            let (base, requests) = crate::source::test_server::serve(responses);
            Self {
                url: format!("{base}/x"),
                requests,
                served: std::cell::Cell::new(0),
            }
        }

        fn served(&self) -> usize {
            self.served
                .set(self.served.get() + self.requests.try_iter().count());
            self.served.get()
        }
    }

    use crate::source::test_server::response;

    /// A chunked response (no length announced) of `body` in one chunk.
    fn chunked(body: &[u8]) -> Vec<u8> {
        let mut r = format!(
            "HTTP/1.1 200 OK\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r.extend_from_slice(b"\r\n0\r\n\r\n");
        r
    }

    fn fetch(url: &str, limit: u64) -> Result<Fetched, HttpError> {
        block_on(get(&client().unwrap(), url, None, &[], limit)).unwrap()
    }

    /// The request as the server saw it, lower-cased.
    fn seen(responses: Vec<Vec<u8>>, client: Client) -> (u16, Vec<String>) {
        let (base, rx) = crate::source::test_server::serve(responses);
        let url = format!("{base}/x");
        let status = block_on(async { client.get(&url).send().await.unwrap().status() })
            .unwrap()
            .as_u16();
        (
            status,
            rx.try_iter().map(|h| h.to_ascii_lowercase()).collect(),
        )
    }

    #[test]
    fn clients_say_who_they_are_and_only_one_follows_redirects() {
        let moved =
            b"HTTP/1.1 302 Found\r\nlocation: /y\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
                .to_vec();
        let ok = response("200 OK", "", b"");
        let (status, requests) = seen(vec![moved.clone(), ok.clone()], client().unwrap());
        assert_eq!((status, requests.len()), (200, 2));
        assert!(
            requests[0].contains(&format!(
                "user-agent: attest/{}\r\n",
                env!("CARGO_PKG_VERSION")
            )),
            "{requests:?}"
        );
        let (status, requests) = seen(vec![moved, ok], client_without_redirects().unwrap());
        assert_eq!((status, requests.len()), (302, 1));
        assert!(requests[0].contains("user-agent: attest/"), "{requests:?}");
    }

    #[test]
    fn bodies_are_kept_up_to_their_limit_and_refused_over_it() {
        let ten = b"0123456789";
        for (what, raw) in [
            ("announced", response("200 OK", "", ten)),
            ("chunked", chunked(ten)),
        ] {
            let server = Canned::start(vec![raw.clone(), raw]);
            assert_eq!(fetch(&server.url, 10).unwrap().body, ten, "{what}");
            assert_eq!(
                fetch(&server.url, 9).unwrap_err(),
                HttpError::TooLarge {
                    url: server.url.clone(),
                    limit: 9
                },
                "{what}"
            );
        }
    }

    #[test]
    fn an_announced_length_over_the_limit_is_refused_unread() {
        // The server announces 1000 bytes and sends 5: reading would fail
        // on the short body, so a refusal shows nothing was read.
        let mut raw =
            b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 1000\r\n\r\n".to_vec();
        raw.extend_from_slice(b"short");
        let server = Canned::start(vec![raw]);
        assert_eq!(
            fetch(&server.url, 10).unwrap_err(),
            HttpError::TooLarge {
                url: server.url.clone(),
                limit: 10
            }
        );
    }

    #[test]
    fn an_error_body_is_cut_at_the_limit_not_refused() {
        let eleven = b"0123456789A";
        for raw in [response("500 Oops", "", eleven), chunked(eleven)] {
            let server = Canned::start(vec![raw]);
            let body = block_on(async {
                let mut resp = client().unwrap().get(&server.url).send().await.unwrap();
                read_limited(&mut resp, 10, true).await.unwrap()
            })
            .unwrap();
            assert_eq!(body.as_deref(), Some(&b"0123456789"[..]));
        }
    }

    #[test]
    fn server_errors_are_retried_three_times_then_reported() {
        let busy = response("503 Service Unavailable", "retry-after: 0\r\n", b"");
        let server = Canned::start(vec![busy; 5]);
        assert_eq!(
            fetch(&server.url, 100).unwrap_err(),
            HttpError::Status {
                url: server.url.clone(),
                status: 503,
                detail: String::new()
            }
        );
        assert_eq!(server.served(), 1 + RETRIES as usize);
    }

    #[test]
    fn a_final_429_is_rate_limiting_and_a_4xx_quotes_the_message_inert() {
        let limited = response("429 Too Many Requests", "retry-after: 0\r\n", b"");
        let server = Canned::start(vec![limited; 4]);
        assert_eq!(
            fetch(&server.url, 100).unwrap_err(),
            HttpError::RateLimited {
                url: server.url.clone(),
                seconds: 0
            }
        );
        let body = br#"{"message":"Not \u001b[2J Found","documentation_url":"x"}"#;
        let server = Canned::start(vec![response("404 Not Found", "", body)]);
        let e = fetch(&server.url, 1000).unwrap_err();
        assert_eq!(
            e,
            HttpError::Status {
                url: server.url.clone(),
                status: 404,
                detail: ": Not \\x1b[2J Found".into()
            }
        );
        let server = Canned::start(vec![response("200 OK", "", b"ok")]);
        assert_eq!(fetch(&server.url, 1000).unwrap().body, b"ok");
    }

    #[test]
    fn block_on_reuses_one_runtime() {
        // A task spawned during one call finishes during the next only if
        // both run on the same runtime (a dropped runtime cancels its tasks).
        let (tx, rx) = std::sync::mpsc::channel();
        block_on(async move {
            tokio::spawn(async move { tx.send(42).unwrap() });
        })
        .unwrap();
        let got = std::thread::spawn(move || {
            // The runtime runs on one thread at a time: while other tests
            // drive it, the task waits its turn, so wait by the clock (a
            // dropped runtime would have cancelled it: the wait runs out).
            block_on(async move {
                let start = std::time::Instant::now();
                while start.elapsed() < std::time::Duration::from_secs(60) {
                    if let Ok(v) = rx.try_recv() {
                        return Some(v);
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
                None
            })
            .unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(got, Some(42));
    }
}
