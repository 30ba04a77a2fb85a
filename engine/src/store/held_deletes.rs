//! Deletion safety as stored: the deletes a pipe applied in the last hour (its limit counts
//! them) and the deletes held back until an admin approves or discards them.

use super::{Store, StoreError};
pub use model::held_delete::HeldDelete;
use std::sync::atomic::{AtomicU64, Ordering};

fn micros(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        what: "held delete".into(),
        message: e.to_string(),
    }
}

impl Store {
    /// Notes a delete the pipe applies now, and forgets those more than an hour old.
    pub async fn note_delete_applied(&self, pipe: &str) -> Result<(), StoreError> {
        let now = chrono::Utc::now();
        let hour_ago = now - chrono::Duration::hours(1);
        let mut tx = self.write_transaction().await?;
        sqlx::query("DELETE FROM applied_deletes WHERE pipe = $1 AND at < $2")
            .bind(pipe)
            .bind(micros(&hour_ago))
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO applied_deletes (pipe, at) VALUES ($1, $2)")
            .bind(pipe)
            .bind(micros(&now))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes the pipe applied in the last hour.
    pub async fn deletes_in_last_hour(&self, pipe: &str) -> Result<u64, StoreError> {
        let hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM applied_deletes WHERE pipe = $1 AND at >= $2")
                .bind(pipe)
                .bind(micros(&hour_ago))
                .fetch_one(&self.pool)
                .await?;
        Ok(n.max(0) as u64)
    }

    /// Resources the pipe synchronised entries to (what a percentage limit is of).
    pub async fn synchronised_count(&self, pipe: &str) -> Result<u64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM synced_resources WHERE pipe = $1")
            .bind(pipe)
            .fetch_one(&self.pool)
            .await?;
        Ok(n.max(0) as u64)
    }

    /// Holds a delete back; it replaces one held earlier for the same resource. Returns it
    /// with its id.
    pub async fn hold_delete(&self, held: &HeldDelete) -> Result<HeldDelete, StoreError> {
        // Ordered by time, then by a per-process sequence.
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let mut held = held.clone();
        let at = micros(&held.held_at);
        held.id = format!("{at}-{:08x}", SEQUENCE.fetch_add(1, Ordering::Relaxed));
        let body = serde_json::to_string(&held).map_err(corrupt)?;
        let mut tx = self.write_transaction().await?;
        sqlx::query(
            "DELETE FROM held_deletes WHERE pipe = $1 AND endpoint = $2 AND resource_id = $3",
        )
        .bind(&held.pipe)
        .bind(&held.endpoint)
        .bind(&held.resource_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO held_deletes (id, pipe, endpoint, resource_id, held_at, body) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&held.id)
        .bind(&held.pipe)
        .bind(&held.endpoint)
        .bind(&held.resource_id)
        .bind(&at)
        .bind(body)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(held)
    }

    /// Held deletes of a pipe (all pipes when `None`), oldest first, at most `limit`.
    pub async fn held_deletes(
        &self,
        pipe: Option<&str>,
        limit: u32,
    ) -> Result<Vec<HeldDelete>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT body FROM held_deletes WHERE ($1 = '' OR pipe = $1) ORDER BY id LIMIT $2",
        )
        .bind(pipe.unwrap_or_default())
        .bind(i64::from(limit.max(1)))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(body,)| serde_json::from_str(&body).map_err(corrupt))
            .collect()
    }

    pub async fn held_delete(&self, id: &str) -> Result<Option<HeldDelete>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT body FROM held_deletes WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|(body,)| serde_json::from_str(&body).map_err(corrupt))
            .transpose()
    }

    /// Removes a held delete (approved and applied, or discarded); whether it was there.
    pub async fn release_held_delete(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM held_deletes WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// How many deletes each pipe has held (pipes without any are left out).
    pub async fn held_delete_counts(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT pipe, COUNT(*) FROM held_deletes GROUP BY pipe")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(p, n)| (p, n.max(0) as u64))
            .collect())
    }

    /// How many deletes the pipe has held.
    pub async fn held_delete_count(&self, pipe: &str) -> Result<u64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM held_deletes WHERE pipe = $1")
            .bind(pipe)
            .fetch_one(&self.pool)
            .await?;
        Ok(n.max(0) as u64)
    }
}
