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

use super::entry_ids::{self, Rekeying, SettleError};
use super::lanes::{Checkpoint, LaneContext, LaneEnd, Lanes};
use super::pause::{MAX_BACKOFF, pause};
use super::plan::{PipePlan, PlanError};
pub use super::realtime_progress::RealtimeProgress;
use super::workers::Workers;
use crate::changelog::ChangelogError;
use crate::config::Config;
use crate::report::RealtimeState;
use crate::source::ChangeSource;
use crate::startpoint::ChangelogCursor;
use crate::store::{Store, StoreError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How soon a read after a push looks again when it found nothing yet.
const LOOK_AGAIN_AFTER: Duration = Duration::from_millis(20);
/// How often the changelog backlog is asked for.
const BACKLOG_EVERY: Duration = Duration::from_secs(1);
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
    stop: watch::Receiver<bool>,
    progress: RealtimeProgress,
    holder: Option<String>,
) -> Result<(), RealtimeError> {
    let plan = PipePlan::build(&config, &pipe, store.cipher(), None);
    run_plan(store, &pipe, plan, stop, progress, holder).await
}

/// Runs realtime sync with a plan already built (or the reason it could not be), and leaves
/// the final state in the status.
pub(crate) async fn run_plan(
    store: Store,
    pipe: &str,
    plan: Result<PipePlan, PlanError>,
    mut stop: watch::Receiver<bool>,
    progress: RealtimeProgress,
    holder: Option<String>,
) -> Result<(), RealtimeError> {
    progress.update(|s| s.instance = holder.clone());
    let result = match plan {
        Ok(plan) => run_settled(&store, plan, &mut stop, &progress, holder.as_deref()).await,
        Err(e) => Err(e.into()),
    };
    progress.update(|s| match &result {
        Ok(()) => s.state = RealtimeState::Stopped,
        Err(e) => s.problem(RealtimeState::Failed, e.to_string()),
    });
    save_status(&store, pipe, &progress).await;
    result
}

