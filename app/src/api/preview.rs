//! The preview page: one entry, every step the engine takes with it.

use crate::model::*;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
async fn run_preview(pipe: &str, dn: &str, apply: bool) -> Result<EntryPreview, ServerFnError> {
    use super::ssr::{action_failed, fail, state};
    let (pipe, dn) = (pipe.trim(), dn.trim());
    if dn.is_empty() {
        return Err(ServerFnError::new(
            "DN: enter the DN of the entry to preview",
        ));
    }
    let st = state()?;
    let config = st.store.load_config().await.map_err(fail)?;
    let preview = engine::sync::preview_entry(&st.store, &config, pipe, dn, apply)
        .await
        .map_err(action_failed)?;
    if apply {
        super::ssr::audit(
            &st,
            "apply-preview",
            preview.audit_target(),
            &preview.action,
        )
        .await;
    }
    Ok(preview)
}

/// What the engine would do with the entry at `dn`; changes nothing.
#[server]
pub async fn preview_entry(pipe: String, dn: String) -> Result<EntryPreview, ServerFnError> {
    run_preview(&pipe, &dn, false).await
}

/// Does what the preview shows, and says what came of it.
#[server]
pub async fn apply_preview(pipe: String, dn: String) -> Result<EntryPreview, ServerFnError> {
    run_preview(&pipe, &dn, true).await
}
