//! Who a leaf certificate is issued to: the GitHub Actions workflow claims
//! of a Fulcio certificate, or an explicit SAN and extension list.

use jiff::Timestamp;

/// The subject alternative name of a leaf certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeafIdentity {
    /// A URI (workflow identities: `https://github.com/<job_workflow_ref>`).
    Uri(String),
    /// An email address (rfc822Name).
    Email(String),
}

/// A leaf certificate to issue for a key the caller holds, as Fulcio does
/// after checking an identity token and a proof of possession.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafCertificateSpec {
    /// The subject alternative name (critical, the only one).
    pub identity: LeafIdentity,
    /// Fulcio extensions `1.3.6.1.4.1.57264.1.<n>` as `(n, value)`: values
    /// of `n` from 1 to 7 are written as raw bytes (Fulcio's deprecated
    /// encoding), from 8 on as a DER UTF8String. Empty values are left out.
    pub extensions: Vec<(u32, String)>,
    /// Start of validity (also the SCT's timestamp).
    pub not_before: Timestamp,
    /// End of validity.
    pub not_after: Timestamp,
}

/// The claims of a Fulcio signing certificate issued to a GitHub Actions
/// workflow. Empty strings leave the extension out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FulcioClaims {
    /// The SAN URI (the workflow identity).
    pub subject_alternative_name: String,
    /// `.8` OIDC issuer.
    pub issuer: String,
    /// `.9` Build Signer URI.
    pub build_signer_uri: String,
    /// `.10` Build Signer Digest.
    pub build_signer_digest: String,
    /// `.11` Runner Environment (`github-hosted` or `self-hosted`).
    pub runner_environment: String,
    /// `.12` Source Repository URI.
    pub source_repository_uri: String,
    /// `.13` Source Repository Digest (the commit).
    pub source_repository_digest: String,
    /// `.14` Source Repository Ref.
    pub source_repository_ref: String,
    /// `.15` Source Repository Identifier.
    pub source_repository_identifier: String,
    /// `.16` Source Repository Owner URI.
    pub source_repository_owner_uri: String,
    /// `.17` Source Repository Owner Identifier.
    pub source_repository_owner_identifier: String,
    /// `.18` Build Config URI.
    pub build_config_uri: String,
    /// `.19` Build Config Digest.
    pub build_config_digest: String,
    /// `.20` Build Trigger.
    pub build_trigger: String,
    /// `.21` Run Invocation URI.
    pub run_invocation_uri: String,
    /// `.22` Source Repository Visibility At Signing.
    pub source_repository_visibility_at_signing: String,
}

/// The commit of the default claims.
pub const DEFAULT_COMMIT: &str = "7d3f9a2c1b4e5f60718293a4b5c6d7e8f9012345";

impl Default for FulcioClaims {
    /// `octo-org/octo-repo`'s `.github/workflows/release.yml` on
    /// `refs/heads/main`, a github-hosted runner, github.com's issuer.
    fn default() -> Self {
        let repo = "https://github.com/octo-org/octo-repo";
        let workflow = format!("{repo}/.github/workflows/release.yml@refs/heads/main");
        Self {
            subject_alternative_name: workflow.clone(),
            issuer: "https://token.actions.githubusercontent.com".into(),
            build_signer_uri: workflow.clone(),
            build_signer_digest: DEFAULT_COMMIT.into(),
            runner_environment: "github-hosted".into(),
            source_repository_uri: repo.into(),
            source_repository_digest: DEFAULT_COMMIT.into(),
            source_repository_ref: "refs/heads/main".into(),
            source_repository_identifier: "123456789".into(),
            source_repository_owner_uri: "https://github.com/octo-org".into(),
            source_repository_owner_identifier: "987654".into(),
            build_config_uri: workflow,
            build_config_digest: DEFAULT_COMMIT.into(),
            build_trigger: "push".into(),
            run_invocation_uri: format!("{repo}/actions/runs/4242/attempts/1"),
            source_repository_visibility_at_signing: "public".into(),
        }
    }
}

impl FulcioClaims {
    pub(crate) fn extensions(&self) -> [(u32, &str); 15] {
        [
            (8, &self.issuer),
            (9, &self.build_signer_uri),
            (10, &self.build_signer_digest),
            (11, &self.runner_environment),
            (12, &self.source_repository_uri),
            (13, &self.source_repository_digest),
            (14, &self.source_repository_ref),
            (15, &self.source_repository_identifier),
            (16, &self.source_repository_owner_uri),
            (17, &self.source_repository_owner_identifier),
            (18, &self.build_config_uri),
            (19, &self.build_config_digest),
            (20, &self.build_trigger),
            (21, &self.run_invocation_uri),
            (22, &self.source_repository_visibility_at_signing),
        ]
    }
}
