//! Digest manifests in `sha256sum` format: the `release-artifact-digests.txt`
//! a release writes and `actions/attest` reads with `subject-checksums`.
//!
//! A line is `<hex><space><space or *><name>`, as GNU coreutils writes it; a
//! name with a backslash, newline or carriage return is escaped and the line
//! starts with `\`. The BSD/`--tag` form `SHA256 (name) = hex` is read too.
//! CRLF line endings are accepted, as coreutils 9 does. Parsing never stops at
//! a bad line: each gets an error with its line number and the rest is kept.

use std::collections::HashMap;
use std::fmt;
use std::path::{Component, Path};

use crate::artifact::{ArtifactDigest, DigestAlgorithm};

/// One well-formed manifest line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// 1-based line number.
    pub line: usize,
    /// The file name, unescaped.
    pub name: String,
    /// The digest it lists.
    pub digest: ArtifactDigest,
}

/// A line that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestLineError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for ManifestLineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// A parsed manifest: its good lines and its bad ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DigestManifest {
    /// Well-formed lines, in file order.
    pub entries: Vec<ManifestEntry>,
    /// Improperly formatted lines.
    pub errors: Vec<ManifestLineError>,
}

impl DigestManifest {
    /// Entries whose name appeared on an earlier line too, with that line.
    pub fn duplicates(&self) -> Vec<(&ManifestEntry, usize)> {
        let mut first: HashMap<&str, usize> = HashMap::new();
        let mut dups = Vec::new();
        for e in &self.entries {
            match first.get(e.name.as_str()) {
                Some(&line) => dups.push((e, line)),
                None => {
                    first.insert(&e.name, e.line);
                }
            }
        }
        dups
    }
}

/// Parse manifest text. With `algorithm`, every line must use it (as
/// `sha256sum --check` does: a sha512 line is improperly formatted there);
/// without, each line's algorithm is inferred from its digest length.
pub fn parse_manifest(bytes: &[u8], algorithm: Option<DigestAlgorithm>) -> DigestManifest {
    let mut manifest = DigestManifest::default();
    // A final newline does not start another line.
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if bytes.is_empty() {
        return manifest;
    }
    for (i, raw) in body.split(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        match parse_line(raw, algorithm) {
            Ok(None) => {}
            Ok(Some((name, digest))) => manifest.entries.push(ManifestEntry { line, name, digest }),
            Err(message) => manifest.errors.push(ManifestLineError { line, message }),
        }
    }
    manifest
}

fn parse_line(
    raw: &[u8],
    algorithm: Option<DigestAlgorithm>,
) -> Result<Option<(String, ArtifactDigest)>, String> {
    let text = std::str::from_utf8(raw).map_err(|e| {
        format!(
            "not UTF-8 text (invalid byte at column {})",
            e.valid_up_to() + 1
        )
    })?;
    if text.trim().is_empty() {
        return Err("empty line; expected `<hex digest>  <file name>`".into());
    }
    if text.contains('\0') {
        return Err("contains a NUL byte".into());
    }
    if let Some(tagged) = parse_tagged(text) {
        return tagged
            .and_then(|(alg, name, hex)| digest_for(alg, hex, algorithm).map(|d| Some((name, d))));
    }
    let (escaped, rest) = match text.strip_prefix('\\') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let hex_end = rest
        .find(|c: char| !c.is_ascii_hexdigit())
        .unwrap_or(rest.len());
    let (hex, after) = rest.split_at(hex_end);
    if hex.is_empty() {
        return Err(format!(
            "expected a hex digest at the start of the line, found {:?}",
            rest.chars().next().unwrap_or(' ')
        ));
    }
    let Some(sep) = after.get(..2) else {
        return Err(if after.is_empty() {
            "no file name after the digest; expected `<hex digest>  <file name>`".into()
        } else {
            format!("expected two characters (\"  \" or \" *\") after the digest, found {after:?}")
        });
    };
    if sep != "  " && sep != " *" {
        let c = after.chars().next().unwrap_or(' ');
        return Err(if c == ' ' {
            format!("expected \"  \" or \" *\" after the digest, found {sep:?}")
        } else {
            format!("the digest contains a non-hex character {c:?}")
        });
    }
    let name_raw = &after[2..];
    if name_raw.is_empty() {
        return Err("empty file name".into());
    }
    let name = if escaped {
        unescape(name_raw)?
    } else {
        name_raw.to_string()
    };
    let inferred = match hex.len() {
        64 => DigestAlgorithm::Sha256,
        128 => DigestAlgorithm::Sha512,
        n => {
            return Err(match algorithm {
                Some(a) => format!(
                    "the digest has {n} hex digits; a {a} digest has {}",
                    a.digest_len() * 2
                ),
                None => {
                    format!("the digest has {n} hex digits; expected 64 (sha256) or 128 (sha512)")
                }
            })
        }
    };
    let digest = digest_for(inferred.name(), hex, algorithm)?;
    Ok(Some((name, digest)))
}

