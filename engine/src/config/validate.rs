//! Validation of the configuration document.
//!
//! Every rule runs and every violation is returned, each naming the object, the field
//! (the same path as in the JSON document and the console form) and the offending value.
//! Rules that concern one object live with that object (`validate_own`); rules that
//! need several objects (references, nesting, scoping) live here.

use super::{Config, ConfigItem, MappingSyntax, ObjectKind, Secret, ValuePath};
use crate::dn::Dn;
use crate::with_kind;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fmt::Display;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{}", self.describe())]
pub struct ValidationError {
    /// `None` for the global settings.
    pub kind: Option<ObjectKind>,
    /// Name of the object ("" for the global settings).
    pub object: String,
    /// Field path inside the object, e.g. `include-filter` or `servers[1]`.
    pub field: String,
    /// The offending value as text ("" when the value is missing).
    pub value: String,
    pub message: String,
}

impl ValidationError {
    fn describe(&self) -> String {
        let subject = match self.kind {
            Some(kind) => format!("{} \"{}\"", kind.label(), self.object),
            None => "global settings".to_owned(),
        };
        if self.value.is_empty() {
            format!("{subject}: {}: {}", self.field, self.message)
        } else {
            format!(
                "{subject}: {} = \"{}\": {}",
                self.field, self.value, self.message
            )
        }
    }
}

/// Collects the errors of one object.
pub struct Issues<'a> {
    kind: Option<ObjectKind>,
    object: &'a str,
    errors: &'a mut Vec<ValidationError>,
}

impl<'a> Issues<'a> {
    pub fn new(
        kind: Option<ObjectKind>,
        object: &'a str,
        errors: &'a mut Vec<ValidationError>,
    ) -> Self {
        Issues {
            kind,
            object,
            errors,
        }
    }

    pub fn error(
        &mut self,
        field: impl Into<String>,
        value: impl Display,
        message: impl Into<String>,
    ) {
        self.errors.push(ValidationError {
            kind: self.kind,
            object: self.object.to_owned(),
            field: field.into(),
            value: value.to_string(),
            message: message.into(),
        });
    }

    // ---- field checks shared by several object kinds ----

    pub fn required(&mut self, field: &str, value: &str) -> bool {
        if value.trim().is_empty() {
            self.error(field, "", "is required");
            false
        } else {
            true
        }
    }

    pub fn non_empty_list<T>(&mut self, field: &str, list: &[T], what: &str) -> bool {
        if list.is_empty() {
            self.error(field, "", format!("needs at least one {what}"));
            false
        } else {
            true
        }
    }

    /// Flags repeated values (case-insensitively when asked).
    pub fn unique(&mut self, field: &str, list: &[String], case_insensitive: bool) {
        let mut seen = HashSet::new();
        for (i, v) in list.iter().enumerate() {
            let key = if case_insensitive {
                v.to_lowercase()
            } else {
                v.clone()
            };
            if !seen.insert(key) {
                self.error(format!("{field}[{i}]"), v, "is listed more than once");
            }
        }
    }

    pub fn secret(&mut self, field: &str, secret: &Secret) {
        if secret.is_empty() {
            self.error(field, "", "is required");
        }
    }

    pub fn dn(&mut self, field: &str, value: &str) -> Option<Dn> {
        match Dn::parse(value) {
            Ok(dn) if dn.is_root() => {
                self.error(
                    field,
                    value,
                    "must not be empty (the root DSE is not a valid base)",
                );
                None
            }
            Ok(dn) => Some(dn),
            Err(e) => {
                self.error(field, value, e.to_string());
                None
            }
        }
    }

    pub fn range(&mut self, field: &str, value: u64, min: u64, max: u64) {
        if value < min || value > max {
            self.error(field, value, format!("must be between {min} and {max}"));
        }
    }

    pub fn ldap_attribute(&mut self, field: &str, value: &str) {
        if !self.required(field, value) {
            return;
        }
        if !is_ldap_attribute_description(value) {
            self.error(
                field,
                value,
                "is not a valid LDAP attribute name (letters, digits and '-', starting with a letter, or a numeric OID)",
            );
        }
    }

