//! The GitHub Action (action.yml, scripts/action.sh) run as the runner runs
//! it: `bash scripts/action.sh install|run` with the inputs as INPUT_*
//! variables, GITHUB_OUTPUT, GITHUB_PATH, GITHUB_STEP_SUMMARY and RUNNER_TEMP
//! files, and the freshly built `attest` first on PATH. Verify mode checks
//! the real offline example; attest mode signs against the loopback
//! Sigstore (Fulcio, Rekor, TSA and the Actions token endpoint on 127.0.0.1)
//! and the bundle it names is then verified by the action itself.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use attest_testsign::services::{default_actions_claims, LoopbackSigstore};
use common::{attest, fresh_path, run};
use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One step of the action in `workdir`: `bash scripts/action.sh <step>`
/// with `inputs`, attest's test environment (no token, no network, no
/// config of the user's) and fresh runner files.
struct Step {
    cmd: Command,
    output: PathBuf,
    path_file: PathBuf,
    summary: PathBuf,
}

impl Step {
    fn new(step: &str, workdir: &Path, inputs: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new("bash");
        cmd.arg(repo_root().join("scripts/action.sh"))
            .arg(step)
            .current_dir(workdir);
        // The same hygiene as every attest test (see common::attest).
        for (k, v) in attest().get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            if k.starts_with("INPUT_") || k.starts_with("GITHUB_") || k.starts_with("RUNNER_") {
                cmd.env_remove(k);
            }
        }
        let bin_dir = Path::new(env!("CARGO_BIN_EXE_attest")).parent().unwrap();
        let path = std::env::join_paths(
            std::iter::once(bin_dir.to_path_buf())
                .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
        )
        .unwrap();
        let temp = fresh_path("runner-temp");
        std::fs::create_dir(&temp).unwrap();
        let output = fresh_path("github-output");
        let path_file = fresh_path("github-path");
        let summary = fresh_path("step-summary");
        cmd.env("PATH", path)
            .env("RUNNER_TEMP", &temp)
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_PATH", &path_file)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_ACTION_PATH", repo_root());
        for (name, value) in inputs {
            cmd.env(
                format!("INPUT_{}", name.to_uppercase().replace('-', "_")),
                value,
            );
        }
        Self {
            cmd,
            output,
            path_file,
            summary,
        }
    }

    /// Run; the exit code, stderr and the outputs written to GITHUB_OUTPUT.
    fn run(mut self) -> (i32, String, BTreeMap<String, String>, Self) {
        let (code, out, err) = run(&mut self.cmd);
        let outputs = std::fs::read_to_string(&self.output)
            .map(|t| parse_outputs(&t))
            .unwrap_or_default();
        (code, format!("{out}{err}"), outputs, self)
    }
}

/// GITHUB_OUTPUT's `name<<DELIM` … `DELIM` blocks (the only form action.sh
/// writes), as the runner reads them.
fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let (name, delim) = line
            .split_once("<<")
            .unwrap_or_else(|| panic!("not a multi-line output: {line:?}"));
        let mut value = Vec::new();
        for l in lines.by_ref() {
            if l == delim {
                break;
            }
            value.push(l);
        }
        map.insert(name.to_string(), value.join("\n"));
    }
    map
}

fn examples() -> PathBuf {
    repo_root().join("examples")
}

const JS_INPUTS: [(&str, &str); 5] = [
    ("subject-path", "sigstore-js-2.1.0.tgz"),
    ("bundle", "sigstore-js-2.1.0-bundle.json"),
    ("offline", "true"),
    ("args", "-d sha512"),
    ("mode", "verify"),
];

