//! Trusted roots over TUF: refresh, cache, offline re-verification.
//!
//! Each Sigstore instance publishes its `trusted_root.json` as a target of a
//! TUF repository. We start from a TUF root embedded in the binary (the ones
//! gh embeds), walk the root chain, and verify timestamp, snapshot, targets
//! and the target's hashes with `sigstore-tuf`. Verified metadata and targets
//! are written through to a cache directory; an offline run re-verifies the
//! whole cache from the embedded root (signatures, versions, expiry, target
//! hashes) before using it, so the writable cache is never trusted as is.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sigstore_tuf::{
    FileStore, HttpRepository, MetadataStore, Repository, Role, TrustedMetadataSet, Updater,
};

/// The public-good TUF repository.
pub const PUBLIC_GOOD_TUF_URL: &str = "https://tuf-repo-cdn.sigstore.dev";
/// GitHub's TUF repository.
pub const GITHUB_TUF_URL: &str = "https://tuf-repo.github.com";
/// The TUF target holding an instance's trusted root.
pub const TRUSTED_ROOT_TARGET: &str = "trusted_root.json";

/// Initial TUF root of the public-good repository (version 14, as gh ships it).
pub const EMBEDDED_PUBLIC_GOOD_TUF_ROOT: &[u8] =
    include_bytes!("../../trust/tuf-root-public-good.json");
/// Initial TUF root of GitHub's repository (version 3, as gh ships it).
pub const EMBEDDED_GITHUB_TUF_ROOT: &[u8] = include_bytes!("../../trust/tuf-root-github.json");

/// How long a successful refresh spares the network (gh uses one day too).
pub const CACHE_FRESH_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// Environment variable that moves the cache directory (read by the CLI,
/// which passes the directory in [`FetchOptions::cache_root`]).
pub const CACHE_DIR_ENV: &str = "ATTEST_CACHE_DIR";

/// File in each repository's cache directory recording the last successful
/// online refresh. It only decides whether to contact the network; the
/// metadata itself is always re-verified.
const REFRESH_STAMP: &str = "attest-last-refresh";

/// A TUF repository to fetch a trusted root from.
#[derive(Debug, Clone)]
pub struct TufRepository {
    /// Base URL (metadata at `<url>/N.root.json`, targets under `<url>/targets/`).
    pub url: String,
    /// The initial trusted root metadata.
    pub initial_root: Vec<u8>,
    /// The target name.
    pub target: String,
}

impl TufRepository {
    /// The public-good repository with its embedded root.
    pub fn public_good() -> Self {
        Self {
            url: PUBLIC_GOOD_TUF_URL.into(),
            initial_root: EMBEDDED_PUBLIC_GOOD_TUF_ROOT.to_vec(),
            target: TRUSTED_ROOT_TARGET.into(),
        }
    }

    /// GitHub's repository with its embedded root.
    pub fn github() -> Self {
        Self {
            url: GITHUB_TUF_URL.into(),
            initial_root: EMBEDDED_GITHUB_TUF_ROOT.to_vec(),
            target: TRUSTED_ROOT_TARGET.into(),
        }
    }

    /// GitHub's repository, for a GHE.com tenant's trust domain: the target
    /// is `<trust_domain>.trusted_root.json`.
    pub fn github_tenant(trust_domain: &str) -> Self {
        Self {
            target: format!("{trust_domain}.{TRUSTED_ROOT_TARGET}"),
            ..Self::github()
        }
    }

    /// This repository's directory under a cache root.
    pub fn cache_dir(&self, cache_root: &Path) -> PathBuf {
        cache_root.join("tuf").join(url_dirname(&self.url))
    }
}

/// The platform cache directory (`~/.cache/attest` on Linux). The CLI
/// prefers `--cache-dir`, then `ATTEST_CACHE_DIR`, then this, and passes the
/// result in [`FetchOptions::cache_root`].
pub fn platform_cache_root() -> Option<PathBuf> {
    directories::ProjectDirs::from("dev", "attest", "attest").map(|d| d.cache_dir().to_path_buf())
}

