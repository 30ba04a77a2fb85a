//! The SCIM filter that finds the resource matching an LDAP entry (RFC 7644 §3.4.2.2):
//! one `eq` per search attribute mapping, joined with `and`.

use super::references::ResolvedReferences;
use super::resource::{MapContext, MappingIssue, map_one};
use super::{EndpointMapper, LdapEntry};
use serde_json::Value;

pub fn search_filter(mapper: &EndpointMapper, entry: &LdapEntry) -> Result<String, MappingIssue> {
    let parts: Vec<String> = search_values(mapper, entry)?
        .into_iter()
        .map(|(name, value)| {
            let literal = match value {
                Value::String(s) => quote(&s),
                other => other.to_string(),
            };
            format!("{name} eq {literal}")
        })
        .collect();
    Ok(parts.join(" and "))
}

/// The entry's value for each search attribute mapping, by SCIM name: each is a string,
/// number or boolean.
pub(crate) fn search_values(
    mapper: &EndpointMapper,
    entry: &LdapEntry,
) -> Result<Vec<(String, Value)>, MappingIssue> {
    let mut values = Vec::new();
    for r in &mapper.search {
        let issue = |reason: &str| MappingIssue {
            mapping: r.mapping.name.clone(),
            ldap_attribute: r
                .mapping
                .syntax
                .ldap_attribute()
                .unwrap_or_default()
                .to_owned(),
            reason: reason.to_owned(),
        };
        // Search mappings are simple (validation), so they need no references.
        let none = ResolvedReferences::default();
        let value = map_one(r, entry, None, &mut MapContext::new(&none))?
            .ok_or_else(|| issue("the entry has no usable value for this search attribute, so its SCIM resource cannot be found"))?;
        match value {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                values.push((r.scim_name().to_owned(), value))
            }
            _ => return Err(issue("a search attribute must have a single simple value")),
        }
    }
    Ok(values)
}

/// A SCIM filter string literal (JSON string rules: `"` and `\` escaped).
pub(crate) fn quote(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::examples::example;

    #[test]
    fn escapes_values_and_requires_one() {
        let config = example();
        let users = EndpointMapper::new(
            &config,
            config
                .get::<crate::config::EndpointMapping>("Users")
                .unwrap(),
        );
        let e = LdapEntry::new("x").with("uid", &[r#"o"brien\x"#]);
        assert_eq!(
            search_filter(&users, &e).unwrap(),
            r#"userName eq "o\"brien\\x""#
        );
        let err = search_filter(&users, &LdapEntry::new("x")).unwrap_err();
        assert!(err.reason.contains("no usable value"), "{err}");
        assert_eq!(err.mapping, "User Name");
    }
}
