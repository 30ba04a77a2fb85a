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
        self.refuse_root_on_another_users_data()?;
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

impl InstanceArgs {
    /// Root must not work on a data directory that belongs to a service user: the files it
    /// creates there (the store's write-ahead log, a key file) would be root's, and the
    /// service could no longer write its own store.
    fn refuse_root_on_another_users_data(&self) -> anyhow::Result<()> {
        use std::os::unix::fs::MetadataExt;
        let Ok(meta) = std::fs::metadata(&self.data_dir) else {
            return Ok(());
        };
        if os_uid() != Some(0) || meta.uid() == 0 {
            return Ok(());
        }
        let owner = user_name(meta.uid()).unwrap_or_else(|| format!("uid {}", meta.uid()));
        anyhow::bail!(
            "the data directory {} belongs to {owner}: run this as that user \
             (sudo -u {owner} scimsync …); files root creates there would lock the service out",
            self.data_dir.display()
        )
    }
}

/// The name of user `uid`, from /etc/passwd.
fn user_name(uid: u32) -> Option<String> {
    std::fs::read_to_string("/etc/passwd")
        .ok()?
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > 2 && f[2] == uid.to_string())
        .map(|f| f[0].to_owned())
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