fn digest_for(
    alg: &str,
    hex: &str,
    wanted: Option<DigestAlgorithm>,
) -> Result<ArtifactDigest, String> {
    let alg: DigestAlgorithm = alg
        .parse()
        .map_err(|e: crate::artifact::ArtifactError| e.to_string())?;
    if let Some(w) = wanted {
        if w != alg {
            return Err(format!("a {alg} digest where {w} was expected"));
        }
    }
    ArtifactDigest::parse(&format!("{}:{}", alg.name(), hex)).map_err(|e| e.to_string())
}

/// `SHA256 (name) = hex`: `None` if the line is not in that form.
#[allow(clippy::type_complexity)]
fn parse_tagged(text: &str) -> Option<Result<(&'static str, String, &str), String>> {
    let (tag, rest) = text.split_once(" (")?;
    let alg = match tag.trim_start_matches('\\') {
        "SHA256" => "sha256",
        "SHA512" => "sha512",
        _ => return None,
    };
    let (name, hex) = rest.rsplit_once(") = ")?;
    if name.is_empty() {
        return Some(Err("empty file name".into()));
    }
    let name = if text.starts_with('\\') {
        match unescape(name) {
            Ok(n) => n,
            Err(e) => return Some(Err(e)),
        }
    } else {
        name.to_string()
    };
    Some(Ok((alg, name, hex)))
}

fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            other => {
                return Err(format!(
                    "invalid escape \\{} in the file name",
                    other.map(String::from).unwrap_or_default()
                ))
            }
        }
    }
    Ok(out)
}

/// One manifest line as GNU `sha256sum` writes it (escaping included).
pub fn format_line(digest: &ArtifactDigest, name: &str) -> String {
    let needs_escape = name.contains(['\\', '\n', '\r']);
    if needs_escape {
        let escaped = name
            .replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('\r', "\\r");
        format!("\\{}  {escaped}\n", digest.hex())
    } else {
        format!("{}  {name}\n", digest.hex())
    }
}

/// A name as `sha256sum --check` prints it before `: OK` / `: FAILED`
/// (GNU coreutils 9.1): one with a newline gets a leading `\` and its
/// backslashes, newlines and carriage returns escaped, so every result is
/// one line; any other name is printed as it is.
pub fn check_line_name(name: &str) -> std::borrow::Cow<'_, str> {
    if !name.contains('\n') {
        return std::borrow::Cow::Borrowed(name);
    }
    let escaped = name
        .replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\r', "\\r");
    std::borrow::Cow::Owned(format!("\\{escaped}"))
}

/// A whole manifest, sorted by name in byte order (`LC_ALL=C sort -k 2`).
pub fn format_manifest(entries: &[(String, ArtifactDigest)]) -> String {
    let mut sorted: Vec<&(String, ArtifactDigest)> = entries.iter().collect();
    sorted.sort_by(|a, b| {
        a.0.as_bytes()
            .cmp(b.0.as_bytes())
            .then_with(|| a.1.hex().cmp(&b.1.hex()))
    });
    sorted.iter().map(|(n, d)| format_line(d, n)).collect()
}

