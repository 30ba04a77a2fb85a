//! The log of changes as stored: written in batches, read newest first with filters and
//! paging, pruned to its retention period and row cap.

use super::{Backend, Store, StoreError, statement_chunks, values_rows};
use crate::rejection::Phase;
use crate::report::ChangeOutcome;
pub use model::sync_log::LoggedChange;
use std::sync::atomic::{AtomicU64, Ordering};

/// Which logged changes to list.
#[derive(Debug, Clone, Default)]
pub struct SyncLogFilter {
    pub pipe: Option<String>,
    /// Case-insensitive part of the DN.
    pub dn: Option<String>,
    pub outcome: Option<ChangeOutcome>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Paging: only changes older than the one with this id.
    pub before: Option<String>,
    pub limit: u32,
}

impl SyncLogFilter {
    /// A filter from what an admin typed (blank matches everything); an outcome or time
    /// that is not one is named in the error, with the field it was given for (`field` +
    /// `outcome` / `since`).
    pub fn from_text(
        field: &str,
        pipe: &str,
        dn: &str,
        outcome: &str,
        since: &str,
        limit: u32,
    ) -> Result<SyncLogFilter, String> {
        let some = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let outcome = match some(outcome) {
            Some(o) => Some(ChangeOutcome::parse(&o).ok_or_else(|| {
                let known: Vec<&str> = ChangeOutcome::ALL.iter().map(|o| o.as_str()).collect();
                format!(
                    "{field}outcome \"{o}\" is not an outcome (use one of: {})",
                    known.join(", ")
                )
            })?),
            None => None,
        };
        let since = match some(since) {
            Some(t) => Some(crate::startpoint::parse_time_of(
                &format!("{field}since"),
                &t,
            )?),
            None => None,
        };
        Ok(SyncLogFilter {
            pipe: some(pipe),
            dn: some(dn),
            outcome,
            since,
            before: None,
            limit,
        })
    }
}

/// Inserts `changes` in one statement.
async fn insert_logged<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    backend: Backend,
    changes: &[LoggedChange],
) -> Result<(), sqlx::Error> {
    // Ordered by time, then by a per-process sequence (many changes per microsecond).
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let sql = format!(
        "INSERT INTO sync_log (id, at, pipe, phase, dn, endpoint, resource_id, outcome, summary, duration_ms) \
         VALUES {}",
        values_rows(backend, changes.len(), 10)
    );
    let mut query = sqlx::query(&sql);
    for c in changes {
        let at = micros(&c.at);
        let id = format!("{at}-{:012x}", SEQUENCE.fetch_add(1, Ordering::Relaxed));
        query = query
            .bind(id)
            .bind(at)
            .bind(&c.pipe)
            .bind(c.phase.as_str())
            .bind(&c.dn)
            .bind(&c.endpoint)
            .bind(&c.resource_id)
            .bind(c.outcome.as_str())
            .bind(&c.summary)
            .bind(i64::try_from(c.duration_ms).unwrap_or(i64::MAX));
    }
    query.execute(executor).await?;
    Ok(())
}

fn micros(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

impl Store {
    /// How many changes of `pipe` were logged since `since` (ids start with their time, so
    /// only the primary key's range after it is read).
    pub async fn changes_logged_since(
        &self,
        pipe: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, StoreError> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM sync_log WHERE id >= $1 AND pipe = $2")
                .bind(micros(&since))
                .bind(pipe)
                .fetch_one(&self.pool)
                .await?;
        Ok(n.max(0) as u64)
    }

    /// Keeps `changes`, in one transaction.
    pub async fn log_changes(&self, changes: &[LoggedChange]) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let chunks: Vec<&[LoggedChange]> = statement_chunks(changes).collect();
        if let [only] = chunks[..] {
            // One statement is atomic by itself (a quiet realtime pipe logs a change at a time).
            insert_logged(&self.pool, self.backend, only).await?;
            return Ok(());
        }
        let mut tx = self.write_transaction().await?;
        for chunk in chunks {
            insert_logged(&mut *tx, self.backend, chunk).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Logged changes matching the filter, newest first.
    pub async fn logged_changes(&self, f: &SyncLogFilter) -> Result<Vec<LoggedChange>, StoreError> {
        type Row = (
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            String,
            String,
            i64,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, at, pipe, phase, dn, endpoint, resource_id, outcome, summary, duration_ms \
             FROM sync_log WHERE ($1 = '' OR pipe = $1) \
             AND ($2 = '' OR LOWER(dn) LIKE '%' || LOWER($2) || '%') \
             AND ($3 = '' OR outcome = $3) \
             AND ($4 = '' OR at >= $4) \
             AND ($5 = '' OR id < $5) \
             ORDER BY id DESC LIMIT $6",
        )
        .bind(f.pipe.clone().unwrap_or_default())
        .bind(f.dn.clone().unwrap_or_default())
        .bind(f.outcome.map(|o| o.as_str()).unwrap_or_default())
        .bind(f.since.as_ref().map(micros).unwrap_or_default())
        .bind(f.before.clone().unwrap_or_default())
        .bind(i64::from(f.limit.max(1)))
        .fetch_all(&self.pool)
        .await?;
        let corrupt = |what: &str, value: &str| StoreError::Corrupt {
            what: "logged change".into(),
            message: format!("{what} \"{value}\""),
        };
        rows.into_iter()
            .map(
                |(id, at, pipe, phase, dn, endpoint, resource_id, outcome, summary, ms)| {
                    Ok(LoggedChange {
                        at: chrono::DateTime::parse_from_rfc3339(&at)
                            .map_err(|_| corrupt("time", &at))?
                            .with_timezone(&chrono::Utc),
                        phase: Phase::parse(&phase).ok_or_else(|| corrupt("phase", &phase))?,
                        outcome: ChangeOutcome::parse(&outcome)
                            .ok_or_else(|| corrupt("outcome", &outcome))?,
                        id,
                        pipe,
                        dn,
                        endpoint,
                        resource_id,
                        summary,
                        duration_ms: ms.max(0) as u64,
                    })
                },
            )
            .collect()
    }

    /// Removes logged changes older than `older_than`, then all but the newest `keep`; how
    /// many were removed.
    pub async fn prune_sync_log(
        &self,
        older_than: chrono::DateTime<chrono::Utc>,
        keep: u64,
    ) -> Result<u64, StoreError> {
        let old = sqlx::query("DELETE FROM sync_log WHERE at < $1")
            .bind(micros(&older_than))
            .execute(&self.pool)
            .await?
            .rows_affected();
        let boundary: Option<(String,)> =
            sqlx::query_as("SELECT id FROM sync_log ORDER BY id DESC LIMIT 1 OFFSET $1")
                .bind(i64::try_from(keep).unwrap_or(i64::MAX))
                .fetch_optional(&self.pool)
                .await?;
        let over = match boundary {
            Some((id,)) => sqlx::query("DELETE FROM sync_log WHERE id <= $1")
                .bind(id)
                .execute(&self.pool)
                .await?
                .rows_affected(),
            None => 0,
        };
        Ok(old + over)
    }
}
