//! Form values ↔ the JSON form of configuration objects, and errors ↔ form fields.
//!
//! The typed model stays the only authority: values become JSON, JSON becomes the typed
//! object through `engine::config::from_json`, and the engine's validation decides. This
//! layer only reshapes text and reports input it cannot even read (a number that is not one).

use super::spec::Field;
use crate::model::{CLEAR_SUFFIX, FieldSpec, FormError, FormValues, Widget};
use engine::config::{ObjectKind, ShapeError, ValidationError};
use serde_json::{Map, Value};

fn visible(spec: &FieldSpec, values: &FormValues) -> bool {
    spec.visible(values)
}

fn get<'a>(json: &'a Value, key: &str) -> Option<&'a Value> {
    key.split('.').try_fold(json, |v, part| v.get(part))
}

fn set(json: &mut Value, key: &str, value: Value) {
    let mut parts = key.split('.').peekable();
    let mut current = json;
    while let Some(part) = parts.next() {
        if !current.is_object() {
            *current = Value::Object(Map::new());
        }
        let map = current.as_object_mut().expect("just made an object");
        if parts.peek().is_none() {
            map.insert(part.to_owned(), value);
            return;
        }
        current = map
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// Values for a new object: each field's default.
pub fn defaults(fields: &[Field]) -> FormValues {
    let mut values = FormValues::new();
    for f in fields {
        values
            .entry(f.spec.key.clone())
            .or_insert_with(|| f.default.clone());
    }
    values
}

/// Values of an existing object; secret fields are left blank (and marked as set).
pub fn to_values(fields: &mut [Field], json: &Value) -> FormValues {
    let mut values = defaults(fields);
    for f in fields.iter_mut() {
        let found = get(json, &f.spec.key);
        if let Widget::Secret { is_set, .. } = &mut f.spec.widget {
            *is_set = found.is_some_and(|v| !v.is_null());
            values.insert(f.spec.key.clone(), String::new());
            continue;
        }
        let text = match found {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => s.clone(),
            Some(Value::Bool(b)) => b.to_string(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| i.to_string())
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Some(other) => other.to_string(),
        };
        values.insert(f.spec.key.clone(), text);
    }
    values
}

/// Builds the object's JSON from the visible fields. Blank secrets keep `existing`'s value.
pub fn to_json(
    fields: &[Field],
    values: &FormValues,
    existing: Option<&Value>,
) -> Result<Value, Vec<FormError>> {
    let mut json = Value::Object(Map::new());
    let mut errors = Vec::new();
    for f in fields
        .iter()
        .map(|f| &f.spec)
        .filter(|s| visible(s, values))
    {
        let raw = values.get(&f.key).map(String::as_str).unwrap_or("");
        let text = raw.trim();
        let value = match &f.widget {
            Widget::Text { .. } | Widget::Select { .. } => {
                if text.is_empty() && !f.required {
                    continue;
                }
                // An optional choice with booleans (Boolean default value) is a JSON boolean.
                match (&f.widget, text) {
                    (Widget::Select { .. }, "true") => Value::Bool(true),
                    (Widget::Select { .. }, "false") => Value::Bool(false),
                    _ => Value::String(text.to_owned()),
                }
            }
            Widget::Lines { .. } | Widget::MultiCheck { .. } => Value::Array(
                raw.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| Value::String(l.to_owned()))
                    .collect(),
            ),
            Widget::Number { .. } => {
                if text.is_empty() {
                    continue;
                }
                match parse_number(text) {
                    Some(n) => n,
                    None => {
                        errors.push(FormError {
                            field: Some(f.key.clone()),
                            message: format!("\"{text}\" is not a number"),
                        });
                        continue;
                    }
                }
            }
            Widget::Checkbox => Value::Bool(text == "true"),
            Widget::Secret { clearable, .. } => {
                let clear = *clearable
                    && values
                        .get(&format!("{}{CLEAR_SUFFIX}", f.key))
                        .is_some_and(|v| v == "true");
                if clear {
                    continue;
                }
                if !raw.is_empty() {
                    // Secrets are taken as typed: leading or trailing spaces may be part of them.
                    Value::String(raw.to_owned())
                } else if let Some(stored) = existing
                    .and_then(|e| get(e, &f.key))
                    .filter(|v| !v.is_null())
                {
                    stored.clone()
                } else if f.required {
                    Value::String(String::new())
                } else {
                    continue;
                }
            }
        };
        set(&mut json, &f.key, value);
    }
    if errors.is_empty() {
        Ok(json)
    } else {
        Err(errors)
    }
}

fn parse_number(text: &str) -> Option<Value> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(Value::from(i));
    }
    if let Ok(u) = text.parse::<u64>() {
        return Some(Value::from(u));
    }
    text.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
}

/// The field key an error path belongs to, if the form shows it (`servers[1]` → `servers`).
fn field_for(path: &str, fields: &[Field], values: &FormValues) -> Option<String> {
    let base = path.split('[').next().unwrap_or(path);
    fields
        .iter()
        .map(|f| &f.spec)
        .filter(|s| visible(s, values))
        .find(|s| {
            s.key == base
                || (base == "syntax" && s.key == "syntax.type")
                || (base == "auth" && s.key == "auth.type")
        })
        .map(|s| s.key.clone())
}

