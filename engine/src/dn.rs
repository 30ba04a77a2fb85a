//! Distinguished names (RFC 4514): parsing, normalised comparison and ancestry.
//!
//! Sync needs to answer "is this entry under that base DN?" reliably, whatever the
//! spacing, case or escaping an admin typed, so DNs are compared in a normalised form:
//! attribute types lower-cased, values unescaped and compared case-insensitively
//! (the directoryString matching most naming attributes use).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid DN: {message} (at character {position})")]
pub struct DnError {
    pub position: usize,
    pub message: String,
}

/// One attribute-value assertion of an RDN, e.g. `uid=jdoe`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ava {
    /// Lower-cased attribute type.
    pub attr: String,
    /// Unescaped value as written.
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rdn(pub Vec<Ava>);

/// A parsed DN; `rdns[0]` is the leftmost (most specific) RDN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dn {
    pub rdns: Vec<Rdn>,
}

impl Dn {
    pub fn parse(text: &str) -> Result<Dn, DnError> {
        Parser { text, pos: 0 }.dn()
    }

    pub fn is_root(&self) -> bool {
        self.rdns.is_empty()
    }

    /// Normalised key used for equality and ancestry checks.
    fn normalised(&self) -> Vec<Vec<(String, String)>> {
        self.rdns.iter().map(normalised_rdn).collect()
    }

    /// The normalised form as one string: equal for DNs that name the same entry, whatever
    /// their case, spacing or escaping (for lookups by DN in the store). Written into one
    /// string: every correlation a resync keeps asks for it.
    pub fn normalized_key(&self) -> String {
        let mut key = String::with_capacity(self.rdns.iter().map(rdn_len).sum::<usize>() + 8);
        for (i, rdn) in self.rdns.iter().enumerate() {
            if i > 0 {
                key.push(',');
            }
            match rdn.0.as_slice() {
                [one] => push_ava(&mut key, &one.attr, &normalise_value(&one.value)),
                _ => {
                    for (j, (attr, value)) in normalised_rdn(rdn).iter().enumerate() {
                        if j > 0 {
                            key.push('+');
                        }
                        push_ava(&mut key, attr, value);
                    }
                }
            }
        }
        key
    }

    /// True when both name the same entry (case, spacing and escaping ignored).
    pub fn same_as(&self, other: &Dn) -> bool {
        self.normalised() == other.normalised()
    }

    /// True when `self` is `base` or an entry below it.
    pub fn is_within(&self, base: &Dn) -> bool {
        // Asked for every entry a resync reads, once per class base: compared in place.
        let Some(start) = self.rdns.len().checked_sub(base.rdns.len()) else {
            return false;
        };
        self.rdns[start..]
            .iter()
            .zip(&base.rdns)
            .all(|(mine, theirs)| same_rdn(mine, theirs))
    }
}

/// About as long as an RDN written out (to size a key once).
fn rdn_len(rdn: &Rdn) -> usize {
    rdn.0.iter().map(|a| a.attr.len() + a.value.len() + 2).sum()
}

/// `attr=value` with the value escaped.
fn push_ava(key: &mut String, attr: &str, value: &str) {
    key.push_str(attr);
    key.push('=');
    escape_value_into(key, value);
}

/// Whether two RDNs are equal once normalised, without building their normalised forms
/// for the usual single-valued RDN.
fn same_rdn(a: &Rdn, b: &Rdn) -> bool {
    match (a.0.as_slice(), b.0.as_slice()) {
        ([one], [other]) if one.value.is_ascii() && other.value.is_ascii() => {
            one.attr == other.attr && same_ascii_words(&one.value, &other.value)
        }
        // Lower case by character is lower case by string except for a final capital sigma.
        ([one], [other]) if !one.value.contains('Σ') && !other.value.contains('Σ') => {
            one.attr == other.attr
                && normalised_chars(&one.value).eq(normalised_chars(&other.value))
        }
        (many, others) if many.len() != others.len() => false,
        _ => normalised_rdn(a) == normalised_rdn(b),
    }
}

/// Whether two ASCII values are equal once normalised: the same words, case ignored.
fn same_ascii_words(a: &str, b: &str) -> bool {
    let (mut a, mut b) = (a.split_whitespace(), b.split_whitespace());
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => {}
            _ => return false,
        }
    }
}

