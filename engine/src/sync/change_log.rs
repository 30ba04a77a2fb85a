//! The log of changes, kept in batches: each change a resync or realtime sync handled becomes
//! a row (time, pipe, DN, resource, outcome, what was sent, how long it took), written with
//! others in one store statement so that keeping the log costs little per change. A batch is
//! written once full or a second old, and whenever its run says (the end of a resync pass,
//! each realtime checkpoint).

use super::outcome::{EntryOutcome, EntryResult, FoundBy};
use crate::rejection::Phase;
use crate::store::{BATCH_ROWS, LoggedChange, Store, StoreError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Rows wait at most this long before the next change writes them.
const MOST_WAIT: Duration = Duration::from_secs(1);
/// Operations named in a summary; more are counted.
const OPERATIONS_NAMED: usize = 8;

pub(crate) struct ChangeLogBatch {
    waiting: Mutex<(Vec<LoggedChange>, Instant)>,
}

impl Default for ChangeLogBatch {
    fn default() -> Self {
        ChangeLogBatch {
            waiting: Mutex::new((Vec::new(), Instant::now())),
        }
    }
}

impl ChangeLogBatch {
    /// Keeps what came of one change (nothing while it is deferred); writes the batch when it
    /// is full or its oldest row has waited long enough.
    pub async fn keep(
        &self,
        store: &Store,
        pipe: &str,
        phase: Phase,
        result: &EntryResult,
        took: Duration,
    ) -> Result<(), StoreError> {
        let Some(row) = logged(pipe, phase, result, took) else {
            return Ok(());
        };
        let due = {
            let mut waiting = self.waiting.lock().expect("change log batch");
            if waiting.0.is_empty() {
                waiting.1 = Instant::now();
            }
            waiting.0.push(row);
            if waiting.0.len() < BATCH_ROWS && waiting.1.elapsed() < MOST_WAIT {
                return Ok(());
            }
            std::mem::take(&mut waiting.0)
        };
        store.log_changes(&due).await
    }

    /// Writes what waits.
    pub async fn flush(&self, store: &Store) -> Result<(), StoreError> {
        let due = std::mem::take(&mut self.waiting.lock().expect("change log batch").0);
        store.log_changes(&due).await
    }
}

/// Keeps what came of one change an admin asked for (a retry, an approved delete) at once.
pub(crate) async fn log_one(
    store: &Store,
    pipe: &str,
    phase: Phase,
    result: &EntryResult,
    took: Duration,
) -> Result<(), StoreError> {
    match logged(pipe, phase, result, took) {
        Some(row) => store.log_changes(&[row]).await,
        None => Ok(()),
    }
}

/// How often the log of changes is pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// Keeps the log of changes to its retention period and row cap (global settings): now, and
/// every ten minutes for as long as the process runs.
pub async fn prune_log_periodically(store: Store) {
    loop {
        match store.load_config().await {
            Ok(config) => {
                let (age, rows) = config.global.sync_log_retention();
                match store.prune_sync_log(chrono::Utc::now() - age, rows).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!("log of changes: {n} old changes removed"),
                    Err(e) => tracing::warn!("log of changes: pruning failed: {e}"),
                }
            }
            Err(e) => tracing::warn!("log of changes: pruning waits for the store: {e}"),
        }
        tokio::time::sleep(PRUNE_EVERY).await;
    }
}

/// The row of one change; `None` while it is deferred.
fn logged(pipe: &str, phase: Phase, result: &EntryResult, took: Duration) -> Option<LoggedChange> {
    Some(LoggedChange {
        id: String::new(),
        at: chrono::Utc::now(),
        pipe: pipe.to_owned(),
        phase,
        dn: result.dn.clone(),
        endpoint: result.resource.as_ref().map(|r| r.endpoint.clone()),
        resource_id: result.resource.as_ref().map(|r| r.id.clone()),
        outcome: result.outcome.kind()?,
        summary: match result.found_by {
            Some(by) if by != FoundBy::EntryId => {
                format!("{}; resource found {by}", summary(&result.outcome))
            }
            _ => summary(&result.outcome),
        },
        duration_ms: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
    })
}

/// What was done, in a line: the operations sent, or why nothing was.
pub fn summary(outcome: &EntryOutcome) -> String {
    match outcome {
        EntryOutcome::Created { resource } => {
            let attributes: Vec<&str> = resource
                .as_object()
                .map(|o| {
                    o.keys()
                        .map(String::as_str)
                        .filter(|k| *k != "schemas")
                        .collect()
                })
                .unwrap_or_default();
            format!("POST with {}", named(&attributes))
        }
        EntryOutcome::Modified { operations } => {
            let named_ops: Vec<String> = operations
                .iter()
                .map(|op| match &op.path {
                    Some(path) => format!("{} {path}", op.op),
                    None => op.op.clone(),
                })
                .collect();
            let named_ops: Vec<&str> = named_ops.iter().map(String::as_str).collect();
            format!("PATCH: {}", named(&named_ops))
        }
        EntryOutcome::InSync => "in sync: nothing to send".into(),
        EntryOutcome::Deleted => "DELETE".into(),
        EntryOutcome::Deactivated => "PATCH: replace active (false)".into(),
        EntryOutcome::Held { reason } => format!("delete held: {reason}"),
        EntryOutcome::OutOfScope => "no sync class takes the entry".into(),
        EntryOutcome::Skipped { reason } | EntryOutcome::Dropped { reason } => reason.clone(),
        EntryOutcome::Rejected { rejection } | EntryOutcome::Unavailable { rejection, .. } => {
            format!("rejected: {}", rejection.reason)
        }
        EntryOutcome::Deferred => "deferred".into(),
    }
}

/// `a, b, c` — or the first few and how many more.
fn named(items: &[&str]) -> String {
    if items.len() <= OPERATIONS_NAMED {
        return items.join(", ");
    }
    format!(
        "{} and {} more",
        items[..OPERATIONS_NAMED].join(", "),
        items.len() - OPERATIONS_NAMED
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::PatchOp;

    #[test]
    fn summaries_name_what_was_sent() {
        let created = EntryOutcome::Created {
            resource: serde_json::json!({"schemas": [], "userName": "a", "name": {}}),
        };
        assert_eq!(summary(&created), "POST with name, userName");
        let operations = (0..10)
            .map(|i| PatchOp {
                op: "replace".into(),
                path: Some(format!("a{i}")),
                value: None,
            })
            .collect();
        assert_eq!(
            summary(&EntryOutcome::Modified { operations }),
            "PATCH: replace a0, replace a1, replace a2, replace a3, replace a4, replace a5, replace a6, replace a7 and 2 more"
        );
        assert_eq!(summary(&EntryOutcome::InSync), "in sync: nothing to send");
    }
}
