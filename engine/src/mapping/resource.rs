//! An LDAP entry → the SCIM resource of one endpoint.

use super::LdapEntry;
use super::values;
use crate::changelog::{is_hashed, is_password_attribute};
use crate::config::{
    AttributeMapping, AttributeUsage, Config, EndpointMapping, FailedMappingBehavior, MappingSyntax,
};
use serde_json::{Map, Value};

/// Whether the resource is being synchronised by resync or by realtime sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Resync,
    Realtime,
}

/// What the mapped resource is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Create,
    Update,
}

pub(crate) fn usage_for(purpose: Purpose, phase: Phase) -> AttributeUsage {
    match (purpose, phase) {
        (Purpose::Create, Phase::Resync) => AttributeUsage::CreateDuringResync,
        (Purpose::Create, Phase::Realtime) => AttributeUsage::CreateDuringRealtimeSync,
        (Purpose::Update, Phase::Resync) => AttributeUsage::UpdateDuringResync,
        (Purpose::Update, Phase::Realtime) => AttributeUsage::UpdateDuringRealtimeSync,
    }
}

/// A value that could not be mapped.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, thiserror::Error)]
#[error("attribute mapping \"{mapping}\" ({ldap_attribute}): {reason}")]
pub struct MappingIssue {
    pub mapping: String,
    pub ldap_attribute: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MappedResource {
    /// The resource body, with `schemas`.
    pub resource: Value,
    /// Values left out under ignore-entire-attribute / ignore-individual-values.
    pub ignored: Vec<MappingIssue>,
}

/// A mapping with its sub-mappings resolved.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub mapping: AttributeMapping,
    pub subs: Vec<Resolved>,
}

impl Resolved {
    fn resolve(config: &Config, name: &str, depth: usize) -> Option<Resolved> {
        let mapping = config.get::<AttributeMapping>(name)?.clone();
        let subs = match (&mapping.syntax, depth) {
            (
                MappingSyntax::ComposedComplex {
                    sub_attribute_mappings,
                },
                d,
            ) if d < 3 => sub_attribute_mappings
                .iter()
                .filter_map(|s| Resolved::resolve(config, s, d + 1))
                .collect(),
            _ => Vec::new(),
        };
        Some(Resolved { mapping, subs })
    }

    pub fn has(&self, usage: AttributeUsage) -> bool {
        self.mapping.attribute_usage.contains(&usage)
    }

    pub fn scim_name(&self) -> &str {
        &self.mapping.scim_attribute_name
    }
}

/// Maps entries for one endpoint mapping.
#[derive(Debug, Clone)]
pub struct EndpointMapper {
    pub endpoint: EndpointMapping,
    pub(crate) mappings: Vec<Resolved>,
    pub(crate) search: Vec<Resolved>,
}

impl EndpointMapper {
    /// Builds the mapper from a validated configuration.
    pub fn new(config: &Config, endpoint: &EndpointMapping) -> EndpointMapper {
        let resolve = |names: &[String]| {
            names
                .iter()
                .filter_map(|n| Resolved::resolve(config, n, 0))
                .collect()
        };
        EndpointMapper {
            endpoint: endpoint.clone(),
            mappings: resolve(&endpoint.attribute_mappings),
            search: resolve(&endpoint.search_attribute_mappings),
        }
    }

    /// LDAP attributes the mappings read (lower-cased, without duplicates).
    pub fn ldap_attributes(&self) -> Vec<String> {
        fn walk(r: &Resolved, out: &mut Vec<String>) {
            if let Some(a) = r.mapping.syntax.ldap_attribute() {
                let a = a.to_ascii_lowercase();
                if !out.contains(&a) {
                    out.push(a);
                }
            }
            r.subs.iter().for_each(|s| walk(s, out));
        }
        let mut out = Vec::new();
        self.mappings
            .iter()
            .chain(&self.search)
            .for_each(|r| walk(r, &mut out));
        out
    }

    /// The resource for `purpose` in `phase`: only mappings whose attribute-usage includes it.
    pub fn map(
        &self,
        entry: &LdapEntry,
        purpose: Purpose,
        phase: Phase,
    ) -> Result<MappedResource, MappingIssue> {
        let usage = usage_for(purpose, phase);
        let mut ignored = Vec::new();
        let mut body = Map::new();
        body.insert(
            "schemas".into(),
            Value::Array(vec![Value::String(self.core_schema().to_owned())]),
        );
        for r in self.mappings.iter().filter(|r| r.has(usage)) {
            if let Some(v) = map_one(r, entry, Some(usage), &mut ignored)? {
                body.insert(r.scim_name().to_owned(), v);
            }
        }
        let extensions: Vec<Value> = self
            .endpoint
            .schema_urns
            .iter()
            .skip(1)
            .filter(|urn| body.keys().any(|k| k.eq_ignore_ascii_case(urn)))
            .map(|urn| Value::String(urn.clone()))
            .collect();
        if let Some(Value::Array(schemas)) = body.get_mut("schemas") {
            schemas.extend(extensions);
        }
        Ok(MappedResource {
            resource: Value::Object(body),
            ignored,
        })
    }