fn url_dirname(url: &str) -> String {
    url.trim_end_matches('/')
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Why a TUF fetch failed. The kinds decide what a caller may fall back to.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum TufError {
    /// The repository could not be reached (DNS, connect, timeout, HTTP
    /// status): nothing was learned, falling back to local material is safe.
    #[error("{url}: cannot reach the TUF repository: {detail}")]
    Network {
        /// Repository.
        url: String,
        /// What happened.
        detail: String,
    },
    /// The repository answered with metadata or a target that failed TUF
    /// verification (bad signatures, rollback, expiry, mix-and-match,
    /// tampered target, a target longer than its signed length). This is what
    /// an attack looks like: fail closed.
    #[error("{url}: TUF verification failed: {detail}")]
    Verification {
        /// Repository.
        url: String,
        /// Which check failed.
        detail: String,
    },
    /// The local cache is missing.
    #[error("no TUF cache for {url} in {dir}")]
    NoCache {
        /// Repository.
        url: String,
        /// Where it was looked for.
        dir: String,
    },
    /// The local cache exists but cannot be used: it is malformed,
    /// mis-signed or inconsistent (`expired: false`), or it verifies in every
    /// respect but its metadata has expired (`expired: true`).
    #[error("{}", cache_message(url, dir, detail, *expired))]
    CacheInvalid {
        /// Repository.
        url: String,
        /// Where.
        dir: String,
        /// Which check failed (for an expired cache: which role expired when).
        detail: String,
        /// Whether it failed only because metadata has expired: the same
        /// check with expiry disabled passes. Decided on the newest root the
        /// cache chains to, never on the (normally expired) embedded one.
        expired: bool,
    },
    /// Setting up (runtime, HTTP client, bad initial root).
    #[error("{0}")]
    Setup(String),
}

fn cache_message(url: &str, dir: &str, detail: &str, expired: bool) -> String {
    if expired {
        format!(
            "the TUF cache for {url} in {dir} verifies but has expired ({detail}); \
             refresh it online with `attest trusted-root --verify-only`"
        )
    } else {
        format!(
            "the TUF cache for {url} in {dir} does not verify: {detail}; \
             refresh it online with `attest trusted-root --verify-only` (with the same \
             --cache-dir) or remove {dir}"
        )
    }
}

/// A verified target and how it was obtained.
#[derive(Debug, Clone)]
pub struct TufTarget {
    /// The target bytes, exactly as published.
    pub bytes: Vec<u8>,
    /// True if the metadata was refreshed from the network in this run.
    pub from_network: bool,
    /// When the cache was last refreshed online, if known.
    pub refreshed_at: Option<jiff::Timestamp>,
    /// Why the refreshed metadata could not be written to the cache (a
    /// network refresh with a cache directory only): the target itself is
    /// verified, but the next offline run will not find it.
    pub cache_error: Option<String>,
}

/// Options for one fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Cache root (`None`: no cache at all).
    pub cache_root: Option<PathBuf>,
    /// Never touch the network.
    pub offline: bool,
    /// Skip the network when the last refresh is younger than [`CACHE_FRESH_FOR`].
    pub use_fresh_cache: bool,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Validation time for expiry.
    pub now: jiff::Timestamp,
}

impl FetchOptions {
    /// Online, with the cache under `cache_root` (`None`: no cache), the
    /// default timeout and the clock.
    pub fn online(cache_root: Option<PathBuf>) -> Self {
        Self {
            cache_root,
            offline: false,
            use_fresh_cache: true,
            timeout: Duration::from_secs(10),
            now: jiff::Timestamp::now(),
        }
    }
}

/// Whether a fetch error means the repository could not be reached (so
/// nothing was learned from it). A transport error about a response longer
/// than its bound is not one: the server answered, with more bytes than the
/// signed length of a target (or the limit for a metadata file), which is an
/// integrity failure.
fn is_unreachable(e: &sigstore_tuf::Error) -> bool {
    match e {
        sigstore_tuf::Error::Transport { message, .. } => {
            // sigstore-tuf's bounded reader (pinned version) says "content-length
            // N exceeds max M" or "response exceeds max length M".
            !message.contains(" exceeds max ")
        }
        _ => false,
    }
}

