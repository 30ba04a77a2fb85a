//! Settling which attribute identifies a pipe's entries before anything reads or writes its
//! correlations: judged from the source each time a run starts (resync, realtime, an admin's
//! action), and kept in the store with the correlations it keys. A store written under
//! another attribute — or before this was decided, when resync keyed 389 DS entries by
//! entryUUID and realtime by nsUniqueId — has its correlations re-keyed to their entries' ids
//! once, duplicates of one entry merged; no resource is created or deleted by that.

use super::plan::PipePlan;
use crate::entry_id::{EntryIdAttribute, ID_ATTRIBUTES, id_attributes};
use crate::ldap::{LdapConnection, LdapError, connect};
use crate::mapping::LdapEntry;
use crate::source::{EntryIdSource, LdapEntryIds};
use crate::store::{Correlation, Rekey, Rekeyed, Store, StoreError, dn_key};
use std::collections::HashMap;

/// Correlations re-keyed per page (and ids per search of the source).
const PAGE: u32 = 500;

#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    #[error("reading the source's entry ids: {0}")]
    Source(#[from] LdapError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether settling may re-key the store's correlations (not in a dry run or a preview, which
/// change nothing: they key by the attribute judged, and the next run re-keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rekeying {
    Allowed,
    NotNow,
}

impl Rekeying {
    /// Allowed unless nothing may change (a dry run, a preview).
    pub(crate) fn unless(changes_nothing: bool) -> Rekeying {
        if changes_nothing {
            Rekeying::NotNow
        } else {
            Rekeying::Allowed
        }
    }
}

/// Connects to the plan's source and settles its entry ids there: the connection a run, or
/// an admin's action on one entry, then reads through.
pub(crate) async fn connect_settled(
    plan: &mut PipePlan,
    store: &Store,
    rekeying: Rekeying,
) -> Result<LdapConnection, SettleError> {
    let conn = connect(&plan.source, store.cipher()).await?;
    let source = LdapEntryIds::new(conn.clone(), plan.source.clone());
    settle(plan, store, &source, rekeying).await?;
    Ok(conn)
}

/// Settles `plan`'s entry ids against `source` (see the module's text).
pub(crate) async fn settle(
    plan: &mut PipePlan,
    store: &Store,
    source: &dyn EntryIdSource,
    rekeying: Rekeying,
) -> Result<(), SettleError> {
    let pipe = plan.pipe.name.clone();
    let stored = store
        .entry_id_attribute(&pipe)
        .await?
        .and_then(|name| EntryIdAttribute::from_name(&name));
    let judged = match source.identify().await {
        Ok(judged) => judged,
        // What was decided before still holds when the source cannot tell now.
        Err(e) => match stored {
            Some(stored) => {
                tracing::warn!("pipe \"{pipe}\": {e}; its entries stay keyed by {stored}");
                stored
            }
            None => return Err(e.into()),
        },
    };
    plan.entry_ids = judged;
    if stored == Some(judged) || rekeying == Rekeying::NotNow {
        return Ok(());
    }
    let done = rekey(store, &pipe, judged, source).await?;
    store.set_entry_id_attribute(&pipe, judged.name()).await?;
    if done.moved > 0 {
        tracing::info!(
            "pipe \"{pipe}\": {} correlations re-keyed by {judged} ({} duplicates of one entry merged)",
            done.moved,
            done.merged
        );
    }
    Ok(())
}

/// Moves every correlation of `pipe` whose entry is found to that entry's id by `attribute`
/// (and DN now); correlations whose entries are gone stay as they are. The merges whose
/// resources differ are logged as they happen, not returned.
pub(crate) async fn rekey(
    store: &Store,
    pipe: &str,
    attribute: EntryIdAttribute,
    source: &dyn EntryIdSource,
) -> Result<Rekeyed, SettleError> {
    let mut done = Rekeyed::default();
    let mut after = String::new();
    loop {
        let page = store.correlations_after(pipe, &after, PAGE).await?;
        let Some(last) = page.last() else {
            return Ok(done);
        };
        after = last.entry_id.clone();
        let entries = entries_of(&page, source).await?;
        let moves = moves(&page, &entries, attribute);
        let page_done = store.rekey_correlations(pipe, &moves).await?;
        for (kept, dropped) in &page_done.differing {
            tracing::warn!(
                "pipe \"{pipe}\": entry \"{}\" had two resources, {} {} (kept) and {} {} (no longer managed)",
                kept.dn,
                kept.endpoint,
                kept.scim_id,
                dropped.endpoint,
                dropped.scim_id
            );
        }
        done.moved += page_done.moved;
        done.merged += page_done.merged;
    }
}

