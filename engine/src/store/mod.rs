//! Persistence: an embedded SQLite file by default, PostgreSQL when several instances
//! share one database. Both run the same SQL (sqlx `Any` with `$n` placeholders).

mod audit;
mod config_store;
mod console_access;
mod entry_ids;
mod held_deletes;
mod leases;
mod realtime;
mod references;
mod rejections;
mod resync_runs;
mod startpoints;
mod sync_log;

pub use audit::AuditEntry;
pub use config_store::SaveError;
pub use console_access::{AccessError, ConsoleUser, MIN_PASSWORD_LEN, Role};
pub use entry_ids::{Rekey, Rekeyed};
pub use held_deletes::HeldDelete;
pub use leases::{LEASE_TTL, PipeLease};
pub use realtime::Correlation;
pub(crate) use realtime::dn_key;
pub use references::PendingReferenceRow;
pub use rejections::RejectionFilter;
pub use sync_log::{LoggedChange, SyncLogFilter};

use crate::crypto::Cipher;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL \"{0}\": use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("cannot open database {url}: {}", describe_query_error(.source))]
    Connect { url: String, source: sqlx::Error },
    #[error("cannot bring the database schema up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{}", describe_query_error(.0))]
    Query(#[from] sqlx::Error),
    #[error("the key file does not match this database: its secrets were sealed with another key")]
    KeyMismatch,
    #[error("stored {what} is unreadable: {message}")]
    Corrupt { what: String, message: String },
    #[error(
        "a PostgreSQL store is backed up with pg_dump (and the key file kept with it), not by scimsync"
    )]
    BackupNotHere,
}

impl StoreError {
    /// The store could not be reached or could not write — down, restarting, cut off, its
    /// disk full, its file locked: worth waiting for, and no fault of the data.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Query(e) | StoreError::Connect { source: e, .. } => unavailable(e),
            _ => false,
        }
    }
}

fn unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // PostgreSQL: connection exceptions (08…), shutting down or starting (57P…),
            // out of disk or memory (53…). SQLite (extended codes): busy (5), locked (6),
            // I/O error (10), full (13), cannot open (14), read-only (8).
            code.starts_with("08")
                || code.starts_with("57P")
                || code.starts_with("53")
                || matches!(
                    code.parse::<i32>().map(|c| c & 0xff),
                    Ok(5 | 6 | 8 | 10 | 13 | 14)
                )
        }
        _ => false,
    }
}

/// A database error as admins read it: one that says the store is unavailable says so first.
fn describe_query_error(e: &sqlx::Error) -> String {
    if unavailable(e) {
        format!(
            "the store cannot be reached or written ({e}); nothing is lost, try again once it is back"
        )
    } else {
        format!("database error: {e}")
    }
}

/// How long a request for a store connection may wait before it fails: a store that is down
/// must make pages, the CLI and readiness answer with that, not hang.
const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    cipher: Cipher,
    /// Serialises read-modify-write of the configuration within this process.
    write_lock: Arc<tokio::sync::Mutex<()>>,
}

const KEY_CHECK: &str = "key-check";
const KEY_CHECK_TEXT: &str = "scimsync key check";

