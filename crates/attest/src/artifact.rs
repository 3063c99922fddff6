//! Artifact references and their digests.
//!
//! An artifact is named on the command line either as a file or as a digest
//! (`sha256:HEX`, `sha512:HEX`). Files are hashed by streaming them through
//! aws-lc-rs, which uses the CPU's SHA extensions where present, so memory use
//! does not grow with the file size.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A hash algorithm an artifact can be named by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DigestAlgorithm {
    /// SHA-256, gh's default.
    Sha256,
    /// SHA-512, what npm provenance statements carry.
    Sha512,
}

impl DigestAlgorithm {
    /// The name used in `alg:hex` strings and in in-toto subject digests.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }

    /// Length of the digest in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }

    fn aws_lc(self) -> &'static aws_lc_rs::digest::Algorithm {
        match self {
            Self::Sha256 => &aws_lc_rs::digest::SHA256,
            Self::Sha512 => &aws_lc_rs::digest::SHA512,
        }
    }
}

impl fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DigestAlgorithm {
    type Err = ArtifactError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sha256" => Ok(Self::Sha256),
            "sha512" => Ok(Self::Sha512),
            other => Err(ArtifactError::UnknownAlgorithm(other.to_string())),
        }
    }
}

/// A digest of an artifact: an algorithm and the raw hash bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArtifactDigest {
    algorithm: DigestAlgorithm,
    bytes: Vec<u8>,
}

impl ArtifactDigest {
    /// A digest from raw bytes; the length must suit the algorithm.
    pub fn new(algorithm: DigestAlgorithm, bytes: Vec<u8>) -> Result<Self, ArtifactError> {
        if bytes.len() != algorithm.digest_len() {
            return Err(ArtifactError::BadDigest(format!(
                "a {algorithm} digest has {} bytes, got {}",
                algorithm.digest_len(),
                bytes.len()
            )));
        }
        Ok(Self { algorithm, bytes })
    }

    /// Parse `sha256:HEX` or `sha512:HEX` (hex in either case).
    pub fn parse(text: &str) -> Result<Self, ArtifactError> {
        let (alg, hex_part) = text.split_once(':').ok_or_else(|| {
            ArtifactError::BadDigest(format!("{text:?} is not of the form ALGORITHM:HEX"))
        })?;
        let algorithm: DigestAlgorithm = alg.parse()?;
        if hex_part.len() != algorithm.digest_len() * 2 {
            return Err(ArtifactError::BadDigest(format!(
                "a {algorithm} digest has {} hex digits, got {}",
                algorithm.digest_len() * 2,
                hex_part.len()
            )));
        }
        let bytes = hex::decode(hex_part)
            .map_err(|_| ArtifactError::BadDigest(format!("{hex_part:?} is not hexadecimal")))?;
        Self::new(algorithm, bytes)
    }

    /// The algorithm.
    pub fn algorithm(&self) -> DigestAlgorithm {
        self.algorithm
    }

    /// The raw digest bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Lowercase hex, as in-toto subjects and `sha256sum` write it.
    pub fn hex(&self) -> String {
        hex::encode(&self.bytes)
    }
}

impl fmt::Display for ArtifactDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex())
    }
}

/// What the user asked to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArtifactRef {
    /// A local file, hashed when verified.
    File(PathBuf),
    /// A digest given directly, with no file.
    Digest(ArtifactDigest),
}

impl ArtifactRef {
    /// Interpret a command-line argument: a `sha256:`/`sha512:` digest unless
    /// a file of that name exists (the sigstore-conformance rule), else a path.
    /// A `file://` prefix is stripped as gh does.
    pub fn from_arg(arg: &str) -> Result<Self, ArtifactError> {
        let looks_like_digest = arg.starts_with("sha256:") || arg.starts_with("sha512:");
        if looks_like_digest && !Path::new(arg).exists() {
            return ArtifactDigest::parse(arg).map(Self::Digest);
        }
        let path = arg.strip_prefix("file://").unwrap_or(arg);
        Ok(Self::File(PathBuf::from(path)))
    }

