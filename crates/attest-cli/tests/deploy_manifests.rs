//! The Kubernetes manifests of deploy/kubernetes, checked offline by
//! `deploy/kubernetes/validate` (each document decoded strictly into the
//! API server's own Go type, plus the webhook's safety rules), and the
//! check itself shown to fail on a misspelt field and on a webhook that
//! would fail open.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn validator(dir: &Path) -> Option<PathBuf> {
    common::require_tool("go")?;
    let bin = dir.join("validate");
    let out = Command::new("go")
        .current_dir(repo().join("deploy/kubernetes/validate"))
        .args(["build", "-o"])
        .arg(&bin)
        .arg(".")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "go build: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(bin)
}

fn validate(bin: &Path, dir: &Path) -> (bool, String) {
    let out = Command::new(bin).arg(dir).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn the_manifests_are_valid_kubernetes_and_fail_closed() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(bin) = validator(tmp.path()) else {
        return;
    };
    let manifests = repo().join("deploy/kubernetes");
    let (ok, out) = validate(&bin, &manifests);
    assert!(ok, "{out}");

    // The check can fail: one edit at a time on a copy.
    for (file, from, to, why) in [
        (
            "deployment.yaml",
            "  replicas: 2",
            "  replica: 2",
            "unknown field",
        ),
        (
            "webhook.yaml",
            "failurePolicy: Fail",
            "failurePolicy: Ignore",
            "failurePolicy must be Fail",
        ),
        (
            "webhook.yaml",
            "values: [\"attest-system\", \"kube-system\"]",
            "values: [\"kube-system\"]",
            "must exempt attest-system",
        ),
        (
            "deployment.yaml",
            "readOnlyRootFilesystem: true",
            "readOnlyRootFilesystem: false",
            "read-only",
        ),
    ] {
        let copy = tmp.path().join(format!("copy-{file}-{}", why.len()));
        std::fs::create_dir(&copy).unwrap();
        for entry in std::fs::read_dir(&manifests).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "yaml") {
                std::fs::copy(&p, copy.join(p.file_name().unwrap())).unwrap();
            }
        }
        let text = std::fs::read_to_string(copy.join(file)).unwrap();
        assert!(text.contains(from), "{file} lacks {from}");
        std::fs::write(copy.join(file), text.replacen(from, to, 1)).unwrap();
        let (ok, out) = validate(&bin, &copy);
        assert!(!ok, "{file}: {from} -> {to} passed");
        assert!(out.contains(why), "{file}: {out}");
    }
}
