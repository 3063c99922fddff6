//! Release verification: `attest verify FILE...` and `attest verify
//! --manifest`, against bundles from the test Sigstore (`attest-testsign`)
//! under a throwaway trusted root written to a temporary directory.
//!
//! Every run passes `--custom-trusted-root` and `--bundle`, so nothing
//! reaches the network. Each failure case checks that the failing artifact
//! gets its own `FAILED` line with the reason, that every other artifact is
//! still reported, and the run's exit code.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use attest_testsign::{
    provenance_predicate, sha256_hex, statement, FulcioClaims, TestSigstore, TestSigstoreConfig,
    SLSA_PROVENANCE_V1,
};
use common::{attest, run};
use serde_json::Value;

const REPO: &str = "octo-org/octo-repo";
const SIGNER: &str = "signed by octo-org/octo-repo .github/workflows/release.yml@refs/heads/main";

const WHEEL: &str = "pkg-1.0.0-py3-none-any.whl";
const NATIVE: &str = "pkg-1.0.0-cp312-cp312-manylinux_2_17_x86_64.whl";
const SDIST: &str = "pkg-1.0.0.tar.gz";

/// The release, in `sha256sum | sort -k 2` (byte) order.
const FILES: [(&str, &[u8]); 3] = [
    (NATIVE, b"native wheel bytes\n"),
    (WHEEL, b"pure wheel bytes\n"),
    (SDIST, b"sdist bytes\n"),
];

/// A release directory (`dist/`), a test Sigstore and its trusted root.
struct Release {
    tmp: tempfile::TempDir,
    sigstore: TestSigstore,
}

impl Release {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("dist")).unwrap();
        let sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
        std::fs::write(
            tmp.path().join("trusted_root.jsonl"),
            format!("{}\n", sigstore.trusted_root_json()),
        )
        .unwrap();
        let r = Self { tmp, sigstore };
        for (name, data) in FILES {
            r.add_file(name, data);
        }
        r
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    fn dist(&self) -> PathBuf {
        self.path("dist")
    }

    /// Write `dist/NAME`.
    fn add_file(&self, name: &str, data: &[u8]) {
        std::fs::write(self.dist().join(name), data).unwrap();
    }

    /// A bundle whose statement lists every `(name, content)` as a subject,
    /// signed with the default claims (`octo-org/octo-repo`).
    fn sign(&mut self, files: &[(&str, &[u8])]) -> Value {
        self.sign_with(files, &FulcioClaims::default())
    }

    fn sign_with(&mut self, files: &[(&str, &[u8])], claims: &FulcioClaims) -> Value {
        sign_in(&mut self.sigstore, files, claims)
    }

    /// Write bundles as JSON Lines at `REL` and return the path.
    fn bundles(&self, rel: &str, bundles: &[&Value]) -> PathBuf {
        let path = self.path(rel);
        let text: String = bundles.iter().map(|b| format!("{b}\n")).collect();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `attest verify --custom-trusted-root ROOT`, run from `dist/`, no policy yet.
    fn verify_no_policy(&self) -> Command {
        let mut c = attest();
        c.current_dir(self.dist())
            .arg("verify")
            .arg("--custom-trusted-root")
            .arg(self.path("trusted_root.jsonl"));
        c
    }

    /// `attest verify --custom-trusted-root ROOT --repo octo-org/octo-repo`.
    fn verify(&self) -> Command {
        let mut c = self.verify_no_policy();
        c.args(["--repo", REPO]);
        c
    }

    /// `verify` of the three release files, with each of `bundles`.
    fn verify_three<P: AsRef<std::ffi::OsStr>>(&self, bundles: &[P]) -> Command {
        let mut c = self.verify();
        c.args([NATIVE, WHEEL, SDIST]);
        for b in bundles {
            c.arg("--bundle").arg(b);
        }
        c
    }

    /// `attest digest -o OUT NAMES...` run in `dist/`.
    fn digest_manifest(&self, out: &Path, names: &[&str]) -> String {
        let (code, _, err) = run(attest()
            .current_dir(self.dist())
            .args(["digest", "-o"])
            .arg(out)
            .args(names));
        assert_eq!(code, 0, "attest digest: {err}");
        std::fs::read_to_string(out).unwrap()
    }
}

fn sign_in(sigstore: &mut TestSigstore, files: &[(&str, &[u8])], claims: &FulcioClaims) -> Value {
    let hexes: Vec<String> = files.iter().map(|(_, d)| sha256_hex(d)).collect();
    let subjects: Vec<(&str, &str, &str)> = files
        .iter()
        .zip(&hexes)
        .map(|((n, _), h)| (*n, "sha256", h.as_str()))
        .collect();
    let st = statement(&subjects, SLSA_PROVENANCE_V1, provenance_predicate(claims));
    let opts = sigstore.default_sign_options();
    sigstore.sign_statement(&st, claims, &opts)
}

fn digest_of(data: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(data))
}

/// The stdout line reporting `name` (`OK     name  …` or `FAILED name  …`).
#[track_caller]
fn line_for<'a>(stdout: &'a str, name: &str) -> &'a str {
    let found: Vec<&str> = stdout
        .lines()
        .filter(|l| {
            l.get(7..)
                .and_then(|rest| rest.strip_prefix(name))
                .is_some_and(|after| after.starts_with("  "))
        })
        .collect();
    assert_eq!(found.len(), 1, "one line for {name:?} in:\n{stdout}");
    found[0]
}

