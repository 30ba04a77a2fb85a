//! What Reference mappings need from the store: correlations by DN, and pending references
//! (a referrer waiting for its target's resource to exist).

use super::realtime::{CORRELATION_COLUMNS, CorrelationRow, correlation, dn_key};
use super::{Correlation, Store, StoreError, now};
use crate::mapping::references::PendingReference;
use std::collections::HashMap;

/// A pending reference as listed for admins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingReferenceRow {
    /// The entry whose resource lacks the reference (e.g. a group).
    pub referrer_dn: String,
    pub reference: PendingReference,
    pub created_at: String,
}

/// Rows per `IN (…)` list, well below every backend's bind-parameter limit.
const LOOKUP_CHUNK: usize = 200;

impl Store {
    /// Correlations by normalised DN key (see `dn_key`), for the keys that have one; the
    /// newest when a DN was reused.
    pub async fn find_resources_by_dn(
        &self,
        pipe: &str,
        keys: &[String],
    ) -> Result<HashMap<String, Correlation>, StoreError> {
        let mut found = HashMap::new();
        for chunk in keys.chunks(LOOKUP_CHUNK) {
            let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT dn_key, {CORRELATION_COLUMNS} FROM synced_resources \
                 WHERE pipe = $1 AND dn_key IN ({}) ORDER BY updated_at",
                list.join(", ")
            );
            let mut query = sqlx::query_as::<
                _,
                (
                    String,
                    String,
                    String,
                    String,
                    String,
                    String,
                    Option<String>,
                ),
            >(&sql)
            .bind(pipe);
            for key in chunk {
                query = query.bind(key);
            }
            for (key, entry_id, dn, endpoint, scim_id, class, display) in
                query.fetch_all(&self.pool).await?
            {
                let row: CorrelationRow = (entry_id, dn, endpoint, scim_id, class, display);
                found.insert(key, correlation(row));
            }
        }
        Ok(found)
    }

    /// The correlation of the resource `scim_id` at `endpoint`.
    pub async fn find_resource_by_scim_id(
        &self,
        pipe: &str,
        endpoint: &str,
        scim_id: &str,
    ) -> Result<Option<Correlation>, StoreError> {
        let row: Option<CorrelationRow> = sqlx::query_as(&format!(
            "SELECT {CORRELATION_COLUMNS} FROM synced_resources \
             WHERE pipe = $1 AND endpoint = $2 AND scim_id = $3 ORDER BY updated_at DESC LIMIT 1"
        ))
        .bind(pipe)
        .bind(endpoint)
        .bind(scim_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(correlation))
    }

    /// Replaces the pending references of `referrer_dn` with `pending` (none when it has all).
    pub async fn replace_pending_references(
        &self,
        pipe: &str,
        referrer_dn: &str,
        pending: &[PendingReference],
    ) -> Result<(), StoreError> {
        let referrer_key = dn_key(referrer_dn);
        let mut tx = self.write_transaction().await?;
        sqlx::query("DELETE FROM pending_references WHERE pipe = $1 AND referrer_key = $2")
            .bind(pipe)
            .bind(&referrer_key)
            .execute(&mut *tx)
            .await?;
        let at = now();
        for p in pending {
            sqlx::query(
                "INSERT INTO pending_references (pipe, referrer_key, referrer_dn, target_key, target_dn, mapping, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            )
            .bind(pipe)
            .bind(&referrer_key)
            .bind(referrer_dn)
            .bind(dn_key(&p.dn))
            .bind(&p.dn)
            .bind(&p.mapping)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// DNs of the entries waiting for `target_dn`'s resource.
    pub async fn pending_referrers(
        &self,
        pipe: &str,
        target_dn: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT referrer_dn FROM pending_references WHERE pipe = $1 AND target_key = $2",
        )
        .bind(pipe)
        .bind(dn_key(target_dn))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(dn,)| dn).collect())
    }

    /// How many references of the pipe are pending.
    pub async fn pending_reference_count(&self, pipe: &str) -> Result<u64, StoreError> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM pending_references WHERE pipe = $1")
                .bind(pipe)
                .fetch_one(&self.pool)
                .await?;
        Ok(n.max(0) as u64)
    }

    /// The pipe's pending references, oldest first; only `referrer_dn`'s when given.
    pub async fn pending_references(
        &self,
        pipe: &str,
        referrer_dn: Option<&str>,
        limit: u32,
    ) -> Result<Vec<PendingReferenceRow>, StoreError> {
        let key = referrer_dn.map(dn_key);
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT referrer_dn, mapping, target_dn, created_at FROM pending_references \
             WHERE pipe = $1 AND ($2 = '' OR referrer_key = $2) ORDER BY created_at, referrer_dn, target_dn LIMIT $3",
        )
        .bind(pipe)
        .bind(key.unwrap_or_default())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(referrer_dn, mapping, dn, created_at)| PendingReferenceRow {
                    referrer_dn,
                    reference: PendingReference { mapping, dn },
                    created_at,
                },
            )
            .collect())
    }

    /// Fills the DN key of correlations recorded before keys existed.
    pub(super) async fn backfill_dn_keys(&self) -> Result<(), StoreError> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT pipe, entry_id, dn FROM synced_resources WHERE dn_key = ''")
                .fetch_all(&self.pool)
                .await?;
        for (pipe, entry_id, dn) in rows {
            sqlx::query(
                "UPDATE synced_resources SET dn_key = $1 WHERE pipe = $2 AND entry_id = $3",
            )
            .bind(dn_key(&dn))
            .bind(pipe)
            .bind(entry_id)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }
}
