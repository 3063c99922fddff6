//! Attestations from a loopback server that answers like GitHub's
//! attestations API: both response shapes (inline bundle; `bundle: null` with
//! a snappy `bundle_url`), pagination, rate limits, errors, and a blob host
//! that must never see the token.

mod common;
#[path = "support/mock_http.rs"]
mod mock_http;

use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{attest, gh_dir, run};
use mock_http::{MockServer, Response};
use serde_json::{json, Value};

const TOKEN: &str = "ghs_test_token_123";

fn sigstore_js_bundle() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(gh_dir().join("sigstore-js-2.1.0-bundle.json")).unwrap(),
    )
    .unwrap()
}

fn sha512_of_tgz() -> String {
    let data = std::fs::read(gh_dir().join("sigstore-js-2.1.0.tgz")).unwrap();
    attest::artifact::digest_bytes(&data, attest::artifact::DigestAlgorithm::Sha512).to_string()
}

/// `attest verify sigstore-js-2.1.0.tgz -d sha512 --repo sigstore/sigstore-js`
/// against the API at `base`, each request bounded by `timeout` seconds.
fn online_cmd(base: &str, timeout: &str) -> std::process::Command {
    let mut cmd = attest();
    // Online: `--offline` (the tests' default) refuses GitHub's API.
    cmd.env_remove("ATTEST_OFFLINE")
        .current_dir(gh_dir())
        .env("GITHUB_API_URL", base)
        .env("ATTEST_HTTP_TIMEOUT", timeout)
        .args([
            "verify",
            "sigstore-js-2.1.0.tgz",
            "-d",
            "sha512",
            "--repo",
            "sigstore/sigstore-js",
            "--custom-trusted-root",
            "trusted_root.json",
        ]);
    cmd
}

/// `online_cmd` against the mock API, with `extra` flags.
fn verify_online(api: &MockServer, token: Option<&str>, extra: &[&str]) -> (i32, String, String) {
    let mut cmd = online_cmd(&api.base, "5");
    cmd.args(extra);
    if let Some(t) = token {
        cmd.env("GH_TOKEN", t);
    }
    run(&mut cmd)
}

#[test]
fn inline_bundles_with_token_and_gh_query() {
    let api = MockServer::start(|_| {
        Response::json(json!({"attestations": [{"bundle": sigstore_js_bundle(), "repository_id": 1, "initiator": "user"}]}).to_string())
    });
    let (code, out, err) = verify_online(&api, Some(TOKEN), &["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["attestation"]["initiator"], "user");
    let reqs = api.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].path,
        format!(
            "/repos/sigstore/sigstore-js/attestations/{}?per_page=30&predicate_type=https%3A%2F%2Fslsa.dev%2Fprovenance%2Fv1",
            sha512_of_tgz()
        )
    );
    assert_eq!(
        reqs[0].headers.get("authorization").map(String::as_str),
        Some(&*format!("token {TOKEN}"))
    );
    assert_eq!(
        reqs[0]
            .headers
            .get("x-github-api-version")
            .map(String::as_str),
        Some("2022-11-28")
    );
}

