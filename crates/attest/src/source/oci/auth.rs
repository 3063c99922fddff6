//! Registry authentication: the credentials the caller supplies (a user
//! name and password bound to one registry, the Docker config and its
//! credential helpers), and answering a registry's `WWW-Authenticate`
//! challenge (basic auth, or a bearer token from the token service the
//! registry itself names).

use oci_client::secrets::RegistryAuth;

use super::{
    is_loopback_url, registry_message, shown, Failed, OciError, Puller, MAX_ERROR_BYTES,
    MAX_MANIFEST_BYTES,
};

/// The registry that `ATTEST_REGISTRY_USERNAME`/`_PASSWORD` are for.
pub const REGISTRY_ENV: &str = "ATTEST_REGISTRY";
/// The user name for the registry [`REGISTRY_ENV`] names.
pub const USERNAME_ENV: &str = "ATTEST_REGISTRY_USERNAME";
/// The password or token for the registry [`REGISTRY_ENV`] names.
pub const PASSWORD_ENV: &str = "ATTEST_REGISTRY_PASSWORD";

/// Credentials bound to one registry by name (`ATTEST_REGISTRY` and its
/// user name and password, as the CLI reads them).
#[derive(Clone, PartialEq, Eq)]
struct NamedCredentials {
    /// The registry they are for, as [`registry_key`] spells it.
    registry: String,
    user: String,
    password: String,
}

/// Where registry credentials come from, as plain values the caller
/// supplies: a user name and password bound to one registry, and the path of
/// a Docker `config.json`. The library reads no environment variable; the
/// CLI builds this from `ATTEST_REGISTRY*`, `DOCKER_CONFIG` and `HOME`.
#[derive(Clone, Default)]
pub struct RegistryCredentials {
    named: Option<NamedCredentials>,
    docker_config: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for RegistryCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryCredentials")
            .field("registry", &self.named.as_ref().map(|n| &n.registry))
            .field("password", &self.named.as_ref().map(|_| "<redacted>"))
            .field("docker_config", &self.docker_config)
            .finish()
    }
}

impl RegistryCredentials {
    /// No credentials: every registry is asked anonymously (its
    /// bearer-token flow still runs).
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// Credentials from the values of [`REGISTRY_ENV`], [`USERNAME_ENV`] and
    /// [`PASSWORD_ENV`] as `get` returns them (the CLI passes the process
    /// environment), and the Docker config file at `docker_config`. None or
    /// all three variables: a user name and password without the registry
    /// they are for are refused, so a password meant for one registry is
    /// never offered to whichever registry an `oci://` argument names.
    pub fn from_values(
        get: &dyn Fn(&str) -> Option<String>,
        docker_config: Option<std::path::PathBuf>,
    ) -> Result<Self, OciError> {
        Ok(Self {
            named: named_credentials(get)?,
            docker_config,
        })
    }

    /// The credentials for `registry`: the named ones when they are for this
    /// registry, else the Docker config (`credHelpers`, `credsStore`,
    /// `auths`, looked up by the registry's host), else anonymous.
    pub fn auth_for(&self, registry: &str) -> RegistryAuth {
        self.auth_with(registry, &|r| {
            let text = std::fs::read_to_string(self.docker_config.as_ref()?).ok()?;
            docker_config_credentials(&text, r, true)
        })
    }

    fn auth_with(
        &self,
        registry: &str,
        docker: &dyn Fn(&str) -> Option<RegistryAuth>,
    ) -> RegistryAuth {
        if let Some(named) = &self.named {
            if named.registry == registry_key(registry) {
                return RegistryAuth::Basic(named.user.clone(), named.password.clone());
            }
        }
        docker(registry).unwrap_or(RegistryAuth::Anonymous)
    }
}

