//! What a Fulcio signing certificate says about its signer.
//!
//! The Fulcio extensions (OIDs 1.3.6.1.4.1.57264.1.x) are read as typed values
//! by `sigstore-crypto` (`FulcioCiClaims`: DER UTF8Strings for `.8` onward, bare
//! strings for the deprecated `.1`–`.6`); this module turns them into the
//! certificate summary gh prints (same keys, same order) and reads the
//! issuer's distinguished name, which decides the Sigstore instance.

use der::asn1::{Ia5StringRef, PrintableStringRef, TeletexStringRef, Utf8StringRef};
use der::{Decode, Encode};
use serde::Serialize;
use sigstore_types::DerCertificate;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::Name;
use x509_cert::Certificate;

/// The claims of a signing certificate, with gh's JSON key names
/// (sigstore-go `certificate.Summary`). Absent claims are omitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSummary {
    /// The issuer's distinguished name, formatted as Go's `pkix.Name.String()`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_issuer: Option<String>,
    /// The SAN: a workflow URI for GitHub Actions, an e-mail for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_alternative_name: Option<String>,
    /// OIDC issuer (.8, else legacy .1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// .2 (deprecated).
    #[serde(
        rename = "githubWorkflowTrigger",
        skip_serializing_if = "Option::is_none"
    )]
    pub github_workflow_trigger: Option<String>,
    /// .3 (deprecated).
    #[serde(rename = "githubWorkflowSHA", skip_serializing_if = "Option::is_none")]
    pub github_workflow_sha: Option<String>,
    /// .4 (deprecated).
    #[serde(rename = "githubWorkflowName", skip_serializing_if = "Option::is_none")]
    pub github_workflow_name: Option<String>,
    /// .5 (deprecated).
    #[serde(
        rename = "githubWorkflowRepository",
        skip_serializing_if = "Option::is_none"
    )]
    pub github_workflow_repository: Option<String>,
    /// .6 (deprecated).
    #[serde(rename = "githubWorkflowRef", skip_serializing_if = "Option::is_none")]
    pub github_workflow_ref: Option<String>,
    /// .9 Build Signer URI.
    #[serde(rename = "buildSignerURI", skip_serializing_if = "Option::is_none")]
    pub build_signer_uri: Option<String>,
    /// .10 Build Signer Digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_signer_digest: Option<String>,
    /// .11 Runner Environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runner_environment: Option<String>,
    /// .12 Source Repository URI.
    #[serde(
        rename = "sourceRepositoryURI",
        skip_serializing_if = "Option::is_none"
    )]
    pub source_repository_uri: Option<String>,
    /// .13 Source Repository Digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_repository_digest: Option<String>,
    /// .14 Source Repository Ref.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_repository_ref: Option<String>,
    /// .15 Source Repository Identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_repository_identifier: Option<String>,
    /// .16 Source Repository Owner URI.
    #[serde(
        rename = "sourceRepositoryOwnerURI",
        skip_serializing_if = "Option::is_none"
    )]
    pub source_repository_owner_uri: Option<String>,
    /// .17 Source Repository Owner Identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_repository_owner_identifier: Option<String>,
    /// .18 Build Config URI.
    #[serde(rename = "buildConfigURI", skip_serializing_if = "Option::is_none")]
    pub build_config_uri: Option<String>,
    /// .19 Build Config Digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_config_digest: Option<String>,
    /// .20 Build Trigger.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_trigger: Option<String>,
    /// .21 Run Invocation URI.
    #[serde(rename = "runInvocationURI", skip_serializing_if = "Option::is_none")]
    pub run_invocation_uri: Option<String>,
    /// .22 Source Repository Visibility At Signing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_repository_visibility_at_signing: Option<String>,
}

impl CertificateSummary {
    /// Build the summary from the parsed certificate information and the
    /// issuer name.
    pub fn new(info: &sigstore_crypto::CertificateInfo, issuer_name: Option<String>) -> Self {
        let c = &info.ci_claims;
        let d = &c.deprecated_github;
        Self {
            certificate_issuer: issuer_name,
            subject_alternative_name: info.identity.as_ref().map(|s| s.as_str().to_string()),
            issuer: info.issuer.clone(),
            github_workflow_trigger: d.workflow_trigger.clone(),
            github_workflow_sha: d.workflow_sha.clone(),
            github_workflow_name: d.workflow_name.clone(),
            github_workflow_repository: d.workflow_repository.clone(),
            github_workflow_ref: d.workflow_ref.clone(),
            build_signer_uri: c.build_signer_uri.clone(),
            build_signer_digest: c.build_signer_digest.clone(),
            runner_environment: c.runner_environment.clone(),
            source_repository_uri: c.source_repository_uri.clone(),
            source_repository_digest: c.source_repository_digest.clone(),
            source_repository_ref: c.source_repository_ref.clone(),
            source_repository_identifier: c.source_repository_identifier.clone(),
            source_repository_owner_uri: c.source_repository_owner_uri.clone(),
            source_repository_owner_identifier: c.source_repository_owner_identifier.clone(),
            build_config_uri: c.build_config_uri.clone(),
            build_config_digest: c.build_config_digest.clone(),
            build_trigger: c.build_trigger.clone(),
            run_invocation_uri: c.run_invocation_uri.clone(),
            source_repository_visibility_at_signing: c
                .source_repository_visibility_at_signing
                .clone(),
        }
    }
}

