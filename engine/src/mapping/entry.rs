//! An LDAP entry as read from the source: DN and attribute values, names matched
//! case-insensitively.

use crate::ldap_filter::EntryAttributes;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LdapEntry {
    pub dn: String,
    /// Lower-cased attribute name → values (options such as `;lang-en` kept in the name).
    pub attributes: BTreeMap<String, Vec<String>>,
}

impl LdapEntry {
    pub fn new(dn: impl Into<String>) -> Self {
        LdapEntry {
            dn: dn.into(),
            attributes: BTreeMap::new(),
        }
    }

    pub fn with(mut self, attr: &str, values: &[&str]) -> Self {
        self.attributes
            .entry(attr.to_ascii_lowercase())
            .or_default()
            .extend(values.iter().map(|v| v.to_string()));
        self
    }

    pub fn get(&self, attr: &str) -> &[String] {
        let values = if attr.len() <= SHORT_NAME {
            // Lower-cased on the stack: mappings name attributes as written (`givenName`), and
            // a resync asks for each of them of every entry.
            let mut lower = [0u8; SHORT_NAME];
            let lower = &mut lower[..attr.len()];
            lower.copy_from_slice(attr.as_bytes());
            lower.make_ascii_lowercase();
            std::str::from_utf8(lower)
                .ok()
                .and_then(|name| self.attributes.get(name))
        } else {
            self.attributes.get(&attr.to_ascii_lowercase())
        };
        values.map(Vec::as_slice).unwrap_or(&[])
    }

    /// Adds `values` of the attribute `name` (in any case: a server may name one attribute in
    /// two cases, whose values then join).
    pub(crate) fn add(&mut self, mut name: String, values: Vec<String>) {
        name.make_ascii_lowercase();
        match self.attributes.entry(name) {
            Entry::Vacant(slot) => {
                slot.insert(values);
            }
            Entry::Occupied(mut slot) => slot.get_mut().extend(values),
        }
    }
}

/// Attribute names up to this long are lower-cased without an allocation.
const SHORT_NAME: usize = 64;

impl From<ldap3::SearchEntry> for LdapEntry {
    fn from(e: ldap3::SearchEntry) -> Self {
        let mut entry = LdapEntry::new(e.dn);
        for (name, values) in e.attrs {
            entry.add(name, values);
        }
        entry
    }
}

impl EntryAttributes for LdapEntry {
    fn values(&self, attr: &str) -> Vec<&str> {
        self.get(attr).iter().map(String::as_str).collect()
    }
}
