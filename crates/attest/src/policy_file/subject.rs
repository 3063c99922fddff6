//! What a policy rule can match a subject by: its file name, its image
//! repository, or the package name its file name carries.

use crate::artifact::ArtifactDigest;

/// A subject to check against the policy: what it is called and its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// How the user named it (a path, `oci://…`, a digest).
    pub display: String,
    /// What rules can match it by.
    pub kind: SubjectKind,
    /// Its digest (for images, the manifest digest).
    pub digest: ArtifactDigest,
}

/// The kind of subject, with the names rules match against.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubjectKind {
    /// A file, by the path given (relative or absolute).
    File {
        /// The path as given (or as listed in a manifest).
        path: String,
    },
    /// A container image.
    Image {
        /// `REGISTRY/REPOSITORY`, normalised (e.g. `docker.io/library/alpine`).
        repository: String,
    },
    /// A bare digest: only `all = true` rules match it.
    Digest,
}

impl Subject {
    /// A file subject.
    pub fn file(path: impl Into<String>, digest: ArtifactDigest) -> Self {
        let path = path.into();
        Self {
            display: path.clone(),
            kind: SubjectKind::File { path },
            digest,
        }
    }

    /// An image subject.
    pub fn image(
        display: impl Into<String>,
        repository: impl Into<String>,
        digest: ArtifactDigest,
    ) -> Self {
        Self {
            display: display.into(),
            kind: SubjectKind::Image {
                repository: repository.into(),
            },
            digest,
        }
    }

    /// A bare digest.
    pub fn digest(display: impl Into<String>, digest: ArtifactDigest) -> Self {
        Self {
            display: display.into(),
            kind: SubjectKind::Digest,
            digest,
        }
    }

    /// The file's base name, for file subjects.
    pub fn file_name(&self) -> Option<&str> {
        match &self.kind {
            SubjectKind::File { path } => Some(base_name(path)),
            _ => None,
        }
    }

    /// The PyPI project this file is a distribution of, normalised (PEP 503),
    /// read from a wheel's or an sdist's file name.
    pub fn pypi_name(&self) -> Option<String> {
        pypi_name_of(self.file_name()?)
    }

    /// Whether this file is an `npm pack` tarball of `package` (`name` or
    /// `@scope/name`, packed as `name-VERSION.tgz` or `scope-name-VERSION.tgz`).
    pub fn is_npm_package(&self, package: &str) -> bool {
        let Some(file) = self.file_name() else {
            return false;
        };
        let stem = match package.strip_prefix('@') {
            Some(scoped) => scoped.replacen('/', "-", 1),
            None => package.to_string(),
        };
        file.strip_prefix(&stem)
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|rest| rest.strip_suffix(".tgz"))
            .is_some_and(is_version)
    }

    /// The name `attest.lock` records this subject under: `pypi:NAME`,
    /// `image:REGISTRY/REPOSITORY`; `None` for subjects without a stable
    /// name (other files, bare digests).
    pub fn lock_name(&self) -> Option<String> {
        match &self.kind {
            SubjectKind::Image { repository } => Some(format!("image:{repository}")),
            SubjectKind::File { .. } => self.pypi_name().map(|n| format!("pypi:{n}")),
            SubjectKind::Digest => None,
        }
    }
}

fn base_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// PEP 503 normalisation: lower case, runs of `-`, `_`, `.` as one `-`.
pub fn normalize_pypi(name: &str) -> String {
    crate::pep740::dist::normalize_name(name)
}

/// A wheel is `NAME-VERSION(-BUILD)?-PY-ABI-PLATFORM.whl` (NAME without
/// `-`); an sdist is `NAME-VERSION.tar.gz` (or `.zip`), NAME escaped with
/// `_` (PEP 625), VERSION starting with a digit.
fn pypi_name_of(file: &str) -> Option<String> {
    if let Some(stem) = file.strip_suffix(".whl") {
        let parts: Vec<&str> = stem.split('-').collect();
        if (parts.len() == 5 || parts.len() == 6) && is_version(parts[1]) && !parts[0].is_empty() {
            return Some(normalize_pypi(parts[0]));
        }
        return None;
    }
    let stem = file
        .strip_suffix(".tar.gz")
        .or_else(|| file.strip_suffix(".zip"))?;
    let (name, version) = stem.rsplit_once('-')?;
    (!name.is_empty() && is_version(version)).then(|| normalize_pypi(name))
}

