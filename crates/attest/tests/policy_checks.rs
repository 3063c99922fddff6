//! Tests of `policy.rs`: every check of [`Policy`] is
//! evaluated against synthetic verified attestations (no cryptography), so
//! each test changes exactly one claim or one flag and asserts the verdict,
//! the expected value and the message.

use attest::certificate::CertificateSummary;
use attest::policy::{
    github_provenance_checks, go_quote_meta, provenance_checks, signer_workflow_pattern, Policy,
    PolicyCheck, PolicyFlags, SanMatcher, GITHUB_ACTIONS_ISSUER,
};
use attest::trust::{InstanceKind, RootSource};
use attest::verify::VerifiedAttestation;
use serde_json::json;

const REPO: &str = "https://github.com/octo-org/octo-repo";
const COMMIT: &str = "7d3f9a2c1b4e5f60718293a4b5c6d7e8f9012345";

fn workflow() -> String {
    format!("{REPO}/.github/workflows/release.yml@refs/heads/main")
}

/// The claims of a github.com Actions job in octo-org/octo-repo.
fn cert() -> CertificateSummary {
    CertificateSummary {
        certificate_issuer: Some("O=sigstore.dev, CN=sigstore-intermediate".into()),
        subject_alternative_name: Some(workflow()),
        issuer: Some(GITHUB_ACTIONS_ISSUER.into()),
        build_signer_uri: Some(workflow()),
        build_signer_digest: Some(COMMIT.into()),
        runner_environment: Some("github-hosted".into()),
        source_repository_uri: Some(REPO.into()),
        source_repository_digest: Some(COMMIT.into()),
        source_repository_ref: Some("refs/heads/main".into()),
        source_repository_identifier: Some("123456789".into()),
        source_repository_owner_uri: Some("https://github.com/octo-org".into()),
        source_repository_owner_identifier: Some("987654".into()),
        build_config_uri: Some(workflow()),
        build_config_digest: Some(COMMIT.into()),
        build_trigger: Some("push".into()),
        run_invocation_uri: Some(format!("{REPO}/actions/runs/4242/attempts/1")),
        source_repository_visibility_at_signing: Some("public".into()),
        ..CertificateSummary::default()
    }
}

fn attestation(certificate: Option<CertificateSummary>) -> VerifiedAttestation {
    VerifiedAttestation {
        instance: InstanceKind::PublicGood,
        organization: "sigstore.dev".into(),
        root_source: RootSource::Embedded,
        certificate,
        timestamps: Vec::new(),
        tlog_entries_verified: 1,
        inclusion: attest::verify::Inclusion::Proven,
        sct_verified: true,
        statement: None,
        key_fingerprint: None,
    }
}

fn policy(flags: PolicyFlags) -> Policy {
    Policy::from_flags(&flags).expect("a valid policy")
}

fn repo_flags() -> PolicyFlags {
    PolicyFlags {
        repo: Some("octo-org/octo-repo".into()),
        ..Default::default()
    }
}

fn check<'a>(checks: &'a [PolicyCheck], name: &str) -> &'a PolicyCheck {
    checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no {name} check in {checks:?}"))
}

fn names(checks: &[PolicyCheck]) -> Vec<&'static str> {
    checks.iter().map(|c| c.name).collect()
}

#[test]
fn default_repo_policy_passes_every_check_in_gh_order() {
    let p = policy(repo_flags());
    let checks = p.evaluate(&attestation(Some(cert())));
    assert_eq!(
        names(&checks),
        [
            "SubjectAlternativeName",
            "SourceRepositoryOwnerURI",
            "SourceRepositoryURI",
            "Issuer"
        ]
    );
    assert!(checks.iter().all(|c| c.passed), "{checks:?}");
    let owner = check(&checks, "SourceRepositoryOwnerURI");
    assert_eq!(owner.expected, "https://github.com/octo-org");
    assert_eq!(owner.actual.as_deref(), Some("https://github.com/octo-org"));
    let issuer = check(&checks, "Issuer");
    assert_eq!(issuer.expected, GITHUB_ACTIONS_ISSUER);
}