/// The entries the correlations of `page` were kept for, by every id they may be kept under
/// (lower-cased): entryUUID and nsUniqueId values, and DN ids.
async fn entries_of(
    page: &[Correlation],
    source: &dyn EntryIdSource,
) -> Result<HashMap<String, LdapEntry>, LdapError> {
    let mut by_id = HashMap::new();
    let (by_dn, by_value): (Vec<&Correlation>, Vec<&Correlation>) = page
        .iter()
        .partition(|c| EntryIdAttribute::is_dn_id(&c.entry_id));
    let values: Vec<String> = by_value.iter().map(|c| c.entry_id.clone()).collect();
    for entry in source.entries_with_ids(&values).await? {
        for attribute in ID_ATTRIBUTES {
            for value in entry.get(attribute) {
                by_id.insert(value.to_lowercase(), entry.clone());
            }
        }
    }
    let attrs = id_attributes();
    for c in by_dn {
        if let Some(entry) = source.fetch_entry(&c.dn, &attrs).await?
            && EntryIdAttribute::dn_id(&entry.dn) == c.entry_id
        {
            by_id.insert(c.entry_id.to_lowercase(), entry);
        }
    }
    Ok(by_id)
}

/// The moves that bring `page` to its entries' ids and DNs now.
fn moves(
    page: &[Correlation],
    entries: &HashMap<String, LdapEntry>,
    attribute: EntryIdAttribute,
) -> Vec<Rekey> {
    page.iter()
        .filter_map(|c| {
            let entry = entries.get(&c.entry_id.to_lowercase())?;
            let id = attribute.value(entry)?;
            let moved = id != c.entry_id || dn_key(&entry.dn) != dn_key(&c.dn);
            moved.then(|| Rekey {
                from: c.entry_id.clone(),
                to: Correlation {
                    entry_id: id,
                    dn: entry.dn.clone(),
                    ..c.clone()
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn correlation(id: &str, dn: &str, scim_id: &str) -> Correlation {
        Correlation {
            entry_id: id.into(),
            dn: dn.into(),
            endpoint: "/Users".into(),
            scim_id: scim_id.into(),
            class: "People".into(),
            display: None,
        }
    }

    #[test]
    fn correlations_move_to_their_entries_ids_and_dns_now() {
        let renamed = LdapEntry::new("uid=moved5,ou=people,dc=example,dc=com")
            .with("entryUUID", &["E5"])
            .with("nsUniqueId", &["n5"]);
        let same = LdapEntry::new("uid=p1,ou=people,dc=example,dc=com")
            .with("entryUUID", &["e1"])
            .with("nsUniqueId", &["n1"]);
        let mut entries = HashMap::new();
        for e in [&renamed, &same] {
            for a in ID_ATTRIBUTES {
                entries.insert(e.get(a)[0].to_lowercase(), e.clone());
            }
        }
        let page = [
            correlation("e5", "uid=p5,ou=people,dc=example,dc=com", "r5"),
            correlation("n5", "uid=moved5,ou=people,dc=example,dc=com", "r5"),
            correlation("n1", "uid=p1,ou=people,dc=example,dc=com", "r1"),
            correlation("gone", "uid=gone,ou=people,dc=example,dc=com", "r9"),
        ];
        let moves = moves(&page, &entries, EntryIdAttribute::NsUniqueId);
        // The renamed entry's two rows both go to n5 at its new DN (the store merges them);
        // the settled one and the gone one stay.
        assert_eq!(
            moves,
            vec![Rekey {
                from: "e5".into(),
                to: correlation("n5", "uid=moved5,ou=people,dc=example,dc=com", "r5"),
            }]
        );
    }
}
