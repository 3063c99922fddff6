//! A loopback Sigstore: Fulcio, Rekor v1 and v2 and a TSA, an OIDC issuer
//! and the GitHub Actions ID-token endpoint, served over real HTTP on
//! 127.0.0.1 and backed by a [`TestSigstore`].
//!
//! [`LoopbackSigstore::start`] binds an ephemeral port and serves, under
//! [`LoopbackSigstore::base_url`]:
//!
//! | Service | Method and path |
//! |---|---|
//! | OIDC discovery | `GET /oidc/.well-known/openid-configuration` |
//! | OIDC keys (JWKS) | `GET /oidc/jwks` |
//! | Actions ID token | `GET /actions/token?api-version=2.0&audience=A` (`Authorization: Bearer <request token>`) |
//! | Fulcio | `POST /fulcio/api/v2/signingCert`, `GET /fulcio/api/v2/configuration`, `GET /fulcio/api/v2/trustBundle` (also without the `/fulcio` prefix, where sigstore-python asks) |
//! | Rekor v1 | `POST /rekor/api/v1/log/entries`, `GET /rekor/api/v1/log/entries/{uuid}`, `GET /rekor/api/v1/log/entries?logIndex=N`, `GET /rekor/api/v1/log`, `GET /rekor/api/v1/log/publicKey` |
//! | Rekor v2 | `POST /rekor2/api/v2/log/entries`, `GET /rekor2/api/v2/checkpoint` |
//! | TSA | `POST /tsa/api/v1/timestamp`, `GET /tsa/api/v1/timestamp/certchain` |
//! | Trust material | `GET /trusted_root.json`, `GET /signing_config.json` |
//!
//! The services check what the real ones check: Fulcio verifies the token's
//! ES256 signature against the issuer's key, its issuer, expiry and
//! audience (`sigstore`) and the proof of possession, and maps GitHub
//! Actions claims to the Fulcio extensions; Rekor verifies DSSE and
//! hashedrekord signatures before logging the canonical body in a real
//! RFC 6962 tree; Rekor v2 checks `hashedrekord`/`0.0.2` and `dsse`/`0.0.2`
//! requests the same way and logs them in a tree of its own (own key;
//! inclusion proof and signed checkpoint, no SET); the TSA answers the
//! request's message imprint and nonce. The signing config names Rekor v1
//! or v2 as [`crate::TestSigstoreConfig::rekor_version`] says. Everything
//! uses the real clock. [`Fault`]s make a service misbehave for clients'
//! negative tests, and every request is recorded
//! ([`LoopbackSigstore::requests`]).
//!
//! ```
//! use attest_testsign::services::{default_actions_claims, LoopbackSigstore};
//!
//! let sigstore = LoopbackSigstore::start().expect("binds 127.0.0.1");
//! let token = sigstore.mint_token(&default_actions_claims(), "sigstore");
//! assert_eq!(token.split('.').count(), 3);
//! assert!(sigstore.fulcio_url().starts_with("http://127.0.0.1:"));
//! ```

mod crypto;
mod fulcio;
mod http;
mod jwt;
mod rekor;
mod rekor_v2;

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Map, Value};

use crate::{
    RekorVersion, ServiceUrls, TestSigstore, TestSigstoreConfig, ValidFor, DEFAULT_COMMIT,
};
use http::{Request, Response};
use jwt::JwtKey;

/// The audience Fulcio requires in identity tokens.
pub const SIGSTORE_AUDIENCE: &str = "sigstore";
/// The GitHub server URL Fulcio prefixes workflow claims with.
pub const GITHUB_SERVER_URL: &str = "https://github.com";
/// Media type of the signing config.
pub const SIGNING_CONFIG_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.signingconfig.v0.2+json";
/// Lifetime of the certificates Fulcio issues.
pub const CERTIFICATE_LIFETIME: SignedDuration = SignedDuration::from_mins(10);
/// Lifetime of minted tokens (unless the claims set `exp`).
pub const TOKEN_LIFETIME: SignedDuration = SignedDuration::from_mins(5);

/// A way for one service to misbehave (see [`LoopbackSigstore::set_fault`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// Fulcio answers every request with `503 Service Unavailable`.
    FulcioUnavailable,
    /// Rekor (v1 and v2) answers every request with `503 Service
    /// Unavailable`.
    RekorUnavailable,
    /// Rekor validates a new entry as usual but logs and returns one for
    /// another artifact: a genuine, correctly proven and signed entry whose
    /// body names other content (another DSSE payload hash, another
    /// hashedrekord digest). A verifier must reject the resulting bundle.
    /// Rekor v1 only (a v2 client compares the body with its request).
    RekorWrongArtifact,
    /// The TSA answers every request with `500 Internal Server Error`.
    TsaError,
}