/// An RDN's (type, normalised value) pairs in a fixed order.
fn normalised_rdn(rdn: &Rdn) -> Vec<(String, String)> {
    let mut avas: Vec<(String, String)> = rdn
        .0
        .iter()
        .map(|a| (a.attr.clone(), normalise_value(&a.value)))
        .collect();
    avas.sort();
    avas
}

/// [`normalise_value`]'s characters, one by one (compared without building the string), for
/// values without a capital sigma.
fn normalised_chars(value: &str) -> impl Iterator<Item = char> + '_ {
    value.split_whitespace().enumerate().flat_map(|(i, word)| {
        (i > 0)
            .then_some(' ')
            .into_iter()
            .chain(word.chars().flat_map(char::to_lowercase))
    })
}

/// A value as compared: lower case, runs of spaces as one, none at either end.
fn normalise_value(value: &str) -> String {
    let mut words = String::with_capacity(value.len());
    for word in value.split_whitespace() {
        if !words.is_empty() {
            words.push(' ');
        }
        words.push_str(word);
    }
    if words.is_ascii() {
        words.make_ascii_lowercase();
        words
    } else {
        // By string, not by character: a capital sigma ending a word has its final form.
        words.to_lowercase()
    }
}

impl fmt::Display for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, rdn) in self.rdns.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            for (j, ava) in rdn.0.iter().enumerate() {
                if j > 0 {
                    f.write_str("+")?;
                }
                write!(f, "{}={}", ava.attr, escape_value(&ava.value))?;
            }
        }
        Ok(())
    }
}

/// Escapes a value for use in a DN string (RFC 4514 §2.4).
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    escape_value_into(&mut out, value);
    out
}

/// [`escape_value`], appended to `out`.
fn escape_value_into(out: &mut String, value: &str) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
            out.push(c);
        } else if c == '\0' {
            out.push_str("\\00");
        } else {
            out.push(c);
        }
    }
}

