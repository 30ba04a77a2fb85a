//! What the engine counts as it works, for the console's `/metrics`: the changes each pipe
//! handled, by phase and outcome, and the SCIM requests sent, by method and status, with how
//! long they took. Counted for the whole process (a Prometheus target is a process) and read
//! as a snapshot; counters only grow.

// From the shared model directly: `rejection` reaches the SCIM client, which counts here.
use model::rejection::Phase;
use model::report::ChangeOutcome;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

/// Upper bounds of the request-duration buckets, in seconds.
pub const DURATION_BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's counters.
pub fn counters() -> &'static Counters {
    static COUNTERS: LazyLock<Counters> = LazyLock::new(Counters::default);
    &COUNTERS
}

#[derive(Default)]
pub struct Counters {
    changes: Mutex<BTreeMap<String, Arc<PipeChanges>>>,
    requests: Mutex<BTreeMap<(String, String), u64>>,
    durations: Mutex<BTreeMap<String, Histogram>>,
}

/// One pipe's changes: counted without a lock, on the path every entry takes.
pub struct PipeChanges {
    counts: Vec<AtomicU64>,
}

impl PipeChanges {
    fn new() -> PipeChanges {
        PipeChanges {
            counts: (0..Phase::ALL.len() * ChangeOutcome::ALL.len())
                .map(|_| AtomicU64::new(0))
                .collect(),
        }
    }

    fn slot(phase: Phase, outcome: ChangeOutcome) -> usize {
        fn position<T: PartialEq>(all: &[T], v: T) -> usize {
            all.iter().position(|x| *x == v).unwrap_or(0)
        }
        position(Phase::ALL, phase) * ChangeOutcome::ALL.len()
            + position(ChangeOutcome::ALL, outcome)
    }

    /// Counts a change that is done (`None`, not done yet, is not counted).
    pub fn count(&self, phase: Phase, outcome: Option<ChangeOutcome>) {
        if let Some(outcome) = outcome {
            self.counts[Self::slot(phase, outcome)].fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Changes of one pipe, phase and outcome so far.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeCount {
    pub pipe: String,
    pub phase: Phase,
    pub outcome: ChangeOutcome,
    pub count: u64,
}

/// SCIM requests with one method and status so far (`status`: the HTTP status, or
/// `transport-error` when no answer came).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestCount {
    pub method: String,
    pub status: String,
    pub count: u64,
}

/// How long the requests of one method took to be answered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    /// Requests within each of [`DURATION_BUCKETS`] (cumulative, as Prometheus counts).
    pub buckets: [u64; DURATION_BUCKETS.len()],
    pub count: u64,
    pub sum_seconds: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (bucket, bound) in self.buckets.iter_mut().zip(DURATION_BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        self.count += 1;
        self.sum_seconds += seconds;
    }
}

impl Counters {
    /// Where `pipe`'s changes are counted: taken once per run.
    pub fn pipe(&self, pipe: &str) -> Arc<PipeChanges> {
        self.changes
            .lock()
            .expect("change counters")
            .entry(pipe.to_owned())
            .or_insert_with(|| Arc::new(PipeChanges::new()))
            .clone()
    }

    /// Counts a SCIM request: its method, its HTTP status (`None`: no answer came) and how
    /// long until its answer.
    pub fn request(&self, method: &str, status: Option<u16>, took: Duration) {
        let status = status.map_or_else(|| "transport-error".to_owned(), |s| s.to_string());
        *self
            .requests
            .lock()
            .expect("request counters")
            .entry((method.to_owned(), status))
            .or_default() += 1;
        self.durations
            .lock()
            .expect("request durations")
            .entry(method.to_owned())
            .or_default()
            .observe(took.as_secs_f64());
    }

    /// Every pipe's changes so far, each outcome of each phase (zeros too, so that a rate
    /// starts from the first scrape).
    pub fn changes(&self) -> Vec<ChangeCount> {
        let changes = self.changes.lock().expect("change counters");
        let mut out = Vec::new();
        for (pipe, counts) in changes.iter() {
            for &phase in Phase::ALL {
                for &outcome in ChangeOutcome::ALL {
                    out.push(ChangeCount {
                        pipe: pipe.clone(),
                        phase,
                        outcome,
                        count: counts.counts[PipeChanges::slot(phase, outcome)]
                            .load(Ordering::Relaxed),
                    });
                }
            }
        }
        out
    }

    pub fn requests(&self) -> Vec<RequestCount> {
        self.requests
            .lock()
            .expect("request counters")
            .iter()
            .map(|((method, status), count)| RequestCount {
                method: method.clone(),
                status: status.clone(),
                count: *count,
            })
            .collect()
    }

    /// Request durations by method.
    pub fn durations(&self) -> Vec<(String, Histogram)> {
        self.durations
            .lock()
            .expect("request durations")
            .iter()
            .map(|(m, h)| (m.clone(), h.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_counted_by_pipe_phase_and_outcome() {
        let counters = Counters::default();
        let a = counters.pipe("a");
        a.count(Phase::Resync, Some(ChangeOutcome::Created));
        a.count(Phase::Resync, Some(ChangeOutcome::Created));
        a.count(Phase::Realtime, Some(ChangeOutcome::Rejected));
        a.count(Phase::Realtime, None);
        counters
            .pipe("a")
            .count(Phase::Realtime, Some(ChangeOutcome::Rejected));
        let changes = counters.changes();
        assert_eq!(changes.len(), Phase::ALL.len() * ChangeOutcome::ALL.len());
        let count = |phase, outcome| {
            changes
                .iter()
                .find(|c| c.phase == phase && c.outcome == outcome)
                .map(|c| c.count)
        };
        assert_eq!(count(Phase::Resync, ChangeOutcome::Created), Some(2));
        assert_eq!(count(Phase::Realtime, ChangeOutcome::Rejected), Some(2));
        assert_eq!(count(Phase::Realtime, ChangeOutcome::Created), Some(0));
    }

    #[test]
    fn request_durations_fall_in_cumulative_buckets() {
        let counters = Counters::default();
        counters.request("GET", Some(200), Duration::from_millis(3));
        counters.request("GET", Some(404), Duration::from_millis(30));
        counters.request("GET", None, Duration::from_secs(20));
        let (method, h) = &counters.durations()[0];
        assert_eq!(method, "GET");
        assert_eq!(h.count, 3);
        assert_eq!(h.buckets[0], 0, "≤ 1 ms");
        assert_eq!(h.buckets[1], 1, "≤ 5 ms");
        assert_eq!(h.buckets[4], 2, "≤ 50 ms");
        assert_eq!(
            h.buckets[DURATION_BUCKETS.len() - 1],
            2,
            "20 s is beyond the last"
        );
        assert!((h.sum_seconds - 20.033).abs() < 1e-9);
        let statuses: Vec<String> = counters.requests().into_iter().map(|r| r.status).collect();
        assert_eq!(statuses, ["200", "404", "transport-error"]);
    }
}
