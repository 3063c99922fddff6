//! `attest.lock`: the identity first seen for each package or image name
//! (SLSA's "trust on first use"). A later artifact of the same name signed
//! by another identity is drift, which `verify --locked` refuses until a
//! reviewed `attest lock --update` accepts it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Subject;
use crate::verify::VerifiedAttestation;

/// The lock file's format version.
pub const LOCK_VERSION: i64 = 1;

/// Who signed: enough to tell one publisher from another, nothing that
/// changes from release to release (no ref, no commit, no run).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedIdentity {
    /// The OIDC issuer (or `key` for key-signed attestations).
    pub issuer: String,
    /// The signer: the SAN without its `@ref`, or `key:FINGERPRINT`.
    pub signer: String,
    /// The source repository, when the certificate names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
}

impl LockedIdentity {
    /// The identity of a verified attestation.
    pub fn of(att: &VerifiedAttestation) -> Option<Self> {
        if let Some(cert) = &att.certificate {
            let san = cert.subject_alternative_name.clone()?;
            let signer = match san.rsplit_once('@') {
                // A workflow SAN ends in @ref; an e-mail SAN keeps its @.
                Some((head, tail))
                    if head.contains("://") && !tail.contains('/') || tail.starts_with("refs/") =>
                {
                    head.to_string()
                }
                _ => san,
            };
            return Some(Self {
                issuer: cert.issuer.clone()?,
                signer,
                repository: cert.source_repository_uri.clone(),
            });
        }
        att.key_fingerprint.as_ref().map(|fp| Self {
            issuer: "key".into(),
            signer: format!("key:{fp}"),
            repository: None,
        })
    }
}

impl std::fmt::Display for LockedIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (issuer {})", self.signer, self.issuer)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LockWire {
    version: i64,
    #[serde(default)]
    identity: BTreeMap<String, Vec<LockedIdentity>>,
}

/// The lock: name → the identities that sign it (a package's provenance
/// and its SBOM may come from different workflows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lock {
    entries: BTreeMap<String, Vec<LockedIdentity>>,
}

/// What the lock says of one subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockCheck {
    /// Signed by the identity recorded for its name.
    Same(String),
    /// Signed by another identity than the one recorded.
    Drift {
        /// The lock name.
        name: String,
        /// What the lock records.
        locked: Vec<LockedIdentity>,
        /// The signers now that the lock does not record.
        new: Vec<LockedIdentity>,
    },
    /// The name is not in the lock.
    Missing(String),
    /// The subject has no name to look up (a plain file, a bare digest).
    Unnamed,
}

impl LockCheck {
    /// Whether `--locked` accepts it.
    pub fn passed(&self) -> bool {
        matches!(self, Self::Same(_))
    }

    /// One line.
    pub fn message(&self) -> String {
        match self {
            Self::Same(name) => format!("{name}: signed by the identity in attest.lock"),
            Self::Drift { name, locked, new } => format!(
                "{name}: signed by {}, which attest.lock does not record (it records {}); if the change is expected, review it and run `attest lock --update`",
                join(new),
                join(locked)
            ),
            Self::Missing(name) => format!(
                "{name} is not in attest.lock; run `attest lock --update` to record its signer after review"
            ),
            Self::Unnamed => "no package or image name to look up in attest.lock (only wheels, sdists and images are locked)".into(),
        }
    }
}