    pub fn http_url(&mut self, field: &str, value: &str) -> Option<url::Url> {
        if !self.required(field, value) {
            return None;
        }
        match url::Url::parse(value) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
                if u.query().is_some() || u.fragment().is_some() {
                    self.error(field, value, "must not have a query string or fragment");
                }
                Some(u)
            }
            Ok(_) => {
                self.error(
                    field,
                    value,
                    "must be an http:// or https:// URL with a host",
                );
                None
            }
            Err(e) => {
                self.error(field, value, format!("is not a valid URL: {e}"));
                None
            }
        }
    }

    pub fn optional_path(&mut self, field: &str, value: &Option<String>) {
        if let Some(v) = value
            && v.trim().is_empty()
        {
            self.error(field, "", "must not be blank when given");
        }
    }
}

/// `attr` or `attr;option` with a descriptor or numeric OID (RFC 4512 §2.5).
pub fn is_ldap_attribute_description(value: &str) -> bool {
    let mut parts = value.split(';');
    let base = parts.next().unwrap_or("");
    let base_ok = if base.starts_with(|c: char| c.is_ascii_digit()) {
        base.split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    } else {
        base.starts_with(|c: char| c.is_ascii_alphabetic())
            && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    base_ok
        && parts.all(|o| !o.is_empty() && o.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

fn check_name(issues: &mut Issues<'_>, name: &str) {
    if name.trim().is_empty() {
        issues.error("name", name, "is required");
    } else if name.trim() != name {
        issues.error("name", name, "must not start or end with spaces");
    } else if name.chars().count() > 128 {
        issues.error("name", name, "must be at most 128 characters");
    } else if name.chars().any(char::is_control) {
        issues.error(
            "name",
            name.escape_debug(),
            "must not contain control characters",
        );
    }
}

pub(super) fn validate(config: &Config) -> Result<(), Vec<ValidationError>> {
    let mut errors = Vec::new();
    config
        .global
        .validate(&mut Issues::new(None, "", &mut errors));
    for kind in ObjectKind::ALL {
        with_kind!(kind, T => validate_kind::<T>(config, &mut errors));
    }
    check_references(config, &mut errors);
    check_composed_mappings(config, &mut errors);
    check_endpoint_mappings(config, &mut errors);
    check_destinations(config, &mut errors);
    check_sync_classes(config, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn validate_kind<T: ConfigItem>(config: &Config, errors: &mut Vec<ValidationError>) {
    let mut seen = HashSet::new();
    for object in T::collection(config) {
        let mut issues = Issues::new(Some(T::KIND), object.name(), errors);
        check_name(&mut issues, object.name());
        if !seen.insert(object.name()) {
            issues.error(
                "name",
                object.name(),
                format!("another {} has this name", T::KIND.label()),
            );
        }
        object.validate_own(&mut issues);
    }
}

fn check_references(config: &Config, errors: &mut Vec<ValidationError>) {
    for r in config.references() {
        if !config.contains(r.to.kind, &r.to.name) {
            Issues::new(Some(r.from.kind), &r.from.name, errors).error(
                r.field,
                &r.to.name,
                format!("there is no {} with this name", r.to.kind.label()),
            );
        }
    }
}

/// Composed complex mappings: no cycles; a complex attribute cannot hold complex
/// sub-attributes (RFC 7643 §2.3.8) unless it is an extension schema (its name is a URN);
/// an extension schema cannot be nested; sub-attribute names are unique.
fn check_composed_mappings(config: &Config, errors: &mut Vec<ValidationError>) {
    let by_name: HashMap<&str, &super::AttributeMapping> = config
        .attribute_mappings
        .iter()
        .map(|m| (m.name.as_str(), m))
        .collect();
    for mapping in &config.attribute_mappings {
        let MappingSyntax::ComposedComplex {
            sub_attribute_mappings,
        } = &mapping.syntax
        else {
            continue;
        };
        let mut issues = Issues::new(Some(ObjectKind::AttributeMapping), &mapping.name, errors);
        let is_extension = mapping.scim_attribute_name.starts_with("urn:");
        let mut scim_names = HashSet::new();
        for (i, sub_name) in sub_attribute_mappings.iter().enumerate() {
            let field = format!("syntax.sub-attribute-mappings[{i}]");
            if sub_name == &mapping.name {
                issues.error(field, sub_name, "a mapping cannot be its own sub-attribute");
                continue;
            }
            let Some(sub) = by_name.get(sub_name.as_str()) else {
                continue;
            };
            if sub.scim_attribute_name.starts_with("urn:") {
                issues.error(
                    field.clone(),
                    sub_name,
                    "an extension schema mapping cannot be a sub-attribute",
                );
            } else if sub.value_path().is_some() {
                issues.error(
                    field.clone(),
                    sub_name,
                    "a value-path mapping names its own attribute, so it cannot be a sub-attribute",
                );
            } else if sub.syntax.is_complex() && !is_extension {
                issues.error(
                    field.clone(),
                    sub_name,
                    "a complex attribute cannot contain another complex attribute (only an extension schema, named by its URN, can)",
                );
            } else if !scim_names.insert(sub.scim_attribute_name.to_lowercase()) {
                issues.error(
                    field.clone(),
                    sub_name,
                    format!(
                        "another sub-attribute is already named \"{}\"",
                        sub.scim_attribute_name
                    ),
                );
            }
            if reaches(&by_name, sub_name, &mapping.name, &mut HashSet::new()) {
                issues.error(field, sub_name, "this creates a cycle of composed mappings");
            }
        }
    }
}

fn reaches<'a>(
    by_name: &HashMap<&'a str, &'a super::AttributeMapping>,
    from: &'a str,
    target: &str,
    visited: &mut HashSet<&'a str>,
) -> bool {
    if !visited.insert(from) {
        return false;
    }
    let Some(MappingSyntax::ComposedComplex {
        sub_attribute_mappings,
    }) = by_name.get(from).map(|m| &m.syntax)
    else {
        return false;
    };
    sub_attribute_mappings
        .iter()
        .any(|s| s == target || reaches(by_name, s, target, visited))
}

/// Endpoint mappings: SCIM names unique among the endpoint's mappings, extension URNs
/// declared in schema-urns, search mappings are among the mappings and yield one simple value.
fn check_endpoint_mappings(config: &Config, errors: &mut Vec<ValidationError>) {
    for endpoint in &config.endpoint_mappings {
        let mut issues = Issues::new(Some(ObjectKind::EndpointMapping), &endpoint.name, errors);
        // What each mapping writes: a whole attribute, or one element's sub-attribute.
        let mut owned: Vec<(String, Option<ValuePath>, &str)> = Vec::new();
        for (i, name) in endpoint.attribute_mappings.iter().enumerate() {
            let Some(m) = config.get::<super::AttributeMapping>(name) else {
                continue;
            };
            let field = format!("attribute-mappings[{i}]");
            let path = m.value_path();
            let attribute = path
                .as_ref()
                .map_or(m.scim_attribute_name.clone(), |p| p.attribute.clone());
            let clash = owned.iter().find(|(a, p, other)| {
                a.eq_ignore_ascii_case(&attribute)
                    && match (p, &path) {
                        (Some(p), Some(q)) => {
                            p.same_element(q)
                                && p.sub_attribute.eq_ignore_ascii_case(&q.sub_attribute)
                        }
                        // Multi-valued references may share an attribute: group members from
                        // `member` and from `uniqueMember` are one list.
                        (None, None) => {
                            !(is_member_list(m)
                                && config
                                    .get::<super::AttributeMapping>(other)
                                    .is_some_and(is_member_list))
                        }
                        _ => true,
                    }
            });
            if let Some((_, _, other)) = clash {
                issues.error(
                    field.clone(),
                    name,
                    format!(
                        "maps to SCIM attribute \"{}\" like \"{other}\" does",
                        m.scim_attribute_name
                    ),
                );
            }
            owned.push((attribute, path, name));
            if m.scim_attribute_name.starts_with("urn:")
                && !endpoint
                    .schema_urns
                    .iter()
                    .any(|u| u.eq_ignore_ascii_case(&m.scim_attribute_name))
            {
                issues.error(
                    field,
                    name,
                    format!(
                        "uses extension schema {} which is not listed in schema-urns",
                        m.scim_attribute_name
                    ),
                );
            }
        }
        for (i, name) in endpoint.search_attribute_mappings.iter().enumerate() {
            let field = format!("search-attribute-mappings[{i}]");
            if !endpoint.attribute_mappings.contains(name) {
                issues.error(
                    field,
                    name,
                    "must also be one of this endpoint's attribute-mappings",
                );
                continue;
            }
            let Some(m) = config.get::<super::AttributeMapping>(name) else {
                continue;
            };
            if !m.syntax.is_simple() {
                issues.error(
                    field,
                    name,
                    "a search mapping must be a String, Number, Boolean or DateTime mapping",
                );
            } else if m.value_path().is_some() {
                issues.error(
                    field,
                    name,
                    "a search mapping must name a plain attribute, not a value path",
                );
            } else if !m.syntax.single_valued() {
                issues.error(
                    field,
                    name,
                    "a search mapping must be single-valued to build an equality filter",
                );
            }
        }
    }
}

/// Destinations: endpoint paths distinct, and every endpoint a Reference mapping of theirs may
/// resolve to is one of their own (a DN can only become the id of a resource they write).
fn is_member_list(m: &super::AttributeMapping) -> bool {
    matches!(
        m.syntax,
        MappingSyntax::Reference {
            single_valued: false,
            ..
        }
    )
}

fn check_destinations(config: &Config, errors: &mut Vec<ValidationError>) {
    for destination in &config.scim_destinations {
        let mut issues = Issues::new(Some(ObjectKind::ScimDestination), &destination.name, errors);
        for (i, name) in destination.endpoint_mappings.iter().enumerate() {
            let Some(e) = config.get::<super::EndpointMapping>(name) else {
                continue;
            };
            for m in config.reference_mappings(e) {
                let MappingSyntax::Reference {
                    endpoint_mappings, ..
                } = &m.syntax
                else {
                    continue;
                };
                for target in endpoint_mappings {
                    if config.contains(ObjectKind::EndpointMapping, target)
                        && !destination.endpoint_mappings.contains(target)
                    {
                        issues.error(
                            format!("endpoint-mappings[{i}]"),
                            name,
                            format!(
                                "its reference mapping \"{}\" resolves DNs to endpoint mapping \"{target}\", which is not one of this destination's endpoint mappings",
                                m.name
                            ),
                        );
                    }
                }
            }
        }
        let mut paths: HashMap<String, &str> = HashMap::new();
        for (i, name) in destination.endpoint_mappings.iter().enumerate() {
            let Some(e) = config.get::<super::EndpointMapping>(name) else {
                continue;
            };
            if let Some(other) = paths.insert(e.endpoint_path.to_lowercase(), name) {
                issues.error(
                    format!("endpoint-mappings[{i}]"),
                    name,
                    format!(
                        "uses endpoint path \"{}\" like \"{other}\" does",
                        e.endpoint_path
                    ),
                );
            }
        }
    }
}

/// Sync classes: base DNs inside the pipe source's base DNs, the endpoint mapping is one of
/// the pipe destination's, and evaluation orders are distinct within a pipe.
fn check_sync_classes(config: &Config, errors: &mut Vec<ValidationError>) {
    let mut orders: HashMap<(&str, u32), &str> = HashMap::new();
    for class in &config.sync_classes {
        let mut issues = Issues::new(Some(ObjectKind::SyncClass), &class.name, errors);
        if let Some(other) =
            orders.insert((class.pipe.as_str(), class.evaluation_order), &class.name)
        {
            issues.error(
                "evaluation-order",
                class.evaluation_order,
                format!("sync class \"{other}\" of the same pipe has this evaluation order"),
            );
        }
        let Some(pipe) = config.get::<super::SyncPipe>(&class.pipe) else {
            continue;
        };
        if let Some(source) = config.get::<super::LdapSource>(&pipe.source) {
            let bases: Vec<Dn> = source
                .base_dns
                .iter()
                .filter_map(|b| Dn::parse(b).ok())
                .collect();
            for (i, dn_text) in class.include_base_dns.iter().enumerate() {
                if let Ok(dn) = Dn::parse(dn_text)
                    && !bases.iter().any(|b| dn.is_within(b))
                {
                    issues.error(
                        format!("include-base-dns[{i}]"),
                        dn_text,
                        format!(
                            "is not under any base DN of LDAP sync source \"{}\"",
                            source.name
                        ),
                    );
                }
            }
        }
        if let (Some(endpoint), Some(destination)) = (
            &class.endpoint_mapping,
            config.get::<super::ScimDestination>(&pipe.destination),
        ) && config.contains(ObjectKind::EndpointMapping, endpoint)
            && !destination.endpoint_mappings.contains(endpoint)
        {
            issues.error(
                "endpoint-mapping",
                endpoint,
                format!(
                    "is not one of the endpoint mappings of SCIM 2.0 sync destination \"{}\"",
                    destination.name
                ),
            );
        }
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
