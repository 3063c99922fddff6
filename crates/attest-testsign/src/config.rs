//! How a [`crate::TestSigstore`] is built: which services its trusted root
//! lists, under which organisation, at what signing time, and the URLs it
//! names for them.

use jiff::Timestamp;
use serde_json::{json, Value};

use crate::{CTFE_URL, DEFAULT_SIGNING_TIME, FULCIO_URL, REKOR_URL, REKOR_V2_URL, TSA_URL, YEAR};

/// The service URLs the trusted root names (default: the `*.test`
/// constants).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUrls {
    /// The transparency log's `baseUrl`.
    pub rekor: String,
    /// The Rekor v2 log's `baseUrl` (listed when the configuration selects
    /// [`RekorVersion::V2`]). Its host is the origin of the v2 log's
    /// checkpoints, which is how verifiers (sigstore-go) name the log.
    pub rekor_v2: String,
    /// The CT log's `baseUrl`.
    pub ctfe: String,
    /// The certificate authority's `uri`.
    pub fulcio: String,
    /// The timestamp authority's `uri`.
    pub tsa: String,
}

impl Default for ServiceUrls {
    fn default() -> Self {
        Self {
            rekor: REKOR_URL.into(),
            rekor_v2: REKOR_V2_URL.into(),
            ctfe: CTFE_URL.into(),
            fulcio: FULCIO_URL.into(),
            tsa: TSA_URL.into(),
        }
    }
}

/// A `validFor` window of the trusted root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidFor {
    /// Start (inclusive).
    pub start: Timestamp,
    /// End (inclusive); `None` means still valid.
    pub end: Option<Timestamp>,
}

impl ValidFor {
    /// An open window starting at `start`.
    pub fn from(start: Timestamp) -> Self {
        Self { start, end: None }
    }

    /// A closed window.
    pub fn between(start: Timestamp, end: Timestamp) -> Self {
        Self {
            start,
            end: Some(end),
        }
    }

    pub(crate) fn json(&self) -> Value {
        match self.end {
            None => json!({ "start": self.start.to_string() }),
            Some(end) => json!({ "start": self.start.to_string(), "end": end.to_string() }),
        }
    }
}

/// Which Rekor API an instance's signing config names for its log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum RekorVersion {
    /// Rekor v1 (`/api/v1/log/entries`: `dsse`/`hashedrekord` `0.0.1`
    /// entries with a SET).
    #[default]
    V1,
    /// Rekor v2 (`/api/v2/log/entries`: `0.0.2` entries with an inclusion
    /// proof and a signed checkpoint, no SET, no integrated time). The
    /// trusted root lists this second log, with its own key, besides the
    /// v1 log.
    V2,
}

/// How to build a [`crate::TestSigstore`].
#[derive(Debug, Clone)]
pub struct TestSigstoreConfig {
    /// The organisation (`O=`) of the CA certificates, which is the leaf's
    /// issuer organisation and selects the instance's verification rules:
    /// `sigstore.dev` public good, `GitHub, Inc.` GitHub, anything else custom.
    pub organization: String,
    /// When signatures are made: leaf validity, log integration time, TSA
    /// time and SCT time all derive from it. Must be in the past.
    pub signing_time: Timestamp,
    /// Whether the trusted root lists the transparency log.
    pub tlog: bool,
    /// Whether the trusted root lists the CT log; leaves carry an SCT only
    /// when it does (and [`crate::SignFault::NoSct`] is not asked for).
    pub ctlog: bool,
    /// Whether the trusted root lists the timestamp authority.
    pub tsa: bool,
    /// The certificate authority's `validFor` in the trusted root (default:
    /// from a year before the signing time, open-ended). Set it to end before
    /// the signing time to test CA validity windows.
    pub ca_valid_for: ValidFor,
    /// Dummy entries in the log before the first signature, so inclusion
    /// proofs have several hashes (at least 1 is needed for
    /// [`crate::SignFault::BadInclusionProof`]). The Rekor v2 log gets as many.
    pub prefill_log_entries: usize,
    /// Which Rekor API the loopback's signing config names (with a log);
    /// [`RekorVersion::V2`] also lists the v2 log in the trusted root.
    pub rekor_version: RekorVersion,
}

fn default_signing_time() -> Timestamp {
    DEFAULT_SIGNING_TIME
        .parse()
        .expect("the default signing time parses")
}

impl TestSigstoreConfig {
    /// A custom instance under `organization` with a transparency log, a CT
    /// log and a TSA.
    pub fn custom(organization: &str) -> Self {
        let signing_time = default_signing_time();
        Self {
            organization: organization.to_string(),
            signing_time,
            tlog: true,
            ctlog: true,
            tsa: true,
            ca_valid_for: ValidFor::from(signing_time - YEAR),
            prefill_log_entries: 5,
            rekor_version: RekorVersion::V1,
        }
    }

    /// Public-good-like: `O=sigstore.dev`, transparency log, CT log and TSA.
    pub fn public_good_like() -> Self {
        Self::custom("sigstore.dev")
    }

    /// GitHub-like: `O=GitHub, Inc.`, a TSA only (no transparency log, no CT
    /// log in the trusted root).
    pub fn github_like() -> Self {
        Self {
            tlog: false,
            ctlog: false,
            ..Self::custom("GitHub, Inc.")
        }
    }
}
