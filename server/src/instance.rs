//! Locating and opening this instance's store and key file.

use crate::cli::InstanceArgs;
use anyhow::Context;
use engine::crypto::Cipher;
use engine::store::Store;
use std::path::PathBuf;

impl InstanceArgs {
    pub fn key_path(&self) -> PathBuf {
        self.key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("secret.key"))
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("scimsync.db").display()))
    }

    /// Opens the store, creating the data directory and key file on first use.
    pub async fn open_store(&self) -> anyhow::Result<Store> {
        if self.database_url.is_none() {
            std::fs::create_dir_all(&self.data_dir).with_context(|| {
                format!("cannot create data directory {}", self.data_dir.display())
            })?;
        }
        let key_path = self.key_path();
        let (cipher, created) = Cipher::load_or_create(&key_path)?;
        if created {
            eprintln!(
                "scimsync: created key file {} — it seals the stored passwords and tokens; back it up with the database",
                key_path.display()
            );
        }
        let url = self.database_url();
        Store::open(&url, cipher).await.with_context(|| {
            format!(
                "cannot open the store {} with key file {}",
                engine::store::redact_url(&url),
                key_path.display()
            )
        })
    }
}

/// Records a change made from the command line in the audit log (`cli:<os user>`).
pub async fn audit(store: &Store, action: &str, target: &str, detail: &str) {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| os_uid().map_or("unknown".into(), |uid| format!("uid {uid}")));
    if let Err(e) = store
        .record_audit(&format!("cli:{user}"), action, target, detail)
        .await
    {
        eprintln!("scimsync: could not write the audit log: {e}");
    }
}

/// The real user id, from /proc (when USER and LOGNAME are not set, as under cron or CI).
fn os_uid() -> Option<u32> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
