//! Tests of `manifest.rs`: `sha256sum`-format digest
//! manifests, read line by line with numbered errors, and written back.

use attest::artifact::{digest_bytes, ArtifactDigest, DigestAlgorithm};
use attest::manifest::{
    check_release_name, format_line, format_manifest, parse_manifest, ManifestEntry,
};

const H: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn sha256(hex: &str) -> ArtifactDigest {
    ArtifactDigest::parse(&format!("sha256:{hex}")).unwrap()
}

fn sha512_hex() -> String {
    digest_bytes(b"", DigestAlgorithm::Sha512).hex()
}

fn entries(text: &str, alg: Option<DigestAlgorithm>) -> Vec<(usize, String, ArtifactDigest)> {
    let m = parse_manifest(text.as_bytes(), alg);
    m.entries
        .into_iter()
        .map(|ManifestEntry { line, name, digest }| (line, name, digest))
        .collect()
}

fn errors(text: &str, alg: Option<DigestAlgorithm>) -> Vec<(usize, String)> {
    parse_manifest(text.as_bytes(), alg)
        .errors
        .into_iter()
        .map(|e| (e.line, e.message))
        .collect()
}

#[test]
fn lines_are_numbered_from_one_and_digests_kept() {
    let other = "ab".repeat(32);
    let text = format!("{H}  a.whl\n{other} *b.tgz\n");
    assert_eq!(
        entries(&text, None),
        [
            (1, "a.whl".to_string(), sha256(H)),
            (2, "b.tgz".to_string(), sha256(&other)),
        ]
    );
    // Without the final newline, the same.
    assert_eq!(entries(text.trim_end(), None).len(), 2);
    // Upper-case hex is read as the same digest.
    assert_eq!(
        entries(&format!("{}  up\n", H.to_uppercase()), None),
        [(1, "up".to_string(), sha256(H))]
    );
    assert!(parse_manifest(b"", None).entries.is_empty());
    assert!(parse_manifest(b"", None).errors.is_empty());
}

#[test]
fn sha512_lines_and_the_wanted_algorithm() {
    let h512 = sha512_hex();
    let text = format!("{h512}  big.tgz\n{H}  small.tgz\n");
    let e = entries(&text, None);
    assert_eq!(e.len(), 2);
    assert_eq!(e[0].2.algorithm(), DigestAlgorithm::Sha512);
    assert_eq!(e[0].2.hex(), h512);
    assert_eq!(e[1].2.algorithm(), DigestAlgorithm::Sha256);
    let only512 = parse_manifest(text.as_bytes(), Some(DigestAlgorithm::Sha512));
    assert_eq!(only512.entries.len(), 1);
    assert_eq!(only512.entries[0].name, "big.tgz");
    assert_eq!(
        only512
            .errors
            .iter()
            .map(|e| (e.line, e.message.as_str()))
            .collect::<Vec<_>>(),
        [(2, "a sha256 digest where sha512 was expected")]
    );
}

#[test]
fn tagged_lines_of_both_algorithms() {
    let h512 = sha512_hex();
    let text = format!("SHA256 (a b.txt) = {H}\nSHA512 (c) = {h512}\nMD5 (d) = {H}\n");
    let m = parse_manifest(text.as_bytes(), None);
    let got: Vec<_> = m
        .entries
        .iter()
        .map(|e| (e.line, e.name.as_str(), e.digest.algorithm()))
        .collect();
    assert_eq!(
        got,
        [
            (1, "a b.txt", DigestAlgorithm::Sha256),
            (2, "c", DigestAlgorithm::Sha512)
        ]
    );
    assert_eq!(m.entries[0].digest, sha256(H));
    assert_eq!(m.entries[1].digest.hex(), h512);
    // `MD5 (d) = …` is not a tagged line we read; as a GNU line its
    // "digest" is empty.
    assert_eq!(m.errors.len(), 1);
    assert_eq!(m.errors[0].line, 3);
    // A tagged line of the wrong algorithm when one is required.
    let e = errors(
        &format!("SHA512 (c) = {h512}\n"),
        Some(DigestAlgorithm::Sha256),
    );
    assert_eq!(e, [(1, "a sha512 digest where sha256 was expected".into())]);
    // Escaped tagged names are unescaped.
    let m = parse_manifest(format!("\\SHA256 (x\\ny) = {H}\n").as_bytes(), None);
    assert_eq!(m.entries[0].name, "x\ny");
    let e = errors(&format!("\\SHA256 (x\\qy) = {H}\n"), None);
    assert_eq!(e, [(1, "invalid escape \\q in the file name".into())]);
}

#[test]
fn escaped_names_are_unescaped() {
    let m = parse_manifest(format!("\\{H}  a\\\\b\\nc\\rd\n").as_bytes(), None);
    assert!(m.errors.is_empty(), "{:?}", m.errors);
    assert_eq!(m.entries[0].name, "a\\b\nc\rd");
    // Without the leading backslash, a backslash is just a character.
    let m = parse_manifest(format!("{H}  a\\nb\n").as_bytes(), None);
    assert_eq!(m.entries[0].name, "a\\nb");
    let e = errors(&format!("\\{H}  bad\\\n"), None);
    assert_eq!(e, [(1, "invalid escape \\ in the file name".into())]);
}

