//! Synchronising one LDAP entry: classify it, map it, find its SCIM resource, and create or
//! modify that resource (or, in a dry run, say what would be done). The steps are public to
//! the crate so realtime sync can find resources in other ways (by correlation, by a renamed
//! entry's old identity) and reuse the rest.

use super::failure::{Fail, Failure};
use super::find::{Found, find_by_search};
use super::listed::{Correlation, Listing, Listings};
use super::outcome::{EntryOutcome, EntryResult, ResourceRef};
use super::plan::{ClassPlan, PipePlan};
use super::references::Resolver;
use crate::config::{DeleteAction, UpdateMethod};
use crate::mapping::correlation::{SearchKey, compared_digest, entry_key};
use crate::mapping::references::{ReferenceReport, ResolvedReferences};
use crate::mapping::{
    EndpointMapper, LdapEntry, PatchOp, Phase, Purpose, chunk_operations, patch_operations,
    put_body, reference_changes,
};
use crate::rejection::FailedStep;
use serde_json::Value;

/// What creating or modifying one resource came to.
pub(crate) struct Applied {
    pub outcome: EntryOutcome,
    pub resource: Option<ResourceRef>,
    pub references: ReferenceReport,
}

impl Applied {
    fn bare(outcome: EntryOutcome, resource: Option<ResourceRef>) -> Applied {
        Applied {
            outcome,
            resource,
            references: ReferenceReport::default(),
        }
    }
}

/// The entry's resource as a [`ResourceRef`].
fn resource_ref(mapper: &EndpointMapper, entry: &LdapEntry, id: &str) -> ResourceRef {
    ResourceRef {
        endpoint: mapper.endpoint.endpoint_path.clone(),
        id: id.to_owned(),
        display: mapper.display_name(entry),
    }
}

/// One entry on its way to its resource: what every step of writing it needs.
#[derive(Clone, Copy)]
pub(crate) struct EntryWrite<'a> {
    pub plan: &'a PipePlan,
    pub class: &'a ClassPlan,
    pub mapper: &'a EndpointMapper,
    pub entry: &'a LdapEntry,
    pub references: &'a ResolvedReferences,
    pub dry_run: bool,
    pub fail: &'a Fail<'a>,
}

