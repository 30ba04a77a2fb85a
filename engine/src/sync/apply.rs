//! Synchronising one LDAP entry: classify it, map it, find its SCIM resource, and create or
//! modify that resource (or, in a dry run, say what would be done). The steps are public to
//! the crate so realtime sync can find resources in other ways (by correlation, by a renamed
//! entry's old identity) and reuse the rest.

use super::plan::{ClassPlan, PipePlan};
use super::rejection::Rejection;
use crate::config::UpdateMethod;
use crate::mapping::{
    EndpointMapper, LdapEntry, PatchOp, Phase, Purpose, patch_operations, put_body, search_filter,
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
}

/// A SCIM resource an entry is synchronised to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRef {
    pub endpoint: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryResult {
    pub dn: String,
    pub class: Option<String>,
    pub outcome: EntryOutcome,
    /// The resource created, found or modified.
    pub resource: Option<ResourceRef>,
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

pub(crate) async fn create(
    plan: &PipePlan,
    class: &ClassPlan,
    mapper: &EndpointMapper,
    entry: &LdapEntry,
    dry_run: bool,
    fail: &Fail<'_>,
) -> Result<(EntryOutcome, Option<ResourceRef>), Failure> {
    if !class.class.synchronize_creates {
        return Ok((
            EntryOutcome::Skipped {
                reason: format!(
                    "sync class \"{}\" does not synchronize creates",
                    class.class.name
                ),
            },
            None,
        ));
    }
    let body = mapper
        .map(entry, Purpose::Create, fail.phase)
        .map_err(|e| fail.rejected("map", e.to_string()))?
        .resource;
    let endpoint = mapper.endpoint.endpoint_path.clone();
    if dry_run {
        return Ok((EntryOutcome::Created { resource: body }, None));
    }
    let created = plan.client.create(&endpoint, &body).await.map_err(|e| {
        fail.scim(
            "create",
            &e,
            Some(plan.client.create_request(&endpoint, &body)),
        )
    })?;
    let id = created
        .get("id")
        .and_then(Value::as_str)
        .map(|id| ResourceRef {
            endpoint,
            id: id.to_owned(),
        });
    Ok((EntryOutcome::Created { resource: body }, id))
}

/// Brings the existing resource `current` in line with the entry; `touched` names the LDAP
/// attributes the change in hand modified (empty for resync).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn modify(
    plan: &PipePlan,
    class: &ClassPlan,
    mapper: &EndpointMapper,
    entry: &LdapEntry,
    current: &Value,
    touched: &[String],
    dry_run: bool,
    fail: &Fail<'_>,
) -> Result<(EntryOutcome, Option<ResourceRef>), Failure> {
    let endpoint = mapper.endpoint.endpoint_path.clone();
    let id = current
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| fail.rejected("search", "the resource found has no id".into()))?
        .to_owned();
    let resource = Some(ResourceRef {
        endpoint: endpoint.clone(),
        id: id.clone(),
    });
    let wanted = mapper
        .map(entry, Purpose::Update, fail.phase)
        .map_err(|e| fail.rejected("map", e.to_string()))?
        .resource;
    let operations = patch_operations(mapper, &wanted, current, fail.phase, touched);
    if operations.is_empty() {
        return Ok((EntryOutcome::InSync, resource));
    }
    if !class.class.synchronize_modifies {
        let reason = format!(
            "sync class \"{}\" does not synchronize modifies",
            class.class.name
        );
        return Ok((EntryOutcome::Skipped { reason }, resource));
    }
    if !dry_run {
        let client = &plan.client;
        let (request, result) = match plan.destination.update_method {
            UpdateMethod::Patch => (
                client.patch_request(&endpoint, &id, &operations),
                client.patch(&endpoint, &id, &operations).await,
            ),
            UpdateMethod::Put => {
                let body = put_body(mapper, &wanted, current, fail.phase);
                (
                    client.put_request(&endpoint, &id, &body),
                    client.put(&endpoint, &id, &body).await,
                )
            }
        };
        result.map_err(|e| fail.scim("modify", &e, request.ok()))?;
    }
    Ok((EntryOutcome::Modified { operations }, resource))
}

/// Brings the entry's SCIM resource in line with the entry, finding it by search.
pub async fn apply_entry(
    plan: &PipePlan,
    entry: &LdapEntry,
    phase: Phase,
    dry_run: bool,
) -> EntryResult {
    let Some(class) = plan.classify(entry) else {
        return EntryResult {
            dn: entry.dn.clone(),
            class: None,
            outcome: EntryOutcome::OutOfScope,
            resource: None,
        };
    };
    let class_name = Some(class.class.name.clone());
    let Some(mapper) = &class.mapper else {
        let reason = format!(
            "sync class \"{}\" does not synchronize its entries",
            class.class.name
        );
        return EntryResult {
            dn: entry.dn.clone(),
            class: class_name,
            outcome: EntryOutcome::Skipped { reason },
            resource: None,
        };
    };
    let fail = Fail {
        pipe: &plan.pipe.name,
        phase,
        entry,
    };
    let result = async {
        match find_by_search(plan, mapper, entry, &fail).await? {
            Found::None => create(plan, class, mapper, entry, dry_run, &fail).await,
            Found::One(current) => {
                modify(plan, class, mapper, entry, &current, &[], dry_run, &fail).await
            }
        }
    }
    .await;
    let (outcome, resource) = result.unwrap_or_else(|f| (f.into_outcome(), None));
    EntryResult {
        dn: entry.dn.clone(),
        class: class_name,
        outcome,
        resource,
    }
}
