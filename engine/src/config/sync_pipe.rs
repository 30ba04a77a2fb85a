//! Step 7: a sync pipe joins one source to one destination.

use super::validate::Issues;
use super::{ConfigItem, ObjectKind};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SyncPipe {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// An LDAP sync source.
    pub source: String,
    /// A SCIM 2.0 sync destination.
    pub destination: String,
    /// Changes applied in parallel (changes to one entry always stay in order).
    #[serde(default = "default_worker_count")]
    pub worker_count: u32,
    /// Upper bound on SCIM operations per second; none means as fast as the destination allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ops_per_second: Option<u32>,
    /// Attempts per operation before it is recorded as rejected.
    #[serde(default = "default_retry_attempts")]
    pub retry_attempts: u32,
    /// How often realtime sync looks for new changes when the changelog has none.
    #[serde(default = "default_polling_interval_ms")]
    pub polling_interval_ms: u64,
    /// Deletes (and deactivations) applied in any hour before further ones are held for an
    /// admin to approve or discard; none means no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_deletes_per_hour: Option<u32>,
    /// The same limit as a percentage of the pipe's synchronised resources (the lower of the
    /// two applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_deletes_percent: Option<u32>,
}

/// What a pipe left unset gets (the console's form starts from these).
impl SyncPipe {
    pub const DEFAULT_WORKER_COUNT: u32 = 4;
    pub const DEFAULT_RETRY_ATTEMPTS: u32 = 5;
    pub const DEFAULT_POLLING_INTERVAL_MS: u64 = 100;
}

/// Workers a pipe (or a resync's `--threads`) may use: the one range, everywhere.
pub const WORKERS: std::ops::RangeInclusive<u32> = 1..=64;

fn default_worker_count() -> u32 {
    SyncPipe::DEFAULT_WORKER_COUNT
}
fn default_retry_attempts() -> u32 {
    SyncPipe::DEFAULT_RETRY_ATTEMPTS
}
fn default_polling_interval_ms() -> u64 {
    SyncPipe::DEFAULT_POLLING_INTERVAL_MS
}

impl ConfigItem for SyncPipe {
    fn refers_to(&self) -> Vec<(String, ObjectKind, String)> {
        let mut refs = vec![
            (
                "source".to_owned(),
                ObjectKind::LdapSource,
                self.source.clone(),
            ),
            (
                "destination".to_owned(),
                ObjectKind::ScimDestination,
                self.destination.clone(),
            ),
        ];
        refs.retain(|(_, _, n)| !n.is_empty());
        refs
    }
    fn validate_own(&self, issues: &mut Issues<'_>) {
        issues.required("source", &self.source);
        issues.required("destination", &self.destination);
        issues.range(
            "worker-count",
            self.worker_count.into(),
            (*WORKERS.start()).into(),
            (*WORKERS.end()).into(),
        );
        if let Some(rate) = self.max_ops_per_second {
            issues.range("max-ops-per-second", rate.into(), 1, 100_000);
        }
        issues.range("retry-attempts", self.retry_attempts.into(), 1, 100);
        issues.range("polling-interval-ms", self.polling_interval_ms, 10, 60_000);
        if let Some(n) = self.max_deletes_per_hour {
            issues.range("max-deletes-per-hour", n.into(), 0, 10_000_000);
        }
        if let Some(n) = self.max_deletes_percent {
            issues.range("max-deletes-percent", n.into(), 1, 100);
        }
    }
}
