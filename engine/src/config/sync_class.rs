//! Step 8: which entries of a pipe are synchronised, how, and to which endpoint.

use super::validate::Issues;
use super::{ConfigItem, ObjectKind};
use crate::ldap_filter::{Filter, FilterError};
pub use model::held_delete::DeleteAction;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SyncClass {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub pipe: String,
    /// Entries must be under one of these (inside the source's base DNs); empty means all.
    #[serde(default)]
    pub include_base_dns: Vec<String>,
    /// LDAP filter entries must match; none means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_filter: Option<String>,
    /// Classes are tried in ascending order; the first that matches handles the entry.
    #[serde(default = "default_evaluation_order")]
    pub evaluation_order: u32,
    #[serde(default = "super::default_true")]
    pub synchronize_creates: bool,
    #[serde(default = "super::default_true")]
    pub synchronize_modifies: bool,
    #[serde(default = "super::default_true")]
    pub synchronize_deletes: bool,
    /// What becomes of the resource of an entry that is deleted or leaves scope.
    #[serde(default, skip_serializing_if = "is_delete")]
    pub delete_action: DeleteAction,
    /// Where matching entries go; required unless the class synchronises nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_mapping: Option<String>,
}

/// What a class left unset gets (the console's form starts from these).
impl SyncClass {
    pub const DEFAULT_EVALUATION_ORDER: u32 = 9999;
}

fn is_delete(action: &DeleteAction) -> bool {
    *action == DeleteAction::Delete
}

fn default_evaluation_order() -> u32 {
    SyncClass::DEFAULT_EVALUATION_ORDER
}

impl SyncClass {
    /// The parsed include filter (validation guarantees it parses).
    pub fn filter(&self) -> Result<Option<Filter>, FilterError> {
        self.include_filter
            .as_deref()
            .map(Filter::parse)
            .transpose()
    }

    pub fn synchronizes_anything(&self) -> bool {
        self.synchronize_creates || self.synchronize_modifies || self.synchronize_deletes
    }
}

impl ConfigItem for SyncClass {
    fn refers_to(&self) -> Vec<(String, ObjectKind, String)> {
        let mut refs = Vec::new();
        if !self.pipe.is_empty() {
            refs.push(("pipe".to_owned(), ObjectKind::SyncPipe, self.pipe.clone()));
        }
        if let Some(e) = self.endpoint_mapping.as_ref().filter(|e| !e.is_empty()) {
            refs.push((
                "endpoint-mapping".to_owned(),
                ObjectKind::EndpointMapping,
                e.clone(),
            ));
        }
        refs
    }
    fn validate_own(&self, issues: &mut Issues<'_>) {
        issues.required("pipe", &self.pipe);
        for (i, dn) in self.include_base_dns.iter().enumerate() {
            issues.dn(&format!("include-base-dns[{i}]"), dn);
        }
        if let Some(text) = &self.include_filter
            && let Err(e) = Filter::parse(text)
        {
            issues.error(
                "include-filter",
                text,
                format!("is not a valid LDAP filter: {e}"),
            );
        }
        if self.synchronizes_anything() && self.endpoint_mapping.as_deref().unwrap_or("").is_empty()
        {
            issues.error(
                "endpoint-mapping",
                "",
                "is required when the class synchronizes creates, modifies or deletes",
            );
        }
    }
}