/// The named credentials `get` yields: none, or all three variables.
fn named_credentials(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<NamedCredentials>, OciError> {
    // An empty variable counts as unset: CI fills missing secrets with "".
    let var = |name: &str| get(name).filter(|v| !v.is_empty());
    let (user, password) = match (var(USERNAME_ENV), var(PASSWORD_ENV)) {
        (None, None) => return Ok(None),
        (Some(u), Some(p)) => (u, p),
        (Some(_), None) => {
            return Err(OciError::Settings {
                detail: format!(
                    "{USERNAME_ENV} is set but {PASSWORD_ENV} is not; expected both or neither"
                ),
            })
        }
        (None, Some(_)) => {
            return Err(OciError::Settings {
                detail: format!(
                    "{PASSWORD_ENV} is set but {USERNAME_ENV} is not; expected both or neither"
                ),
            })
        }
    };
    let Some(registry) = var(REGISTRY_ENV) else {
        return Err(OciError::Settings {
            detail: format!(
                "{USERNAME_ENV} and {PASSWORD_ENV} are set but {REGISTRY_ENV} is not; expected {REGISTRY_ENV}=host[:port] naming the one registry they are for (every other registry's credentials come from the Docker config)"
            ),
        });
    };
    let plain = !registry.is_empty()
        && registry
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !plain {
        return Err(OciError::Settings {
            detail: format!(
                "{REGISTRY_ENV}={:?}: expected host[:port], with no scheme or path (e.g. ghcr.io or 127.0.0.1:5000)",
                crate::text::remote_text(&registry)
            ),
        });
    }
    Ok(Some(NamedCredentials {
        registry: registry_key(&registry),
        user,
        password,
    }))
}

/// A registry name as credentials are looked up by: lower case, with
/// Docker Hub's several names as one.
fn registry_key(registry: &str) -> String {
    let lower = registry.trim().to_ascii_lowercase();
    match lower.as_str() {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => "docker.io".into(),
        _ => lower,
    }
}

/// The host a Docker config key names: `https://host:port/v1/` and
/// `host:port` both name `host:port`, as Docker reads its keys.
fn config_key_host(key: &str) -> String {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    registry_key(rest.split('/').next().unwrap_or_default())
}

/// The value under the key of `map` (a JSON object) naming `registry`'s
/// host; an exact key wins over one that differs only in spelling.
fn config_entry<'a>(map: &'a serde_json::Value, registry: &str) -> Option<&'a serde_json::Value> {
    let map = map.as_object()?;
    let wanted = registry_key(registry);
    map.get(registry).or_else(|| {
        map.iter()
            .find(|(k, _)| config_key_host(k) == wanted)
            .map(|(_, v)| v)
    })
}

/// The credentials a Docker `config.json` holds for `registry`: a credential
/// helper's answer (when `run_helpers`: `credHelpers` for this host, else
/// `credsStore`), else the `auths` entry for this host. Only the entry for
/// `registry`'s own host is ever used.
pub fn docker_config_credentials(
    text: &str,
    registry: &str,
    run_helpers: bool,
) -> Option<RegistryAuth> {
    let config: serde_json::Value = serde_json::from_str(text).ok()?;
    // Docker Hub's helpers and `auths` know it by its legacy index URL.
    let helper_name = if registry_key(registry) == "docker.io" {
        "https://index.docker.io/v1/"
    } else {
        registry
    };
    if let Some(helper) = config_entry(&config["credHelpers"], registry)
        .and_then(|h| h.as_str())
        .or_else(|| config["credsStore"].as_str())
        .filter(|_| run_helpers)
    {
        if let Some(auth) = credential_helper(helper, helper_name) {
            return Some(auth);
        }
    }
    let entry = config_entry(&config["auths"], registry)?;
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(entry["auth"].as_str()?)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some(RegistryAuth::Basic(user.to_string(), pass.to_string()))
}

fn credential_helper(helper: &str, registry: &str) -> Option<RegistryAuth> {
    use std::io::Write;
    if !helper
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return None;
    }
    let mut child = std::process::Command::new(format!("docker-credential-{helper}"))
        .arg("get")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(registry.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    Some(RegistryAuth::Basic(
        v["Username"].as_str()?.to_string(),
        v["Secret"].as_str()?.to_string(),
    ))
}

