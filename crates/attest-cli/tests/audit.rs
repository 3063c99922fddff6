//! `attest audit`: whole lock files against a loopback package index and a
//! loopback npm registry serving real attestations (tests/data/pep740 and
//! tests/data/npm; their READMEs say where each file came from).

mod common;
#[path = "support/mock_http.rs"]
mod mock_http;

use std::path::{Path, PathBuf};

use attest::artifact::{digest_bytes, DigestAlgorithm};
use mock_http::{MockServer, Response};

fn data(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../attest/tests/data")
        .join(dir)
}

fn root() -> String {
    data("pep740")
        .join("trusted_root.public-good.json")
        .display()
        .to_string()
}

fn sha256(file: &str) -> String {
    digest_bytes(
        &std::fs::read(data("pep740").join(file)).unwrap(),
        DigestAlgorithm::Sha256,
    )
    .hex()
}

/// The index: three projects with provenance (GitHub, Google, CircleCI
/// publishers) and sampleproject 3.0.0 without.
fn index() -> MockServer {
    let served: Vec<(String, Vec<u8>)> = [
        ("sampleproject", "4.0.0", "sampleproject-4.0.0.tar.gz"),
        (
            "gcb-attestation-test",
            "0.0.0",
            "gcb_attestation_test-0.0.0.tar.gz",
        ),
        (
            "circleci-sign-publish-example",
            "0.0.1.dev137",
            "circleci_sign_publish_example-0.0.1.dev137-py3-none-any.whl",
        ),
    ]
    .iter()
    .map(|(p, v, f)| {
        (
            format!("/integrity/{p}/{v}/{f}/provenance"),
            std::fs::read(data("pep740").join(format!("{f}.provenance"))).unwrap(),
        )
    })
    .collect();
    let simple = serde_json::json!({"meta": {"api-version": "1.3"}, "files": [
        {"filename": "sampleproject-4.0.0.tar.gz", "url": "x", "hashes": {"sha256": sha256("sampleproject-4.0.0.tar.gz")}, "provenance": "x"},
        {"filename": "sampleproject-3.0.0.tar.gz", "url": "x", "hashes": {"sha256": sha256("sampleproject-3.0.0.tar.gz")}, "provenance": null}
    ]})
    .to_string();
    MockServer::start(move |req| {
        if req.path == "/simple/sampleproject/" {
            return Response::json(simple.clone());
        }
        served
            .iter()
            .find(|(path, _)| *path == req.path)
            .map_or_else(
                || Response::status(404, "Not Found"),
                |(_, b)| Response::json(b.clone()),
            )
    })
}

fn uv_lock(dir: &Path, tampered: bool) -> PathBuf {
    let entry = |name: &str, version: &str, file: &str, hash: String, kind: &str| {
        let d = format!(
            "{{ url = \"https://files.example/{file}\", hash = \"sha256:{hash}\", size = 1 }}"
        );
        let dist = if kind == "sdist" {
            format!("sdist = {d}\n")
        } else {
            format!("wheels = [\n    {d},\n]\n")
        };
        format!("[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = {{ registry = \"https://pypi.org/simple\" }}\n{dist}\n")
    };
    let mut text = String::from("version = 1\nrequires-python = \">=3.9\"\n\n");
    text += &entry(
        "sampleproject",
        "4.0.0",
        "sampleproject-4.0.0.tar.gz",
        if tampered {
            "0".repeat(64)
        } else {
            sha256("sampleproject-4.0.0.tar.gz")
        },
        "sdist",
    );
    text += &entry(
        "sampleproject",
        "3.0.0",
        "sampleproject-3.0.0.tar.gz",
        sha256("sampleproject-3.0.0.tar.gz"),
        "sdist",
    );
    text += &entry(
        "gcb-attestation-test",
        "0.0.0",
        "gcb_attestation_test-0.0.0.tar.gz",
        sha256("gcb_attestation_test-0.0.0.tar.gz"),
        "sdist",
    );
    let wheel = "circleci_sign_publish_example-0.0.1.dev137-py3-none-any.whl";
    text += &entry(
        "circleci-sign-publish-example",
        "0.0.1.dev137",
        wheel,
        sha256(wheel),
        "wheel",
    );
    let path = dir.join("uv.lock");
    std::fs::write(&path, text).unwrap();
    path
}

