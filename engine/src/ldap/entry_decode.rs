//! A search result entry (RFC 4511 §4.5.2) decoded straight into an [`LdapEntry`].
//!
//! ldap3's own `SearchEntry::construct` builds a hash map of every attribute first (and
//! panics on a malformed entry); a resync reads every entry of the directory, so it is
//! decoded here once, into the form the engine uses, and a malformed entry is an error.
//! As with `SearchEntry`, an attribute with a value that is not UTF-8 (a binary attribute)
//! is left out: no mapping reads binary values.

use crate::mapping::LdapEntry;
use ldap3::asn1::{PL, StructureTag};

/// The protocol tag of a SearchResultEntry, `[APPLICATION 4]`.
const SEARCH_RESULT_ENTRY: u64 = 4;

/// Decodes one SearchResultEntry; the error says what was wrong with it.
pub(crate) fn decode_entry(tag: StructureTag) -> Result<LdapEntry, String> {
    if tag.id != SEARCH_RESULT_ENTRY {
        return Err(format!(
            "expected a search result entry, got tag {}",
            tag.id
        ));
    }
    let mut parts = constructed(tag, "the entry")?.into_iter();
    let dn = text(parts.next(), "the entry's DN")?;
    let mut entry = LdapEntry::new(dn);
    for attribute in constructed_part(parts.next(), "the entry's attributes")? {
        let mut attribute = constructed(attribute, "an attribute")?.into_iter();
        let name = text(attribute.next(), "an attribute's type")?;
        let values: Option<Vec<String>> = constructed_part(attribute.next(), "attribute values")?
            .into_iter()
            .map(|v| primitive(v).and_then(|bytes| String::from_utf8(bytes).ok()))
            .collect();
        if let Some(values) = values {
            entry.add(name, values);
        }
    }
    Ok(entry)
}

fn constructed(tag: StructureTag, what: &str) -> Result<Vec<StructureTag>, String> {
    match tag.payload {
        PL::C(parts) => Ok(parts),
        PL::P(_) => Err(format!("{what}: not a sequence")),
    }
}

fn constructed_part(tag: Option<StructureTag>, what: &str) -> Result<Vec<StructureTag>, String> {
    constructed(tag.ok_or_else(|| format!("{what}: missing"))?, what)
}

fn primitive(tag: StructureTag) -> Option<Vec<u8>> {
    match tag.payload {
        PL::P(bytes) => Some(bytes),
        PL::C(_) => None,
    }
}

fn text(tag: Option<StructureTag>, what: &str) -> Result<String, String> {
    let bytes = tag
        .and_then(primitive)
        .ok_or_else(|| format!("{what}: missing"))?;
    String::from_utf8(bytes).map_err(|_| format!("{what}: not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ldap3::asn1::TagClass;

    fn octets(bytes: &[u8]) -> StructureTag {
        StructureTag {
            class: TagClass::Universal,
            id: 4,
            payload: PL::P(bytes.to_vec()),
        }
    }

    fn sequence(id: u64, class: TagClass, parts: Vec<StructureTag>) -> StructureTag {
        StructureTag {
            class,
            id,
            payload: PL::C(parts),
        }
    }

    fn attribute(name: &str, values: &[&[u8]]) -> StructureTag {
        let values = values.iter().map(|v| octets(v)).collect();
        sequence(
            16,
            TagClass::Universal,
            vec![
                octets(name.as_bytes()),
                sequence(17, TagClass::Universal, values),
            ],
        )
    }

    fn entry(attributes: Vec<StructureTag>) -> StructureTag {
        sequence(
            4,
            TagClass::Application,
            vec![
                octets(b"uid=a,dc=example,dc=com"),
                sequence(16, TagClass::Universal, attributes),
            ],
        )
    }

    #[test]
    fn decodes_as_ldap3_does_into_the_engines_entry() {
        let tag = entry(vec![
            attribute("cn", &[b"A", "Zoë".as_bytes()]),
            attribute("objectClass", &[b"person", b"top"]),
            attribute("jpegPhoto", &[b"\xff\xd8\xff"]),
            attribute("CN", &[b"B"]),
            attribute("mail", &[]),
        ]);
        let ours = decode_entry(tag.clone()).unwrap();
        let theirs: LdapEntry = ldap3::SearchEntry::construct(ldap3::ResultEntry::new(tag)).into();
        assert_eq!(ours.dn, theirs.dn);
        assert_eq!(ours.get("objectclass"), theirs.get("objectClass"));
        assert!(ours.get("jpegPhoto").is_empty());
        assert!(theirs.get("jpegPhoto").is_empty());
        assert_eq!(ours.get("mail"), theirs.get("mail"));
        // Both spellings of cn, in whichever order: ldap3's hash map has none.
        let mut cn = ours.get("cn").to_vec();
        cn.sort();
        assert_eq!(cn, ["A", "B", "Zoë"]);
    }

    #[test]
    fn a_malformed_entry_is_an_error_not_a_panic() {
        let no_attributes = sequence(4, TagClass::Application, vec![octets(b"dc=x")]);
        assert_eq!(
            decode_entry(no_attributes).unwrap_err(),
            "the entry's attributes: missing"
        );
        let bad_dn = entry(vec![]);
        let StructureTag {
            payload: PL::C(mut parts),
            ..
        } = bad_dn
        else {
            unreachable!()
        };
        parts[0] = octets(b"\xff");
        let bad_dn = sequence(4, TagClass::Application, parts);
        assert_eq!(
            decode_entry(bad_dn).unwrap_err(),
            "the entry's DN: not UTF-8"
        );
        let flat = StructureTag {
            class: TagClass::Application,
            id: 4,
            payload: PL::P(vec![1]),
        };
        assert_eq!(decode_entry(flat).unwrap_err(), "the entry: not a sequence");
        let not_an_entry = sequence(5, TagClass::Application, vec![]);
        assert!(decode_entry(not_an_entry).is_err());
    }
}
