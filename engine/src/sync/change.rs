//! Applying one change to the destination, as realtime sync, retries and waiting references
//! do: the entry is read again and applied as it is now (created, modified or, when gone,
//! its resource deleted), and what the result teaches is kept — rejections, correlations,
//! pending references — and the entries waiting for it are applied again.

use super::apply::{Applied, EntryWrite, synchronising};
use super::delete_guard::Admission;
use super::failure::Fail;
use super::find::{Found, find_by_search};
use super::outcome::{EntryOutcome, EntryResult, FoundBy, ResourceRef};
use super::pending::after_result;
use super::plan::PipePlan;
use super::record::{Origin, record_result};
use super::references::{ResolveError, Resolver};
use crate::changelog::{ChangeKind, ChangeRecord};
use crate::config::{DeleteAction, UpdateMethod};
use crate::dn::Dn;
use crate::ldap::LdapError;
use crate::mapping::quote;
use crate::mapping::references::ReferenceReport;
use crate::mapping::{LdapEntry, PatchOp, Phase};
use crate::rejection::FailedStep;
use crate::scim::ScimError;
use crate::source::EntryReader;
use crate::store::{Correlation, HeldDelete, Store, StoreError, dn_key};
use std::collections::HashSet;

pub(crate) enum ApplyError {
    Source(LdapError),
    Store(StoreError),
}

/// What one change needs besides the change: the pipe, the store and the source.
pub(crate) struct ChangeContext<'a> {
    pub plan: &'a PipePlan,
    pub store: &'a Store,
    /// Reads entries as they are now.
    pub entries: &'a dyn EntryReader,
    pub attrs: &'a [String],
    pub phase: Phase,
    /// Deletes count against the pipe's deletion limit (and are held beyond it); false for
    /// deletes an admin approved.
    pub limit_deletes: bool,
}

