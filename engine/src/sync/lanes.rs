//! Realtime changes in flight: one lane per entry, so the changes of an entry apply in
//! changelog order while other entries' changes — later batches' too — go past a slow one;
//! and the checkpoint, the cursor up to which every change read is done.

use super::change::{ApplyError, ChangeContext};
use super::change_log::ChangeLogBatch;
use super::outcome::EntryOutcome;
use super::pause::{MAX_BACKOFF, pause};
use super::plan::PipePlan;
use super::realtime_progress::RealtimeProgress;
use super::workers::Workers;
use crate::changelog::ChangeRecord;
use crate::ldap::LdapError;
use crate::mapping::Phase;
use crate::report::RealtimeState;
use crate::source::{ChangeSource, EntryReader};
use crate::startpoint::ChangelogCursor;
use crate::store::{Store, StoreError};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

/// The changes read and not yet done, in changelog order. A batch's end is a position of its
/// own (done at once), so the checkpoint reaches it once the batch's changes are done.
#[derive(Default)]
pub(crate) struct Checkpoint {
    positions: BTreeMap<u64, (ChangelogCursor, bool)>,
    next: u64,
}

impl Checkpoint {
    /// A change read (`done` false) or a batch end (`done` true); its sequence number.
    pub(crate) fn push(&mut self, cursor: ChangelogCursor, done: bool) -> u64 {
        self.next += 1;
        self.positions.insert(self.next, (cursor, done));
        self.next
    }

    pub(crate) fn done(&mut self, seq: u64) {
        if let Some(position) = self.positions.get_mut(&seq) {
            position.1 = true;
        }
    }

    /// Forgets the done positions before the oldest change not done; the cursor of the last
    /// one forgotten, which is where a restart may resume.
    pub(crate) fn advance(&mut self) -> Option<ChangelogCursor> {
        let mut reached = None;
        while let Some(entry) = self.positions.first_entry() {
            if !entry.get().1 {
                break;
            }
            reached = Some(entry.remove().0);
        }
        reached
    }

    /// Changes read and not done yet.
    pub(crate) fn in_flight(&self) -> usize {
        self.positions.values().filter(|(_, done)| !done).count()
    }

    pub(crate) fn clear(&mut self) {
        self.positions.clear();
    }
}

/// Why a lane stopped before its change was done.
pub(crate) enum LaneEnd {
    Stopped,
    SourceLost(LdapError),
    Store(StoreError),
}

/// A lane's task panicked: a defect, which ends the run.
pub(crate) struct LanePanicked(pub String);

/// A change a lane finished (`Ok`) or could not do.
pub(crate) struct Finished {
    pub seq: u64,
    key: String,
    pub end: Result<(), LaneEnd>,
}

/// What every lane works with.
pub(crate) struct LaneContext {
    pub plan: Arc<PipePlan>,
    pub store: Store,
    pub attrs: Vec<String>,
    pub stop: watch::Receiver<bool>,
    pub progress: RealtimeProgress,
    /// The log of changes, kept in batches.
    pub log: ChangeLogBatch,
}

/// The open lanes: an entry with changes in flight has one, fed in changelog order.
pub(crate) struct Lanes {
    context: Arc<LaneContext>,
    /// Entry key → the lane's queue and how many of its changes are not finished.
    open: HashMap<String, (mpsc::UnboundedSender<(u64, ChangeRecord)>, usize)>,
    finished_tx: mpsc::UnboundedSender<Finished>,
    finished_rx: mpsc::UnboundedReceiver<Finished>,
    tasks: JoinSet<()>,
    /// One per change being applied.
    workers: Workers,
    /// Set while draining: lanes take no further change.
    halt: watch::Sender<bool>,
}

/// Changes of one entry share a lane: same stable id, else same DN.
fn entry_key(record: &ChangeRecord) -> String {
    record
        .entry_id
        .clone()
        .unwrap_or_else(|| record.current_dn().to_ascii_lowercase())
}

impl Lanes {
    /// Writes the log of the changes done so far.
    pub(crate) async fn flush_log(&self) -> Result<(), StoreError> {
        self.context.log.flush(&self.context.store).await
    }

    pub(crate) fn new(context: LaneContext, workers: Workers) -> Lanes {
        let (finished_tx, finished_rx) = mpsc::unbounded_channel();
        Lanes {
            context: Arc::new(context),
            open: HashMap::new(),
            finished_tx,
            finished_rx,
            tasks: JoinSet::new(),
            workers,
            halt: watch::Sender::new(false),
        }
    }

    /// Queues a change behind the entry's earlier ones, opening its lane if it has none.
    pub(crate) fn dispatch(&mut self, seq: u64, record: ChangeRecord, source: &dyn ChangeSource) {
        let key = entry_key(&record);
        let mut change = (seq, record);
        if let Some((queue, count)) = self.open.get_mut(&key) {
            match queue.send(change) {
                Ok(()) => {
                    *count += 1;
                    return;
                }
                // The lane ended after a failure; the change gets a new one.
                Err(mpsc::error::SendError(back)) => change = back,
            }
        }
        let (queue, changes) = mpsc::unbounded_channel();
        queue.send(change).expect("the receiver is held below");
        self.open.insert(key.clone(), (queue, 1));
        self.tasks.spawn(run_lane(
            self.context.clone(),
            source.entries(),
            self.workers.clone(),
            self.halt.subscribe(),
            key,
            changes,
            self.finished_tx.clone(),
        ));
    }