#[track_caller]
fn assert_ok(stdout: &str, name: &str) {
    let line = line_for(stdout, name);
    assert!(line.starts_with("OK     "), "{name} should be OK: {line}");
}

#[track_caller]
fn assert_failed(stdout: &str, name: &str, needle: &str) {
    let line = line_for(stdout, name);
    assert!(line.starts_with("FAILED "), "{name} should fail: {line}");
    assert!(
        line.contains(needle),
        "{name}: expected {needle:?} in {line:?}"
    );
}

/// Run, and fail (killing the child by its pid) if it does not finish in
/// two minutes: a FIFO opened for reading would block forever.
fn run_bounded(cmd: &mut Command) -> (i32, String, String) {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn attest");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(out) => {
            let out = out.expect("wait for attest");
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        }
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("attest did not finish within 120 s (blocked on a FIFO?)");
        }
    }
}

fn json_array(stdout: &str) -> Vec<Value> {
    match serde_json::from_str(stdout) {
        Ok(Value::Array(a)) => a,
        other => panic!("expected a JSON array, got {other:?} from {stdout}"),
    }
}

fn by_name<'a>(items: &'a [Value], name: &str) -> &'a Value {
    items
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no JSON object for {name:?}"))
}

/// A copy of `cmd` (program, arguments, environment, directory) that runs,
/// when `setpriv` is given, without CAP_DAC_OVERRIDE and
/// CAP_DAC_READ_SEARCH: file permissions then bind root as they bind anyone.
fn without_dac_override(cmd: &mut Command, setpriv: Option<&std::path::Path>) -> Command {
    let mut copy = match setpriv {
        Some(setpriv) => {
            let mut c = Command::new(setpriv);
            c.args(["--bounding-set", "-dac_override,-dac_read_search", "--"])
                .arg(cmd.get_program());
            c
        }
        None => Command::new(cmd.get_program()),
    };
    copy.args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(v) => copy.env(key, v),
            None => copy.env_remove(key),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        copy.current_dir(dir);
    }
    copy
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(true)
}

// ---------------------------------------------------------------------------
// Verified releases
// ---------------------------------------------------------------------------

#[test]
fn one_multi_subject_attestation_verifies_every_file_on_the_command_line() {
    let mut r = Release::new();
    let b = r.sign(&FILES);
    let bundle = r.bundles("attestation.jsonl", &[&b]);

    let (code, out, err) = run(r
        .verify()
        .args([WHEEL, SDIST, NATIVE])
        .arg("--bundle")
        .arg(&bundle));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.lines().count(), 3, "{out}");
    for (name, data) in FILES {
        assert_ok(&out, name);
        let line = line_for(&out, name);
        assert!(line.contains("1 attestation, "), "{line}");
        assert!(line.contains(SIGNER), "{line}");
        assert!(line.contains(&digest_of(data)[..19]), "{line}");
    }
    // Input order is kept.
    let order: Vec<&str> = out.lines().map(|l| &l[7..]).collect();
    assert!(
        order[0].starts_with(WHEEL) && order[1].starts_with(SDIST),
        "{out}"
    );
    assert!(
        err.contains("3 of 3 artifacts verified; 1 distinct bundle verified, 1 attestation matched the policy"),
        "{err}"
    );

    // Digests on the command line mix with files.
    let (code, out, err) = run(r
        .verify()
        .arg(WHEEL)
        .arg(digest_of(FILES[0].1))
        .arg(digest_of(FILES[2].1))
        .arg("--bundle")
        .arg(&bundle));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(out.lines().all(|l| l.starts_with("OK     ")), "{out}");
}

#[test]
fn manifest_from_attest_digest_verifies_in_place_with_dir_and_digests_only() {
    let mut r = Release::new();
    let b = r.sign(&FILES);
    let bundle = r.bundles("attestation.jsonl", &[&b]);
    let names: Vec<&str> = FILES.iter().map(|(n, _)| *n).collect();

    // The manifest beside the files: no --dir needed.
    let in_dist = r.dist().join("release-artifact-digests.txt");
    let text = r.digest_manifest(&in_dist, &names);
    assert_eq!(text.lines().count(), 3);
    let (code, out, err) = run(r
        .verify()
        .arg("--manifest")
        .arg(&in_dist)
        .arg("--bundle")
        .arg(&bundle));
    assert_eq!(code, 0, "{out}{err}");
    for (name, _) in FILES {
        assert_ok(&out, name);
    }
    assert!(err.contains("3 of 3 artifacts verified"), "{err}");

    // The manifest elsewhere, the files in --dir (run from another directory).
    std::fs::create_dir(r.path("meta")).unwrap();
    let elsewhere = r.path("meta/release-artifact-digests.txt");
    std::fs::write(&elsewhere, &text).unwrap();
    let (code, out, err) = run(r
        .verify()
        .current_dir(r.path("meta"))
        .arg("--manifest")
        .arg(&elsewhere)
        .arg("--dir")
        .arg(r.dist())
        .arg("--bundle")
        .arg(&bundle));
    assert_eq!(code, 0, "{out}{err}");
    for (name, _) in FILES {
        assert_ok(&out, name);
    }

    // Without --dir the files are looked for beside the manifest: not there.
    let (code, out, err) = run(r
        .verify()
        .arg("--manifest")
        .arg(&elsewhere)
        .arg("--bundle")
        .arg(&bundle));
    assert_eq!(code, 3, "{out}{err}");
    for (name, _) in FILES {
        assert_failed(&out, name, "No such file or directory");
    }

    // --digests-only: the listed digests alone, no file present.
    let (code, out, err) = run(r
        .verify()
        .arg("--manifest")
        .arg(&elsewhere)
        .arg("--digests-only")
        .arg("--bundle")
        .arg(&bundle)
        .args(["--format", "json"]));
    assert_eq!(code, 0, "{out}{err}");
    let items = json_array(&out);
    assert_eq!(items.len(), 3);
    for (name, data) in FILES {
        let v = by_name(&items, name);
        assert_eq!(v["verified"], true, "{v}");
        assert_eq!(v["digest"], digest_of(data));
        assert_eq!(v["listedDigest"], digest_of(data));
    }
}