#[test]
fn verify_mode_checks_the_offline_example_and_sets_the_outputs() {
    let mut inputs = JS_INPUTS.to_vec();
    inputs.push(("owner", "sigstore"));
    let (code, log, outputs, step) = Step::new("run", &examples(), &inputs).run();
    assert_eq!(code, 0, "{log}");
    assert_eq!(outputs["verified"], "true", "{outputs:?}");
    let json: Value = serde_json::from_str(&outputs["json"]).expect("the json output is JSON");
    assert_eq!(json.as_array().map(Vec::len), Some(1), "{json}");
    assert_eq!(
        json[0]["verificationResult"]["signature"]["certificate"]["sourceRepositoryURI"],
        "https://github.com/sigstore/sigstore-js"
    );
    assert_eq!(
        std::fs::read_to_string(&outputs["json-path"])
            .unwrap()
            .trim(),
        outputs["json"]
    );
    let summary = std::fs::read_to_string(&step.summary).expect("a step summary");
    assert!(
        summary.contains("| sigstore-js-2.1.0.tgz | ✅ verified |"),
        "{summary}"
    );

    // Another owner: the step fails with attest's policy code, and says so.
    let mut inputs = JS_INPUTS.to_vec();
    inputs.push(("owner", "someone-else"));
    let (code, log, outputs, _) = Step::new("run", &examples(), &inputs).run();
    assert_eq!(code, 7, "{log}");
    assert_eq!(outputs["verified"], "false", "{outputs:?}");
    assert!(log.contains("expected SubjectAlternativeName"), "{log}");
}

#[test]
fn bad_inputs_are_refused_before_attest_runs() {
    let mut inputs = JS_INPUTS.to_vec();
    inputs.push(("owner", "sigstore"));
    inputs[0] = ("subject-path", "no-such-*.tgz");
    let (code, log, outputs, _) = Step::new("run", &examples(), &inputs).run();
    assert_eq!(code, 2, "{log}");
    assert!(
        log.contains("::error title=attest::subject-path: no file matches 'no-such-*.tgz'"),
        "{log}"
    );
    assert!(outputs.is_empty(), "{outputs:?}");

    let (code, log, _, _) = Step::new("run", &examples(), &[("mode", "sign")]).run();
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("mode must be verify or attest"), "{log}");
    let (code, log, _, _) = Step::new(
        "run",
        &examples(),
        &[
            ("subject-path", "*.tgz"),
            ("owner", "sigstore"),
            ("offline", "yes"),
        ],
    )
    .run();
    assert_eq!(code, 2, "{log}");
    assert!(
        log.contains("input offline must be true or false, got 'yes'"),
        "{log}"
    );
    let (code, log, _, _) = Step::new("run", &examples(), &[("owner", "sigstore")]).run();
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("nothing to verify"), "{log}");
}

#[test]
fn install_step_keeps_an_attest_already_on_path() {
    let (code, log, _, step) = Step::new("install", &examples(), &[("install", "auto")]).run();
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("attest is already installed"), "{log}");
    assert!(
        log.contains(&format!("attest {}", env!("CARGO_PKG_VERSION"))),
        "{log}"
    );
    assert!(!step.path_file.exists(), "nothing added to GITHUB_PATH");
    let (code, log, _, _) = Step::new("install", &examples(), &[("install", "brew")]).run();
    assert_eq!(code, 2, "{log}");
}

