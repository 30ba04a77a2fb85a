//! Realtime sync state: correlations between entries and resources, cursors, and whether
//! each pipe should run.

use super::{Backend, Store, StoreError, now, statement_chunks, values_rows};
use crate::startpoint::ChangelogCursor;

/// The SCIM resource a source entry was synchronised to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correlation {
    pub entry_id: String,
    pub dn: String,
    pub endpoint: String,
    pub scim_id: String,
    pub class: String,
    /// The resource's `displayName`, for `display` in references to it.
    pub display: Option<String>,
}

pub(super) const CORRELATION_COLUMNS: &str = "entry_id, dn, endpoint, scim_id, class, display";
pub(super) type CorrelationRow = (String, String, String, String, String, Option<String>);

pub(super) fn correlation(row: CorrelationRow) -> Correlation {
    let (entry_id, dn, endpoint, scim_id, class, display) = row;
    Correlation {
        entry_id,
        dn,
        endpoint,
        scim_id,
        class,
        display,
    }
}

/// The key correlations and pending references are looked up by: the normalised DN, or the
/// lower-cased text when it does not parse (it is then only ever equal to itself).
pub(crate) fn dn_key(dn: &str) -> String {
    match crate::mapping::references::reference_dn(dn) {
        Ok(parsed) => parsed.normalized_key(),
        Err(_) => dn.to_lowercase(),
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        what: what.to_owned(),
        message: e.to_string(),
    }
}

const CURSOR_UPSERT: &str =
    "ON CONFLICT (pipe) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at";

fn cursor_text(cursor: &ChangelogCursor) -> Result<String, StoreError> {
    serde_json::to_string(cursor).map_err(|e| corrupt("realtime cursor", e))
}

/// The upsert of `rows` correlations (see [`upsert_correlations`] for the parameters' order).
fn upsert_sql(backend: Backend, rows: usize) -> String {
    format!(
        "INSERT INTO synced_resources (pipe, entry_id, dn, endpoint, scim_id, class, updated_at, dn_key, display) \
         VALUES {} ON CONFLICT (pipe, entry_id) DO UPDATE SET dn = excluded.dn, \
         endpoint = excluded.endpoint, scim_id = excluded.scim_id, class = excluded.class, updated_at = excluded.updated_at, \
         dn_key = excluded.dn_key, display = excluded.display",
        values_rows(backend, rows, 9)
    )
}

/// Upserts `rows` in one statement.
async fn upsert_correlations<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    backend: Backend,
    pipe: &str,
    rows: &[&Correlation],
    updated_at: &str,
) -> Result<(), sqlx::Error> {
    let sql = upsert_sql(backend, rows.len());
    let mut query = sqlx::query(&sql);
    for c in rows {
        query = query
            .bind(pipe)
            .bind(&c.entry_id)
            .bind(&c.dn)
            .bind(&c.endpoint)
            .bind(&c.scim_id)
            .bind(&c.class)
            .bind(updated_at)
            .bind(dn_key(&c.dn))
            .bind(&c.display);
    }
    query.execute(executor).await?;
    Ok(())
}

impl Store {
    pub async fn remember_resource(&self, pipe: &str, c: &Correlation) -> Result<(), StoreError> {
        self.remember_resources(pipe, std::slice::from_ref(c)).await
    }