/// Validation errors as form errors: this object's errors go next to their fields,
/// everything else above the form.
pub fn validation_errors(
    errors: &[ValidationError],
    kind: Option<ObjectKind>,
    name: &str,
    fields: &[Field],
    values: &FormValues,
) -> Vec<FormError> {
    errors
        .iter()
        .map(|e| {
            let mine = e.kind == kind && e.object == name;
            match field_for(&e.field, fields, values).filter(|_| mine) {
                Some(field) => {
                    let message = if e.value.is_empty() {
                        e.message.clone()
                    } else {
                        format!("\"{}\" {}", e.value, e.message)
                    };
                    FormError {
                        field: Some(field),
                        message,
                    }
                }
                None => FormError {
                    field: None,
                    message: e.to_string(),
                },
            }
        })
        .collect()
}

pub fn shape_error(error: &ShapeError, fields: &[Field], values: &FormValues) -> FormError {
    match field_for(&error.path, fields, values) {
        Some(field) => FormError {
            field: Some(field),
            message: error.message.clone(),
        },
        None => FormError {
            field: None,
            message: error.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::spec::fields;
    use super::*;
    use engine::config::{Config, LdapSource, ScimServer, from_json};

    fn values(pairs: &[(&str, &str)]) -> FormValues {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn ldap_source_form_round_trips_through_the_model() {
        let f = fields(ObjectKind::LdapSource.into(), &Config::default());
        let mut v = defaults(&f);
        v.extend(values(&[
            ("name", "Corp"),
            ("servers", "a:389\n\n b:636 "),
            ("bind-dn", "cn=sync,dc=x"),
            ("bind-password", " p w "),
            ("base-dns", "dc=x"),
            ("batch-size", "250"),
        ]));
        let json = to_json(&f, &v, None).unwrap();
        let source: LdapSource = from_json(json.clone()).unwrap();
        assert_eq!(source.servers.len(), 2);
        assert_eq!(source.batch_size, 250);
        assert!(source.verify_certificates);
        // TLS-only fields are hidden for plain LDAP and not sent.
        assert!(json.get("verify-certificates").is_none());
        let mut f = f;
        let mut sealed = source.clone();
        sealed
            .bind_password
            .seal(&engine::crypto::Cipher::ephemeral())
            .unwrap();
        let back = to_values(&mut f, &serde_json::to_value(&sealed).unwrap());
        assert_eq!(back["servers"], "a:389\nb:636");
        assert_eq!(
            back["bind-password"], "",
            "secrets are never sent to the form"
        );
        assert!(
            f.iter()
                .any(|x| matches!(x.spec.widget, Widget::Secret { is_set: true, .. }))
        );
        // A blank secret keeps the stored one.
        let kept = to_json(&f, &back, Some(&serde_json::to_value(&sealed).unwrap())).unwrap();
        assert_eq!(
            kept["bind-password"],
            serde_json::to_value(&sealed.bind_password).unwrap()
        );
    }

    #[test]
    fn hidden_auth_fields_are_dropped_and_numbers_checked() {
        let f = fields(ObjectKind::ScimServer.into(), &Config::default());
        let mut v = defaults(&f);
        v.extend(values(&[
            ("name", "S"),
            ("base-url", "https://x/v2"),
            ("auth.type", "basic"),
            ("auth.username", "u"),
            ("auth.password", "p"),
            ("auth.token", "left over from another choice"),
            ("response-timeout-ms", "ten"),
        ]));
        let errors = to_json(&f, &v, None).unwrap_err();
        assert_eq!(
            errors,
            vec![FormError {
                field: Some("response-timeout-ms".into()),
                message: "\"ten\" is not a number".into()
            }]
        );
        v.insert("response-timeout-ms".into(), "10000".into());
        let json = to_json(&f, &v, None).unwrap();
        assert!(json["auth"].get("token").is_none());
        let server: ScimServer = from_json(json).unwrap();
        assert!(matches!(
            server.auth,
            engine::config::ScimAuth::Basic { .. }
        ));
    }

    #[test]
    fn boolean_default_is_a_json_boolean_and_errors_land_on_fields() {
        let f = fields(ObjectKind::AttributeMapping.into(), &Config::default());
        let mut v = defaults(&f);
        v.extend(values(&[
            ("name", "Active"),
            ("scim-attribute-name", "active"),
            ("syntax.type", "boolean"),
            ("syntax.ldap-attribute", "nsAccountLock"),
            ("syntax.default-value", "true"),
            ("attribute-usage", ""),
        ]));
        let json = to_json(&f, &v, None).unwrap();
        assert_eq!(json["syntax"]["default-value"], Value::Bool(true));
        assert!(json["syntax"].get("single-valued").is_none());
        let mut config = Config::default();
        config
            .upsert_json(ObjectKind::AttributeMapping, json)
            .unwrap();
        let errors = config.validate().unwrap_err();
        let form = validation_errors(
            &errors,
            Some(ObjectKind::AttributeMapping),
            "Active",
            &f,
            &v,
        );
        assert_eq!(form.len(), 1);
        assert_eq!(form[0].field.as_deref(), Some("attribute-usage"));
    }
}
