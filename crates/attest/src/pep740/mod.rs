//! PEP 740: the attestations PyPI serves for a distribution file.
//!
//! A *provenance object* (the Integrity API's answer, `{"version": 1,
//! "attestation_bundles": [{"publisher": {...}, "attestations": [...]}]}`)
//! groups *attestations* under the Trusted Publisher PyPI recorded. Each
//! attestation (`verification_material` with the certificate, every
//! transparency entry and optional RFC 3161 timestamps; `envelope` with the
//! in-toto statement and its signature) is the content of a Sigstore bundle
//! v0.3 with a DSSE envelope, and is verified as one, by the same core and
//! policy as every other bundle. On top, PEP 740 asks of the statement:
//! exactly one subject, whose name is a wheel or sdist file name equal,
//! after normalisation, to the file's, and a predicate type PyPI publishes
//! (`https://docs.pypi.org/attestations/publish/v1` or SLSA provenance v1).
//!
//! The publisher is PyPI's record, not signed by anyone: it is shown beside
//! what the certificate proves and never replaces the user's policy.

pub mod dist;

use std::fmt;

use base64::Engine;
use serde_json::{json, Value};

use crate::artifact::ArtifactDigest;
use crate::bundle::{parse_bundle, BundleError, BundleOrigin, LoadedBundle, Statement};
use crate::outcome::ArtifactVerdict;
use crate::verifier::Verifier;

pub use dist::DistName;

/// PyPI's publish attestation predicate type.
pub const PUBLISH_V1: &str = "https://docs.pypi.org/attestations/publish/v1";

/// The predicate types PEP 740 attestations may carry.
pub const PREDICATE_TYPES: [&str; 2] = [PUBLISH_V1, crate::bundle::SLSA_PROVENANCE_V1];

/// The largest provenance object or attestation file read.
pub const MAX_PROVENANCE_BYTES: usize = 16 * 1024 * 1024;

/// The media type of the Integrity API's answer.
pub const INTEGRITY_MEDIA_TYPE: &str = "application/vnd.pypi.integrity.v1+json";

/// Why a provenance object or an attestation cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {detail}")]
pub struct Pep740Error {
    /// The file or URL.
    pub origin: String,
    /// Which field, and what was expected.
    pub detail: String,
}

/// Who PyPI says published the file (its Trusted Publisher record).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Publisher {
    /// GitHub Actions.
    GitHub {
        /// `OWNER/REPO`.
        repository: String,
        /// The workflow file name.
        workflow: String,
        /// The deployment environment, if one was configured.
        environment: Option<String>,
    },
    /// GitLab CI/CD.
    GitLab {
        /// `NAMESPACE/PROJECT`.
        repository: String,
        /// The CI file path.
        workflow_filepath: String,
        /// The environment, if one was configured.
        environment: Option<String>,
    },
    /// Google Cloud (a service account).
    Google {
        /// The service account's email.
        email: String,
    },
    /// CircleCI.
    CircleCi {
        /// The project ID.
        project_id: String,
        /// The pipeline definition ID.
        pipeline_definition_id: String,
        /// `vcs_origin`, if given.
        vcs_origin: Option<String>,
        /// `vcs_ref`, if given.
        vcs_ref: Option<String>,
    },
    /// A kind attest does not know yet (PyPI adds Trusted Publisher kinds):
    /// shown as PyPI gave it, never matched.
    Unknown {
        /// The `kind`.
        kind: String,
        /// The whole record.
        raw: Value,
    },
}

impl Publisher {
    fn from_value(v: &Value, err: &dyn Fn(String) -> Pep740Error) -> Result<Self, Pep740Error> {
        let s = |name: &str| -> Result<String, Pep740Error> {
            v.get(name)
                .and_then(Value::as_str)
                .map(crate::text::remote_text)
                .ok_or_else(|| err(format!("publisher: expected {name:?}, a string")))
        };
        let opt = |name: &str| {
            v.get(name)
                .and_then(Value::as_str)
                .filter(|x| !x.is_empty())
                .map(crate::text::remote_text)
        };
        let kind = s("kind")?;
        Ok(match kind.as_str() {
            "GitHub" => Self::GitHub {
                repository: s("repository")?,
                workflow: s("workflow")?,
                environment: opt("environment"),
            },
            "GitLab" => Self::GitLab {
                repository: s("repository")?,
                workflow_filepath: s("workflow_filepath")?,
                environment: opt("environment"),
            },
            "Google" => Self::Google { email: s("email")? },
            "CircleCI" => Self::CircleCi {
                project_id: s("project_id")?,
                pipeline_definition_id: s("pipeline_definition_id")?,
                vcs_origin: opt("vcs_origin"),
                vcs_ref: opt("vcs_ref"),
            },
            _ => Self::Unknown {
                kind,
                raw: v.clone(),
            },
        })
    }

