//! Which attribute identifies a source's entries across renames and moves: the one its
//! changelog records for each change. Resync reads entries and realtime sync reads the
//! changelog, so both key an entry's correlation with its resource by this attribute and
//! find each other's; which one it is depends on the kind of directory, and is decided once
//! per pipe (see `sync::entry_ids`).

use crate::config::ChangelogFlavor;
use crate::mapping::LdapEntry;
use serde::{Deserialize, Serialize};

/// The attributes an entry may be identified by, as asked of the directory.
pub const ID_ATTRIBUTES: [&str; 2] = ["entryUUID", "nsUniqueId"];

/// [`ID_ATTRIBUTES`] as a search asks for them.
pub fn id_attributes() -> Vec<String> {
    ID_ATTRIBUTES.iter().map(|a| (*a).to_owned()).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EntryIdAttribute {
    /// RFC 4530's `entryUUID`: what OpenLDAP's accesslog records (`reqEntryUUID`), and
    /// PingDirectory's, OpenDJ's and PingDS's changelogs (`targetUniqueID`, `targetEntryUUID`).
    #[serde(rename = "entryUUID")]
    EntryUuid,
    /// `nsUniqueId`: what the Retro Changelog of 389 DS, Red Hat DS and Oracle DSEE records as
    /// `targetUniqueId`. 389 DS 1.4+ has `entryUUID` too, but its changelog never names it.
    #[serde(rename = "nsUniqueId")]
    NsUniqueId,
    /// No id the changelog could record: entries are known by their normalised DN, and a
    /// renamed entry by its old DN.
    #[serde(rename = "dn")]
    Dn,
}

/// Entry ids of the DN kind start with this, so they never equal an attribute's value.
const DN_ID_PREFIX: &str = "dn:";

impl EntryIdAttribute {
    /// The attribute a source of `flavor` identifies its entries by, judged from one of its
    /// entries read with [`ID_ATTRIBUTES`]: a draft-good changelog records `nsUniqueId` on
    /// the servers that keep one (the Netscape lineage) and `entryUUID` on the others;
    /// OpenLDAP's accesslog records `entryUUID`. An entry with neither leaves the DN.
    pub fn decide(flavor: ChangelogFlavor, sample: &LdapEntry) -> EntryIdAttribute {
        let has = |attribute: EntryIdAttribute| attribute.value(sample).is_some();
        let preferred: &[EntryIdAttribute] = match flavor {
            ChangelogFlavor::DraftGood => {
                &[EntryIdAttribute::NsUniqueId, EntryIdAttribute::EntryUuid]
            }
            ChangelogFlavor::OpenldapAccesslog => &[EntryIdAttribute::EntryUuid],
        };
        preferred
            .iter()
            .copied()
            .find(|a| has(*a))
            .unwrap_or(EntryIdAttribute::Dn)
    }

    /// What a source of `flavor` is presumed to use before its entries were seen (the kind
    /// of directory each changelog flavour is most often kept by).
    pub fn presumed(flavor: ChangelogFlavor) -> EntryIdAttribute {
        match flavor {
            ChangelogFlavor::DraftGood => EntryIdAttribute::NsUniqueId,
            ChangelogFlavor::OpenldapAccesslog => EntryIdAttribute::EntryUuid,
        }
    }

    /// The entry's id, if it has one of this kind.
    pub fn value(self, entry: &LdapEntry) -> Option<String> {
        match self.ldap_attribute() {
            Some(attribute) => entry.get(attribute).first().cloned(),
            None => Some(Self::dn_id(&entry.dn)),
        }
    }

    /// The id an entry at `dn` has when entries are known by their DN.
    pub fn dn_id(dn: &str) -> String {
        format!("{DN_ID_PREFIX}{}", crate::store::dn_key(dn))
    }

    /// Whether `id` is a DN-kind id (see [`Self::dn_id`]).
    pub fn is_dn_id(id: &str) -> bool {
        id.starts_with(DN_ID_PREFIX)
    }

    /// The LDAP attribute holding the id (`None` for the DN).
    pub fn ldap_attribute(self) -> Option<&'static str> {
        match self {
            EntryIdAttribute::EntryUuid => Some("entryUUID"),
            EntryIdAttribute::NsUniqueId => Some("nsUniqueId"),
            EntryIdAttribute::Dn => None,
        }
    }

    /// The name kept in the store and shown to admins.
    pub fn name(self) -> &'static str {
        self.ldap_attribute().unwrap_or("dn")
    }

    pub fn from_name(name: &str) -> Option<EntryIdAttribute> {
        [
            EntryIdAttribute::EntryUuid,
            EntryIdAttribute::NsUniqueId,
            EntryIdAttribute::Dn,
        ]
        .into_iter()
        .find(|a| a.name().eq_ignore_ascii_case(name))
    }
}

impl std::fmt::Display for EntryIdAttribute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EntryIdAttribute::Dn => f.write_str("the DN"),
            other => f.write_str(other.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EntryIdAttribute::*;

    fn entry(ids: &[(&str, &str)]) -> LdapEntry {
        ids.iter().fold(
            LdapEntry::new("uid=Ann , ou=People,dc=example,dc=com"),
            |e, (attribute, value)| e.with(attribute, &[value]),
        )
    }

    #[test]
    fn each_changelog_keys_entries_by_the_id_it_records() {
        let ds389 = entry(&[
            ("entryUUID", "76906067-557c-4c4a-a0a7-1b7a1f5e4c11"),
            ("nsUniqueId", "2245db1a-f27e11f1-a808e9be-0fc0df04"),
        ]);
        let ping = entry(&[("entryUUID", "94f634df-c90e-39aa-bd4a-9183c29746d0")]);
        let neither = entry(&[]);
        use ChangelogFlavor::*;
        assert_eq!(EntryIdAttribute::decide(DraftGood, &ds389), NsUniqueId);
        assert_eq!(EntryIdAttribute::decide(DraftGood, &ping), EntryUuid);
        assert_eq!(EntryIdAttribute::decide(DraftGood, &neither), Dn);
        assert_eq!(
            EntryIdAttribute::decide(OpenldapAccesslog, &ping),
            EntryUuid
        );
        assert_eq!(EntryIdAttribute::decide(OpenldapAccesslog, &neither), Dn);
        assert_eq!(
            NsUniqueId.value(&ds389).as_deref(),
            Some("2245db1a-f27e11f1-a808e9be-0fc0df04")
        );
        assert_eq!(NsUniqueId.value(&ping), None);
    }

    #[test]
    fn dn_ids_are_normalised_and_never_an_attribute_value() {
        let a = Dn.value(&entry(&[])).unwrap();
        assert_eq!(
            a,
            EntryIdAttribute::dn_id("UID=ann,ou=people,DC=example,DC=com")
        );
        assert!(EntryIdAttribute::is_dn_id(&a));
        assert!(!EntryIdAttribute::is_dn_id(
            "2245db1a-f27e11f1-a808e9be-0fc0df04"
        ));
        for a in [EntryUuid, NsUniqueId, Dn] {
            assert_eq!(EntryIdAttribute::from_name(a.name()), Some(a));
            let json = serde_json::to_string(&a).unwrap();
            assert_eq!(json, format!("\"{}\"", a.name()));
        }
    }
}