#[test]
fn from_flags_builds_every_field() {
    let p = policy(PolicyFlags {
        signer_digest: Some("sd".into()),
        source_digest: Some("rd".into()),
        source_ref: Some("refs/tags/v1".into()),
        deny_self_hosted_runners: true,
        cert_oidc_issuer: Some("https://issuer.example".into()),
        predicate_type: Some("https://example.com/p".into()),
        ..repo_flags()
    });
    assert_eq!(p.predicate_type, "https://example.com/p");
    assert_eq!(p.owner_uri.as_deref(), Some("https://github.com/octo-org"));
    assert_eq!(
        p.repo_uri.as_deref(),
        Some("https://github.com/octo-org/octo-repo")
    );
    assert_eq!(p.issuer.as_deref(), Some("https://issuer.example"));
    assert_eq!(p.signer_digest.as_deref(), Some("sd"));
    assert_eq!(p.source_digest.as_deref(), Some("rd"));
    assert_eq!(p.source_ref.as_deref(), Some("refs/tags/v1"));
    assert_eq!(p.runner_environment.as_deref(), Some("github-hosted"));
    let SanMatcher::Regex(r) = &p.san else {
        panic!("a regex SAN rule")
    };
    assert_eq!(r.as_str(), r"(?i)^https://github\.com/octo-org/octo-repo/");

    let p = policy(repo_flags());
    assert_eq!(p.predicate_type, "https://slsa.dev/provenance/v1");
    assert_eq!(p.runner_environment, None);
    assert_eq!(p.signer_digest, None);
}

#[test]
fn one_identity_flag_is_fine_two_are_not() {
    for one in [
        PolicyFlags {
            cert_identity: Some(workflow()),
            ..repo_flags()
        },
        PolicyFlags {
            cert_identity_regex: Some("^https://".into()),
            ..repo_flags()
        },
        PolicyFlags {
            signer_repo: Some("octo-org/octo-repo".into()),
            ..repo_flags()
        },
        PolicyFlags {
            signer_workflow: Some("octo-org/octo-repo/.github/workflows/release.yml".into()),
            ..repo_flags()
        },
        repo_flags(),
    ] {
        let p = Policy::from_flags(&one);
        assert!(p.is_ok(), "{one:?}: {p:?}");
        let checks = p.unwrap().evaluate(&attestation(Some(cert())));
        assert!(checks.iter().all(|c| c.passed), "{one:?}: {checks:?}");
    }
    let two = PolicyFlags {
        cert_identity_regex: Some("x".into()),
        signer_workflow: Some("o/r/.github/workflows/x.yml".into()),
        ..repo_flags()
    };
    assert!(Policy::from_flags(&two).is_err());
}

#[test]
fn signer_repo_builds_an_anchored_case_insensitive_prefix() {
    let p = policy(PolicyFlags {
        signer_repo: Some("Octo-Org/Octo-Repo".into()),
        owner: Some("octo-org".into()),
        ..Default::default()
    });
    let SanMatcher::Regex(r) = &p.san else {
        panic!("a regex SAN rule")
    };
    assert_eq!(r.as_str(), r"(?i)^https://github\.com/Octo-Org/Octo-Repo/");
    assert!(p
        .evaluate(&attestation(Some(cert())))
        .iter()
        .all(|c| c.passed));
    for bad in ["octo-org", "octo-org/", "/octo-repo", "a/b/c"] {
        assert!(
            Policy::from_flags(&PolicyFlags {
                signer_repo: Some(bad.into()),
                owner: Some("octo-org".into()),
                ..Default::default()
            })
            .is_err(),
            "{bad}"
        );
    }
}

