//! `attest provenance` writes the same statement, byte for byte, as the npm
//! package `@actions/attest` (3.2.0) builds from the same claims: its real
//! `provenance.js` and `intoto.js`, with only the OIDC-token module replaced
//! by a stub returning the claims (Node module hooks, `tests/npm/`).
//!
//! Needs Node.js and `npm install --prefix target/npm @actions/attest@3.2.0`
//! (`.ci/run` does it); `ATTEST_NPM_PREFIX` points elsewhere.

mod common;

use common::{attest, run};
use serde_json::json;
use std::path::{Path, PathBuf};

fn npm_prefix() -> PathBuf {
    let prefix = std::env::var_os("ATTEST_NPM_PREFIX")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/npm"));
    assert!(
        prefix.join("node_modules/@actions/attest/lib/provenance.js").exists(),
        "@actions/attest is not installed in {}: run `npm install --prefix target/npm @actions/attest@3.2.0`",
        prefix.display()
    );
    prefix
}

fn node_statement(
    claims: &serde_json::Value,
    subjects: &serde_json::Value,
    server: &str,
) -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/npm");
    let out = std::process::Command::new("node")
        .current_dir(&dir)
        .args(["--import", "./register.mjs", "build-statement.mjs"])
        .env("ATTEST_NPM_PREFIX", npm_prefix())
        .env("ATTEST_TEST_CLAIMS", claims.to_string())
        .env("ATTEST_TEST_SUBJECTS", subjects.to_string())
        .env("GITHUB_SERVER_URL", server)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn claims(job_workflow_ref: &str, runner: &str) -> serde_json::Value {
    json!({
        "iss": "https://token.actions.githubusercontent.com",
        "ref": "refs/tags/v2.0.0",
        "sha": "26d16513386ffaa790b1c32f927544f1322e4194",
        "repository": "octo-org/octo-repo",
        "repository_owner": "octo-org",
        "event_name": "release",
        "job_workflow_ref": job_workflow_ref,
        "workflow_ref": "octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v2.0.0",
        "repository_id": "495574555",
        "repository_owner_id": "71096353",
        "runner_environment": runner,
        "run_id": "6014488666",
        "run_attempt": "3"
    })
}

#[test]
fn statements_are_byte_identical_to_actions_attest() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = dir.path().join("pkg-2.0.0-py3-none-any.whl");
    let sdist = dir.path().join("pkg-2.0.0.tar.gz");
    std::fs::write(&wheel, b"wheel").unwrap();
    std::fs::write(&sdist, b"sdist").unwrap();
    let manifest = dir.path().join("release-artifact-digests.txt");
    let (code, _, err) = run(attest()
        .args(["digest", "-o"])
        .arg(&manifest)
        .arg(&wheel)
        .arg(&sdist));
    assert_eq!(code, 0, "{err}");
    let subjects: serde_json::Value = std::fs::read_to_string(&manifest)
        .unwrap()
        .lines()
        .map(|l| {
            let (hex, name) = l.split_once("  ").unwrap();
            json!({"name": name, "digest": {"sha256": hex}})
        })
        .collect();

    for (c, server) in [
        (
            claims(
                "octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v2.0.0",
                "github-hosted",
            ),
            "https://github.com",
        ),
        // A reusable workflow signs, on a self-hosted runner, on a GHE.com tenant.
        (
            claims(
                "octo-org/shared/.github/workflows/build.yml@refs/heads/main",
                "self-hosted",
            ),
            "https://acme.ghe.com",
        ),
    ] {
        let claims_file = dir.path().join("claims.json");
        std::fs::write(&claims_file, c.to_string()).unwrap();
        let expected = node_statement(&c, &subjects, server);
        let (code, ours, err) = run(attest()
            .env("GITHUB_SERVER_URL", server)
            .args(["provenance", "--claims"])
            .arg(&claims_file)
            .arg("--subject-checksums")
            .arg(&manifest));
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            ours.trim_end_matches('\n'),
            String::from_utf8(expected).unwrap(),
            "server {server}"
        );
    }
}

/// Subjects as actions/attest's `subject-checksums` and `subject-path`
/// build them (its `src/subject.ts`: blank lines skipped, a repeated name
/// and digest listed once, one name with a sha256 and a sha512 digest kept
/// as two subjects), serialised by the package's own `buildIntotoStatement`.
#[test]
fn subjects_are_deduplicated_as_actions_attest_does() {
    let dir = tempfile::tempdir().unwrap();
    let c = claims(
        "octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v2.0.0",
        "github-hosted",
    );
    let claims_file = dir.path().join("claims.json");
    std::fs::write(&claims_file, c.to_string()).unwrap();
    let wheel = dir.path().join("pkg-2.0.0-py3-none-any.whl");
    std::fs::write(&wheel, b"wheel").unwrap();
    let sha256 = |d: &[u8]| {
        attest::artifact::digest_bytes(d, attest::artifact::DigestAlgorithm::Sha256).hex()
    };
    let sha512 = |d: &[u8]| {
        attest::artifact::digest_bytes(d, attest::artifact::DigestAlgorithm::Sha512).hex()
    };
    let (w256, w512, s256) = (sha256(b"wheel"), sha512(b"wheel"), sha256(b"sdist"));
    // The wheel twice, then with its sha512, blank lines between and after.
    let manifest = dir.path().join("checksums.txt");
    std::fs::write(
        &manifest,
        format!(
            "{w256}  pkg-2.0.0-py3-none-any.whl\n\n{s256} *pkg-2.0.0.tar.gz\n{w256}  pkg-2.0.0-py3-none-any.whl\n{w512}  pkg-2.0.0-py3-none-any.whl\n\n\n"
        ),
    )
    .unwrap();
    let subjects = json!([
        {"name": "pkg-2.0.0-py3-none-any.whl", "digest": {"sha256": w256}},
        {"name": "pkg-2.0.0.tar.gz", "digest": {"sha256": s256}},
        {"name": "pkg-2.0.0-py3-none-any.whl", "digest": {"sha512": w512}},
    ]);
    let expected = String::from_utf8(node_statement(&c, &subjects, "https://github.com")).unwrap();
    let (code, ours, err) = run(attest()
        .env("GITHUB_SERVER_URL", "https://github.com")
        .args(["provenance", "--claims"])
        .arg(&claims_file)
        .arg("--subject-checksums")
        .arg(&manifest));
    assert_eq!(code, 0, "{err}");
    assert_eq!(ours.trim_end_matches('\n'), expected);

    // `subject-path` naming one file twice gives one subject.
    let one = json!([{"name": "pkg-2.0.0-py3-none-any.whl", "digest": {"sha256": w256}}]);
    let expected = String::from_utf8(node_statement(&c, &one, "https://github.com")).unwrap();
    let (code, ours, err) = run(attest()
        .env("GITHUB_SERVER_URL", "https://github.com")
        .args(["provenance", "--claims"])
        .arg(&claims_file)
        .arg(&wheel)
        .arg(&wheel));
    assert_eq!(code, 0, "{err}");
    assert_eq!(ours.trim_end_matches('\n'), expected);
}
