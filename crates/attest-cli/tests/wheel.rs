//! The PyPI wheel (pyproject.toml, scripts/build-wheel.sh): maturin builds
//! a wheel holding only the `attest` program, pip installs it into a fresh
//! venv, and the installed `attest` verifies the README's offline example.
//!
//! The test builds from the dev profile, reusing this test build (only the
//! attest binary is relinked without the `conformance` feature), so it costs
//! seconds; the release wheel is the same command without `--dev`
//! (scripts/build-wheel.sh), run when releasing.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fresh_path, require_tool};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn pyproject_packages_only_attest_under_its_own_name() {
    let py = std::fs::read_to_string(repo_root().join("pyproject.toml")).unwrap();
    for line in [
        "name = \"attest-provenance\"",
        "bindings = \"bin\"",
        "manifest-path = \"crates/attest-cli/Cargo.toml\"",
        "no-default-features = true",
        "build-backend = \"maturin\"",
    ] {
        assert!(py.lines().any(|l| l == line), "pyproject.toml lacks {line}");
    }
    // Without the default features only `attest` is built: the conformance
    // client needs its feature.
    let cargo = std::fs::read_to_string(repo_root().join("crates/attest-cli/Cargo.toml")).unwrap();
    let conformance = cargo
        .split("[[bin]]")
        .find(|b| b.contains("name = \"attest-conformance\""))
        .expect("the attest-conformance bin");
    assert!(
        conformance.contains("required-features = [\"conformance\"]"),
        "{conformance}"
    );
}

#[test]
fn wheel_installs_into_a_fresh_venv_and_verifies_the_readme_example() {
    let Some(_) = require_tool("maturin") else {
        return;
    };
    let Some(_) = require_tool("python3") else {
        return;
    };
    let out = fresh_path("wheels");
    let result = Command::new("bash")
        .arg(repo_root().join("scripts/build-wheel.sh"))
        .args(["--dev", "--out"])
        .arg(&out)
        // The user's view: no token, no cache, no network.
        .env("ATTEST_OFFLINE", "1")
        .env("ATTEST_CACHE_DIR", fresh_path("no-cache"))
        .env("GH_CONFIG_DIR", fresh_path("no-gh-config"))
        .env_remove("GH_TOKEN")
        .env_remove("GITHUB_TOKEN")
        .env_remove("NO_COLOR")
        .env_remove("GH_FORCE_TTY")
        .output()
        .expect("run scripts/build-wheel.sh");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(result.status.success(), "{log}");
    assert!(
        log.contains("wheel contents: scripts/attest, metadata"),
        "{log}"
    );
    assert!(
        log.contains(&format!("attest {}", env!("CARGO_PKG_VERSION"))),
        "{log}"
    );
    assert!(
        log.contains(
            "verified examples/sigstore-js-2.1.0.tgz (sha512:90f223f992e4c88d"
        ) && log.contains("1 of 1 attestation matched the policy; signer https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"),
        "{log}"
    );
    let wheels: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(wheels.len(), 1, "{wheels:?}");
    assert!(
        wheels[0].starts_with(&format!(
            "attest_provenance-{}-py3-none-",
            env!("CARGO_PKG_VERSION")
        )),
        "{wheels:?}"
    );
}
