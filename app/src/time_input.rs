//! Times typed by an admin: RFC 3339, or `YYYY-MM-DD HH:MM[:SS]` taken as UTC.

use chrono::{DateTime, NaiveDateTime, Utc};

pub fn parse_utc(text: &str) -> Option<DateTime<Utc>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_rfc3339_and_plain_utc() {
        assert_eq!(
            parse_utc("2026-11-23T10:00:00+01:00").unwrap().to_rfc3339(),
            "2026-11-23T09:00:00+00:00"
        );
        assert_eq!(
            parse_utc(" 2026-11-23 10:00 ").unwrap().to_rfc3339(),
            "2026-11-23T10:00:00+00:00"
        );
        assert!(parse_utc("yesterday").is_none());
    }
}
