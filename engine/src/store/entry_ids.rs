//! How a pipe's correlations are keyed: the name of the attribute that identifies its
//! source's entries (see `crate::entry_id`), and moving correlations written under another id
//! to their entry's id.

use super::realtime::{CORRELATION_COLUMNS, CorrelationRow, correlation};
use super::{Correlation, Store, StoreError, dn_key, now};

/// What moving correlations came to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rekeyed {
    /// Correlations moved to another id.
    pub moved: u64,
    /// Of those, the ones dropped into a correlation that already held their new id.
    pub merged: u64,
    /// Those merges whose resources differ, as (kept, dropped): the dropped resource is no
    /// longer managed.
    pub differing: Vec<(Correlation, Correlation)>,
}

/// One correlation moved to a new key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rekey {
    /// The entry id it is stored under now.
    pub from: String,
    /// It, as it is to be kept: under its entry's id, at the entry's DN now.
    pub to: Correlation,
}

impl Store {
    /// The attribute the pipe's correlations are keyed by (its name); `None` when the store
    /// was written before that was decided.
    pub async fn entry_id_attribute(&self, pipe: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT attribute FROM pipe_entry_ids WHERE pipe = $1")
                .bind(pipe)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(a,)| a))
    }

    pub async fn set_entry_id_attribute(
        &self,
        pipe: &str,
        attribute: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO pipe_entry_ids (pipe, attribute, decided_at) VALUES ($1, $2, $3) \
             ON CONFLICT (pipe) DO UPDATE SET attribute = excluded.attribute, decided_at = excluded.decided_at",
        )
        .bind(pipe)
        .bind(attribute)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Moves correlations to their new keys, in one transaction. When a correlation already
    /// holds the new key (the same entry, kept by a path that used that id), it stays — with
    /// its resource — at the moved one's DN, and the moved one is dropped.
    pub async fn rekey_correlations(
        &self,
        pipe: &str,
        moves: &[Rekey],
    ) -> Result<Rekeyed, StoreError> {
        let mut done = Rekeyed::default();
        if moves.is_empty() {
            return Ok(done);
        }
        let updated_at = now();
        let mut tx = self.write_transaction().await?;
        for Rekey { from, to } in moves {
            let holder: Option<CorrelationRow> = sqlx::query_as(&format!(
                "SELECT {CORRELATION_COLUMNS} FROM synced_resources WHERE pipe = $1 AND entry_id = $2"
            ))
            .bind(pipe)
            .bind(&to.entry_id)
            .fetch_optional(&mut *tx)
            .await?;
            let moving = from != &to.entry_id;
            if moving {
                done.moved += 1;
                sqlx::query("DELETE FROM synced_resources WHERE pipe = $1 AND entry_id = $2")
                    .bind(pipe)
                    .bind(from)
                    .execute(&mut *tx)
                    .await?;
            }
            match holder.map(correlation) {
                Some(kept) => {
                    sqlx::query(
                        "UPDATE synced_resources SET dn = $1, dn_key = $2, updated_at = $3 \
                         WHERE pipe = $4 AND entry_id = $5",
                    )
                    .bind(&to.dn)
                    .bind(dn_key(&to.dn))
                    .bind(&updated_at)
                    .bind(pipe)
                    .bind(&to.entry_id)
                    .execute(&mut *tx)
                    .await?;
                    if moving {
                        done.merged += 1;
                    }
                    if moving && (kept.endpoint != to.endpoint || kept.scim_id != to.scim_id) {
                        let kept = Correlation {
                            dn: to.dn.clone(),
                            ..kept
                        };
                        done.differing.push((kept, to.clone()));
                    }
                }
                None => {
                    sqlx::query(
                        "INSERT INTO synced_resources (pipe, entry_id, dn, endpoint, scim_id, class, updated_at, dn_key, display) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(pipe)
                    .bind(&to.entry_id)
                    .bind(&to.dn)
                    .bind(&to.endpoint)
                    .bind(&to.scim_id)
                    .bind(&to.class)
                    .bind(&updated_at)
                    .bind(dn_key(&to.dn))
                    .bind(&to.display)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(done)
    }
}
