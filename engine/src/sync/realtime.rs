//! Realtime sync (setup step 11): follow the source changelog and apply each change.
//!
//! Changes are read in batches from the pipe's cursor. Within a batch, the changes of one entry
//! (same stable id, else same DN) are applied in changelog order while different entries run
//! in parallel, up to the pipe's worker count. The cursor is saved only when the whole batch is
//! done, so a crash — even `kill -9` — re-reads the batch on restart; re-applying is
//! idempotent because every change re-reads the entry and compares with the resource.
//!
//! A destination outage pauses the affected change: it is retried with back-off until the
//! service answers, and nothing behind it is lost. A refused change is recorded as rejected and
//! never blocks the ones behind it.

use super::change::{ApplyError, ChangeContext};
use super::outcome::EntryOutcome;
use super::plan::{PipePlan, PlanError};
use crate::changelog::{ChangeRecord, ChangelogError, read_changes};
use crate::config::{Config, WORKERS};
use crate::ldap::{LdapConnection, LdapError, RootDse, connect};
use crate::mapping::Phase;
use crate::mapping::references::ReferenceReport;
use crate::report::{RealtimeCounts, RealtimeState, RealtimeStatus};
use crate::startpoint::ChangelogCursor;
use crate::store::{Store, StoreError};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Live status of one running pipe, shared with whoever watches it.
#[derive(Clone)]
pub struct RealtimeProgress {
    status: Arc<Mutex<RealtimeStatus>>,
    samples: Arc<Mutex<VecDeque<(Instant, u64)>>>,
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
                queue: 0,
                ops_per_second: 0.0,
                last_error: None,
                last_error_at: None,
                instance: None,
                started_at: now,
                updated_at: now,
            })),
            samples: Arc::default(),
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

    fn update(&self, f: impl FnOnce(&mut RealtimeStatus)) {
        let mut s = self.status.lock().expect("status lock");
        f(&mut s);
        s.updated_at = chrono::Utc::now();
    }

    fn sample(&self) {
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
    fn count_references(&self, report: &ReferenceReport) {
        self.update(|s| {
            let c = &mut s.counts;
            c.members_added += report.members_added;
            c.members_removed += report.members_removed;
            c.references_out_of_scope += report.out_of_scope;
        });
    }

    fn count(&self, outcome: &EntryOutcome) {
        self.update(|s| {
            let c = &mut s.counts;
            c.changes += 1;
            match outcome {
                EntryOutcome::Created { .. } => c.created += 1,
                EntryOutcome::Modified { .. } => c.modified += 1,
                EntryOutcome::Deleted => c.deleted += 1,
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
            s.queue = s.queue.saturating_sub(1);
        });
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RealtimeError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(
        "no startpoint is set for \"{0}\": set one (step 9 or `scimsync realtime-sync set-startpoint`) first"
    )]
    NoStartpoint(String),
    #[error(transparent)]
    Changelog(#[from] ChangelogError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("a change worker stopped: {0}")]
    Worker(String),
    #[error("instance \"{0}\" no longer holds the pipe's lease: another instance runs it now")]
    LeaseLost(String),
}

/// The longest pause between attempts while the destination or source is down.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Runs realtime sync of `pipe` until `stop` becomes true.
pub async fn run_realtime(
    store: Store,
    config: Config,
    pipe: String,
    stop: watch::Receiver<bool>,
    progress: RealtimeProgress,
) -> Result<(), RealtimeError> {
    run_realtime_as(store, config, pipe, stop, progress, None).await
}

/// [`run_realtime`] for the instance holding the pipe's lease: checkpoints are saved only
/// while `holder` still holds it, and losing it ends the run.
pub async fn run_realtime_as(
    store: Store,
    config: Config,
    pipe: String,
    mut stop: watch::Receiver<bool>,
    progress: RealtimeProgress,
    holder: Option<String>,
) -> Result<(), RealtimeError> {
    progress.update(|s| s.instance = holder.clone());
    let result = follow(
        &store,
        &config,
        &pipe,
        &mut stop,
        &progress,
        holder.as_deref(),
    )
    .await;
    progress.update(|s| match &result {
        Ok(()) => s.state = RealtimeState::Stopped,
        Err(e) => s.problem(RealtimeState::Failed, e.to_string()),
    });
    let _ = store
        .save_realtime_status(
            &pipe,
            &serde_json::to_value(progress.snapshot()).unwrap_or_default(),
        )
        .await;
    result
}

/// Sleeps `duration` unless asked to stop first; returns whether to stop.
async fn pause(stop: &mut watch::Receiver<bool>, duration: Duration) -> bool {
    if *stop.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(duration) => *stop.borrow(),
        changed = stop.changed() => changed.is_err() || *stop.borrow(),
    }
}

async fn follow(
    store: &Store,
    config: &Config,
    pipe: &str,
    stop: &mut watch::Receiver<bool>,
    progress: &RealtimeProgress,
    holder: Option<&str>,
) -> Result<(), RealtimeError> {
    let plan = Arc::new(PipePlan::build(config, pipe, store.cipher(), None)?);
    let attrs = plan.ldap_attributes();
    let workers = plan
        .pipe
        .worker_count
        .clamp(*WORKERS.start(), *WORKERS.end()) as usize;
    let mut conn: Option<LdapConnection> = None;
    let mut source_backoff = Duration::from_millis(500);
    let mut last_saved = Instant::now() - Duration::from_secs(60);
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        let Some(cursor) = store.realtime_cursor(pipe).await? else {
            return Err(RealtimeError::NoStartpoint(pipe.to_owned()));
        };
        progress.update(|s| s.cursor = Some(cursor.to_string()));
        if conn.is_none() {
            match connect(&plan.source, store.cipher()).await {
                Ok(c) => {
                    conn = Some(c);
                    source_backoff = Duration::from_millis(500);
                }
                Err(e) => {
                    progress.update(|s| s.problem(RealtimeState::WaitingForSource, e.to_string()));
                    if pause(stop, source_backoff).await {
                        return Ok(());
                    }
                    source_backoff = (source_backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            }
        }
        let reader = conn.as_mut().expect("connected above");
        let batch = match read_changes(reader, &plan.source, &cursor, plan.source.batch_size).await
        {
            Ok(batch) => batch,
            Err(ChangelogError::Ldap(e)) => {
                source_lost(&mut conn, progress, &e);
                if pause(stop, source_backoff).await {
                    return Ok(());
                }
                source_backoff = (source_backoff * 2).min(MAX_BACKOFF);
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let backlog = backlog(reader, &cursor).await;
        progress.update(|s| {
            s.backlog = backlog;
            if matches!(
                s.state,
                RealtimeState::Starting | RealtimeState::WaitingForSource
            ) {
                s.running();
            }
        });
        let Some(last) = batch.end.clone() else {
            progress.sample();
            if last_saved.elapsed() > Duration::from_secs(1) {
                save_status(store, pipe, progress).await;
                last_saved = Instant::now();
            }
            if pause(stop, Duration::from_millis(plan.pipe.polling_interval_ms)).await {
                return Ok(());
            }
            continue;
        };
        progress.update(|s| s.queue = batch.records.len() as u64);
        let records = batch.records;
        match apply_batch(
            &plan, store, reader, &attrs, records, workers, stop, progress,
        )
        .await?
        {
            BatchEnd::Done => {
                match holder {
                    None => store.save_realtime_cursor(pipe, &last).await?,
                    Some(h) => {
                        if !store.save_realtime_cursor_holding(pipe, &last, h).await? {
                            return Err(RealtimeError::LeaseLost(h.to_owned()));
                        }
                    }
                }
                progress.update(|s| {
                    s.cursor = Some(last.to_string());
                    s.running();
                });
            }
            BatchEnd::Stopped => return Ok(()),
            BatchEnd::SourceLost(e) => source_lost(&mut conn, progress, &e),
        }
        progress.sample();
        save_status(store, pipe, progress).await;
        last_saved = Instant::now();
    }
}

fn source_lost(conn: &mut Option<LdapConnection>, progress: &RealtimeProgress, e: &LdapError) {
    *conn = None;
    progress.update(|s| s.problem(RealtimeState::WaitingForSource, format!("source: {e}")));
}

async fn save_status(store: &Store, pipe: &str, progress: &RealtimeProgress) {
    if let Err(e) = store
        .save_realtime_status(
            pipe,
            &serde_json::to_value(progress.snapshot()).unwrap_or_default(),
        )
        .await
    {
        tracing::warn!("saving the status of \"{pipe}\": {e}");
    }
}

/// Changes the source holds beyond the cursor (draft-good: last change number − cursor).
async fn backlog(conn: &mut LdapConnection, cursor: &ChangelogCursor) -> Option<u64> {
    match cursor {
        ChangelogCursor::DraftGood { last_change_number } => {
            let dse = RootDse::read(conn).await.ok()?;
            dse.last_change_number
                .map(|last| last.saturating_sub(*last_change_number))
        }
        ChangelogCursor::Accesslog { .. } => None,
    }
}

enum BatchEnd {
    Done,
    Stopped,
    SourceLost(LdapError),
}

/// Applies one batch: per-entry order kept, different entries in parallel.
#[allow(clippy::too_many_arguments)]
async fn apply_batch(
    plan: &Arc<PipePlan>,
    store: &Store,
    reader: &LdapConnection,
    attrs: &[String],
    batch: Vec<ChangeRecord>,
    workers: usize,
    stop: &watch::Receiver<bool>,
    progress: &RealtimeProgress,
) -> Result<BatchEnd, RealtimeError> {
    let mut groups: Vec<(String, Vec<ChangeRecord>)> = Vec::new();
    for record in batch {
        let key = record
            .entry_id
            .clone()
            .unwrap_or_else(|| record.current_dn().to_ascii_lowercase());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(record),
            None => groups.push((key, vec![record])),
        }
    }
    let permits = Arc::new(tokio::sync::Semaphore::new(workers));
    let mut tasks = tokio::task::JoinSet::new();
    for (_, records) in groups {
        let (plan, store, ldap, progress, permits) = (
            plan.clone(),
            store.clone(),
            reader.clone(),
            progress.clone(),
            permits.clone(),
        );
        let mut stop = stop.clone();
        let attrs = attrs.to_vec();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("semaphore open");
            let change = ChangeContext {
                plan: &plan,
                store: &store,
                ldap: &ldap,
                attrs: &attrs,
                phase: Phase::Realtime,
            };
            let ended = |e: ApplyError| match e {
                ApplyError::Source(e) => Ok(BatchEnd::SourceLost(e)),
                ApplyError::Store(e) => Err(RealtimeError::Store(e)),
            };
            for record in records {
                let mut backoff = Duration::from_millis(500);
                loop {
                    let mut result = match change.apply(&record).await {
                        Ok(result) => result,
                        Err(e) => return ended(e),
                    };
                    if let EntryOutcome::Unavailable { throttled, .. } = result.outcome {
                        // The operation has used the pipe's attempts. A destination that still
                        // answers fails this entry alone: keep it as rejected and go on.
                        // Throttling, or a destination that answers nothing, is an outage:
                        // pause, and try the change again.
                        if !throttled && plan.client.answers().await {
                            result.outcome = result.outcome.refused();
                        } else {
                            let reason = result.outcome.reason().unwrap_or_default().to_owned();
                            progress.update(|s| {
                                s.counts.retries += 1;
                                s.problem(RealtimeState::WaitingForDestination, reason);
                            });
                            if pause(&mut stop, backoff).await {
                                return Ok(BatchEnd::Stopped);
                            }
                            backoff = (backoff * 2).min(MAX_BACKOFF);
                            continue;
                        }
                    }
                    if let Err(e) = change.record(&record, &result).await {
                        return ended(e);
                    }
                    progress.count(&result.outcome);
                    progress.count_references(&result.references);
                    // Entries waiting for this one's resource gain their references now.
                    match change.apply_waiting(&result).await {
                        Ok(report) => progress.count_references(&report),
                        Err(e) => return ended(e),
                    }
                    progress.update(|s| {
                        if s.state == RealtimeState::WaitingForDestination {
                            s.running();
                        }
                    });
                    break;
                }
            }
            Ok::<BatchEnd, RealtimeError>(BatchEnd::Done)
        });
    }
    let mut end = BatchEnd::Done;
    while let Some(joined) = tasks.join_next().await {
        match joined.map_err(|e| RealtimeError::Worker(e.to_string()))?? {
            BatchEnd::Done => {}
            other => {
                if matches!(end, BatchEnd::Done) {
                    end = other;
                }
            }
        }
    }
    Ok(end)
}
