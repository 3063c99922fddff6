//! Lock files, read into the files they pin: `uv.lock`, `pylock.toml` (PEP
//! 751), `requirements.txt` with `--hash` lines (pip's hash-checking mode)
//! and npm's `package-lock.json` (lockfile versions 2 and 3). Each locked
//! file is a (project, version, file name, digest): what `attest audit`
//! asks provenance for and verifies against.
//!
//! Nothing here trusts the lock beyond what it is: the digests it pins are
//! the ones verified. A line or entry that cannot be read is a problem
//! named with its place, and the rest is still read.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::Value;

use crate::artifact::{ArtifactDigest, DigestAlgorithm};
use crate::pep740::{dist, Publisher};

/// The largest lock file read.
pub const MAX_LOCKFILE_BYTES: u64 = 64 * 1024 * 1024;

/// Which kind of lock file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    /// uv's `uv.lock`.
    UvLock,
    /// PEP 751's `pylock.toml` (or `pylock.NAME.toml`).
    Pylock,
    /// pip's `requirements.txt` with `--hash` options.
    Requirements,
    /// npm's `package-lock.json`.
    NpmLock,
}

impl LockKind {
    /// From the file name: `uv.lock`, `pylock*.toml`, `package-lock.json`
    /// (or `npm-shrinkwrap.json`), anything else `.txt` as requirements.
    pub fn of(file_name: &str) -> Option<Self> {
        match file_name {
            "uv.lock" => Some(Self::UvLock),
            "package-lock.json" | "npm-shrinkwrap.json" => Some(Self::NpmLock),
            n if n.starts_with("pylock.") && n.ends_with(".toml") => Some(Self::Pylock),
            n if n.ends_with(".txt") || n.ends_with(".in") => Some(Self::Requirements),
            _ => None,
        }
    }

    /// The package ecosystem.
    pub fn ecosystem(self) -> Ecosystem {
        match self {
            Self::NpmLock => Ecosystem::Npm,
            _ => Ecosystem::Pypi,
        }
    }
}

/// Where a locked file comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ecosystem {
    /// A Python package index.
    Pypi,
    /// The npm registry.
    Npm,
}

/// One file a lock pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedFile {
    /// The project or package name, as the lock writes it.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The distribution file name, when the lock says it (requirements
    /// files do not: the index is asked which file has the digest).
    pub filename: Option<String>,
    /// The digest the lock pins (sha256 for Python, sha512 for npm).
    pub digest: ArtifactDigest,
    /// pylock.toml's `attestation-identities` of the package: who must
    /// have published it.
    pub identities: Vec<Publisher>,
    /// Where in the lock (`line N` or the entry's key).
    pub place: String,
}

/// A lock file, read.
#[derive(Debug, Clone, Default)]
pub struct Locked {
    /// Every pinned file.
    pub files: Vec<LockedFile>,
    /// What could not be read, each with its place.
    pub problems: Vec<String>,
}

/// Read `text`, a lock of `kind`.
pub fn parse(kind: LockKind, text: &str) -> Result<Locked, String> {
    match kind {
        LockKind::UvLock => parse_uv(text),
        LockKind::Pylock => parse_pylock(text),
        LockKind::Requirements => Ok(parse_requirements(text)),
        LockKind::NpmLock => parse_npm(text),
    }
}

fn sha256(hex: &str) -> Result<ArtifactDigest, String> {
    ArtifactDigest::parse(&format!("sha256:{}", hex.trim()))
        .map_err(|e| format!("expected a sha256 digest: {e}"))
}

