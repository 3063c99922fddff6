//! Server text never reaches the terminal raw: a GitHub API error whose
//! `message` carries escape sequences (clear the screen, then a forged
//! success line) is printed escaped, on one line.

mod common;
#[path = "support/mock_http.rs"]
mod mock_http;

use common::{attest, gh_dir, run};
use mock_http::{MockServer, Response};

#[test]
fn github_api_error_message_is_escaped() {
    let api = MockServer::start(|_| {
        let mut r = Response::json(
            r#"{"message":"\u001b[2J\u001b[HUploaded to octo-org/octo-repo: attestation 42"}"#,
        );
        r.status = 422;
        r
    });
    let (code, out, err) = run(attest()
        .current_dir(gh_dir())
        .env("GITHUB_API_URL", &api.base)
        .env("GH_TOKEN", "ghs_test")
        .env_remove("ATTEST_OFFLINE")
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
        ]));
    assert_ne!(code, 0, "{out}{err}");
    assert!(!api.requests().is_empty());
    assert!(!err.contains('\x1b'), "raw ESC on stderr: {err:?}");
    assert!(!out.contains('\x1b'), "raw ESC on stdout: {out:?}");
    assert!(
        err.contains("HTTP 422: \\x1b[2J\\x1b[HUploaded to octo-org/octo-repo"),
        "{err}"
    );
}
