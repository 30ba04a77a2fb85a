//! What an admin does with the deletes a pipe's limit held back: approve them (each is
//! applied as its entry is now, beyond the limit) or discard them (the resource stays).

use super::action_error::ActionError;
use super::change::ChangeContext;
use super::change_log::log_one;
use super::entry_ids::{Rekeying, connect_settled};
use super::outcome::EntryResult;
use super::plan::PipePlan;
use crate::changelog::ChangeRecord;
use crate::config::Config;
use crate::mapping::Phase;
use crate::store::{HeldDelete, Store, StoreError};

/// Applies a held delete as its entry is now: still gone (or out of scope), its resource is
/// deleted or deactivated as its class says, whatever the limit; back in scope, it is
/// synchronised instead. The result is kept like any change's (log, rejection, correlation).
pub async fn approve_held_delete(
    store: &Store,
    config: &Config,
    id: &str,
) -> Result<(HeldDelete, EntryResult), ActionError> {
    let started = std::time::Instant::now();
    let held = store
        .held_delete(id)
        .await?
        .ok_or_else(|| ActionError::NotFound {
            what: "held delete",
            id: id.to_owned(),
        })?;
    let mut plan = PipePlan::build(config, &held.pipe, store.cipher(), None)?;
    let attrs = plan.ldap_attributes();
    let mut conn = connect_settled(&mut plan, store, Rekeying::Allowed).await?;
    let result = async {
        let now = conn.fetch_entry(&held.dn, &attrs).await?;
        let entry_id = now
            .as_ref()
            .and_then(|e| plan.entry_id(e))
            .or_else(|| held.entry_id.clone());
        let record = ChangeRecord::entry_now_or_gone(
            &held.dn,
            now.is_some(),
            entry_id,
            serde_json::json!({"approved": id}),
        );
        let change = ChangeContext {
            plan: &plan,
            store,
            entries: &conn,
            attrs: &attrs,
            phase: Phase::Realtime,
            limit_deletes: false,
        };
        let result = change.apply_and_record(&record).await?;
        change.apply_waiting(&result).await?;
        // Back as a new entry (a new id) that took the resource over: the held entry's
        // correlation is stale.
        if let Some(old) = &held.entry_id
            && record.entry_id.as_ref() != Some(old)
            && result.synchronized()
        {
            store.forget_resource(&held.pipe, old).await?;
        }
        Ok::<_, ActionError>(result)
    }
    .await;
    conn.close().await;
    let result = result?;
    store.release_held_delete(id).await?;
    log_one(
        store,
        &held.pipe,
        Phase::Realtime,
        &result,
        started.elapsed(),
    )
    .await?;
    Ok((held, result))
}

/// Discards a held delete: its resource stays at the destination (and stays managed, so a
/// reconciliation may find it again). Returns it, or `None` when there was none.
pub async fn discard_held_delete(
    store: &Store,
    id: &str,
) -> Result<Option<HeldDelete>, StoreError> {
    let Some(held) = store.held_delete(id).await? else {
        return Ok(None);
    };
    Ok(store.release_held_delete(id).await?.then_some(held))
}
