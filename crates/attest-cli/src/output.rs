//! Where output goes: gh's rules for terminals, plus attest's one-liner.
//!
//! Human text goes to stderr, in full only when stdout is a terminal (or
//! `GH_FORCE_TTY` is set, as gh honours); machine output (JSON) goes to
//! stdout. Colour on a terminal, as `NO_COLOR`, `CLICOLOR` and
//! `CLICOLOR_FORCE` say (see `color_wanted`).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use attest::report::Style;

/// Terminal facts for one run.
#[derive(Debug, Clone, Copy)]
pub struct Terminal {
    /// Whether to print gh's full human output.
    pub tty: bool,
    /// Colours for that output.
    pub style: Style,
}

impl Terminal {
    /// Detect from the environment.
    pub fn detect() -> Self {
        let forced = std::env::var("GH_FORCE_TTY")
            .map(|v| !v.is_empty() && v != "0" && v != "false")
            .unwrap_or(false);
        let tty = forced || std::io::stdout().is_terminal();
        let color = color_wanted(
            |name| std::env::var_os(name).filter(|v| !v.is_empty()),
            tty && std::io::stderr().is_terminal(),
        );
        Self {
            tty,
            style: Style { color },
        }
    }
}

/// Whether to colour, from the conventions most terminal tools share, in
/// this order: `NO_COLOR` (any non-empty value) never colours;
/// `CLICOLOR_FORCE` (non-empty, not `0`) colours even off a terminal (CI
/// logs that render ANSI); `CLICOLOR=0` never colours; otherwise colour on
/// a terminal. `var` reads a variable, `None` when unset or empty;
/// `terminal` is whether the human output goes to a terminal.
fn color_wanted(var: impl Fn(&str) -> Option<std::ffi::OsString>, terminal: bool) -> bool {
    if var("NO_COLOR").is_some() {
        return false;
    }
    if var("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
        return true;
    }
    if var("CLICOLOR").is_some_and(|v| v == "0") {
        return false;
    }
    terminal
}

/// The one way to write to standard output, with coreutils' rules: a
/// closed pipe (`attest … | head -c 1`) ends the run quietly with
/// [`crate::exit::BROKEN_PIPE`], as a process killed by SIGPIPE shows in a shell,
/// and any other failed write (a full disk, `> /dev/full`) is a one-line
/// error on stderr and exit [`crate::exit::OUTPUT`]. Nothing here can panic, unlike
/// `print!`, and no failed write goes unnoticed.
///
/// The functions do not return on failure: once stdout is lost, the rest of
/// the report has nowhere to go, and the exit status must not claim success.
pub mod out {
    use std::io::Write;

    use crate::exit::{BROKEN_PIPE, OUTPUT};

    /// Write `bytes` to stdout and flush them.
    pub fn write_all(bytes: &[u8]) {
        let written = {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(bytes).and_then(|()| stdout.flush())
        };
        if let Err(e) = written {
            fail(&e);
        }
    }

    /// Write to stdout through a buffer with `write` (for output too large
    /// to build in memory first), then flush.
    pub fn write_with(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) {
        let written = {
            let mut stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
            write(&mut stdout).and_then(|()| stdout.flush())
        };
        if let Err(e) = written {
            fail(&e);
        }
    }

    /// Write `text` and a newline to stdout.
    pub fn line(text: &str) {
        let mut bytes = Vec::with_capacity(text.len() + 1);
        bytes.extend_from_slice(text.as_bytes());
        bytes.push(b'\n');
        write_all(&bytes);
    }

    /// Flush stdout (after writing through another handle, such as the
    /// `--jq` filter's).
    pub fn flush() {
        let flushed = std::io::stdout().lock().flush();
        if let Err(e) = flushed {
            fail(&e);
        }
    }

    /// End the run for a failed write to stdout: quietly with
    /// [`BROKEN_PIPE`] when the reader has gone, else with one line on
    /// stderr and [`crate::exit::OUTPUT`].
    pub fn fail(e: &std::io::Error) -> ! {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(BROKEN_PIPE);
        }
        // stderr may be gone too; that must not turn into a panic.
        let _ = writeln!(
            std::io::stderr(),
            "Error: could not write to standard output: {}",
            attest::text::io_error(e)
        );
        std::process::exit(OUTPUT);
    }
}

/// How much the run says on stderr, set once from `--quiet` / `--verbose`
/// (global flags of every subcommand). Errors and warnings are always
/// printed: `--quiet` drops information and progress, never a reason for a
/// failure; stdout (reports, JSON, JUnit) and the exit code never change.
pub mod verbosity {
    use std::sync::atomic::{AtomicU8, Ordering};

    /// The levels, in order.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Level {
        /// `--quiet`: errors and warnings only.
        Quiet = 0,
        /// The default.
        Normal = 1,
        /// `--verbose`: where trust and evidence came from, each
        /// attestation's result, timings.
        Verbose = 2,
    }

    static LEVEL: AtomicU8 = AtomicU8::new(Level::Normal as u8);

    /// Set the level for the rest of the run.
    pub fn set(level: Level) {
        LEVEL.store(level as u8, Ordering::Relaxed);
    }

    /// Whether `--quiet` was given.
    pub fn quiet() -> bool {
        LEVEL.load(Ordering::Relaxed) == Level::Quiet as u8
    }

    /// Whether `--verbose` was given.
    pub fn verbose() -> bool {
        LEVEL.load(Ordering::Relaxed) == Level::Verbose as u8
    }
}

