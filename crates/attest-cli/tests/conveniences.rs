//! What users expect of a CLI beyond verification: shell completions that a
//! shell accepts and that complete attest's own subcommands and flags, man
//! pages naming every subcommand, colour as `NO_COLOR` / `CLICOLOR` /
//! `CLICOLOR_FORCE` say, the GitHub Actions step summary, `--quiet` and
//! `--verbose` on every subcommand, and JUnit XML.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{attest, fresh_path, run};

/// The repository's examples directory (real sigstore-js and GitHub
/// attestations, verified offline with the embedded roots).
fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// `attest verify` of the sigstore-js tarball with its bundle, in
/// `examples/`; the caller adds the owner.
fn verify_js() -> Command {
    let mut c = attest();
    c.current_dir(examples()).args([
        "verify",
        "sigstore-js-2.1.0.tgz",
        "-d",
        "sha512",
        "--bundle",
        "sigstore-js-2.1.0-bundle.json",
    ]);
    c
}

const SUBCOMMANDS: [&str; 12] = [
    "verify",
    "digest",
    "provenance",
    "sign",
    "attest",
    "download",
    "trusted-root",
    "policy",
    "lock",
    "completions",
    "man",
    "audit",
];

/// Run `script` in bash after sourcing the bash completion script, and
/// return what it printed.
fn bash_with_completions(script_file: &Path, script: &str) -> String {
    let out = Command::new("bash")
        .arg("--norc")
        .arg("-c")
        .arg(format!("source {}\n{script}", script_file.display()))
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "bash failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn bash_completion_parses_and_completes_subcommands_and_flags() {
    let (code, script, err) = run(attest().args(["completions", "bash"]));
    assert_eq!(code, 0, "{err}");
    let file = fresh_path("attest.bash");
    std::fs::write(&file, &script).unwrap();
    // The shell's own parser accepts it.
    let check = Command::new("bash").arg("-n").arg(&file).output().unwrap();
    assert!(
        check.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    // Sourced, it registers a completion for `attest`…
    let registered = bash_with_completions(&file, "complete -p attest");
    assert!(registered.contains("attest"), "{registered}");
    // …which completes `attest dig` to `digest` and `attest verify --ow` to
    // `--owner`, as bash calls it (command, word, previous word).
    let words = bash_with_completions(
        &file,
        "COMP_WORDS=(attest dig); COMP_CWORD=1; _attest attest dig attest; printf '%s\\n' \"${COMPREPLY[@]}\"",
    );
    assert_eq!(words.lines().collect::<Vec<_>>(), ["digest"], "{words}");
    let flags = bash_with_completions(
        &file,
        "COMP_WORDS=(attest verify --ow); COMP_CWORD=2; _attest attest --ow verify; printf '%s\\n' \"${COMPREPLY[@]}\"",
    );
    assert!(flags.lines().any(|l| l == "--owner"), "{flags}");
}

#[test]
fn every_shell_gets_a_script_naming_the_subcommands() {
    for (shell, marker) in [
        ("zsh", "#compdef attest"),
        ("fish", "complete -c attest"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let (code, script, err) = run(attest().args(["completions", shell]));
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{shell}: no {sub}");
        }
    }
    // The scripts describe the whole tree, though a run builds only the
    // subcommand it runs: `attest help policy <TAB>` offers `init`, which
    // clap derives from `policy`'s subcommands when it builds `help`.
    let (code, script, err) = run(attest().args(["completions", "bash"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        script.contains("attest__subcmd__help__subcmd__policy__subcmd__init"),
        "bash: no `help policy init`"
    );
    // An unknown shell is a usage error naming the choices.
    let (code, _, err) = run(attest().args(["completions", "tcsh"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bash") && err.contains("powershell"), "{err}");
}

#[test]
fn man_page_lists_every_subcommand_and_subpages_have_their_flags() {
    let (code, page, err) = run(attest().arg("man"));
    assert_eq!(code, 0, "{err}");
    assert!(page.contains(".TH attest 1 "), "{page}");
    // The SUBCOMMANDS section names each page, in roff (`-` escaped).
    for sub in SUBCOMMANDS {
        let entry = format!(".TP\nattest\\-{}(1)\n", sub.replace('-', "\\-"));
        assert!(
            page.contains(&entry),
            "attest(1) does not list {sub}: {entry:?}"
        );
    }
    // The exit-code table is part of the page.
    assert!(page.contains("usage error"), "{page}");

    let (code, verify, err) = run(attest().args(["man", "verify"]));
    assert_eq!(code, 0, "{err}");
    assert!(verify.contains(".TH attest-verify 1 "), "{verify}");
    assert!(verify.contains("\\-\\-owner"), "{verify}");
    let (code, init, err) = run(attest().args(["man", "policy", "init"]));
    assert_eq!(code, 0, "{err}");
    assert!(init.contains(".TH attest-policy-init 1 "), "{init}");
    let (code, _, err) = run(attest().args(["man", "nosuch"]));
    assert_eq!(code, 2);
    assert!(err.contains("verify"), "{err}");

    // --dir writes one page per command, as packagers install them.
    let dir = fresh_path("man");
    std::fs::create_dir(&dir).unwrap();
    let (code, _, err) = run(attest().args(["man", "--dir"]).arg(&dir));
    assert_eq!(code, 0, "{err}");
    for page in [
        "attest.1",
        "attest-verify.1",
        "attest-policy-init.1",
        "attest-man.1",
    ] {
        assert!(dir.join(page).is_file(), "no {page}");
    }
}

/// Run the full (terminal) report of a verification with the colour
/// variables in `env` (`None` removes one); returns its stderr.
fn report_stderr(env: &[(&str, Option<&str>)]) -> String {
    let mut c = verify_js();
    c.args(["--owner", "sigstore"]).env("GH_FORCE_TTY", "1");
    for var in ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"] {
        c.env_remove(var);
    }
    for (k, v) in env {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    let (code, _, err) = run(&mut c);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("Verification succeeded"), "{err}");
    err
}

#[test]
fn colour_follows_no_color_clicolor_and_clicolor_force_off_a_terminal() {
    const ESC: &str = "\x1b[";
    // stderr is a pipe: no colour unless forced.
    assert!(!report_stderr(&[]).contains(ESC));
    let forced = report_stderr(&[("CLICOLOR_FORCE", Some("1"))]);
    assert!(
        forced.contains("\x1b[32m✓ Verification succeeded!\x1b[0m"),
        "{forced:?}"
    );
    assert!(!report_stderr(&[("CLICOLOR_FORCE", Some("0"))]).contains(ESC));
    // NO_COLOR beats CLICOLOR_FORCE (no-color.org: the user's opt-out wins).
    assert!(
        !report_stderr(&[("CLICOLOR_FORCE", Some("1")), ("NO_COLOR", Some("1"))]).contains(ESC)
    );
    // An empty NO_COLOR is unset (no-color.org).
    assert!(report_stderr(&[("CLICOLOR_FORCE", Some("1")), ("NO_COLOR", Some(""))]).contains(ESC));
}

/// The report on a terminal is gh's: the policy block with its
/// dot-aligned rows, then each matched attestation with its build and
/// signer (gh-attestation.md, 1.1), then attest's own lines.
#[test]
fn the_terminal_report_is_gh_s_policy_block_and_attestation_list() {
    let err = report_stderr(&[("NO_COLOR", Some("1"))]);
    let policy = "\nThe following policy criteria will be enforced:\n\
        - Predicate type must match:................ https://slsa.dev/provenance/v1\n\
        - Source Repository Owner URI must match:... https://github.com/sigstore\n\
        - Subject Alternative Name must match regex: (?i)^https://github\\.com/sigstore/\n\
        - OIDC Issuer must match:................... https://token.actions.githubusercontent.com\n\n";
    assert!(err.contains(policy), "{err}");
    let matched = "\nThe following 1 attestation matched the policy criteria\n\n\
        - Attestation #1\n  \
        - Build repo:..... sigstore/sigstore-js\n  \
        - Build workflow:. .github/workflows/release.yml@refs/heads/main\n  \
        - Signer repo:.... sigstore/sigstore-js\n  \
        - Signer workflow: .github/workflows/release.yml@refs/heads/main\n  \
        - Verified by: Sigstore public good instance";
    assert!(err.contains(matched), "{err}");
    assert!(err.contains("\n  - From: "), "{err}");
}

#[test]
fn colour_on_a_terminal_unless_no_color_or_clicolor_0() {
    let Some(pty) = common::Pty::find() else {
        return;
    };
    let bin = env!("CARGO_BIN_EXE_attest");
    let on_tty = |env: &str| -> String {
        let cmd = format!(
            "env -u NO_COLOR -u CLICOLOR -u CLICOLOR_FORCE -u GH_FORCE_TTY {env} {bin} verify \
             sigstore-js-2.1.0.tgz -d sha512 --owner sigstore --bundle sigstore-js-2.1.0-bundle.json"
        );
        let (code, out, err) = run(pty
            .command(&cmd)
            .current_dir(examples())
            .env("ATTEST_OFFLINE", "1")
            .env("ATTEST_CACHE_DIR", fresh_path("no-cache"))
            .env("GH_CONFIG_DIR", fresh_path("no-gh-config")));
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("Verification succeeded"), "{out}");
        out
    };
    assert!(on_tty("").contains("\x1b[32m"), "no colour on a terminal");
    assert!(!on_tty("NO_COLOR=1").contains("\x1b[32m"));
    assert!(!on_tty("CLICOLOR=0").contains("\x1b[32m"));
    assert!(on_tty("CLICOLOR=0 CLICOLOR_FORCE=1").contains("\x1b[32m"));
}

#[test]
fn step_summary_gets_a_table_of_verdicts() {
    let summary = fresh_path("step-summary.md");
    // A verified artifact: its row names the signing workflow.
    let (code, _, err) = run(verify_js()
        .args(["--owner", "sigstore"])
        .env("GITHUB_STEP_SUMMARY", &summary));
    assert_eq!(code, 0, "{err}");
    let md = std::fs::read_to_string(&summary).expect("the summary is written");
    assert!(
        md.contains("| Artifact | Result | Signer or reason |\n| --- | --- | --- |\n"),
        "{md}"
    );
    assert!(
        md.contains("| sigstore-js-2.1.0.tgz | ✅ verified | https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main |"),
        "{md}"
    );
    assert!(md.contains("1 of 1 artifact verified."), "{md}");

    // A policy failure is appended (the runner's file holds every step's
    // summary), with the reason.
    let (code, _, err) = run(verify_js()
        .args(["--owner", "someone-else"])
        .env("GITHUB_STEP_SUMMARY", &summary));
    assert_eq!(code, 7, "{err}");
    let md2 = std::fs::read_to_string(&summary).unwrap();
    assert!(md2.starts_with(&md), "the first table was kept");
    let added = &md2[md.len()..];
    assert!(added.contains("| sigstore-js-2.1.0.tgz | ❌ policy not met | Policy verification failed: expected SubjectAlternativeName to match regex"), "{added}");
    assert!(added.contains("0 of 1 artifact verified."), "{added}");

    // A release: one row per artifact, each with its own result.
    let release = fresh_path("release-summary.md");
    let (code, _, err) = run(attest()
        .current_dir(examples())
        .args([
            "verify",
            "sigstore-js-2.1.0.tgz",
            "github_provenance_demo-0.0.12-py3-none-any.whl",
            "-d",
            "sha512",
            "--owner",
            "sigstore",
            "--bundle",
            "sigstore-js-2.1.0-bundle.json",
        ])
        .env("GITHUB_STEP_SUMMARY", &release));
    assert_eq!(code, 5, "{err}");
    let md = std::fs::read_to_string(&release).unwrap();
    let rows: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Artifact") && !l.starts_with("| ---"))
        .collect();
    assert_eq!(rows.len(), 2, "{md}");
    assert!(
        rows[0].starts_with("| sigstore-js-2.1.0.tgz | ✅ verified | https://github.com/sigstore/"),
        "{md}"
    );
    assert!(
        rows[1].starts_with(
            "| github\\_provenance\\_demo-0.0.12-py3-none-any.whl | ❌ no attestation | "
        ),
        "{md}"
    );
    assert!(md.contains("1 of 2 artifacts verified."), "{md}");
}

#[test]
fn step_summary_that_cannot_be_written_is_a_warning_not_a_failure() {
    let dir = fresh_path("summary-dir");
    std::fs::create_dir(&dir).unwrap();
    let (code, _, err) = run(verify_js()
        .args(["--owner", "sigstore"])
        .env("GITHUB_STEP_SUMMARY", &dir));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("Warning: GITHUB_STEP_SUMMARY"), "{err}");
}

/// The subcommands `attest --help` lists (clap's own list, so a new one is
/// covered without editing this test), each with its summary: "  name
/// summary" lines, a long summary wrapped onto deeper lines.
fn listed_subcommands_with_summaries() -> Vec<(String, String)> {
    let (code, out, err) = run(attest().arg("--help"));
    assert_eq!(code, 0, "{err}");
    let mut listed: Vec<(String, String)> = Vec::new();
    for l in out
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
    {
        if l.starts_with("   ") {
            if let Some((_, summary)) = listed.last_mut() {
                summary.push(' ');
                summary.push_str(l.trim());
            }
        } else {
            // A subcommand without a summary is listed by its name alone.
            let (name, summary) = l.trim().split_once(' ').unwrap_or((l.trim(), ""));
            listed.push((name.to_string(), summary.trim().to_string()));
        }
    }
    listed.retain(|(name, _)| name != "help");
    listed
}

/// The names of [`listed_subcommands_with_summaries`].
fn listed_subcommands() -> Vec<String> {
    listed_subcommands_with_summaries()
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

#[test]
fn quiet_and_verbose_are_flags_of_every_subcommand() {
    let subs = listed_subcommands();
    assert!(subs.len() >= SUBCOMMANDS.len(), "{subs:?}");
    for sub in &subs {
        let (code, out, err) = run(attest().args([sub.as_str(), "--help"]));
        assert_eq!(code, 0, "{sub}: {err}");
        assert!(
            out.contains("--quiet") && out.contains("--verbose"),
            "{sub}: {out}"
        );
        // Accepted before the subcommand, too, and never together.
        let (code, _, err) = run(attest().args(["--quiet", sub.as_str(), "--help"]));
        assert_eq!(code, 0, "--quiet {sub}: {err}");
        // `policy` has subcommands of its own; its one leaf stands for it.
        let leaf: &[&str] = if sub == "policy" {
            &["policy", "init"]
        } else {
            &[sub.as_str()]
        };
        let (code, _, err) = run(attest().args(leaf).args(["--quiet", "--verbose"]));
        assert_eq!(code, 2, "{sub} --quiet --verbose: {err}");
        assert!(err.contains("cannot be used with"), "{sub}: {err}");
    }
}

/// Each subcommand's own help opens with the summary `attest --help` lists
/// for it. The subcommands' argument trees are built only when one runs
/// (clap's `defer`), after the variant's help line: a doc comment on an
/// argument struct would replace that line in `attest SUB --help` alone
/// (it did for verify, digest, sign and eleven more: "`attest sign`.",
/// "How results are printed").
#[test]
fn every_subcommand_help_opens_with_its_listed_summary() {
    let listed = listed_subcommands_with_summaries();
    assert!(listed.len() >= SUBCOMMANDS.len(), "{listed:?}");
    for (sub, summary) in &listed {
        let (code, help, err) = run(attest().args([sub.as_str(), "--help"]));
        assert_eq!(code, 0, "{sub}: {err}");
        let first: String = help
            .lines()
            .take_while(|l| !l.is_empty())
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(&first, summary, "{sub} --help opens with another summary");
    }
}

/// GitHub's Fulcio and TSA chains have three certificates; the links above
/// the leaf's issuer are the embedded root's own, known verified when the
/// binary was built, so a process computes only what the bundle brings:
/// the two leaves' signatures. Fails if the memo's seeds stop matching what
/// webpki asks for (4 computed).
#[test]
fn the_embedded_roots_own_chain_links_are_not_verified_again() {
    let (code, _, err) = run(attest().current_dir(examples()).args([
        "verify",
        "--offline",
        "-v",
        "github_provenance_demo-0.0.12-py3-none-any.whl",
        "--owner",
        "actions",
        "--bundle",
        "github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl",
    ]));
    assert_eq!(code, 0, "{err}");
    let p384 = err
        .lines()
        .find(|l| l.starts_with("signatures: EcdsaP384Sha384 "))
        .unwrap_or_else(|| panic!("no P-384 line in {err}"));
    assert!(
        p384.starts_with("signatures: EcdsaP384Sha384 2 computed "),
        "{p384}"
    );
    assert!(!p384.ends_with(" 0 remembered"), "{p384}");
}

#[test]
fn quiet_leaves_errors_and_verbose_says_where_trust_and_evidence_came_from() {
    // Passing: the summary line goes with --quiet; the exit code stays.
    let (code, _, normal) = run(verify_js().args(["--owner", "sigstore", "--offline"]));
    assert_eq!(code, 0, "{normal}");
    assert!(
        normal.contains("verified sigstore-js-2.1.0.tgz"),
        "{normal}"
    );
    let (code, out, quiet) = run(verify_js().args(["--owner", "sigstore", "--offline", "--quiet"]));
    assert_eq!((code, out.as_str()), (0, ""), "{quiet}");
    assert!(
        quiet.lines().all(|l| l.starts_with("Warning:")),
        "--quiet printed more than warnings: {quiet}"
    );
    // Failing: the reason is an error, and --quiet keeps it.
    let (code, _, err) = run(verify_js().args(["--owner", "evil", "--offline", "--quiet"]));
    assert_eq!(code, 7, "{err}");
    assert!(
        err.contains("Error: expected SubjectAlternativeName"),
        "{err}"
    );
    // --verbose: the root, the evidence and each attestation's result.
    let (code, _, err) = run(verify_js().args(["--owner", "sigstore", "--offline", "-v"]));
    assert_eq!(code, 0, "{err}");
    for want in [
        "trust: sigstore.dev from embedded root",
        "Loaded 1 attestation from sigstore-js-2.1.0-bundle.json",
        "attestation #1 (sigstore-js-2.1.0-bundle.json:1): verified",
    ] {
        assert!(err.contains(want), "--verbose: no {want:?} in {err}");
    }
    // ... and the signature verifications, by scheme.
    assert!(err.contains("signatures: EcdsaP384Sha384 "), "{err}");
    // digest: sha256sum's --quiet (no OK lines) is the global flag; -v times it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), "x").unwrap();
    let (code, sums, err) = run(attest().current_dir(dir.path()).args(["digest", "f", "-v"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.starts_with("hashed 1 file with sha256 in "), "{err}");
    std::fs::write(dir.path().join("SUMS"), &sums).unwrap();
    let (code, out, _) = run(attest()
        .current_dir(dir.path())
        .args(["digest", "-c", "SUMS"]));
    assert_eq!((code, out.as_str()), (0, "f: OK\n"));
    let (code, out, _) = run(attest()
        .current_dir(dir.path())
        .args(["--quiet", "digest", "-c", "SUMS"]));
    assert_eq!((code, out.as_str()), (0, ""));
}

#[test]
fn junit_report_has_a_case_per_artifact_and_counts_failures() {
    let (code, out, err) =
        run(verify_js().args(["--owner", "sigstore", "--offline", "--format", "junit"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"attest verify\" tests=\"1\" failures=\"0\" errors=\"0\">"), "{out}");
    assert!(
        out.contains("<testcase classname=\"attest verify\" name=\"sigstore-js-2.1.0.tgz\">"),
        "{out}"
    );
    assert!(out.contains("<system-out>https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main</system-out>"), "{out}");
    let (code, out, err) =
        run(verify_js().args(["--owner", "evil", "--offline", "--format", "junit"]));
    assert_eq!(code, 7, "{err}");
    assert!(out.contains("failures=\"1\""), "{out}");
    assert!(out.contains("<failure type=\"policy\" message=\"Policy verification failed: expected SubjectAlternativeName"), "{out}");
    // --jq filters JSON only.
    let (code, _, err) = run(verify_js().args([
        "--owner",
        "sigstore",
        "--offline",
        "--format",
        "junit",
        "--jq",
        ".",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("does not apply to --format junit"), "{err}");
    // An artifact that cannot be read is an <error>, not a <failure>.
    let (code, out, err) = run(attest().current_dir(examples()).args([
        "verify",
        "sigstore-js-2.1.0.tgz",
        "missing.tgz",
        "-d",
        "sha512",
        "--owner",
        "sigstore",
        "--offline",
        "--bundle",
        "sigstore-js-2.1.0-bundle.json",
        "--format",
        "junit",
    ]));
    assert_eq!(code, 3, "{err}");
    assert!(
        out.contains("tests=\"2\" failures=\"0\" errors=\"1\""),
        "{out}"
    );
    assert!(out.contains("<error type=\"unreadable\""), "{out}");
}