#[test]
fn exact_identity_is_exact() {
    let exact = |id: String| {
        policy(PolicyFlags {
            cert_identity: Some(id),
            ..repo_flags()
        })
    };
    let ok = exact(workflow()).evaluate(&attestation(Some(cert())));
    let san = check(&ok, "SubjectAlternativeName");
    assert!(san.passed);
    assert_eq!(san.expected, workflow());
    assert_eq!(san.actual.as_deref(), Some(workflow().as_str()));
    let bad = exact(workflow().to_uppercase()).evaluate(&attestation(Some(cert())));
    assert!(!check(&bad, "SubjectAlternativeName").passed);
    let bad = exact(format!("{}x", workflow())).evaluate(&attestation(Some(cert())));
    assert!(!check(&bad, "SubjectAlternativeName").passed);
}

#[test]
fn a_san_check_fails_without_a_san() {
    let mut c = cert();
    c.subject_alternative_name = None;
    let checks = policy(repo_flags()).evaluate(&attestation(Some(c)));
    let san = check(&checks, "SubjectAlternativeName");
    assert!(!san.passed);
    assert!(san.message.ends_with("got none"), "{}", san.message);
}

#[test]
fn reusable_workflow_hint_only_for_a_failed_san_outside_the_repo() {
    let reusable =
        "https://github.com/other-org/shared/.github/workflows/build.yml@refs/heads/main";
    let hint = "a reusable workflow";
    // Failed, signed outside the source repository: the hint.
    let mut outside = cert();
    outside.subject_alternative_name = Some(reusable.into());
    let checks = policy(repo_flags()).evaluate(&attestation(Some(outside.clone())));
    let san = check(&checks, "SubjectAlternativeName");
    assert!(!san.passed);
    assert!(san.message.contains(hint), "{}", san.message);
    // Passed (the identity is asked for exactly), still outside: no hint.
    let checks = policy(PolicyFlags {
        cert_identity: Some(reusable.into()),
        ..repo_flags()
    })
    .evaluate(&attestation(Some(outside)));
    let san = check(&checks, "SubjectAlternativeName");
    assert!(san.passed);
    assert!(!san.message.contains(hint), "{}", san.message);
    // Failed, but the signer is inside the source repository: no hint.
    let checks = policy(PolicyFlags {
        signer_workflow: Some("octo-org/octo-repo/.github/workflows/other.yml".into()),
        ..repo_flags()
    })
    .evaluate(&attestation(Some(cert())));
    let san = check(&checks, "SubjectAlternativeName");
    assert!(!san.passed);
    assert_eq!(
        san.message,
        format!(
            "expected SubjectAlternativeName to match regex {}, got {}",
            signer_workflow_pattern(
                "octo-org/octo-repo/.github/workflows/other.yml",
                "github.com"
            )
            .unwrap(),
            workflow()
        )
    );
}

#[test]
fn runner_environment_must_equal() {
    let deny = policy(PolicyFlags {
        deny_self_hosted_runners: true,
        ..repo_flags()
    });
    let ok = deny.evaluate(&attestation(Some(cert())));
    let runner = check(&ok, "RunnerEnvironment");
    assert!(runner.passed);
    assert_eq!(runner.expected, "github-hosted");
    let mut c = cert();
    c.runner_environment = Some("self-hosted".into());
    let bad = deny.evaluate(&attestation(Some(c)));
    assert!(!check(&bad, "RunnerEnvironment").passed);
    let mut c = cert();
    c.runner_environment = None;
    let bad = deny.evaluate(&attestation(Some(c)));
    assert!(!check(&bad, "RunnerEnvironment").passed);
}

