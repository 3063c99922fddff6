//! `attest serve`: the policy file as a verification service and a
//! Kubernetes validating admission webhook.
//!
//! Stateless: every replica reads the same `attest.toml` and trust roots,
//! keeps a bounded verdict cache keyed by (subject digest, policy digest,
//! trust generation), and refreshes the trust roots in the background. The
//! library is called directly; verification runs on plain threads (the
//! library's blocking calls own their own runtime), bounded by a semaphore,
//! each request under a deadline well inside the webhook's timeout.

mod cache;
mod metrics;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use attest::admission::{read_review, review_response, MAX_REVIEW_BYTES};
use attest::artifact::ArtifactDigest;
use attest::bundle::{parse_bundle, BundleOrigin};
use attest::policy_file::{PolicyFile, PolicyVerifier, Subject, SubjectReport};
use attest::source::oci::{parse_oci_ref, resolve_digest};
use attest::trust::TrustStore;
use attest::verify::VerifyOptions;
use clap::Args;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};

use cache::{Key, VerdictCache};
use metrics::Metrics;

/// `attest serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The policy every request is judged by.
    #[arg(long, value_name = "attest.toml")]
    policy: PathBuf,

    /// Address to listen on. Plain HTTP only on a loopback address; any
    /// other needs --tls-cert and --tls-key.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,

    /// TLS certificate chain (PEM).
    #[arg(long, value_name = "CERT.pem", requires = "tls_key")]
    tls_cert: Option<PathBuf>,

    /// TLS private key (PEM).
    #[arg(long, value_name = "KEY.pem", requires = "tls_cert")]
    tls_key: Option<PathBuf>,

    /// Each request's deadline, in seconds: under the webhook's
    /// `timeoutSeconds` (10 by default), so the answer is attest's.
    #[arg(long, value_name = "SECONDS", default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=300))]
    deadline: u64,

    /// How long a verdict is reused, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    cache_ttl: u64,

    /// How many verdicts are kept.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    cache_size: usize,

    /// Verifications running at once (the rest wait).
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    max_concurrency: u32,

    /// How often the trust roots are refreshed over TUF, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(60..))]
    refresh_interval: u64,

    /// Load the trusted roots over TUF from this repository (a private
    /// mirror) instead of Sigstore's and GitHub's; needs --tuf-root. SIGHUP
    /// refreshes them at once.
    #[arg(
        long,
        value_name = "URL",
        requires = "tuf_root",
        conflicts_with = "custom_trusted_root"
    )]
    tuf_url: Option<String>,

    /// The repository's initial root.json, to verify --tuf-url from.
    #[arg(long, value_name = "FILE", requires = "tuf_url")]
    tuf_root: Option<PathBuf>,

    /// The Python package index for `pypi:` subjects of /v1/verify (PyPI
    /// by default).
    #[arg(long, env = "ATTEST_INDEX_URL", value_name = "URL")]
    index_url: Option<String>,

    /// Attestations fetched per image at most.
    #[arg(short = 'L', long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,

    #[command(flatten)]
    trust: crate::args::TrustArgs,
}

/// How old verified trust roots may get, without a successful refresh,
/// before the server warns (they keep serving: they verified).
const STALE_TRUST: Duration = Duration::from_secs(24 * 3600);

/// The shared state of every request.
struct State {
    verifier: RwLock<Arc<PolicyVerifier>>,
    /// Bumped whenever the trust roots are replaced: part of the cache key.
    generation: AtomicU64,
    ready: AtomicBool,
    cache: VerdictCache,
    metrics: Metrics,
    permits: Arc<tokio::sync::Semaphore>,
    deadline: Duration,
    limit: usize,
    offline: bool,
    credentials: attest::source::oci::RegistryCredentials,
    trust_args: TrustSettings,
    /// Why the trust roots could not be loaded, until they are.
    trust_error: std::sync::Mutex<Option<String>>,
    /// The package index for `pypi:` subjects, checked at start.
    index: String,
}

/// What is needed to rebuild the trust store.
#[derive(Clone)]
struct TrustSettings {
    custom: Option<PathBuf>,
    /// `--tuf-url` and the initial root's bytes.
    tuf: Option<(String, Vec<u8>)>,
    no_public_good: bool,
    offline: bool,
    cache_dir: Option<PathBuf>,
    require_inclusion_proof: bool,
}