impl Lock {
    /// Read a lock file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = crate::artifact::read_text_file(path, 4 * 1024 * 1024, "a TOML lock file")
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parse lock text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let wire: LockWire = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            match line {
                Some(l) => format!("line {l}: {}", e.message().trim()),
                None => e.message().trim().to_string(),
            }
        })?;
        if wire.version != LOCK_VERSION {
            return Err(format!(
                "version {} is not supported; expected {LOCK_VERSION}",
                wire.version
            ));
        }
        Ok(Self {
            entries: wire.identity,
        })
    }

    /// The lock as TOML.
    pub fn to_toml(&self) -> String {
        let wire = LockWire {
            version: LOCK_VERSION,
            identity: self.entries.clone(),
        };
        format!(
            "# attest.lock: the signer first seen for each package and image.\n# `attest verify --locked` refuses another signer; review, then `attest lock --update`.\n{}",
            toml::to_string(&wire).unwrap_or_default()
        )
    }

    /// The identities recorded for `name`.
    pub fn get(&self, name: &str) -> Option<&[LockedIdentity]> {
        self.entries.get(name).map(Vec::as_slice)
    }

    /// Record `identities` for `name` (sorted, without repeats), returning
    /// what it replaced.
    pub fn set(
        &mut self,
        name: String,
        mut identities: Vec<LockedIdentity>,
    ) -> Option<Vec<LockedIdentity>> {
        identities.sort();
        identities.dedup();
        self.entries.insert(name, identities)
    }

    /// Check a subject whose attestations were signed by `seen` (the
    /// identities of the attestations that met the policy).
    pub fn check(&self, subject: &Subject, seen: &[LockedIdentity]) -> LockCheck {
        match subject.lock_name() {
            Some(name) => self.check_name(&name, seen),
            None => LockCheck::Unnamed,
        }
    }

    /// Check the package or image `name` (`pypi:NAME`, `npm:NAME`,
    /// `image:REPO`) whose attestations were signed by `seen`.
    pub fn check_name(&self, name: &str, seen: &[LockedIdentity]) -> LockCheck {
        let name = name.to_string();
        let Some(locked) = self.entries.get(&name) else {
            return LockCheck::Missing(name);
        };
        let mut new: Vec<LockedIdentity> = seen
            .iter()
            .filter(|s| !locked.contains(s))
            .cloned()
            .collect();
        new.sort();
        new.dedup();
        if seen.is_empty() || !new.is_empty() {
            LockCheck::Drift {
                name,
                locked: locked.clone(),
                new,
            }
        } else {
            LockCheck::Same(name)
        }
    }
}

