//! Attestations from a loopback server that answers like GitHub's
//! attestations API: both response shapes (inline bundle; `bundle: null` with
//! a snappy `bundle_url`), pagination, rate limits, errors, and a blob host
//! that must never see the token.

mod common;
#[path = "support/mock_http.rs"]
mod mock_http;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

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
/// against the mock API.
fn verify_online(api: &MockServer, token: Option<&str>, extra: &[&str]) -> (i32, String, String) {
    let mut cmd = attest();
    cmd.current_dir(gh_dir())
        .env("GITHUB_API_URL", &api.base)
        .env("ATTEST_HTTP_TIMEOUT", "5")
        .args([
            "verify",
            "sigstore-js-2.1.0.tgz",
            "-d",
            "sha512",
            "--repo",
            "sigstore/sigstore-js",
            "--custom-trusted-root",
            "trusted_root.json",
        ])
        .args(extra);
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
    let (code, _, err) = run(attest()
        .current_dir(gh_dir())
        .env("GITHUB_API_URL", &base)
        .env("GH_TOKEN", TOKEN)
        .env("ATTEST_HTTP_TIMEOUT", "1")
        .args([
            "verify",
            "sigstore-js-2.1.0.tgz",
            "-d",
            "sha512",
            "--repo",
            "sigstore/sigstore-js",
            "--custom-trusted-root",
            "trusted_root.json",
        ]));
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
    let verify = |token: Option<&str>| {
        let mut cmd = attest();
        cmd.current_dir(gh_dir())
            .env("GITHUB_API_URL", &api.base)
            .args([
                "verify",
                "github_provenance_demo-0.0.12-py3-none-any.whl",
                "--owner",
                "actions",
                "--hostname",
                "acme.ghe.com",
                "--bundle",
                "github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl",
            ]);
        if let Some(t) = token {
            cmd.env("GH_TOKEN", t);
        }
        run(&mut cmd)
    };
    // Offline there is no TUF cache and attest embeds no tenant root: the
    // bundle cannot be verified, and the message says which root was needed.
    let (code, _, err) = verify(Some(TOKEN));
    assert_eq!(code, 6, "{err}");
    assert!(
        err.contains("acme.trusted_root.json") && err.contains("--custom-trusted-root"),
        "{err}"
    );
    assert_eq!(api.requests()[0].path, "/meta");
    // Without a token GitHub refuses /meta: authentication required.
    let (code, _, err) = verify(None);
    assert_eq!(code, 4, "{err}");
}
