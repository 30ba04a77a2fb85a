//! OpenLDAP accesslog records (`reqStart`, `reqType`, `reqDN`, `reqMod`, `reqNewRDN`,
//! `reqNewSuperior`, `reqNewDN`, `reqEntryUUID`).

use super::draft_good::renamed_dn;
use super::ldif::{ModOp, Modification};
use super::password::CarriedPasswords;
use super::record::{ChangeKind, ChangeRecord};
use crate::mapping::LdapEntry;
use crate::startpoint::ChangelogCursor;

fn first<'a>(entry: &'a LdapEntry, attr: &str) -> Option<&'a str> {
    entry.get(attr).first().map(String::as_str)
}

/// `reqMod` values: `attr:+ v`, `attr:- v`, `attr:-`, `attr:= v`, `attr:=`, `attr:# n`;
/// consecutive values of one attribute and operation form one modification.
pub(super) fn parse_req_mods(values: &[String]) -> Result<Vec<Modification>, String> {
    let mut mods: Vec<Modification> = Vec::new();
    for v in values {
        let (attr, rest) = v
            .split_once(':')
            .ok_or_else(|| format!("reqMod \"{v}\" has no ':'"))?;
        let mut chars = rest.chars();
        let op = match chars.next() {
            Some('+') => ModOp::Add,
            Some('-') => ModOp::Delete,
            Some('=') => ModOp::Replace,
            Some('#') => ModOp::Increment,
            _ => return Err(format!("reqMod \"{v}\" has no operation (+, -, =, #)")),
        };
        let value = chars.as_str().strip_prefix(' ');
        match mods.last_mut() {
            Some(m) if m.attribute == attr && m.op == op => {
                m.values.extend(value.map(str::to_owned))
            }
            _ => mods.push(Modification {
                op,
                attribute: attr.to_owned(),
                values: value.map(str::to_owned).into_iter().collect(),
            }),
        }
    }
    Ok(mods)
}

pub(super) fn parse(entry: &LdapEntry) -> Result<ChangeRecord, String> {
    let start = first(entry, "reqStart")
        .ok_or_else(|| format!("{}: no reqStart", entry.dn))?
        .to_owned();
    let dn = first(entry, "reqDN")
        .ok_or_else(|| format!("record {start}: no reqDN"))?
        .to_owned();
    let mut mods =
        parse_req_mods(entry.get("reqMod")).map_err(|e| format!("record {start}: {e}"))?;
    let passwords = CarriedPasswords::take(&mut mods, &[]);
    let kind = match first(entry, "reqType")
        .unwrap_or("")
        .to_ascii_lowercase()
        .as_str()
    {
        "add" => ChangeKind::Add,
        "modify" => ChangeKind::Modify,
        "delete" => ChangeKind::Delete,
        "modrdn" => {
            let new_dn = match first(entry, "reqNewDN") {
                Some(d) => d.to_owned(),
                None => {
                    let rdn = first(entry, "reqNewRDN")
                        .ok_or_else(|| format!("record {start}: modrdn without reqNewRDN"))?;
                    renamed_dn(&dn, rdn, first(entry, "reqNewSuperior"))?
                }
            };
            ChangeKind::ModDn { new_dn }
        }
        other => return Err(format!("record {start}: unknown reqType \"{other}\"")),
    };
    let raw = super::record::masked_raw(entry);
    let logged_at = super::record::logged_time(Some(&start));
    Ok(ChangeRecord {
        logged_at,
        cursor: ChangelogCursor::Accesslog {
            req_start: Some(start),
            inclusive: false,
        },
        kind,
        dn,
        entry_id: first(entry, "reqEntryUUID").map(str::to_owned),
        modifications: mods,
        raw,
        passwords,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn req_mod_forms() {
        let values: Vec<String> = [
            "mail:= a@x",
            "telephoneNumber:+ +1 555",
            "telephoneNumber:+ +1 556",
            "postalAddress:-",
            "cn:- Old: Name",
            "n:# 2",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mods = parse_req_mods(&values).unwrap();
        assert_eq!(mods.len(), 5);
        assert_eq!(mods[1].values, vec!["+1 555", "+1 556"]);
        assert_eq!(
            mods[2],
            Modification {
                op: ModOp::Delete,
                attribute: "postalAddress".into(),
                values: vec![]
            }
        );
        assert_eq!(mods[3].values, vec!["Old: Name"]);
        assert!(parse_req_mods(&["bad".to_string()]).is_err());
    }

    #[test]
    fn records() {
        let e = LdapEntry::new("reqStart=20261122221138.000005Z,cn=accesslog")
            .with("reqStart", &["20261122221138.000005Z"])
            .with("reqType", &["modrdn"])
            .with("reqDN", &["uid=alice,ou=people,dc=example,dc=com"])
            .with("reqNewRDN", &["uid=alice2"])
            .with("reqNewSuperior", &["ou=groups,dc=example,dc=com"])
            .with("reqEntryUUID", &["6eab114c"]);
        let r = parse(&e).unwrap();
        assert_eq!(
            r.kind,
            ChangeKind::ModDn {
                new_dn: "uid=alice2,ou=groups,dc=example,dc=com".into()
            }
        );
        assert_eq!(
            r.cursor,
            ChangelogCursor::Accesslog {
                req_start: Some("20261122221138.000005Z".into()),
                inclusive: false
            }
        );
        let e = e.with("reqNewDN", &["uid=alice2,ou=groups,dc=example,dc=com"]);
        assert_eq!(
            parse(&e).unwrap().current_dn(),
            "uid=alice2,ou=groups,dc=example,dc=com"
        );
        // A clear-text password in reqMod stays out of the kept record.
        let with_password = e
            .with("reqMod", &["userPassword:= hunter2", "mail:= a@x"])
            .with("reqOld", &["userPassword: old-secret"]);
        let raw = parse(&with_password).unwrap().raw.to_string();
        assert!(
            !raw.contains("hunter2") && !raw.contains("old-secret") && raw.contains("mail:= a@x"),
            "{raw}"
        );
    }
}
