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
}

impl GlobalSettings {
    pub fn validate(&self, issues: &mut Issues<'_>) {
        if let Some(key) = &self.changelog_password_decryption_key {
            issues.secret("changelog-password-decryption-key", key);
        }
        if let Some(token) = &self.metrics_bearer_token {
            issues.secret("metrics-bearer-token", token);
        }
    }
}
