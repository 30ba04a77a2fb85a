//! Stored rejected operations.

use super::{Store, StoreError, dn_key};
use crate::rejection::{Rejection, RejectionStatus};
use crate::sensitive::SecretValues;

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
            "INSERT INTO rejected_operations (id, pipe, phase, dn, operation, reason, body, created_at, dn_key, masked, carries_password) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10)",
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
        .bind(i64::from(r.carries_password))
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

    /// Marks a DN's open rejection resolved (its entry has since been synchronized) — unless
    /// it carried a password and this synchronization did not (`with_password`).
    pub async fn resolve_rejection(
        &self,
        pipe: &str,
        dn: &str,
        with_password: bool,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE rejected_operations SET status = 'resolved' WHERE pipe = $1 AND dn_key = $2 AND status = 'open' \
             AND (carries_password = 0 OR $3 = 1)",
        )
        .bind(pipe)
        .bind(dn_key(dn))
        .bind(i64::from(with_password))
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

    /// Masks the rejections kept before secrets were masked by value (see migration 0013):
    /// the values a request set on secret attributes are masked wherever they stand in the
    /// rejection — request, response, source, reason — and in the log of changes' summaries
    /// of the same entry.
    pub(super) async fn mask_old_rejections(&self) -> Result<(), StoreError> {
        let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
            "SELECT id, pipe, dn, reason, body FROM rejected_operations WHERE masked = 0",
        )
        .fetch_all(&self.pool)
        .await?;
        for (id, pipe, dn, mut reason, body) in rows {
            let mut secrets = SecretValues::default();
            let body = match serde_json::from_str::<serde_json::Value>(&body) {
                Ok(mut record) => {
                    // Twice: values learnt from a later part are masked in the earlier ones too.
                    for _ in 0..2 {
                        for part in ["request", "response", "source"] {
                            if let Some(value) = record.get_mut(part) {
                                secrets.mask(value);
                            }
                        }
                    }
                    secrets.mask_text(&mut reason);
                    record["reason"] = serde_json::Value::String(reason.clone());
                    record.to_string()
                }
                // Unreadable: left as it is (it could not be shown either).
                Err(_) => body,
            };
            let mut tx = self.write_transaction().await?;
            sqlx::query(
                "UPDATE rejected_operations SET reason = $1, body = $2, masked = 1 WHERE id = $3",
            )
            .bind(&reason)
            .bind(&body)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            for secret in secrets.values() {
                sqlx::query(
                    "UPDATE sync_log SET summary = replace(summary, $1, '***') WHERE pipe = $2 AND dn = $3",
                )
                .bind(secret)
                .bind(&pipe)
                .bind(&dn)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }
}