impl TrustSettings {
    /// TUF options for a refresh: a refresh asks the repository even when
    /// the cache is recent (that is what a refresh is for); a repository
    /// it cannot reach falls back to the verified cache, counted.
    fn fetch_options(&self) -> attest::trust::tuf::FetchOptions {
        let mut opts = crate::settings::fetch_options(self.offline, self.cache_dir.clone());
        opts.use_fresh_cache = false;
        opts
    }

    fn build(&self) -> Result<TrustStore, String> {
        match &self.custom {
            Some(path) => {
                TrustStore::from_file(path, self.no_public_good).map_err(|e| e.to_string())
            }
            None => Ok(match &self.tuf {
                Some((url, root)) => TrustStore::from_tuf_repository(
                    attest::trust::tuf::TufRepository {
                        url: url.clone(),
                        initial_root: root.clone(),
                        target: attest::trust::tuf::TRUSTED_ROOT_TARGET.into(),
                    },
                    self.fetch_options(),
                ),
                None => {
                    TrustStore::tuf_with_github(self.no_public_good, self.fetch_options(), None)
                }
            }),
        }
    }
}

/// What a subject's verification came to.
#[derive(Clone)]
enum Judgement {
    /// The policy's report.
    Report(Arc<SubjectReport>),
    /// It could not be decided (registry, deadline, input): why.
    Undecided(String),
}

/// Run `attest serve`; returns the exit code.
pub fn run(args: ServeArgs) -> i32 {
    let policy = match PolicyFile::load(&args.policy) {
        Ok(p) => p,
        Err(e) => return crate::error::usage_error(&e.to_string()),
    };
    if args.tls_cert.is_none() && !args.listen.ip().is_loopback() {
        return crate::error::usage_error(&format!(
            "--listen {}: plain HTTP is only served on a loopback address; pass --tls-cert and --tls-key",
            args.listen
        ));
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(c), Some(k)) => match tls_config(c, k) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("Error: {e}");
                return crate::exit::UNREADABLE;
            }
        },
        _ => None,
    };
    let index = match attest::source::pypi::index_base(
        args.index_url
            .as_deref()
            .unwrap_or(attest::source::pypi::DEFAULT_INDEX),
    ) {
        Ok(i) => i,
        Err(e) => return crate::error::usage_error(&e.to_string()),
    };
    let credentials = match crate::settings::registry_credentials() {
        Ok(c) => c,
        Err(e) => return crate::error::usage_error(&e.to_string()),
    };
    let tuf = match (&args.tuf_url, &args.tuf_root) {
        (Some(url), Some(root)) => {
            match attest::artifact::read_text_file(root, 1024 * 1024, "a TUF root.json") {
                Ok(text) => Some((url.clone(), text.into_bytes())),
                Err(e) => {
                    eprintln!("Error: {}: {e}", root.display());
                    return crate::exit::UNREADABLE;
                }
            }
        }
        _ => None,
    };
    let trust_args = TrustSettings {
        custom: args.trust.custom_trusted_root.clone(),
        tuf,
        no_public_good: args.trust.no_public_good,
        offline: args.trust.offline,
        cache_dir: args.trust.cache_dir.clone(),
        require_inclusion_proof: args.trust.require_inclusion_proof,
    };
    let options =
        VerifyOptions::default().require_inclusion_proof(trust_args.require_inclusion_proof);
    // A custom root that cannot be read is a start-up error; TUF roots are
    // loaded in the background and /readyz says when.
    let first = match trust_args.build() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("Error: {e}");
            return crate::exit::UNREADABLE;
        }
    };
    let state = Arc::new(State {
        verifier: RwLock::new(Arc::new(PolicyVerifier::new(policy, first, options))),
        generation: AtomicU64::new(1),
        ready: AtomicBool::new(false),
        cache: VerdictCache::new(args.cache_size, Duration::from_secs(args.cache_ttl)),
        metrics: Metrics::default(),
        permits: Arc::new(tokio::sync::Semaphore::new(args.max_concurrency as usize)),
        deadline: Duration::from_secs(args.deadline),
        limit: args.limit as usize,
        offline: args.trust.offline,
        credentials,
        trust_args,
        trust_error: std::sync::Mutex::new(None),
        index,
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Error: cannot start the server's runtime: {e}");
            return crate::exit::INTERNAL;
        }
    };
    runtime.block_on(serve(
        state,
        args.listen,
        tls,
        Duration::from_secs(args.refresh_interval),
    ))
}

fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<tokio_rustls::TlsAcceptor, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|i| i.collect::<Result<_, _>>())
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{}: no CERTIFICATE in the PEM file",
            cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("the TLS certificate and key: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

async fn serve(
    state: Arc<State>,
    addr: SocketAddr,
    tls: Option<tokio_rustls::TlsAcceptor>,
    refresh: Duration,
) -> i32 {
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("Error: cannot listen on {addr}: {e}");
            return crate::exit::UNREADABLE;
        }
    };
    let local = listener
        .local_addr()
        .map_or(addr.to_string(), |a| a.to_string());
    // Tests and scripts read this line to find a port chosen by the system.
    eprintln!(
        "attest serve: listening on {}://{local}",
        if tls.is_some() { "https" } else { "http" }
    );
    tokio::spawn(keep_trust_fresh(state.clone(), refresh));

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown_signal());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let state = state.clone();
                let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
                let builder = hyper::server::conn::http1::Builder::new();
                match &tls {
                    Some(acceptor) => {
                        let acceptor = acceptor.clone();
                        let watcher = graceful.watcher();
                        tokio::spawn(async move {
                            // A handshake that stalls must not hold a task forever.
                            let Ok(Ok(stream)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await else {
                                return;
                            };
                            let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                            let _ = watcher.watch(conn).await;
                        });
                    }
                    None => {
                        let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                        let fut = graceful.watch(conn);
                        tokio::spawn(async move {
                            let _ = fut.await;
                        });
                    }
                }
            }
            _ = &mut shutdown => {
                info!("attest serve: shutting down; finishing requests in flight");
                break;
            }
        }
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(30)) => {
            eprintln!("attest serve: requests still in flight after 30 s; stopping");
        }
    }
    crate::exit::OK
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = term => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// Load the trust roots (readiness), then refresh them every `every`,
/// off the request path: a failed refresh keeps the roots that verified,
/// counted and logged.
async fn keep_trust_fresh(state: Arc<State>, every: Duration) {
    let mut first = true;
    let mut hangup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => Hangup(Some(s)),
        Err(_) => Hangup(None),
    };
    loop {
        let s = state.clone();
        let settings = state.trust_args.clone();
        let built = tokio::task::spawn_blocking(move || {
            let store = settings.build()?;
            // Preparing the roots is what reads TUF; do it here, not on a request.
            for instance in store.instances() {
                instance.prepared().map_err(|e| e.to_string())?;
            }
            Ok::<_, String>((store, s))
        })
        .await;
        match built {
            Ok(Ok((store, s))) => {
                let policy = s.verifier.read().map(|v| v.policy().clone());
                if let Ok(policy) = policy {
                    let options = VerifyOptions::default()
                        .require_inclusion_proof(s.trust_args.require_inclusion_proof);
                    // A fallback (the verified cache, the embedded roots) is
                    // a refresh that did not reach the repository: counted.
                    for note in store.notes() {
                        s.metrics.tuf_errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("attest serve: {note}");
                    }
                    if let Ok(mut v) = s.verifier.write() {
                        *v = Arc::new(PolicyVerifier::new(policy, store, options));
                    }
                    if !first {
                        s.generation.fetch_add(1, Ordering::SeqCst);
                    }
                    s.metrics.trust_loaded();
                    s.metrics.set_stale(false);
                    s.ready.store(true, Ordering::SeqCst);
                }
            }
            Ok(Err(e)) => {
                state.metrics.tuf_errors.fetch_add(1, Ordering::Relaxed);
                eprintln!("attest serve: trust roots not refreshed: {e}");
                if let Ok(mut last) = state.trust_error.lock() {
                    *last = Some(e.clone());
                }
                // The roots that verified keep serving; past a day without a
                // refresh that is worth a warning and a metric.
                if let Some(age) = state.metrics.trust_age() {
                    if age > STALE_TRUST {
                        state.metrics.set_stale(true);
                        eprintln!(
                            "attest serve: warning: the trust roots were last refreshed {} h ago",
                            age.as_secs() / 3600
                        );
                    }
                }
            }
            Err(e) => eprintln!("attest serve: trust refresh failed: {e}"),
        }
        first = false;
        // The next refresh: after `every`, or at once on SIGHUP (an operator
        // who rotated a mirror's root does not wait an hour).
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = hangup.recv() => {
                info!("attest serve: SIGHUP: refreshing the trust roots");
            }
        }
    }
}

