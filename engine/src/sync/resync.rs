//! Resync (setup step 10): every in-scope entry of the source, compared with the SCIM
//! destination and created or modified as needed.
//!
//! One reader streams entries page by page into a bounded queue; `threads` workers apply
//! them. Memory therefore stays flat however large the directory is: only counters grow,
//! rejections go straight to the store, and details go to the observer.

use super::apply::{EntryOutcome, EntryResult, apply_entry};
use super::plan::{PipePlan, PlanError};
use super::rejection::Rejection;
use crate::config::Config;
use crate::ldap::{LdapError, connect};
use crate::ldap_filter::Filter;
use crate::mapping::{LdapEntry, Phase};
use crate::store::{Store, StoreError};
use futures::StreamExt;
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
            EntryOutcome::Skipped { .. } => &c.skipped,
            EntryOutcome::Rejected { .. } => &c.rejected,
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
    #[error("--filter \"{filter}\" is not a valid LDAP filter: {message}")]
    Filter { filter: String, message: String },
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
    let result = resync(store, config, pipe, options, progress, observer).await;
    progress.0.finished.store(true, Ordering::Relaxed);
    result.map(|()| progress.snapshot())
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

    let (tx, mut rx) = tokio::sync::mpsc::channel::<LdapEntry>(threads * 4);
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
                        store.record_rejection(&rejection).await?;
                        let result = EntryResult {
                            dn,
                            class: None,
                            outcome: EntryOutcome::Rejected {
                                rejection: Box::new(rejection),
                            },
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
    let consume = futures::stream::poll_fn(|cx| rx.poll_recv(cx))
        .map(|entry| {
            let plan = plan.clone();
            async move { apply_entry(&plan, &entry, Phase::Resync, options.dry_run).await }
        })
        .buffer_unordered(threads)
        .then(|result| {
            let observer = observer.clone();
            async move {
                if let EntryOutcome::Rejected { rejection } = &result.outcome {
                    store.record_rejection(rejection).await?;
                }
                progress.count(&result.outcome);
                observer.entry(&result);
                Ok::<(), ResyncError>(())
            }
        })
        .fold(Ok(()), |acc: Result<(), ResyncError>, r| async move {
            acc.and(r)
        });
    let started = Instant::now();
    let (produced, consumed) = tokio::join!(produce, consume);
    tracing::debug!("resync of \"{pipe}\" finished in {:?}", started.elapsed());
    reader.close().await;
    produced.and(consumed)
}
