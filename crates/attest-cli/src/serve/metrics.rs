//! Prometheus text metrics: requests, verdicts, latency, cache, errors.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Latency bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Counters, shared by every request.
#[derive(Default)]
pub struct Metrics {
    verify_requests: AtomicU64,
    admission_requests: AtomicU64,
    allowed: AtomicU64,
    denied: AtomicU64,
    errors: AtomicU64,
    /// Verdicts served from the cache.
    pub cache_hits: AtomicU64,
    /// Verdicts computed.
    pub cache_misses: AtomicU64,
    /// Registry requests that failed.
    pub registry_errors: AtomicU64,
    /// Trust-root refreshes that failed.
    pub tuf_errors: AtomicU64,
    trust_loaded_at: AtomicU64,
    trust_stale: AtomicU64,
    latency: Mutex<([u64; BUCKETS.len()], u64, f64)>,
}

impl Metrics {
    /// Count a request to `endpoint`.
    pub fn request(&self, endpoint: &str) {
        match endpoint {
            "verify" => &self.verify_requests,
            _ => &self.admission_requests,
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    /// Count a verdict: `allowed`, `denied` or `error`.
    pub fn verdict(&self, result: &str) {
        match result {
            "allowed" => &self.allowed,
            "denied" => &self.denied,
            _ => &self.errors,
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    /// Record when the trust roots were (re)loaded.
    pub fn trust_loaded(&self) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.trust_loaded_at.store(now, Ordering::Relaxed);
    }

    /// How long ago the trust roots were loaded, once they have been.
    pub fn trust_age(&self) -> Option<Duration> {
        let at = self.trust_loaded_at.load(Ordering::Relaxed);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
        (at > 0).then(|| Duration::from_secs(now.saturating_sub(at)))
    }

    /// Whether the roots in use are past the staleness bound.
    pub fn set_stale(&self, stale: bool) {
        self.trust_stale.store(u64::from(stale), Ordering::Relaxed);
    }

    /// Record a request's latency.
    pub fn observe(&self, took: Duration) {
        let secs = took.as_secs_f64();
        if let Ok(mut l) = self.latency.lock() {
            for (i, bound) in BUCKETS.iter().enumerate() {
                if secs <= *bound {
                    l.0[i] += 1;
                }
            }
            l.1 += 1;
            l.2 += secs;
        }
    }

    /// The exposition text.
    pub fn render(&self, generation: u64) -> String {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut out = String::new();
        out.push_str("# HELP attest_requests_total Requests by endpoint.\n# TYPE attest_requests_total counter\n");
        out.push_str(&format!(
            "attest_requests_total{{endpoint=\"verify\"}} {}\n",
            g(&self.verify_requests)
        ));
        out.push_str(&format!(
            "attest_requests_total{{endpoint=\"admission\"}} {}\n",
            g(&self.admission_requests)
        ));
        out.push_str("# HELP attest_verdicts_total Verdicts by result.\n# TYPE attest_verdicts_total counter\n");
        for (result, n) in [
            ("allowed", g(&self.allowed)),
            ("denied", g(&self.denied)),
            ("error", g(&self.errors)),
        ] {
            out.push_str(&format!(
                "attest_verdicts_total{{result=\"{result}\"}} {n}\n"
            ));
        }
        out.push_str("# TYPE attest_cache_hits_total counter\n");
        out.push_str(&format!(
            "attest_cache_hits_total {}\n",
            g(&self.cache_hits)
        ));
        out.push_str("# TYPE attest_cache_misses_total counter\n");
        out.push_str(&format!(
            "attest_cache_misses_total {}\n",
            g(&self.cache_misses)
        ));
        out.push_str("# TYPE attest_registry_errors_total counter\n");
        out.push_str(&format!(
            "attest_registry_errors_total {}\n",
            g(&self.registry_errors)
        ));
        out.push_str("# TYPE attest_tuf_errors_total counter\n");
        out.push_str(&format!(
            "attest_tuf_errors_total {}\n",
            g(&self.tuf_errors)
        ));
        out.push_str("# HELP attest_trust_generation Trust-root generation (bumped on each refresh).\n# TYPE attest_trust_generation gauge\n");
        out.push_str(&format!("attest_trust_generation {generation}\n"));
        out.push_str("# TYPE attest_trust_loaded_timestamp_seconds gauge\n");
        out.push_str(&format!(
            "attest_trust_loaded_timestamp_seconds {}\n",
            g(&self.trust_loaded_at)
        ));
        out.push_str("# HELP attest_trust_stale 1 when the trust roots have not been refreshed for a day.\n# TYPE attest_trust_stale gauge\n");
        out.push_str(&format!("attest_trust_stale {}\n", g(&self.trust_stale)));
        if let Ok(l) = self.latency.lock() {
            out.push_str("# HELP attest_request_duration_seconds Request latency.\n# TYPE attest_request_duration_seconds histogram\n");
            for (i, bound) in BUCKETS.iter().enumerate() {
                out.push_str(&format!(
                    "attest_request_duration_seconds_bucket{{le=\"{bound}\"}} {}\n",
                    l.0[i]
                ));
            }
            out.push_str(&format!(
                "attest_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n",
                l.1
            ));
            out.push_str(&format!("attest_request_duration_seconds_sum {}\n", l.2));
            out.push_str(&format!("attest_request_duration_seconds_count {}\n", l.1));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_counts_what_happened() {
        let m = Metrics::default();
        m.request("admission");
        m.request("verify");
        m.verdict("denied");
        m.observe(Duration::from_millis(3));
        m.observe(Duration::from_secs(20));
        assert!(m.trust_age().is_none());
        m.trust_loaded();
        assert!(m.trust_age().unwrap() < Duration::from_secs(5));
        m.set_stale(true);
        let text = m.render(3);
        for line in [
            "attest_requests_total{endpoint=\"admission\"} 1",
            "attest_verdicts_total{result=\"denied\"} 1",
            "attest_request_duration_seconds_bucket{le=\"0.005\"} 1",
            "attest_request_duration_seconds_bucket{le=\"10\"} 1",
            "attest_request_duration_seconds_bucket{le=\"+Inf\"} 2",
            "attest_trust_generation 3",
            "attest_trust_stale 1",
        ] {
            assert!(text.contains(line), "{line} missing:\n{text}");
        }
    }
}
