//! `--jq`: attest prints what gh 2.103.3 prints for the same expression on
//! the shared sigstore-js case. The expected outputs below were recorded
//! from gh (non-terminal stdout); when `gh` is installed the test also runs
//! it live, offline, and compares byte for byte.

mod common;

use std::process::Command;

use common::{attest, gh_dir, run};

/// The sigstore-js case of cases.json, as attest's argv (without `--format`).
const CASE: [&str; 10] = [
    "verify",
    "sigstore-js-2.1.0.tgz",
    "-d",
    "sha512",
    "--owner",
    "sigstore",
    "--bundle",
    "sigstore-js-2.1.0-bundle.json",
    "--custom-trusted-root",
    "trusted_root.json",
];

/// Expressions and gh's stdout for them. None touches `trustedRoot`, the
/// one key attest adds to gh's JSON.
const EXPECTED: &[(&str, &str)] = &[
    (
        ".[0].verificationResult.statement.predicate.buildDefinition.buildType",
        "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1\n",
    ),
    (
        ".[0].verificationResult.signature.certificate",
        concat!(
            r#"{"buildConfigDigest":"26d16513386ffaa790b1c32f927544f1322e4194","#,
            r#""buildConfigURI":"https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main","#,
            r#""buildSignerDigest":"26d16513386ffaa790b1c32f927544f1322e4194","#,
            r#""buildSignerURI":"https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main","#,
            r#""buildTrigger":"push","certificateIssuer":"CN=sigstore-intermediate,O=sigstore.dev","#,
            r#""githubWorkflowName":"Release","githubWorkflowRef":"refs/heads/main","#,
            r#""githubWorkflowRepository":"sigstore/sigstore-js","#,
            r#""githubWorkflowSHA":"26d16513386ffaa790b1c32f927544f1322e4194","#,
            r#""githubWorkflowTrigger":"push","issuer":"https://token.actions.githubusercontent.com","#,
            r#""runInvocationURI":"https://github.com/sigstore/sigstore-js/actions/runs/6014488666/attempts/1","#,
            r#""runnerEnvironment":"github-hosted","#,
            r#""sourceRepositoryDigest":"26d16513386ffaa790b1c32f927544f1322e4194","#,
            r#""sourceRepositoryIdentifier":"495574555","sourceRepositoryOwnerIdentifier":"71096353","#,
            r#""sourceRepositoryOwnerURI":"https://github.com/sigstore","#,
            r#""sourceRepositoryRef":"refs/heads/main","#,
            r#""sourceRepositoryURI":"https://github.com/sigstore/sigstore-js","#,
            r#""sourceRepositoryVisibilityAtSigning":"public","#,
            r#""subjectAlternativeName":"https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"}"#,
            "\n"
        ),
    ),
    (".[].verificationResult.verifiedTimestamps | length", "1\n"),
    (
        ".[0].verificationResult.statement.subject",
        concat!(
            r#"[{"digest":{"sha512":"90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f"},"#,
            r#""name":"pkg:npm/sigstore@2.1.0"}]"#,
            "\n"
        ),
    ),
    (
        ".[0].verificationResult.verifiedTimestamps",
        "[{\"timestamp\":\"2023-08-29T15:40:23Z\",\"type\":\"Tlog\",\"uri\":\"https://rekor.sigstore.dev\"}]\n",
    ),
    // Scalars: null is an empty line, a fraction gets two decimals; Go's
    // JSON encoding inside arrays (exponents, HTML escaping).
    (
        r#".[0].verificationResult.signature.certificate.sourceRepositoryURI, null, true, 1.5, length, [1e21, 0.0000001, "<&>"]"#,
        concat!(
            "https://github.com/sigstore/sigstore-js\n",
            "\n",
            "true\n",
            "1.50\n",
            "1\n",
            r#"[1e+21,1e-7,"\u003c\u0026\u003e"]"#,
            "\n"
        ),
    ),
    (".[0] | keys", "[\"attestation\",\"verificationResult\"]\n"),
];

/// Whether the real gh is installed (it is optional for this test).
fn gh_available() -> bool {
    Command::new("gh")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// gh with attest's `verify` argv, offline; as cases.json runs it.
fn gh(args: &[&str], tty: bool) -> (i32, String, String) {
    let mut cmd = Command::new("gh");
    cmd.current_dir(gh_dir())
        .env("GH_TOKEN", "dummy")
        .env("NO_COLOR", "1")
        .env_remove("GH_HOST")
        .arg("attestation")
        .args(args);
    if tty {
        cmd.env("GH_FORCE_TTY", "1");
    } else {
        cmd.env_remove("GH_FORCE_TTY");
    }
    run(&mut cmd)
}

fn with<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = CASE.to_vec();
    v.extend_from_slice(extra);
    v
}

