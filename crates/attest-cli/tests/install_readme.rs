//! The install section of the README (between `<!-- install:begin -->` and
//! `<!-- install:end -->`, the same block as docs/install.md) is run: each
//! command line of its `sh` block, as written, then the README's offline
//! example with the `attest` it installed.
//!
//! What each route runs against, so that the test talks only to 127.0.0.1:
//! - `pip install attest-provenance` and `uv tool install attest-provenance`:
//!   in a fresh venv / uv tool dir, with the package index replaced by a
//!   wheel built from this checkout (PIP_NO_INDEX + PIP_FIND_LINKS, UV_NO_INDEX +
//!   UV_FIND_LINKS), so the command is the README's and the wheel is this code;
//! - `cargo install …`: as written plus `--debug --root DIR` and this test
//!   build's target directory, so it reuses the test build instead of a
//!   10-minute release build (the release profile is what scripts/build-wheel.sh builds);
//! - `docker build …`: run when a Docker daemon answers; without one (as on
//!   the CI machine, which also cannot pull base images) the Dockerfile is
//!   checked statically (`container_image_is_multi_stage_non_root_and_shell_free`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fresh_path, require_tool};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

const BEGIN: &str = "<!-- install:begin -->";
const END: &str = "<!-- install:end -->";

/// The command lines of the `sh` block between the markers of `file`:
/// comments and blank lines dropped, trailing `# …` comments cut.
fn install_commands(file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo_root().join(file)).unwrap();
    let start = text
        .find(BEGIN)
        .unwrap_or_else(|| panic!("{file} has no {BEGIN} marker"));
    let end = text[start..]
        .find(END)
        .unwrap_or_else(|| panic!("{file} has no {END} after {BEGIN}"))
        + start;
    let section = &text[start + BEGIN.len()..end];
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap_or_else(|| panic!("{file}: no ```sh block in the install section"));
    block
        .lines()
        .map(|l| match l.find(" #") {
            Some(i) => l[..i].trim(),
            None => l.trim(),
        })
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// The README (`ATTEST_TEST_README` names another file, to try a proposed
/// section before it is in the README).
fn readme() -> String {
    std::env::var("ATTEST_TEST_README").unwrap_or_else(|_| "README.md".into())
}

/// The README's block and docs/install.md's are the same commands.
fn commands() -> Vec<String> {
    let readme = install_commands(&readme());
    let doc = install_commands("docs/install.md");
    assert_eq!(readme, doc, "README.md and docs/install.md disagree");
    readme
}

/// Run `line` with bash in the repository root with `env`; panics with the
/// output unless it succeeds.
fn sh(line: &str, env: &[(&str, &std::ffi::OsStr)]) -> String {
    let mut c = Command::new("bash");
    c.args(["-c", line]).current_dir(repo_root());
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run bash");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "`{line}` failed:\n{log}");
    log
}

/// The README's offline example with the `attest` in `bin`.
fn run_example(bin: &Path) {
    let out = Command::new(bin.join("attest"))
        .current_dir(repo_root())
        .args([
            "verify",
            "--offline",
            "examples/sigstore-js-2.1.0.tgz",
            "-d",
            "sha512",
            "--owner",
            "sigstore",
            "--bundle",
            "examples/sigstore-js-2.1.0-bundle.json",
        ])
        .env("ATTEST_CACHE_DIR", fresh_path("no-cache"))
        .env("GH_CONFIG_DIR", fresh_path("no-gh-config"))
        .env_remove("GH_FORCE_TTY")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("verified examples/sigstore-js-2.1.0.tgz")
            && err.contains("1 of 1 attestation matched the policy"),
        "{err}"
    );
}

/// A wheel of this checkout (dev profile, as tests/wheel.rs builds it), in
/// a directory of its own for --find-links.
fn local_wheel_dir() -> PathBuf {
    static DIR: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);
    // One build for the pip and uv tests (the lock also keeps two maturin
    // runs from relinking the same binary at once).
    let mut dir = DIR.lock().unwrap_or_else(|e| e.into_inner());
    dir.get_or_insert_with(|| {
        let out = fresh_path("wheelhouse");
        sh(
            &format!("scripts/build-wheel.sh --dev --out '{}'", out.display()),
            &[],
        );
        out
    })
    .clone()
}