/// The last path segment of a URL, without query or fragment.
fn url_file_name(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let name = path.rsplit('/').next()?;
    (!name.is_empty()).then(|| percent_decode(name))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A locked package's files: its `sdist`, then its `wheels` (uv.lock and
/// pylock.toml name them alike).
fn distributions(package: &toml::Value) -> Vec<&toml::Value> {
    let mut out: Vec<&toml::Value> = package.get("sdist").into_iter().collect();
    if let Some(w) = package.get("wheels").and_then(toml::Value::as_array) {
        out.extend(w.iter());
    }
    out
}

fn toml_table(text: &str, what: &str) -> Result<toml::Table, String> {
    text.parse::<toml::Table>()
        .map_err(|e| format!("expected {what} (TOML): {}", e.to_string().trim()))
}

/// uv.lock: `[[package]]` with `name`, `version`, `sdist = { url, hash }`
/// and `wheels = [{ url, hash }]`. Packages from a path or a git source
/// have no index files and are left out (they have nothing to attest).
fn parse_uv(text: &str) -> Result<Locked, String> {
    let table = toml_table(text, "a uv.lock")?;
    let mut out = Locked::default();
    let Some(packages) = table.get("package").and_then(toml::Value::as_array) else {
        return Ok(out);
    };
    for (i, p) in packages.iter().enumerate() {
        let place = format!("package {}", i + 1);
        let (Some(name), Some(version)) = (
            p.get("name").and_then(toml::Value::as_str),
            p.get("version").and_then(toml::Value::as_str),
        ) else {
            // The project itself (editable, virtual) may have no version.
            continue;
        };
        for d in distributions(p) {
            let Some(url) = d.get("url").and_then(toml::Value::as_str) else {
                // A path or directory source: nothing published to attest.
                continue;
            };
            let hash = d
                .get("hash")
                .and_then(toml::Value::as_str)
                .unwrap_or_default();
            let Some(hex) = hash.strip_prefix("sha256:") else {
                out.problems.push(format!(
                    "{place} ({name} {version}): expected hash = \"sha256:…\", got {hash:?}"
                ));
                continue;
            };
            match (sha256(hex), url_file_name(url)) {
                (Ok(digest), Some(file)) => out.files.push(LockedFile {
                    name: name.to_string(),
                    version: version.to_string(),
                    filename: Some(file),
                    digest,
                    identities: Vec::new(),
                    place: format!("{place} ({name} {version})"),
                }),
                (Err(e), _) => out
                    .problems
                    .push(format!("{place} ({name} {version}): {e}")),
                (_, None) => out
                    .problems
                    .push(format!("{place} ({name} {version}): the url names no file")),
            }
        }
    }
    Ok(out)
}

/// pylock.toml (PEP 751): `[[packages]]` with `name`, `version`,
/// `sdist`/`wheels` (each with `name` or a `url`, and `hashes.sha256`), and
/// optional `attestation-identities`.
fn parse_pylock(text: &str) -> Result<Locked, String> {
    let table = toml_table(text, "a pylock.toml")?;
    let mut out = Locked::default();
    if table.get("lock-version").and_then(toml::Value::as_str) != Some("1.0") {
        return Err("expected lock-version = \"1.0\" (PEP 751)".into());
    }
    let Some(packages) = table.get("packages").and_then(toml::Value::as_array) else {
        return Ok(out);
    };
    for (i, p) in packages.iter().enumerate() {
        let name = p
            .get("name")
            .and_then(toml::Value::as_str)
            .unwrap_or_default();
        let place = format!("packages[{i}] ({name})");
        let Some(version) = p.get("version").and_then(toml::Value::as_str) else {
            // A package from a VCS or directory has no version to attest.
            continue;
        };
        let mut identities = Vec::new();
        if let Some(ids) = p
            .get("attestation-identities")
            .and_then(toml::Value::as_array)
        {
            for (j, id) in ids.iter().enumerate() {
                let json = serde_json::to_value(id).unwrap_or(Value::Null);
                match Publisher::from_json(&json) {
                    Ok(p) => identities.push(p),
                    Err(e) => out
                        .problems
                        .push(format!("{place}: attestation-identities[{j}]: {e}")),
                }
            }
        }
        for d in distributions(p) {
            let file = d
                .get("name")
                .and_then(toml::Value::as_str)
                .map(str::to_string)
                .or_else(|| {
                    d.get("url")
                        .and_then(toml::Value::as_str)
                        .and_then(url_file_name)
                })
                .or_else(|| {
                    d.get("path")
                        .and_then(toml::Value::as_str)
                        .and_then(url_file_name)
                });
            let hex = d
                .get("hashes")
                .and_then(|h| h.get("sha256"))
                .and_then(toml::Value::as_str);
            match (file, hex.map(sha256)) {
                (Some(file), Some(Ok(digest))) => out.files.push(LockedFile {
                    name: name.to_string(),
                    version: version.to_string(),
                    filename: Some(file),
                    digest,
                    identities: identities.clone(),
                    place: place.clone(),
                }),
                (None, _) => out
                    .problems
                    .push(format!("{place}: a file with no name or url")),
                (_, None) => out
                    .problems
                    .push(format!("{place}: a file without hashes.sha256")),
                (_, Some(Err(e))) => out.problems.push(format!("{place}: {e}")),
            }
        }
    }
    Ok(out)
}

/// requirements.txt in hash-checking mode: `NAME==VERSION --hash=sha256:H`
/// (continuation lines joined). Each hash is one file of the release; which
/// file is for the index to say. Lines that pin nothing are problems, as
/// pip's `--require-hashes` refuses them.
fn parse_requirements(text: &str) -> Locked {
    let mut out = Locked::default();
    let mut logical = String::new();
    let mut start = 0;
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split(" #").next().unwrap_or_default();
        let line = if line.trim_start().starts_with('#') {
            ""
        } else {
            line
        };
        if logical.is_empty() {
            start = n + 1;
        }
        match line.trim_end().strip_suffix('\\') {
            Some(head) => {
                logical.push_str(head);
                logical.push(' ');
            }
            None => {
                logical.push_str(line);
                let done = std::mem::take(&mut logical);
                if !done.trim().is_empty() {
                    lines.push((start, done));
                }
            }
        }
    }
    if !logical.trim().is_empty() {
        lines.push((start, logical));
    }
    for (n, line) in lines {
        let place = format!("line {n}");
        let mut words = line.split_whitespace();
        let Some(spec) = words.next() else { continue };
        if spec.starts_with('-') {
            // Options (--index-url, -r other.txt, …): not a pinned file.
            continue;
        }
        let spec = spec.split(';').next().unwrap_or(spec);
        let Some((name, version)) = spec.split_once("==") else {
            out.problems.push(format!(
                "{place}: {spec:?} is not pinned as NAME==VERSION (hash-checking mode needs it)"
            ));
            continue;
        };
        let name = name.split('[').next().unwrap_or(name);
        let mut hashes = 0;
        let rest: Vec<&str> = words.collect();
        let mut k = 0;
        while k < rest.len() {
            let w = rest[k];
            let value = if let Some(v) = w.strip_prefix("--hash=") {
                Some(v)
            } else if w == "--hash" {
                k += 1;
                rest.get(k).copied()
            } else {
                None
            };
            k += 1;
            let Some(value) = value else { continue };
            match value.split_once(':') {
                Some(("sha256", hex)) => match sha256(hex) {
                    Ok(digest) => {
                        hashes += 1;
                        out.files.push(LockedFile {
                            name: name.to_string(),
                            version: version.trim().to_string(),
                            filename: None,
                            digest,
                            identities: Vec::new(),
                            place: place.clone(),
                        });
                    }
                    Err(e) => out.problems.push(format!("{place}: {e}")),
                },
                _ => out.problems.push(format!(
                    "{place}: --hash={value}: only sha256 hashes can be matched to PEP 740 attestations"
                )),
            }
        }
        if hashes == 0 {
            out.problems
                .push(format!("{place}: {name}=={version} has no --hash=sha256:…"));
        }
    }
    out
}