impl ChangeContext<'_> {
    fn resolver(&self) -> Resolver<'_> {
        Resolver {
            plan: self.plan,
            store: self.store,
            entries: self.entries,
            attrs: self.attrs,
            dry_run: false,
            unwritten: &[],
        }
    }

    /// Applies one record and records its result.
    pub async fn apply_and_record(&self, record: &ChangeRecord) -> Result<EntryResult, ApplyError> {
        let result = self.apply(record).await?;
        self.record(record, &result).await?;
        Ok(result)
    }

    /// Keeps what a result teaches: rejections (resolving older ones on success) and
    /// correlations between entries and resources.
    pub async fn record(
        &self,
        record: &ChangeRecord,
        result: &EntryResult,
    ) -> Result<(), ApplyError> {
        let origin = Origin {
            change: Some(record),
            ..Origin::default()
        };
        record_result(self.store, &self.plan.pipe.name, result, origin)
            .await
            .map_err(ApplyError::Store)
    }

    /// Applies again the entries that were waiting for `result`'s resource (and `result`'s own
    /// entry if a target it waits for arrived meanwhile), and so on down the chain. Returns the
    /// members they gained or lost; their rejections are recorded like any other.
    pub async fn apply_waiting(&self, result: &EntryResult) -> Result<ReferenceReport, ApplyError> {
        let mut totals = ReferenceReport::default();
        let mut queue = after_result(self.store, self.plan, result)
            .await
            .map_err(ApplyError::Store)?;
        queue.extend(self.holders_of_deleted(result).await?);
        let mut done = HashSet::new();
        while let Some(dn) = queue.pop() {
            // Each entry once per chain: a cycle of references ends here.
            if !done.insert(dn_key(&dn)) {
                continue;
            }
            let record =
                ChangeRecord::entry_now(&dn, None, serde_json::json!({"waiting-for": result.dn}));
            let again = self.apply_and_record(&record).await?;
            totals.members_added += again.references.members_added;
            totals.members_removed += again.references.members_removed;
            queue.extend(
                after_result(self.store, self.plan, &again)
                    .await
                    .map_err(ApplyError::Store)?,
            );
        }
        Ok(totals)
    }

    /// For a deleted resource: the DNs of the synchronised resources that still reference it
    /// at the destination (`members.value eq "id"`), so that applying them again takes it out.
    /// Directories rewrite their own references on delete (389 DS logs that; OpenLDAP's refint
    /// rewrites are not in the accesslog), but many SCIM services keep a deleted member's id.
    /// A search the service cannot answer only costs that clean-up, so it is logged, not kept.
    async fn holders_of_deleted(&self, result: &EntryResult) -> Result<Vec<String>, ApplyError> {
        let plan = self.plan;
        let (EntryOutcome::Deleted, Some(deleted), Some(class)) =
            (&result.outcome, &result.resource, &result.class)
        else {
            return Ok(Vec::new());
        };
        let Some(target) = plan.class_named(class).and_then(|c| c.mapper.as_ref()) else {
            return Ok(Vec::new());
        };
        let mut holders = Vec::new();
        let mut searched: Vec<&str> = Vec::new();
        for mapper in plan.classes.iter().filter_map(|c| c.mapper.as_ref()) {
            let endpoint = mapper.endpoint.endpoint_path.as_str();
            if searched.contains(&endpoint) {
                continue;
            }
            searched.push(endpoint);
            for path in mapper.reference_paths(&target.endpoint.name) {
                let filter = format!("{path} eq {}", quote(&deleted.id));
                let ids = match plan
                    .client
                    .list_ids(endpoint, &filter, plan.destination.query_method)
                    .await
                {
                    Ok(ids) => ids,
                    Err(e) => {
                        tracing::warn!(
                            "finding what still references deleted {} {}: {e}",
                            deleted.endpoint,
                            deleted.id
                        );
                        continue;
                    }
                };
                for id in ids {
                    if let Some(c) = self
                        .store
                        .find_resource_by_scim_id(&plan.pipe.name, endpoint, &id)
                        .await
                        .map_err(ApplyError::Store)?
                        && !holders.contains(&c.dn)
                    {
                        holders.push(c.dn);
                    }
                }
            }
        }
        Ok(holders)
    }

    /// Applies one changelog record.
    pub async fn apply(&self, record: &ChangeRecord) -> Result<EntryResult, ApplyError> {
        let plan = self.plan;
        let pipe = &plan.pipe.name;
        let dn = record.current_dn();
        if record.kind == ChangeKind::Delete {
            let known = self
                .known_resource(record.entry_id.as_deref(), &record.dn, None)
                .await?;
            let cause = "the entry was deleted".to_owned();
            return self.delete(record, known, cause).await;
        }

        // Add, modify, rename, move: the entry as it is now decides, not the record's values.
        let Some(mut entry) = self
            .entries
            .fetch_entry(dn, self.attrs)
            .await
            .map_err(ApplyError::Source)?
        else {
            let reason =
                "the entry is no longer in the source (a later change removes or moves it)"
                    .to_owned();
            return Ok(EntryResult::new(dn, None, EntryOutcome::Dropped { reason }));
        };
        // Keyed by the entry's own id, as resync keys it: the id the change records is of the
        // same kind, but of another entry when the DN was taken over since.
        let entry_id = plan.entry_id(&entry).or_else(|| record.entry_id.clone());
        let known = self
            .known_resource(entry_id.as_deref(), &record.dn, Some(&entry))
            .await?;
        let mut touched = record.attributes();
        // The clear-text password the change carries stands in for the stored hash.
        let passwords = record.passwords.reveal(plan.password_key.as_ref());
        if let Ok(clear) = &passwords
            && !clear.is_empty()
        {
            for attr in ["userpassword", "unhashed#user#password"] {
                entry.attributes.insert(attr.to_owned(), clear.clone());
                if !touched.iter().any(|t| t == attr) {
                    touched.push(attr.to_owned());
                }
            }
        }
        let (class, mapper) = match synchronising(plan, &entry) {
            Ok(found) => found,
            // In no class that synchronises it. If it has a resource, it left the class it was
            // synchronised by (moved out of its base DNs, or no longer matching its filter):
            // access must not outlive scope, so the resource goes as that class's deletes do.
            // A moved entry with no correlation may still have its resource: found by its old
            // RDN, as a deleted entry's is.
            Err(none) => {
                let moved = matches!(record.kind, ChangeKind::ModDn { .. });
                if known.is_none() && !moved {
                    return Ok(EntryResult { entry_id, ..*none });
                }
                let cause = match &known {
                    Some(k) => format!("the entry left sync class \"{}\"", k.correlation.class),
                    None => "the entry moved out of scope".to_owned(),
                };
                let left = self.delete(record, known, cause).await?;
                if left.found_by.is_none() {
                    return Ok(EntryResult { entry_id, ..*none });
                }
                return Ok(EntryResult { entry_id, ..left });
            }
        };
        let correlation = known.as_ref().map(|k| &k.correlation);
        let class_name = Some(class.class.name.clone());
        let fail = Fail {
            pipe,
            phase: self.phase,
            entry: &entry,
        };
        if let Err(e) = passwords {
            let outcome = fail
                .rejected(FailedStep::DecryptPassword, e.to_string())
                .into_outcome();
            return Ok(EntryResult::new(dn, class_name, outcome));
        }
        let references = match self.resolver().resolve(mapper, &entry, &fail).await {
            Ok(references) => references,
            Err(ResolveError::Source(e)) => return Err(ApplyError::Source(e)),
            Err(ResolveError::Store(e)) => return Err(ApplyError::Store(e)),
            Err(ResolveError::Failed(f)) => {
                return Ok(EntryResult::new(dn, class_name, f.into_outcome()));
            }
        };
        let endpoint = mapper.endpoint.endpoint_path.as_str();
        let applied = async {
            // Known resource first (survives renames), then the old identity of a renamed entry,
            // then the entry's identity now.
            let mut current = None;
            if let Some(c) = correlation.as_ref().filter(|c| c.endpoint == endpoint) {
                match plan.client.get_resource(endpoint, &c.scim_id).await {
                    Ok(resource) => current = Some(resource),
                    Err(e) if is_not_found(&e) => {}
                    Err(e) => return Err(fail.scim(FailedStep::Search, &e, None)),
                }
            }
            if current.is_none()
                && let ChangeKind::ModDn { .. } = record.kind
            {
                let mut old = entry.clone();
                old.attributes.extend(entry_from_rdn(&record.dn).attributes);
                if let Found::One(found) = find_by_search(plan, mapper, &old, &fail).await? {
                    current = Some(found);
                }
            }
            if current.is_none()
                && let Found::One(found) = find_by_search(plan, mapper, &entry, &fail).await?
            {
                current = Some(found);
            }
            let writing = EntryWrite {
                plan,
                class,
                mapper,
                entry: &entry,
                references: &references,
                dry_run: false,
                fail: &fail,
            };
            match current {
                Some(current) => writing.modify(&current, &touched).await,
                None => writing.create().await,
            }
        }
        .await;
        let applied = applied.unwrap_or_else(|f| Applied {
            outcome: f.into_outcome(),
            resource: None,
            references: ReferenceReport::default(),
        });
        let replaces = correlation
            .map(|c| c.entry_id.clone())
            .filter(|kept_under| Some(kept_under) != entry_id.as_ref());
        Ok(EntryResult {
            dn: dn.to_owned(),
            class: class_name,
            outcome: applied.outcome,
            resource: applied.resource,
            references: applied.references,
            entry_id,
            found_by: known.map(|k| k.by),
            replaces,
        })
    }

    /// The correlation kept for a change's entry: under its id, else the one kept for `dn`
    /// (the entry's DN before the change) — unless the entry at that DN now (`present`, or
    /// read) is the one that correlation names: a DN taken over by another entry does not
    /// bring that entry's resource along.
    async fn known_resource(
        &self,
        id: Option<&str>,
        dn: &str,
        present: Option<&LdapEntry>,
    ) -> Result<Option<Known>, ApplyError> {
        let (plan, store) = (self.plan, self.store);
        let pipe = &plan.pipe.name;
        if let Some(id) = id
            && let Some(correlation) = store
                .find_resource(pipe, id)
                .await
                .map_err(ApplyError::Store)?
        {
            let by = FoundBy::EntryId;
            return Ok(Some(Known { correlation, by }));
        }
        let key = dn_key(dn);
        let Some(correlation) = store
            .find_resources_by_dn(pipe, std::slice::from_ref(&key))
            .await
            .map_err(ApplyError::Store)?
            .remove(&key)
        else {
            return Ok(None);
        };
        let now_there = match present.filter(|p| dn_key(&p.dn) == key) {
            Some(p) => Some(p.clone()),
            None => self
                .entries
                .fetch_entry(&correlation.dn, self.attrs)
                .await
                .map_err(ApplyError::Source)?,
        };
        if now_there.is_some_and(|e| plan.entry_id(&e).as_ref() == Some(&correlation.entry_id)) {
            return Ok(None);
        }
        let by = FoundBy::Dn;
        Ok(Some(Known { correlation, by }))
    }

    /// Whether the resource `target`, found by a search, is kept for another entry that is
    /// still in the source (an RDN value two entries share, a DN taken over): then it is
    /// that entry's.
    async fn kept_for_another(
        &self,
        target: &ResourceRef,
        record: &ChangeRecord,
    ) -> Result<bool, ApplyError> {
        let plan = self.plan;
        let Some(owner) = self
            .store
            .find_resource_by_scim_id(&plan.pipe.name, &target.endpoint, &target.id)
            .await
            .map_err(ApplyError::Store)?
        else {
            return Ok(false);
        };
        if record.entry_id.as_ref() == Some(&owner.entry_id) {
            return Ok(false);
        }
        let now = self
            .entries
            .fetch_entry(&owner.dn, self.attrs)
            .await
            .map_err(ApplyError::Source)?;
        Ok(now.is_some_and(|e| plan.entry_id(&e).as_ref() == Some(&owner.entry_id)))
    }

    /// A deleted entry, or one that left scope (`cause` says which): its resource (`known`,
    /// else found by the old RDN) is deleted or deactivated, as its class says — or held,
    /// beyond the pipe's deletion limit. The result says how the resource was found
    /// (`found_by`; `None`: it was not).
    pub(crate) async fn delete(
        &self,
        record: &ChangeRecord,
        known: Option<Known>,
        cause: String,
    ) -> Result<EntryResult, ApplyError> {
        let plan = self.plan;
        let dn = record.current_dn();
        let correlation = known.as_ref().map(|k| &k.correlation);
        let class = correlation
            .and_then(|c| plan.class_named(&c.class))
            .or_else(|| plan.classify_by_dn(&record.dn));
        let Some(class) = class else {
            return Ok(EntryResult::new(dn, None, EntryOutcome::OutOfScope));
        };
        let class_name = Some(class.class.name.clone());
        let (action, mapper) = match class.removal() {
            Ok(removal) => removal,
            Err(not) => return Ok(EntryResult::new(dn, class_name, not)),
        };
        let gone = entry_from_rdn(&record.dn);
        let fail = Fail {
            pipe: &plan.pipe.name,
            phase: self.phase,
            entry: &gone,
        };
        let target = match correlation {
            Some(c) => Some(ResourceRef {
                endpoint: c.endpoint.clone(),
                id: c.scim_id.clone(),
                display: c.display.clone(),
            }),
            None => match find_by_search(plan, mapper, &gone, &fail).await {
                Ok(Found::One(current)) => {
                    current
                        .get("id")
                        .and_then(|v| v.as_str())
                        .map(|id| ResourceRef {
                            endpoint: mapper.endpoint.endpoint_path.clone(),
                            id: id.to_owned(),
                            display: None,
                        })
                }
                Ok(Found::None) => None,
                Err(f) => return Ok(EntryResult::new(dn, class_name, f.into_outcome())),
            },
        };
        let target = match target {
            Some(t) if correlation.is_none() && self.kept_for_another(&t, record).await? => None,
            other => other,
        };
        let Some(target) = target else {
            let reason = "no SCIM resource was found for the deleted entry".to_owned();
            return Ok(EntryResult::new(
                dn,
                class_name,
                EntryOutcome::Dropped { reason },
            ));
        };
        let entry_id = record
            .entry_id
            .clone()
            .or_else(|| correlation.map(|c| c.entry_id.clone()));
        let found_by = Some(known.as_ref().map_or(FoundBy::Rdn, |k| k.by));
        let replaces = correlation
            .map(|c| c.entry_id.clone())
            .filter(|kept_under| Some(kept_under) != entry_id.as_ref());
        if self.limit_deletes
            && let Admission::Hold(why) = plan
                .deletes
                .admit(self.store, &plan.pipe.name)
                .await
                .map_err(ApplyError::Store)?
        {
            let reason = format!("{cause}; {why}");
            let held = HeldDelete {
                id: String::new(),
                held_at: chrono::Utc::now(),
                pipe: plan.pipe.name.clone(),
                dn: dn.to_owned(),
                entry_id: entry_id.clone(),
                class: class.class.name.clone(),
                endpoint: target.endpoint.clone(),
                resource_id: target.id.clone(),
                display: correlation.and_then(|c| c.display.clone()),
                action,
                reason: reason.clone(),
            };
            self.store
                .hold_delete(&held)
                .await
                .map_err(ApplyError::Store)?;
            return Ok(EntryResult {
                resource: Some(target),
                entry_id,
                found_by,
                replaces,
                ..EntryResult::new(dn, class_name, EntryOutcome::Held { reason })
            });
        }
        let outcome = match remove_resource(plan, &target, action).await {
            Ok(()) => EntryOutcome::removed(action),
            Err(e) if is_not_found(&e) => EntryOutcome::Deleted,
            Err(e) => fail.scim(FailedStep::Delete, &e, None).into_outcome(),
        };
        Ok(EntryResult {
            resource: Some(target),
            entry_id,
            found_by,
            replaces,
            ..EntryResult::new(dn, class_name, outcome)
        })
    }
}

