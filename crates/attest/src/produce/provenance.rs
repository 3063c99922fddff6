//! SLSA provenance v1 statements, exactly as `actions/attest` builds them.
//!
//! The predicate is derived from a GitHub Actions OIDC token's claims (see
//! `provenance-formats.md` §2): build type, workflow ref/repository/path,
//! event and IDs, runner environment, the source commit, the builder (the
//! job's workflow, which may be a reusable one) and the run's invocation URL.
//! The statement is serialised as `JSON.stringify` does (compact, keys in
//! the order actions/attest writes them), so the bytes we sign are the bytes
//! actions/attest would sign.

use serde_json::{json, Map, Value};

use crate::artifact::{digest_files, ArtifactDigest, DigestAlgorithm};
use crate::manifest::parse_manifest;

/// `buildDefinition.buildType` of actions/attest's provenance.
pub const GITHUB_BUILD_TYPE: &str = "https://actions.github.io/buildtypes/workflow/v1";
/// The in-toto statement type.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// actions/attest's limit on subjects per attestation.
pub const MAX_SUBJECTS: usize = 1024;

/// The claims actions/attest requires of the OIDC token.
pub const REQUIRED_CLAIMS: [&str; 12] = [
    "iss",
    "ref",
    "sha",
    "repository",
    "event_name",
    "job_workflow_ref",
    "workflow_ref",
    "repository_id",
    "repository_owner_id",
    "runner_environment",
    "run_id",
    "run_attempt",
];

/// Why a statement could not be built.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ProvenanceError {
    /// The claims lack what actions/attest requires.
    #[error("{source_name}: Missing claims: {}", missing.join(", "))]
    MissingClaims {
        /// Where the claims came from.
        source_name: String,
        /// Which are missing (or not strings).
        missing: Vec<String>,
    },
    /// The claims are not a JSON object, or the token not a JWT.
    #[error("{source_name}: {detail}")]
    BadClaims {
        /// Where the claims came from.
        source_name: String,
        /// What is wrong.
        detail: String,
    },
    /// A subject problem (manifest lines, files, count).
    #[error("{0}")]
    Subjects(String),
}

/// GitHub Actions OIDC claims, checked for the ones provenance needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionsClaims {
    map: Map<String, Value>,
}

impl ActionsClaims {
    /// Claims from a JSON object (`--claims FILE`).
    pub fn from_json(text: &str, source_name: &str) -> Result<Self, ProvenanceError> {
        let value: Value = serde_json::from_str(text).map_err(|e| ProvenanceError::BadClaims {
            source_name: source_name.to_string(),
            detail: format!("not JSON: {e}"),
        })?;
        Self::from_value(value, source_name)
    }

    /// Claims from a JSON value.
    pub fn from_value(value: Value, source_name: &str) -> Result<Self, ProvenanceError> {
        let Value::Object(map) = value else {
            return Err(ProvenanceError::BadClaims {
                source_name: source_name.to_string(),
                detail: "expected a JSON object of claims".into(),
            });
        };
        let missing: Vec<String> = REQUIRED_CLAIMS
            .iter()
            .filter(|c| {
                map.get(**c)
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
            })
            .map(|c| c.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(ProvenanceError::MissingClaims {
                source_name: source_name.to_string(),
                missing,
            });
        }
        Ok(Self { map })
    }

    /// The payload of a JWT, unverified (Fulcio authenticates the token; the
    /// resulting certificate is cross-checked against the statement).
    pub fn from_jwt(jwt: &str, source_name: &str) -> Result<Self, ProvenanceError> {
        Self::from_value(jwt_payload(jwt, source_name)?, source_name)
    }

    /// A claim as a string ("" if absent).
    pub fn get(&self, name: &str) -> &str {
        self.map.get(name).and_then(Value::as_str).unwrap_or("")
    }
}

