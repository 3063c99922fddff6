//! Which API to contact and which token goes there: `--hostname` and
//! `GITHUB_API_URL` choose the API; a token from the environment variables
//! the host's rules name, or gh's `hosts.yml`, which only the host's own API
//! may receive.

use std::path::PathBuf;

/// Which API to contact, and whether a host-bound token may go there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTarget {
    /// The GitHub host asked for (`github.com` by default), lower-case.
    pub host: String,
    /// The API base URL contacted, without a trailing `/`.
    pub base: String,
    /// Whether `base` is `host`'s own API, so `host`'s `hosts.yml` token may
    /// be sent to it.
    pub hosts_yml_token: bool,
}

impl ApiTarget {
    /// The rules of [`GitHubApi::new`], given `--hostname` and
    /// `GITHUB_API_URL`.
    pub fn resolve(hostname: Option<&str>, env_url: Option<&str>) -> Self {
        let explicit = hostname
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty());
        let host = explicit.clone().unwrap_or_else(|| "github.com".to_string());
        let default_base = default_api_base(&host);
        let env_url = env_url
            .map(|v| v.trim().trim_end_matches('/').to_string())
            .filter(|v| !v.is_empty());
        let base = match env_url {
            Some(url) if explicit.is_none() || api_url_fits_host(&url, &host) => url,
            _ => default_base.clone(),
        };
        let hosts_yml_token = same_origin(&base, &default_base);
        Self {
            host,
            base,
            hosts_yml_token,
        }
    }
}

/// The API base gh uses for `host`.
fn default_api_base(host: &str) -> String {
    if host == "github.com" {
        "https://api.github.com".to_string()
    } else if host.ends_with(".ghe.com") {
        format!("https://api.{host}")
    } else {
        format!("https://{host}/api/v3")
    }
}

/// Whether `GITHUB_API_URL` may stand for `host`'s API: it names that API's
/// host (or the host itself, as GHES serves `/api/v3`), or a loopback
/// address, which only a deliberate local setup points at.
fn api_url_fits_host(url: &str, host: &str) -> bool {
    let Some(url_host) = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
    else {
        return false;
    };
    let api_host = reqwest::Url::parse(&default_api_base(host))
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    url_host == host
        || Some(&url_host) == api_host.as_ref()
        || crate::source::http::is_loopback_host(&url_host)
}

/// Whether two URLs have the same scheme, host and port (both must parse;
/// an opaque origin, e.g. `file:`, equals nothing).
fn same_origin(a: &str, b: &str) -> bool {
    match (reqwest::Url::parse(a), reqwest::Url::parse(b)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin(),
        _ => false,
    }
}

/// The environment variables a token may come from, in the order they are
/// tried: the first two for github.com and GHE.com hosts, the last two for
/// any other (GHES) host, as gh reads them.
pub const TOKEN_VARS: [&str; 4] = [
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "GH_ENTERPRISE_TOKEN",
    "GITHUB_ENTERPRISE_TOKEN",
];

/// What [`GitHubApi::new`] needs, as plain values the caller read: the CLI
/// fills it from `--hostname`, `GITHUB_API_URL`, the [`TOKEN_VARS`] and gh's
/// config directory (`GH_CONFIG_DIR`, `XDG_CONFIG_HOME`, `HOME`).
#[derive(Clone, Default)]
pub struct ApiSettings {
    /// `--hostname`, if given.
    pub hostname: Option<String>,
    /// The value of `GITHUB_API_URL`, if set.
    pub api_url: Option<String>,
    /// The [`TOKEN_VARS`] that are set: (name, value).
    pub env_tokens: Vec<(String, String)>,
    /// Where gh's `hosts.yml` is (it need not exist).
    pub hosts_yml: Option<PathBuf>,
}

impl std::fmt::Debug for ApiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.env_tokens.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("ApiSettings")
            .field("hostname", &self.hostname)
            .field("api_url", &self.api_url)
            .field("env_tokens", &names)
            .field("hosts_yml", &self.hosts_yml)
            .finish()
    }
}

/// The token for `host`: the token variables its rules name, then, if
/// `hosts_yml_allowed` (the API contacted is `host`'s own), gh's `hosts.yml`.
pub(super) fn find_token(
    host: &str,
    hosts_yml_allowed: bool,
    settings: &ApiSettings,
) -> (Option<String>, Option<String>) {
    let vars: &[&str] = if host == "github.com" || host.ends_with(".ghe.com") {
        &TOKEN_VARS[..2]
    } else {
        &TOKEN_VARS[2..]
    };
    for var in vars {
        let value = settings
            .env_tokens
            .iter()
            .find(|(n, _)| n == var)
            .map(|(_, v)| v.trim());
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            return (Some(v.to_string()), Some(format!("${var}")));
        }
    }
    if !hosts_yml_allowed {
        return (None, None);
    }
    if let Some(path) = &settings.hosts_yml {
        if let Ok(text) = std::fs::read_to_string(path) {
            if let Some(t) = token_from_hosts_yml(&text, host) {
                return (Some(t), Some(path.display().to_string()));
            }
        }
    }
    (None, None)
}

