//! `scimsync deletes list | approve | discard`: the deletes a pipe's limit held back.

use crate::cli::{DeleteAction, HeldSelect, InstanceArgs};
use crate::output::say;
use engine::store::{HeldDelete, Store};
use std::process::ExitCode;

/// Held deletes listed or acted on at once, at most.
const MOST: u32 = 100_000;

pub async fn run(instance: &InstanceArgs, action: DeleteAction) -> anyhow::Result<ExitCode> {
    let store = instance.open_store().await?;
    match action {
        DeleteAction::List { pipe, json } => {
            let held = store.held_deletes(pipe.as_deref(), MOST).await?;
            if json {
                say!("{}", serde_json::to_string_pretty(&held)?);
            } else if held.is_empty() {
                say!("No held deletes.");
            }
            for h in held.iter().filter(|_| !json) {
                say!(
                    "{}  {}  {}  {:<10} {}  {} {}\n    {}",
                    h.id,
                    h.held_at.format("%Y-%m-%d %H:%M:%S"),
                    h.pipe,
                    h.action,
                    h.dn,
                    h.endpoint,
                    h.resource_id,
                    h.reason
                );
            }
        }
        DeleteAction::Approve(select) => {
            let config = store.load_config().await?;
            let mut failed = 0;
            for id in ids(&store, select).await? {
                match engine::sync::approve_held_delete(&store, &config, &id).await {
                    Ok((held, result)) => {
                        let what = result.outcome.describe();
                        crate::instance::audit(
                            &store,
                            "approve-delete",
                            &held.audit_target(),
                            &what,
                        )
                        .await;
                        if result.outcome.reason().is_some() {
                            failed += 1;
                        }
                        say!("{id} {}: {what}", held.dn);
                    }
                    Err(e) => {
                        failed += 1;
                        eprintln!("{id}: {e}");
                    }
                }
            }
            if failed > 0 {
                return Ok(ExitCode::from(3));
            }
        }
        DeleteAction::Discard(select) => {
            for id in ids(&store, select).await? {
                match engine::sync::discard_held_delete(&store, &id).await? {
                    Some(held) => {
                        crate::instance::audit(&store, "discard-delete", &held.audit_target(), "")
                            .await;
                        say!("{id} {}: discarded; the resource stays", held.dn);
                    }
                    None => say!("{id}: there is no such held delete"),
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn ids(store: &Store, select: HeldSelect) -> anyhow::Result<Vec<String>> {
    if !select.all {
        return Ok(select.ids);
    }
    let held: Vec<HeldDelete> = store.held_deletes(select.pipe.as_deref(), MOST).await?;
    Ok(held.into_iter().map(|h| h.id).collect())
}