/// Why a manifest name cannot be used as a path under the release directory.
pub fn check_release_name(name: &str) -> Result<(), String> {
    if name.contains('\0') {
        return Err("the name contains a NUL byte".into());
    }
    let path = Path::new(name);
    if path.is_absolute() {
        return Err(
            "an absolute path; manifest names must be relative to the release directory".into(),
        );
    }
    for c in path.components() {
        match c {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => {
                return Err("a `..` path component would leave the release directory".into())
            }
            // A root or a Windows prefix (`\x`, `C:x`, which are not
            // `is_absolute()`); anything else a future std adds is refused too.
            _ => return Err("an absolute path; manifest names must be relative".into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::digest_bytes;

    const H: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn check_lines_escape_a_name_only_when_it_has_a_newline() {
        assert_eq!(check_line_name("new\nline"), "\\new\\nline");
        assert_eq!(check_line_name("a\\b\nc\rd"), "\\a\\\\b\\nc\\rd");
        // sha256sum --check prints these raw; so do we.
        assert_eq!(check_line_name("back\\slash"), "back\\slash");
        assert_eq!(check_line_name("cr\rx"), "cr\rx");
    }

    #[test]
    fn reads_gnu_lines_spaces_stars_crlf_and_tags() {
        let text =
            format!("{H}  a b.whl\r\n{H} *bin.tgz\nSHA256 (t.txt) = {H}\n\\{H}  x\\\\y\\nz\n");
        let m = parse_manifest(text.as_bytes(), None);
        assert!(m.errors.is_empty(), "{:?}", m.errors);
        let names: Vec<_> = m.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, vec!["a b.whl", "bin.tgz", "t.txt", "x\\y\nz"]);
    }

    #[test]
    fn bad_lines_are_numbered_and_the_rest_kept() {
        let text = format!(
            "{H}  ok\nzz{}  bad\n{H}\n{}  short\n\n{H}   ok2\n",
            &H[2..],
            &H[..60]
        );
        let m = parse_manifest(text.as_bytes(), Some(DigestAlgorithm::Sha256));
        let lines: Vec<_> = m.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5]);
        assert_eq!(m.entries.len(), 2);
        // Three spaces: the name starts with a space, as in sha256sum.
        assert_eq!(m.entries[1].name, " ok2");
        let sha512 = "0".repeat(128);
        let m = parse_manifest(
            format!("{sha512}  x\n").as_bytes(),
            Some(DigestAlgorithm::Sha256),
        );
        assert_eq!(m.errors.len(), 1);
        assert!(parse_manifest(format!("{sha512}  x\n").as_bytes(), None)
            .errors
            .is_empty());
    }

    #[test]
    fn empty_manifest_has_no_lines() {
        assert_eq!(parse_manifest(b"", None), DigestManifest::default());
        assert_eq!(parse_manifest(b"\n", None).errors.len(), 1);
    }

    #[test]
    fn formats_like_sha256sum_and_sorts_bytewise() {
        let d = digest_bytes(b"", DigestAlgorithm::Sha256);
        assert_eq!(format_line(&d, "b\\c.txt"), format!("\\{H}  b\\\\c.txt\n"));
        let out = format_manifest(&[
            ("b".into(), d.clone()),
            ("B".into(), d.clone()),
            ("a".into(), d.clone()),
        ]);
        assert_eq!(out, format!("{H}  B\n{H}  a\n{H}  b\n"));
        for name in ["x", "a b", "t\\u", "n\nl"] {
            let m = parse_manifest(format_line(&d, name).as_bytes(), None);
            assert_eq!(m.entries[0].name, name);
        }
    }

    /// Fuzzing regression (fuzz/artifacts/manifest/crash-2330de25…): a
    /// tagged line with an empty name was accepted, and written back it did
    /// not parse again (an empty name is not a file).
    #[test]
    fn tagged_lines_need_a_name() {
        let crash = b"\x9b\t#\n\\SHA256 () = e211111111111111111111111111111111111111111111111111111111111111";
        let m = parse_manifest(crash, None);
        assert!(m.entries.is_empty(), "{:?}", m.entries);
        assert_eq!(m.errors.len(), 2);
        assert!(
            m.errors[1].message.contains("empty file name"),
            "{:?}",
            m.errors
        );
        assert!(
            parse_manifest(format!("SHA256 () = {H}\n").as_bytes(), None)
                .entries
                .is_empty()
        );
    }

    #[test]
    fn duplicates_and_unsafe_names() {
        let m = parse_manifest(format!("{H}  a\n{H}  b\n{H}  a\n").as_bytes(), None);
        let d = m.duplicates();
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].0.line, d[0].1), (3, 1));
        for bad in ["../x", "/etc/passwd", "a/../../b"] {
            assert!(check_release_name(bad).is_err(), "{bad}");
        }
        for good in ["x.whl", "sub/x.whl", "./x"] {
            assert!(check_release_name(good).is_ok(), "{good}");
        }
    }
}
