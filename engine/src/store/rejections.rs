//! Stored rejected operations.

use super::{Store, StoreError, dn_key};
use crate::rejection::{Rejection, RejectionStatus};

impl Store {
    /// Records a rejection; it supersedes an older open one for the same pipe and DN.
    pub async fn record_rejection(&self, r: &Rejection) -> Result<(), StoreError> {
        let body = serde_json::to_string(r).map_err(|e| StoreError::Corrupt {
            what: format!("rejection of \"{}\"", r.dn),
            message: e.to_string(),
        })?;
        let key = dn_key(&r.dn);
        let mut tx = self.write_transaction().await?;
        sqlx::query("UPDATE rejected_operations SET status = 'superseded' WHERE pipe = $1 AND dn_key = $2 AND status = 'open'")
            .bind(&r.pipe)
            .bind(&key)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO rejected_operations (id, pipe, phase, dn, operation, reason, body, created_at, dn_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&r.id)
        .bind(&r.pipe)
        .bind(r.phase.as_str())
        .bind(&r.dn)
        .bind(r.operation.as_str())
        .bind(&r.reason)
        .bind(body)
        .bind(r.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .bind(&key)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Normalised DNs (see `dn_key`) of a pipe's entries with an open rejection.
    pub async fn open_rejection_dns(
        &self,
        pipe: &str,
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT dn_key FROM rejected_operations WHERE pipe = $1 AND status = 'open'",
        )
        .bind(pipe)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(key,)| key).collect())
    }

    /// How many open rejections each pipe has (pipes without any are left out).
    pub async fn open_rejection_counts(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT pipe, COUNT(*) FROM rejected_operations WHERE status = 'open' GROUP BY pipe",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(p, n)| (p, n.max(0) as u64))
            .collect())
    }

    /// Marks a DN's open rejection resolved (its entry has since been synchronized).
    pub async fn resolve_rejection(&self, pipe: &str, dn: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE rejected_operations SET status = 'resolved' WHERE pipe = $1 AND dn_key = $2 AND status = 'open'")
            .bind(pipe)
            .bind(dn_key(dn))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Fills the DN key of rejections recorded before keys existed.
    pub(super) async fn backfill_rejection_dn_keys(&self) -> Result<(), StoreError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT id, dn FROM rejected_operations WHERE dn_key = ''")
                .fetch_all(&self.pool)
                .await?;
        for (id, dn) in rows {
            sqlx::query("UPDATE rejected_operations SET dn_key = $1 WHERE id = $2")
                .bind(dn_key(&dn))
                .bind(id)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// The newest open rejections of a pipe (all pipes when `None`), at most `limit`.
    pub async fn rejections(
        &self,
        pipe: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Rejection>, StoreError> {
        self.find_rejections(&RejectionFilter {
            pipe: pipe.map(str::to_owned),
            limit,
            ..Default::default()
        })
        .await
    }
}

/// Which open rejections to list.
#[derive(Debug, Clone, Default)]
pub struct RejectionFilter {
    pub pipe: Option<String>,
    /// Case-insensitive part of the DN.
    pub dn: Option<String>,
    /// Case-insensitive part of the reason.
    pub reason: Option<String>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub limit: u32,
}

impl Store {
    /// Open rejections matching the filter, newest first.
    pub async fn find_rejections(&self, f: &RejectionFilter) -> Result<Vec<Rejection>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT body FROM rejected_operations WHERE status = 'open' \
             AND ($1 = '' OR pipe = $1) \
             AND ($2 = '' OR LOWER(dn) LIKE '%' || LOWER($2) || '%') \
             AND ($3 = '' OR LOWER(reason) LIKE '%' || LOWER($3) || '%') \
             AND ($4 = '' OR created_at >= $4) \
             ORDER BY created_at DESC, id DESC LIMIT $5",
        )
        .bind(f.pipe.clone().unwrap_or_default())
        .bind(f.dn.clone().unwrap_or_default())
        .bind(f.reason.clone().unwrap_or_default())
        .bind(
            f.since
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
                .unwrap_or_default(),
        )
        .bind(i64::from(f.limit.max(1)))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(body,)| {
                serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
                    what: "rejected operation".into(),
                    message: e.to_string(),
                })
            })
            .collect()
    }

    /// One rejection (open or not) and its status.
    pub async fn rejection(
        &self,
        id: &str,
    ) -> Result<Option<(Rejection, RejectionStatus)>, StoreError> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT body, status FROM rejected_operations WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|(body, status)| {
            let corrupt = |message: String| StoreError::Corrupt {
                what: format!("rejected operation {id}"),
                message,
            };
            let status = RejectionStatus::parse(&status)
                .ok_or_else(|| corrupt(format!("unknown status \"{status}\"")))?;
            serde_json::from_str(&body)
                .map(|r| (r, status))
                .map_err(|e| corrupt(e.to_string()))
        })
        .transpose()
    }

    /// Sets the status of an open rejection (dismissed, resolved); false if it was not open.
    pub async fn close_rejection(
        &self,
        id: &str,
        status: RejectionStatus,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE rejected_operations SET status = $2 WHERE id = $1 AND status = 'open'",
        )
        .bind(id)
        .bind(status.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