/// A [`FileStore`] that remembers why a write failed: the updater only logs
/// failed cache writes, and a refresh that left nothing usable in the cache
/// must not be reported as cached.
#[derive(Debug, Clone)]
struct RecordingStore {
    inner: FileStore,
    failed: Arc<Mutex<Option<String>>>,
}

impl MetadataStore for RecordingStore {
    fn load(&self, name: &str) -> sigstore_tuf::Result<Option<Vec<u8>>> {
        self.inner.load(name)
    }

    fn store(&self, name: &str, bytes: &[u8]) -> sigstore_tuf::Result<()> {
        let result = self.inner.store(name, bytes);
        if let Err(e) = &result {
            let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
            failed.get_or_insert_with(|| crate::error_chain(e));
        }
        result
    }
}

/// The cache directory as a TUF repository, for offline re-verification.
///
/// The updater writes what it verified under other names than a repository
/// serves (`root_history/N.root.json`, `targets.json`, `targets/NAME`), so
/// each request also tries the cached name; every file is still verified
/// against its pin (version, length, hashes, signatures). It records the file
/// read last, so a failed check can name the cache file at fault.
#[derive(Debug, Clone)]
struct CacheRepository {
    store: FileStore,
    last: Arc<Mutex<Option<String>>>,
}

impl CacheRepository {
    fn new(dir: &Path) -> Self {
        Self {
            store: FileStore::new(dir),
            last: Arc::new(Mutex::new(None)),
        }
    }

    /// The cache file read last (none after a miss).
    fn last_read(&self) -> Option<String> {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn read(&self, names: &[String], max_length: u64) -> sigstore_tuf::Result<Option<Vec<u8>>> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        *last = None;
        for name in names {
            if let Some(bytes) = self.store.load(name)? {
                *last = Some(name.clone());
                if bytes.len() as u64 > max_length {
                    return Err(sigstore_tuf::Error::IntegrityMismatch(format!(
                        "{} bytes, over the {max_length}-byte limit",
                        bytes.len()
                    )));
                }
                return Ok(Some(bytes));
            }
        }
        Ok(None)
    }
}

/// `name` without a leading `<digits>.` (a consistent-snapshot version).
fn strip_version(name: &str) -> Option<&str> {
    let (prefix, rest) = name.split_once('.')?;
    (!prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_digit())).then_some(rest)
}

/// The cache names for a metadata file a repository serves as `name`.
fn cached_metadata_names(name: &str) -> Vec<String> {
    match strip_version(name) {
        Some("root.json") => vec![format!("root_history/{name}"), name.to_string()],
        Some(rest) => vec![name.to_string(), rest.to_string()],
        None => vec![name.to_string()],
    }
}

/// The cache names for a target a repository serves at `path`
/// (`dir/<hash>.name` with consistent snapshots; cached as `targets/dir/name`).
fn cached_target_names(path: &str) -> Vec<String> {
    let mut names = vec![format!("targets/{path}")];
    let (dir, file) = match path.rsplit_once('/') {
        Some((dir, file)) => (format!("{dir}/"), file),
        None => (String::new(), path),
    };
    if let Some((hash, name)) = file.split_once('.') {
        if hash.len() >= 32 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            names.push(format!("targets/{dir}{name}"));
        }
    }
    names
}

impl Repository for CacheRepository {
    fn fetch_metadata<'a>(
        &'a self,
        name: &'a str,
        max_length: u64,
    ) -> sigstore_tuf::transport::FetchFuture<'a> {
        let result = self.read(&cached_metadata_names(name), max_length);
        Box::pin(async move { result })
    }

    fn fetch_target<'a>(
        &'a self,
        path: &'a str,
        max_length: u64,
    ) -> sigstore_tuf::transport::FetchFuture<'a> {
        let result = self.read(&cached_target_names(path), max_length);
        Box::pin(async move { result })
    }
}

/// A cache view that never writes: the expiry-blind re-check only reads.
#[derive(Debug, Clone)]
struct ReadOnlyStore(FileStore);

impl MetadataStore for ReadOnlyStore {
    fn load(&self, name: &str) -> sigstore_tuf::Result<Option<Vec<u8>>> {
        self.0.load(name)
    }

