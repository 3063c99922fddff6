//! Bad input never panics: each case gets a one-line `Error:` naming the
//! file (and the line and field where there is one) and exit code 3, or a
//! usage error (2).

mod common;

use common::{attest, gh_dir, run};
use std::path::Path;

const ARTIFACT: &str = "sigstore-js-2.1.0.tgz";

fn verify_with_bundle(bundle: &Path) -> (i32, String) {
    let (code, _out, err) = run(attest()
        .current_dir(gh_dir())
        .args([
            "verify", ARTIFACT, "-d", "sha512", "--owner", "sigstore", "--bundle",
        ])
        .arg(bundle));
    (code, err)
}

fn error_line(err: &str) -> &str {
    err.lines()
        .find(|l| l.starts_with("Error: "))
        .unwrap_or_else(|| panic!("no Error line in {err:?}"))
}

#[test]
fn malformed_bundles_name_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(gh_dir().join("sigstore-js-2.1.0-bundle.json")).unwrap();
    let compact: serde_json::Value = serde_json::from_str(&good).unwrap();
    let mut wrong_type = compact.clone();
    wrong_type["verificationMaterial"]["tlogEntries"][0]["logIndex"] = serde_json::json!({"x": 1});
    let mut bad_media = compact.clone();
    bad_media["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=7".into();
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        (
            "truncated.json",
            good.as_bytes()[..good.len() / 2].to_vec(),
            &["truncated.json:1", "not valid JSON"],
        ),
        (
            "garbage.json",
            vec![0x00, 0x9f, 0x92, 0x96, 0xff, 0x10],
            &["garbage.json", "not UTF-8"],
        ),
        (
            "text.json",
            b"hello world\n".to_vec(),
            &["text.json:1", "not valid JSON"],
        ),
        (
            "array.json",
            b"[1,2,3]".to_vec(),
            &["array.json:1", "expected a JSON object"],
        ),
        ("empty.json", Vec::new(), &["empty.json", "empty"]),
        (
            "wrong-type.jsonl",
            format!("{compact}\n{wrong_type}\n").into_bytes(),
            &["wrong-type.jsonl:2", "logIndex"],
        ),
        (
            "media.json",
            bad_media.to_string().into_bytes(),
            &["media.json:1", "version=7"],
        ),
    ];
    for (name, bytes, needles) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let (code, err) = verify_with_bundle(&path);
        // The wrong-type JSONL still holds a good bundle on line 1: it verifies,
        // and the bad line is reported.
        if name == "wrong-type.jsonl" {
            assert_eq!(code, 0, "{name}: {err}");
            continue;
        }
        assert_eq!(code, 3, "{name}: {err}");
        let line = error_line(&err);
        for n in needles {
            assert!(line.contains(n), "{name}: {line:?} lacks {n:?}");
        }
    }
}

#[test]
fn a_bad_line_among_good_ones_is_reported_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(gh_dir().join("sigstore-js-2.1.0-bundle.json")).unwrap();
    let compact: serde_json::Value = serde_json::from_str(&good).unwrap();
    let path = dir.path().join("mixed.jsonl");
    std::fs::write(&path, format!("{{\"mediaType\": 3}}\n\n{compact}\n")).unwrap();
    let (code, _out, err) = run(attest()
        .current_dir(gh_dir())
        .env("GH_FORCE_TTY", "1")
        .args([
            "verify", ARTIFACT, "-d", "sha512", "--owner", "sigstore", "--bundle",
        ])
        .arg(&path));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 other attestation did not match"), "{err}");
    assert!(
        err.contains("mixed.jsonl:1") && err.contains("mediaType"),
        "{err}"
    );
}

#[test]
fn directories_fifos_and_missing_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = verify_with_bundle(dir.path());
    assert_eq!(code, 3);
    assert!(error_line(&err).contains("a directory"), "{err}");

    let fifo = dir.path().join("fifo.json");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let (code, err) = verify_with_bundle(&fifo);
    assert_eq!(code, 3);
    assert!(error_line(&err).contains("a FIFO"), "{err}");

    let (code, err) = verify_with_bundle(&dir.path().join("missing.json"));
    assert_eq!(code, 3);
    assert!(error_line(&err).contains("missing.json"), "{err}");

    // The artifact, too.
    let (code, _o, err) = run(attest()
        .current_dir(gh_dir())
        .args([
            "verify",
            "--owner",
            "sigstore",
            "--bundle",
            "sigstore-js-2.1.0-bundle.json",
        ])
        .arg(&fifo));
    assert_eq!(code, 3);
    assert!(error_line(&err).contains("a FIFO"), "{err}");
}

