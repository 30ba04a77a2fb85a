//! A pipe's workers, the one model resync and realtime sync share: each unit of work (an entry
//! of a resync, a change of realtime sync) is a task of its own that applies while it holds one
//! of the pipe's `worker-count` permits. Reading goes on ahead of the work up to a bound of its
//! own (resync: the permits themselves; realtime: the read-ahead), and never runs more than
//! `worker-count` applies at once.

use crate::config::{SyncPipe, WORKERS};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Clone)]
pub(crate) struct Workers {
    permits: Arc<Semaphore>,
    count: usize,
}

impl Workers {
    /// The pipe's workers; `count` overrides its worker count (resync `--threads`). Either is
    /// held to the range a pipe may have.
    pub(crate) fn of(pipe: &SyncPipe, count: Option<u32>) -> Workers {
        let count = count
            .unwrap_or(pipe.worker_count)
            .clamp(*WORKERS.start(), *WORKERS.end()) as usize;
        Workers {
            permits: Arc::new(Semaphore::new(count)),
            count,
        }
    }

    /// These workers with room for `writes_per_request` entries each in flight: when a
    /// request carries the writes of many entries (SCIM Bulk), a worker is a request, and the
    /// destination holds requests to the worker count itself. Held to a bound so memory stays
    /// flat.
    pub(crate) fn carrying(self, writes_per_request: usize) -> Workers {
        const MOST_PER_WORKER: usize = 250;
        let in_flight = self.count * writes_per_request.clamp(1, MOST_PER_WORKER);
        Workers {
            permits: Arc::new(Semaphore::new(in_flight)),
            count: self.count,
        }
    }

    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// Waits for a free worker; the work holds the permit while it applies.
    pub(crate) async fn acquire(&self) -> OwnedSemaphorePermit {
        self.permits
            .clone()
            .acquire_owned()
            .await
            .expect("the permits are never closed")
    }
}
