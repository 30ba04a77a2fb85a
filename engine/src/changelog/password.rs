//! Clear-text passwords carried by changelog records.
//!
//! A directory stores only password hashes, which a SCIM service cannot use; the clear text
//! exists only in the change that set it. Two places are read:
//! - `ds-changelog-encrypted-password` on a draft-good record: the password encrypted with a
//!   key shared with the directory (the changelog password decryption key of step 2). Format:
//!   `{AES256-GCM}` + base64(12-byte nonce ‖ ciphertext ‖ 16-byte tag), the AES-256 key being
//!   PBKDF2-HMAC-SHA256(passphrase, salt `scimsync-changelog-password`, 100,000 rounds).
//! - `unhashed#user#password` inside a 389 Directory Server record's `changes`, which 389 DS
//!   writes in clear text when `nsslapd-unhashed-pw-switch` is `on`.
//!
//! The values never reach logs, rejection records or serialised records.

use super::ModOp;
use crate::crypto::{Cipher, CryptoError};

/// The changelog record attribute holding an encrypted password.
pub const ENCRYPTED_PASSWORD_ATTRIBUTE: &str = "ds-changelog-encrypted-password";
use crate::sensitive::UNHASHED_389;
const ENCRYPTED_PREFIX: &str = "{AES256-GCM}";
const KEY_SALT: &[u8] = b"scimsync-changelog-password";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error(
        "the change carries an encrypted password ({ENCRYPTED_PASSWORD_ATTRIBUTE}) but no changelog password decryption key is set (step 2)"
    )]
    NoKey,
    #[error(
        "the encrypted password in the change does not start with \"{ENCRYPTED_PREFIX}\" followed by base64"
    )]
    Malformed,
    #[error(
        "the encrypted password in the change cannot be decrypted with the changelog password decryption key (a different key, or altered)"
    )]
    WrongKey,
}

/// The key shared with the directory that encrypts passwords into the changelog. Derived on
/// first use: PBKDF2 is slow on purpose, and most pipes never see an encrypted password.
#[derive(Clone)]
pub struct ChangelogPasswordKey {
    passphrase: String,
    cipher: std::sync::Arc<std::sync::OnceLock<Cipher>>,
}

impl std::fmt::Debug for ChangelogPasswordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChangelogPasswordKey(hidden)")
    }
}

impl ChangelogPasswordKey {
    pub fn new(passphrase: &str) -> Self {
        ChangelogPasswordKey {
            passphrase: passphrase.to_owned(),
            cipher: Default::default(),
        }
    }

    fn cipher(&self) -> &Cipher {
        self.cipher
            .get_or_init(|| Cipher::from_passphrase(&self.passphrase, KEY_SALT))
    }

    /// What a directory-side component writes into `ds-changelog-encrypted-password`.
    pub fn encrypt(&self, password: &str) -> String {
        format!("{ENCRYPTED_PREFIX}{}", self.cipher().seal_base64(password))
    }

    pub fn decrypt(&self, value: &str) -> Result<String, PasswordError> {
        let body = value
            .trim()
            .strip_prefix(ENCRYPTED_PREFIX)
            .ok_or(PasswordError::Malformed)?;
        self.cipher().open_base64(body).map_err(|e| match e {
            CryptoError::WrongKey => PasswordError::WrongKey,
            _ => PasswordError::Malformed,
        })
    }
}

/// The passwords one change carries, as read (encrypted ones not yet decrypted).
#[derive(Clone, Default, PartialEq)]
pub struct CarriedPasswords {
    clear: Vec<String>,
    encrypted: Vec<String>,
}

impl std::fmt::Debug for CarriedPasswords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CarriedPasswords({} clear, {} encrypted, hidden)",
            self.clear.len(),
            self.encrypted.len()
        )
    }
}

impl CarriedPasswords {
    /// Takes the passwords out of `modifications` — 389 DS's clear-text pseudo-attribute, and
    /// encrypted values written by the operation itself (a password-capture plug-in or the
    /// application that set the password) — and keeps the values of the record's own
    /// encrypted-password attribute (PingDirectory's placement).
    pub(super) fn take(
        modifications: &mut Vec<super::Modification>,
        record_encrypted: &[String],
    ) -> CarriedPasswords {
        let mut carried = CarriedPasswords {
            clear: Vec::new(),
            encrypted: record_encrypted.to_vec(),
        };
        modifications.retain_mut(|m| {
            let list = if m.attribute.eq_ignore_ascii_case(UNHASHED_389) {
                &mut carried.clear
            } else if m
                .attribute
                .eq_ignore_ascii_case(ENCRYPTED_PASSWORD_ATTRIBUTE)
            {
                &mut carried.encrypted
            } else {
                return true;
            };
            if matches!(m.op, ModOp::Add | ModOp::Replace) {
                list.append(&mut m.values);
            }
            false
        });
        carried.encrypted.dedup();
        carried
    }