impl EntryWrite<'_> {
    /// Creates the entry's resource.
    pub(crate) async fn create(&self) -> Result<Applied, Failure> {
        let EntryWrite {
            plan,
            class,
            mapper,
            entry,
            references,
            dry_run,
            fail,
        } = *self;
        if !class.class.synchronize_creates {
            return Ok(Applied::bare(class.skips("creates"), None));
        }
        let mapped = mapper
            .map(entry, Purpose::Create, fail.phase, references)
            .map_err(|e| fail.rejected(FailedStep::Map, e.to_string()))?;
        let body = mapped.resource;
        let mut report = mapped.references;
        report.members_added = reference_changes(mapper, &body, None, fail.phase).0;
        let endpoint = mapper.endpoint.endpoint_path.clone();
        let resource = if dry_run {
            None
        } else {
            let created = plan.client.create(&endpoint, &body).await.map_err(|e| {
                fail.scim(
                    FailedStep::Create,
                    &e,
                    Some(plan.client.create_request(&endpoint, &body)),
                )
            })?;
            created
                .get("id")
                .and_then(Value::as_str)
                .map(|id| resource_ref(mapper, entry, id))
        };
        Ok(Applied {
            outcome: EntryOutcome::Created { resource: body },
            resource,
            references: report,
        })
    }

    /// Brings the existing resource `current` in line with the entry; `touched` names the LDAP
    /// attributes the change in hand modified (empty for resync). PATCH operations go in requests
    /// of at most the destination's max-operations-per-patch changes.
    pub(crate) async fn modify(
        &self,
        current: &Value,
        touched: &[String],
    ) -> Result<Applied, Failure> {
        let EntryWrite {
            plan,
            class,
            mapper,
            entry,
            references,
            dry_run,
            fail,
        } = *self;
        let endpoint = mapper.endpoint.endpoint_path.clone();
        let id = current
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                fail.rejected(FailedStep::Search, "the resource found has no id".into())
            })?
            .to_owned();
        let resource = Some(resource_ref(mapper, entry, &id));
        let mapped = mapper
            .map(entry, Purpose::Update, fail.phase, references)
            .map_err(|e| fail.rejected(FailedStep::Map, e.to_string()))?;
        let wanted = mapped.resource;
        let mut report = mapped.references;
        let mut operations = patch_operations(mapper, &wanted, current, fail.phase, touched);
        let reactivate = reactivates(class, &wanted, current);
        if reactivate {
            operations.push(PatchOp::set_active(true));
        }
        if operations.is_empty() {
            return Ok(Applied {
                outcome: EntryOutcome::InSync,
                resource,
                references: report,
            });
        }
        if !class.class.synchronize_modifies {
            return Ok(Applied {
                outcome: class.skips("modifies"),
                resource,
                references: report,
            });
        }
        (report.members_added, report.members_removed) =
            reference_changes(mapper, &wanted, Some(current), fail.phase);
        if !dry_run {
            let client = &plan.client;
            match plan.destination.update_method {
                UpdateMethod::Patch => {
                    let max = plan.destination.max_operations_per_patch as usize;
                    for chunk in chunk_operations(operations.clone(), max) {
                        let result = client.patch(&endpoint, &id, &chunk).await;
                        result.map_err(|e| {
                            fail.scim(
                                FailedStep::Modify,
                                &e,
                                client.patch_request(&endpoint, &id, &chunk).ok(),
                            )
                        })?;
                    }
                }
                UpdateMethod::Put => {
                    let mut body = put_body(mapper, &wanted, current, fail.phase);
                    if reactivate && let Some(fields) = body.as_object_mut() {
                        fields.insert("active".into(), Value::Bool(true));
                    }
                    let result = client.put(&endpoint, &id, &body).await;
                    result.map_err(|e| {
                        fail.scim(
                            FailedStep::Modify,
                            &e,
                            client.put_request(&endpoint, &id, &body).ok(),
                        )
                    })?;
                }
            }
        }
        Ok(Applied {
            outcome: EntryOutcome::Modified { operations },
            resource,
            references: report,
        })
    }
}

/// A resource its class deactivated instead of deleting (delete-action `deactivate`) is active
/// again once its entry is back in scope — unless a mapping decides `active` itself.
fn reactivates(class: &ClassPlan, wanted: &Value, current: &Value) -> bool {
    class.class.delete_action == DeleteAction::Deactivate
        && current.get("active") == Some(&Value::Bool(false))
        && wanted.get("active").is_none()
}

/// The class that synchronises `entry`, with its mapper; otherwise the result for an entry
/// no class synchronises (out of scope, or in a class that excludes its entries).
pub(crate) fn synchronising<'p>(
    plan: &'p PipePlan,
    entry: &LdapEntry,
) -> Result<(&'p ClassPlan, &'p EndpointMapper), Box<EntryResult>> {
    synchronising_in(plan.classify(entry), entry)
}

/// [`synchronising`] with the entry's class already known (`None`: no class holds it).
fn synchronising_in<'p>(
    class: Option<&'p ClassPlan>,
    entry: &LdapEntry,
) -> Result<(&'p ClassPlan, &'p EndpointMapper), Box<EntryResult>> {
    let class = class
        .ok_or_else(|| Box::new(EntryResult::new(&entry.dn, None, EntryOutcome::OutOfScope)))?;
    match &class.mapper {
        Some(mapper) => Ok((class, mapper)),
        None => Err(Box::new(EntryResult::new(
            &entry.dn,
            Some(class.class.name.clone()),
            class.skips("its entries"),
        ))),
    }
}