/// Settles the pipe's entry ids, then follows its changelog. A store that cannot be reached
/// or written pauses the pipe (waiting for the store) until it answers again; then it
/// resumes from its last saved checkpoint, applying again what was in flight (which changes
/// nothing a second time: every change is applied as the entry is now).
async fn run_settled(
    store: &Store,
    mut plan: PipePlan,
    stop: &mut watch::Receiver<bool>,
    progress: &RealtimeProgress,
    holder: Option<&str>,
) -> Result<(), RealtimeError> {
    loop {
        match settle_entry_ids(&mut plan, store, stop, progress).await {
            Ok(true) => break,
            Ok(false) => return Ok(()),
            Err(RealtimeError::Store(e)) if e.is_unavailable() => {
                if !wait_for_store(store, stop, progress, &e).await {
                    return Ok(());
                }
            }
            Err(e) => return Err(e),
        }
    }
    let plan = Arc::new(plan);
    loop {
        let run = Follow {
            store,
            plan: plan.clone(),
            progress,
            holder,
        };
        match run.follow(stop).await {
            Err(RealtimeError::Store(e)) if e.is_unavailable() => {
                if !wait_for_store(store, stop, progress, &e).await {
                    return Ok(());
                }
                // The lease may have run out meanwhile: taken again unless another instance
                // has taken the pipe over, which then goes on from the last checkpoint. (A
                // store gone again is met by the next run, which waits again.)
                if let Some(holder) = holder {
                    let ttl = crate::store::LEASE_TTL;
                    match store.hold_lease(&plan.pipe.name, holder, ttl).await {
                        Ok(true) => {}
                        Ok(false) => return Err(RealtimeError::LeaseLost(holder.to_owned())),
                        Err(e) if e.is_unavailable() => {}
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            ended => return ended,
        }
    }
}

/// How long to wait between asking a store that did not answer again, at most.
const STORE_RETRY_AT_MOST: Duration = Duration::from_secs(2);

/// Shows the pipe waiting for the store until it answers again; `false`: asked to stop
/// meanwhile.
async fn wait_for_store(
    store: &Store,
    stop: &mut watch::Receiver<bool>,
    progress: &RealtimeProgress,
    e: &StoreError,
) -> bool {
    tracing::warn!(
        "realtime sync of \"{}\" waits for the store: {e}",
        progress.snapshot().pipe
    );
    progress.update(|s| s.problem(RealtimeState::WaitingForStore, e.to_string()));
    let mut backoff = Duration::from_millis(250);
    loop {
        if pause(stop, backoff).await {
            return false;
        }
        if let Ok(Ok(())) = tokio::time::timeout(STORE_RETRY_AT_MOST, store.probe_writes()).await {
            tracing::info!(
                "realtime sync of \"{}\": the store answers again",
                progress.snapshot().pipe
            );
            return true;
        }
        backoff = (backoff * 2).min(STORE_RETRY_AT_MOST);
    }
}

/// Settles which attribute identifies the pipe's entries (see `entry_ids`) before any change
/// is applied, waiting for the source while it cannot be reached. `false`: asked to stop
/// meanwhile.
async fn settle_entry_ids(
    plan: &mut PipePlan,
    store: &Store,
    stop: &mut watch::Receiver<bool>,
    progress: &RealtimeProgress,
) -> Result<bool, RealtimeError> {
    let mut backoff = Duration::from_millis(500);
    loop {
        if *stop.borrow() {
            return Ok(false);
        }
        let connector = plan.changes.clone();
        let settled = match connector.connect().await {
            Ok(source) => {
                entry_ids::settle(plan, store, &*source.entry_ids(), Rekeying::Allowed).await
            }
            Err(e) => Err(SettleError::Source(e)),
        };
        match settled {
            Ok(()) => return Ok(true),
            Err(SettleError::Store(e)) => return Err(e.into()),
            Err(SettleError::Source(e)) => {
                progress.update(|s| s.problem(RealtimeState::WaitingForSource, e.to_string()));
                if pause(stop, backoff).await {
                    return Ok(false);
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// One run following a pipe's changelog.
struct Follow<'a> {
    store: &'a Store,
    plan: Arc<PipePlan>,
    progress: &'a RealtimeProgress,
    holder: Option<&'a str>,
}

/// The changes read and where the run stands with them.
struct Position {
    checkpoint: Checkpoint,
    /// The last checkpoint reached and not saved yet.
    reached: Option<ChangelogCursor>,
    /// The last checkpoint saved, where reading starts again after losing the source.
    saved: ChangelogCursor,
}

impl Follow<'_> {
    async fn follow(&self, stop: &mut watch::Receiver<bool>) -> Result<(), RealtimeError> {
        let (store, plan, progress) = (self.store, &self.plan, self.progress);
        let pipe = plan.pipe.name.as_str();
        let workers = Workers::of(&plan.pipe, None);
        let batch_size = plan.source.batch_size;
        // Changes read ahead of the oldest one not done: enough to keep every worker busy past
        // a slow entry, bounded so memory is too.
        let read_ahead = (batch_size as usize * 4).max(workers.count() * 2);
        let mut lanes = Lanes::new(
            LaneContext {
                plan: plan.clone(),
                store: store.clone(),
                attrs: plan.ldap_attributes(),
                stop: stop.clone(),
                progress: progress.clone(),
                log: Default::default(),
            },
            workers,
        );
        let Some(saved) = store.realtime_cursor(pipe).await? else {
            return Err(RealtimeError::NoStartpoint(pipe.to_owned()));
        };
        progress.update(|s| s.cursor = Some(saved.to_string()));
        let mut read_from = saved.clone();
        let mut at = Position {
            checkpoint: Checkpoint::default(),
            reached: None,
            saved,
        };
        let mut source: Option<Box<dyn ChangeSource>> = None;
        let mut source_backoff = Duration::from_millis(500);
        let mut last_saved = Instant::now() - Duration::from_secs(60);
        // After a push, a read that finds nothing yet looks again soon (the record may not be
        // readable the very moment it is announced).
        let mut look_again = 0u8;
        // The backlog costs a request (an accesslog count reads up to 10,000 records): asked
        // at most once a second, as often as the status is saved.
        let mut backlog_asked = Instant::now() - BACKLOG_EVERY;
        loop {
            if *stop.borrow() {
                return self.wind_down(&mut lanes, &mut at).await;
            }
            if source.is_none() {
                match plan.changes.connect().await {
                    Ok(c) => {
                        source = Some(c);
                        source_backoff = Duration::from_millis(500);
                    }
                    Err(e) => {
                        progress
                            .update(|s| s.problem(RealtimeState::WaitingForSource, e.to_string()));
                        if pause(stop, source_backoff).await {
                            return self.wind_down(&mut lanes, &mut at).await;
                        }
                        source_backoff = (source_backoff * 2).min(MAX_BACKOFF);
                        continue;
                    }
                }
            }
            let reader = source.as_mut().expect("connected above");

            // Read on while there is room, whatever is still in flight.
            let mut more = false;
            let mut failure: Option<LaneEnd> = None;
            if at.checkpoint.in_flight() < read_ahead {
                match reader.read_changes(&read_from, batch_size).await {
                    Ok(batch) => {
                        if let Some(end) = batch.end {
                            for record in batch.records {
                                let seq = at.checkpoint.push(record.cursor.clone(), false);
                                lanes.dispatch(seq, record, &**reader);
                            }
                            at.checkpoint.push(end.clone(), true);
                            read_from = end;
                            more = true;
                        }
                        let backlog = if backlog_asked.elapsed() >= BACKLOG_EVERY {
                            backlog_asked = Instant::now();
                            Some(reader.backlog(&read_from).await)
                        } else {
                            None
                        };
                        progress.update(|s| {
                            if let Some(backlog) = backlog {
                                s.backlog = backlog.map(|b| b.changes);
                                s.backlog_at_least = backlog.is_some_and(|b| b.at_least);
                            }
                            if matches!(
                                s.state,
                                RealtimeState::Starting
                                    | RealtimeState::WaitingForSource
                                    | RealtimeState::WaitingForStore
                            ) {
                                s.running();
                            }
                        });
                    }
                    Err(ChangelogError::Ldap(e)) => failure = Some(LaneEnd::SourceLost(e)),
                    Err(e) => return Err(e.into()),
                }
            }

            // Collect what the lanes finished: at once while there is more to read, else until
            // a change finishes or the polling interval passes.
            if failure.is_none() {
                let room = at.checkpoint.in_flight() < read_ahead;
                let polling = Duration::from_millis(plan.pipe.polling_interval_ms);
                let wait = if more && room {
                    Duration::ZERO
                } else if look_again > 0 {
                    look_again -= 1;
                    polling.min(LOOK_AGAIN_AFTER)
                } else {
                    polling
                };
                let pushes = reader.pushes();
                progress.update(|s| s.pushed = pushes);
                let first = tokio::select! {
                    finished = tokio::time::timeout(wait, lanes.next()) => finished.ok(),
                    () = reader.pushed(), if room => {
                        look_again = 3;
                        None
                    }
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
                        Ok(()) => at.checkpoint.done(finished.seq),
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
            at.advance();
            // The checkpoint is saved when all read is done, else at most once a second; the
            // status with it, and at most once a second while polling.
            let due = last_saved.elapsed() > Duration::from_secs(1);
            let idle = at.checkpoint.in_flight() == 0;
            if idle || due {
                // What the checkpoint passes is in the log of changes first.
                lanes.flush_log().await?;
            }
            let moved = (idle || due) && self.save_reached(&mut at).await?;
            progress.update(|s| s.queue = at.checkpoint.in_flight() as u64);
            if moved || due {
                progress.sample();
                save_status(store, pipe, progress).await;
                last_saved = Instant::now();
            }
            match failure {
                None => {}
                Some(LaneEnd::Stopped) => return self.wind_down(&mut lanes, &mut at).await,
                Some(LaneEnd::Store(e)) => return Err(e.into()),
                Some(LaneEnd::SourceLost(e)) => {
                    // Start again from the checkpoint: what was done after it is applied again,
                    // which changes nothing (every change compares the entry with its resource).
                    self.settle(&mut lanes, &mut at).await?;
                    at.checkpoint.clear();
                    read_from = at.saved.clone();
                    source = None;
                    progress.update(|s| {
                        s.problem(RealtimeState::WaitingForSource, format!("source: {e}"))
                    });
                    if pause(stop, source_backoff).await {
                        return Ok(());
                    }
                    source_backoff = (source_backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// Saves the checkpoint reached, if it moved; whether it did.
    async fn save_reached(&self, at: &mut Position) -> Result<bool, RealtimeError> {
        let Some(cursor) = at.reached.take() else {
            return Ok(false);
        };
        let pipe = self.plan.pipe.name.as_str();
        save_cursor(self.store, pipe, &cursor, self.holder).await?;
        self.progress
            .update(|s| s.cursor = Some(cursor.to_string()));
        at.saved = cursor;
        Ok(true)
    }

    /// Closes the lanes and saves the checkpoint with what they finished meanwhile, so that
    /// work done before a stop is not done again.
    async fn settle(&self, lanes: &mut Lanes, at: &mut Position) -> Result<(), RealtimeError> {
        for seq in lanes.drain().await {
            at.checkpoint.done(seq);
        }
        at.advance();
        self.save_reached(at).await?;
        Ok(())
    }

    /// Ends the run when asked to stop. A lease lost meanwhile is why it was asked: the
    /// instance that holds it now goes on from the last checkpoint this one saved.
    async fn wind_down(&self, lanes: &mut Lanes, at: &mut Position) -> Result<(), RealtimeError> {
        match self.settle(lanes, at).await {
            Ok(()) | Err(RealtimeError::LeaseLost(_)) => {}
            Err(e) => return Err(e),
        }
        lanes.flush_log().await?;
        self.progress.update(|s| s.queue = 0);
        Ok(())
    }
}

impl Position {
    fn advance(&mut self) {
        if let Some(cursor) = self.checkpoint.advance() {
            self.reached = Some(cursor);
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