impl Puller {
    /// The Authorization header a `WWW-Authenticate` challenge asks for.
    pub(super) async fn authorize(
        &self,
        challenge: &str,
    ) -> Result<reqwest::header::HeaderValue, Failed> {
        let (scheme, params) = parse_challenge(challenge);
        if scheme.eq_ignore_ascii_case("basic") {
            return match &self.auth {
                RegistryAuth::Basic(user, password) => {
                    use base64::Engine;
                    let pair = base64::engine::general_purpose::STANDARD
                        .encode(format!("{user}:{password}"));
                    Ok(sensitive(&format!("Basic {pair}")))
                }
                _ => Err(Failed::Oci(self.unauthorized(
                    "the registry asks for a user name and password".into(),
                ))),
            };
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(Failed::Oci(self.unauthorized(format!(
                "expected a Basic or Bearer challenge, got {:?}",
                crate::text::remote_text(&scheme)
            ))));
        }
        let realm = params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("realm"))
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        let mut url = reqwest::Url::parse(realm).map_err(|e| {
            Failed::Oci(self.unauthorized(format!(
                "expected a token service URL in the bearer challenge, got {:?}: {e}",
                crate::text::remote_text(realm)
            )))
        })?;
        // Credentials go to the token service only over HTTPS (or to loopback).
        if url.scheme() != "https" && !(url.scheme() == "http" && is_loopback_url(&url)) {
            return Err(Failed::Oci(self.unauthorized(format!(
                "expected an https token service, got {:?}",
                crate::text::remote_text(realm)
            ))));
        }
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("scope", &format!("repository:{}:pull", self.repository));
            if let Some((_, service)) = params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("service"))
            {
                query.append_pair("service", service);
            }
        }
        // The password goes to the realm's origin only: a redirect away from
        // it is followed without credentials.
        let basic = match &self.auth {
            RegistryAuth::Basic(user, password) => {
                use base64::Engine;
                let pair =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                Some(sensitive(&format!("Basic {pair}")))
            }
            _ => None,
        };
        let shown_url = shown(&url);
        let mut retries = 0;
        let (status, body) = loop {
            let (mut resp, _) = self
                .send(
                    &reqwest::Method::GET,
                    url.as_str(),
                    "application/json",
                    basic.as_ref(),
                    &url,
                )
                .await
                .map_err(Failed::Oci)?;
            let status = resp.status();
            if let Some(wait) = self
                .retry_wait(&shown_url, status, resp.headers(), retries)
                .map_err(Failed::Oci)?
            {
                retries += 1;
                tokio::time::sleep(wait).await;
                continue;
            }
            let (limit, truncate) = if status.is_success() {
                (MAX_MANIFEST_BYTES, false)
            } else {
                (MAX_ERROR_BYTES, true)
            };
            let body = crate::source::http::read_limited(&mut resp, limit, truncate)
                .await
                .map_err(|e| Failed::Oci(self.transport(&shown_url, e)))?
                .ok_or_else(|| {
                    Failed::Oci(self.unauthorized(format!(
                        "{shown_url}: the token answer is larger than the {MAX_MANIFEST_BYTES}-byte limit"
                    )))
                })?;
            break (status, body);
        };
        if !status.is_success() {
            return Err(Failed::Oci(self.unauthorized(format!(
                "{shown_url}: the token service answered HTTP {}{}",
                status.as_u16(),
                registry_message(&body)
            ))));
        }
        let token = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| {
                v["token"]
                    .as_str()
                    .or_else(|| v["access_token"].as_str())
                    .map(str::to_string)
            })
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Failed::Oci(self.unauthorized(format!(
                    "{shown_url}: expected JSON with a \"token\" from the token service"
                )))
            })?;
        reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
            .map(|mut v| {
                v.set_sensitive(true);
                v
            })
            .map_err(|_| {
                Failed::Oci(self.unauthorized(format!(
                    "{shown_url}: the token service sent a token that is not a header value"
                )))
            })
    }
}

pub(super) fn sensitive(value: &str) -> reqwest::header::HeaderValue {
    // Credentials with bytes a header cannot carry are sent as nothing,
    // which the registry then refuses with a clear 401.
    let mut v = reqwest::header::HeaderValue::from_str(value)
        .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static(""));
    v.set_sensitive(true);
    v
}

