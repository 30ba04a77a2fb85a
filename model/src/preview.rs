//! Preview of one entry: every step the engine takes with it — the entry as read, which sync
//! class takes it and why the others do not, the resource mapped, the destination search,
//! references, and the action with what it sends — done (`applied`) or only shown.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct EntryPreview {
    pub pipe: String,
    pub dn: String,
    /// The entry as read (attribute → values, as the pipe reads them); `None`: not in the source.
    pub entry: Option<BTreeMap<String, Vec<String>>>,
    /// The pipe's classes in evaluation order, each with whether it takes the entry and why.
    pub classes: Vec<ClassMatch>,
    /// The class that takes the entry.
    pub class: Option<String>,
    /// The resource mapped for creating and for updating (resync usages).
    pub mapped: Vec<MappedStep>,
    /// The destination search for the entry's resource.
    pub search: Option<SearchStep>,
    /// References to other entries: resolved, pending, dropped.
    pub references: Vec<String>,
    /// What comes of it (an outcome identifier: created, modified, in-sync, out-of-scope,
    /// skipped, dropped, rejected).
    pub action: String,
    /// What is (or was) sent: the POST body, the PATCH operations or the PUT body; or the
    /// reason nothing is.
    pub sent: Value,
    /// The action was performed (`--apply`), not only shown.
    pub applied: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ClassMatch {
    pub name: String,
    pub takes: bool,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct MappedStep {
    /// `create` or `update`.
    pub purpose: String,
    pub resource: Option<Value>,
    /// Why it could not be mapped, or values left out.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct SearchStep {
    pub endpoint: String,
    pub filter: Option<String>,
    /// The ids found, or why the search could not run.
    pub found: Result<Vec<String>, String>,
}

impl EntryPreview {
    /// What the audit log names when an admin applies it.
    pub fn audit_target(&self) -> String {
        format!("entry \"{}\" of sync pipe \"{}\"", self.dn, self.pipe)
    }
}
