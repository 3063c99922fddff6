//! `attest digest` writes what `sha256sum FILE... | LC_ALL=C sort -k 2` writes,
//! and `attest digest --check` prints and exits as `sha256sum --check` does.

mod common;

use common::{attest, run};
use std::path::Path;
use std::process::Command;

fn sh(dir: &Path, script: &str) -> (i32, String) {
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn release_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let files: [(&str, &[u8]); 6] = [
        ("pkg-1.0-py3-none-any.whl", b"wheel bytes"),
        ("pkg-1.0.tar.gz", b"sdist bytes"),
        ("Zed.txt", b"capital first in byte order"),
        ("with space.txt", b"spaces are fine"),
        ("back\\slash.txt", b"escaped by sha256sum"),
        ("empty", b""),
    ];
    for (name, data) in files {
        std::fs::write(dir.path().join(name), data).unwrap();
    }
    dir
}

#[test]
fn manifest_is_byte_identical_to_sha256sum_sorted() {
    let dir = release_dir();
    let names = [
        "pkg-1.0.tar.gz",
        "pkg-1.0-py3-none-any.whl",
        "Zed.txt",
        "with space.txt",
        "back\\slash.txt",
        "empty",
    ];
    for (alg, tool) in [("sha256", "sha256sum"), ("sha512", "sha512sum")] {
        let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
        let (code, expected) = sh(
            dir.path(),
            &format!("{tool} {} | sort -k 2", quoted.join(" ")),
        );
        assert_eq!(code, 0);
        let (code, ours, err) = run(attest()
            .current_dir(dir.path())
            .args(["digest", "-a", alg])
            .args(names));
        assert_eq!(code, 0, "{err}");
        assert_eq!(ours, expected, "{alg}");
        // -o writes the same bytes, and paths elsewhere are listed by base name.
        let out = dir.path().join("out.txt");
        let paths: Vec<String> = names
            .iter()
            .map(|n| dir.path().join(n).display().to_string())
            .collect();
        let (code, _, err) = run(attest()
            .args(["digest", "-a", alg, "-o"])
            .arg(&out)
            .args(&paths));
        assert_eq!(code, 0, "{err}");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);
    }
}

#[test]
fn check_matches_sha256sum_output_and_status() {
    let dir = release_dir();
    let (_, good) = sh(dir.path(), "sha256sum pkg-1.0.tar.gz pkg-1.0-py3-none-any.whl 'with space.txt' 'back\\slash.txt' empty");
    let scenarios: Vec<(&str, String)> = vec![
        ("all-good", good.clone()),
        ("crlf", good.replace('\n', "\r\n")),
        ("tampered", good.replacen(&good[..4], "0000", 1)),
        (
            "missing",
            format!("{good}{}  not-there.whl\n", "a".repeat(64)),
        ),
        (
            "malformed",
            format!(
                "{good}this is not a checksum line\n{}  short\n",
                "ab".repeat(10)
            ),
        ),
        ("star", good.replace("  ", " *")),
        (
            "tagged",
            "SHA256 (empty) = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
                .to_string(),
        ),
        ("only-bad", "nonsense\n".to_string()),
        ("only-missing", format!("{}  gone\n", "b".repeat(64))),
    ];
    let flag_sets: [&[&str]; 5] = [
        &[],
        &["--quiet"],
        &["--status"],
        &["--ignore-missing"],
        &["--strict"],
    ];
    for (name, manifest) in &scenarios {
        std::fs::write(dir.path().join("m.txt"), manifest).unwrap();
        for flags in flag_sets {
            let (gnu_code, gnu_out) = sh(
                dir.path(),
                &format!("sha256sum --check {} m.txt", flags.join(" ")),
            );
            let (code, out, err) = run(attest()
                .current_dir(dir.path())
                .args(["digest", "--check"])
                .args(flags)
                .arg("m.txt"));
            assert_eq!(
                (code, &out),
                (gnu_code, &gnu_out),
                "{name} {flags:?}\nattest stderr: {err}"
            );
        }
    }
}

#[test]
fn malformed_lines_are_reported_with_their_number() {
    let dir = release_dir();
    std::fs::write(
        dir.path().join("m.txt"),
        format!(
            "{}  empty\nnot hex  x\n",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        ),
    )
    .unwrap();
    let (code, out, err) = run(attest()
        .current_dir(dir.path())
        .args(["digest", "-c", "m.txt"]));
    assert_eq!(code, 0);
    assert_eq!(out, "empty: OK\n");
    assert!(
        err.contains("m.txt: 2: improperly formatted SHA256 checksum line"),
        "{err}"
    );
}

