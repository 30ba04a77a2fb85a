//! Preview of one entry (`scimsync preview`, the console's Preview): every step the engine
//! takes with it, in resync's phase, shown without changing anything — or, with `apply`,
//! performed and kept as resync keeps it (correlation, rejection, log of changes).

use super::action_error::ActionError;
use super::apply::EntryWrite;
use super::change_log::log_one;
use super::entry_ids::{Rekeying, connect_settled};
use super::failure::Fail;
use super::outcome::EntryOutcome;
use super::plan::PipePlan;
use super::record::{Origin, record_result};
use super::references::{ResolveError, Resolver};
use crate::config::Config;
use crate::config::UpdateMethod;
use crate::mapping::references::{ReferenceTarget, ResolvedReferences};
use crate::mapping::{LdapEntry, Phase, Purpose, put_body, search_filter};
use crate::store::Store;
pub use model::preview::{ClassMatch, EntryPreview, MappedStep, SearchStep};
use serde_json::{Value, json};

/// Previews (or, with `apply`, synchronises) the entry at `dn` of `pipe`.
pub async fn preview_entry(
    store: &Store,
    config: &Config,
    pipe: &str,
    dn: &str,
    apply: bool,
) -> Result<EntryPreview, ActionError> {
    let mut plan = PipePlan::build(config, pipe, store.cipher(), None)?;
    let attrs = plan.ldap_attributes();
    // A preview that applies nothing changes nothing, how the store keys entries included.
    let conn = connect_settled(&mut plan, store, Rekeying::unless(!apply)).await?;
    let result = steps(store, &plan, &conn, &attrs, dn, apply).await;
    conn.close().await;
    result
}