fn response(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let started = Instant::now();
    let endpoint = match (req.method(), req.uri().path()) {
        (&Method::GET, "/healthz") => return Ok(text(StatusCode::OK, "ok\n".into())),
        (&Method::GET, "/readyz") => {
            return Ok(if state.ready.load(Ordering::SeqCst) {
                text(StatusCode::OK, "ready\n".into())
            } else {
                let why = state
                    .trust_error
                    .lock()
                    .ok()
                    .and_then(|e| e.clone())
                    .map(|e| format!(": {}", attest::text::remote_text(&e)))
                    .unwrap_or_default();
                text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("trust roots not loaded yet{why}\n"),
                )
            })
        }
        (&Method::GET, "/metrics") => {
            return Ok(text(
                StatusCode::OK,
                state
                    .metrics
                    .render(state.generation.load(Ordering::SeqCst)),
            ))
        }
        (&Method::POST, "/v1/verify") => "verify",
        (&Method::POST, "/v1/admission") => "admission",
        (_, "/v1/verify" | "/v1/admission") => {
            return Ok(response(
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"error": "use POST"}),
            ))
        }
        _ => {
            return Ok(response(
                StatusCode::NOT_FOUND,
                json!({"error": "not found"}),
            ))
        }
    };
    state.metrics.request(endpoint);
    let body = match Limited::new(req.into_body(), MAX_REVIEW_BYTES)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            let r = response(
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"error": format!("request body: {e} (limit {MAX_REVIEW_BYTES} bytes)")}),
            );
            state.metrics.observe(started.elapsed());
            return Ok(r);
        }
    };
    let r = match endpoint {
        "verify" => verify_endpoint(&state, &body).await,
        _ => admission_endpoint(&state, &body).await,
    };
    state.metrics.observe(started.elapsed());
    // Only the endpoint, status and time: request bodies may name private
    // images, and responses are the client's to log.
    detail!(
        "attest serve: POST /v1/{endpoint} {} {} ms",
        r.status().as_u16(),
        started.elapsed().as_millis()
    );
    Ok(r)
}

/// `POST /v1/verify`: `{"subject": "oci://…" | "sha256:…", "bundles": [...]}`
/// → the CLI's `--format json` document for that subject.
async fn verify_endpoint(state: &Arc<State>, body: &[u8]) -> Response<Full<Bytes>> {
    let bad = |m: String| response(StatusCode::BAD_REQUEST, json!({"error": m}));
    if let Err(e) = attest::json::check_unique_keys(body) {
        return bad(format!("request: {e}"));
    }
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return bad("request: not JSON; expected {\"subject\": \"oci://…\" | \"sha256:…\", \"bundles\": [...]}".into());
    };
    let Some(subject) = req["subject"].as_str().map(str::to_string) else {
        return bad("request.subject: missing".into());
    };
    let inline = match &req["bundles"] {
        Value::Null => None,
        Value::Array(list) => Some(list.clone()),
        _ => return bad("request.bundles: expected a list of Sigstore bundles".into()),
    };
    if let Some(parsed) = attest::source::pypi::parse_subject(&subject) {
        let Ok((project, version)) = parsed else {
            return bad(format!("{subject}: expected pypi:PROJECT==VERSION"));
        };
        if inline.is_some() {
            return bad(format!(
                "{subject}: a release's provenance comes from the package index, not inline bundles"
            ));
        }
        return pypi_release(state, &subject, project, version).await;
    }
    if inline.is_none() && parse_oci_ref(&subject).is_none() {
        return bad(format!(
            "{subject}: a digest needs its bundles inline (\"bundles\": [...])"
        ));
    }
    let judgement = judge(state, subject.clone(), inline).await;
    let verifier = current(state);
    let (passed, subjects) = match &judgement {
        Judgement::Report(r) => (
            r.passed,
            vec![serde_json::to_value(&**r).unwrap_or(Value::Null)],
        ),
        Judgement::Undecided(why) => (
            false,
            vec![json!({"subject": subject, "passed": false, "reason": why})],
        ),
    };
    state.metrics.verdict(if passed {
        "allowed"
    } else if matches!(judgement, Judgement::Undecided(_)) {
        "error"
    } else {
        "denied"
    });
    verify_document(state, &verifier, passed, subjects)
}

