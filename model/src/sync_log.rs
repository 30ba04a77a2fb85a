//! The log of changes: one change the engine handled, as kept, listed and downloaded.

use crate::rejection::Phase;
use crate::report::ChangeOutcome;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct LoggedChange {
    /// Orders changes by time; empty until kept.
    #[serde(default)]
    pub id: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub pipe: String,
    pub phase: Phase,
    pub dn: String,
    /// The endpoint and id of the entry's resource, when it has one.
    pub endpoint: Option<String>,
    pub resource_id: Option<String>,
    pub outcome: ChangeOutcome,
    /// What was done: the operations sent, or why nothing was.
    pub summary: String,
    /// From reading the entry or change to its outcome.
    pub duration_ms: u64,
}
