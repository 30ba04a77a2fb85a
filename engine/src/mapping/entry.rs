//! An LDAP entry as read from the source: DN and attribute values, names matched
//! case-insensitively.

use crate::ldap_filter::EntryAttributes;
use std::collections::BTreeMap;

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

    /// The entry's stable identity: entryUUID (OpenLDAP and most servers) or nsUniqueId (389 DS).
    pub fn entry_id(&self) -> Option<&str> {
        ["entryuuid", "nsuniqueid"]
            .iter()
            .find_map(|a| self.get(a).first())
            .map(String::as_str)
    }

    pub fn get(&self, attr: &str) -> &[String] {
        self.attributes
            .get(&attr.to_ascii_lowercase())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

impl From<ldap3::SearchEntry> for LdapEntry {
    fn from(e: ldap3::SearchEntry) -> Self {
        let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (mut name, values) in e.attrs {
            name.make_ascii_lowercase();
            attributes.entry(name).or_default().extend(values);
        }
        LdapEntry {
            dn: e.dn,
            attributes,
        }
    }
}

impl EntryAttributes for LdapEntry {
    fn values(&self, attr: &str) -> Vec<&str> {
        self.get(attr).iter().map(String::as_str).collect()
    }
}
