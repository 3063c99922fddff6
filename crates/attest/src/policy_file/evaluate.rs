//! Applying a policy file: verify each bundle once (the impure half, under
//! trust material), then evaluate every rule that matches the subject as a
//! pure function of the verified evidence.

use serde::Serialize;
use serde_json::{json, Value};

use super::{PolicyFile, Subject};
use crate::bundle::{BundleError, LoadedBundle};
use crate::outcome::Status;
use crate::trust::TrustStore;
use crate::verify::{ArtifactInput, VerifiedAttestation, VerifyError, VerifyOptions};

/// One bundle, after the cryptographic checks for one subject.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// Where the bundle came from (`file:line`, a URL).
    pub origin: String,
    /// The verified attestation, or why there is none.
    pub verified: Result<VerifiedAttestation, EvidenceFailure>,
    /// For a key-signed bundle, the index of the policy key that verified it.
    pub key: Option<usize>,
    /// What the bundle attests (its statement or message), so the same
    /// attestation given twice is counted once.
    pub content: Vec<u8>,
    /// A cosign image signature whose payload names this subject.
    pub signature: bool,
}

/// Why a bundle is no evidence for a subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "reason", rename_all = "kebab-case")]
pub enum EvidenceFailure {
    /// It could not be read.
    Unreadable(String),
    /// It is about another artifact.
    NotForArtifact(String),
    /// A cryptographic or trust check failed.
    Failed(String),
}

/// One check of one attestation against one requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleCheck {
    /// What is checked (`SubjectAlternativeName`, `predicate /a/b`, …).
    pub name: String,
    /// What the policy expects.
    pub expected: String,
    /// What the attestation says.
    pub actual: Option<String>,
    /// Whether it passed.
    pub passed: bool,
    /// One line.
    pub message: String,
}

/// One attestation considered for a requirement.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttestationReport {
    /// Where the bundle came from.
    pub origin: String,
    /// Whether it meets the requirement.
    pub passed: bool,
    /// Who signed it (what `attest.lock` records).
    pub signer: Option<super::lock::LockedIdentity>,
    /// Every check, in order.
    pub checks: Vec<RuleCheck>,
}

/// One requirement of one rule.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequirementReport {
    /// Predicate type and signer.
    pub requirement: String,
    /// Its line in the policy file.
    pub line: usize,
    /// The predicate type.
    pub predicate_type: String,
    /// How many attestations must meet it.
    pub required: usize,
    /// How many do.
    pub met: usize,
    /// `met >= required`.
    pub passed: bool,
    /// The verified attestations with this predicate type, each checked.
    pub attestations: Vec<AttestationReport>,
}

/// One rule that matched the subject.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleReport {
    /// The rule's name.
    pub rule: String,
    /// Its line.
    pub line: usize,
    /// Every requirement met.
    pub passed: bool,
    /// Each requirement.
    pub requirements: Vec<RequirementReport>,
}

/// The verdict of a policy on one subject.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectReport {
    /// The subject as named.
    pub subject: String,
    /// Its digest, `ALG:HEX`.
    pub digest: String,
    /// The policy's digest (see [`PolicyFile::digest`]).
    pub policy_digest: String,
    /// Matched by at least one rule, and every matching rule passed.
    pub passed: bool,
    /// The rules that matched (none: the subject fails, unmatched).
    pub rules: Vec<RuleReport>,
    /// Bundles that are no evidence for this subject, and why.
    pub rejected: Vec<RejectedBundle>,
    /// Why it failed, one line (`None` when it passed, except that an
    /// unmatched subject allowed by `unmatched = "allow"` says so).
    pub reason: Option<String>,
    /// How far it got.
    #[serde(skip)]
    pub status: Status,
}

/// A bundle that is no evidence for the subject.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RejectedBundle {
    /// Where it came from.
    pub origin: String,
    /// Why.
    #[serde(flatten)]
    pub failure: EvidenceFailure,
}

