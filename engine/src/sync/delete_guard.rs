//! Deletion safety: a pipe applies at most its limit of deletes (and deactivations) in any
//! hour — `max-deletes-per-hour`, or `max-deletes-percent` of its synchronised resources,
//! the lower of the two. Once the limit is reached, every further delete is held (kept in
//! the store, not applied) until an admin approves or discards the held ones: a mistaken
//! filter or a directory accident stops at the limit instead of emptying the destination.

use crate::config::SyncPipe;
use crate::store::{Store, StoreError};

/// Whether a delete may go ahead.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    Apply,
    /// Held, for this reason.
    Hold(String),
}

pub(crate) struct DeleteGuard {
    per_hour: Option<u32>,
    percent: Option<u32>,
    /// One admission at a time: parallel lanes cannot pass the limit together.
    admitting: tokio::sync::Mutex<()>,
}

/// The limit for an hour given the resources synchronised; `None`: no limit. A percentage
/// rounds up, so a small pipe may still delete one.
fn hourly_limit(per_hour: Option<u32>, percent: Option<u32>, synchronised: u64) -> Option<u64> {
    let of_resources = percent.map(|p| (synchronised * u64::from(p)).div_ceil(100));
    match (per_hour.map(u64::from), of_resources) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl DeleteGuard {
    pub(crate) fn new(pipe: &SyncPipe) -> DeleteGuard {
        DeleteGuard {
            per_hour: pipe.max_deletes_per_hour,
            percent: pipe.max_deletes_percent,
            admitting: tokio::sync::Mutex::new(()),
        }
    }

    /// Decides one delete of `pipe` and, when it may go ahead, counts it.
    pub(crate) async fn admit(&self, store: &Store, pipe: &str) -> Result<Admission, StoreError> {
        let _one_at_a_time = self.admitting.lock().await;
        // Held deletes wait for an admin, and later ones wait with them — even when the limit
        // was lifted since: the storm that was stopped is the admin's to decide on.
        let held = store.held_delete_count(pipe).await?;
        if held > 0 {
            return Ok(Admission::Hold(format!(
                "{held} earlier delete(s) of this pipe are held until an admin approves or discards them"
            )));
        }
        if self.per_hour.is_none() && self.percent.is_none() {
            return Ok(Admission::Apply);
        }
        let synchronised = match self.percent {
            Some(_) => store.synchronised_count(pipe).await?,
            None => 0,
        };
        if let Some(limit) = hourly_limit(self.per_hour, self.percent, synchronised) {
            let applied = store.deletes_in_last_hour(pipe).await?;
            if applied >= limit {
                return Ok(Admission::Hold(format!(
                    "the pipe's limit of {limit} delete(s) per hour is reached ({applied} in the last hour)"
                )));
            }
        }
        store.note_delete_applied(pipe).await?;
        Ok(Admission::Apply)
    }
}

#[cfg(test)]
mod tests {
    use super::{Admission, DeleteGuard, hourly_limit};
    use crate::config::examples::directory;
    use crate::crypto::Cipher;
    use crate::store::{HeldDelete, Store};

    #[tokio::test]
    async fn held_deletes_hold_later_ones_even_without_a_limit() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        let store = Store::open(&url, Cipher::ephemeral()).await.unwrap();
        let pipe = directory().sync_pipes[0].clone();
        assert_eq!(pipe.max_deletes_per_hour, None);
        let guard = DeleteGuard::new(&pipe);
        assert_eq!(
            guard.admit(&store, &pipe.name).await.unwrap(),
            Admission::Apply
        );
        let held = store
            .hold_delete(&HeldDelete {
                id: String::new(),
                held_at: chrono::Utc::now(),
                pipe: pipe.name.clone(),
                dn: "uid=a,dc=example,dc=com".into(),
                entry_id: None,
                class: "People".into(),
                endpoint: "Users".into(),
                resource_id: "r1".into(),
                display: None,
                action: Default::default(),
                reason: "the entry was deleted".into(),
            })
            .await
            .unwrap();
        let Admission::Hold(why) = guard.admit(&store, &pipe.name).await.unwrap() else {
            panic!("a held delete holds the next one");
        };
        assert!(why.starts_with("1 earlier delete(s)"), "{why}");
        store.release_held_delete(&held.id).await.unwrap();
        assert_eq!(
            guard.admit(&store, &pipe.name).await.unwrap(),
            Admission::Apply
        );
    }

    #[test]
    fn the_lower_limit_applies_and_a_percentage_rounds_up() {
        assert_eq!(hourly_limit(None, None, 1000), None);
        assert_eq!(hourly_limit(Some(50), None, 1000), Some(50));
        assert_eq!(hourly_limit(None, Some(10), 1000), Some(100));
        assert_eq!(hourly_limit(Some(50), Some(10), 1000), Some(50));
        assert_eq!(hourly_limit(Some(500), Some(10), 1000), Some(100));
        assert_eq!(hourly_limit(None, Some(10), 5), Some(1));
        assert_eq!(hourly_limit(None, Some(10), 0), Some(0));
        assert_eq!(hourly_limit(Some(0), None, 10), Some(0));
    }
}
