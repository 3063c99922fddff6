//! Getting bundles: from a file of one bundle or JSON Lines of many.
//!
//! Reading is bounded: a file must be a regular file (a FIFO would block, a
//! directory cannot be read) no larger than [`MAX_BUNDLE_FILE_BYTES`], and
//! must be UTF-8. Each bundle in it is parsed on its own, so one broken line
//! does not hide the others.

pub mod github;
pub mod http;
pub mod npm;
pub mod oci;
pub mod pypi;
pub mod rekor;
#[cfg(test)]
pub(crate) mod test_server;

use std::path::Path;

use crate::artifact::read_text_file;
use crate::bundle::{split_bundles, BundleError, LoadedBundle};

/// Largest bundle file we read (a JSONL of a thousand attestations is ~10 MB).
pub const MAX_BUNDLE_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Why a bundle file could not be read at all.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SourceError {
    /// Missing, unreadable, not a regular file, too big, not text, empty.
    #[error("{path}: {detail}")]
    Unreadable {
        /// The file as given.
        path: String,
        /// What is wrong and what was expected.
        detail: String,
    },
}

/// Read a bundle file and parse every bundle in it.
pub fn read_bundle_file(
    path: &Path,
) -> Result<Vec<Result<LoadedBundle, BundleError>>, SourceError> {
    read_bundle_file_limited(path, MAX_BUNDLE_FILE_BYTES)
}

/// [`read_bundle_file`] with an explicit size limit.
pub fn read_bundle_file_limited(
    path: &Path,
    limit: u64,
) -> Result<Vec<Result<LoadedBundle, BundleError>>, SourceError> {
    let name = path.display().to_string();
    let text = read_text_file(path, limit, "a bundle JSON or JSONL file").map_err(|detail| {
        SourceError::Unreadable {
            path: name.clone(),
            detail,
        }
    })?;
    bundles_from_bytes(text.as_bytes(), &name)
}

/// Open a bundle file to be read as a stream
/// ([`crate::bundle_stream::BundleStream`]): one bundle in memory at a time,
/// so no limit on the file's size, only on each bundle's. It must be a
/// regular file (a FIFO would block, a directory cannot be read); UTF-8 and
/// emptiness are found as it is read.
pub fn open_bundle_stream(
    path: &Path,
) -> Result<crate::bundle_stream::BundleStream<std::fs::File>, SourceError> {
    let fail = |detail: String| SourceError::Unreadable {
        path: path.display().to_string(),
        detail,
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(crate::text::io_error(&e)))?;
    if !meta.is_file() {
        return Err(fail(format!(
            "not a regular file ({}); expected a bundle JSON or JSONL file",
            crate::artifact::file_kind(&meta)
        )));
    }
    let file = std::fs::File::open(path).map_err(|e| fail(crate::text::io_error(&e)))?;
    // The stream reads in blocks of its own; no buffer in front of it.
    Ok(crate::bundle_stream::BundleStream::new(
        file,
        &path.display().to_string(),
    ))
}

/// Parse bundles from bytes already in memory (a download, a test).
pub fn bundles_from_bytes(
    bytes: &[u8],
    name: &str,
) -> Result<Vec<Result<LoadedBundle, BundleError>>, SourceError> {
    let fail = |detail: String| SourceError::Unreadable {
        path: name.to_string(),
        detail,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        fail(format!(
            "line {line}: not UTF-8 text (invalid byte at offset {at}); expected Sigstore bundle JSON"
        ))
    })?;
    if text.trim().is_empty() {
        return Err(fail("the bundle file is empty".into()));
    }
    Ok(split_bundles(text, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn refuses_directories_empty_files_binary_and_oversize() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_bundle_file(dir.path()).unwrap_err().to_string();
        assert!(e.contains("not a regular file (a directory)"), "{e}");

        let empty = dir.path().join("e.json");
        std::fs::write(&empty, "  \n").unwrap();
        assert!(read_bundle_file(&empty)
            .unwrap_err()
            .to_string()
            .contains("empty"));

        let bin = dir.path().join("b.json");
        std::fs::write(&bin, b"{\n\xff\xfe}").unwrap();
        let e = read_bundle_file(&bin).unwrap_err().to_string();
        assert!(e.contains("line 2: not UTF-8"), "{e}");

        let big = dir.path().join("big.json");
        let mut f = std::fs::File::create(&big).unwrap();
        f.write_all(&[b' '; 2048]).unwrap();
        let e = read_bundle_file_limited(&big, 1024)
            .unwrap_err()
            .to_string();
        assert!(e.contains("over the 1024-byte limit"), "{e}");

        let missing = dir.path().join("nope.json");
        let e = read_bundle_file(&missing).unwrap_err().to_string();
        assert_eq!(
            e,
            format!("{}: No such file or directory", missing.display())
        );
    }

    #[test]
    fn the_size_limit_is_256_mib_and_checked_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.jsonl");
        // Sparse: one byte over the limit costs no disk and is never read.
        std::fs::File::create(&big)
            .unwrap()
            .set_len(MAX_BUNDLE_FILE_BYTES + 1)
            .unwrap();
        let e = read_bundle_file(&big).unwrap_err().to_string();
        assert!(
            e.contains("268435457 bytes, over the 268435456-byte limit"),
            "{e}"
        );
    }

    #[test]
    fn bytes_name_the_line_of_the_first_invalid_byte_and_every_bundle_counts() {
        let e = bundles_from_bytes(b"{}\n{}\n\xff", "b.jsonl")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "b.jsonl: line 3: not UTF-8 text (invalid byte at offset 6); expected Sigstore bundle JSON"
        );
        let e = bundles_from_bytes(b"\xff\n", "b.jsonl")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 1: not UTF-8 text (invalid byte at offset 0)"),
            "{e}"
        );
        for empty in [&b""[..], b" \n\t\r\n"] {
            let e = bundles_from_bytes(empty, "e.json").unwrap_err().to_string();
            assert_eq!(e, "e.json: the bundle file is empty");
        }
        // Two values, two entries (each one an error here: not bundles).
        let got = bundles_from_bytes(b"{}\n\n{}\n", "two.jsonl").unwrap();
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(Result::is_err));
    }

    #[test]
    fn a_stream_opens_regular_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let e = open_bundle_stream(dir.path()).err().unwrap().to_string();
        assert!(
            e.contains("not a regular file (a directory); expected a bundle JSON or JSONL file"),
            "{e}"
        );
        let missing = dir.path().join("nope.jsonl");
        let e = open_bundle_stream(&missing).err().unwrap().to_string();
        assert_eq!(
            e,
            format!("{}: No such file or directory", missing.display())
        );
        let two = dir.path().join("two.jsonl");
        std::fs::write(&two, "{}\n{}\n").unwrap();
        assert_eq!(open_bundle_stream(&two).unwrap().count(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("f.json");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let e = read_bundle_file(&fifo).unwrap_err().to_string();
        assert!(e.contains("a FIFO"), "{e}");
    }
}
