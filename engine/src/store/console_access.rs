//! Who may use the console: users with argon2 password hashes and a role, and their
//! sign-in sessions (the cookie holds a random token; only its SHA-256 is stored).

use super::{Store, StoreError, now};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde::{Deserialize, Serialize};
use sha2::Digest;

pub use model::access::Role;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleUser {
    pub username: String,
    pub role: Role,
}

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("username \"{0}\" is not valid: use 1 to 64 letters, digits, '.', '_', '-' or '@'")]
    BadUsername(String),
    #[error("the password for \"{0}\" is too short: at least {MIN_PASSWORD_LEN} characters")]
    ShortPassword(String),
    #[error("there is already a console user \"{0}\"")]
    Exists(String),
    #[error("there is no console user \"{0}\"")]
    NoUser(String),
    #[error("\"{0}\" is the last admin: add another admin first")]
    LastAdmin(String),
    #[error("stored password hash of \"{0}\" is unreadable")]
    BadHash(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AccessError {
    fn from(e: sqlx::Error) -> Self {
        AccessError::Store(StoreError::Query(e))
    }
}

pub const MIN_PASSWORD_LEN: usize = 12;

fn check_username(name: &str) -> Result<(), AccessError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    ok.then_some(())
        .ok_or_else(|| AccessError::BadUsername(name.to_owned()))
}

fn hash_password(username: &str, password: &str) -> Result<String, AccessError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AccessError::ShortPassword(username.to_owned()));
    }
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| AccessError::BadHash(username.to_owned()))
}

fn token_hash(token: &str) -> String {
    B64URL.encode(sha2::Sha256::digest(token.as_bytes()))
}

/// A hash verified when the user does not exist, so that a wrong username takes as long as a
/// wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2NpbXN5bmMtZHVtbXk$2xWZeM0zQ2nq2m1gpVhF1q5hQeJ3s0rZKpS8uQx1y2A";

impl Store {
    pub async fn console_users(&self) -> Result<Vec<ConsoleUser>, AccessError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT username, role FROM console_users ORDER BY username")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(username, role)| ConsoleUser {
                role: Role::parse(&role).unwrap_or(Role::Viewer),
                username,
            })
            .collect())
    }

    pub async fn add_console_user(
        &self,
        username: &str,
        password: &str,
        role: Role,
    ) -> Result<(), AccessError> {
        check_username(username)?;
        let hash = hash_password(username, password)?;
        let existing: Option<(String,)> =
            sqlx::query_as("SELECT username FROM console_users WHERE username = $1")
                .bind(username)
                .fetch_optional(&self.pool)
                .await?;
        if existing.is_some() {
            return Err(AccessError::Exists(username.to_owned()));
        }
        sqlx::query(
            "INSERT INTO console_users (username, password_hash, role, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(username)
        .bind(hash)
        .bind(role.as_str())
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Sets a new password and signs the user out everywhere.
    pub async fn set_console_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<(), AccessError> {
        let hash = hash_password(username, password)?;
        let done = sqlx::query(
            "UPDATE console_users SET password_hash = $1, updated_at = $2 WHERE username = $3",
        )
        .bind(hash)
        .bind(now())
        .bind(username)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(AccessError::NoUser(username.to_owned()));
        }
        self.close_sessions_of(username).await
    }

    /// Removes a user (never the last admin) and its sessions.
    pub async fn remove_console_user(&self, username: &str) -> Result<(), AccessError> {
        let users = self.console_users().await?;
        let user = users
            .iter()
            .find(|u| u.username == username)
            .ok_or_else(|| AccessError::NoUser(username.to_owned()))?;
        if user.role == Role::Admin && users.iter().filter(|u| u.role == Role::Admin).count() == 1 {
            return Err(AccessError::LastAdmin(username.to_owned()));
        }
        sqlx::query("DELETE FROM console_users WHERE username = $1")
            .bind(username)
            .execute(&self.pool)
            .await?;
        self.close_sessions_of(username).await
    }

    /// The user, if the password is theirs.
    pub async fn check_console_login(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<ConsoleUser>, AccessError> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT password_hash, role FROM console_users WHERE username = $1")
                .bind(username)
                .fetch_optional(&self.pool)
                .await?;
        let (hash, role) = row.unwrap_or_else(|| (DUMMY_HASH.to_owned(), String::new()));
        let parsed =
            PasswordHash::new(&hash).map_err(|_| AccessError::BadHash(username.to_owned()))?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(match Role::parse(&role) {
            Some(role) if matches => Some(ConsoleUser {
                username: username.to_owned(),
                role,
            }),
            _ => None,
        })
    }

    /// Starts a session; returns the token for the cookie.
    pub async fn open_console_session(
        &self,
        username: &str,
        lifetime: chrono::Duration,
    ) -> Result<String, AccessError> {
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = B64URL.encode(bytes);
        let expires = chrono::Utc::now() + lifetime;
        sqlx::query(
            "INSERT INTO console_sessions (token_hash, username, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash(&token))
        .bind(username)
        .bind(now())
        .bind(expires.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .execute(&self.pool)
        .await?;
        Ok(token)
    }

    /// The signed-in user of a session token, if the session is open and unexpired.
    pub async fn console_session(&self, token: &str) -> Result<Option<ConsoleUser>, AccessError> {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT u.username, u.role, s.expires_at FROM console_sessions s \
             JOIN console_users u ON u.username = s.username WHERE s.token_hash = $1",
        )
        .bind(token_hash(token))
        .fetch_optional(&self.pool)
        .await?;
        let Some((username, role, expires)) = row else {
            return Ok(None);
        };
        let live =
            chrono::DateTime::parse_from_rfc3339(&expires).is_ok_and(|e| e > chrono::Utc::now());
        if !live {
            self.close_console_session(token).await?;
            return Ok(None);
        }
        Ok(Role::parse(&role).map(|role| ConsoleUser { username, role }))
    }

    pub async fn close_console_session(&self, token: &str) -> Result<(), AccessError> {
        sqlx::query("DELETE FROM console_sessions WHERE token_hash = $1 OR expires_at < $2")
            .bind(token_hash(token))
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn close_sessions_of(&self, username: &str) -> Result<(), AccessError> {
        sqlx::query("DELETE FROM console_sessions WHERE username = $1")
            .bind(username)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
