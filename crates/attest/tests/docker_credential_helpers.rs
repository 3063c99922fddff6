//! Registry credentials from Docker's credential helpers: which helper runs
//! for which registry, what it is asked, and when its answer is not used.
//!
//! The helpers are shell scripts on this test binary's own `PATH` (its own
//! process, so no other test sees them). Each records that it ran and what
//! registry it was asked for; the answer's user name echoes the question.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use attest::source::oci::{docker_config_credentials, RegistryAuth};

/// Where the helpers are, and where they record their runs.
struct Helpers {
    _dir: tempfile::TempDir,
    log: PathBuf,
}

fn helper(dir: &Path, name: &str, body: &str) {
    let path = dir.join(format!("docker-credential-{name}"));
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn helpers() -> &'static Helpers {
    static H: OnceLock<Helpers> = OnceLock::new();
    H.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("runs.log");
        let answer = |name: &str| {
            format!(
                "read reg; echo \"{name} $reg\" >> '{}'; \
                 printf '{{\"Username\":\"{name}:%s\",\"Secret\":\"s3cret\"}}' \"$reg\"",
                log.display()
            )
        };
        helper(dir.path(), "my-fake_1", &answer("my-fake_1"));
        helper(dir.path(), "store", &answer("store"));
        // Names a helper may not have: each would answer if it were run.
        helper(dir.path(), "fake.evil", &answer("fake.evil"));
        // A helper that fails, though its output would parse.
        helper(
            dir.path(),
            "failing",
            &format!("{}; exit 1", answer("failing")),
        );
        let path = format!(
            "{}:{}",
            dir.path().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        std::env::set_var("PATH", path);
        Helpers { _dir: dir, log }
    })
}

/// A lock so one test's helper runs do not show in another's log reading.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static L: std::sync::Mutex<()> = std::sync::Mutex::new(());
    L.lock().unwrap_or_else(|p| p.into_inner())
}

/// The helper runs since the last call, as "NAME REGISTRY" lines.
fn runs(h: &Helpers) -> Vec<String> {
    let text = std::fs::read_to_string(&h.log).unwrap_or_default();
    let _ = std::fs::remove_file(&h.log);
    text.lines().map(str::to_string).collect()
}

fn basic(user: &str, password: &str) -> Option<RegistryAuth> {
    Some(RegistryAuth::Basic(user.into(), password.into()))
}

/// `auths` with an entry for r.example (user `file`, password `pw`).
const AUTHS: &str = r#""auths":{"r.example":{"auth":"ZmlsZTpwdw=="}}"#;

#[test]
fn the_registry_s_own_helper_is_asked_for_that_registry() {
    let h = helpers();
    let _s = serial();
    runs(h);
    let config = format!(r#"{{"credHelpers":{{"r.example":"my-fake_1"}},{AUTHS}}}"#);
    assert_eq!(
        docker_config_credentials(&config, "r.example", true),
        basic("my-fake_1:r.example", "s3cret")
    );
    assert_eq!(runs(h), ["my-fake_1 r.example"]);
    // Docker Hub's helpers know it by its legacy index URL.
    let config = r#"{"credHelpers":{"docker.io":"my-fake_1"}}"#;
    assert_eq!(
        docker_config_credentials(config, "docker.io", true),
        basic("my-fake_1:https://index.docker.io/v1/", "s3cret")
    );
    assert_eq!(runs(h), ["my-fake_1 https://index.docker.io/v1/"]);
}

#[test]
fn the_store_answers_for_registries_without_their_own_helper() {
    let h = helpers();
    let _s = serial();
    runs(h);
    let config = format!(
        r#"{{"credsStore":"store","credHelpers":{{"other.example":"my-fake_1"}},{AUTHS}}}"#
    );
    assert_eq!(
        docker_config_credentials(&config, "r.example", true),
        basic("store:r.example", "s3cret")
    );
    // Another registry's helper was not run, and was not asked about ours.
    assert_eq!(runs(h), ["store r.example"]);
}

#[test]
fn without_helpers_the_auths_entry_is_used() {
    let h = helpers();
    let _s = serial();
    runs(h);
    let config = format!(r#"{{"credHelpers":{{"r.example":"my-fake_1"}},{AUTHS}}}"#);
    assert_eq!(
        docker_config_credentials(&config, "r.example", false),
        basic("file", "pw")
    );
    assert_eq!(runs(h), Vec::<String>::new());
}

#[test]
fn a_helper_name_that_is_not_a_plain_name_is_never_run() {
    let h = helpers();
    let _s = serial();
    runs(h);
    for name in ["fake.evil", "../fake.evil", "my-fake_1 --x"] {
        let config = format!(r#"{{"credHelpers":{{"r.example":"{name}"}},{AUTHS}}}"#);
        assert_eq!(
            docker_config_credentials(&config, "r.example", true),
            basic("file", "pw"),
            "{name}"
        );
    }
    assert_eq!(runs(h), Vec::<String>::new());
}

#[test]
fn a_failing_helper_is_not_believed() {
    let h = helpers();
    let _s = serial();
    runs(h);
    let config = format!(r#"{{"credHelpers":{{"r.example":"failing"}},{AUTHS}}}"#);
    assert_eq!(
        docker_config_credentials(&config, "r.example", true),
        basic("file", "pw")
    );
    assert_eq!(runs(h), ["failing r.example"]);
}