/// Decode a JWT's payload without verifying it.
pub fn jwt_payload(jwt: &str, source_name: &str) -> Result<Value, ProvenanceError> {
    use base64::Engine;
    let bad = |detail: String| ProvenanceError::BadClaims {
        source_name: source_name.to_string(),
        detail,
    };
    let parts: Vec<&str> = jwt.trim().split('.').collect();
    if parts.len() != 3 {
        return Err(bad(format!(
            "not a JWT (expected 3 dot-separated parts, found {})",
            parts.len()
        )));
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1].trim_end_matches('='))
        .map_err(|e| bad(format!("the JWT payload is not base64url: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| bad(format!("the JWT payload is not JSON: {e}")))
}

/// The SLSA v1 predicate for these claims on `server_url` (`GITHUB_SERVER_URL`).
pub fn provenance_predicate(claims: &ActionsClaims, server_url: &str) -> Value {
    let server = server_url.trim_end_matches('/');
    let repo = claims.get("repository");
    let workflow_ref = claims.get("workflow_ref");
    let stripped = workflow_ref.replacen(&format!("{repo}/"), "", 1);
    let path = stripped.split('@').next().unwrap_or("");
    json!({
        "buildDefinition": {
            "buildType": GITHUB_BUILD_TYPE,
            "externalParameters": {
                "workflow": {
                    "ref": claims.get("ref"),
                    "repository": format!("{server}/{repo}"),
                    "path": path,
                }
            },
            "internalParameters": {
                "github": {
                    "event_name": claims.get("event_name"),
                    "repository_id": claims.get("repository_id"),
                    "repository_owner_id": claims.get("repository_owner_id"),
                    "runner_environment": claims.get("runner_environment"),
                }
            },
            "resolvedDependencies": [{
                "uri": format!("git+{server}/{repo}@{}", claims.get("ref")),
                "digest": { "gitCommit": claims.get("sha") }
            }]
        },
        "runDetails": {
            "builder": { "id": format!("{server}/{}", claims.get("job_workflow_ref")) },
            "metadata": {
                "invocationId": format!(
                    "{server}/{repo}/actions/runs/{}/attempts/{}",
                    claims.get("run_id"),
                    claims.get("run_attempt")
                )
            }
        }
    })
}

/// One statement subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectSpec {
    /// The name.
    pub name: String,
    /// Its digest.
    pub digest: ArtifactDigest,
}

/// Subjects from a `shasum`-format manifest (`subject-checksums`), as
/// actions/attest builds them: blank lines are skipped, a line repeating an
/// earlier one (same name, same digest) adds nothing, and one name may be
/// listed with a sha256 and a sha512 digest (two subjects). A name listed
/// again with a *different* digest of the same algorithm is refused: one of
/// the two lines is wrong, and attest will not guess which.
pub fn subjects_from_manifest(
    bytes: &[u8],
    source_name: &str,
) -> Result<Vec<SubjectSpec>, ProvenanceError> {
    let m = parse_manifest(bytes, None);
    let blank: std::collections::HashSet<usize> = bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, l)| l.iter().all(u8::is_ascii_whitespace))
        .map(|(i, _)| i + 1)
        .collect();
    let errors: Vec<_> = m
        .errors
        .iter()
        .filter(|e| !blank.contains(&e.line))
        .collect();
    if let Some(e) = errors.first() {
        return Err(ProvenanceError::Subjects(format!(
            "{source_name}: {e}{}",
            if errors.len() > 1 {
                format!(" (and {} more bad lines)", errors.len() - 1)
            } else {
                String::new()
            }
        )));
    }
    let mut subjects: Vec<(usize, SubjectSpec)> = Vec::new();
    for e in m.entries {
        let same_name_and_alg = subjects
            .iter()
            .find(|(_, s)| s.name == e.name && s.digest.algorithm() == e.digest.algorithm());
        match same_name_and_alg {
            Some((_, s)) if s.digest == e.digest => continue,
            Some((first, _)) => {
                return Err(ProvenanceError::Subjects(format!(
                    "{source_name}: line {}: {:?} is listed again with another {} digest (first on line {first})",
                    e.line,
                    e.name,
                    e.digest.algorithm()
                )))
            }
            None => subjects.push((
                e.line,
                SubjectSpec {
                    name: e.name,
                    digest: e.digest,
                },
            )),
        }
    }
    let subjects: Vec<SubjectSpec> = subjects.into_iter().map(|(_, s)| s).collect();
    check_count(&subjects)?;
    Ok(subjects)
}

