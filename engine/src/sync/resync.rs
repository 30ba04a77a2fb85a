//! Resync (setup step 10): every in-scope entry of the source, compared with the SCIM
//! destination and created or modified as needed.
//!
//! One reader streams entries page by page; each is applied in a task holding one of the
//! pipe's workers (`workers`), and reading waits while all are busy. Memory therefore stays flat however large the directory is: only counters grow,
//! rejections go straight to the store (not in a dry run), and details go to the observer.
//!
//! Endpoints that others reference are written first: the source is read once per level of
//! the endpoint order (users, then groups), each pass applying only its level's entries, so a
//! group's members already exist when it is written. Within a level that references itself
//! (nested groups, managers), an entry whose referenced entries of that level are not written
//! yet is deferred — only its DN is kept — and read again after the pass, round after round
//! while rounds make progress; what still waits then (a cycle, a rejected target) is written
//! with those references pending.

use super::apply::apply_entry;
use super::change::{ApplyError, ChangeContext};
use super::change_log::ChangeLogBatch;
use super::correlation_batch::CorrelationBatch;
use super::entry_ids::{self, Rekeying, SettleError};
use super::listed::Listings;
use super::outcome::{EntryOutcome, EntryResult};
use super::plan::{PipePlan, PlanError};
use super::record::{Origin, record_result};
use super::references::Resolver;
use super::workers::Workers;
use crate::config::Config;
use crate::ldap::{LdapConnection, LdapError};
use crate::ldap_filter::Filter;
use crate::mapping::references::ReferenceReport;
use crate::mapping::{LdapEntry, Phase};
use crate::metrics::{self, PipeChanges};
use crate::rejection::{FailedStep, Rejection};
use crate::report::{ResyncCounts, ResyncStatus};
use crate::scim::WritePath;
use crate::store::{Store, StoreError};
use reconcile::SeenEntries;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Default)]
pub struct ResyncOptions {
    /// Report what would change; change nothing.
    pub dry_run: bool,
    /// Only entries that also match this LDAP filter.
    pub filter: Option<String>,
    /// Only these DNs (e.g. a failed-DNs file fed back in) instead of the source's base DNs.
    pub dns: Option<Vec<String>>,
    /// Overrides the pipe's max-ops-per-second.
    pub rate_per_second: Option<u32>,
    /// Overrides the pipe's worker count.
    pub threads: Option<u32>,
    /// Reconcile: afterwards, remove (or deactivate) the resources scimsync manages whose
    /// entries it did not meet in scope. Only with the whole source (no filter, no DNs).
    pub delete_missing: bool,
}

impl ResyncOptions {
    /// The options that change what a resync does, in one line (for the audit log).
    pub fn summary(&self) -> String {
        format!(
            "dry run: {}; rate: {}; filter: {}; delete missing: {}",
            self.dry_run,
            self.rate_per_second
                .map_or("pipe's".to_owned(), |r| format!("{r}/s")),
            self.filter.as_deref().unwrap_or("none"),
            self.delete_missing
        )
    }
}

/// Live counters, shared between the run and whoever watches it.
#[derive(Clone, Default)]
pub struct ResyncProgress(Arc<Counters>);

#[derive(Default)]
struct Counters {
    retrieved: AtomicU64,
    created: AtomicU64,
    modified: AtomicU64,
    in_sync: AtomicU64,
    out_of_scope: AtomicU64,
    skipped: AtomicU64,
    rejected: AtomicU64,
    deleted: AtomicU64,
    deactivated: AtomicU64,
    held: AtomicU64,
    expected: AtomicU64,
    finished: AtomicBool,
    members_added: AtomicU64,
    members_removed: AtomicU64,
    references_out_of_scope: AtomicU64,
    references_pending: AtomicU64,
    found_by_listing: AtomicU64,
    found_by_search: AtomicU64,
    bulk: AtomicBool,
}

impl ResyncProgress {
    pub fn snapshot(&self) -> ResyncCounts {
        let c = &self.0;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ResyncCounts {
            retrieved: get(&c.retrieved),
            created: get(&c.created),
            modified: get(&c.modified),
            in_sync: get(&c.in_sync),
            out_of_scope: get(&c.out_of_scope),
            skipped: get(&c.skipped),
            rejected: get(&c.rejected),
            deleted: get(&c.deleted),
            deactivated: get(&c.deactivated),
            held: get(&c.held),
            expected: get(&c.expected),
            finished: c.finished.load(Ordering::Relaxed),
            members_added: get(&c.members_added),
            members_removed: get(&c.members_removed),
            references_out_of_scope: get(&c.references_out_of_scope),
            references_pending: get(&c.references_pending),
            found_by_listing: get(&c.found_by_listing),
            found_by_search: get(&c.found_by_search),
            bulk: c.bulk.load(Ordering::Relaxed),
        }
    }

