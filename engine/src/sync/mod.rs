//! Synchronising entries of a sync pipe into its SCIM destination.
//!
//! * [`plan`] — a pipe resolved from the configuration: classes, mappers, SCIM client.
//! * [`apply`] — one entry: classify, map, find the resource, create or modify it.
//! * [`rejection`] — what is kept about an operation that could not be applied.
//! * [`resync`] — every in-scope entry of the source, in parallel, with live counts.
//! * [`realtime`] — following the changelog, change by change, with checkpoints.
//! * `change` — one change applied as the entry is now; `references` — DNs → SCIM ids;
//!   `pending` — references waiting for their target.

pub mod apply;
mod change;
pub mod dn_list;
mod failure;
mod find;
pub mod jobs;
pub mod outcome;
mod pending;
pub mod plan;
pub mod realtime;
mod references;
pub mod rejection;
pub mod resync;
pub mod retry;
pub mod startpoints;
pub mod supervisor;

pub use jobs::ResyncJobs;
pub use outcome::{EntryOutcome, EntryResult};
pub use plan::{PipePlan, PlanError};
pub use realtime::{
    RealtimeCounts, RealtimeError, RealtimeProgress, RealtimeState, RealtimeStatus, run_realtime,
    run_realtime_as,
};
pub use rejection::Rejection;
pub use resync::{
    ResyncCounts, ResyncObserver, ResyncOptions, ResyncProgress, ResyncStatus, run_resync,
};
pub use retry::{RetryError, retry_rejection};
pub use startpoints::set_startpoint;
pub use supervisor::{LEASE_TTL, RealtimeSupervisor, default_instance_name, host_name};
