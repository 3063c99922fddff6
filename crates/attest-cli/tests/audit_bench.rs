//! Benchmark (ignored; `benches/audit.sh` runs it in release mode):
//! `attest audit` of a 300-package uv.lock against a loopback package index
//! serving PEP 740 provenance from the test Sigstore, with a cold and a warm
//! cache (time, requests); and, on real PyPI attestations (tests/data/pep740),
//! attest against pypi-attestations 0.0.31 run per file, as a user of that
//! tool must.

mod common;
#[path = "support/mock_http.rs"]
mod mock_http;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use attest::artifact::{digest_bytes, DigestAlgorithm};
use attest_testsign::{
    provenance_predicate, statement, FulcioClaims, TestSigstore, TestSigstoreConfig,
    SLSA_PROVENANCE_V1,
};
use mock_http::{MockServer, Response};

const PACKAGES: usize = 300;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../attest/tests/data/pep740")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[test]
#[ignore = "benchmark: run by benches/audit.sh"]
fn audit_benchmark() {
    let dir = tempfile::tempdir().unwrap();
    let mut sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let claims = FulcioClaims::default();
    let opts = sigstore.default_sign_options();
    let mut served = std::collections::HashMap::new();
    let mut lock = String::from("version = 1\nrequires-python = \">=3.9\"\n\n");
    for i in 0..PACKAGES {
        let name = format!("pkg{i}");
        let file = format!("{name}-1.0-py3-none-any.whl");
        let hex = digest_bytes(format!("wheel {i}").as_bytes(), DigestAlgorithm::Sha256).hex();
        let st = statement(
            &[(file.as_str(), "sha256", hex.as_str())],
            SLSA_PROVENANCE_V1,
            provenance_predicate(&claims),
        );
        let att =
            attest::pep740::attestation_from_bundle(&sigstore.sign_statement(&st, &claims, &opts))
                .unwrap();
        let prov = serde_json::json!({"version": 1, "attestation_bundles": [{
            "publisher": {"kind": "GitHub", "repository": "octo-org/octo-repo", "workflow": "release.yml"},
            "attestations": [att]}]});
        served.insert(
            format!("/integrity/{name}/1.0/{file}/provenance"),
            prov.to_string(),
        );
        lock += &format!(
            "[[package]]\nname = \"{name}\"\nversion = \"1.0\"\nsource = {{ registry = \"https://pypi.org/simple\" }}\nwheels = [\n    {{ url = \"https://files.example/{file}\", hash = \"sha256:{hex}\", size = 1 }},\n]\n\n"
        );
    }
    let lock_path = dir.path().join("uv.lock");
    std::fs::write(&lock_path, lock).unwrap();
    let root = dir.path().join("root.json");
    std::fs::write(&root, sigstore.trusted_root_json() + "\n").unwrap();
    let index = MockServer::start(move |req| {
        served.get(&req.path).map_or_else(
            || Response::status(404, "Not Found"),
            |b| Response::json(b.clone()),
        )
    });
    let cache = dir.path().join("cache");
    let audit = || {
        let start = Instant::now();
        let (code, out, err) = common::run(
            common::attest()
                .env_remove("ATTEST_OFFLINE")
                .env("ATTEST_CACHE_DIR", &cache)
                .arg("audit")
                .arg(&lock_path)
                .args(["--index-url", &index.base, "--custom-trusted-root"])
                .arg(&root),
        );
        assert_eq!(code, 0, "{out}{err}");
        start.elapsed()
    };
    let before = index.requests().len();
    let cold = audit();
    let cold_requests = index.requests().len() - before;
    let before = index.requests().len();
    let warm = audit();
    let warm_requests = index.requests().len() - before;
    println!("attest audit, {PACKAGES}-package uv.lock, loopback index, 2 cores:");
    println!(
        "  cold cache: {:8.1} ms, {cold_requests} requests ({:.2} ms per package)",
        ms(cold),
        ms(cold) / PACKAGES as f64
    );
    println!(
        "  warm cache: {:8.1} ms, {warm_requests} requests ({:.2} ms per package)",
        ms(warm),
        ms(warm) / PACKAGES as f64
    );

    // Real attestations: one process per file for both tools, offline.
    let Some(tool) = common::require_tool("pypi-attestations") else {
        return;
    };
    let pairs = [
        ("pypi_attestations-0.0.19.tar.gz", "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19", "https://token.actions.githubusercontent.com"),
        ("gitlab_oidc_project-0.0.3.tar.gz", "https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main", "https://gitlab.com"),
        ("sampleproject-3.0.0.tar.gz", "919436158236-compute@developer.gserviceaccount.com", "https://accounts.google.com"),
    ];
    let work = tempfile::tempdir().unwrap();
    for (f, _, _) in pairs {
        std::fs::copy(data().join(f), work.path().join(f)).unwrap();
        std::fs::copy(
            data().join(format!("{f}.publish.attestation")),
            work.path().join(format!("{f}.publish.attestation")),
        )
        .unwrap();
    }
    let real_root = data().join("trusted_root.public-good.json");
    let rounds = 5;
    let mut ours = Duration::ZERO;
    let mut theirs = Duration::ZERO;
    for _ in 0..rounds {
        for (f, id, issuer) in pairs {
            let start = Instant::now();
            let (code, out, err) = common::run(
                common::attest()
                    .current_dir(work.path())
                    .args([
                        "verify",
                        f,
                        "--offline",
                        "--provenance-file",
                        &format!("{f}.publish.attestation"),
                        "--cert-identity",
                        id,
                        "--cert-oidc-issuer",
                        issuer,
                        "--custom-trusted-root",
                    ])
                    .arg(&real_root),
            );
            ours += start.elapsed();
            assert_eq!(code, 0, "{out}{err}");
            let start = Instant::now();
            let status = std::process::Command::new(&tool)
                .current_dir(work.path())
                .env("XDG_CACHE_HOME", work.path().join("xdg-cache"))
                .env("XDG_DATA_HOME", work.path().join("xdg-data"))
                .args(["verify", "attestation", "--offline", "--identity", id, f])
                .output()
                .unwrap();
            theirs += start.elapsed();
            assert!(
                status.status.success(),
                "{}",
                String::from_utf8_lossy(&status.stderr)
            );
        }
    }
    let n = (rounds * pairs.len()) as f64;
    println!(
        "real PEP 740 attestations, one process per file, offline ({} files x {rounds}):",
        pairs.len()
    );
    println!(
        "  attest verify --provenance-file:        {:7.1} ms per file",
        ms(ours) / n
    );
    println!(
        "  pypi-attestations verify attestation:   {:7.1} ms per file",
        ms(theirs) / n
    );
    println!("  pypi-attestations / attest = {:.1}x; {PACKAGES} files: attest audit cold {:.1} s, pypi-attestations per file {:.1} s (extrapolated)",
        ms(theirs) / ms(ours), cold.as_secs_f64(), ms(theirs) / n * PACKAGES as f64 / 1000.0);
}