/// package-lock.json (lockfile 2 and 3): `packages["node_modules/…/NAME"]`
/// with `version`, `resolved` and `integrity` (`sha512-BASE64`). Links,
/// bundled and workspace packages have nothing published to attest.
fn parse_npm(text: &str) -> Result<Locked, String> {
    crate::json::check_unique_keys(text.as_bytes()).map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_str(text)
        .map_err(|e| format!("expected a package-lock.json (JSON): {e}"))?;
    let version = v.get("lockfileVersion").and_then(Value::as_u64);
    if !matches!(version, Some(2 | 3)) {
        return Err(format!(
            "expected lockfileVersion 2 or 3, got {}",
            version.map_or("none".to_string(), |v| v.to_string())
        ));
    }
    let mut out = Locked::default();
    let Some(packages) = v.get("packages").and_then(Value::as_object) else {
        return Ok(out);
    };
    let sorted: BTreeMap<&String, &Value> = packages.iter().collect();
    for (key, p) in sorted {
        let Some(idx) = key.rfind("node_modules/") else {
            continue; // the root project
        };
        if p.get("link").and_then(Value::as_bool) == Some(true)
            || p.get("inBundle").and_then(Value::as_bool) == Some(true)
        {
            continue;
        }
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(&key[idx + "node_modules/".len()..]);
        let place = format!("packages[{key:?}]");
        let Some(version) = p.get("version").and_then(Value::as_str) else {
            out.problems.push(format!("{place}: no version"));
            continue;
        };
        let Some(integrity) = p.get("integrity").and_then(Value::as_str) else {
            // Git and tarball-URL dependencies carry no registry integrity.
            continue;
        };
        match npm_integrity(integrity) {
            Ok(digest) => out.files.push(LockedFile {
                name: name.to_string(),
                version: version.to_string(),
                filename: p
                    .get("resolved")
                    .and_then(Value::as_str)
                    .and_then(url_file_name),
                digest,
                identities: Vec::new(),
                place,
            }),
            Err(e) => out.problems.push(format!("{place}: integrity: {e}")),
        }
    }
    Ok(out)
}

