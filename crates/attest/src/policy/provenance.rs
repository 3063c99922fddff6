//! The cross-check of a SLSA provenance predicate against the certificate
//! that signed it: both describe the same GitHub Actions job, one as the
//! signer wrote it, the other as Fulcio recorded it from the OIDC token.

use super::PolicyCheck;

/// Cross-check an actions/attest SLSA provenance predicate against the
/// signing certificate's claims (provenance-formats.md §4.1): the predicate
/// is signer-supplied, the certificate is Fulcio's record of the same job.
/// Older-generation predicates (npm, actions/attest before 1.3) name the
/// runner as the builder; for those the builder check compares the runner
/// environment instead.
pub fn provenance_checks(
    predicate: &serde_json::Value,
    cert: &crate::certificate::CertificateSummary,
) -> Vec<PolicyCheck> {
    let s = |v: &serde_json::Value| v.as_str().map(str::to_string);
    let bd = &predicate["buildDefinition"];
    let wf = &bd["externalParameters"]["workflow"];
    let gh = &bd["internalParameters"]["github"];
    let dep = &bd["resolvedDependencies"][0];
    let builder = s(&predicate["runDetails"]["builder"]["id"]);
    let mut checks = Vec::new();
    // Each message names both values by what they are called where they
    // come from: the predicate's field, the certificate's Fulcio claim.
    let mut eq = |name: &'static str,
                  pred_label: &str,
                  pred: Option<String>,
                  (cert_label, cert_value): (&str, &Option<String>),
                  optional: bool| {
        if optional && pred.is_none() {
            return;
        }
        let expected = cert_value.clone().unwrap_or_default();
        let passed = pred.is_some() && pred == *cert_value;
        checks.push(PolicyCheck::new(
            name,
            &expected,
            pred.clone(),
            passed,
            format!(
                "the provenance says {pred_label} is {}, the certificate says {cert_label} is {}",
                pred.as_deref().unwrap_or("(nothing)"),
                cert_value.as_deref().unwrap_or("(nothing)")
            ),
        ));
    };
    let legacy_builder = builder
        .as_deref()
        .and_then(|b| b.strip_prefix("https://github.com/actions/runner/"))
        .map(str::to_string);
    match legacy_builder {
        Some(env) => eq(
            "builder.id runner",
            "runDetails.builder.id (its runner)",
            Some(env),
            ("RunnerEnvironment", &cert.runner_environment),
            false,
        ),
        None => eq(
            "builder.id",
            "runDetails.builder.id",
            builder,
            ("BuildSignerURI", &cert.build_signer_uri),
            false,
        ),
    }
    eq(
        "workflow.repository",
        "buildDefinition.externalParameters.workflow.repository",
        s(&wf["repository"]),
        ("SourceRepositoryURI", &cert.source_repository_uri),
        false,
    );
    eq(
        "workflow.ref",
        "buildDefinition.externalParameters.workflow.ref",
        s(&wf["ref"]),
        ("SourceRepositoryRef", &cert.source_repository_ref),
        false,
    );
    let config_uri = match (s(&wf["repository"]), s(&wf["path"]), s(&wf["ref"])) {
        (Some(r), Some(p), Some(rf)) => Some(format!("{r}/{p}@{rf}")),
        _ => None,
    };
    eq(
        "workflow.path",
        "buildDefinition.externalParameters.workflow.path (with its repository and ref)",
        config_uri,
        ("BuildConfigURI", &cert.build_config_uri),
        false,
    );
    eq(
        "resolvedDependencies[0].digest.gitCommit",
        "buildDefinition.resolvedDependencies[0].digest.gitCommit",
        s(&dep["digest"]["gitCommit"]),
        ("SourceRepositoryDigest", &cert.source_repository_digest),
        false,
    );
    let dep_uri = match (&cert.source_repository_uri, &cert.source_repository_ref) {
        (Some(u), Some(r)) => Some(format!("git+{u}@{r}")),
        _ => None,
    };
    eq(
        "resolvedDependencies[0].uri",
        "buildDefinition.resolvedDependencies[0].uri",
        s(&dep["uri"]),
        ("git+SourceRepositoryURI@SourceRepositoryRef", &dep_uri),
        false,
    );
    eq(
        "github.event_name",
        "buildDefinition.internalParameters.github.event_name",
        s(&gh["event_name"]),
        ("BuildTrigger", &cert.build_trigger),
        false,
    );
    eq(
        "github.repository_id",
        "buildDefinition.internalParameters.github.repository_id",
        s(&gh["repository_id"]),
        (
            "SourceRepositoryIdentifier",
            &cert.source_repository_identifier,
        ),
        false,
    );
    eq(
        "github.repository_owner_id",
        "buildDefinition.internalParameters.github.repository_owner_id",
        s(&gh["repository_owner_id"]),
        (
            "SourceRepositoryOwnerIdentifier",
            &cert.source_repository_owner_identifier,
        ),
        false,
    );
    eq(
        "github.runner_environment",
        "buildDefinition.internalParameters.github.runner_environment",
        s(&gh["runner_environment"]),
        ("RunnerEnvironment", &cert.runner_environment),
        true,
    );
    eq(
        "metadata.invocationId",
        "runDetails.metadata.invocationId",
        s(&predicate["runDetails"]["metadata"]["invocationId"]),
        ("RunInvocationURI", &cert.run_invocation_uri),
        false,
    );
    checks
}