/// One request the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// The HTTP method.
    pub method: String,
    /// The path (without the query), as sent.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// Whether the request had an `Authorization` header.
    pub authorization: bool,
    /// The `User-Agent` header, if any.
    pub user_agent: Option<String>,
    /// The status answered.
    pub status: u16,
}

/// A logged Rekor entry, as kept for reads and duplicate detection.
#[derive(Debug, Clone)]
struct StoredEntry {
    /// `hex(tree id, 16 digits) || uuid`: Rekor's entry ID (the key of the
    /// response map).
    entry_id: String,
    log_index: u64,
    body: Vec<u8>,
    integrated_time: i64,
    set: Vec<u8>,
}

struct State {
    sigstore: TestSigstore,
    faults: Vec<Fault>,
    actions_claims: Value,
    requests: Vec<RequestRecord>,
    entries: Vec<StoredEntry>,
    by_uuid: HashMap<String, usize>,
}

/// What the request handlers share.
struct Shared {
    base: String,
    issuer: String,
    issuer_key: JwtKey,
    actions_request_token: String,
    state: Mutex<State>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A handler that panicked leaves consistent state behind (every
        // mutation is a single push or append).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn fault(&self, fault: Fault) -> bool {
        self.state().faults.contains(&fault)
    }

    fn fulcio_url(&self) -> String {
        format!("{}/fulcio", self.base)
    }

    fn rekor_url(&self) -> String {
        format!("{}/rekor", self.base)
    }

    fn rekor_v2_url(&self) -> String {
        format!("{}/rekor2", self.base)
    }

    fn tsa_url(&self) -> String {
        format!("{}/tsa/api/v1/timestamp", self.base)
    }

    fn mint(&self, key: &JwtKey, claims: &Value, audience: &str) -> String {
        let now = Timestamp::now();
        let mut map = Map::new();
        map.insert(
            "jti".into(),
            json!(hex::encode(crate::keys::random_bytes::<16>())),
        );
        map.insert("iss".into(), json!(self.issuer));
        map.insert("aud".into(), json!(audience));
        map.insert("iat".into(), json!(now.as_second()));
        map.insert("nbf".into(), json!(now.as_second()));
        map.insert("exp".into(), json!((now + TOKEN_LIFETIME).as_second()));
        if let Value::Object(given) = claims {
            for (k, v) in given {
                map.insert(k.clone(), v.clone());
            }
        }
        key.sign(&map)
    }
}

/// A loopback Sigstore on `127.0.0.1`; the server stops when this is
/// dropped.
pub struct LoopbackSigstore {
    shared: Arc<Shared>,
    server: http::Server,
}

impl std::fmt::Debug for LoopbackSigstore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopbackSigstore")
            .field("base_url", &self.shared.base)
            .finish_non_exhaustive()
    }
}

/// GitHub Actions ID-token claims for `octo-org/octo-repo`'s
/// `.github/workflows/release.yml` on `refs/heads/main` (the identity of
/// [`crate::FulcioClaims::default`]): a push on a github-hosted runner,
/// run 4242 attempt 1, a public repository.
pub fn default_actions_claims() -> Value {
    let workflow = "octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main";
    json!({
        "sub": "repo:octo-org/octo-repo:ref:refs/heads/main",
        "repository": "octo-org/octo-repo",
        "repository_owner": "octo-org",
        "repository_owner_id": "987654",
        "repository_id": "123456789",
        "repository_visibility": "public",
        "ref": "refs/heads/main",
        "ref_type": "branch",
        "ref_protected": "false",
        "sha": DEFAULT_COMMIT,
        "workflow": "release",
        "workflow_ref": workflow,
        "workflow_sha": DEFAULT_COMMIT,
        "job_workflow_ref": workflow,
        "job_workflow_sha": DEFAULT_COMMIT,
        "runner_environment": "github-hosted",
        "event_name": "push",
        "run_id": "4242",
        "run_number": "17",
        "run_attempt": "1",
        "actor": "octocat",
        "actor_id": "583231",
    })
}

impl LoopbackSigstore {
    /// Start a public-good-like instance (`O=sigstore.dev`: transparency
    /// log, CT log and TSA in the trusted root, so verifiers apply the
    /// public-good rules).
    pub fn start() -> std::io::Result<Self> {
        let now = Timestamp::now();
        let mut config = TestSigstoreConfig::public_good_like();
        config.signing_time = now;
        config.ca_valid_for = ValidFor::from(now - crate::YEAR);
        Self::start_with(config)
    }