    /// The next change a lane finished; waits while none has (forever when none is in flight).
    pub(crate) async fn next(&mut self) -> Result<Finished, LanePanicked> {
        loop {
            tokio::select! {
                Some(finished) = self.finished_rx.recv() => {
                    if let Some((_, count)) = self.open.get_mut(&finished.key) {
                        *count -= 1;
                        if *count == 0 {
                            // Its queue closes: the lane ends once idle.
                            self.open.remove(&finished.key);
                        }
                    }
                    return Ok(finished);
                }
                Some(joined) = self.tasks.join_next(), if !self.tasks.is_empty() => {
                    if let Err(e) = joined {
                        return Err(LanePanicked(e.to_string()));
                    }
                }
            }
        }
    }

    /// Closes every lane and waits for them; answers the changes done meanwhile (and not yet
    /// collected by [`Lanes::next`]), so the checkpoint can count them. A change still trying
    /// after a few seconds is cut off, as a crash would: applying it again later is harmless.
    pub(crate) async fn drain(&mut self) -> Vec<u64> {
        self.open.clear();
        self.halt.send_replace(true);
        let graceful = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(Duration::from_secs(5), graceful)
            .await
            .is_err()
        {
            self.tasks.abort_all();
            while self.tasks.join_next().await.is_some() {}
        }
        let mut done = Vec::new();
        while let Ok(finished) = self.finished_rx.try_recv() {
            if finished.end.is_ok() {
                done.push(finished.seq);
            }
        }
        self.halt.send_replace(false);
        done
    }
}

/// One entry's changes, in order. Each takes a worker while it is applied. A destination
/// outage pauses the change and tries it again; the lane ends with its queue or a failure.
async fn run_lane(
    context: Arc<LaneContext>,
    entries: Arc<dyn EntryReader>,
    workers: Workers,
    halt: watch::Receiver<bool>,
    key: String,
    mut changes: mpsc::UnboundedReceiver<(u64, ChangeRecord)>,
    finished: mpsc::UnboundedSender<Finished>,
) {
    let mut stop = context.stop.clone();
    while let Some((seq, record)) = changes.recv().await {
        let end = if *stop.borrow() || *halt.borrow() {
            Err(LaneEnd::Stopped)
        } else {
            let _worker = workers.acquire().await;
            apply_one(&context, &*entries, &record, &mut stop).await
        };
        let failed = end.is_err();
        let _ = finished.send(Finished {
            seq,
            key: key.clone(),
            end,
        });
        if failed {
            return;
        }
    }
}

async fn apply_one(
    context: &LaneContext,
    entries: &dyn EntryReader,
    record: &ChangeRecord,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), LaneEnd> {
    let change = ChangeContext {
        plan: &context.plan,
        store: &context.store,
        entries,
        attrs: &context.attrs,
        phase: Phase::Realtime,
        limit_deletes: true,
    };
    let progress = &context.progress;
    let ended = |e: ApplyError| match e {
        ApplyError::Source(e) => LaneEnd::SourceLost(e),
        ApplyError::Store(e) => LaneEnd::Store(e),
    };
    let mut backoff = Duration::from_millis(500);
    let started = std::time::Instant::now();
    loop {
        let mut result = change.apply(record).await.map_err(ended)?;
        if let EntryOutcome::Unavailable { throttled, .. } = result.outcome {
            // The operation has used the pipe's attempts. A destination that still answers
            // fails this entry alone: keep it as rejected and go on. Throttling, or a
            // destination that answers nothing, is an outage: pause, and try again.
            if !throttled && context.plan.client.answers().await {
                result.outcome = result.outcome.refused();
            } else {
                let reason = result.outcome.reason().unwrap_or_default().to_owned();
                progress.update(|s| {
                    s.counts.retries += 1;
                    s.problem(RealtimeState::WaitingForDestination, reason);
                });
                if pause(stop, backoff).await {
                    return Err(LaneEnd::Stopped);
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        }
        change.record(record, &result).await.map_err(ended)?;
        progress.count(&result.outcome, record.logged_at);
        context
            .log
            .keep(
                &context.store,
                &context.plan.pipe.name,
                Phase::Realtime,
                &result,
                started.elapsed(),
            )
            .await
            .map_err(LaneEnd::Store)?;
        progress.count_references(&result.references);
        // Entries waiting for this one's resource gain their references now.
        let report = change.apply_waiting(&result).await.map_err(ended)?;
        progress.count_references(&report);
        progress.update(|s| {
            if s.state == RealtimeState::WaitingForDestination {
                s.running();
            }
        });
        return Ok(());
    }
}

#[cfg(test)]
mod tests {
    use super::Checkpoint;
    use crate::startpoint::ChangelogCursor;

    fn at(n: u64) -> ChangelogCursor {
        ChangelogCursor::DraftGood {
            last_change_number: n,
        }
    }

    #[test]
    fn the_checkpoint_is_the_last_position_before_the_oldest_change_not_done() {
        let mut c = Checkpoint::default();
        let one = c.push(at(1), false);
        let two = c.push(at(2), false);
        c.push(at(2), true); // the first batch ends
        let three = c.push(at(3), false);
        c.push(at(3), true);
        assert_eq!(c.in_flight(), 3);
        // Later changes done first do not move it past the oldest one in flight.
        c.done(three);
        c.done(two);
        assert_eq!(c.advance(), None);
        c.done(one);
        assert_eq!(c.advance(), Some(at(3)));
        assert_eq!(c.in_flight(), 0);
        assert_eq!(c.advance(), None);
    }
}
