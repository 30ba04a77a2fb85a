//! A resync's correlations, kept in batches: written in one store transaction per 512 entries
//! instead of one per entry, which was a third of a resync's CPU.
//!
//! Only a pass whose entries cannot reference one another uses it (see
//! [`PipePlan::references_within`](super::plan::PipePlan::references_within)): a reference
//! within the level must find its target in the store at once. The pass writes what is left
//! when it ends, before the next level's entries look their references up.

use crate::store::{BATCH_ROWS, Correlation, Store, StoreError};
use std::sync::Mutex;

#[derive(Default)]
pub(crate) struct CorrelationBatch {
    waiting: Mutex<Vec<Correlation>>,
}

impl CorrelationBatch {
    /// Keeps `c`; when a batch is full, writes it.
    pub async fn remember(
        &self,
        store: &Store,
        pipe: &str,
        c: Correlation,
    ) -> Result<(), StoreError> {
        let full = {
            let mut waiting = self.waiting.lock().expect("correlation batch");
            waiting.push(c);
            if waiting.len() < BATCH_ROWS {
                return Ok(());
            }
            std::mem::take(&mut *waiting)
        };
        store.remember_resources(pipe, &full).await
    }

    /// Writes what waits.
    pub async fn flush(&self, store: &Store, pipe: &str) -> Result<(), StoreError> {
        let rest = std::mem::take(&mut *self.waiting.lock().expect("correlation batch"));
        store.remember_resources(pipe, &rest).await
    }
}