impl PolicyFile {
    /// The policy's verdict on `subject` given the verified `evidence`. A
    /// pure function: the same inputs give the same report.
    pub fn evaluate(&self, subject: &Subject, evidence: &[Evidence]) -> SubjectReport {
        let rules: Vec<RuleReport> = self
            .rules_for(subject)
            .map(|rule| {
                let requirements: Vec<RequirementReport> = rule
                    .requirements
                    .iter()
                    .map(|req| evaluate_requirement(req, subject, evidence))
                    .collect();
                RuleReport {
                    rule: rule.name.clone(),
                    line: rule.line,
                    passed: requirements.iter().all(|r| r.passed),
                    requirements,
                }
            })
            .collect();
        let rejected: Vec<RejectedBundle> = evidence
            .iter()
            .filter_map(|e| {
                e.verified.as_ref().err().map(|f| RejectedBundle {
                    origin: e.origin.clone(),
                    failure: f.clone(),
                })
            })
            .collect();
        let unmatched = rules.is_empty();
        let passed = if unmatched {
            self.unmatched_allowed()
        } else {
            rules.iter().all(|r| r.passed)
        };
        let reason = if passed && unmatched {
            Some(format!(
                "no rule of {} matches {}; allowed by unmatched = \"allow\"",
                self.origin(),
                subject.display
            ))
        } else if passed {
            None
        } else if unmatched {
            Some(format!(
                "no rule of {} matches {}; every artifact must be matched by a rule",
                self.origin(),
                subject.display
            ))
        } else {
            Some(
                rules
                    .iter()
                    .flat_map(|r| r.requirements.iter().map(move |q| (r, q)))
                    .filter(|(_, q)| !q.passed)
                    .map(|(r, q)| failure_reason(r, q))
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        };
        let status = if passed {
            Status::Verified
        } else if rules.is_empty() || evidence.iter().any(|e| e.verified.is_ok()) {
            Status::Policy
        } else if evidence
            .iter()
            .any(|e| matches!(e.verified, Err(EvidenceFailure::Failed(_))))
        {
            Status::Verification
        } else if evidence
            .iter()
            .any(|e| matches!(e.verified, Err(EvidenceFailure::Unreadable(_))))
        {
            Status::Unreadable
        } else {
            Status::NoAttestation
        };
        SubjectReport {
            subject: subject.display.clone(),
            digest: subject.digest.to_string(),
            policy_digest: self.digest().to_string(),
            passed,
            rules,
            rejected,
            reason,
            status,
        }
    }
}

fn failure_reason(rule: &RuleReport, req: &RequirementReport) -> String {
    let why = req
        .attestations
        .iter()
        .flat_map(|a| a.checks.iter().filter(|c| !c.passed))
        .map(|c| c.message.clone())
        .next();
    match why {
        Some(why) => format!(
            "{}: {} ({} of {} met; {why})",
            rule.rule, req.requirement, req.met, req.required
        ),
        None => format!(
            "{}: {} ({} of {} met; no verified attestation with this predicate type)",
            rule.rule, req.requirement, req.met, req.required
        ),
    }
}

fn evaluate_requirement(
    req: &super::Requirement,
    subject: &Subject,
    evidence: &[Evidence],
) -> RequirementReport {
    let mut attestations = Vec::new();
    // (content, signer) of the attestations that met the requirement.
    let mut distinct = std::collections::HashSet::new();
    for e in evidence {
        let Ok(att) = &e.verified else { continue };
        if req.signature != e.signature {
            continue;
        }
        let mut checks = if req.signature {
            req.checks(att, e.key)
        } else {
            let Some(statement) = &att.statement else {
                continue;
            };
            if statement.predicate_type != req.predicate_type {
                continue;
            }
            let mut checks = req.checks(att, e.key);
            let predicate = &statement.value["predicate"];
            checks.extend(req.constraints.iter().map(|c| c.check(predicate)));
            checks
        };
        if let Some(rego) = &req.rego {
            let verdict = rego.evaluate(&rego_input(att, subject));
            checks.push(RuleCheck {
                name: "rego".into(),
                expected: format!("{}: allow is true, deny is empty", rego.origin),
                actual: Some(format!("allow = {}", verdict.allow)),
                passed: verdict.passed,
                message: if verdict.denials.is_empty() {
                    format!("{}: allow is {}", rego.origin, verdict.allow)
                } else {
                    format!("{}: denied: {}", rego.origin, verdict.denials.join("; "))
                },
            });
        }
        let passed = checks.iter().all(|c| c.passed);
        if passed {
            let signer = format!(
                "{:?}|{:?}|{:?}",
                att.certificate, att.key_fingerprint, e.key
            );
            distinct.insert((e.content.clone(), signer));
        }
        attestations.push(AttestationReport {
            origin: e.origin.clone(),
            passed,
            signer: super::lock::LockedIdentity::of(att),
            checks,
        });
    }
    let met = distinct.len();
    RequirementReport {
        requirement: req.label.clone(),
        line: req.line,
        predicate_type: req.predicate_type.clone(),
        required: req.count,
        met,
        passed: met >= req.count,
        attestations,
    }
}

/// What a Rego policy sees: the statement, the certificate's claims (gh's
/// names), the verified timestamps and the subject.
fn rego_input(att: &VerifiedAttestation, subject: &Subject) -> Value {
    json!({
        "statement": att.statement.as_ref().map(|s| s.value.clone()),
        "certificate": att.certificate.as_ref().map(|c| serde_json::to_value(c).unwrap_or(Value::Null)),
        "key_fingerprint": att.key_fingerprint,
        "timestamps": att.timestamps.iter().map(|t| json!({
            "kind": t.kind.as_str(),
            "uri": t.uri,
            "time": t.time.to_string(),
        })).collect::<Vec<_>>(),
        "subject": { "name": subject.display, "digest": subject.digest.to_string() },
    })
}

/// What a bundle attests, however its JSON is spelt. With the verified
/// signer it identifies an attestation; signature bytes would not (an ECDSA
/// signature can be re-encoded into another valid one, and bundles can
/// carry the same signature with other material).
fn signed_content(bundle: &LoadedBundle) -> Vec<u8> {
    use sigstore_types::bundle::SignatureContent;
    let mut key = Vec::new();
    let mut part = |bytes: &[u8]| {
        key.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
        key.extend_from_slice(bytes);
    };
    let b = &bundle.bundle;
    match &b.content {
        SignatureContent::DsseEnvelope(env) => {
            part(b"dsse");
            part(env.payload_type.as_bytes());
            part(env.payload.as_bytes());
        }
        SignatureContent::MessageSignature(m) => {
            part(b"message");
            match &m.message_digest {
                Some(d) => part(d.digest.as_bytes()),
                None => part(m.signature.as_bytes()),
            }
        }
        // A content kind this build does not know: its own JSON.
        _ => part(bundle.raw.to_string().as_bytes()),
    }
    key
}

/// A policy file with the trust material to verify bundles under: the
/// front door for `verify --policy`, CI and the admission webhook.
#[derive(Debug)]
pub struct PolicyVerifier {
    policy: PolicyFile,
    trust: TrustStore,
    options: VerifyOptions,
}

impl PolicyVerifier {
    /// Verify under `trust` with `options` and apply `policy`.
    pub fn new(policy: PolicyFile, trust: TrustStore, options: VerifyOptions) -> Self {
        Self {
            policy,
            trust,
            options,
        }
    }