/// A `WWW-Authenticate` challenge: its scheme and `key=value` parameters
/// (values quoted or not; a quoted value may hold commas, as scopes do).
/// Public for fuzzing: the header comes from the registry.
pub fn parse_challenge(header: &str) -> (String, Vec<(String, String)>) {
    let header = header.trim();
    let (scheme, mut rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', ',']);
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key.trim().to_string();
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &quoted[end..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        params.push((key, value));
        rest = remaining;
    }
    (scheme.to_string(), params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse_with_quoted_commas_escapes_and_garbage() {
        let (scheme, params) = parse_challenge(
            r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/r:pull,push""#,
        );
        assert_eq!(scheme, "Bearer");
        assert_eq!(
            params,
            vec![
                ("realm".to_string(), "https://ghcr.io/token".to_string()),
                ("service".to_string(), "ghcr.io".to_string()),
                ("scope".to_string(), "repository:o/r:pull,push".to_string()),
            ]
        );
        let (scheme, params) = parse_challenge(r#"Basic realm="a \"b\"", x=y"#);
        assert_eq!(scheme, "Basic");
        assert_eq!(params[0].1, "a \"b\"");
        assert_eq!(params[1], ("x".to_string(), "y".to_string()));
        // Unterminated quotes, stray separators, multi-byte text: no panic.
        for h in [
            "Bearer realm=\"unterminated",
            "Bearer ,,,=,=\"",
            "",
            "Bearer realm=\"é\\",
            "Bearer é=ü,",
        ] {
            let _ = parse_challenge(h);
        }
    }

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    fn creds(get: &dyn Fn(&str) -> Option<String>) -> RegistryCredentials {
        RegistryCredentials::from_values(get, None).unwrap()
    }

    fn basic(user: &str, password: &str) -> RegistryAuth {
        RegistryAuth::Basic(user.into(), password.into())
    }

    #[test]
    fn environment_credentials_go_only_to_the_registry_they_name() {
        let env = vars(&[
            (REGISTRY_ENV, "Registry-B.example:5000"),
            (USERNAME_ENV, "bob"),
            (PASSWORD_ENV, "b-secret"),
        ]);
        let docker = |r: &str| (r == "a.example").then(|| basic("alice", "a-secret"));
        assert_eq!(
            creds(&env).auth_with("registry-b.example:5000", &docker),
            basic("bob", "b-secret")
        );
        // Registry A gets its own Docker config entry, never B's password;
        // a registry with neither is anonymous.
        assert_eq!(
            creds(&env).auth_with("a.example", &docker),
            basic("alice", "a-secret")
        );
        assert_eq!(
            creds(&env).auth_with("registry-b.example", &docker),
            RegistryAuth::Anonymous
        );
        // Docker Hub's names are one registry.
        let hub = vars(&[
            (REGISTRY_ENV, "docker.io"),
            (USERNAME_ENV, "u"),
            (PASSWORD_ENV, "p"),
        ]);
        assert_eq!(
            creds(&hub).auth_with("index.docker.io", &|_| None),
            basic("u", "p")
        );
    }

    #[test]
    fn environment_credentials_without_their_registry_are_a_usage_error() {
        let none = |_: &str| None;
        let cases: [(&[(&str, &str)], &str); 5] = [
            (
                &[(USERNAME_ENV, "bob"), (PASSWORD_ENV, "pw")],
                "ATTEST_REGISTRY is not; expected ATTEST_REGISTRY=host[:port]",
            ),
            (
                &[(USERNAME_ENV, "bob")],
                "ATTEST_REGISTRY_PASSWORD is not; expected both or neither",
            ),
            (
                &[(PASSWORD_ENV, "pw"), (REGISTRY_ENV, "r.example")],
                "ATTEST_REGISTRY_USERNAME is not; expected both or neither",
            ),
            (
                &[
                    (USERNAME_ENV, "bob"),
                    (PASSWORD_ENV, "pw"),
                    (REGISTRY_ENV, "https://r.example/v2/"),
                ],
                "expected host[:port], with no scheme or path",
            ),
            (
                &[
                    (USERNAME_ENV, "bob"),
                    (PASSWORD_ENV, "pw"),
                    (REGISTRY_ENV, ""),
                ],
                "ATTEST_REGISTRY is not",
            ),
        ];
        for (pairs, expected) in cases {
            let get = |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            };
            let e = RegistryCredentials::from_values(&get, None).unwrap_err();
            assert!(matches!(e, OciError::Settings { .. }), "{e:?}");
            assert!(e.to_string().contains(expected), "{pairs:?}: {e}");
        }
        // Nothing set (or only empty values, as CI writes missing secrets):
        // anonymous, no error.
        let empty = vars(&[(USERNAME_ENV, ""), (PASSWORD_ENV, "")]);
        assert_eq!(
            creds(&empty).auth_with("r.example", &none),
            RegistryAuth::Anonymous
        );
    }

    #[test]
    fn docker_config_entries_are_found_by_host_and_only_by_host() {
        use base64::Engine;
        let enc = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let config = format!(
            r#"{{"auths":{{"https://127.0.0.1:5000/v1/":{{"auth":"{}"}},"https://index.docker.io/v1/":{{"auth":"{}"}},"other.example":{{"auth":"{}"}}}}}}"#,
            enc("a:1"),
            enc("hub:2"),
            enc("o:3")
        );
        assert_eq!(
            docker_config_credentials(&config, "127.0.0.1:5000", false),
            Some(basic("a", "1"))
        );
        assert_eq!(
            docker_config_credentials(&config, "index.docker.io", false),
            Some(basic("hub", "2"))
        );
        // Another port, or a host that merely contains a key, is not a match.
        assert_eq!(
            docker_config_credentials(&config, "127.0.0.1:5001", false),
            None
        );
        assert_eq!(
            docker_config_credentials(&config, "other.example.evil", false),
            None
        );
    }

    /// A loopback token service answering its connections in order with
    /// the raw responses given (then refusing more), keeping each request.
    fn token_service(responses: Vec<String>) -> (String, crate::source::test_server::Requests) {
        let (url, rx) = crate::source::test_server::serve(
            responses.into_iter().map(String::into_bytes).collect(),
        );
        (format!("{url}/token"), rx)
    }

    fn answer(status: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 {status}\r\nconnection: close\r\nretry-after: 0\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
    }

    fn puller(auth: RegistryAuth) -> Puller {
        let reference: oci_client::Reference = "registry.example/o/r:t".parse().unwrap();
        Puller::new(&reference, &auth, "oci://registry.example/o/r:t").unwrap()
    }

    fn authorize(p: &Puller, challenge: &str) -> Result<String, String> {
        crate::source::http::block_on(p.authorize(challenge))
            .unwrap()
            .map(|v| v.to_str().unwrap().to_string())
            .map_err(|e| match e {
                Failed::Oci(e) => e.to_string(),
                Failed::TooLarge(limit) => format!("over the {limit}-byte limit"),
            })
    }

    #[test]
    fn the_password_goes_to_a_token_service_only_over_https_or_loopback() {
        let p = puller(basic("u", "p"));
        for realm in [
            "http://token.example/token",
            "http://127.0.0.1.example/token",
            "ftp://127.0.0.1/token",
        ] {
            let e = authorize(&p, &format!("Bearer realm=\"{realm}\"")).unwrap_err();
            assert!(
                e.contains("expected an https token service"),
                "{realm}: {e}"
            );
        }
        // https is allowed: the request is made (and fails here: nothing
        // listens on port 1), it is not refused.
        let e = authorize(&p, "Bearer realm=\"https://127.0.0.1:1/token\"").unwrap_err();
        assert!(!e.contains("expected an https token service"), "{e}");
        // Loopback over plain http: asked with the password and the scope.
        let (url, requests) = token_service(vec![answer("200 OK", r#"{"token":"t0k"}"#)]);
        let got = authorize(&p, &format!("Bearer realm=\"{url}\",service=\"reg\""));
        assert_eq!(got.unwrap(), "Bearer t0k");
        let request = requests.recv().unwrap().to_ascii_lowercase();
        assert!(
            request.starts_with("get /token?scope=repository%3ao%2fr%3apull&service=reg "),
            "{request}"
        );
        assert!(
            request.contains("authorization: basic dtpw\r\n"),
            "{request}"
        );
    }

    #[test]
    fn a_token_service_s_failures_are_errors() {
        let p = puller(RegistryAuth::Anonymous);
        // access_token is accepted in place of token; an empty one is not.
        let (url, _r) = token_service(vec![answer("200 OK", r#"{"access_token":"a"}"#)]);
        assert_eq!(
            authorize(&p, &format!("Bearer realm=\"{url}\"")).unwrap(),
            "Bearer a"
        );
        let (url, _r) = token_service(vec![answer("200 OK", r#"{"token":""}"#)]);
        let e = authorize(&p, &format!("Bearer realm=\"{url}\"")).unwrap_err();
        assert!(e.contains("expected JSON with a \"token\""), "{e}");
        // Retried three times, then the status is the error.
        let (url, requests) = token_service(vec![answer("503 Busy", ""); 5]);
        let e = authorize(&p, &format!("Bearer realm=\"{url}\"")).unwrap_err();
        assert!(e.contains("the token service answered HTTP 503"), "{e}");
        assert_eq!(requests.try_iter().count(), 4);
        let (url, _r) = token_service(vec![answer("401 No", "")]);
        let e = authorize(&p, &format!("Bearer realm=\"{url}\"")).unwrap_err();
        assert!(e.contains("the token service answered HTTP 401"), "{e}");
    }

    #[test]
    fn basic_challenges_need_credentials_and_other_schemes_are_refused() {
        assert_eq!(
            authorize(&puller(basic("u", "p")), "Basic realm=\"r\"").unwrap(),
            "Basic dTpw"
        );
        let anonymous = puller(RegistryAuth::Anonymous);
        let e = authorize(&anonymous, "Basic realm=\"r\"").unwrap_err();
        assert!(e.contains("asks for a user name and password"), "{e}");
        let e = authorize(&anonymous, "Digest realm=\"r\"").unwrap_err();
        assert!(e.contains("expected a Basic or Bearer challenge"), "{e}");
    }

    #[test]
    fn debug_output_names_the_registry_but_never_shows_the_password() {
        let c = creds(&vars(&[
            (REGISTRY_ENV, "r.example"),
            (USERNAME_ENV, "bob"),
            (PASSWORD_ENV, "b-SECRET"),
        ]));
        let shown = format!("{c:?}");
        assert!(
            shown.contains("r.example") && shown.contains("<redacted>"),
            "{shown}"
        );
        assert!(!shown.contains("b-SECRET"), "{shown}");
    }

    #[test]
    fn credentials_are_the_values_given_not_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"auths":{"r.example":{"auth":"ZW52OmVudg=="}}}"#,
        )
        .unwrap();
        std::env::set_var(REGISTRY_ENV, "r.example");
        std::env::set_var(USERNAME_ENV, "env-user");
        std::env::set_var(PASSWORD_ENV, "env-password");
        std::env::set_var("DOCKER_CONFIG", dir.path());
        // Nothing given: anonymous, whatever the environment holds.
        assert_eq!(
            RegistryCredentials::anonymous().auth_for("r.example"),
            RegistryAuth::Anonymous
        );
        let given = vars(&[
            (REGISTRY_ENV, "r.example"),
            (USERNAME_ENV, "given"),
            (PASSWORD_ENV, "pw"),
        ]);
        assert_eq!(
            RegistryCredentials::from_values(&given, None)
                .unwrap()
                .auth_for("r.example"),
            basic("given", "pw")
        );
        // The Docker config named is read; the one DOCKER_CONFIG names is not.
        let other = tempfile::tempdir().unwrap();
        let config = other.path().join("config.json");
        std::fs::write(
            &config,
            r#"{"auths":{"r.example":{"auth":"ZmlsZTpnaXZlbg=="}}}"#,
        )
        .unwrap();
        let none = |_: &str| None;
        assert_eq!(
            RegistryCredentials::from_values(&none, Some(config))
                .unwrap()
                .auth_for("r.example"),
            basic("file", "given")
        );
    }
}
