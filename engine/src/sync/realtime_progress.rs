//! The live status of a running pipe: state, counts, cursor, queue and rate, shared between
//! the follow loop, its lanes and whoever watches (console, CLI, supervisor).

use super::outcome::EntryOutcome;
use crate::mapping::references::ReferenceReport;
use crate::metrics::{self, PipeChanges};
use crate::rejection::Phase;
use crate::report::{RealtimeCounts, RealtimeState, RealtimeStatus};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Live status of one running pipe, shared with whoever watches it.
#[derive(Clone)]
pub struct RealtimeProgress {
    status: Arc<Mutex<RealtimeStatus>>,
    samples: Arc<Mutex<VecDeque<(Instant, u64)>>>,
    /// The process's count of the pipe's changes (metrics).
    changes: Arc<PipeChanges>,
}

impl RealtimeProgress {
    pub fn new(pipe: &str) -> Self {
        let now = chrono::Utc::now();
        RealtimeProgress {
            status: Arc::new(Mutex::new(RealtimeStatus {
                pipe: pipe.to_owned(),
                state: RealtimeState::Starting,
                counts: RealtimeCounts::default(),
                cursor: None,
                backlog: None,
                backlog_at_least: false,
                lag_seconds: None,
                queue: 0,
                pushed: false,
                ops_per_second: 0.0,
                last_error: None,
                last_error_at: None,
                instance: None,
                started_at: now,
                updated_at: now,
            })),
            samples: Arc::default(),
            changes: metrics::counters().pipe(pipe),
        }
    }

    pub fn snapshot(&self) -> RealtimeStatus {
        let mut s = self.status.lock().expect("status lock").clone();
        // Changes per second over the last ten seconds.
        let samples = self.samples.lock().expect("samples lock");
        if let (Some(first), Some(last)) = (samples.front(), samples.back()) {
            let span = last.0.duration_since(first.0).as_secs_f64();
            s.ops_per_second = if span > 0.0 {
                (last.1 - first.1) as f64 / span
            } else {
                0.0
            };
        }
        s
    }

    pub(super) fn update(&self, f: impl FnOnce(&mut RealtimeStatus)) {
        let mut s = self.status.lock().expect("status lock");
        f(&mut s);
        s.updated_at = chrono::Utc::now();
    }

    pub(super) fn sample(&self) {
        let changes = self.status.lock().expect("status lock").counts.changes;
        let mut samples = self.samples.lock().expect("samples lock");
        let now = Instant::now();
        samples.push_back((now, changes));
        while samples
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) > Duration::from_secs(10))
        {
            samples.pop_front();
        }
    }

    /// Members gained or lost and references dropped, by a change or the entries it unblocked.
    pub(super) fn count_references(&self, report: &ReferenceReport) {
        self.update(|s| {
            let c = &mut s.counts;
            c.members_added += report.members_added;
            c.members_removed += report.members_removed;
            c.references_out_of_scope += report.out_of_scope;
        });
    }

    /// Counts a change done, logged by the source at `logged_at`.
    pub(super) fn count(
        &self,
        outcome: &EntryOutcome,
        logged_at: Option<chrono::DateTime<chrono::Utc>>,
    ) {
        self.changes.count(Phase::Realtime, outcome.kind());
        self.update(|s| {
            if let Some(logged) = logged_at {
                let lag = (chrono::Utc::now() - logged).num_milliseconds().max(0);
                s.lag_seconds = Some(lag as f64 / 1000.0);
            }
            let c = &mut s.counts;
            c.changes += 1;
            match outcome {
                EntryOutcome::Created { .. } => c.created += 1,
                EntryOutcome::Modified { .. } => c.modified += 1,
                EntryOutcome::Deleted => c.deleted += 1,
                EntryOutcome::Deactivated => c.deactivated += 1,
                EntryOutcome::Held { .. } => c.held += 1,
                EntryOutcome::InSync => c.in_sync += 1,
                EntryOutcome::OutOfScope => c.out_of_scope += 1,
                EntryOutcome::Skipped { .. } => c.skipped += 1,
                EntryOutcome::Dropped { .. } | EntryOutcome::Deferred => c.dropped += 1,
                EntryOutcome::Rejected { rejection }
                | EntryOutcome::Unavailable { rejection, .. } => {
                    c.rejected += 1;
                    s.last_error = Some(format!("{}: {}", rejection.dn, rejection.reason));
                    s.last_error_at = Some(chrono::Utc::now());
                }
            }
        });
    }
}
