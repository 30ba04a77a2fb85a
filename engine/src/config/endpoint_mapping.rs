//! Step 5: one SCIM endpoint (/Users, /Groups, …) and the mappings used with it.

use super::validate::Issues;
use super::{ConfigItem, ObjectKind};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct EndpointMapping {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Path relative to the server's base URL, e.g. `Users`.
    pub endpoint_path: String,
    /// Schemas of the resources; the first is the core schema.
    pub schema_urns: Vec<String>,
    pub attribute_mappings: Vec<String>,
    /// Mappings whose values build the filter that finds the existing resource
    /// (e.g. `userName eq "jdoe"`); several are combined with `and`.
    pub search_attribute_mappings: Vec<String>,
}

impl ConfigItem for EndpointMapping {
    fn refers_to(&self) -> Vec<(String, ObjectKind, String)> {
        let all = self
            .attribute_mappings
            .iter()
            .enumerate()
            .map(|(i, n)| (format!("attribute-mappings[{i}]"), n));
        let search = self
            .search_attribute_mappings
            .iter()
            .enumerate()
            .map(|(i, n)| (format!("search-attribute-mappings[{i}]"), n));
        all.chain(search)
            .map(|(f, n)| (f, ObjectKind::AttributeMapping, n.clone()))
            .collect()
    }
    fn validate_own(&self, issues: &mut Issues<'_>) {
        let path = &self.endpoint_path;
        if issues.required("endpoint-path", path) {
            let ok = !path.starts_with('/')
                && !path.ends_with('/')
                && path.split('/').all(|seg| {
                    !seg.is_empty()
                        && seg
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
                });
            if !ok {
                issues.error(
                    "endpoint-path",
                    path,
                    "must be a relative path such as \"Users\" (letters, digits, '-', '.', '_', '~'; no leading or trailing '/')",
                );
            }
        }
        if issues.non_empty_list("schema-urns", &self.schema_urns, "schema URN") {
            for (i, urn) in self.schema_urns.iter().enumerate() {
                if !(urn.len() > 4 && urn[..4].eq_ignore_ascii_case("urn:"))
                    || urn.contains(char::is_whitespace)
                {
                    issues.error(format!("schema-urns[{i}]"), urn, "is not a URN (urn:…)");
                }
            }
            issues.unique("schema-urns", &self.schema_urns, true);
        }
        issues.non_empty_list(
            "attribute-mappings",
            &self.attribute_mappings,
            "attribute mapping",
        );
        issues.unique("attribute-mappings", &self.attribute_mappings, false);
        issues.non_empty_list(
            "search-attribute-mappings",
            &self.search_attribute_mappings,
            "search attribute mapping (to find the existing resource)",
        );
        issues.unique(
            "search-attribute-mappings",
            &self.search_attribute_mappings,
            false,
        );
    }
}
