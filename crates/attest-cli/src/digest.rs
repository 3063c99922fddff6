//! `attest digest`: write a release's digest manifest, or check one, with
//! `sha256sum`'s output and exit status.

use std::io::Read;
use std::path::{Path, PathBuf};

use attest::artifact::{digest_files, ArtifactError, DigestAlgorithm};
use attest::manifest::{check_line_name, format_manifest, parse_manifest};
use attest::text::io_error;
use clap::Args;

use crate::args::Alg;
use crate::exit;
use crate::output::{out, PendingOutput};
use crate::progress::HashProgress;

/// Write a digest manifest (`sha256sum FILE... | sort -k 2`, with base
/// names), or check one (`sha256sum --check`).
#[derive(Debug, Args)]
#[command(
    after_help = "Writing: the manifest lists each file by its base name, sorted by name in \
byte order, byte-identical to `sha256sum FILE... | LC_ALL=C sort -k 2` run in the files' directory. \
Checking: the same lines and exit status as `sha256sum --check`."
)]
pub struct DigestArgs {
    /// Files to list, or with --check the manifest to check ("-" for stdin).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,

    /// Digest algorithm.
    #[arg(short = 'a', long, value_enum, default_value = "sha256")]
    pub algorithm: Alg,

    /// Write the manifest to this file instead of stdout (only if every file was read).
    #[arg(short = 'o', long, value_name = "MANIFEST", conflicts_with = "check")]
    pub output: Option<PathBuf>,

    /// Check the files listed in the manifest(s).
    #[arg(short = 'c', long)]
    pub check: bool,

    /// With --check: print nothing; the exit status says it all.
    #[arg(long, requires = "check")]
    pub status: bool,

    /// With --check: don't fail or report for files that are missing.
    #[arg(long, requires = "check")]
    pub ignore_missing: bool,

    /// With --check: exit non-zero for improperly formatted lines.
    #[arg(long, requires = "check")]
    pub strict: bool,

    /// With --check: warn about improperly formatted lines (always on in attest).
    #[arg(short = 'w', long, requires = "check")]
    pub warn: bool,
}

/// Run `attest digest`; returns the exit code.
pub fn run(args: DigestArgs) -> i32 {
    if args.check {
        let mut code = exit::OK;
        for manifest in &args.files {
            code = code.max(check(manifest, &args));
        }
        code
    } else {
        write(&args)
    }
}

fn write(args: &DigestArgs) -> i32 {
    // Prepared before any file is hashed, and written whole or not at all:
    // a full disk never leaves a truncated manifest in place of a good one.
    let pending = match args
        .output
        .as_deref()
        .map(PendingOutput::create)
        .transpose()
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!("attest: {e}");
            return exit::OUTPUT;
        }
    };
    let alg: DigestAlgorithm = args.algorithm.into();
    let mut ok = true;
    let mut names: Vec<(String, usize)> = Vec::new();
    let mut jobs = Vec::new();
    for (i, path) in args.files.iter().enumerate() {
        let Some(name) = path.file_name() else {
            eprintln!("attest: {}: not a file name", path.display());
            ok = false;
            continue;
        };
        let Some(name) = name.to_str() else {
            eprintln!(
                "attest: {}: the file name is not UTF-8; manifests are UTF-8 text",
                path.display()
            );
            ok = false;
            continue;
        };
        if let Some((_, first)) = names.iter().find(|(n, _)| n == name) {
            eprintln!(
                "attest: {}: another file has the base name {name:?} ({}); names in a manifest must be unique",
                path.display(),
                args.files[*first].display()
            );
            ok = false;
            continue;
        }
        names.push((name.to_string(), i));
        jobs.push((path.clone(), alg));
    }
    let progress = HashProgress::for_files(&jobs);
    let started = std::time::Instant::now();
    let results = digest_files(&jobs, &|n| progress.add(n));
    progress.finish();
    detail!(
        "hashed {} with {} in {} ms",
        attest::report::plural(jobs.len(), "file"),
        alg.name(),
        started.elapsed().as_millis()
    );
    let mut entries = Vec::new();
    for ((name, _), result) in names.into_iter().zip(results) {
        match result {
            Ok(d) => entries.push((name, d)),
            Err(e) => {
                eprintln!("attest: {e}");
                ok = false;
            }
        }
    }
    let text = format_manifest(&entries);
    match (pending, &args.output) {
        (Some(_), Some(path)) if !ok => {
            eprintln!(
                "attest: {} not written: some files could not be read",
                path.display()
            );
            exit::CHECK_FAILED
        }
        (Some(pending), _) => match pending.commit(text.as_bytes()) {
            Ok(()) => exit::OK,
            Err(e) => {
                eprintln!("attest: {e}");
                exit::OUTPUT
            }
        },
        _ => {
            out::write_all(text.as_bytes());
            if ok {
                exit::OK
            } else {
                exit::CHECK_FAILED
            }
        }
    }
}

