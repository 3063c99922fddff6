//! Where registry credentials go, and how the registry client retries, with
//! hostile registries on 127.0.0.1 (tests/support/fake_registry.rs) that log
//! every request and its `Authorization` header:
//!
//! - a registry (basic or token auth) that 307-redirects the bundle blob to
//!   a "CDN" on another loopback origin, which answers 401 with a bearer
//!   challenge naming a third, thieving origin: no password or token may
//!   reach the CDN or the thief, and the CDN's token never reaches the
//!   registry (`verify`, and `download` with a Docker `config.json`);
//! - `ATTEST_REGISTRY_USERNAME`/`_PASSWORD` go only to `ATTEST_REGISTRY`;
//! - 429 and 5xx are retried (Retry-After honoured), and a registry that
//!   always fails ends in a bounded time;
//! - a referrer listed many times is fetched once; the limit bounds loading.

mod common;
#[path = "support/fake_registry.rs"]
mod fake_registry;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use attest::artifact::{digest_bytes, ArtifactDigest, DigestAlgorithm};
use attest_testsign::{
    provenance_predicate, statement, FulcioClaims, TestSigstore, TestSigstoreConfig,
    SLSA_PROVENANCE_V1,
};
use base64::Engine;
use fake_registry::{challenge, redirect, FakeRegistry, Reply, Request};

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";
const BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const USER: &str = "alice";
const PASSWORD: &str = "s3cret";
const TOKEN: &str = "registry-token-123";
const CDN_TOKEN: &str = "cdn-token-666";
/// Longest any run may take; every case here should end in seconds.
const BOUND: Duration = Duration::from_secs(60);

fn basic(user: &str, password: &str) -> String {
    let pair = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {pair}")
}

/// An image, its bundle referrers (each a signed bundle for the image's
/// digest), and the trusted root that verifies them.
struct Image {
    manifest: Vec<u8>,
    digest: ArtifactDigest,
    /// (referrer manifest, its digest, bundle layer, layer digest).
    referrers: Vec<(Vec<u8>, String, Vec<u8>, String)>,
    root: tempfile::NamedTempFile,
}

impl Image {
    fn new(bundles: usize) -> Self {
        let mut sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
        let root = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(root.path(), sigstore.trusted_root_json() + "\n").unwrap();
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": format!("sha256:{}", "a".repeat(64)), "size": 2},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": format!("sha256:{}", "b".repeat(64)), "size": 3}],
        }))
        .unwrap();
        let digest = digest_bytes(&manifest, DigestAlgorithm::Sha256);
        let claims = FulcioClaims::default();
        let referrers = (0..bundles)
            .map(|_| {
                let st = statement(
                    &[("octo/app", "sha256", &digest.hex())],
                    SLSA_PROVENANCE_V1,
                    provenance_predicate(&claims),
                );
                let opts = sigstore.default_sign_options();
                let bundle =
                    serde_json::to_vec(&sigstore.sign_statement(&st, &claims, &opts)).unwrap();
                let layer = digest_bytes(&bundle, DigestAlgorithm::Sha256).to_string();
                let referrer = serde_json::to_vec(&serde_json::json!({
                    "schemaVersion": 2,
                    "mediaType": MANIFEST,
                    "artifactType": BUNDLE,
                    "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": digest_bytes(b"{}", DigestAlgorithm::Sha256).to_string(), "size": 2},
                    "layers": [{"mediaType": BUNDLE, "digest": layer, "size": bundle.len()}],
                    "subject": {"mediaType": MANIFEST, "digest": digest.to_string(), "size": manifest.len()},
                }))
                .unwrap();
                let referrer_digest = digest_bytes(&referrer, DigestAlgorithm::Sha256).to_string();
                (referrer, referrer_digest, bundle, layer)
            })
            .collect();
        Self {
            manifest,
            digest,
            referrers,
            root,
        }
    }

    /// The referrers index, listing referrer `i` `times[i]` times.
    fn index(&self, times: &[usize]) -> Vec<u8> {
        let mut manifests = Vec::new();
        for (i, (referrer, digest, _, _)) in self.referrers.iter().enumerate() {
            for _ in 0..times.get(i).copied().unwrap_or(1) {
                manifests.push(serde_json::json!({
                    "mediaType": MANIFEST,
                    "digest": digest,
                    "size": referrer.len(),
                    "artifactType": BUNDLE,
                }));
            }
        }
        serde_json::to_vec(
            &serde_json::json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests}),
        )
        .unwrap()
    }

    /// The registry's answer to an authorized read of `path` under
    /// `/v2/octo/app`, the blobs answered by `blob` (given the layer index).
    fn serve(&self, path: &str, index: &[u8], blob: &dyn Fn(usize) -> Reply) -> Reply {
        let d = self.digest.to_string();
        let rest = path.strip_prefix("/v2/octo/app").unwrap_or_default();
        if rest == "/manifests/1.0" || rest == format!("/manifests/{d}") {
            return Reply::json(MANIFEST, &self.manifest, Some(&d));
        }
        if rest == format!("/referrers/{d}") {
            return Reply::json(INDEX, index, None);
        }
        for (i, (referrer, digest, _, layer)) in self.referrers.iter().enumerate() {
            if rest == format!("/manifests/{digest}") {
                return Reply::json(MANIFEST, referrer, Some(digest));
            }
            if rest == format!("/blobs/{layer}") {
                return blob(i);
            }
        }
        Reply::error(404, "MANIFEST_UNKNOWN")
    }

    fn bundle_reply(&self, i: usize) -> Reply {
        Reply::json(BUNDLE, &self.referrers[i].2, None)
    }
}

