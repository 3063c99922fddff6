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
use std::time::Duration;

use sigstore_tuf::{FileStore, HttpRepository, StoreRepository, Updater};

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

/// Environment variable that moves the cache directory.
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

/// Where caches live: `--cache-dir`, else `ATTEST_CACHE_DIR`, else the
/// platform cache directory (`~/.cache/attest` on Linux).
pub fn default_cache_root() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(CACHE_DIR_ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir));
    }
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
    /// tampered target). This is what an attack looks like: fail closed.
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
    /// The local cache exists but does not verify (tampered or expired).
    #[error("the TUF cache for {url} in {dir} does not verify: {detail}")]
    CacheInvalid {
        /// Repository.
        url: String,
        /// Where.
        dir: String,
        /// Which check failed.
        detail: String,
        /// Whether it failed only because metadata has expired.
        expired: bool,
    },
    /// Setting up (runtime, HTTP client, bad initial root).
    #[error("{0}")]
    Setup(String),
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
    /// Online, with the default cache, the default timeout and the clock.
    pub fn online() -> Self {
        Self {
            cache_root: default_cache_root(),
            offline: false,
            use_fresh_cache: true,
            timeout: Duration::from_secs(10),
            now: jiff::Timestamp::now(),
        }
    }
}

fn is_transport(e: &sigstore_tuf::Error) -> bool {
    matches!(e, sigstore_tuf::Error::Transport { .. })
}

fn runtime() -> Result<tokio::runtime::Runtime, TufError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| TufError::Setup(format!("cannot start the async runtime: {e}")))
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
    let rt = runtime()?;
    if opts.offline {
        return rt.block_on(from_cache(repo, opts));
    }
    if opts.use_fresh_cache {
        if let Some(root) = &opts.cache_root {
            if let Some(at) = last_refresh(repo, root) {
                let age = opts.now.duration_since(at);
                let fresh = age.is_positive() && age.unsigned_abs() < CACHE_FRESH_FOR;
                if fresh {
                    if let Ok(t) = rt.block_on(from_cache(repo, opts)) {
                        return Ok(t);
                    }
                }
            }
        }
    }
    rt.block_on(from_network(repo, opts))
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
    if let Some(dir) = &cache_dir {
        if std::fs::create_dir_all(dir).is_ok() {
            updater = updater.with_store(FileStore::new(dir));
        }
    }
    let classify = |e: sigstore_tuf::Error| {
        if is_transport(&e) {
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
    if let Some(dir) = &cache_dir {
        // Best effort: a read-only cache only costs a network trip next time.
        let _ = std::fs::write(dir.join(REFRESH_STAMP), opts.now.to_string());
    }
    Ok(TufTarget {
        bytes,
        from_network: true,
        refreshed_at: Some(opts.now),
    })
}

async fn from_cache(repo: &TufRepository, opts: &FetchOptions) -> Result<TufTarget, TufError> {
    let Some(root) = &opts.cache_root else {
        return Err(TufError::NoCache {
            url: repo.url.clone(),
            dir: "(no cache directory)".into(),
        });
    };
    let dir = repo.cache_dir(root);
    if !dir.join("timestamp.json").exists() {
        return Err(TufError::NoCache {
            url: repo.url.clone(),
            dir: dir.display().to_string(),
        });
    }
    let store = FileStore::new(&dir);
    let invalid = |e: sigstore_tuf::Error| TufError::CacheInvalid {
        url: repo.url.clone(),
        dir: dir.display().to_string(),
        expired: matches!(e, sigstore_tuf::Error::Expired { .. }),
        detail: crate::error_chain(&e),
    };
    let mut updater = Updater::new(StoreRepository::new(store.clone()), &repo.initial_root)
        .map_err(invalid)?
        .with_store(store);
    updater.refresh(opts.now).await.map_err(invalid)?;
    let bytes = updater
        .get_target(&repo.target, opts.now)
        .await
        .map_err(invalid)?;
    Ok(TufTarget {
        bytes,
        from_network: false,
        refreshed_at: last_refresh(repo, root),
    })
}

/// Remove insignificant whitespace from JSON text without touching anything
/// else (string escapes stay byte for byte), as Go's `json.Compact` does;
/// this is how gh prints each trusted root on one line.
pub fn compact_json(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b' ' | b'\n' | b'\r' | b'\t' => {}
            b'"' => {
                in_string = true;
                out.push(b);
            }
            _ => out.push(b),
        }
    }
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
}