    /// The policy.
    pub fn policy(&self) -> &PolicyFile {
        &self.policy
    }

    /// The trust material.
    pub fn trust(&self) -> &TrustStore {
        &self.trust
    }

    /// Verify each bundle once for `subject`: keyless bundles under the
    /// trust store, key-signed ones with each key the policy names.
    ///
    /// The same signed content given twice (two bundle files, an
    /// organisation and a repository query) is one attestation: it is
    /// verified and counted once, so `count = 2` needs two signatures.
    pub fn verify_evidence(
        &self,
        subject: &Subject,
        bundles: &[Result<LoadedBundle, BundleError>],
    ) -> Vec<Evidence> {
        bundles
            .iter()
            .enumerate()
            .map(|(i, b)| match b {
                Err(e) => Evidence {
                    origin: format!("bundle {}", i + 1),
                    verified: Err(EvidenceFailure::Unreadable(e.to_string())),
                    key: None,
                    content: Vec::new(),
                    signature: false,
                },
                Ok(bundle) => self.verify_one(bundle, subject),
            })
            .collect()
    }

    fn verify_one(&self, bundle: &LoadedBundle, subject: &Subject) -> Evidence {
        let origin = bundle.origin.to_string();
        let content = signed_content(bundle);
        let input = ArtifactInput::Digest(&subject.digest);
        let classify = |e: VerifyError| {
            if e.is_no_match() {
                EvidenceFailure::NotForArtifact(e.to_string())
            } else {
                EvidenceFailure::Failed(e.to_string())
            }
        };
        let keyless = bundle.bundle.signing_certificate().is_some();
        if keyless || self.policy.keys().is_empty() {
            let verified =
                crate::verify::verify_bundle_with(bundle, input, &self.trust, self.options)
                    .map_err(classify);
            return Evidence {
                origin,
                verified,
                key: None,
                content,
                signature: false,
            };
        }
        let Some(instance) = self.trust.first() else {
            return Evidence {
                origin,
                verified: Err(EvidenceFailure::Failed(
                    "no trusted root to verify key-signed bundles against".into(),
                )),
                key: None,
                content,
                signature: false,
            };
        };
        let mut last = None;
        for (index, key) in self.policy.keys().iter().enumerate() {
            match crate::verify::verify_bundle_with_key(bundle, input, instance, key)
                .and_then(|att| crate::verifier::require_proof(self.options, &att).map(|()| att))
            {
                Ok(att) => {
                    return Evidence {
                        origin,
                        verified: Ok(att),
                        key: Some(index),
                        content,
                        signature: false,
                    }
                }
                Err(e) => last = Some(classify(e)),
            }
        }
        Evidence {
            origin,
            verified: Err(last.unwrap_or_else(|| {
                EvidenceFailure::Failed("signed with a key the policy does not name".into())
            })),
            key: None,
            content,
            signature: false,
        }
    }

