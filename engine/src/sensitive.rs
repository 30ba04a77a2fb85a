//! What in LDAP data is sensitive, in one place: attributes named like secrets, whose values
//! are masked wherever entries and requests are kept; password attributes; and password hashes,
//! which are never sent.

use serde_json::Value;

/// The pseudo-attribute 389 DS logs the clear-text password under.
pub const UNHASHED_389: &str = "unhashed#user#password";

/// LDAP attributes that hold passwords: never sent hashed, never removed for lack of a value.
pub fn is_password_attribute(name: &str) -> bool {
    ["userpassword", "authpassword", UNHASHED_389]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(name))
}

/// Whether a password value is a storage-scheme hash such as `{SSHA}…` or `{PBKDF2-SHA256}…`
/// (`{CLEAR}` / `{CLEARTEXT}` values are clear text).
pub fn is_hashed(value: &str) -> bool {
    let Some(rest) = value.strip_prefix('{') else {
        return false;
    };
    let Some((scheme, _)) = rest.split_once('}') else {
        return false;
    };
    !scheme.is_empty()
        && scheme.len() <= 32
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !["CLEAR", "CLEARTEXT"]
            .iter()
            .any(|c| c.eq_ignore_ascii_case(scheme))
}

const MASK: &str = "***";

/// Attributes whose values are never kept in a rejection.
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("password") || n.contains("secret") || n == "unicodepwd"
}

/// Replaces the values of secret-looking members, at any depth.
pub fn mask(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_secret_name(k) {
                    *v = Value::String(MASK.into());
                } else {
                    mask(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask),
        _ => {}
    }
}
