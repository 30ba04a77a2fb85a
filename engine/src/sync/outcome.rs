//! What synchronising one entry came to: the outcome, the resource, the references.

use super::plan::ClassPlan;
use crate::config::DeleteAction;
use crate::mapping::EndpointMapper;
use crate::mapping::PatchOp;
use crate::mapping::references::ReferenceReport;
use crate::rejection::Rejection;
use crate::report::ChangeOutcome;
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
    /// The resource of a deleted entry (or one that left scope) was deleted.
    Deleted,
    /// The resource of a deleted entry (or one that left scope) was deactivated: its class's
    /// delete-action is `deactivate`.
    Deactivated,
    /// The delete was held back by the pipe's deletion limit until an admin decides.
    Held {
        reason: String,
    },
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
    /// The destination could not be reached, or failed (5xx, timeouts): realtime sync probes
    /// it and pauses, unless it serves the rest; resync counts a rejection.
    Unavailable {
        rejection: Box<Rejection>,
        /// It asked to slow down (429): a pause, never this entry's fault.
        #[serde(default)]
        throttled: bool,
    },
    /// Resync only: held back until the entries of its own endpoint that it refers to (nested
    /// groups, managers) have been written, then applied again.
    Deferred,
}

/// A SCIM resource an entry is synchronised to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRef {
    pub endpoint: String,
    pub id: String,
    /// Its `displayName`, kept for `display` in references to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryResult {
    pub dn: String,
    pub class: Option<String>,
    pub outcome: EntryOutcome,
    /// The resource created, found or modified.
    pub resource: Option<ResourceRef>,
    /// Pending and dropped references, members added and removed.
    #[serde(default)]
    pub references: ReferenceReport,
    /// The entry's stable id (by the attribute that identifies the source's entries), when
    /// known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_id: Option<String>,
    /// How the resource of a deleted entry, or of one that left scope, was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_by: Option<FoundBy>,
    /// The id the entry's correlation was kept under when that is not `entry_id` (found by
    /// DN): the correlation moves to `entry_id`, or goes with the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
}

/// How the resource of an entry was found when it was not to be searched for by the entry's
/// values (the entry is gone, or out of scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FoundBy {
    /// The correlation kept under the entry's stable id.
    EntryId,
    /// The correlation kept for the entry's DN (before a rename), the change naming no id it
    /// is kept under.
    Dn,
    /// A search of the destination by the values of the entry's RDN (before a rename).
    Rdn,
}

impl std::fmt::Display for FoundBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FoundBy::EntryId => "by the entry's id",
            FoundBy::Dn => "by the entry's DN (no correlation under its id)",
            FoundBy::Rdn => "by a search for the entry's RDN (no correlation kept)",
        })
    }
}

impl EntryResult {
    pub(crate) fn new(dn: &str, class: Option<String>, outcome: EntryOutcome) -> EntryResult {
        EntryResult {
            dn: dn.to_owned(),
            class,
            outcome,
            resource: None,
            references: ReferenceReport::default(),
            entry_id: None,
            found_by: None,
            replaces: None,
        }
    }

    /// The entry's resource is at the destination and in line with the entry.
    pub fn synchronized(&self) -> bool {
        matches!(
            self.outcome,
            EntryOutcome::Created { .. } | EntryOutcome::Modified { .. } | EntryOutcome::InSync
        )
    }
}

impl EntryOutcome {
    /// What came of the change, once it is done (`None`: deferred, not done yet). A change
    /// the destination could not take is a rejection.
    pub fn kind(&self) -> Option<ChangeOutcome> {
        Some(match self {
            EntryOutcome::Created { .. } => ChangeOutcome::Created,
            EntryOutcome::Modified { .. } => ChangeOutcome::Modified,
            EntryOutcome::Deleted => ChangeOutcome::Deleted,
            EntryOutcome::Deactivated => ChangeOutcome::Deactivated,
            EntryOutcome::Held { .. } => ChangeOutcome::Held,
            EntryOutcome::InSync => ChangeOutcome::InSync,
            EntryOutcome::OutOfScope => ChangeOutcome::OutOfScope,
            EntryOutcome::Skipped { .. } => ChangeOutcome::Skipped,
            EntryOutcome::Dropped { .. } => ChangeOutcome::Dropped,
            EntryOutcome::Rejected { .. } | EntryOutcome::Unavailable { .. } => {
                ChangeOutcome::Rejected
            }
            EntryOutcome::Deferred => return None,
        })
    }

    /// An unavailable destination's failure kept as a refusal (it serves everything else).
    pub(crate) fn refused(self) -> EntryOutcome {
        match self {
            EntryOutcome::Unavailable { rejection, .. } => EntryOutcome::Rejected { rejection },
            other => other,
        }
    }

    /// What came of it, in a few words for an admin (a retry's or an approval's answer).
    pub fn describe(&self) -> String {
        match self {
            EntryOutcome::Created { .. } => "created".into(),
            EntryOutcome::Modified { .. } => "modified".into(),
            EntryOutcome::InSync => "already in sync".into(),
            EntryOutcome::Deleted => "deleted".into(),
            EntryOutcome::Deactivated => "deactivated".into(),
            EntryOutcome::Held { reason } => format!("held: {reason}"),
            EntryOutcome::OutOfScope => "out of scope now".into(),
            EntryOutcome::Deferred => "deferred".into(),
            EntryOutcome::Skipped { reason } | EntryOutcome::Dropped { reason } => reason.clone(),
            EntryOutcome::Rejected { rejection } | EntryOutcome::Unavailable { rejection, .. } => {
                format!("rejected: {}", rejection.reason)
            }
        }
    }

    /// Why it was rejected or could not be applied.
    pub fn reason(&self) -> Option<&str> {
        match self {
            EntryOutcome::Rejected { rejection } | EntryOutcome::Unavailable { rejection, .. } => {
                Some(&rejection.reason)
            }
            _ => None,
        }
    }
}

impl EntryOutcome {
    /// A resource removed as `action` says.
    pub(crate) fn removed(action: DeleteAction) -> EntryOutcome {
        match action {
            DeleteAction::Delete => EntryOutcome::Deleted,
            DeleteAction::Deactivate => EntryOutcome::Deactivated,
        }
    }
}

impl ClassPlan {
    /// How the class removes the resource of an entry that is deleted or leaves it (its
    /// delete-action, and the mapper that finds the resource); else the outcome of a class
    /// that does not synchronise deletes, or its entries.
    pub(crate) fn removal(&self) -> Result<(DeleteAction, &EndpointMapper), EntryOutcome> {
        if !self.class.synchronize_deletes {
            return Err(self.skips("deletes"));
        }
        match &self.mapper {
            Some(mapper) => Ok((self.class.delete_action, mapper)),
            None => Err(self.skips("its entries")),
        }
    }

    /// The class does not synchronise `what` (creates, modifies, deletes, its entries).
    pub(crate) fn skips(&self, what: &str) -> EntryOutcome {
        EntryOutcome::Skipped {
            reason: format!(
                "sync class \"{}\" does not synchronize {what}",
                self.class.name
            ),
        }
    }
}