#[test]
fn a_100_mb_bundle_gets_a_size_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.json");
    let mut text = String::with_capacity(100 * 1024 * 1024 + 64);
    text.push_str("{\"mediaType\":\"");
    text.push_str(&"A".repeat(100 * 1024 * 1024));
    text.push_str("\"}");
    std::fs::write(&path, text).unwrap();
    let (code, err) = verify_with_bundle(&path);
    assert_eq!(code, 3, "{err}");
    assert!(
        error_line(&err).contains("huge.json:1") && error_line(&err).contains("limit"),
        "{err}"
    );
}

#[test]
fn malformed_trusted_roots_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root.jsonl");
    std::fs::write(&root, "{\"mediaType\":\"x\",\"tlogs\":5}\n").unwrap();
    let (code, _o, err) = run(attest()
        .current_dir(gh_dir())
        .args([
            "verify",
            ARTIFACT,
            "--owner",
            "sigstore",
            "--bundle",
            "sigstore-js-2.1.0-bundle.json",
            "--custom-trusted-root",
        ])
        .arg(&root));
    assert_eq!(code, 3);
    assert!(
        error_line(&err).contains("root.jsonl:1") && error_line(&err).contains("tlogs"),
        "{err}"
    );

    for args in [
        vec!["verify", ARTIFACT, "--bundle", "x.json"],
        vec![
            "verify", ARTIFACT, "--owner", "a", "--repo", "a/b", "--bundle", "x.json",
        ],
        vec!["verify", ARTIFACT, "--repo", "a/b/c", "--bundle", "x.json"],
        vec![
            "verify",
            ARTIFACT,
            "--owner",
            "a",
            "--cert-identity",
            "x",
            "--signer-repo",
            "a/b",
            "--bundle",
            "x.json",
        ],
        vec![
            "verify", ARTIFACT, "--owner", "a", "-i", "(", "--bundle", "x.json",
        ],
        vec![
            "verify", ARTIFACT, "--owner", "a", "--limit", "0", "--bundle", "x.json",
        ],
        vec!["verify", "sha256:abc", "--owner", "a", "--bundle", "x.json"],
        vec![
            "verify",
            ARTIFACT,
            "--owner",
            "a",
            "--predicate-type",
            "",
            "--bundle",
            "x.json",
        ],
    ] {
        let (code, _o, err) = run(attest().current_dir(gh_dir()).args(&args));
        assert_eq!(code, 2, "{args:?}: {err}");
    }
}

/// In a release, a bundle that could not be read is listed with the place
/// its error names, never as an origin of its own that is blank (`(:0)`),
/// whether the bundle file is read as a stream (text) or whole (JSON).
#[test]
fn an_unreadable_bundle_in_a_release_is_listed_where_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let digest = attest::artifact::digest_file(
        &gh_dir().join(ARTIFACT),
        attest::artifact::DigestAlgorithm::Sha512,
    )
    .unwrap();
    let manifest = dir.path().join("SHA512SUMS");
    std::fs::write(&manifest, format!("{}  {ARTIFACT}\n", digest.hex())).unwrap();
    let good = std::fs::read_to_string(gh_dir().join("sigstore-js-2.1.0-bundle.json")).unwrap();
    let compact: serde_json::Value = serde_json::from_str(&good).unwrap();
    // The name carries an escape sequence: it must reach the terminal
    // escaped, like every name.
    let bundles = dir.path().join("mixed\u{1b}[2J.jsonl");
    std::fs::write(&bundles, format!("[1, 2, 3]\n{compact}\n")).unwrap();
    for format in [&[][..], &["--format", "json"][..]] {
        let (code, _out, err) = run(attest()
            .args(["-v", "verify", "--owner", "sigstore", "--manifest"])
            .arg(&manifest)
            .arg("--dir")
            .arg(gh_dir())
            .arg("--bundle")
            .arg(&bundles)
            .args(format));
        assert_eq!(code, 0, "{format:?}: {err}");
        let listed = err
            .lines()
            .find(|l| l.contains("attestation #1"))
            .unwrap_or_else(|| panic!("{format:?}: no attestation #1 in {err}"));
        assert!(
            listed.starts_with("  - attestation #1: ")
                && listed.contains(
                    "mixed\\x1b[2J.jsonl:1: not a Sigstore bundle: expected a JSON object"
                ),
            "{format:?}: {listed:?}"
        );
        assert!(!err.contains(":0"), "{format:?}: {err}");
        assert!(!err.contains('\u{1b}'), "{format:?}: {err:?}");
    }
}
