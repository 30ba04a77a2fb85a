//! An LDAP entry → the SCIM resource of one endpoint.

use super::LdapEntry;
use super::references::{
    PendingReference, ReferenceReport, ReferenceTarget, ResolvedReferences, reference_dn,
    reference_value,
};
use super::values;
use crate::config::{
    AttributeMapping, AttributeUsage, Config, EndpointMapping, FailedMappingBehavior,
    MappingSyntax, ValuePath,
};
use crate::sensitive::{is_hashed, is_password_attribute};
use serde_json::{Map, Value};

pub use model::rejection::Phase;

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
    /// References left out: pending (target not at the destination yet) or out of scope.
    pub references: ReferenceReport,
}

/// A mapping with its sub-mappings resolved.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub mapping: AttributeMapping,
    pub subs: Vec<Resolved>,
    /// The element it owns, when its SCIM name is a value path.
    pub path: Option<ValuePath>,
}

/// What mapping one entry collects besides the values.
pub(crate) struct MapContext<'a> {
    pub references: &'a ResolvedReferences,
    pub ignored: Vec<MappingIssue>,
    pub report: ReferenceReport,
}

impl<'a> MapContext<'a> {
    pub fn new(references: &'a ResolvedReferences) -> Self {
        MapContext {
            references,
            ignored: Vec::new(),
            report: ReferenceReport::default(),
        }
    }
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
        let path = mapping.value_path();
        Some(Resolved {
            mapping,
            subs,
            path,
        })
    }

    pub fn has(&self, usage: AttributeUsage) -> bool {
        self.mapping.attribute_usage.contains(&usage)
    }

    pub fn scim_name(&self) -> &str {
        &self.mapping.scim_attribute_name
    }
}

