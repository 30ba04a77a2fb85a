//! Pipe leases: with several instances on one database, each pipe's realtime sync runs on
//! exactly one. Times come from the database's clock, so instances need not agree on time.

use super::{Backend, Store, StoreError};
use std::time::Duration;

/// How long a pipe's lease lasts without renewal (the supervisor renews it every second): an
/// instance that dies hands its pipes over to another instance within this time.
pub const LEASE_TTL: Duration = Duration::from_secs(15);

/// Who runs a pipe, as the database sees it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipeLease {
    pub pipe: String,
    pub holder: String,
    /// Milliseconds until it expires (negative: expired, free to take).
    pub remaining_ms: i64,
}

impl Store {
    /// The database clock in milliseconds since the epoch, as SQL.
    pub(super) fn now_ms_sql(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
            Backend::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
        }
    }

    /// Takes the pipe's lease for `holder` if it is free or expired, or renews it if `holder`
    /// has it. Returns whether `holder` holds it now.
    pub async fn hold_lease(
        &self,
        pipe: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now = self.now_ms_sql();
        let sql = format!(
            "INSERT INTO pipe_leases (pipe, holder, expires_ms, acquired_ms) VALUES ($1, $2, {now} + $3, {now}) \
             ON CONFLICT (pipe) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms, \
             acquired_ms = CASE WHEN pipe_leases.holder = excluded.holder THEN pipe_leases.acquired_ms ELSE excluded.acquired_ms END \
             WHERE pipe_leases.holder = excluded.holder OR pipe_leases.expires_ms < excluded.acquired_ms"
        );
        let done = sqlx::query(&sql)
            .bind(pipe)
            .bind(holder)
            .bind(ttl.as_millis() as i64)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives the lease up (when the holder stops the pipe), so another instance need not wait.
    pub async fn release_lease(&self, pipe: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM pipe_leases WHERE pipe = $1 AND holder = $2")
            .bind(pipe)
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every lease with its holder and time left.
    pub async fn pipe_leases(&self) -> Result<Vec<PipeLease>, StoreError> {
        let sql = format!(
            "SELECT pipe, holder, expires_ms - {} FROM pipe_leases ORDER BY pipe",
            self.now_ms_sql()
        );
        let rows: Vec<(String, String, i64)> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|(pipe, holder, remaining_ms)| PipeLease {
                pipe,
                holder,
                remaining_ms,
            })
            .collect())
    }

    /// The instance running `pipe` now, if any.
    pub async fn lease_holder(&self, pipe: &str) -> Result<Option<String>, StoreError> {
        let sql = format!(
            "SELECT holder FROM pipe_leases WHERE pipe = $1 AND expires_ms > {}",
            self.now_ms_sql()
        );
        let row: Option<(String,)> = sqlx::query_as(&sql)
            .bind(pipe)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(holder,)| holder))
    }
}