    /// Verify cosign image signatures of `subject`: each payload must name
    /// the subject's digest, then the bundle it is equivalent to is
    /// verified over the payload.
    pub fn verify_signatures(
        &self,
        subject: &Subject,
        signatures: &[Result<crate::cosign::CosignSignature, crate::cosign::CosignError>],
    ) -> Vec<Evidence> {
        signatures
            .iter()
            .map(|s| {
                let sig = match s {
                    Ok(sig) => sig,
                    Err(e) => {
                        return Evidence {
                            origin: e.origin.clone(),
                            verified: Err(EvidenceFailure::Unreadable(e.detail.clone())),
                            key: None,
                            content: Vec::new(),
                            signature: true,
                        }
                    }
                };
                let failed = |f: EvidenceFailure| Evidence {
                    origin: sig.origin.clone(),
                    verified: Err(f),
                    key: None,
                    content: Vec::new(),
                    signature: true,
                };
                if let Err(e) = sig.check_payload(&subject.digest) {
                    return failed(EvidenceFailure::Failed(e.detail));
                }
                let bundle = match sig.to_bundle() {
                    Ok(b) => b,
                    Err(e) => return failed(EvidenceFailure::Unreadable(e.detail)),
                };
                let payload = Subject {
                    display: subject.display.clone(),
                    kind: subject.kind.clone(),
                    digest: sig.payload_digest(),
                };
                let mut e = self.verify_one(&bundle, &payload);
                e.signature = true;
                e
            })
            .collect()
    }

    /// Verify and evaluate one subject.
    pub fn verify_subject(
        &self,
        subject: &Subject,
        bundles: &[Result<LoadedBundle, BundleError>],
    ) -> SubjectReport {
        let evidence = self.verify_evidence(subject, bundles);
        self.policy.evaluate(subject, &evidence)
    }

