//! Step 2: instance-wide settings (the optional changelog password decryption key, the
//! optional bearer token of `/metrics`).

use super::Secret;
use super::validate::Issues;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct GlobalSettings {
    /// Decrypts the passwords that a directory-side component adds, encrypted, to changelog
    /// records (`ds-changelog-encrypted-password`), so password changes can be synchronised
    /// in realtime (format: `engine::changelog::ChangelogPasswordKey`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changelog_password_decryption_key: Option<Secret>,
    /// When set, `/metrics` answers only requests with `Authorization: Bearer <token>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_bearer_token: Option<Secret>,
    /// Days the log of changes keeps a change (default 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_log_retention_days: Option<u64>,
    /// Changes the log keeps at most, the oldest going first (default 1,000,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_log_max_rows: Option<u64>,
}

pub const SYNC_LOG_RETENTION_DAYS: u64 = 7;
pub const SYNC_LOG_MAX_ROWS: u64 = 1_000_000;

impl GlobalSettings {
    pub fn validate(&self, issues: &mut Issues<'_>) {
        if let Some(key) = &self.changelog_password_decryption_key {
            issues.secret("changelog-password-decryption-key", key);
        }
        if let Some(token) = &self.metrics_bearer_token {
            issues.secret("metrics-bearer-token", token);
        }
        if let Some(days) = self.sync_log_retention_days {
            issues.range("sync-log-retention-days", days, 1, 3650);
        }
        if let Some(rows) = self.sync_log_max_rows {
            issues.range("sync-log-max-rows", rows, 1000, 1_000_000_000);
        }
    }

    /// How long the log of changes keeps a change, and how many it keeps at most.
    pub fn sync_log_retention(&self) -> (chrono::Duration, u64) {
        let days = self
            .sync_log_retention_days
            .unwrap_or(SYNC_LOG_RETENTION_DAYS);
        (
            chrono::Duration::days(days.min(3650) as i64),
            self.sync_log_max_rows.unwrap_or(SYNC_LOG_MAX_ROWS),
        )
    }
}
