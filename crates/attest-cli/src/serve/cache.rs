//! The verdict cache: bounded, with a time to live, keyed so that a verdict
//! under one policy or one set of trust roots is never served under
//! another; and single-flight, so concurrent requests for the same subject
//! share one verification.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use attest::policy_file::SubjectReport;

use super::metrics::Metrics;

/// What a verdict depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// The subject's digest.
    pub digest: String,
    /// What rules match it by (an image's repository): the same digest
    /// under another name may meet other rules.
    pub name: String,
    /// The policy's digest (file, Rego modules, keys).
    pub policy: String,
    /// The trust roots' generation.
    pub generation: u64,
    /// The digest of inline evidence, if the request carried its bundles.
    pub evidence: Option<String>,
}

type Shared = Arc<tokio::sync::OnceCell<Result<Arc<SubjectReport>, String>>>;

struct Inner {
    verdicts: HashMap<Key, (Instant, Arc<SubjectReport>)>,
    order: VecDeque<Key>,
    inflight: HashMap<Key, Shared>,
}

/// See the module documentation.
pub struct VerdictCache {
    inner: Mutex<Inner>,
    capacity: usize,
    ttl: Duration,
}

impl VerdictCache {
    /// A cache of at most `capacity` verdicts, each reused for `ttl`.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            inner: Mutex::new(Inner {
                verdicts: HashMap::new(),
                order: VecDeque::new(),
                inflight: HashMap::new(),
            }),
            capacity,
            ttl,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The cached verdict for `key`, or the one `compute` gives (computed
    /// once however many ask at the same time). Errors are not cached.
    pub async fn get_or_compute<F, Fut>(
        &self,
        key: Key,
        metrics: &Metrics,
        compute: F,
    ) -> Result<Arc<SubjectReport>, String>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Arc<SubjectReport>, String>>,
    {
        let cell = {
            let mut inner = self.lock();
            if let Some((at, report)) = inner.verdicts.get(&key) {
                if at.elapsed() < self.ttl {
                    metrics.cache_hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(report.clone());
                }
                inner.verdicts.remove(&key);
            }
            metrics.cache_misses.fetch_add(1, Ordering::Relaxed);
            inner.inflight.entry(key.clone()).or_default().clone()
        };
        let result = cell.get_or_init(compute).await.clone();
        let mut inner = self.lock();
        inner.inflight.remove(&key);
        if let Ok(report) = &result {
            if self.capacity > 0 && !inner.verdicts.contains_key(&key) {
                while inner.verdicts.len() >= self.capacity {
                    match inner.order.pop_front() {
                        Some(old) => {
                            inner.verdicts.remove(&old);
                        }
                        None => break,
                    }
                }
                inner.order.push_back(key.clone());
                inner.verdicts.insert(key, (Instant::now(), report.clone()));
            }
        }
        result
    }

    /// How many verdicts are kept.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().verdicts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn report(name: &str) -> Arc<SubjectReport> {
        Arc::new(SubjectReport {
            subject: name.into(),
            digest: String::new(),
            policy_digest: String::new(),
            passed: true,
            rules: Vec::new(),
            rejected: Vec::new(),
            reason: None,
            status: attest::Status::Verified,
        })
    }

    fn key(digest: &str, policy: &str, generation: u64) -> Key {
        Key {
            digest: digest.into(),
            name: "r".into(),
            policy: policy.into(),
            generation,
            evidence: None,
        }
    }

    #[tokio::test]
    async fn verdicts_are_keyed_by_policy_and_trust_and_computed_once() {
        let cache = VerdictCache::new(2, Duration::from_secs(60));
        let metrics = Metrics::default();
        let calls = AtomicUsize::new(0);
        let compute = |name: &'static str| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move { Ok(report(name)) }
        };
        let a = cache
            .get_or_compute(key("d", "p1", 1), &metrics, || compute("a"))
            .await
            .unwrap();
        let again = cache
            .get_or_compute(key("d", "p1", 1), &metrics, || compute("b"))
            .await
            .unwrap();
        assert_eq!(again.subject, a.subject);
        // Another policy or another trust generation: never the cached verdict.
        let p2 = cache
            .get_or_compute(key("d", "p2", 1), &metrics, || compute("p2"))
            .await
            .unwrap();
        assert_eq!(p2.subject, "p2");
        let g2 = cache
            .get_or_compute(key("d", "p1", 2), &metrics, || compute("g2"))
            .await
            .unwrap();
        assert_eq!(g2.subject, "g2");
        // The same digest under another name: never the cached verdict.
        let mut renamed = key("d", "p1", 1);
        renamed.name = "other/repo".into();
        let r = cache
            .get_or_compute(renamed, &metrics, || compute("renamed"))
            .await
            .unwrap();
        assert_eq!(r.subject, "renamed");
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        // Bounded: two kept.
        assert_eq!(cache.len(), 2);
        // Errors are not kept.
        let e = cache
            .get_or_compute(key("x", "p", 1), &metrics, || async {
                Err("down".to_string())
            })
            .await;
        assert!(e.is_err());
        let ok = cache
            .get_or_compute(key("x", "p", 1), &metrics, || async { Ok(report("x")) })
            .await;
        assert!(ok.is_ok());
    }

    #[tokio::test]
    async fn concurrent_requests_share_one_verification_and_expired_ones_recompute() {
        let cache = Arc::new(VerdictCache::new(10, Duration::from_millis(50)));
        let metrics = Arc::new(Metrics::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (cache, metrics, calls) = (cache.clone(), metrics.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_compute(key("d", "p", 1), &metrics, || async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok(report("once"))
                    })
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap().subject, "once");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_millis(60)).await;
        let c = calls.clone();
        cache
            .get_or_compute(key("d", "p", 1), &metrics, || async move {
                c.fetch_add(1, Ordering::SeqCst);
                Ok(report("again"))
            })
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