/// Subjects from files: their base names and sha256 digests, each distinct
/// name and digest once.
pub fn subjects_from_files(
    paths: &[std::path::PathBuf],
) -> Result<Vec<SubjectSpec>, ProvenanceError> {
    let jobs: Vec<_> = paths
        .iter()
        .map(|p| (p.clone(), DigestAlgorithm::Sha256))
        .collect();
    let digests = digest_files(&jobs, &|_| {});
    let mut out = Vec::new();
    for (path, d) in paths.iter().zip(digests) {
        let digest = d.map_err(|e| ProvenanceError::Subjects(e.to_string()))?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| {
                ProvenanceError::Subjects(format!("{}: not a UTF-8 file name", path.display()))
            })?
            .to_string();
        let subject = SubjectSpec { name, digest };
        // actions/attest lists a file named twice (same name, same digest) once.
        if !out.contains(&subject) {
            out.push(subject);
        }
    }
    check_count(&out)?;
    Ok(out)
}

fn check_count(subjects: &[SubjectSpec]) -> Result<(), ProvenanceError> {
    if subjects.is_empty() {
        return Err(ProvenanceError::Subjects("no subjects".into()));
    }
    if subjects.len() > MAX_SUBJECTS {
        return Err(ProvenanceError::Subjects(format!(
            "{} subjects; an attestation holds at most {MAX_SUBJECTS}",
            subjects.len()
        )));
    }
    Ok(())
}