#[test]
fn source_ref_is_case_sensitive_digests_are_not() {
    let p = policy(PolicyFlags {
        source_ref: Some("refs/heads/main".into()),
        source_digest: Some(COMMIT.to_uppercase()),
        signer_digest: Some(COMMIT.to_uppercase()),
        ..repo_flags()
    });
    let ok = p.evaluate(&attestation(Some(cert())));
    assert!(ok.iter().all(|c| c.passed), "{ok:?}");
    assert_eq!(
        names(&ok),
        [
            "SubjectAlternativeName",
            "SourceRepositoryOwnerURI",
            "SourceRepositoryURI",
            "Issuer",
            "BuildSignerDigest",
            "SourceRepositoryDigest",
            "SourceRepositoryRef"
        ]
    );
    let mut c = cert();
    c.source_repository_ref = Some("refs/heads/MAIN".into());
    let bad = p.evaluate(&attestation(Some(c)));
    let r = check(&bad, "SourceRepositoryRef");
    assert!(!r.passed);
    assert_eq!(
        r.message,
        "expected SourceRepositoryRef to be refs/heads/main, got refs/heads/MAIN"
    );
    let mut c = cert();
    c.source_repository_ref = None;
    assert!(!check(&p.evaluate(&attestation(Some(c))), "SourceRepositoryRef").passed);
}

#[test]
fn issuer_hint_only_for_a_sub_path_of_the_expected_issuer() {
    let hint = "--cert-oidc-issuer";
    let mut c = cert();
    c.issuer = Some(format!("{GITHUB_ACTIONS_ISSUER}/enterprise"));
    let checks = policy(repo_flags()).evaluate(&attestation(Some(c)));
    let issuer = check(&checks, "Issuer");
    assert!(!issuer.passed);
    assert!(issuer.message.contains(hint), "{}", issuer.message);
    let mut c = cert();
    c.issuer = Some("https://accounts.example.com".into());
    let checks = policy(repo_flags()).evaluate(&attestation(Some(c)));
    let issuer = check(&checks, "Issuer");
    assert!(!issuer.passed);
    assert!(!issuer.message.contains(hint), "{}", issuer.message);
    // Issuers compare ignoring case.
    let mut c = cert();
    c.issuer = Some(GITHUB_ACTIONS_ISSUER.to_uppercase());
    let checks = policy(repo_flags()).evaluate(&attestation(Some(c)));
    assert!(check(&checks, "Issuer").passed);
}

#[test]
fn key_signed_attestations_pass_only_an_identity_free_policy() {
    let key_signed = attestation(None);
    let any = Policy::identity_only(None, None);
    let checks = any.evaluate(&key_signed);
    assert_eq!(names(&checks), ["Certificate"]);
    assert!(checks[0].passed);
    for p in [
        Policy::identity_only(Some(workflow()), None),
        Policy::identity_only(None, Some(GITHUB_ACTIONS_ISSUER.into())),
        Policy::identity_only(Some(workflow()), Some(GITHUB_ACTIONS_ISSUER.into())),
    ] {
        let checks = p.evaluate(&key_signed);
        assert_eq!(names(&checks), ["Certificate"]);
        assert!(!checks[0].passed, "{p:?}");
    }
}

#[test]
fn identity_only_checks_identity_and_issuer_alone() {
    let p = Policy::identity_only(Some(workflow()), Some(GITHUB_ACTIONS_ISSUER.into()));
    assert_eq!(p.predicate_type, "");
    assert!(p.owner_uri.is_none() && p.repo_uri.is_none());
    let checks = p.evaluate(&attestation(Some(cert())));
    assert_eq!(names(&checks), ["SubjectAlternativeName", "Issuer"]);
    assert!(checks.iter().all(|c| c.passed));
    let p = Policy::identity_only(None, None);
    assert!(p.evaluate(&attestation(Some(cert()))).is_empty());
    assert!(p.criteria().is_empty());
}