#[test]
fn per_artifact_bundles_in_one_jsonl_each_verified_once() {
    let mut r = Release::new();
    let per: Vec<Value> = FILES.iter().map(|f| r.sign(&[*f])).collect();
    let all = r.bundles("all.jsonl", &per.iter().collect::<Vec<_>>());

    let (code, out, err) = run(&mut r.verify_three(&[&all]));
    assert_eq!(code, 0, "{out}{err}");
    for (name, _) in FILES {
        assert_ok(&out, name);
        assert!(line_for(&out, name).contains("1 attestation, "), "{out}");
    }
    assert!(
        err.contains("3 of 3 artifacts verified; 3 distinct bundles verified, 3 attestations matched the policy"),
        "{err}"
    );

    // Two of the three files: the third bundle covers neither and is not verified.
    let (code, out, err) = run(r.verify().args([WHEEL, SDIST]).arg("--bundle").arg(&all));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("2 of 2 artifacts verified; 2 distinct bundles verified, 2 attestations matched the policy"),
        "{err}"
    );

    // The same bundles split over two --bundle files.
    let first = r.bundles("first.jsonl", &[&per[0]]);
    let rest = r.bundles("rest.jsonl", &[&per[1], &per[2]]);
    let (code, out, err) = run(&mut r.verify_three(&[&first, &rest]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("3 distinct bundles verified"), "{err}");
}

