//! What a resync or a realtime pipe reports, as stored, shown in the console and printed by
//! the CLI: the counts and states (from the shared `model` crate) and the statuses that carry
//! them with their times. Plain data, kept apart from the sync machinery so the store and the
//! console can use it without depending on how sync runs.

pub use model::report::{RealtimeCounts, RealtimeState, ResyncCounts};
use serde::{Deserialize, Serialize};

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
    /// Changes in the source changelog not applied yet (draft-good changelogs only).
    pub backlog: Option<u64>,
    /// Changes read and not done yet (across batches: reading goes on past a slow entry).
    pub queue: u64,
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
    /// Records a problem, with when it happened.
    pub(crate) fn problem(&mut self, state: RealtimeState, error: String) {
        self.state = state;
        self.last_error = Some(error);
        self.last_error_at = Some(chrono::Utc::now());
    }

    /// Running again after waiting for the source or the destination: that problem is over.
    pub(crate) fn running(&mut self) {
        if matches!(
            self.state,
            RealtimeState::WaitingForSource | RealtimeState::WaitingForDestination
        ) {
            self.last_error = None;
            self.last_error_at = None;
        }
        self.state = RealtimeState::Running;
    }
}