#[test]
fn criteria_rows_follow_gh() {
    let p = policy(PolicyFlags {
        signer_digest: Some("sd".into()),
        source_digest: Some("rd".into()),
        source_ref: Some("refs/heads/main".into()),
        deny_self_hosted_runners: true,
        ..repo_flags()
    });
    let rows = p.criteria();
    let expected: Vec<(&str, String)> = vec![
        (
            "Predicate type must match",
            "https://slsa.dev/provenance/v1".into(),
        ),
        (
            "Source Repository Owner URI must match",
            "https://github.com/octo-org".into(),
        ),
        (
            "Source Repository URI must match",
            "https://github.com/octo-org/octo-repo".into(),
        ),
        ("Build signer digest must match", "sd".into()),
        ("Source repo digest digest must match", "rd".into()),
        ("Source repo ref must match", "refs/heads/main".into()),
        (
            "Subject Alternative Name must match regex",
            r"(?i)^https://github\.com/octo-org/octo-repo/".into(),
        ),
        (
            "OIDC Issuer must match",
            "https://token.actions.githubusercontent.com".into(),
        ),
        (
            "Action workflow Runner Environment must match ",
            "github-hosted".into(),
        ),
    ];
    assert_eq!(rows, expected);
    let exact = Policy::identity_only(Some("me@example.com".into()), None);
    assert_eq!(
        exact.criteria(),
        vec![(
            "Subject Alternative Name must match",
            "me@example.com".to_string()
        )]
    );
}

#[test]
fn verified_identity_json_follows_gh() {
    let p = policy(PolicyFlags {
        deny_self_hosted_runners: true,
        ..repo_flags()
    });
    assert_eq!(
        p.verified_identity_json(),
        json!({
            "subjectAlternativeName": {
                "subjectAlternativeName": "",
                "regexp": r"(?i)^https://github\.com/octo-org/octo-repo/"
            },
            "issuer": { "issuer": "", "regexp": ".*" },
            "runnerEnvironment": "github-hosted"
        })
    );
    assert_eq!(
        Policy::identity_only(Some("me@example.com".into()), None).verified_identity_json(),
        json!({
            "subjectAlternativeName": { "subjectAlternativeName": "me@example.com" },
            "issuer": { "issuer": "", "regexp": ".*" }
        })
    );
    assert_eq!(
        Policy::identity_only(None, None).verified_identity_json(),
        json!({
            "subjectAlternativeName": { "subjectAlternativeName": "", "regexp": ".*" },
            "issuer": { "issuer": "", "regexp": ".*" }
        })
    );
}

#[test]
fn go_quote_meta_escapes_what_go_escapes() {
    assert_eq!(
        go_quote_meta(r"a.b+c*d?e(f)g|h[i]j{k}l^m$n\o-p/q"),
        r"a\.b\+c\*d\?e\(f\)g\|h\[i\]j\{k\}l\^m\$n\\o-p/q"
    );
    assert_eq!(go_quote_meta(""), "");
}

#[test]
fn hosts_github_com_and_ghe_tenants_only() {
    let with_host = |h: &str| {
        Policy::from_flags(&PolicyFlags {
            hostname: Some(h.into()),
            ..repo_flags()
        })
    };
    let p = with_host(" GitHub.com ").unwrap();
    assert_eq!(p.owner_uri.as_deref(), Some("https://github.com/octo-org"));
    assert_eq!(p.issuer.as_deref(), Some(GITHUB_ACTIONS_ISSUER));
    let p = with_host("acme.ghe.com").unwrap();
    assert_eq!(
        p.repo_uri.as_deref(),
        Some("https://acme.ghe.com/octo-org/octo-repo")
    );
    assert_eq!(
        p.issuer.as_deref(),
        Some("https://token.actions.acme.ghe.com")
    );
    for bad in [
        ".ghe.com",
        "a.b.ghe.com",
        "ghe.com",
        "example.com",
        "github.co",
    ] {
        let e = with_host(bad).unwrap_err();
        assert!(
            e.to_string().contains("An unsupported host was detected"),
            "{bad}: {e}"
        );
    }
    // The signer-workflow pattern follows the host.
    let p = Policy::from_flags(&PolicyFlags {
        hostname: Some("acme.ghe.com".into()),
        signer_workflow: Some("o/r/.github/workflows/x.yml".into()),
        owner: Some("o".into()),
        ..Default::default()
    })
    .unwrap();
    let SanMatcher::Regex(r) = &p.san else {
        panic!("a regex SAN rule")
    };
    assert_eq!(
        r.as_str(),
        r"^https://acme\.ghe\.com/o/r/\.github/workflows/x\.yml(@(refs/.*|[0-9a-fA-F]+))?$"
    );
}