    fn store(&self, _name: &str, _bytes: &[u8]) -> sigstore_tuf::Result<()> {
        Ok(())
    }
}

/// Block on `f` on the process-wide runtime ([`crate::source::http::block_on`]).
fn block_on<T>(f: impl std::future::Future<Output = Result<T, TufError>>) -> Result<T, TufError> {
    crate::source::http::block_on(f).map_err(|e| TufError::Setup(e.to_string()))?
}

/// When the cache for `repo` was last refreshed online.
pub fn last_refresh(repo: &TufRepository, cache_root: &Path) -> Option<jiff::Timestamp> {
    let text = std::fs::read_to_string(repo.cache_dir(cache_root).join(REFRESH_STAMP)).ok()?;
    text.trim().parse().ok()
}

/// Fetch and verify `repo`'s target: from a fresh-enough verified cache,
/// else from the network (writing the cache through), or, offline, only
/// from the cache.
pub fn fetch_target(repo: &TufRepository, opts: &FetchOptions) -> Result<TufTarget, TufError> {
    // Offline without a cache (`--offline` on a machine that never
    // refreshed) is answered before the async runtime is started: its I/O
    // driver costs every such process a few syscalls and allocations.
    if opts.offline {
        cache_with_metadata(repo, opts)?;
    }
    block_on(fetch_target_async(repo, opts))
}

/// The cache root and `repo`'s directory in it, or [`TufError::NoCache`]
/// when there is no cache directory or it holds no timestamp metadata.
fn cache_with_metadata<'a>(
    repo: &TufRepository,
    opts: &'a FetchOptions,
) -> Result<(&'a Path, PathBuf), TufError> {
    let missing = |dir: String| TufError::NoCache {
        url: repo.url.clone(),
        dir,
    };
    let Some(root) = &opts.cache_root else {
        return Err(missing("(no cache directory)".into()));
    };
    let dir = repo.cache_dir(root);
    if !dir.join("timestamp.json").exists() {
        return Err(missing(dir.display().to_string()));
    }
    Ok((root, dir))
}

/// [`fetch_target`] for a caller already inside a tokio runtime.
pub async fn fetch_target_async(
    repo: &TufRepository,
    opts: &FetchOptions,
) -> Result<TufTarget, TufError> {
    if opts.offline {
        return from_cache(repo, opts).await;
    }
    if opts.use_fresh_cache {
        if let Some(root) = &opts.cache_root {
            if let Some(at) = last_refresh(repo, root) {
                let age = opts.now.duration_since(at);
                let fresh = age.is_positive() && age.unsigned_abs() < CACHE_FRESH_FOR;
                if fresh {
                    if let Ok(t) = from_cache(repo, opts).await {
                        return Ok(t);
                    }
                }
            }
        }
    }
    from_network(repo, opts).await
}

