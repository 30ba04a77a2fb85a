//! SCIM attribute names that address one element of a multi-valued attribute (RFC 7644
//! §3.5.2 valuePath, the form Entra's attribute mappings use): `emails[type eq "work"].value`.
//!
//! A mapping named this way owns only that element's sub-attribute: it creates the element
//! with its selector (`{"type": "work", "value": …}`), compares and PATCHes it through the path,
//! and leaves the attribute's other elements alone.

use serde_json::Value;
use std::fmt;

/// `ATTR[SELECTOR eq LITERAL].SUB`.
#[derive(Debug, Clone, PartialEq)]
pub struct ValuePath {
    /// The multi-valued attribute, e.g. `emails`.
    pub attribute: String,
    /// The sub-attribute that selects the element, e.g. `type`.
    pub selector: String,
    /// The value it must have, e.g. `"work"` (a JSON string, boolean or number).
    pub selector_value: Value,
    /// The sub-attribute the mapping writes, e.g. `value`.
    pub sub_attribute: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at character {position})")]
pub struct ValuePathError {
    /// 1-based position in the text.
    pub position: usize,
    pub message: String,
}

impl ValuePath {
    /// Whether `name` is meant as a value path (it has a `[`), so that its errors are about that.
    pub fn looks_like(name: &str) -> bool {
        name.contains('[')
    }

    pub fn parse(text: &str) -> Result<ValuePath, ValuePathError> {
        let mut p = Parser {
            chars: text.chars().collect(),
            pos: 0,
        };
        let attribute = p.name("an attribute name")?;
        p.expect('[')?;
        p.spaces();
        let selector = p.name("a sub-attribute name")?;
        if !p.spaces() {
            return Err(p.error("expected a space and \"eq\""));
        }
        let op = p.word();
        if !op.eq_ignore_ascii_case("eq") {
            return Err(ValuePathError {
                position: p.pos - op.chars().count() + 1,
                message: if op.is_empty() {
                    format!("expected \"eq\" after \"{selector}\"")
                } else {
                    format!("expected \"eq\", found \"{op}\"")
                },
            });
        }
        if !p.spaces() {
            return Err(p.error("expected a space and a value after \"eq\""));
        }
        let selector_value = p.literal()?;
        p.spaces();
        p.expect(']')?;
        p.expect('.')?;
        let sub_attribute = p.name("a sub-attribute name")?;
        if p.pos < p.chars.len() {
            return Err(p.error("unexpected text after the sub-attribute name"));
        }
        Ok(ValuePath {
            attribute,
            selector,
            selector_value,
            sub_attribute,
        })
    }

    /// The path that addresses the element: `emails[type eq "work"]`.
    pub fn element_path(&self) -> String {
        format!(
            "{}[{} eq {}]",
            self.attribute, self.selector, self.selector_value
        )
    }

    /// Whether `element` (one value of the attribute) is the one this path selects. Strings
    /// compare case-insensitively (`type` is not case-exact in RFC 7643); `"True"` matches `true`.
    pub fn selects(&self, element: &Value) -> bool {
        let Some(object) = element.as_object() else {
            return false;
        };
        let Some((_, actual)) = object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&self.selector))
        else {
            return false;
        };
        let text = |v: &Value| match v {
            Value::String(s) => s.to_lowercase(),
            other => other.to_string(),
        };
        text(actual) == text(&self.selector_value)
    }

    /// The same element (same attribute and selector), whatever sub-attribute.
    pub fn same_element(&self, other: &ValuePath) -> bool {
        self.attribute.eq_ignore_ascii_case(&other.attribute)
            && self.selector.eq_ignore_ascii_case(&other.selector)
            && self.selects(&serde_json::json!({ other.selector.clone(): other.selector_value }))
    }
}

