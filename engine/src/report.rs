//! What a resync or a realtime pipe reports, as stored, shown in the console and printed by
//! the CLI: the counts, states and statuses, defined in the shared `model` crate. Plain data, kept apart from the sync machinery so the store and the
//! console can use it without depending on how sync runs.

pub use model::report::{
    ChangeOutcome, RealtimeCounts, RealtimeState, RealtimeStatus, ResyncCounts, ResyncStatus,
};
