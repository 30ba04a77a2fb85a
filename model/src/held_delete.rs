//! Deletion safety: what a sync class does with the resource of an entry that is deleted or
//! leaves scope, and a delete held back by its pipe's deletion limit until an admin decides.

use serde::{Deserialize, Serialize};

identifiers! {
    /// What becomes of the resource of an entry that is deleted or leaves scope.
    #[derive(Default)]
    DeleteAction {
        /// `DELETE` the resource.
        #[default]
        Delete = "delete",
        /// Keep it, with `active: false` (as Okta and Entra do); it is reactivated when the
        /// entry comes back.
        Deactivate = "deactivate",
    }
}

/// A delete the pipe's limit held back: not applied, not lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct HeldDelete {
    /// Orders held deletes by time; empty until kept.
    #[serde(default)]
    pub id: String,
    pub held_at: chrono::DateTime<chrono::Utc>,
    pub pipe: String,
    /// The entry as it was last known.
    pub dn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_id: Option<String>,
    pub class: String,
    pub endpoint: String,
    pub resource_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    pub action: DeleteAction,
    /// Why the resource would go (the entry was deleted, or left scope) and why it was held.
    pub reason: String,
}

impl HeldDelete {
    /// What the audit log names when an admin approves or discards it.
    pub fn audit_target(&self) -> String {
        format!(
            "held {} of \"{}\" ({} {}, pipe \"{}\")",
            self.action, self.dn, self.endpoint, self.resource_id, self.pipe
        )
    }
}
