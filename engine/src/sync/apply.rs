//! Synchronising one LDAP entry: classify it, map it, find its SCIM resource, and create or
//! modify that resource (or, in a dry run, say what would be done).

use super::plan::PipePlan;
use super::rejection::Rejection;
use crate::config::UpdateMethod;
use crate::mapping::{
    LdapEntry, PatchOp, Phase, Purpose, patch_operations, put_body, search_filter,
};
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
    /// No sync class matches the entry.
    OutOfScope,
    /// The matching class does not synchronise this kind of change.
    Skipped {
        reason: String,
    },
    Rejected {
        rejection: Box<Rejection>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryResult {
    pub dn: String,
    pub class: Option<String>,
    pub outcome: EntryOutcome,
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Resync => "resync",
        Phase::Realtime => "realtime",
    }
}

/// Brings the entry's SCIM resource in line with the entry.
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
        };
    };
    let class_name = class.class.name.clone();
    let outcome = match &class.mapper {
        None => EntryOutcome::Skipped {
            reason: format!("sync class \"{class_name}\" does not synchronize its entries"),
        },
        Some(mapper) => {
            let reject = |operation: &str, reason: String| {
                Rejection::new(&plan.pipe.name, phase_name(phase), entry, operation, reason)
            };
            let rejected = |r: Rejection| EntryOutcome::Rejected {
                rejection: Box::new(r),
            };
            let endpoint = mapper.endpoint.endpoint_path.as_str();
            let client = &plan.client;
            let result: Result<EntryOutcome, Rejection> = async {
                let filter =
                    search_filter(mapper, entry).map_err(|e| reject("map", e.to_string()))?;
                let query = plan.destination.query_method;
                let found = client.search(endpoint, &filter, query).await.map_err(|e| {
                    reject("search", e.to_string()).with_exchange(
                        Some(client.search_request(endpoint, &filter, query)),
                        Some(&e),
                    )
                })?;
                match found.as_slice() {
                    [] => {
                        if !class.class.synchronize_creates {
                            return Ok(EntryOutcome::Skipped {
                                reason: format!(
                                    "sync class \"{class_name}\" does not synchronize creates"
                                ),
                            });
                        }
                        let mapped = mapper
                            .map(entry, Purpose::Create, phase)
                            .map_err(|e| reject("map", e.to_string()))?;
                        let body = mapped.resource;
                        if !dry_run {
                            client.create(endpoint, &body).await.map_err(|e| {
                                reject("create", e.to_string()).with_exchange(
                                    Some(client.create_request(endpoint, &body)),
                                    Some(&e),
                                )
                            })?;
                        }
                        Ok(EntryOutcome::Created { resource: body })
                    }
                    [current] => {
                        let id = current.get("id").and_then(Value::as_str).ok_or_else(|| {
                            reject(
                                "search",
                                format!("the resource found by {filter} has no id"),
                            )
                        })?;
                        let wanted = mapper
                            .map(entry, Purpose::Update, phase)
                            .map_err(|e| reject("map", e.to_string()))?
                            .resource;
                        let operations = patch_operations(mapper, &wanted, current, phase);
                        if operations.is_empty() {
                            return Ok(EntryOutcome::InSync);
                        }
                        if !class.class.synchronize_modifies {
                            return Ok(EntryOutcome::Skipped {
                                reason: format!(
                                    "sync class \"{class_name}\" does not synchronize modifies"
                                ),
                            });
                        }
                        if !dry_run {
                            let (request, result) = match plan.destination.update_method {
                                UpdateMethod::Patch => (
                                    client.patch_request(endpoint, id, &operations),
                                    client.patch(endpoint, id, &operations).await,
                                ),
                                UpdateMethod::Put => {
                                    let body = put_body(mapper, &wanted, current, phase);
                                    (
                                        client.put_request(endpoint, id, &body),
                                        client.put(endpoint, id, &body).await,
                                    )
                                }
                            };
                            result.map_err(|e| {
                                reject("modify", e.to_string())
                                    .with_exchange(request.ok(), Some(&e))
                            })?;
                        }
                        Ok(EntryOutcome::Modified { operations })
                    }
                    many => Err(reject(
                        "search",
                        format!(
                            "{} resources match {filter}; the entry's resource must be unique",
                            many.len()
                        ),
                    )
                    .with_exchange(Some(client.search_request(endpoint, &filter, query)), None)),
                }
            }
            .await;
            result.unwrap_or_else(rejected)
        }
    };
    EntryResult {
        dn: entry.dn.clone(),
        class: Some(class_name),
        outcome,
    }
}
