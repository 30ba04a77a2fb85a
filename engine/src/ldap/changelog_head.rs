//! Reading the head of a source's changelog and turning a startpoint request into a cursor.

use super::{LdapConnection, LdapError, RootDse};
use crate::config::{ChangelogFlavor, LdapSource};
use crate::startpoint::{ChangelogCursor, StartpointRequest};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The span of change records the source currently holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "flavor",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case"
)]
pub enum ChangelogHead {
    DraftGood {
        base_dn: String,
        first_change_number: u64,
        last_change_number: u64,
    },
    Accesslog {
        base_dn: String,
        newest_req_start: Option<String>,
    },
}

impl std::fmt::Display for ChangelogHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChangelogHead::DraftGood {
                base_dn,
                first_change_number,
                last_change_number,
            } => write!(
                f,
                "draft-good changelog at \"{base_dn}\", change numbers {first_change_number} to {last_change_number}"
            ),
            ChangelogHead::Accesslog {
                base_dn,
                newest_req_start: Some(r),
            } => {
                write!(
                    f,
                    "OpenLDAP accesslog at \"{base_dn}\", newest record reqStart {r}"
                )
            }
            ChangelogHead::Accesslog {
                base_dn,
                newest_req_start: None,
            } => {
                write!(f, "OpenLDAP accesslog at \"{base_dn}\", no records yet")
            }
        }
    }
}

/// Reads the head of the changelog the source is configured for.
pub async fn read_changelog_head(
    conn: &mut LdapConnection,
    source: &LdapSource,
) -> Result<ChangelogHead, LdapError> {
    match source.changelog {
        ChangelogFlavor::DraftGood => draft_good_head(&RootDse::read(conn).await?),
        ChangelogFlavor::OpenldapAccesslog => accesslog_head(conn, source).await,
    }
}

pub(crate) fn draft_good_head(dse: &RootDse) -> Result<ChangelogHead, LdapError> {
    match (dse.first_change_number, dse.last_change_number) {
        (Some(first), Some(last)) => Ok(ChangelogHead::DraftGood {
            base_dn: dse.changelog.clone().unwrap_or_else(|| "cn=changelog".into()),
            first_change_number: first,
            last_change_number: last,
        }),
        _ => Err(LdapError::Operation {
            operation: "reading the draft-good changelog head".into(),
            message: "the root DSE has no firstChangeNumber/lastChangeNumber: the server keeps no cn=changelog \
                      (or the bind DN cannot see it)"
                .into(),
        }),
    }
}

pub(crate) async fn accesslog_head(
    conn: &mut LdapConnection,
    source: &LdapSource,
) -> Result<ChangelogHead, LdapError> {
    let base = &source.accesslog_base_dn;
    if !conn.entry_exists(base).await? {
        return Err(LdapError::Operation {
            operation: format!("reading the accesslog \"{base}\""),
            message: format!(
                "it does not exist or \"{}\" may not read it",
                source.bind_dn
            ),
        });
    }
    // The newest reqStart: look in growing windows back from now, so a long log is not
    // scanned in full just to find its end.
    let now = Utc::now();
    for window in [
        Some(Duration::minutes(10)),
        Some(Duration::days(1)),
        Some(Duration::days(31)),
        None,
    ] {
        let filter = match window {
            Some(w) => format!(
                "(&(objectClass=auditWriteObject)(reqStart>={}))",
                generalized_time(now - w)
            ),
            None => "(objectClass=auditWriteObject)".to_owned(),
        };
        let mut newest: Option<String> = None;
        conn.paged_search(base, &filter, &["reqStart"], source.batch_size, |entry| {
            if let Some(r) = entry.get("reqStart").first().map(String::as_str)
                && newest.as_deref().is_none_or(|n| r > n)
            {
                newest = Some(r.to_owned());
            }
        })
        .await?;
        if newest.is_some() {
            return Ok(ChangelogHead::Accesslog {
                base_dn: base.clone(),
                newest_req_start: newest,
            });
        }
    }
    Ok(ChangelogHead::Accesslog {
        base_dn: base.clone(),
        newest_req_start: None,
    })
}

