//! PEP 740 from the command line: a loopback package index serving the
//! simple JSON API (PEP 691) and the Integrity API, loaded with real
//! provenance objects (tests/data/pep740, README.md says where each came
//! from); `verify pypi:PROJECT==VERSION`, `verify FILE --from pypi`,
//! `--provenance-file` offline, `download --source pypi`; and
//! pypi-attestations run on the same files as an independent checker.

mod common;
#[path = "support/mock_http.rs"]
mod mock_http;

use std::path::{Path, PathBuf};

use attest::artifact::{digest_bytes, DigestAlgorithm};
use mock_http::{MockServer, Response};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../attest/tests/data/pep740")
}

fn root() -> String {
    data()
        .join("trusted_root.public-good.json")
        .display()
        .to_string()
}

/// An index with sampleproject 4.0.0 (real provenance) and 3.0.0 (none).
fn index() -> MockServer {
    let sdist4 = std::fs::read(data().join("sampleproject-4.0.0.tar.gz")).unwrap();
    let sdist3 = std::fs::read(data().join("sampleproject-3.0.0.tar.gz")).unwrap();
    let provenance = std::fs::read(data().join("sampleproject-4.0.0.tar.gz.provenance")).unwrap();
    let hex = |b: &[u8]| digest_bytes(b, DigestAlgorithm::Sha256).hex();
    let (h4, h3) = (hex(&sdist4), hex(&sdist3));
    MockServer::start(move |req| match req.path.as_str() {
        "/simple/sampleproject/" => {
            let base = format!(
                "http://{}",
                req.headers.get("host").cloned().unwrap_or_default()
            );
            Response::json(
                serde_json::json!({
                    "meta": {"api-version": "1.3"},
                    "name": "sampleproject",
                    "files": [
                        {"filename": "sampleproject-4.0.0.tar.gz", "url": format!("{base}/files/s4"),
                         "hashes": {"sha256": h4},
                         "provenance": format!("{base}/integrity/sampleproject/4.0.0/sampleproject-4.0.0.tar.gz/provenance")},
                        {"filename": "sampleproject-3.0.0.tar.gz", "url": format!("{base}/files/s3"),
                         "hashes": {"sha256": h3}, "provenance": null},
                        {"filename": "sampleproject-4.0.0.exe", "url": "x", "hashes": {"sha256": h3}}
                    ],
                    "versions": ["3.0.0", "4.0.0"]
                })
                .to_string(),
            )
            .header("Content-Type", "application/vnd.pypi.simple.v1+json")
        }
        "/integrity/sampleproject/4.0.0/sampleproject-4.0.0.tar.gz/provenance" => {
            Response::json(provenance.clone())
                .header("Content-Type", "application/vnd.pypi.integrity.v1+json")
        }
        _ => Response::status(404, "Not Found"),
    })
}

fn verify(args: &[&str]) -> (i32, String, String) {
    common::run(
        common::attest()
            .env_remove("ATTEST_OFFLINE")
            .arg("verify")
            .args(args)
            .args(["--custom-trusted-root", &root()]),
    )
}

