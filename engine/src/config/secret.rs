//! A secret configuration value (password, token, key).
//!
//! It is either clear text just typed or imported, or sealed with the instance key.
//! Only the sealed form can be serialised, so a secret cannot reach the database, an
//! export file or the browser in clear text by accident; `Debug` never shows it.

use crate::crypto::{Cipher, CryptoError};
use serde::{Deserialize, Serialize};

#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    Plain(String),
    Sealed(String),
}

impl Secret {
    pub fn plain(value: impl Into<String>) -> Secret {
        Secret::Plain(value.into())
    }

    /// True only for a clear-text empty value (a sealed secret is never empty).
    pub fn is_empty(&self) -> bool {
        matches!(self, Secret::Plain(p) if p.is_empty())
    }

    /// Turns clear text into its sealed form; checks that a sealed value opens with `cipher`.
    pub fn seal(&mut self, cipher: &Cipher) -> Result<(), CryptoError> {
        match self {
            Secret::Plain(p) => {
                *self = Secret::Sealed(cipher.seal(p));
                Ok(())
            }
            Secret::Sealed(s) => cipher.open(s).map(drop),
        }
    }

    /// The clear-text value, for use on the wire.
    pub fn expose(&self, cipher: &Cipher) -> Result<String, CryptoError> {
        match self {
            Secret::Plain(p) => Ok(p.clone()),
            Secret::Sealed(s) => cipher.open(s),
        }
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Secret::Plain(_) => f.write_str("Secret(plain, hidden)"),
            Secret::Sealed(_) => f.write_str("Secret(sealed)"),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SealedForm {
    sealed: String,
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Secret::Sealed(s) => SealedForm { sealed: s.clone() }.serialize(serializer),
            Secret::Plain(_) => Err(serde::ser::Error::custom(
                "refusing to serialise a secret that has not been sealed",
            )),
        }
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Plain(String),
            Sealed(SealedForm),
        }
        match Form::deserialize(deserializer).map_err(|_| {
            serde::de::Error::custom(
                "expected a string, or {\"sealed\": \"...\"} as written by config export",
            )
        })? {
            Form::Plain(p) => Ok(Secret::Plain(p)),
            Form::Sealed(s) => Ok(Secret::Sealed(s.sealed)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_cannot_be_serialised_sealed_can() {
        let cipher = Cipher::ephemeral();
        let mut s: Secret = serde_json::from_str("\"hunter2\"").unwrap();
        assert!(serde_json::to_string(&s).is_err());
        assert_eq!(format!("{s:?}"), "Secret(plain, hidden)");
        s.seal(&cipher).unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.starts_with("{\"sealed\":\"v1:") && !json.contains("hunter2"));
        let back: Secret = serde_json::from_str(&json).unwrap();
        assert_eq!(back.expose(&cipher).unwrap(), "hunter2");
        assert!(serde_json::from_str::<Secret>("42").is_err());
    }

    #[test]
    fn sealing_checks_foreign_seals() {
        let mut foreign = Secret::Sealed(Cipher::ephemeral().seal("x"));
        assert!(foreign.seal(&Cipher::ephemeral()).is_err());
    }
}
