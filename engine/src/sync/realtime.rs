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

use super::apply::{
    EntryOutcome, EntryResult, Fail, Found, ResourceRef, create, find_by_search, modify,
};
use super::plan::{PipePlan, PlanError};
use crate::changelog::{ChangeKind, ChangeRecord, ChangelogError, read_changes};
use crate::config::Config;
use crate::dn::Dn;
use crate::ldap::{LdapConnection, LdapError, RootDse, connect};
use crate::mapping::{LdapEntry, Phase};
use crate::scim::ScimError;
use crate::startpoint::ChangelogCursor;
use crate::store::{Correlation, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RealtimeCounts {
    /// Changelog records handled.
    pub changes: u64,
    pub created: u64,
    pub modified: u64,
    pub deleted: u64,
    pub in_sync: u64,
    pub out_of_scope: u64,
    /// The class does not synchronise that operation.
    pub skipped: u64,
    /// Nothing to do (e.g. the entry was gone again, or had no resource to delete).
    pub dropped: u64,
    pub rejected: u64,
    /// Attempts that found the destination unavailable.
    pub retries: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RealtimeState {
    Starting,
    Running,
    WaitingForDestination,
    WaitingForSource,
    Stopped,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RealtimeStatus {
    pub pipe: String,
    pub state: RealtimeState,
    pub counts: RealtimeCounts,
    /// Where the changelog has been applied up to.
    pub cursor: Option<String>,
    /// Changes in the source changelog not applied yet (draft-good changelogs only).
    pub backlog: Option<u64>,
    /// Changes of the current batch still being applied.
    pub queue: u64,
    pub ops_per_second: f64,
    pub last_error: Option<String>,
    /// The `scimsync serve` instance running it (when run under a lease).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

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
                EntryOutcome::Dropped { .. } => c.dropped += 1,
                EntryOutcome::Rejected { rejection } | EntryOutcome::Unavailable { rejection } => {
                    c.rejected += 1;
                    s.last_error = Some(format!("{}: {}", rejection.dn, rejection.reason));
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
        Err(e) => {
            s.state = RealtimeState::Failed;
            s.last_error = Some(e.to_string());
        }
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
    let workers = plan.pipe.worker_count.clamp(1, 64) as usize;
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
                    progress.update(|s| {
                        s.state = RealtimeState::WaitingForSource;
                        s.last_error = Some(e.to_string());
                    });
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
                s.state = RealtimeState::Running;
            }
        });
        let Some(last) = batch.last().map(|r| r.cursor.clone()) else {
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
        progress.update(|s| s.queue = batch.len() as u64);
        match apply_batch(&plan, store, reader, &attrs, batch, workers, stop, progress).await? {
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
                    s.state = RealtimeState::Running;
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
    progress.update(|s| {
        s.state = RealtimeState::WaitingForSource;
        s.last_error = Some(format!("source: {e}"));
    });
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
            for record in records {
                let mut backoff = Duration::from_millis(500);
                loop {
                    let result = match apply_change(&plan, &store, &ldap, &attrs, &record).await {
                        Ok(result) => result,
                        Err(ApplyError::Source(e)) => return Ok(BatchEnd::SourceLost(e)),
                        Err(ApplyError::Store(e)) => return Err(RealtimeError::Store(e)),
                    };
                    if let EntryOutcome::Unavailable { rejection } = &result.outcome {
                        progress.update(|s| {
                            s.state = RealtimeState::WaitingForDestination;
                            s.counts.retries += 1;
                            s.last_error = Some(rejection.reason.clone());
                        });
                        if pause(&mut stop, backoff).await {
                            return Ok(BatchEnd::Stopped);
                        }
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        continue;
                    }
                    record_result(&store, &plan, &record, &result)
                        .await
                        .map_err(RealtimeError::Store)?;
                    progress.count(&result.outcome);
                    progress.update(|s| {
                        if s.state == RealtimeState::WaitingForDestination {
                            s.state = RealtimeState::Running;
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

pub(crate) enum ApplyError {
    Source(LdapError),
    Store(StoreError),
}

impl From<ApplyError> for super::retry::RetryError {
    fn from(e: ApplyError) -> Self {
        match e {
            ApplyError::Source(e) => super::retry::RetryError::Ldap(e),
            ApplyError::Store(e) => super::retry::RetryError::Store(e),
        }
    }
}

/// Applies one record and records its result (rejections, correlations).
pub(crate) async fn apply_and_record(
    plan: &PipePlan,
    store: &Store,
    ldap: &LdapConnection,
    attrs: &[String],
    record: &ChangeRecord,
) -> Result<EntryResult, ApplyError> {
    let result = apply_change(plan, store, ldap, attrs, record).await?;
    record_result(store, plan, record, &result)
        .await
        .map_err(ApplyError::Store)?;
    Ok(result)
}

/// Keeps what a realtime result teaches: rejections (resolving older ones on success) and
/// correlations between entries and resources.
async fn record_result(
    store: &Store,
    plan: &PipePlan,
    record: &ChangeRecord,
    result: &EntryResult,
) -> Result<(), StoreError> {
    let pipe = &plan.pipe.name;
    match &result.outcome {
        EntryOutcome::Rejected { rejection } | EntryOutcome::Unavailable { rejection } => {
            let mut rejection = (**rejection).clone();
            rejection.source = serde_json::json!({"change": record.raw, "entry": rejection.source});
            store.record_rejection(&rejection).await
        }
        EntryOutcome::Deleted => match &record.entry_id {
            Some(id) => store.forget_resource(pipe, id).await,
            None => Ok(()),
        },
        EntryOutcome::Created { .. } | EntryOutcome::Modified { .. } | EntryOutcome::InSync => {
            store.resolve_rejection(pipe, &record.dn).await?;
            store.resolve_rejection(pipe, record.current_dn()).await?;
            match (&result.resource, &record.entry_id, &result.class) {
                (Some(resource), Some(entry_id), Some(class)) => {
                    let c = Correlation {
                        entry_id: entry_id.clone(),
                        dn: record.current_dn().to_owned(),
                        endpoint: resource.endpoint.clone(),
                        scim_id: resource.id.clone(),
                        class: class.clone(),
                    };
                    store.remember_resource(pipe, &c).await
                }
                _ => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// An entry made from a DN's RDN values (what is left to identify a deleted or renamed entry).
fn entry_from_rdn(dn: &str) -> LdapEntry {
    let mut entry = LdapEntry::new(dn);
    if let Some(rdn) = Dn::parse(dn).ok().and_then(|d| d.rdns.into_iter().next()) {
        for ava in rdn.0 {
            entry.attributes.insert(ava.attr, vec![ava.value]);
        }
    }
    entry
}

fn is_not_found(e: &ScimError) -> bool {
    e.http_failure().is_some_and(|f| f.status == 404)
}

async fn fetch_entry(
    ldap: &LdapConnection,
    dn: &str,
    attrs: &[String],
) -> Result<Option<LdapEntry>, LdapError> {
    let mut ldap = ldap.clone();
    ldap.fetch_entry(dn, attrs).await
}

/// Applies one changelog record.
async fn apply_change(
    plan: &PipePlan,
    store: &Store,
    ldap: &LdapConnection,
    attrs: &[String],
    record: &ChangeRecord,
) -> Result<EntryResult, ApplyError> {
    let pipe = &plan.pipe.name;
    let result =
        |class: Option<String>, outcome: EntryOutcome, resource: Option<ResourceRef>| EntryResult {
            dn: record.current_dn().to_owned(),
            class,
            outcome,
            resource,
        };
    let correlation = match &record.entry_id {
        Some(id) => store
            .find_resource(pipe, id)
            .await
            .map_err(ApplyError::Store)?,
        None => None,
    };

    if record.kind == ChangeKind::Delete {
        let class = correlation
            .as_ref()
            .and_then(|c| plan.class_named(&c.class))
            .or_else(|| plan.classify_by_dn(&record.dn));
        let Some(class) = class else {
            return Ok(result(None, EntryOutcome::OutOfScope, None));
        };
        let class_name = Some(class.class.name.clone());
        if !class.class.synchronize_deletes {
            let reason = format!(
                "sync class \"{}\" does not synchronize deletes",
                class.class.name
            );
            return Ok(result(class_name, EntryOutcome::Skipped { reason }, None));
        }
        let Some(mapper) = &class.mapper else {
            let reason = format!(
                "sync class \"{}\" does not synchronize its entries",
                class.class.name
            );
            return Ok(result(class_name, EntryOutcome::Skipped { reason }, None));
        };
        let gone = entry_from_rdn(&record.dn);
        let fail = Fail {
            pipe,
            phase: Phase::Realtime,
            entry: &gone,
        };
        let target = match &correlation {
            Some(c) => Some(ResourceRef {
                endpoint: c.endpoint.clone(),
                id: c.scim_id.clone(),
            }),
            None => match find_by_search(plan, mapper, &gone, &fail).await {
                Ok(Found::One(current)) => {
                    current
                        .get("id")
                        .and_then(|v| v.as_str())
                        .map(|id| ResourceRef {
                            endpoint: mapper.endpoint.endpoint_path.clone(),
                            id: id.to_owned(),
                        })
                }
                Ok(Found::None) => None,
                Err(f) => return Ok(result(class_name, f.into_outcome(), None)),
            },
        };
        let Some(target) = target else {
            let reason = "no SCIM resource was found for the deleted entry".to_owned();
            return Ok(result(class_name, EntryOutcome::Dropped { reason }, None));
        };
        return Ok(
            match plan.client.delete(&target.endpoint, &target.id).await {
                Ok(()) => result(class_name, EntryOutcome::Deleted, Some(target)),
                Err(e) if is_not_found(&e) => {
                    result(class_name, EntryOutcome::Deleted, Some(target))
                }
                Err(e) => result(
                    class_name,
                    fail.scim("delete", &e, None).into_outcome(),
                    Some(target),
                ),
            },
        );
    }

    // Add, modify, rename, move: the entry as it is now decides, not the record's values.
    let Some(entry) = fetch_entry(ldap, record.current_dn(), attrs)
        .await
        .map_err(ApplyError::Source)?
    else {
        let reason =
            "the entry is no longer in the source (a later change removes or moves it)".to_owned();
        return Ok(result(None, EntryOutcome::Dropped { reason }, None));
    };
    let mut entry = entry;
    let mut touched = record.attributes();
    // The clear-text password the change carries stands in for the stored hash.
    let passwords = record.passwords.reveal(plan.password_key.as_ref());
    if let Ok(clear) = &passwords
        && !clear.is_empty()
    {
        for attr in ["userpassword", "unhashed#user#password"] {
            entry.attributes.insert(attr.to_owned(), clear.clone());
            if !touched.iter().any(|t| t == attr) {
                touched.push(attr.to_owned());
            }
        }
    }
    let Some(class) = plan.classify(&entry) else {
        return Ok(result(None, EntryOutcome::OutOfScope, None));
    };
    let class_name = Some(class.class.name.clone());
    let Some(mapper) = &class.mapper else {
        let reason = format!(
            "sync class \"{}\" does not synchronize its entries",
            class.class.name
        );
        return Ok(result(class_name, EntryOutcome::Skipped { reason }, None));
    };
    let fail = Fail {
        pipe,
        phase: Phase::Realtime,
        entry: &entry,
    };
    if let Err(e) = passwords {
        let outcome = fail
            .rejected("decrypt-password", e.to_string())
            .into_outcome();
        return Ok(result(class_name, outcome, None));
    }
    let endpoint = mapper.endpoint.endpoint_path.as_str();
    let outcome = async {
        // Known resource first (survives renames), then the old identity of a renamed entry,
        // then the entry's identity now.
        let mut current = None;
        if let Some(c) = correlation.as_ref().filter(|c| c.endpoint == endpoint) {
            match plan.client.get_resource(endpoint, &c.scim_id).await {
                Ok(resource) => current = Some(resource),
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(fail.scim("search", &e, None)),
            }
        }
        if current.is_none()
            && let ChangeKind::ModDn { .. } = record.kind
        {
            let mut old = entry.clone();
            old.attributes.extend(entry_from_rdn(&record.dn).attributes);
            if let Found::One(found) = find_by_search(plan, mapper, &old, &fail).await? {
                current = Some(found);
            }
        }
        if current.is_none()
            && let Found::One(found) = find_by_search(plan, mapper, &entry, &fail).await?
        {
            current = Some(found);
        }
        match current {
            Some(current) => {
                modify(
                    plan, class, mapper, &entry, &current, &touched, false, &fail,
                )
                .await
            }
            None => create(plan, class, mapper, &entry, false, &fail).await,
        }
    }
    .await;
    let (outcome, resource) = outcome.unwrap_or_else(|f| (f.into_outcome(), None));
    Ok(result(class_name, outcome, resource))
}
