//! What listed correlation needs of an endpoint's mappings: the search key of an entry and of
//! a listed resource, the attributes a listing asks for, and a digest of what resync compares.
//!
//! Two equal digests mean equal values for every compared attribute, so the diff would find
//! nothing to change: the entry is in sync without a request. Unequal digests say only
//! "maybe different" (a service may add sub-attributes or order values its own way): the
//! resource is then fetched and compared as usual. So the digest can cost requests, never a
//! missed change.

use super::diff::{is_empty, member};
use super::search::search_values;
use super::{EndpointMapper, LdapEntry, MappingIssue};
use serde_json::Value;
use std::hash::{DefaultHasher, Hash, Hasher};

/// A search key as two hashes: of the values as they are, and case-folded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchKey {
    /// 128 bits, so two different keys never meet in practice.
    pub exact: u128,
    /// A service may match case-insensitively (userName): a folded match that is not an exact
    /// one is left to the service's search.
    pub folded: u64,
}

impl SearchKey {
    fn of(values: &[String]) -> SearchKey {
        let joined = values.join("\u{1f}");
        let hash = |salt: u8, text: &str| {
            let mut h = DefaultHasher::new();
            salt.hash(&mut h);
            text.hash(&mut h);
            h.finish()
        };
        SearchKey {
            exact: (u128::from(hash(1, &joined)) << 64) | u128::from(hash(2, &joined)),
            folded: hash(3, &joined.to_lowercase()),
        }
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Why this endpoint cannot be correlated from a listing, if it cannot.
pub fn unlistable(mapper: &EndpointMapper) -> Option<String> {
    if mapper.search.is_empty() {
        return Some("it has no search attribute mappings".into());
    }
    mapper
        .search
        .iter()
        .find(|r| r.scim_name().contains('['))
        .map(|r| {
            format!(
                "search attribute \"{}\" selects a value by filter",
                r.scim_name()
            )
        })
}

/// The entry's search key.
pub fn entry_key(mapper: &EndpointMapper, entry: &LdapEntry) -> Result<SearchKey, MappingIssue> {
    let values: Vec<String> = search_values(mapper, entry)?
        .iter()
        .filter_map(|(_, v)| text(v))
        .collect();
    Ok(SearchKey::of(&values))
}

/// A listed resource's search key; `None` when it lacks a search attribute (no entry's search
/// would find it).
pub fn resource_key(mapper: &EndpointMapper, resource: &Value) -> Option<SearchKey> {
    let values = mapper
        .search
        .iter()
        .map(|r| value_at(resource, r.scim_name()).and_then(text))
        .collect::<Option<Vec<String>>>()?;
    Some(SearchKey::of(&values))
}

/// The attribute names a listing asks for: the id, the search attributes and the compared ones.
pub fn listed_attributes(mapper: &EndpointMapper) -> Vec<String> {
    let mut names = vec!["id".to_owned()];
    for name in mapper
        .search
        .iter()
        .map(|r| r.scim_name().to_owned())
        .chain(mapper.compared_names().iter().cloned())
    {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
            names.push(name);
        }
    }
    names
}

/// A digest of the compared attributes of `resource` (listed, or as the entry wants it).
pub fn compared_digest(mapper: &EndpointMapper, resource: &Value) -> u64 {
    let mut h = DefaultHasher::new();
    for name in mapper.compared_names() {
        name.hash(&mut h);
        match member(resource, name).filter(|v| !is_empty(v)) {
            Some(v) => hash_value(v, &mut h),
            None => 0u8.hash(&mut h),
        }
    }
    h.finish()
}

/// Hashes a JSON value with object members in name order and empty members left out, so two
/// equal values hash alike however the service orders its members.
fn hash_value(value: &Value, h: &mut DefaultHasher) {
    match value {
        Value::Null => 0u8.hash(h),
        Value::Bool(b) => (1u8, b).hash(h),
        Value::Number(n) => (2u8, n.to_string()).hash(h),
        Value::String(s) => (3u8, s).hash(h),
        Value::Array(items) => {
            (4u8, items.len()).hash(h);
            items.iter().for_each(|v| hash_value(v, h));
        }
        Value::Object(members) => {
            5u8.hash(h);
            let mut names: Vec<&String> = members
                .iter()
                .filter(|(_, v)| !is_empty(v))
                .map(|(k, _)| k)
                .collect();
            names.sort();
            for name in names {
                name.hash(h);
                hash_value(&members[name], h);
            }
        }
    }
}

/// The value at a simple SCIM attribute name: `userName`, `name.familyName`, or an extension's
/// `urn:…:User:employeeNumber`.
fn value_at<'a>(resource: &'a Value, name: &str) -> Option<&'a Value> {
    let (mut at, path) = match name.rsplit_once(':') {
        Some((urn, attribute)) if name.starts_with("urn:") => (member(resource, urn)?, attribute),
        _ => (resource, name),
    };
    for part in path.split('.') {
        at = member(at, part)?;
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::examples::example;
    use crate::mapping::references::ResolvedReferences;
    use crate::mapping::{Phase, Purpose};
    use serde_json::json;

    fn users() -> EndpointMapper {
        let config = example();
        EndpointMapper::new(
            &config,
            config
                .get::<crate::config::EndpointMapping>("Users")
                .unwrap(),
        )
    }

    #[test]
    fn an_entry_and_its_resource_have_one_key() {
        let users = users();
        let entry = LdapEntry::new("uid=jdoe").with("uid", &["jdoe"]);
        let key = entry_key(&users, &entry).unwrap();
        assert_eq!(
            resource_key(&users, &json!({"id": "1", "UserName": "jdoe"})),
            Some(key)
        );
        let other = resource_key(&users, &json!({"userName": "JDoe"})).unwrap();
        assert_ne!(other.exact, key.exact);
        assert_eq!(other.folded, key.folded);
        assert_eq!(resource_key(&users, &json!({"id": "2"})), None);
        assert!(unlistable(&users).is_none());
        let asked = listed_attributes(&users);
        assert_eq!(asked[0], "id");
        assert!(asked.contains(&"userName".to_owned()), "{asked:?}");
        assert!(asked.contains(&"emails".to_owned()), "{asked:?}");
    }

    #[test]
    fn the_digest_sees_compared_values_only() {
        let users = users();
        let entry = LdapEntry::new("uid=jdoe,ou=people,dc=example,dc=com")
            .with("uid", &["jdoe"])
            .with("cn", &["John Doe"])
            .with("sn", &["Doe"])
            .with("mail", &["jdoe@example.com"]);
        let none = ResolvedReferences::default();
        let wanted = users
            .map(&entry, Purpose::Update, Phase::Resync, &none)
            .unwrap()
            .resource;
        let digest = compared_digest(&users, &wanted);
        // What the service holds, with its own member order and attributes resync does not
        // compare: the same digest.
        let mut listed: serde_json::Map<String, Value> = wanted
            .as_object()
            .unwrap()
            .clone()
            .into_iter()
            .rev()
            .collect();
        listed.insert("id".into(), json!("1"));
        listed.insert("meta".into(), json!({"resourceType": "User"}));
        listed.insert("nickName".into(), json!(null));
        assert_eq!(
            compared_digest(&users, &Value::Object(listed.clone())),
            digest
        );
        // A compared value differs: another digest.
        listed.insert(
            "name".into(),
            json!({"givenName": "Johnny", "familyName": "Doe"}),
        );
        assert_ne!(compared_digest(&users, &Value::Object(listed)), digest);
    }
}