/// Why a certificate's names could not be read.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateError {
    /// The DER does not parse as an X.509 certificate.
    #[error("the signing certificate is not valid DER X.509: {0}")]
    Malformed(String),
}

/// The parsed names of a certificate we need before verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateNames {
    /// The issuer DN as Go prints it.
    pub issuer: String,
    /// Every `O=` value of the issuer, in order.
    pub issuer_organizations: Vec<String>,
    /// The identity of a Fulcio OtherName SAN (`1.3.6.1.4.1.57264.1.7`, a
    /// UTF8String such as `foo!oidc.local`), which Fulcio issues for
    /// username identities and which `sigstore-crypto` does not read.
    pub other_name_identity: Option<String>,
}

/// Fulcio's OtherName SAN type for username identities.
pub const OTHER_NAME_SAN_OID: &str = "1.3.6.1.4.1.57264.1.7";

/// The first Fulcio OtherName SAN's value, if the certificate has one. A
/// value that is not a UTF8String is not an identity (`None`), never a
/// guess.
fn other_name_identity(cert: &Certificate) -> Option<String> {
    use x509_cert::ext::pkix::name::GeneralName;
    use x509_cert::ext::pkix::SubjectAltName;
    let (_, san): (bool, SubjectAltName) = cert.tbs_certificate.get().ok()??;
    san.0.iter().find_map(|name| match name {
        GeneralName::OtherName(other) if other.type_id.to_string() == OTHER_NAME_SAN_OID => other
            .value
            .decode_as::<Utf8StringRef<'_>>()
            .ok()
            .map(|s| s.as_str().to_string()),
        _ => None,
    })
}

/// Read the issuer name of a DER certificate.
pub fn certificate_names(der: &DerCertificate) -> Result<CertificateNames, CertificateError> {
    let cert = Certificate::from_der(der.as_bytes())
        .map_err(|e| CertificateError::Malformed(e.to_string()))?;
    let mut names = name_parts(&cert.tbs_certificate.issuer);
    names.other_name_identity = other_name_identity(&cert);
    Ok(names)
}

/// The `O=` values of the issuer of each CA chain's lowest certificate, used
/// to register a trusted root under the organisations it serves.
pub fn subject_organizations(der: &[u8]) -> Result<Vec<String>, CertificateError> {
    let cert =
        Certificate::from_der(der).map_err(|e| CertificateError::Malformed(e.to_string()))?;
    Ok(name_parts(&cert.tbs_certificate.issuer).issuer_organizations)
}

const OID_C: &str = "2.5.4.6";
const OID_ST: &str = "2.5.4.8";
const OID_L: &str = "2.5.4.7";
const OID_STREET: &str = "2.5.4.9";
const OID_POSTALCODE: &str = "2.5.4.17";
const OID_O: &str = "2.5.4.10";
const OID_OU: &str = "2.5.4.11";
const OID_CN: &str = "2.5.4.3";
const OID_SERIALNUMBER: &str = "2.5.4.5";

/// Go's `pkix.Name` field order, which `String()` prints reversed.
const GO_ORDER: [(&str, &str); 9] = [
    (OID_C, "C"),
    (OID_ST, "ST"),
    (OID_L, "L"),
    (OID_STREET, "STREET"),
    (OID_POSTALCODE, "POSTALCODE"),
    (OID_O, "O"),
    (OID_OU, "OU"),
    (OID_CN, "CN"),
    (OID_SERIALNUMBER, "SERIALNUMBER"),
];

fn attribute_string(atv: &AttributeTypeAndValue) -> Option<String> {
    let v = &atv.value;
    v.decode_as::<Utf8StringRef<'_>>()
        .map(|s| s.as_str().to_string())
        .or_else(|_| {
            v.decode_as::<PrintableStringRef<'_>>()
                .map(|s| s.as_str().to_string())
        })
        .or_else(|_| {
            v.decode_as::<Ia5StringRef<'_>>()
                .map(|s| s.as_str().to_string())
        })
        .or_else(|_| {
            v.decode_as::<TeletexStringRef<'_>>()
                .map(|s| s.as_str().to_string())
        })
        .ok()
}