fn compared_names(mappings: &[Resolved]) -> Vec<String> {
    let update = usage_for(Purpose::Update, Phase::Resync);
    let mut names: Vec<String> = mappings
        .iter()
        .filter(|r| r.has(update) && r.has(AttributeUsage::Fetch))
        .map(|r| {
            r.path
                .as_ref()
                .map_or(r.scim_name(), |p| p.attribute.as_str())
                .to_lowercase()
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Maps entries for one endpoint mapping.
#[derive(Debug, Clone)]
pub struct EndpointMapper {
    pub endpoint: EndpointMapping,
    pub(crate) mappings: Vec<Resolved>,
    pub(crate) search: Vec<Resolved>,
    /// See [`Self::compared_names`]; asked for every entry and listed resource of a resync.
    compared: Vec<String>,
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
        let mappings: Vec<Resolved> = resolve(&endpoint.attribute_mappings);
        EndpointMapper {
            endpoint: endpoint.clone(),
            compared: compared_names(&mappings),
            mappings,
            search: resolve(&endpoint.search_attribute_mappings),
        }
    }

    /// The top-level attributes resync compares: those of mappings with `fetch` and the resync
    /// update usage (a value-path mapping compares its whole attribute), lower-cased and sorted.
    pub(crate) fn compared_names(&self) -> &[String] {
        &self.compared
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
    /// Reference mappings take their ids from `references` (see [`Self::referenced_dns`]).
    pub fn map(
        &self,
        entry: &LdapEntry,
        purpose: Purpose,
        phase: Phase,
        references: &ResolvedReferences,
    ) -> Result<MappedResource, MappingIssue> {
        let usage = usage_for(purpose, phase);
        let mut context = MapContext::new(references);
        let mut body = Map::new();
        body.insert(
            "schemas".into(),
            Value::Array(vec![Value::String(self.core_schema().to_owned())]),
        );
        for r in self.mappings.iter().filter(|r| r.has(usage)) {
            if let Some(v) = map_one(r, entry, Some(usage), &mut context)? {
                match &r.path {
                    Some(path) => put_element(&mut body, path, v),
                    None => put_attribute(&mut body, r, v),
                }
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
            ignored: context.ignored,
            references: context.report,
        })
    }

    pub fn core_schema(&self) -> &str {
        self.endpoint
            .schema_urns
            .first()
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// Calls `f` with every mapping of the endpoint, sub-mappings included.
    pub fn each_mapping(&self, f: &mut dyn FnMut(&AttributeMapping)) {
        fn walk(r: &Resolved, f: &mut dyn FnMut(&AttributeMapping)) {
            f(&r.mapping);
            r.subs.iter().for_each(|s| walk(s, f));
        }
        self.mappings.iter().for_each(|r| walk(r, f));
    }

    /// Whether any mapping of this endpoint is a Reference mapping.
    pub fn has_references(&self) -> bool {
        let mut any = false;
        self.each_mapping(&mut |m| any |= matches!(m.syntax, MappingSyntax::Reference { .. }));
        any
    }

    /// The DNs the entry's Reference mappings name, each once: (normalised key, DN as written).
    /// Values that are not DNs are left to mapping, where failed-mapping-behavior applies.
    pub fn referenced_dns(&self, entry: &LdapEntry) -> Vec<(String, String)> {
        fn walk(r: &Resolved, entry: &LdapEntry, out: &mut Vec<(String, String)>) {
            if let MappingSyntax::Reference { ldap_attribute, .. } = &r.mapping.syntax {
                for value in entry.get(ldap_attribute) {
                    if let Ok(dn) = reference_dn(value) {
                        let key = dn.normalized_key();
                        if !out.iter().any(|(k, _)| *k == key) {
                            out.push((key, value.clone()));
                        }
                    }
                }
            }
            r.subs.iter().for_each(|s| walk(s, entry, out));
        }
        let mut out = Vec::new();
        self.mappings.iter().for_each(|r| walk(r, entry, &mut out));
        out
    }

    /// Filter paths that hold references to resources of `endpoint_mapping`, e.g.
    /// `members.value` or `urn:…:enterprise:2.0:User:manager.value`.
    pub fn reference_paths(&self, endpoint_mapping: &str) -> Vec<String> {
        fn walk(r: &Resolved, prefix: &str, target: &str, out: &mut Vec<String>) {
            let name = if prefix.is_empty() {
                r.scim_name().to_owned()
            } else {
                format!("{prefix}:{}", r.scim_name())
            };
            match &r.mapping.syntax {
                MappingSyntax::Reference {
                    endpoint_mappings, ..
                } if endpoint_mappings.iter().any(|e| e == target) => {
                    let path = format!("{name}.value");
                    if !out.contains(&path) {
                        out.push(path);
                    }
                }
                // Only an extension schema holds complex sub-attributes (validation).
                MappingSyntax::ComposedComplex { .. } if r.scim_name().starts_with("urn:") => {
                    r.subs.iter().for_each(|s| walk(s, &name, target, out))
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        self.mappings
            .iter()
            .for_each(|r| walk(r, "", endpoint_mapping, &mut out));
        out
    }

    /// The entry's `displayName` as this endpoint maps it (for `display` in references to it).
    pub fn display_name(&self, entry: &LdapEntry) -> Option<String> {
        let r = self
            .mappings
            .iter()
            .find(|r| r.scim_name().eq_ignore_ascii_case("displayName"))?;
        let none = ResolvedReferences::default();
        match map_one(r, entry, None, &mut MapContext::new(&none)) {
            Ok(Some(Value::String(s))) => Some(s),
            _ => None,
        }
    }
}

/// Sets an attribute; lists of references from several mappings (`member`, `uniqueMember`)
/// add up to one list.
fn put_attribute(body: &mut Map<String, Value>, r: &Resolved, value: Value) {
    let name = r.scim_name();
    let existing = body.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(name));
    match (existing, value) {
        (Some((_, Value::Array(items))), Value::Array(more))
            if matches!(r.mapping.syntax, MappingSyntax::Reference { .. }) =>
        {
            for v in more {
                if !items.contains(&v) {
                    items.push(v);
                }
            }
        }
        (_, value) => {
            body.insert(name.to_owned(), value);
        }
    }
}

/// Puts a value-path mapping's value into its element, creating the element with its selector
/// (`{"type": "work"}`) unless another mapping of the same element already did.
fn put_element(body: &mut Map<String, Value>, path: &ValuePath, value: Value) {
    let list = body
        .entry(path.attribute.clone())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !list.is_array() {
        *list = Value::Array(Vec::new());
    }
    let Value::Array(items) = list else {
        unreachable!("made an array above")
    };
    let index = match items.iter().position(|e| path.selects(e)) {
        Some(i) => i,
        None => {
            let mut element = Map::new();
            element.insert(path.selector.clone(), path.selector_value.clone());
            items.push(Value::Object(element));
            items.len() - 1
        }
    };
    if let Value::Object(element) = &mut items[index] {
        element.insert(path.sub_attribute.clone(), value);
    }
}

/// Maps one (possibly composed) mapping; `None` when the entry yields no value for it.
/// With `usage`, sub-mappings lacking that usage are left out.
pub(crate) fn map_one(
    r: &Resolved,
    entry: &LdapEntry,
    usage: Option<AttributeUsage>,
    context: &mut MapContext<'_>,
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
            if let Some(v) = map_one(sub, entry, usage, context)? {
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
        let converted = match &m.syntax {
            MappingSyntax::Reference {
                endpoint_mappings,
                single_valued,
                ..
            } => resolve_reference(
                value,
                endpoint_mappings,
                *single_valued,
                &m.name,
                context.references,
                &mut context.report,
            ),
            syntax => convert(syntax, value).map(Some),
        };
        match converted {
            // A pending or out-of-scope reference has no value, and is not an error.
            Ok(None) => {}
            Ok(Some(v)) if good.contains(&v) => {}
            Ok(Some(v)) => good.push(v),
            Err(reason) => bad.push(reason),
        }
    }
    let ignored = &mut context.ignored;
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
        MappingSyntax::ComposedComplex { .. } | MappingSyntax::Reference { .. } => {
            unreachable!("composed and reference mappings are not converted value by value")
        }
    })
}

/// One Reference value: the id of the resource its DN resolved to, or nothing (counted in
/// `report`) when the target is pending or out of scope; an error when it is not a DN.
fn resolve_reference(
    value: &str,
    endpoint_mappings: &[String],
    single_valued: bool,
    mapping: &str,
    references: &ResolvedReferences,
    report: &mut ReferenceReport,
) -> Result<Option<Value>, String> {
    let dn = reference_dn(value).map_err(|e| format!("\"{value}\" is {e}"))?;
    match references.get(&dn.normalized_key()) {
        Some(ReferenceTarget::Resource(target))
            if endpoint_mappings.contains(&target.endpoint_mapping) =>
        {
            Ok(Some(reference_value(target, single_valued)))
        }
        Some(ReferenceTarget::Pending { .. }) => {
            report.pending.push(PendingReference {
                mapping: mapping.to_owned(),
                dn: value.to_owned(),
            });
            Ok(None)
        }
        // Resolved to an endpoint this mapping does not accept, out of scope, or not asked.
        _ => {
            report.out_of_scope += 1;
            Ok(None)
        }
    }
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