/// `YYYYMMDDhhmmss.ffffffZ`, the form of accesslog's `reqStart`.
pub fn generalized_time(t: DateTime<Utc>) -> String {
    t.format("%Y%m%d%H%M%S%.6fZ").to_string()
}

/// Resolves a startpoint request against the live changelog.
pub async fn resolve_startpoint(
    conn: &mut LdapConnection,
    source: &LdapSource,
    request: &StartpointRequest,
) -> Result<ChangelogCursor, LdapError> {
    let head = read_changelog_head(conn, source).await?;
    match (head, request) {
        (ChangelogHead::DraftGood { last_change_number, .. }, StartpointRequest::EndOfChangelog) => {
            Ok(ChangelogCursor::DraftGood { last_change_number })
        }
        (ChangelogHead::DraftGood { first_change_number, .. }, StartpointRequest::BeginningOfChangelog) => {
            Ok(ChangelogCursor::DraftGood { last_change_number: first_change_number.saturating_sub(1) })
        }
        (ChangelogHead::DraftGood { first_change_number, last_change_number, .. }, StartpointRequest::ChangeNumber { change_number }) => {
            let n = *change_number;
            // An empty 389 changelog reports 0/0; any number up to last+1 is then fine.
            if first_change_number > 0 && n < first_change_number {
                Err(LdapError::Startpoint(format!(
                    "change number {n} is no longer in the changelog (the oldest is {first_change_number})"
                )))
            } else if n > last_change_number + 1 {
                Err(LdapError::Startpoint(format!(
                    "change number {n} is beyond the end of the changelog (the newest is {last_change_number})"
                )))
            } else {
                Ok(ChangelogCursor::DraftGood { last_change_number: n.saturating_sub(1) })
            }
        }
        (ChangelogHead::DraftGood { base_dn, last_change_number, .. }, StartpointRequest::Time { time }) => {
            let filter = format!("(changeTime>={})", time.format("%Y%m%d%H%M%SZ"));
            let mut oldest: Option<u64> = None;
            conn.paged_search(&base_dn, &filter, &["changeNumber"], source.batch_size, |entry| {
                if let Some(n) = entry.get("changeNumber").first().and_then(|v| v.parse::<u64>().ok()) {
                    oldest = Some(oldest.map_or(n, |o| o.min(n)));
                }
            })
            .await?;
            Ok(ChangelogCursor::DraftGood { last_change_number: oldest.map_or(last_change_number, |n| n - 1) })
        }
        (ChangelogHead::Accesslog { newest_req_start, .. }, StartpointRequest::EndOfChangelog) => {
            Ok(ChangelogCursor::Accesslog { inclusive: newest_req_start.is_none(), req_start: newest_req_start })
        }
        (ChangelogHead::Accesslog { .. }, StartpointRequest::BeginningOfChangelog) => {
            Ok(ChangelogCursor::Accesslog { req_start: None, inclusive: true })
        }
        (ChangelogHead::Accesslog { .. }, StartpointRequest::ChangeNumber { .. }) => Err(LdapError::Startpoint(
            "an OpenLDAP accesslog has no change numbers; use the end or beginning of the changelog, or a time".into(),
        )),
        (ChangelogHead::Accesslog { .. }, StartpointRequest::Time { time }) => {
            Ok(ChangelogCursor::Accesslog { req_start: Some(generalized_time(*time)), inclusive: true })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn generalized_time_matches_req_start_shape() {
        let t = Utc.with_ymd_and_hms(2026, 11, 22, 22, 11, 38).unwrap() + Duration::microseconds(1);
        assert_eq!(generalized_time(t), "20261122221138.000001Z");
    }

    #[test]
    fn draft_good_head_needs_change_numbers() {
        let dse = RootDse {
            first_change_number: Some(1),
            last_change_number: Some(8),
            ..Default::default()
        };
        assert_eq!(
            draft_good_head(&dse).unwrap(),
            ChangelogHead::DraftGood {
                base_dn: "cn=changelog".into(),
                first_change_number: 1,
                last_change_number: 8
            }
        );
        assert!(
            draft_good_head(&RootDse::default())
                .unwrap_err()
                .to_string()
                .contains("no firstChangeNumber")
        );
    }
}