#[test]
fn filtered_output_equals_gh() {
    let live = gh_available();
    if !live {
        eprintln!("gh not installed: comparing with recorded gh output only");
    }
    for (expr, want) in EXPECTED {
        let args = with(&["--format", "json", "--jq", expr]);
        let (code, out, err) = run(attest().current_dir(gh_dir()).args(&args));
        assert_eq!(code, 0, "{expr}: {err}");
        assert_eq!(&out, want, "{expr}");
        if live {
            let (gh_code, gh_out, gh_err) = gh(&args, false);
            assert_eq!(gh_code, 0, "gh {expr}: {gh_err}");
            assert_eq!(out, gh_out, "{expr}: attest differs from live gh");
        }
    }
}

#[test]
fn each_result_on_its_own_line_for_several_attestations() {
    let args = [
        "verify",
        "sigstore-js-2.1.0.tgz",
        "-d",
        "sha512",
        "--repo",
        "sigstore/sigstore-js",
        "--bundle",
        "sigstore-js-2.1.0_with_2_bundles.jsonl",
        "--custom-trusted-root",
        "trusted_root.json",
        "--format",
        "json",
        "--jq",
        ".[].verificationResult.verifiedTimestamps | length",
    ];
    let (code, out, err) = run(attest().current_dir(gh_dir()).args(args));
    assert_eq!((code, out.as_str()), (0, "1\n1\n"), "{err}");
    if gh_available() {
        assert_eq!(gh(&args, false).1, out);
    }
}

#[test]
fn terminal_output_is_indented_as_in_gh() {
    let expr = ".[0].verificationResult.statement.subject, 1.5";
    let args = with(&["--format", "json", "--jq", expr]);
    let (code, out, err) = run(attest()
        .current_dir(gh_dir())
        .env("GH_FORCE_TTY", "1")
        .args(&args));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        concat!(
            "[\n  {\n    \"digest\": {\n      \"sha512\": \"90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f\"\n    },\n",
            "    \"name\": \"pkg:npm/sigstore@2.1.0\"\n  }\n]\n1.50\n"
        )
    );
    if gh_available() {
        assert_eq!(gh(&args, true).1, out);
    }
}

#[test]
fn jq_without_format_json_is_gh_usage_error() {
    for flag in ["--jq", "-q"] {
        for expr in [".", ""] {
            let (code, out, err) = run(attest().current_dir(gh_dir()).args(with(&[flag, expr])));
            assert_eq!(code, 2, "{err}");
            assert!(out.is_empty());
            assert_eq!(
                err,
                "Error: cannot use `--jq` without specifying `--format json`\n"
            );
            if gh_available() {
                let (gh_code, gh_out, gh_err) = gh(&with(&[flag, expr]), false);
                assert_eq!(gh_code, 1);
                assert!(gh_out.is_empty());
                assert!(err.contains(gh_err.trim()), "{gh_err}");
            }
        }
    }
}

