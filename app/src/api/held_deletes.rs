//! The held-deletes page: the deletes a pipe's limit held back, to approve or discard.

use crate::model::*;
use leptos::prelude::*;

/// Held deletes of a pipe (every pipe when blank), oldest first.
#[server]
pub async fn held_deletes(pipe: String) -> Result<Vec<HeldDelete>, ServerFnError> {
    use super::ssr::{fail, state};
    let pipe = Some(pipe.trim()).filter(|p| !p.is_empty());
    state()?.store.held_deletes(pipe, 1000).await.map_err(fail)
}

/// Applies the given held deletes; a line each saying what came of it.
#[server(input = leptos::server_fn::codec::Json)]
pub async fn approve_held_deletes(ids: Vec<String>) -> Result<Vec<String>, ServerFnError> {
    use super::ssr::{fail, state};
    let st = state()?;
    let config = st.store.load_config().await.map_err(fail)?;
    let mut lines = Vec::new();
    for id in ids {
        lines.push(
            match engine::sync::approve_held_delete(&st.store, &config, &id).await {
                Ok((held, result)) => {
                    let what = result.outcome.describe();
                    super::ssr::audit(&st, "approve-delete", held.audit_target(), &what).await;
                    format!("{}: {what}", held.dn)
                }
                Err(e) => format!("{id}: {e}"),
            },
        );
    }
    Ok(lines)
}

/// Drops the given held deletes (their resources stay); how many there were.
#[server(input = leptos::server_fn::codec::Json)]
pub async fn discard_held_deletes(ids: Vec<String>) -> Result<u32, ServerFnError> {
    use super::ssr::{fail, state};
    let st = state()?;
    let mut n = 0;
    for id in ids {
        if let Some(held) = engine::sync::discard_held_delete(&st.store, &id)
            .await
            .map_err(fail)?
        {
            super::ssr::audit(&st, "discard-delete", held.audit_target(), "").await;
            n += 1;
        }
    }
    Ok(n)
}