    /// Start an instance of `config` (its organisation, which services the
    /// trusted root lists, its log prefill). The services use the real
    /// clock; `config.signing_time` only anchors the trusted root's key
    /// windows (from a year before it) and the CA certificates (a year
    /// before to ten years after), so it must not be in the future.
    pub fn start_with(config: TestSigstoreConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let base = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
        let mut sigstore = TestSigstore::new(config);
        sigstore.set_service_urls(ServiceUrls {
            rekor: format!("{base}/rekor"),
            rekor_v2: format!("{base}/rekor2"),
            fulcio: format!("{base}/fulcio"),
            tsa: format!("{base}/tsa/api/v1/timestamp"),
            ..ServiceUrls::default()
        });
        let shared = Arc::new(Shared {
            issuer: format!("{base}/oidc"),
            base,
            issuer_key: JwtKey::generate(),
            actions_request_token: hex::encode(crate::keys::random_bytes::<20>()),
            state: Mutex::new(State {
                sigstore,
                faults: Vec::new(),
                actions_claims: default_actions_claims(),
                requests: Vec::new(),
                entries: Vec::new(),
                by_uuid: HashMap::new(),
            }),
        });
        let handler_shared = Arc::clone(&shared);
        let server = http::Server::serve(
            listener,
            Arc::new(move |request| handle(&handler_shared, request)),
        )?;
        Ok(Self { shared, server })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        debug_assert!(self.shared.base.ends_with(&self.server.port().to_string()));
        self.shared.base.clone()
    }

    /// Fulcio's base URL (`{base}/fulcio`; the client appends
    /// `/api/v2/signingCert`).
    pub fn fulcio_url(&self) -> String {
        self.shared.fulcio_url()
    }

    /// Rekor's base URL (`{base}/rekor`; the client appends
    /// `/api/v1/log/entries`).
    pub fn rekor_url(&self) -> String {
        self.shared.rekor_url()
    }

    /// The Rekor v2 log's base URL (`{base}/rekor2`; the client appends
    /// `/api/v2/log/entries`). Its host (`127.0.0.1`) is the origin of its
    /// checkpoints.
    pub fn rekor_v2_url(&self) -> String {
        self.shared.rekor_v2_url()
    }

    /// The TSA's timestamp endpoint (`{base}/tsa/api/v1/timestamp`, posted
    /// to as is).
    pub fn tsa_url(&self) -> String {
        self.shared.tsa_url()
    }

    /// The OIDC issuer (`{base}/oidc`): the `iss` of minted tokens and the
    /// `.8` extension of issued certificates.
    pub fn oidc_issuer(&self) -> String {
        self.shared.issuer.clone()
    }

    /// What `ACTIONS_ID_TOKEN_REQUEST_URL` is in GitHub Actions:
    /// `{base}/actions/token?api-version=2.0` (clients append
    /// `&audience=...`).
    pub fn actions_token_url(&self) -> String {
        format!("{}/actions/token?api-version=2.0", self.shared.base)
    }

    /// What `ACTIONS_ID_TOKEN_REQUEST_TOKEN` is in GitHub Actions: the
    /// bearer token the Actions token endpoint requires.
    pub fn actions_request_token(&self) -> String {
        self.shared.actions_request_token.clone()
    }

    /// The claims the Actions token endpoint puts in the tokens it mints
    /// (default: [`default_actions_claims`]); the audience comes from the
    /// request.
    pub fn set_actions_claims(&self, claims: Value) {
        self.shared.state().actions_claims = claims;
    }

    /// A JWT (ES256, signed by the issuer's key) with `iss` =
    /// [`Self::oidc_issuer`], `aud` = `audience`, `iat`/`nbf` = now, `exp` =
    /// now + 5 minutes and a random `jti`, then every member of `claims`
    /// (which override those, e.g. a past `exp` for an expired token).
    pub fn mint_token(&self, claims: &Value, audience: &str) -> String {
        self.shared.mint(&self.shared.issuer_key, claims, audience)
    }

    /// Like [`Self::mint_token`], but signed by a key that is not the
    /// issuer's (with the issuer key's `kid`): Fulcio must reject it.
    pub fn mint_forged_token(&self, claims: &Value, audience: &str) -> String {
        let impostor = JwtKey::impostor_of(&self.shared.issuer_key);
        self.shared.mint(&impostor, claims, audience)
    }

    /// The trusted root (one line of JSON): the CA (intermediate and root),
    /// the transparency log, the CT log and the TSA as the configuration
    /// lists them, with this server's URLs.
    pub fn trusted_root_json(&self) -> String {
        self.shared.state().sigstore.trusted_root_json()
    }

