//! The one place that reads the environment. The library reads no
//! environment variable: every value it needs is read here and passed in
//! (the HTTP timeout, the GitHub API and its token, registry credentials,
//! the TUF cache directory). Clap's `env = …` flags are the other reader,
//! and they are declared with their flags.

use std::path::PathBuf;

use attest::source::github::{ApiSettings, GitHubApi, TOKEN_VARS};
use attest::source::http::{self, HttpSettings, TIMEOUT_ENV};
use attest::source::oci::{OciError, RegistryCredentials};
use attest::trust::tuf::{platform_cache_root, CACHE_DIR_ENV};

/// A variable's value, `None` when unset or not UTF-8.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// A path-valued variable, `None` when unset or empty.
fn path_var(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Install the HTTP settings (`ATTEST_HTTP_TIMEOUT` seconds, else 30) for
/// every client of this process. Called once, before any command runs.
pub fn install_http() {
    http::set_settings(HttpSettings::from_timeout_text(var(TIMEOUT_ENV).as_deref()));
}

/// The GitHub API for `hostname`: `GITHUB_API_URL`, the token variables and
/// gh's `hosts.yml` (`$GH_CONFIG_DIR/hosts.yml`, else
/// `$XDG_CONFIG_HOME/gh/hosts.yml`, else `~/.config/gh/hosts.yml`), as
/// values; which of them apply to which host is the library's rule.
pub fn github_api(hostname: Option<&str>) -> GitHubApi {
    GitHubApi::new(&ApiSettings {
        hostname: hostname.map(str::to_string),
        api_url: var("GITHUB_API_URL"),
        env_tokens: TOKEN_VARS
            .iter()
            .filter_map(|name| var(name).map(|v| (name.to_string(), v)))
            .collect(),
        hosts_yml: gh_hosts_file(),
    })
}

fn gh_hosts_file() -> Option<PathBuf> {
    if let Some(dir) = path_var("GH_CONFIG_DIR") {
        return Some(dir.join("hosts.yml"));
    }
    if let Some(dir) = path_var("XDG_CONFIG_HOME") {
        return Some(dir.join("gh/hosts.yml"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/gh/hosts.yml"))
}

/// Registry credentials: `ATTEST_REGISTRY`/`_USERNAME`/`_PASSWORD`, and the
/// Docker config (`$DOCKER_CONFIG/config.json`, else
/// `~/.docker/config.json`). A user name and password without the registry
/// they are for is an error ([`OciError::Settings`], a usage error).
pub fn registry_credentials() -> Result<RegistryCredentials, OciError> {
    let docker_dir = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")));
    RegistryCredentials::from_values(&var, docker_dir.map(|d| d.join("config.json")))
}

/// The TUF cache root: `--cache-dir`, else `ATTEST_CACHE_DIR`, else the
/// platform cache directory (`~/.cache/attest` on Linux).
pub fn cache_root(cache_dir: Option<PathBuf>) -> Option<PathBuf> {
    cache_dir
        .or_else(|| path_var(CACHE_DIR_ENV))
        .or_else(platform_cache_root)
}

/// TUF options from `--offline` and `--cache-dir`.
pub fn fetch_options(
    offline: bool,
    cache_dir: Option<std::path::PathBuf>,
) -> attest::trust::tuf::FetchOptions {
    let mut opts = attest::trust::tuf::FetchOptions::online(cache_root(cache_dir));
    opts.offline = offline;
    opts
}

/// With `--offline`, refuse a GHE.com tenant host before anything asks its
/// API for the trust domain (`GET /meta`): offline means no network, and
/// the trust domain is known only from there. `remedy` says what to do
/// instead. Exit 2, as for conflicting flags.
pub fn refuse_offline_tenant(
    hostname: Option<&str>,
    offline: bool,
    remedy: &str,
) -> Result<(), i32> {
    let Some(host) = hostname.map(|h| h.trim().to_ascii_lowercase()) else {
        return Ok(());
    };
    if offline && host.ends_with(".ghe.com") {
        return Err(crate::error::usage_error(&format!(
            "--offline: the trusted root of the GHE.com tenant {host} depends on its trust domain, which only its API tells (GET /meta); {remedy}"
        )));
    }
    Ok(())
}
