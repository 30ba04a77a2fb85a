//! LDAP search filters (RFC 4515): parsing into a typed tree, printing, and matching
//! against an entry's attributes.
//!
//! Sync classes carry include filters that decide which entries a class handles. They are
//! parsed when the configuration is validated, so a typo is reported with its position
//! instead of surfacing later as an LDAP error or, worse, as a class that matches nothing.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at character {position})")]
pub struct FilterError {
    pub position: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Equality {
        attr: String,
        value: String,
    },
    GreaterOrEqual {
        attr: String,
        value: String,
    },
    LessOrEqual {
        attr: String,
        value: String,
    },
    Approx {
        attr: String,
        value: String,
    },
    Present {
        attr: String,
    },
    Substring {
        attr: String,
        initial: Option<String>,
        any: Vec<String>,
        last: Option<String>,
    },
    Extensible {
        attr: Option<String>,
        rule: Option<String>,
        dn_attributes: bool,
        value: String,
    },
}

/// Read access to an entry's attribute values, for [`Filter::matches`].
pub trait EntryAttributes {
    /// Values of `attr` (matched case-insensitively); empty when absent.
    fn values(&self, attr: &str) -> Vec<&str>;
}

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(FilterError {
                position: 1,
                message: "the filter is empty".into(),
            });
        }
        // ldapsearch accepts a bare item such as `uid=jdoe`; so do we.
        let wrapped;
        let (source, offset) = if trimmed.starts_with('(') {
            (trimmed, 0)
        } else {
            wrapped = format!("({trimmed})");
            (wrapped.as_str(), 1)
        };
        let mut p = Parser {
            text: source.as_bytes(),
            pos: 0,
            offset,
        };
        let filter = p.filter()?;
        if p.pos != p.text.len() {
            return p.err("unexpected text after the end of the filter");
        }
        Ok(filter)
    }

    /// Evaluates the filter with simple, case-insensitive string matching. Extensible and
    /// approximate matches fall back to equality: the directory stays the authority for
    /// exotic matching rules, this is for classifying entries the directory already returned.
    pub fn matches(&self, entry: &dyn EntryAttributes) -> bool {
        let any_value =
            |attr: &str, pred: &dyn Fn(&str) -> bool| entry.values(attr).into_iter().any(pred);
        match self {
            Filter::And(fs) => fs.iter().all(|f| f.matches(entry)),
            Filter::Or(fs) => fs.iter().any(|f| f.matches(entry)),
            Filter::Not(f) => !f.matches(entry),
            Filter::Present { attr } => {
                attr.eq_ignore_ascii_case("objectClass") || !entry.values(attr).is_empty()
            }
            Filter::Equality { attr, value } | Filter::Approx { attr, value } => {
                any_value(attr, &|v| fold(v) == fold(value))
            }
            Filter::Extensible {
                attr: Some(attr),
                value,
                ..
            } => any_value(attr, &|v| fold(v) == fold(value)),
            Filter::Extensible { attr: None, .. } => false,
            Filter::GreaterOrEqual { attr, value } => {
                any_value(attr, &|v| compare(v, value) != std::cmp::Ordering::Less)
            }
            Filter::LessOrEqual { attr, value } => {
                any_value(attr, &|v| compare(v, value) != std::cmp::Ordering::Greater)
            }
            Filter::Substring {
                attr,
                initial,
                any,
                last,
            } => any_value(attr, &|v| {
                let v = fold(v);
                let mut rest: &str = &v;
                if let Some(i) = initial {
                    match rest.strip_prefix(fold(i).as_str()) {
                        Some(r) => rest = r,
                        None => return false,
                    }
                }
                for part in any {
                    let part = fold(part);
                    match rest.find(&part) {
                        Some(at) => rest = &rest[at + part.len()..],
                        None => return false,
                    }
                }
                last.as_ref().is_none_or(|l| rest.ends_with(&fold(l)))
            }),
        }
    }

    /// Attribute names the filter reads, lower-cased and without duplicates.
    pub fn attributes(&self) -> Vec<String> {
        fn walk(f: &Filter, out: &mut Vec<String>) {
            match f {
                Filter::And(fs) | Filter::Or(fs) => fs.iter().for_each(|f| walk(f, out)),
                Filter::Not(f) => walk(f, out),
                Filter::Equality { attr, .. }
                | Filter::GreaterOrEqual { attr, .. }
                | Filter::LessOrEqual { attr, .. }
                | Filter::Approx { attr, .. }
                | Filter::Present { attr }
                | Filter::Substring { attr, .. }
                | Filter::Extensible {
                    attr: Some(attr), ..
                } => {
                    let a = attr.to_ascii_lowercase();
                    if !out.contains(&a) {
                        out.push(a);
                    }
                }
                Filter::Extensible { attr: None, .. } => {}
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out
    }
}

fn fold(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Numbers compare numerically, everything else (including generalized time) as folded text.
fn compare(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.trim().parse::<i64>(), b.trim().parse::<i64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => fold(a).cmp(&fold(b)),
    }
}

/// Escapes an assertion value (RFC 4515 §3). Works on bytes so UTF-8 passes through intact.
pub fn escape_value(value: &str) -> String {
    let mut bytes = Vec::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'*' | b'(' | b')' | b'\\' | 0 => bytes.extend(format!("\\{b:02x}").bytes()),
            _ => bytes.push(b),
        }
    }
    // Only ASCII escapes were inserted between whole UTF-8 sequences, so this cannot fail.
    String::from_utf8(bytes).unwrap_or_default()
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::And(fs) => {
                f.write_str("(&")?;
                fs.iter().try_for_each(|x| write!(f, "{x}"))?;
                f.write_str(")")
            }
            Filter::Or(fs) => {
                f.write_str("(|")?;
                fs.iter().try_for_each(|x| write!(f, "{x}"))?;
                f.write_str(")")
            }
            Filter::Not(x) => write!(f, "(!{x})"),
            Filter::Equality { attr, value } => write!(f, "({attr}={})", escape_value(value)),
            Filter::GreaterOrEqual { attr, value } => {
                write!(f, "({attr}>={})", escape_value(value))
            }
            Filter::LessOrEqual { attr, value } => write!(f, "({attr}<={})", escape_value(value)),
            Filter::Approx { attr, value } => write!(f, "({attr}~={})", escape_value(value)),
            Filter::Present { attr } => write!(f, "({attr}=*)"),
            Filter::Substring {
                attr,
                initial,
                any,
                last,
            } => {
                write!(f, "({attr}=")?;
                if let Some(i) = initial {
                    f.write_str(&escape_value(i))?;
                }
                f.write_str("*")?;
                for a in any {
                    write!(f, "{}*", escape_value(a))?;
                }
                if let Some(l) = last {
                    f.write_str(&escape_value(l))?;
                }
                f.write_str(")")
            }
            Filter::Extensible {
                attr,
                rule,
                dn_attributes,
                value,
            } => {
                f.write_str("(")?;
                if let Some(a) = attr {
                    f.write_str(a)?;
                }
                if *dn_attributes {
                    f.write_str(":dn")?;
                }
                if let Some(r) = rule {
                    write!(f, ":{r}")?;
                }
                write!(f, ":={})", escape_value(value))
            }
        }
    }
}

struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
    /// Characters added in front of the user's text (the wrapping parenthesis).
    offset: usize,
}

impl Parser<'_> {
    fn err<T>(&self, message: impl Into<String>) -> Result<T, FilterError> {
        Err(FilterError {
            position: (self.pos + 1).saturating_sub(self.offset).max(1),
            message: message.into(),
        })
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn expect(&mut self, b: u8) -> Result<(), FilterError> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            match self.peek() {
                Some(c) => self.err(format!(
                    "expected '{}' but found '{}'",
                    b as char, c as char
                )),
                None => self.err(format!("expected '{}' but the filter ended", b as char)),
            }
        }
    }

    fn filter(&mut self) -> Result<Filter, FilterError> {
        self.expect(b'(')?;
        let f = match self.peek() {
            Some(b'&') => {
                self.pos += 1;
                Filter::And(self.list()?)
            }
            Some(b'|') => {
                self.pos += 1;
                Filter::Or(self.list()?)
            }
            Some(b'!') => {
                self.pos += 1;
                Filter::Not(Box::new(self.filter()?))
            }
            Some(b')') => return self.err("empty filter component '()'"),
            None => return self.err("the filter ended after '('"),
            _ => self.item()?,
        };
        self.expect(b')')?;
        Ok(f)
    }

    fn list(&mut self) -> Result<Vec<Filter>, FilterError> {
        let mut fs = Vec::new();
        while self.peek() == Some(b'(') {
            fs.push(self.filter()?);
        }
        if fs.is_empty() {
            return self.err("'&' and '|' need at least one filter in parentheses");
        }
        Ok(fs)
    }

    fn attr_description(&mut self) -> String {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c == b';' {
                self.pos += 1;
            } else {
                break;
            }
        }
        String::from_utf8_lossy(&self.text[start..self.pos]).into_owned()
    }

    fn check_attr(&self, attr: &str, start: usize) -> Result<(), FilterError> {
        let base = attr.split(';').next().unwrap_or("");
        let ok = if base.starts_with(|c: char| c.is_ascii_digit()) {
            base.split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        } else {
            base.starts_with(|c: char| c.is_ascii_alphabetic())
                && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if ok {
            Ok(())
        } else {
            Err(FilterError {
                position: (start + 1).saturating_sub(self.offset).max(1),
                message: format!("'{attr}' is not a valid attribute description"),
            })
        }
    }

    fn item(&mut self) -> Result<Filter, FilterError> {
        let start = self.pos;
        let attr = self.attr_description();
        if attr.is_empty() && self.peek() != Some(b':') {
            return self.err("expected an attribute name");
        }
        if !attr.is_empty() {
            self.check_attr(&attr, start)?;
        }
        match self.peek() {
            Some(b':') => self.extensible(if attr.is_empty() { None } else { Some(attr) }),
            Some(b'=') => {
                self.pos += 1;
                self.equality_or_substring(attr)
            }
            Some(op @ (b'>' | b'<' | b'~')) => {
                self.pos += 1;
                self.expect(b'=')?;
                let value = self.value(false)?.0.pop().unwrap_or_default();
                Ok(match op {
                    b'>' => Filter::GreaterOrEqual { attr, value },
                    b'<' => Filter::LessOrEqual { attr, value },
                    _ => Filter::Approx { attr, value },
                })
            }
            Some(c) => self.err(format!(
                "expected '=', '>=', '<=' or '~=' after '{attr}' but found '{}'",
                c as char
            )),
            None => self.err(format!("the filter ended after '{attr}'")),
        }
    }

    fn equality_or_substring(&mut self, attr: String) -> Result<Filter, FilterError> {
        let (parts, stars) = self.value(true)?;
        if stars == 0 {
            return Ok(Filter::Equality {
                attr,
                value: parts.into_iter().next().unwrap_or_default(),
            });
        }
        if stars == 1 && parts.iter().all(|p| p.is_empty()) {
            return Ok(Filter::Present { attr });
        }
        let n = parts.len();
        let initial = Some(parts[0].clone()).filter(|s| !s.is_empty());
        let last = Some(parts[n - 1].clone()).filter(|s| !s.is_empty());
        let any: Vec<String> = parts[1..n - 1].to_vec();
        if any.iter().any(|s| s.is_empty()) {
            return self.err("'**' is not allowed in a substring filter");
        }
        Ok(Filter::Substring {
            attr,
            initial,
            any,
            last,
        })
    }

    fn extensible(&mut self, attr: Option<String>) -> Result<Filter, FilterError> {
        let mut dn_attributes = false;
        let mut rule = None;
        loop {
            self.expect(b':')?;
            if self.peek() == Some(b'=') {
                self.pos += 1;
                break;
            }
            let start = self.pos;
            let word = self.attr_description();
            if word.eq_ignore_ascii_case("dn") && !dn_attributes && rule.is_none() {
                dn_attributes = true;
            } else if !word.is_empty() && rule.is_none() {
                self.check_attr(&word, start)?;
                rule = Some(word);
            } else {
                return self.err("malformed extensible match: expected [attr][:dn][:rule]:=value");
            }
        }
        if attr.is_none() && rule.is_none() {
            return self.err("an extensible match without an attribute needs a matching rule");
        }
        let value = self.value(false)?.0.pop().unwrap_or_default();
        Ok(Filter::Extensible {
            attr,
            rule,
            dn_attributes,
            value,
        })
    }

    /// Reads an assertion value up to ')'. With `allow_stars`, splits on unescaped '*'.
    fn value(&mut self, allow_stars: bool) -> Result<(Vec<String>, usize), FilterError> {
        let mut parts = Vec::new();
        let mut current: Vec<u8> = Vec::new();
        let mut stars = 0;
        loop {
            match self.peek() {
                None => return self.err("the filter ended inside a value; a ')' is missing"),
                Some(b')') => break,
                Some(b'(') => return self.err("'(' must be escaped as \\28 in a value"),
                Some(b'*') if allow_stars => {
                    stars += 1;
                    parts.push(std::mem::take(&mut current));
                    self.pos += 1;
                }
                Some(b'*') => return self.err("'*' must be escaped as \\2a here"),
                Some(b'\\') => {
                    let hex = self.text.get(self.pos + 1..self.pos + 3);
                    match hex
                        .and_then(|h| std::str::from_utf8(h).ok())
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                    {
                        Some(b) => {
                            current.push(b);
                            self.pos += 3;
                        }
                        None => return self.err("'\\' must be followed by two hex digits"),
                    }
                }
                Some(b) => {
                    current.push(b);
                    self.pos += 1;
                }
            }
        }
        parts.push(current);
        let strings = parts
            .into_iter()
            .map(|p| {
                String::from_utf8(p).or_else(|_| self.err("escaped bytes are not valid UTF-8"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((strings, stars))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct E(HashMap<String, Vec<String>>);
    impl EntryAttributes for E {
        fn values(&self, attr: &str) -> Vec<&str> {
            self.0
                .get(&attr.to_lowercase())
                .map(|v| v.iter().map(String::as_str).collect())
                .unwrap_or_default()
        }
    }
    fn entry(pairs: &[(&str, &str)]) -> E {
        let mut m: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in pairs {
            m.entry(k.to_lowercase()).or_default().push(v.to_string());
        }
        E(m)
    }

    #[test]
    fn parses_every_kind() {
        let f = Filter::parse("(&(objectClass=inetOrgPerson)(|(uid=j*d*e)(!(cn~=x)))(age>=3)(age<=9)(mail=*)(cn:dn:2.5.13.5:=Jo))").unwrap();
        let Filter::And(items) = &f else { panic!() };
        assert_eq!(items.len(), 6);
        assert!(
            matches!(&items[1], Filter::Or(v) if matches!(&v[0], Filter::Substring { initial: Some(i), any, last: Some(l), .. } if i == "j" && any == &vec!["d".to_string()] && l == "e"))
        );
        assert!(matches!(&items[4], Filter::Present { attr } if attr == "mail"));
        assert!(
            matches!(&items[5], Filter::Extensible { dn_attributes: true, rule: Some(r), .. } if r == "2.5.13.5")
        );
        assert_eq!(Filter::parse(&f.to_string()).unwrap(), f);
    }

    #[test]
    fn bare_item_and_escapes() {
        assert_eq!(
            Filter::parse("cn=a\\28b\\29").unwrap(),
            Filter::Equality {
                attr: "cn".into(),
                value: "a(b)".into()
            }
        );
        assert_eq!(Filter::parse("(cn=\\2a)").unwrap().to_string(), "(cn=\\2a)");
    }

    #[test]
    fn reports_errors_with_positions() {
        let cases = [
            (
                "(uid=jdoe",
                "the filter ended inside a value; a ')' is missing",
            ),
            ("(&)", "'&' and '|' need at least one filter in parentheses"),
            ("()", "empty filter component '()'"),
            (
                "(uid=a)(cn=b)",
                "unexpected text after the end of the filter",
            ),
            ("(=x)", "expected an attribute name"),
            (
                "(u id=x)",
                "expected '=', '>=', '<=' or '~=' after 'u' but found ' '",
            ),
            ("(cn=a\\zz)", "'\\' must be followed by two hex digits"),
            ("(cn>=a*)", "'*' must be escaped as \\2a here"),
            ("(cn=a**b)", "'**' is not allowed in a substring filter"),
            ("(1a=x)", "'1a' is not a valid attribute description"),
            ("", "the filter is empty"),
        ];
        for (text, message) in cases {
            let e = Filter::parse(text).unwrap_err();
            assert_eq!(e.message, message, "for {text}");
        }
        assert_eq!(Filter::parse("(uid=jdoe").unwrap_err().position, 10);
        assert_eq!(Filter::parse("uid=a(").unwrap_err().position, 6);
    }

    #[test]
    fn matching() {
        let e = entry(&[
            ("objectClass", "inetOrgPerson"),
            ("uid", "JDoe"),
            ("age", "30"),
            ("cn", "John Doe"),
        ]);
        let yes = [
            "(uid=jdoe)",
            "(cn=john*)",
            "(cn=*doe)",
            "(cn=*n D*)",
            "(age>=9)",
            "(age<=30)",
            "(&(uid=jdoe)(!(mail=*)))",
            "(|(uid=x)(objectClass=inetorgperson))",
        ];
        let no = [
            "(uid=x)",
            "(mail=*)",
            "(age>=31)",
            "(cn=doe*)",
            "(!(uid=jdoe))",
        ];
        for f in yes {
            assert!(Filter::parse(f).unwrap().matches(&e), "{f} should match");
        }
        for f in no {
            assert!(
                !Filter::parse(f).unwrap().matches(&e),
                "{f} should not match"
            );
        }
    }

    #[test]
    fn lists_attributes() {
        let f = Filter::parse("(&(uid=a)(|(UID=b)(mail=*)))").unwrap();
        assert_eq!(f.attributes(), vec!["uid", "mail"]);
    }

    #[test]
    fn escape_keeps_utf8() {
        assert_eq!(escape_value("Zoë*"), "Zoë\\2a");
    }
}