/// How the registry authenticates.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Auth {
    /// `Basic` with [`USER`]/[`PASSWORD`].
    Basic,
    /// A token from its own `/token` service, for [`USER`]/[`PASSWORD`].
    Token,
}

/// A registry holding [`Image`] behind `auth`, whose blob GETs are
/// redirected to `CDN/blob/N` (or, without a CDN, answered here).
fn registry(image: Arc<Image>, auth: Auth, cdn_url: Option<String>) -> FakeRegistry {
    let me: Arc<OnceLock<String>> = Arc::new(OnceLock::new());
    let host = me.clone();
    let index = image.index(&[]);
    let reg = FakeRegistry::start(move |req: &Request| {
        let realm = format!("http://{}/token", host.get().unwrap());
        let presented = req.authorization.as_deref();
        if auth == Auth::Token && req.path.starts_with("/token") {
            return if presented == Some(basic(USER, PASSWORD).as_str()) {
                Reply::json(
                    "application/json",
                    format!(r#"{{"token":"{TOKEN}"}}"#).as_bytes(),
                    None,
                )
            } else {
                Reply::error(401, "UNAUTHORIZED")
            };
        }
        let (expected, asked) = match auth {
            Auth::Basic => (
                basic(USER, PASSWORD),
                r#"Basic realm="registry""#.to_string(),
            ),
            Auth::Token => (
                format!("Bearer {TOKEN}"),
                format!(r#"Bearer realm="{realm}",service="registry""#),
            ),
        };
        if presented != Some(expected.as_str()) {
            return challenge(&asked);
        }
        image.serve(&req.path, &index, &|i| match &cdn_url {
            Some(cdn) => redirect(&format!("{cdn}/blob/{i}")),
            None => image.bundle_reply(i),
        })
    });
    me.set(reg.host.clone()).unwrap();
    reg
}

/// A CDN that serves the blobs when `hostile` is false, and otherwise asks
/// for a bearer token from `thief`.
fn cdn(image: Arc<Image>, hostile: Arc<AtomicBool>, thief: String) -> FakeRegistry {
    FakeRegistry::start(move |req: &Request| {
        if hostile.load(Ordering::SeqCst) {
            return challenge(&format!(r#"Bearer realm="{thief}/steal",service="cdn""#));
        }
        match req
            .path
            .strip_prefix("/blob/")
            .and_then(|i| i.parse::<usize>().ok())
        {
            Some(i) if i < image.referrers.len() => image.bundle_reply(i),
            _ => Reply::error(404, "BLOB_UNKNOWN"),
        }
    })
}

/// A token service that hands anyone a token (and logs what it was sent).
fn thief() -> FakeRegistry {
    FakeRegistry::start(|_: &Request| {
        Reply::json(
            "application/json",
            format!(r#"{{"token":"{CDN_TOKEN}"}}"#).as_bytes(),
            None,
        )
    })
}

/// `attest ARGS` in `dir` with `env` (every registry variable cleared
/// first), killed after [`BOUND`]: exit code (None if killed), stderr,
/// and how long it ran.
fn run(
    args: &[&str],
    env: &[(&str, &str)],
    dir: &std::path::Path,
) -> (Option<i32>, String, Duration) {
    let mut cmd = common::attest();
    cmd.current_dir(dir)
        .env_remove("ATTEST_REGISTRY")
        // --bundle-from-oci needs the network; --custom-trusted-root keeps
        // trust offline all the same.
        .env_remove("ATTEST_OFFLINE")
        .env("HOME", dir)
        .env("ATTEST_HTTP_TIMEOUT", "10")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    common::run_bounded_stderr(&mut cmd, BOUND)
}

fn verify_args<'a>(image: &'a str, root: &'a std::path::Path) -> Vec<&'a str> {
    vec![
        "verify",
        image,
        "--bundle-from-oci",
        "--repo",
        "octo-org/octo-repo",
        "--custom-trusted-root",
        root.to_str().unwrap(),
    ]
}

/// No request `server` received carried an Authorization header.
fn assert_no_credentials(server: &FakeRegistry, who: &str) {
    for r in server.logged() {
        assert!(
            r.authorization.is_none(),
            "{who} received {:?} with {} {}",
            r.authorization,
            r.method,
            r.path
        );
    }
}

/// The registry never received the CDN's token.
fn assert_no_cdn_token(server: &FakeRegistry) {
    for r in server.logged() {
        assert!(
            !r.authorization
                .as_deref()
                .unwrap_or_default()
                .contains(CDN_TOKEN),
            "the registry received the CDN's token with {} {}",
            r.method,
            r.path
        );
    }
}

/// A redirect target's 401 is never answered with the registry's
/// credentials, in `verify` with environment credentials: first with a CDN
/// that serves the blob (verification succeeds, the CDN saw no credentials),
/// then with one that challenges.
fn redirect_target_gets_no_credentials(auth: Auth) {
    let image = Arc::new(Image::new(1));
    let hostile = Arc::new(AtomicBool::new(false));
    let thief = thief();
    let cdn = cdn(image.clone(), hostile.clone(), thief.url(""));
    let reg = registry(image.clone(), auth, Some(cdn.url("")));
    let dir = tempfile::tempdir().unwrap();
    let reference = format!("oci://{}/octo/app:1.0", reg.host);
    let env = [
        ("ATTEST_REGISTRY", reg.host.as_str()),
        ("ATTEST_REGISTRY_USERNAME", USER),
        ("ATTEST_REGISTRY_PASSWORD", PASSWORD),
    ];
    let args = verify_args(&reference, image.root.path());

    let (code, err, _) = run(&args, &env, dir.path());
    assert_eq!(code, Some(0), "{err}");
    assert!(!cdn.logged().is_empty(), "the blob was not redirected");
    assert_no_credentials(&cdn, "the CDN");

    hostile.store(true, Ordering::SeqCst);
    let (code, err, _) = run(&args, &env, dir.path());
    assert_no_credentials(&cdn, "the CDN");
    assert_no_credentials(&thief, "the CDN's token service");
    assert!(
        thief.logged().is_empty(),
        "the CDN's token service was asked: {:?}",
        thief.logged()
    );
    assert_no_cdn_token(&reg);
    assert_ne!(code, Some(0), "{err}");
    assert!(
        err.contains("which answered HTTP 401") && err.contains("does not answer"),
        "{err}"
    );
}

#[test]
fn a_redirect_target_never_gets_the_registry_password() {
    redirect_target_gets_no_credentials(Auth::Basic);
}

#[test]
fn a_redirect_target_never_gets_the_registry_token_or_password() {
    redirect_target_gets_no_credentials(Auth::Token);
}

#[test]
fn download_with_docker_config_credentials_keeps_them_from_a_redirect_target() {
    let image = Arc::new(Image::new(1));
    let hostile = Arc::new(AtomicBool::new(false));
    let thief = thief();
    let cdn = cdn(image.clone(), hostile.clone(), thief.url(""));
    let reg = registry(image.clone(), Auth::Token, Some(cdn.url("")));
    let dir = tempfile::tempdir().unwrap();
    let docker = tempfile::tempdir().unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    std::fs::write(
        docker.path().join("config.json"),
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.host),
    )
    .unwrap();
    let env = [("DOCKER_CONFIG", docker.path().to_str().unwrap())];
    let reference = format!("oci://{}/octo/app:1.0", reg.host);
    let args = [
        "download",
        &reference,
        "--bundle-from-oci",
        "--repo",
        "octo-org/octo-repo",
    ];
    let written = dir.path().join(format!("{}.jsonl", image.digest));

    let (code, err, _) = run(&args, &env, dir.path());
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        std::fs::read_to_string(&written).unwrap().lines().count(),
        1
    );
    std::fs::remove_file(&written).unwrap();
    assert_no_credentials(&cdn, "the CDN");

    hostile.store(true, Ordering::SeqCst);
    let (code, err, _) = run(&args, &env, dir.path());
    assert_no_credentials(&cdn, "the CDN");
    assert_no_credentials(&thief, "the CDN's token service");
    assert!(thief.logged().is_empty(), "{:?}", thief.logged());
    assert_no_cdn_token(&reg);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("which answered HTTP 401"), "{err}");
    assert!(!written.exists(), "a file was written");
}

#[test]
fn environment_credentials_go_only_to_the_registry_attest_registry_names() {
    // Registry A: token auth for alice, whose password is in the Docker
    // config (under Docker's URL spelling of the key). The environment
    // holds bob's password for registry B.
    let image = Arc::new(Image::new(1));
    let b = thief();
    let a = registry(image.clone(), Auth::Token, None);
    let dir = tempfile::tempdir().unwrap();
    let docker = tempfile::tempdir().unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    std::fs::write(
        docker.path().join("config.json"),
        format!(
            r#"{{"auths":{{"http://{}/v1/":{{"auth":"{auth}"}}}}}}"#,
            a.host
        ),
    )
    .unwrap();
    let reference = format!("oci://{}/octo/app:1.0", a.host);
    let args = verify_args(&reference, image.root.path());
    let env = [
        ("DOCKER_CONFIG", docker.path().to_str().unwrap()),
        ("ATTEST_REGISTRY", b.host.as_str()),
        ("ATTEST_REGISTRY_USERNAME", "bob"),
        ("ATTEST_REGISTRY_PASSWORD", "b-secret"),
    ];
    let (code, err, _) = run(&args, &env, dir.path());
    assert_eq!(code, Some(0), "{err}");
    let bobs = basic("bob", "b-secret");
    let alices = basic(USER, PASSWORD);
    let token_requests: Vec<Request> = a
        .logged()
        .into_iter()
        .filter(|r| r.path.starts_with("/token"))
        .collect();
    assert!(!token_requests.is_empty(), "{:?}", a.requests());
    for r in &token_requests {
        assert_eq!(
            r.authorization.as_deref(),
            Some(alices.as_str()),
            "{}",
            r.path
        );
    }
    for r in a.logged() {
        assert_ne!(
            r.authorization.as_deref(),
            Some(bobs.as_str()),
            "registry A received B's password with {} {}",
            r.method,
            r.path
        );
    }
    assert!(b.logged().is_empty(), "{:?}", b.logged());

    // The password without the registry it is for: a usage error, before
    // any request.
    let before = a.logged().len();
    let env = [
        ("ATTEST_REGISTRY_USERNAME", "bob"),
        ("ATTEST_REGISTRY_PASSWORD", "b-secret"),
    ];
    let (code, err, _) = run(&args, &env, dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("ATTEST_REGISTRY is not; expected ATTEST_REGISTRY=host[:port]"),
        "{err}"
    );
    assert_eq!(a.logged().len(), before, "{:?}", a.requests());
}

/// An anonymous registry holding [`Image`] (its referrers listed as
/// `times` says), where `fault` may answer a request first.
fn open_registry(
    image: Arc<Image>,
    times: &[usize],
    fault: impl Fn(&Request) -> Option<Reply> + Send + Sync + 'static,
) -> FakeRegistry {
    let index = image.index(times);
    FakeRegistry::start(move |req: &Request| {
        fault(req).unwrap_or_else(|| image.serve(&req.path, &index, &|i| image.bundle_reply(i)))
    })
}

/// A fault for the first `n` requests whose path contains `part`.
fn first(
    n: usize,
    part: String,
    reply: impl Fn() -> Reply + Send + Sync + 'static,
) -> impl Fn(&Request) -> Option<Reply> + Send + Sync + 'static {
    let count = AtomicUsize::new(0);
    move |req: &Request| {
        (req.path.contains(&part) && count.fetch_add(1, Ordering::SeqCst) < n).then(&reply)
    }
}

fn count(server: &FakeRegistry, part: &str) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.contains(part))
        .count()
}

