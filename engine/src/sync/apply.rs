//! Synchronising one LDAP entry: classify it, map it, find its SCIM resource, and create or
//! modify that resource (or, in a dry run, say what would be done). The steps are public to
//! the crate so realtime sync can find resources in other ways (by correlation, by a renamed
//! entry's old identity) and reuse the rest.

use super::plan::{ClassPlan, PipePlan};
use super::references::{ResolveError, Resolver};
use super::rejection::Rejection;
use crate::config::UpdateMethod;
use crate::mapping::references::{ReferenceReport, ResolvedReferences};
use crate::mapping::{
    EndpointMapper, LdapEntry, PatchOp, Phase, Purpose, chunk_operations, patch_operations,
    put_body, reference_changes, search_filter,
};
use crate::scim::{ScimError, SentRequest};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum EntryOutcome {
    /// Created (or, in a dry run, would be) with this body.
    Created {
        resource: Value,
    },
    /// Modified (or would be) with these operations (PATCH) or this body (PUT).
    Modified {
        operations: Vec<PatchOp>,
    },
    InSync,
    /// The resource of a deleted entry was deleted.
    Deleted,
    /// No sync class matches the entry.
    OutOfScope,
    /// The matching class does not synchronise this kind of change.
    Skipped {
        reason: String,
    },
    /// Nothing to do, for a reason worth counting (e.g. the entry is gone again).
    Dropped {
        reason: String,
    },
    Rejected {
        rejection: Box<Rejection>,
    },
    /// The destination could not be reached; realtime sync retries, resync counts a rejection.
    Unavailable {
        rejection: Box<Rejection>,
    },
    /// Resync only: held back until the entries of its own endpoint that it refers to (nested
    /// groups, managers) have been written, then applied again.
    Deferred,
}

/// A SCIM resource an entry is synchronised to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRef {
    pub endpoint: String,
    pub id: String,
    /// Its `displayName`, kept for `display` in references to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryResult {
    pub dn: String,
    pub class: Option<String>,
    pub outcome: EntryOutcome,
    /// The resource created, found or modified.
    pub resource: Option<ResourceRef>,
    /// Pending and dropped references, members added and removed.
    #[serde(default)]
    pub references: ReferenceReport,
    /// The entry's stable id (entryUUID / nsUniqueId), when it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_id: Option<String>,
}

impl EntryResult {
    pub(crate) fn new(dn: &str, class: Option<String>, outcome: EntryOutcome) -> EntryResult {
        EntryResult {
            dn: dn.to_owned(),
            class,
            outcome,
            resource: None,
            references: ReferenceReport::default(),
            entry_id: None,
        }
    }

    /// The entry's resource is at the destination and in line with the entry.
    pub fn synchronized(&self) -> bool {
        matches!(
            self.outcome,
            EntryOutcome::Created { .. } | EntryOutcome::Modified { .. } | EntryOutcome::InSync
        )
    }
}

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

pub(crate) fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Resync => "resync",
        Phase::Realtime => "realtime",
    }
}

/// Whether an error means the destination is down (so retrying later may succeed) rather
/// than that it refused this operation.
fn is_outage(e: &ScimError) -> bool {
    match e {
        ScimError::Transport { .. } => true,
        ScimError::GaveUp { last, .. } => is_outage(last),
        ScimError::Status(f) => f.status == 429 || f.status >= 500,
        _ => false,
    }
}

/// A step that did not work: the rejection to keep, and whether the destination was down.
pub(crate) struct Failure {
    rejection: Rejection,
    outage: bool,
}

impl Failure {
    /// Says what was being done when it failed, before the reason.
    pub(crate) fn while_doing(mut self, doing: &str) -> Failure {
        self.rejection.reason = format!("{doing}: {}", self.rejection.reason);
        self
    }

    pub(crate) fn into_outcome(self) -> EntryOutcome {
        let rejection = Box::new(self.rejection);
        if self.outage {
            EntryOutcome::Unavailable { rejection }
        } else {
            EntryOutcome::Rejected { rejection }
        }
    }
}

/// Builds failures for one entry in one phase.
pub(crate) struct Fail<'a> {
    pub pipe: &'a str,
    pub phase: Phase,
    pub entry: &'a LdapEntry,
}

impl Fail<'_> {
    pub(crate) fn rejected(&self, operation: &str, reason: String) -> Failure {
        Failure {
            rejection: Rejection::new(
                self.pipe,
                phase_name(self.phase),
                self.entry,
                operation,
                reason,
            ),
            outage: false,
        }
    }

    /// The source could not be read: like a destination outage, worth retrying.
    pub(crate) fn source_down(&self, operation: &str, reason: String) -> Failure {
        Failure {
            outage: true,
            ..self.rejected(operation, reason)
        }
    }

    /// References could not be resolved; the entry is not written.
    pub(crate) fn unresolved(&self, e: ResolveError) -> Failure {
        match e {
            ResolveError::Failed(f) => *f,
            ResolveError::Source(e) => {
                self.source_down("read", format!("reading a referenced entry: {e}"))
            }
            ResolveError::Store(e) => {
                self.rejected("read", format!("looking up referenced entries: {e}"))
            }
        }
    }

    pub(crate) fn scim(
        &self,
        operation: &str,
        error: &ScimError,
        request: Option<SentRequest>,
    ) -> Failure {
        let rejection = Rejection::new(
            self.pipe,
            phase_name(self.phase),
            self.entry,
            operation,
            error.to_string(),
        )
        .with_exchange(request, Some(error));
        Failure {
            rejection,
            outage: is_outage(error),
        }
    }
}