    /// Several correlations at once (a resync keeps them in batches), in one transaction. For
    /// an entry named twice, the last wins.
    pub async fn remember_resources(
        &self,
        pipe: &str,
        batch: &[Correlation],
    ) -> Result<(), StoreError> {
        // One row per entry: an upsert may not touch the same row twice in one statement.
        let mut last_of: std::collections::HashMap<&str, usize> = Default::default();
        for (i, c) in batch.iter().enumerate() {
            last_of.insert(&c.entry_id, i);
        }
        let rows: Vec<&Correlation> = batch
            .iter()
            .enumerate()
            .filter(|(i, c)| last_of[c.entry_id.as_str()] == *i)
            .map(|(_, c)| c)
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        let updated_at = now();
        let chunks: Vec<&[&Correlation]> = statement_chunks(&rows).collect();
        if let [only] = chunks[..] {
            // One statement is atomic by itself (realtime keeps one correlation at a time).
            upsert_correlations(&self.pool, self.backend, pipe, only, &updated_at).await?;
            return Ok(());
        }
        let mut tx = self.write_transaction().await?;
        for chunk in chunks {
            upsert_correlations(&mut *tx, self.backend, pipe, chunk, &updated_at).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn find_resource(
        &self,
        pipe: &str,
        entry_id: &str,
    ) -> Result<Option<Correlation>, StoreError> {
        let row: Option<CorrelationRow> = sqlx::query_as(&format!(
            "SELECT {CORRELATION_COLUMNS} FROM synced_resources WHERE pipe = $1 AND entry_id = $2"
        ))
        .bind(pipe)
        .bind(entry_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(correlation))
    }

    /// A page of the pipe's correlations in entry-id order, after `after` (from the start
    /// when empty): at most `limit`.
    pub async fn correlations_after(
        &self,
        pipe: &str,
        after: &str,
        limit: u32,
    ) -> Result<Vec<Correlation>, StoreError> {
        let rows: Vec<CorrelationRow> = sqlx::query_as(&format!(
            "SELECT {CORRELATION_COLUMNS} FROM synced_resources WHERE pipe = $1 AND entry_id > $2 \
             ORDER BY entry_id LIMIT $3"
        ))
        .bind(pipe)
        .bind(after)
        .bind(i64::from(limit.max(1)))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(correlation).collect())
    }

    pub async fn forget_resource(&self, pipe: &str, entry_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM synced_resources WHERE pipe = $1 AND entry_id = $2")
            .bind(pipe)
            .bind(entry_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Where realtime sync resumes: the last checkpoint, else the startpoint; `None` if neither is set.
    pub async fn realtime_cursor(&self, pipe: &str) -> Result<Option<ChangelogCursor>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT cursor FROM pipe_cursors WHERE pipe = $1")
                .bind(pipe)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some((text,)) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| corrupt("realtime cursor", e)),
            None => Ok(self.startpoints().await?.remove(pipe).map(|s| s.cursor)),
        }
    }

    /// Persists progress: realtime sync resumes after `cursor`.
    pub async fn save_realtime_cursor(
        &self,
        pipe: &str,
        cursor: &ChangelogCursor,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO pipe_cursors (pipe, cursor, updated_at) VALUES ($1, $2, $3) {CURSOR_UPSERT}"
        );
        sqlx::query(&sql)
            .bind(pipe)
            .bind(cursor_text(cursor)?)
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Saves the realtime cursor only while `holder` holds the pipe's unexpired lease: an
    /// instance that lost its lease (stalled, cut off) cannot move the checkpoint any more.
    /// Returns whether it was saved.
    pub async fn save_realtime_cursor_holding(
        &self,
        pipe: &str,
        cursor: &ChangelogCursor,
        holder: &str,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "INSERT INTO pipe_cursors (pipe, cursor, updated_at) SELECT $1, $2, $3 \
             WHERE EXISTS (SELECT 1 FROM pipe_leases WHERE pipe = $1 AND holder = $4 AND expires_ms > {}) \
             {CURSOR_UPSERT}",
            self.now_ms_sql()
        );
        let done = sqlx::query(&sql)
            .bind(pipe)
            .bind(cursor_text(cursor)?)
            .bind(now())
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records whether realtime sync of `pipe` should run (what `realtime-sync start|stop` set).
    pub async fn set_realtime_started(&self, pipe: &str, started: bool) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO pipe_realtime (pipe, started, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (pipe) DO UPDATE SET started = excluded.started, updated_at = excluded.updated_at",
        )
        .bind(pipe)
        .bind(i64::from(started))
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Pipes whose realtime sync should run.
    pub async fn started_pipes(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT pipe FROM pipe_realtime WHERE started = 1")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(p,)| p).collect())
    }

    /// Stores the running pipe's status (JSON) for `realtime-sync status` and other instances.
    pub async fn save_realtime_status(
        &self,
        pipe: &str,
        status: &serde_json::Value,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO pipe_realtime (pipe, started, status, updated_at) VALUES ($1, 0, $2, $3) \
             ON CONFLICT (pipe) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
        )
        .bind(pipe)
        .bind(status.to_string())
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// (started, last status, when it was written) of a pipe.
    pub async fn realtime_state(
        &self,
        pipe: &str,
    ) -> Result<(bool, Option<serde_json::Value>, Option<String>), StoreError> {
        let row: Option<(i64, Option<String>, String)> =
            sqlx::query_as("SELECT started, status, updated_at FROM pipe_realtime WHERE pipe = $1")
                .bind(pipe)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            Some((started, status, at)) => (
                started == 1,
                status.and_then(|s| serde_json::from_str(&s).ok()),
                Some(at),
            ),
            None => (false, None, None),
        })
    }
}
