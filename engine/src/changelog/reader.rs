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

/// Changes read from the changelog, and where it has been read up to.
#[derive(Debug, Default)]
pub struct ChangeBatch {
    /// Oldest first.
    pub records: Vec<ChangeRecord>,
    /// The cursor to save once the records are applied; `None` when nothing new was read.
    pub end: Option<ChangelogCursor>,
}

/// At most `max` changes after `cursor`, oldest first.
///
/// Servers return search results in no promised order, and a size limit cuts an answer at any
/// entries, not the oldest; so a batch is only ever taken from an answer that is complete for
/// a bounded range of the changelog. Draft-good: change numbers `N..=N+max-1` (halved while the
/// server's own limit truncates). Accesslog: `reqStart >= cursor`, and while the answer is
/// truncated, an upper bound lowered to the middle of what came back.
pub async fn read_changes(
    conn: &mut LdapConnection,
    source: &LdapSource,
    cursor: &ChangelogCursor,
    max: u32,
) -> Result<ChangeBatch, ChangelogError> {
    let limit = max.clamp(1, 100_000);
    match (source.changelog, cursor) {
        (ChangelogFlavor::DraftGood, ChangelogCursor::DraftGood { last_change_number }) => {
            read_draft_good(conn, *last_change_number, limit).await
        }
        (
            ChangelogFlavor::OpenldapAccesslog,
            ChangelogCursor::Accesslog {
                req_start,
                inclusive,
            },
        ) => read_accesslog(conn, source, req_start.as_deref(), *inclusive, limit).await,
        (flavour, cursor) => Err(ChangelogError::WrongCursor {
            cursor: cursor.to_string(),
            flavour: match flavour {
                ChangelogFlavor::DraftGood => "draft-good",
                ChangelogFlavor::OpenldapAccesslog => "openldap-accesslog",
            },
        }),
    }
}

fn change_number(r: &ChangeRecord) -> u64 {
    match r.cursor {
        ChangelogCursor::DraftGood { last_change_number } => last_change_number,
        _ => 0,
    }
}

async fn read_draft_good(
    conn: &mut LdapConnection,
    after: u64,
    limit: u32,
) -> Result<ChangeBatch, ChangelogError> {
    let dse = RootDse::read(conn).await?;
    let (first, last) = (
        dse.first_change_number.unwrap_or(0),
        dse.last_change_number.unwrap_or(0),
    );
    let needed = after + 1;
    if last < needed {
        return Ok(ChangeBatch::default());
    }
    if first > needed {
        return Err(ChangelogError::Trimmed { needed, first });
    }
    let base = dse.changelog.unwrap_or_else(|| "cn=changelog".into());
    let mut span = u64::from(limit);
    loop {
        let upper = (needed + span - 1).min(last);
        let filter = format!("(&(changeNumber>={needed})(changeNumber<={upper}))");
        let (entries, truncated) = conn
            .search_limited(
                &base,
                ldap3::Scope::OneLevel,
                &filter,
                vec!["*".into(), "+".into()],
                span as i32,
            )
            .await?;
        // The server's own size limit is lower than the range: a smaller range.
        if truncated && span > 1 {
            span /= 2;
            continue;
        }
        let mut records = parse_all(entries, draft_good::parse)?;
        records.sort_by_key(change_number);
        records.dedup_by_key(|r| change_number(r));
        // Everything up to `upper` has been read. A range with nothing in it below the last
        // change is a gap in the numbering, passed over; otherwise stop at the last record read,
        // as a change still being written may yet appear.
        let end = match records.last() {
            _ if upper < last && records.is_empty() => Some(upper),
            Some(r) if upper < last => Some(change_number(r).max(upper)),
            Some(r) => Some(change_number(r)),
            None => None,
        };
        return Ok(ChangeBatch {
            records,
            end: end.map(|n| ChangelogCursor::DraftGood {
                last_change_number: n,
            }),
        });
    }
}

fn req_start(r: &ChangeRecord) -> String {
    match &r.cursor {
        ChangelogCursor::Accesslog { req_start, .. } => req_start.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

async fn read_accesslog(
    conn: &mut LdapConnection,
    source: &LdapSource,
    start: Option<&str>,
    inclusive: bool,
    limit: u32,
) -> Result<ChangeBatch, ChangelogError> {
    let base = source.accesslog_base_dn.clone();
    // Room for the cursor's own record and one past the batch, so that a truncated answer
    // always holds two records after the cursor to narrow the range with.
    let ask = limit as i32 + 2;
    // The range ends strictly before this record. Only `>=` is used: slapd's `<=` on reqStart
    // misses the equal record when its fraction ends in 0 (…000010Z), `(!(reqStart>=U))` does not.
    let mut before: Option<String> = None;
    for _ in 0..64 {
        let filter = accesslog_filter(start, before.as_deref());
        let (entries, truncated) = conn
            .search_limited(
                &base,
                ldap3::Scope::OneLevel,
                &filter,
                vec!["*".into()],
                ask,
            )
            .await?;
        let mut records = parse_all(entries, accesslog::parse)?;
        records.sort_by_key(req_start);
        records.dedup_by_key(|r| req_start(r));
        if !inclusive && let Some(s) = start {
            records.retain(|r| req_start(r) != s);
        }
        if truncated {
            // Some records of the range are missing, and not necessarily the newest: end the
            // range at the middle of what came back (past the first record) and ask again.
            if records.len() < 2 {
                return Err(ChangelogError::Record(format!(
                    "the accesslog answer for {filter} is cut at {} records: give the bind DN a size limit above {ask}",
                    records.len()
                )));
            }
            before = Some(req_start(&records[records.len() / 2]));
            continue;
        }
        // Complete for its range, so its oldest `limit` are the next changes.
        records.truncate(limit as usize);
        let end = records.last().map(|r| r.cursor.clone());
        return Ok(ChangeBatch { records, end });
    }
    Err(ChangelogError::Record(
        "the accesslog answers stay truncated however narrow the range".into(),
    ))
}

/// The accesslog records of successful writes from `start` on (`reqStart` at or after it),
/// strictly before `before`.
pub(crate) fn accesslog_filter(start: Option<&str>, before: Option<&str>) -> String {
    let mut filter = "(&(objectClass=auditWriteObject)(reqResult=0)".to_owned();
    if let Some(s) = start {
        filter += &format!("(reqStart>={})", escape_value(s));
    }
    if let Some(u) = before {
        filter += &format!("(!(reqStart>={}))", escape_value(u));
    }
    filter + ")"
}

/// Accesslog records counted for the backlog at the most: past that it is "at least".
const BACKLOG_COUNT_LIMIT: i32 = 10_000;

/// How many changes the accesslog holds after `cursor` (no attributes read); `true` when
/// there are at least that many.
pub async fn accesslog_backlog(
    conn: &mut LdapConnection,
    source: &LdapSource,
    req_start: Option<&str>,
    inclusive: bool,
) -> Result<(u64, bool), LdapError> {
    let filter = accesslog_filter(req_start, None);
    let (entries, truncated) = conn
        .search_limited(
            &source.accesslog_base_dn,
            ldap3::Scope::OneLevel,
            &filter,
            vec!["reqStart".into()],
            BACKLOG_COUNT_LIMIT,
        )
        .await?;
    // An exclusive cursor names the last record applied, which the filter takes too.
    let applied = entries
        .iter()
        .filter(|e| {
            !inclusive
                && req_start.is_some_and(|s| {
                    e.attrs
                        .get("reqStart")
                        .is_some_and(|v| v.iter().any(|v| v == s))
                })
        })
        .count();
    Ok(((entries.len() - applied) as u64, truncated))
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
