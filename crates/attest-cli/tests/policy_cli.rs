//! `attest verify --policy`, `attest policy init` and `attest lock --update`
//! on the real sigstore-js bundle shipped in examples/, offline.

mod common;

use common::run;
use std::path::{Path, PathBuf};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn tarball() -> String {
    examples()
        .join("sigstore-js-2.1.0.tgz")
        .display()
        .to_string()
}

fn bundle() -> String {
    examples()
        .join("sigstore-js-2.1.0-bundle.json")
        .display()
        .to_string()
}

fn write_policy(dir: &Path, repo: &str) -> String {
    let path = dir.join("attest.toml");
    std::fs::write(
        &path,
        format!(
            "version = 1\n[[rule]]\nname = \"tarballs\"\nfiles = [\"sigstore-js-*.tgz\"]\n\n[[rule.require]]\npredicate-type = \"slsa-provenance-v1\"\nrepo = \"{repo}\"\nsource-ref = {{ glob = \"refs/heads/*\" }}\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

fn verify(policy: &str, extra: &[&str]) -> (i32, String, String) {
    let cache = tempfile::tempdir().unwrap();
    let mut cmd = common::attest();
    cmd.args(["verify", "--offline", "--cache-dir"])
        .arg(cache.path())
        .args([
            "--policy",
            policy,
            &tarball(),
            "-d",
            "sha512",
            "--bundle",
            &bundle(),
        ])
        .args(extra);
    run(&mut cmd)
}

#[test]
fn a_policy_passes_fails_and_reports_every_check_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let good = write_policy(dir.path(), "sigstore/sigstore-js");
    let (code, out, err) = verify(&good, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("rule \"tarballs\""), "{out}");
    assert!(
        out.contains("SourceRepositoryRef: expected glob refs/heads/*, got refs/heads/main"),
        "{out}"
    );
    assert!(out.contains("provenance workflow.ref"), "{out}");
    assert!(err.contains("1 of 1 artifact passed the policy"), "{err}");

    let (code, out, err) = verify(&good, &["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schemaVersion"], 1);
    assert_eq!(v["passed"], true);
    assert!(v["policy"]["digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    let subject = &v["subjects"][0];
    assert_eq!(subject["policyDigest"], v["policy"]["digest"]);
    let checks = &subject["rules"][0]["requirements"][0]["attestations"][0]["checks"];
    assert!(checks.as_array().unwrap().len() > 10, "{checks}");

    // Another repository: a policy mismatch, exit 7, naming the check.
    let dir2 = tempfile::tempdir().unwrap();
    let bad = write_policy(dir2.path(), "sigstore/other");
    let (code, out, _) = verify(&bad, &[]);
    assert_eq!(code, 7, "{out}");
    assert!(
        out.contains("✗ SourceRepositoryURI: expected https://github.com/sigstore/other"),
        "{out}"
    );
}

#[test]
fn an_unmatched_artifact_fails_and_flags_the_policy_says_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("attest.toml");
    std::fs::write(
        &path,
        "version = 1\n[[rule]]\nfiles = [\"*.whl\"]\n[[rule.require]]\npredicate-type = \"slsa-provenance-v1\"\nrepo = \"sigstore/sigstore-js\"\n",
    )
    .unwrap();
    let policy = path.display().to_string();
    let (code, out, _) = verify(&policy, &[]);
    assert_eq!(code, 7);
    assert!(
        out.contains("no rule of") && out.contains("sigstore-js-2.1.0.tgz"),
        "{out}"
    );
    // Identity flags next to a policy would be ignored: refused.
    for flag in [
        &["--owner", "sigstore"][..],
        &["--repo", "sigstore/sigstore-js"],
        &["--cert-identity-regex", "x"],
        &["--source-ref", "refs/heads/main"],
        &["--predicate-type", "https://slsa.dev/provenance/v1"],
        &["--check-provenance"],
    ] {
        let (code, _, err) = verify(&policy, flag);
        assert_eq!(code, 2, "{flag:?}: {err}");
    }
    // A broken policy: exit 2 with file:line:column, before any verification.
    std::fs::write(&path, "version = 1\n[[rule]]\nfiels = [\"*.tgz\"]\n").unwrap();
    let (code, _, err) = verify(&policy, &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("{policy}:3:1: unknown field `fiels`")),
        "{err}"
    );
}

#[test]
fn policy_init_writes_a_policy_that_verifies_and_the_lock_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    // A copy named as npm packs it, so the lock has a name for it.
    let out = dir.path().join("attest.toml");
    let mut cmd = common::attest();
    cmd.args(["policy", "init", "--output"])
        .arg(&out)
        .args(["--offline", "--cache-dir"])
        .arg(cache.path())
        .args([
            "--owner",
            "sigstore",
            &tarball(),
            "-d",
            "sha512",
            "--bundle",
            &bundle(),
        ]);
    let (code, _, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("repo = \"sigstore/sigstore-js\""), "{text}");
    assert!(
        text.contains("signer-workflow = \"sigstore/sigstore-js/.github/workflows/release.yml\""),
        "{text}"
    );
    assert!(text.contains("source-ref = \"refs/heads/main\""), "{text}");
    let policy = out.display().to_string();
    let (code, o, e) = verify(&policy, &[]);
    assert_eq!(code, 0, "{o}{e}");
    // Writing again without --force is refused.
    let (code, _, _) = run(&mut cmd);
    assert_eq!(code, 2);
    // A plain file has no name to lock: --locked refuses it, saying so.
    let (code, o, _) = verify(&policy, &["--locked"]);
    assert_eq!(code, 7);
    assert!(o.contains("no package or image name"), "{o}");
    // --lock without --locked would be ignored: refused.
    let (code, _, _) = verify(&policy, &["--lock", "x.lock"]);
    assert_eq!(code, 2);
}

/// clap checks a command's definition only when it is used: every
/// subcommand's help must render.
#[test]
fn every_subcommand_has_a_valid_definition() {
    for sub in [
        &["verify"][..],
        &["digest"],
        &["provenance"],
        &["sign"],
        &["attest"],
        &["download"],
        &["trusted-root"],
        &["policy"],
        &["policy", "init"],
        &["lock"],
    ] {
        let (code, out, err) = run(common::attest().args(sub).arg("--help"));
        assert_eq!(code, 0, "{sub:?}: {err}");
        assert!(out.contains("Usage:"), "{sub:?}: {out}");
    }
}

/// A package's signer is recorded by `attest lock --update`; `--locked`
/// then passes, and fails once the lock names another signer.
#[test]
fn lock_update_records_the_signer_and_locked_refuses_another() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    // Subjects match by digest: the tarball under a wheel's name is a
    // distribution of the PyPI project "sigstore".
    let wheel = dir.path().join("sigstore-2.1.0-py3-none-any.whl");
    std::fs::copy(examples().join("sigstore-js-2.1.0.tgz"), &wheel).unwrap();
    let policy = dir.path().join("attest.toml");
    std::fs::write(
        &policy,
        "version = 1\n[[rule]]\npypi = [\"sigstore\"]\n[[rule.require]]\npredicate-type = \"slsa-provenance-v1\"\nrepo = \"sigstore/sigstore-js\"\n",
    )
    .unwrap();
    let base = |cmd: &mut std::process::Command| {
        cmd.args(["--offline", "--cache-dir"])
            .arg(cache.path())
            .arg("--policy")
            .arg(&policy)
            .arg(&wheel)
            .args(["-d", "sha512", "--bundle", &bundle()]);
    };
    let mut update = common::attest();
    update.args(["lock", "--update"]);
    base(&mut update);
    let (code, _, err) = run(&mut update);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("pypi:sigstore: recorded"), "{err}");
    let lock_path = dir.path().join("attest.lock");
    let lock = std::fs::read_to_string(&lock_path).unwrap();
    assert!(
        lock.contains(
            "signer = \"https://github.com/sigstore/sigstore-js/.github/workflows/release.yml\""
        ),
        "{lock}"
    );
    let locked = || {
        let mut cmd = common::attest();
        cmd.arg("verify");
        base(&mut cmd);
        cmd.arg("--locked");
        run(&mut cmd)
    };
    let (code, out, err) = locked();
    assert_eq!(code, 0, "{out}{err}");
    // Drift: the lock records another workflow.
    std::fs::write(&lock_path, lock.replace("release.yml", "publish.yml")).unwrap();
    let (code, out, _) = locked();
    assert_eq!(code, 7, "{out}");
    assert!(out.contains("which attest.lock does not record"), "{out}");
    // A reviewed update accepts the change again.
    let (code, _, err) = run(&mut update);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("pypi:sigstore: "), "{err}");
    assert_eq!(locked().0, 0);
}