#[test]
fn writing_refuses_duplicates_directories_and_missing_files() {
    let dir = release_dir();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/empty"), b"x").unwrap();
    let out = dir.path().join("m.txt");
    for (args, needle) in [
        (vec!["empty", "sub/empty"], "another file has the base name"),
        (vec!["empty", "sub"], "a directory"),
        (vec!["empty", "nope"], "nope"),
    ] {
        let (code, _, err) = run(attest()
            .current_dir(dir.path())
            .args(["digest", "-o"])
            .arg(&out)
            .args(&args));
        assert_eq!(code, 1, "{args:?}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!out.exists(), "a manifest was written despite errors");
    }
}

#[test]
fn check_prints_names_as_sha256sum_does() {
    // Names with a newline are escaped (leading `\`); GNU coreutils 9.1
    // prints a backslash or carriage return alone as it is.
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "new\nline",
        "back\\slash",
        "cr\rx",
        "all\\of\nthem\r",
        "plain",
    ];
    for n in names {
        std::fs::write(dir.path().join(n), n).unwrap();
    }
    let (code, _) = sh(
        dir.path(),
        "sha256sum * > SUMS && printf '%064d  gone\\nlost\\n' 0 >> SUMS",
    );
    assert_eq!(code, 0);
    // One changed file, so FAILED lines are compared too.
    std::fs::write(dir.path().join("all\\of\nthem\r"), "changed").unwrap();
    for flags in [&[][..], &["--quiet"], &["--ignore-missing"]] {
        let (gnu_code, gnu_out) = sh(
            dir.path(),
            &format!("sha256sum --check {} SUMS", flags.join(" ")),
        );
        if flags.is_empty() {
            assert!(gnu_out.contains("\\new\\nline: OK\n"), "{gnu_out:?}");
        }
        let (code, out, err) = run(attest()
            .current_dir(dir.path())
            .args(["digest", "--check"])
            .args(flags)
            .arg("SUMS"));
        assert_eq!((code, &out), (gnu_code, &gnu_out), "{flags:?}\n{err}");
    }
}

#[test]
fn check_reads_a_fifo_and_process_substitution() {
    let dir = release_dir();
    let (gnu_code, gnu_out) = sh(
        dir.path(),
        "sha256sum --check <(sha256sum empty pkg-1.0.tar.gz)",
    );
    assert_eq!(gnu_code, 0);
    let exe = env!("CARGO_BIN_EXE_attest");
    let (code, out) = sh(
        dir.path(),
        &format!("'{exe}' digest --check <(sha256sum empty pkg-1.0.tar.gz)"),
    );
    assert_eq!((code, &out), (gnu_code, &gnu_out));
    // A named FIFO (its writer gives up after 10 s if nothing reads it, so a
    // refusal cannot hang the test), and /dev/stdin.
    let (code, out) = sh(
        dir.path(),
        &format!("mkfifo f && (timeout 10 sh -c 'sha256sum empty > f' >/dev/null 2>&1 &) && '{exe}' digest --check f"),
    );
    assert_eq!((code, out.as_str()), (0, "empty: OK\n"));
    let (code, out) = sh(
        dir.path(),
        &format!("sha256sum empty | '{exe}' digest --check /dev/stdin"),
    );
    assert_eq!((code, out.as_str()), (0, "empty: OK\n"));
}

#[test]
fn check_names_an_unreadable_manifest_once_and_bounds_its_size() {
    let dir = release_dir();
    let (code, out, err) = run(attest()
        .current_dir(dir.path())
        .args(["digest", "--check", "nope.txt", "."]));
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(
        err,
        "attest: nope.txt: No such file or directory\nattest: .: Is a directory\n"
    );
    // Over 64 MiB from a pipe: refused, not cut silently to its first 64 MiB.
    let exe = env!("CARGO_BIN_EXE_attest");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "head -c 67108865 /dev/zero | '{exe}' digest --check -"
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "attest: standard input: more than 64 MiB; expected a checksum manifest\n"
    );
}

/// `digest -o` writes the manifest whole or not at all, like `sign -o`: a
/// write that fails (a 1 KiB file-size limit standing in for a full disk)
/// leaves an earlier manifest as it was, creates no new file and leaves no
/// temporary file; control: without the limit the manifest is written.
#[test]
fn a_failed_manifest_write_destroys_no_good_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut names = Vec::new();
    for i in 0..40 {
        let name = format!("artifact-with-a-long-name-{i:02}.bin");
        std::fs::write(dir.path().join(&name), format!("{i}")).unwrap();
        names.push(name);
    }
    let files = names.join(" ");
    let limited = |out: &str| {
        let script = format!(
            "trap '' XFSZ; ulimit -f 1; exec '{}' digest {files} -o {out}",
            env!("CARGO_BIN_EXE_attest")
        );
        run(std::process::Command::new("bash")
            .current_dir(dir.path())
            .args(["-c", &script]))
    };
    std::fs::write(dir.path().join("SHA256SUMS"), b"GOOD").unwrap();
    let (code, _, err) = limited("SHA256SUMS");
    assert_eq!(code, 9, "{err}");
    assert!(err.contains("SHA256SUMS: "), "{err}");
    assert!(!err.contains("os error"), "{err}");
    assert_eq!(
        std::fs::read(dir.path().join("SHA256SUMS")).unwrap(),
        b"GOOD"
    );
    let (code, _, err) = limited("NEW.txt");
    assert_eq!(code, 9, "{err}");
    assert!(
        !dir.path().join("NEW.txt").exists(),
        "a failed write left a file"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");

    let (code, _, err) = run(common::attest()
        .current_dir(dir.path())
        .arg("digest")
        .args(&names)
        .args(["-o", "SHA256SUMS"]));
    assert_eq!(code, 0, "{err}");
    let written = std::fs::read_to_string(dir.path().join("SHA256SUMS")).unwrap();
    assert_eq!(written.lines().count(), 40);
}