    /// A publisher record from JSON (PyPI's `publisher`, or a pylock.toml
    /// `attestation-identities` entry).
    pub fn from_json(v: &Value) -> Result<Self, String> {
        Self::from_value(v, &|detail| Pep740Error {
            origin: String::new(),
            detail,
        })
        .map_err(|e| e.detail)
    }

    /// Whether `cert` was issued to this publisher, as PyPI checks a
    /// Trusted Publisher: GitHub and GitLab by the Build Config URI (the
    /// workflow that started the run: for a reusable workflow, the caller,
    /// which is what a Trusted Publisher names; the SAN is the reusable
    /// one), Google and CircleCI by the identity and issuer. The
    /// environment is in the OIDC token, not in the certificate: it is
    /// PyPI's to check, and cannot be checked here. An unknown kind never
    /// matches.
    pub fn matches(&self, cert: &crate::certificate::CertificateSummary) -> Result<(), String> {
        let issuer = cert.issuer.as_deref().unwrap_or_default();
        let san = cert.subject_alternative_name.as_deref().unwrap_or_default();
        let config = cert.build_config_uri.as_deref().unwrap_or_default();
        let (ok, wanted) = match self {
            Self::GitHub {
                repository,
                workflow,
                ..
            } => {
                let prefix =
                    format!("https://github.com/{repository}/.github/workflows/{workflow}@");
                (
                    issuer == "https://token.actions.githubusercontent.com"
                        && config
                            .to_ascii_lowercase()
                            .starts_with(&prefix.to_ascii_lowercase()),
                    format!("Build Config URI {prefix}…"),
                )
            }
            Self::GitLab {
                repository,
                workflow_filepath,
                ..
            } => {
                let prefix = format!("https://gitlab.com/{repository}//{workflow_filepath}@");
                (
                    issuer == "https://gitlab.com" && config.starts_with(&prefix),
                    format!("Build Config URI {prefix}…"),
                )
            }
            Self::Google { email } => (
                issuer == "https://accounts.google.com" && san == email,
                format!("identity {email}"),
            ),
            Self::CircleCi {
                project_id,
                pipeline_definition_id,
                ..
            } => {
                let want = format!(
                    "https://circleci.com/api/v2/projects/{project_id}/pipeline-definitions/{pipeline_definition_id}"
                );
                (
                    issuer == "https://oidc.circleci.com" && san == want,
                    format!("identity {want}"),
                )
            }
            Self::Unknown { kind, .. } => {
                return Err(format!(
                    "unknown publisher kind {kind:?}: cannot be checked"
                ))
            }
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "expected {wanted} ({self}), the certificate has {} by {issuer}",
                if config.is_empty() || matches!(self, Self::Google { .. } | Self::CircleCi { .. })
                {
                    san.to_string()
                } else {
                    config.to_string()
                }
            ))
        }
    }

    /// What a certificate of this publisher would show, for the reader to
    /// compare with what it does show: the workflow or identity, and issuer.
    pub fn expected_identity(&self) -> Option<(String, &'static str)> {
        match self {
            Self::GitHub {
                repository,
                workflow,
                ..
            } => Some((
                format!("https://github.com/{repository}/.github/workflows/{workflow}@…"),
                "https://token.actions.githubusercontent.com",
            )),
            Self::GitLab {
                repository,
                workflow_filepath,
                ..
            } => Some((
                format!("https://gitlab.com/{repository}//{workflow_filepath}@…"),
                "https://gitlab.com",
            )),
            Self::Google { email } => Some((email.clone(), "https://accounts.google.com")),
            Self::CircleCi {
                project_id,
                pipeline_definition_id,
                ..
            } => Some((
                format!(
                    "https://circleci.com/api/v2/projects/{project_id}/pipeline-definitions/{pipeline_definition_id}"
                ),
                "https://oidc.circleci.com",
            )),
            Self::Unknown { .. } => None,
        }
    }
}

