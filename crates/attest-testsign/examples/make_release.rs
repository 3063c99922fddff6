//! Write a whole test release: artifacts, their digest manifest, SLSA
//! provenance attestations signed by a throwaway public-good-like Sigstore,
//! and that Sigstore's trusted root.
//!
//! ```text
//! cargo run -p attest-testsign --example make_release -- OUT_DIR --files N --size BYTES [--per-file-bundles [--jsonl-only]]
//! ```
//!
//! Writes into `OUT_DIR` (created if needed):
//!
//! - `N` artifacts of `BYTES` bytes each, deterministic pseudo-random content
//!   (the same arguments always give the same files), named
//!   `pkg_NNNNN-1.0.0-py3-none-any.whl` (even indices) and
//!   `pkg_NNNNN-1.0.0.tar.gz` (odd indices);
//! - `release-artifact-digests.txt`: `sha256sum` format, sorted by name;
//! - `attestation.jsonl`: one multi-subject attestation covering every file
//!   (split into several when `N` > 1024, at most 1024 subjects each), or
//!   with `--per-file-bundles` one attestation per file, and then also
//!   `bundles/<name>.jsonl` holding each file's bundle alone (not with
//!   `--jsonl-only`, which large benchmarks use);
//! - `trusted_root.jsonl`: the test Sigstore's trusted root (one line).
//!
//! The Sigstore is `TestSigstoreConfig::public_good_like()` (`O=sigstore.dev`,
//! transparency log, SCT and TSA), so gh's public-good rules apply; the claims
//! are `FulcioClaims::default()` (`octo-org/octo-repo`). Verify with
//! `--custom-trusted-root OUT_DIR/trusted_root.jsonl --repo octo-org/octo-repo`.
//!
//! Memory use is one 1 MiB buffer per file being written, whatever `BYTES`.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use attest_testsign::{
    provenance_predicate, statement, FulcioClaims, TestSigstore, TestSigstoreConfig,
    SLSA_PROVENANCE_V1,
};

/// At most this many subjects per statement.
const MAX_SUBJECTS: usize = 1024;
const CHUNK: usize = 1 << 20;

struct Args {
    out: PathBuf,
    files: usize,
    size: u64,
    per_file_bundles: bool,
    jsonl_only: bool,
}

const USAGE: &str =
    "usage: make_release OUT_DIR --files N --size BYTES [--per-file-bundles [--jsonl-only]]";

fn parse_args() -> Result<Args, String> {
    let mut out = None;
    let mut files = None;
    let mut size = None;
    let mut per_file_bundles = false;
    let mut jsonl_only = false;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--files" => {
                let v = it.next().ok_or("--files needs a value")?;
                files = Some(
                    v.parse::<usize>()
                        .map_err(|e| format!("--files {v}: {e}"))?,
                );
            }
            "--size" => {
                let v = it.next().ok_or("--size needs a value")?;
                size = Some(v.parse::<u64>().map_err(|e| format!("--size {v}: {e}"))?);
            }
            "--per-file-bundles" => per_file_bundles = true,
            "--jsonl-only" => jsonl_only = true,
            "-h" | "--help" => return Err(USAGE.into()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}\n{USAGE}")),
            s => {
                if out.replace(PathBuf::from(s)).is_some() {
                    return Err(format!("more than one OUT_DIR\n{USAGE}"));
                }
            }
        }
    }
    let files = files.ok_or_else(|| format!("--files is required\n{USAGE}"))?;
    if files == 0 {
        return Err("--files must be at least 1".into());
    }
    Ok(Args {
        out: out.ok_or_else(|| format!("OUT_DIR is required\n{USAGE}"))?,
        files,
        size: size.ok_or_else(|| format!("--size is required\n{USAGE}"))?,
        per_file_bundles,
        jsonl_only,
    })
}

/// The name of artifact `i`: wheels and sdists alternate.
fn artifact_name(i: usize) -> String {
    if i % 2 == 0 {
        format!("pkg_{i:05}-1.0.0-py3-none-any.whl")
    } else {
        format!("pkg_{i:05}-1.0.0.tar.gz")
    }
}

/// SplitMix64: fast, deterministic, good enough to defeat compression.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn fill(&mut self, buf: &mut [u8]) {
        let mut words = buf.chunks_exact_mut(8);
        for w in &mut words {
            w.copy_from_slice(&self.next().to_le_bytes());
        }
        let rest = words.into_remainder();
        let last = self.next().to_le_bytes();
        let n = rest.len();
        rest.copy_from_slice(&last[..n]);
    }
}