#[test]
fn bad_flag_values_are_usage_errors() {
    let e = Policy::from_flags(&PolicyFlags {
        owner: Some(String::new()),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "--owner: empty value; give a value or leave the flag out"
    );
    let e = Policy::from_flags(&PolicyFlags {
        cert_identity_regex: Some("(".into()),
        ..repo_flags()
    })
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("invalid regular expression \"(\""),
        "{e}"
    );
    let e = Policy::from_flags(&PolicyFlags {
        repo: Some("a/b/c".into()),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid value provided for repo: a/b/c (expected OWNER/REPO)"
    );
    assert!(signer_workflow_pattern("o/r/.github/workflows/x.yml", "").is_err());
}

// ---------------------------------------------------------------------------
// provenance_checks: the SLSA predicate against the certificate.
// ---------------------------------------------------------------------------

/// An actions/attest (v1.3+) predicate that agrees with [`cert`].
fn predicate() -> serde_json::Value {
    json!({
        "buildDefinition": {
            "externalParameters": {
                "workflow": {
                    "ref": "refs/heads/main",
                    "repository": REPO,
                    "path": ".github/workflows/release.yml",
                },
            },
            "internalParameters": {
                "github": {
                    "event_name": "push",
                    "repository_id": "123456789",
                    "repository_owner_id": "987654",
                    "runner_environment": "github-hosted",
                },
            },
            "resolvedDependencies": [{
                "uri": format!("git+{REPO}@refs/heads/main"),
                "digest": { "gitCommit": COMMIT },
            }],
        },
        "runDetails": {
            "builder": { "id": workflow() },
            "metadata": { "invocationId": format!("{REPO}/actions/runs/4242/attempts/1") },
        },
    })
}

const PROVENANCE_CHECKS: [&str; 11] = [
    "builder.id",
    "workflow.repository",
    "workflow.ref",
    "workflow.path",
    "resolvedDependencies[0].digest.gitCommit",
    "resolvedDependencies[0].uri",
    "github.event_name",
    "github.repository_id",
    "github.repository_owner_id",
    "github.runner_environment",
    "metadata.invocationId",
];

#[test]
fn a_consistent_predicate_passes_every_cross_check() {
    let checks = provenance_checks(&predicate(), &cert());
    assert_eq!(names(&checks), PROVENANCE_CHECKS);
    assert!(checks.iter().all(|c| c.passed), "{checks:?}");
    let path = check(&checks, "workflow.path");
    assert_eq!(path.actual.as_deref(), Some(workflow().as_str()));
    let uri = check(&checks, "resolvedDependencies[0].uri");
    assert_eq!(uri.expected, format!("git+{REPO}@refs/heads/main"));
}

#[test]
fn each_differing_field_fails_its_own_check_only() {
    let edits: [(&str, &[&str], serde_json::Value); 6] = [
        (
            "workflow.ref",
            &["buildDefinition", "externalParameters", "workflow", "ref"],
            json!("refs/heads/other"),
        ),
        (
            "github.event_name",
            &[
                "buildDefinition",
                "internalParameters",
                "github",
                "event_name",
            ],
            json!("workflow_dispatch"),
        ),
        (
            "github.runner_environment",
            &[
                "buildDefinition",
                "internalParameters",
                "github",
                "runner_environment",
            ],
            json!("self-hosted"),
        ),
        (
            "metadata.invocationId",
            &["runDetails", "metadata", "invocationId"],
            json!("https://example.com/run/1"),
        ),
        (
            "builder.id",
            &["runDetails", "builder", "id"],
            json!("https://example.com/builder"),
        ),
        (
            "github.repository_id",
            &[
                "buildDefinition",
                "internalParameters",
                "github",
                "repository_id",
            ],
            json!("1"),
        ),
    ];
    for (name, path, value) in edits {
        let mut p = predicate();
        let mut slot = &mut p;
        for key in path {
            slot = &mut slot[*key];
        }
        *slot = value;
        let checks = provenance_checks(&p, &cert());
        let failed: Vec<_> = checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name)
            .collect();
        let expect_failed: &[&str] = if name == "workflow.ref" {
            // The ref is part of the config URI too.
            &["workflow.ref", "workflow.path"]
        } else {
            &[name]
        };
        assert_eq!(failed, expect_failed, "{name}");
    }
}