impl fmt::Display for Publisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env = |e: &Option<String>| {
            e.as_ref()
                .map(|e| format!(", environment {e}"))
                .unwrap_or_default()
        };
        match self {
            Self::GitHub {
                repository,
                workflow,
                environment,
            } => write!(
                f,
                "GitHub {repository}, workflow {workflow}{}",
                env(environment)
            ),
            Self::GitLab {
                repository,
                workflow_filepath,
                environment,
            } => write!(
                f,
                "GitLab {repository}, {workflow_filepath}{}",
                env(environment)
            ),
            Self::Google { email } => write!(f, "Google {email}"),
            Self::CircleCi {
                project_id,
                pipeline_definition_id,
                ..
            } => write!(
                f,
                "CircleCI project {project_id}, pipeline definition {pipeline_definition_id}"
            ),
            Self::Unknown { kind, .. } => write!(
                f,
                "unknown publisher kind {kind:?} (shown as PyPI recorded it; not checked)"
            ),
        }
    }
}

/// One attestation, with the publisher PyPI recorded for it (if it came
/// in a provenance object).
#[derive(Debug, Clone)]
pub struct Attestation {
    /// `FILE` or `URL`, with the bundle and attestation index.
    pub origin: String,
    /// PyPI's publisher record, unsigned.
    pub publisher: Option<Publisher>,
    /// The attestation object as given.
    pub raw: Value,
}

/// Everything read from a provenance object or an attestation file.
#[derive(Debug, Clone)]
pub struct Provenance {
    /// Every attestation, in order.
    pub attestations: Vec<Attestation>,
}

/// Parse `bytes` from `origin`: a provenance object (the Integrity API's
/// answer), or a single attestation (a `.publish.attestation` file).
pub fn parse(bytes: &[u8], origin: &str) -> Result<Provenance, Pep740Error> {
    let err = |detail: String| Pep740Error {
        origin: origin.to_string(),
        detail,
    };
    if bytes.len() > MAX_PROVENANCE_BYTES {
        return Err(err(format!(
            "{} bytes, over the {MAX_PROVENANCE_BYTES}-byte limit",
            bytes.len()
        )));
    }
    crate::json::check_unique_keys(bytes).map_err(|e| err(e.to_string()))?;
    let v: Value = serde_json::from_slice(bytes).map_err(|e| {
        err(format!(
            "expected a PEP 740 provenance object or attestation (JSON): {e}"
        ))
    })?;
    if v.get("version").and_then(Value::as_u64) != Some(1) {
        return Err(err("expected \"version\": 1".into()));
    }
    if v.get("envelope").is_some() {
        return Ok(Provenance {
            attestations: vec![Attestation {
                origin: origin.to_string(),
                publisher: None,
                raw: v,
            }],
        });
    }
    let groups = v
        .get("attestation_bundles")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            err(
                "expected \"attestation_bundles\", an array (or an attestation with \"envelope\")"
                    .into(),
            )
        })?;
    let mut attestations = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let here = |detail: String| err(format!("attestation_bundles[{i}]: {detail}"));
        let publisher = g
            .get("publisher")
            .ok_or_else(|| here("expected \"publisher\"".into()))
            .and_then(|p| Publisher::from_value(p, &|d| here(d)))?;
        let list = g
            .get("attestations")
            .and_then(Value::as_array)
            .ok_or_else(|| here("expected \"attestations\", an array".into()))?;
        for (j, a) in list.iter().enumerate() {
            attestations.push(Attestation {
                origin: format!("{origin} (bundle {}, attestation {})", i + 1, j + 1),
                publisher: Some(publisher.clone()),
                raw: a.clone(),
            });
        }
    }
    Ok(Provenance { attestations })
}