    pub fn core_schema(&self) -> &str {
        self.endpoint
            .schema_urns
            .first()
            .map(String::as_str)
            .unwrap_or_default()
    }
}

/// Maps one (possibly composed) mapping; `None` when the entry yields no value for it.
/// With `usage`, sub-mappings lacking that usage are left out.
pub(crate) fn map_one(
    r: &Resolved,
    entry: &LdapEntry,
    usage: Option<AttributeUsage>,
    ignored: &mut Vec<MappingIssue>,
) -> Result<Option<Value>, MappingIssue> {
    let m = &r.mapping;
    let issue = |attr: &str, reason: String| MappingIssue {
        mapping: m.name.clone(),
        ldap_attribute: attr.to_owned(),
        reason,
    };
    if let MappingSyntax::ComposedComplex { .. } = m.syntax {
        let mut object = Map::new();
        for sub in r.subs.iter().filter(|s| usage.is_none_or(|u| s.has(u))) {
            if let Some(v) = map_one(sub, entry, usage, ignored)? {
                object.insert(sub.scim_name().to_owned(), v);
            }
        }
        return Ok((!object.is_empty()).then_some(Value::Object(object)));
    }
    let attr = m.syntax.ldap_attribute().unwrap_or_default();
    // A password hash is useless to the destination: only clear text is sent.
    let password = is_password_attribute(attr);
    let raw: Vec<&String> = entry
        .get(attr)
        .iter()
        .filter(|v| !(password && is_hashed(v)))
        .collect();
    if raw.is_empty() {
        return Ok(default_value(&m.syntax));
    }
    let single = m.syntax.single_valued();
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for value in &raw {
        match convert(&m.syntax, value) {
            Ok(v) => good.push(v),
            Err(reason) => bad.push(reason),
        }
    }
    if single && raw.len() > 1 {
        bad.push(format!("{} values for a single-valued mapping", raw.len()));
    }
    if !bad.is_empty() {
        let reason = bad.join("; ");
        // For a single-valued attribute, ignoring individual values is ignoring the attribute.
        let keep_some = m.failed_mapping_behavior == FailedMappingBehavior::IgnoreIndividualValues
            && !single
            && !good.is_empty();
        match m.failed_mapping_behavior {
            FailedMappingBehavior::Reject => return Err(issue(attr, reason)),
            _ if keep_some => ignored.push(issue(attr, reason)),
            _ => {
                ignored.push(issue(attr, reason));
                return Ok(None);
            }
        }
    }
    Ok(match (single, good.len()) {
        (_, 0) => None,
        (true, _) => good.into_iter().next(),
        (false, _) => Some(Value::Array(good)),
    })
}

fn convert(syntax: &MappingSyntax, value: &str) -> Result<Value, String> {
    Ok(match syntax {
        MappingSyntax::String { .. } => Value::String(value.to_owned()),
        MappingSyntax::Number { .. } => values::to_number(value)?,
        MappingSyntax::Boolean { invert_value, .. } => {
            Value::Bool(values::to_boolean(value)? != *invert_value)
        }
        MappingSyntax::DateTime { .. } => Value::String(values::generalized_to_rfc3339(value)?),
        MappingSyntax::PostalAddress { .. } => Value::String(values::postal_to_scim(value)?),
        MappingSyntax::JsonFormattedComplex { .. } => values::to_json_object(value)?,
        MappingSyntax::ComposedComplex { .. } => {
            unreachable!("composed mappings have no LDAP value")
        }
    })
}

fn default_value(syntax: &MappingSyntax) -> Option<Value> {
    let (value, single) = match syntax {
        MappingSyntax::String {
            default_value: Some(d),
            single_valued,
            ..
        } => (Value::String(d.clone()), *single_valued),
        MappingSyntax::Number {
            default_value: Some(d),
            single_valued,
            ..
        } => (Value::Number(d.clone()), *single_valued),
        // A default is the SCIM value as configured; invert-value applies to LDAP values only.
        MappingSyntax::Boolean {
            default_value: Some(d),
            ..
        } => (Value::Bool(*d), true),
        _ => return None,
    };
    Some(if single {
        value
    } else {
        Value::Array(vec![value])
    })
}

#[cfg(test)]
#[path = "resource_tests.rs"]
mod tests;