/// An in-toto statement as actions/attest serialises it.
pub fn statement_bytes(
    subjects: &[SubjectSpec],
    predicate_type: &str,
    predicate: &Value,
) -> Vec<u8> {
    let subjects: Vec<Value> = subjects
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "digest": { s.digest.algorithm().name(): s.digest.hex() }
            })
        })
        .collect();
    let statement = json!({
        "_type": STATEMENT_V1,
        "subject": subjects,
        "predicateType": predicate_type,
        "predicate": predicate,
    });
    serde_json::to_vec(&statement).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Value {
        json!({
            "iss": "https://token.actions.githubusercontent.com",
            "ref": "refs/tags/v1.2.3",
            "sha": "a6c23b9806c593664f68637c8f9d45dfcf98b2db",
            "repository": "octo-org/octo-repo",
            "event_name": "push",
            "job_workflow_ref": "octo-org/reusable/.github/workflows/build.yml@refs/heads/main",
            "workflow_ref": "octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v1.2.3",
            "repository_id": "763287532",
            "repository_owner_id": "44036562",
            "runner_environment": "github-hosted",
            "run_id": "8788389601",
            "run_attempt": "2"
        })
    }

    #[test]
    fn predicate_fields_follow_actions_attest() {
        let c = ActionsClaims::from_value(claims(), "t").unwrap();
        let p = provenance_predicate(&c, "https://github.com");
        assert_eq!(
            p["buildDefinition"]["externalParameters"]["workflow"]["path"],
            ".github/workflows/release.yml"
        );
        assert_eq!(
            p["buildDefinition"]["resolvedDependencies"][0]["uri"],
            "git+https://github.com/octo-org/octo-repo@refs/tags/v1.2.3"
        );
        assert_eq!(
            p["runDetails"]["builder"]["id"],
            "https://github.com/octo-org/reusable/.github/workflows/build.yml@refs/heads/main"
        );
        assert_eq!(
            p["runDetails"]["metadata"]["invocationId"],
            "https://github.com/octo-org/octo-repo/actions/runs/8788389601/attempts/2"
        );
    }

    #[test]
    fn missing_claims_are_listed() {
        let mut v = claims();
        v.as_object_mut().unwrap().remove("sha");
        v["run_id"] = json!(5);
        let e = ActionsClaims::from_value(v, "claims.json")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "claims.json: Missing claims: sha, run_id");
        assert!(ActionsClaims::from_jwt("a.b", "t").is_err());
    }

    #[test]
    fn statement_is_compact_in_key_order() {
        let d = ArtifactDigest::parse(
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        )
        .unwrap();
        let s = statement_bytes(
            &[SubjectSpec {
                name: "a.whl".into(),
                digest: d,
            }],
            "https://slsa.dev/provenance/v1",
            &json!({"x": 1}),
        );
        assert_eq!(
            String::from_utf8(s).unwrap(),
            r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a.whl","digest":{"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{"x":1}}"#
        );
    }

    #[test]
    fn manifest_subjects_as_actions_attest_builds_them() {
        let a256 = "ab".repeat(32);
        let a512 = "cd".repeat(64);
        let text = format!("{a256}  a.whl\n\n{a256}  a.whl\n{a512}  a.whl\n\n\n");
        let s = subjects_from_manifest(text.as_bytes(), "m.txt").unwrap();
        let got: Vec<String> = s
            .iter()
            .map(|s| format!("{} {}", s.name, s.digest))
            .collect();
        assert_eq!(
            got,
            vec![
                format!("a.whl sha256:{a256}"),
                format!("a.whl sha512:{a512}")
            ]
        );
        let conflict = format!("{a256}  a.whl\n{}  a.whl\n", "ef".repeat(32));
        let e = subjects_from_manifest(conflict.as_bytes(), "m.txt")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "m.txt: line 2: \"a.whl\" is listed again with another sha256 digest (first on line 1)"
        );
        let bad = format!("{a256}  a.whl\n\nnot a line\n");
        let e = subjects_from_manifest(bad.as_bytes(), "m.txt")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("m.txt: line 3: "), "{e}");
    }

    #[test]
    fn a_jwt_is_three_parts_and_its_payload_is_json() {
        use base64::Engine;
        let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let jwt = format!("{}.{}.sig", b64("{}"), b64(r#"{"sub":"repo:o/r"}"#));
        assert_eq!(jwt_payload(&jwt, "t").unwrap(), json!({"sub": "repo:o/r"}));
        for parts in ["a.b", "a.b.c.d"] {
            let e = jwt_payload(parts, "t").unwrap_err().to_string();
            assert!(e.contains("expected 3 dot-separated parts"), "{parts}: {e}");
        }
    }

    /// Files become subjects by base name and SHA-256, a file named twice
    /// once; none, or more than an attestation holds, is refused.
    #[test]
    fn subjects_from_files_are_named_once_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.txt");
        let b = dir.path().join("b.txt");
        std::fs::write(&a, b"x").unwrap();
        std::fs::write(&b, b"y").unwrap();
        let got = subjects_from_files(&[a.clone(), b, a]).unwrap();
        let names: Vec<&str> = got.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a.txt", "b.txt"]);
        assert_eq!(
            got[0].digest,
            crate::artifact::digest_bytes(b"x", DigestAlgorithm::Sha256)
        );
        assert!(subjects_from_files(&[]).is_err());

        let one = got[0].clone();
        let many = |n: usize| vec![one.clone(); n];
        assert!(check_count(&many(MAX_SUBJECTS)).is_ok());
        let e = check_count(&many(MAX_SUBJECTS + 1))
            .unwrap_err()
            .to_string();
        assert!(e.contains("at most 1024"), "{e}");
        assert!(check_count(&[]).is_err());
    }
}
