//! Pending references: a referrer (a group) written without a target (a member) that was not
//! at the destination yet. They are kept per referrer; when the target's resource appears the
//! referrer is applied again and gains the reference.

use super::apply::{EntryOutcome, EntryResult};
use crate::store::{Store, StoreError, dn_key};

/// After a result: keeps the pending references it left (none once all resolved) and returns
/// the DNs to apply again now — the entries waiting for this one, and this one itself when a
/// target it waits for appeared while it was being applied (the two ran side by side).
pub(crate) async fn after_result(
    store: &Store,
    pipe: &str,
    result: &EntryResult,
) -> Result<Vec<String>, StoreError> {
    let mut again = Vec::new();
    match &result.outcome {
        _ if result.synchronized() && result.resource.is_some() => {
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
        // A deleted referrer waits for nothing; entries waiting for a deleted target drop it.
        EntryOutcome::Deleted => {
            store
                .replace_pending_references(pipe, &result.dn, &[])
                .await?;
        }
        _ => return Ok(again),
    }
    for referrer in store.pending_referrers(pipe, &result.dn).await? {
        if dn_key(&referrer) != dn_key(&result.dn) && !again.contains(&referrer) {
            again.push(referrer);
        }
    }
    Ok(again)
}