#[test]
fn attest_mode_signs_against_loopback_sigstore_and_verify_mode_accepts_the_bundle() {
    let sigstore = LoopbackSigstore::start().unwrap();
    sigstore.set_actions_claims(default_actions_claims());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("dist")).unwrap();
    std::fs::write(d.join("dist/octo_repo-1.0-py3-none-any.whl"), b"a wheel").unwrap();
    std::fs::write(d.join("dist/octo_repo-1.0.tar.gz"), b"an sdist").unwrap();
    std::fs::write(d.join("root.json"), sigstore.trusted_root_json()).unwrap();
    std::fs::write(d.join("root.jsonl"), sigstore.trusted_root_json() + "\n").unwrap();
    std::fs::write(
        d.join("signing-config.json"),
        sigstore.signing_config_json(),
    )
    .unwrap();

    let mut step = Step::new(
        "run",
        d,
        &[
            ("mode", "attest"),
            ("subject-path", "dist/*.whl, dist/*.tar.gz"),
            ("signing-config", "signing-config.json"),
            ("trusted-root", "root.json"),
            ("upload", "false"),
        ],
    );
    step.cmd
        .env("ACTIONS_ID_TOKEN_REQUEST_URL", sigstore.actions_token_url())
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            sigstore.actions_request_token(),
        );
    let (code, log, outputs, _) = step.run();
    assert_eq!(code, 0, "{log}");
    assert_eq!(outputs["verified"], "true");
    let bundle = PathBuf::from(&outputs["bundle-path"]);
    let statement: Value = {
        let b: Value = serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
        use base64::Engine;
        let payload = base64::engine::general_purpose::STANDARD
            .decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap();
        serde_json::from_slice(&payload).unwrap()
    };
    let names: Vec<&str> = statement["subject"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["octo_repo-1.0-py3-none-any.whl", "octo_repo-1.0.tar.gz"]
    );

    // The bundle-path output, fed to verify mode, as the next step would.
    let verify = |signer: &str| {
        Step::new(
            "run",
            d,
            &[
                ("subject-path", "dist/*"),
                ("bundle", bundle.to_str().unwrap()),
                ("custom-trusted-root", "root.jsonl"),
                ("repo", "octo-org/octo-repo"),
                ("cert-oidc-issuer", &sigstore.oidc_issuer()),
                ("signer-workflow", signer),
                ("offline", "true"),
            ],
        )
        .run()
    };
    let (code, log, outputs, step) = verify("octo-org/octo-repo/.github/workflows/release.yml");
    assert_eq!(code, 0, "{log}");
    assert_eq!(outputs["verified"], "true");
    let json: Value = serde_json::from_str(&outputs["json"]).unwrap();
    let verified: Vec<&Value> = json
        .as_array()
        .or_else(|| json["artifacts"].as_array())
        .unwrap_or_else(|| panic!("{json}"))
        .iter()
        .collect();
    assert_eq!(verified.len(), 2, "{json}");
    let summary = std::fs::read_to_string(&step.summary).unwrap();
    assert!(summary.contains("2 of 2 artifacts verified."), "{summary}");
    let (code, log, outputs, _) = verify("octo-org/octo-repo/.github/workflows/other.yml");
    assert_eq!(code, 7, "{log}");
    assert_eq!(outputs["verified"], "false");
}

/// Every input of action.yml reaches the script (an INPUT_ variable of the
/// same name, which the script reads), and every output the action declares
/// is one the script writes: a renamed input cannot be silently ignored.
#[test]
fn action_yml_hands_every_input_to_the_script_and_declares_its_outputs() {
    let yml = std::fs::read_to_string(repo_root().join("action.yml")).unwrap();
    let script = std::fs::read_to_string(repo_root().join("scripts/action.sh")).unwrap();
    let section = |name: &str| -> Vec<String> {
        let start = yml
            .find(&format!("\n{name}:\n"))
            .unwrap_or_else(|| panic!("no {name}"));
        yml[start + name.len() + 3..]
            .lines()
            .take_while(|l| l.is_empty() || l.starts_with(' '))
            .filter(|l| l.starts_with("  ") && !l.starts_with("   ") && l.ends_with(':'))
            .map(|l| l.trim().trim_end_matches(':').to_string())
            .collect()
    };
    let inputs = section("inputs");
    assert!(inputs.len() >= 20, "{inputs:?}");
    for required in [
        "mode",
        "subject-path",
        "subject-checksums",
        "subject-name",
        "subject-digest",
        "push-to-registry",
        "owner",
        "repo",
        "signer-workflow",
        "predicate-type",
        "bundle",
        "policy",
    ] {
        assert!(inputs.iter().any(|i| i == required), "no input {required}");
    }
    for input in &inputs {
        let var = format!("INPUT_{}", input.to_uppercase().replace('-', "_"));
        assert!(
            yml.contains(&format!("{var}: ${{{{ inputs.{input} }}}}")),
            "action.yml does not pass {input} as {var}"
        );
        assert!(
            script.contains(&format!("input {input}"))
                || script.contains(&format!("flag {input}"))
                || script
                    .lines()
                    .filter(|l| l.contains("pass_through "))
                    .any(|l| l.split_whitespace().any(|w| w == input)),
            "scripts/action.sh does not read {input}"
        );
    }
    let outputs = section("outputs");
    assert_eq!(outputs, ["bundle-path", "verified", "json", "json-path"]);
    for output in &outputs {
        assert!(
            yml.contains(&format!("value: ${{{{ steps.run.outputs.{output} }}}}")),
            "{output}"
        );
        assert!(
            script.contains(&format!("output {output} ")),
            "the script never sets {output}"
        );
    }
}
