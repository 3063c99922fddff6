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
