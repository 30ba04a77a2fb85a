//! One change read from a changelog, whatever its flavour.

use super::ldif::Modification;
use super::password::CarriedPasswords;
use crate::startpoint::ChangelogCursor;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case"
)]
pub enum ChangeKind {
    Add,
    Modify,
    Delete,
    /// A rename and/or move; `new_dn` is where the entry is now.
    ModDn {
        new_dn: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ChangeRecord {
    /// Where the changelog stands once this record is handled.
    pub cursor: ChangelogCursor,
    pub kind: ChangeKind,
    /// When the source logged it (changeTime, reqStart), when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logged_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The entry's DN when the change was made (before a rename).
    pub dn: String,
    /// The entry's stable identity (targetUniqueId / reqEntryUUID), which survives renames.
    pub entry_id: Option<String>,
    /// Attribute-level changes as recorded (for an add: the attributes added).
    pub modifications: Vec<Modification>,
    /// The record as read, for rejected operations (values of secret-looking attributes masked).
    pub raw: serde_json::Value,
    /// Clear-text or encrypted passwords the change carries; never serialised.
    #[serde(skip)]
    pub passwords: CarriedPasswords,
}

/// A time the changelog gives (generalized time), as UTC.
pub(super) fn logged_time(text: Option<&str>) -> Option<chrono::DateTime<chrono::Utc>> {
    crate::mapping::values::parse_generalized(text?)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

impl ChangeRecord {
    /// A synthetic change that synchronises the entry at `dn` as it is now (retries, entries
    /// waiting for a reference): a modify, applied like any other.
    pub fn entry_now(dn: &str, entry_id: Option<String>, raw: serde_json::Value) -> ChangeRecord {
        ChangeRecord {
            cursor: crate::startpoint::ChangelogCursor::DraftGood {
                last_change_number: 0,
            },
            kind: ChangeKind::Modify,
            logged_at: None,
            dn: dn.to_owned(),
            entry_id,
            modifications: Vec::new(),
            raw,
            // No change carries a password here.
            passwords: CarriedPasswords::default(),
        }
    }

    /// [`Self::entry_now`] for an entry looked up just now: a delete when it is gone.
    pub fn entry_now_or_gone(
        dn: &str,
        exists: bool,
        entry_id: Option<String>,
        raw: serde_json::Value,
    ) -> ChangeRecord {
        let mut record = ChangeRecord::entry_now(dn, entry_id, raw);
        if !exists {
            record.kind = ChangeKind::Delete;
        }
        record
    }

    /// The DN the entry has after this change.
    pub fn current_dn(&self) -> &str {
        match &self.kind {
            ChangeKind::ModDn { new_dn } => new_dn,
            _ => &self.dn,
        }
    }

    /// Lower-cased names of the attributes this change touched.
    pub fn attributes(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for m in &self.modifications {
            let a = m.attribute.to_ascii_lowercase();
            if !names.contains(&a) {
                names.push(a);
            }
        }
        names
    }
}

/// The record as JSON with secrets masked: attributes named like passwords, and secret
/// attributes inside change texts (`changes` LDIF lines, `reqMod` / `reqOld` values), which may
/// hold clear-text passwords.
pub(super) fn masked_raw(entry: &crate::mapping::LdapEntry) -> serde_json::Value {
    use crate::sensitive::{is_secret_name, mask};
    let secret_line = |line: &str| {
        line.split_once(':')
            .is_some_and(|(attr, _)| is_secret_name(attr.trim()))
    };
    let mut copy = entry.clone();
    for (attr, values) in copy.attributes.iter_mut() {
        match attr.as_str() {
            "changes" => {
                for v in values.iter_mut() {
                    let unfolded = v.replace("\n ", "");
                    *v = unfolded
                        .split('\n')
                        .map(|l| {
                            if secret_line(l) {
                                format!("{}: ***", l.split_once(':').map_or(l, |p| p.0))
                            } else {
                                l.to_owned()
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("\n");
                }
            }
            "reqmod" | "reqold" => {
                for v in values.iter_mut().filter(|v| secret_line(v)) {
                    let attr = v.split_once(':').map_or("", |p| p.0).to_owned();
                    *v = format!("{attr}: ***");
                }
            }
            _ => {}
        }
    }
    let mut raw = serde_json::to_value(&copy).unwrap_or_default();
    mask(&mut raw);
    raw
}