/// An SRI `integrity` string's sha512 (`sha512-BASE64`; of several, the
/// sha512 one).
pub fn npm_integrity(text: &str) -> Result<ArtifactDigest, String> {
    let b64 = text
        .split_whitespace()
        .find_map(|t| t.strip_prefix("sha512-"))
        .ok_or_else(|| format!("expected sha512-BASE64, got {text:?}"))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| format!("not base64: {e}"))?;
    if bytes.len() != 64 {
        return Err(format!(
            "a sha512 digest is 64 bytes, this is {}",
            bytes.len()
        ));
    }
    ArtifactDigest::parse(&format!("sha512:{}", hex::encode(bytes))).map_err(|e| e.to_string())
}

/// A locked file's package name as the ecosystem compares names: PEP 503's
/// normal form for Python, as written for npm.
pub fn package_name(f: &LockedFile, ecosystem: Ecosystem) -> String {
    match ecosystem {
        Ecosystem::Pypi => dist::normalize_name(&f.name),
        Ecosystem::Npm => f.name.clone(),
    }
}

/// Group `files` by (normalised name, version), in order: a package's files.
pub fn packages(
    files: &[LockedFile],
    ecosystem: Ecosystem,
) -> Vec<(String, String, Vec<&LockedFile>)> {
    let mut out: Vec<(String, String, Vec<&LockedFile>)> = Vec::new();
    for f in files {
        let name = package_name(f, ecosystem);
        match out
            .iter_mut()
            .find(|(n, v, _)| *n == name && *v == f.version)
        {
            Some((_, _, list)) => list.push(f),
            None => out.push((name, f.version.clone(), vec![f])),
        }
    }
    out
}

