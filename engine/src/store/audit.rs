//! The audit log: every change made through the console or the CLI — who, when, what.
//! Details are written by the caller with secrets already left out.

use super::{Store, StoreError, now};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: String,
    /// `console:<user>` or `cli:<os user>`.
    pub actor: String,
    /// e.g. `create`, `update`, `delete`, `import`, `start-realtime`, `sign-in`.
    pub action: String,
    /// What was acted on, e.g. `sync pipe "LDAP to SCIM"`.
    pub target: String,
    /// What changed (field names; secret values never).
    pub detail: String,
}

impl Store {
    pub async fn record_audit(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        use rand::Rng;
        use std::sync::atomic::{AtomicU64, Ordering};
        // Ordered by time, then by a per-process sequence (several entries per millisecond).
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let at = now();
        let id = format!(
            "{}-{:012x}-{:08x}",
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            SEQUENCE.fetch_add(1, Ordering::Relaxed),
            rand::thread_rng().r#gen::<u32>()
        );
        sqlx::query(
            "INSERT INTO audit_log (id, at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(&at)
        .bind(actor)
        .bind(action)
        .bind(target)
        .bind(detail)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest entries first.
    pub async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
            "SELECT at, actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(at, actor, action, target, detail)| AuditEntry {
                at,
                actor,
                action,
                target,
                detail,
            })
            .collect())
    }
}