#[test]
fn a_release_and_its_files_verify_from_the_index() {
    let idx = index();
    // Every file of the release (one here), by the digest the index lists.
    let (code, out, err) = verify(&[
        "pypi:SampleProject==4.0",
        "--repo",
        "pypa/sampleproject",
        "--index-url",
        &format!("{}/simple/", idx.base),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with("OK     sampleproject-4.0.0.tar.gz"),
        "{out}"
    );
    assert!(
        err.contains("pypi:SampleProject==4.0: 1 file listed by"),
        "{err}"
    );
    assert!(
        err.contains("sampleproject-4.0.0.tar.gz: PyPI's publisher record (unsigned): GitHub pypa/sampleproject, workflow release.yml; the certificate proves https://github.com/pypa/sampleproject/.github/workflows/release.yml@refs/heads/main"),
        "{err}"
    );
    // Another publisher: the policy fails, and PyPI's record is shown beside it.
    let (code, _, err) = verify(&[
        "pypi:sampleproject==4.0.0",
        "--repo",
        "pypa/other",
        "--index-url",
        &idx.base,
    ]);
    assert_eq!(code, 7, "{err}");
    // A file of the release, hashed here, its provenance asked by name.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sampleproject-4.0.0.tar.gz");
    std::fs::copy(data().join("sampleproject-4.0.0.tar.gz"), &file).unwrap();
    let (code, out, err) = verify(&[
        file.to_str().unwrap(),
        "--from",
        "pypi",
        "--repo",
        "pypa/sampleproject",
        "--index-url",
        &idx.base,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    // Bytes that are not the release's: no attestation names them.
    std::fs::write(&file, b"tampered").unwrap();
    let (code, _, err) = verify(&[
        file.to_str().unwrap(),
        "--from",
        "pypi",
        "--repo",
        "pypa/sampleproject",
        "--index-url",
        &idx.base,
    ]);
    assert_eq!(code, 5, "{err}");
    // No provenance (404): a result, exit 5, named.
    let old = dir.path().join("sampleproject-3.0.0.tar.gz");
    std::fs::copy(data().join("sampleproject-3.0.0.tar.gz"), &old).unwrap();
    let (code, _, err) = verify(&[
        old.to_str().unwrap(),
        "--source",
        "pypi",
        "--repo",
        "pypa/sampleproject",
        "--index-url",
        &idx.base,
    ]);
    assert_eq!(code, 5, "{err}");
    assert!(
        err.contains("has no PEP 740 provenance for sampleproject-3.0.0.tar.gz"),
        "{err}"
    );
    // A release with one file without provenance: that line fails.
    let (code, out, err) = verify(&[
        "pypi:sampleproject==3.0.0",
        "--repo",
        "pypa/sampleproject",
        "--index-url",
        &idx.base,
    ]);
    assert_eq!(code, 5, "{out}{err}");
    // Plain HTTP off loopback is refused before any request.
    let (code, _, err) = verify(&[
        "pypi:sampleproject==4.0.0",
        "--repo",
        "pypa/sampleproject",
        "--index-url",
        "http://pypi.example",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("plain HTTP only for a loopback host"), "{err}");
    // A file that is no distribution cannot have PEP 740 provenance.
    let (code, _, err) = verify(&[
        "Cargo.toml",
        "--from",
        "pypi",
        "--repo",
        "pypa/sampleproject",
        "--index-url",
        &idx.base,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("PEP 740 attestations are of wheels and sdists"),
        "{err}"
    );
}

#[test]
fn downloaded_provenance_verifies_offline_and_renamed_files_fail() {
    let idx = index();
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = common::run(
        common::attest()
            .current_dir(dir.path())
            .env_remove("ATTEST_OFFLINE")
            .args([
                "download",
                "pypi:sampleproject==4.0.0",
                "--index-url",
                &idx.base,
            ]),
    );
    assert_eq!(code, 0, "{out}{err}");
    let saved = dir.path().join("sampleproject-4.0.0.tar.gz.provenance");
    assert_eq!(
        std::fs::read(&saved).unwrap(),
        std::fs::read(data().join("sampleproject-4.0.0.tar.gz.provenance")).unwrap(),
        "saved as served"
    );
    let sdist = data().join("sampleproject-4.0.0.tar.gz");
    let offline = |file: &Path, extra: &[&str]| {
        common::run(
            common::attest()
                .args([
                    "verify",
                    file.to_str().unwrap(),
                    "--offline",
                    "--provenance-file",
                ])
                .arg(&saved)
                .args(extra)
                .args(["--custom-trusted-root", &root()]),
        )
    };
    let (code, out, err) = offline(&sdist, &["--repo", "pypa/sampleproject"]);
    assert_eq!(code, 0, "{out}{err}");
    // The same bytes under another project's name: the PEP 740 statement check.
    let renamed = dir.path().join("sample_project-4.0.0.tar.gz");
    std::fs::copy(&sdist, &renamed).unwrap();
    let (code, out, err) = offline(&renamed, &["--repo", "pypa/sampleproject"]);
    assert_eq!(code, 6, "{out}{err}");
    assert!(
        err.contains("PEP 740 statement") || out.contains("PEP 740 statement"),
        "{out}{err}"
    );
    // The same under a policy file: the check is the verifier's, not a flag's.
    let policy = dir.path().join("attest.toml");
    std::fs::write(
        &policy,
        "version = 1\n[[rule]]\nall = true\n[[rule.require]]\npredicate-type = \"https://docs.pypi.org/attestations/publish/v1\"\nrepo = \"pypa/sampleproject\"\n",
    )
    .unwrap();
    let with_policy = |file: &Path| {
        common::run(
            common::attest()
                .args([
                    "verify",
                    file.to_str().unwrap(),
                    "--offline",
                    "--provenance-file",
                ])
                .arg(&saved)
                .arg("--policy")
                .arg(&policy)
                .args(["--custom-trusted-root", &root()]),
        )
    };
    let (code, out, err) = with_policy(&sdist);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = with_policy(&renamed);
    assert_ne!(code, 0, "{out}{err}");
    assert!(out.contains("PEP 740 statement"), "{out}{err}");
    // GitLab's publisher, by cosign's identity flags.
    let gitlab = data().join("gitlab_oidc_project-0.0.3.tar.gz");
    let (code, out, err) = common::run(
        common::attest()
            .args([
                "verify",
                gitlab.to_str().unwrap(),
                "--offline",
                "--provenance-file",
            ])
            .arg(data().join("gitlab_oidc_project-0.0.3.tar.gz.publish.attestation"))
            .args([
                "--cert-identity",
                "https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main",
                "--cert-oidc-issuer",
                "https://gitlab.com",
                "--custom-trusted-root",
                &root(),
            ]),
    );
    assert_eq!(code, 0, "{out}{err}");
    // --source pypi needs the network.
    let (code, _, err) = common::run(common::attest().args([
        "verify",
        sdist.to_str().unwrap(),
        "--offline",
        "--source",
        "pypi",
        "--repo",
        "pypa/sampleproject",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--provenance-file"), "{err}");
}

/// pypi-attestations (PyPI's reference verifier) on the same files agrees:
/// both accept the real pairs, both refuse a tampered file and another
/// identity. The difference: pypi-attestations compares the identity only
/// (`--identity`, no issuer), attest requires the issuer too.
#[test]
fn pypi_attestations_agrees_on_the_same_files() {
    let Some(tool) = common::require_tool("pypi-attestations") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sdist = "pypi_attestations-0.0.19.tar.gz";
    std::fs::copy(data().join(sdist), dir.path().join(sdist)).unwrap();
    std::fs::copy(
        data().join(format!("{sdist}.publish.attestation")),
        dir.path().join(format!("{sdist}.publish.attestation")),
    )
    .unwrap();
    let id = "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19";
    let theirs = |identity: &str| {
        let out = std::process::Command::new(&tool)
            .current_dir(dir.path())
            .env("XDG_CACHE_HOME", dir.path().join("xdg-cache"))
            .env("XDG_DATA_HOME", dir.path().join("xdg-data"))
            .args([
                "verify",
                "attestation",
                "--offline",
                "--identity",
                identity,
                sdist,
            ])
            .output()
            .unwrap();
        out.status.success()
    };
    let ours = |identity: &str| {
        common::run(
            common::attest()
                .current_dir(dir.path())
                .args(["verify", sdist, "--offline", "--provenance-file"])
                .arg(format!("{sdist}.publish.attestation"))
                .args([
                    "--cert-identity",
                    identity,
                    "--cert-oidc-issuer",
                    "https://token.actions.githubusercontent.com",
                    "--custom-trusted-root",
                    &root(),
                ]),
        )
        .0 == 0
    };
    assert!(theirs(id) && ours(id), "both accept the real pair");
    let other = "https://github.com/evil/x/.github/workflows/release.yml@refs/tags/v0.0.19";
    assert!(
        !theirs(other) && !ours(other),
        "both refuse another identity"
    );
    std::fs::write(dir.path().join(sdist), b"tampered").unwrap();
    assert!(!theirs(id) && !ours(id), "both refuse a tampered file");
}
