//! Converting single values between their LDAP and SCIM 2.0 forms.
//!
//! Each function names what is wrong with a value it cannot convert; the caller decides,
//! per the mapping's failed-mapping-behavior, whether that rejects the operation.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use serde_json::Value;

/// LDAP generalized time (RFC 4517 §3.3.13) → RFC 3339, keeping the time zone offset.
/// Fractions of an hour or minute are accepted and converted.
pub fn generalized_to_rfc3339(text: &str) -> Result<String, String> {
    let t = parse_generalized(text)?;
    Ok(rfc3339(&t))
}

fn rfc3339(t: &DateTime<FixedOffset>) -> String {
    let secs_format = if t.timestamp_subsec_nanos() == 0 {
        chrono::SecondsFormat::Secs
    } else {
        chrono::SecondsFormat::AutoSi
    };
    t.to_rfc3339_opts(secs_format, true)
}

pub fn parse_generalized(text: &str) -> Result<DateTime<FixedOffset>, String> {
    let bad = |why: &str| format!("\"{text}\" is not a generalized time ({why})");
    let s = text.trim();
    let digits = |from: usize, n: usize| -> Option<u32> {
        s.get(from..from + n)
            .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse().ok())
    };
    let (year, month, day, hour) = match (digits(0, 4), digits(4, 2), digits(6, 2), digits(8, 2)) {
        (Some(y), Some(m), Some(d), Some(h)) => (y as i32, m, d, h),
        _ => return Err(bad("expected YYYYMMDDHH at the start")),
    };
    let mut pos = 10;
    let minute = digits(pos, 2);
    if minute.is_some() {
        pos += 2;
    }
    let second = minute.and_then(|_| digits(pos, 2));
    if second.is_some() {
        pos += 2;
    }
    let mut fraction = 0f64;
    let mut fraction_nanos: Option<u32> = None;
    if matches!(s.as_bytes().get(pos), Some(b'.') | Some(b',')) {
        let start = pos + 1;
        let len = s[start..].bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return Err(bad("a fraction needs digits"));
        }
        let frac_text = &s[start..start + len];
        fraction = format!("0.{frac_text}")
            .parse()
            .map_err(|_| bad("bad fraction"))?;
        if second.is_some() {
            let mut nanos = frac_text.chars().take(9).collect::<String>();
            while nanos.len() < 9 {
                nanos.push('0');
            }
            fraction_nanos = nanos.parse().ok();
        }
        pos = start + len;
    }
    let zone = &s[pos..];
    let offset_secs = match zone {
        "Z" => 0,
        _ if zone.len() == 3 || zone.len() == 5 => {
            let sign = match zone.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return Err(bad("expected Z or a ±HHMM offset")),
            };
            let hh: i32 = zone[1..3].parse().map_err(|_| bad("bad offset hours"))?;
            let mm: i32 = if zone.len() == 5 {
                zone[3..5].parse().map_err(|_| bad("bad offset minutes"))?
            } else {
                0
            };
            if hh > 23 || mm > 59 {
                return Err(bad("offset out of range"));
            }
            sign * (hh * 3600 + mm * 60)
        }
        "" => return Err(bad("a time zone (Z or ±HHMM) is required")),
        _ => return Err(bad("expected Z or a ±HHMM offset")),
    };
    let date = NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| bad("no such date"))?;
    let base = NaiveTime::from_hms_opt(hour, minute.unwrap_or(0), second.unwrap_or(0))
        .ok_or_else(|| bad("no such time"))?;
    let mut local = NaiveDateTime::new(date, base);
    // A fraction belongs to the last unit given.
    let extra = match (minute, second, fraction_nanos) {
        (_, Some(_), Some(n)) => TimeDelta::nanoseconds(n as i64),
        (Some(_), None, _) => TimeDelta::nanoseconds((fraction * 60e9).round() as i64),
        (None, _, _) => TimeDelta::nanoseconds((fraction * 3600e9).round() as i64),
        _ => TimeDelta::zero(),
    };
    local += extra;
    let offset = FixedOffset::east_opt(offset_secs).ok_or_else(|| bad("offset out of range"))?;
    local
        .and_local_timezone(offset)
        .single()
        .ok_or_else(|| bad("ambiguous local time"))
}

