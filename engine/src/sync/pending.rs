//! Pending references: a referrer (a group) written without a target (a member) that was not
//! at the destination yet. They are kept per referrer; when the target's resource appears the
//! referrer is applied again and gains the reference.

use super::outcome::{EntryOutcome, EntryResult};
use super::plan::PipePlan;
use crate::store::{Store, StoreError, dn_key};

/// After a result: keeps the pending references it left (none once all resolved) and returns
/// the DNs to apply again now — the entries waiting for this one, and this one itself when a
/// target it waits for appeared while it was being applied (the two ran side by side). Entries
/// of endpoints that hold no references and that none references cost nothing here.
pub(crate) async fn after_result(
    store: &Store,
    plan: &PipePlan,
    result: &EntryResult,
) -> Result<Vec<String>, StoreError> {
    let pipe = &plan.pipe.name;
    let mapper = result
        .class
        .as_deref()
        .and_then(|c| plan.class_named(c))
        .and_then(|c| c.mapper.as_ref());
    let holds = mapper.is_some_and(|m| m.has_references());
    let referenced = mapper.is_some_and(|m| plan.is_referenced(&m.endpoint.name));
    let mut again = Vec::new();
    match &result.outcome {
        _ if holds && result.synchronized() && result.resource.is_some() => {
            let pending = &result.references.pending;
            store
                .replace_pending_references(pipe, &result.dn, pending)
                .await?;
            if !pending.is_empty() {
                let keys: Vec<String> = pending.iter().map(|p| dn_key(&p.dn)).collect();
                if !store.find_resources_by_dn(pipe, &keys).await?.is_empty() {
                    again.push(result.dn.clone());
                }
            }
        }
        // A deleted referrer waits for nothing.
        EntryOutcome::Deleted if holds => {
            store
                .replace_pending_references(pipe, &result.dn, &[])
                .await?;
        }
        _ => {}
    }
    // Entries waiting for this one gain it now — or, if it was deleted, drop it.
    let arrived_or_gone = (result.synchronized() && result.resource.is_some())
        || matches!(result.outcome, EntryOutcome::Deleted);
    if referenced && arrived_or_gone {
        for referrer in store.pending_referrers(pipe, &result.dn).await? {
            if dn_key(&referrer) != dn_key(&result.dn) && !again.contains(&referrer) {
                again.push(referrer);
            }
        }
    }
    Ok(again)
}
