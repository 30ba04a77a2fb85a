//! Draft-good changelog records (`changeNumber`, `targetDn`, `changeType`, `changes`,
//! `newRdn`, `deleteOldRdn`, `newSuperior`, `targetUniqueId`).

use super::ldif::{parse_add, parse_modify};
use super::password::{CarriedPasswords, ENCRYPTED_PASSWORD_ATTRIBUTE};
use super::record::{ChangeKind, ChangeRecord};
use crate::dn::Dn;
use crate::mapping::LdapEntry;
use crate::startpoint::ChangelogCursor;

fn first<'a>(entry: &'a LdapEntry, attr: &str) -> Option<&'a str> {
    entry.get(attr).first().map(String::as_str)
}

/// The DN a rename or move gives: new RDN under the new superior (or the old parent).
pub(super) fn renamed_dn(
    dn: &str,
    new_rdn: &str,
    new_superior: Option<&str>,
) -> Result<String, String> {
    let parent = match new_superior {
        Some(s) => s.to_owned(),
        None => {
            let parsed = Dn::parse(dn).map_err(|e| format!("target DN \"{dn}\": {e}"))?;
            let parent = parsed
                .rdns
                .get(1..)
                .ok_or_else(|| format!("target DN \"{dn}\" is empty: nothing to rename"))?;
            Dn {
                rdns: parent.to_vec(),
            }
            .to_string()
        }
    };
    Ok(if parent.is_empty() {
        new_rdn.to_owned()
    } else {
        format!("{new_rdn},{parent}")
    })
}

