//! Resync (setup step 10): every in-scope entry of the source, compared with the SCIM
//! destination and created or modified as needed.
//!
//! One reader streams entries page by page into a bounded queue; `threads` workers apply
//! them. Memory therefore stays flat however large the directory is: only counters grow,
//! rejections go straight to the store (not in a dry run), and details go to the observer.

use super::apply::{EntryOutcome, EntryResult, apply_entry};
use super::plan::{PipePlan, PlanError};
use super::rejection::Rejection;
use crate::config::Config;
use crate::ldap::{LdapError, connect};
use crate::ldap_filter::Filter;
use crate::mapping::{LdapEntry, Phase};
use crate::store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

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
}

impl ResyncOptions {
    /// The options that change what a resync does, in one line (for the audit log).
    pub fn summary(&self) -> String {
        format!(
            "dry run: {}; rate: {}; filter: {}",
            self.dry_run,
            self.rate_per_second
                .map_or("pipe's".to_owned(), |r| format!("{r}/s")),
            self.filter.as_deref().unwrap_or("none")
        )
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ResyncCounts {
    /// Entries read from the source.
    pub retrieved: u64,
    pub created: u64,
    pub modified: u64,
    pub in_sync: u64,
    pub out_of_scope: u64,
    /// In scope, but the class does not synchronise that operation.
    pub skipped: u64,
    pub rejected: u64,
    /// Entries expected (from a count before the run), for progress.
    pub expected: u64,
    pub finished: bool,
}

impl ResyncCounts {
    pub fn processed(&self) -> u64 {
        self.created
            + self.modified
            + self.in_sync
            + self.out_of_scope
            + self.skipped
            + self.rejected
    }
}

/// A resync as reported to admins: running or finished, with its counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResyncStatus {
    pub pipe: String,
    pub running: bool,
    pub dry_run: bool,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    pub counts: ResyncCounts,
    /// Why the resync stopped early, if it did.
    pub error: Option<String>,
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
    expected: AtomicU64,
    finished: AtomicBool,
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
            expected: get(&c.expected),
            finished: c.finished.load(Ordering::Relaxed),
        }
    }

    fn count(&self, outcome: &EntryOutcome) {
        let c = &self.0;
        let counter = match outcome {
            EntryOutcome::Created { .. } => &c.created,
            EntryOutcome::Modified { .. } => &c.modified,
            EntryOutcome::InSync => &c.in_sync,
            EntryOutcome::OutOfScope => &c.out_of_scope,
            EntryOutcome::Skipped { .. } | EntryOutcome::Dropped { .. } | EntryOutcome::Deleted => {
                &c.skipped
            }
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
}

/// Keeps what a result teaches: rejections, resolved rejections, and which resource the
/// entry is synchronised to (so later deletes and renames find it).
async fn record_result(
    store: &Store,
    plan: &PipePlan,
    entry: &LdapEntry,
    result: &EntryResult,
    previously_rejected: &std::collections::HashSet<String>,
) -> Result<(), ResyncError> {
    let pipe = &plan.pipe.name;
    match &result.outcome {
        EntryOutcome::Rejected { rejection } | EntryOutcome::Unavailable { rejection } => {
            store.record_rejection(rejection).await?
        }
        EntryOutcome::Created { .. } | EntryOutcome::Modified { .. } | EntryOutcome::InSync => {
            if previously_rejected.contains(&result.dn) {
                store.resolve_rejection(pipe, &result.dn).await?;
            }
            if let (Some(resource), Some(entry_id), Some(class)) =
                (&result.resource, entry.entry_id(), &result.class)
            {
                let correlation = crate::store::Correlation {
                    entry_id: entry_id.to_owned(),
                    dn: entry.dn.clone(),
                    endpoint: resource.endpoint.clone(),
                    scim_id: resource.id.clone(),
                    class: class.clone(),
                };
                store.remember_resource(pipe, &correlation).await?;
            }
        }
        _ => {}
    }
    Ok(())
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
    let result = resync(store, config, pipe, options, progress, observer).await;
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
    if config.sync_pipes.iter().any(|p| p.name == pipe) {
        store.record_resync_run(&run).await?;
    }
    result.map(|()| run.counts)
}

async fn resync(
    store: &Store,
    config: &Config,
    pipe: &str,
    options: &ResyncOptions,
    progress: &ResyncProgress,
    observer: Arc<dyn ResyncObserver>,
) -> Result<(), ResyncError> {
    let plan = Arc::new(PipePlan::build(
        config,
        pipe,
        store.cipher(),
        options.rate_per_second,
    )?);
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
    let attrs = plan.ldap_attributes();
    let threads = options
        .threads
        .unwrap_or(plan.pipe.worker_count)
        .clamp(1, 256) as usize;
    let mut reader = connect(&plan.source, store.cipher()).await?;

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

    let (tx, rx) = tokio::sync::mpsc::channel::<LdapEntry>(threads * 4);
    let produce = async {
        for (base, scope) in &targets {
            let mut search = reader
                .search_pages(base, *scope, &filter, attrs.clone(), plan.source.batch_size)
                .await?;
            loop {
                match search.next().await {
                    Ok(Some(entry)) => {
                        progress.0.retrieved.fetch_add(1, Ordering::Relaxed);
                        if tx.send(entry.into()).await.is_err() {
                            return Ok(());
                        }
                    }
                    Ok(None) => break,
                    // A DN from an input file that is gone: recorded, and the run goes on.
                    Err(LdapError::NoSuchObject(dn)) if *scope == ldap3::Scope::Base => {
                        let missing = LdapEntry::new(dn.clone());
                        let rejection = Rejection::new(
                            pipe,
                            "resync",
                            &missing,
                            "read",
                            format!("\"{dn}\" is not in the source"),
                        );
                        if !options.dry_run {
                            store.record_rejection(&rejection).await?;
                        }
                        let result = EntryResult {
                            dn,
                            class: None,
                            outcome: EntryOutcome::Rejected {
                                rejection: Box::new(rejection),
                            },
                            resource: None,
                        };
                        progress.count(&result.outcome);
                        observer.entry(&result);
                        break;
                    }
                    Err(e) => return Err(ResyncError::from(e)),
                }
            }
        }
        drop(tx);
        Ok::<(), ResyncError>(())
    };
    // Workers share the queue; each owns handles, so they run on any runtime thread.
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    // Entries that failed before and now synchronize get their rejection resolved.
    let previously_rejected = Arc::new(store.open_rejection_dns(pipe).await?);
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..threads {
        let (rx, plan, store, progress, observer) = (
            rx.clone(),
            plan.clone(),
            store.clone(),
            progress.clone(),
            observer.clone(),
        );
        let previously_rejected = previously_rejected.clone();
        let dry_run = options.dry_run;
        workers.spawn(async move {
            loop {
                let next = rx.lock().await.recv().await;
                let Some(entry) = next else {
                    return Ok::<(), ResyncError>(());
                };
                let result = apply_entry(&plan, &entry, Phase::Resync, dry_run).await;
                // A dry run changes nothing, the list of rejected operations included.
                if !dry_run {
                    record_result(&store, &plan, &entry, &result, &previously_rejected).await?;
                }
                progress.count(&result.outcome);
                observer.entry(&result);
            }
        });
    }
    let consume = async {
        let mut outcome = Ok(());
        while let Some(joined) = workers.join_next().await {
            match joined {
                Ok(Ok(())) => {}
                Ok(Err(e)) => outcome = Err(e),
                Err(e) => outcome = Err(ResyncError::Worker(e.to_string())),
            }
        }
        outcome
    };
    let started = Instant::now();
    let (produced, consumed) = tokio::join!(produce, consume);
    tracing::debug!("resync of \"{pipe}\" finished in {:?}", started.elapsed());
    reader.close().await;
    produced.and(consumed)
}