async fn from_network(repo: &TufRepository, opts: &FetchOptions) -> Result<TufTarget, TufError> {
    let client = sigstore_tuf::reqwest::Client::builder()
        .connect_timeout(opts.timeout.min(Duration::from_secs(5)))
        .timeout(opts.timeout)
        .user_agent(concat!("attest/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            TufError::Setup(format!(
                "cannot build the HTTP client: {}",
                crate::error_chain(&e)
            ))
        })?;
    let http = HttpRepository::new(&repo.url)
        .map_err(|e| TufError::Setup(crate::error_chain(&e)))?
        .with_http_client(client);
    let mut updater =
        Updater::new(http, &repo.initial_root).map_err(|e| TufError::Verification {
            url: repo.url.clone(),
            detail: format!(
                "the initial root does not verify: {}",
                crate::error_chain(&e)
            ),
        })?;
    let cache_dir = opts.cache_root.as_ref().map(|r| repo.cache_dir(r));
    let failed_write = Arc::new(Mutex::new(None::<String>));
    if let Some(dir) = &cache_dir {
        match std::fs::create_dir_all(dir) {
            Ok(()) => {
                updater = updater.with_store(RecordingStore {
                    inner: FileStore::new(dir),
                    failed: failed_write.clone(),
                })
            }
            Err(e) => {
                *failed_write.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(format!("cannot create {}: {e}", dir.display()))
            }
        }
    }
    let classify = |e: sigstore_tuf::Error| {
        if is_unreachable(&e) {
            TufError::Network {
                url: repo.url.clone(),
                detail: crate::error_chain(&e),
            }
        } else {
            TufError::Verification {
                url: repo.url.clone(),
                detail: crate::error_chain(&e),
            }
        }
    };
    updater.refresh(opts.now).await.map_err(classify)?;
    let bytes = updater
        .get_target(&repo.target, opts.now)
        .await
        .map_err(classify)?;
    let mut cache_error = failed_write
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    if let (Some(dir), None) = (&cache_dir, &cache_error) {
        // The stamp is written last, so it is only there when the metadata is.
        let stamp = dir.join(REFRESH_STAMP);
        if let Err(e) = std::fs::write(&stamp, opts.now.to_string()) {
            cache_error = Some(format!("writing {}: {e}", stamp.display()));
        }
    }
    Ok(TufTarget {
        bytes,
        from_network: true,
        refreshed_at: Some(opts.now),
        cache_error: cache_error.map(|e| match &cache_dir {
            Some(dir) => format!("the TUF cache in {} was not updated: {e}", dir.display()),
            None => e,
        }),
    })
}

/// Verify the cached metadata in `dir` from the embedded root as of `now`
/// and return the target, with the updater (whose trusted set says what it
/// reached). A failure names the cache file read last when its message does
/// not already.
async fn verify_cache<S: MetadataStore + 'static>(
    dir: &Path,
    store: S,
    repo: &TufRepository,
    now: jiff::Timestamp,
) -> Result<(Vec<u8>, Updater), String> {
    let cache = CacheRepository::new(dir);
    let name_file = |e: sigstore_tuf::Error| {
        let detail = crate::error_chain(&e);
        match cache.last_read() {
            Some(file) if !detail.contains(&file) => format!("{file}: {detail}"),
            _ => detail,
        }
    };
    let mut updater = Updater::new(cache.clone(), &repo.initial_root)
        .map_err(|e| {
            format!(
                "the initial root does not verify: {}",
                crate::error_chain(&e)
            )
        })?
        .with_store(store);
    updater.refresh(now).await.map_err(name_file)?;
    let bytes = updater
        .get_target(&repo.target, now)
        .await
        .map_err(name_file)?;
    Ok((bytes, updater))
}

/// The first top-level role of `trusted` expired at `now`, as
/// "ROLE metadata expired at TIME".
fn first_expired(trusted: &TrustedMetadataSet, now: jiff::Timestamp) -> Option<String> {
    let roles: [(&str, Option<jiff::Timestamp>); 4] = [
        ("root", Some(trusted.root().expires())),
        ("timestamp", trusted.timestamp().map(|t| t.expires())),
        ("snapshot", trusted.snapshot().map(|s| s.expires())),
        (
            "targets",
            trusted.targets_role("targets").map(|t| t.expires()),
        ),
    ];
    roles.into_iter().find_map(|(role, expires)| {
        let expires = expires?;
        (expires < now).then(|| format!("{role} metadata expired at {expires}"))
    })
}

async fn from_cache(repo: &TufRepository, opts: &FetchOptions) -> Result<TufTarget, TufError> {
    let (root, dir) = cache_with_metadata(repo, opts)?;
    let store = FileStore::new(&dir);
    let at_now = match verify_cache(&dir, store.clone(), repo, opts.now).await {
        Ok((bytes, _)) => {
            return Ok(TufTarget {
                bytes,
                from_network: false,
                refreshed_at: last_refresh(repo, root),
                cache_error: None,
            })
        }
        Err(e) => e,
    };
    // Which check failed first depends on the order of the TUF workflow:
    // the embedded starting root has expired by design, so a cache whose
    // newer roots are missing or broken fails "root expired" whatever is
    // wrong with it. The cause is decided by the same check with expiry
    // disabled (no metadata expires before the earliest timestamp): if that
    // passes, the cache is sound and only expired, as of the newest root,
    // timestamp, snapshot and targets it reaches; else its error is the cause.
    let blind = verify_cache(&dir, ReadOnlyStore(store), repo, jiff::Timestamp::MIN).await;
    let (expired, detail) = match blind {
        Ok((_, blind)) => match first_expired(blind.trusted(), opts.now) {
            Some(which) => (true, which),
            None => (false, at_now),
        },
        Err(cause) => (false, cause),
    };
    Err(TufError::CacheInvalid {
        url: repo.url.clone(),
        dir: dir.display().to_string(),
        detail,
        expired,
    })
}