    /// [`Self::verify_subject`] with the subject's cosign signatures too.
    pub fn verify_subject_with_signatures(
        &self,
        subject: &Subject,
        bundles: &[Result<LoadedBundle, BundleError>],
        signatures: &[Result<crate::cosign::CosignSignature, crate::cosign::CosignError>],
    ) -> SubjectReport {
        let mut evidence = self.verify_evidence(subject, bundles);
        evidence.extend(self.verify_signatures(subject, signatures));
        self.policy.evaluate(subject, &evidence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::{digest_bytes, DigestAlgorithm};
    use crate::certificate::CertificateSummary;
    use crate::trust::{InstanceKind, RootSource};

    fn policy(unmatched: &str) -> PolicyFile {
        PolicyFile::parse(
            &format!(
                "version = 1\nunmatched = \"{unmatched}\"\n[[rule]]\nname = \"wheels\"\nfiles = [\"*.whl\"]\n[[rule.require]]\npredicate-type = \"https://example.com/p\"\nrepo = \"o/r\"\n"
            ),
            "t.toml",
            std::path::Path::new("."),
        )
        .unwrap()
    }

    fn subject(name: &str) -> Subject {
        Subject::file(name, digest_bytes(b"x", DigestAlgorithm::Sha256))
    }

    /// A verified attestation of predicate type `https://example.com/p`
    /// from another repository than the policy's.
    fn other_repo() -> Evidence {
        let value = json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "a.whl", "digest": {"sha256": "00"}}],
            "predicateType": "https://example.com/p",
            "predicate": {},
        });
        let att = VerifiedAttestation {
            instance: InstanceKind::PublicGood,
            organization: "sigstore.dev".into(),
            root_source: RootSource::Embedded,
            certificate: Some(CertificateSummary {
                subject_alternative_name: Some(
                    "https://github.com/x/y/.github/workflows/w.yml@refs/heads/main".into(),
                ),
                issuer: Some("https://token.actions.githubusercontent.com".into()),
                source_repository_uri: Some("https://github.com/x/y".into()),
                ..Default::default()
            }),
            timestamps: Vec::new(),
            tlog_entries_verified: 1,
            inclusion: crate::verify::Inclusion::Proven,
            sct_verified: true,
            statement: Some(std::sync::Arc::new(crate::bundle::Statement {
                statement_type: "https://in-toto.io/Statement/v1".into(),
                subjects: Vec::new(),
                predicate_type: "https://example.com/p".into(),
                value,
            })),
            key_fingerprint: None,
        };
        Evidence {
            origin: "b.jsonl:1".into(),
            verified: Ok(att),
            key: None,
            content: b"c".to_vec(),
            signature: false,
        }
    }

    /// A key requirement is met by a signature of that key and nothing
    /// else: not another key, not a certificate; `runner = "self-hosted"`
    /// needs that runner in the certificate.
    #[test]
    fn a_key_needs_that_key_without_a_certificate_and_self_hosted_its_runner() {
        let pf = policy("deny");
        let base = pf.rules[0].requirements[0].clone();
        let Ok(keyless) = other_repo().verified else {
            panic!("other_repo verifies")
        };
        let met = |req: &crate::policy_file::Requirement, att: &VerifiedAttestation, key| {
            req.checks(att, key).iter().all(|c| c.passed)
        };
        let mut by_key = base.clone();
        by_key.identity = crate::policy_file::Identity::Key {
            index: 1,
            path: "k.pem".into(),
        };
        let mut key_signed = keyless.clone();
        key_signed.certificate = None;
        assert!(met(&by_key, &key_signed, Some(1)));
        assert!(!met(&by_key, &key_signed, Some(0)));
        assert!(!met(&by_key, &key_signed, None));
        assert!(!met(&by_key, &keyless, Some(1)));

        let mut self_hosted = base;
        self_hosted.self_hosted = true;
        let runner = |att: &VerifiedAttestation| {
            self_hosted
                .checks(att, None)
                .into_iter()
                .find(|c| c.name == "RunnerEnvironment")
                .expect("a runner check")
                .passed
        };
        let mut att = keyless;
        assert!(!runner(&att));
        for (env, want) in [("self-hosted", true), ("github-hosted", false)] {
            att.certificate.as_mut().unwrap().runner_environment = Some(env.into());
            assert_eq!(runner(&att), want, "{env}");
        }
    }

    #[test]
    fn the_reason_names_what_failed_or_why_nothing_matched() {
        // No rule matches: denied, or allowed, and said so.
        let r = policy("deny").evaluate(&subject("x.bin"), &[]);
        assert!(!r.passed && r.rules.is_empty());
        assert_eq!(
            r.reason.as_deref(),
            Some("no rule of t.toml matches x.bin; every artifact must be matched by a rule")
        );
        assert_eq!(r.status, Status::Policy);
        let r = policy("allow").evaluate(&subject("x.bin"), &[]);
        assert!(r.passed);
        assert_eq!(
            r.reason.as_deref(),
            Some("no rule of t.toml matches x.bin; allowed by unmatched = \"allow\"")
        );
        assert_eq!(r.status, Status::Verified);

        // A rule matches and nothing meets it: the failed requirement, with
        // no attestation of its type.
        let r = policy("allow").evaluate(&subject("a.whl"), &[]);
        assert!(!r.passed);
        let req = &r.rules[0].requirements[0];
        assert_eq!(
            r.reason.as_deref(),
            Some(
                format!(
                    "wheels: {} (0 of 1 met; no verified attestation with this predicate type)",
                    req.requirement
                )
                .as_str()
            )
        );
        assert_eq!(r.status, Status::NoAttestation);

        // An attestation of the type from another repository: the first
        // check it failed.
        let r = policy("deny").evaluate(&subject("a.whl"), &[other_repo()]);
        assert!(!r.passed);
        let req = &r.rules[0].requirements[0];
        let checks = &req.attestations[0].checks;
        let failed = checks.iter().find(|c| !c.passed).unwrap();
        assert!(checks.iter().any(|c| c.passed), "{checks:?}");
        assert_eq!(
            r.reason.unwrap(),
            format!(
                "wheels: {} (0 of 1 met; {})",
                req.requirement, failed.message
            )
        );
        assert_eq!(r.status, Status::Policy);
    }

    fn loaded(file: &str, pretty: bool) -> LoadedBundle {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/sigstore-go")
                .join(file),
        )
        .unwrap();
        let text = if pretty {
            let v: Value = serde_json::from_str(&text).unwrap();
            serde_json::to_string_pretty(&v).unwrap()
        } else {
            text
        };
        crate::bundle::parse_bundle(
            &text,
            crate::bundle::BundleOrigin {
                source: file.into(),
                line: 1,
                index: 1,
            },
        )
        .unwrap()
    }

    /// `bytes` as [`signed_content`] frames one part.
    fn framed(bytes: &[u8]) -> Vec<u8> {
        let mut v = (bytes.len() as u64).to_be_bytes().to_vec();
        v.extend_from_slice(bytes);
        v
    }

    #[test]
    fn signed_content_is_what_is_signed_however_the_json_is_spelt() {
        let dsse = signed_content(&loaded("bundle-provenance.json", false));
        let mut head = framed(b"dsse");
        head.extend(framed(b"application/vnd.in-toto+json"));
        assert!(dsse.starts_with(&head), "{dsse:?}");
        assert!(dsse.len() > head.len() + 1000);
        assert_eq!(
            dsse,
            signed_content(&loaded("bundle-provenance.json", true))
        );

        let message = signed_content(&loaded("othername.sigstore.json", false));
        assert!(message.starts_with(&framed(b"message")), "{message:?}");
        assert!(message.len() > framed(b"message").len() + 8);
        assert_eq!(
            message,
            signed_content(&loaded("othername.sigstore.json", true))
        );
        assert_ne!(message, dsse);
    }

    #[test]
    fn the_verifier_keeps_the_trust_and_policy_it_was_given() {
        let trust = TrustStore::embedded(false);
        let roots = trust.instances().len();
        assert!(roots > 0);
        let v = PolicyVerifier::new(policy("allow"), trust, VerifyOptions::default());
        assert_eq!(v.trust().instances().len(), roots);
        assert!(v.policy().unmatched_allowed());
    }

    #[test]
    fn an_unreadable_signature_is_evidence_of_its_own() {
        let v = PolicyVerifier::new(
            policy("deny"),
            TrustStore::embedded(false),
            VerifyOptions::default(),
        );
        let unreadable = Err(crate::cosign::CosignError {
            origin: "r/o:sha256-00.sig layer 1".into(),
            detail: "the layer is too big".into(),
        });
        let got = v.verify_signatures(&subject("a.whl"), &[unreadable]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].origin, "r/o:sha256-00.sig layer 1");
        assert_eq!(
            got[0].verified.as_ref().unwrap_err(),
            &EvidenceFailure::Unreadable("the layer is too big".into())
        );
        assert!(got[0].signature && got[0].key.is_none() && got[0].content.is_empty());
    }

    #[test]
    fn a_keyless_bundle_is_verified_keyless_when_the_policy_names_keys() {
        let keyed = PolicyFile::parse(
            "version = 1\n[[rule]]\nall = true\n[[rule.require]]\npredicate-type = \"https://example.com/p\"\nkey = \"cosign.pub\"\n",
            "t.toml",
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/cosign/containers-image"),
        )
        .unwrap();
        assert_eq!(keyed.keys().len(), 1);
        let v = PolicyVerifier::new(keyed, TrustStore::embedded(false), VerifyOptions::default());
        // What the bundle's statement names (sigstore@1.3.0's npm tarball).
        let npm = Subject::file(
            "sigstore-1.3.0.tgz",
            crate::artifact::ArtifactDigest::parse("sha512:76176ffa33808b54602c7c35de5c6e9a4deb96066dba6533f50ac234f4f1f4c6b3527515dc17c06fbe2860030f410eee69ea20079bd3a2c6f3dcf3b329b10751").unwrap(),
        );
        let bundle = loaded("bundle-provenance.json", false);
        let got = v.verify_evidence(&npm, &[Ok(bundle.clone())]);
        let keyless = PolicyVerifier::new(
            policy("deny"),
            TrustStore::embedded(false),
            VerifyOptions::default(),
        )
        .verify_evidence(&npm, &[Ok(bundle)]);
        assert_eq!(got[0].key, None);
        assert!(got[0].verified.is_ok(), "{:?}", got[0].verified);
        assert!(keyless[0].verified.is_ok(), "{:?}", keyless[0].verified);
    }
}