    /// How gh names the artifact in `Loaded digest … for …` lines.
    pub fn display_name(&self) -> String {
        match self {
            Self::File(path) => format!("file://{}", path.display()),
            Self::Digest(d) => d.to_string(),
        }
    }

    /// The artifact's digest with `algorithm`: hashes a file, or returns the
    /// given digest (which must use that algorithm).
    pub fn digest(&self, algorithm: DigestAlgorithm) -> Result<ArtifactDigest, ArtifactError> {
        match self {
            Self::File(path) => digest_file(path, algorithm),
            Self::Digest(d) if d.algorithm() == algorithm => Ok(d.clone()),
            Self::Digest(d) => Err(ArtifactError::AlgorithmMismatch {
                given: d.algorithm(),
                wanted: algorithm,
            }),
        }
    }
}

/// Why an artifact could not be named or hashed.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// The algorithm name is not one we support.
    #[error("unsupported digest algorithm {0:?}: expected sha256 or sha512")]
    UnknownAlgorithm(String),
    /// A digest string is malformed.
    #[error("invalid digest: {0}")]
    BadDigest(String),
    /// A digest was given with one algorithm but another was asked for.
    #[error("the artifact was given as a {given} digest but --digest-alg is {wanted}")]
    AlgorithmMismatch {
        /// The algorithm of the digest on the command line.
        given: DigestAlgorithm,
        /// The algorithm asked for.
        wanted: DigestAlgorithm,
    },
    /// The path is not a regular file (a directory, FIFO, socket, device).
    #[error("{path}: not a regular file ({kind}); expected a file to hash")]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// The file changed while it was being hashed.
    #[error(
        "{path}: the file changed while it was being hashed; hash it again once it is complete"
    )]
    Changed {
        /// The path.
        path: PathBuf,
    },
    /// An I/O error while opening or reading.
    #[error("{path}: {}", crate::text::io_error(source))]
    Io {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

/// Describe a non-regular file type for error messages.
pub fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    let ft = meta.file_type();
    if ft.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_block_device() || ft.is_char_device() {
            return "a device";
        }
    }
    "not a regular file"
}

/// Open `path` for reading only if it is a regular file, so a FIFO never
/// blocks the run and a directory gets a clear message.
pub fn open_regular_file(path: &Path) -> Result<File, ArtifactError> {
    let io_err = |source| ArtifactError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io_err)?;
    if !meta.is_file() {
        return Err(ArtifactError::NotAFile {
            path: path.to_path_buf(),
            kind: file_kind(&meta),
        });
    }
    File::open(path).map_err(io_err)
}

/// Read a whole regular file of at most `limit` bytes, as UTF-8 text.
/// `what` names the expected content for messages ("a bundle JSON or JSONL
/// file"). Errors are one line, without the path (callers add it).
pub fn read_text_file(path: &Path, limit: u64, what: &str) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| crate::text::io_error(&e))?;
    if !meta.is_file() {
        return Err(format!(
            "not a regular file ({}); expected {what}",
            file_kind(&meta)
        ));
    }
    if meta.len() > limit {
        return Err(format!(
            "{} bytes, over the {limit}-byte limit for {what}",
            meta.len()
        ));
    }
    let file = File::open(path).map_err(|e| crate::text::io_error(&e))?;
    // The size can change between stat and read; never read past the limit.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| crate::text::io_error(&e))?;
    if bytes.len() as u64 > limit {
        return Err(format!("grew past the {limit}-byte limit while being read"));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        format!("line {line}: not UTF-8 text (invalid byte at offset {at}); expected {what}")
    })
}

/// Hash a file by streaming it; memory use is one buffer whatever the size.
pub fn digest_file(
    path: &Path,
    algorithm: DigestAlgorithm,
) -> Result<ArtifactDigest, ArtifactError> {
    digest_path(path, algorithm, &|_| {})
}

