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

/// Whether a SCIM attribute path (`password`, `urn:…:User:password`, `x.password`) names a
/// secret attribute.
fn is_secret_path(path: &str) -> bool {
    let attribute = path.rsplit([':', '.']).next().unwrap_or(path);
    !attribute.contains('[') && is_secret_name(attribute)
}

/// Replaces the values of secret-looking members, and those PATCH operations set on a secret
/// attribute, at any depth (see [`SecretValues::mask`], which also masks known values).
pub fn mask(value: &mut Value) {
    SecretValues::default().mask(value);
}

/// The secret values one rejection may hold: those of the entry's password and secret-named
/// attributes (the clear text a change carries included), and those found set on secret
/// attributes while masking. Masked wherever they appear — by value, whatever the shape of
/// the request or response around them (a PATCH `value`, a Bulk operation, a service's error
/// detail quoting them).
#[derive(Default, Clone)]
pub struct SecretValues(Vec<String>);

/// Never shows the values.
impl std::fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretValues({} values)", self.0.len())
    }
}

impl SecretValues {
    /// The secret values among `attributes` (name, values).
    pub fn of<'a>(attributes: impl IntoIterator<Item = (&'a String, &'a Vec<String>)>) -> Self {
        let mut secrets = SecretValues::default();
        for (name, values) in attributes {
            if is_secret_name(name) || is_password_attribute(name) {
                values.iter().for_each(|v| secrets.add(v));
            }
        }
        secrets
    }

    /// The values known (to mask them where JSON masking does not reach, e.g. in SQL).
    pub(crate) fn values(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    fn add(&mut self, value: &str) {
        if !value.is_empty() && value != MASK && !self.0.iter().any(|v| v == value) {
            self.0.push(value.to_owned());
        }
    }

    /// Masks `value`: first the members named like secrets and the values PATCH operations
    /// set on secret attributes (learning those values), then every known value wherever it
    /// appears in a string.
    pub fn mask(&mut self, value: &mut Value) {
        self.mask_shapes(value);
        self.mask_known(value);
    }

    /// Masks the known values in `text`.
    pub fn mask_text(&self, text: &mut String) {
        // Longest first, so a value inside another goes with it.
        let mut known: Vec<&String> = self.0.iter().collect();
        known.sort_by_key(|v| std::cmp::Reverse(v.len()));
        for secret in known {
            if text.contains(secret.as_str()) {
                *text = text.replace(secret.as_str(), MASK);
            }
        }
    }

    fn mask_shapes(&mut self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                let sets_secret = map.get("op").is_some_and(Value::is_string)
                    && map
                        .get("path")
                        .and_then(Value::as_str)
                        .is_some_and(is_secret_path);
                for (k, v) in map.iter_mut() {
                    if is_secret_name(k) || (sets_secret && k == "value") {
                        self.learn(v);
                        *v = Value::String(MASK.into());
                    } else {
                        self.mask_shapes(v);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.mask_shapes(v)),
            _ => {}
        }
    }

    /// Keeps the strings of a value about to be masked.
    fn learn(&mut self, value: &Value) {
        match value {
            Value::String(s) => self.add(s),
            Value::Array(items) => items.iter().for_each(|v| self.learn(v)),
            Value::Object(map) => map.values().for_each(|v| self.learn(v)),
            _ => {}
        }
    }

    fn mask_known(&self, value: &mut Value) {
        if self.0.is_empty() {
            return;
        }
        match value {
            Value::String(s) => self.mask_text(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.mask_known(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.mask_known(v)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_masked_by_name_by_path_and_by_value() {
        let mut secrets =
            SecretValues::of([(&"userpassword".to_owned(), &vec!["Tr0ub4dor".to_owned()])]);
        let mut sent = json!({
            "Operations": [
                {"op": "replace", "path": "password", "value": "Tr0ub4dor"},
                {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:password", "value": "other-clear"},
                {"op": "add", "path": "emails[type eq \"work\"].value", "value": "a@example.com"},
                {"op": "replace", "value": {"password": "third", "displayName": "A"}},
            ],
            "Bulk": [{"method": "PATCH", "data": {"Operations": [{"op": "replace", "path": "password", "value": "fourth"}]}}]
        });
        secrets.mask(&mut sent);
        let text = sent.to_string();
        for clear in ["Tr0ub4dor", "other-clear", "third", "fourth"] {
            assert!(!text.contains(clear), "{clear} in {text}");
        }
        assert!(
            text.contains("a@example.com") && text.contains("\"A\""),
            "{text}"
        );
        // What was learnt from the request is masked in the answer too, inside any text.
        let mut answer = json!({"detail": "password \"other-clear\" is too weak"});
        secrets.mask(&mut answer);
        assert_eq!(answer, json!({"detail": "password \"***\" is too weak"}));
        let mut reason = "HTTP 400: Tr0ub4dor is too weak".to_owned();
        secrets.mask_text(&mut reason);
        assert_eq!(reason, "HTTP 400: *** is too weak");
        assert_eq!(format!("{secrets:?}"), "SecretValues(4 values)");
    }
}