/// Creates the entry's resource, or modifies the one it corresponds to, with its references
/// resolved: found in the resync's listing of the endpoint when there is one (no request for
/// an entry in sync), else by a search with the endpoint's search mappings.
impl EntryWrite<'_> {
    pub(crate) async fn write(&self, listings: Option<&Listings>) -> Result<Applied, Failure> {
        let EntryWrite {
            plan,
            mapper,
            entry,
            fail,
            ..
        } = *self;
        if let Some(listings) = listings {
            let listed = match listings.get(&mapper.endpoint.name) {
                Some(listing) => self.write_listed(&listing).await?,
                None => None,
            };
            listings.count(listed.is_some());
            if let Some(applied) = listed {
                return Ok(applied);
            }
        }
        match find_by_search(plan, mapper, entry, fail).await? {
            Found::None => self.create().await,
            Found::One(current) => self.modify(&current, &[]).await,
        }
    }

    /// [`Self::write`] with the resource found in `listing`; `None` when the listing cannot tell (the
    /// service's search must).
    async fn write_listed(&self, listing: &Listing) -> Result<Option<Applied>, Failure> {
        let EntryWrite {
            plan,
            mapper,
            entry,
            references,
            fail,
            ..
        } = *self;
        let key =
            entry_key(mapper, entry).map_err(|e| fail.rejected(FailedStep::Map, e.to_string()))?;
        let (id, digest) = match listing.correlate(key) {
            Correlation::Search => return Ok(None),
            Correlation::New => {
                return self.create_listed(listing, key).await.map(Some);
            }
            Correlation::Listed { id, digest } => (id, digest),
        };
        if let Some(digest) = digest {
            let mapped = mapper
                .map(entry, Purpose::Update, fail.phase, references)
                .map_err(|e| fail.rejected(FailedStep::Map, e.to_string()))?;
            if compared_digest(mapper, &mapped.resource) == digest {
                return Ok(Some(Applied {
                    outcome: EntryOutcome::InSync,
                    resource: Some(resource_ref(mapper, entry, &id)),
                    references: mapped.references,
                }));
            }
        }
        let endpoint = mapper.endpoint.endpoint_path.as_str();
        let current = match plan.client.get_resource(endpoint, &id).await {
            Ok(current) => current,
            // Gone since the listing: the entry has no resource any more.
            Err(e) if e.http_failure().is_some_and(|f| f.status == 404) => {
                return self.create_listed(listing, key).await.map(Some);
            }
            Err(e) => return Err(fail.scim(FailedStep::Search, &e, None)),
        };
        self.modify(&current, &[]).await.map(Some)
    }

    /// Creates the entry's resource and adds it to `listing`.
    async fn create_listed(&self, listing: &Listing, key: SearchKey) -> Result<Applied, Failure> {
        let applied = self.create().await?;
        if let Some(resource) = &applied.resource {
            listing.created(key, &resource.id);
        }
        Ok(applied)
    }
}

/// Brings the entry's SCIM resource in line with the entry (of `class`, as the plan
/// classified it), finding it in `listings` or by search. With
/// `defer_within`, an entry whose pending references go to one of those endpoint mappings is
/// not written but [`EntryOutcome::Deferred`] (resync writes it once they exist).
pub(crate) async fn apply_entry(
    plan: &PipePlan,
    resolver: &Resolver<'_>,
    entry: &LdapEntry,
    class: Option<&ClassPlan>,
    phase: Phase,
    defer_within: &[String],
    listings: &Listings,
) -> EntryResult {
    let (class, mapper) = match synchronising_in(class, entry) {
        Ok(found) => found,
        Err(none) => return *none,
    };
    let class_name = Some(class.class.name.clone());
    let fail = Fail {
        pipe: &plan.pipe.name,
        phase,
        entry,
    };
    let dry_run = resolver.dry_run;
    let result = async {
        let references = resolver
            .resolve(mapper, entry, &fail)
            .await
            .map_err(|e| fail.unresolved(e))?;
        if references
            .pending_endpoints()
            .iter()
            .any(|e| defer_within.iter().any(|d| d == e))
        {
            return Ok(Applied::bare(EntryOutcome::Deferred, None));
        }
        let writing = EntryWrite {
            plan,
            class,
            mapper,
            entry,
            references: &references,
            dry_run,
            fail: &fail,
        };
        writing.write(Some(listings)).await
    }
    .await;
    let applied = result.unwrap_or_else(|f| Applied::bare(f.into_outcome(), None));
    EntryResult {
        dn: entry.dn.clone(),
        class: class_name,
        outcome: applied.outcome,
        resource: applied.resource,
        references: applied.references,
        entry_id: plan.entry_id(entry),
        found_by: None,
        replaces: None,
    }
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