/// The buildTypes of GitHub Actions provenance, whose predicate fields the
/// certificate also states (provenance-formats.md §3).
pub const GITHUB_BUILD_TYPES: &[&str] = &[
    "https://actions.github.io/buildtypes/workflow/v1",
    "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
];

/// SLSA "verifying artifacts" for GitHub Actions provenance: every field
/// the certificate also states must agree ([`provenance_checks`]), and
/// `externalParameters` may hold only what the buildType defines
/// (`workflow.{ref, repository, path}`): SLSA says unrecognised
/// externalParameters fail verification. Statements that are not SLSA v1
/// provenance of a GitHub buildType get no checks.
pub fn github_provenance_checks(
    statement: &serde_json::Value,
    cert: &crate::certificate::CertificateSummary,
) -> Vec<PolicyCheck> {
    if statement["predicateType"] != crate::bundle::SLSA_PROVENANCE_V1 {
        return Vec::new();
    }
    let predicate = &statement["predicate"];
    let build_type = predicate["buildDefinition"]["buildType"]
        .as_str()
        .unwrap_or_default();
    if !GITHUB_BUILD_TYPES.contains(&build_type) {
        return Vec::new();
    }
    let mut checks = provenance_checks(predicate, cert);
    let external = &predicate["buildDefinition"]["externalParameters"];
    let mut unknown = Vec::new();
    match external.as_object() {
        Some(map) => {
            for (k, v) in map {
                if k != "workflow" {
                    unknown.push(format!("externalParameters.{k}"));
                    continue;
                }
                match v.as_object() {
                    Some(wf) => unknown.extend(
                        wf.keys()
                            .filter(|k| !matches!(k.as_str(), "ref" | "repository" | "path"))
                            .map(|k| format!("externalParameters.workflow.{k}")),
                    ),
                    None => unknown.push("externalParameters.workflow (not an object)".into()),
                }
            }
        }
        None => unknown.push("externalParameters (missing or not an object)".into()),
    }
    checks.push(PolicyCheck::new(
        "externalParameters",
        "workflow.{ref, repository, path} only",
        (!unknown.is_empty()).then(|| unknown.join(", ")),
        unknown.is_empty(),
        if unknown.is_empty() {
            "externalParameters holds only what the buildType defines".into()
        } else {
            format!(
                "the provenance has unrecognised {} for buildType {build_type} (SLSA: unrecognised externalParameters fail verification)",
                unknown.join(", ")
            )
        },
    ));
    checks
}