impl Attestation {
    /// The Sigstore bundle v0.3 this attestation is the content of.
    pub fn to_bundle(&self, index: usize) -> Result<LoadedBundle, BundleError> {
        let shape = |detail: String| BundleError::Shape {
            origin: self.origin.clone(),
            detail: format!("PEP 740 attestation: {detail}"),
        };
        let a = &self.raw;
        if a.get("version").and_then(Value::as_u64) != Some(1) {
            return Err(shape("expected \"version\": 1".into()));
        }
        let vm = a
            .get("verification_material")
            .ok_or_else(|| shape("expected \"verification_material\"".into()))?;
        let cert = vm
            .get("certificate")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                shape("expected verification_material.certificate, base64 DER".into())
            })?;
        let entries = vm
            .get("transparency_entries")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                shape("expected verification_material.transparency_entries, an array".into())
            })?;
        let env = a
            .get("envelope")
            .ok_or_else(|| shape("expected \"envelope\"".into()))?;
        let statement = env
            .get("statement")
            .and_then(Value::as_str)
            .ok_or_else(|| shape("expected envelope.statement, base64".into()))?;
        let signature = env
            .get("signature")
            .and_then(Value::as_str)
            .ok_or_else(|| shape("expected envelope.signature, base64".into()))?;
        let mut material = json!({
            "certificate": { "rawBytes": cert },
            "tlogEntries": entries,
        });
        if let Some(ts) = vm.get("timestamps") {
            let list = ts.as_array().ok_or_else(|| {
                shape("expected verification_material.timestamps, an array".into())
            })?;
            let signed: Vec<Value> = list
                .iter()
                .map(|t| {
                    t.as_str()
                        .map(|s| json!({ "signedTimestamp": s }))
                        .ok_or_else(|| shape("expected each timestamp as a base64 string".into()))
                })
                .collect::<Result<_, _>>()?;
            if !signed.is_empty() {
                material["timestampVerificationData"] = json!({ "rfc3161Timestamps": signed });
            }
        }
        let bundle = json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": material,
            "dsseEnvelope": {
                "payload": statement,
                "payloadType": crate::bundle::IN_TOTO_PAYLOAD_TYPE,
                "signatures": [{ "sig": signature }],
            },
        });
        parse_bundle(
            &bundle.to_string(),
            BundleOrigin {
                source: self.origin.clone(),
                line: 0,
                index,
            },
        )
    }
}

/// PEP 740's rules for the statement of a verified attestation of `file`:
/// exactly one subject, named as `file` (a wheel or sdist, compared after
/// normalisation), and a predicate type PyPI publishes.
pub fn check_statement(statement: &Statement, file: &str) -> Result<(), String> {
    if !PREDICATE_TYPES.contains(&statement.predicate_type.as_str()) {
        return Err(format!(
            "predicate type {} is not one PEP 740 attestations carry ({})",
            crate::text::remote_text(&statement.predicate_type),
            PREDICATE_TYPES.join(" or ")
        ));
    }
    let [subject] = statement.subjects.as_slice() else {
        return Err(format!(
            "the statement has {} subjects; a PEP 740 attestation has exactly one",
            statement.subjects.len()
        ));
    };
    let wanted = DistName::parse(file).map_err(|e| format!("the file: {e}"))?;
    let named = DistName::parse(&subject.name).map_err(|e| format!("the subject: {e}"))?;
    if named != wanted {
        return Err(format!(
            "the subject names {} ({named}), not {} ({wanted})",
            crate::text::remote_text(&subject.name),
            crate::text::remote_text(file)
        ));
    }
    Ok(())
}

/// The bundles of `provenance` as attestations of the distribution `file`,
/// in order (one that cannot be converted is an error in its place). Each
/// carries `file`, so whichever path verifies it holds its statement to
/// PEP 740's rules, and PyPI's publisher record for display.
pub fn bundles_for(provenance: &Provenance, file: &str) -> Vec<Result<LoadedBundle, BundleError>> {
    provenance
        .attestations
        .iter()
        .enumerate()
        .map(|(i, a)| {
            a.to_bundle(i + 1).map(|mut b| {
                b.distribution = Some(file.to_string());
                b.publisher = a.publisher.as_ref().map(ToString::to_string);
                b
            })
        })
        .collect()
}

/// Verify the distribution `file` (its name and `digest`) against
/// `provenance`: each attestation by `verifier` (signature, chain, logs,
/// timestamps, subject digest, policy) and PEP 740's statement rules (the
/// `PEP 740 statement` check).
pub fn verify_distribution(
    verifier: &Verifier,
    provenance: &Provenance,
    file: &str,
    digest: &ArtifactDigest,
) -> ArtifactVerdict {
    verifier.verify_artifact(&bundles_for(provenance, file), digest)
}

/// The Integrity API URL of a file's provenance under `index` (PyPI's
/// `https://pypi.org`; a `…/simple` index URL is accepted for it).
pub fn integrity_url(index: &str, file: &str) -> Result<String, String> {
    // Only a wheel or sdist name has a project and version to ask about.
    DistName::parse(file)?;
    let (project, version) = match file.strip_suffix(".whl") {
        // The URL names the project and version as the file does.
        Some(stem) => {
            let mut parts = stem.split('-');
            (
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
            )
        }
        None => {
            let stem = file
                .strip_suffix(".tar.gz")
                .or_else(|| file.strip_suffix(".zip"))
                .unwrap_or(file);
            stem.rsplit_once('-').unwrap_or((stem, ""))
        }
    };
    Ok(format!(
        "{}/integrity/{}/{}/{}/provenance",
        index_base(index),
        dist::normalize_name(project),
        version,
        encode_segment(file)
    ))
}