impl Store {
    /// A transaction that will write. SQLite takes the write lock at `BEGIN IMMEDIATE`, waiting
    /// (busy timeout) for other writers; a plain `BEGIN` that reads first fails at its first
    /// write with "database is locked" whenever another connection wrote since it began.
    pub(crate) async fn write_transaction(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Opens (creating if needed) the database at `url`, applies migrations, and checks that
    /// `cipher` is the key the database's secrets were sealed with.
    pub async fn open(url: &str, cipher: Cipher) -> Result<Store, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        let connect_url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_owned(),
        };
        let mut options = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 8 })
            .acquire_timeout(ACQUIRE_TIMEOUT);
        if backend == Backend::Sqlite {
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;")
                        .await?;
                    Ok(())
                })
            });
        }
        let pool = options
            .connect(&connect_url)
            .await
            .map_err(|source| StoreError::Connect {
                url: redact_url(url),
                source,
            })?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        let store = Store {
            pool,
            backend,
            cipher,
            write_lock: Arc::new(tokio::sync::Mutex::new(())),
        };
        store.check_key().await?;
        store.backfill_dn_keys().await?;
        store.backfill_rejection_dn_keys().await?;
        store.mask_old_rejections().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn cipher(&self) -> &Cipher {
        &self.cipher
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Whether the store answers a query now (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Writes a consistent copy of the store to `file` (which must not exist yet) while it is
    /// in use: SQLite's `VACUUM INTO`, a snapshot taken in one read transaction. PostgreSQL
    /// stores are copied with `pg_dump` instead.
    pub async fn back_up_to(&self, file: &std::path::Path) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            return Err(StoreError::BackupNotHere);
        }
        sqlx::query("VACUUM INTO $1")
            .bind(file.to_string_lossy().into_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether the store takes a write now: a SQLite store on a full disk still answers
    /// queries, and what waits for the store needs to write.
    pub async fn probe_writes(&self) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO settings (name, body, updated_at) VALUES ('store-probe', '', $1) \
             ON CONFLICT (name) DO UPDATE SET updated_at = excluded.updated_at",
        )
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn check_key(&self) -> Result<(), StoreError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT body FROM settings WHERE name = $1")
            .bind(KEY_CHECK)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some((sealed,)) => match self.cipher.open(&sealed) {
                Ok(text) if text == KEY_CHECK_TEXT => Ok(()),
                _ => Err(StoreError::KeyMismatch),
            },
            None => {
                sqlx::query("INSERT INTO settings (name, body, updated_at) VALUES ($1, $2, $3)")
                    .bind(KEY_CHECK)
                    .bind(self.cipher.seal(KEY_CHECK_TEXT))
                    .bind(now())
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }
        }
    }
}

/// Rows one multi-row statement writes at most. Fewer than a batch (see [`BATCH_ROWS`]): each
/// connection keeps the statements it prepared, and one of 512 rows held resident memory a
/// resync of a million entries noticed (199 against 149 MB at its peak) for no CPU saved.
pub(crate) const STATEMENT_ROWS: usize = 128;

/// Rows the engine's batches (a resync's correlations, the log of changes) gather before they
/// write them, in one transaction.
pub const BATCH_ROWS: usize = 512;

/// `rows` in statements of a few fixed sizes: [`STATEMENT_ROWS`] while that many are left,
/// then the rest by powers of two. A statement's text depends on its row count, and every
/// connection prepares and keeps each text it runs; with sizes as they come (a log written
/// every second, say) nearly every batch would prepare a statement of thousands of
/// parameters anew and keep it, a hundred of them per connection.
pub(crate) fn statement_chunks<T>(rows: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = rows;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let size = if rest.len() >= STATEMENT_ROWS {
            STATEMENT_ROWS
        } else {
            1 << rest.len().ilog2()
        };
        let (chunk, after) = rest.split_at(size);
        rest = after;
        Some(chunk)
    })
}

/// The `VALUES` list of a multi-row insert: `rows` tuples of `columns` parameters each.
///
/// SQLite gets anonymous `?` parameters. sqlx asks SQLite the name of every parameter it
/// binds, and SQLite finds a numbered one (`$n`) by walking the statement's list of names, so
/// with `$n` each bind costs as many steps as the statement has parameters; an anonymous one has
/// no name to look up. PostgreSQL needs `$n`.
pub(crate) fn values_rows(backend: Backend, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 6);
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    use std::fmt::Write;
                    let _ = write!(sql, "${}", row * columns + column + 1);
                }
            }
        }
        sql.push(')');
    }
    sql
}

pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Hides a password in a database URL before it is shown anywhere.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests;
