//! Synchronising entries of a sync pipe into its SCIM destination.
//!
//! * [`plan`] — a pipe resolved from the configuration: classes, mappers, SCIM client.
//! * `find`, [`apply`] — one entry: find its resource, create or modify it; `failure` — what
//!   is kept when a step fails, and whether to retry; [`outcome`] — what it came to.
//! * `references` — DNs → SCIM ids; `pending` — references waiting for their target.
//! * [`resync`] — every in-scope entry of the source, level by level, with live counts
//!   ([`jobs`]: the ones started from the console; [`dn_list`]: failed-DNs files).
//! * `change` — one change applied as the entry is now; [`realtime`] — following the
//!   changelog with checkpoints; [`supervisor`] — which pipes run on this instance.
//! * `delete_guard` — the pipe's deletion limit, beyond which deletes are held;
//!   [`retry_rejection`], [`held_deletes`], [`set_startpoint`] — the admin actions behind the
//!   console and CLI.

mod action_error;
pub mod apply;
mod change;
mod change_log;
mod correlation_batch;
mod delete_guard;
pub mod dn_list;
pub mod entry_ids;
mod failure;
mod find;
pub mod held_deletes;
pub mod jobs;
mod lanes;
mod listed;
#[cfg(test)]
mod memory_destination;
#[cfg(test)]
mod memory_source;
pub mod outcome;
mod pause;
mod pending;
pub mod plan;
pub mod preview;
pub mod realtime;
mod realtime_progress;
#[cfg(test)]
mod realtime_tests;
mod record;
mod references;
pub mod resync;
pub mod retry_rejection;
pub mod set_startpoint;
pub mod supervisor;
mod workers;

pub use crate::rejection::Rejection;
pub use crate::report::{
    RealtimeCounts, RealtimeState, RealtimeStatus, ResyncCounts, ResyncStatus,
};
pub use action_error::ActionError;
pub use change_log::prune_log_periodically;
pub use held_deletes::{approve_held_delete, discard_held_delete};
pub use jobs::ResyncJobs;
pub use outcome::{EntryOutcome, EntryResult, FoundBy};
pub use plan::{PipePlan, PlanError};
pub use preview::preview_entry;
pub use realtime::{RealtimeError, RealtimeProgress, run_realtime, run_realtime_as};
pub use resync::{ResyncObserver, ResyncOptions, ResyncProgress, run_resync, run_resync_planned};
pub use retry_rejection::retry_rejection;
pub use set_startpoint::set_startpoint;
pub use supervisor::{LEASE_TTL, RealtimeSupervisor, host_name};