#[test]
fn empty_expression_means_no_filter_as_in_gh() {
    let (code, out, err) = run(attest()
        .current_dir(gh_dir())
        .args(with(&["--format", "json", "--jq", ""])));
    assert_eq!(code, 0, "{err}");
    // The unfiltered JSON: gh's key order (mediaType first), not sorted.
    assert!(
        out.starts_with(r#"[{"attestation":{"bundle":{"mediaType""#),
        "{out}"
    );
}

#[test]
fn template_is_refused_with_a_pointer_to_jq() {
    for extra in [
        &["--template", "{{.}}"][..],
        &["-t", "{{.}}", "--format", "json"][..],
        &["--format", "json", "--jq", ".", "--template", "x"][..],
    ] {
        let (code, out, err) = run(attest().current_dir(gh_dir()).args(with(extra)));
        assert_eq!(code, 2, "{extra:?}: {err}");
        assert!(out.is_empty());
        assert!(
            err.contains("not supported") && err.contains("--jq"),
            "{err}"
        );
    }
}

#[test]
fn bad_expression_is_a_one_line_usage_error() {
    for (expr, needle) in [
        (
            ".[0] |",
            "failed to parse jq expression (line 1, column 7): expected term, found end of input",
        ),
        ("foo(", "failed to parse jq expression (line 1, column 5)"),
        ("undefined_fn", "filter not defined: undefined_fn/0"),
        ("$x", "variable not defined: $x"),
    ] {
        let (code, out, err) = run(attest()
            .current_dir(gh_dir())
            .args(with(&["--format", "json", "--jq", expr])));
        assert_eq!(code, 2, "{expr}: {err}");
        assert!(out.is_empty(), "{expr}: {out}");
        assert_eq!(err.lines().count(), 1, "{expr}: {err}");
        assert!(err.starts_with("Error: --jq: "), "{err}");
        assert!(err.contains(needle), "{expr}: {err}");
        if gh_available() {
            let (gh_code, gh_out, _) = gh(&with(&["--format", "json", "--jq", expr]), false);
            assert_eq!((gh_code, gh_out.as_str()), (1, ""), "gh {expr}");
        }
    }
}

#[test]
fn runtime_error_keeps_earlier_results_and_exits_2() {
    for (expr, stdout, needle) in [
        (
            ".[0] | keys | .foo",
            "",
            r#"cannot index ["attestation","verificationResult"] with "foo""#,
        ),
        (r#"1, error("boom"), 2"#, "1\n", "boom"),
        ("[nan]", "", "json: unsupported value: NaN"),
    ] {
        let (code, out, err) = run(attest()
            .current_dir(gh_dir())
            .args(with(&["--format", "json", "--jq", expr])));
        assert_eq!(code, 2, "{expr}: {err}");
        assert_eq!(out, stdout, "{expr}");
        let error_lines: Vec<&str> = err.lines().filter(|l| l.starts_with("Error:")).collect();
        assert_eq!(error_lines.len(), 1, "{err}");
        assert!(error_lines[0].starts_with("Error: --jq: "), "{err}");
        assert!(error_lines[0].contains(needle), "{expr}: {err}");
        if gh_available() {
            let (gh_code, gh_out, _) = gh(&with(&["--format", "json", "--jq", expr]), false);
            assert_eq!((gh_code, gh_out.as_str()), (1, stdout), "gh {expr}");
        }
    }
}

#[test]
fn verification_failure_keeps_its_code_and_prints_nothing() {
    let mut args = with(&["--format", "json", "--jq", ".[0]"]);
    let owner = args.iter().position(|a| *a == "sigstore").unwrap();
    args[owner] = "wrongowner";
    let (code, out, err) = run(attest().current_dir(gh_dir()).args(&args));
    assert_eq!(code, 7, "{err}");
    assert!(out.is_empty(), "{out}");
    if gh_available() {
        let (gh_code, gh_out, _) = gh(&args, false);
        assert_eq!((gh_code, gh_out.as_str()), (1, ""));
    }
}

#[test]
fn release_json_is_filtered_too() {
    let digest = "sha512:90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f";
    let release = |artifacts: &[&str], expr: &str| {
        let mut args = vec!["verify"];
        args.extend_from_slice(artifacts);
        args.extend([
            "-d",
            "sha512",
            "--owner",
            "sigstore",
            "--bundle",
            "sigstore-js-2.1.0-bundle.json",
            "--custom-trusted-root",
            "trusted_root.json",
            "--format",
            "json",
            "--jq",
            expr,
        ]);
        run(attest().current_dir(gh_dir()).args(args))
    };
    let names = r#".[] | "\(.name) \(.verified)""#;
    let (code, out, err) = release(&["sigstore-js-2.1.0.tgz", digest], names);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, format!("sigstore-js-2.1.0.tgz true\n{digest} true\n"));

    // A failed artifact keeps the release's exit code; the filter still runs.
    let (code, out, err) = release(
        &[
            "sigstore-js-2.1.0.tgz",
            "github_provenance_demo-0.0.12-py3-none-any.whl",
        ],
        names,
    );
    assert_eq!(code, 5, "{err}");
    assert_eq!(
        out,
        "sigstore-js-2.1.0.tgz true\ngithub_provenance_demo-0.0.12-py3-none-any.whl false\n"
    );

    // A filter failing on a verified release is the user's expression: 2.
    let (code, _, err) = release(&["sigstore-js-2.1.0.tgz", digest], ".foo");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("Error: --jq: cannot index"), "{err}");

    // Parse errors are caught before any file is hashed.
    let (code, out, err) = release(&["sigstore-js-2.1.0.tgz", digest], ".[");
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(!err.contains("artifacts verified"), "{err}");
}

#[test]
fn a_failed_write_of_jq_results_is_an_error_with_a_message() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full");
    let out = attest()
        .current_dir(gh_dir())
        .args(CASE)
        .args(["--format", "json", "--jq", ".[0].verificationResult"])
        .stdout(std::process::Stdio::from(full))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(9), "{err}");
    assert!(
        err.ends_with("Error: could not write to standard output: No space left on device\n"),
        "{err}"
    );
}
