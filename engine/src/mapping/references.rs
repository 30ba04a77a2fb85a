//! Reference mappings: LDAP DN values (`member`, `uniqueMember`, `manager`) → the SCIM ids of
//! the resources those entries are synchronised to.
//!
//! Resolving a DN needs the store, the source and the destination, so it happens before
//! mapping (see `sync::references`); mapping itself stays pure and reads the answers from
//! [`ResolvedReferences`].

use crate::dn::{Dn, DnError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// A resource a DN resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferencedResource {
    /// The endpoint mapping it belongs to (a Reference mapping lists which it accepts).
    pub endpoint_mapping: String,
    pub id: String,
    /// `User`, `Group`, …: the last segment of the endpoint's core schema URN.
    pub resource_type: String,
    /// Its `displayName`, when its endpoint maps one.
    pub display: Option<String>,
}

/// What a referenced DN turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferenceTarget {
    Resource(ReferencedResource),
    /// In scope, but not at the destination (yet): created later, or rejected.
    Pending {
        /// Where it will be synchronised to.
        endpoint_mapping: String,
    },
    /// In no sync class that synchronises it, or no longer in the source.
    OutOfScope,
}

/// Answers for the DNs an entry refers to, by normalised DN.
#[derive(Debug, Clone, Default)]
pub struct ResolvedReferences(HashMap<String, ReferenceTarget>);

impl ResolvedReferences {
    pub fn insert(&mut self, dn_key: String, target: ReferenceTarget) {
        self.0.insert(dn_key, target);
    }

    pub fn get(&self, dn_key: &str) -> Option<&ReferenceTarget> {
        self.0.get(dn_key)
    }

    /// Every DN answered (normalised) with its target, in DN order (for a preview).
    pub fn answers(&self) -> Vec<(&str, &ReferenceTarget)> {
        let mut all: Vec<(&str, &ReferenceTarget)> =
            self.0.iter().map(|(dn, t)| (dn.as_str(), t)).collect();
        all.sort_by_key(|(dn, _)| *dn);
        all
    }

    /// Endpoint mappings of the targets still pending.
    pub fn pending_endpoints(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for target in self.0.values() {
            if let ReferenceTarget::Pending { endpoint_mapping } = target
                && !out.contains(&endpoint_mapping.as_str())
            {
                out.push(endpoint_mapping);
            }
        }
        out
    }
}

/// A reference that could not be written because its target is not at the destination yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PendingReference {
    /// The Reference mapping.
    pub mapping: String,
    /// The referenced DN, as the entry has it.
    pub dn: String,
}

/// How an entry's references fared.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct ReferenceReport {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<PendingReference>,
    /// DNs dropped because they are outside every sync class (or gone).
    pub out_of_scope: u64,
    /// Values of multi-valued references (members) added to the resource.
    pub members_added: u64,
    /// Values of multi-valued references removed from it.
    pub members_removed: u64,
}

/// A Reference value as a DN. `uniqueMember` (Name and Optional UID, RFC 4517 §3.3.21) may end
/// in `#'0101'B`, which is not part of the DN.
pub fn reference_dn(value: &str) -> Result<Dn, DnError> {
    let text = match value.rfind("#'") {
        Some(i)
            if value.ends_with("'B")
                && value[i + 2..value.len() - 2]
                    .chars()
                    .all(|c| c == '0' || c == '1') =>
        {
            &value[..i]
        }
        _ => value,
    };
    Dn::parse(text)
}

/// The SCIM value for a resolved reference: `value`, and for multi-valued attributes (group
/// `members`) also `type` and `display`. A single-valued one (the enterprise `manager`) sends
/// only `value`: its `displayName` is read-only in RFC 7643 §4.3.
pub(crate) fn reference_value(target: &ReferencedResource, single_valued: bool) -> Value {
    let mut object = Map::new();
    object.insert("value".into(), Value::String(target.id.clone()));
    if !single_valued {
        object.insert("type".into(), Value::String(target.resource_type.clone()));
        if let Some(display) = &target.display {
            object.insert("display".into(), Value::String(display.clone()));
        }
    }
    Value::Object(object)
}

/// The ids a reference attribute's value holds (an object or a list of objects).
pub(crate) fn reference_ids(value: &Value) -> Vec<&str> {
    match value {
        Value::Array(items) => items.iter().filter_map(reference_id).collect(),
        other => reference_id(other).into_iter().collect(),
    }
}

fn reference_id(item: &Value) -> Option<&str> {
    item.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("value"))
        .and_then(|(_, v)| v.as_str())
}

/// `User` from `urn:ietf:params:scim:schemas:core:2.0:User`.
pub fn resource_type_of(core_schema: &str) -> String {
    core_schema
        .rsplit(':')
        .next()
        .unwrap_or(core_schema)
        .to_owned()
}

#[cfg(test)]
#[path = "references_tests.rs"]
mod tests;