fn join(ids: &[LockedIdentity]) -> String {
    if ids.is_empty() {
        return "no verified signer".into();
    }
    ids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificate::CertificateSummary;
    use crate::trust::{InstanceKind, RootSource};

    fn attestation(
        certificate: Option<CertificateSummary>,
        key: Option<&str>,
    ) -> VerifiedAttestation {
        VerifiedAttestation {
            instance: InstanceKind::PublicGood,
            organization: "sigstore.dev".into(),
            root_source: RootSource::Embedded,
            certificate,
            timestamps: Vec::new(),
            tlog_entries_verified: 1,
            inclusion: crate::verify::Inclusion::Proven,
            sct_verified: true,
            statement: None,
            key_fingerprint: key.map(str::to_string),
        }
    }

    fn signed_by(san: &str) -> Option<LockedIdentity> {
        LockedIdentity::of(&attestation(
            Some(CertificateSummary {
                subject_alternative_name: Some(san.into()),
                issuer: Some("https://issuer".into()),
                source_repository_uri: Some("https://github.com/o/r".into()),
                ..Default::default()
            }),
            Some("ignored when there is a certificate"),
        ))
    }

    fn id(signer: &str) -> LockedIdentity {
        LockedIdentity {
            issuer: "https://issuer".into(),
            signer: signer.into(),
            repository: None,
        }
    }

    #[test]
    fn the_identity_drops_a_workflow_ref_and_keeps_e_mail_addresses() {
        let w = "https://github.com/o/r/.github/workflows/w.yml";
        let signer = |san: &str| signed_by(san).unwrap().signer;
        assert_eq!(signer(&format!("{w}@refs/heads/main")), w);
        assert_eq!(signer(&format!("{w}@v1")), w);
        assert_eq!(signer("alice@example.com"), "alice@example.com");
        assert_eq!(signer("https://x.example/a@b/c"), "https://x.example/a@b/c");
        assert_eq!(signer("bob@refs/tags/v1"), "bob");
        assert_eq!(signer(w), w);
        assert_eq!(
            signed_by(&format!("{w}@v1")).unwrap(),
            LockedIdentity {
                issuer: "https://issuer".into(),
                signer: w.into(),
                repository: Some("https://github.com/o/r".into()),
            }
        );
        // A certificate without a SAN or an issuer gives no identity.
        let no_san = CertificateSummary {
            issuer: Some("https://issuer".into()),
            ..Default::default()
        };
        assert_eq!(LockedIdentity::of(&attestation(Some(no_san), None)), None);
        let no_issuer = CertificateSummary {
            subject_alternative_name: Some("a@b.example".into()),
            ..Default::default()
        };
        assert_eq!(
            LockedIdentity::of(&attestation(Some(no_issuer), None)),
            None
        );
        // Key-signed: the key's fingerprint.
        assert_eq!(
            LockedIdentity::of(&attestation(None, Some("ab12"))),
            Some(LockedIdentity {
                issuer: "key".into(),
                signer: "key:ab12".into(),
                repository: None,
            })
        );
        assert_eq!(LockedIdentity::of(&attestation(None, None)), None);
        assert_eq!(id("s").to_string(), "s (issuer https://issuer)");
    }

    #[test]
    fn lock_files_have_version_1_and_say_where_they_are_wrong() {
        let mut lock = Lock::default();
        assert_eq!(
            lock.set("pypi:a".into(), vec![id("b"), id("a"), id("b")]),
            None
        );
        assert_eq!(lock.get("pypi:a").unwrap(), [id("a"), id("b")]);
        assert_eq!(
            lock.set("pypi:a".into(), vec![id("c")]),
            Some(vec![id("a"), id("b")])
        );
        assert_eq!(lock.get("pypi:b"), None);
        let text = lock.to_toml();
        assert!(
            text.starts_with("# attest.lock: the signer first seen"),
            "{text}"
        );
        assert!(text.contains("\nversion = 1\n"), "{text}");
        assert_eq!(Lock::parse(&text).unwrap(), lock);

        assert_eq!(
            Lock::parse("version = 2\n").unwrap_err(),
            "version 2 is not supported; expected 1"
        );
        let e = Lock::parse("version = 1\n\n[identity]\n\"pypi:a\" = [{ issuer = \"i\", signer = \"s\", extra = 1 }]\n")
            .unwrap_err();
        assert!(e.starts_with("line 4: unknown field `extra`"), "{e}");
        let e = Lock::parse("version = 1\nversion = 1\n").unwrap_err();
        assert!(e.starts_with("line 2: "), "{e}");
        let e = Lock::parse("version = \n").unwrap_err();
        assert!(e.starts_with("line 1: "), "{e}");
    }

    #[test]
    fn a_name_passes_only_when_every_signer_seen_is_recorded() {
        let mut lock = Lock::default();
        lock.set("pypi:a".into(), vec![id("a"), id("b")]);
        let same = lock.check_name("pypi:a", &[id("b")]);
        assert_eq!(same, LockCheck::Same("pypi:a".into()));
        assert!(same.passed());
        assert_eq!(
            same.message(),
            "pypi:a: signed by the identity in attest.lock"
        );
        let drift = lock.check_name("pypi:a", &[id("c"), id("a"), id("c")]);
        assert_eq!(
            drift,
            LockCheck::Drift {
                name: "pypi:a".into(),
                locked: vec![id("a"), id("b")],
                new: vec![id("c")],
            }
        );
        assert!(!drift.passed());
        assert_eq!(
            drift.message(),
            "pypi:a: signed by c (issuer https://issuer), which attest.lock does not record (it records a (issuer https://issuer), b (issuer https://issuer)); if the change is expected, review it and run `attest lock --update`"
        );
        // Nothing verified is no signer the lock records.
        let none = lock.check_name("pypi:a", &[]);
        assert_eq!(
            none,
            LockCheck::Drift {
                name: "pypi:a".into(),
                locked: vec![id("a"), id("b")],
                new: vec![],
            }
        );
        assert!(none
            .message()
            .starts_with("pypi:a: signed by no verified signer, "));
        let missing = lock.check_name("pypi:z", &[id("a")]);
        assert_eq!(missing, LockCheck::Missing("pypi:z".into()));
        assert!(!missing.passed());
        assert_eq!(
            missing.message(),
            "pypi:z is not in attest.lock; run `attest lock --update` to record its signer after review"
        );
        assert!(!LockCheck::Unnamed.passed());
    }

    #[test]
    fn lock_files_of_up_to_4_mib_are_read_and_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut lock = Lock::default();
        lock.set("pypi:a".into(), vec![id("a")]);
        // 2 MiB, most of it a comment.
        let text = format!("{}\n{}", "#".repeat(2 * 1024 * 1024), lock.to_toml());
        let path = dir.path().join("attest.lock");
        std::fs::write(&path, &text).unwrap();
        assert_eq!(Lock::load(&path).unwrap(), lock);
        std::fs::write(&path, "version = 3\n").unwrap();
        assert_eq!(
            Lock::load(&path).unwrap_err(),
            format!("{}: version 3 is not supported; expected 1", path.display())
        );
        let missing = dir.path().join("missing.lock");
        let e = Lock::load(&missing).unwrap_err();
        assert!(e.starts_with(&format!("{}: ", missing.display())), "{e}");
    }
}