/// With `--verbose`: which trusted roots were used and where each came from.
pub fn detail_trust(trust: &attest::trust::TrustStore) {
    if !verbosity::verbose() {
        return;
    }
    for i in trust.instances() {
        if let Some(p) = i.prepared_if_built() {
            eprintln!(
                "trust: {} from {} ({})",
                i.organization,
                p.source,
                p.source.kind()
            );
        }
    }
    detail_signatures();
}

/// With `--verbose`: the signature verifications the run made, by scheme,
/// with their measured cost and how many the memo answered (the cost of
/// the cryptography, beside the run's own time).
fn detail_signatures() {
    for s in attest::signature_stats() {
        let each = if s.computed == 0 {
            0.0
        } else {
            s.nanos as f64 / s.computed as f64 / 1000.0
        };
        eprintln!(
            "signatures: {} {} computed in {:.1} ms ({each:.1} µs each), {} remembered",
            s.scheme,
            s.computed,
            s.nanos as f64 / 1e6,
            s.remembered
        );
    }
}

/// Print warnings about how trust material was chosen.
pub fn print_trust_notes(trust: &attest::trust::TrustStore) {
    for note in trust.notes() {
        eprintln!("Warning: {note}");
    }
}

/// Print gh's JSON on stdout, through the `--jq` filter when there is one
/// (indented on a terminal, as gh does), else as `text` produces it.
/// Returns the exit code: OK, USAGE when the filter fails on this input (the
/// expression is the user's, and the exit code must not claim a
/// verification result), INTERNAL when the JSON cannot be encoded. A failed
/// write ends the run in [`crate::output::out`].
pub fn print_json(
    value: &serde_json::Value,
    jq: Option<&str>,
    tty: bool,
    text: impl FnOnce(&serde_json::Value) -> serde_json::Result<String>,
) -> i32 {
    match jq {
        // The filter runs on its own thread, which needs a `Send` handle;
        // `Stdout` flushes each line, so results stream as in gh.
        Some(expr) => match crate::jq::run(expr, value, tty, &mut std::io::stdout()) {
            Ok(()) => out::flush(),
            Err(crate::jq::RunError::Jq(e)) => {
                eprintln!("Error: --jq: {e}");
                return crate::exit::USAGE;
            }
            Err(crate::jq::RunError::Write(e)) => out::fail(&e),
        },
        None => match text(value) {
            Ok(t) => out::line(&t),
            Err(e) => {
                eprintln!("Error: could not encode the JSON output: {e}");
                return crate::exit::INTERNAL;
            }
        },
    }
    crate::exit::OK
}

/// An output file that is written whole or not at all: the bytes go to a
/// new file beside the target, which is renamed over the target only once
/// they are all on disk. Created before the work whose result it holds (before any signing
/// service is called, before any file is hashed), so an output that cannot
/// be written costs nothing.
pub struct PendingOutput {
    target: PathBuf,
    /// The temporary file; `None` for an existing device or FIFO (such as
    /// `/dev/stdout`), which is written in place as a shell redirection would.
    temp: Option<(PathBuf, std::fs::File)>,
}

impl PendingOutput {
    /// Prepare `target`: refused at once if it cannot be created.
    pub fn create(target: &Path) -> Result<Self, String> {
        let shown = target.display();
        match std::fs::metadata(target) {
            Ok(m) if m.is_dir() => {
                return Err(format!("{shown}: is a directory; expected a file path"))
            }
            Ok(m) if !m.is_file() => {
                return Ok(Self {
                    target: target.to_path_buf(),
                    temp: None,
                })
            }
            _ => {}
        }
        let name = target
            .file_name()
            .ok_or_else(|| format!("{shown}: names no file"))?
            .to_string_lossy()
            .into_owned();
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        for attempt in 0..100 {
            let temp = dir.join(format!(".{name}.{}-{attempt}.tmp", std::process::id()));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)
            {
                Ok(file) => {
                    return Ok(Self {
                        target: target.to_path_buf(),
                        temp: Some((temp, file)),
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(format!(
                        "{shown}: cannot create a file in {}: {}",
                        dir.display(),
                        attest::text::io_error(&e)
                    ))
                }
            }
        }
        Err(format!(
            "{shown}: cannot create a temporary file in {}: 100 names taken",
            dir.display()
        ))
    }

    /// Write `bytes` and put them in place; on failure the target is as it was.
    pub fn commit(mut self, bytes: &[u8]) -> Result<(), String> {
        let shown = self.target.display().to_string();
        let Some((temp, mut file)) = self.temp.take() else {
            return std::fs::OpenOptions::new()
                .write(true)
                .open(&self.target)
                .and_then(|mut f| f.write_all(bytes).and_then(|()| f.flush()))
                .map_err(|e| format!("{shown}: {}", attest::text::io_error(&e)));
        };
        let written = file
            .write_all(bytes)
            .and_then(|()| file.sync_all())
            .and_then(|()| {
                // Replacing a file keeps its permissions, as writing into it would.
                match std::fs::metadata(&self.target) {
                    Ok(m) => std::fs::set_permissions(&temp, m.permissions()),
                    Err(_) => Ok(()),
                }
            })
            .and_then(|()| std::fs::rename(&temp, &self.target));
        drop(file);
        written.map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            format!(
                "{shown}: {}; the file was left as it was",
                attest::text::io_error(&e)
            )
        })
    }
}

impl Drop for PendingOutput {
    fn drop(&mut self) {
        if let Some((temp, _)) = self.temp.take() {
            let _ = std::fs::remove_file(temp);
        }
    }
}