/// What a search by the endpoint's search mappings found.
pub(crate) enum Found {
    None,
    One(Value),
}

pub(crate) async fn find_by_search(
    plan: &PipePlan,
    mapper: &EndpointMapper,
    entry: &LdapEntry,
    fail: &Fail<'_>,
) -> Result<Found, Failure> {
    let filter = search_filter(mapper, entry).map_err(|e| fail.rejected("map", e.to_string()))?;
    let endpoint = mapper.endpoint.endpoint_path.as_str();
    let query = plan.destination.query_method;
    let request = || Some(plan.client.search_request(endpoint, &filter, query));
    let found = plan
        .client
        .search(endpoint, &filter, query)
        .await
        .map_err(|e| fail.scim("search", &e, request()))?;
    match found.len() {
        0 => Ok(Found::None),
        1 => Ok(Found::One(found.into_iter().next().expect("one"))),
        n => {
            let mut failure = fail.rejected(
                "search",
                format!("{n} resources match {filter}; the entry's resource must be unique"),
            );
            failure.rejection = failure.rejection.with_exchange(request(), None);
            Err(failure)
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

pub(crate) async fn create(
    plan: &PipePlan,
    class: &ClassPlan,
    mapper: &EndpointMapper,
    entry: &LdapEntry,
    references: &ResolvedReferences,
    dry_run: bool,
    fail: &Fail<'_>,
) -> Result<Applied, Failure> {
    if !class.class.synchronize_creates {
        return Ok(Applied::bare(class.skips("creates"), None));
    }
    let mapped = mapper
        .map(entry, Purpose::Create, fail.phase, references)
        .map_err(|e| fail.rejected("map", e.to_string()))?;
    let body = mapped.resource;
    let mut report = mapped.references;
    report.members_added = reference_changes(mapper, &body, None, fail.phase).0;
    let endpoint = mapper.endpoint.endpoint_path.clone();
    let resource = if dry_run {
        None
    } else {
        let created = plan.client.create(&endpoint, &body).await.map_err(|e| {
            fail.scim(
                "create",
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
#[allow(clippy::too_many_arguments)]
pub(crate) async fn modify(
    plan: &PipePlan,
    class: &ClassPlan,
    mapper: &EndpointMapper,
    entry: &LdapEntry,
    current: &Value,
    touched: &[String],
    references: &ResolvedReferences,
    dry_run: bool,
    fail: &Fail<'_>,
) -> Result<Applied, Failure> {
    let endpoint = mapper.endpoint.endpoint_path.clone();
    let id = current
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| fail.rejected("search", "the resource found has no id".into()))?
        .to_owned();
    let resource = Some(resource_ref(mapper, entry, &id));
    let mapped = mapper
        .map(entry, Purpose::Update, fail.phase, references)
        .map_err(|e| fail.rejected("map", e.to_string()))?;
    let wanted = mapped.resource;
    let mut report = mapped.references;
    let operations = patch_operations(mapper, &wanted, current, fail.phase, touched);
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
                            "modify",
                            &e,
                            client.patch_request(&endpoint, &id, &chunk).ok(),
                        )
                    })?;
                }
            }
            UpdateMethod::Put => {
                let body = put_body(mapper, &wanted, current, fail.phase);
                let result = client.put(&endpoint, &id, &body).await;
                result.map_err(|e| {
                    fail.scim("modify", &e, client.put_request(&endpoint, &id, &body).ok())
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

/// Brings the entry's SCIM resource in line with the entry, finding it by search. With
/// `defer_within`, an entry whose pending references go to one of those endpoint mappings is
/// not written but [`EntryOutcome::Deferred`] (resync writes it once they exist).
pub(crate) async fn apply_entry(
    plan: &PipePlan,
    resolver: &Resolver<'_>,
    entry: &LdapEntry,
    phase: Phase,
    defer_within: &[String],
) -> EntryResult {
    let Some(class) = plan.classify(entry) else {
        return EntryResult::new(&entry.dn, None, EntryOutcome::OutOfScope);
    };
    let class_name = Some(class.class.name.clone());
    let Some(mapper) = &class.mapper else {
        return EntryResult::new(&entry.dn, class_name, class.skips("its entries"));
    };
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
        match find_by_search(plan, mapper, entry, &fail).await? {
            Found::None => create(plan, class, mapper, entry, &references, dry_run, &fail).await,
            Found::One(current) => {
                modify(
                    plan,
                    class,
                    mapper,
                    entry,
                    &current,
                    &[],
                    &references,
                    dry_run,
                    &fail,
                )
                .await
            }
        }
    }
    .await;
    let applied = result.unwrap_or_else(|f| Applied::bare(f.into_outcome(), None));
    EntryResult {
        dn: entry.dn.clone(),
        class: class_name,
        outcome: applied.outcome,
        resource: applied.resource,
        references: applied.references,
        entry_id: entry.entry_id().map(str::to_owned),
    }
}