fn audit(dir: &Path, lock: &Path, index: &str, extra: &[&str]) -> (i32, String, String) {
    common::run(
        common::attest()
            .env_remove("ATTEST_OFFLINE")
            .env("ATTEST_CACHE_DIR", dir.join("cache"))
            .arg("audit")
            .arg(lock)
            .args(["--index-url", index, "--custom-trusted-root", &root()])
            .args(extra),
    )
}

#[test]
fn a_uv_lock_is_audited_cached_and_held_to_its_publishers() {
    let idx = index();
    let dir = tempfile::tempdir().unwrap();
    let lock = uv_lock(dir.path(), false);
    let (code, out, err) = audit(dir.path(), &lock, &idx.base, &["-v"]);
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[0].starts_with("OK     sampleproject 4.0.0")
            && lines[0].contains("published by https://github.com/pypa/sampleproject"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("NONE   sampleproject 3.0.0") && lines[1].contains("no provenance"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("OK     gcb-attestation-test 0.0.0")
            && lines[2].contains("919436158236-compute@developer.gserviceaccount.com"),
        "{out}"
    );
    assert!(
        lines[3].starts_with("OK     circleci-sign-publish-example"),
        "{out}"
    );
    // Columns: the status in 6, the package padded to the longest (42),
    // two spaces, the detail.
    let width = "circleci-sign-publish-example 0.0.1.dev137".len();
    for (line, what) in lines.iter().zip([
        "sampleproject 4.0.0",
        "sampleproject 3.0.0",
        "gcb-attestation-test 0.0.0",
        "circleci-sign-publish-example 0.0.1.dev137",
    ]) {
        let head = format!(" {what:<width$}  ");
        assert_eq!(line.get(6..6 + head.len()), Some(head.as_str()), "{out}");
        assert_ne!(line.as_bytes()[6 + head.len()], b' ', "{out}");
    }
    assert!(
        err.contains("4 packages: 3 with provenance (3 verified, 0 failed), 1 without"),
        "{err}"
    );
    assert!(err.contains("4 requests to"), "{err}");
    // Missing provenance fails only when required.
    let (code, _, err) = audit(dir.path(), &lock, &idx.base, &["--require-provenance"]);
    assert_eq!(code, 5, "{err}");
    // Warm cache: no request for what is cached (the 404 is asked again).
    let (code, _, err) = audit(dir.path(), &lock, &idx.base, &["-v"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("1 request to") && err.contains("3 from the cache"),
        "{err}"
    );
    // Offline from the cache: what is cached verifies; the rest is an error.
    let (code, out, err) = audit(dir.path(), &lock, &idx.base, &["--offline"]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(
        err.contains("sampleproject 3.0.0: --offline: not in the provenance cache"),
        "{err}"
    );
    // JSON, one object per package.
    let (code, out, err) = audit(dir.path(), &lock, &idx.base, &["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["summary"]["verified"], 3, "{doc}");
    assert_eq!(doc["packages"][1]["status"], "none", "{doc}");
    assert_eq!(
        doc["packages"][0]["publishers"][0]["repository"], "https://github.com/pypa/sampleproject",
        "{doc}"
    );

    // attest.lock: recorded on first use, then held.
    let (code, _, err) = audit(dir.path(), &lock, &idx.base, &["--update-lock"]);
    assert_eq!(code, 0, "{err}");
    let recorded = std::fs::read_to_string(dir.path().join("attest.lock")).unwrap();
    assert!(
        recorded.contains("pypi:sampleproject") && recorded.contains("pypi:gcb-attestation-test"),
        "{recorded}"
    );
    let (code, _, err) = audit(dir.path(), &lock, &idx.base, &["--locked"]);
    assert_eq!(code, 0, "{err}");
    std::fs::write(
        dir.path().join("attest.lock"),
        recorded.replace(
            "https://github.com/pypa/sampleproject/.github/workflows/release.yml",
            "https://github.com/evil/sampleproject/.github/workflows/release.yml",
        ),
    )
    .unwrap();
    let (code, out, err) = audit(dir.path(), &lock, &idx.base, &["--locked"]);
    assert_eq!(code, 7, "{out}{err}");
    assert!(out.contains("POLICY sampleproject 4.0.0"), "{out}");

    // A lock that pins other bytes than the attested ones: no attestation
    // names them (the attestation is about the file the index has).
    let tampered = tempfile::tempdir().unwrap();
    let lock = uv_lock(tampered.path(), true);
    let (code, out, err) = audit(tampered.path(), &lock, &idx.base, &[]);
    assert_eq!(code, 5, "{out}{err}");
    assert!(out.starts_with("FAIL   sampleproject 4.0.0"), "{out}");
}

#[test]
fn requirements_and_pylock_identities() {
    let idx = index();
    let dir = tempfile::tempdir().unwrap();
    // Hash-pinned requirements: the index says which file each hash is.
    let req = dir.path().join("requirements.txt");
    std::fs::write(
        &req,
        format!(
            "sampleproject==4.0.0 \\\n    --hash=sha256:{}\nrequests>=2\nsampleproject==3.0.0 --hash=sha256:{}\n",
            sha256("sampleproject-4.0.0.tar.gz"),
            sha256("sampleproject-3.0.0.tar.gz")
        ),
    )
    .unwrap();
    let (code, out, err) = audit(dir.path(), &req, &idx.base, &["--no-cache"]);
    // The unpinned line is a problem of the lock: named, and the run fails (3).
    assert_eq!(code, 3, "{out}{err}");
    assert!(out.starts_with("OK     sampleproject 4.0.0"), "{out}");
    assert!(
        err.contains("line 3: \"requests>=2\" is not pinned"),
        "{err}"
    );
    // The index lists 3.0.0's file with "provenance": null: not asked for.
    assert!(out.contains("NONE   sampleproject 3.0.0"), "{out}");
    assert!(
        !idx.requests()
            .iter()
            .any(|r| r.path.contains("/integrity/sampleproject/3.0.0/")),
        "asked the Integrity API for a file the simple API lists without provenance"
    );
    // pylock.toml's attestation-identities are enforced.
    let pylock = |repo: &str| {
        let path = dir.path().join("pylock.toml");
        std::fs::write(
            &path,
            format!(
                "lock-version = \"1.0\"\ncreated-by = \"test\"\n[[packages]]\nname = \"sampleproject\"\nversion = \"4.0.0\"\nattestation-identities = [{{ kind = \"GitHub\", repository = \"{repo}\", workflow = \"release.yml\" }}]\nsdist = {{ name = \"sampleproject-4.0.0.tar.gz\", url = \"https://x/sampleproject-4.0.0.tar.gz\", hashes = {{ sha256 = \"{}\" }} }}\n",
                sha256("sampleproject-4.0.0.tar.gz")
            ),
        )
        .unwrap();
        path
    };
    let (code, out, err) = audit(
        dir.path(),
        &pylock("pypa/sampleproject"),
        &idx.base,
        &["--no-cache"],
    );
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = audit(
        dir.path(),
        &pylock("pypa/other"),
        &idx.base,
        &["--no-cache"],
    );
    assert_eq!(code, 7, "{out}{err}");
    assert!(out.contains("attestation-identities: expected Build Config URI https://github.com/pypa/other/.github/workflows/release.yml@"), "{out}");
}

/// On a terminal, a lock of two or more packages gets a progress bar;
/// one package, `--quiet`, or a pipe gets none.
#[test]
fn a_progress_bar_only_on_a_terminal_for_several_packages() {
    let Some(pty) = common::Pty::find() else {
        return;
    };
    let idx = index();
    let dir = tempfile::tempdir().unwrap();
    let uv = uv_lock(dir.path(), false);
    let pinned = |name: &str, lines: &[&str]| {
        let path = dir.path().join(name);
        let text: String = lines
            .iter()
            .map(|v| {
                format!(
                    "sampleproject=={v} --hash=sha256:{}\n",
                    sha256(&format!("sampleproject-{v}.tar.gz"))
                )
            })
            .collect();
        std::fs::write(&path, text).unwrap();
        path
    };
    let two = pinned("two.txt", &["4.0.0", "3.0.0"]);
    let one = pinned("one.txt", &["4.0.0"]);
    let bin = env!("CARGO_BIN_EXE_attest");
    let on_tty = |lock: &Path, extra: &str| -> String {
        let cmd = format!(
            "{bin} audit {} --index-url {} --custom-trusted-root {} --no-cache {extra}",
            lock.display(),
            idx.base,
            root()
        );
        let (code, out, err) = common::run(
            pty.command(&cmd)
                .env_remove("ATTEST_OFFLINE")
                .env("ATTEST_CACHE_DIR", dir.path().join("cache")),
        );
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("sampleproject 4.0.0"), "{out}");
        out
    };
    assert!(
        on_tty(&uv, "").contains("auditing"),
        "no bar for 4 packages"
    );
    assert!(
        on_tty(&two, "").contains("auditing"),
        "no bar for 2 packages"
    );
    assert!(
        !on_tty(&one, "").contains("auditing"),
        "a bar for 1 package"
    );
    assert!(
        !on_tty(&uv, "--quiet").contains("auditing"),
        "a bar under --quiet"
    );
    let (code, out, err) = audit(dir.path(), &uv, &idx.base, &["--no-cache"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        !err.contains("auditing") && !out.contains("auditing"),
        "{err}"
    );
}

/// JUnit rows: a verified package's signer in `<system-out>`, a package
/// without provenance its reason.
#[test]
fn junit_rows_carry_the_signer_or_the_reason() {
    let idx = index();
    let dir = tempfile::tempdir().unwrap();
    let lock = uv_lock(dir.path(), false);
    let (code, out, err) = audit(
        dir.path(),
        &lock,
        &idx.base,
        &["--format", "junit", "--no-cache"],
    );
    assert_eq!(code, 0, "{out}{err}");
    let case = |name: &str| {
        let start = out
            .find(&format!("name=\"{name}\""))
            .unwrap_or_else(|| panic!("{out}"));
        let end = start + out[start..].find("</testcase>").unwrap();
        out[start..end].to_string()
    };
    let ok = case("sampleproject 4.0.0");
    assert!(
        ok.contains("<system-out>") && ok.contains("https://github.com/pypa/sampleproject"),
        "{ok}"
    );
    let none = case("sampleproject 3.0.0");
    assert!(none.contains("no provenance"), "{none}");
    assert!(!none.contains("pypa/sampleproject"), "{none}");
}

/// pylock.toml's attestation-identities bind the one package and version
/// they are written under: identities on sampleproject 3.0.0 say nothing
/// of 4.0.0's publisher.
#[test]
fn identities_bind_their_own_package_version_only() {
    let idx = index();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pylock.toml");
    std::fs::write(
        &path,
        format!(
            "lock-version = \"1.0\"\ncreated-by = \"test\"\n[[packages]]\nname = \"sampleproject\"\nversion = \"4.0.0\"\nsdist = {{ name = \"sampleproject-4.0.0.tar.gz\", hashes = {{ sha256 = \"{}\" }} }}\n[[packages]]\nname = \"sampleproject\"\nversion = \"3.0.0\"\nattestation-identities = [{{ kind = \"GitHub\", repository = \"pypa/other\", workflow = \"release.yml\" }}]\nsdist = {{ name = \"sampleproject-3.0.0.tar.gz\", hashes = {{ sha256 = \"{}\" }} }}\n",
            sha256("sampleproject-4.0.0.tar.gz"),
            sha256("sampleproject-3.0.0.tar.gz")
        ),
    )
    .unwrap();
    let (code, out, err) = audit(dir.path(), &path, &idx.base, &["--no-cache"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("OK     sampleproject 4.0.0"), "{out}");
}

/// A registry for the other ecosystem that comes from the environment
/// (a CI setting for both kinds of lock) is not a flag given for this
/// lock: not refused. The same value as a flag is.
#[test]
fn the_other_ecosystem_s_registry_from_the_environment_is_not_refused() {
    let idx = index();
    let dir = tempfile::tempdir().unwrap();
    let lock = uv_lock(dir.path(), false);
    let run = |flag: bool| {
        let mut c = common::attest();
        c.env_remove("ATTEST_OFFLINE")
            .env("ATTEST_CACHE_DIR", dir.path().join("cache"))
            .env("ATTEST_NPM_REGISTRY", "https://npm.example/env")
            .arg("audit")
            .arg(&lock)
            .args([
                "--index-url",
                &idx.base,
                "--custom-trusted-root",
                &root(),
                "--no-cache",
            ]);
        if flag {
            c.args(["--registry", "https://npm.example/flag"]);
        }
        common::run(&mut c)
    };
    let (code, out, err) = run(false);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(true);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("--registry (npm's registry)"), "{err}");
}

/// npm: a package-lock.json against a loopback registry serving real
/// attestations (SLSA v1 in a bundle v0.3, 2026; SLSA v0.2 in bundles
/// v0.1, 2023); the tarball digests are the lock's `integrity`.
#[test]
fn a_package_lock_is_audited_against_the_registry() {
    let served: Vec<(&str, Vec<u8>)> = [
        (
            "/-/npm/v1/attestations/@playwright%2fcli@0.1.1",
            "playwright-cli-0.1.1-attestations.json",
        ),
        (
            "/-/npm/v1/attestations/sigstore@1.0.0",
            "sigstore-1.0.0.attestations.json",
        ),
        (
            "/-/npm/v1/attestations/tuf-js@1.0.0",
            "tuf-js-1.0.0.attestations.json",
        ),
    ]
    .iter()
    .map(|(p, f)| (*p, std::fs::read(data("npm").join(f)).unwrap()))
    .collect();
    let registry = MockServer::start(move |req| {
        served
            .iter()
            .find(|(p, _)| req.path.eq_ignore_ascii_case(p))
            .map_or_else(
                || Response::status(404, "Not Found"),
                |(_, b)| Response::json(b.clone()),
            )
    });
    let integrity = |tgz: &str| {
        use base64::Engine;
        let d = digest_bytes(
            &std::fs::read(data("npm").join(tgz)).unwrap(),
            DigestAlgorithm::Sha512,
        );
        format!(
            "sha512-{}",
            base64::engine::general_purpose::STANDARD.encode(d.as_bytes())
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("package-lock.json");
    let write = |playwright: String| {
        std::fs::write(
            &lock,
            serde_json::json!({"name": "app", "lockfileVersion": 3, "packages": {
                "": {"name": "app"},
                "node_modules/@playwright/cli": {"version": "0.1.1", "resolved": "https://registry.npmjs.org/@playwright/cli/-/cli-0.1.1.tgz", "integrity": playwright},
                "node_modules/sigstore": {"version": "1.0.0", "resolved": "https://registry.npmjs.org/sigstore/-/sigstore-1.0.0.tgz", "integrity": integrity("sigstore-1.0.0.tgz")},
                "node_modules/tuf-js": {"version": "1.0.0", "resolved": "https://registry.npmjs.org/tuf-js/-/tuf-js-1.0.0.tgz", "integrity": integrity("tuf-js-1.0.0.tgz")},
                "node_modules/left-pad": {"version": "1.3.0", "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz", "integrity": integrity("sigstore-0.4.0.tgz")}
            }})
            .to_string(),
        )
        .unwrap();
    };
    write(integrity("playwright-cli-0.1.1.tgz"));
    let run = || {
        common::run(
            common::attest()
                .env_remove("ATTEST_OFFLINE")
                .args(["audit"])
                .arg(&lock)
                .args([
                    "--registry",
                    &registry.base,
                    "--no-cache",
                    "--custom-trusted-root",
                    &root(),
                ])
                .arg("--npm-keys")
                .arg(data("npm").join("registry.npmjs.org-keys.json")),
        )
    };
    let (code, out, err) = run();
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("OK     @playwright/cli 0.1.1")
            && out.contains("github.com/microsoft/playwright-cli"),
        "{out}"
    );
    assert!(out.contains("OK     sigstore 1.0.0"), "{out}");
    assert!(out.contains("OK     tuf-js 1.0.0"), "{out}");
    assert!(out.contains("NONE   left-pad 1.3.0"), "{out}");
    assert!(
        err.contains("3 publish attestations verified with npm's registry keys"),
        "{err}"
    );
    // A lock whose integrity is not the attested tarball's: npm's publish
    // attestation names another tarball (a verification failure).
    write(integrity("sigstore-1.0.0.tgz"));
    let (code, out, err) = run();
    assert_eq!(code, 6, "{out}{err}");
    assert!(
        out.contains("npm's publish attestation: no subject of the statement has digest"),
        "{out}"
    );
    assert!(out.contains("FAIL   @playwright/cli 0.1.1"), "{out}");
}

/// `--policy`: the same attest.toml as `verify --policy` judges each
/// package; its `pypi` rules name packages, and `unmatched` decides the rest.
#[test]
fn a_policy_file_judges_each_package() {
    let idx = index();
    let dir = tempfile::tempdir().unwrap();
    let lock = uv_lock(dir.path(), false);
    let policy = |body: &str| {
        let path = dir.path().join("attest.toml");
        std::fs::write(&path, format!("version = 1\nunmatched = \"allow\"\n{body}")).unwrap();
        path.display().to_string()
    };
    let google = "[[rule]]\npypi = [\"gcb-attestation-test\"]\n[[rule.require]]\npredicate-type = \"https://docs.pypi.org/attestations/publish/v1\"\nissuer = \"https://accounts.google.com\"\nsan = \"919436158236-compute@developer.gserviceaccount.com\"\n";
    let (code, out, err) = audit(
        dir.path(),
        &lock,
        &idx.base,
        &["--no-cache", "--policy", &policy(google)],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("OK     gcb-attestation-test 0.0.0"), "{out}");
    // Another identity for it: a policy failure, named by the rule.
    let (code, out, err) = audit(
        dir.path(),
        &lock,
        &idx.base,
        &[
            "--no-cache",
            "--policy",
            &policy(&google.replace("919436158236", "000000000000")),
        ],
    );
    assert_eq!(code, 7, "{out}{err}");
    assert!(
        out.contains("FAIL   gcb-attestation-test 0.0.0")
            || out.contains("POLICY gcb-attestation-test 0.0.0"),
        "{out}"
    );
    // A rule that requires provenance of a release that has none fails
    // without --require-provenance.
    let sample = "[[rule]]\npypi = [\"sampleproject\"]\n[[rule.require]]\npredicate-type = \"https://docs.pypi.org/attestations/publish/v1\"\nrepo = \"pypa/sampleproject\"\n";
    let (code, out, err) = audit(
        dir.path(),
        &lock,
        &idx.base,
        &["--no-cache", "--policy", &policy(sample)],
    );
    assert_eq!(code, 5, "{out}{err}");
    assert!(out.contains("OK     sampleproject 4.0.0"), "{out}");
    assert!(out.contains("FAIL   sampleproject 3.0.0"), "{out}");
}

/// npm's publish attestations, verified with the registry's keys: pacote's
/// test fixtures for sigstore@0.4.0, the valid one and each broken one
/// (a bad signature, a subject without digest, another subject digest or
/// name, no key id, another payload type).
#[test]
fn npm_publish_attestations_are_verified_with_the_registry_keys() {
    use base64::Engine;
    let tgz = std::fs::read(data("npm").join("sigstore-0.4.0.tgz")).unwrap();
    let integrity = format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD
            .encode(digest_bytes(&tgz, DigestAlgorithm::Sha512).as_bytes())
    );
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("package-lock.json");
    std::fs::write(
        &lock,
        serde_json::json!({"lockfileVersion": 3, "packages": {"": {}, "node_modules/sigstore": {
            "version": "0.4.0", "resolved": "https://registry.npmjs.org/sigstore/-/sigstore-0.4.0.tgz", "integrity": integrity}}})
        .to_string(),
    )
    .unwrap();
    let run = |fixture: &str| {
        let body = std::fs::read(data("npm").join(fixture)).unwrap();
        let registry = MockServer::start(move |req| {
            if req.path == "/-/npm/v1/attestations/sigstore@0.4.0" {
                Response::json(body.clone())
            } else {
                Response::status(404, "Not Found")
            }
        });
        common::run(
            common::attest()
                .env_remove("ATTEST_OFFLINE")
                .arg("audit")
                .arg(&lock)
                .args([
                    "--registry",
                    &registry.base,
                    "--no-cache",
                    "--custom-trusted-root",
                    &root(),
                ])
                .arg("--npm-keys")
                .arg(data("npm").join("registry.npmjs.org-keys.json")),
        )
    };
    let (code, out, err) = run("sigstore-0.4.0.attestations.json");
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("1 publish attestation verified"), "{err}");
    // Each refused as a failed verification, by the check that refuses it.
    for (bad, why) in [
        ("invalid", "npm's publish attestation: sigstore@0.4.0 attestations: not a Sigstore bundle: Invalid encoding: invalid base64"),
        ("malformed-subject", "npm's publish attestation: in-toto statement: field subject[0]: missing field `digest`"),
        ("mismatched-keyid", "a signature names key JXkT/aBM9baLZ7dpjJLQhJrj3Ru5s/OSXoZzZsPUyhg, which is not one of npm's registry keys"),
        ("mismatched-subject-digest", "npm's publish attestation: no subject of the statement has digest"),
        // The subject name is signed: changing it breaks the signature first.
        ("mismatched-subject-name", "npm's publish attestation: signature: invalid signature"),
        ("no-keyid", "signature: invalid signature"),
        ("unsupported", "npm's publish attestation: bundle structure: unsupported bundle: unsupported DSSE payload type \"tlog-entry-mismatch\""),
    ] {
        let (code, out, err) = run(&format!("sigstore-0.4.0.attestations.bad-{bad}.json"));
        assert_eq!(code, 6, "{bad}: {out}{err}");
        assert!(out.starts_with("FAIL   sigstore 0.4.0") && out.contains(why), "{bad}: {out}{err}");
    }
}

/// Every flag of `attest audit`, in every kind of lock file: each verdict
/// flag turns the baseline's pass into a failure, or is refused where it
/// cannot apply, or is said not to change that lock's verdict. The flag list
/// comes from clap's own help, so a new flag must be classified here.
#[test]
fn every_audit_flag_in_every_lock_kind() {
    use std::collections::BTreeSet;
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Expect {
        Fail,
        Refused,
        Pass,
    }
    let idx = index();
    let npm_served: Vec<(&str, Vec<u8>)> = [
        (
            "/-/npm/v1/attestations/@playwright%2fcli@0.1.1",
            "playwright-cli-0.1.1-attestations.json",
        ),
        (
            "/-/npm/v1/attestations/sigstore@1.0.0",
            "sigstore-1.0.0.attestations.json",
        ),
    ]
    .iter()
    .map(|(p, f)| (*p, std::fs::read(data("npm").join(f)).unwrap()))
    .collect();
    let registry = MockServer::start(move |req| {
        npm_served
            .iter()
            .find(|(p, _)| req.path.eq_ignore_ascii_case(p))
            .map_or_else(
                || Response::status(404, "Not Found"),
                |(_, b)| Response::json(b.clone()),
            )
    });
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Each lock: packages with provenance and one without.
    let uv = uv_lock(d, false);
    let h4 = sha256("sampleproject-4.0.0.tar.gz");
    let h3 = sha256("sampleproject-3.0.0.tar.gz");
    let pylock = d.join("pylock.toml");
    std::fs::write(&pylock, format!(
        "lock-version = \"1.0\"\ncreated-by = \"test\"\n[[packages]]\nname = \"sampleproject\"\nversion = \"4.0.0\"\nattestation-identities = [{{ kind = \"GitHub\", repository = \"pypa/sampleproject\", workflow = \"release.yml\" }}]\nsdist = {{ name = \"sampleproject-4.0.0.tar.gz\", hashes = {{ sha256 = \"{h4}\" }} }}\n[[packages]]\nname = \"sampleproject\"\nversion = \"3.0.0\"\nsdist = {{ name = \"sampleproject-3.0.0.tar.gz\", hashes = {{ sha256 = \"{h3}\" }} }}\n"
    )).unwrap();
    let req = d.join("requirements.txt");
    std::fs::write(
        &req,
        format!(
            "sampleproject==4.0.0 --hash=sha256:{h4}\nsampleproject==3.0.0 --hash=sha256:{h3}\n"
        ),
    )
    .unwrap();
    let integrity = |tgz: &str| {
        use base64::Engine;
        let dg = digest_bytes(
            &std::fs::read(data("npm").join(tgz)).unwrap(),
            DigestAlgorithm::Sha512,
        );
        format!(
            "sha512-{}",
            base64::engine::general_purpose::STANDARD.encode(dg.as_bytes())
        )
    };
    let npm = d.join("package-lock.json");
    std::fs::write(&npm, serde_json::json!({"lockfileVersion": 3, "packages": {"": {},
        "node_modules/@playwright/cli": {"version": "0.1.1", "integrity": integrity("playwright-cli-0.1.1.tgz")},
        "node_modules/sigstore": {"version": "1.0.0", "integrity": integrity("sigstore-1.0.0.tgz")},
        "node_modules/left-pad": {"version": "1.3.0", "integrity": integrity("tuf-js-1.0.0.tgz")}}}).to_string()).unwrap();
    let keys = data("npm")
        .join("registry.npmjs.org-keys.json")
        .display()
        .to_string();
    // Other material for the rows.
    let drift = d.join("drift.lock");
    let mut text = String::from("version = 1\n");
    for name in [
        "pypi:sampleproject",
        "pypi:gcb-attestation-test",
        "pypi:circleci-sign-publish-example",
        "npm:@playwright/cli",
        "npm:sigstore",
    ] {
        text += &format!("[[identity.\"{name}\"]]\nissuer = \"https://token.actions.githubusercontent.com\"\nsigner = \"https://github.com/evil/x/.github/workflows/r.yml\"\n");
    }
    std::fs::write(&drift, text).unwrap();
    let other_policy = d.join("other.toml");
    std::fs::write(&other_policy, "version = 1\n[[rule]]\nall = true\n[[rule.require]]\npredicate-type = \"slsa-provenance-v1\"\nrepo = \"evil/other\"\n").unwrap();
    let other_root = {
        let other = attest_testsign::TestSigstore::new(
            attest_testsign::TestSigstoreConfig::public_good_like(),
        );
        let p = d.join("other-root.json");
        std::fs::write(&p, other.trusted_root_json() + "\n").unwrap();
        p.display().to_string()
    };
    let empty_keys = d.join("keys.json");
    std::fs::write(&empty_keys, "{\"keys\":[]}").unwrap();

    let locks: [(&str, &Path, bool); 4] = [
        ("uv.lock", &uv, false),
        ("pylock.toml", &pylock, false),
        ("requirements.txt", &req, false),
        ("package-lock.json", &npm, true),
    ];
    let base = |is_npm: bool| -> Vec<String> {
        let mut v = vec![
            "--no-cache".to_string(),
            "--custom-trusted-root".into(),
            root(),
        ];
        if is_npm {
            v.extend([
                "--registry".to_string(),
                registry.base.clone(),
                "--npm-keys".into(),
                keys.clone(),
            ]);
        } else {
            v.extend(["--index-url".to_string(), idx.base.clone()]);
        }
        v
    };
    let run = |lock: &Path, args: &[String]| {
        common::run(
            common::attest()
                .env_remove("ATTEST_OFFLINE")
                .current_dir(d)
                .arg("audit")
                .arg(lock)
                .args(args),
        )
    };
    type Row = (&'static str, Vec<String>, fn(bool) -> Expect);
    let rows: Vec<Row> = vec![
        (
            "require-provenance",
            vec!["--require-provenance".into()],
            |_| Expect::Fail,
        ),
        (
            "locked",
            vec![
                "--locked".into(),
                "--lock".into(),
                drift.display().to_string(),
            ],
            |_| Expect::Fail,
        ),
        (
            "lock",
            vec!["--lock".into(), drift.display().to_string()],
            |_| Expect::Refused,
        ),
        (
            "policy",
            vec!["--policy".into(), other_policy.display().to_string()],
            |_| Expect::Fail,
        ),
        (
            "custom-trusted-root",
            vec!["--custom-trusted-root".into(), other_root.clone()],
            |_| Expect::Fail,
        ),
        ("no-public-good", vec!["--no-public-good".into()], |_| {
            Expect::Fail
        }),
        ("offline", vec!["--offline".into()], |_| Expect::Fail),
        // npm's 2023 bundles carry a promise only; PEP 740's have proofs.
        (
            "require-inclusion-proof",
            vec!["--require-inclusion-proof".into()],
            |npm| if npm { Expect::Fail } else { Expect::Pass },
        ),
        (
            "npm-keys",
            vec!["--npm-keys".into(), empty_keys.display().to_string()],
            |npm| if npm { Expect::Fail } else { Expect::Refused },
        ),
        (
            "registry",
            vec!["--registry".into(), "http://127.0.0.1:9".into()],
            |npm| if npm { Expect::Fail } else { Expect::Refused },
        ),
        (
            "index-url",
            vec!["--index-url".into(), "http://127.0.0.1:9".into()],
            |npm| if npm { Expect::Refused } else { Expect::Fail },
        ),
    ];
    let not_verdict = [
        "jobs",
        "no-cache",
        "format",
        "update-lock",
        "cache-dir",
        "quiet",
        "verbose",
        "help",
    ];
    // Every flag clap defines is classified.
    let (_, help, _) = common::run(common::attest().args(["audit", "--help"]));
    let flags: BTreeSet<String> = help
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let long = l
                .strip_prefix("--")
                .or_else(|| l.split_once(", --").map(|(_, r)| r))?;
            let name: String = long
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            (!name.is_empty()).then_some(name)
        })
        .collect();
    let classified: BTreeSet<String> = rows
        .iter()
        .map(|r| r.0.to_string())
        .chain(not_verdict.iter().map(|s| s.to_string()))
        .collect();
    assert_eq!(
        flags, classified,
        "flags of `attest audit` and the matrix differ"
    );

    let mut wrong = Vec::new();
    for (kind, lock, is_npm) in locks {
        let (code, out, err) = run(lock, &base(is_npm));
        assert_eq!(code, 0, "baseline of {kind}: {out}{err}");
        for (flag, extra, expect) in &rows {
            // A row's flag replaces the baseline's value of the same flag.
            let mut args = base(is_npm);
            if let Some(i) = args.iter().position(|a| a == &extra[0]) {
                if extra.len() > 1 {
                    args.drain(i..i + 2);
                }
            }
            args.extend(extra.iter().cloned());
            let want = expect(is_npm);
            let (code, out, err) = run(lock, &args);
            let ok = match want {
                Expect::Fail => code != 0 && code != 2,
                Expect::Refused => code == 2,
                Expect::Pass => code == 0,
            };
            if !ok {
                wrong.push(format!(
                    "--{flag} in {kind}: expected {want:?}, got {code}: {}{}",
                    out.lines().next().unwrap_or_default(),
                    err.lines().last().unwrap_or_default()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
