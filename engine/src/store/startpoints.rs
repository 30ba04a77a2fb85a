//! Stored startpoints, one per sync pipe.

use super::{Store, StoreError};
use crate::startpoint::Startpoint;
use std::collections::BTreeMap;

impl Store {
    pub async fn set_startpoint(
        &self,
        pipe: &str,
        startpoint: &Startpoint,
    ) -> Result<(), StoreError> {
        let body = serde_json::to_string(startpoint).map_err(|e| StoreError::Corrupt {
            what: format!("startpoint of \"{pipe}\""),
            message: e.to_string(),
        })?;
        sqlx::query(
            "INSERT INTO pipe_startpoints (pipe, body, set_at) VALUES ($1, $2, $3) \
             ON CONFLICT (pipe) DO UPDATE SET body = excluded.body, set_at = excluded.set_at",
        )
        .bind(pipe)
        .bind(body)
        .bind(startpoint.set_at.to_rfc3339())
        .execute(&self.pool)
        .await?;
        // A new startpoint replaces wherever realtime sync had got to.
        sqlx::query("DELETE FROM pipe_cursors WHERE pipe = $1")
            .bind(pipe)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn startpoints(&self) -> Result<BTreeMap<String, Startpoint>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT pipe, body FROM pipe_startpoints")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|(pipe, body)| {
                let sp = serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
                    what: format!("startpoint of \"{pipe}\""),
                    message: e.to_string(),
                })?;
                Ok((pipe, sp))
            })
            .collect()
    }
}
