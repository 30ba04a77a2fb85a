//! What a resync or a realtime pipe reports: counts, states, and the statuses that carry them
//! with their times.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct ResyncCounts {
    /// Entries read from the source.
    pub retrieved: u64,
    pub created: u64,
    pub modified: u64,
    pub in_sync: u64,
    pub out_of_scope: u64,
    /// In scope, but the class does not synchronise that operation.
    pub skipped: u64,
    pub rejected: u64,
    /// Reconciliation (`--delete-missing`): managed resources whose entries are gone or out
    /// of scope, deleted, deactivated, or held by the pipe's deletion limit.
    pub deleted: u64,
    pub deactivated: u64,
    pub held: u64,
    /// Entries expected (from a count before the run), for progress.
    pub expected: u64,
    pub finished: bool,
    /// Members (values of multi-valued references) added to and removed from resources.
    pub members_added: u64,
    pub members_removed: u64,
    /// Referenced DNs dropped because they are outside every sync class.
    pub references_out_of_scope: u64,
    /// References written without their target, which is not at the destination.
    pub references_pending: u64,
    /// Entries whose resource was found in a listing of the endpoint (no search of their
    /// own), and entries found by a search each.
    pub found_by_listing: u64,
    pub found_by_search: u64,
    /// Writes went in SCIM Bulk requests.
    pub bulk: bool,
}

impl ResyncCounts {
    /// Which paths the resync took: how resources were found, how writes were sent.
    pub fn paths_text(&self) -> String {
        let writes = if self.bulk {
            "writes in SCIM Bulk requests"
        } else {
            "a request per write"
        };
        format!(
            "{} found from a listing of their endpoint, {} by a search each; {writes}",
            self.found_by_listing, self.found_by_search
        )
    }

    pub fn processed(&self) -> u64 {
        self.created
            + self.modified
            + self.in_sync
            + self.out_of_scope
            + self.skipped
            + self.rejected
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct RealtimeCounts {
    /// Changelog records handled.
    pub changes: u64,
    pub created: u64,
    pub modified: u64,
    pub deleted: u64,
    pub deactivated: u64,
    /// Deletes held back by the deletion limit.
    pub held: u64,
    pub in_sync: u64,
    pub out_of_scope: u64,
    /// The class does not synchronise that operation.
    pub skipped: u64,
    /// Nothing to do (e.g. the entry was gone again, or had no resource to delete).
    pub dropped: u64,
    pub rejected: u64,
    /// Attempts that found the destination unavailable.
    pub retries: u64,
    /// Members (values of multi-valued references) added to and removed from resources.
    pub members_added: u64,
    pub members_removed: u64,
    /// Referenced DNs dropped because they are outside every sync class.
    pub references_out_of_scope: u64,
}

identifiers! {
    /// What came of a change the engine handled, as metrics and the logs of changes name it.
    ChangeOutcome {
        Created = "created",
        Modified = "modified",
        Deleted = "deleted",
        /// Its resource was deactivated (`active: false`) instead of deleted.
        Deactivated = "deactivated",
        /// A delete held back by the pipe's deletion limit until an admin decides.
        Held = "held",
        InSync = "in-sync",
        /// No sync class takes the entry.
        OutOfScope = "out-of-scope",
        /// Its class does not synchronise that operation.
        Skipped = "skipped",
        /// Nothing to do (the entry was gone again, or had no resource to delete).
        Dropped = "dropped",
        Rejected = "rejected",
    }
}

identifiers! {
    /// Where a pipe's realtime sync is; `as_str` is its name in JSON and on pages
    /// (`waiting-for-destination`).
    RealtimeState {
        Starting = "starting",
        Running = "running",
        WaitingForDestination = "waiting-for-destination",
        WaitingForSource = "waiting-for-source",
        /// The store (SQLite or PostgreSQL) cannot be reached or written: nothing is applied
        /// until it answers again, then the pipe resumes from its last checkpoint.
        WaitingForStore = "waiting-for-store",
        Stopped = "stopped",
        Failed = "failed",
    }
}

/// A resync as reported to admins: running or finished, with its counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResyncStatus {
    pub pipe: String,
    pub running: bool,
    pub dry_run: bool,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    pub counts: ResyncCounts,
    /// Why the resync stopped early, if it did.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RealtimeStatus {
    pub pipe: String,
    pub state: RealtimeState,
    pub counts: RealtimeCounts,
    /// Where the changelog has been applied up to.
    pub cursor: Option<String>,
    /// Changes in the source changelog after the cursor, when the source can say.
    pub backlog: Option<u64>,
    /// There are at least `backlog` changes (counting stopped there).
    #[serde(default)]
    pub backlog_at_least: bool,
    /// Changes read and not done yet (across batches: reading goes on past a slow entry).
    pub queue: u64,
    /// Seconds from the source logging the latest change done to its being done (when the
    /// source gives its changes' times).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_seconds: Option<f64>,
    /// The source pushes its changes as they are logged (persistent search, or syncrepl on
    /// the accesslog); otherwise they are polled.
    #[serde(default)]
    pub pushed: bool,
    pub ops_per_second: f64,
    /// The pipe's last problem (source or destination unavailable, a failure), while it lasts.
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The `scimsync serve` instance running it (when run under a lease).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl RealtimeStatus {
    /// The backlog as pages and the CLI say it ("12 changes", "10000 or more changes"), when
    /// the source can say.
    pub fn backlog_text(&self) -> Option<String> {
        let more = if self.backlog_at_least {
            " or more"
        } else {
            ""
        };
        self.backlog.map(|b| format!("{b}{more} changes"))
    }

    /// How new changes reach the pipe.
    pub fn arrival_text(&self) -> &'static str {
        if self.pushed {
            "pushed by the source as they are logged"
        } else {
            "polled from the changelog"
        }
    }

    /// Records a problem, with when it happened.
    pub fn problem(&mut self, state: RealtimeState, error: String) {
        self.state = state;
        self.last_error = Some(error);
        self.last_error_at = Some(chrono::Utc::now());
    }

    /// Running again after waiting for the source or the destination: that problem is over.
    pub fn running(&mut self) {
        if matches!(
            self.state,
            RealtimeState::WaitingForSource
                | RealtimeState::WaitingForDestination
                | RealtimeState::WaitingForStore
        ) {
            self.last_error = None;
            self.last_error_at = None;
        }
        self.state = RealtimeState::Running;
    }
}

#[cfg(test)]
mod tests {
    use super::RealtimeState;

    #[test]
    fn state_names_are_their_json() {
        for state in [
            RealtimeState::Starting,
            RealtimeState::Running,
            RealtimeState::WaitingForDestination,
            RealtimeState::WaitingForSource,
            RealtimeState::WaitingForStore,
            RealtimeState::Stopped,
            RealtimeState::Failed,
        ] {
            assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
        }
    }
}