/// Hash a regular file, refusing a result if the file changed while it was
/// read (its length or modification time differs before and after, or the
/// bytes read differ from its length): a digest of a moving target names
/// nothing.
pub fn digest_path(
    path: &Path,
    algorithm: DigestAlgorithm,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ArtifactDigest, ArtifactError> {
    let io_err = |source| ArtifactError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = open_regular_file(path)?;
    let before = file.metadata().map_err(io_err)?;
    let counted = std::sync::atomic::AtomicU64::new(0);
    let count = |n| {
        counted.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        progress(n);
    };
    let digest = with_buffer(|buf| {
        // A buffer no larger than the file (and one byte, to see its end
        // in one read): a one-artifact verify of a 37 KB tarball spent more
        // on faulting in 256 KiB of zeroes than on hashing.
        let fits = usize::try_from(before.len().saturating_add(1)).unwrap_or(usize::MAX);
        digest_with_buffer(&mut &file, algorithm, &count, buf, fits)
    })
    .map_err(io_err)?;
    let after = file.metadata().map_err(io_err)?;
    let read = counted.load(std::sync::atomic::Ordering::Relaxed);
    let changed = before.len() != after.len()
        || read != before.len()
        || before.modified().ok() != after.modified().ok();
    if changed {
        return Err(ArtifactError::Changed {
            path: path.to_path_buf(),
        });
    }
    Ok(digest)
}

/// Hash everything `reader` yields.
pub fn digest_reader(reader: impl Read, algorithm: DigestAlgorithm) -> io::Result<ArtifactDigest> {
    digest_reader_with_progress(reader, algorithm, &|_| {})
}

/// Hash everything `reader` yields, reporting each chunk's size.
pub fn digest_reader_with_progress(
    mut reader: impl Read,
    algorithm: DigestAlgorithm,
    progress: &(dyn Fn(u64) + Sync),
) -> io::Result<ArtifactDigest> {
    with_buffer(|buf| digest_with_buffer(&mut reader, algorithm, progress, buf, usize::MAX))
}

/// 256 KiB keeps syscalls rare without making the buffer matter for RSS.
const DIGEST_BUFFER: usize = 256 * 1024;

fn with_buffer<T>(f: impl FnOnce(&mut Vec<u8>) -> T) -> T {
    thread_local! {
        // One buffer per thread, reused: zeroing 256 KiB for each of a
        // hundred thousand small files costs more than hashing them.
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => f(&mut buf),
        Err(_) => f(&mut Vec::new()),
    })
}

fn digest_with_buffer(
    reader: &mut impl Read,
    algorithm: DigestAlgorithm,
    progress: &(dyn Fn(u64) + Sync),
    buf: &mut Vec<u8>,
    at_most: usize,
) -> io::Result<ArtifactDigest> {
    let mut ctx = aws_lc_rs::digest::Context::new(algorithm.aws_lc());
    // Never below 16 KiB: a file whose length is not its size (procfs says
    // 0) is still read in a few calls.
    buf.resize(at_most.clamp(16 * 1024, DIGEST_BUFFER), 0);
    loop {
        let n = match reader.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        ctx.update(&buf[..n]);
        progress(n as u64);
    }
    Ok(ArtifactDigest {
        algorithm,
        bytes: ctx.finish().as_ref().to_vec(),
    })
}