#[test]
fn a_503_and_a_429_with_retry_after_are_retried() {
    let image = Arc::new(Image::new(1));
    let dir = tempfile::tempdir().unwrap();
    let layer = image.referrers[0].3.clone();
    let reg = open_registry(
        image.clone(),
        &[],
        first(1, format!("/blobs/{layer}"), || {
            Reply::error(503, "UNAVAILABLE")
        }),
    );
    let reference = format!("oci://{}/octo/app:1.0", reg.host);
    let (code, err, _) = run(&verify_args(&reference, image.root.path()), &[], dir.path());
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(count(&reg, "/blobs/"), 2, "{:?}", reg.requests());

    let reg = open_registry(
        image.clone(),
        &[],
        first(1, "/referrers/".into(), || Reply::Full {
            status: 429,
            headers: vec![("Retry-After".into(), "1".into())],
            body: br#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}"#.to_vec(),
        }),
    );
    let reference = format!("oci://{}/octo/app:1.0", reg.host);
    let (code, err, elapsed) = run(&verify_args(&reference, image.root.path()), &[], dir.path());
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(count(&reg, "/referrers/"), 2, "{:?}", reg.requests());
    assert!(
        elapsed >= Duration::from_secs(1),
        "Retry-After not honoured: {elapsed:?}"
    );
}