#[test]
fn the_same_bundle_listed_twice_is_verified_once() {
    let mut r = Release::new();
    let b = r.sign(&FILES);
    let twice = r.bundles("twice.jsonl", &[&b, &b]);

    let (code, out, err) = run(&mut r.verify_three(&[&twice]));
    assert_eq!(code, 0, "{out}{err}");
    for (name, _) in FILES {
        assert_ok(&out, name);
        assert!(line_for(&out, name).contains("2 attestations, "), "{out}");
    }
    assert!(
        err.contains("3 of 3 artifacts verified; 1 distinct bundle verified, 2 attestations matched the policy"),
        "{err}"
    );

    // JSON: both copies are listed for every artifact, both matched.
    let (code, out, err) = run(r.verify_three(&[&twice]).args(["--format", "json"]));
    assert_eq!(code, 0, "{err}");
    for item in json_array(&out) {
        let atts = item["attestations"].as_array().unwrap();
        assert_eq!(atts.len(), 2, "{item}");
        assert!(atts.iter().all(|a| a["result"] == "matched"), "{item}");
        let sources: Vec<&str> = atts.iter().map(|a| a["source"].as_str().unwrap()).collect();
        assert!(sources[0].ends_with("twice.jsonl:1"), "{sources:?}");
        assert!(sources[1].ends_with("twice.jsonl:2"), "{sources:?}");
    }

    // The same bundle in two files, once compact and once pretty-printed.
    let compact = r.bundles("a.json", &[&b]);
    let pretty = r.path("b.json");
    std::fs::write(&pretty, serde_json::to_string_pretty(&b).unwrap()).unwrap();
    let (code, out, err) = run(&mut r.verify_three(&[&compact, &pretty]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("1 distinct bundle verified, 2 attestations matched the policy"),
        "{err}"
    );
}

#[test]
fn json_output_has_one_object_per_artifact_with_every_check() {
    let mut r = Release::new();
    let b = r.sign(&FILES);
    let bundle = r.bundles("attestation.jsonl", &[&b]);
    let manifest = r.dist().join("release-artifact-digests.txt");
    r.digest_manifest(&manifest, &[WHEEL, SDIST, NATIVE]);

    let (code, out, err) = run(r
        .verify()
        .arg("--manifest")
        .arg(&manifest)
        .arg("--bundle")
        .arg(&bundle)
        .args(["--format", "json"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1, "compact JSON when piped");
    let items = json_array(&out);
    // Manifest order (sorted by name).
    let names: Vec<&str> = items.iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec![NATIVE, WHEEL, SDIST]);

    for (name, data) in FILES {
        let v = by_name(&items, name);
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            vec![
                "attestations",
                "digest",
                "error",
                "exitCode",
                "listedDigest",
                "name",
                "verified"
            ]
        );
        assert_eq!(v["digest"], digest_of(data));
        assert_eq!(v["listedDigest"], digest_of(data));
        assert_eq!(v["verified"], true);
        assert_eq!(v["exitCode"], 0);
        assert_eq!(v["error"], Value::Null);

        let atts = v["attestations"].as_array().unwrap();
        assert_eq!(atts.len(), 1);
        let a = &atts[0];
        assert!(
            a["source"]
                .as_str()
                .unwrap()
                .ends_with("attestation.jsonl:1"),
            "{a}"
        );
        assert_eq!(a["result"], "matched");
        assert_eq!(a["reason"], Value::Null);

        let checks = a["checks"].as_array().unwrap();
        let check = |n: &str| {
            checks
                .iter()
                .find(|c| c["check"] == n)
                .unwrap_or_else(|| panic!("no {n:?} check in {checks:?}"))
        };
        // Cryptographic checks of a public-good bundle: all applied and passed.
        for n in [
            "RFC 3161 timestamp",
            "SET",
            "certificate chain",
            "certificate validity",
            "SCT",
            "inclusion proof",
            "checkpoint",
            "signature",
            "subject digest",
        ] {
            assert_eq!(check(n)["passed"], true, "{n}");
        }
        // Policy checks carry what was expected and what the certificate says.
        let repo = check("SourceRepositoryURI");
        assert_eq!(repo["passed"], true);
        assert_eq!(repo["expected"], "https://github.com/octo-org/octo-repo");
        assert_eq!(repo["actual"], "https://github.com/octo-org/octo-repo");
        let san = check("SubjectAlternativeName");
        assert_eq!(san["passed"], true);
        assert!(san["expected"]
            .as_str()
            .unwrap()
            .contains("octo-org/octo-repo"));
        assert_eq!(
            san["actual"],
            "https://github.com/octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main"
        );
        let issuer = check("Issuer");
        assert_eq!(
            issuer["expected"],
            "https://token.actions.githubusercontent.com"
        );
        assert_eq!(
            issuer["actual"],
            "https://token.actions.githubusercontent.com"
        );
        // Every policy check has both values; every crypto check has neither.
        for c in checks {
            let policy = c.get("expected").is_some();
            assert_eq!(policy, c.get("actual").is_some(), "{c}");
        }

        let vr = &a["verificationResult"];
        assert_eq!(vr["trustedRoot"]["source"], "custom", "{vr}");
        let subjects = vr["statement"]["subject"].as_array().unwrap();
        assert_eq!(subjects.len(), 3);
        assert_eq!(
            vr["signature"]["certificate"]["sourceRepositoryURI"],
            "https://github.com/octo-org/octo-repo"
        );
    }
}

// ---------------------------------------------------------------------------
// Failures: each on its own line, every other artifact still reported
// ---------------------------------------------------------------------------

#[test]
fn unreadable_entries_fail_on_their_own_lines_and_the_rest_verify() {
    let mut r = Release::new();
    let b = r.sign(&FILES);
    let bundle = r.bundles("attestation.jsonl", &[&b]);
    let manifest = r.dist().join("release-artifact-digests.txt");
    let mut text = r.digest_manifest(&manifest, &[NATIVE, WHEEL, SDIST]);

    let dist = r.dist();
    std::fs::create_dir(dist.join("subdir.whl")).unwrap();
    let fifo = dist.join("fifo-1.0.0.tar.gz");
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success(), "mkfifo");
    std::os::unix::fs::symlink("loop-1.0.0.whl", dist.join("loop-1.0.0.whl")).unwrap();
    std::os::unix::fs::symlink("ping.whl", dist.join("pong.whl")).unwrap();
    std::os::unix::fs::symlink("pong.whl", dist.join("ping.whl")).unwrap();
    std::os::unix::fs::symlink("nowhere", dist.join("dangling.whl")).unwrap();

    let mut bad: Vec<(&str, &str)> = vec![
        ("missing-1.0.0.whl", "No such file or directory"),
        ("subdir.whl", "not a regular file (a directory)"),
        ("fifo-1.0.0.tar.gz", "not a regular file (a FIFO)"),
        ("loop-1.0.0.whl", "symbolic links"),
        ("ping.whl", "symbolic links"),
        ("dangling.whl", "No such file or directory"),
    ];
    // Root reads a mode-000 file anyway; run attest without the
    // capabilities that allow it, so the case holds for root too.
    let setpriv = if is_root() {
        common::require_tool("setpriv")
    } else {
        None
    };
    if !is_root() || setpriv.is_some() {
        use std::os::unix::fs::PermissionsExt;
        let locked = dist.join("locked.whl");
        std::fs::write(&locked, b"secret").unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        bad.push(("locked.whl", "Permission denied"));
    }
    let unprivileged = |cmd: &mut Command| without_dac_override(cmd, setpriv.as_deref());
    for (name, _) in &bad {
        text.push_str(&format!("{}  {name}\n", sha256_hex(name.as_bytes())));
    }
    std::fs::write(&manifest, &text).unwrap();

    let (code, out, err) = run_bounded(&mut unprivileged(
        r.verify()
            .arg("--manifest")
            .arg(&manifest)
            .arg("--bundle")
            .arg(&bundle),
    ));
    assert_eq!(code, 3, "{out}{err}");
    assert_eq!(out.lines().count(), 3 + bad.len(), "{out}");
    for (name, _) in FILES {
        assert_ok(&out, name);
    }
    for (name, why) in &bad {
        assert_failed(&out, name, why);
    }
    assert!(
        err.contains(&format!(
            "3 of {} artifacts verified, {} failed",
            3 + bad.len(),
            bad.len()
        )),
        "{err}"
    );

    // The same entries given on the command line.
    let mut args: Vec<&str> = vec![WHEEL];
    args.extend(bad.iter().map(|(n, _)| *n));
    let (code, out, err) = run_bounded(&mut unprivileged(
        r.verify().args(&args).arg("--bundle").arg(&bundle),
    ));
    assert_eq!(code, 3, "{out}{err}");
    assert_ok(&out, WHEEL);
    for (name, why) in &bad {
        assert_failed(&out, name, why);
    }
}

