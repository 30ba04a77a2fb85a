//! Retrying a rejected operation: the entry is synchronised again as it is now, in the phase
//! it was rejected in — created or modified if it exists in the source; if it does not, its
//! resource is deleted (realtime) or the rejection dismissed (resync never deletes).

use super::action_error::ActionError;
use super::change::{ApplyError, ChangeContext};
use super::change_log::log_one;
use super::entry_ids::{Rekeying, connect_settled};
use super::outcome::{EntryOutcome, EntryResult};
use super::plan::PipePlan;
use crate::changelog::ChangeRecord;
use crate::config::Config;
use crate::mapping::Phase;
use crate::rejection::RejectionStatus;
use crate::store::Store;

/// Retries one open rejection. On success it is resolved; on failure a new rejection replaces it.
pub async fn retry_rejection(
    store: &Store,
    config: &Config,
    id: &str,
) -> Result<EntryResult, ActionError> {
    let (rejection, status) = store
        .rejection(id)
        .await?
        .ok_or_else(|| ActionError::NotFound {
            what: "rejected operation",
            id: id.to_owned(),
        })?;
    if status != RejectionStatus::Open {
        return Err(ActionError::NotOpen(id.to_owned(), status));
    }
    let started = std::time::Instant::now();
    let mut plan = PipePlan::build(config, &rejection.pipe, store.cipher(), None)?;
    // Replayed in its own phase: a resync rejection with the resync usages.
    let phase = rejection.phase;
    let attrs = plan.ldap_attributes();
    let mut conn = connect_settled(&mut plan, store, Rekeying::Allowed).await?;
    let entry = conn.fetch_entry(&rejection.dn, &attrs).await?;
    if entry.is_none() && phase == Phase::Resync {
        // Resync never deletes: an entry that has gone since is dismissed, not deleted.
        conn.close().await;
        store
            .close_rejection(id, RejectionStatus::Dismissed)
            .await?;
        let reason = "the entry is no longer in the source; dismissed".to_owned();
        return Ok(EntryResult::new(
            &rejection.dn,
            None,
            EntryOutcome::Dropped { reason },
        ));
    }
    // A synthetic change for the entry as it is now. The rejected change's password is not
    // kept, so a retry cannot send it.
    let record = ChangeRecord::entry_now_or_gone(
        &rejection.dn,
        entry.is_some(),
        entry.as_ref().and_then(|e| plan.entry_id(e)),
        serde_json::json!({"retry-of": id}),
    );
    let change = ChangeContext {
        plan: &plan,
        store,
        entries: &conn,
        attrs: &attrs,
        phase,
        limit_deletes: true,
    };
    let result = async {
        let result = change.apply_and_record(&record).await?;
        change.apply_waiting(&result).await?;
        Ok::<_, ApplyError>(result)
    }
    .await;
    conn.close().await;
    let result = result?;
    log_one(store, &rejection.pipe, phase, &result, started.elapsed()).await?;
    if !matches!(
        result.outcome,
        EntryOutcome::Rejected { .. } | EntryOutcome::Unavailable { .. }
    ) {
        store.close_rejection(id, RejectionStatus::Resolved).await?;
    }
    Ok(result)
}