impl fmt::Display for ValuePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.element_path(), self.sub_attribute)
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn error(&self, message: &str) -> ValuePathError {
        ValuePathError {
            position: self.pos + 1,
            message: message.to_owned(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn expect(&mut self, c: char) -> Result<(), ValuePathError> {
        match self.peek() {
            Some(found) if found == c => {
                self.pos += 1;
                Ok(())
            }
            Some(found) => Err(self.error(&format!("expected '{c}', found '{found}'"))),
            None => Err(self.error(&format!("expected '{c}', found the end"))),
        }
    }

    /// Skips spaces; returns whether there were any.
    fn spaces(&mut self) -> bool {
        let start = self.pos;
        while self.peek() == Some(' ') {
            self.pos += 1;
        }
        self.pos > start
    }

    fn word(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    /// RFC 7643 §2.1 ATTRNAME: a letter, then letters, digits, '-' or '_'.
    fn name(&mut self, what: &str) -> Result<String, ValuePathError> {
        if !self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            return Err(self.error(&format!("expected {what} (starting with a letter)")));
        }
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            self.pos += 1;
        }
        Ok(self.chars[start..self.pos].iter().collect())
    }

    /// A JSON string, `true`, `false` or a number.
    fn literal(&mut self) -> Result<Value, ValuePathError> {
        let start = self.pos;
        match self.peek() {
            Some('"') => {
                self.pos += 1;
                let mut escaped = false;
                loop {
                    match self.peek() {
                        None => {
                            return Err(ValuePathError {
                                position: start + 1,
                                message: "this string is never closed with '\"'".into(),
                            });
                        }
                        Some('\\') if !escaped => escaped = true,
                        Some('"') if !escaped => break,
                        Some(_) => escaped = false,
                    }
                    self.pos += 1;
                }
                self.pos += 1;
                let text: String = self.chars[start..self.pos].iter().collect();
                serde_json::from_str(&text).map_err(|e| ValuePathError {
                    position: start + 1,
                    message: format!("not a valid string: {e}"),
                })
            }
            Some(c) if c.is_ascii_alphanumeric() || c == '-' => {
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || "-+.".contains(c))
                {
                    self.pos += 1;
                }
                let text: String = self.chars[start..self.pos].iter().collect();
                match serde_json::from_str::<Value>(&text.to_ascii_lowercase()) {
                    Ok(v @ (Value::Bool(_) | Value::Number(_))) => Ok(v),
                    _ => Err(ValuePathError {
                        position: start + 1,
                        message: format!(
                            "expected a quoted string, true, false or a number, found \"{text}\""
                        ),
                    }),
                }
            }
            _ => Err(self.error("expected a quoted string, true, false or a number")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_entra_style_paths() {
        let p = ValuePath::parse(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!(p.attribute, "emails");
        assert_eq!(p.selector, "type");
        assert_eq!(p.selector_value, json!("work"));
        assert_eq!(p.sub_attribute, "value");
        assert_eq!(p.element_path(), r#"emails[type eq "work"]"#);
        assert_eq!(p.to_string(), r#"emails[type eq "work"].value"#);
        let p = ValuePath::parse(r#"roles[primary EQ true].value"#).unwrap();
        assert_eq!(p.selector_value, json!(true));
        let p = ValuePath::parse(r#"addresses[ type eq "wo\"rk" ].formatted"#).unwrap();
        assert_eq!(p.selector_value, json!("wo\"rk"));
    }

    #[test]
    fn errors_name_the_position() {
        let cases = [
            (r#"emails[type eq "work".value"#, 22, "expected ']'"),
            (r#"emails[type eq "work"]value"#, 23, "expected '.'"),
            (r#"emails[type ne "work"].value"#, 13, "expected \"eq\""),
            (
                r#"emails[type eq work].value"#,
                16,
                "expected a quoted string",
            ),
            (r#"emails[type eq "work].value"#, 16, "never closed"),
            (r#"emails[type eq "work"]."#, 24, "expected a sub-attribute"),
            (r#"emails[type eq "work"].value x"#, 29, "unexpected text"),
            (
                r#"1emails[type eq "work"].value"#,
                1,
                "expected an attribute",
            ),
            (
                r#"emails[typeeq "work"].value"#,
                15,
                "expected \"eq\" after \"typeeq\"",
            ),
            (r#"emails[type"#, 12, "expected a space"),
        ];
        for (text, position, message) in cases {
            let e = ValuePath::parse(text).unwrap_err();
            assert_eq!(e.position, position, "{text}: {e}");
            assert!(e.message.contains(message), "{text}: {e}");
        }
    }

    #[test]
    fn selects_elements_case_insensitively() {
        let p = ValuePath::parse(r#"emails[type eq "work"].value"#).unwrap();
        assert!(p.selects(&json!({"Type": "Work", "value": "a"})));
        assert!(!p.selects(&json!({"type": "home"})));
        assert!(!p.selects(&json!("work")));
        let q = ValuePath::parse(r#"emails[type eq "WORK"].display"#).unwrap();
        assert!(p.same_element(&q));
        let b = ValuePath::parse(r#"roles[primary eq "True"].value"#).unwrap();
        assert!(b.selects(&json!({"primary": true})));
    }
}
