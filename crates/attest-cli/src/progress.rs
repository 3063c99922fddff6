//! A hashing progress bar on stderr: only on a terminal, and only once a run
//! has taken more than a second, so quick runs and pipes see nothing extra.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use attest::artifact::DigestAlgorithm;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

const SHOW_AFTER: Duration = Duration::from_secs(1);

/// Byte progress over a set of files.
pub struct HashProgress {
    bar: Option<ProgressBar>,
    start: Instant,
    shown: AtomicBool,
    pending: AtomicU64,
}

impl HashProgress {
    /// A bar for hashing these files (hidden unless stderr is a terminal).
    pub fn for_files<P: AsRef<std::path::Path>>(files: &[(P, DigestAlgorithm)]) -> Self {
        // The total is a stat of every file: only worth it for a bar.
        let total = || -> u64 {
            files
                .iter()
                .filter_map(|(p, _)| std::fs::metadata(p).ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        };
        let bar =
            (std::io::stderr().is_terminal() && !crate::output::verbosity::quiet()).then(|| {
                let total = total();
                let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
                bar.set_style(
                    ProgressStyle::with_template(
                        "hashing {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar
            });
        Self {
            bar,
            start: Instant::now(),
            shown: AtomicBool::new(false),
            pending: AtomicU64::new(0),
        }
    }

    /// Count `n` more bytes hashed (called from worker threads).
    pub fn add(&self, n: u64) {
        let Some(bar) = &self.bar else { return };
        // Batch updates: the bar is drawn at most a few times a second anyway.
        let pending = self.pending.fetch_add(n, Ordering::Relaxed) + n;
        if pending < 8 * 1024 * 1024 {
            return;
        }
        bar.inc(self.pending.swap(0, Ordering::Relaxed));
        if !self.shown.load(Ordering::Relaxed) && self.start.elapsed() > SHOW_AFTER {
            self.shown.store(true, Ordering::Relaxed);
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    /// Remove the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
