//! Standard output as coreutils treats it: a failed write is a one-line
//! error and exit 9; a reader that went away (`| head -c 1`) ends the run
//! quietly with 141, as a process killed by SIGPIPE shows in a shell; no
//! write path panics. And I/O errors read as sentences, without Rust's
//! `(os error N)`.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{attest, gh_dir, run};

/// What every failed write prints (the device's reason follows).
const FULL: &str = "Error: could not write to standard output: No space left on device\n";

/// Run `cmd` with stdout on `/dev/full`: (exit code, stderr).
fn to_dev_full(cmd: &mut Command) -> (i32, String) {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full");
    let out = cmd
        .stdout(Stdio::from(full))
        .stderr(Stdio::piped())
        .output()
        .expect("run attest");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Run `cmd` with stdout a pipe whose read end is closed as soon as the
/// process exists: (exit code, stderr). Callers make the output larger than
/// a pipe buffer (64 KiB), so the write fails even if it starts first.
fn to_closed_pipe(cmd: &mut Command) -> (i32, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run attest");
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("read stderr");
    let status = child.wait().expect("wait");
    (status.code().unwrap_or(-1), err)
}

/// 2,000 files with long names: `digest` writes ~250 KB and `--check` ~150 KB.
fn many_files(dir: &Path) -> Vec<String> {
    (0..2000)
        .map(|i| {
            let name = format!("artifact-{i:05}-with-a-long-name-to-fill-the-pipe-buffer.bin");
            std::fs::write(dir.join(&name), i.to_string()).unwrap();
            name
        })
        .collect()
}

/// `attest digest -o SUMS` of [`many_files`], in `dir`.
fn write_sums(dir: &Path, names: &[String]) {
    let (code, _, err) = run(attest()
        .current_dir(dir)
        .args(["digest", "-o", "SUMS"])
        .args(names));
    assert_eq!(code, 0, "{err}");
}

/// `verify --format json` of 40 copies of the sigstore-js tarball (one
/// bundle, a custom trusted root so stderr has no trust warning): ~160 KB of
/// JSON, whatever the verdict, after the summary is known.
fn release_json(dir: &Path) -> Command {
    let gh = gh_dir();
    let mut names = Vec::new();
    for i in 0..40 {
        let name = format!("sigstore-js-copy-{i}.tgz");
        std::fs::copy(gh.join("sigstore-js-2.1.0.tgz"), dir.join(&name)).unwrap();
        names.push(name);
    }
    let mut cmd = attest();
    cmd.current_dir(dir)
        .arg("verify")
        .args(&names)
        .args(["-d", "sha512", "--owner", "sigstore", "--bundle"])
        .arg(gh.join("sigstore-js-2.1.0-bundle.json"))
        .arg("--custom-trusted-root")
        .arg(gh.join("trusted_root.json"));
    cmd
}

/// Commands whose stdout is well over a 64 KiB pipe buffer, run in `dir`.
fn large_outputs(dir: &Path) -> Vec<(&'static str, Command)> {
    let names = many_files(dir);
    write_sums(dir, &names);
    let mut digest = attest();
    digest.current_dir(dir).arg("digest").args(&names);
    let mut check = attest();
    check.current_dir(dir).args(["digest", "--check", "SUMS"]);
    let mut json = release_json(dir);
    json.args(["--format", "json"]);
    let mut jq = release_json(dir);
    jq.args(["--format", "json", "--jq", ".[]"]);
    vec![
        ("digest", digest),
        ("digest --check", check),
        ("verify --format json", json),
        ("verify --jq", jq),
    ]
}

#[test]
fn a_full_disk_is_an_error_with_a_message_in_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let names = many_files(dir.path());
    write_sums(dir.path(), &names);
    let cases: Vec<(&str, Command)> = vec![
        ("digest", {
            let mut c = attest();
            c.current_dir(dir.path()).args(["digest"]).args(&names[..3]);
            c
        }),
        ("digest --check", {
            let mut c = attest();
            c.current_dir(dir.path())
                .args(["digest", "--check", "SUMS"]);
            c
        }),
        ("verify --format json", {
            let mut c = release_json(dir.path());
            c.args(["--format", "json"]);
            c
        }),
        // The release's text lines went through print!, which panics.
        ("verify (release lines)", release_json(dir.path())),
        ("--help", {
            let mut c = attest();
            c.arg("--help");
            c
        }),
    ];
    for (what, mut cmd) in cases {
        let (code, err) = to_dev_full(&mut cmd);
        assert_eq!(code, 9, "{what}: {err}");
        assert!(err.ends_with(FULL), "{what}: {err}");
        assert_eq!(err.matches("Error:").count(), 1, "{what}: {err}");
        assert!(!err.contains("os error"), "{what}: {err}");
    }
}

#[test]
fn a_closed_pipe_ends_the_run_quietly_with_141() {
    let dir = tempfile::tempdir().unwrap();
    for (what, mut cmd) in large_outputs(dir.path()) {
        let (code, err) = to_closed_pipe(&mut cmd);
        assert_eq!((code, err.as_str()), (141, ""), "{what}");
    }
}

#[test]
fn the_outputs_used_above_are_large_and_succeed_when_read() {
    // Controls: the same commands, read to the end, succeed and print well
    // over a 64 KiB pipe buffer, so the failures above come from the closed
    // reader and not from a write that happened before it closed.
    let dir = tempfile::tempdir().unwrap();
    for (what, mut cmd) in large_outputs(dir.path()) {
        let (code, out, err) = run(&mut cmd);
        assert_eq!(code, 0, "{what}: {err}");
        assert!(out.len() > 100_000, "{what}: {} bytes", out.len());
    }
}

#[test]
fn io_errors_are_printed_without_the_os_error_number() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nonexist.tgz");
    let (code, _, err) = run(attest()
        .current_dir(gh_dir())
        .arg("verify")
        .arg(&missing)
        .args([
            "--owner",
            "sigstore",
            "--bundle",
            "sigstore-js-2.1.0-bundle.json",
        ]));
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains(&format!(
            "Error: failed to read the artifact: {}: No such file or directory\n",
            missing.display()
        )),
        "{err}"
    );
    assert!(!err.contains("os error"), "{err}");
}