/// Remove insignificant whitespace from JSON text without touching anything
/// else (string escapes stay byte for byte), as Go's `json.Compact` does;
/// this is how gh prints each trusted root on one line.
pub fn compact_json(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    crate::json::without_layout(bytes, |part| out.extend_from_slice(part));
    out
}

/// A human description of an age: "just now", "5 minutes", "3 hours", "12 days".
pub fn describe_age(from: jiff::Timestamp, now: jiff::Timestamp) -> String {
    let secs = now.as_second().saturating_sub(from.as_second());
    match secs {
        s if s < 60 => "just now".into(),
        s if s < 3600 => format!("{} minutes ago", s / 60),
        s if s < 2 * 86400 => format!("{} hours ago", s / 3600),
        s => format!("{} days ago", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacts_like_go() {
        let text = b"{\n  \"a\" : [1, 2],\n  \"b\": \"x \\\" y\\/z\"\n}\n";
        assert_eq!(
            compact_json(text),
            br#"{"a":[1,2],"b":"x \" y\/z"}"#.to_vec()
        );
    }

    #[test]
    fn embedded_tuf_roots_self_verify() {
        for root in [EMBEDDED_PUBLIC_GOOD_TUF_ROOT, EMBEDDED_GITHUB_TUF_ROOT] {
            sigstore_tuf::TrustedMetadataSet::from_root(root).unwrap();
        }
    }

    #[test]
    fn cache_dirs_are_per_url() {
        let root = Path::new("/c");
        assert_eq!(
            TufRepository::public_good().cache_dir(root),
            Path::new("/c/tuf/https%3A%2F%2Ftuf-repo-cdn.sigstore.dev")
        );
    }

    #[test]
    fn only_an_unanswered_request_counts_as_unreachable() {
        let t = sigstore_tuf::Error::transport;
        assert!(is_unreachable(&t("GET http://x/timestamp.json failed")));
        assert!(is_unreachable(&t("timestamp.json not found")));
        // The server answered with more than the signed length: integrity.
        assert!(!is_unreachable(&t(
            "http://x/targets/a.json: content-length 6788 exceeds max 6787"
        )));
        assert!(!is_unreachable(&t(
            "http://x/targets/a.json: response exceeds max length 6787"
        )));
        assert!(!is_unreachable(&sigstore_tuf::Error::IntegrityMismatch(
            "x".into()
        )));
    }

    #[test]
    fn cache_names_map_repository_names_to_what_the_updater_wrote() {
        assert_eq!(
            cached_metadata_names("15.root.json"),
            ["root_history/15.root.json", "15.root.json"]
        );
        assert_eq!(
            cached_metadata_names("3.snapshot.json"),
            ["3.snapshot.json", "snapshot.json"]
        );
        assert_eq!(
            cached_metadata_names("12.targets.json"),
            ["12.targets.json", "targets.json"]
        );
        assert_eq!(cached_metadata_names("timestamp.json"), ["timestamp.json"]);
        // Not a version prefix: no alternative name.
        assert_eq!(cached_metadata_names("a1.root.json"), ["a1.root.json"]);
        assert_eq!(cached_metadata_names(".root.json"), [".root.json"]);
        let hash = "ab".repeat(32);
        assert_eq!(
            cached_target_names(&format!("{hash}.trusted_root.json")),
            [
                format!("targets/{hash}.trusted_root.json"),
                "targets/trusted_root.json".to_string()
            ]
        );
        assert_eq!(
            cached_target_names(&format!("dir/{hash}.x.json")),
            [
                format!("targets/dir/{hash}.x.json"),
                "targets/dir/x.json".to_string()
            ]
        );
        assert_eq!(
            cached_target_names("plain.json"),
            ["targets/plain.json".to_string()]
        );
        assert_eq!(
            cached_target_names("abc.trusted_root.json"),
            ["targets/abc.trusted_root.json".to_string()]
        );
    }

    #[test]
    fn a_cache_file_over_its_limit_is_refused_and_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("timestamp.json"), b"12345").unwrap();
        let repo = CacheRepository::new(dir.path());
        let names = ["timestamp.json".to_string()];
        assert_eq!(repo.read(&names, 5).unwrap().unwrap(), b"12345");
        assert_eq!(repo.last_read().as_deref(), Some("timestamp.json"));
        let e = repo.read(&names, 4).unwrap_err();
        assert_eq!(
            e.to_string(),
            "integrity check failed: 5 bytes, over the 4-byte limit"
        );
        // A miss forgets the last file, so a later error is not pinned on it.
        assert!(repo.read(&["absent.json".into()], 5).unwrap().is_none());
        assert_eq!(repo.last_read(), None);
    }

    #[test]
    fn cache_messages_say_what_to_do() {
        let invalid = TufError::CacheInvalid {
            url: "https://tuf".into(),
            dir: "/c/tuf/x".into(),
            detail: "timestamp.json: malformed metadata".into(),
            expired: false,
        }
        .to_string();
        assert_eq!(
            invalid,
            "the TUF cache for https://tuf in /c/tuf/x does not verify: timestamp.json: \
             malformed metadata; refresh it online with `attest trusted-root --verify-only` \
             (with the same --cache-dir) or remove /c/tuf/x"
        );
        let expired = TufError::CacheInvalid {
            url: "https://tuf".into(),
            dir: "/c/tuf/x".into(),
            detail: "timestamp metadata expired at 2026-01-01T00:00:00Z".into(),
            expired: true,
        }
        .to_string();
        assert_eq!(
            expired,
            "the TUF cache for https://tuf in /c/tuf/x verifies but has expired (timestamp \
             metadata expired at 2026-01-01T00:00:00Z); refresh it online with \
             `attest trusted-root --verify-only`"
        );
    }

    #[test]
    fn offline_without_cache_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let opts = FetchOptions {
            cache_root: Some(dir.path().to_path_buf()),
            offline: true,
            use_fresh_cache: true,
            timeout: Duration::from_secs(1),
            now: jiff::Timestamp::now(),
        };
        let err = fetch_target(&TufRepository::github(), &opts).unwrap_err();
        assert!(matches!(err, TufError::NoCache { .. }), "{err}");
    }

    #[test]
    fn ages_are_described_at_each_boundary() {
        let now: jiff::Timestamp = "2026-12-07T00:00:00Z".parse().unwrap();
        let age = |secs: i64| describe_age(now - jiff::SignedDuration::from_secs(secs), now);
        for (secs, expected) in [
            (-5, "just now"),
            (0, "just now"),
            (59, "just now"),
            (60, "1 minutes ago"),
            (3599, "59 minutes ago"),
            (3600, "1 hours ago"),
            (86_402, "24 hours ago"),
            (2 * 86_400 - 1, "47 hours ago"),
            (2 * 86_400, "2 days ago"),
            (30 * 86_400 + 5, "30 days ago"),
        ] {
            assert_eq!(age(secs), expected, "{secs} s");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_platform_cache_is_attest_s_own_directory() {
        let root = platform_cache_root().expect("a home directory");
        assert!(root.is_absolute(), "{}", root.display());
        assert_eq!(root.file_name(), Some(std::ffi::OsStr::new("attest")));
    }

    #[test]
    fn the_cache_root_is_the_value_given_not_the_environment() {
        std::env::set_var(CACHE_DIR_ENV, "/nonexistent/from-env");
        let given = PathBuf::from("/tmp/given-cache");
        assert_eq!(
            FetchOptions::online(Some(given.clone())).cache_root,
            Some(given)
        );
        assert_eq!(FetchOptions::online(None).cache_root, None);
    }
}
