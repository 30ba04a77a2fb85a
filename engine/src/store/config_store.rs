//! Reading and changing the stored configuration.
//!
//! Every change (create, update, delete, global settings, import) goes through one path,
//! [`Store::apply`]: load the whole document, edit it in memory, seal secrets, validate all
//! rules, then write only the rows that changed — in one transaction, so a change is
//! saved whole or not at all, and the stored configuration is always valid.

use super::{Store, StoreError, now};
use crate::config::ConfigItem;
use crate::config::{Config, GlobalSettings, ObjectKind, Reference, ShapeError, ValidationError};
use crate::crypto::CryptoError;
use crate::with_kind;
use sqlx::AnyConnection;

const GLOBAL: &str = "global";

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("{}", join_lines(.0))]
    Invalid(Vec<ValidationError>),
    #[error("{kind} {}: {error}", quoted(.name))]
    Shape {
        kind: ObjectKind,
        name: Option<String>,
        error: ShapeError,
    },
    #[error("a {kind} named \"{name}\" already exists")]
    AlreadyExists { kind: ObjectKind, name: String },
    #[error("there is no {kind} named \"{name}\"")]
    NotFound { kind: ObjectKind, name: String },
    #[error("{kind} \"{name}\" cannot be renamed to \"{new_name}\"; create a new one instead")]
    Rename {
        kind: ObjectKind,
        name: String,
        new_name: String,
    },
    #[error("{kind} \"{name}\" is still used by {}", describe_referrers(.by))]
    Referenced {
        kind: ObjectKind,
        name: String,
        by: Vec<Reference>,
    },
    #[error("{}", .0.iter().map(|(p, e)| format!("{p}: {e}")).collect::<Vec<_>>().join("\n"))]
    Secrets(Vec<(String, CryptoError)>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for SaveError {
    fn from(e: sqlx::Error) -> Self {
        SaveError::Store(StoreError::Query(e))
    }
}

fn join_lines(errors: &[ValidationError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn quoted(name: &Option<String>) -> String {
    name.as_ref()
        .map(|n| format!("\"{n}\""))
        .unwrap_or_default()
}

fn describe_referrers(by: &[Reference]) -> String {
    by.iter()
        .map(|r| format!("{} \"{}\" ({})", r.from.kind.label(), r.from.name, r.field))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    pub async fn load_config(&self) -> Result<Config, StoreError> {
        let mut conn = self.pool.acquire().await?;
        load(&mut conn).await
    }

    /// Creates an object from its JSON form (secrets may be clear text).
    pub async fn create(
        &self,
        kind: ObjectKind,
        json: serde_json::Value,
    ) -> Result<String, SaveError> {
        let name = json_name(&json);
        self.apply(|config| {
            if config.contains(kind, &name) {
                return Err(SaveError::AlreadyExists {
                    kind,
                    name: name.clone(),
                });
            }
            config
                .upsert_json(kind, json)
                .map(drop)
                .map_err(|error| SaveError::Shape {
                    kind,
                    name: Some(name.clone()).filter(|n| !n.is_empty()),
                    error,
                })
        })
        .await?;
        Ok(name)
    }

    /// Replaces the object called `name` (names are immutable: the JSON must keep it).
    pub async fn update(
        &self,
        kind: ObjectKind,
        name: &str,
        json: serde_json::Value,
    ) -> Result<(), SaveError> {
        let new_name = json_name(&json);
        self.apply(|config| {
            if !config.contains(kind, name) {
                return Err(SaveError::NotFound {
                    kind,
                    name: name.to_owned(),
                });
            }
            if new_name != name {
                return Err(SaveError::Rename {
                    kind,
                    name: name.to_owned(),
                    new_name,
                });
            }
            config
                .upsert_json(kind, json)
                .map(drop)
                .map_err(|error| SaveError::Shape {
                    kind,
                    name: Some(name.to_owned()),
                    error,
                })
        })
        .await
    }

    /// Deletes an object no other object refers to.
    pub async fn delete(&self, kind: ObjectKind, name: &str) -> Result<(), SaveError> {
        self.apply(|config| {
            let by = config.referrers(kind, name);
            if !by.is_empty() {
                return Err(SaveError::Referenced {
                    kind,
                    name: name.to_owned(),
                    by,
                });
            }
            if config.remove(kind, name) {
                Ok(())
            } else {
                Err(SaveError::NotFound {
                    kind,
                    name: name.to_owned(),
                })
            }
        })
        .await
    }

    pub async fn set_global(&self, global: GlobalSettings) -> Result<(), SaveError> {
        self.apply(|config| {
            config.global = global;
            Ok(())
        })
        .await
    }

    /// Replaces the whole configuration (import): all of it or nothing.
    pub async fn replace_all(&self, new: Config) -> Result<(), SaveError> {
        self.apply(|config| {
            *config = new;
            Ok(())
        })
        .await
    }

    /// The one way configuration changes: edit in memory, seal, validate, write the difference.
    /// Writers are serialised — within this process by a mutex, and across the instances that
    /// share a PostgreSQL database by a transaction-level advisory lock taken before reading —
    /// so an edit is validated against the configuration it will be committed over.
    async fn apply(
        &self,
        edit: impl FnOnce(&mut Config) -> Result<(), SaveError>,
    ) -> Result<(), SaveError> {
        let _guard = self.write_lock.lock().await;
        let mut tx = self.write_transaction().await?;
        if self.backend == super::Backend::Postgres {
            sqlx::query(&format!(
                "SELECT pg_advisory_xact_lock({CONFIG_WRITE_LOCK})"
            ))
            .execute(&mut *tx)
            .await?;
        }
        let old = load(&mut tx).await?;
        let mut new = old.clone();
        edit(&mut new)?;
        new.seal_secrets(&self.cipher).map_err(SaveError::Secrets)?;
        new.validate().map_err(SaveError::Invalid)?;
        write_difference(&mut tx, &old, &new).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The PostgreSQL advisory lock key of configuration writes (an arbitrary constant: "scimsync
/// config" in ASCII, shortened to fit an i64).
pub(super) const CONFIG_WRITE_LOCK: i64 = 0x7363_696d_636f_6e66;

fn json_name(json: &serde_json::Value) -> String {
    json.get("name")
        .and_then(|n| n.as_str())
        .unwrap_or_default()
        .to_owned()
}

async fn load(conn: &mut AnyConnection) -> Result<Config, StoreError> {
    let mut config = Config::default();
    if let Some((body,)) =
        sqlx::query_as::<_, (String,)>("SELECT body FROM settings WHERE name = $1")
            .bind(GLOBAL)
            .fetch_optional(&mut *conn)
            .await?
    {
        config.global = parse(&body).map_err(|e| corrupt("global settings".into(), e))?;
    }
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT kind, name, body FROM config_objects ORDER BY position, name")
            .fetch_all(&mut *conn)
            .await?;
    for (kind_text, name, body) in rows {
        let what = format!("{kind_text} \"{name}\"");
        let kind = ObjectKind::parse(&kind_text).ok_or_else(|| StoreError::Corrupt {
            what: what.clone(),
            message: "unknown kind".into(),
        })?;
        let json: serde_json::Value =
            serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
                what: what.clone(),
                message: e.to_string(),
            })?;
        config
            .upsert_json(kind, json)
            .map_err(|e| corrupt(what, e))?;
    }
    Ok(config)
}

fn parse<T: serde::de::DeserializeOwned>(body: &str) -> Result<T, ShapeError> {
    let json = serde_json::from_str(body).map_err(|e| ShapeError {
        path: String::new(),
        message: e.to_string(),
    })?;
    crate::config::from_json(json)
}

fn corrupt(what: String, e: ShapeError) -> StoreError {
    StoreError::Corrupt {
        what,
        message: e.to_string(),
    }
}

/// Writes rows whose body or position differ between `old` and `new`; deletes vanished ones.
async fn write_difference(
    conn: &mut AnyConnection,
    old: &Config,
    new: &Config,
) -> Result<(), StoreError> {
    let at = now();
    if old.global != new.global {
        sqlx::query(
            "INSERT INTO settings (name, body, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(GLOBAL)
        .bind(to_body(&new.global)?)
        .bind(&at)
        .execute(&mut *conn)
        .await?;
    }
    for kind in ObjectKind::ALL {
        let (before, after) = with_kind!(kind, T => (rows_of::<T>(old)?, rows_of::<T>(new)?));
        for (name, _) in &before {
            if !after.iter().any(|(n, _)| n == name) {
                sqlx::query("DELETE FROM config_objects WHERE kind = $1 AND name = $2")
                    .bind(kind.as_str())
                    .bind(name)
                    .execute(&mut *conn)
                    .await?;
                if kind == ObjectKind::SyncPipe {
                    sqlx::query("DELETE FROM pipe_startpoints WHERE pipe = $1")
                        .bind(name)
                        .execute(&mut *conn)
                        .await?;
                }
            }
        }
        for (position, (name, body)) in after.iter().enumerate() {
            let previous = before.iter().position(|(n, _)| n == name);
            let unchanged = previous.is_some_and(|p| p == position && before[p].1 == *body);
            if unchanged {
                continue;
            }
            sqlx::query(
                "INSERT INTO config_objects (kind, name, body, position, updated_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (kind, name) DO UPDATE SET body = excluded.body, position = excluded.position, \
                 updated_at = excluded.updated_at",
            )
            .bind(kind.as_str())
            .bind(name)
            .bind(body)
            .bind(position as i64)
            .bind(&at)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

fn rows_of<T: ConfigItem>(config: &Config) -> Result<Vec<(String, String)>, StoreError> {
    T::collection(config)
        .iter()
        .map(|o| Ok((o.name().to_owned(), to_body(o)?)))
        .collect()
}

fn to_body<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt {
        what: "object to store".into(),
        message: e.to_string(),
    })
}