#[test]
fn bundle_url_blobs_never_get_the_token() {
    let blob = snap::raw::Encoder::new()
        .compress_vec(sigstore_js_bundle().to_string().as_bytes())
        .unwrap();
    let blobs = MockServer::start(move |_| {
        let mut r = Response::json(blob.clone());
        r.headers = vec![("Content-Type".into(), "application/octet-stream".into())];
        r
    });
    // A different host name for the same loopback address, as GitHub's blob
    // storage is another host.
    let blob_url = blobs.base.replace("127.0.0.1", "localhost") + "/blob/1.json.sn";
    let api = MockServer::start(move |_| {
        Response::json(
            json!({"attestations": [{"bundle": null, "bundle_url": blob_url, "repository_id": 1}]})
                .to_string(),
        )
    });
    let (code, out, err) = verify_online(&api, Some(TOKEN), &["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v[0]["attestation"]["bundle_url"]
        .as_str()
        .unwrap()
        .ends_with("/blob/1.json.sn"));
    assert_eq!(
        api.requests()[0]
            .headers
            .get("authorization")
            .map(String::as_str),
        Some(&*format!("token {TOKEN}"))
    );
    let blob_reqs = blobs.requests();
    assert_eq!(blob_reqs.len(), 1);
    assert!(
        !blob_reqs[0].headers.contains_key("authorization"),
        "the blob host got the token: {:?}",
        blob_reqs[0].headers
    );
}

#[test]
fn pagination_follows_link_headers_up_to_the_limit() {
    let base = Arc::new(std::sync::Mutex::new(String::new()));
    let b = base.clone();
    let api = MockServer::start(move |req| {
        let item = json!({"bundle": sigstore_js_bundle()});
        if req.path.contains("after=page2") {
            Response::json(json!({"attestations": [item.clone(), item]}).to_string())
        } else {
            let next = format!(
                "<{}/repos/sigstore/sigstore-js/attestations/x?after=page2>; rel=\"next\"",
                b.lock().unwrap()
            );
            Response::json(json!({"attestations": [item]}).to_string()).header("Link", &next)
        }
    });
    *base.lock().unwrap() = api.base.clone();
    let (code, out, err) = verify_online(&api, Some(TOKEN), &["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(api.requests().len(), 2);

    let (code, out, _) = verify_online(&api, Some(TOKEN), &["--format", "json", "--limit", "1"]);
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<Value>(&out)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(api.requests().last().unwrap().path.contains("per_page=1"));
}

#[test]
fn retries_429_after_retry_after_and_5xx() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let api = MockServer::start(move |_| match c.fetch_add(1, Ordering::SeqCst) {
        0 => Response::status(429, "slow down").header("Retry-After", "1"),
        1 => Response::status(502, "bad gateway"),
        _ => {
            Response::json(json!({"attestations": [{"bundle": sigstore_js_bundle()}]}).to_string())
        }
    });
    let (code, _, err) = verify_online(&api, Some(TOKEN), &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

/// A scenario: name, response, token, expected exit code, message fragment.
type Case = (
    &'static str,
    Box<dyn Fn() -> Response + Send + Sync>,
    Option<&'static str>,
    i32,
    &'static str,
);

#[test]
fn errors_are_clear_and_bounded() {
    let cases: Vec<Case> = vec![
        (
            "401",
            Box::new(|| Response::status(401, "Bad credentials")),
            Some(TOKEN),
            4,
            "requires authentication",
        ),
        (
            "403 anonymous",
            Box::new(|| Response::status(403, "Resource not accessible")),
            None,
            4,
            "set GH_TOKEN",
        ),
        (
            "404",
            Box::new(|| Response::status(404, "Not Found")),
            Some(TOKEN),
            5,
            "no attestations found for sha512:",
        ),
        (
            "long rate limit",
            Box::new(|| Response::status(429, "rate").header("Retry-After", "3600")),
            Some(TOKEN),
            3,
            "rate limited",
        ),
        (
            "500",
            Box::new(|| Response::status(500, "boom")),
            Some(TOKEN),
            3,
            "HTTP 500",
        ),
        (
            "truncated JSON",
            Box::new(|| Response::json(r#"{"attestations": [{"bundle": {"media"#)),
            Some(TOKEN),
            3,
            "unexpected response",
        ),
        (
            "wrong content type",
            Box::new(|| {
                let mut r = Response::json("<html>hi</html>");
                r.headers = vec![("Content-Type".into(), "text/html".into())];
                r
            }),
            Some(TOKEN),
            3,
            "expected JSON",
        ),
        (
            "enormous page",
            Box::new(|| {
                let mut r = Response::json("{}");
                r.claimed_length = Some(200 * 1024 * 1024);
                r
            }),
            Some(TOKEN),
            3,
            "limit",
        ),
        (
            "invalid snappy",
            Box::new(|| {
                Response::json(
                    json!({"attestations": [{"bundle": null, "bundle_url": "SELF/blob"}]})
                        .to_string(),
                )
            }),
            Some(TOKEN),
            3,
            "snappy",
        ),
        (
            "no bundle at all",
            Box::new(|| Response::json(r#"{"attestations": [{"bundle": null}]}"#)),
            Some(TOKEN),
            3,
            "no bundle and no bundle_url",
        ),
    ];
    for (name, make, token, code, needle) in cases {
        let self_base = Arc::new(std::sync::Mutex::new(String::new()));
        let sb = self_base.clone();
        let api = MockServer::start(move |req| {
            if req.path == "/blob" {
                let mut r = Response::json(b"\x05\x00garbage-not-snappy".to_vec());
                r.headers.clear();
                return r;
            }
            let mut r = make();
            let base = sb.lock().unwrap().clone();
            r.body = String::from_utf8_lossy(&r.body)
                .replace("SELF", &base)
                .into_bytes();
            r
        });
        *self_base.lock().unwrap() = api.base.clone();
        let (got, _, err) = verify_online(&api, token, &[]);
        assert_eq!(got, code, "{name}: {err}");
        assert!(err.contains(needle), "{name}: {err:?} lacks {needle:?}");
        assert!(
            err.lines().filter(|l| l.starts_with("Error:")).count() == 1,
            "{name}: one Error line: {err}"
        );
    }
}

#[test]
fn redirect_loops_and_silent_servers_end() {
    let loop_api = MockServer::start(|req| {
        Response::status(302, "moved").header("Location", &format!("{}x", req.path))
    });
    let (code, _, err) = verify_online(&loop_api, Some(TOKEN), &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("redirect"), "{err}");

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let (code, _, err) = run(online_cmd(&base, "1").env("GH_TOKEN", TOKEN));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("no answer within"), "{err}");
}

#[test]
fn download_writes_a_jsonl_that_verifies_offline() {
    let api = MockServer::start(|_| {
        Response::json(json!({"attestations": [{"bundle": sigstore_js_bundle()}, {"bundle": sigstore_js_bundle()}]}).to_string())
    });
    let dir = tempfile::tempdir().unwrap();
    let tgz = gh_dir().join("sigstore-js-2.1.0.tgz");
    let (code, out, err) = run(attest()
        .current_dir(dir.path())
        .env("GITHUB_API_URL", &api.base)
        .env("GH_TOKEN", TOKEN)
        .args(["download", "-d", "sha512", "--owner", "sigstore"])
        .arg(&tgz));
    assert_eq!(code, 0, "{err}");
    let file = format!("{}.jsonl", sha512_of_tgz());
    assert!(
        out.starts_with(&format!("Wrote attestations to file {file}.")),
        "{out}"
    );
    assert!(api.requests()[0]
        .path
        .starts_with("/orgs/sigstore/attestations/sha512:"));
    let written = std::fs::read_to_string(dir.path().join(&file)).unwrap();
    assert_eq!(written.lines().count(), 2);
    let (code, _, err) = run(attest()
        .current_dir(dir.path())
        .args([
            "verify",
            "-d",
            "sha512",
            "--owner",
            "sigstore",
            "--bundle",
            &file,
            "--custom-trusted-root",
        ])
        .arg(gh_dir().join("trusted_root.json"))
        .arg(&tgz));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn ghe_com_tenants_read_their_trust_domain_from_meta() {
    let api = MockServer::start(|req| {
        if req.path == "/meta" && req.headers.contains_key("authorization") {
            Response::json(r#"{"domains":{"artifact_attestations":{"trust_domain":"acme"}}}"#)
        } else {
            Response::status(401, "Requires authentication")
        }
    });
    // Online (offline never asks /meta): `trusted-root` reads the trust
    // domain first; the TUF repository is a loopback listener that hangs up
    // on every connection, so nothing leaves the machine and the TUF step
    // fails after /meta was answered. The listener stays bound for the whole
    // test: a port merely closed again could be taken by another process.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    let hung_up = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hung_up);
    std::thread::spawn(move || {
        for stream in dead.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    let tuf_root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../attest/trust/tuf-root-github.json");
    let trusted_root = |token: Option<&str>| {
        let cache = tempfile::tempdir().unwrap();
        let mut cmd = attest();
        cmd.env_remove("ATTEST_OFFLINE")
            .env("GITHUB_API_URL", &api.base)
            .env("ATTEST_HTTP_TIMEOUT", "5")
            .args([
                "trusted-root",
                "--hostname",
                "acme.ghe.com",
                "--tuf-url",
                &dead_url,
            ])
            .arg("--tuf-root")
            .arg(&tuf_root)
            .arg("--cache-dir")
            .arg(cache.path());
        if let Some(t) = token {
            cmd.env("GH_TOKEN", t);
        }
        run(&mut cmd)
    };
    let (code, _, err) = trusted_root(Some(TOKEN));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains(&dead_url), "{err}");
    assert!(
        hung_up.load(Ordering::SeqCst) > 0,
        "the TUF URL was never tried"
    );
    let reqs = api.requests();
    assert_eq!(reqs[0].path, "/meta");
    assert_eq!(
        reqs[0].headers.get("authorization").map(String::as_str),
        Some(&*format!("token {TOKEN}"))
    );
    // Without a token GitHub refuses /meta: authentication required.
    let (code, _, err) = trusted_root(None);
    assert_eq!(code, 4, "{err}");
}

#[test]
fn offline_never_asks_a_tenant_for_its_trust_domain() {
    let api = MockServer::start(|_| {
        Response::json(r#"{"domains":{"artifact_attestations":{"trust_domain":"acme"}}}"#)
    });
    let (code, _, err) = run(attest()
        .current_dir(gh_dir())
        .env("GITHUB_API_URL", &api.base)
        .env("GH_TOKEN", TOKEN)
        .args([
            "verify",
            "github_provenance_demo-0.0.12-py3-none-any.whl",
            "--owner",
            "actions",
            "--hostname",
            "acme.ghe.com",
            "--offline",
            "--bundle",
            "github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl",
        ]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--offline") && err.contains("--custom-trusted-root"),
        "{err}"
    );
    assert_eq!(
        err.lines().filter(|l| l.starts_with("Error:")).count(),
        1,
        "{err}"
    );
    let (code, _, err) = run(attest()
        .env("GITHUB_API_URL", &api.base)
        .env("GH_TOKEN", TOKEN)
        .env("ATTEST_OFFLINE", "1")
        .args(["trusted-root", "--hostname", "acme.ghe.com"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("GET /meta"), "{err}");
    assert!(api.requests().is_empty(), "{:?}", api.requests());
}

/// Run a command, failing the test (and killing the command) if it takes
/// longer than `limit`.
fn run_bounded(cmd: &mut std::process::Command, limit: Duration) -> (i32, String, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run attest");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("attest did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `verify_online`'s command, for `run_bounded`.
fn verify_cmd(api: &MockServer, extra: &[&str]) -> std::process::Command {
    let mut cmd = online_cmd(&api.base, "5");
    cmd.env("GH_TOKEN", TOKEN).args(extra);
    cmd
}

/// A server whose every page links to `next(base, request path)`, with
/// `items` attestations on it.
fn linking_server(
    items: usize,
    next: impl Fn(&str, &str) -> String + Send + Sync + 'static,
) -> MockServer {
    let base = Arc::new(Mutex::new(String::new()));
    let b = base.clone();
    let api = MockServer::start(move |req| {
        let list: Vec<Value> = (0..items)
            .map(|_| json!({"bundle": sigstore_js_bundle()}))
            .collect();
        let link = format!("<{}>; rel=\"next\"", next(&b.lock().unwrap(), &req.path));
        Response::json(json!({ "attestations": list }).to_string()).header("Link", &link)
    });
    *base.lock().unwrap() = api.base.clone();
    api
}

#[test]
fn endless_empty_pages_end_at_the_first() {
    let counter = Arc::new(AtomicUsize::new(0));
    let onwards = {
        let c = counter.clone();
        linking_server(0, move |base, _| {
            format!(
                "{base}/orgs/x/attestations/y?after={}",
                c.fetch_add(1, Ordering::SeqCst)
            )
        })
    };
    let to_itself = linking_server(0, |base, path| format!("{base}{path}"));
    for api in [onwards, to_itself] {
        let (code, _, err) = run_bounded(&mut verify_cmd(&api, &[]), Duration::from_secs(30));
        assert_eq!(code, 5, "{err}");
        assert_eq!(api.requests().len(), 1, "{err}");
    }
}

#[test]
fn pages_that_repeat_or_never_end_are_refused() {
    // A page linking to itself would hand out the same attestations again.
    let api = linking_server(1, |base, path| format!("{base}{path}"));
    let (code, _, err) = run_bounded(&mut verify_cmd(&api, &[]), Duration::from_secs(30));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("already fetched"), "{err}");
    assert_eq!(api.requests().len(), 1);

    // One attestation per page, always another page: the page budget for
    // --limit 30 (ten times the one full page it needs) ends it.
    let counter = Arc::new(AtomicUsize::new(0));
    let c = counter.clone();
    let api = linking_server(1, move |base, _| {
        format!(
            "{base}/orgs/x/attestations/y?after={}",
            c.fetch_add(1, Ordering::SeqCst)
        )
    });
    let (code, _, err) = run_bounded(&mut verify_cmd(&api, &[]), Duration::from_secs(60));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("after 10 pages"), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.starts_with("Error:")).count(),
        1,
        "{err}"
    );
    assert_eq!(api.requests().len(), 10);
}

#[test]
fn next_links_off_the_api_origin_never_get_the_token() {
    let other = MockServer::start(|_| {
        Response::json(json!({"attestations": [{"bundle": sigstore_js_bundle()}]}).to_string())
    });
    let other_base = other.base.clone();
    // Another port, then another host name and plain http on the same
    // port as the API: each a different origin.
    let api = linking_server(1, move |_, _| format!("{other_base}/page2"));
    let (code, _, err) = run_bounded(&mut verify_cmd(&api, &[]), Duration::from_secs(30));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("outside the API"), "{err}");
    let leaked: Vec<_> = other
        .requests()
        .into_iter()
        .filter(|r| r.headers.contains_key("authorization"))
        .collect();
    assert!(
        leaked.is_empty(),
        "the other origin got the token: {leaked:?}"
    );
    assert!(other.requests().is_empty());

    let api = linking_server(1, |base, _| {
        format!("{}/page2", base.replace("127.0.0.1", "localhost"))
    });
    let (code, _, err) = run_bounded(&mut verify_cmd(&api, &[]), Duration::from_secs(30));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("outside the API"), "{err}");
    assert_eq!(api.requests().len(), 1, "{:?}", api.requests());
}

#[test]
fn a_hosts_yml_token_goes_only_to_its_own_host() {
    let config = tempfile::tempdir().unwrap();
    std::fs::write(
        config.path().join("hosts.yml"),
        "github.com:\n    oauth_token: gho_for_github\nacme.ghe.com:\n    oauth_token: ghe_for_acme\n",
    )
    .unwrap();
    let api = MockServer::start(|_| {
        Response::json(json!({"attestations": [{"bundle": sigstore_js_bundle()}]}).to_string())
    });
    for hostname in [None, Some("acme.ghe.com")] {
        let mut cmd = online_cmd(&api.base, "5");
        cmd.env("GH_CONFIG_DIR", config.path());
        if let Some(h) = hostname {
            cmd.args(["--hostname", h]);
        }
        let _ = run(&mut cmd);
    }
    let reqs = api.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    for r in reqs {
        assert!(
            !r.headers.contains_key("authorization"),
            "a loopback GITHUB_API_URL got a hosts.yml token: {:?}",
            r.headers
        );
    }
}

/// `attest download` of sigstore-js-2.1.0.tgz in a fresh directory.
fn download(api: &MockServer) -> (i32, String, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(attest()
        .current_dir(dir.path())
        .env("GITHUB_API_URL", &api.base)
        .env("GH_TOKEN", TOKEN)
        .env("ATTEST_HTTP_TIMEOUT", "5")
        .args(["download", "-d", "sha512", "--owner", "sigstore"])
        .arg(gh_dir().join("sigstore-js-2.1.0.tgz")));
    (code, out, err, dir)
}

#[test]
fn download_fails_and_writes_nothing_when_an_attestation_does_not_load() {
    let cases: Vec<(&str, Value)> = vec![
        (
            "bundle_url 500",
            json!([{"bundle": null, "bundle_url": "SELF/blob500"}]),
        ),
        (
            "invalid snappy",
            json!([{"bundle": null, "bundle_url": "SELF/garbage"}]),
        ),
        ("not a bundle", json!([{"bundle": {"mediaType": 7}}])),
        (
            "one good, one failing",
            json!([{"bundle": sigstore_js_bundle()}, {"bundle": null, "bundle_url": "SELF/blob500"}]),
        ),
    ];
    for (name, list) in cases {
        let self_base = Arc::new(Mutex::new(String::new()));
        let sb = self_base.clone();
        let api = MockServer::start(move |req| match req.path.as_str() {
            "/blob500" => Response::status(500, "boom"),
            "/garbage" => {
                let mut r = Response::json(b"\x05\x00garbage-not-snappy".to_vec());
                r.headers.clear();
                r
            }
            _ => Response::json(
                json!({ "attestations": list })
                    .to_string()
                    .replace("SELF", &sb.lock().unwrap()),
            ),
        });
        *self_base.lock().unwrap() = api.base.clone();
        let (code, out, err, dir) = download(&api);
        assert_eq!(code, 3, "{name}: {out}{err}");
        assert!(err.contains("nothing was written"), "{name}: {err}");
        assert!(!out.contains("No attestations found"), "{name}: {out}");
        assert_eq!(
            err.lines().filter(|l| l.starts_with("Error:")).count(),
            1,
            "{name}: {err}"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "{name}: a file was written"
        );
    }
    // An empty list is not a failure (gh: exit 0, nothing written).
    let api = MockServer::start(|_| Response::json(r#"{"attestations": []}"#));
    let (code, out, err, dir) = download(&api);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("No attestations found for"), "{out}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// The sigstore-js bundle with a padding field making it `size` bytes or more.
fn padded_bundle(size: usize) -> Value {
    let mut b = sigstore_js_bundle();
    b["pad"] = Value::String("x".repeat(size));
    b
}

#[test]
fn an_oversized_inline_bundle_is_refused_in_one_line() {
    let big = json!({"attestations": [{"bundle": padded_bundle(33 * 1024 * 1024)}]}).to_string();
    let api = MockServer::start(move |_| Response::json(big.clone()));
    let (code, _, err) = run_bounded(&mut verify_cmd(&api, &[]), Duration::from_secs(60));
    assert_eq!(code, 3, "{err}");
    let errors: Vec<_> = err.lines().filter(|l| l.starts_with("Error:")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(errors[0].contains("-byte limit for one bundle"), "{err}");
}

#[test]
fn bundle_json_kept_while_paging_is_bounded() {
    // Pages of two 20 MB bundles, each within the one-bundle limit, linking
    // onwards: the total kept passes 256 MB on the seventh page, before the
    // page budget (10) or --limit (30) would stop it.
    let page = json!({"attestations": [{"bundle": padded_bundle(20 << 20)}, {"bundle": padded_bundle(20 << 20)}]})
        .to_string();
    let counter = Arc::new(AtomicUsize::new(0));
    let c = counter.clone();
    let base = Arc::new(Mutex::new(String::new()));
    let b = base.clone();
    let api = MockServer::start(move |_| {
        let link = format!(
            "<{}/orgs/x/attestations/y?after={}>; rel=\"next\"",
            b.lock().unwrap(),
            c.fetch_add(1, Ordering::SeqCst)
        );
        Response::json(page.clone()).header("Link", &link)
    });
    *base.lock().unwrap() = api.base.clone();
    let (code, _, err) = run_bounded(&mut verify_cmd(&api, &[]), Duration::from_secs(240));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("in total"), "{err}");
    assert_eq!(api.requests().len(), 7);
}

#[test]
fn a_page_naming_a_member_twice_is_refused() {
    // serde would keep one of two `bundle` members (or stop at the second
    // with its own wording); a reader of the page could take the other. Both
    // orders, and a duplicate of a member attest otherwise ignores.
    let real = sigstore_js_bundle().to_string();
    let other = json!({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}).to_string();
    let pages = [
        (
            format!(r#"{{"attestations":[{{"bundle":{real},"bundle":{other}}}]}}"#),
            "bundle",
            "attestations[0]",
        ),
        (
            format!(r#"{{"attestations":[{{"bundle":{other},"bundle":{real}}}]}}"#),
            "bundle",
            "attestations[0]",
        ),
        (
            format!(
                r#"{{"attestations":[{{"bundle":{real},"repository_id":1,"repository_id":2}}]}}"#
            ),
            "repository_id",
            "attestations[0]",
        ),
        (
            format!(r#"{{"attestations":[],"attestations":[{{"bundle":{real}}}]}}"#),
            "attestations",
            "top-level",
        ),
    ];
    for (body, key, path) in pages {
        let api = MockServer::start(move |_| Response::json(body.clone()));
        let (code, _, err) = verify_online(&api, Some(TOKEN), &[]);
        assert_eq!(code, 3, "{key}: {err}");
        let line = err
            .lines()
            .find(|l| l.starts_with("Error:"))
            .unwrap_or_else(|| panic!("{err}"));
        assert!(line.contains(&format!("duplicate key \"{key}\"")), "{line}");
        assert!(line.contains(path), "{line}");
        assert!(
            line.contains(&format!(
                "{}/repos/sigstore/sigstore-js/attestations/",
                api.base
            )),
            "{line}"
        );
        assert_eq!(err.matches("Error:").count(), 1, "{err}");
    }
}