/// RFC 3339 → LDAP generalized time, keeping the offset (`Z` for UTC).
pub fn rfc3339_to_generalized(text: &str) -> Result<String, String> {
    let t = DateTime::parse_from_rfc3339(text.trim())
        .map_err(|e| format!("\"{text}\" is not an RFC 3339 date-time ({e})"))?;
    let mut out = t.format("%Y%m%d%H%M%S").to_string();
    let nanos = t.timestamp_subsec_nanos();
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    let offset = t.offset().local_minus_utc();
    if offset == 0 {
        out.push('Z');
    } else {
        let sign = if offset < 0 { '-' } else { '+' };
        let abs = offset.abs();
        out.push_str(&format!("{sign}{:02}{:02}", abs / 3600, (abs % 3600) / 60));
    }
    Ok(out)
}

/// Two SCIM date-times denote the same instant.
pub fn same_instant(a: &str, b: &str) -> bool {
    match (
        DateTime::parse_from_rfc3339(a),
        DateTime::parse_from_rfc3339(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// LDAP PostalAddress (`$`-separated lines, `\24` and `\5C` escapes) → `\n`-separated lines.
pub fn postal_to_scim(text: &str) -> Result<String, String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => lines.push(std::mem::take(&mut current)),
            '\\' => {
                let hex: String = chars.by_ref().take(2).collect();
                match hex.to_ascii_uppercase().as_str() {
                    "24" => current.push('$'),
                    "5C" => current.push('\\'),
                    _ => {
                        return Err(format!(
                            "\"{text}\" is not a postal address (bad escape \"\\{hex}\")"
                        ));
                    }
                }
            }
            _ => current.push(c),
        }
    }
    lines.push(current);
    Ok(lines
        .iter()
        .map(|l| l.trim())
        .collect::<Vec<_>>()
        .join("\n"))
}

/// `\n`-separated lines → LDAP PostalAddress.
pub fn scim_to_postal(text: &str) -> String {
    text.split('\n')
        .map(|l| l.replace('\\', "\\5C").replace('$', "\\24"))
        .collect::<Vec<_>>()
        .join("$")
}

/// An LDAP value as a JSON number (integer or finite decimal).
pub fn to_number(text: &str) -> Result<Value, String> {
    let t = text.trim();
    let n: serde_json::Number =
        serde_json::from_str(t).map_err(|_| format!("\"{text}\" is not a number"))?;
    Ok(Value::Number(n))
}

/// An LDAP Boolean (`TRUE`/`FALSE`, any case) as a JSON boolean.
pub fn to_boolean(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("\"{text}\" is not a Boolean (true or false)")),
    }
}

