//! Where realtime sync of a pipe starts reading the source changelog (setup step 9).
//!
//! An admin asks for a position ([`StartpointRequest`]); it is resolved against the live
//! changelog right away into a [`ChangelogCursor`], so "end of changelog" means the end at
//! the moment it was set, as with PingDataSync's `realtime-sync set-startpoint`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "position",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case"
)]
pub enum StartpointRequest {
    EndOfChangelog,
    BeginningOfChangelog,
    /// Start with this change number (draft-good changelogs only).
    ChangeNumber {
        change_number: u64,
    },
    /// Start with the first change made at or after this time.
    Time {
        time: DateTime<Utc>,
    },
}

impl std::fmt::Display for StartpointRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartpointRequest::EndOfChangelog => f.write_str("end of changelog"),
            StartpointRequest::BeginningOfChangelog => f.write_str("beginning of changelog"),
            StartpointRequest::ChangeNumber { change_number } => {
                write!(f, "change number {change_number}")
            }
            StartpointRequest::Time { time } => write!(f, "time {}", time.to_rfc3339()),
        }
    }
}

/// A resolved position: realtime sync applies the changes after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "changelog",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case"
)]
pub enum ChangelogCursor {
    /// Draft-good `cn=changelog`: the last change number already handled (0 = none).
    DraftGood { last_change_number: u64 },
    /// OpenLDAP accesslog: records with `reqStart` after this one (or at it, when
    /// `inclusive`); `None` means from the oldest record.
    Accesslog {
        req_start: Option<String>,
        inclusive: bool,
    },
}

impl std::fmt::Display for ChangelogCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChangelogCursor::DraftGood { last_change_number } => {
                write!(f, "after change number {last_change_number}")
            }
            ChangelogCursor::Accesslog {
                req_start: None, ..
            } => f.write_str("from the oldest accesslog record"),
            ChangelogCursor::Accesslog {
                req_start: Some(r),
                inclusive: true,
            } => write!(f, "from reqStart {r}"),
            ChangelogCursor::Accesslog {
                req_start: Some(r),
                inclusive: false,
            } => write!(f, "after reqStart {r}"),
        }
    }
}

/// A time typed by an admin: RFC 3339, or `YYYY-MM-DD HH:MM[:SS]` taken as UTC.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    use chrono::NaiveDateTime;
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
    .map(|n| n.and_utc())
}

/// [`parse_time`] of what was typed for `field`; an error naming the field, the value and
/// the forms taken when it is not a time.
pub fn parse_time_of(field: &str, text: &str) -> Result<DateTime<Utc>, String> {
    parse_time(text).ok_or_else(|| {
        format!(
            "{field} \"{text}\" is not a time (use 2026-11-23T10:00:00Z or \"2026-11-23 10:00\", UTC)"
        )
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Startpoint {
    pub request: StartpointRequest,
    pub cursor: ChangelogCursor,
    pub set_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_typed_by_admins() {
        assert_eq!(
            parse_time("2026-11-23T10:00:00+01:00")
                .unwrap()
                .to_rfc3339(),
            "2026-11-23T09:00:00+00:00"
        );
        assert_eq!(
            parse_time(" 2026-11-23 10:00 ").unwrap().to_rfc3339(),
            "2026-11-23T10:00:00+00:00"
        );
        assert!(parse_time("yesterday").is_none());
    }
}