/// Format a name as Go's `pkix.Name.String()` does (RFC 2253 order and
/// escaping), so `certificateIssuer` is byte-identical to gh's.
fn name_parts(name: &Name) -> CertificateNames {
    // Standard attributes are grouped by type in Go's fixed order; anything
    // else keeps its position ahead of them (Go issue 39924).
    let mut standard: Vec<Vec<String>> = vec![Vec::new(); GO_ORDER.len()];
    let mut extra: Vec<String> = Vec::new();
    let mut organizations = Vec::new();
    for rdn in name.0.iter() {
        for atv in rdn.0.iter() {
            let oid = atv.oid.to_string();
            match GO_ORDER.iter().position(|(o, _)| *o == oid) {
                Some(i) => {
                    let value = attribute_string(atv).unwrap_or_default();
                    if oid == OID_O {
                        organizations.push(value.clone());
                    }
                    standard[i].push(value);
                }
                None => {
                    let hex_value = atv.value.to_der().map(hex::encode).unwrap_or_default();
                    extra.push(format!("{oid}=#{hex_value}"));
                }
            }
        }
    }
    // Build the RDN sequence as Go does, then print it last to first.
    let mut rdns: Vec<String> = extra;
    for (i, values) in standard.iter().enumerate() {
        if values.is_empty() {
            continue;
        }
        let key = GO_ORDER[i].1;
        let rdn: Vec<String> = values
            .iter()
            .map(|v| format!("{key}={}", go_escape(v)))
            .collect();
        rdns.push(rdn.join("+"));
    }
    rdns.reverse();
    CertificateNames {
        issuer: rdns.join(","),
        issuer_organizations: organizations,
        other_name_identity: None,
    }
}

fn go_escape(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut out = String::with_capacity(value.len());
    for (k, &c) in chars.iter().enumerate() {
        let escape = match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => true,
            ' ' => k == 0 || k == chars.len() - 1,
            '#' => k == 0,
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use x509_cert::name::RdnSequence;

    #[test]
    fn go_formatting_of_names() {
        let name = RdnSequence::from_str("CN=Fulcio Intermediate l2,O=GitHub\\, Inc.").unwrap();
        let parts = name_parts(&name);
        assert_eq!(parts.issuer, "CN=Fulcio Intermediate l2,O=GitHub\\, Inc.");
        assert_eq!(parts.issuer_organizations, vec!["GitHub, Inc."]);
        let name = RdnSequence::from_str("O=sigstore.dev,CN=sigstore-intermediate").unwrap();
        assert_eq!(
            name_parts(&name).issuer,
            "CN=sigstore-intermediate,O=sigstore.dev"
        );
    }

    #[test]
    fn escapes_like_go() {
        assert_eq!(go_escape(" a#b "), "\\ a#b\\ ");
        assert_eq!(go_escape("#x;y"), "\\#x\\;y");
    }

    #[test]
    fn malformed_der_is_an_error() {
        let der = DerCertificate::from(vec![0x30, 0x03, 0x02, 0x01]);
        assert!(certificate_names(&der).is_err());
    }

    /// Only Fulcio's OtherName type is an identity: a self-signed
    /// certificate (made with `openssl req -x509 … -addext
    /// "subjectAltName=otherName:1.2.3.4;UTF8:evil!oidc.local"`) whose only
    /// SAN is an OtherName of another type has none. (sigstore-go's
    /// OtherName bundle, in `tests/real_bundles.rs`, is the positive case.)
    #[test]
    fn an_othername_of_another_type_is_no_identity() {
        const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIBmDCCAT6gAwIBAgIUCn5DKsCp6p5D+e1kqlwIu725atwwCgYIKoZIzj0EAwIw\nDzENMAsGA1UECgwEdGVzdDAeFw0yNjEyMDcwMjU3MzNaFw0yNjEyMDgwMjU3MzNa\nMA8xDTALBgNVBAoMBHRlc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQ5LVtZ\n6e6lgTXom9YvIh8z/ZjkYw055W4P1PaxWGW6QwYnwOOQMQ1IhbXjdipaQqWcDm2a\nTnfGGY5aU0ZOml8yo3gwdjAdBgNVHQ4EFgQULq7gc4nAaYRNPCZnTNRg6x4W40Qw\nHwYDVR0jBBgwFoAULq7gc4nAaYRNPCZnTNRg6x4W40QwDwYDVR0TAQH/BAUwAwEB\n/zAjBgNVHREEHDAaoBgGAyoDBKARDA9ldmlsIW9pZGMubG9jYWwwCgYIKoZIzj0E\nAwIDSAAwRQIhAJ2XB+nHLpt9XOmJQENuqSBf3G8fnH89AYGY0M1iMN7NAiAe7k+U\nfiLYF9TtetGPr+Bfm+orboogIudYQfeBX1VJVA==\n-----END CERTIFICATE-----";
        let der = DerCertificate::from_pem(PEM).unwrap();
        let names = certificate_names(&der).unwrap();
        assert_eq!(names.issuer_organizations, ["test"]);
        assert_eq!(names.other_name_identity, None);
    }
}