/// The base of `index`: without a trailing `/`, and without a `/simple`
/// path (pip's `--index-url` form).
pub fn index_base(index: &str) -> String {
    let trimmed = index.trim_end_matches('/');
    trimmed
        .strip_suffix("/simple")
        .unwrap_or(trimmed)
        .to_string()
}

fn encode_segment(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '!') {
                c.to_string()
            } else {
                format!("%{:02X}", c as u32)
            }
        })
        .collect()
}

/// The PEP 740 attestation object equivalent to a Sigstore bundle v0.3
/// with a DSSE envelope and a certificate (what `actions/attest` or `attest
/// sign` writes): what PyPI's upload accepts beside the file.
pub fn attestation_from_bundle(bundle: &Value) -> Result<Value, String> {
    let vm = &bundle["verificationMaterial"];
    let cert = vm["certificate"]["rawBytes"]
        .as_str()
        .ok_or("expected verificationMaterial.certificate.rawBytes (a v0.3 bundle)")?;
    let env = &bundle["dsseEnvelope"];
    let statement = env["payload"]
        .as_str()
        .ok_or("expected dsseEnvelope.payload (a DSSE bundle)")?;
    if env["payloadType"].as_str() != Some(crate::bundle::IN_TOTO_PAYLOAD_TYPE) {
        return Err("expected an in-toto payload".into());
    }
    let [sig] = env["signatures"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    else {
        return Err("expected exactly one DSSE signature".into());
    };
    let signature = sig["sig"]
        .as_str()
        .ok_or("expected dsseEnvelope.signatures[0].sig")?;
    let mut material = json!({
        "certificate": cert,
        "transparency_entries": vm["tlogEntries"].as_array().cloned().unwrap_or_default(),
    });
    if let Some(ts) = vm["timestampVerificationData"]["rfc3161Timestamps"].as_array() {
        let list: Vec<Value> = ts.iter().map(|t| t["signedTimestamp"].clone()).collect();
        if !list.is_empty() {
            material["timestamps"] = Value::Array(list);
        }
    }
    Ok(json!({
        "version": 1,
        "verification_material": material,
        "envelope": { "statement": statement, "signature": signature },
    }))
}

/// The base64 of `bytes` (the Integrity API's and the attestation's
/// encoding), for tests and writers.
pub fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrity_urls_name_project_version_and_file() {
        assert_eq!(
            integrity_url("https://pypi.org/simple/", "sampleproject-4.0.0.tar.gz").unwrap(),
            "https://pypi.org/integrity/sampleproject/4.0.0/sampleproject-4.0.0.tar.gz/provenance"
        );
        assert_eq!(
            integrity_url("http://127.0.0.1:9/", "Open_Med-1.8.0-py3-none-any.whl").unwrap(),
            "http://127.0.0.1:9/integrity/open-med/1.8.0/Open_Med-1.8.0-py3-none-any.whl/provenance"
        );
        assert!(integrity_url("https://pypi.org", "setup.exe").is_err());
    }

    #[test]
    fn unknown_publisher_kinds_are_kept_and_named() {
        let p = parse(
            br#"{"version":1,"attestation_bundles":[{"publisher":{"kind":"Bitbucket","x":1},"attestations":[]}]}"#,
            "p.json",
        )
        .unwrap();
        assert!(p.attestations.is_empty());
        let bad = parse(
            br#"{"version":1,"attestation_bundles":[{"attestations":[]}]}"#,
            "p.json",
        )
        .unwrap_err();
        assert!(bad.to_string().contains("expected \"publisher\""), "{bad}");
        let e = Publisher::from_value(&serde_json::json!({"kind": "Bitbucket"}), &|d| {
            Pep740Error {
                origin: String::new(),
                detail: d,
            }
        })
        .unwrap();
        assert!(
            e.to_string()
                .starts_with("unknown publisher kind \"Bitbucket\""),
            "{e}"
        );
        assert!(parse(br#"{"version":2,"attestation_bundles":[]}"#, "p").is_err());
        assert!(parse(br#"{"version":1,"version":1}"#, "p").is_err());
    }

    fn data(name: &str) -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/pep740")
                .join(name),
        )
        .unwrap()
    }

    fn publisher(v: Value) -> Publisher {
        Publisher::from_json(&v).unwrap()
    }

    fn cert(issuer: &str, san: &str, config: &str) -> crate::certificate::CertificateSummary {
        crate::certificate::CertificateSummary {
            issuer: Some(issuer.into()),
            subject_alternative_name: Some(san.into()),
            build_config_uri: Some(config.into()),
            ..Default::default()
        }
    }

    #[test]
    fn the_size_limit_is_16_mib_and_checked_before_parsing() {
        assert_eq!(MAX_PROVENANCE_BYTES, 16_777_216);
        let over = vec![b' '; MAX_PROVENANCE_BYTES + 1];
        let e = parse(&over, "big.json").unwrap_err();
        assert_eq!(e.origin, "big.json");
        assert_eq!(
            e.detail, "16777217 bytes, over the 16777216-byte limit",
            "{e}"
        );
        // At the limit: read, and refused for what it says.
        let mut at = br#"{"version":2}"#.to_vec();
        at.resize(MAX_PROVENANCE_BYTES, b' ');
        let e = parse(&at, "big.json").unwrap_err();
        assert_eq!(e.detail, "expected \"version\": 1", "{e}");
    }

    #[test]
    fn publisher_records_of_every_kind_are_read_field_by_field() {
        assert_eq!(
            publisher(json!({"kind": "GitHub", "repository": "pypa/sampleproject",
                "workflow": "release.yml", "environment": "pypi"})),
            Publisher::GitHub {
                repository: "pypa/sampleproject".into(),
                workflow: "release.yml".into(),
                environment: Some("pypi".into()),
            }
        );
        // An empty optional field is no field.
        assert_eq!(
            publisher(
                json!({"kind": "GitHub", "repository": "o/r", "workflow": "w.yml",
                "environment": ""})
            ),
            Publisher::GitHub {
                repository: "o/r".into(),
                workflow: "w.yml".into(),
                environment: None,
            }
        );
        assert_eq!(
            publisher(json!({"kind": "GitLab", "repository": "g/p",
                "workflow_filepath": ".gitlab-ci.yml", "environment": "release"})),
            Publisher::GitLab {
                repository: "g/p".into(),
                workflow_filepath: ".gitlab-ci.yml".into(),
                environment: Some("release".into()),
            }
        );
        assert_eq!(
            publisher(json!({"kind": "Google", "email": "sa@p.iam.gserviceaccount.com"})),
            Publisher::Google {
                email: "sa@p.iam.gserviceaccount.com".into()
            }
        );
        assert_eq!(
            publisher(json!({"kind": "CircleCI", "project_id": "p1",
                "pipeline_definition_id": "d1", "vcs_origin": "github.com/o/r", "vcs_ref": ""})),
            Publisher::CircleCi {
                project_id: "p1".into(),
                pipeline_definition_id: "d1".into(),
                vcs_origin: Some("github.com/o/r".into()),
                vcs_ref: None,
            }
        );
        // A required field missing is named.
        assert_eq!(
            Publisher::from_json(&json!({"kind": "GitHub", "repository": "o/r"})).unwrap_err(),
            "publisher: expected \"workflow\", a string"
        );
        assert_eq!(
            Publisher::from_json(&json!({"kind": "Google"})).unwrap_err(),
            "publisher: expected \"email\", a string"
        );
        assert_eq!(
            Publisher::from_json(&json!({"repository": "o/r"})).unwrap_err(),
            "publisher: expected \"kind\", a string"
        );
    }

    #[test]
    fn publishers_match_certificates_as_pypi_checks_them() {
        const GH: &str = "https://token.actions.githubusercontent.com";
        let gh = publisher(json!({"kind": "GitHub", "repository": "pypa/sampleproject",
            "workflow": "release.yml"}));
        let good =
            "https://github.com/PyPA/SampleProject/.github/workflows/release.yml@refs/tags/v4";
        assert_eq!(gh.matches(&cert(GH, "san", good)), Ok(()));
        // The right workflow from another issuer, another workflow from the right one.
        assert!(gh
            .matches(&cert("https://evil.example", "san", good))
            .is_err());
        assert_eq!(
            gh.matches(&cert(
                GH,
                "san",
                "https://github.com/pypa/sampleproject/.github/workflows/other.yml@refs/tags/v4"
            ))
            .unwrap_err(),
            "expected Build Config URI https://github.com/pypa/sampleproject/.github/workflows/release.yml@… \
             (GitHub pypa/sampleproject, workflow release.yml), the certificate has \
             https://github.com/pypa/sampleproject/.github/workflows/other.yml@refs/tags/v4 by {GH}"
                .replace("{GH}", GH)
        );

        let gl = publisher(json!({"kind": "GitLab", "repository": "g/p",
            "workflow_filepath": ".gitlab-ci.yml"}));
        let good = "https://gitlab.com/g/p//.gitlab-ci.yml@refs/heads/main";
        assert_eq!(gl.matches(&cert("https://gitlab.com", "san", good)), Ok(()));
        assert!(gl
            .matches(&cert("https://gitlab.example", "san", good))
            .is_err());
        assert!(gl
            .matches(&cert(
                "https://gitlab.com",
                "san",
                "https://gitlab.com/g/p//other.yml@refs/heads/main"
            ))
            .is_err());
        // GitLab's comparison is exact (case-sensitive).
        assert!(gl
            .matches(&cert(
                "https://gitlab.com",
                "san",
                "https://gitlab.com/G/P//.gitlab-ci.yml@refs/heads/main"
            ))
            .is_err());

        const GOOGLE: &str = "https://accounts.google.com";
        let g = publisher(json!({"kind": "Google", "email": "sa@x.iam.gserviceaccount.com"}));
        assert_eq!(
            g.matches(&cert(GOOGLE, "sa@x.iam.gserviceaccount.com", "")),
            Ok(())
        );
        assert!(g
            .matches(&cert("https://other", "sa@x.iam.gserviceaccount.com", ""))
            .is_err());
        assert_eq!(
            g.matches(&cert(GOOGLE, "other@x.iam.gserviceaccount.com", "cfg"))
                .unwrap_err(),
            format!(
                "expected identity sa@x.iam.gserviceaccount.com (Google sa@x.iam.gserviceaccount.com), \
                 the certificate has other@x.iam.gserviceaccount.com by {GOOGLE}"
            )
        );

        const CIRCLE: &str = "https://oidc.circleci.com";
        let c = publisher(json!({"kind": "CircleCI", "project_id": "p1",
            "pipeline_definition_id": "d1"}));
        let want = "https://circleci.com/api/v2/projects/p1/pipeline-definitions/d1";
        assert_eq!(c.matches(&cert(CIRCLE, want, "")), Ok(()));
        assert!(c.matches(&cert("https://other", want, "")).is_err());
        assert!(c
            .matches(&cert(
                CIRCLE,
                "https://circleci.com/api/v2/projects/p1/pipeline-definitions/d2",
                ""
            ))
            .is_err());

        let u = publisher(json!({"kind": "Bitbucket"}));
        assert_eq!(
            u.matches(&cert(GH, "san", "cfg")).unwrap_err(),
            "unknown publisher kind \"Bitbucket\": cannot be checked"
        );
    }

    #[test]
    fn expected_identities_name_workflow_or_identity_and_issuer() {
        let id = |v: Value| publisher(v).expected_identity();
        assert_eq!(
            id(json!({"kind": "GitHub", "repository": "o/r", "workflow": "w.yml"})),
            Some((
                "https://github.com/o/r/.github/workflows/w.yml@…".into(),
                "https://token.actions.githubusercontent.com"
            ))
        );
        assert_eq!(
            id(json!({"kind": "GitLab", "repository": "g/p", "workflow_filepath": "ci.yml"})),
            Some((
                "https://gitlab.com/g/p//ci.yml@…".into(),
                "https://gitlab.com"
            ))
        );
        assert_eq!(
            id(json!({"kind": "Google", "email": "a@b"})),
            Some(("a@b".into(), "https://accounts.google.com"))
        );
        assert_eq!(
            id(json!({"kind": "CircleCI", "project_id": "p", "pipeline_definition_id": "d"})),
            Some((
                "https://circleci.com/api/v2/projects/p/pipeline-definitions/d".into(),
                "https://oidc.circleci.com"
            ))
        );
        assert_eq!(id(json!({"kind": "Bitbucket"})), None);
    }

    #[test]
    fn timestamps_are_carried_only_when_there_are_some() {
        let with = parse(
            &data("pypi_attestations-0.0.19.tar.gz.publish.attestation.with_timestamp"),
            "a",
        )
        .unwrap();
        let b = with.attestations[0].to_bundle(1).unwrap();
        let ts = b.raw["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
            .as_array()
            .expect("timestamps carried");
        assert_eq!(
            ts.len(),
            with.attestations[0].raw["verification_material"]["timestamps"]
                .as_array()
                .unwrap()
                .len()
        );
        let mut raw = with.attestations[0].raw.clone();
        raw["verification_material"]["timestamps"] = json!([]);
        let empty = Attestation {
            origin: "a".into(),
            publisher: None,
            raw,
        };
        let b = empty.to_bundle(1).unwrap();
        assert!(
            b.raw["verificationMaterial"]
                .get("timestampVerificationData")
                .is_none(),
            "{}",
            b.raw["verificationMaterial"]
        );
        let mut raw = with.attestations[0].raw.clone();
        raw["version"] = json!(2);
        let e = Attestation {
            origin: "a".into(),
            publisher: None,
            raw,
        }
        .to_bundle(1)
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("PEP 740 attestation: expected \"version\": 1"),
            "{e}"
        );
    }

    #[test]
    fn bundles_are_numbered_from_one_and_carry_file_and_publisher() {
        let one = parse(&data("sampleproject-4.0.0.tar.gz.provenance"), "p").unwrap();
        let twice = Provenance {
            attestations: vec![one.attestations[0].clone(), one.attestations[0].clone()],
        };
        let bundles = bundles_for(&twice, "sampleproject-4.0.0.tar.gz");
        assert_eq!(bundles.len(), 2);
        for (i, b) in bundles.iter().enumerate() {
            let b = b.as_ref().unwrap();
            assert_eq!(b.origin.index, i + 1);
            assert_eq!(
                b.distribution.as_deref(),
                Some("sampleproject-4.0.0.tar.gz")
            );
            assert!(
                b.publisher.as_deref().unwrap().starts_with("GitHub "),
                "{:?}",
                b.publisher
            );
        }
    }

    #[test]
    fn attestations_from_bundles_round_trip_and_refuse_what_is_no_dsse_bundle() {
        let text = data("rfc8785-0.1.2-py3-none-any.whl.sigstore");
        let bundle: Value = serde_json::from_slice(&text).unwrap();
        let a = attestation_from_bundle(&bundle).unwrap();
        assert_eq!(a["version"], 1);
        assert_eq!(
            a["envelope"]["statement"],
            bundle["dsseEnvelope"]["payload"]
        );
        assert_eq!(
            a["envelope"]["signature"],
            bundle["dsseEnvelope"]["signatures"][0]["sig"]
        );
        assert_eq!(
            a["verification_material"]["certificate"],
            bundle["verificationMaterial"]["certificate"]["rawBytes"]
        );
        // No timestamps in the bundle: none in the attestation.
        assert!(a["verification_material"].get("timestamps").is_none());
        let mut stamped = bundle.clone();
        stamped["verificationMaterial"]["timestampVerificationData"] =
            json!({"rfc3161Timestamps": [{"signedTimestamp": "AAAA"}]});
        let a2 = attestation_from_bundle(&stamped).unwrap();
        assert_eq!(a2["verification_material"]["timestamps"], json!(["AAAA"]));
        let mut empty = bundle.clone();
        empty["verificationMaterial"]["timestampVerificationData"] =
            json!({"rfc3161Timestamps": []});
        let a3 = attestation_from_bundle(&empty).unwrap();
        assert!(a3["verification_material"].get("timestamps").is_none());

        let mut other = bundle.clone();
        other["dsseEnvelope"]["payloadType"] = json!("text/plain");
        assert_eq!(
            attestation_from_bundle(&other).unwrap_err(),
            "expected an in-toto payload"
        );
        let mut two = bundle.clone();
        two["dsseEnvelope"]["signatures"] = json!([{"sig": "a"}, {"sig": "b"}]);
        assert_eq!(
            attestation_from_bundle(&two).unwrap_err(),
            "expected exactly one DSSE signature"
        );
        assert_eq!(base64(b"hi"), "aGk=");
    }

    #[test]
    fn index_bases_and_segments() {
        assert_eq!(index_base("https://pypi.org/simple/"), "https://pypi.org");
        assert_eq!(
            index_base("https://x.example/pypi/"),
            "https://x.example/pypi"
        );
        assert_eq!(encode_segment("a b/c+d!~.whl"), "a%20b%2Fc+d!~.whl");
    }
}