/// The answer of `POST /v1/verify`: the CLI's `--format json` document for
/// the subjects judged, with the trust-root generation.
fn verify_document(
    state: &State,
    verifier: &PolicyVerifier,
    passed: bool,
    subjects: Vec<Value>,
) -> Response<Full<Bytes>> {
    let policy = verifier.policy();
    response(
        StatusCode::OK,
        json!({
            "schemaVersion": crate::policy_run::REPORT_VERSION,
            "policy": {"path": policy.origin(), "digest": policy.digest()},
            "trustRoot": {"generation": state.generation.load(Ordering::SeqCst), "notes": verifier.trust().notes()},
            "passed": passed,
            "subjects": subjects,
        }),
    )
}

/// `POST /v1/admission`: an `AdmissionReview` → its response. Every image
/// must pass; what cannot be decided is denied unless the policy says
/// `fail-open`.
async fn admission_endpoint(state: &Arc<State>, body: &[u8]) -> Response<Full<Bytes>> {
    let review = match read_review(body) {
        Ok(r) => r,
        Err(e) => {
            state.metrics.verdict("error");
            return response(StatusCode::BAD_REQUEST, json!({"error": e.to_string()}));
        }
    };
    let fail_open = current(state).policy().fail_open();
    let mut tasks = Vec::new();
    for image in &review.images {
        let s = state.clone();
        let subject = format!("oci://{image}");
        tasks.push(tokio::spawn(async move { judge(&s, subject, None).await }));
    }
    let mut denied = Vec::new();
    let mut undecided = Vec::new();
    for (image, task) in review.images.iter().zip(tasks) {
        match task.await {
            Ok(Judgement::Report(r)) if r.passed => {}
            Ok(Judgement::Report(r)) => denied.push(format!(
                "{image}: {}",
                r.reason.as_deref().unwrap_or("failed the policy")
            )),
            Ok(Judgement::Undecided(why)) => undecided.push(format!("{image}: {why}")),
            Err(e) => undecided.push(format!("{image}: internal error: {e}")),
        }
    }
    let (allowed, message) = if !denied.is_empty() {
        (false, denied.join("; "))
    } else if !undecided.is_empty() && !fail_open {
        (
            false,
            format!(
                "cannot verify, denied (fail-closed): {}",
                undecided.join("; ")
            ),
        )
    } else if !undecided.is_empty() {
        (
            true,
            format!(
                "allowed without verification (fail-open): {}",
                undecided.join("; ")
            ),
        )
    } else {
        (true, String::new())
    };
    state
        .metrics
        .verdict(if !undecided.is_empty() && denied.is_empty() {
            "error"
        } else if allowed {
            "allowed"
        } else {
            "denied"
        });
    // Registry and image names are outside text: printable, and bounded.
    let mut message = attest::report::printable_name(&message);
    if message.chars().count() > 2000 {
        message = message.chars().take(2000).collect::<String>() + "…";
    }
    response(
        StatusCode::OK,
        review_response(&review.uid, allowed, &message),
    )
}