/// The host-level `oauth_token` of gh's `hosts.yml` (plain-text storage; a
/// token in the system keyring is not readable here).
pub fn token_from_hosts_yml(text: &str, host: &str) -> Option<String> {
    let mut in_host = false;
    for line in text.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if indent == 0 {
            in_host = line
                .trim_end()
                .trim_end_matches(':')
                .trim_matches('"')
                .eq_ignore_ascii_case(host);
            continue;
        }
        if in_host && indent <= 4 {
            if let Some(v) = line.trim().strip_prefix("oauth_token:") {
                let v = v.trim().trim_matches('"').trim_matches('\'');
                if !v.is_empty() {
                    return Some(v.to_string());
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::github::GitHubApi;

    #[test]
    fn reads_hosts_yml_tokens() {
        let yml = "github.com:\n    users:\n        me:\n            oauth_token: nested\n    oauth_token: gho_top\n    user: me\nacme.ghe.com:\n    oauth_token: \"ghe\"\n";
        assert_eq!(
            token_from_hosts_yml(yml, "github.com").as_deref(),
            Some("gho_top")
        );
        assert_eq!(
            token_from_hosts_yml(yml, "acme.ghe.com").as_deref(),
            Some("ghe")
        );
        assert_eq!(token_from_hosts_yml(yml, "other.com"), None);
    }

    #[test]
    fn github_api_url_never_carries_another_hosts_token() {
        let t = |h: Option<&str>, u: Option<&str>| {
            let t = ApiTarget::resolve(h, u);
            (t.host, t.base, t.hosts_yml_token)
        };
        // No hostname: GITHUB_API_URL decides; github.com's hosts.yml token
        // only goes to github.com's API.
        assert_eq!(
            t(None, None),
            ("github.com".into(), "https://api.github.com".into(), true)
        );
        assert_eq!(
            t(None, Some(" https://api.github.com/ ")),
            ("github.com".into(), "https://api.github.com".into(), true)
        );
        assert_eq!(
            t(None, Some("https://ghes.example/api/v3")),
            (
                "github.com".into(),
                "https://ghes.example/api/v3".into(),
                false
            )
        );
        assert_eq!(t(None, Some("")).1, "https://api.github.com");
        // A hostname whose API GITHUB_API_URL is: used, with its token.
        assert_eq!(
            t(Some("Acme.GHE.com"), Some("https://API.acme.ghe.com")),
            (
                "acme.ghe.com".into(),
                "https://API.acme.ghe.com".into(),
                true
            )
        );
        assert_eq!(
            t(Some("ghes.example"), Some("https://ghes.example/api/v3")),
            (
                "ghes.example".into(),
                "https://ghes.example/api/v3".into(),
                true
            )
        );
        // Another host's API (GitHub Actions on github.com): ignored.
        assert_eq!(
            t(Some("acme.ghe.com"), Some("https://api.github.com")),
            (
                "acme.ghe.com".into(),
                "https://api.acme.ghe.com".into(),
                true
            )
        );
        assert_eq!(
            t(Some("ghes.example"), Some("not a url")).1,
            "https://ghes.example/api/v3"
        );
        // A loopback stand-in is used, but gets no hosts.yml token.
        for local in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:2",
        ] {
            assert_eq!(
                t(Some("acme.ghe.com"), Some(local)),
                ("acme.ghe.com".into(), local.to_string(), false)
            );
        }
    }

    #[test]
    fn each_host_takes_its_own_token_variables_and_skips_blank_ones() {
        let settings = |tokens: &[(&str, &str)], hosts_yml: Option<PathBuf>| ApiSettings {
            env_tokens: tokens
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            hosts_yml,
            ..ApiSettings::default()
        };
        let all = settings(
            &[
                ("GH_TOKEN", " gh "),
                ("GITHUB_TOKEN", "github"),
                ("GH_ENTERPRISE_TOKEN", "ghe"),
                ("GITHUB_ENTERPRISE_TOKEN", "github-e"),
            ],
            None,
        );
        let found = |host: &str, s: &ApiSettings| find_token(host, true, s);
        let token = |t: &str, var: &str| (Some(t.to_string()), Some(var.to_string()));
        assert_eq!(found("github.com", &all), token("gh", "$GH_TOKEN"));
        assert_eq!(found("acme.ghe.com", &all), token("gh", "$GH_TOKEN"));
        assert_eq!(
            found("ghes.example", &all),
            token("ghe", "$GH_ENTERPRISE_TOKEN")
        );
        let blank_first = settings(&[("GH_TOKEN", "  "), ("GITHUB_TOKEN", "github")], None);
        assert_eq!(
            found("github.com", &blank_first),
            token("github", "$GITHUB_TOKEN")
        );
        // github.com's variables are not a GHES host's, nor the reverse.
        let enterprise = settings(&[("GH_ENTERPRISE_TOKEN", "ghe")], None);
        assert_eq!(found("github.com", &enterprise), (None, None));
        let public = settings(&[("GITHUB_TOKEN", "github")], None);
        assert_eq!(found("ghes.example", &public), (None, None));
        // hosts.yml only when the API contacted is the host's own.
        let dir = tempfile::tempdir().unwrap();
        let yml = dir.path().join("hosts.yml");
        std::fs::write(&yml, "github.com:\n    oauth_token: from-yml\n").unwrap();
        let with_yml = settings(&[], Some(yml.clone()));
        assert_eq!(
            find_token("github.com", true, &with_yml),
            token("from-yml", &yml.display().to_string())
        );
        assert_eq!(find_token("github.com", false, &with_yml), (None, None));
        // Through GitHubApi::new: a loopback stand-in gets no hosts.yml token.
        let api = GitHubApi::new(&ApiSettings {
            api_url: Some("http://127.0.0.1:1".into()),
            hostname: Some("github.com".into()),
            ..with_yml
        });
        assert_eq!((api.token, api.token_source), (None, None));
    }

    #[test]
    fn hosts_yml_comments_and_blank_lines_do_not_end_a_host() {
        let yml =
            "github.com:\n\n# a note\n    # oauth_token: commented-out\n    oauth_token: real\n";
        assert_eq!(
            token_from_hosts_yml(yml, "github.com").as_deref(),
            Some("real")
        );
    }

    #[test]
    fn debug_output_names_token_variables_but_never_shows_a_token() {
        let s = ApiSettings {
            hostname: Some("github.com".into()),
            env_tokens: vec![("GH_TOKEN".into(), "ghp_SECRET".into())],
            ..ApiSettings::default()
        };
        let shown = format!("{s:?}");
        assert!(
            shown.contains("GH_TOKEN") && shown.contains("github.com"),
            "{shown}"
        );
        assert!(!shown.contains("ghp_SECRET"), "{shown}");
    }

    #[test]
    fn the_api_and_token_are_the_values_given_not_the_environment() {
        // The environment says one thing; the settings passed in say
        // another, and only they count (the library reads no variable).
        let dir = tempfile::tempdir().unwrap();
        let env_hosts = dir.path().join("env");
        std::fs::create_dir_all(&env_hosts).unwrap();
        std::fs::write(
            env_hosts.join("hosts.yml"),
            "github.com:\n    oauth_token: from-env-file\n",
        )
        .unwrap();
        std::env::set_var("GITHUB_API_URL", "http://127.0.0.1:9");
        std::env::set_var("GH_TOKEN", "from-env");
        std::env::set_var("GH_CONFIG_DIR", &env_hosts);

        let api = GitHubApi::new(&ApiSettings::default());
        assert_eq!(api.base, "https://api.github.com");
        assert_eq!(api.token, None);
        assert_eq!(api.token_source, None);

        let given = dir.path().join("given.yml");
        std::fs::write(&given, "github.com:\n    oauth_token: from-given-file\n").unwrap();
        let api = GitHubApi::new(&ApiSettings {
            hosts_yml: Some(given.clone()),
            ..ApiSettings::default()
        });
        assert_eq!(api.token.as_deref(), Some("from-given-file"));
        assert_eq!(api.token_source, Some(given.display().to_string()));

        let api = GitHubApi::new(&ApiSettings {
            hostname: Some("ghes.example".into()),
            api_url: Some("https://ghes.example/api/v3".into()),
            env_tokens: vec![
                ("GH_TOKEN".into(), "for-github-com".into()),
                ("GITHUB_ENTERPRISE_TOKEN".into(), " ghes ".into()),
            ],
            hosts_yml: Some(given),
        });
        assert_eq!(api.base, "https://ghes.example/api/v3");
        // GH_TOKEN is github.com's: a GHES host takes its enterprise token.
        assert_eq!(api.token.as_deref(), Some("ghes"));
        assert_eq!(
            api.token_source.as_deref(),
            Some("$GITHUB_ENTERPRISE_TOKEN")
        );
    }
}
