//! Step 6: the SCIM 2.0 sync destination (server + endpoints + update and query methods).

use super::validate::Issues;
use super::{ConfigItem, ObjectKind};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ScimDestination {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub server: String,
    pub endpoint_mappings: Vec<String>,
    #[serde(default)]
    pub update_method: UpdateMethod,
    #[serde(default)]
    pub query_method: QueryMethod,
    /// Most changes one PATCH request carries; an `add` of several values counts each value
    /// (AWS IAM Identity Center accepts 100 membership changes per request).
    #[serde(default = "default_max_operations_per_patch")]
    pub max_operations_per_patch: u32,
    /// Send creates, updates and deletes in SCIM Bulk requests (RFC 7644 §3.7) when the
    /// server's ServiceProviderConfig offers Bulk; single requests otherwise.
    #[serde(default = "super::default_true")]
    pub use_bulk: bool,
}

/// What a destination left unset gets (the console's form starts from these).
impl ScimDestination {
    pub const DEFAULT_MAX_OPERATIONS_PER_PATCH: u32 = 100;
}

fn default_max_operations_per_patch() -> u32 {
    ScimDestination::DEFAULT_MAX_OPERATIONS_PER_PATCH
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpdateMethod {
    /// Send only the differences (RFC 7644 §3.5.2).
    #[default]
    Patch,
    /// Replace the whole resource (RFC 7644 §3.5.1).
    Put,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueryMethod {
    /// `GET /Endpoint?filter=…`
    #[default]
    Get,
    /// `POST /Endpoint/.search` with a SearchRequest body.
    Post,
}

impl ConfigItem for ScimDestination {
    fn refers_to(&self) -> Vec<(String, ObjectKind, String)> {
        let mut refs = vec![(
            "server".to_owned(),
            ObjectKind::ScimServer,
            self.server.clone(),
        )];
        refs.extend(self.endpoint_mappings.iter().enumerate().map(|(i, n)| {
            (
                format!("endpoint-mappings[{i}]"),
                ObjectKind::EndpointMapping,
                n.clone(),
            )
        }));
        refs.retain(|(_, _, n)| !n.is_empty());
        refs
    }
    fn validate_own(&self, issues: &mut Issues<'_>) {
        issues.required("server", &self.server);
        issues.non_empty_list(
            "endpoint-mappings",
            &self.endpoint_mappings,
            "endpoint mapping",
        );
        issues.unique("endpoint-mappings", &self.endpoint_mappings, false);
        issues.range(
            "max-operations-per-patch",
            self.max_operations_per_patch.into(),
            1,
            10_000,
        );
    }
}