#[test]
fn a_tampered_file_fails_with_exit_6() {
    let mut r = Release::new();
    let b = r.sign(&FILES);
    let bundle = r.bundles("attestation.jsonl", &[&b]);
    let manifest = r.dist().join("release-artifact-digests.txt");
    r.digest_manifest(&manifest, &[NATIVE, WHEEL, SDIST]);
    r.add_file(SDIST, b"sdist bytes, tampered\n");

    let (code, out, err) = run(r
        .verify()
        .arg("--manifest")
        .arg(&manifest)
        .arg("--bundle")
        .arg(&bundle)
        .args(["--format", "json"]));
    assert_eq!(code, 6, "{out}{err}");
    let items = json_array(&out);
    assert_eq!(items.len(), 3);
    let t = by_name(&items, SDIST);
    assert_eq!(t["verified"], false);
    assert_eq!(t["exitCode"], 6);
    assert_eq!(t["digest"], digest_of(b"sdist bytes, tampered\n"));
    assert_eq!(t["listedDigest"], digest_of(FILES[2].1));
    let expected = format!(
        "the file's digest {} does not match the manifest's {}",
        digest_of(b"sdist bytes, tampered\n"),
        digest_of(FILES[2].1)
    );
    assert_eq!(t["error"], expected.as_str());
    for name in [NATIVE, WHEEL] {
        assert_eq!(by_name(&items, name)["verified"], true);
    }

    let (code, out, err) = run(r
        .verify()
        .arg("--manifest")
        .arg(&manifest)
        .arg("--bundle")
        .arg(&bundle));
    assert_eq!(code, 6, "{out}{err}");
    assert_failed(&out, SDIST, &expected);
    assert_ok(&out, NATIVE);
    assert_ok(&out, WHEEL);
    assert!(err.contains("2 of 3 artifacts verified, 1 failed"), "{err}");
}

#[test]
fn duplicate_names_exit_3_with_line_numbers() {
    let mut r = Release::new();
    let b = r.sign(&FILES);
    let bundle = r.bundles("attestation.jsonl", &[&b]);
    let manifest = r.dist().join("release-artifact-digests.txt");
    let mut text = r.digest_manifest(&manifest, &[NATIVE, WHEEL, SDIST]);
    // Line 4 repeats line 2 exactly; line 5 lists line 3's name with another digest.
    text.push_str(&format!("{}  {WHEEL}\n", sha256_hex(FILES[1].1)));
    text.push_str(&format!("{}  {SDIST}\n", sha256_hex(b"other")));
    std::fs::write(&manifest, &text).unwrap();

    let (code, out, err) = run(r
        .verify()
        .arg("--manifest")
        .arg(&manifest)
        .arg("--bundle")
        .arg(&bundle));
    assert_eq!(code, 3, "{out}{err}");
    // Each name is reported once, from its first line.
    assert_eq!(out.lines().count(), 3, "{out}");
    for (name, _) in FILES {
        assert_ok(&out, name);
    }
    assert!(
        err.contains(&format!(
            "line 4: {WHEEL:?} is listed again (first on line 2)"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "line 5: {SDIST:?} is listed again (first on line 3)"
        )),
        "{err}"
    );
    assert!(err.contains("the manifest has 2 problems"), "{err}");
}

#[test]
fn malformed_digests_are_reported_with_line_numbers() {
    let mut r = Release::new();
    let b = r.sign(&FILES);
    let bundle = r.bundles("attestation.jsonl", &[&b]);
    let manifest = r.dist().join("release-artifact-digests.txt");
    let mut text = r.digest_manifest(&manifest, &[NATIVE, WHEEL, SDIST]);
    let good = sha256_hex(b"x");
    // Line 4: not hex at all; line 5: 60 hex digits; line 6: a 'g' inside;
    // line 7: 66 hex digits.
    text.push_str(&format!("zz{}  nothex.whl\n", &good[2..]));
    text.push_str(&format!("{}  short.whl\n", &good[..60]));
    text.push_str(&format!("{}g{}  mid.whl\n", &good[..31], &good[32..]));
    text.push_str(&format!("{good}ab  long.whl\n"));
    std::fs::write(&manifest, &text).unwrap();

    let (code, out, err) = run(r
        .verify()
        .arg("--manifest")
        .arg(&manifest)
        .arg("--bundle")
        .arg(&bundle));
    assert_eq!(code, 3, "{out}{err}");
    assert_eq!(out.lines().count(), 3, "{out}");
    for (name, _) in FILES {
        assert_ok(&out, name);
    }
    for needle in [
        "line 4: expected a hex digest at the start of the line",
        "line 5: the digest has 60 hex digits; expected 64 (sha256) or 128 (sha512)",
        "line 6: the digest contains a non-hex character 'g'",
        "line 7: the digest has 66 hex digits",
    ] {
        assert!(err.contains(needle), "{needle:?} in:\n{err}");
    }
    assert!(err.contains("the manifest has 4 problems"), "{err}");

    // A manifest with no usable line at all is unreadable.
    std::fs::write(&manifest, "not a manifest\n").unwrap();
    let (code, out, err) = run(r
        .verify()
        .arg("--manifest")
        .arg(&manifest)
        .arg("--bundle")
        .arg(&bundle));
    assert_eq!(code, 3, "{out}{err}");
    assert!(err.contains("line 1:"), "{err}");
    assert!(err.contains("no properly formatted digest lines"), "{err}");
}