fn current(state: &State) -> Arc<PolicyVerifier> {
    match state.verifier.read() {
        Ok(v) => v.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

/// Verify one subject: from the cache, joined to a verification already in
/// flight for it, or on a worker thread under the deadline.
async fn judge(state: &Arc<State>, subject: String, inline: Option<Vec<Value>>) -> Judgement {
    // Before the roots are loaded nothing is verified (and TUF is never
    // read on a request): undecided, so fail-closed unless the policy says
    // fail-open.
    if !state.ready.load(Ordering::SeqCst) {
        let why = state
            .trust_error
            .lock()
            .ok()
            .and_then(|e| e.clone())
            .unwrap_or_else(|| "loading".into());
        return Judgement::Undecided(format!("the trust roots are not loaded yet ({why})"));
    }
    let deadline = state.deadline;
    let work = async {
        // The digest first: a tag is resolved by the registry, and every
        // verdict is about a digest.
        let s = state.clone();
        let subj = subject.clone();
        let resolved = run_blocking(move || resolve(&s, &subj)).await?;
        let (digest, repository) = resolved?;
        let verifier = current(state);
        let key = Key {
            digest: digest.to_string(),
            name: repository.clone().unwrap_or_default(),
            policy: verifier.policy().digest().to_string(),
            generation: state.generation.load(Ordering::SeqCst),
            // Inline bundles are part of what was judged.
            evidence: inline.as_ref().map(|b| {
                attest::artifact::digest_bytes(
                    Value::Array(b.clone()).to_string().as_bytes(),
                    attest::artifact::DigestAlgorithm::Sha256,
                )
                .hex()
            }),
        };
        let s = state.clone();
        let report = state
            .cache
            .get_or_compute(key, &state.metrics, || async move {
                let _permit = s
                    .permits
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|e| e.to_string())?;
                let s2 = s.clone();
                run_blocking(move || {
                    verify_subject(&s2, &verifier, subject, digest, repository, inline)
                })
                .await?
            })
            .await?;
        Ok::<_, String>(report)
    };
    match tokio::time::timeout(deadline, work).await {
        Ok(Ok(report)) => Judgement::Report(report),
        Ok(Err(why)) => Judgement::Undecided(why),
        Err(_) => Judgement::Undecided(format!(
            "no verdict within the {} s deadline",
            deadline.as_secs()
        )),
    }
}

/// Run blocking library work on its own thread (never on the server's
/// runtime, whose threads must keep answering).
async fn run_blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("attest-verify".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|e| format!("cannot start a worker: {e}"))?;
    rx.await.map_err(|_| "the worker stopped".to_string())
}

/// `POST /v1/verify` of `pypi:PROJECT==VERSION`: every file the index lists
/// for the release, each with its PEP 740 provenance, judged by the policy
/// as a file subject (so `pypi = [...]` rules match); the release passes
/// when every file does. Under the deadline and the concurrency bound, as
/// any verification; not cached (the index may add files).
async fn pypi_release(
    state: &Arc<State>,
    subject: &str,
    project: String,
    version: String,
) -> Response<Full<Bytes>> {
    let verifier = current(state);
    let undecided = |why: String| {
        state.metrics.verdict("error");
        verify_document(
            state,
            &verifier,
            false,
            vec![json!({"subject": subject, "passed": false, "reason": why})],
        )
    };
    if !state.ready.load(Ordering::SeqCst) {
        return undecided("the trust roots are not loaded yet".into());
    }
    let Ok(_permit) = state.permits.clone().acquire_owned().await else {
        return undecided("the server is shutting down".into());
    };
    let (index, v) = (state.index.clone(), verifier.clone());
    let work = run_blocking(move || -> Result<Vec<SubjectReport>, String> {
        let files = attest::source::pypi::release_files(&index, &project, &version)
            .map_err(|e| e.to_string())?;
        if files.is_empty() {
            return Err(format!("{index} lists no file of {project} {version}"));
        }
        let mut reports = Vec::new();
        for f in files {
            let bundles = match attest::source::pypi::fetch_provenance(&index, &f.filename)
                .map_err(|e| e.to_string())?
            {
                Some(p) => attest::pep740::bundles_for(&p, &f.filename),
                None => Vec::new(),
            };
            let subject = attest::policy_file::Subject::file(f.filename.clone(), f.sha256.clone());
            reports.push(v.verify_subject(&subject, &bundles));
        }
        Ok(reports)
    });
    let reports = match tokio::time::timeout(state.deadline, work).await {
        Ok(Ok(Ok(r))) => r,
        Ok(Ok(Err(e))) | Ok(Err(e)) => {
            state
                .metrics
                .registry_errors
                .fetch_add(1, Ordering::Relaxed);
            return undecided(e);
        }
        Err(_) => {
            return undecided(format!(
                "not decided within the {} s deadline",
                state.deadline.as_secs()
            ))
        }
    };
    let passed = reports.iter().all(|r| r.passed);
    state
        .metrics
        .verdict(if passed { "allowed" } else { "denied" });
    let subjects = reports
        .iter()
        .map(|r| serde_json::to_value(r).unwrap_or(Value::Null))
        .collect();
    verify_document(state, &verifier, passed, subjects)
}

