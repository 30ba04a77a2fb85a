//! Reading the next changes after a cursor, oldest first.

use super::record::ChangeRecord;
use super::{accesslog, draft_good};
use crate::config::{ChangelogFlavor, LdapSource};
use crate::ldap::{LdapConnection, LdapError, RootDse};
use crate::ldap_filter::escape_value;
use crate::mapping::LdapEntry;
use crate::startpoint::ChangelogCursor;

#[derive(Debug, thiserror::Error)]
pub enum ChangelogError {
    #[error(transparent)]
    Ldap(#[from] LdapError),
    #[error(
        "the changelog no longer holds change {needed}: it starts at {first}; changes in between are lost — resync, then set a new startpoint"
    )]
    Trimmed { needed: u64, first: u64 },
    #[error("unreadable changelog record: {0}")]
    Record(String),
    #[error(
        "the cursor ({cursor}) does not fit the source's {flavour} changelog; set the startpoint again"
    )]
    WrongCursor {
        cursor: String,
        flavour: &'static str,
    },
}

/// At most `max` changes after `cursor`, oldest first.
pub async fn read_changes(
    conn: &mut LdapConnection,
    source: &LdapSource,
    cursor: &ChangelogCursor,
    max: u32,
) -> Result<Vec<ChangeRecord>, ChangelogError> {
    let limit = max.clamp(1, 100_000) as i32;
    match (source.changelog, cursor) {
        (ChangelogFlavor::DraftGood, ChangelogCursor::DraftGood { last_change_number }) => {
            let dse = RootDse::read(conn).await?;
            let (first, last) = (
                dse.first_change_number.unwrap_or(0),
                dse.last_change_number.unwrap_or(0),
            );
            let needed = last_change_number + 1;
            if last < needed {
                return Ok(Vec::new());
            }
            if first > needed {
                return Err(ChangelogError::Trimmed { needed, first });
            }
            let base = dse.changelog.unwrap_or_else(|| "cn=changelog".into());
            let filter = format!("(changeNumber>={needed})");
            let (entries, _) = conn
                .search_limited(
                    &base,
                    ldap3::Scope::OneLevel,
                    &filter,
                    vec!["*".into(), "+".into()],
                    limit,
                )
                .await?;
            let mut records = parse_all(entries, draft_good::parse)?;
            records.sort_by_key(|r| match r.cursor {
                ChangelogCursor::DraftGood { last_change_number } => last_change_number,
                _ => 0,
            });
            Ok(records)
        }
        (
            ChangelogFlavor::OpenldapAccesslog,
            ChangelogCursor::Accesslog {
                req_start,
                inclusive,
            },
        ) => {
            let filter = match req_start {
                Some(start) => format!(
                    "(&(objectClass=auditWriteObject)(reqResult=0)(reqStart>={}))",
                    escape_value(start)
                ),
                None => "(&(objectClass=auditWriteObject)(reqResult=0))".to_owned(),
            };
            // One more than asked: the record equal to the cursor may come back and is skipped.
            let base = source.accesslog_base_dn.clone();
            let (entries, _) = conn
                .search_limited(
                    &base,
                    ldap3::Scope::OneLevel,
                    &filter,
                    vec!["*".into()],
                    limit + 1,
                )
                .await?;
            let mut records = parse_all(entries, accesslog::parse)?;
            let key = |r: &ChangeRecord| match &r.cursor {
                ChangelogCursor::Accesslog { req_start, .. } => {
                    req_start.clone().unwrap_or_default()
                }
                _ => String::new(),
            };
            records.sort_by_key(key);
            if !inclusive && let Some(start) = req_start {
                records.retain(|r| key(r) != *start);
            }
            records.truncate(limit as usize);
            Ok(records)
        }
        (flavour, cursor) => Err(ChangelogError::WrongCursor {
            cursor: cursor.to_string(),
            flavour: match flavour {
                ChangelogFlavor::DraftGood => "draft-good",
                ChangelogFlavor::OpenldapAccesslog => "openldap-accesslog",
            },
        }),
    }
}

fn parse_all(
    entries: Vec<ldap3::SearchEntry>,
    parse: fn(&LdapEntry) -> Result<ChangeRecord, String>,
) -> Result<Vec<ChangeRecord>, ChangelogError> {
    entries
        .into_iter()
        .map(|e| parse(&LdapEntry::from(e)).map_err(ChangelogError::Record))
        .collect()
}
