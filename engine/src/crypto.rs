//! Sealing secrets (bind passwords, tokens, keys) with the instance key file.
//!
//! The database never holds a secret in clear text: each one is sealed with AES-256-GCM
//! under a 256-bit key kept in a separate file that the server creates on first start
//! (mode 0600). Stealing the database alone therefore reveals no credentials.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use std::path::{Path, PathBuf};

const SEALED_PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;
/// PBKDF2 rounds for passphrase-derived keys (derived once per use, not per value).
const PASSPHRASE_ROUNDS: u32 = 100_000;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("cannot read key file {path}: {source}")]
    ReadKey {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create key file {path}: {source}")]
    WriteKey {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key file {path} does not hold a base64-encoded 32-byte key")]
    BadKey { path: PathBuf },
    #[error("sealed value is malformed (expected \"v1:\" followed by base64)")]
    Malformed,
    #[error(
        "sealed value cannot be opened with this instance's key file (sealed by another key, or altered)"
    )]
    WrongKey,
}

#[derive(Clone)]
pub struct Cipher {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(..)")
    }
}

impl Cipher {
    /// Loads the key at `path`, creating a fresh random key there if the file does not exist.
    /// Returns whether the key was created.
    pub fn load_or_create(path: &Path) -> Result<(Cipher, bool), CryptoError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok((Self::from_key_text(path, &text)?, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Aes256Gcm::generate_key(OsRng);
                write_private(path, format!("{}\n", B64.encode(key)).as_bytes()).map_err(
                    |source| CryptoError::WriteKey {
                        path: path.to_owned(),
                        source,
                    },
                )?;
                Ok((
                    Cipher {
                        cipher: Aes256Gcm::new(&key),
                    },
                    true,
                ))
            }
            Err(source) => Err(CryptoError::ReadKey {
                path: path.to_owned(),
                source,
            }),
        }
    }

    fn from_key_text(path: &Path, text: &str) -> Result<Cipher, CryptoError> {
        let bytes = B64.decode(text.trim()).map_err(|_| CryptoError::BadKey {
            path: path.to_owned(),
        })?;
        if bytes.len() != 32 {
            return Err(CryptoError::BadKey {
                path: path.to_owned(),
            });
        }
        Ok(Cipher {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes)),
        })
    }

    /// A cipher with a random key that lives only in memory (tests, dry validation).
    pub fn ephemeral() -> Cipher {
        Cipher {
            cipher: Aes256Gcm::new(&Aes256Gcm::generate_key(OsRng)),
        }
    }

    /// A cipher whose key is derived from a shared passphrase (PBKDF2-HMAC-SHA256), so that
    /// two parties holding the same passphrase hold the same key.
    pub fn from_passphrase(passphrase: &str, salt: &[u8]) -> Cipher {
        let mut key = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
            passphrase.as_bytes(),
            salt,
            PASSPHRASE_ROUNDS,
            &mut key,
        );
        Cipher {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key)),
        }
    }

    pub fn seal(&self, plain: &str) -> String {
        format!("{SEALED_PREFIX}{}", self.seal_base64(plain))
    }

    /// Nonce and ciphertext, base64-encoded, without a prefix.
    pub fn seal_base64(&self, plain: &str) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(&nonce, plain.as_bytes())
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ciphertext);
        B64.encode(blob)
    }

    pub fn open(&self, sealed: &str) -> Result<String, CryptoError> {
        let body = sealed
            .strip_prefix(SEALED_PREFIX)
            .ok_or(CryptoError::Malformed)?;
        self.open_base64(body)
    }

    /// Opens what [`Cipher::seal_base64`] made.
    pub fn open_base64(&self, body: &str) -> Result<String, CryptoError> {
        let blob = B64
            .decode(body.trim())
            .map_err(|_| CryptoError::Malformed)?;
        if blob.len() < NONCE_LEN {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ciphertext) = blob.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| CryptoError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Malformed)
    }
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Whether two secrets are equal, in a time that depends on their lengths only (a
/// comparison that stops at the first difference tells an attacker how much was right).
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_nonce_varies() {
        let c = Cipher::ephemeral();
        let a = c.seal("s3cret");
        let b = c.seal("s3cret");
        assert_ne!(a, b, "each seal uses a fresh nonce");
        assert!(!a.contains("s3cret"));
        assert_eq!(c.open(&a).unwrap(), "s3cret");
    }

    #[test]
    fn wrong_key_and_tampering_are_detected() {
        let sealed = Cipher::ephemeral().seal("x");
        assert!(matches!(
            Cipher::ephemeral().open(&sealed),
            Err(CryptoError::WrongKey)
        ));
        assert!(matches!(
            Cipher::ephemeral().open("plain"),
            Err(CryptoError::Malformed)
        ));
        // Flip one byte of the ciphertext: authentication must fail.
        let c = Cipher::ephemeral();
        let sealed = c.seal("hello");
        let mut blob = B64
            .decode(sealed.strip_prefix(SEALED_PREFIX).unwrap())
            .unwrap();
        blob[NONCE_LEN] ^= 0x01;
        let tampered = format!("{SEALED_PREFIX}{}", B64.encode(blob));
        assert!(matches!(c.open(&tampered), Err(CryptoError::WrongKey)));
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/secret.key");
        let (c1, created) = Cipher::load_or_create(&path).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let (c2, created) = Cipher::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(c2.open(&c1.seal("k")).unwrap(), "k");
        std::fs::write(&path, "not a key").unwrap();
        assert!(matches!(
            Cipher::load_or_create(&path),
            Err(CryptoError::BadKey { .. })
        ));
    }
}