fn is_version(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-' | '!' | '_'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::{digest_bytes, DigestAlgorithm};

    fn file(name: &str) -> Subject {
        Subject::file(name, digest_bytes(b"", DigestAlgorithm::Sha256))
    }

    #[test]
    fn package_names_come_from_distribution_file_names() {
        assert_eq!(
            file("dist/OpenMed-1.2.3-py3-none-any.whl")
                .pypi_name()
                .as_deref(),
            Some("openmed")
        );
        assert_eq!(
            file("open_med-0.1.tar.gz").pypi_name().as_deref(),
            Some("open-med")
        );
        assert_eq!(
            file("pkg-2.0-1-cp311-cp311-manylinux_2_17_x86_64.whl")
                .pypi_name()
                .as_deref(),
            Some("pkg")
        );
        assert_eq!(file("notes-final.tar.gz").pypi_name(), None);
        assert_eq!(file("pkg.whl").pypi_name(), None);
        assert_eq!(file("checksums.txt").pypi_name(), None);
        assert!(file("sigstore-2.1.0.tgz").is_npm_package("sigstore"));
        assert!(file("sigstore-bundle-2.1.0.tgz").is_npm_package("@sigstore/bundle"));
        assert!(!file("sigstore-bundle-2.1.0.tgz").is_npm_package("sigstore"));
        assert!(!file("sigstore-2.1.0.tar.gz").is_npm_package("sigstore"));
        assert_eq!(normalize_pypi("Foo__Bar.baz"), "foo-bar-baz");
        assert_eq!(
            file("a/OpenMed-1.0.tar.gz").lock_name().as_deref(),
            Some("pypi:openmed")
        );
        assert_eq!(file("a/x.bin").lock_name(), None);
    }

    #[test]
    fn each_kind_of_subject_has_its_own_names() {
        let d = digest_bytes(b"x", DigestAlgorithm::Sha256);
        let f = Subject::file("dir\\sub/pkg-1.0.tar.gz", d.clone());
        assert_eq!(f.display, "dir\\sub/pkg-1.0.tar.gz");
        assert_eq!(
            f.kind,
            SubjectKind::File {
                path: "dir\\sub/pkg-1.0.tar.gz".into()
            }
        );
        assert_eq!(f.digest, d);
        assert_eq!(f.file_name(), Some("pkg-1.0.tar.gz"));
        assert_eq!(file("win\\dir\\a.whl").file_name(), Some("a.whl"));
        let i = Subject::image("oci://alpine", "docker.io/library/alpine", d.clone());
        assert_eq!(
            (i.display.as_str(), &i.kind, &i.digest),
            (
                "oci://alpine",
                &SubjectKind::Image {
                    repository: "docker.io/library/alpine".into()
                },
                &d
            )
        );
        assert_eq!(i.file_name(), None);
        assert_eq!(i.pypi_name(), None);
        assert!(!i.is_npm_package("alpine"));
        assert_eq!(
            i.lock_name().as_deref(),
            Some("image:docker.io/library/alpine")
        );
        let b = Subject::digest("sha256:ab", d.clone());
        assert_eq!(
            (b.display.as_str(), &b.kind, &b.digest),
            ("sha256:ab", &SubjectKind::Digest, &d)
        );
        assert_eq!((b.file_name(), b.lock_name()), (None, None));
    }

    #[test]
    fn distribution_file_names_need_a_name_and_a_version() {
        let name = |f: &str| file(f).pypi_name();
        // Wheels: 5 or 6 parts, a name, a version starting with a digit.
        assert_eq!(name("a-1.0-py3-none-any.whl").as_deref(), Some("a"));
        assert_eq!(name("a-1.0-py3-none.whl"), None);
        assert_eq!(name("a-1.0-1-2-py3-none-any.whl"), None);
        assert_eq!(name("-1.0-py3-none-any.whl"), None);
        assert_eq!(name("a-v1-py3-none-any.whl"), None);
        // Sdists: .tar.gz or .zip, a name, a version.
        assert_eq!(name("My.Pkg-2.0.zip").as_deref(), Some("my-pkg"));
        assert_eq!(name("-2.0.tar.gz"), None);
        assert_eq!(name("pkg-2.0.tar.bz2"), None);
        assert_eq!(name("pkg.tar.gz"), None);
        // Versions: a digit first, then letters, digits and .+-!_ only.
        for v in ["1", "1.0", "1!2.0rc1+local_x-1", "2024.1"] {
            assert!(is_version(v), "{v}");
        }
        for v in ["", "v1", "1.0 x", "1/0", ".1", "1.0~"] {
            assert!(!is_version(v), "{v}");
        }
        assert!(file("x/sigstore-2.1.0-rc.1.tgz").is_npm_package("sigstore"));
        assert!(!file("sigstore-.tgz").is_npm_package("sigstore"));
        assert!(!file("sigstore2.1.0.tgz").is_npm_package("sigstore"));
    }
}