/// The subject's digest and, for images, its repository.
fn resolve(state: &State, subject: &str) -> Result<(ArtifactDigest, Option<String>), String> {
    match parse_oci_ref(subject) {
        Some(parsed) => {
            let reference = parsed.map_err(|e| e.to_string())?;
            let repository = format!("{}/{}", reference.registry(), reference.repository());
            let digest = match reference.digest() {
                Some(d) => ArtifactDigest::parse(d).map_err(|e| format!("{subject}: {e}"))?,
                None if state.offline => {
                    return Err(format!(
                        "{subject}: a tag needs the registry, and the server is offline"
                    ))
                }
                None => resolve_digest(
                    &reference,
                    &state.credentials.auth_for(reference.resolve_registry()),
                )
                .map_err(|e| {
                    state
                        .metrics
                        .registry_errors
                        .fetch_add(1, Ordering::Relaxed);
                    format!("resolving the tag: {e}")
                })?,
            };
            Ok((digest, Some(repository)))
        }
        None => ArtifactDigest::parse(subject)
            .map(|d| (d, None))
            .map_err(|e| format!("{subject}: expected oci://IMAGE or sha256:HEX: {e}")),
    }
}

fn verify_subject(
    state: &State,
    verifier: &PolicyVerifier,
    subject: String,
    digest: ArtifactDigest,
    repository: Option<String>,
    inline: Option<Vec<Value>>,
) -> Result<Arc<SubjectReport>, String> {
    let mut signatures = Vec::new();
    let bundles = match inline {
        Some(list) => list
            .iter()
            .enumerate()
            .map(|(i, b)| {
                parse_bundle(
                    &b.to_string(),
                    BundleOrigin {
                        source: "request".into(),
                        line: 0,
                        index: i + 1,
                    },
                )
            })
            .collect(),
        None => {
            let Some(Ok(reference)) = parse_oci_ref(&subject) else {
                return Err(format!("{subject}: no bundles given"));
            };
            let fetched = crate::fetch::oci_evidence(
                &reference,
                &digest,
                &state.credentials.auth_for(reference.resolve_registry()),
                state.limit,
                crate::fetch::OciKinds::ALL,
            );
            let mut bundles = match fetched {
                Ok((b, _)) => b,
                // The registry answered: there is no evidence, which the
                // policy judges (a failure), not an undecided request.
                Err(attest::source::oci::OciError::NoReferrers { .. }) => Vec::new(),
                Err(e) => {
                    state
                        .metrics
                        .registry_errors
                        .fetch_add(1, Ordering::Relaxed);
                    return Err(format!("fetching attestations: {e}"));
                }
            };
            if !state.offline {
                crate::fetch::complete_inclusion_proofs(&mut bundles, verifier.trust(), false);
            }
            // Its cosign signatures are evidence too.
            signatures = attest::source::oci::fetch_cosign_signatures(
                &reference,
                &digest,
                &state.credentials.auth_for(reference.resolve_registry()),
                state.limit,
            )
            .map_err(|e| {
                state
                    .metrics
                    .registry_errors
                    .fetch_add(1, Ordering::Relaxed);
                format!("fetching cosign signatures: {e}")
            })?;
            bundles
        }
    };
    let subject = match repository {
        Some(repo) => Subject::image(subject, repo, digest),
        None => Subject::digest(subject, digest),
    };
    Ok(Arc::new(verifier.verify_subject_with_signatures(
        &subject,
        &bundles,
        &signatures,
    )))
}

/// SIGHUP, when the platform gives it.
struct Hangup(Option<tokio::signal::unix::Signal>);

impl Hangup {
    async fn recv(&mut self) {
        match &mut self.0 {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    }
}