#[test]
fn a_missing_required_field_fails_an_optional_one_is_skipped() {
    let mut p = predicate();
    p["buildDefinition"]["internalParameters"]["github"]
        .as_object_mut()
        .unwrap()
        .remove("event_name");
    let checks = provenance_checks(&p, &cert());
    let c = check(&checks, "github.event_name");
    assert!(!c.passed);
    assert_eq!(c.actual, None);
    assert_eq!(c.expected, "push");
    assert_eq!(
        c.message,
        "the provenance says buildDefinition.internalParameters.github.event_name is (nothing), \
         the certificate says BuildTrigger is push"
    );
    // Missing in both: still a failure (nothing to compare is not agreement).
    let mut c2 = cert();
    c2.build_trigger = None;
    let checks = provenance_checks(&p, &c2);
    assert!(!check(&checks, "github.event_name").passed);

    let mut p = predicate();
    p["buildDefinition"]["internalParameters"]["github"]
        .as_object_mut()
        .unwrap()
        .remove("runner_environment");
    let checks = provenance_checks(&p, &cert());
    assert_eq!(checks.len(), PROVENANCE_CHECKS.len() - 1);
    assert!(!names(&checks).contains(&"github.runner_environment"));
    assert!(checks.iter().all(|c| c.passed));
}

#[test]
fn legacy_runner_builders_compare_the_runner_environment() {
    let mut p = predicate();
    p["runDetails"]["builder"]["id"] = json!("https://github.com/actions/runner/github-hosted");
    let checks = provenance_checks(&p, &cert());
    let b = check(&checks, "builder.id runner");
    assert!(b.passed);
    assert_eq!(b.actual.as_deref(), Some("github-hosted"));
    p["runDetails"]["builder"]["id"] = json!("https://github.com/actions/runner/self-hosted");
    let checks = provenance_checks(&p, &cert());
    assert!(!check(&checks, "builder.id runner").passed);
}

/// The build config URI is named as what it is on each side: the predicate's
/// workflow path (joined with its repository and ref) and the certificate's
/// BuildConfigURI, not `workflow.path` for both.
#[test]
fn the_build_config_uri_is_labelled_by_its_sources() {
    let mut p = predicate();
    p["buildDefinition"]["externalParameters"]["workflow"]["path"] =
        json!(".github/workflows/other.yml");
    let checks = provenance_checks(&p, &cert());
    let path = check(&checks, "workflow.path");
    assert!(!path.passed);
    assert_eq!(
        path.message,
        format!(
            "the provenance says buildDefinition.externalParameters.workflow.path (with its \
             repository and ref) is {REPO}/.github/workflows/other.yml@refs/heads/main, the \
             certificate says BuildConfigURI is {}",
            workflow()
        )
    );
}

