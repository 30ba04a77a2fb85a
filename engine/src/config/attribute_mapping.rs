//! Step 4: how one SCIM attribute is built from the LDAP entry (and read back).

use super::validate::Issues;
use super::value_path::ValuePath;
use super::{ConfigItem, ObjectKind};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AttributeMapping {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Attribute name in the SCIM resource; for an extension schema, the schema URN.
    pub scim_attribute_name: String,
    /// When the attribute is used; at least one.
    pub attribute_usage: Vec<AttributeUsage>,
    #[serde(default)]
    pub failed_mapping_behavior: FailedMappingBehavior,
    /// Update with PATCH `replace` instead of add/remove of individual values.
    #[serde(default)]
    pub always_patch_with_replace: bool,
    pub syntax: MappingSyntax,
}

impl AttributeMapping {
    /// The element this mapping owns, when its SCIM name is a value path.
    pub fn value_path(&self) -> Option<ValuePath> {
        ValuePath::looks_like(&self.scim_attribute_name)
            .then(|| ValuePath::parse(&self.scim_attribute_name).ok())
            .flatten()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttributeUsage {
    /// Read from the SCIM resource when fetching it for comparison.
    Fetch,
    CreateDuringRealtimeSync,
    CreateDuringResync,
    UpdateDuringRealtimeSync,
    UpdateDuringResync,
}

impl AttributeUsage {
    pub const ALL: [AttributeUsage; 5] = [
        AttributeUsage::Fetch,
        AttributeUsage::CreateDuringRealtimeSync,
        AttributeUsage::CreateDuringResync,
        AttributeUsage::UpdateDuringRealtimeSync,
        AttributeUsage::UpdateDuringResync,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailedMappingBehavior {
    /// Reject the whole synchronisation operation.
    #[default]
    Reject,
    /// Proceed as if the attribute were absent.
    IgnoreEntireAttribute,
    /// Drop only the values that cannot be mapped.
    IgnoreIndividualValues,
}

/// The eight mapping syntaxes and their own properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case",
    deny_unknown_fields
)]
pub enum MappingSyntax {
    String {
        ldap_attribute: String,
        #[serde(default)]
        single_valued: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default_value: Option<String>,
    },
    Number {
        ldap_attribute: String,
        #[serde(default)]
        single_valued: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default_value: Option<serde_json::Number>,
    },
    /// Always single-valued; LDAP values are `true`/`false` (any case).
    Boolean {
        ldap_attribute: String,
        #[serde(default)]
        invert_value: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default_value: Option<bool>,
    },
    /// LDAP generalized time ↔ RFC 3339.
    DateTime {
        ldap_attribute: String,
        #[serde(default)]
        single_valued: bool,
    },
    /// `$`-separated lines in LDAP ↔ `\n`-separated lines in SCIM.
    PostalAddress {
        ldap_attribute: String,
        #[serde(default)]
        single_valued: bool,
    },
    /// A single-valued complex attribute (or an extension schema) whose sub-attributes
    /// are other mappings, by name.
    ComposedComplex { sub_attribute_mappings: Vec<String> },
    /// Complex values read as JSON objects from an LDAP attribute.
    JsonFormattedComplex {
        ldap_attribute: String,
        #[serde(default)]
        single_valued: bool,
    },
    /// DNs of other synchronised entries (`member`, `manager`) → `{"value": <their SCIM id>}`.
    Reference {
        ldap_attribute: String,
        /// Endpoint mappings a DN may resolve to (a member may be a user or a nested group).
        endpoint_mappings: Vec<String>,
        #[serde(default)]
        single_valued: bool,
    },
}

impl MappingSyntax {
    pub fn type_name(&self) -> &'static str {
        match self {
            MappingSyntax::String { .. } => "string",
            MappingSyntax::Number { .. } => "number",
            MappingSyntax::Boolean { .. } => "boolean",
            MappingSyntax::DateTime { .. } => "date-time",
            MappingSyntax::PostalAddress { .. } => "postal-address",
            MappingSyntax::ComposedComplex { .. } => "composed-complex",
            MappingSyntax::JsonFormattedComplex { .. } => "json-formatted-complex",
            MappingSyntax::Reference { .. } => "reference",
        }
    }

    pub fn ldap_attribute(&self) -> Option<&str> {
        match self {
            MappingSyntax::String { ldap_attribute, .. }
            | MappingSyntax::Number { ldap_attribute, .. }
            | MappingSyntax::Boolean { ldap_attribute, .. }
            | MappingSyntax::DateTime { ldap_attribute, .. }
            | MappingSyntax::PostalAddress { ldap_attribute, .. }
            | MappingSyntax::JsonFormattedComplex { ldap_attribute, .. }
            | MappingSyntax::Reference { ldap_attribute, .. } => Some(ldap_attribute),
            MappingSyntax::ComposedComplex { .. } => None,
        }
    }

    /// Produces a scalar SCIM value (usable in an equality filter).
    pub fn is_simple(&self) -> bool {
        matches!(
            self,
            MappingSyntax::String { .. }
                | MappingSyntax::Number { .. }
                | MappingSyntax::Boolean { .. }
                | MappingSyntax::DateTime { .. }
        )
    }

    /// Builds a complex SCIM value (an object, or objects), so it cannot sit inside another
    /// complex attribute except an extension schema.
    pub fn is_complex(&self) -> bool {
        matches!(
            self,
            MappingSyntax::ComposedComplex { .. }
                | MappingSyntax::JsonFormattedComplex { .. }
                | MappingSyntax::Reference { .. }
        )
    }

    /// May be named by a value path (`emails[type eq "work"].value`): one scalar per element.
    pub fn allows_value_path(&self) -> bool {
        self.is_simple() || matches!(self, MappingSyntax::PostalAddress { .. })
    }

    pub fn single_valued(&self) -> bool {
        match self {
            MappingSyntax::String { single_valued, .. }
            | MappingSyntax::Number { single_valued, .. }
            | MappingSyntax::DateTime { single_valued, .. }
            | MappingSyntax::PostalAddress { single_valued, .. }
            | MappingSyntax::JsonFormattedComplex { single_valued, .. }
            | MappingSyntax::Reference { single_valued, .. } => *single_valued,
            MappingSyntax::Boolean { .. } | MappingSyntax::ComposedComplex { .. } => true,
        }
    }
}

/// RFC 7643 §2.1 ATTRNAME, plus `$ref`.
fn is_scim_attribute_name(name: &str) -> bool {
    name == "$ref"
        || (name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
}

fn is_urn(name: &str) -> bool {
    name.len() > 4 && name[..4].eq_ignore_ascii_case("urn:") && !name.contains(char::is_whitespace)
}

impl ConfigItem for AttributeMapping {
    fn refers_to(&self) -> Vec<(String, ObjectKind, String)> {
        let (field, kind, names) = match &self.syntax {
            MappingSyntax::ComposedComplex {
                sub_attribute_mappings,
            } => (
                "syntax.sub-attribute-mappings",
                ObjectKind::AttributeMapping,
                sub_attribute_mappings,
            ),
            MappingSyntax::Reference {
                endpoint_mappings, ..
            } => (
                "syntax.endpoint-mappings",
                ObjectKind::EndpointMapping,
                endpoint_mappings,
            ),
            _ => return Vec::new(),
        };
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (format!("{field}[{i}]"), kind, n.clone()))
            .collect()
    }
    fn validate_own(&self, issues: &mut Issues<'_>) {
        let name = &self.scim_attribute_name;
        let composed = matches!(self.syntax, MappingSyntax::ComposedComplex { .. });
        if issues.required("scim-attribute-name", name) {
            if is_urn(name) {
                if !composed {
                    issues.error(
                        "scim-attribute-name",
                        name,
                        "a schema URN is only valid for a Composed Complex mapping of an extension schema",
                    );
                }
            } else if ValuePath::looks_like(name) {
                match ValuePath::parse(name) {
                    Err(e) => issues.error(
                        "scim-attribute-name",
                        name,
                        format!("is not a valid value path ATTR[SUBATTR eq \"VALUE\"].SUBATTR: {e}"),
                    ),
                    Ok(_) if !self.syntax.allows_value_path() => issues.error(
                        "scim-attribute-name",
                        name,
                        format!(
                            "a value path is only valid for String, Number, Boolean, DateTime and Postal Address mappings, not {}",
                            self.syntax.type_name()
                        ),
                    ),
                    Ok(_) if !self.syntax.single_valued() => issues.error(
                        "syntax.single-valued",
                        "false",
                        "a value-path mapping owns one element, so it must be single-valued",
                    ),
                    Ok(_) => {}
                }
            } else if !is_scim_attribute_name(name) {
                issues.error(
                    "scim-attribute-name",
                    name,
                    "is not a valid SCIM attribute name (a letter, then letters, digits, '-' or '_'), a value path such as emails[type eq \"work\"].value, nor a schema URN",
                );
            }
        }
        if self.attribute_usage.is_empty() {
            issues.error(
                "attribute-usage",
                "",
                "needs at least one of fetch, create-during-realtime-sync, create-during-resync, update-during-realtime-sync, update-during-resync",
            );
        }
        let usages: Vec<String> = self
            .attribute_usage
            .iter()
            .map(|u| format!("{u:?}"))
            .collect();
        issues.unique("attribute-usage", &usages, false);
        if let Some(attr) = self.syntax.ldap_attribute() {
            issues.ldap_attribute("syntax.ldap-attribute", attr);
        }
        match &self.syntax {
            MappingSyntax::String {
                default_value: Some(v),
                ..
            } if v.is_empty() => {
                issues.error("syntax.default-value", "", "must not be empty when given");
            }
            MappingSyntax::ComposedComplex {
                sub_attribute_mappings,
            } => {
                issues.non_empty_list(
                    "syntax.sub-attribute-mappings",
                    sub_attribute_mappings,
                    "sub-attribute mapping",
                );
                issues.unique(
                    "syntax.sub-attribute-mappings",
                    sub_attribute_mappings,
                    false,
                );
            }
            MappingSyntax::Reference {
                endpoint_mappings, ..
            } => {
                issues.non_empty_list(
                    "syntax.endpoint-mappings",
                    endpoint_mappings,
                    "endpoint mapping the referenced entries may be synchronized to",
                );
                issues.unique("syntax.endpoint-mappings", endpoint_mappings, false);
            }
            _ => {}
        }
    }
}