/// Largest manifest `--check` reads: a thousand sha512 lines are ~150 KB.
const MAX_MANIFEST_BYTES: u64 = 64 * 1024 * 1024;

/// Read a manifest to check: a file, a FIFO or process substitution
/// (`<(sha256sum f)`), a device such as `/dev/stdin`, or `-` for stdin, as
/// `sha256sum --check` reads them; at most [`MAX_MANIFEST_BYTES`]. The error
/// is the reason alone (the caller names the manifest).
fn read_manifest(path: &Path) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    let read = if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(MAX_MANIFEST_BYTES + 1)
            .read_to_end(&mut buf)
    } else {
        // A directory opens but fails to read ("Is a directory"), as in
        // sha256sum.
        std::fs::File::open(path).and_then(|f| f.take(MAX_MANIFEST_BYTES + 1).read_to_end(&mut buf))
    };
    read.map_err(|e| io_error(&e))?;
    if buf.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(format!(
            "more than {} MiB; expected a checksum manifest",
            MAX_MANIFEST_BYTES / (1024 * 1024)
        ));
    }
    Ok(buf)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn check(manifest_path: &Path, args: &DigestArgs) -> i32 {
    let alg: DigestAlgorithm = args.algorithm.into();
    let label = if manifest_path == Path::new("-") {
        "standard input".to_string()
    } else {
        manifest_path.display().to_string()
    };
    let bytes = match read_manifest(manifest_path) {
        Ok(b) => b,
        Err(why) => {
            eprintln!("attest: {label}: {why}");
            return exit::CHECK_FAILED;
        }
    };
    let manifest = parse_manifest(&bytes, Some(alg));
    let upper = alg.name().to_ascii_uppercase();
    for e in &manifest.errors {
        if !args.status {
            eprintln!(
                "attest: {label}: {}: improperly formatted {upper} checksum line: {}",
                e.line, e.message
            );
        }
    }
    if manifest.entries.is_empty() {
        eprintln!("attest: {label}: no properly formatted checksum lines found");
        return exit::CHECK_FAILED;
    }
    let jobs: Vec<(PathBuf, DigestAlgorithm)> = manifest
        .entries
        .iter()
        .map(|e| (PathBuf::from(&e.name), alg))
        .collect();
    let progress = HashProgress::for_files(&jobs);
    let results = digest_files(&jobs, &|n| progress.add(n));
    progress.finish();

    let (mut mismatched, mut unreadable, mut verified) = (0usize, 0usize, 0usize);
    for (entry, result) in manifest.entries.iter().zip(results) {
        let status = match result {
            Ok(d) if d == entry.digest => {
                verified += 1;
                (!crate::output::verbosity::quiet() && !args.status).then_some("OK")
            }
            Ok(_) => {
                verified += 1;
                mismatched += 1;
                (!args.status).then_some("FAILED")
            }
            Err(e) => {
                let missing = matches!(&e, ArtifactError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound);
                if missing && args.ignore_missing {
                    continue;
                }
                unreadable += 1;
                if !args.status {
                    eprintln!("attest: {e}");
                }
                (!args.status).then_some("FAILED open or read")
            }
        };
        if let Some(status) = status {
            out::line(&format!("{}: {status}", check_line_name(&entry.name)));
        }
    }
    if !args.status {
        if !manifest.errors.is_empty() {
            eprintln!(
                "attest: WARNING: {} improperly formatted",
                plural(manifest.errors.len(), "line is", "lines are")
            );
        }
        if unreadable > 0 {
            eprintln!(
                "attest: WARNING: {} could not be read",
                plural(unreadable, "listed file", "listed files")
            );
        }
        if mismatched > 0 {
            eprintln!(
                "attest: WARNING: {} did NOT match",
                plural(mismatched, "computed checksum", "computed checksums")
            );
        }
    }
    if args.ignore_missing && verified == 0 && unreadable == 0 {
        eprintln!("attest: {label}: no file was verified");
        return exit::CHECK_FAILED;
    }
    let bad = mismatched > 0 || unreadable > 0 || (args.strict && !manifest.errors.is_empty());
    if bad {
        exit::CHECK_FAILED
    } else {
        exit::OK
    }
}