#[test]
fn a_registry_always_answering_503_fails_in_bounded_time() {
    let image = Arc::new(Image::new(1));
    let dir = tempfile::tempdir().unwrap();
    let reg = FakeRegistry::start(|_: &Request| Reply::error(503, "UNAVAILABLE"));
    let reference = format!("oci://{}/octo/app:1.0", reg.host);
    let (code, err, elapsed) = run(&verify_args(&reference, image.root.path()), &[], dir.path());
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("HTTP 503: UNAVAILABLE") && err.contains("(after 3 retries)"),
        "{err}"
    );
    // The manifest HEAD and then GET, each asked four times at most, with
    // backoff of 0.25 + 0.5 + 1 s.
    let asked = reg.requests().len();
    assert!((2..=8).contains(&asked), "{:?}", reg.requests());
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
}

#[test]
fn a_referrer_listed_many_times_is_fetched_and_written_once_and_the_limit_bounds_loading() {
    let image = Arc::new(Image::new(2));
    let dir = tempfile::tempdir().unwrap();
    let reg = open_registry(image.clone(), &[7, 1], |_: &Request| None);
    let reference = format!("oci://{}/octo/app:1.0", reg.host);
    let (first_referrer, second_referrer) = (&image.referrers[0].1, &image.referrers[1].1);

    let (code, err, _) = run(&verify_args(&reference, image.root.path()), &[], dir.path());
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(count(&reg, first_referrer), 1, "{:?}", reg.requests());
    assert_eq!(count(&reg, "/blobs/"), 2, "{:?}", reg.requests());

    let written = dir.path().join(format!("{}.jsonl", image.digest));
    for (limit, lines) in [("30", 2), ("1", 1)] {
        let args = [
            "download",
            &reference,
            "--bundle-from-oci",
            "--repo",
            "octo-org/octo-repo",
            "--limit",
            limit,
        ];
        let (code, err, _) = run(&args, &[], dir.path());
        assert_eq!(code, Some(0), "{err}");
        let text = std::fs::read_to_string(&written).unwrap();
        assert_eq!(text.lines().count(), lines, "--limit {limit}: {text}");
    }

    // The limit bounds what is loaded, not only what is kept.
    let reg = open_registry(image.clone(), &[7, 1], |_: &Request| None);
    let r = attest::source::oci::parse_oci_ref(&format!("oci://{}/octo/app:1.0", reg.host))
        .unwrap()
        .unwrap();
    let loaded = attest::source::oci::fetch_referrer_bundles_limited(
        &r,
        &image.digest,
        &attest::source::oci::RegistryAuth::Anonymous,
        1,
    )
    .unwrap();
    assert_eq!(loaded.len(), 1);
    assert!(loaded[0].is_ok(), "{:?}", loaded[0]);
    assert_eq!(count(&reg, first_referrer), 1, "{:?}", reg.requests());
    assert_eq!(count(&reg, second_referrer), 0, "{:?}", reg.requests());
}
