//! Keeping what a result teaches, for resync and realtime alike: its rejection (a newer one
//! supersedes an older), the rejection it resolves, and which resource the entry is
//! synchronised to — or no longer, once deleted — so later deletes, renames and references
//! find it.

use super::correlation_batch::CorrelationBatch;
use super::outcome::{EntryOutcome, EntryResult};
use crate::changelog::ChangeRecord;
use crate::store::{Correlation, Rekey, Store, StoreError, dn_key};
use std::collections::HashSet;

/// Where a result came from, as far as keeping it goes.
#[derive(Default)]
pub(crate) struct Origin<'a> {
    /// The changelog record applied (realtime, retries): kept with a rejection, and the
    /// rejection of its DN before a rename is resolved too.
    pub change: Option<&'a ChangeRecord>,
    /// The DN keys with an open rejection, when known (resync reads them once): the others
    /// have nothing to resolve.
    pub open_rejections: Option<&'a HashSet<String>>,
    /// Where correlations wait to be written together (a resync pass); else each is
    /// written at once.
    pub batch: Option<&'a CorrelationBatch>,
}

pub(crate) async fn record_result(
    store: &Store,
    pipe: &str,
    result: &EntryResult,
    origin: Origin<'_>,
) -> Result<(), StoreError> {
    // The entry's id as the result knows it (read from the entry, or the correlation found),
    // else as the change recorded it.
    let entry_id = result
        .entry_id
        .as_ref()
        .or(origin.change.and_then(|c| c.entry_id.as_ref()));
    // A correlation found under another id (by DN) is the same entry's: it goes with its
    // resource, makes way for the entry's own, or — the resource kept inactive — moves to it.
    let replaced = result.replaces.as_ref().filter(|r| Some(*r) != entry_id);
    if let Some(replaced) = replaced {
        match (&result.outcome, entry_id, &result.resource, &result.class) {
            (EntryOutcome::Deactivated, Some(id), Some(resource), Some(class)) => {
                let to = Correlation {
                    entry_id: id.clone(),
                    dn: result.dn.clone(),
                    endpoint: resource.endpoint.clone(),
                    scim_id: resource.id.clone(),
                    class: class.clone(),
                    display: resource.display.clone(),
                };
                let from = replaced.clone();
                store
                    .rekey_correlations(pipe, &[Rekey { from, to }])
                    .await?;
            }
            (EntryOutcome::Deleted, ..) => store.forget_resource(pipe, replaced).await?,
            _ if result.synchronized() => store.forget_resource(pipe, replaced).await?,
            _ => {}
        }
    }
    match &result.outcome {
        EntryOutcome::Rejected { rejection } | EntryOutcome::Unavailable { rejection, .. } => {
            let mut rejection = (**rejection).clone();
            if let Some(change) = origin.change {
                rejection.source =
                    serde_json::json!({"change": change.raw, "entry": rejection.source});
                rejection.carries_password = !change.passwords.is_empty();
            }
            store.record_rejection(&rejection).await
        }
        EntryOutcome::Deleted => match entry_id {
            Some(id) => store.forget_resource(pipe, id).await,
            None => Ok(()),
        },
        _ if result.synchronized() => {
            let mut dns = vec![result.dn.as_str()];
            if let Some(change) = origin.change
                && dn_key(&change.dn) != dn_key(&result.dn)
            {
                dns.push(&change.dn);
            }
            for dn in dns {
                if origin
                    .open_rejections
                    .is_none_or(|open| !open.is_empty() && open.contains(&dn_key(dn)))
                {
                    let with_password = origin.change.is_some_and(|c| !c.passwords.is_empty());
                    store.resolve_rejection(pipe, dn, with_password).await?;
                }
            }
            match (&result.resource, entry_id, &result.class) {
                (Some(resource), Some(entry_id), Some(class)) => {
                    let c = Correlation {
                        entry_id: entry_id.clone(),
                        dn: result.dn.clone(),
                        endpoint: resource.endpoint.clone(),
                        scim_id: resource.id.clone(),
                        class: class.clone(),
                        display: resource.display.clone(),
                    };
                    match origin.batch {
                        Some(batch) => batch.remember(store, pipe, c).await,
                        None => store.remember_resource(pipe, &c).await,
                    }
                }
                _ => Ok(()),
            }
        }
        _ => Ok(()),
    }
}
