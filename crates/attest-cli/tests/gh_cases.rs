//! Every case of `../shared/testdata/gh/cases.json` gives gh's result (or the
//! `attest_expect` result where the case carries one), and for every passing
//! case with a recorded gh `--format json` output, ours is structurally equal.

mod common;

use common::{attest, gh_dir, run};
use serde_json::Value;

fn cases() -> Vec<Value> {
    let text = std::fs::read_to_string(gh_dir().join("cases.json")).expect("cases.json");
    let v: Value = serde_json::from_str(&text).unwrap();
    v["cases"].as_array().unwrap().clone()
}

/// gh's argv after `attestation verify`, as attest's `verify` argv.
fn attest_args(case: &Value) -> Vec<String> {
    let argv: Vec<String> = case["gh_argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    assert_eq!(&argv[..2], ["attestation", "verify"]);
    let mut out = vec!["verify".to_string()];
    out.extend(argv[2..].iter().cloned());
    out
}

#[test]
fn every_case_gives_the_expected_result() {
    let cases = cases();
    assert_eq!(cases.len(), 17, "cases.json changed");
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let expect = case
            .get("attest_expect")
            .and_then(Value::as_str)
            .unwrap_or_else(|| case["expect"].as_str().unwrap());
        let (code, _out, err) = run(attest().current_dir(gh_dir()).args(attest_args(case)));
        let passed = code == 0;
        if passed != (expect == "pass") {
            failures.push(format!("{name}: expected {expect}, exit {code}\n{err}"));
            continue;
        }
        if expect == "fail" {
            assert!(
                code != 101 && code > 1,
                "{name}: crash or generic exit {code}\n{err}"
            );
            // Where gh's message is specific (policy, predicate filter,
            // verifier construction), attest says the same thing.
            let stage = case["stage"].as_str().unwrap_or("");
            let gh_error = case["error"].as_str().unwrap_or("");
            let specific = matches!(stage, "Policy verification" | "Predicate filter")
                || gh_error.contains("detected public good instance");
            if specific {
                let needle = gh_error.trim_start_matches(
                    "error creating Sigstore verifier: error creating custom verifiers: ",
                );
                if !err.contains(needle) {
                    failures.push(format!(
                        "{name}: stderr lacks gh's message {needle:?}\n{err}"
                    ));
                }
            }
            // Every failure names the check, in one Error line.
            assert!(err.contains("Error: "), "{name}: no Error line\n{err}");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn exit_codes_say_how_far_verification_got() {
    let expected = [
        ("wrong-digest-alg", 5),
        ("github-bundle-with-public-good-root", 6),
        ("custom-issuer-default-issuer", 7),
        ("reusable-workflow-without-signer-repo", 7),
        ("missing-certificate", 3),
        ("missing-verification-material", 3),
        ("not-in-toto-payload", 5),
        ("source-ref-mismatch", 7),
        // Refusing the public-good instance is a trust failure, with a
        // custom root as with the embedded ones (see strict_input.rs).
        ("no-public-good-with-public-good-root", 6),
    ];
    let cases = cases();
    for (name, code) in expected {
        let case = cases.iter().find(|c| c["name"] == name).unwrap();
        let (got, _, err) = run(attest().current_dir(gh_dir()).args(attest_args(case)));
        assert_eq!(got, code, "{name}\n{err}");
    }
}

#[test]
fn json_output_equals_gh_output() {
    let mut compared = 0;
    for case in cases() {
        let Some(gh_json) = case["gh_json"].as_str() else {
            continue;
        };
        let name = case["name"].as_str().unwrap();
        let mut args = attest_args(&case);
        args.extend(["--format".to_string(), "json".to_string()]);
        let (code, out, err) = run(attest().current_dir(gh_dir()).args(&args));
        assert_eq!(code, 0, "{name}: {err}");
        let mut ours: Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{name}: {e}\n{out}"));
        // attest adds one key to gh's schema (documented in the README).
        for item in ours.as_array_mut().unwrap() {
            let source = item["verificationResult"]
                .as_object_mut()
                .unwrap()
                .remove("trustedRoot")
                .expect("trustedRoot key");
            assert_eq!(source["source"], "custom", "{name}");
            let inclusion = item["verificationResult"]
                .as_object_mut()
                .unwrap()
                .remove("inclusion")
                .expect("inclusion key");
            assert!(
                inclusion == "proven" || inclusion == "none",
                "{name}: {inclusion}"
            );
        }
        let theirs: Value =
            serde_json::from_str(&std::fs::read_to_string(gh_dir().join(gh_json)).unwrap())
                .unwrap();
        assert_eq!(ours, theirs, "{name}: JSON differs from gh's {gh_json}");
        // Compact, one line, like gh when stdout is not a terminal.
        assert_eq!(out.lines().count(), 1, "{name}");
        assert_eq!(
            ours.as_array().unwrap().len() as u64,
            case["matched"].as_u64().unwrap(),
            "{name}"
        );
        compared += 1;
    }
    assert_eq!(compared, 5);
}

#[test]
fn json_key_order_follows_gh() {
    let case = cases()
        .into_iter()
        .find(|c| c["name"] == "sigstore-js-owner")
        .unwrap();
    let mut args = attest_args(&case);
    args.extend(["--format".to_string(), "json".to_string()]);
    let (_, out, _) = run(attest().current_dir(gh_dir()).args(&args));
    let theirs =
        std::fs::read_to_string(gh_dir().join("gh-output/verify-sigstore-js-pgi.json")).unwrap();
    // Key order is part of what scripts (and diff) see: compare the
    // sequence of keys in the verificationResult.
    let keys = |s: &str| -> Vec<String> {
        let v: Value = serde_json::from_str(s).unwrap();
        let vr = &v[0]["verificationResult"];
        let mut k: Vec<String> = vr
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "trustedRoot" && *k != "inclusion")
            .cloned()
            .collect();
        k.extend(
            vr["signature"]["certificate"]
                .as_object()
                .unwrap()
                .keys()
                .cloned(),
        );
        k
    };
    assert_eq!(keys(&out), keys(&theirs));
}

/// gh's policy flags as one `[[rule.require]]` of an attest.toml.
fn as_policy_file(argv: &[String]) -> (String, Vec<String>) {
    let keys = [
        ("--owner", "owner"),
        ("--repo", "repo"),
        ("--signer-repo", "signer-repo"),
        ("--signer-workflow", "signer-workflow"),
        ("--cert-identity", "san"),
        ("--cert-identity-regex", "san-regex"),
        ("--cert-oidc-issuer", "issuer"),
        ("--source-ref", "source-ref"),
        ("--source-digest", "source-digest"),
        ("--signer-digest", "signer-digest"),
        ("--predicate-type", "predicate-type"),
        ("--hostname", "hostname"),
    ];
    let mut toml = String::from("version = 1\n[[rule]]\nall = true\n[[rule.require]]\n");
    let mut predicate = "slsa-provenance-v1".to_string();
    let mut rest = Vec::new();
    let mut it = argv.iter();
    while let Some(a) = it.next() {
        if a == "--deny-self-hosted-runners" {
            toml.push_str("runner = \"github-hosted\"\n");
        } else if let Some((_, key)) = keys.iter().find(|(f, _)| f == a) {
            let v = it.next().unwrap();
            if *key == "predicate-type" {
                predicate = v.clone();
            } else {
                toml.push_str(&format!("{key} = {v:?}\n"));
            }
        } else {
            rest.push(a.clone());
        }
    }
    toml.push_str(&format!("predicate-type = {predicate:?}\n"));
    (toml, rest)
}

/// The same cases under a policy file that says what their flags say:
/// the same verdict, the SLSA cross-check (on by default in a policy file)
/// included, since every real GitHub bundle passes it.
#[test]
fn every_case_gives_the_same_verdict_under_an_equivalent_policy_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for case in &cases() {
        let name = case["name"].as_str().unwrap();
        let expect = case
            .get("attest_expect")
            .and_then(Value::as_str)
            .unwrap_or_else(|| case["expect"].as_str().unwrap());
        let (toml, mut rest) = as_policy_file(&attest_args(case));
        let path = dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, &toml).unwrap();
        rest.push("--policy".into());
        rest.push(path.display().to_string());
        let (code, out, err) = run(attest().current_dir(gh_dir()).args(&rest));
        if (code == 0) != (expect == "pass") {
            failures.push(format!(
                "{name}: expected {expect}, exit {code}\n{toml}{out}{err}"
            ));
        }
        assert!(code != 101 && code != 2, "{name}: exit {code}\n{toml}{err}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