/// An LDAP value holding a JSON object.
pub fn to_json_object(text: &str) -> Result<Value, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(format!("\"{text}\" is JSON but not an object")),
        Err(e) => Err(format!("\"{text}\" is not JSON ({e})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generalized_time_forms() {
        let cases = [
            ("20261122221138Z", "2026-11-22T22:11:38Z"),
            ("20261122221138.5Z", "2026-11-22T22:11:38.500Z"),
            ("20261122221138.000001Z", "2026-11-22T22:11:38.000001Z"),
            ("202611222211Z", "2026-11-22T22:11:00Z"),
            ("2026112222Z", "2026-11-22T22:00:00Z"),
            ("2026112222.5Z", "2026-11-22T22:30:00Z"),
            ("20261122221138+0100", "2026-11-22T22:11:38+01:00"),
            ("20261122221138-0530", "2026-11-22T22:11:38-05:30"),
            ("20261122221138-05", "2026-11-22T22:11:38-05:00"),
            ("20261122221138,25Z", "2026-11-22T22:11:38.250Z"),
        ];
        for (ldap, scim) in cases {
            assert_eq!(generalized_to_rfc3339(ldap).unwrap(), scim, "{ldap}");
        }
        for bad in [
            "2026-11-22",
            "20261122221138",
            "20261322221138Z",
            "20261122221138+2500",
            "2026112222113Z",
            "20261122221138.Z",
            "x",
        ] {
            assert!(
                generalized_to_rfc3339(bad).is_err(),
                "{bad} should be rejected"
            );
        }
        assert_eq!(
            rfc3339_to_generalized("2026-11-22T22:11:38.25+01:00").unwrap(),
            "20261122221138.25+0100"
        );
        assert!(same_instant(
            "2026-11-22T22:11:38Z",
            "2026-11-22T23:11:38+01:00"
        ));
        assert!(!same_instant(
            "2026-11-22T22:11:38Z",
            "2026-11-22T22:11:39Z"
        ));
    }

    #[test]
    fn postal_addresses() {
        assert_eq!(
            postal_to_scim("1 Main St$Springfield, IL 62701$US").unwrap(),
            "1 Main St\nSpringfield, IL 62701\nUS"
        );
        assert_eq!(
            postal_to_scim("Costs \\2410$Back\\5Cslash").unwrap(),
            "Costs $10\nBack\\slash"
        );
        assert!(postal_to_scim("bad \\zz").is_err());
        assert_eq!(
            scim_to_postal("Costs $10\nBack\\slash"),
            "Costs \\2410$Back\\5Cslash"
        );
    }

    #[test]
    fn scalars() {
        assert_eq!(to_number(" 42 ").unwrap(), serde_json::json!(42));
        assert_eq!(to_number("-1.5").unwrap(), serde_json::json!(-1.5));
        for bad in ["abc", "1,5", "0x1F", "NaN", ""] {
            assert!(to_number(bad).is_err(), "{bad}");
        }
        assert!(to_boolean("TRUE").unwrap() && !to_boolean("false").unwrap());
        assert!(to_boolean("yes").is_err());
        assert!(to_json_object(r#"{"value":"a@x"}"#).is_ok());
        assert!(to_json_object("[1]").unwrap_err().contains("not an object"));
        assert!(to_json_object("{").unwrap_err().contains("not JSON"));
    }

    proptest! {
        #[test]
        fn date_time_round_trips(secs in 0i64..4_102_444_800, nanos in 0u32..1_000_000_000, offset_min in -14*60i32..=14*60) {
            let offset = FixedOffset::east_opt(offset_min * 60).unwrap();
            let t = DateTime::from_timestamp(secs, nanos).unwrap().with_timezone(&offset);
            let scim = rfc3339(&t);
            let ldap = rfc3339_to_generalized(&scim).unwrap();
            let back = generalized_to_rfc3339(&ldap).unwrap();
            prop_assert!(same_instant(&scim, &back), "{} -> {} -> {}", scim, ldap, back);
            let parsed = DateTime::parse_from_rfc3339(&back).unwrap();
            prop_assert_eq!(parsed.offset(), t.offset());
        }

        #[test]
        fn postal_round_trips(lines in proptest::collection::vec("[^\n]{0,20}", 1..5)) {
            let lines: Vec<String> = lines.into_iter().map(|l| l.trim().to_owned()).collect();
            let scim = lines.join("\n");
            prop_assert_eq!(postal_to_scim(&scim_to_postal(&scim)).unwrap(), scim);
        }

        #[test]
        fn numbers_round_trip(n in proptest::num::i64::ANY, f in -1e12f64..1e12) {
            prop_assert_eq!(to_number(&n.to_string()).unwrap(), serde_json::json!(n));
            let v = to_number(&f.to_string()).unwrap();
            prop_assert_eq!(v.as_f64().unwrap(), f);
        }
    }
}