async fn steps(
    store: &Store,
    plan: &PipePlan,
    conn: &crate::ldap::LdapConnection,
    attrs: &[String],
    dn: &str,
    apply: bool,
) -> Result<EntryPreview, ActionError> {
    let started = std::time::Instant::now();
    let reader: &dyn crate::source::EntryReader = conn;
    let mut preview = EntryPreview {
        pipe: plan.pipe.name.clone(),
        dn: dn.to_owned(),
        entry: None,
        classes: Vec::new(),
        class: None,
        mapped: Vec::new(),
        search: None,
        references: Vec::new(),
        action: "dropped".into(),
        sent: json!("the entry is not in the source"),
        applied: false,
    };
    let Some(entry) = reader.fetch_entry(dn, attrs).await? else {
        return Ok(preview);
    };
    preview.entry = Some(entry.attributes.clone());
    preview.classes = class_matches(plan, &entry);
    let Some(class) = plan.classify(&entry) else {
        preview.action = "out-of-scope".into();
        preview.sent = json!("no sync class takes the entry: nothing is sent");
        return Ok(preview);
    };
    preview.class = Some(class.class.name.clone());
    let Some(mapper) = &class.mapper else {
        preview.action = "skipped".into();
        preview.sent = json!(format!(
            "sync class \"{}\" does not synchronize its entries",
            class.class.name
        ));
        return Ok(preview);
    };
    let fail = Fail {
        pipe: &plan.pipe.name,
        phase: Phase::Resync,
        entry: &entry,
    };
    let resolver = Resolver {
        plan,
        store,
        entries: reader,
        attrs,
        dry_run: !apply,
        unwritten: &[],
    };
    let references = match resolver.resolve(mapper, &entry, &fail).await {
        Ok(references) => references,
        Err(ResolveError::Source(e)) => return Err(e.into()),
        Err(ResolveError::Store(e)) => return Err(e.into()),
        Err(ResolveError::Failed(f)) => {
            let outcome = f.into_outcome();
            preview.action = "rejected".into();
            preview.sent = json!(format!(
                "references could not be resolved: {}",
                outcome.reason().unwrap_or_default()
            ));
            return Ok(preview);
        }
    };
    for (purpose, name) in [(Purpose::Create, "create"), (Purpose::Update, "update")] {
        preview.mapped.push(
            match mapper.map(&entry, purpose, Phase::Resync, &references) {
                Ok(mapped) => MappedStep {
                    purpose: name.into(),
                    resource: Some(mapped.resource),
                    problems: mapped
                        .ignored
                        .iter()
                        .map(|i| {
                            format!(
                                "left out: {} ({}): {}",
                                i.mapping, i.ldap_attribute, i.reason
                            )
                        })
                        .collect(),
                },
                Err(e) => MappedStep {
                    purpose: name.into(),
                    resource: None,
                    problems: vec![e.to_string()],
                },
            },
        );
    }
    preview.references = reference_lines(&references);
    let endpoint = mapper.endpoint.endpoint_path.clone();
    // What the search answered, so the action below needs no second search.
    let mut answered: Option<Vec<Value>> = None;
    preview.search = Some(match search_filter(mapper, &entry) {
        Ok(filter) => {
            let found = plan
                .client
                .search(&endpoint, &filter, plan.destination.query_method)
                .await
                .map(|found| {
                    let ids = found
                        .iter()
                        .filter_map(|r| r.get("id").and_then(Value::as_str).map(str::to_owned))
                        .collect();
                    answered = Some(found);
                    ids
                })
                .map_err(|e| e.to_string());
            SearchStep {
                endpoint,
                filter: Some(filter),
                found,
            }
        }
        Err(e) => SearchStep {
            endpoint,
            filter: None,
            found: Err(e.to_string()),
        },
    });
    let writing = EntryWrite {
        plan,
        class,
        mapper,
        entry: &entry,
        references: &references,
        dry_run: !apply,
        fail: &fail,
    };
    // As `write` decides after its own search: none found is a create, one a modify. An
    // ambiguous or failed search goes through `write`, which rejects it as resync would.
    let current = match answered.as_deref() {
        Some([one]) => Some(one),
        _ => None,
    };
    let applied = match (answered.as_deref(), current) {
        (Some([]), _) => writing.create().await,
        (_, Some(current)) => writing.modify(current, &[]).await,
        _ => writing.write(None).await,
    };
    let (outcome, resource) = match applied {
        Ok(applied) => (applied.outcome, applied.resource),
        Err(f) => (f.into_outcome(), None),
    };
    preview.action = outcome
        .kind()
        .map_or("deferred".to_owned(), |k| k.as_str().to_owned());
    preview.sent = match &outcome {
        EntryOutcome::Created { resource } => json!({"method": "POST", "body": resource}),
        EntryOutcome::Modified { operations } => {
            let update = preview.mapped.iter().find(|m| m.purpose == "update");
            match (
                plan.destination.update_method,
                current,
                update.and_then(|m| m.resource.as_ref()),
            ) {
                (UpdateMethod::Put, Some(current), Some(wanted)) => json!({
                    "method": "PUT",
                    "body": put_body(mapper, wanted, current, Phase::Resync),
                }),
                _ => json!({"method": "PATCH", "operations": operations}),
            }
        }
        EntryOutcome::InSync => json!("the resource is in sync: nothing is sent"),
        other => json!(other.describe()),
    };
    if apply {
        preview.applied = true;
        let result = super::outcome::EntryResult {
            resource,
            entry_id: plan.entry_id(&entry),
            ..super::outcome::EntryResult::new(&entry.dn, Some(class.class.name.clone()), outcome)
        };
        record_result(store, &plan.pipe.name, &result, Origin::default()).await?;
        log_one(
            store,
            &plan.pipe.name,
            Phase::Resync,
            &result,
            started.elapsed(),
        )
        .await?;
    }
    Ok(preview)
}

/// Each class in evaluation order: the first that matches takes the entry.
fn class_matches(plan: &PipePlan, entry: &LdapEntry) -> Vec<ClassMatch> {
    let mut taken = false;
    plan.classes
        .iter()
        .map(|c| {
            let (takes, why) = match (taken, c.why_not(entry)) {
                (true, _) => (
                    false,
                    "not tried: an earlier class takes the entry".to_owned(),
                ),
                (false, Some(why)) => (false, why),
                (false, None) => {
                    taken = true;
                    (
                        true,
                        "its base DNs and filter match: it takes the entry".to_owned(),
                    )
                }
            };
            ClassMatch {
                name: c.class.name.clone(),
                takes,
                why,
            }
        })
        .collect()
}

fn reference_lines(references: &ResolvedReferences) -> Vec<String> {
    references
        .answers()
        .into_iter()
        .map(|(dn, target)| match target {
            ReferenceTarget::Resource(r) => {
                let display = r
                    .display
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default();
                format!("{dn} → {} {}{display}", r.resource_type, r.id)
            }
            ReferenceTarget::Pending { endpoint_mapping } => {
                format!("{dn}: not at the destination yet ({endpoint_mapping}); written when it is")
            }
            ReferenceTarget::OutOfScope => {
                format!("{dn}: in no sync class that synchronizes it; left out")
            }
        })
        .collect()
}