/// An entry made from a DN's RDN values (what is left to identify a deleted or renamed entry).
fn entry_from_rdn(dn: &str) -> LdapEntry {
    let mut entry = LdapEntry::new(dn);
    if let Some(rdn) = Dn::parse(dn).ok().and_then(|d| d.rdns.into_iter().next()) {
        for ava in rdn.0 {
            entry.attributes.insert(ava.attr, vec![ava.value]);
        }
    }
    entry
}

/// Deletes the resource, or deactivates it (`active: false`, by PATCH or by PUT as the
/// destination updates).
async fn remove_resource(
    plan: &PipePlan,
    target: &ResourceRef,
    action: DeleteAction,
) -> Result<(), ScimError> {
    let (endpoint, id) = (target.endpoint.as_str(), target.id.as_str());
    match (action, plan.destination.update_method) {
        (DeleteAction::Delete, _) => plan.client.delete(endpoint, id).await,
        (DeleteAction::Deactivate, UpdateMethod::Patch) => {
            plan.client
                .patch(endpoint, id, &[PatchOp::set_active(false)])
                .await
        }
        (DeleteAction::Deactivate, UpdateMethod::Put) => {
            let mut body = plan.client.get_resource(endpoint, id).await?;
            if let Some(fields) = body.as_object_mut() {
                fields.remove("meta");
                fields.insert("active".into(), serde_json::Value::Bool(false));
            }
            plan.client.put(endpoint, id, &body).await
        }
    }
}

fn is_not_found(e: &ScimError) -> bool {
    e.http_failure().is_some_and(|f| f.status == 404)
}

/// A correlation found for a change's entry, and how.
pub(crate) struct Known {
    pub correlation: Correlation,
    pub by: FoundBy,
}