    /// A signing config v0.2 naming this server's services: `caUrls` (Fulcio),
    /// `oidcUrls` (the issuer), `rekorTlogUrls` (when the configuration has
    /// a log: Rekor v1 with `majorApiVersion` 1, or the v2 log with 2, as
    /// its `rekor_version` says) and `tsaUrls` (when it has a TSA), each
    /// valid from a year before the configured signing time.
    pub fn signing_config_json(&self) -> String {
        serde_json::to_string(&signing_config(&self.shared)).expect("JSON serializes")
    }

    /// A client trust config (`application/vnd.dev.sigstore.clienttrustconfig.v0.1+json`)
    /// holding [`Self::trusted_root_json`] and [`Self::signing_config_json`],
    /// as sigstore-python's `--trust-config` takes it.
    pub fn client_trust_config_json(&self) -> String {
        let root: Value = serde_json::from_str(&self.trusted_root_json()).expect("JSON");
        serde_json::to_string(&json!({
            "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
            "trustedRoot": root,
            "signingConfig": signing_config(&self.shared),
        }))
        .expect("JSON serializes")
    }

    /// Make a service misbehave from now on (faults accumulate until
    /// [`Self::clear_faults`]).
    pub fn set_fault(&self, fault: Fault) {
        let mut state = self.shared.state();
        if !state.faults.contains(&fault) {
            state.faults.push(fault);
        }
    }

    /// Stop every fault.
    pub fn clear_faults(&self) {
        self.shared.state().faults.clear();
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.state().requests.clone()
    }

    /// Entries in the transparency log (prefilled dummy entries included).
    pub fn log_size(&self) -> u64 {
        self.shared.state().sigstore.log_size()
    }

    /// Entries in the Rekor v2 log (prefilled dummy entries included).
    pub fn v2_log_size(&self) -> u64 {
        self.shared.state().sigstore.v2_log_size()
    }

    /// Run `f` on the backing [`TestSigstore`] (to sign fixtures offline
    /// with the same keys, read certificates, ...).
    pub fn with_test_sigstore<R>(&self, f: impl FnOnce(&mut TestSigstore) -> R) -> R {
        f(&mut self.shared.state().sigstore)
    }
}

fn signing_config(shared: &Shared) -> Value {
    let state = shared.state();
    let config = state.sigstore.config();
    let start = (config.signing_time - crate::YEAR).to_string();
    let endpoint_of = |url: String, major: u32| {
        json!({
            "url": url,
            "majorApiVersion": major,
            "validFor": { "start": start },
            "operator": "attest-testsign loopback",
        })
    };
    let endpoint = |url: String| endpoint_of(url, 1);
    let mut value = json!({
        "mediaType": SIGNING_CONFIG_MEDIA_TYPE,
        "caUrls": [endpoint(shared.fulcio_url())],
        "oidcUrls": [endpoint(shared.issuer.clone())],
        "rekorTlogUrls": [],
        "tsaUrls": [],
        "rekorTlogConfig": { "selector": "ANY" },
        "tsaConfig": { "selector": "ANY" },
    });
    if config.tlog {
        value["rekorTlogUrls"] = json!([match config.rekor_version {
            RekorVersion::V1 => endpoint(shared.rekor_url()),
            RekorVersion::V2 => endpoint_of(shared.rekor_v2_url(), 2),
        }]);
    }
    if config.tsa {
        value["tsaUrls"] = json!([endpoint(shared.tsa_url())]);
    }
    value
}

/// Route a request and record it.
fn handle(shared: &Shared, request: Request) -> Response {
    let response = route(shared, &request);
    shared.state().requests.push(RequestRecord {
        method: request.method.clone(),
        path: request.path.clone(),
        query: request.query.clone(),
        authorization: request.header("authorization").is_some(),
        user_agent: request.header("user-agent").map(str::to_string),
        status: response.status,
    });
    response
}

fn not_found(request: &Request) -> Response {
    Response::json(
        404,
        &json!({ "code": 404, "message": format!("no route for {} {}", request.method, request.path) }),
    )
}

fn method_not_allowed(request: &Request) -> Response {
    Response::json(
        405,
        &json!({ "code": 405, "message": format!("method {} not allowed on {}", request.method, request.path) }),
    )
}