#[test]
fn separators_and_their_messages() {
    assert_eq!(entries(&format!("{H} *bin\n"), None)[0].1, "bin");
    assert_eq!(entries(&format!("{H}  txt\n"), None)[0].1, "txt");
    let cases = [
        (
            format!("{H} -x\n"),
            "expected \"  \" or \" *\" after the digest, found \" -\"",
        ),
        (
            format!("{}g  x\n", &H[..63]),
            "the digest contains a non-hex character 'g'",
        ),
        (
            format!("{H}\n"),
            "no file name after the digest; expected `<hex digest>  <file name>`",
        ),
        (
            format!("{H} \n"),
            "expected two characters (\"  \" or \" *\") after the digest, found \" \"",
        ),
        (format!("{H}  \n"), "empty file name"),
        (
            "  x\n".to_string(),
            "expected a hex digest at the start of the line, found ' '",
        ),
        (
            format!("{}  x\n", &H[..60]),
            "the digest has 60 hex digits; expected 64 (sha256) or 128 (sha512)",
        ),
        (
            "\n".to_string(),
            "empty line; expected `<hex digest>  <file name>`",
        ),
        (format!("{H}  a\0b\n"), "contains a NUL byte"),
    ];
    for (text, message) in cases {
        assert_eq!(errors(&text, None), [(1, message.to_string())], "{text:?}");
        assert!(parse_manifest(text.as_bytes(), None).entries.is_empty());
    }
    assert_eq!(
        errors(&format!("{}  x\n", &H[..60]), Some(DigestAlgorithm::Sha256)),
        [(
            1,
            "the digest has 60 hex digits; a sha256 digest has 64".into()
        )]
    );
}

#[test]
fn bad_lines_do_not_stop_parsing_and_keep_their_numbers() {
    let text = format!("{H}  a\nnot a line\r\n\n{H}  b\r\n\u{0}\n{H}  c");
    let m = parse_manifest(text.as_bytes(), None);
    let names: Vec<_> = m
        .entries
        .iter()
        .map(|e| (e.line, e.name.as_str()))
        .collect();
    assert_eq!(names, [(1, "a"), (4, "b"), (6, "c")]);
    let lines: Vec<_> = m.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 3, 5]);
    let bad_utf8 = parse_manifest(b"\xff\n", None);
    assert_eq!(
        bad_utf8.errors[0].message,
        "not UTF-8 text (invalid byte at column 1)"
    );
}

#[test]
fn duplicates_point_at_the_first_line() {
    let m = parse_manifest(format!("{H}  a\n{H}  b\n{H}  a\n{H}  a\n").as_bytes(), None);
    let d: Vec<_> = m
        .duplicates()
        .into_iter()
        .map(|(e, first)| (e.line, first))
        .collect();
    assert_eq!(d, [(3, 1), (4, 1)]);
    let none = parse_manifest(format!("{H}  a\n{H}  b\n").as_bytes(), None);
    assert!(none.duplicates().is_empty());
}

#[test]
fn formatting_matches_sha256sum() {
    let d = sha256(H);
    assert_eq!(format_line(&d, "a b"), format!("{H}  a b\n"));
    assert_eq!(
        format_line(&d, "x\ny\\z\r"),
        format!("\\{H}  x\\ny\\\\z\\r\n")
    );
    let other = sha256(&"0".repeat(64));
    let out = format_manifest(&[
        ("b".into(), d.clone()),
        ("a".into(), d.clone()),
        ("a".into(), other.clone()),
        ("B".into(), d.clone()),
    ]);
    assert_eq!(
        out,
        format!("{H}  B\n{}  a\n{H}  a\n{H}  b\n", "0".repeat(64))
    );
    assert_eq!(format_manifest(&[]), "");
    // What is written reads back.
    let m = parse_manifest(out.as_bytes(), None);
    assert_eq!(m.entries.len(), 4);
    assert!(m.errors.is_empty());
}

#[test]
fn release_names_stay_inside_the_release_directory() {
    for good in ["x.whl", "dir/x.whl", "./x", "a..b", ".hidden"] {
        assert_eq!(check_release_name(good), Ok(()), "{good}");
    }
    for (bad, why) in [
        ("../x", "`..`"),
        ("a/../../b", "`..`"),
        ("/etc/passwd", "absolute"),
        ("a\0b", "NUL"),
    ] {
        let e = check_release_name(bad).unwrap_err();
        assert!(e.contains(why), "{bad}: {e}");
    }
}

/// On Windows a root-relative (`\x`) or drive-relative (`C:x`) name is not
/// `is_absolute()` but still leaves the release directory; the component
/// check catches it. (On Unix those names are ordinary relative names.)
#[cfg(windows)]
#[test]
fn windows_rooted_names_are_refused() {
    for bad in [r"\x", r"\Windows\x", "C:x"] {
        let e = check_release_name(bad).unwrap_err();
        assert!(e.contains("absolute"), "{bad}: {e}");
    }
}
