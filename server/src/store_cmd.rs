//! `scimsync store backup FILE`.

use crate::cli::{InstanceArgs, StoreAction};
use crate::output::say;
use anyhow::Context;
use std::process::ExitCode;

pub async fn run(instance: &InstanceArgs, action: StoreAction) -> anyhow::Result<ExitCode> {
    let StoreAction::Backup { file } = action;
    if file.exists() {
        anyhow::bail!(
            "{} exists already: a backup is never written over a file",
            file.display()
        );
    }
    let store = instance.open_store().await?;
    store
        .back_up_to(&file)
        .await
        .with_context(|| format!("backing the store up to {}", file.display()))?;
    crate::instance::audit(&store, "backup", "store", &file.display().to_string()).await;
    say!(
        "backed up the store to {} — keep the key file {} with it: the stored passwords and tokens cannot be read without it",
        file.display(),
        instance.key_path().display()
    );
    Ok(ExitCode::SUCCESS)
}