/// Hash many files in parallel (one rayon task per file, each streaming),
/// returning results in input order. `progress` receives byte counts from
/// every worker, so it must be cheap and thread-safe.
pub fn digest_files<P: AsRef<Path> + Sync>(
    files: &[(P, DigestAlgorithm)],
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Result<ArtifactDigest, ArtifactError>> {
    use rayon::prelude::*;
    files
        .par_iter()
        .map(|(path, alg)| digest_path(path.as_ref(), *alg, progress))
        .collect()
}

/// Hash an in-memory buffer.
pub fn digest_bytes(data: &[u8], algorithm: DigestAlgorithm) -> ArtifactDigest {
    ArtifactDigest {
        algorithm,
        bytes: aws_lc_rs::digest::digest(algorithm.aws_lc(), data)
            .as_ref()
            .to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Any one sign of change is enough: a procfs file reports length 0
    /// but reads as text, so only "bytes read differ from the length seen"
    /// holds (the length and the mtime stay), and the file is refused.
    #[cfg(target_os = "linux")]
    #[test]
    fn one_sign_of_change_is_enough() {
        let path = Path::new("/proc/self/status");
        assert_eq!(std::fs::metadata(path).unwrap().len(), 0);
        match digest_path(path, DigestAlgorithm::Sha256, &|_| {}) {
            Err(ArtifactError::Changed { .. }) => {}
            other => panic!("expected the change to be noticed, got {other:?}"),
        }
    }

    #[test]
    fn parses_and_prints_digests() {
        let d = ArtifactDigest::parse(
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
        )
        .unwrap();
        assert_eq!(
            d.to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(d, digest_bytes(b"", DigestAlgorithm::Sha256));
    }

    #[test]
    fn rejects_bad_digests() {
        for bad in [
            "sha256",
            "md5:00",
            "sha256:00",
            "sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ] {
            assert!(ArtifactDigest::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn streaming_equals_one_shot() {
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7) as u8).collect();
        for alg in [DigestAlgorithm::Sha256, DigestAlgorithm::Sha512] {
            assert_eq!(
                digest_reader(&data[..], alg).unwrap(),
                digest_bytes(&data, alg)
            );
        }
    }

    #[test]
    fn a_file_that_changes_while_hashed_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("growing.bin");
        std::fs::write(&path, vec![7u8; 1 << 20]).unwrap();
        let appended = std::sync::atomic::AtomicBool::new(false);
        // The first chunk read triggers a write by "another process".
        let r = digest_path(&path, DigestAlgorithm::Sha256, &|_| {
            if !appended.swap(true, std::sync::atomic::Ordering::SeqCst) {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .unwrap();
                f.write_all(b"more").unwrap();
            }
        });
        assert!(matches!(r, Err(ArtifactError::Changed { .. })), "{r:?}");
        // Unchanged, the same file hashes fine.
        assert!(digest_path(&path, DigestAlgorithm::Sha256, &|_| {}).is_ok());
    }

    #[test]
    fn a_missing_file_is_named_without_the_os_error_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nonexist.tgz");
        let err = digest_file(&path, DigestAlgorithm::Sha256).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{}: No such file or directory", path.display())
        );
        let err = read_text_file(&path, 10, "text").unwrap_err();
        assert_eq!(err, "No such file or directory");
    }

    #[test]
    fn directory_is_not_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = digest_file(dir.path(), DigestAlgorithm::Sha256).unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
    }

    /// The read is bounded by the limit plus one byte, so a file that is
    /// larger when read than when measured is refused rather than cut; a
    /// procfs file measures 0 bytes and reads as more.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_text_file_is_read_whole_or_refused_at_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("exact.txt");
        std::fs::write(&path, "0123456789").unwrap();
        // Exactly the limit: read whole, not cut by one byte.
        assert_eq!(read_text_file(&path, 10, "text").unwrap(), "0123456789");
        assert_eq!(
            read_text_file(&path, 9, "text").unwrap_err(),
            "10 bytes, over the 9-byte limit for text"
        );
        let proc = Path::new("/proc/self/status");
        assert_eq!(std::fs::metadata(proc).unwrap().len(), 0);
        assert_eq!(
            read_text_file(proc, 10, "text").unwrap_err(),
            "grew past the 10-byte limit while being read"
        );
    }

    #[test]
    fn a_text_file_that_is_not_utf8_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.txt");
        std::fs::write(&path, b"one\ntwo\nthr\xffee\n").unwrap();
        assert_eq!(
            read_text_file(&path, 100, "a manifest").unwrap_err(),
            "line 3: not UTF-8 text (invalid byte at offset 11); expected a manifest"
        );
        std::fs::write(&path, b"\xff").unwrap();
        assert_eq!(
            read_text_file(&path, 100, "a manifest").unwrap_err(),
            "line 1: not UTF-8 text (invalid byte at offset 0); expected a manifest"
        );
    }

    #[test]
    fn a_given_digest_serves_only_its_own_algorithm() {
        let sha256 = digest_bytes(b"x", DigestAlgorithm::Sha256);
        let given = ArtifactRef::Digest(sha256.clone());
        assert_eq!(given.digest(DigestAlgorithm::Sha256).unwrap(), sha256);
        match given.digest(DigestAlgorithm::Sha512) {
            Err(e @ ArtifactError::AlgorithmMismatch { .. }) => assert_eq!(
                e.to_string(),
                "the artifact was given as a sha256 digest but --digest-alg is sha512"
            ),
            other => panic!("expected an algorithm mismatch, got {other:?}"),
        }
        let sha512 = digest_bytes(b"x", DigestAlgorithm::Sha512);
        let given = ArtifactRef::Digest(sha512.clone());
        assert_eq!(given.digest(DigestAlgorithm::Sha512).unwrap(), sha512);
        assert!(given.digest(DigestAlgorithm::Sha256).is_err());
    }

    #[test]
    fn artifacts_are_named_as_gh_names_them() {
        assert_eq!(
            ArtifactRef::File(PathBuf::from("dist/a.tgz")).display_name(),
            "file://dist/a.tgz"
        );
        let d = digest_bytes(b"", DigestAlgorithm::Sha256);
        assert_eq!(
            ArtifactRef::Digest(d).display_name(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[cfg(unix)]
    #[test]
    fn each_kind_of_non_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let kind = |p: &Path| file_kind(&std::fs::metadata(p).unwrap());
        assert_eq!(kind(dir.path()), "a directory");
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success(), "mkfifo failed");
        assert_eq!(kind(&fifo), "a FIFO");
        let sock = dir.path().join("sock");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        assert_eq!(kind(&sock), "a socket");
        // A character device (not a block device): either kind is "a device".
        assert_eq!(kind(Path::new("/dev/null")), "a device");
        let err = read_text_file(&fifo, 10, "text").unwrap_err();
        assert_eq!(err, "not a regular file (a FIFO); expected text");
    }

    /// A reader that fails once with `first`, then yields `data`.
    struct FailsOnce {
        first: Option<io::ErrorKind>,
        data: &'static [u8],
    }

    impl Read for FailsOnce {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if let Some(kind) = self.first.take() {
                return Err(io::Error::new(kind, "injected"));
            }
            let n = self.data.len().min(buf.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn an_interrupted_read_is_retried_and_any_other_error_is_not() {
        let interrupted = FailsOnce {
            first: Some(io::ErrorKind::Interrupted),
            data: b"abc",
        };
        assert_eq!(
            digest_reader(interrupted, DigestAlgorithm::Sha256).unwrap(),
            digest_bytes(b"abc", DigestAlgorithm::Sha256)
        );
        let failing = FailsOnce {
            first: Some(io::ErrorKind::Other),
            data: b"abc",
        };
        let e = digest_reader(failing, DigestAlgorithm::Sha256).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::Other);
    }

    #[test]
    fn digest_arg_only_when_no_such_file() {
        let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert!(matches!(
            ArtifactRef::from_arg(d).unwrap(),
            ArtifactRef::Digest(_)
        ));
        assert_eq!(
            ArtifactRef::from_arg("file://a/b").unwrap(),
            ArtifactRef::File(PathBuf::from("a/b"))
        );
    }
}