    /// Members gained or lost and references dropped or left pending.
    fn count_references(&self, report: &ReferenceReport) {
        let c = &self.0;
        c.members_added
            .fetch_add(report.members_added, Ordering::Relaxed);
        c.members_removed
            .fetch_add(report.members_removed, Ordering::Relaxed);
        c.references_out_of_scope
            .fetch_add(report.out_of_scope, Ordering::Relaxed);
        c.references_pending
            .fetch_add(report.pending.len() as u64, Ordering::Relaxed);
    }

    fn count(&self, outcome: &EntryOutcome) {
        let c = &self.0;
        let counter = match outcome {
            EntryOutcome::Created { .. } => &c.created,
            EntryOutcome::Modified { .. } => &c.modified,
            EntryOutcome::InSync => &c.in_sync,
            EntryOutcome::OutOfScope => &c.out_of_scope,
            EntryOutcome::Deleted => &c.deleted,
            EntryOutcome::Deactivated => &c.deactivated,
            EntryOutcome::Held { .. } => &c.held,
            EntryOutcome::Skipped { .. }
            | EntryOutcome::Dropped { .. }
            | EntryOutcome::Deferred => &c.skipped,
            EntryOutcome::Rejected { .. } | EntryOutcome::Unavailable { .. } => &c.rejected,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Receives each entry's result as it is known (printing, failed-DNs files, …).
pub trait ResyncObserver: Send + Sync {
    fn entry(&self, result: &EntryResult);
}

impl ResyncObserver for () {
    fn entry(&self, _: &EntryResult) {}
}

#[derive(Debug, thiserror::Error)]
pub enum ResyncError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("reading the source: {0}")]
    Ldap(#[from] LdapError),
    #[error("recording a rejected operation: {0}")]
    Store(#[from] StoreError),
    #[error("a resync worker stopped: {0}")]
    Worker(String),
    #[error("--filter \"{filter}\" is not a valid LDAP filter: {message}")]
    Filter { filter: String, message: String },
    #[error(
        "--delete-missing needs a resync of the whole source: it cannot be combined with a filter or a list of DNs"
    )]
    DeleteMissingNeedsWholeSource,
}

impl From<SettleError> for ResyncError {
    fn from(e: SettleError) -> Self {
        match e {
            SettleError::Source(e) => ResyncError::Ldap(e),
            SettleError::Store(e) => ResyncError::Store(e),
        }
    }
}

/// Keeps what a result teaches: rejections, resolved rejections, which resource the entry is
/// synchronised to (so later deletes, renames and references find it) and the references it
/// left pending; then applies the entries that were waiting for it.
async fn keep(
    run: &Run,
    pass: &Pass,
    result: &EntryResult,
) -> Result<ReferenceReport, ResyncError> {
    let store = &run.store;
    let origin = Origin {
        open_rejections: Some(&run.previously_rejected),
        batch: pass.batch_correlations.then_some(&run.correlations),
        ..Origin::default()
    };
    record_result(store, &run.plan.pipe.name, result, origin).await?;
    let change = ChangeContext {
        plan: &run.plan,
        store,
        entries: &run.lookup,
        attrs: &run.attrs,
        phase: Phase::Resync,
        limit_deletes: true,
    };
    change.apply_waiting(result).await.map_err(|e| match e {
        ApplyError::Source(e) => ResyncError::Ldap(e),
        ApplyError::Store(e) => ResyncError::Store(e),
    })
}

/// Runs a resync of `pipe` and returns the final counts.
pub async fn run_resync(
    store: &Store,
    config: &Config,
    pipe: &str,
    options: &ResyncOptions,
    progress: &ResyncProgress,
    observer: Arc<dyn ResyncObserver>,
) -> Result<ResyncCounts, ResyncError> {
    let started_at = chrono::Utc::now();
    let result = match PipePlan::build(config, pipe, store.cipher(), options.rate_per_second) {
        Ok(plan) => resync(store, plan, options, progress, observer).await,
        Err(e) => Err(e.into()),
    };
    let known = config.sync_pipes.iter().any(|p| p.name == pipe);
    finish(store, pipe, known, options, progress, started_at, result).await
}

/// [`run_resync`] with a plan built already (e.g. with another destination: the benchmark's
/// zero-cost one).
pub async fn run_resync_planned(
    store: &Store,
    plan: PipePlan,
    options: &ResyncOptions,
    progress: &ResyncProgress,
    observer: Arc<dyn ResyncObserver>,
) -> Result<ResyncCounts, ResyncError> {
    let started_at = chrono::Utc::now();
    let pipe = plan.pipe.name.clone();
    let result = resync(store, plan, options, progress, observer).await;
    finish(store, &pipe, true, options, progress, started_at, result).await
}

/// Marks the run finished and records it (for a pipe that exists); its counts.
async fn finish(
    store: &Store,
    pipe: &str,
    known: bool,
    options: &ResyncOptions,
    progress: &ResyncProgress,
    started_at: chrono::DateTime<chrono::Utc>,
    result: Result<(), ResyncError>,
) -> Result<ResyncCounts, ResyncError> {
    progress.0.finished.store(true, Ordering::Relaxed);
    let run = ResyncStatus {
        pipe: pipe.to_owned(),
        running: false,
        dry_run: options.dry_run,
        started_at,
        finished_at: Some(chrono::Utc::now()),
        counts: progress.snapshot(),
        error: result.as_ref().err().map(ToString::to_string),
    };
    if known {
        store.record_resync_run(&run).await?;
    }
    result.map(|()| run.counts)
}

/// What every pass of one resync shares.
struct Run {
    store: Store,
    plan: Arc<PipePlan>,
    /// Reads referenced and waiting entries while the reader streams.
    lookup: LdapConnection,
    attrs: Vec<String>,
    filter: String,
    workers: Workers,
    dry_run: bool,
    /// Entries that failed before and now synchronize get their rejection resolved.
    previously_rejected: HashSet<String>,
    progress: ResyncProgress,
    observer: Arc<dyn ResyncObserver>,
    /// Each endpoint's listing, once listed (see `listed`), and how entries were found.
    listings: Listings,
    may_list: bool,
    /// Correlations of passes that keep them in batches.
    correlations: CorrelationBatch,
    /// The process's count of the pipe's changes (metrics).
    changes: Arc<PipeChanges>,
    /// The log of changes, kept in batches.
    log: ChangeLogBatch,
    /// With --delete-missing: the entries met in scope.
    seen: Option<SeenEntries>,
}

impl Run {
    /// Counts an entry's result in the run's progress and, unless nothing is changed (a dry
    /// run), in the process's metrics and the log of changes.
    async fn count(&self, result: &EntryResult, took: Duration) -> Result<(), StoreError> {
        self.progress.count(&result.outcome);
        if self.dry_run {
            return Ok(());
        }
        self.changes.count(Phase::Resync, result.outcome.kind());
        let pipe = &self.plan.pipe.name;
        self.log
            .keep(&self.store, pipe, Phase::Resync, result, took)
            .await
    }
}

/// One read of the source: which entries it applies and whether they may wait.
#[derive(Clone)]
struct Pass {
    /// The endpoint mappings whose entries this pass writes.
    level: Vec<String>,
    /// The first pass also accounts for entries no endpoint takes (out of scope, skipped)
    /// and for DNs that are not in the source.
    first: bool,
    /// Entries waiting for entries of their own level are deferred (else written with those
    /// references pending).
    may_defer: bool,
    /// No entry of the level references another: correlations are written in batches.
    batch_correlations: bool,
}

async fn resync(
    store: &Store,
    mut plan: PipePlan,
    options: &ResyncOptions,
    progress: &ResyncProgress,
    observer: Arc<dyn ResyncObserver>,
) -> Result<(), ResyncError> {
    if options.delete_missing && (options.filter.is_some() || options.dns.is_some()) {
        return Err(ResyncError::DeleteMissingNeedsWholeSource);
    }
    let filter = match &options.filter {
        Some(f) => {
            let parsed = Filter::parse(f).map_err(|e| ResyncError::Filter {
                filter: f.clone(),
                message: e.to_string(),
            })?;
            format!("(&(objectClass=*){parsed})")
        }
        None => "(objectClass=*)".to_owned(),
    };
    // A dry run changes nothing: not even how the store keys its correlations.
    let rekeying = Rekeying::unless(options.dry_run);
    let mut reader = entry_ids::connect_settled(&mut plan, store, rekeying).await?;
    let plan = Arc::new(plan);
    let pipe = plan.pipe.name.as_str();

    // Targets: the source's base DNs (subtree) or the given DNs (each read alone).
    let targets: Vec<(String, ldap3::Scope)> = match &options.dns {
        Some(dns) => dns
            .iter()
            .map(|d| (d.clone(), ldap3::Scope::Base))
            .collect(),
        None => plan
            .source
            .base_dns
            .iter()
            .map(|b| (b.clone(), ldap3::Scope::Subtree))
            .collect(),
    };
    if options.dns.is_none() {
        // A quick count first (no attributes), so progress can show how far along it is.
        let mut expected = 0;
        for (base, scope) in &targets {
            let mut count = reader
                .search_pages(
                    base,
                    *scope,
                    &filter,
                    vec!["1.1".into()],
                    plan.source.batch_size,
                )
                .await?;
            while count.next().await?.is_some() {}
            expected += count.count();
        }
        progress.0.expected.store(expected, Ordering::Relaxed);
    } else {
        progress
            .0
            .expected
            .store(targets.len() as u64, Ordering::Relaxed);
    }
    let writes = plan.client.write_path().await;
    tracing::info!("resync of \"{pipe}\": writes go in {writes}");
    progress
        .0
        .bulk
        .store(matches!(writes, WritePath::Bulk(_)), Ordering::Relaxed);
    let run = Arc::new(Run {
        store: store.clone(),
        lookup: reader.clone(),
        attrs: plan.ldap_attributes(),
        plan: plan.clone(),
        filter,
        workers: Workers::of(&plan.pipe, options.threads).carrying(writes.writes_per_request()),
        dry_run: options.dry_run,
        previously_rejected: store.open_rejection_dns(pipe).await?,
        progress: progress.clone(),
        observer,
        listings: Listings::default(),
        correlations: CorrelationBatch::default(),
        changes: metrics::counters().pipe(pipe),
        log: ChangeLogBatch::default(),
        // Listing an endpoint pays off for the whole source, not for a few entries.
        may_list: options.dns.is_none() && options.filter.is_none(),
        seen: options.delete_missing.then(SeenEntries::default),
    });
    let started = Instant::now();
    let outcome = async {
        for (i, level) in plan.levels.iter().enumerate() {
            if run.may_list {
                let entries = progress.0.expected.load(Ordering::Relaxed);
                run.listings.list_level(&plan, level, entries).await;
            }
            let mut pass = Pass {
                level: level.clone(),
                first: i == 0,
                // A dry run writes nothing, so waiting would never end.
                may_defer: !options.dry_run,
                batch_correlations: !plan.references_within(level),
            };
            let mut deferred =
                run_pass(&run, &mut reader, &targets, &Arc::new(pass.clone())).await?;
            pass.first = false;
            while !deferred.is_empty() {
                let waiting = deferred.len();
                let again: Vec<(String, ldap3::Scope)> = deferred
                    .into_iter()
                    .map(|dn| (dn, ldap3::Scope::Base))
                    .collect();
                deferred = run_pass(&run, &mut reader, &again, &Arc::new(pass.clone())).await?;
                // No progress: what is left waits for entries that will not be written now.
                pass.may_defer = deferred.len() < waiting;
            }
        }
        // Only once every entry was met: a resync that stopped early has not seen them all.
        if run.seen.is_some() {
            reconcile::remove_missing(&run).await?;
            run.log.flush(&run.store).await?;
        }
        Ok::<(), ResyncError>(())
    }
    .await;
    let found = |n: &AtomicU64| n.load(Ordering::Relaxed);
    progress
        .0
        .found_by_listing
        .store(found(&run.listings.by_listing), Ordering::Relaxed);
    progress
        .0
        .found_by_search
        .store(found(&run.listings.by_search), Ordering::Relaxed);
    tracing::debug!("resync of \"{pipe}\" finished in {:?}", started.elapsed());
    reader.close().await;
    outcome
}

/// Reads `targets` and applies the entries of `pass`'s level, each in a task holding one of
/// the run's workers; returns the DNs deferred. Reading waits while every worker is busy, so
/// memory stays flat.
async fn run_pass(
    run: &Arc<Run>,
    reader: &mut LdapConnection,
    targets: &[(String, ldap3::Scope)],
    pass: &Arc<Pass>,
) -> Result<Vec<String>, ResyncError> {
    let plan = &run.plan;
    let deferred = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = tokio::task::JoinSet::new();
    let outcome = async {
        for (base, scope) in targets {
            let mut search = reader
                .search_pages(
                    base,
                    *scope,
                    &run.filter,
                    run.attrs.clone(),
                    plan.source.batch_size,
                )
                .await?;
            loop {
                let entry: LdapEntry = match search.next().await {
                    Ok(Some(entry)) => entry,
                    Ok(None) => break,
                    // A DN from an input file that is gone: recorded, and the run goes on.
                    Err(LdapError::NoSuchObject(dn)) if *scope == ldap3::Scope::Base => {
                        if pass.first {
                            missing_entry(run, dn).await?;
                        }
                        break;
                    }
                    Err(e) => return Err(ResyncError::from(e)),
                };
                let Some(class) = pass.takes(plan, &entry) else {
                    continue;
                };
                let worker = run.workers.acquire().await;
                // A worker that failed ends the pass as soon as it is seen.
                while let Some(joined) = tasks.try_join_next() {
                    worker_ended(joined)?;
                }
                let (run, pass, deferred) = (run.clone(), pass.clone(), deferred.clone());
                tasks.spawn(async move {
                    let _worker = worker;
                    resync_entry(&run, &pass, entry, class, &deferred).await
                });
            }
        }
        Ok::<(), ResyncError>(())
    }
    .await;
    // Whatever ended the reading, the entries in flight finish (they are counted and kept).
    let mut ended = outcome;
    while let Some(joined) = tasks.join_next().await {
        if let Err(e) = worker_ended(joined) {
            ended = ended.and(Err(e));
        }
    }
    // The next level's references, and whoever reads the store next, find them.
    let flushed = run.correlations.flush(&run.store, &plan.pipe.name).await;
    let flushed = flushed.and(run.log.flush(&run.store).await);
    ended?;
    flushed?;
    let deferred = std::mem::take(&mut *deferred.lock().expect("deferred list"));
    Ok(deferred)
}

fn worker_ended(
    joined: Result<Result<(), ResyncError>, tokio::task::JoinError>,
) -> Result<(), ResyncError> {
    joined.map_err(|e| ResyncError::Worker(e.to_string()))?
}

impl Pass {
    /// Whether `entry` is this pass's: its endpoint is of the pass's level; entries no
    /// endpoint takes are the first pass's, which counts them. If so, the position of the
    /// class that holds it (`None`: no class does).
    fn takes(&self, plan: &PipePlan, entry: &LdapEntry) -> Option<Option<usize>> {
        let class = plan.class_index(entry);
        let taken = match class.and_then(|i| plan.classes[i].mapper.as_ref()) {
            Some(mapper) => self.level.contains(&mapper.endpoint.name),
            None => self.first,
        };
        taken.then_some(class)
    }
}

/// Applies one entry of a pass, then counts and keeps what came of it.
async fn resync_entry(
    run: &Run,
    pass: &Pass,
    entry: LdapEntry,
    class: Option<usize>,
    deferred: &std::sync::Mutex<Vec<String>>,
) -> Result<(), ResyncError> {
    let started = Instant::now();
    let defer_within: &[String] = if pass.may_defer { &pass.level } else { &[] };
    let resolver = Resolver {
        plan: &run.plan,
        store: &run.store,
        entries: &run.lookup,
        attrs: &run.attrs,
        dry_run: run.dry_run,
        unwritten: defer_within,
    };
    let result = apply_entry(
        &run.plan,
        &resolver,
        &entry,
        class.map(|i| &run.plan.classes[i]),
        Phase::Resync,
        defer_within,
        &run.listings,
    )
    .await;
    if let (Some(seen), Some(i)) = (&run.seen, class)
        && run.plan.classes[i].mapper.is_some()
        && let Some(id) = &result.entry_id
    {
        seen.saw(id, result.resource.as_ref());
    }
    if matches!(result.outcome, EntryOutcome::Deferred) {
        deferred.lock().expect("deferred list").push(entry.dn);
        return Ok(());
    }
    run.progress.0.retrieved.fetch_add(1, Ordering::Relaxed);
    // A dry run changes nothing, the list of rejected operations included.
    if !run.dry_run {
        let unblocked = keep(run, pass, &result).await?;
        run.progress.count_references(&unblocked);
    }
    run.count(&result, started.elapsed()).await?;
    run.progress.count_references(&result.references);
    run.observer.entry(&result);
    Ok(())
}

#[path = "reconcile.rs"]
mod reconcile;

/// A DN from an input file that is not in the source: a rejection.
async fn missing_entry(run: &Run, dn: String) -> Result<(), ResyncError> {
    let missing = LdapEntry::new(dn.clone());
    let rejection = Rejection::new(
        &run.plan.pipe.name,
        Phase::Resync,
        &missing,
        FailedStep::Read,
        format!("\"{dn}\" is not in the source"),
    );
    if !run.dry_run {
        run.store.record_rejection(&rejection).await?;
    }
    let result = EntryResult::new(
        &dn,
        None,
        EntryOutcome::Rejected {
            rejection: Box::new(rejection),
        },
    );
    run.count(&result, Duration::ZERO).await?;
    run.observer.entry(&result);
    Ok(())
}