/// Write artifact `i` of `size` bytes and return its SHA-256, hex.
fn write_artifact(path: &Path, i: usize, size: u64) -> std::io::Result<String> {
    let mut rng = SplitMix64(0x5eed_0000_0000_0000 ^ i as u64);
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let mut out = BufWriter::with_capacity(CHUNK, File::create(path)?);
    let mut buf = vec![0u8; CHUNK];
    let mut left = size;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        rng.fill(&mut buf[..n]);
        ctx.update(&buf[..n]);
        out.write_all(&buf[..n])?;
        left -= n as u64;
    }
    out.flush()?;
    Ok(hex::encode(ctx.finish().as_ref()))
}

fn write_lines(path: &Path, lines: &[String]) -> std::io::Result<()> {
    let mut text = lines.join("\n");
    text.push('\n');
    fs::write(path, text)
}

fn run(args: &Args) -> Result<(), String> {
    let io = |what: &Path| {
        let what = what.display().to_string();
        move |e: std::io::Error| format!("{what}: {e}")
    };
    fs::create_dir_all(&args.out).map_err(io(&args.out))?;

    // The artifacts, hashed while they are written, one writer per core.
    let names: Vec<String> = (0..args.files).map(artifact_name).collect();
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(args.files);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut digests: Vec<Option<String>> = vec![None; args.files];
    let results: Vec<Result<Vec<(usize, String)>, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= args.files {
                            return Ok(done);
                        }
                        let path = args.out.join(&names[i]);
                        let hex = write_artifact(&path, i, args.size).map_err(io(&path))?;
                        done.push((i, hex));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a writer thread panicked"))
            .collect()
    });
    for r in results {
        for (i, hex) in r? {
            digests[i] = Some(hex);
        }
    }
    let mut entries: Vec<(String, String)> = names
        .iter()
        .cloned()
        .zip(digests.into_iter().map(|d| d.expect("every file hashed")))
        .collect();
    entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));

    let manifest = args.out.join("release-artifact-digests.txt");
    let lines: Vec<String> = entries
        .iter()
        .map(|(name, hex)| format!("{hex}  {name}"))
        .collect();
    write_lines(&manifest, &lines).map_err(io(&manifest))?;

    // The attestations.
    let mut sigstore = TestSigstore::new(TestSigstoreConfig::public_good_like());
    let claims = FulcioClaims::default();
    let opts = sigstore.default_sign_options();
    let mut sign = |subjects: &[(String, String)]| {
        let subjects: Vec<(&str, &str, &str)> = subjects
            .iter()
            .map(|(n, h)| (n.as_str(), "sha256", h.as_str()))
            .collect();
        let st = statement(&subjects, SLSA_PROVENANCE_V1, provenance_predicate(&claims));
        sigstore.sign_statement(&st, &claims, &opts).to_string()
    };
    let bundles: Vec<String> = if args.per_file_bundles {
        let dir = args.out.join("bundles");
        if !args.jsonl_only {
            fs::create_dir_all(&dir).map_err(io(&dir))?;
        }
        let mut all = Vec::with_capacity(entries.len());
        for entry in &entries {
            let bundle = sign(std::slice::from_ref(entry));
            if !args.jsonl_only {
                let path = dir.join(format!("{}.jsonl", entry.0));
                write_lines(&path, std::slice::from_ref(&bundle)).map_err(io(&path))?;
            }
            all.push(bundle);
        }
        all
    } else {
        entries.chunks(MAX_SUBJECTS).map(&mut sign).collect()
    };
    let attestations = args.out.join("attestation.jsonl");
    write_lines(&attestations, &bundles).map_err(io(&attestations))?;

    let root = args.out.join("trusted_root.jsonl");
    write_lines(&root, &[sigstore.trusted_root_json()]).map_err(io(&root))?;

    eprintln!(
        "wrote {} file{} of {} bytes, {}, {} ({} bundle{}), {} in {}",
        args.files,
        if args.files == 1 { "" } else { "s" },
        args.size,
        manifest.file_name().unwrap().to_string_lossy(),
        attestations.file_name().unwrap().to_string_lossy(),
        bundles.len(),
        if bundles.len() == 1 { "" } else { "s" },
        root.file_name().unwrap().to_string_lossy(),
        args.out.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