fn route(commands: &[String], program: &str) -> String {
    let found: Vec<&String> = commands
        .iter()
        .filter(|c| c.split_whitespace().next() == Some(program))
        .collect();
    assert_eq!(found.len(), 1, "one {program} line expected: {commands:?}");
    found[0].clone()
}

#[test]
fn install_section_has_one_line_per_route() {
    let commands = commands();
    let programs: Vec<&str> = commands
        .iter()
        .map(|c| c.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(programs, ["pip", "uv", "cargo", "docker"], "{commands:?}");
    // The Action line names this repository (Cargo.toml's `repository`).
    let readme = std::fs::read_to_string(repo_root().join(readme())).unwrap();
    let section = &readme[readme.find(BEGIN).unwrap()..readme.find(END).unwrap()];
    let cargo = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    let repo = cargo
        .lines()
        .find_map(|l| l.strip_prefix("repository = \"https://github.com/"))
        .and_then(|r| r.strip_suffix('"'))
        .expect("the workspace repository URL");
    assert!(
        section.contains(&format!("uses: {repo}@")),
        "no `uses: {repo}@…` in the install section"
    );
}

#[test]
fn pip_route_installs_the_wheel_into_a_fresh_venv() {
    let Some(_) = require_tool("maturin") else {
        return;
    };
    let line = route(&commands(), "pip");
    assert_eq!(line, "pip install attest-provenance");
    let wheels = local_wheel_dir();
    let venv = fresh_path("venv");
    sh(&format!("python3 -m venv '{}'", venv.display()), &[]);
    let bin = venv.join("bin");
    let path = std::env::join_paths(
        std::iter::once(bin.clone())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    sh(
        &line,
        &[
            ("PATH", path.as_os_str()),
            ("VIRTUAL_ENV", venv.as_os_str()),
            ("PIP_NO_INDEX", "1".as_ref()),
            ("PIP_FIND_LINKS", wheels.as_os_str()),
        ],
    );
    run_example(&bin);
}

#[test]
fn uv_route_installs_the_wheel_as_a_tool() {
    let Some(_) = require_tool("maturin") else {
        return;
    };
    let Some(_) = require_tool("uv") else {
        return;
    };
    let line = route(&commands(), "uv");
    assert_eq!(line, "uv tool install attest-provenance");
    let wheels = local_wheel_dir();
    let bin = fresh_path("uv-bin");
    sh(
        &line,
        &[
            ("UV_TOOL_DIR", fresh_path("uv-tools").as_os_str()),
            ("UV_TOOL_BIN_DIR", bin.as_os_str()),
            ("UV_CACHE_DIR", fresh_path("uv-cache").as_os_str()),
            ("UV_NO_INDEX", "1".as_ref()),
            ("UV_FIND_LINKS", wheels.as_os_str()),
        ],
    );
    run_example(&bin);
}

#[test]
fn cargo_route_installs_attest_alone() {
    let line = route(&commands(), "cargo");
    assert!(
        line.starts_with("cargo install --locked --path crates/attest-cli"),
        "{line}"
    );
    let root = fresh_path("cargo-root");
    // The test build's target directory (the parent of the attest binary's
    // directory), so only what differs is compiled.
    let target = Path::new(env!("CARGO_BIN_EXE_attest"))
        .parent()
        .and_then(Path::parent)
        .unwrap();
    sh(
        &format!("{line} --debug --root '{}'", root.display()),
        &[("CARGO_TARGET_DIR", target.as_os_str())],
    );
    let installed: Vec<String> = std::fs::read_dir(root.join("bin"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(installed, ["attest"], "only attest is installed");
    run_example(&root.join("bin"));
}

#[test]
fn docker_route_builds_when_a_daemon_answers() {
    let line = route(&commands(), "docker");
    assert_eq!(
        line,
        "docker build -f packaging/container/Dockerfile -t attest ."
    );
    let daemon = Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|o| o.status.success());
    if !daemon {
        // The CI machine has no Docker daemon and cannot pull base images;
        // the Dockerfile is checked statically by the next test.
        eprintln!("NOT BUILT: no Docker daemon answers `docker info`");
        return;
    }
    let tag = format!("attest-install-test:{}", std::process::id());
    sh(&line.replace("-t attest", &format!("-t {tag}")), &[]);
    let log = sh(
        &format!(
            "docker run --rm -v \"$PWD/examples:/examples:ro\" {tag} verify --offline \
             /examples/sigstore-js-2.1.0.tgz -d sha512 --owner sigstore \
             --bundle /examples/sigstore-js-2.1.0-bundle.json"
        ),
        &[],
    );
    assert!(
        log.contains("1 of 1 attestation matched the policy"),
        "{log}"
    );
    let user = sh(
        &format!("docker image inspect -f '{{{{.Config.User}}}}' {tag}"),
        &[],
    );
    assert_eq!(user.trim(), "nonroot:nonroot");
    let _ = Command::new("docker").args(["rmi", &tag]).output();
}

/// The Dockerfile's instructions, continuation lines joined, comments out.
fn dockerfile_instructions() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo_root().join("packaging/container/Dockerfile")).unwrap();
    let mut out: Vec<(String, String)> = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('#') || (t.is_empty() && pending.is_empty()) {
            continue;
        }
        if let Some(body) = t.strip_suffix('\\') {
            pending.push_str(body);
            pending.push(' ');
            continue;
        }
        pending.push_str(t);
        let (cmd, args) = pending.split_once(' ').unwrap_or((&pending, ""));
        out.push((cmd.to_uppercase(), args.trim().to_string()));
        pending.clear();
    }
    out
}

