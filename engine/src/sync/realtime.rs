//! Realtime sync (setup step 11): follow the source changelog and apply each change.
//!
//! Changes are read in batches from the pipe's cursor and handed to lanes (`lanes`): the
//! changes of one entry (same stable id, else same DN) apply in changelog order, different
//! entries in parallel up to the pipe's worker count, and reading goes on past a slow entry
//! up to a bounded number of changes in flight. The cursor saved is the checkpoint — the
//! position before the oldest change not done — so a crash, even `kill -9`, re-reads from
//! there on restart; re-applying is idempotent because every change re-reads the entry and
//! compares with the resource.
//!
//! A destination outage pauses the affected change: it is retried with back-off until the
//! service answers, and nothing behind it is lost. A refused change is recorded as rejected and
//! never blocks the ones behind it.

use super::lanes::{Checkpoint, LaneContext, LaneEnd, Lanes};
use super::pause::{MAX_BACKOFF, pause};
use super::plan::{PipePlan, PlanError};
pub use super::realtime_progress::RealtimeProgress;
use crate::changelog::{ChangelogError, read_changes};
use crate::config::{Config, WORKERS};
use crate::ldap::{LdapConnection, LdapError, RootDse, connect};
use crate::report::RealtimeState;
use crate::startpoint::ChangelogCursor;
use crate::store::{Store, StoreError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

impl From<super::lanes::LanePanicked> for RealtimeError {
    fn from(panicked: super::lanes::LanePanicked) -> Self {
        RealtimeError::Worker(panicked.0)
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

async fn follow(
    store: &Store,
    config: &Config,
    pipe: &str,
    stop: &mut watch::Receiver<bool>,
    progress: &RealtimeProgress,
    holder: Option<&str>,
) -> Result<(), RealtimeError> {
    let plan = Arc::new(PipePlan::build(config, pipe, store.cipher(), None)?);
    let workers = plan
        .pipe
        .worker_count
        .clamp(*WORKERS.start(), *WORKERS.end()) as usize;
    let batch_size = plan.source.batch_size;
    // Changes read ahead of the oldest one not done: enough to keep every worker busy past
    // a slow entry, bounded so memory is too.
    let read_ahead = (batch_size as usize * 4).max(workers * 2);
    let mut lanes = Lanes::new(
        LaneContext {
            plan: plan.clone(),
            store: store.clone(),
            attrs: plan.ldap_attributes(),
            stop: stop.clone(),
            progress: progress.clone(),
        },
        workers,
    );
    let Some(mut saved) = store.realtime_cursor(pipe).await? else {
        return Err(RealtimeError::NoStartpoint(pipe.to_owned()));
    };
    progress.update(|s| s.cursor = Some(saved.to_string()));
    let mut read_from = saved.clone();
    let mut checkpoint = Checkpoint::default();
    let mut reached: Option<ChangelogCursor> = None;
    let mut conn: Option<LdapConnection> = None;
    let mut source_backoff = Duration::from_millis(500);
    let mut last_saved = Instant::now() - Duration::from_secs(60);
    loop {
        if *stop.borrow() {
            lanes.drain().await;
            return Ok(());
        }
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

        // Read on while there is room, whatever is still in flight.
        let mut more = false;
        let mut failure: Option<LaneEnd> = None;
        if checkpoint.in_flight() < read_ahead {
            match read_changes(reader, &plan.source, &read_from, batch_size).await {
                Ok(batch) => {
                    if let Some(end) = batch.end {
                        for record in batch.records {
                            let seq = checkpoint.push(record.cursor.clone(), false);
                            lanes.dispatch(seq, record, reader);
                        }
                        checkpoint.push(end.clone(), true);
                        read_from = end;
                        more = true;
                    }
                    let backlog = backlog(reader, &read_from).await;
                    progress.update(|s| {
                        s.backlog = backlog;
                        if matches!(
                            s.state,
                            RealtimeState::Starting | RealtimeState::WaitingForSource
                        ) {
                            s.running();
                        }
                    });
                }
                Err(ChangelogError::Ldap(e)) => failure = Some(LaneEnd::SourceLost(e)),
                Err(e) => return Err(e.into()),
            }
        }
        progress.update(|s| s.queue = checkpoint.in_flight() as u64);

        // Collect what the lanes finished: at once while there is more to read, else until a
        // change finishes or the polling interval passes.
        if failure.is_none() {
            let room = checkpoint.in_flight() < read_ahead;
            let wait = if more && room {
                Duration::ZERO
            } else {
                Duration::from_millis(plan.pipe.polling_interval_ms)
            };
            let first = tokio::select! {
                finished = tokio::time::timeout(wait, lanes.next()) => finished.ok(),
                changed = stop.changed() => {
                    if changed.is_err() {
                        failure = Some(LaneEnd::Stopped); // nobody can ask any more
                    }
                    None
                }
            };
            let mut next = first.transpose().map_err(RealtimeError::from)?;
            while let Some(finished) = next {
                match finished.end {
                    Ok(()) => checkpoint.done(finished.seq),
                    Err(end) => {
                        failure = Some(end);
                        break;
                    }
                }
                next = match tokio::time::timeout(Duration::ZERO, lanes.next()).await {
                    Ok(finished) => Some(finished.map_err(RealtimeError::from)?),
                    Err(_) => None,
                };
            }
        }
        if let Some(cursor) = checkpoint.advance() {
            reached = Some(cursor);
        }
        // The checkpoint is saved when all read is done (or the run must stop), else at most
        // once a second; the status with it, and at most once a second while polling.
        let due = last_saved.elapsed() > Duration::from_secs(1);
        let idle = checkpoint.in_flight() == 0;
        let mut moved = false;
        if let Some(cursor) = reached.take_if(|_| idle || failure.is_some() || due) {
            save_cursor(store, pipe, &cursor, holder).await?;
            progress.update(|s| s.cursor = Some(cursor.to_string()));
            saved = cursor;
            moved = true;
        }
        if moved || due {
            progress.sample();
            save_status(store, pipe, progress).await;
            last_saved = Instant::now();
        }
        match failure {
            None => {}
            Some(LaneEnd::Stopped) => {
                lanes.drain().await;
                return Ok(());
            }
            Some(LaneEnd::Store(e)) => return Err(e.into()),
            Some(LaneEnd::SourceLost(e)) => {
                // Start again from the checkpoint: what was done after it is applied again,
                // which changes nothing (every change compares the entry with its resource).
                lanes.drain().await;
                checkpoint.clear();
                read_from = saved.clone();
                source_lost(&mut conn, progress, &e);
                if pause(stop, source_backoff).await {
                    return Ok(());
                }
                source_backoff = (source_backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Saves the checkpoint, only while `holder` (if any) still holds the pipe's lease.
async fn save_cursor(
    store: &Store,
    pipe: &str,
    cursor: &ChangelogCursor,
    holder: Option<&str>,
) -> Result<(), RealtimeError> {
    match holder {
        None => store.save_realtime_cursor(pipe, cursor).await?,
        Some(h) => {
            if !store.save_realtime_cursor_holding(pipe, cursor, h).await? {
                return Err(RealtimeError::LeaseLost(h.to_owned()));
            }
        }
    }
    Ok(())
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