fn route(shared: &Shared, request: &Request) -> Response {
    let path = request.path.trim_end_matches('/');
    let get = request.method == "GET" || request.method == "HEAD";
    let post = request.method == "POST";
    if let Some(rest) = path.strip_prefix("/fulcio") {
        return fulcio::route(shared, request, rest);
    }
    if path.starts_with("/api/v2/") {
        // sigstore-python joins Fulcio's paths to the CA URL with
        // `urljoin(url, "/api/v2/signingCert")`, which drops the URL's path:
        // Fulcio also answers at the root.
        return fulcio::route(shared, request, path);
    }
    // Before `/rekor`, which is a prefix of it.
    if let Some(rest) = path.strip_prefix("/rekor2") {
        return rekor_v2::route(shared, request, rest);
    }
    if let Some(rest) = path.strip_prefix("/rekor") {
        return rekor::route(shared, request, rest);
    }
    match path {
        "/oidc/.well-known/openid-configuration" if get => Response::json(
            200,
            &json!({
                "issuer": shared.issuer,
                "jwks_uri": format!("{}/jwks", shared.issuer),
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public", "pairwise"],
                "id_token_signing_alg_values_supported": ["ES256"],
                "claims_supported": [
                    "sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "sha", "repository",
                    "repository_id", "repository_owner", "repository_owner_id",
                    "repository_visibility", "run_id", "run_number", "run_attempt", "actor",
                    "actor_id", "workflow", "workflow_ref", "workflow_sha", "job_workflow_ref",
                    "job_workflow_sha", "event_name", "ref_type", "runner_environment",
                ],
                "scopes_supported": ["openid"],
            }),
        ),
        "/oidc/jwks" if get => Response::json(200, &json!({ "keys": [shared.issuer_key.jwk()] })),
        "/actions/token" if get => actions_token(shared, request),
        "/tsa/api/v1/timestamp" if post => timestamp(shared, request),
        "/tsa/api/v1/timestamp/certchain" if get => {
            if shared.fault(Fault::TsaError) {
                return tsa_error();
            }
            let state = shared.state();
            let pem: String = state
                .sigstore
                .tsa_chain_der()
                .iter()
                .map(|der| crypto::pem("CERTIFICATE", der))
                .collect();
            Response::bytes(200, "application/pem-certificate-chain", pem.into_bytes())
        }
        "/trusted_root.json" if get => {
            let root = shared.state().sigstore.trusted_root_json();
            Response::bytes(200, "application/json", root.into_bytes())
        }
        "/signing_config.json" if get => Response::json(200, &signing_config(shared)),
        "/oidc/.well-known/openid-configuration"
        | "/oidc/jwks"
        | "/actions/token"
        | "/tsa/api/v1/timestamp"
        | "/tsa/api/v1/timestamp/certchain"
        | "/trusted_root.json"
        | "/signing_config.json" => method_not_allowed(request),
        _ => not_found(request),
    }
}

/// The value of an `Authorization: Bearer <token>` header.
fn bearer(request: &Request) -> Option<&str> {
    let value = request.header("authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// `GET /actions/token?...&audience=A`: GitHub Actions' ID-token endpoint.
fn actions_token(shared: &Shared, request: &Request) -> Response {
    if bearer(request) != Some(shared.actions_request_token.as_str()) {
        return Response::json(
            401,
            &json!({ "message": "Unauthorized: the request token is missing or wrong" }),
        );
    }
    let claims = shared.state().actions_claims.clone();
    let audience = request.query_param("audience").unwrap_or_else(|| {
        // GitHub's default audience: the repository owner's URL.
        match claims.get("repository_owner").and_then(Value::as_str) {
            Some(owner) => format!("{GITHUB_SERVER_URL}/{owner}"),
            None => GITHUB_SERVER_URL.to_string(),
        }
    });
    let token = shared.mint(&shared.issuer_key, &claims, &audience);
    Response::json(200, &json!({ "value": token }))
}

fn tsa_error() -> Response {
    Response::bytes(
        500,
        "text/plain; charset=utf-8",
        b"timestamp authority failure (injected fault)\n".to_vec(),
    )
}

/// `POST /tsa/api/v1/timestamp`: an RFC 3161 `TimeStampReq` in, a
/// `TimeStampResp` out.
fn timestamp(shared: &Shared, request: &Request) -> Response {
    if shared.fault(Fault::TsaError) {
        return tsa_error();
    }
    let state = shared.state();
    match state
        .sigstore
        .timestamp_request(&request.body, Timestamp::now())
    {
        Ok(der) => Response::bytes(200, "application/timestamp-reply", der),
        Err(e) => Response::bytes(
            400,
            "text/plain; charset=utf-8",
            format!("invalid timestamp request: {e}\n").into_bytes(),
        ),
    }
}

/// Base64 (standard, padded).
fn b64(data: &[u8]) -> String {
    B64.encode(data)
}
