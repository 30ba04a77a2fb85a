//! The LDIF change text inside draft-good changelog records (`changes`), and the
//! modification model both changelog flavours share.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModOp {
    Add,
    Delete,
    Replace,
    Increment,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Modification {
    pub op: ModOp,
    pub attribute: String,
    /// Empty for "delete all values".
    pub values: Vec<String>,
}

/// Unfolds LDIF lines (a continuation starts with one space) and drops a trailing NUL, which
/// 389 DS appends to modify records.
fn logical_lines(text: &str) -> Vec<String> {
    let text = text.trim_end_matches('\0');
    let mut lines: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match raw.strip_prefix(' ') {
            Some(rest) if !lines.is_empty() => lines.last_mut().expect("checked").push_str(rest),
            _ => lines.push(raw.to_owned()),
        }
    }
    lines
}

/// `attr: value` or `attr:: base64`.
fn attr_value(line: &str) -> Result<(String, String), String> {
    let (attr, rest) = line
        .split_once(':')
        .ok_or_else(|| format!("\"{line}\" is not \"attribute: value\""))?;
    let value = match rest.strip_prefix(':') {
        Some(b64) => {
            let bytes = B64
                .decode(b64.trim())
                .map_err(|e| format!("bad base64 for {attr}: {e}"))?;
            String::from_utf8_lossy(&bytes).into_owned()
        }
        None => rest.strip_prefix(' ').unwrap_or(rest).to_owned(),
    };
    Ok((attr.trim().to_owned(), value))
}

/// The `changes` of an add record: every attribute with its values.
pub fn parse_add(text: &str) -> Result<Vec<Modification>, String> {
    let mut mods: Vec<Modification> = Vec::new();
    for line in logical_lines(text).iter().filter(|l| !l.trim().is_empty()) {
        let (attr, value) = attr_value(line)?;
        match mods
            .iter_mut()
            .find(|m| m.attribute.eq_ignore_ascii_case(&attr))
        {
            Some(m) => m.values.push(value),
            None => mods.push(Modification {
                op: ModOp::Add,
                attribute: attr,
                values: vec![value],
            }),
        }
    }
    Ok(mods)
}

/// The `changes` of a modify record: blocks of `op: attr`, values, `-`.
pub fn parse_modify(text: &str) -> Result<Vec<Modification>, String> {
    let mut mods = Vec::new();
    let mut current: Option<Modification> = None;
    for line in logical_lines(text) {
        if line.trim() == "-" || line.trim().is_empty() {
            if let Some(m) = current.take() {
                mods.push(m);
            }
            continue;
        }
        match current.as_mut() {
            None => {
                let (op, attr) = attr_value(&line)?;
                let op = match op.to_ascii_lowercase().as_str() {
                    "add" => ModOp::Add,
                    "delete" => ModOp::Delete,
                    "replace" => ModOp::Replace,
                    "increment" => ModOp::Increment,
                    other => return Err(format!("unknown modification \"{other}\"")),
                };
                current = Some(Modification {
                    op,
                    attribute: attr.trim().to_owned(),
                    values: Vec::new(),
                });
            }
            Some(m) => {
                let (attr, value) = attr_value(&line)?;
                if !attr.eq_ignore_ascii_case(&m.attribute) {
                    return Err(format!(
                        "value for {attr} inside the modification of {}",
                        m.attribute
                    ));
                }
                m.values.push(value);
            }
        }
    }
    if let Some(m) = current {
        mods.push(m);
    }
    Ok(mods)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modify_records_as_389_writes_them() {
        let text = "replace: mail\nmail: alice.example@example.com\n-\nadd: telephoneNumber\ntelephoneNumber: +1 555 000 1111\n-\n\
                    delete: postalAddress\n-\nreplace: modifiersname\nmodifiersname: cn=directory manager\n-\n\0";
        let mods = parse_modify(text).unwrap();
        assert_eq!(mods.len(), 4);
        assert_eq!(
            mods[0],
            Modification {
                op: ModOp::Replace,
                attribute: "mail".into(),
                values: vec!["alice.example@example.com".into()]
            }
        );
        assert_eq!(
            mods[2],
            Modification {
                op: ModOp::Delete,
                attribute: "postalAddress".into(),
                values: vec![]
            }
        );
    }

    #[test]
    fn folded_and_base64_values() {
        let text = "replace: userPassword\nuserPassword:: e1BCS0RGMi1TSEE1MTJ9MTAwMDAk\n OTk=\n-\nreplace: cn\ncn: Zo\n ë\n-\n";
        let mods = parse_modify(text).unwrap();
        assert_eq!(mods[0].values, vec!["{PBKDF2-SHA512}10000$99"]);
        assert_eq!(mods[1].values, vec!["Zoë"]);
        let add =
            parse_add("objectClass: top\nobjectClass: inetOrgPerson\nuid: alice\nsn:: QsO2\n")
                .unwrap();
        assert_eq!(add[0].values, vec!["top", "inetOrgPerson"]);
        assert_eq!(add[2].values, vec!["Bö"]);
        assert!(
            parse_modify("frobnicate: x\n")
                .unwrap_err()
                .contains("unknown modification")
        );
    }
}
