//! What server functions need from the running server.

use engine::store::Store;
use engine::sync::{RealtimeSupervisor, ResyncJobs};

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Resyncs started from the console, with their live counts.
    pub resyncs: ResyncJobs,
    /// Realtime sync of the pipes this process runs.
    pub realtime: RealtimeSupervisor,
}