/// Reads a DN from its text; `pos` is a byte offset (errors name the character).
struct Parser<'t> {
    text: &'t str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        match self.text.as_bytes().get(self.pos) {
            Some(&b) if b.is_ascii() => Some(char::from(b)),
            Some(_) => self.text[self.pos..].chars().next(),
            None => None,
        }
    }

    /// Steps over `c`, the character [`Self::peek`] gave.
    fn step(&mut self, c: char) {
        self.pos += c.len_utf8();
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, DnError> {
        Err(DnError {
            position: self.text[..self.pos].chars().count() + 1,
            message: message.into(),
        })
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(' ') {
            self.pos += 1;
        }
    }

    fn dn(mut self) -> Result<Dn, DnError> {
        let mut rdns = Vec::with_capacity(4);
        self.skip_spaces();
        if self.peek().is_none() {
            return Ok(Dn { rdns });
        }
        loop {
            rdns.push(self.rdn()?);
            self.skip_spaces();
            match self.peek() {
                None => return Ok(Dn { rdns }),
                Some(',') | Some(';') => {
                    self.pos += 1;
                    self.skip_spaces();
                    if self.peek().is_none() {
                        return self.err("the DN ends with a separator");
                    }
                }
                Some(c) => return self.err(format!("unexpected '{c}'")),
            }
        }
    }

    fn rdn(&mut self) -> Result<Rdn, DnError> {
        let mut avas = vec![self.ava()?];
        while self.peek() == Some('+') {
            self.pos += 1;
            self.skip_spaces();
            avas.push(self.ava()?);
        }
        Ok(Rdn(avas))
    }

    fn ava(&mut self) -> Result<Ava, DnError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                self.pos += 1;
            } else {
                break;
            }
        }
        let text = self.text;
        let attr = &text[start..self.pos];
        if attr.is_empty() {
            return if matches!(self.peek(), Some(',') | Some(';') | None) {
                self.err("empty RDN")
            } else {
                self.err("expected an attribute type")
            };
        }
        let is_oid = attr.chars().next().is_some_and(|c| c.is_ascii_digit());
        let valid = if is_oid {
            attr.split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        } else {
            attr.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && !attr.contains('.')
        };
        if !valid {
            self.pos = start;
            return self.err(format!("'{attr}' is not a valid attribute type"));
        }
        self.skip_spaces();
        if self.peek() != Some('=') {
            return self.err(format!("expected '=' after '{attr}'"));
        }
        self.pos += 1;
        self.skip_spaces();
        let value = self.value()?;
        Ok(Ava {
            attr: attr.to_ascii_lowercase(),
            value,
        })
    }

    fn value(&mut self) -> Result<String, DnError> {
        if self.peek() == Some('#') {
            // BER-encoded value: keep the hex string as the value.
            let start = self.pos;
            self.pos += 1;
            while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                self.pos += 1;
            }
            let text = self.text;
            let hex = &text[start..self.pos];
            if hex.len() < 3 || hex.len().is_multiple_of(2) {
                return self.err("a '#' value needs an even number of hex digits");
            }
            return Ok(hex.to_owned());
        }
        let rest = &self.text[self.pos..];
        let end = rest
            .find([',', ';', '+', '\\', '"', '<', '>', '='])
            .unwrap_or(rest.len());
        if !rest[end..].starts_with('\\') {
            // Nothing escaped: the value is the text as written, without trailing spaces.
            self.pos += end;
            if let Some(c) = rest[end..].chars().next()
                && matches!(c, '"' | '<' | '>' | '=')
            {
                return self.err(format!("'{c}' must be escaped in a DN value"));
            }
            let value = rest[..end].trim_end_matches(' ');
            if value.is_empty() {
                return self.err("empty attribute value");
            }
            return Ok(value.to_owned());
        }
        let mut bytes: Vec<u8> = Vec::with_capacity(rest.len());
        let mut trailing_unescaped_spaces = 0;
        while let Some(c) = self.peek() {
            match c {
                ',' | ';' | '+' => break,
                '\\' => {
                    self.pos += 1;
                    match self.peek() {
                        Some(h) if h.is_ascii_hexdigit() => {
                            let lo = self.text.as_bytes().get(self.pos + 1).copied();
                            match lo.map(char::from) {
                                Some(l) if l.is_ascii_hexdigit() => {
                                    let digit = |c: char| c.to_digit(16).unwrap_or(0) as u8;
                                    bytes.push(digit(h) << 4 | digit(l));
                                    self.pos += 2;
                                }
                                _ => return self.err("'\\' must be followed by two hex digits or a special character"),
                            }
                        }
                        Some(s) if " \"#+,;<=>\\".contains(s) => {
                            let mut buf = [0u8; 4];
                            bytes.extend_from_slice(s.encode_utf8(&mut buf).as_bytes());
                            self.pos += 1;
                        }
                        _ => {
                            return self.err(
                                "'\\' must be followed by two hex digits or a special character",
                            );
                        }
                    }
                    trailing_unescaped_spaces = 0;
                }
                '"' | '<' | '>' | '=' => {
                    return self.err(format!("'{c}' must be escaped in a DN value"));
                }
                _ => {
                    let mut buf = [0u8; 4];
                    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    trailing_unescaped_spaces = if c == ' ' {
                        trailing_unescaped_spaces + 1
                    } else {
                        0
                    };
                    self.step(c);
                }
            }
        }
        bytes.truncate(bytes.len() - trailing_unescaped_spaces);
        if bytes.is_empty() {
            return self.err("empty attribute value");
        }
        String::from_utf8(bytes).or_else(|_| self.err("escaped bytes are not valid UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dn(s: &str) -> Dn {
        Dn::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_and_normalises() {
        let a = dn("UID=John Doe, OU=People,dc=Example,dc=com");
        let b = dn("uid=john  doe,ou=people,DC=example,DC=COM");
        assert!(a.same_as(&b));
        assert_eq!(a.rdns.len(), 4);
        assert_eq!(a.rdns[0].0[0].attr, "uid");
    }

    #[test]
    fn normalized_keys_match_for_the_same_entry() {
        let a = dn("UID=J\\2c Doe , OU=People,dc=Example,dc=COM");
        let b = dn("uid=j\\, doe,ou=people,dc=example,dc=com");
        assert_eq!(a.normalized_key(), b.normalized_key());
        assert_eq!(
            a.normalized_key(),
            "uid=j\\, doe,ou=people,dc=example,dc=com"
        );
        let multi = dn("cn=x+sn=y,dc=a");
        assert_eq!(
            multi.normalized_key(),
            dn("SN=Y+CN=X,DC=A").normalized_key()
        );
        assert_ne!(
            dn("cn=a\\,b,dc=c").normalized_key(),
            dn("cn=a,cn=b,dc=c").normalized_key()
        );
    }

    #[test]
    fn escapes_round_trip() {
        let d = dn(r"cn=Smith\, John+uid=js,ou=a\2Cb,dc=x");
        assert_eq!(d.rdns[0].0[0].value, "Smith, John");
        assert_eq!(d.rdns[0].0[1].value, "js");
        assert_eq!(d.rdns[1].0[0].value, "a,b");
        assert!(dn(&d.to_string()).same_as(&d));
    }

    #[test]
    fn ancestry() {
        let base = dn("dc=example,dc=com");
        assert!(dn("uid=a,ou=people,dc=example,dc=com").is_within(&base));
        assert!(dn("dc=example,dc=com").is_within(&base));
        assert!(!dn("dc=com").is_within(&base));
        assert!(!dn("uid=a,dc=other,dc=com").is_within(&base));
        // Case, spacing and the order of a multi-valued RDN's values do not matter.
        assert!(dn("uid=a,DC=Example ,  dc=COM").is_within(&base));
        assert!(!dn("uid=a,dc=exa mple,dc=com").is_within(&base));
        let multi = dn("ou=a+cn=B  c,dc=example,dc=com");
        assert!(dn("uid=x,cn=b c+ou=A,dc=example,dc=com").is_within(&multi));
        assert!(!dn("uid=x,cn=b c,dc=example,dc=com").is_within(&multi));
        // A capital sigma ending a word lowers to the final form, as normalised keys have it.
        assert!(dn("uid=a,o=ΟΔΟΣ").is_within(&dn("o=οδος")));
        assert!(!dn("uid=a,o=ΟΔΟΣ").is_within(&dn("o=οδοσ")));
    }

    proptest::proptest! {
        /// Any value, escaped, reads back as itself, alone or beside others.
        #[test]
        fn escaped_values_read_back(
            value in "[ a,;+=<>#\"\\\\é\u{0}]{1,8}",
            other in "[a-z]{1,3}",
        ) {
            let dn = Dn::parse(&format!(
                "cn={}+sn={other},ou={} ,dc=x",
                escape_value(&value),
                escape_value(&value)
            ))
            .unwrap();
            proptest::prop_assert_eq!(&dn.rdns[0].0[0].value, &value);
            proptest::prop_assert_eq!(&dn.rdns[0].0[1].value, &other);
            proptest::prop_assert_eq!(&dn.rdns[1].0[0].value, &value);
        }

        /// The in-place comparison `is_within` makes agrees with comparing normalised keys,
        /// whatever the case, spacing and characters of the values.
        #[test]
        fn ancestry_agrees_with_normalised_keys(
            a in "[ aA\t\u{b}]{1,5}|[ aΣσς]{1,4}",
            b in "[ aA\t\u{b}]{1,5}|[ aΣσς]{1,4}",
        ) {
            let (Ok(entry), Ok(base)) = (
                Dn::parse(&format!("uid=x,ou={},dc=com", escape_value(&a))),
                Dn::parse(&format!("ou={},dc=com", escape_value(&b))),
            ) else {
                return Ok(());
            };
            let parent = Dn { rdns: entry.rdns[1..].to_vec() };
            proptest::prop_assert_eq!(
                entry.is_within(&base),
                parent.normalized_key() == base.normalized_key()
            );
        }
    }

    #[test]
    fn rejects_bad_dns() {
        for bad in [
            "dc=example,,dc=com",
            "=x",
            "dc",
            "dc=",
            "dc=a,",
            "1x=a",
            "dc=a\\zz",
            "cn=a=b",
            "cn=#123",
        ] {
            assert!(Dn::parse(bad).is_err(), "{bad} should be rejected");
        }
        let e = Dn::parse("dc=example,,dc=com").unwrap_err();
        assert_eq!(e.message, "empty RDN");
        assert_eq!(e.position, 12);
        // Positions count characters, not bytes.
        let e = Dn::parse("cn=Zoë Ä>x,dc=com").unwrap_err();
        assert_eq!(e.message, "'>' must be escaped in a DN value");
        assert_eq!(e.position, 9);
        // Escapes, UTF-8 in hex and as written, and a '#' value.
        let d = dn(r"cn=Zo\c3\ab \2b Ä,o=#04024869");
        assert_eq!(d.rdns[0].0[0].value, "Zoë + Ä");
        assert_eq!(d.rdns[1].0[0].value, "#04024869");
    }

    #[test]
    fn root_and_oids() {
        assert!(dn("").is_root());
        assert_eq!(dn("2.5.4.3=x").rdns[0].0[0].attr, "2.5.4.3");
        assert_eq!(dn("cn=#04024869").rdns[0].0[0].value, "#04024869");
    }
}
