//! Who is signed in, and the audit log.

use crate::model::{AuditRow, SignedIn};
use leptos::prelude::*;

/// Server functions a viewer may call: they only read. Every other one is refused to
/// viewers by the access guard, so a new server function is protected by default.
pub const VIEWER_SERVER_FNS: &[&str] = &[
    "setup_status",
    "list_objects",
    "load_object_form",
    "pipe_startpoints",
    "realtime_pipes",
    "rejected_operations",
    "resync_pipes",
    "whoami",
    "audit_entries",
    "endpoint_graph",
    "logged_changes",
    "held_deletes",
    "preview_entry",
    "pipes_overview",
];

#[server]
pub async fn whoami() -> Result<Option<SignedIn>, ServerFnError> {
    Ok(super::ssr::signed_in_user().map(|u| SignedIn {
        username: u.username,
        role: u.role,
    }))
}

/// The newest audit entries first.
#[server]
pub async fn audit_entries(limit: u32) -> Result<Vec<AuditRow>, ServerFnError> {
    use super::ssr::{fail, state};
    let entries = state()?
        .store
        .audit_log(limit.clamp(1, 1000))
        .await
        .map_err(fail)?;
    Ok(entries
        .into_iter()
        .map(|e| AuditRow {
            at: e.at,
            actor: e.actor,
            action: e.action,
            target: e.target,
            detail: e.detail,
        })
        .collect())
}