#[test]
fn crlf_line_endings_and_names_with_spaces_are_accepted() {
    let mut r = Release::new();
    let spaced: [(&str, &[u8]); 2] = [
        ("pkg docs 1.0.0.tar.gz", b"docs with spaces\n"),
        ("two  spaces.whl", b"two spaces\n"),
    ];
    for (name, data) in spaced {
        r.add_file(name, data);
    }
    let mut all: Vec<(&str, &[u8])> = FILES.to_vec();
    all.extend(spaced);
    let b = r.sign(&all);
    let bundle = r.bundles("attestation.jsonl", &[&b]);
    let names: Vec<&str> = all.iter().map(|(n, _)| *n).collect();
    let manifest = r.dist().join("release-artifact-digests.txt");
    let text = r.digest_manifest(&manifest, &names);
    assert!(text.contains("  pkg docs 1.0.0.tar.gz\n"), "{text}");

    for (label, body) in [("LF", text.clone()), ("CRLF", text.replace('\n', "\r\n"))] {
        std::fs::write(&manifest, &body).unwrap();
        let (code, out, err) = run(r
            .verify()
            .arg("--manifest")
            .arg(&manifest)
            .arg("--bundle")
            .arg(&bundle));
        assert_eq!(code, 0, "{label}: {out}{err}");
        assert!(!out.contains('\r'), "{label}: {out:?}");
        assert_eq!(out.lines().count(), all.len(), "{label}: {out}");
        for (name, _) in &all {
            assert_ok(&out, name);
        }

        let (code, out, _) = run(r
            .verify()
            .arg("--manifest")
            .arg(&manifest)
            .arg("--bundle")
            .arg(&bundle)
            .args(["--format", "json"]));
        assert_eq!(code, 0, "{label}");
        let items = json_array(&out);
        for (name, data) in &all {
            assert_eq!(by_name(&items, name)["digest"], digest_of(data), "{label}");
        }
    }
}

#[test]
fn unsafe_names_are_refused_and_not_read() {
    let mut r = Release::new();
    // A file outside the release directory that the bundle does cover: had
    // attest read it, it would verify.
    let outside: &[u8] = b"outside the release directory\n";
    std::fs::write(r.path("outside.whl"), outside).unwrap();
    std::fs::create_dir(r.dist().join("sub")).unwrap();
    let mut covered: Vec<(&str, &[u8])> = FILES.to_vec();
    covered.push(("outside.whl", outside));
    let b = r.sign(&covered);
    let bundle = r.bundles("attestation.jsonl", &[&b]);
    let manifest = r.dist().join("release-artifact-digests.txt");
    let mut text = r.digest_manifest(&manifest, &[NATIVE, WHEEL, SDIST]);
    let absolute = r.path("outside.whl").display().to_string();
    let unsafe_names = [
        (
            "../outside.whl",
            "a `..` path component would leave the release directory",
        ),
        ("sub/../../outside.whl", "a `..` path component"),
        (absolute.as_str(), "an absolute path"),
    ];
    for (name, _) in &unsafe_names {
        text.push_str(&format!("{}  {name}\n", sha256_hex(outside)));
    }
    std::fs::write(&manifest, &text).unwrap();

    let (code, out, err) = run(r
        .verify()
        .arg("--manifest")
        .arg(&manifest)
        .arg("--bundle")
        .arg(&bundle));
    assert_eq!(code, 3, "{out}{err}");
    assert_eq!(out.lines().count(), 6, "{out}");
    for (name, _) in FILES {
        assert_ok(&out, name);
    }
    for (i, (name, why)) in unsafe_names.iter().enumerate() {
        assert_failed(&out, name, &format!("line {}: unsafe name: {why}", 4 + i));
    }

    // Not read: no digest was computed for them.
    let (code, out, _) = run(r
        .verify()
        .arg("--manifest")
        .arg(&manifest)
        .arg("--bundle")
        .arg(&bundle)
        .args(["--format", "json"]));
    assert_eq!(code, 3);
    let items = json_array(&out);
    for (name, _) in &unsafe_names {
        let v = by_name(&items, name);
        assert_eq!(v["digest"], Value::Null, "{v}");
        assert_eq!(v["listedDigest"], digest_of(outside));
        assert_eq!(v["exitCode"], 3);
        assert_eq!(v["attestations"], serde_json::json!([]));
    }
}

#[test]
fn an_artifact_no_attestation_covers_exits_5() {
    let mut r = Release::new();
    let b = r.sign(&FILES);
    let bundle = r.bundles("attestation.jsonl", &[&b]);
    let extra: &[u8] = b"not attested\n";
    r.add_file("extra-1.0.0.tar.gz", extra);
    let manifest = r.dist().join("release-artifact-digests.txt");
    r.digest_manifest(&manifest, &[NATIVE, WHEEL, SDIST, "extra-1.0.0.tar.gz"]);
    let why = format!("no attestation lists {} as a subject", digest_of(extra));

    let (code, out, err) = run(r
        .verify()
        .arg("--manifest")
        .arg(&manifest)
        .arg("--bundle")
        .arg(&bundle));
    assert_eq!(code, 5, "{out}{err}");
    assert_failed(&out, "extra-1.0.0.tar.gz", &why);
    for (name, _) in FILES {
        assert_ok(&out, name);
    }
    assert!(err.contains("3 of 4 artifacts verified, 1 failed"), "{err}");

    let (code, out, err) = run(r
        .verify()
        .args([WHEEL, "extra-1.0.0.tar.gz"])
        .arg("--bundle")
        .arg(&bundle));
    assert_eq!(code, 5, "{out}{err}");
    assert_failed(&out, "extra-1.0.0.tar.gz", &why);
    assert_ok(&out, WHEEL);
}