    /// Whether the change carries no password at all.
    pub fn is_empty(&self) -> bool {
        self.clear.is_empty() && self.encrypted.is_empty()
    }

    /// The clear-text passwords, decrypting with `key`. Empty when the change carries none.
    pub fn reveal(&self, key: Option<&ChangelogPasswordKey>) -> Result<Vec<String>, PasswordError> {
        let mut out = self.clear.clone();
        if !self.encrypted.is_empty() {
            let key = key.ok_or(PasswordError::NoKey)?;
            for value in &self.encrypted {
                out.push(key.decrypt(value)?);
            }
        }
        out.dedup();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changelog::Modification;
    use crate::sensitive::is_hashed;

    #[test]
    fn hashes_are_told_from_clear_text() {
        for hashed in [
            "{SSHA}abc",
            "{PBKDF2_SHA256}AAA",
            "{PBKDF2-SHA512}x",
            "{crypt}$6$x",
        ] {
            assert!(is_hashed(hashed), "{hashed}");
        }
        for clear in ["secret", "{CLEAR}secret", "{}x", "{not a scheme}x", "{open"] {
            assert!(!is_hashed(clear), "{clear}");
        }
    }

    #[test]
    fn encrypted_passwords_round_trip_only_with_the_same_key() {
        let key = ChangelogPasswordKey::new("shared passphrase");
        let a = key.encrypt("Pa55 wörd");
        assert!(a.starts_with("{AES256-GCM}") && !a.contains("Pa55"));
        assert_ne!(a, key.encrypt("Pa55 wörd"), "fresh nonce per value");
        assert_eq!(
            ChangelogPasswordKey::new("shared passphrase")
                .decrypt(&a)
                .unwrap(),
            "Pa55 wörd"
        );
        assert_eq!(
            ChangelogPasswordKey::new("other").decrypt(&a),
            Err(PasswordError::WrongKey)
        );
        assert_eq!(key.decrypt("{SSHA}x"), Err(PasswordError::Malformed));
        assert_eq!(key.decrypt("{AES256-GCM}!!"), Err(PasswordError::Malformed));
    }

    #[test]
    fn carried_passwords_come_from_389_pseudo_attribute_and_encrypted_attribute() {
        let key = ChangelogPasswordKey::new("k");
        let mut mods = vec![
            Modification {
                op: ModOp::Replace,
                attribute: "userPassword".into(),
                values: vec!["{PBKDF2_SHA256}h".into()],
            },
            Modification {
                op: ModOp::Replace,
                attribute: "unhashed#user#password".into(),
                values: vec!["clear1".into()],
            },
        ];
        let carried = CarriedPasswords::take(&mut mods, &[key.encrypt("clear1")]);
        assert_eq!(mods.len(), 1, "the clear text leaves the modifications");
        assert_eq!(mods[0].attribute, "userPassword");
        assert!(!format!("{carried:?}").contains("clear1"));
        assert_eq!(carried.reveal(Some(&key)).unwrap(), vec!["clear1"]);
        let mut in_mods = vec![Modification {
            op: ModOp::Add,
            attribute: "DS-Changelog-Encrypted-Password".into(),
            values: vec![key.encrypt("from the operation")],
        }];
        let carried = CarriedPasswords::take(&mut in_mods, &[]);
        assert!(in_mods.is_empty());
        assert_eq!(
            carried.reveal(Some(&key)).unwrap(),
            vec!["from the operation"]
        );
        assert_eq!(
            carried.reveal(Some(&ChangelogPasswordKey::new("wrong"))),
            Err(PasswordError::WrongKey)
        );
        assert_eq!(
            CarriedPasswords::take(&mut Vec::new(), &[key.encrypt("x")]).reveal(None),
            Err(PasswordError::NoKey)
        );
        assert!(
            CarriedPasswords::take(&mut Vec::new(), &[])
                .reveal(None)
                .unwrap()
                .is_empty()
        );
    }
}