#[test]
fn container_image_is_multi_stage_non_root_and_shell_free() {
    let ins = dockerfile_instructions();
    let froms: Vec<&str> = ins
        .iter()
        .filter(|(c, _)| c == "FROM")
        .map(|(_, a)| a.as_str())
        .collect();
    assert_eq!(froms.len(), 2, "{froms:?}");
    assert!(
        froms[0].starts_with("docker.io/library/rust:1-slim-bookworm AS build"),
        "{froms:?}"
    );
    // The runtime stage: distroless (no shell), the same Debian as the builder.
    assert_eq!(froms[1], "gcr.io/distroless/cc-debian12:nonroot");
    let runtime = ins
        .iter()
        .rposition(|(c, _)| c == "FROM")
        .map(|i| &ins[i + 1..])
        .unwrap();
    assert!(
        !runtime.iter().any(|(c, _)| c == "RUN"),
        "a RUN in the runtime stage needs a shell the image does not have"
    );
    let find = |cmd: &str| -> Vec<&str> {
        runtime
            .iter()
            .filter(|(c, _)| c == cmd)
            .map(|(_, a)| a.as_str())
            .collect()
    };
    assert_eq!(find("USER"), ["nonroot:nonroot"]);
    // Exec form: no shell wraps the program, signals reach attest.
    assert_eq!(find("ENTRYPOINT"), ["[\"attest\"]"]);
    assert_eq!(
        find("COPY"),
        ["--from=build /out/attest /usr/local/bin/attest"]
    );
    // The build is the locked release build of attest alone.
    let build = ins
        .iter()
        .find(|(c, a)| c == "RUN" && a.contains("cargo build"))
        .expect("a cargo build");
    assert!(
        build
            .1
            .contains("cargo build --release --locked --bin attest"),
        "{build:?}"
    );
    // The context leaves out the build output and the fuzz corpora.
    let ignore =
        std::fs::read_to_string(repo_root().join("packaging/container/Dockerfile.dockerignore"))
            .unwrap();
    for entry in ["target", ".git", "fuzz"] {
        assert!(ignore.lines().any(|l| l == entry), "{entry} not ignored");
    }
}