/// A GitHub buildType's externalParameters may hold only
/// `workflow.{ref, repository, path}` (SLSA: unrecognised ones fail): the
/// check names what else it found, and says nothing found when it passes.
#[test]
fn unrecognised_external_parameters_are_named_by_the_check() {
    let statement = |predicate: serde_json::Value| {
        json!({
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": predicate,
        })
    };
    let mut p = predicate();
    p["buildDefinition"]["buildType"] = json!(attest::policy::GITHUB_BUILD_TYPES[0]);
    let checks = github_provenance_checks(&statement(p.clone()), &cert());
    let ext = check(&checks, "externalParameters");
    assert!(ext.passed, "{ext:?}");
    assert_eq!(ext.actual, None);
    assert_eq!(ext.expected, "workflow.{ref, repository, path} only");

    p["buildDefinition"]["externalParameters"]["inputs"] = json!({"debug": "true"});
    p["buildDefinition"]["externalParameters"]["workflow"]["sha"] = json!("abc");
    let checks = github_provenance_checks(&statement(p), &cert());
    let ext = check(&checks, "externalParameters");
    assert!(!ext.passed, "{ext:?}");
    assert_eq!(
        ext.actual.as_deref(),
        Some("externalParameters.workflow.sha, externalParameters.inputs")
    );
    assert!(
        ext.message
            .contains("unrecognised externalParameters.workflow.sha, externalParameters.inputs"),
        "{}",
        ext.message
    );
}

#[test]
fn derived_uris_need_all_their_parts() {
    let mut p = predicate();
    p["buildDefinition"]["externalParameters"]["workflow"]
        .as_object_mut()
        .unwrap()
        .remove("path");
    let checks = provenance_checks(&p, &cert());
    let path = check(&checks, "workflow.path");
    assert!(!path.passed);
    assert_eq!(path.actual, None);
    let mut c = cert();
    c.source_repository_ref = None;
    let checks = provenance_checks(&predicate(), &c);
    let uri = check(&checks, "resolvedDependencies[0].uri");
    assert!(!uri.passed);
    assert_eq!(uri.expected, "");
}

/// The SAN check of `flags` on the default certificate: (passed, expected).
fn san_check(flags: PolicyFlags) -> (bool, String, Option<String>) {
    let checks = policy(flags).evaluate(&attestation(Some(cert())));
    let san = check(&checks, "SubjectAlternativeName");
    (san.passed, san.expected.clone(), san.actual.clone())
}

#[test]
fn signer_repo_mismatches_fail_the_san_check() {
    let flags = |repo: &str| PolicyFlags {
        signer_repo: Some(repo.into()),
        owner: Some("octo-org".into()),
        ..Default::default()
    };
    assert!(san_check(flags("octo-org/octo-repo")).0);
    // Another repository, another owner, and a name the signer's is only a
    // prefix of (the rule ends at the `/` after the name).
    for other in ["octo-org/other-repo", "evil-org/octo-repo", "octo-org/octo"] {
        let (passed, expected, actual) = san_check(flags(other));
        assert!(!passed, "{other}");
        assert_eq!(
            expected,
            format!("(?i)^https://github\\.com/{}/", other.replace('.', "\\."))
        );
        assert_eq!(actual.as_deref(), Some(&*workflow()));
    }
}

#[test]
fn cert_identity_regex_mismatches_fail_the_san_check() {
    let flags = |re: &str| PolicyFlags {
        cert_identity_regex: Some(re.into()),
        owner: Some("octo-org".into()),
        ..Default::default()
    };
    // Unanchored, as in gh: a match anywhere in the SAN passes.
    for good in [
        "^https://github\\.com/octo-org/octo-repo/",
        "release\\.yml@",
    ] {
        assert!(san_check(flags(good)).0, "{good}");
    }
    for bad in [
        "^https://github\\.com/octo-org/other-repo/",
        "release\\.yml@refs/tags/",
        "^github\\.com/",
    ] {
        let (passed, expected, actual) = san_check(flags(bad));
        assert!(!passed, "{bad}");
        assert!(expected.contains(bad), "{bad}: expected {expected}");
        assert_eq!(actual.as_deref(), Some(&*workflow()));
    }
}
