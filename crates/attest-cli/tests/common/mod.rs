//! Helpers shared by the CLI integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The read-only shared test data beside the checkout (`../shared`), or
/// `ATTEST_SHARED_DIR`.
pub fn shared_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ATTEST_SHARED_DIR") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// `../shared/testdata/gh`.
pub fn gh_dir() -> PathBuf {
    shared_dir().join("testdata/gh")
}

/// The built `attest` binary.
pub fn attest() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_attest"));
    // Tests decide TTY behaviour themselves.
    // Tests never reach the network: offline trust (embedded roots unless a
    // test gives a cache of its own).
    c.env_remove("GH_FORCE_TTY")
        .env_remove("GH_HOST")
        .env("NO_COLOR", "1")
        .env("ATTEST_OFFLINE", "1")
        .env_remove("GH_TOKEN")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_API_URL")
        .env_remove("DOCKER_CONFIG")
        .env_remove("ATTEST_REGISTRY_USERNAME")
        .env_remove("ATTEST_REGISTRY_PASSWORD")
        .env("GH_CONFIG_DIR", fresh_path("no-gh-config"))
        .env("ATTEST_CACHE_DIR", fresh_path("no-cache"));
    c
}

/// A path no other command has been given: in this test process's own
/// temporary directory (under the target directory, created with mode 0700
/// and a random name), numbered per call. It does not exist, so a command
/// finds no gh config or cache there, and anything it writes is its own: no
/// shared `/tmp` path another process (or test) could plant files in.
pub fn fresh_path(what: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::OnceLock;
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = DIR.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("attest-test-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("a temporary directory under the target directory")
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    dir.path().join(format!("{what}-{n}"))
}

/// The path of `tool` on `PATH`, for tests that run another program. When it
/// is missing: under `CI=true` the test fails (a CI run must not pass by
/// skipping); elsewhere the skip is printed and `None` returned.
pub fn require_tool(tool: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(tool))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{tool} is not installed, and CI=true: install it (scripts/install-test-deps.sh)"
        );
        eprintln!("SKIPPED: {tool} is not installed (under CI=true this fails)");
    }
    found
}

/// `script`, found on PATH: it runs a shell command on a pseudo-terminal,
/// as an interactive shell does, for what attest does only on a terminal.
pub struct Pty(PathBuf);

impl Pty {
    /// `script` if installed; else `None` after [`require_tool`]'s skip
    /// (a failure under `CI=true`).
    pub fn find() -> Option<Pty> {
        require_tool("script").map(Pty)
    }

    /// `shell_command` on a pseudo-terminal of an xterm; stdout is what the
    /// terminal showed.
    pub fn command(&self, shell_command: &str) -> Command {
        let mut c = Command::new(&self.0);
        c.args(["-qec", shell_command, "/dev/null"])
            .env("TERM", "xterm");
        c
    }
}

/// `attest verify` of the sigstore-js 2.1.0 tarball (a sha512 subject), run
/// in `gh_dir()` with `--owner sigstore`; callers add the bundle and the rest.
pub fn verify_sigstore_js() -> Command {
    let mut c = attest();
    c.current_dir(gh_dir()).args([
        "verify",
        "sigstore-js-2.1.0.tgz",
        "-d",
        "sha512",
        "--owner",
        "sigstore",
    ]);
    c
}

/// Run and capture, with the output as text.
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("run attest");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// An ECDSA P-256 key pair as `openssl` writes it: `<stem>.pem` (the
/// private key, SEC1) and `<stem>.pub.pem` (the SPKI public key) in `dir`.
/// Returns (private, public).
pub fn openssl_p256_key_pair(dir: &Path, stem: &str) -> (PathBuf, PathBuf) {
    let private = dir.join(format!("{stem}.pem"));
    let public = dir.join(format!("{stem}.pub.pem"));
    let ok = |c: &mut Command| c.status().expect("openssl").success();
    assert!(ok(Command::new("openssl")
        .args([
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out"
        ])
        .arg(&private)));
    assert!(ok(Command::new("openssl")
        .args(["ec", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&public)
        .stderr(std::process::Stdio::null())));
    (private, public)
}

/// Run `cmd` (stdout discarded), killed after `bound`: the exit code (None
/// if killed), stderr, and how long it ran. A panic (exit 101) fails the
/// test: hostile input must get a clean error.
pub fn run_bounded_stderr(
    cmd: &mut Command,
    bound: std::time::Duration,
) -> (Option<i32>, String, std::time::Duration) {
    let dir = tempfile::tempdir().unwrap();
    let err_path = dir.path().join("stderr");
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&err_path).unwrap());
    let start = std::time::Instant::now();
    let mut child = cmd.spawn().unwrap();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if start.elapsed() > bound {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let elapsed = start.elapsed();
    let err = std::fs::read_to_string(&err_path).unwrap_or_default();
    assert_ne!(code, Some(101), "panic: {err}");
    (code, err, elapsed)
}