/// The digest algorithm a lock of this ecosystem pins.
pub fn algorithm(ecosystem: Ecosystem) -> DigestAlgorithm {
    match ecosystem {
        Ecosystem::Pypi => DigestAlgorithm::Sha256,
        Ecosystem::Npm => DigestAlgorithm::Sha512,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "0ace7980f82c5815ede4cd7bf9f6693684cec2ae47b9b7ade9add533b8627c6b";

    #[test]
    fn uv_lock_files_are_read_and_local_sources_left_out() {
        let text = format!(
            r#"version = 1
requires-python = ">=3.9"

[[package]]
name = "sampleproject"
version = "4.0.0"
source = {{ registry = "https://pypi.org/simple" }}
sdist = {{ url = "https://files.pythonhosted.org/packages/ab/cd/sampleproject-4.0.0.tar.gz", hash = "sha256:{H}", size = 5760 }}
wheels = [
    {{ url = "https://files.pythonhosted.org/packages/ef/sampleproject-4.0.0-py3-none-any.whl", hash = "sha256:{H}", size = 1 }},
]

[[package]]
name = "myapp"
version = "0.1.0"
source = {{ editable = "." }}

[[package]]
name = "bad"
version = "1.0"
sdist = {{ url = "https://x/bad-1.0.tar.gz", hash = "md5:abc" }}
"#
        );
        let l = parse(LockKind::UvLock, &text).unwrap();
        assert_eq!(l.files.len(), 2, "{l:?}");
        assert_eq!(
            l.files[0].filename.as_deref(),
            Some("sampleproject-4.0.0.tar.gz")
        );
        assert_eq!(l.problems.len(), 1, "{:?}", l.problems);
        assert!(
            l.problems[0].contains("package 3 (bad 1.0)"),
            "{:?}",
            l.problems
        );
        assert!(parse(LockKind::UvLock, "[[package]\n").is_err());
    }

    #[test]
    fn pylock_identities_and_requirements_hashes() {
        let text = format!(
            r#"lock-version = "1.0"
created-by = "test"
[[packages]]
name = "sampleproject"
version = "4.0.0"
attestation-identities = [{{ kind = "GitHub", repository = "pypa/sampleproject", workflow = "release.yml" }}]
sdist = {{ name = "sampleproject-4.0.0.tar.gz", url = "https://x/sampleproject-4.0.0.tar.gz", hashes = {{ sha256 = "{H}" }} }}
"#
        );
        let l = parse(LockKind::Pylock, &text).unwrap();
        assert_eq!(l.files.len(), 1);
        assert_eq!(l.files[0].identities.len(), 1);
        assert!(parse(LockKind::Pylock, "lock-version = \"2.0\"").is_err());

        let req = format!(
            "# comment\n--index-url https://pypi.org/simple\nsampleproject==4.0.0 \\\n    --hash=sha256:{H} \\\n    --hash sha256:{H}\nrequests>=2\nflask==3.0 --hash=md5:00\n"
        );
        let l = parse(LockKind::Requirements, &req).unwrap();
        assert_eq!(l.files.len(), 2, "{l:?}");
        assert_eq!(l.files[0].place, "line 3");
        assert_eq!(l.problems.len(), 3, "{:?}", l.problems);
    }

    #[test]
    fn npm_lock_integrity_is_sha512() {
        let text = r#"{"name":"app","lockfileVersion":3,"packages":{
            "":{"name":"app"},
            "node_modules/sigstore":{"version":"1.0.0","resolved":"https://registry.npmjs.org/sigstore/-/sigstore-1.0.0.tgz",
              "integrity":"sha512-e+qfbn/zf1+rCza/BhIA//Awmf0v1pa5HQS8Xk8iXrn9bgytytVLqYD0P7NSqZ6IELTgq+tcDvLPkQjNHyWLNg=="},
            "node_modules/local":{"resolved":"../local","link":true},
            "node_modules/a/node_modules/@scope/b":{"version":"2.0.0","integrity":"sha512-short"}
        }}"#;
        let l = parse(LockKind::NpmLock, text).unwrap();
        assert_eq!(l.files.len(), 1, "{l:?}");
        assert_eq!(l.files[0].name, "sigstore");
        assert_eq!(l.files[0].digest.algorithm(), DigestAlgorithm::Sha512);
        assert_eq!(l.problems.len(), 1);
        assert!(l.problems[0].contains("@scope/b"), "{:?}", l.problems);
        assert!(parse(LockKind::NpmLock, r#"{"lockfileVersion":1}"#).is_err());
        assert_eq!(LockKind::of("pylock.dev.toml"), Some(LockKind::Pylock));
        assert_eq!(
            url_file_name("https://x/a%2Bb-1.0.tar.gz?x=1"),
            Some("a+b-1.0.tar.gz".into())
        );
    }

    fn file(name: &str, version: &str) -> LockedFile {
        LockedFile {
            name: name.into(),
            version: version.into(),
            filename: None,
            digest: sha256(H).unwrap(),
            identities: Vec::new(),
            place: String::new(),
        }
    }

    #[test]
    fn lock_kinds_by_file_name() {
        assert_eq!(MAX_LOCKFILE_BYTES, 67_108_864);
        for (name, want) in [
            ("uv.lock", Some(LockKind::UvLock)),
            ("package-lock.json", Some(LockKind::NpmLock)),
            ("npm-shrinkwrap.json", Some(LockKind::NpmLock)),
            ("pylock.toml", Some(LockKind::Pylock)),
            ("pylock.dev.toml", Some(LockKind::Pylock)),
            ("requirements.txt", Some(LockKind::Requirements)),
            ("requirements.in", Some(LockKind::Requirements)),
            ("pylock.txt", Some(LockKind::Requirements)),
            ("other.toml", None),
            ("Cargo.lock", None),
            ("package.json", None),
        ] {
            assert_eq!(LockKind::of(name), want, "{name}");
        }
        assert_eq!(LockKind::NpmLock.ecosystem(), Ecosystem::Npm);
        for k in [LockKind::UvLock, LockKind::Pylock, LockKind::Requirements] {
            assert_eq!(k.ecosystem(), Ecosystem::Pypi, "{k:?}");
        }
        assert_eq!(algorithm(Ecosystem::Pypi), DigestAlgorithm::Sha256);
        assert_eq!(algorithm(Ecosystem::Npm), DigestAlgorithm::Sha512);
    }

    #[test]
    fn url_file_names_are_percent_decoded_leniently() {
        assert_eq!(
            url_file_name("https://x/a/b.tar.gz#sha256=1").as_deref(),
            Some("b.tar.gz")
        );
        assert_eq!(url_file_name("https://x/a/"), None);
        assert_eq!(percent_decode("%41%42c"), "ABc");
        assert_eq!(percent_decode("a%zz%4"), "a%zz%4");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%2b%2B"), "++");
    }

    #[test]
    fn requirements_lines_are_numbered_and_a_last_continuation_is_kept() {
        let req = format!("\n# c\na==1.0 \\\n  --hash=sha256:{H} \\\n");
        let l = parse(LockKind::Requirements, &req).unwrap();
        assert_eq!(l.files.len(), 1, "{l:?}");
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        assert_eq!(
            (
                l.files[0].name.as_str(),
                l.files[0].version.as_str(),
                l.files[0].place.as_str()
            ),
            ("a", "1.0", "line 3")
        );
        let req = format!("b[extra]==2 --hash sha256:{H} ; python_version>'3'\nc==3\n");
        let l = parse(LockKind::Requirements, &req).unwrap();
        assert_eq!(l.files.len(), 1, "{l:?}");
        assert_eq!(l.files[0].name, "b");
        assert_eq!(
            l.problems,
            ["line 2: c==3 has no --hash=sha256:…"],
            "{:?}",
            l.problems
        );
    }

    #[test]
    fn npm_locks_skip_links_and_bundled_packages_and_check_integrity_length() {
        let text = r#"{"lockfileVersion":2,"packages":{
            "node_modules/bundled":{"version":"1.0.0","inBundle":true,"integrity":"sha512-AAAA"},
            "node_modules/local":{"link":true,"resolved":"../local"},
            "node_modules/a/node_modules/aliased":{"name":"real-name","version":"1.0.0",
              "integrity":"sha512-e+qfbn/zf1+rCza/BhIA//Awmf0v1pa5HQS8Xk8iXrn9bgytytVLqYD0P7NSqZ6IELTgq+tcDvLPkQjNHyWLNg=="},
            "node_modules/@s/p":{"version":"2.0.0",
              "integrity":"sha1-AAAA sha512-e+qfbn/zf1+rCza/BhIA//Awmf0v1pa5HQS8Xk8iXrn9bgytytVLqYD0P7NSqZ6IELTgq+tcDvLPkQjNHyWLNg=="},
            "node_modules/short":{"version":"1.0.0","integrity":"sha512-AAAA"},
            "node_modules/nover":{"integrity":"sha512-AAAA"}
        }}"#;
        let l = parse(LockKind::NpmLock, text).unwrap();
        let names: Vec<_> = l.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["@s/p", "real-name"], "{l:?}");
        assert_eq!(l.files[0].filename, None);
        assert_eq!(
            l.problems,
            [
                "packages[\"node_modules/nover\"]: no version",
                "packages[\"node_modules/short\"]: integrity: a sha512 digest is 64 bytes, this is 3",
            ]
        );
        assert_eq!(
            npm_integrity("sha1-AAAA").unwrap_err(),
            "expected sha512-BASE64, got \"sha1-AAAA\""
        );
        assert_eq!(
            parse(LockKind::NpmLock, r#"{"packages":{}}"#).unwrap_err(),
            "expected lockfileVersion 2 or 3, got none"
        );
    }

    #[test]
    fn packages_group_files_by_normalised_name_and_version() {
        let files = [
            file("Foo_Bar", "1.0"),
            file("foo-bar", "1.0"),
            file("foo-bar", "2.0"),
            file("baz", "1.0"),
        ];
        let groups = packages(&files, Ecosystem::Pypi);
        let summary: Vec<_> = groups
            .iter()
            .map(|(n, v, l)| (n.as_str(), v.as_str(), l.len()))
            .collect();
        assert_eq!(
            summary,
            [
                ("foo-bar", "1.0", 2),
                ("foo-bar", "2.0", 1),
                ("baz", "1.0", 1)
            ]
        );
        assert_eq!(groups[0].2[0].name, "Foo_Bar");
        // npm names are compared as written.
        let groups = packages(&files, Ecosystem::Npm);
        assert_eq!(groups.len(), 4);
        assert_eq!(package_name(&files[0], Ecosystem::Npm), "Foo_Bar");
        assert_eq!(package_name(&files[0], Ecosystem::Pypi), "foo-bar");
    }

    #[test]
    fn toml_errors_name_the_lock_kind() {
        let e = parse(LockKind::Pylock, "x = [").unwrap_err();
        assert!(e.starts_with("expected a pylock.toml (TOML): "), "{e}");
        let l = parse(
            LockKind::Pylock,
            &format!(
                r#"lock-version = "1.0"
[[packages]]
name = "p"
version = "1"
attestation-identities = [{{ kind = "GitHub" }}]
wheels = [{{ url = "https://x/p-1-py3-none-any.whl", hashes = {{ sha256 = "{H}" }} }}, {{ hashes = {{ sha256 = "{H}" }} }}, {{ name = "p-1.tar.gz" }}]
"#
            ),
        )
        .unwrap();
        assert_eq!(l.files.len(), 1);
        assert_eq!(l.files[0].filename.as_deref(), Some("p-1-py3-none-any.whl"));
        assert_eq!(
            l.problems,
            [
                "packages[0] (p): attestation-identities[0]: publisher: expected \"repository\", a string",
                "packages[0] (p): a file with no name or url",
                "packages[0] (p): a file without hashes.sha256",
            ]
        );
    }
}