#[test]
fn a_policy_mismatch_exits_7() {
    let mut r = Release::new();
    let b = r.sign(&FILES);
    let bundle = r.bundles("attestation.jsonl", &[&b]);

    let (code, out, err) = run(r
        .verify_no_policy()
        .args(["--repo", "octo-org/other"])
        .args([NATIVE, WHEEL, SDIST])
        .arg("--bundle")
        .arg(&bundle));
    assert_eq!(code, 7, "{out}{err}");
    assert_eq!(out.lines().count(), 3, "{out}");
    for (name, _) in FILES {
        assert_failed(
            &out,
            name,
            "expected SourceRepositoryURI to be https://github.com/octo-org/other, got https://github.com/octo-org/octo-repo",
        );
    }
    assert!(
        err.contains("0 of 3 artifacts verified, 3 failed; 1 distinct bundle verified, 0 attestations matched the policy"),
        "{err}"
    );

    let (code, out, _) = run(r
        .verify_no_policy()
        .args(["--repo", "octo-org/other"])
        .args([NATIVE, WHEEL, SDIST])
        .arg("--bundle")
        .arg(&bundle)
        .args(["--format", "json"]));
    assert_eq!(code, 7);
    for item in json_array(&out) {
        assert_eq!(item["verified"], false);
        assert_eq!(item["exitCode"], 7);
        let a = &item["attestations"][0];
        assert_eq!(a["result"], "policy-mismatch");
        assert!(a["reason"]
            .as_str()
            .unwrap()
            .contains("SourceRepositoryURI"));
        let checks = a["checks"].as_array().unwrap();
        let repo = checks
            .iter()
            .find(|c| c["check"] == "SourceRepositoryURI")
            .unwrap();
        assert_eq!(repo["passed"], false);
        assert_eq!(repo["expected"], "https://github.com/octo-org/other");
        assert_eq!(repo["actual"], "https://github.com/octo-org/octo-repo");
        // The cryptography passed; only the policy failed.
        let sig = checks.iter().find(|c| c["check"] == "signature").unwrap();
        assert_eq!(sig["passed"], true);
    }
}

#[test]
fn an_attestation_signed_under_another_root_exits_6() {
    let mut r = Release::new();
    let good = r.sign(&FILES[..2]);
    let mut foreign = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let stranger = sign_in(&mut foreign, &[FILES[2]], &FulcioClaims::default());
    let bundle = r.bundles("attestation.jsonl", &[&good, &stranger]);

    let (code, out, err) = run(&mut r.verify_three(&[&bundle]));
    assert_eq!(code, 6, "{out}{err}");
    assert_ok(&out, NATIVE);
    assert_ok(&out, WHEEL);
    assert_failed(&out, SDIST, "attestation.jsonl:2: verification failed");
    assert!(err.contains("2 of 3 artifacts verified, 1 failed"), "{err}");

    let (code, out, _) = run(r.verify_three(&[&bundle]).args(["--format", "json"]));
    assert_eq!(code, 6);
    let items = json_array(&out);
    let s = by_name(&items, SDIST);
    assert_eq!(s["exitCode"], 6);
    assert_eq!(s["attestations"][0]["result"], "verification-failed");
    assert_eq!(s["attestations"][0]["checks"][0]["passed"], false);

    // One good attestation is enough: a foreign one beside it does not hurt.
    let both = r.sign(&[FILES[2]]);
    let bundle = r.bundles("both.jsonl", &[&good, &stranger, &both]);
    let (code, out, err) = run(&mut r.verify_three(&[&bundle]));
    assert_eq!(code, 0, "{out}{err}");
    assert_ok(&out, SDIST);
}

#[test]
fn the_most_serious_failure_decides_the_exit_code() {
    let mut r = Release::new();
    // NATIVE: verified. WHEEL: only attested by another repository (7).
    // SDIST: tampered (6). extra: no attestation (5). missing: no file (3).
    let extra: &[u8] = b"not attested\n";
    r.add_file("extra.tar.gz", extra);
    let good = r.sign(&[FILES[0], FILES[2]]);
    let repo = "https://github.com/octo-org/elsewhere";
    let elsewhere = FulcioClaims {
        subject_alternative_name: format!("{repo}/.github/workflows/release.yml@refs/heads/main"),
        build_signer_uri: format!("{repo}/.github/workflows/release.yml@refs/heads/main"),
        source_repository_uri: repo.into(),
        ..FulcioClaims::default()
    };
    let other = r.sign_with(&[FILES[1]], &elsewhere);
    let bundle = r.bundles("attestation.jsonl", &[&good, &other]);
    let manifest = r.dist().join("release-artifact-digests.txt");
    let full = r.digest_manifest(&manifest, &[NATIVE, WHEEL, SDIST, "extra.tar.gz"]);
    let full = format!("{full}{}  missing.whl\n", sha256_hex(b"gone"));
    r.add_file(SDIST, b"tampered\n");

    let line = |name: &str| {
        full.lines()
            .find(|l| l.ends_with(&format!("  {name}")))
            .unwrap()
            .to_string()
    };
    let cases: [(&[&str], i32); 5] = [
        (&[NATIVE, WHEEL, SDIST, "extra.tar.gz", "missing.whl"], 6),
        (&[NATIVE, WHEEL, "extra.tar.gz", "missing.whl"], 7),
        (&[NATIVE, "extra.tar.gz", "missing.whl"], 5),
        (&[NATIVE, "missing.whl"], 3),
        (&[NATIVE], 0),
    ];
    for (names, expected) in cases {
        let text: String = names.iter().map(|n| format!("{}\n", line(n))).collect();
        std::fs::write(&manifest, text).unwrap();
        let (code, out, err) = run(r
            .verify()
            .arg("--manifest")
            .arg(&manifest)
            .arg("--bundle")
            .arg(&bundle)
            .args(["--format", "json"]));
        assert_eq!(code, expected, "{names:?}\n{out}{err}");
        let items = json_array(&out);
        assert_eq!(items.len(), names.len(), "{names:?}");
        for item in &items {
            let want = match item["name"].as_str().unwrap() {
                NATIVE => 0,
                WHEEL => 7,
                SDIST => 6,
                "extra.tar.gz" => 5,
                "missing.whl" => 3,
                other => panic!("unexpected {other}"),
            };
            assert_eq!(item["exitCode"], want, "{item}");
            assert_eq!(item["verified"], want == 0, "{item}");
        }

        // Text: one line per artifact.
        let (code, out, err) = run(r
            .verify()
            .arg("--manifest")
            .arg(&manifest)
            .arg("--bundle")
            .arg(&bundle));
        assert_eq!(code, expected, "{names:?}\n{out}{err}");
        assert_eq!(out.lines().count(), names.len(), "{out}");
        assert_ok(&out, NATIVE);
    }
}

