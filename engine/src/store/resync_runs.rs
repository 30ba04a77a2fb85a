//! Finished resyncs, newest first.

use super::{Store, StoreError};
use crate::report::ResyncStatus;
use std::collections::BTreeMap;

impl Store {
    pub async fn record_resync_run(&self, run: &ResyncStatus) -> Result<(), StoreError> {
        let body = serde_json::to_string(run).map_err(|e| StoreError::Corrupt {
            what: format!("resync run of \"{}\"", run.pipe),
            message: e.to_string(),
        })?;
        let finished = run
            .finished_at
            .unwrap_or(run.started_at)
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        sqlx::query(
            "INSERT INTO resync_runs (id, pipe, body, finished_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(format!("{}-{}", run.pipe, finished))
        .bind(&run.pipe)
        .bind(body)
        .bind(finished)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The last finished resync of each pipe.
    pub async fn last_resync_runs(&self) -> Result<BTreeMap<String, ResyncStatus>, StoreError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT pipe, body FROM resync_runs ORDER BY finished_at")
                .fetch_all(&self.pool)
                .await?;
        let mut last = BTreeMap::new();
        for (pipe, body) in rows {
            let run = serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
                what: format!("resync run of \"{pipe}\""),
                message: e.to_string(),
            })?;
            last.insert(pipe, run);
        }
        Ok(last)
    }
}
