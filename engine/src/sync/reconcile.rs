//! Reconciliation (`resync --delete-missing`): once a resync has met every entry of the
//! source, the resources scimsync manages (created or correlated, so in the store) whose
//! entries it did not meet in scope — gone from the directory while sync was off, or out of
//! every synchronising class — are deleted or deactivated as their class says, under the
//! pipe's deletion limit. Resources it never managed are not in the store: they are left
//! alone. A dry run lists what would go.

use super::Run;
use crate::changelog::ChangeRecord;
use crate::mapping::Phase;
use crate::source::EntryReader;
use crate::store::Correlation;
use crate::sync::apply::synchronising;
use crate::sync::change::{ApplyError, ChangeContext, Known};
use crate::sync::outcome::{EntryOutcome, EntryResult, FoundBy, ResourceRef};
use crate::sync::resync::ResyncError;
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;
use std::time::Instant;

/// Correlations read from the store at once.
const PAGE: u32 = 500;

/// The entries a resync met in scope and the resources they were found or written at, by
/// 64-bit hashes (8 bytes each rather than the ids: a million entries in a few tens of MB).
/// Two ids sharing a hash can only make a missing entry look met — its resource is kept,
/// never wrongly removed.
#[derive(Default)]
pub(super) struct SeenEntries {
    entries: Mutex<HashSet<u64>>,
    resources: Mutex<HashSet<u64>>,
}

fn hashed(parts: &[&str]) -> u64 {
    let mut h = DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

impl SeenEntries {
    pub(super) fn saw(&self, entry_id: &str, resource: Option<&ResourceRef>) {
        self.entries
            .lock()
            .expect("seen entries")
            .insert(hashed(&[entry_id]));
        if let Some(r) = resource {
            self.resources
                .lock()
                .expect("seen resources")
                .insert(hashed(&[&r.endpoint, &r.id]));
        }
    }

    fn has(&self, entry_id: &str) -> bool {
        self.entries
            .lock()
            .expect("seen entries")
            .contains(&hashed(&[entry_id]))
    }

    fn has_resource(&self, endpoint: &str, id: &str) -> bool {
        self.resources
            .lock()
            .expect("seen resources")
            .contains(&hashed(&[endpoint, id]))
    }
}

/// Removes (or, in a dry run, lists) the managed resources whose entries the run did not meet.
pub(super) async fn remove_missing(run: &Run) -> Result<(), ResyncError> {
    let Some(seen) = &run.seen else {
        return Ok(());
    };
    let pipe = &run.plan.pipe.name;
    let mut after = String::new();
    loop {
        let page = run.store.correlations_after(pipe, &after, PAGE).await?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = last.entry_id.clone();
        for missing in page.into_iter().filter(|c| !seen.has(&c.entry_id)) {
            remove_one(run, seen, &missing).await?;
        }
    }
}

async fn remove_one(
    run: &Run,
    seen: &SeenEntries,
    missing: &Correlation,
) -> Result<(), ResyncError> {
    let started = Instant::now();
    let plan = &run.plan;
    // Read again: an entry added (or brought into scope) while the resync read is not missing.
    let reader: &dyn EntryReader = &run.lookup;
    let now = reader.fetch_entry(&missing.dn, &run.attrs).await?;
    let same_entry = now
        .as_ref()
        .filter(|e| plan.entry_id(e).as_deref() == Some(missing.entry_id.as_str()));
    if same_entry.is_some_and(|e| synchronising(plan, e).is_ok()) {
        return Ok(());
    }
    // A resource belongs to one entry: when another entry met in scope has it (deleted,
    // then added again with a new id), this correlation is stale, not a resource to remove.
    if seen.has_resource(&missing.endpoint, &missing.scim_id) {
        if !run.dry_run {
            run.store
                .forget_resource(&plan.pipe.name, &missing.entry_id)
                .await?;
        }
        return Ok(());
    }
    let cause = match same_entry {
        Some(_) => "reconciliation: the entry is in no sync class that synchronizes it",
        None => "reconciliation: the entry is no longer in the source",
    };
    let result = if run.dry_run {
        would_remove(run, missing)
    } else {
        let record = ChangeRecord::entry_now_or_gone(
            &missing.dn,
            false,
            Some(missing.entry_id.clone()),
            serde_json::json!({"reconciliation": true}),
        );
        let change = ChangeContext {
            plan,
            store: &run.store,
            entries: &run.lookup,
            attrs: &run.attrs,
            phase: Phase::Resync,
            limit_deletes: true,
        };
        let known = Known {
            correlation: missing.clone(),
            by: FoundBy::EntryId,
        };
        let applied = async {
            let result = change
                .delete(&record, Some(known), cause.to_owned())
                .await?;
            change.record(&record, &result).await?;
            change.apply_waiting(&result).await?;
            Ok::<_, ApplyError>(result)
        };
        applied.await.map_err(|e| match e {
            ApplyError::Source(e) => ResyncError::Ldap(e),
            ApplyError::Store(e) => ResyncError::Store(e),
        })?
    };
    run.count(&result, started.elapsed()).await?;
    run.observer.entry(&result);
    Ok(())
}

/// What removing it would come to, without asking the destination or the limit.
fn would_remove(run: &Run, missing: &Correlation) -> EntryResult {
    let class = run.plan.class_named(&missing.class);
    let outcome = match class.map(|c| c.removal()) {
        Some(Ok((action, _))) => EntryOutcome::removed(action),
        Some(Err(not)) => not,
        None => EntryOutcome::OutOfScope,
    };
    EntryResult {
        resource: Some(ResourceRef {
            endpoint: missing.endpoint.clone(),
            id: missing.scim_id.clone(),
            display: missing.display.clone(),
        }),
        entry_id: Some(missing.entry_id.clone()),
        ..EntryResult::new(&missing.dn, Some(missing.class.clone()), outcome)
    }
}