#[test]
fn a_name_with_a_newline_stays_on_one_line() {
    let mut r = Release::new();
    let odd = "new\nline-1.0.0.tar.gz";
    let data: &[u8] = b"odd name\n";
    r.add_file(odd, data);
    let b = r.sign(&[FILES[1], (odd, data)]);
    let bundle = r.bundles("attestation.jsonl", &[&b]);
    let manifest = r.dist().join("release-artifact-digests.txt");
    let text = r.digest_manifest(&manifest, &[WHEEL, odd]);
    // `attest digest` escapes it as sha256sum does.
    assert!(text.contains("  new\\nline-1.0.0.tar.gz\n"), "{text:?}");

    for args in [
        vec!["--manifest".to_string(), manifest.display().to_string()],
        vec![WHEEL.to_string(), odd.to_string()],
    ] {
        let (code, out, err) = run(r.verify().args(&args).arg("--bundle").arg(&bundle));
        assert_eq!(code, 0, "{out}{err}");
        // One line per artifact, each starting with its status: a name must
        // not be able to start a line of its own (e.g. a forged `OK` line).
        assert_eq!(out.lines().count(), 2, "{out:?}");
        assert!(
            out.lines()
                .all(|l| l.starts_with("OK     ") || l.starts_with("FAILED ")),
            "{out:?}"
        );
    }
}

/// Text output reads `--bundle` files as streams, `--format json` reads them
/// whole (it prints every bundle back); both reach the same verdicts, and a
/// file that breaks part-way (bytes that are not UTF-8) or is empty ends
/// either run the same way, naming the file and line.
#[test]
fn streamed_and_whole_bundle_files_give_the_same_verdicts_and_the_same_breaks() {
    let mut r = Release::new();
    let good = r.sign(&FILES[..2]);
    let repo = "https://github.com/evil-org/octo-repo";
    let other = FulcioClaims {
        subject_alternative_name: format!("{repo}/.github/workflows/release.yml@refs/heads/main"),
        build_signer_uri: format!("{repo}/.github/workflows/release.yml@refs/heads/main"),
        source_repository_uri: repo.into(),
        ..FulcioClaims::default()
    };
    let wrong_repo = r.sign_with(&FILES[2..], &other);
    let mixed = r.bundles("mixed.jsonl", &[&good, &wrong_repo]);
    let (code, out, err) = run(&mut r.verify_three(&[&mixed]));
    assert_eq!(code, 7, "{out}{err}");
    assert_ok(&out, NATIVE);
    assert_ok(&out, WHEEL);
    assert_failed(&out, SDIST, "mixed.jsonl:2:");
    let (json_code, json, _) = run(r.verify_three(&[&mixed]).args(["--format", "json"]));
    assert_eq!(json_code, code);
    let verified: Vec<bool> = json_array(&json)
        .iter()
        .map(|a| a["verified"].as_bool().unwrap())
        .collect();
    assert_eq!(verified, [true, true, false]);

    let broken = r.path("broken.jsonl");
    let mut bytes = format!("{good}\n{{\"x\":\n\"").into_bytes();
    bytes.extend_from_slice(b"\xff\"}\n");
    std::fs::write(&broken, bytes).unwrap();
    let empty = r.path("empty.jsonl");
    std::fs::write(&empty, "\n  \n").unwrap();
    for (file, needle) in [(&broken, "not UTF-8"), (&empty, "empty")] {
        for json in [false, true] {
            let mut cmd = r.verify_three(&[&mixed, file]);
            if json {
                cmd.args(["--format", "json"]);
            }
            let (code, out, err) = run(&mut cmd);
            assert_eq!(code, 3, "{json} {out}{err}");
            let line = err
                .lines()
                .find(|l| l.starts_with("Error: failed to read the bundle: "))
                .unwrap_or_else(|| panic!("{err}"));
            assert!(
                line.contains(&file.display().to_string()) && line.contains(needle),
                "{line}"
            );
            if file == &broken {
                // The line the bad byte is on, in both readings.
                assert!(line.contains(":3: ") || line.contains("line 3:"), "{line}");
            }
            assert!(out.is_empty(), "no verdict from a broken run: {out}");
        }
    }
}