pub(super) fn parse(entry: &LdapEntry) -> Result<ChangeRecord, String> {
    let number: u64 = first(entry, "changeNumber")
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| format!("{}: no changeNumber", entry.dn))?;
    let dn = first(entry, "targetDn")
        .ok_or_else(|| format!("change {number}: no targetDn"))?
        .to_owned();
    let changes = first(entry, "changes").unwrap_or("");
    let change_type = first(entry, "changeType")
        .unwrap_or("")
        .to_ascii_lowercase();
    let (kind, modifications) = match change_type.as_str() {
        "add" => (ChangeKind::Add, parse_add(changes)),
        "modify" => (ChangeKind::Modify, parse_modify(changes)),
        "delete" => (ChangeKind::Delete, Ok(Vec::new())),
        "modrdn" | "moddn" => {
            let new_rdn = first(entry, "newRdn")
                .ok_or_else(|| format!("change {number}: modrdn without newRdn"))?;
            let new_dn = renamed_dn(&dn, new_rdn, first(entry, "newSuperior"))?;
            (ChangeKind::ModDn { new_dn }, parse_modify(changes))
        }
        other => return Err(format!("change {number}: unknown changeType \"{other}\"")),
    };
    let mut modifications = modifications.map_err(|e| format!("change {number}: {e}"))?;
    let passwords =
        CarriedPasswords::take(&mut modifications, entry.get(ENCRYPTED_PASSWORD_ATTRIBUTE));
    let raw = super::record::masked_raw(entry);
    Ok(ChangeRecord {
        cursor: ChangelogCursor::DraftGood {
            last_change_number: number,
        },
        kind,
        logged_at: super::record::logged_time(first(entry, "changeTime")),
        dn,
        // 389 DS, PingDirectory: targetUniqueId; OpenDJ and PingDS: targetEntryUUID.
        entry_id: first(entry, "targetUniqueId")
            .or_else(|| first(entry, "targetEntryUUID"))
            .map(str::to_owned),
        modifications,
        raw,
        passwords,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(pairs: &[(&str, &str)]) -> LdapEntry {
        pairs.iter().fold(
            LdapEntry::new("changenumber=7,cn=changelog"),
            |e, (k, v)| e.with(k, &[v]),
        )
    }

    #[test]
    fn parses_each_change_type() {
        let add = parse(&record(&[
            ("changeNumber", "5"),
            ("targetDn", "uid=a,ou=people,dc=x"),
            ("changeType", "add"),
            ("changes", "objectClass: inetOrgPerson\nuid: a\n"),
            ("targetuniqueid", "u-1"),
        ]))
        .unwrap();
        assert_eq!(add.kind, ChangeKind::Add);
        assert_eq!(
            add.cursor,
            ChangelogCursor::DraftGood {
                last_change_number: 5
            }
        );
        assert_eq!(add.entry_id.as_deref(), Some("u-1"));
        assert_eq!(add.attributes(), vec!["objectclass", "uid"]);
        let moved = parse(&record(&[
            ("changeNumber", "7"),
            ("targetDn", "uid=a,ou=people,dc=x"),
            ("changeType", "modrdn"),
            ("newRdn", "uid=b"),
            ("deleteOldRdn", "TRUE"),
            ("newSuperior", "ou=groups,dc=x"),
        ]))
        .unwrap();
        assert_eq!(
            moved.kind,
            ChangeKind::ModDn {
                new_dn: "uid=b,ou=groups,dc=x".into()
            }
        );
        assert_eq!(moved.current_dn(), "uid=b,ou=groups,dc=x");
        let renamed = parse(&record(&[
            ("changeNumber", "8"),
            ("targetDn", "uid=a,ou=people,dc=x"),
            ("changeType", "modrdn"),
            ("newRdn", "uid=c"),
        ]))
        .unwrap();
        assert_eq!(
            renamed.kind,
            ChangeKind::ModDn {
                new_dn: "uid=c,ou=people,dc=x".into()
            }
        );
        let deleted = parse(&record(&[
            ("changeNumber", "9"),
            ("targetDn", "uid=c,ou=people,dc=x"),
            ("changeType", "delete"),
        ]))
        .unwrap();
        assert_eq!(deleted.kind, ChangeKind::Delete);
        assert!(parse(&record(&[("changeNumber", "x")])).is_err());
        assert!(
            parse(&record(&[
                ("changeNumber", "1"),
                ("targetDn", "a=b"),
                ("changeType", "teleport")
            ]))
            .unwrap_err()
            .contains("unknown changeType")
        );
    }

    #[test]
    fn passwords_in_records_are_masked() {
        let r = parse(&record(&[
            ("changeNumber", "1"),
            ("targetDn", "uid=a"),
            ("changeType", "modify"),
            (
                "changes",
                "replace: userPassword\nuserPassword: {SSHA}x\n-\n",
            ),
        ]))
        .unwrap();
        let text = r.raw.to_string();
        assert!(
            !text.contains("{SSHA}x") && text.contains("userPassword: ***"),
            "{text}"
        );
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever a changelog record holds, reading it returns a record or an error.
        #[test]
        fn random_records_never_panic(
            number in "[0-9a-z ]{0,6}",
            change_type in "(add|modify|delete|modrdn|moddn|[a-z]{0,6})",
            changes in "(([a-zA-Z#;-]{0,12}::? ?[^\n]{0,20}|-| [^\n]{0,10}|replace: [a-z]{0,5}|add: [a-z]{0,5}|delete: [a-z]{0,5})\n){0,12}\0?",
            new_rdn in proptest::option::of("[a-z=,+\\\\ ]{0,12}"),
            new_superior in proptest::option::of("[a-z=,+\\\\ ]{0,12}"),
            target in "[a-z=,+\\\\ ]{0,20}",
            req_mods in proptest::collection::vec("[a-zA-Z#-]{0,8}:[-+=#]? ?.{0,10}", 0..6),
        ) {
            let mut e = LdapEntry::new("changenumber=1,cn=changelog")
                .with("changeNumber", &[&number])
                .with("changeType", &[&change_type])
                .with("changes", &[&changes])
                .with("targetDn", &[&target]);
            if let Some(r) = &new_rdn { e = e.with("newRdn", &[r]); }
            if let Some(s) = &new_superior { e = e.with("newSuperior", &[s]); }
            let _ = parse(&e);
            let log = LdapEntry::new("reqStart=1,cn=accesslog")
                .with("reqStart", &[&number])
                .with("reqDN", &[&target])
                .with("reqType", &[&change_type])
                .with("reqMod", &req_mods.iter().map(String::as_str).collect::<Vec<_>>())
                .with("reqNewRDN", &[new_rdn.as_deref().unwrap_or("")]);
            let _ = super::super::accesslog::parse(&log);
        }
    }
}
